//! What a gate produced: its [`Outcome`], the one model every report renders.
//!
//! - `problems`: diagnostics read out of a tool's output (`problem_format`).
//! - `coverage`, `audit`: the built-in gates.

pub(crate) mod audit;
pub(crate) mod coverage;
pub(crate) mod problems;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::config::Kind;
use crate::run::fixes::FixedFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Passed,
    Failed,
    /// A fixer changed files.
    Fixed,
    /// Not run: no matching file, another stage, `GATE_SKIP`, `--gate`.
    Skipped,
    /// Not run because a gate it depends on did not pass, or `--fail-fast` stopped the run.
    Blocked,
    /// gate could not run it: program missing, timeout, crash, interruption.
    Error,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Fixed => "fixed",
            Status::Skipped => "skipped",
            Status::Blocked => "blocked",
            Status::Error => "error",
        }
    }

    /// Whether gates that depend on this one may run.
    pub(crate) fn lets_dependents_run(self) -> bool {
        matches!(self, Status::Passed | Status::Skipped)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Error,
    Warning,
    Note,
}

/// A finding at a place in a file, parsed from a tool's output or made by a built-in gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct Diagnostic {
    /// Repository-relative.
    pub(crate) file: String,
    pub(crate) line: Option<u32>,
    pub(crate) column: Option<u32>,
    /// The last line of a finding that spans several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) end_line: Option<u32>,
    pub(crate) severity: Severity,
    /// The tool's rule or error code, e.g. `F401` or `unused_variables`.
    pub(crate) code: Option<String>,
    pub(crate) message: String,
}

/// The work of a built-in gate, gathered on the coordinating thread, run on a worker.
#[derive(Debug)]
pub(crate) enum BuiltinJob {
    Coverage(coverage::CoverageJob),
    Audit(audit::AuditJob),
}

impl BuiltinJob {
    /// `fresh_after`: inputs older than this were not written by this run's dependencies.
    pub(crate) fn run(&self, fresh_after: Option<std::time::SystemTime>) -> anyhow::Result<Verdict> {
        match self {
            BuiltinJob::Coverage(job) => job.run(fresh_after),
            BuiltinJob::Audit(job) => job.run(),
        }
    }
}

/// What a built-in gate decided.
#[derive(Debug)]
pub(crate) struct Verdict {
    pub(crate) passed: bool,
    pub(crate) summary: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Lines for the output (warnings, notes).
    pub(crate) notes: Vec<String>,
    /// What it measured, for the JSON report.
    pub(crate) details: Option<serde_json::Value>,
}

impl Verdict {
    /// The last line a command that runs a built-in gate by hand prints.
    pub(crate) fn closing_line(&self) -> String {
        format!("{}: {}", if self.passed { "passed" } else { "failed" }, self.summary)
    }
}

/// What a built-in gate found, beyond passing or failing.
#[derive(Debug, Clone)]
pub(crate) struct Findings {
    /// The one-line summary, e.g. "patch 87.50% < 90.00% (7/8 lines); total 81.32%".
    pub(crate) summary: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) details: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) status: Status,
    /// Why it was skipped, blocked or errored.
    pub(crate) reason: Option<String>,
    /// When it started, from the start of the run; `None` if it never ran.
    pub(crate) started: Option<Duration>,
    pub(crate) duration: Duration,
    /// Repository-relative paths of the files that matched.
    pub(crate) files: Vec<PathBuf>,
    /// Processes started (one per batch of files).
    pub(crate) processes: usize,
    /// The first non-zero exit code, else 0 when it ran.
    pub(crate) exit_code: Option<i32>,
    /// Everything the processes printed (stdout and stderr, in order), batch after batch.
    pub(crate) output: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Files a fixer rewrote.
    pub(crate) fixed: Vec<FixedFile>,
    /// What a built-in gate measured (coverage numbers per file), for the JSON report.
    pub(crate) details: Option<serde_json::Value>,
    /// Every fix went into the commit (`on_fix = "stage"`), so the fix does not fail the run.
    pub(crate) fix_staged: bool,
}

impl Outcome {
    /// One line that says what happened, for status checks, summaries and test reports.
    pub(crate) fn summary(&self) -> String {
        let reason = self
            .reason
            .as_deref()
            .and_then(|r| r.lines().next())
            .unwrap_or_default();
        let count = |severity| self.diagnostics.iter().filter(|d| d.severity == severity).count();
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
        let mut files: Vec<&str> = self.diagnostics.iter().map(|d| d.file.as_str()).collect();
        files.sort_unstable();
        files.dedup();
        let found = match (errors, warnings) {
            (0, 0) => None,
            (e, 0) => Some(format!("{} in {}", plural(e, "error"), plural(files.len(), "file"))),
            (0, w) => Some(format!("{} in {}", plural(w, "warning"), plural(files.len(), "file"))),
            (e, w) => Some(format!(
                "{}, {} in {}",
                plural(e, "error"),
                plural(w, "warning"),
                plural(files.len(), "file")
            )),
        };
        match self.status {
            Status::Passed => match (found, reason) {
                (Some(found), _) => format!("passed with {found}"),
                // A built-in gate says what it measured.
                (None, reason) if !reason.is_empty() => reason.to_owned(),
                (None, _) => format!("passed in {:.1}s", self.duration.as_secs_f64()),
            },
            Status::Failed if self.kind == Kind::Coverage => reason.to_owned(),
            Status::Failed => found.unwrap_or_else(|| format!("failed: {reason}")),
            Status::Fixed => reason.to_owned(),
            Status::Skipped => format!("skipped: {reason}"),
            Status::Blocked => format!("blocked: {reason}"),
            Status::Error => format!("error: {reason}"),
        }
    }

    /// An outcome for a gate that did not run.
    pub(crate) fn not_run(
        name: &str,
        kind: Kind,
        status: Status,
        reason: impl Into<String>,
        files: Vec<PathBuf>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            status,
            reason: Some(reason.into()),
            started: None,
            duration: Duration::ZERO,
            files,
            processes: 0,
            exit_code: None,
            output: String::new(),
            diagnostics: Vec::new(),
            fixed: Vec::new(),
            details: None,
            fix_staged: false,
        }
    }
}
