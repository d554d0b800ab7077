//! The settings of the gates gate runs itself, checked when the configuration is read;
//! their engines (`audit`, `coverage`, `gates::problems`) take them as plain data.

use std::path::PathBuf;

use anyhow::Result;
use globset::GlobSet;
use regex::Regex;

use super::Pattern;
use crate::audit::Policy;
use crate::env;
use crate::model::Problem;

#[derive(Debug, Clone)]
pub(crate) struct AuditSpec {
    /// Absolute; `None`: the user cache directory.
    pub(crate) db: Option<PathBuf>,
    pub(crate) policy: Policy,
    pub(crate) new_only: bool,
}

impl AuditSpec {
    pub(crate) fn db(&self) -> Result<PathBuf> {
        match &self.db {
            Some(db) => Ok(db.clone()),
            None => default_db(),
        }
    }
}

/// `$XDG_CACHE_HOME/gate/osv`, else `~/.cache/gate/osv`.
pub(crate) fn default_db() -> Result<PathBuf> {
    let cache = env::var_os(env::XDG_CACHE_HOME)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| env::var_os(env::HOME).map(|home| PathBuf::from(home).join(".cache")))
        .ok_or_else(|| {
            Problem::hinted(
                "neither `XDG_CACHE_HOME` nor `HOME` is set, so there is no default database folder",
                "set `db` of the audit gate",
            )
        })?;
    Ok(cache.join("gate").join("osv"))
}

/// The lockfile names an audit gate watches when `files` is not set.
pub(crate) fn lockfile_patterns() -> Vec<Pattern> {
    [
        "Cargo.lock",
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "requirements*.txt",
        "**/requirements/*.txt",
        "poetry.lock",
        "uv.lock",
        "Pipfile.lock",
        "go.mod",
        "Gemfile.lock",
        "composer.lock",
    ]
    .iter()
    .filter_map(|p| Pattern::new(p).ok())
    .collect()
}

/// A hygiene gate's check (`builtin = "…"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HygieneCheck {
    TrailingWhitespace,
    EndOfFile,
    MixedLineEnding,
    MergeConflict,
    LargeFiles,
    CheckJson,
    CheckToml,
    CheckYaml,
    ExecutableShebang,
    CaseConflict,
}

impl HygieneCheck {
    pub(crate) const ALL: [HygieneCheck; 10] = [
        HygieneCheck::TrailingWhitespace,
        HygieneCheck::EndOfFile,
        HygieneCheck::MixedLineEnding,
        HygieneCheck::MergeConflict,
        HygieneCheck::LargeFiles,
        HygieneCheck::CheckJson,
        HygieneCheck::CheckToml,
        HygieneCheck::CheckYaml,
        HygieneCheck::ExecutableShebang,
        HygieneCheck::CaseConflict,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            HygieneCheck::TrailingWhitespace => "trailing-whitespace",
            HygieneCheck::EndOfFile => "end-of-file",
            HygieneCheck::MixedLineEnding => "mixed-line-ending",
            HygieneCheck::MergeConflict => "merge-conflict",
            HygieneCheck::LargeFiles => "large-files",
            HygieneCheck::CheckJson => "check-json",
            HygieneCheck::CheckToml => "check-toml",
            HygieneCheck::CheckYaml => "check-yaml",
            HygieneCheck::ExecutableShebang => "executable-shebang",
            HygieneCheck::CaseConflict => "case-conflict",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|check| check.name() == name)
    }

    /// The files it reads when the gate names none.
    pub(crate) fn default_files(self) -> &'static [&'static str] {
        match self {
            HygieneCheck::CheckJson => &["*.json"],
            HygieneCheck::CheckToml => &["*.toml"],
            HygieneCheck::CheckYaml => &["*.yml", "*.yaml"],
            _ => &[],
        }
    }

    /// Whether it rewrites what it finds when the run fixes.
    pub(crate) fn fixes(self) -> bool {
        matches!(
            self,
            HygieneCheck::TrailingWhitespace | HygieneCheck::EndOfFile | HygieneCheck::MixedLineEnding
        )
    }

    /// What it looks for, for `gate presets`.
    pub(crate) fn about(self) -> &'static str {
        match self {
            HygieneCheck::TrailingWhitespace => "spaces or tabs at the end of a line (fixes)",
            HygieneCheck::EndOfFile => "a text file ends in exactly one newline (fixes)",
            HygieneCheck::MixedLineEnding => "CRLF and LF in one file (fixes, to the file's majority)",
            HygieneCheck::MergeConflict => "merge conflict markers",
            HygieneCheck::LargeFiles => "files over `max_kb` (default 500)",
            HygieneCheck::CheckJson => "JSON that does not parse",
            HygieneCheck::CheckToml => "TOML that does not parse",
            HygieneCheck::CheckYaml => "YAML that does not parse (several documents allowed)",
            HygieneCheck::ExecutableShebang => "executable files without a `#!` line",
            HygieneCheck::CaseConflict => "paths that differ only in case",
        }
    }
}

/// A secrets gate as configured.
#[derive(Debug, Clone)]
pub(crate) struct SecretsSpec {
    /// The project's own rules, beside the built-in ones.
    pub(crate) rules: Vec<crate::secrets::RuleSpec>,
    /// Files never scanned.
    pub(crate) allow_paths: globset::GlobSet,
    /// A finding whose secret matches one of these is allowed.
    pub(crate) allow_regexes: Vec<regex::Regex>,
    /// A finding whose secret holds one of these words is allowed.
    pub(crate) stopwords: Vec<String>,
    /// The baseline file, relative to the root.
    pub(crate) baseline: Option<std::path::PathBuf>,
}

/// A hygiene gate as configured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HygieneSpec {
    pub(crate) check: HygieneCheck,
    pub(crate) max_kb: u64,
}

/// A coverage gate as configured.
#[derive(Debug, Clone)]
pub(crate) struct CoverageSpec {
    /// Report paths, relative to the repository root.
    pub(crate) reports: Vec<PathBuf>,
    pub(crate) min_total: Option<f64>,
    pub(crate) min_patch: Option<f64>,
    pub(crate) path_map: Vec<crate::coverage::paths::PrefixMap>,
    pub(crate) source_roots: Vec<String>,
    /// Files left out of both numbers.
    pub(crate) exclude: GlobSet,
}

/// How to read diagnostics out of a gate's output.
#[derive(Debug, Clone)]
pub(crate) enum ProblemFormat {
    /// `file:line:col: severity: message` and `file:line: message`.
    Gnu,
    /// One JSON object per line (or a JSON array) in a shape gate knows.
    JsonLines,
    /// Named groups `file` (required), `line`, `col`, `severity`, `code` and `message`
    /// (without one, the whole matched line is the message).
    Regex(Regex),
}

impl ProblemFormat {
    /// `gnu`, `json-lines`, or a regex, checked for the groups it needs.
    pub(crate) fn parse(text: &str) -> Result<Self, Problem> {
        match text {
            "gnu" => Ok(Self::Gnu),
            "json-lines" | "json" => Ok(Self::JsonLines),
            pattern => {
                let regex = Regex::new(&format!("(?m){pattern}")).map_err(|err| {
                    Problem::new(format!(
                        "`problem_format` is not `gnu`, `json-lines` or a valid regex: {err}"
                    ))
                })?;
                let names: Vec<&str> = regex.capture_names().flatten().collect();
                for required in ["file"] {
                    if !names.contains(&required) {
                        return Err(Problem::hinted(
                            format!("the `problem_format` regex has no named group `{required}`"),
                            "write e.g. `(?P<file>[^:]+):(?P<line>\\d+): (?P<message>.*)`",
                        ));
                    }
                }
                Ok(Self::Regex(regex))
            }
        }
    }
}
