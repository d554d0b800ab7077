//! CI fan-out: `gate matrix` prints a GitHub Actions matrix of the gates the change set
//! needs (one entry per gate, or per gate and top-level directory of its files) and posts
//! `success` for the gates that need no runner, so no required check waits forever; each
//! shard runs `gate check --shard ID`; `gate merge-reports` combines the shards' JSON
//! reports into one verdict, report set and job summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use super::Globals;
use crate::cli::{MatrixArgs, MatrixBy, MergeArgs};
use crate::git::changes::{ChangeSet, Source};
use crate::github::{Actions, StatusTarget};
use crate::model::{ChangedLines, Outcome, Status};
use crate::report::{self, Report};
use crate::run::plan::Decision;
use crate::run::session::Workspace;

pub(crate) fn matrix(globals: &Globals, args: &MatrixArgs) -> Result<i32> {
    let super::list::Planned {
        session,
        changes,
        plans,
        ..
    } = super::list::planned(globals, &args.selection)?;
    let mut include = Vec::new();
    let mut idle = Vec::new();
    for (gate, plan) in session.config.gates.iter().zip(&plans) {
        match &plan.decision {
            Decision::Run(_) | Decision::Builtin(_) | Decision::Cached(_) => {
                if args.by == MatrixBy::Dir && !plan.files.matched.is_empty() {
                    let mut dirs: Vec<String> = plan.files.matched.iter().map(|f| top_dir(f)).collect();
                    dirs.sort();
                    dirs.dedup();
                    for dir in dirs {
                        let shard = format!("{}@{dir}", gate.name);
                        include.push(json!({"gate": gate.name, "dir": dir, "shard": shard}));
                    }
                } else {
                    include.push(json!({"gate": gate.name, "shard": gate.name}));
                }
            }
            Decision::Skip(reason) => {
                let mut outcome = Outcome::not_run(
                    &gate.name,
                    gate.kind,
                    Status::Skipped,
                    reason.clone(),
                    crate::model::Files::default(),
                );
                outcome.files.clone_from(&plan.files.matched);
                idle.push(outcome);
            }
            Decision::Error(problem) => {
                include.push(json!({"gate": gate.name, "shard": gate.name}));
                globals.printer.warn(format_args!("{}: {problem}", gate.name));
            }
        }
    }
    if !args.no_statuses {
        post_skipped(globals, &session, &changes, &idle)?;
    }
    writeln!(globals.printer.stdout(), "{}", json!({ "include": include }))?;
    Ok(0)
}

/// A changed file's top-level directory, `.` for files at the root.
fn top_dir(path: &Path) -> String {
    let mut parts = path.components();
    match (parts.next(), parts.next()) {
        (Some(first), Some(_)) => first.as_os_str().to_string_lossy().into_owned(),
        _ => ".".to_owned(),
    }
}

/// In GitHub Actions: `success` (`skipped: …`) for the gates no shard will run.
fn post_skipped(globals: &Globals, session: &Workspace, changes: &ChangeSet, idle: &[Outcome]) -> Result<()> {
    let target = StatusTarget {
        sha: changes
            .head
            .map(|oid| oid.to_string())
            .filter(|_| changes.source == Source::Base),
        prefix: &session.config.settings.status_prefix,
        enabled: true,
    };
    let Some(actions) = Actions::start(&target, std::iter::empty(), globals.printer) else {
        return Ok(());
    };
    for outcome in idle {
        actions.finished(outcome);
    }
    actions.wait_for_statuses(globals.printer)
}

pub(crate) fn merge_reports(globals: &Globals, args: &MergeArgs) -> Result<i32> {
    let mut merged: BTreeMap<usize, Outcome> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut head = None;
    for path in &args.reports {
        let (sha, outcomes) = report::json::load(path)?;
        head = head.or(sha);
        for outcome in outcomes {
            let index = order.iter().position(|n| *n == outcome.name).unwrap_or_else(|| {
                order.push(outcome.name.clone());
                order.len() - 1
            });
            match merged.remove(&index) {
                Some(before) => merged.insert(index, combine(before, outcome)),
                None => merged.insert(index, outcome),
            };
        }
    }
    let outcomes: Vec<Outcome> = merged.into_values().collect();
    let exit_code = report::exit_code(&outcomes);
    let changes = ChangeSet {
        source: Source::Base,
        base: None,
        head: head.as_deref().and_then(|h| git2::Oid::from_str(h).ok()),
        files: Vec::new(),
    };
    let lines = ChangedLines::new();
    let dependencies = vec![Vec::new(); outcomes.len()];
    let merged_report = Report {
        root: Path::new("."),
        stage: "ci",
        changes: &changes,
        outcomes: &outcomes,
        duration: outcomes.iter().map(|o| o.duration).max().unwrap_or(Duration::ZERO),
        exit_code,
        lines: &lines,
        dependencies: &dependencies,
    };
    for target in &args.report {
        target.write(&merged_report)?;
    }
    // In GitHub Actions: the summary, and each gate's status for the whole of it.
    let prefix = crate::config::load_if_present(Path::new("."), globals.config.as_deref())
        .ok()
        .flatten()
        .map_or_else(|| "gate/".to_owned(), |(config, _)| config.settings.status_prefix);
    let target = StatusTarget {
        sha: head.clone(),
        prefix: &prefix,
        enabled: !args.no_statuses,
    };
    if let Some(actions) = Actions::start(&target, std::iter::empty(), globals.printer) {
        for outcome in &outcomes {
            actions.finished(outcome);
        }
        actions.finish(&merged_report, globals.printer)?;
    }
    let mut out = globals.printer.stdout();
    for outcome in &outcomes {
        writeln!(
            out,
            "{:<20} {:<8} {}",
            outcome.name,
            outcome.status.as_str(),
            outcome.summary()
        )?;
    }
    writeln!(
        out,
        "{} from {}: exit {exit_code}",
        crate::model::text::plural(outcomes.len(), "gate"),
        crate::model::text::plural(args.reports.len(), "report")
    )?;
    Ok(exit_code)
}

/// One gate's shards as one outcome: the worst status speaks, files and diagnostics add up.
fn combine(mut into: Outcome, other: Outcome) -> Outcome {
    let rank = |s: Status| match s {
        Status::Skipped => 0,
        Status::Passed => 1,
        Status::Fixed => 2,
        Status::Blocked => 3,
        Status::Failed => 4,
        Status::Error => 5,
    };
    if rank(other.status) > rank(into.status) {
        into.status = other.status;
        into.reason = other.reason;
    }
    into.duration = into.duration.max(other.duration);
    std::sync::Arc::make_mut(&mut into.files).extend(other.files.iter().cloned());
    into.diagnostics.extend(other.diagnostics);
    into
}
