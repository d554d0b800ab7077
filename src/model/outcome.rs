//! What became of one gate in a run, and what a built-in gate decided.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::text::plural;
use super::{Batch, Diagnostic, FixedFile, Kind, Problem, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// What it could not check: the gate is an `error`, whatever it found.
    pub(crate) error: Option<Problem>,
}

impl Verdict {
    /// The last line a command that runs a built-in gate by hand prints.
    pub(crate) fn closing_line(&self) -> String {
        match &self.error {
            Some(error) => {
                let hint = error.hint.as_ref().map(|hint| format!("\nhint: {hint}"));
                format!("error: {}; {}{}", error.message, self.summary, hint.unwrap_or_default())
            }
            None => format!("{}: {}", if self.passed { "passed" } else { "failed" }, self.summary),
        }
    }
}

/// A gate's files, shared rather than copied.
pub(crate) type Files = std::sync::Arc<Vec<PathBuf>>;

#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) status: Status,
    /// Why it was skipped, blocked or errored.
    pub(crate) reason: Option<Problem>,
    /// When it started, from the start of the run; `None` if it never ran.
    pub(crate) started: Option<Duration>,
    pub(crate) duration: Duration,
    /// Repository-relative paths of the files that matched: shared with the plan (an
    /// `--all` run hands tens of thousands of paths to each gate).
    pub(crate) files: Files,
    /// Processes started (one per batch of files).
    pub(crate) processes: usize,
    /// The first non-zero exit code, else 0 when it ran.
    pub(crate) exit_code: Option<i32>,
    /// Everything the processes printed (stdout and stderr, in order), batch after batch.
    pub(crate) output: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Files a fixer rewrote; for a check that wrote files, those whose content before is
    /// known (for the diff).
    pub(crate) fixed: Vec<FixedFile>,
    /// Files a check (not a fixer) wrote: that fails it.
    pub(crate) modified: Vec<PathBuf>,
    /// What a built-in gate measured (coverage numbers per file), for the JSON report.
    pub(crate) details: Option<serde_json::Value>,
    /// Every fix went into the commit (`on_fix = "stage"`), so the fix does not fail the run.
    pub(crate) fix_staged: bool,
    /// A pass reused from the cache: `duration` is that of the run that passed.
    pub(crate) cached: bool,
    /// The cached pass came from the shared remote store.
    pub(crate) cached_remote: bool,
    /// Each process (or built-in run), in the order they started.
    pub(crate) batches: Vec<Batch>,
}

impl Outcome {
    /// One line that says what happened, for status checks, summaries and test reports.
    pub(crate) fn summary(&self) -> String {
        let reason = self
            .reason
            .as_ref()
            .map_or("", |r| r.message.lines().next().unwrap_or_default());
        let count = |severity| self.diagnostics.iter().filter(|d| d.severity == severity).count();
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
                (None, _) if self.cached => format!("passed in {:.1}s (cached)", self.duration.as_secs_f64()),
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
    pub(crate) fn not_run(name: &str, kind: Kind, status: Status, reason: impl Into<Problem>, files: Files) -> Self {
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
            modified: Vec::new(),
            details: None,
            fix_staged: false,
            cached: false,
            cached_remote: false,
            batches: Vec::new(),
        }
    }
}
