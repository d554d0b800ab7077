//! GitHub Actions output: each gate's raw output in a collapsible group that no tool output
//! can inject workflow commands into, annotations on the diff (the most important first:
//! GitHub shows only 10 per level and step), and the job summary.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::Report;
use crate::model::text::{plural, strip_ansi};
use crate::model::{Diagnostic, Severity, Status};

/// GitHub shows at most this many annotations of each level per step.
const PER_LEVEL: usize = 10;
/// The job summary must stay below 1 MiB.
const SUMMARY_LIMIT: usize = 1_000_000;
/// Output shown per failing gate in the summary.
const SUMMARY_OUTPUT: usize = 64 * 1024;

/// GitHub's escaping of a workflow command's message.
pub(crate) fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// GitHub's escaping of a workflow command's property value.
pub(crate) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A token no tool can guess, to end `::stop-commands::`.
fn stop_token() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    let first = hasher.finish();
    hasher.write_u64(first);
    format!("gate-{first:016x}{:016x}", hasher.finish())
}

/// Workflow commands for stdout: output groups, then annotations.
pub(crate) fn commands(report: &Report<'_>) -> String {
    let mut out = String::new();
    for outcome in report.outcomes {
        if outcome.output.is_empty() || matches!(outcome.status, Status::Skipped | Status::Blocked) {
            continue;
        }
        let token = stop_token();
        let _ = writeln!(
            out,
            "::group::{}: {}",
            escape_data(&outcome.name),
            escape_data(&outcome.summary())
        );
        let _ = writeln!(out, "::stop-commands::{token}");
        out.push_str(&outcome.output);
        if !outcome.output.ends_with('\n') {
            out.push('\n');
        }
        let _ = writeln!(out, "::{token}::");
        out.push_str("::endgroup::\n");
    }
    out.push_str(&annotations(report));
    out
}

struct Annotation<'a> {
    gate: &'a str,
    severity: Severity,
    diagnostic: Option<&'a Diagnostic>,
    message: String,
    /// 0: on a changed line, 1: in a changed file, 2: elsewhere.
    rank: u8,
}

fn annotations(report: &Report<'_>) -> String {
    let all = ranked(report);
    let mut out = String::new();
    let mut hidden: HashMap<Severity, usize> = HashMap::new();
    let mut shown: HashMap<Severity, usize> = HashMap::new();
    let count_of = |severity| all.iter().filter(|a| a.severity == severity).count();
    let overflow = [Severity::Error, Severity::Warning, Severity::Note]
        .into_iter()
        .any(|severity| count_of(severity) > PER_LEVEL);
    for annotation in &all {
        // One notice slot stays free for the "more" notice.
        let cap = if annotation.severity == Severity::Note && overflow {
            PER_LEVEL - 1
        } else {
            PER_LEVEL
        };
        let count = shown.entry(annotation.severity).or_default();
        if *count >= cap {
            *hidden.entry(annotation.severity).or_default() += 1;
            continue;
        }
        *count += 1;
        out.push_str(&annotation_line(annotation));
    }
    if !hidden.is_empty() {
        let parts: Vec<String> = [
            (Severity::Error, "error"),
            (Severity::Warning, "warning"),
            (Severity::Note, "notice"),
        ]
        .iter()
        .filter_map(|(s, word)| hidden.get(s).map(|n| plural(*n, &format!("more {word}"))))
        .collect();
        let _ = writeln!(
            out,
            "::notice title=gate::{}",
            escape_data(&format!(
                "{} not shown as annotations (GitHub shows 10 per level); see the job summary and the gate reports",
                parts.join(", ")
            ))
        );
    }
    out
}

/// Every annotation the outcomes call for, those on changed lines first, then those in
/// changed files, then the rest (in tool order within each).
fn ranked<'a>(report: &Report<'a>) -> Vec<Annotation<'a>> {
    let changed = report.lines;
    let changed_files: std::collections::HashSet<String> = report
        .changes
        .files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    let mut all = Vec::new();
    for outcome in report.outcomes {
        for diagnostic in &outcome.diagnostics {
            let on_line = diagnostic.line.is_some_and(|line| {
                changed
                    .get(&diagnostic.file)
                    .is_some_and(|ranges| ranges.iter().any(|r| r.contains(line)))
            });
            let rank = if on_line {
                0
            } else if changed_files.contains(&diagnostic.file) {
                1
            } else {
                2
            };
            all.push(Annotation {
                gate: &outcome.name,
                severity: diagnostic.severity,
                diagnostic: Some(diagnostic),
                message: diagnostic.message.clone(),
                rank,
            });
        }
        // A failure with nothing to point at still gets one annotation.
        if outcome.diagnostics.is_empty() && matches!(outcome.status, Status::Failed | Status::Error | Status::Fixed) {
            all.push(Annotation {
                gate: &outcome.name,
                severity: Severity::Error,
                diagnostic: None,
                message: outcome.summary(),
                rank: 0,
            });
        }
    }
    all.sort_by_key(|a| a.rank); // stable: tool order within a rank
    all
}

fn annotation_line(annotation: &Annotation<'_>) -> String {
    let level = match annotation.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let mut properties = Vec::new();
    if let Some(diagnostic) = annotation.diagnostic {
        properties.push(format!("file={}", escape_property(&diagnostic.file)));
        if let Some(line) = diagnostic.line {
            properties.push(format!("line={line}"));
        }
        if let Some(column) = diagnostic.column {
            properties.push(format!("col={column}"));
        }
    }
    let title = match annotation.diagnostic.and_then(|d| d.code.as_deref()) {
        Some(code) => format!("{} ({code})", annotation.gate),
        None => annotation.gate.to_owned(),
    };
    properties.push(format!("title={}", escape_property(&title)));
    format!(
        "::{level} {}::{}\n",
        properties.join(","),
        escape_data(&annotation.message)
    )
}

/// The job summary: a table of every gate, then the details of failures, below 1 MiB.
pub(crate) fn summary(report: &Report<'_>) -> String {
    let cell = |text: &str| text.replace('|', "\\|").replace(['\n', '\r'], " ");
    let mut out = String::new();
    let failed = report
        .outcomes
        .iter()
        .filter(|o| {
            matches!(
                o.status,
                Status::Failed | Status::Error | Status::Blocked | Status::Fixed
            )
        })
        .count();
    let _ = writeln!(
        out,
        "## gate: {} of {} gates {}\n",
        if failed == 0 { report.outcomes.len() } else { failed },
        report.outcomes.len(),
        if failed == 0 {
            "passed or were skipped"
        } else {
            "did not pass"
        }
    );
    out.push_str("| Gate | Status | Duration | Files | Summary |\n|---|---|---|---|---|\n");
    for outcome in report.outcomes {
        let icon = match outcome.status {
            Status::Passed => "✅",
            Status::Skipped => "⏭️",
            Status::Failed | Status::Error => "❌",
            Status::Blocked | Status::Fixed => "⚠️",
        };
        let _ = writeln!(
            out,
            "| {} | {icon} {} | {:.2}s | {} | {} |",
            cell(&outcome.name),
            outcome.status.as_str(),
            outcome.duration.as_secs_f64(),
            outcome.files.len(),
            cell(&outcome.summary())
        );
    }
    for outcome in report
        .outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Failed | Status::Error | Status::Fixed))
    {
        let output = strip_ansi(&outcome.output);
        let shown = last_bytes(&output, SUMMARY_OUTPUT);
        let fence = "`".repeat(longest_backtick_run(shown).max(2) + 1);
        let mut block = format!(
            "\n<details><summary>{}: {}</summary>\n\n",
            html(&outcome.name),
            html(&outcome.summary())
        );
        if shown.len() < output.len() {
            let _ = writeln!(block, "(last {} KiB of the output)\n", SUMMARY_OUTPUT / 1024);
        }
        let _ = write!(block, "{fence}text\n{shown}\n{fence}\n\n</details>\n");
        if out.len() + block.len() > SUMMARY_LIMIT - 200 {
            out.push_str("\n(more details left out: the job summary is limited to 1 MiB)\n");
            break;
        }
        out.push_str(&block);
    }
    out
}

/// Appends the summary to `$GITHUB_STEP_SUMMARY`.
pub(crate) fn write_summary(path: &Path, report: &Report<'_>) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("failed to open the job summary `{}`", path.display()))?;
    file.write_all(summary(report).as_bytes())
        .with_context(|| format!("failed to write the job summary `{}`", path.display()))
}

fn last_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_githubs_rules() {
        for (raw, data, property) in [
            ("plain", "plain", "plain"),
            ("100%", "100%25", "100%25"),
            ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
            ("file:line,col", "file:line,col", "file%3Aline%2Ccol"),
            (
                "::set-output name=x::y",
                "::set-output name=x::y",
                "%3A%3Aset-output name=x%3A%3Ay",
            ),
            ("%0A", "%250A", "%250A"),
        ] {
            assert_eq!(escape_data(raw), data, "{raw:?}");
            assert_eq!(escape_property(raw), property, "{raw:?}");
        }
    }

    #[test]
    fn stop_tokens_differ_between_calls() {
        assert_ne!(stop_token(), stop_token());
    }
}
