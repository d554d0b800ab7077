//! `gate check`: run the gates on a change set and report.

use std::time::Instant;

use anyhow::Result;

use super::{Globals, Session, stage};
use crate::cli::{CheckArgs, RunArgs};
use crate::env;
use crate::git::changes::ChangeSet;
use crate::report::console::Console;
use crate::report::{self, Report, Target};
use crate::run::plan::{self, Request};
use crate::run::process;
use crate::run::scheduler::{self, Options};
use crate::select;

/// Exit code when Ctrl-C or SIGTERM stopped the run.
const INTERRUPTED: i32 = 130;

pub(crate) fn check(globals: &Globals, args: &CheckArgs) -> Result<i32> {
    let stage = stage(&args.selection)?;
    let session = Session::open(globals)?;
    session.check_gate_names(&args.selection.gates)?;
    let changes = session.changes(&args.selection)?;
    run_gates(globals, &session, &changes, &stage, &args.selection.gates, &args.run)
}

/// Plans, runs and reports: shared by `gate check` and the hooks.
pub(crate) fn run_gates(
    globals: &Globals,
    session: &Session,
    changes: &ChangeSet,
    stage: &str,
    only: &[String],
    run: &RunArgs,
) -> Result<i32> {
    let targets = run
        .report
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>>>()?;
    let config = &session.config;
    let root = session.repo.root();
    let skip = env::skipped_gates();
    let file_sets = select::select(config, changes);
    let plans = plan::plan(
        config,
        root,
        changes,
        file_sets,
        &Request {
            stage,
            only,
            skip: &skip,
        },
    );

    // Children run in their own process groups, so the terminal's Ctrl-C reaches only
    // gate; it stops them. A second handler (a nested call) is not needed.
    let _ = ctrlc::set_handler(process::interrupt_all);

    let jobs = run
        .jobs
        .filter(|&jobs| jobs > 0)
        .or(config.settings.jobs)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let options = Options {
        jobs,
        fail_fast: run.fail_fast().unwrap_or(config.settings.fail_fast),
    };
    let names = config.gates.iter().map(|g| g.name.clone()).collect();
    let mut console = Console::new(globals.printer, names, Console::is_interactive());
    let start = Instant::now();
    let outcomes = scheduler::execute(config, &plans, &options, &mut |event| console.on_event(event))?;
    let wall = start.elapsed();
    console.finish(&outcomes, wall);

    let interrupted = process::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst);
    let exit_code = if interrupted {
        INTERRUPTED
    } else {
        report::exit_code(&outcomes)
    };
    let report = Report {
        root,
        stage,
        changes,
        outcomes: &outcomes,
        duration: wall,
        exit_code,
    };
    for target in &targets {
        target.write(&report)?;
    }
    Ok(exit_code)
}
