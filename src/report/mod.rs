//! Rendering the result. Every format reads the same [`Report`] model.
//!
//! - `console`: the live or plain terminal view, while gates run and at the end.
//! - `json`: the full result as one JSON document, the model the others follow.
//! - `junit`, `sarif`: the same result for test dashboards and code scanning.
//! - `github`: workflow commands (output groups, annotations) and the job summary.

pub(crate) mod console;
pub(crate) mod github;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod sarif;
pub(crate) mod timings;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::git::changes::ChangeSet;
use crate::model::{ChangedLines, Outcome, Problem, Status};

/// Everything one run found: the input and every gate's outcome.
pub(crate) struct Report<'a> {
    pub(crate) root: &'a Path,
    pub(crate) stage: &'a str,
    pub(crate) changes: &'a ChangeSet,
    pub(crate) outcomes: &'a [Outcome],
    pub(crate) duration: Duration,
    pub(crate) exit_code: i32,
    /// Changed line ranges per file (new side), when a report that shows them was asked for.
    pub(crate) lines: &'a ChangedLines,
    /// Per gate, the gates it depends on (indices), for the timings' critical path.
    pub(crate) dependencies: &'a [Vec<usize>],
}

/// The exit code of a finished run: 2 when a gate could not run (missing program, timeout,
/// crash), else 1 when one failed (or a fixer changed files), else 0.
pub(crate) fn exit_code(outcomes: &[Outcome]) -> i32 {
    let worst = |o: &Outcome| match o.status {
        Status::Error => 2,
        Status::Fixed if o.fix_staged => 0,
        Status::Failed | Status::Blocked | Status::Fixed => 1,
        Status::Passed | Status::Skipped => 0,
    };
    outcomes.iter().map(worst).max().unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Junit,
    Sarif,
    /// The `--timings` page.
    Timings,
}

/// A `--report FORMAT=PATH` request.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) format: Format,
    pub(crate) path: PathBuf,
}

impl Target {
    /// `FORMAT=PATH`, as clap's value parser for `--report`.
    pub(crate) fn parse(text: &str) -> Result<Self, Problem> {
        let Some((format, path)) = text.split_once('=').filter(|(_, path)| !path.is_empty()) else {
            return Err(Problem::hinted(
                "it needs a format and a path",
                "write e.g. `--report json=gate-report.json`",
            ));
        };
        let format = match format {
            "json" => Format::Json,
            "junit" => Format::Junit,
            "sarif" => Format::Sarif,
            other => {
                return Err(Problem::new(format!(
                    "unknown report format `{other}`; the formats are: json, junit, sarif"
                )));
            }
        };
        Ok(Self {
            format,
            path: PathBuf::from(path),
        })
    }

    pub(crate) fn write(&self, report: &Report<'_>) -> Result<()> {
        let text = match self.format {
            Format::Json => json::render(report)?,
            Format::Junit => junit::render(report)?,
            Format::Sarif => sarif::render(report)?,
            Format::Timings => timings::render(report),
        };
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("failed to create `{}`", parent.display()))?;
        }
        std::fs::write(&self.path, text)
            .with_context(|| format!("failed to write the report `{}`", self.path.display()))
    }
}
