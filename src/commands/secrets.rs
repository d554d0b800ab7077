//! `gate secrets`: the secrets gate by hand, and writing a baseline.

use std::io::Write;

use anyhow::{Context, Result};

use super::Globals;
use crate::cli::SecretsArgs;
use crate::config::{Action, SecretsSpec};
use crate::gates::secrets::{Baseline, Found, IN_HISTORY, Recorded, SecretsJob, cut_short};
use crate::git::changes::Source;
use crate::run::session::{ChangeSource, ConfigAt, Workspace};
use crate::secrets::fingerprint;

pub(crate) fn secrets(globals: &Globals, args: &SecretsArgs) -> Result<i32> {
    let source = if args.staged {
        ChangeSource::Staged
    } else if let Some(base) = &args.base {
        ChangeSource::Base(base.clone())
    } else if args.all {
        ChangeSource::All
    } else if !args.paths.is_empty() {
        let cwd = std::env::current_dir().context("failed to read the current directory")?;
        ChangeSource::Files {
            cwd,
            files: args.paths.clone(),
        }
    } else {
        ChangeSource::Worktree
    };
    let workspace = Workspace::open_for_secrets(globals.config.as_deref(), ConfigAt::of(&source), globals.printer)?;
    let mut spec = configured(&workspace);
    if args.baseline.is_some() {
        spec.baseline = None; // a new baseline records everything found now
    }
    let changes = workspace.changes(&source)?;
    let root = workspace.repo.root();
    let files: Vec<std::path::PathBuf> = changes
        .files
        .iter()
        .filter(|f| f.exists())
        .map(|f| f.path.clone())
        .collect();
    let lines = if matches!(changes.source, Source::All | Source::Files) {
        None
    } else {
        let paths: Vec<String> = files.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        Some(crate::git::lines::changed_lines_of(&workspace.repo, &changes, &paths)?)
    };
    // By hand every changed file counts, as for the tip.
    let history = crate::git::history::of_change(&workspace.repo, &changes, &|_| true)?;
    let cut = cut_short(&history);
    let job = SecretsJob {
        spec,
        root: root.to_path_buf(),
        files,
        lines,
        history: (!history.is_empty()).then(|| (history, workspace.repo.git.commondir().to_path_buf())),
    };
    let (found, allowed) = job.scan()?;
    if let Some(path) = &args.baseline {
        return write_baseline(globals, path, &found);
    }
    let mut out = globals.printer.stdout();
    for found in &found {
        writeln!(
            out,
            "{}:{}:{}: {}",
            found.path,
            found.finding.line,
            found.finding.column,
            found.describe()
        )?;
    }
    if found.iter().any(|f| f.commit.is_some()) {
        globals.printer.note(IN_HISTORY);
    }
    writeln!(
        out,
        "{} found{}",
        crate::model::text::plural(found.len(), "secret"),
        if allowed > 0 {
            format!(", {allowed} allowed")
        } else {
            String::new()
        }
    )?;
    if let Some(cut) = cut {
        globals.printer.error(&cut.into());
        return Ok(2);
    }
    Ok(i32::from(!found.is_empty()))
}

/// The configured secrets gate's rules and allowances; the built-in rules without one.
fn configured(workspace: &Workspace) -> SecretsSpec {
    workspace
        .config
        .gates
        .iter()
        .find_map(|g| match &g.action {
            Action::Secrets(spec) => Some(spec.clone()),
            _ => None,
        })
        .unwrap_or_else(|| SecretsSpec {
            rules: Vec::new(),
            allow_paths: globset::GlobSet::empty(),
            allow_regexes: Vec::new(),
            stopwords: Vec::new(),
            baseline: None,
        })
}

/// `--baseline FILE`: every finding by fingerprint, never the secret.
fn write_baseline(globals: &Globals, path: &std::path::Path, found: &[Found]) -> Result<i32> {
    let baseline = Baseline {
        version: 1,
        findings: found
            .iter()
            .map(|found| Recorded {
                rule: found.finding.rule.clone(),
                path: found.path.clone(),
                fingerprint: fingerprint(&found.finding.rule, &found.path, &found.finding.secret),
            })
            .collect(),
    };
    std::fs::write(path, serde_json::to_string_pretty(&baseline)? + "\n")
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    writeln!(
        globals.printer.stdout(),
        "wrote `{}`: {} recorded",
        path.display(),
        found.len()
    )?;
    Ok(0)
}
