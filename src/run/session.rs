//! One run, start to end: lock → configuration → change set → keeper → plan → schedule
//! → outcomes → fixes → reports. `gate check` and the hooks only build a [`Request`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::cache::LocalStore;
use crate::config::{self, Config, Origin, Settings};
use crate::env;
use crate::git::Repo;
use crate::git::changes::{self, ChangeSet, Source};
use crate::github::{self, Actions, StatusTarget, event::Range};
use crate::keeper::lock::{Access, RunLock};
use crate::keeper::{self, Keeper};
use crate::model::{ChangedLines, Event, Outcome, Problem, Stage, Status};
use crate::printer::Printer;
use crate::report::console::Console;
use crate::report::{self, Report, Target};
use crate::run::cached::{self, Cache};
use crate::run::plan::{self, Decision, GatePlan};
use crate::run::scheduler::{self, Options};
use crate::run::watch::Watch;
use crate::run::{fixes, modified, process, unchecked};
use crate::secrets::Masker;
use crate::select;

/// Where the files of a run come from.
#[derive(Debug, Clone)]
pub(crate) enum ChangeSource {
    /// The index against HEAD: what the next commit records.
    Staged,
    /// The working tree against HEAD.
    Worktree,
    /// `merge-base(REF, HEAD)..HEAD`.
    Base(String),
    /// Every tracked file.
    All,
    /// These files (relative to `cwd`), as if they had changed.
    Files { cwd: PathBuf, files: Vec<PathBuf> },
    /// By hand: the working tree; in GitHub Actions the event's range; in other CI
    /// `settings.base..HEAD` when a base is configured.
    Default,
}

/// What a run checks: one change set, or each ref a push sends (one change set per ref,
/// each on its own tip).
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    Changes(ChangeSource),
    /// `refs`: the lines git writes to the pre-push hook's stdin.
    Push {
        remote: String,
        refs: String,
    },
}

/// Options of a run given on the command line; `None` leaves the choice to `[settings]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub(crate) jobs: Option<usize>,
    pub(crate) fail_fast: Option<bool>,
    /// `--no-cache`: run every gate, reuse no pass and store none.
    pub(crate) no_cache: bool,
}

/// Everything a run is asked to do.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) scope: Scope,
    /// Only the changed files under this directory (a `gate matrix` shard).
    pub(crate) within: Option<PathBuf>,
    /// `None`: a hook that is no stage, where only gates that name no stage run.
    pub(crate) stage: Option<Stage>,
    /// Gates named with `--gate`; empty for all. Their dependencies run too.
    pub(crate) only: Vec<String>,
    /// Gates with a `fix` command run it instead of `run`.
    pub(crate) fix: bool,
    pub(crate) overrides: Overrides,
    pub(crate) reports: Vec<Target>,
    /// In GitHub Actions, post commit statuses.
    pub(crate) statuses: bool,
}

/// The repository and its configuration, loaded once per run.
pub(crate) struct Workspace {
    pub(crate) repo: Repo,
    pub(crate) config: Config,
    pub(crate) origin: Origin,
}

/// What stands for a missing `gates.toml`.
#[derive(Debug, Clone, Copy)]
enum Fallback {
    /// The gates derived from what the repository holds.
    Detect,
    /// A secrets gate with the built-in rules.
    Secrets,
}

/// Which copy of `gates.toml` decides a run: the one that belongs to what is checked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ConfigAt {
    Worktree,
    /// A pre-commit run: the staged copy.
    Index,
    /// A pushed commit that is checked out: that commit's copy.
    Commit(git2::Oid),
}

impl ConfigAt {
    pub(crate) fn of(source: &ChangeSource) -> Self {
        match source {
            ChangeSource::Staged => ConfigAt::Index,
            _ => ConfigAt::Worktree,
        }
    }
}

impl Workspace {
    /// The repository here and its configuration as of `at` (an explicit `--config` file
    /// is always read as it is).
    pub(crate) fn open(explicit_config: Option<&Path>, at: ConfigAt, printer: Printer) -> Result<Self> {
        Self::load(Repo::open()?, explicit_config, at, printer)
    }

    /// [`Workspace::open`] for `gate secrets`, which reads a `gates.toml` only for its
    /// secrets gate's settings: without one, a secrets gate with the built-in rules stands
    /// in, instead of gates derived from the repository (an error where no tool gate can
    /// run, though none is needed).
    pub(crate) fn open_for_secrets(explicit_config: Option<&Path>, at: ConfigAt, printer: Printer) -> Result<Self> {
        Self::load_with(Repo::open()?, explicit_config, at, printer, Fallback::Secrets)
    }

    fn load(repo: Repo, explicit_config: Option<&Path>, at: ConfigAt, printer: Printer) -> Result<Self> {
        Self::load_with(repo, explicit_config, at, printer, Fallback::Detect)
    }

    fn load_with(
        repo: Repo,
        explicit_config: Option<&Path>,
        at: ConfigAt,
        printer: Printer,
        fallback: Fallback,
    ) -> Result<Self> {
        let without_file = |repo: &Repo| match fallback {
            Fallback::Detect => config::detected(repo.root(), &changes::tracked_paths(repo)?, printer),
            Fallback::Secrets => {
                let text = "[gates.secrets]\nkind = \"secrets\"\n";
                Ok((
                    config::parse(text, Path::new("<built-in gates>"), repo.root())?,
                    Origin::Detected,
                ))
            }
        };
        let root = repo.root().to_owned();
        let path = root.join(config::FILE_NAME);
        let kept = match (explicit_config, at) {
            (Some(_), _) | (None, ConfigAt::Worktree) => None,
            (None, ConfigAt::Index) => Some((repo.staged_bytes(Path::new(config::FILE_NAME))?, "staged")),
            (None, ConfigAt::Commit(oid)) => {
                Some((repo.committed_bytes(oid, Path::new(config::FILE_NAME))?, "committed"))
            }
        };
        let (config, origin) = match kept {
            None => match config::load_if_present(&root, explicit_config)? {
                Some(loaded) => loaded,
                None => without_file(&repo)?,
            },
            Some((bytes, which)) => {
                let on_disk = std::fs::read(&path).ok();
                if on_disk != bytes {
                    let differs = if on_disk.is_none() { "is deleted" } else { "differs" };
                    match &bytes {
                        Some(_) => printer.note(format_args!(
                            "`{}` in the working tree {differs}; this run uses the {which} copy",
                            config::FILE_NAME
                        )),
                        None => printer.warn(Problem::hinted(
                            format!("`{}` is not {which}, so it does not decide this run", config::FILE_NAME),
                            format!("`git add {}` to use it", config::FILE_NAME),
                        )),
                    }
                }
                match bytes {
                    Some(bytes) => {
                        let text = String::from_utf8(bytes)
                            .with_context(|| format!("the {which} `{}` is not UTF-8", config::FILE_NAME))?;
                        config::from_text(&root, &text, path)?
                    }
                    None => without_file(&repo)?,
                }
            }
        };
        Ok(Self { repo, config, origin })
    }

    /// The change set a source names.
    pub(crate) fn changes(&self, source: &ChangeSource) -> Result<ChangeSet> {
        let repo = &self.repo;
        match source {
            ChangeSource::Staged => changes::staged(repo),
            ChangeSource::Worktree => changes::worktree(repo),
            ChangeSource::Base(base) => changes::base(repo, base),
            ChangeSource::All => changes::all(repo),
            ChangeSource::Files { cwd, files } => changes::explicit(repo, cwd, files),
            ChangeSource::Default => {
                if env::in_github_actions()
                    && let Some(range) = github::event_range()?
                {
                    return match range {
                        Range::Between { base, head } => changes::between(repo, &base, &head),
                        Range::NewBranch { head, default_branch } => {
                            changes::between(repo, &format!("origin/{default_branch}"), &head)
                        }
                    };
                }
                match &self.config.settings.base {
                    Some(base) if env::in_ci() => changes::base(repo, base),
                    _ => changes::worktree(repo),
                }
            }
        }
    }

    /// Checks `--gate` names against the configuration.
    pub(crate) fn check_gate_names(&self, names: &[String]) -> Result<()> {
        for name in names {
            if !self.config.gates.iter().any(|g| &g.name == name) {
                return Err(Problem::hinted(
                    format!("there is no gate `{name}`"),
                    format!(
                        "the gates are {}",
                        self.config
                            .gates
                            .iter()
                            .map(|g| format!("`{}`", g.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .into());
            }
        }
        Ok(())
    }

    /// Each gate's plan for a change set.
    pub(crate) fn plan(&self, changes: &ChangeSet, request: &Request, printer: Printer) -> Vec<GatePlan> {
        // Once a run, however often it plans.
        static WARNED: std::sync::Once = std::sync::Once::new();
        let skip = env::skipped_gates();
        WARNED.call_once(|| {
            for name in skip.iter().filter(|n| !self.config.gates.iter().any(|g| &g.name == *n)) {
                printer.warn(format_args!(
                    "`GATE_SKIP` names `{name}`, which is not a gate; nothing is skipped for it"
                ));
            }
        });
        let file_sets = select::select(&self.config, changes);
        let asked = plan::Asked {
            stage: request.stage,
            only: &request.only,
            skip: &skip,
            fix: request.fix,
        };
        let tracked = || crate::git::changes::tracked_paths(&self.repo);
        let lines = |paths: &[&str]| crate::git::lines::changed_lines_of(&self.repo, changes, paths);
        let history = |wanted: &dyn Fn(&Path) -> bool| {
            crate::git::history::of_change(&self.repo, changes, wanted)
                .map(|history| (history, self.repo.git.commondir().to_path_buf()))
        };
        let tree = plan::Tree {
            root: self.repo.root(),
            tracked: &tracked,
            lines: &lines,
            history: &history,
        };
        plan::plan(&self.config, &tree, changes, file_sets, &asked)
    }
}

/// The most processes a run starts at once, whatever `--jobs` says: more only costs memory.
fn max_jobs(cpus: usize) -> usize {
    4 * cpus.max(1)
}

/// Processes at once when nobody says: two more than the CPUs, as ninja starts. One per CPU
/// left a core idle whenever the gates of a wave ended apart (the slowest of each pair sets
/// its end): four CPU-bound gates on 2 cores took 1.12x their work started all at once,
/// 1.06x with two more (farm-bench, 20 interleaved runs). Those waiting on start-up or the
/// disk keep the cores busy for the others too.
fn default_jobs(cpus: usize) -> usize {
    cpus.max(1) + 2
}

/// The command line wins over `[settings]`, which wins over the defaults: in this one place.
pub(crate) fn scheduler_options(overrides: &Overrides, settings: &Settings, printer: Printer) -> Options {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let asked = overrides
        .jobs
        .filter(|&jobs| jobs > 0)
        .or(settings.jobs)
        .unwrap_or_else(|| default_jobs(cpus));
    let jobs = if asked > max_jobs(cpus) {
        printer.note(format_args!(
            "{asked} jobs asked for; running at most {} at once ({cpus} CPUs)",
            max_jobs(cpus)
        ));
        max_jobs(cpus)
    } else {
        asked
    };
    Options {
        jobs,
        fail_fast: overrides.fail_fast.unwrap_or(settings.fail_fast),
    }
}

/// Runs a request and returns the exit code.
pub(crate) fn run(printer: Printer, explicit_config: Option<&Path>, request: &Request) -> Result<i32> {
    let source = match &request.scope {
        Scope::Push { remote, refs } => return run_push(printer, explicit_config, request, remote, refs),
        Scope::Changes(source) => source,
    };
    let workspace = Workspace::open(explicit_config, ConfigAt::of(source), printer)?;
    workspace.check_gate_names(&request.only)?;
    let mut changes = workspace.changes(source)?;
    if let Some(dir) = &request.within {
        changes.files.retain(|f| f.path.starts_with(dir));
    }
    let isolate = matches!(source, ChangeSource::Staged).then_some(keeper::Target::Index);
    run_on(printer, &workspace, &changes, request, isolate)
}

/// A push: each pushed ref is checked on its own tip. The checked-out commit is checked in
/// the working tree, made equal to it for the run; any other commit in gate's own worktree.
fn run_push(
    printer: Printer,
    explicit_config: Option<&Path>,
    request: &Request,
    remote: &str,
    refs: &str,
) -> Result<i32> {
    let repo = Repo::open()?;
    let pushed = changes::push(&repo, remote, refs.as_bytes())?;
    if pushed.is_empty() {
        printer.note("the push sends no new commits: nothing to check");
        return Ok(0);
    }
    let head = repo.head()?.map(|c| c.id());
    let mut exit_code = 0;
    for changes in &pushed {
        let Some(tip) = changes.head else { continue };
        if pushed.len() > 1 {
            printer.note(format_args!("checking pushed commit {tip}"));
        }
        let code = if Some(tip) == head {
            let workspace = Workspace::load(Repo::open()?, explicit_config, ConfigAt::Commit(tip), printer)?;
            workspace.check_gate_names(&request.only)?;
            run_on(printer, &workspace, changes, request, Some(keeper::Target::Head))?
        } else {
            let path = crate::git::worktree::at_commit(&repo, tip)?;
            let workspace = Workspace::load(Repo::open_at(&path)?, explicit_config, ConfigAt::Worktree, printer)?;
            workspace.check_gate_names(&request.only)?;
            run_on(printer, &workspace, changes, request, None)?
        };
        exit_code = exit_code.max(code);
        if process::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(code);
        }
    }
    Ok(exit_code)
}

/// Runs a request on a change set already chosen; `isolate`: what the working tree must
/// hold while gates run (the rest is set aside and restored).
fn run_on(
    printer: Printer,
    workspace: &Workspace,
    changes: &ChangeSet,
    request: &Request,
    isolate: Option<keeper::Target>,
) -> Result<i32> {
    let repo = &workspace.repo;
    // Installed before anything is set aside, so a signal still restores the working tree.
    process::handle_signals();
    super::processes::adopt_orphans();
    let Some(_lock) = lock(repo, isolate.is_some() || request.fix, printer)? else {
        return Ok(process::interrupted_exit_code());
    };
    keeper::check_no_leftover(repo.git.path())?;
    // Nothing staged that any gate takes, and no gate that runs regardless: nothing will
    // start, so there is nothing to set aside (and no scan of the tree to pay for).
    let mut isolate = isolate;
    let mut plans = None;
    if matches!(isolate, Some(keeper::Target::Index)) {
        let planned = workspace.plan(changes, request, printer);
        if !planned.iter().any(GatePlan::starts) {
            isolate = None;
        }
        plans = Some(planned);
    }
    // The watch for what the gates write starts beside the set-aside's writes.
    let (keeper, watching) = match isolate {
        Some(target) => {
            let (root, index) = (repo.root(), repo.fast_index()?);
            let (keeper, watch) = Keeper::stash(repo, target, printer, || {
                index.and_then(|index| modified::watch_index(root, index))
            })?;
            (Some(keeper), watch.flatten())
        }
        None => (None, None),
    };
    #[cfg(debug_assertions)]
    assert!(
        env::var(env::GATE_FAULT).as_deref() != Some("panic-after-stash"),
        "injected fault: panic after setting unstaged changes aside"
    );
    let changes = unchecked::checkable(printer, repo, changes, keeper.as_ref());
    // Paths left unchecked: plan again without them.
    if matches!(changes, std::borrow::Cow::Owned(_)) {
        plans = None;
    }
    let start = Instant::now();
    let (mut outcomes, mut reporters) = schedule(
        printer,
        workspace,
        (&changes, plans),
        request,
        (keeper.as_ref(), watching),
    )?;
    if let Some(keeper) = keeper {
        if matches!(isolate, Some(keeper::Target::Index)) {
            fixes::stage(printer, repo, &workspace.config, &mut outcomes, &keeper.affected())?;
        }
        let kept = keeper.kept();
        let restored = keeper.restore()?;
        fixes::tell_restored(printer, &restored, &outcomes, kept);
    } else {
        fixes::keep_in_worktree(&mut outcomes);
    }
    let wall = start.elapsed();
    reporters.console.finish(&outcomes, wall);
    let dependencies: Vec<Vec<usize>> = workspace.config.gates.iter().map(|g| g.depends_on.clone()).collect();
    let ran = Ran {
        changes: &changes,
        dependencies: &dependencies,
        outcomes: &outcomes,
        wall,
    };
    finish(printer, repo, request, &ran, reporters.actions)
}

/// What a run did, for the reports.
struct Ran<'a> {
    changes: &'a ChangeSet,
    dependencies: &'a [Vec<usize>],
    outcomes: &'a [Outcome],
    wall: std::time::Duration,
}

/// The run lock: exclusive for a run that writes (sets aside, fixes), shared for one that
/// only reads; `None` when a signal came while waiting for it.
fn lock(repo: &Repo, writes: bool, printer: Printer) -> Result<Option<RunLock>> {
    let access = if writes { Access::Exclusive } else { Access::Shared };
    let stopped = || process::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst);
    match RunLock::acquire_unless(repo.git.path(), access, printer, &stopped) {
        Ok(lock) => Ok(Some(lock)),
        Err(_) if stopped() => Ok(None),
        Err(err) => Err(err),
    }
}

/// Where events go while gates run: the console, and GitHub when in Actions.
struct Reporters {
    console: Console,
    actions: Option<Actions>,
    /// Secrets out of everything relayed, before anyone sees it.
    masker: Masker,
}

impl Reporters {
    /// On the console and to GitHub.
    fn event(&mut self, event: Event<'_>) {
        self.relay(event, true, true);
    }

    /// On the console only (GitHub hears of it later).
    fn shown(&mut self, event: Event<'_>) {
        self.relay(event, true, false);
    }

    /// To GitHub only (shown on the console already).
    fn posted(&mut self, event: Event<'_>) {
        self.relay(event, false, true);
    }

    fn relay(&mut self, event: Event<'_>, console: bool, github: bool) {
        match event {
            Event::Finished { gate, outcome } => {
                let mut shown = outcome.clone();
                self.masker.outcome(&mut shown);
                if github && let Some(actions) = &self.actions {
                    actions.finished(&shown);
                }
                if console {
                    self.console.on_event(Event::Finished { gate, outcome: &shown });
                }
            }
            started @ Event::Started { .. } => self.console.on_event(started),
        }
    }
}

/// A check that passed is failed at the end if it wrote a file, so a pass is final only
/// then: its GitHub status waits (a required check must never be green for a moment before
/// it turns red), and so does its console line when a write was seen already.
#[derive(Default)]
struct Passes {
    /// Gates that passed, in the order they ended.
    passed: Vec<usize>,
    /// Of those, the ones not shown yet.
    unshown: Vec<usize>,
    /// Files fixers wrote: fixes, not writes to blame.
    claimed: HashSet<PathBuf>,
}

impl Passes {
    fn relay(&mut self, event: Event<'_>, before: &modified::Before, reporters: &mut Reporters) {
        if let Event::Finished { gate, outcome } = event {
            self.claimed.extend(outcome.fixed.iter().map(|f| f.path.clone()));
            if outcome.status == Status::Passed && outcome.started.is_some() {
                self.passed.push(gate);
                if before.written_besides(&self.claimed) {
                    self.unshown.push(gate);
                    reporters.console.held(gate);
                } else {
                    reporters.shown(event);
                }
                return;
            }
        }
        reporters.event(event);
    }

    /// Relays the final outcome of every gate that passed or was blamed after the run.
    fn settle(self, blamed: &[usize], outcomes: &[Outcome], reporters: &mut Reporters) {
        let mut settled: Vec<usize> = blamed.iter().chain(&self.passed).copied().collect();
        settled.sort_unstable();
        settled.dedup();
        for gate in settled {
            let event = Event::Finished {
                gate,
                outcome: &outcomes[gate],
            };
            if blamed.contains(&gate) || self.unshown.contains(&gate) {
                reporters.event(event);
            } else {
                reporters.posted(event);
            }
        }
    }
}

/// Plans and runs the gates, then fails the checks that wrote files.
/// Runs the gates on `changes` (planned already, or not yet).
fn schedule(
    printer: Printer,
    workspace: &Workspace,
    (changes, planned): (&ChangeSet, Option<Vec<GatePlan>>),
    request: &Request,
    (keeper, watching): (Option<&Keeper<'_>>, Option<Watch>),
) -> Result<(Vec<Outcome>, Reporters)> {
    let (repo, config) = (&workspace.repo, &workspace.config);
    // A run that sets nothing aside compares files afterwards against what it takes now, on
    // another thread while the run plans: a watch and a moment on the file system's clock,
    // or where those cannot be had, every file's stat data.
    let scan = if keeper.is_none() && !changes.files.is_empty() {
        Some(modified::Scan::start(repo)?)
    } else {
        None
    };
    let mut plans = planned.unwrap_or_else(|| workspace.plan(changes, request, printer));
    let cache = (config.settings.cache.enabled && !request.overrides.no_cache).then(|| {
        let store = LocalStore::new(
            repo.git.commondir().join("gate").join("cache"),
            config.settings.cache.max_bytes,
        );
        let remote = cached::remote_store(&config.settings.cache, printer);
        let inputs = cached::Inputs {
            root: repo.root(),
            index: repo.fast_index().ok().flatten(),
            worktree_is_index: keeper.is_some_and(Keeper::worktree_is_index),
            tracked: &|| changes::tracked_paths(repo).ok(),
            changes,
        };
        Cache::lookup((store, remote), config, &mut plans, &inputs)
    });
    // The working tree holds the commit's content, but for its untracked files.
    let untracked = keeper.and_then(|_| super::untracked::Untracked::start(repo, config, &plans));
    let options = scheduler_options(&request.overrides, &config.settings, printer);
    if request.reports.iter().any(|t| t.format == report::Format::Timings) {
        process::MEASURE_MEMORY.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let actions = start_actions(printer, config, &plans, changes, request.statuses);
    let names = config.gates.iter().map(|g| g.name.clone()).collect();
    // In GitHub Actions raw output goes in groups that no tool can inject commands into.
    let console = Console::new(printer, names, Console::is_interactive(), actions.is_none());
    let masker = Masker::new(
        std::env::vars_os().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())),
        &config.settings.mask_env,
    );
    let mut reporters = Reporters {
        console,
        actions,
        masker,
    };
    let before = match scan.map(modified::Scan::finish).transpose()? {
        _ if !plans.iter().any(GatePlan::starts) => modified::Before::nothing_runs(),
        Some(scanned) => scanned,
        None => modified::before(repo, keeper, watching)?,
    };
    let mut passes = Passes::default();
    let mut outcomes = scheduler::execute(
        repo.root(),
        scheduler::Planned { config, plans: &plans },
        &options,
        &mut |event| passes.relay(event, &before, &mut reporters),
    )?;
    if let Some(untracked) = untracked {
        untracked.name(printer, config);
    }
    let fixing: Vec<bool> = plans.iter().map(|p| p.fixing).collect();
    let blamed = modified::blame(repo, &before, &mut outcomes, &fixing, keeper)?;
    passes.settle(&blamed, &outcomes, &mut reporters);
    // Reports, summaries, annotations and the caches (the remote one included) read these:
    // no secret in them either.
    for outcome in &mut outcomes {
        reporters.masker.outcome(outcome);
    }
    if let Some(cache) = &cache
        && !process::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
    {
        cache.remember(&outcomes);
    }
    if let Some((remote, why)) = cache.as_ref().and_then(Cache::remote_failure) {
        printer.warn(format_args!(
            "the remote cache `{remote}` was not used after it failed ({why}); the verdict is unchanged"
        ));
    }
    // The process ends soon: freeing the plans' and the scan's many small allocations (an
    // argument per file) took a tenth of an `--all` run's time (perf); the system takes
    // them back at exit at once. A push of several refs leaks one set per ref.
    std::mem::forget(plans);
    before.leave();
    Ok((outcomes, reporters))
}

/// The exit code, the reports asked for, and GitHub's statuses and summary.
fn finish(printer: Printer, repo: &Repo, request: &Request, ran: &Ran<'_>, actions: Option<Actions>) -> Result<i32> {
    let exit_code = if process::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        process::interrupted_exit_code()
    } else {
        report::exit_code(ran.outcomes)
    };
    let lines = report_lines(repo, ran.changes, &request.reports, actions.is_some())?;
    let report = Report {
        root: repo.root(),
        stage: request.stage.map_or("none", Stage::as_str),
        changes: ran.changes,
        outcomes: ran.outcomes,
        duration: ran.wall,
        exit_code,
        lines: &lines,
        dependencies: ran.dependencies,
    };
    for target in &request.reports {
        target.write(&report)?;
    }
    if let Some(actions) = actions {
        actions.finish(&report, printer)?;
    }
    Ok(exit_code)
}

/// In GitHub Actions: posts `pending` for the gates that will run, and says how to finish.
fn start_actions(
    printer: Printer,
    config: &Config,
    plans: &[GatePlan],
    changes: &ChangeSet,
    statuses: bool,
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
        enabled: statuses,
    };
    Actions::start(&status_target, running, printer)
}

/// The changed lines of every file, from one diff: the JSON report carries them and GitHub
/// annotations on changed lines come first. Only runs that write either pay for the diff.
fn report_lines(repo: &Repo, changes: &ChangeSet, targets: &[Target], annotating: bool) -> Result<ChangedLines> {
    if !annotating && !targets.iter().any(|t| t.format == report::Format::Json) {
        return Ok(ChangedLines::new());
    }
    let paths: Vec<String> = changes
        .files
        .iter()
        .filter(|f| f.exists())
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    crate::git::lines::changed_lines_of(repo, changes, &paths)
        .context("failed to read the changed lines for the report")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_capped_and_the_command_line_wins() {
        let settings = Settings {
            jobs: Some(3),
            ..Settings::default()
        };
        let printer = Printer::new(crate::printer::Verbosity::Quiet);
        let from_settings = scheduler_options(&Overrides::default(), &settings, printer);
        assert_eq!(from_settings.jobs, 3);
        let huge = Overrides {
            jobs: Some(usize::MAX),
            fail_fast: Some(true),
            no_cache: false,
        };
        let capped = scheduler_options(&huge, &settings, printer);
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(capped.jobs, max_jobs(cpus));
        assert!(capped.fail_fast);
        let unsaid = scheduler_options(&Overrides::default(), &Settings::default(), printer);
        assert_eq!(unsaid.jobs, cpus + 2);
        let zero = Overrides {
            jobs: Some(0),
            ..Overrides::default()
        };
        assert_eq!(
            scheduler_options(&zero, &settings, printer).jobs,
            3,
            "0 on the command line defers to the file"
        );
    }
}
