//! The JSON report: the whole result, documented in the README. Later renderers (`JUnit`,
//! SARIF, GitHub) and `gate publish` read this shape, so fields are only ever added.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::Report;
use crate::git::changes::{FileStatus, Source};
use crate::model::{Diagnostic, Problem, Status};

/// Bumped when a field changes meaning or goes away.
const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    gate_version: &'static str,
    root: String,
    stage: &'a str,
    exit_code: i32,
    duration_ms: u128,
    change_set: ChangeSetJson,
    summary: Summary,
    gates: Vec<GateJson<'a>>,
}

#[derive(Serialize)]
struct ChangeSetJson {
    source: Source,
    base: Option<String>,
    head: Option<String>,
    files: Vec<FileJson>,
}

#[derive(Serialize)]
struct FileJson {
    path: String,
    status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    /// Changed line ranges, `[first, last]`, on the new side.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lines: Vec<[u32; 2]>,
}

#[derive(Serialize, Default)]
struct Summary {
    passed: usize,
    failed: usize,
    fixed: usize,
    skipped: usize,
    blocked: usize,
    error: usize,
}

#[derive(Serialize)]
struct GateJson<'a> {
    name: &'a str,
    kind: &'a str,
    status: Status,
    reason: Option<&'a str>,
    /// What the user can do about `reason`.
    hint: Option<&'a str>,
    /// A pass reused from the cache (`duration_ms` is that of the run that passed).
    cached: bool,
    /// Each process: its worker lane, start and end (from the run's start), peak memory.
    batches: Vec<crate::model::BatchJson>,
    started_ms: Option<u128>,
    duration_ms: u128,
    exit_code: Option<i32>,
    processes: usize,
    files: Vec<String>,
    /// Without terminal colour codes.
    output: String,
    diagnostics: &'a [Diagnostic],
    /// Files a fixer rewrote.
    fixed: Vec<String>,
    /// Files a check wrote, which failed it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    modified: Vec<String>,
    /// What a built-in gate measured (coverage: total, patch and per-file numbers).
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
}

/// Paths are text in JSON; a non-UTF-8 byte becomes U+FFFD.
fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

pub(crate) fn render(report: &Report<'_>) -> Result<String> {
    let mut summary = Summary::default();
    for outcome in report.outcomes {
        *match outcome.status {
            Status::Passed => &mut summary.passed,
            Status::Failed => &mut summary.failed,
            Status::Fixed => &mut summary.fixed,
            Status::Skipped => &mut summary.skipped,
            Status::Blocked => &mut summary.blocked,
            Status::Error => &mut summary.error,
        } += 1;
    }
    let document = Document {
        version: SCHEMA_VERSION,
        gate_version: env!("CARGO_PKG_VERSION"),
        root: path_text(report.root),
        stage: report.stage,
        exit_code: report.exit_code,
        duration_ms: report.duration.as_millis(),
        change_set: ChangeSetJson {
            source: report.changes.source,
            base: report.changes.base.map(|oid| oid.to_string()),
            head: report.changes.head.map(|oid| oid.to_string()),
            files: report
                .changes
                .files
                .iter()
                .map(|file| FileJson {
                    path: path_text(&file.path),
                    status: file.status,
                    from: file.from.as_deref().map(path_text),
                    lines: report
                        .lines
                        .get(&path_text(&file.path))
                        .map(|ranges| ranges.iter().map(|r| [r.first, r.last]).collect())
                        .unwrap_or_default(),
                })
                .collect(),
        },
        summary,
        gates: report
            .outcomes
            .iter()
            .map(|outcome| GateJson {
                name: &outcome.name,
                kind: outcome.kind.as_str(),
                status: outcome.status,
                reason: outcome.reason.as_ref().map(|r| r.message.as_str()),
                hint: outcome.reason.as_ref().and_then(|r| r.hint.as_deref()),
                cached: outcome.cached,
                batches: outcome.batches.iter().map(Into::into).collect(),
                started_ms: outcome.started.map(|d| d.as_millis()),
                duration_ms: outcome.duration.as_millis(),
                exit_code: outcome.exit_code,
                processes: outcome.processes,
                files: outcome.files.iter().map(|f| path_text(f)).collect(),
                output: crate::model::text::strip_ansi(&outcome.output),
                diagnostics: &outcome.diagnostics,
                fixed: outcome
                    .fixed
                    .iter()
                    .filter(|f| !outcome.modified.contains(&f.path))
                    .map(|f| path_text(&f.path))
                    .collect(),
                modified: outcome.modified.iter().map(|f| path_text(f)).collect(),
                details: outcome.details.as_ref(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&document)?;
    text.push('\n');
    Ok(text)
}

/// What `gate publish` needs of a saved report.
#[derive(serde::Deserialize)]
struct Saved {
    change_set: SavedChangeSet,
    gates: Vec<SavedGate>,
}

#[derive(serde::Deserialize)]
struct SavedChangeSet {
    head: Option<String>,
}

#[derive(serde::Deserialize)]
struct SavedGate {
    name: String,
    kind: crate::model::Kind,
    status: Status,
    reason: Option<String>,
    #[serde(default)]
    hint: Option<String>,
    duration_ms: u64,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    diagnostics: Vec<Diagnostic>,
}

/// A saved report's head commit and outcomes (without output).
pub(crate) fn load(path: &Path) -> anyhow::Result<(Option<String>, Vec<crate::model::Outcome>)> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let saved: Saved = serde_json::from_str(&text).with_context(|| {
        Problem::hinted(
            format!("`{}` is not a gate JSON report", path.display()),
            "write one with `gate check --report json=PATH`",
        )
    })?;
    let outcomes = saved
        .gates
        .into_iter()
        .map(|gate| {
            let mut outcome = crate::model::Outcome::not_run(
                &gate.name,
                gate.kind,
                gate.status,
                Problem {
                    message: gate.reason.unwrap_or_default(),
                    hint: gate.hint,
                },
                std::sync::Arc::new(gate.files.into_iter().map(Into::into).collect()),
            );
            outcome.duration = std::time::Duration::from_millis(gate.duration_ms);
            outcome.diagnostics = gate.diagnostics;
            outcome
        })
        .collect();
    Ok((saved.change_set.head, outcomes))
}
