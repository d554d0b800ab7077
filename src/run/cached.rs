//! The result cache in a run: each gate's key is computed before anything starts, a gate
//! whose key has a stored pass is finished at once with that pass (`cached`), and the
//! gates that pass are stored afterwards.
//!
//! A key covers what the result depends on: the gate's check command as configured (the
//! fixer's run is judged by its check), the program it resolves to (path, size, time; or
//! what the gate's `version` command prints, so the same tool elsewhere hits too),
//! its `env`, `env_inputs` and problem format, the content of every file it is handed, or
//! of every tracked file its globs match when it takes no `{files}`, and its `inputs`.
//! Gates that depend on another gate read what that gate writes, so they are never cached;
//! neither are coverage gates (their reports are written during the run).

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::cache::{Key, KeyBuilder, LocalStore, Record, Remote, Store};
use crate::config::{Action, Config, Gate, HygieneCheck};
use crate::git::changes::ChangeSet;
use crate::model::{Outcome, Status};
use crate::run::plan::{Decision, GatePlan};
use crate::run::process::{Cmd, Exit};
use crate::select::FileSet;
use rayon::prelude::*;

/// What a run's gates are keyed by, and how many of them hit.
pub(crate) struct Cache {
    store: LocalStore,
    /// A shared store behind the local one.
    remote: Option<Remote>,
    keys: Vec<Option<Key>>,
    hits: u64,
}

/// What a key is built from besides the gate: where the repository is, its tracked files
/// (listed only when a gate reads files it is not handed), and the change's commits.
pub(crate) struct Inputs<'a> {
    pub(crate) root: &'a Path,
    /// The index, whose stat data vouches for unchanged files (no read needed).
    pub(crate) index: Option<&'a gix_index::File>,
    /// The working tree holds the index's content (a pre-commit run, edits set aside).
    pub(crate) worktree_is_index: bool,
    pub(crate) tracked: &'a dyn Fn() -> Option<Vec<String>>,
    pub(crate) changes: &'a ChangeSet,
}

/// The inputs every key of a run shares, once gathered.
struct Shared<'a> {
    root: &'a Path,
    versions: &'a Versions<'a>,
    changes: &'a ChangeSet,
    tracked: Option<&'a [String]>,
}

impl Cache {
    /// Keys every gate that may be cached, and finishes at once those with a stored pass.
    pub(crate) fn lookup(
        (store, remote): (LocalStore, Option<Remote>),
        config: &Config,
        plans: &mut [GatePlan],
        inputs: &Inputs<'_>,
    ) -> Self {
        let needs_tracked = config
            .gates
            .iter()
            .zip(plans.iter())
            .any(|(gate, plan)| reads_tracked(gate, plan));
        let tracked = if needs_tracked { (inputs.tracked)() } else { None };
        let versions = versions(config, plans);
        let shared = Shared {
            root: inputs.root,
            versions: &versions,
            changes: inputs.changes,
            tracked: tracked.as_deref(),
        };
        let partial: Vec<Option<(KeyBuilder, Vec<PathBuf>)>> = config
            .gates
            .iter()
            .zip(plans.iter())
            .map(|(gate, plan)| key(config, gate, plan, &shared))
            .collect();
        // Each file's identity once, however many gates read it: the index's blob id where
        // its stat data vouches for the file, else its content hashed.
        let mut wanted: Vec<PathBuf> = partial
            .iter()
            .flatten()
            .flat_map(|(_, files)| files.iter().cloned())
            .collect();
        wanted.sort();
        wanted.dedup();
        let ids = crate::git::blobs::blob_ids(inputs.index, inputs.root, &wanted, inputs.worktree_is_index);
        let id_of: HashMap<&Path, &str> = wanted
            .iter()
            .map(PathBuf::as_path)
            .zip(ids.iter().map(String::as_str))
            .collect();
        let keys: Vec<Option<Key>> = partial
            .into_iter()
            .map(|part| {
                let (mut builder, files) = part?;
                for file in &files {
                    builder.text("file", &file.to_string_lossy());
                    builder.text("blob", id_of.get(file.as_path()).copied().unwrap_or("missing"));
                }
                Some(builder.finish())
            })
            .collect();
        let mut hits = 0;
        for (plan, key) in plans.iter_mut().zip(&keys) {
            let Some(key) = key else { continue };
            let found = store.get(key).or_else(|| {
                let mut record = remote.as_ref()?.get(key)?;
                // Kept here too: the next run needs no network for it.
                let _ = store.put(key, &record);
                record.remote = true;
                Some(record)
            });
            if let Some(record) = found {
                plan.decision = Decision::Cached(Box::new(record));
                plan.fixing = false;
                hits += 1;
            }
        }
        Self {
            store,
            remote,
            keys,
            hits,
        }
    }

    /// Stores the passes this run found, and counts hits and misses.
    pub(crate) fn remember(&self, outcomes: &[Outcome]) {
        let mut stored = 0;
        let mut misses = 0;
        for (outcome, key) in outcomes.iter().zip(&self.keys) {
            let Some(key) = key else { continue };
            if outcome.cached {
                continue;
            }
            misses += 1;
            // Only a clean pass: a fix, a failure, an error or a check that wrote files is
            // never reused.
            if outcome.status != Status::Passed || !outcome.modified.is_empty() || !outcome.fixed.is_empty() {
                continue;
            }
            let duration_ms = u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX);
            let mut record = Record::new(
                &outcome.name,
                duration_ms,
                outcome.output.clone(),
                outcome.diagnostics.clone(),
            );
            record.summary = outcome.reason.as_ref().map(|r| r.message.clone());
            if self.store.put(key, &record).is_ok() {
                stored += 1;
            }
            if let Some(remote) = &self.remote {
                let _ = remote.put(key, &record);
            }
        }
        let remote_hits = self
            .remote
            .as_ref()
            .map_or(0, |r| r.hits.load(std::sync::atomic::Ordering::Relaxed));
        self.store.count(self.hits, remote_hits, misses, stored);
    }

    /// The remote, and why it was given up on in this run, if it was.
    pub(crate) fn remote_failure(&self) -> Option<(&str, String)> {
        let remote = self.remote.as_ref()?;
        Some((remote.shown(), remote.failure()?))
    }
}

/// The shared remote store, when one is configured (`GATE_CACHE_URL` wins over `[cache]
/// remote`); it writes only from CI unless `remote_write` says otherwise.
pub(crate) fn remote_store(
    settings: &crate::config::CacheSettings,
    printer: crate::printer::Printer,
) -> Option<crate::cache::Remote> {
    let url = crate::env::var(crate::env::GATE_CACHE_URL)
        .filter(|u| !u.is_empty())
        .or_else(|| settings.remote.clone())?;
    let write = match settings.remote_write {
        crate::config::RemoteWrite::Ci => crate::env::in_ci(),
        crate::config::RemoteWrite::Always => true,
        crate::config::RemoteWrite::Never => false,
    };
    let token = crate::env::var(crate::env::GATE_CACHE_TOKEN).filter(|t| !t.is_empty());
    match crate::cache::Remote::new(&url, token, write, settings.remote_timeout) {
        Ok(remote) => Some(remote),
        Err(why) => {
            printer.warn(format_args!("the remote cache is not used: {why}"));
            None
        }
    }
}

/// A cached pass as the gate's outcome.
pub(crate) fn outcome(gate: &Gate, files: &FileSet, record: &Record) -> Outcome {
    let mut outcome = Outcome::not_run(
        &gate.name,
        gate.kind,
        Status::Passed,
        record.summary.clone().unwrap_or_default(),
        files.matched.clone(),
    );
    if record.summary.is_none() {
        outcome.reason = None;
    }
    outcome.cached = true;
    outcome.cached_remote = record.remote;
    outcome.duration = std::time::Duration::from_millis(record.duration_ms);
    outcome.output.clone_from(&record.output);
    outcome.diagnostics.clone_from(&record.diagnostics);
    outcome.exit_code = Some(0);
    outcome
}

/// Whether keying the gate needs the list of tracked files.
fn reads_tracked(gate: &Gate, plan: &GatePlan) -> bool {
    gate.inputs.is_some()
        || match (&gate.action, &plan.decision) {
            (Action::Command { run, .. }, Decision::Run(_)) => !run.takes_files(),
            (Action::Hygiene(spec), _) => spec.check == HygieneCheck::CaseConflict,
            (Action::Audit(_), _) => true,
            _ => false,
        }
}

/// What a gate's key is made of, when it may be cached: everything but the files, and the
/// files (whose identities are gathered for all gates at once).
fn key(config: &Config, gate: &Gate, plan: &GatePlan, inputs: &Shared<'_>) -> Option<(KeyBuilder, Vec<PathBuf>)> {
    let tracked = inputs.tracked;
    let mut files: Vec<PathBuf> = Vec::new();
    if !gate.cache || !gate.depends_on.is_empty() {
        return None;
    }
    let mut builder = KeyBuilder::new();
    builder.text("kind", gate.kind.as_str());
    builder.text("workdir", &gate.workdir.to_string_lossy());
    builder.text("problem_format", &format!("{:?}", gate.problem_format));
    let mut env: Vec<_> = gate.env.iter().collect();
    env.sort();
    for (name, value) in env {
        builder.text("env", &format!("{name}={value}"));
    }
    for name in &gate.env_inputs {
        let value = crate::env::var_os(name).map_or_else(|| "<unset>".to_owned(), |v| v.to_string_lossy().into_owned());
        builder.text("env_input", &format!("{name}={value}"));
    }
    let root = inputs.root;
    match (&gate.action, &plan.decision) {
        (Action::Command { run, .. }, Decision::Run(_)) => {
            let text = format!("{run:?}");
            builder.text("run", &text);
            let program = program_identity(config, gate, run.name(), inputs.versions)?;
            builder.text("program", &program);
            if ["{base}", "{head}", "{root}"].iter().any(|p| text.contains(p)) {
                let commits = format!("{:?} {:?} {}", inputs.changes.base, inputs.changes.head, root.display());
                builder.text("placeholders", &commits);
            }
            if run.takes_files() {
                // Deleted ones too: their absence is part of the change.
                files.extend(plan.files.matched.iter().cloned());
            } else {
                files.extend(
                    tracked?
                        .iter()
                        .filter(|t| crate::select::takes(gate, Path::new(t)))
                        .map(PathBuf::from),
                );
            }
        }
        (Action::Hygiene(spec), Decision::Builtin(_)) => {
            builder.text("gate", gate_identity());
            builder.text("builtin", &format!("{:?} {}", spec.check, spec.max_kb));
            files.extend(plan.files.matched.iter().cloned());
            if spec.check == HygieneCheck::CaseConflict {
                for path in tracked? {
                    builder.text("tracked", path);
                }
            }
        }
        (Action::Secrets(spec), Decision::Builtin(job)) => {
            let crate::gates::BuiltinJob::Secrets(job) = job.as_ref() else {
                return None;
            };
            secrets_key(&mut builder, spec, job, &mut files);
        }
        (Action::Audit(spec), Decision::Builtin(_)) => {
            builder.text("gate", gate_identity());
            builder.text("audit", &format!("{:?}", spec.policy));
            files.extend(crate::audit::lockfiles(tracked?.iter().map(Path::new)));
            builder.text("database", &database_identity(&spec.db().ok()?));
        }
        _ => return None,
    }
    if let Some(globs) = &gate.inputs {
        builder.text("inputs", "");
        files.extend(
            tracked?
                .iter()
                .filter(|t| globs.is_match(t.as_str()))
                .map(PathBuf::from),
        );
    }
    Some((builder, files))
}

/// The program a gate runs: what its `version` command printed, or else the resolved
/// file's path, size and time; `None` when neither can be had (the gate is not cached).
fn program_identity(config: &Config, gate: &Gate, name: &str, versions: &Versions<'_>) -> Option<String> {
    if let Some(argv) = &gate.version {
        let printed = versions.get(&(argv.as_slice(), gate.workdir.as_path()))?;
        return Some(format!("version {}", printed.as_deref()?));
    }
    let program = config.programs.get(name, &gate.workdir)?;
    let meta = std::fs::metadata(program).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("{} {} {}", program.display(), meta.len(), modified.as_nanos()))
}

/// A secrets gate's part: its rules and what it allows, exactly the lines it scans (every
/// line, or those the change added), its files and its baseline.
fn secrets_key(
    builder: &mut KeyBuilder,
    spec: &crate::config::SecretsSpec,
    job: &crate::gates::secrets::SecretsJob,
    files: &mut Vec<PathBuf>,
) {
    builder.text("gate", gate_identity());
    let allow: Vec<&str> = spec.allow_regexes.iter().map(regex::Regex::as_str).collect();
    builder.text(
        "secrets",
        &format!("{:?} {:?} {allow:?} {:?}", spec.rules, spec.allow_paths, spec.stopwords),
    );
    let lines = job.lines.as_ref().map(|lines| {
        let mut sorted: Vec<_> = lines.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        format!("{sorted:?}")
    });
    builder.text("lines", lines.as_deref().unwrap_or("every line"));
    // What the earlier commits added: their blobs and lines (a cut history is never a pass).
    if let Some((history, _)) = &job.history {
        let added: Vec<_> = history
            .introduced
            .iter()
            .map(|a| (a.commit, &a.path, a.blob, &a.lines))
            .collect();
        builder.text("history", &format!("{added:?} {:?}", history.cut));
    }
    files.extend(job.files.iter().cloned());
    files.extend(spec.baseline.iter().cloned());
}

/// What a built-in gate's result also depends on: gate itself, which does the checking.
/// Its version, and its executable's size and time, so a rebuilt or upgraded gate (whose
/// rules may have changed) never reuses an old pass.
fn gate_identity() -> &'static str {
    static IDENTITY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    IDENTITY.get_or_init(|| {
        let exe = std::env::current_exe().and_then(std::fs::metadata);
        let file = exe.ok().and_then(|meta| {
            let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
            Some(format!("{} {}", meta.len(), modified.as_nanos()))
        });
        format!("{} {}", env!("CARGO_PKG_VERSION"), file.unwrap_or_default())
    })
}

/// What each distinct `version` command printed, by its argv and the gate's `workdir`;
/// `None` where it did not exit 0 (the gate is then not cached).
type Versions<'c> = HashMap<(&'c [String], &'c Path), Option<String>>;

/// A `version` command that has not answered by then leaves its gate uncached.
const VERSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs each distinct `version` command of the gates about to run once, all at once, in
/// the gate's folder and environment (as its own command would run).
fn versions<'c>(config: &'c Config, plans: &[GatePlan]) -> Versions<'c> {
    let mut wanted: HashMap<(&[String], &Path), Cmd> = HashMap::new();
    for (gate, plan) in config.gates.iter().zip(plans) {
        let (Some(argv), Decision::Run(cmds)) = (&gate.version, &plan.decision) else {
            continue;
        };
        let (Some(first), Some(program)) = (cmds.first(), config.programs.get(&argv[0], &gate.workdir)) else {
            continue;
        };
        wanted
            .entry((argv.as_slice(), gate.workdir.as_path()))
            .or_insert_with(|| Cmd {
                program: program.to_path_buf(),
                args: argv[1..].iter().map(OsString::from).collect(),
                cwd: first.cwd.clone(),
                env: first.env.clone(),
                env_remove: first.env_remove.clone(),
                timeout: Some(VERSION_TIMEOUT),
                file_args: 0,
            });
    }
    wanted
        .into_par_iter()
        .map(|(at, cmd)| {
            let finished = cmd.run();
            let printed =
                (finished.exit == Exit::Code(0)).then(|| String::from_utf8_lossy(&finished.output).into_owned());
            (at, printed)
        })
        .collect()
}

/// What the vulnerability database holds, by its files' names, sizes and times: a new
/// download is a new database.
fn database_identity(db: &Path) -> String {
    let mut files: Vec<String> = walk(db)
        .into_iter()
        .filter_map(|path| {
            let meta = path.metadata().ok()?;
            let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
            Some(format!("{} {} {}", path.display(), meta.len(), modified.as_nanos()))
        })
        .collect();
    files.sort();
    files.join("\n")
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}
