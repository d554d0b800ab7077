//! The plan: for each gate, whether it runs and, if so, the processes to start, with file
//! lists split into batches that fit the OS argument-length limit.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::programs::{self, Programs};
use crate::config::{Action, Config, FILES, Gate, HygieneCheck, HygieneSpec, Program};
use crate::env;
use crate::gates::BuiltinJob;
use crate::gates::audit::AuditJob;
use crate::gates::coverage::CoverageJob;
use crate::gates::hygiene::HygieneJob;
use crate::git::changes::{ChangeSet, Source};
use crate::git::history::History;
use crate::model::{ChangedLines, Problem, Stage};
use crate::run::process::Cmd;
use crate::select::FileSet;

/// What the run will do with one gate.
#[derive(Debug)]
pub(crate) enum Decision {
    Run(Vec<Cmd>),
    /// A built-in gate, run in-process on a worker thread.
    Builtin(Box<BuiltinJob>),
    Skip(String),
    /// It cannot run (e.g. its program is missing): reported as `error` without starting.
    Error(Problem),
    /// It passed before on exactly these inputs: that pass, without running.
    Cached(Box<crate::cache::Record>),
}

#[derive(Debug)]
pub(crate) struct GatePlan {
    pub(crate) decision: Decision,
    pub(crate) files: FileSet,
    /// It runs its `fix` command, which may rewrite its files.
    pub(crate) fixing: bool,
}

impl GatePlan {
    /// Whether it starts anything (a process, a built-in job) that could write files.
    pub(crate) fn starts(&self) -> bool {
        matches!(self.decision, Decision::Run(_) | Decision::Builtin(_))
    }
}

/// Who asked for what: the stage, `--gate` and `GATE_SKIP`, and whether fixers run.
pub(crate) struct Asked<'a> {
    pub(crate) stage: Option<Stage>,
    /// Gates named with `--gate`; empty for all. Their dependencies run too.
    pub(crate) only: &'a [String],
    pub(crate) skip: &'a [String],
    /// Gates with a `fix` command run it instead of `run`.
    pub(crate) fix: bool,
}

/// What planning needs of the repository: where it is, and its tracked paths, listed only
/// if a built-in gate runs.
pub(crate) struct Tree<'a> {
    pub(crate) root: &'a Path,
    pub(crate) tracked: &'a dyn Fn() -> anyhow::Result<Vec<String>>,
    /// The lines the change added to these files (for the secrets gate).
    pub(crate) lines: &'a dyn Fn(&[&str]) -> anyhow::Result<ChangedLines>,
    /// What a range's earlier commits added to the files a gate takes (for the secrets
    /// gate), and the git directory holding them.
    pub(crate) history: &'a HistoryOf<'a>,
}

pub(crate) type HistoryOf<'a> = dyn Fn(&dyn Fn(&Path) -> bool) -> anyhow::Result<(History, PathBuf)> + 'a;

pub(crate) fn plan(
    config: &Config,
    tree: &Tree<'_>,
    changes: &ChangeSet,
    file_sets: Vec<FileSet>,
    asked: &Asked<'_>,
) -> Vec<GatePlan> {
    let root = tree.root;
    let wanted = wanted_gates(config, asked.only);
    // What built-in gates read of the repository, gathered once and only if one runs.
    let tracked_cache = std::cell::OnceCell::new();
    let planner = Planner {
        root,
        placeholders: Placeholders::new(root, changes),
        default_timeout: config.settings.timeout,
        budget: argument_budget(),
        programs: &config.programs,
    };
    config
        .gates
        .iter()
        .zip(file_sets)
        .zip(wanted)
        .map(|((gate, files), wanted)| {
            let tracked = || {
                tracked_cache.get_or_init(|| {
                    (tree.tracked)()
                        .map_err(|err| Problem::from_error(&err.context("failed to list the tracked files")))
                })
            };
            // A range's earlier commits can hold a secret that no file of its tip shows (read
            // only for a gate that runs here).
            let runs = wanted && gate.runs_in(asked.stage) && !asked.skip.iter().any(|name| name == &gate.name);
            let history = match &gate.action {
                Action::Secrets(_) if runs && matches!(changes.source, Source::Base | Source::Push) => Some((tree
                    .history)(
                    &|path| !config.settings.exclude.is_match(path) && crate::select::takes(gate, path),
                )),
                _ => None,
            };
            let more = history
                .as_ref()
                .is_some_and(|h| h.as_ref().map_or(true, |(h, _)| !h.is_empty()));
            let (decision, fixing) = match (skip_reason(gate, &files, more, wanted, asked), &gate.action) {
                (Some(reason), _) => (Decision::Skip(reason), false),
                (None, Action::Command { run, fix }) => {
                    let fix = fix.as_ref().filter(|_| asked.fix);
                    let command = fix.unwrap_or(run);
                    if command.takes_files() && files.args.is_empty() && !gate.always {
                        // Links are left out of `{files}` (see `select`): say so when they were all.
                        let links = changes
                            .files
                            .iter()
                            .filter(|f| f.link && f.exists())
                            .any(|f| files.matched.contains(&f.path));
                        let what = if links { "symbolic links" } else { "deleted files" };
                        (Decision::Skip(format!("only {what} matched")), false)
                    } else {
                        let decision = planner.commands(gate, command, &files);
                        let fixing = fix.is_some() && matches!(decision, Decision::Run(_));
                        (decision, fixing)
                    }
                }
                (None, Action::Coverage(spec)) => match tracked() {
                    Err(message) => (Decision::Error(message.clone()), false),
                    Ok(tracked) => (
                        Decision::Builtin(Box::new(BuiltinJob::Coverage(CoverageJob {
                            spec: spec.clone(),
                            root: root.to_path_buf(),
                            tracked: tracked.clone(),
                            workdir: gate.workdir.clone(),
                            changes: changes.clone(),
                        }))),
                        false,
                    ),
                },
                (None, Action::Audit(spec)) => match tracked() {
                    Err(message) => (Decision::Error(message.clone()), false),
                    Ok(tracked) => (
                        Decision::Builtin(Box::new(BuiltinJob::Audit(AuditJob {
                            spec: spec.clone(),
                            root: root.to_path_buf(),
                            lockfiles: crate::audit::lockfiles(tracked.iter().map(Path::new)),
                            changes: changes.clone(),
                        }))),
                        false,
                    ),
                },
                (None, Action::Hygiene(spec)) => planner.hygiene(*spec, gate, &files, asked.fix, &tracked),
                (None, Action::Secrets(spec)) => (secrets(spec, tree, changes, &files, history), false),
            };
            GatePlan {
                decision,
                files,
                fixing,
            }
        })
        .collect()
}

/// Why a gate does not run at all, if it does not. `more`: it has something to check
/// besides its files.
fn skip_reason(gate: &Gate, files: &FileSet, more: bool, wanted: bool, asked: &Asked<'_>) -> Option<String> {
    if !wanted {
        Some("not selected with `--gate`".to_owned())
    } else if asked.skip.iter().any(|name| name == &gate.name) {
        Some("skipped by `GATE_SKIP`".to_owned())
    } else if !gate.runs_in(asked.stage) {
        Some(match asked.stage {
            Some(stage) => format!("not in stage `{stage}`"),
            None => "runs only in its stages".to_owned(),
        })
    } else if files.matched.is_empty() && !gate.always && !more {
        Some("no matching files".to_owned())
    } else {
        None
    }
}

/// `--gate` selection closed over `depends_on`.
fn wanted_gates(config: &Config, only: &[String]) -> Vec<bool> {
    if only.is_empty() {
        return vec![true; config.gates.len()];
    }
    let mut wanted: Vec<bool> = config.gates.iter().map(|g| only.contains(&g.name)).collect();
    let mut stack: Vec<usize> = (0..wanted.len()).filter(|&i| wanted[i]).collect();
    while let Some(at) = stack.pop() {
        for &dependency in &config.gates[at].depends_on {
            if !wanted[dependency] {
                wanted[dependency] = true;
                stack.push(dependency);
            }
        }
    }
    wanted
}

struct Placeholders {
    root: String,
    base: String,
    head: String,
}

impl Placeholders {
    fn new(root: &Path, changes: &ChangeSet) -> Self {
        Self {
            root: root.to_string_lossy().into_owned(),
            base: changes.base.map(|oid| oid.to_string()).unwrap_or_default(),
            head: changes.head.map(|oid| oid.to_string()).unwrap_or_default(),
        }
    }

    fn expand(&self, arg: &str) -> String {
        arg.replace("{root}", &self.root)
            .replace("{base}", &self.base)
            .replace("{head}", &self.head)
    }

    /// What every process of `gate` gets in its environment: the placeholders' values,
    /// colour when gate's own output has it, and the gate's `env`.
    fn environment(&self, gate: &Gate) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> = vec![
            ("GATE_ROOT".into(), self.root.clone().into()),
            ("GATE_BASE".into(), self.base.clone().into()),
            ("GATE_HEAD".into(), self.head.clone().into()),
            ("GATE_NAME".into(), gate.name.clone().into()),
        ];
        // Tools keep their colours when gate's own output is a colour terminal (captured
        // colour is stripped for reports); `color = false` turns this off per gate.
        if gate.color && console::colors_enabled() {
            env.push(("FORCE_COLOR".into(), "1".into()));
            env.push(("CLICOLOR_FORCE".into(), "1".into()));
        }
        env.extend(gate.env.iter().map(|(k, v)| (k.into(), v.into())));
        env
    }

    /// In a shell script, values go through the environment, never into the script text.
    fn expand_for_shell(script: &str) -> String {
        script
            .replace(FILES, "\"$@\"")
            .replace("{root}", "\"$GATE_ROOT\"")
            .replace("{base}", "\"$GATE_BASE\"")
            .replace("{head}", "\"$GATE_HEAD\"")
    }
}

/// The secrets gate's job: the matched files that exist, and the lines the change added
/// to them (every line when the change set is every file, or files named by hand), and what
/// a range's earlier commits added.
fn secrets(
    spec: &crate::config::SecretsSpec,
    tree: &Tree<'_>,
    changes: &ChangeSet,
    files: &FileSet,
    history: Option<anyhow::Result<(History, PathBuf)>>,
) -> Decision {
    let history = match history {
        Some(Err(err)) => {
            return Decision::Error(Problem::from_error(
                &err.context("failed to read the commits of the range"),
            ));
        }
        Some(Ok((history, git_dir))) if !history.is_empty() => Some((history, git_dir)),
        _ => None,
    };
    let existing: Vec<PathBuf> = files
        .matched
        .iter()
        .filter(|p| tree.root.join(p).symlink_metadata().is_ok())
        .cloned()
        .collect();
    if existing.is_empty() && history.is_none() {
        return Decision::Skip("only deleted files matched".to_owned());
    }
    let lines = if matches!(changes.source, Source::All | Source::Files) {
        None
    } else {
        let paths: Vec<String> = existing.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        match (tree.lines)(&paths) {
            Ok(lines) => Some(lines),
            Err(err) => return Decision::Error(Problem::from_error(&err.context("failed to read the added lines"))),
        }
    };
    Decision::Builtin(Box::new(BuiltinJob::Secrets(crate::gates::secrets::SecretsJob {
        spec: spec.clone(),
        root: tree.root.to_path_buf(),
        files: existing,
        lines,
        history,
    })))
}

/// The directory of `workdir` (relative to `root`) that is a symbolic link now, when the
/// workdir then lies outside the repository: a tool run there would run wherever the link
/// points. A link to another directory of the repository is fine.
fn linked_prefix(root: &Path, workdir: &Path) -> Option<PathBuf> {
    let mut prefix = PathBuf::new();
    for part in workdir.components() {
        prefix.push(part);
        if std::fs::symlink_metadata(root.join(&prefix)).is_ok_and(|m| m.file_type().is_symlink()) {
            let inside = match (root.join(workdir).canonicalize(), root.canonicalize()) {
                (Ok(real), Ok(root)) => real.starts_with(root),
                _ => false,
            };
            return (!inside).then_some(prefix);
        }
    }
    None
}

/// What every gate's commands are built from.
struct Planner<'a> {
    root: &'a Path,
    placeholders: Placeholders,
    default_timeout: Option<Duration>,
    budget: usize,
    programs: &'a Programs,
}

impl Planner<'_> {
    /// A hygiene gate's job over the matched files that exist, and whether it fixes.
    fn hygiene<'t>(
        &self,
        spec: HygieneSpec,
        gate: &Gate,
        files: &FileSet,
        fix: bool,
        tracked: &dyn Fn() -> &'t Result<Vec<String>, Problem>,
    ) -> (Decision, bool) {
        let existing: Vec<PathBuf> = files
            .matched
            .iter()
            .filter(|path| self.root.join(path).symlink_metadata().is_ok())
            .cloned()
            .collect();
        if existing.is_empty() && !gate.always {
            return (Decision::Skip("only deleted files matched".to_owned()), false);
        }
        let tracked = if spec.check == HygieneCheck::CaseConflict {
            match tracked() {
                Ok(tracked) => tracked.clone(),
                Err(problem) => return (Decision::Error(problem.clone()), false),
            }
        } else {
            Vec::new()
        };
        let fixing = fix && spec.check.fixes();
        let job = HygieneJob {
            check: spec.check,
            root: self.root.to_path_buf(),
            files: existing,
            fix: fixing,
            max_kb: spec.max_kb,
            tracked,
        };
        (Decision::Builtin(Box::new(BuiltinJob::Hygiene(job))), fixing)
    }

    /// The processes that run `command` of `gate` over its files.
    fn commands(&self, gate: &Gate, command: &Program, files: &FileSet) -> Decision {
        let (root, placeholders, budget) = (self.root, &self.placeholders, self.budget);
        if let Some(link) = linked_prefix(root, &gate.workdir) {
            return Decision::Error(Problem::hinted(
                format!(
                    "`workdir` of gate `{}` lies through `{}`, a symbolic link out of the repository: gate runs tools only inside it",
                    gate.name,
                    link.display()
                ),
                "point `workdir` at the directory itself",
            ));
        }
        let cwd = root.join(&gate.workdir);
        let colour = gate
            .color_flag
            .as_ref()
            .filter(|_| gate.color && console::colors_enabled());
        let template: Vec<String> = match command {
            Program::Argv(argv) => colour
                .into_iter()
                .cloned()
                .chain(argv[1..].iter().map(|a| placeholders.expand(a)))
                .collect(),
            Program::Shell(script) => vec![
                "-c".to_owned(),
                Placeholders::expand_for_shell(script),
                format!("gate:{}", gate.name),
            ],
        };
        let program_name = command.name();
        let Some(program) = self.programs.get(program_name, &gate.workdir).map(Path::to_path_buf) else {
            return Decision::Error(Problem::hinted(
                format!("`{program_name}` not found: it {}", programs::searched(program_name)),
                format!("install it, or fix `run` of gate `{}`", gate.name),
            ));
        };
        let env = placeholders.environment(gate);
        let env_remove: Vec<OsString> = env::WITHHELD
            .iter()
            .filter(|name| !gate.pass_env.iter().any(|p| p == *name))
            .map(OsString::from)
            .collect();
        let timeout = gate.timeout.or(self.default_timeout);
        let make = |args: Vec<OsString>, file_args: usize| Cmd {
            program: program.clone(),
            args,
            cwd: cwd.clone(),
            env: env.clone(),
            env_remove: env_remove.clone(),
            timeout,
            file_args,
        };
        if !command.takes_files() {
            return Decision::Run(vec![make(template.into_iter().map(OsString::from).collect(), 0)]);
        }
        let fixed_cost: usize = template.iter().map(|a| arg_cost(a.len())).sum::<usize>()
            + arg_cost(program.as_os_str().len())
            + env.iter().map(|(k, v)| arg_cost(k.len() + v.len() + 1)).sum::<usize>();
        let space = budget.saturating_sub(fixed_cost).max(1);
        let batches = split(&files.args, space);
        Decision::Run(
            batches
                .into_iter()
                .map(|batch| {
                    let (args, count) = with_files(command, &template, batch);
                    make(args, count)
                })
                .collect(),
        )
    }
}

/// One batch's arguments: the template with `{files}` replaced by the batch (for a shell
/// script, the files follow it as `$@`), and how many of them are files.
fn with_files(command: &Program, template: &[String], batch: &[PathBuf]) -> (Vec<OsString>, usize) {
    let mut args = Vec::with_capacity(template.len() + batch.len());
    let mut count = 0;
    for arg in template {
        if matches!(command, Program::Argv(_)) && arg == FILES {
            args.extend(batch.iter().map(|p| file_arg(p)));
            count = batch.len();
        } else {
            args.push(OsString::from(arg));
        }
    }
    if matches!(command, Program::Shell(_)) {
        args.extend(batch.iter().map(|p| file_arg(p)));
        count = batch.len();
    }
    (args, count)
}

/// A file argument; a name starting with `-` gets `./` so that no tool reads it as an option.
fn file_arg(path: &Path) -> OsString {
    if starts_like_an_option(path) {
        Path::new(".").join(path).into_os_string()
    } else {
        path.as_os_str().to_owned()
    }
}

fn starts_like_an_option(path: &Path) -> bool {
    path.as_os_str().as_bytes().starts_with(b"-")
}

/// The length of [`file_arg`]'s result, without making it.
fn file_arg_len(path: &Path) -> usize {
    path.as_os_str().len() + if starts_like_an_option(path) { 2 } else { 0 }
}

/// What an argument costs in the kernel's argument space: its bytes, a NUL and a pointer.
fn arg_cost(len: usize) -> usize {
    len + 1 + std::mem::size_of::<usize>()
}

/// Splits files into consecutive batches whose arguments each cost at most `room`.
fn split(files: &[PathBuf], room: usize) -> Vec<&[PathBuf]> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (i, file) in files.iter().enumerate() {
        let cost = arg_cost(file_arg_len(file));
        if i > start && used + cost > room {
            batches.push(&files[start..i]);
            start = i;
            used = 0;
        }
        used += cost;
    }
    if start < files.len() {
        batches.push(&files[start..]);
    }
    batches
}

/// Bytes available for a child's arguments: the measured `ARG_MAX`, less what our own
/// environment takes, less headroom for what the child's loader and gate's variables add.
fn argument_budget() -> usize {
    // SAFETY: sysconf has no preconditions.
    let arg_max = unsafe { libc::sysconf(libc::_SC_ARG_MAX) };
    let arg_max = if arg_max > 0 { arg_max as usize } else { 128 * 1024 };
    arg_max
        .saturating_sub(env::size_in_bytes())
        .saturating_sub(8 * 1024)
        .max(4 * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_stay_below_the_budget_and_keep_every_file_in_order() {
        let files: Vec<PathBuf> = (0..1000)
            .map(|i| {
                PathBuf::from(if i % 7 == 0 {
                    format!("-{i:04}.py")
                } else {
                    format!("dir/file-{i:04}.py")
                })
            })
            .collect();
        let room = 2000;
        let batches = split(&files, room);
        assert!(batches.len() > 1);
        for batch in &batches {
            // What the arguments really cost, `./` before a leading dash included.
            assert!(batch.iter().map(|f| arg_cost(file_arg(f).len())).sum::<usize>() <= room);
        }
        let joined: Vec<&PathBuf> = batches.iter().flat_map(|b| b.iter()).collect();
        assert_eq!(joined, files.iter().collect::<Vec<_>>());
    }

    #[test]
    fn an_oversized_file_gets_a_batch_of_its_own() {
        let files = vec![PathBuf::from("a".repeat(50)), PathBuf::from("b")];
        assert_eq!(split(&files, 10).len(), 2);
    }

    /// Planning needs no repository: a folder, a config and a change set will do.
    #[test]
    fn plans_from_plain_data() {
        use crate::git::changes::{ChangedFile, FileStatus, Source};
        let dir = tempfile::tempdir().unwrap();
        let text = "[gates.lint]\nkind = \"lint\"\nrun = [\"no-such-tool-anywhere\", \"{files}\"]\n\
                    [gates.types]\nkind = \"lint\"\nrun = [\"sh\", \"-c\", \"true\"]\nfiles = [\"*.rs\"]\n\
                    [gates.cov]\nkind = \"coverage\"\nreport = \"lcov.info\"\nfiles = [\"*.py\"]\n";
        let config = crate::config::parse(text, Path::new("gates.toml"), dir.path()).unwrap();
        let changes = ChangeSet {
            source: Source::Files,
            base: None,
            head: None,
            files: vec![ChangedFile {
                path: "a.py".into(),
                status: FileStatus::Modified,
                from: None,
                link: false,
            }],
        };
        let file_sets = crate::select::select(&config, &changes);
        let tracked = || anyhow::bail!("the index is locked");
        let lines = |_: &[&str]| Ok(ChangedLines::new());
        let history = |_: &dyn Fn(&Path) -> bool| Ok((History::default(), PathBuf::new()));
        let tree = Tree {
            root: dir.path(),
            tracked: &tracked,
            lines: &lines,
            history: &history,
        };
        let asked = Asked {
            stage: Some(Stage::Manual),
            only: &[],
            skip: &[],
            fix: false,
        };
        let plans = plan(&config, &tree, &changes, file_sets, &asked);
        let Decision::Error(missing) = &plans[0].decision else {
            panic!("{:?}", plans[0].decision)
        };
        assert!(
            missing.message.starts_with("`no-such-tool-anywhere` not found"),
            "{missing}"
        );
        assert_eq!(missing.hint.as_deref(), Some("install it, or fix `run` of gate `lint`"));
        assert!(
            matches!(&plans[1].decision, Decision::Skip(_)),
            "{:?}",
            plans[1].decision
        );
        let Decision::Error(unlisted) = &plans[2].decision else {
            panic!("{:?}", plans[2].decision)
        };
        assert_eq!(
            unlisted.message,
            "failed to list the tracked files: the index is locked"
        );
    }

    #[test]
    fn dash_leading_names_are_not_options() {
        assert_eq!(file_arg(Path::new("-rf.py")), OsString::from("./-rf.py"));
        assert_eq!(file_arg(Path::new("a/-x.py")), OsString::from("a/-x.py"));
    }
}
