//! The serde mirror of `gates.toml`: every key, with the spans that later errors point at.
//! Values that can be checked on their own (globs, durations, stages, commands) are checked
//! while deserializing, so the toml crate attaches the line and column of the bad value.

use std::fmt;
use std::time::Duration;

use globset::{Glob, GlobBuilder};
use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

use crate::model::{Kind, Problem, Stage};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub(crate) settings: RawSettings,
    #[serde(default)]
    pub(crate) cache: RawCache,
    #[serde(default)]
    pub(crate) gates: IndexMap<Spanned<String>, Spanned<RawGate>>,
}

/// `[cache]`: the result cache.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCache {
    pub(crate) enabled: Option<bool>,
    pub(crate) max_mb: Option<Spanned<u64>>,
    /// A shared remote store (Bazel HTTP cache layout); `GATE_CACHE_URL` overrides it.
    pub(crate) remote: Option<Spanned<String>>,
    /// Who writes to the remote: `ci` (default), `always`, `never`.
    pub(crate) remote_write: Option<RemoteWrite>,
    /// How long a remote request may take to connect (default 800ms).
    pub(crate) remote_timeout: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RemoteWrite {
    /// Only from CI, so a developer's machine cannot poison what CI trusts.
    #[default]
    Ci,
    Always,
    Never,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSettings {
    /// Processes at once; 0 means two more than the CPUs.
    pub(crate) jobs: Option<usize>,
    pub(crate) fail_fast: Option<bool>,
    pub(crate) base: Option<String>,
    #[serde(default)]
    pub(crate) exclude: Vec<Spanned<String>>,
    pub(crate) timeout: Option<Spanned<String>>,
    pub(crate) on_fix: Option<OnFix>,
    /// Commit status contexts are `<prefix><gate>`.
    pub(crate) status_prefix: Option<String>,
    /// More environment variables whose values are masked in what gate relays.
    #[serde(default)]
    pub(crate) mask_env: Vec<String>,
}

/// What a pre-commit run does with a fixer's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OnFix {
    /// Leave the fix in the working tree and fail the commit, for the user to review.
    #[default]
    Fail,
    /// Add the fix to the commit (only for files that had no unstaged changes).
    Stage,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGate {
    /// A well-known tool's settings as defaults for the keys not set here.
    pub(crate) preset: Option<Spanned<String>>,
    /// Required unless a preset gives it.
    pub(crate) kind: Option<Kind>,
    /// The preset's colour flag, when the gate runs the preset's own command.
    #[serde(skip)]
    pub(crate) color_flag: Option<String>,
    /// `kind = "builtin"` gates: which hygiene check (`trailing-whitespace`, …).
    pub(crate) builtin: Option<Spanned<String>>,
    /// `large-files`: the largest file allowed, in KB.
    pub(crate) max_kb: Option<Spanned<u64>>,
    /// Secrets gates: what is allowed (paths, regexes, stopwords).
    pub(crate) allow: Option<RawAllow>,
    /// Secrets gates: findings recorded by fingerprint, which do not fail.
    pub(crate) baseline: Option<Spanned<String>>,
    /// Secrets gates: rules of the project's own.
    #[serde(default)]
    pub(crate) rules: Vec<Spanned<RawRule>>,
    /// Whether a pass may be reused on the same inputs (default true).
    pub(crate) cache: Option<bool>,
    /// Tracked files (globs from the repository root) a result also depends on.
    #[serde(default)]
    pub(crate) inputs: Vec<Spanned<String>>,
    /// Environment variables a result also depends on.
    #[serde(default)]
    pub(crate) env_inputs: Vec<String>,
    /// A command whose output names the tool's version, for the cache key in place of
    /// the program file's path, size and time.
    pub(crate) version: Option<Spanned<CommandLine>>,
    pub(crate) run: Option<Spanned<CommandLine>>,
    pub(crate) fix: Option<Spanned<CommandLine>>,
    pub(crate) files: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(crate) exclude: Vec<Spanned<String>>,
    /// Regexes a file's repository-relative path must all match (`re.search`, as
    /// pre-commit's `files`), beside `files`.
    pub(crate) files_regex: Option<Spanned<OneOrMany>>,
    /// Regexes any of which leaves a file out (pre-commit's `exclude`).
    pub(crate) exclude_regex: Option<Spanned<OneOrMany>>,
    pub(crate) workdir: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) depends_on: Vec<Spanned<String>>,
    pub(crate) stages: Option<Vec<Stage>>,
    pub(crate) timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) env: IndexMap<String, String>,
    /// Withheld variables (tokens, workflow command files) the gate may see after all.
    #[serde(default)]
    pub(crate) pass_env: Vec<String>,
    /// Whether the tool is told to keep its colours on a colour terminal (default true).
    pub(crate) color: Option<bool>,
    #[serde(default)]
    pub(crate) always: bool,
    #[serde(default)]
    pub(crate) shell: bool,
    pub(crate) on_fix: Option<OnFix>,
    /// `gnu`, `json-lines`, or a regex with named groups.
    pub(crate) problem_format: Option<Spanned<String>>,
    /// Coverage gates: the report files (one path or a list), relative to the root.
    pub(crate) report: Option<Spanned<OneOrMany>>,
    pub(crate) min_total: Option<Spanned<f64>>,
    pub(crate) min_patch: Option<Spanned<f64>>,
    /// Coverage gates: rewrite report path prefixes, `{ from = "/build/", to = "src/" }`.
    #[serde(default)]
    pub(crate) path_map: Vec<PathMap>,
    /// Coverage gates: where `JaCoCo`'s package paths start.
    pub(crate) source_roots: Option<Vec<String>>,
    /// Audit gates: the OSV database folder, relative to the root.
    pub(crate) db: Option<String>,
    /// Audit gates: the lowest severity that fails the gate.
    pub(crate) min_severity: Option<crate::audit::osv::Level>,
    /// Audit gates: accepted risks.
    #[serde(default)]
    pub(crate) ignore: Vec<Spanned<RawIgnore>>,
    /// Audit gates: whether informational notices (unmaintained, unsound) `warn` or `fail`.
    pub(crate) informational: Option<Informational>,
    /// Audit gates: report only what the change introduced (compared with the base commit).
    pub(crate) new_only: Option<bool>,
    /// Audit gates: the ecosystems to audit (OSV names: `crates.io`, `npm`, `PyPI`, …).
    pub(crate) ecosystems: Option<Spanned<Vec<String>>>,
    /// Audit gates: what packages that cannot be audited do: `error` (the default) or `warn`.
    pub(crate) unaudited: Option<Unaudited>,
}

impl RawGate {
    /// The kind, once a preset has filled it in (resolve refuses a gate without one first).
    pub(crate) fn kind(&self) -> Kind {
        self.kind.unwrap_or(Kind::Custom)
    }
}

/// `allow` of a secrets gate.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAllow {
    #[serde(default)]
    pub(crate) paths: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) regexes: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) stopwords: Vec<String>,
}

/// `[[gates.NAME.rules]]` of a secrets gate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub(crate) id: String,
    pub(crate) regex: String,
    #[serde(default)]
    pub(crate) keywords: Vec<String>,
    pub(crate) entropy: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Unaudited {
    Warn,
    Error,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIgnore {
    pub(crate) id: String,
    pub(crate) reason: Option<String>,
    pub(crate) expires: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Informational {
    Warn,
    Fail,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PathMap {
    pub(crate) from: String,
    pub(crate) to: String,
}

/// A string, or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(crate) fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

/// `run` and `fix`: an argv array, or one string split as a shell would split it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CommandLine {
    Argv(Vec<String>),
    Line(String),
}

impl<'de> Deserialize<'de> for CommandLine {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;
        impl<'de> Visitor<'de> for CommandVisitor {
            type Value = CommandLine;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a command: an array of strings, or a string")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<CommandLine, E> {
                Ok(CommandLine::Line(value.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CommandLine, A::Error> {
                let mut argv = Vec::new();
                while let Some(arg) = seq.next_element::<String>()? {
                    argv.push(arg);
                }
                Ok(CommandLine::Argv(argv))
            }
        }
        deserializer.deserialize_any(CommandVisitor)
    }
}

/// A glob from `files` or `exclude`. A pattern without `/` matches at any depth, as in
/// `.gitignore`, so `*.py` means every Python file; `*` never crosses a `/`.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub(crate) glob: Glob,
}

impl Pattern {
    pub(crate) fn new(text: &str) -> Result<Self, globset::Error> {
        let anchored = text.trim_start_matches("./");
        let full = if anchored.contains('/') {
            anchored.trim_start_matches('/').to_owned()
        } else {
            format!("**/{anchored}")
        };
        let glob = GlobBuilder::new(&full)
            .literal_separator(true)
            .backslash_escape(true)
            .build()?;
        Ok(Self { glob })
    }
}

impl Pattern {
    /// A glob as written in `gates.toml`, refused when it is not one or can never match.
    pub(crate) fn parse(text: &str) -> Result<Self, Problem> {
        // Globs match repository-relative paths: these never would.
        if text.split('/').any(|part| part == "..") {
            return Err(Problem::hinted(
                format!("the glob `{text}` can never match: globs match paths inside the repository"),
                "write it relative to the repository root (or the gate's `workdir`), without `..`",
            ));
        }
        Pattern::new(text).map_err(|err| {
            Problem::hinted(
                format!("invalid glob `{text}`: {}", err.kind()),
                "globs look like `**/*.rs` or `src/*.py`; escape a literal `[` as `\\[`",
            )
        })
    }
}

/// A duration such as `30s`, `10m` or `1h 30m`.
pub(crate) fn timeout(text: &str) -> Result<Duration, Problem> {
    match humantime::parse_duration(text) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        Ok(_) => Err(Problem::new("a timeout must be longer than zero")),
        Err(err) => Err(Problem::hinted(
            format!("invalid duration `{text}`: {err}"),
            "write a duration such as `90s`, `10m` or `1h`",
        )),
    }
}
