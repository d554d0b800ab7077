//! `gate check`: builds the run's request from the command line.

use std::path::PathBuf;

use anyhow::Result;

use super::Globals;
use crate::cli::{CheckArgs, RunArgs, Selection};
use crate::env;
use crate::model::Stage;
use crate::printer::Printer;
use crate::report::{Format, Target};
use crate::run::session::{self, ChangeSource, Overrides, Request, Scope};

pub(crate) fn check(globals: &Globals, args: &CheckArgs) -> Result<i32> {
    let (only, within) = match args.shard.as_deref().map(|s| s.split_once('@').unwrap_or((s, ""))) {
        Some((gate, dir)) => (
            vec![gate.to_owned()],
            Some(dir).filter(|d| !d.is_empty()).map(PathBuf::from),
        ),
        None => (args.selection.gates.clone(), None),
    };
    let mut request = Request {
        scope: Scope::Changes(source(&args.selection)?),
        stage: Some(stage(&args.selection)),
        only,
        fix: args.fix && !refuse_fix_in_ci(globals.printer),
        ..request_for(&args.run)
    };
    // A directory shard is part of a gate: the merged report posts the gate's status.
    if within.is_some() {
        request.statuses = false;
    }
    request.within = within;
    session::run(globals.printer, globals.config.as_deref(), &request)
}

/// A request from the options every run takes, on the default change set.
pub(crate) fn request_for(run: &RunArgs) -> Request {
    Request {
        scope: Scope::Changes(ChangeSource::Default),
        within: None,
        stage: Some(Stage::Manual),
        only: Vec::new(),
        fix: false,
        overrides: Overrides {
            jobs: run.jobs,
            fail_fast: run.fail_fast(),
            no_cache: run.no_cache,
        },
        reports: run
            .report
            .iter()
            .cloned()
            .chain(run.timings.clone().map(|path| Target {
                format: Format::Timings,
                path,
            }))
            .collect(),
        statuses: !run.no_statuses,
    }
}

/// The change set a selection asks for.
pub(crate) fn source(selection: &Selection) -> Result<ChangeSource> {
    Ok(if selection.staged {
        ChangeSource::Staged
    } else if let Some(base) = &selection.base {
        ChangeSource::Base(base.clone())
    } else if selection.all {
        ChangeSource::All
    } else if !selection.files.is_empty() {
        let cwd =
            std::env::current_dir().map_err(|e| anyhow::anyhow!(e).context("failed to read the current directory"))?;
        ChangeSource::Files {
            cwd,
            files: selection.files.clone(),
        }
    } else {
        ChangeSource::Default
    })
}

/// The stage a run is in: `--stage`, else `ci` in CI, else `manual`.
pub(crate) fn stage(selection: &Selection) -> Stage {
    match selection.stage {
        Some(stage) => stage,
        None if env::in_ci() => Stage::Ci,
        None => Stage::Manual,
    }
}

/// In CI fixers never run: a fix there would be lost or, worse, pass unreviewed.
pub(crate) fn refuse_fix_in_ci(printer: Printer) -> bool {
    if env::in_ci() {
        printer.warn("fixers never run in CI; `--fix` is ignored");
        return true;
    }
    false
}
