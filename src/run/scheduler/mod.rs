//! Executes a plan: every process of every gate goes to one rayon pool of `jobs` threads,
//! so `--jobs` caps processes across gates and batches alike. The calling thread
//! coordinates: it starts a gate once its dependencies passed, blocks the dependents of a
//! gate that did not, and hands every event to the reporter, in one place.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};

use crate::config::Config;
use crate::gates::BuiltinJob;
use crate::gates::problems::{self, Places};
use crate::model::Kind;
use crate::model::text::plural;
use crate::model::{Batch, Event};
use crate::model::{Outcome, Problem, Status, Verdict};
use crate::run::fixes::{self, Snapshot};
use crate::run::plan::{Decision, GatePlan};
use crate::run::process::{Cmd, Exit, Finished, INTERRUPTED};

pub(crate) struct Options {
    pub(crate) jobs: usize,
    pub(crate) fail_fast: bool,
}

enum Message {
    Started {
        gate: usize,
    },
    Done {
        gate: usize,
        batch: usize,
        done: Box<Done>,
        /// The worker lane, and when the batch started and ended.
        ran: (usize, Instant, Instant),
    },
}

/// `State::waiting_on` of a gate whose dependency did not pass.
const BLOCKED: usize = usize::MAX;

struct State {
    /// Dependencies not finished yet, or [`BLOCKED`].
    waiting_on: usize,
    results: Vec<Option<Done>>,
    /// When and where each batch ran.
    batches: Vec<Batch>,
    left: usize,
    started: Option<Instant>,
    /// Spawned and not finished: gates that share files with a fixer wait for it.
    running: bool,
    /// A fixer's files before it ran.
    snapshot: Option<Snapshot>,
}

/// How one batch runs: a real process or built-in gate, or a fake in the unit tests, which
/// drive the scheduling (dependencies, fail-fast, fixer exclusion, batches) without
/// processes.
pub(crate) trait Runner: Sync {
    fn command(&self, command: &Cmd) -> Finished;
    /// A built-in gate's verdict, or why it could not reach one (the causes, joined).
    fn builtin(&self, job: &BuiltinJob, fresh_after: Option<SystemTime>) -> Result<Verdict, Problem>;
}

/// What one finished job gave: a process's exit and output, or a built-in gate's verdict.
pub(crate) enum Done {
    Process(Finished),
    Builtin(Result<Verdict, Problem>),
}

impl Done {
    /// Whether it fails the run (for `--fail-fast`).
    fn fails(&self) -> bool {
        match self {
            Done::Process(finished) => !matches!(finished.exit, Exit::Code(0) | Exit::Interrupted),
            Done::Builtin(Ok(verdict)) => !verdict.passed || verdict.error.is_some(),
            Done::Builtin(Err(_)) => true,
        }
    }
}

/// Processes and built-in gates, for real.
struct Real;

impl Runner for Real {
    fn command(&self, command: &Cmd) -> Finished {
        command.run()
    }

    fn builtin(&self, job: &BuiltinJob, fresh_after: Option<SystemTime>) -> Result<Verdict, Problem> {
        job.run(fresh_after).map_err(|err| Problem::from_error(&err))
    }
}

/// The gates of a configuration and the plan for each, side by side.
#[derive(Clone, Copy)]
pub(crate) struct Planned<'a> {
    pub(crate) config: &'a Config,
    pub(crate) plans: &'a [GatePlan],
}

pub(crate) fn execute(
    root: &Path,
    planned: Planned<'_>,
    options: &Options,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Outcome>> {
    execute_with(&Real, root, planned, options, on_event)
}

fn execute_with(
    runner: &dyn Runner,
    root: &Path,
    Planned { config, plans }: Planned<'_>,
    options: &Options,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Outcome>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.max(1))
        .thread_name(|i| format!("gate-worker-{i}"))
        .build()
        .context("failed to start the worker threads")?;
    let stop = AtomicBool::new(false);
    let mut coordinator = Coordinator::new(config, plans, options.fail_fast, &stop, on_event);
    coordinator.root = root;
    let (send, receive) = mpsc::channel::<Message>();
    // Batches spawned and not done: when none is and nothing is ready, nothing ever will
    // be, so the loop ends instead of waiting forever (gates never reached become errors).
    let mut in_flight = 0usize;
    pool.in_place_scope(|scope| {
        loop {
            while let Some(gate) = coordinator.ready.pop() {
                let stop = &stop;
                match coordinator.start(gate) {
                    Spawn::Nothing => {}
                    Spawn::Commands(commands) => {
                        in_flight += commands.len();
                        for (batch, command) in commands.iter().enumerate() {
                            let send = send.clone();
                            let batch_job = move || Done::Process(runner.command(command));
                            let name = move || command.to_string();
                            scope.spawn(move |_| {
                                run_batch(batch_job, &name, (gate, batch), stop, options.fail_fast, &send);
                            });
                        }
                    }
                    Spawn::Builtin(job, fresh_after) => {
                        in_flight += 1;
                        let send = send.clone();
                        let batch_job = move || Done::Builtin(runner.builtin(job, fresh_after));
                        let name = || "a built-in gate".to_owned();
                        scope.spawn(move |_| run_batch(batch_job, &name, (gate, 0), stop, options.fail_fast, &send));
                    }
                }
            }
            if coordinator.outcomes.iter().all(Option::is_some) || in_flight == 0 {
                break;
            }
            let Ok(message) = receive.recv() else { break };
            if matches!(message, Message::Done { .. }) {
                in_flight -= 1;
            }
            coordinator.receive(message);
        }
    });
    let names = config.gates.iter().map(|g| (g.name.as_str(), g.kind));
    Ok(coordinator
        .outcomes
        .into_iter()
        .zip(names)
        .map(|(o, (name, kind))| o.unwrap_or_else(|| lost_outcome(name, kind)))
        .collect())
}

/// One process (or built-in gate) on a worker thread. A panic becomes an error result.
fn run_batch(
    job: impl FnOnce() -> Done,
    name: &dyn Fn() -> String,
    (gate, batch): (usize, usize),
    stop: &AtomicBool,
    fail_fast: bool,
    send: &Sender<Message>,
) {
    let _ = send.send(Message::Started { gate });
    let lane = rayon::current_thread_index().unwrap_or(0);
    let start = Instant::now();
    let done = if stop.load(Ordering::SeqCst) {
        Done::Process(Finished::new(Exit::Interrupted, Vec::new()))
    } else {
        catch_unwind(AssertUnwindSafe(job)).unwrap_or_else(|_| {
            Done::Process(Finished::new(
                Exit::SpawnFailed(format!("gate crashed while running {}", name())),
                Vec::new(),
            ))
        })
    };
    // Set here, not when the coordinator gets to it, so that no process queued behind
    // this one starts after a failure.
    if fail_fast && done.fails() {
        stop.store(true, Ordering::SeqCst);
    }
    let _ = send.send(Message::Done {
        gate,
        batch,
        done: Box::new(done),
        ran: (lane, start, Instant::now()),
    });
}

/// What starting a gate gives the worker threads.
enum Spawn<'a> {
    Nothing,
    Commands(&'a [Cmd]),
    Builtin(&'a BuiltinJob, Option<SystemTime>),
}

/// The scheduler's state on the coordinating thread.
struct Coordinator<'a, 'e> {
    root: &'a Path,
    config: &'a Config,
    plans: &'a [GatePlan],
    fail_fast: bool,
    stop: &'a AtomicBool,
    run_start: Instant,
    /// The same moment on the wall clock, to compare with file times.
    run_start_wall: SystemTime,
    outcomes: Vec<Option<Outcome>>,
    states: Vec<State>,
    dependents: Vec<Vec<usize>>,
    /// Gates to start, lowest index on top. A gate that ends at once (skip, error) may
    /// make others ready, so this is a work list rather than one pass.
    ready: Vec<usize>,
    /// Ready gates waiting for a fixer they share files with to finish.
    deferred: Vec<usize>,
    /// Per gate, the gates it must not run beside: a fixer and any gate sharing its files.
    exclusive_with: Vec<Vec<usize>>,
    on_event: &'e mut dyn FnMut(Event<'_>),
}

impl<'a, 'e> Coordinator<'a, 'e> {
    fn new(
        config: &'a Config,
        plans: &'a [GatePlan],
        fail_fast: bool,
        stop: &'a AtomicBool,
        on_event: &'e mut dyn FnMut(Event<'_>),
    ) -> Self {
        let states: Vec<State> = config
            .gates
            .iter()
            .zip(plans)
            .map(|(gate, plan)| {
                let batches = match &plan.decision {
                    Decision::Run(commands) => commands.len(),
                    Decision::Builtin(_) => 1,
                    Decision::Skip(_) | Decision::Error(_) | Decision::Cached(_) => 0,
                };
                let mut distinct = gate.depends_on.clone();
                distinct.sort_unstable();
                distinct.dedup();
                State {
                    waiting_on: distinct.len(),
                    results: (0..batches).map(|_| None).collect(),
                    batches: Vec::new(),
                    left: batches,
                    started: None,
                    running: false,
                    snapshot: None,
                }
            })
            .collect();
        let dependents = (0..plans.len())
            .map(|at| {
                (0..plans.len())
                    .filter(|&other| config.gates[other].depends_on.contains(&at))
                    .collect()
            })
            .collect();
        let ready = (0..plans.len()).filter(|&g| states[g].waiting_on == 0).rev().collect();
        Self {
            root: Path::new(""),
            exclusive_with: exclusive_with(plans),
            deferred: Vec::new(),
            config,
            plans,
            fail_fast,
            stop,
            run_start: Instant::now(),
            run_start_wall: SystemTime::now(),
            outcomes: vec![None; plans.len()],
            states,
            dependents,
            ready,
            on_event,
        }
    }

    /// Starts a ready gate: the work to spawn, nothing when it ended at once.
    fn start(&mut self, gate: usize) -> Spawn<'a> {
        let plans = self.plans;
        let config = &self.config.gates[gate];
        let not_run = |status, reason: Problem| {
            Outcome::not_run(
                &config.name,
                config.kind,
                status,
                reason,
                plans[gate].files.matched.clone(),
            )
        };
        if self.states[gate].waiting_on == BLOCKED {
            let failed: Vec<&str> = config
                .depends_on
                .iter()
                .filter(|&&d| {
                    self.outcomes[d]
                        .as_ref()
                        .is_some_and(|o| !o.status.lets_dependents_run())
                })
                .map(|&d| self.config.gates[d].name.as_str())
                .collect();
            let reason = format!("depends on `{}`, which did not pass", failed.join("`, `"));
            self.finish(gate, not_run(Status::Blocked, reason.into()));
            return Spawn::Nothing;
        }
        match &plans[gate].decision {
            Decision::Skip(reason) => self.finish(gate, not_run(Status::Skipped, reason.clone().into())),
            Decision::Error(message) => self.finish(gate, not_run(Status::Error, message.clone())),
            Decision::Cached(record) => {
                let outcome = crate::run::cached::outcome(config, &plans[gate].files, record);
                self.finish(gate, outcome);
            }
            Decision::Run(_) | Decision::Builtin(_)
                if self.stop.load(Ordering::SeqCst) || INTERRUPTED.load(Ordering::SeqCst) =>
            {
                self.finish(gate, not_run(Status::Blocked, not_started_reason().into()));
            }
            Decision::Run(_) | Decision::Builtin(_)
                if self.exclusive_with[gate]
                    .iter()
                    .any(|&other| self.states[other].running) =>
            {
                self.deferred.push(gate);
            }
            Decision::Builtin(job) => {
                self.states[gate].running = true;
                if plans[gate].fixing {
                    self.states[gate].snapshot = Some(fixes::snapshot(self.root, &plans[gate].files.matched));
                }
                // Reports must be newer than this run when a gate this one depends on ran
                // (the tests that write them); a little slack for coarse file timestamps.
                let ran = |d: &usize| self.outcomes[*d].as_ref().is_some_and(|o| o.started.is_some());
                let fresh_after = config
                    .depends_on
                    .iter()
                    .any(ran)
                    .then(|| self.run_start_wall - Duration::from_secs(2));
                return Spawn::Builtin(job, fresh_after);
            }
            Decision::Run(commands) => {
                let state = &mut self.states[gate];
                state.running = true;
                if plans[gate].fixing {
                    state.snapshot = Some(fixes::snapshot(self.root, &plans[gate].files.matched));
                }
                return Spawn::Commands(commands);
            }
        }
        Spawn::Nothing
    }

    fn receive(&mut self, message: Message) {
        match message {
            Message::Started { gate } => {
                if self.states[gate].started.is_none() {
                    self.states[gate].started = Some(Instant::now());
                    (self.on_event)(Event::Started { gate });
                }
            }
            Message::Done {
                gate,
                batch,
                done,
                ran: (lane, start, end),
            } => {
                let state = &mut self.states[gate];
                let peak_rss = match &*done {
                    Done::Process(finished) => finished.peak_rss,
                    Done::Builtin(_) => None,
                };
                state.batches.push(Batch {
                    lane,
                    start: start.saturating_duration_since(self.run_start),
                    end: end.saturating_duration_since(self.run_start),
                    peak_rss,
                });
                state.results[batch] = Some(*done);
                state.left -= 1;
                if state.left == 0 {
                    let started = state.started.unwrap_or_else(Instant::now);
                    let results: Vec<Done> = state.results.iter_mut().filter_map(Option::take).collect();
                    let gate_config = &self.config.gates[gate];
                    let mut outcome = Outcome::not_run(
                        &gate_config.name,
                        gate_config.kind,
                        Status::Passed,
                        String::new(),
                        self.plans[gate].files.matched.clone(),
                    );
                    outcome.started = Some(started.duration_since(self.run_start));
                    outcome.duration = started.elapsed();
                    combine(&mut outcome, &results, self.fail_fast);
                    let mut batches = std::mem::take(&mut state.batches);
                    batches.sort_by_key(|b| b.start);
                    outcome.batches = batches;
                    if let Some(format) = &gate_config.problem_format {
                        let places = Places {
                            root: self.root,
                            workdir: &gate_config.workdir,
                        };
                        outcome.diagnostics = problems::parse(format, &outcome.output, &places);
                    }
                    if let Some(snapshot) = state.snapshot.take() {
                        outcome.fixed = fixes::changed(self.root, snapshot);
                        if outcome.status != Status::Passed && !outcome.fixed.is_empty() {
                            // Only a fixer that finished made a fix.
                            let count = outcome.fixed.len();
                            let undone = match fixes::undo(self.root, &outcome.fixed) {
                                Ok(()) => format!("what it wrote to {} was undone", plural(count, "file")),
                                Err(err) => format!("undoing what it wrote failed: {err}"),
                            };
                            outcome.fixed.clear();
                            let reason = outcome.reason.take().unwrap_or_else(|| Problem::new("failed"));
                            outcome.reason = Some(Problem {
                                message: format!("fixer {}; {undone}", reason.message),
                                hint: reason.hint,
                            });
                        } else if outcome.status == Status::Passed && !outcome.fixed.is_empty() {
                            outcome.status = Status::Fixed;
                            let count = outcome.fixed.len();
                            outcome.reason = Some(Problem::new(format!("fixed {}", plural(count, "file"))));
                        }
                    }
                    state.running = false;
                    // A fixer ending may let gates that share its files start.
                    self.ready.append(&mut self.deferred);
                    self.finish(gate, outcome);
                }
            }
        }
    }

    /// Records a gate's outcome, reports it, and readies or blocks its dependents.
    fn finish(&mut self, gate: usize, outcome: Outcome) {
        let passed = outcome.status.lets_dependents_run();
        if self.fail_fast && matches!(outcome.status, Status::Failed | Status::Error) {
            self.stop.store(true, Ordering::SeqCst);
        }
        (self.on_event)(Event::Finished {
            gate,
            outcome: &outcome,
        });
        self.outcomes[gate] = Some(outcome);
        for &next in &self.dependents[gate] {
            if passed {
                self.states[next].waiting_on -= 1;
                if self.states[next].waiting_on == 0 {
                    self.ready.push(next);
                }
            } else if self.states[next].waiting_on != BLOCKED {
                // Blocked at once; its own dependents follow through the work list.
                self.states[next].waiting_on = BLOCKED;
                self.ready.push(next);
            }
        }
    }
}

/// Pairs of gates that must not run at once: a fixer rewrites files, so no other gate may
/// read or write them meanwhile. A fixer that is not handed its files may touch any file.
fn exclusive_with(plans: &[GatePlan]) -> Vec<Vec<usize>> {
    let takes_files = |plan: &GatePlan| match &plan.decision {
        Decision::Run(commands) => commands.iter().all(|c| c.file_args > 0),
        Decision::Builtin(_) | Decision::Skip(_) | Decision::Error(_) | Decision::Cached(_) => true,
    };
    let shares_files = |a: &GatePlan, b: &GatePlan| {
        let theirs: std::collections::HashSet<_> = b.files.matched.iter().collect();
        a.files.matched.iter().any(|path| theirs.contains(path))
    };
    (0..plans.len())
        .map(|a| {
            (0..plans.len())
                .filter(|&b| b != a && (plans[a].fixing || plans[b].fixing))
                .filter(|&b| {
                    let fixer_without_files =
                        (plans[a].fixing && !takes_files(&plans[a])) || (plans[b].fixing && !takes_files(&plans[b]));
                    fixer_without_files || shares_files(&plans[a], &plans[b])
                })
                .collect()
        })
        .collect()
}

fn not_started_reason() -> String {
    if INTERRUPTED.load(Ordering::SeqCst) {
        "not started: interrupted".to_owned()
    } else {
        "not started: an earlier gate failed and `--fail-fast` is on".to_owned()
    }
}

/// A gate the scheduler never reached: an error, never a silent pass or a hang.
fn lost_outcome(name: &str, kind: Kind) -> Outcome {
    Outcome::not_run(
        name,
        kind,
        Status::Error,
        "never started: gate lost track of what it waits for (please report this)",
        crate::model::Files::default(),
    )
}

/// Fills a gate's outcome from the results of its batches, in batch order.
fn combine(outcome: &mut Outcome, results: &[Done], fail_fast: bool) {
    let mut reason = None;
    outcome.exit_code = Some(0);
    outcome.processes = 0;
    for done in results {
        let (status, why) = match done {
            Done::Process(finished) => process_result(outcome, finished, fail_fast),
            Done::Builtin(verdict) => builtin_result(outcome, verdict),
        };
        // The worst batch speaks; among equals the first that says something.
        if rank(status) > rank(outcome.status) || (reason.is_none() && rank(status) == rank(outcome.status)) {
            outcome.status = status;
            reason = why;
        }
    }
    outcome.reason = reason;
    if outcome.processes == 0 {
        outcome.started = None;
        outcome.duration = Duration::ZERO;
    }
    if !matches!(outcome.status, Status::Failed | Status::Passed) {
        outcome.exit_code = None;
    }
}

/// One process's part of an outcome: its output, and what its exit means.
fn process_result(outcome: &mut Outcome, finished: &Finished, fail_fast: bool) -> (Status, Option<Problem>) {
    outcome.output.push_str(&String::from_utf8_lossy(&finished.output));
    if !matches!(finished.exit, Exit::Interrupted) {
        outcome.processes += 1;
    }
    match &finished.exit {
        Exit::Code(0) => (Status::Passed, None),
        Exit::Code(code) => {
            if outcome.exit_code == Some(0) {
                outcome.exit_code = Some(*code);
            }
            (Status::Failed, Some(Problem::new(format!("exited with code {code}"))))
        }
        Exit::Signal(signal) => (Status::Error, Some(Problem::new(format!("killed by signal {signal}")))),
        Exit::TimedOut(limit) => (
            Status::Error,
            Some(Problem::new(format!(
                "timed out after {}",
                humantime::format_duration(*limit)
            ))),
        ),
        Exit::Interrupted if fail_fast && !INTERRUPTED.load(Ordering::SeqCst) => {
            (Status::Blocked, Some(Problem::new(not_started_reason())))
        }
        Exit::Interrupted => (Status::Error, Some(Problem::new("interrupted".to_owned()))),
        Exit::SpawnFailed(message) => (Status::Error, Some(Problem::new(message.clone()))),
        Exit::AskedTheTerminal => (
            Status::Error,
            Some(Problem::hinted(
                "stopped to wait for input from the terminal, which a gate cannot give",
                "give the tool its non-interactive flag, or set up what it asked for (a credential, a host key) beforehand",
            )),
        ),
    }
}

/// A built-in gate's verdict as an outcome: what it found, and an error for what it could
/// not check.
fn builtin_result(outcome: &mut Outcome, verdict: &Result<Verdict, Problem>) -> (Status, Option<Problem>) {
    outcome.processes += 1;
    let verdict = match verdict {
        Ok(verdict) => verdict,
        Err(message) => return (Status::Error, Some(message.clone())),
    };
    for note in &verdict.notes {
        outcome.output.push_str(note);
        outcome.output.push('\n');
    }
    outcome.output.push_str(&verdict.summary);
    outcome.output.push('\n');
    outcome.diagnostics.clone_from(&verdict.diagnostics);
    outcome.details.clone_from(&verdict.details);
    match &verdict.error {
        Some(error) => (Status::Error, Some(error.clone())),
        None if verdict.passed => (Status::Passed, Some(Problem::new(verdict.summary.clone()))),
        None => {
            outcome.exit_code = Some(1);
            (Status::Failed, Some(Problem::new(verdict.summary.clone())))
        }
    }
}

/// Which batch result speaks for the gate: an error outranks a failure outranks a pass.
fn rank(status: Status) -> u8 {
    match status {
        Status::Passed | Status::Skipped | Status::Fixed => 0,
        Status::Blocked => 1,
        Status::Failed => 2,
        Status::Error => 3,
    }
}

#[cfg(test)]
mod tests;
