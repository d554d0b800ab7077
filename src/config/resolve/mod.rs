//! Raw configuration to a checked [`Config`]: commands split, globs compiled, `depends_on`
//! resolved to indices and checked for cycles. Errors carry the span they point at.
//!
//! - `builtin`: the settings of built-in gates (coverage, audit) and their checks.

use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use globset::{GlobSet, GlobSetBuilder};
use regex::Regex;
use toml::Spanned;

mod builtin;

use super::presets;
use super::programs::Programs;
use super::raw::{self, CommandLine, OnFix, OneOrMany, Pattern, RawConfig, RawGate, RemoteWrite};
use super::specs::{AuditSpec, CoverageSpec, HygieneCheck, HygieneSpec, ProblemFormat, SecretsSpec, lockfile_patterns};
use crate::model::{Kind, Problem, Stage};

type Failure = (Range<usize>, Problem);

#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) settings: Settings,
    /// In the order of the file: reports list gates in this order.
    pub(crate) gates: Vec<Gate>,
    /// Where each gate's `run` and `fix` programs are.
    pub(crate) programs: Programs,
}

#[derive(Debug, Default)]
pub(crate) struct Settings {
    /// `None`: two more than the CPUs.
    pub(crate) jobs: Option<usize>,
    pub(crate) fail_fast: bool,
    pub(crate) base: Option<String>,
    pub(crate) exclude: GlobSet,
    pub(crate) timeout: Option<Duration>,
    /// Commit status contexts are `<prefix><gate>` (default `gate/`).
    pub(crate) status_prefix: String,
    /// More environment variables whose values are masked in what gate relays.
    pub(crate) mask_env: Vec<String>,
    pub(crate) cache: CacheSettings,
}

/// `[cache]`.
#[derive(Debug, Clone)]
pub(crate) struct CacheSettings {
    pub(crate) enabled: bool,
    pub(crate) max_bytes: u64,
    pub(crate) remote: Option<String>,
    pub(crate) remote_write: RemoteWrite,
    pub(crate) remote_timeout: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            max_bytes: 500 << 20,
            remote: None,
            remote_write: RemoteWrite::Ci,
            remote_timeout: Duration::from_millis(800),
        }
    }
}

/// What a gate runs: an argv run directly, or a script for `sh -c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Program {
    Argv(Vec<String>),
    Shell(String),
}

/// What a gate does: a command (with the fixer that may rewrite its files), or the work of
/// a built-in gate. One of them, never a command and a built-in at once.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Command { run: Program, fix: Option<Program> },
    Coverage(CoverageSpec),
    Audit(AuditSpec),
    Hygiene(HygieneSpec),
    Secrets(SecretsSpec),
}

pub(crate) const FILES: &str = "{files}";

impl Program {
    /// The program that runs: the first word, or the shell.
    pub(crate) fn name(&self) -> &str {
        match self {
            Program::Argv(argv) => &argv[0],
            Program::Shell(_) => "sh",
        }
    }

    /// Whether the command takes the matching files (and so runs once per batch).
    pub(crate) fn takes_files(&self) -> bool {
        match self {
            Program::Argv(argv) => argv.iter().any(|arg| arg == FILES),
            Program::Shell(script) => script.contains(FILES),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Gate {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// Its command and fixer (the fixer runs in the pre-commit hook and with `--fix`), or
    /// its built-in work.
    pub(crate) action: Action,
    pub(crate) on_fix: OnFix,
    /// `None`: every file matches.
    pub(crate) files: Option<GlobSet>,
    pub(crate) exclude: GlobSet,
    /// A file's repository-relative path must match every one of these.
    pub(crate) files_regex: Vec<Regex>,
    /// A path matching any of these is left out.
    pub(crate) exclude_regex: Vec<Regex>,
    /// Relative to the repository root; empty for the root itself.
    pub(crate) workdir: PathBuf,
    /// What decides the files it takes (`workdir`, `files`, `exclude`, the regexes), as
    /// text: gates with equal selectors take the same files, so a run matches them once.
    pub(crate) selector: String,
    /// Indices into [`Config::gates`].
    pub(crate) depends_on: Vec<usize>,
    /// `None`: every stage.
    pub(crate) stages: Option<Vec<Stage>>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) env: Vec<(String, String)>,
    /// Withheld variables this gate's processes may see.
    pub(crate) pass_env: Vec<String>,
    /// Whether a pass may be reused on the same inputs.
    pub(crate) cache: bool,
    /// Tracked files, beside those the gate reads, that its result depends on.
    pub(crate) inputs: Option<GlobSet>,
    /// Environment variables its result depends on.
    pub(crate) env_inputs: Vec<String>,
    /// The argv of a command whose output names the tool's version (cache key).
    pub(crate) version: Option<Vec<String>>,
    /// The tool's own colour flag (from its preset), used with `color`.
    pub(crate) color_flag: Option<String>,
    /// Tell the tool to keep its colours (`FORCE_COLOR`) when gate's output has colour.
    pub(crate) color: bool,
    pub(crate) always: bool,
    pub(crate) problem_format: Option<ProblemFormat>,
}

impl Gate {
    /// `None`: a hook that is no stage, where only gates that name no stage run.
    pub(crate) fn runs_in(&self, stage: Option<Stage>) -> bool {
        match (&self.stages, stage) {
            (None, _) => true,
            (Some(stages), Some(stage)) => stages.contains(&stage),
            (Some(_), None) => false,
        }
    }
}

pub(super) fn resolve(raw: RawConfig, root: &Path) -> Result<Config, Failure> {
    let default_on_fix = raw.settings.on_fix.unwrap_or_default();
    let settings = Settings {
        jobs: raw.settings.jobs.filter(|&jobs| jobs > 0),
        fail_fast: raw.settings.fail_fast.unwrap_or(false),
        base: raw.settings.base,
        exclude: glob_set(&raw.settings.exclude)?,
        timeout: raw.settings.timeout.as_ref().map(timeout).transpose()?,
        status_prefix: raw.settings.status_prefix.unwrap_or_else(|| "gate/".to_owned()),
        mask_env: raw.settings.mask_env,
        cache: CacheSettings {
            enabled: raw.cache.enabled.unwrap_or(true),
            max_bytes: match &raw.cache.max_mb {
                Some(mb) if *mb.get_ref() == 0 => {
                    return Err((
                        mb.span(),
                        Problem::hinted(
                            "`max_mb` must be more than 0",
                            "turn the cache off with `enabled = false`",
                        ),
                    ));
                }
                Some(mb) => mb.get_ref().saturating_mul(1 << 20),
                None => CacheSettings::default().max_bytes,
            },
            remote: raw.cache.remote.as_ref().map(|r| r.get_ref().clone()),
            remote_write: raw.cache.remote_write.unwrap_or_default(),
            remote_timeout: match &raw.cache.remote_timeout {
                Some(text) => timeout(text)?,
                None => CacheSettings::default().remote_timeout,
            },
        },
    };
    let names: Vec<String> = raw.gates.keys().map(|name| name.get_ref().clone()).collect();
    let mut gates = Vec::with_capacity(raw.gates.len());
    let mut dependency_spans = Vec::with_capacity(raw.gates.len());
    for (name, gate) in raw.gates {
        let (gate, spans) = resolve_gate(&name, gate, &names, root, default_on_fix)?;
        gates.push(gate);
        dependency_spans.push(spans);
    }
    check_cycles(&gates, &dependency_spans)?;
    if gates.is_empty() {
        return Err((
            0..0,
            Problem::hinted(
                "there are no gates in it",
                "add one, e.g. `[gates.lint]` with `kind = \"lint\"` and `run = [\"ruff\", \"check\", \"--no-fix\", \"{files}\"]` (see `gates.toml.example`), or run `gate init`",
            ),
        ));
    }
    let mut programs = Programs::default();
    for gate in &gates {
        if let Action::Command { run, fix } = &gate.action {
            for program in std::iter::once(run).chain(fix) {
                programs.add(program.name(), &gate.workdir, root);
            }
            if let Some(version) = &gate.version {
                programs.add(&version[0], &gate.workdir, root);
            }
        }
    }
    Ok(Config {
        settings,
        gates,
        programs,
    })
}

/// What every gate needs whatever it does: a usable name, a kind, and `env` names that a
/// variable can have.
fn check_basics(name: &Spanned<String>, raw: &RawGate, gate_span: &Range<usize>) -> Result<(), Failure> {
    if raw.kind.is_none() {
        return Err((
            gate_span.clone(),
            Problem::hinted(
                format!("gate `{}` has no `kind`", name.get_ref()),
                "add `kind = \"lint\"` (format, lint, typecheck, test, custom, coverage, audit, builtin), or a `preset` (`gate presets` lists them)",
            ),
        ));
    }
    if name.get_ref().is_empty() || name.get_ref().contains(',') || name.get_ref().contains(char::is_control) {
        return Err((
            name.span(),
            Problem::hinted(
                "a gate name must be non-empty and contain no `,` and no control character",
                "`GATE_SKIP` separates names with commas",
            ),
        ));
    }
    if let Some(bad) = raw.env.keys().find(|k| k.is_empty() || k.contains(['=', '\0'])) {
        return Err((
            gate_span.clone(),
            Problem::hinted(
                format!(
                    "`env` of gate `{}` has the name `{bad}`, which no environment variable can have",
                    name.get_ref()
                ),
                "a name is not empty and holds no `=`",
            ),
        ));
    }
    Ok(())
}

fn resolve_gate(
    name: &Spanned<String>,
    gate: Spanned<RawGate>,
    names: &[String],
    root: &Path,
    default_on_fix: OnFix,
) -> Result<(Gate, Vec<Range<usize>>), Failure> {
    let gate_span = gate.span();
    let mut raw = gate.into_inner();
    if let Some(name) = raw.preset.clone() {
        apply_preset(&mut raw, &name)?;
    }
    check_basics(name, &raw, &gate_span)?;
    let action = action(name, &raw, gate_span.clone(), root)?;
    let workdir = match &raw.workdir {
        Some(dir) => workdir(dir, root)?,
        None => PathBuf::new(),
    };
    let (depends_on, spans) = dependencies(name, &raw, names)?;
    let problem_format = raw
        .problem_format
        .as_ref()
        .map(|format| ProblemFormat::parse(format.get_ref()).map_err(|message| (format.span(), message)))
        .transpose()?;
    let files = match (&raw.files, raw.kind()) {
        (Some(files), _) => Some(glob_set(files)?),
        // An audit gate runs when a lockfile changed.
        (None, Kind::Audit) => Some(set_of(lockfile_patterns(), 0..0)?),
        (None, Kind::Builtin) => match &action {
            Action::Hygiene(spec) if !spec.check.default_files().is_empty() => {
                let patterns = spec.check.default_files().iter().filter_map(|p| Pattern::new(p).ok());
                Some(set_of(patterns.collect(), 0..0)?)
            }
            _ => None,
        },
        (None, _) => None,
    };
    let selector = selector(&workdir, &raw, &action);
    let gate = Gate {
        name: name.get_ref().clone(),
        kind: raw.kind(),
        action,
        on_fix: raw.on_fix.unwrap_or(default_on_fix),
        files,
        exclude: glob_set(&raw.exclude)?,
        files_regex: regexes(raw.files_regex.as_ref())?,
        exclude_regex: regexes(raw.exclude_regex.as_ref())?,
        workdir,
        selector,
        depends_on,
        stages: raw.stages,
        timeout: raw.timeout.as_ref().map(timeout).transpose()?,
        env: raw.env.into_iter().collect(),
        pass_env: raw.pass_env,
        color: raw.color.unwrap_or(true),
        color_flag: raw.color_flag,
        cache: raw.cache.unwrap_or(true),
        inputs: if raw.inputs.is_empty() {
            None
        } else {
            Some(glob_set(&raw.inputs)?)
        },
        env_inputs: raw.env_inputs,
        version: raw.version.as_ref().map(version).transpose()?,
        always: raw.always,
        problem_format,
    };
    Ok((gate, spans))
}

/// Everything [`Gate::selector`] stands for, as text (a kind's default `files` by the kind).
fn selector(workdir: &Path, raw: &RawGate, action: &Action) -> String {
    fn patterns(list: &[Spanned<String>]) -> Vec<&str> {
        list.iter().map(|p| p.get_ref().as_str()).collect()
    }
    let files = match (&raw.files, action) {
        (Some(files), _) => format!("{:?}", patterns(files)),
        (None, Action::Hygiene(spec)) => format!("{:?} default {:?}", raw.kind(), spec.check.default_files()),
        (None, _) => format!("{:?} default", raw.kind()),
    };
    let regexes = |list: Option<&Spanned<OneOrMany>>| list.map(|r| format!("{:?}", r.get_ref())).unwrap_or_default();
    format!(
        "{:?}\n{files}\n{:?}\n{}\n{}",
        workdir.as_os_str().as_encoded_bytes(),
        patterns(&raw.exclude),
        regexes(raw.files_regex.as_ref()),
        regexes(raw.exclude_regex.as_ref())
    )
}

/// A gate's command and fixer, or its built-in work: one of them.
/// Fills the keys the gate does not set from its preset.
fn apply_preset(raw: &mut RawGate, name: &Spanned<String>) -> Result<(), Failure> {
    let span = name.span();
    if let Some(check) = HygieneCheck::from_name(name.get_ref()) {
        raw.kind.get_or_insert(Kind::Builtin);
        raw.builtin
            .get_or_insert_with(|| Spanned::new(span, check.name().to_owned()));
        return Ok(());
    }
    let Some(preset) = presets::find(name.get_ref()) else {
        let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
        return Err((
            span,
            Problem::hinted(
                format!("unknown preset `{}`", name.get_ref()),
                format!(
                    "the presets are {}, and the hygiene checks; `gate presets` shows what each runs",
                    names.join(", ")
                ),
            ),
        ));
    };
    let command = |command: presets::Command| match command {
        presets::Command::Argv(argv) => CommandLine::Argv(argv.iter().map(|&a| a.to_owned()).collect()),
        presets::Command::Shell(script) => CommandLine::Line(script.to_owned()),
    };
    raw.kind.get_or_insert(preset.kind);
    if raw.run.is_none() {
        raw.run = Some(Spanned::new(span.clone(), command(preset.run)));
        raw.color_flag = preset.color.map(str::to_owned);
        raw.shell |= matches!(preset.run, presets::Command::Shell(_));
    }
    if raw.fix.is_none() {
        raw.fix = preset.fix.map(|fix| Spanned::new(span.clone(), command(fix)));
    }
    if raw.files.is_none() {
        raw.files = Some(
            preset
                .files
                .iter()
                .map(|f| Spanned::new(span.clone(), (*f).to_owned()))
                .collect(),
        );
    }
    if raw.problem_format.is_none() {
        raw.problem_format = preset.problem_format.map(|f| Spanned::new(span.clone(), f.to_owned()));
    }
    // Added to the gate's own: a gate that names more inputs still depends on the tool's
    // configuration.
    raw.inputs.extend(
        preset
            .inputs
            .iter()
            .map(|i| Spanned::new(span.clone(), (*i).to_owned())),
    );
    Ok(())
}

fn action(name: &Spanned<String>, raw: &RawGate, gate_span: Range<usize>, root: &Path) -> Result<Action, Failure> {
    Ok(
        match (
            builtin::builtin(name.get_ref(), raw, gate_span.clone(), root)?,
            &raw.run,
        ) {
            (Some(_), Some(run)) => {
                return Err((
                    run.span(),
                    Problem::hinted(
                        format!("a `{}` gate is built in and takes no `run`", raw.kind().as_str()),
                        "remove `run`, and make the gate `depends_on` the one that writes its input",
                    ),
                ));
            }
            (Some(action), None) => {
                if let Some(fix) = &raw.fix {
                    return Err((
                        fix.span(),
                        format!("a `{}` gate is built in and takes no `fix`", raw.kind().as_str()).into(),
                    ));
                }
                action
            }
            (None, Some(run)) => Action::Command {
                run: program(run, raw.shell)?,
                fix: raw.fix.as_ref().map(|fix| program(fix, raw.shell)).transpose()?,
            },
            (None, None) => {
                return Err((
                    gate_span,
                    Problem::hinted(
                        format!("gate `{}` has no `run` command", name.get_ref()),
                        "add e.g. `run = [\"ruff\", \"check\", \"{files}\"]`",
                    ),
                ));
            }
        },
    )
}

/// `depends_on` as gate indices, with the span of each entry: every name a gate, once.
fn dependencies(
    name: &Spanned<String>,
    raw: &RawGate,
    names: &[String],
) -> Result<(Vec<usize>, Vec<Range<usize>>), Failure> {
    let mut depends_on = Vec::with_capacity(raw.depends_on.len());
    let mut spans = Vec::with_capacity(raw.depends_on.len());
    for dependency in &raw.depends_on {
        let Some(index) = names.iter().position(|n| n == dependency.get_ref()) else {
            return Err((
                dependency.span(),
                Problem::hinted(
                    format!(
                        "gate `{}` depends on `{}`, which is not a gate",
                        name.get_ref(),
                        dependency.get_ref()
                    ),
                    format!(
                        "the gates are {}",
                        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                    ),
                ),
            ));
        };
        if depends_on.contains(&index) {
            return Err((
                dependency.span(),
                Problem::hinted(
                    format!(
                        "gate `{}` names `{}` twice in `depends_on`",
                        name.get_ref(),
                        dependency.get_ref()
                    ),
                    "name each gate once",
                ),
            ));
        }
        depends_on.push(index);
        spans.push(dependency.span());
    }
    Ok((depends_on, spans))
}

fn program(command: &Spanned<CommandLine>, shell: bool) -> Result<Program, Failure> {
    let span = command.span();
    let program = match (command.get_ref(), shell) {
        (CommandLine::Line(line), true) => Program::Shell(line.clone()),
        (CommandLine::Argv(_), true) => {
            return Err((
                span,
                Problem::hinted(
                    "with `shell = true` the command must be one string",
                    "write `run = \"cmd | other\"`",
                ),
            ));
        }
        (CommandLine::Argv(argv), false) => Program::Argv(argv.clone()),
        (CommandLine::Line(line), false) => Program::Argv(shlex::split(line).ok_or_else(|| {
            (
                span.clone(),
                Problem::hinted(
                    "this command has an unterminated quote or a trailing `\\`",
                    "use an array, e.g. `[\"prog\", \"arg with spaces\"]`",
                ),
            )
        })?),
    };
    match &program {
        Program::Argv(argv) if argv.is_empty() || argv[0].is_empty() => {
            return Err((span, "the command is empty".into()));
        }
        Program::Shell(script) if script.trim().is_empty() => {
            return Err((span, "the command is empty".into()));
        }
        Program::Argv(argv) => {
            if let Some(arg) = argv.iter().find(|arg| arg.contains(FILES) && arg.as_str() != FILES) {
                return Err((
                    span,
                    Problem::hinted(
                        format!("`{FILES}` must be an argument of its own, not part of `{arg}`"),
                        "it expands to one argument per file",
                    ),
                ));
            }
        }
        Program::Shell(_) => {}
    }
    Ok(program)
}

/// A `version` command: an argv (a string is split as `run`'s is), never a shell, no
/// `{files}`.
fn version(command: &Spanned<CommandLine>) -> Result<Vec<String>, Failure> {
    match program(command, false)? {
        Program::Argv(argv) if !argv.iter().any(|arg| arg == FILES) => Ok(argv),
        _ => Err((
            command.span(),
            Problem::hinted(
                "a `version` command takes no `{files}`",
                "name the command that prints the tool's version, e.g. `version = [\"ruff\", \"--version\"]`",
            ),
        )),
    }
}

fn workdir(dir: &Spanned<String>, root: &Path) -> Result<PathBuf, Failure> {
    let relative = inside("workdir", dir.get_ref(), dir.span())?;
    if !root.join(&relative).is_dir() {
        return Err((
            dir.span(),
            format!("`workdir` `{}` is not a directory of the repository", dir.get_ref()).into(),
        ));
    }
    Ok(relative)
}

/// A path the configuration names (`key`'s value) as one inside the repository: relative,
/// and never climbing out. A file in the repository never makes gate read outside it.
pub(super) fn inside(key: &str, value: &str, span: Range<usize>) -> Result<PathBuf, Failure> {
    let path = Path::new(value);
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err((
            span,
            format!("`{key}` must be a path inside the repository, relative to its root, not `{value}`").into(),
        ));
    }
    Ok(path
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect())
}

/// The patterns as one set; errors point at the pattern.
fn glob_set(patterns: &[Spanned<String>]) -> Result<GlobSet, Failure> {
    let parsed = patterns
        .iter()
        .map(|pattern| Pattern::parse(pattern.get_ref()).map_err(|problem| (pattern.span(), problem)))
        .collect::<Result<Vec<_>, _>>()?;
    let whole = match (patterns.first(), patterns.last()) {
        (Some(first), Some(last)) => first.span().start..last.span().end,
        _ => 0..0,
    };
    set_of(parsed, whole)
}

/// A set that fails to build is a configuration error, never an empty set that matches
/// nothing.
fn set_of(patterns: Vec<Pattern>, span: Range<usize>) -> Result<GlobSet, Failure> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(pattern.glob);
    }
    builder
        .build()
        .map_err(|err| (span, format!("these globs do not build into one set: {err}").into()))
}

/// `files_regex` / `exclude_regex`: searched anywhere in the path, as Python's `re.search`.
fn regexes(patterns: Option<&Spanned<OneOrMany>>) -> Result<Vec<Regex>, Failure> {
    let Some(patterns) = patterns else {
        return Ok(Vec::new());
    };
    patterns
        .get_ref()
        .clone()
        .into_vec()
        .iter()
        .map(|pattern| {
            Regex::new(pattern).map_err(|err| {
                (
                    patterns.span(),
                    Problem::hinted(
                        format!("`{pattern}` is not a regex gate can use: {err}"),
                        "write it without look-around and backreferences, or use `files` globs",
                    ),
                )
            })
        })
        .collect()
}

fn timeout(text: &Spanned<String>) -> Result<Duration, Failure> {
    raw::timeout(text.get_ref()).map_err(|problem| (text.span(), problem))
}

/// Rejects `depends_on` cycles, pointing at the edge that closes one.
fn check_cycles(gates: &[Gate], spans: &[Vec<Range<usize>>]) -> Result<(), Failure> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        at: usize,
        gates: &[Gate],
        spans: &[Vec<Range<usize>>],
        marks: &mut [Mark],
        path: &mut Vec<usize>,
    ) -> Result<(), Failure> {
        marks[at] = Mark::Active;
        path.push(at);
        for (edge, &next) in gates[at].depends_on.iter().enumerate() {
            match marks[next] {
                Mark::Active => {
                    let start = path.iter().position(|&g| g == next).unwrap_or(0);
                    let cycle: Vec<&str> = path[start..]
                        .iter()
                        .chain(std::iter::once(&next))
                        .map(|&g| gates[g].name.as_str())
                        .collect();
                    return Err((
                        spans[at][edge].clone(),
                        Problem::hinted(
                            format!("`depends_on` forms a cycle: {}", cycle.join(" -> ")),
                            "remove one of these dependencies",
                        ),
                    ));
                }
                Mark::New => visit(next, gates, spans, marks, path)?,
                Mark::Done => {}
            }
        }
        path.pop();
        marks[at] = Mark::Done;
        Ok(())
    }
    let mut marks = vec![Mark::New; gates.len()];
    for start in 0..gates.len() {
        if marks[start] == Mark::New {
            visit(start, gates, spans, &mut marks, &mut Vec::new())?;
        }
    }
    Ok(())
}
