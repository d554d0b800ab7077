//! `gate check`: run the gates on a change set and report.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;

use super::{Globals, Session, stage};
use crate::cli::{CheckArgs, RunArgs};
use crate::config::OnFix;
use crate::env;
use crate::gates::{Outcome, Status};
use crate::git::changes::{ChangeSet, Source};
use crate::github::{Actions, StatusTarget};
use crate::keeper::lock::RunLock;
use crate::keeper::{self, Keeper, Restored};
use crate::report::console::Console;
use crate::report::{self, Report, Target};
use crate::run::event::Event;
use crate::run::plan::{self, Decision, Request};
use crate::run::process;
use crate::run::scheduler::{self, Options};
use crate::select;

/// Exit code when Ctrl-C or SIGTERM stopped the run.
const INTERRUPTED: i32 = 130;

/// What kind of run this is, beyond the change set.
pub(crate) struct Mode<'a> {
    pub(crate) stage: &'a str,
    /// Gates named with `--gate`.
    pub(crate) only: &'a [String],
    /// Run fixers instead of checkers.
    pub(crate) fix: bool,
}

pub(crate) fn check(globals: &Globals, args: &CheckArgs) -> Result<i32> {
    let stage = stage(&args.selection)?;
    let session = Session::open(globals)?;
    session.check_gate_names(&args.selection.gates)?;
    let changes = session.changes(&args.selection)?;
    let fix = args.fix && !refuse_fix_in_ci(globals);
    let mode = Mode {
        stage: &stage,
        only: &args.selection.gates,
        fix,
    };
    run_gates(globals, &session, &changes, &mode, &args.run)
}

/// In CI fixers never run: a fix there would be lost or, worse, pass unreviewed.
pub(crate) fn refuse_fix_in_ci(globals: &Globals) -> bool {
    if env::in_ci() {
        globals.printer.warn("fixers never run in CI; `--fix` is ignored");
        return true;
    }
    false
}

/// Plans, runs and reports: shared by `gate check` and the hooks. A run on the staged
/// change set sets unstaged edits aside first and puts them back afterwards.
pub(crate) fn run_gates(
    globals: &Globals,
    session: &Session,
    changes: &ChangeSet,
    mode: &Mode<'_>,
    run: &RunArgs,
) -> Result<i32> {
    let targets = run
        .report
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>>>()?;
    let config = &session.config;
    let repo = &session.repo;
    let root = repo.root();
    // Children run in their own process groups, so the terminal's Ctrl-C reaches only gate,
    // which stops them and still restores the working tree. Installed before anything is
    // set aside; a second call in one process is refused harmlessly.
    let _ = ctrlc::set_handler(process::interrupt_all);

    let keeps = changes.source == Source::Staged;
    let _lock = if keeps || mode.fix {
        Some(RunLock::acquire(repo.git.path(), globals.printer)?)
    } else {
        None
    };
    keeper::check_no_leftover(repo.git.path())?;
    let keeper = if keeps {
        Some(Keeper::stash(repo, changes, globals.printer)?)
    } else {
        None
    };
    assert!(
        env::var(env::GATE_FAULT).as_deref() != Some("panic-after-stash"),
        "injected fault: panic after setting unstaged changes aside"
    );

    let skip = env::skipped_gates();
    let file_sets = select::select(config, changes);
    let request = Request {
        stage: mode.stage,
        only: mode.only,
        skip: &skip,
        fix: mode.fix,
    };
    let plans = plan::plan(config, repo, changes, file_sets, &request);
    let jobs = run
        .jobs
        .filter(|&jobs| jobs > 0)
        .or(config.settings.jobs)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let options = Options {
        jobs,
        fail_fast: run.fail_fast().unwrap_or(config.settings.fail_fast),
    };
    let actions = start_actions(globals, config, &plans, changes, run);
    let names = config.gates.iter().map(|g| g.name.clone()).collect();
    // In GitHub Actions raw output goes in groups that no tool can inject commands into.
    let mut console = Console::new(globals.printer, names, Console::is_interactive(), actions.is_none());
    let start = Instant::now();
    let mut outcomes = scheduler::execute(root, config, &plans, &options, &mut |event| {
        if let (Some(actions), Event::Finished { outcome, .. }) = (&actions, &event) {
            actions.finished(outcome);
        }
        console.on_event(event);
    })?;

    if let Some(keeper) = keeper {
        stage_fixes(globals, session, &mut outcomes, &keeper.affected())?;
        let restored = keeper.restore()?;
        tell_restored(globals, &restored);
    } else {
        // By hand, `--fix` asked for fixes in the working tree: having them is success.
        for outcome in outcomes.iter_mut().filter(|o| o.status == Status::Fixed) {
            outcome.fix_staged = true;
        }
    }
    let wall = start.elapsed();
    console.finish(&outcomes, wall);

    let interrupted = process::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst);
    let exit_code = if interrupted {
        INTERRUPTED
    } else {
        report::exit_code(&outcomes)
    };
    let lines = report_lines(repo, changes, &targets, actions.is_some());
    let report = Report {
        root,
        stage: mode.stage,
        changes,
        outcomes: &outcomes,
        duration: wall,
        exit_code,
        lines: &lines,
    };
    for target in &targets {
        target.write(&report)?;
    }
    if let Some(actions) = actions {
        actions.finish(&report, globals.printer)?;
    }
    Ok(exit_code)
}

/// In GitHub Actions: posts `pending` for the gates that will run, and says how to finish.
fn start_actions(
    globals: &Globals,
    config: &crate::config::Config,
    plans: &[plan::GatePlan],
    changes: &ChangeSet,
    run: &RunArgs,
) -> Option<Actions> {
    let running = config
        .gates
        .iter()
        .zip(plans)
        .filter(|(_, plan)| matches!(plan.decision, Decision::Run(_) | Decision::Builtin(_)))
        .map(|(gate, _)| gate.name.as_str());
    // A change set from the event names the commit to post to (a pull request's head).
    let status_target = StatusTarget {
        sha: changes
            .head
            .map(|oid| oid.to_string())
            .filter(|_| changes.source == Source::Base),
        prefix: &config.settings.status_prefix,
        enabled: !run.no_statuses,
    };
    Actions::start(&status_target, running, globals.printer)
}

/// The changed lines of every file, from one diff: the JSON report carries them and GitHub
/// annotations on changed lines come first. Only runs that write either pay for the diff.
fn report_lines(
    repo: &crate::git::Repo,
    changes: &ChangeSet,
    targets: &[Target],
    annotating: bool,
) -> HashMap<String, Vec<(u32, u32)>> {
    if !annotating && !targets.iter().any(|t| t.format == report::Format::Json) {
        return HashMap::new();
    }
    let paths: Vec<String> = changes
        .files
        .iter()
        .filter(|f| f.exists())
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    crate::git::lines::changed_lines_of(repo, changes, &paths.iter().map(String::as_str).collect::<Vec<_>>())
}

/// `on_fix = "stage"`: fixes to files that were fully staged go into the commit. A file with
/// unstaged edits keeps its fix in the working tree only: staging it would stage those too.
fn stage_fixes(
    globals: &Globals,
    session: &Session,
    outcomes: &mut [Outcome],
    affected: &HashSet<PathBuf>,
) -> Result<()> {
    let wants_stage = |o: &Outcome| {
        o.status == Status::Fixed
            && session
                .config
                .gates
                .iter()
                .any(|g| g.name == o.name && g.on_fix == OnFix::Stage)
    };
    if !outcomes.iter().any(wants_stage) {
        return Ok(());
    }
    let repo = &session.repo;
    let mut index = repo.index()?;
    for outcome in outcomes.iter_mut().filter(|o| wants_stage(o)) {
        let mut held_back = Vec::new();
        for file in &outcome.fixed {
            if affected.contains(&file.path) {
                held_back.push(format!("`{}`", file.path.display()));
            } else if file.after.is_some() {
                index.add_path(&file.path)?;
            } else {
                index.remove_path(&file.path)?;
            }
        }
        let staged = outcome.fixed.len() - held_back.len();
        outcome.fix_staged = held_back.is_empty();
        let reason = if held_back.is_empty() {
            let message = format!(
                "fixed and staged {staged} {}",
                if staged == 1 { "file" } else { "files" }
            );
            globals.printer.note(format_args!("{}: {message}", outcome.name));
            message
        } else {
            let message = format!(
                "the fix to {} is in the working tree but not staged: the file has unstaged changes\nhint: review it, then `git add` it and commit again",
                held_back.join(", ")
            );
            globals.printer.warn(format_args!("{}: {message}", outcome.name));
            message
        };
        outcome.reason = Some(reason);
    }
    crate::git::Repo::write_index(&mut index)
}

fn tell_restored(globals: &Globals, restored: &Restored) {
    for path in &restored.merged {
        globals.printer.note(format_args!(
            "merged the fix to `{}` with your unstaged changes",
            path.display()
        ));
    }
    for (path, saved) in &restored.conflicts {
        let how = if saved.extension().is_some_and(|e| e == "patch") {
            format!("apply it with `git apply {}`", saved.display())
        } else {
            format!("copy it over `{}`", path.display())
        };
        globals.printer.warn(format_args!(
            "the fix to `{}` conflicts with your unstaged changes, which were kept; the fix is saved in `{}`\nhint: review it, then {how}",
            path.display(),
            saved.display(),
        ));
    }
}
