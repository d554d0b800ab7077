//! `gate audit [LOCKFILE…]`: the audit gate by hand, and `--update` for its database.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::Globals;
use crate::audit::update::{Updated, update};
use crate::audit::{self, Policy};
use crate::cli::{AuditArgs, AuditFormat};
use crate::config::{self, Action};
use crate::config::{AuditSpec, default_db};
use crate::gates::audit::verdict;
use crate::git::Repo;
use crate::git::changes;
use crate::model::Problem;

pub(crate) fn audit(globals: &Globals, args: &AuditArgs) -> Result<i32> {
    let repo = Repo::open()?;
    let spec = configured(&repo, globals)?;
    let db = match (&args.db, &spec) {
        (Some(db), _) => db.clone(),
        (None, Some(spec)) => spec.db()?,
        (None, None) => default_db()?,
    };
    let lockfiles = lockfiles_named(&repo, &args.lockfiles)?;
    let mut out = globals.printer.stdout();
    if args.update {
        download(&mut out, &db, &args.url, &lockfiles)?;
        return Ok(0);
    }
    let policy = spec.map_or_else(Policy::default, |s| s.policy);
    let result = audit::audit(repo.root(), &lockfiles, &db, &policy, audit::today())?;
    let verdict = verdict(&result, &policy);
    match args.format {
        AuditFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?,
        AuditFormat::Text => {
            for note in &verdict.notes {
                globals.printer.note(note.trim_start_matches("note: "));
            }
            for diagnostic in &verdict.diagnostics {
                writeln!(
                    out,
                    "{}:{}: {}",
                    diagnostic.file,
                    diagnostic.line.unwrap_or(0),
                    diagnostic.message
                )?;
            }
            writeln!(out, "{}", verdict.closing_line())?;
        }
    }
    if verdict.error.is_some() {
        return Ok(2);
    }
    Ok(i32::from(!verdict.passed))
}

/// The lockfiles named on the command line (relative to the repository root where they
/// are inside it), else every tracked lockfile.
fn lockfiles_named(repo: &Repo, named: &[PathBuf]) -> Result<Vec<PathBuf>> {
    if named.is_empty() {
        let tracked = changes::tracked_paths(repo)?;
        return Ok(audit::lockfiles(tracked.iter().map(std::path::Path::new)));
    }
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    Ok(named
        .iter()
        .map(|p| {
            let absolute = cwd.join(p);
            absolute
                .strip_prefix(repo.root())
                .map(PathBuf::from)
                .unwrap_or(absolute)
        })
        .collect())
}

/// `--update`: the database exports of the ecosystems the lockfiles use.
fn download(out: &mut impl Write, db: &std::path::Path, url: &str, lockfiles: &[PathBuf]) -> Result<()> {
    let mut ecosystems: Vec<_> = lockfiles
        .iter()
        .filter_map(|l| audit::lockfile::Kind::of(l).map(audit::lockfile::Kind::ecosystem))
        .collect();
    ecosystems.sort_unstable();
    ecosystems.dedup();
    if ecosystems.is_empty() {
        return Err(Problem::hinted(
            "no lockfiles, so no ecosystem to download",
            "name lockfiles, e.g. `gate audit --update Cargo.lock`",
        )
        .into());
    }
    for ecosystem in ecosystems {
        match update(db, url, ecosystem)? {
            Updated::Downloaded(bytes) => {
                writeln!(out, "{}: downloaded {} KiB", ecosystem.osv_name(), bytes / 1024)?;
            }
            Updated::Unchanged => writeln!(out, "{}: unchanged", ecosystem.osv_name())?,
        }
    }
    Ok(())
}

/// The audit gate of the configuration, if there is one.
/// A broken `gates.toml` is refused, as `gate check` refuses it.
fn configured(repo: &Repo, globals: &Globals) -> Result<Option<AuditSpec>> {
    let Some((config, _)) = config::load_if_present(repo.root(), globals.config.as_deref())? else {
        return Ok(None);
    };
    Ok(config.gates.into_iter().find_map(|gate| match gate.action {
        Action::Audit(spec) => Some(spec),
        _ => None,
    }))
}
