//! `gate coverage REPORT…`: the coverage gate by hand.

use std::io::Write;

use anyhow::{Context, Result, bail};

use super::Globals;
use crate::cli::CoverageArgs;
use crate::config::CoverageSpec;
use crate::gates::coverage::{CoverageJob, relative_reports};
use crate::git::Repo;
use crate::git::changes;

pub(crate) fn coverage(globals: &Globals, args: &CoverageArgs) -> Result<i32> {
    for value in [args.min_total, args.min_patch].into_iter().flatten() {
        if !(0.0..=100.0).contains(&value) {
            bail!("a coverage threshold is a percentage from 0 to 100, not {value}");
        }
    }
    let path_map = args
        .path_map
        .iter()
        .map(|rule| {
            rule.split_once('=')
                .map(|(from, to)| crate::coverage::paths::PrefixMap {
                    from: from.to_owned(),
                    to: to.to_owned(),
                })
                .with_context(|| format!("`--path-map {rule}` is not `FROM=TO`"))
        })
        .collect::<Result<Vec<_>>>()?;
    let repo = Repo::open()?;
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let changes = match &args.base {
        Some(base) => changes::base(&repo, base)?,
        None => changes::worktree(&repo)?,
    };
    let tracked = changes::tracked_paths(&repo)?;
    let job = CoverageJob {
        spec: CoverageSpec {
            reports: relative_reports(repo.root(), &cwd, &args.reports),
            min_total: args.min_total,
            min_patch: args.min_patch,
            path_map,
            source_roots: vec!["src/main/java".to_owned(), "src/main/kotlin".to_owned()],
            exclude: globset::GlobSet::empty(),
        },
        root: repo.root().to_path_buf(),
        tracked,
        workdir: std::path::PathBuf::new(),
        changes,
    };
    let verdict = job.run(None)?;
    let mut out = globals.printer.stdout();
    for note in &verdict.notes {
        globals.printer.warn(note.trim_start_matches("warning: "));
    }
    for diagnostic in &verdict.diagnostics {
        let lines = match diagnostic.end_line {
            Some(end) => format!("{}-{end}", diagnostic.line.unwrap_or_default()),
            None => diagnostic.line.unwrap_or_default().to_string(),
        };
        writeln!(out, "{}:{lines}: not covered", diagnostic.file)?;
    }
    writeln!(out, "{}", verdict.closing_line())?;
    if verdict.error.is_some() {
        return Ok(2);
    }
    Ok(i32::from(!verdict.passed))
}
