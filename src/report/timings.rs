//! `--timings`: one self-contained HTML page (no script, no network) showing where a run's
//! time went, as `cargo build --timings` does: an SVG waterfall of every batch on the
//! worker lanes, the critical path through `depends_on` outlined, cache hits marked, and a
//! table of durations, files, processes and peak memory per gate.

use std::fmt::Write as _;
use std::time::Duration;

use super::Report;
use crate::model::{Outcome, Status};

const WIDTH: f64 = 1000.0;
const LANE: f64 = 26.0;
const LEFT: f64 = 60.0;

pub(crate) fn render(report: &Report<'_>) -> String {
    let outcomes = report.outcomes;
    let critical = critical_path(outcomes, report.dependencies);
    let total = outcomes
        .iter()
        .flat_map(|o| o.batches.iter().map(|b| b.end))
        .chain([report.duration])
        .max()
        .unwrap_or_default()
        .max(Duration::from_millis(1));
    let mut page = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>gate timings</title>\n<style>\n\
         body{font:14px system-ui,sans-serif;margin:2em;color:#222}\n\
         table{border-collapse:collapse;margin-top:1.5em}td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:right}\n\
         td:first-child,th:first-child{text-align:left}.critical{font-weight:bold}\n\
         .passed{fill:#3a9a57}.failed{fill:#d04437}.error{fill:#8a1c12}.fixed{fill:#d9a400}.blocked,.skipped{fill:#999}\n\
         rect.critical{stroke:#222;stroke-width:2}text{font:11px system-ui,sans-serif}\n\
         </style></head><body>\n<h1>gate timings</h1>\n",
    );
    let _ = writeln!(
        page,
        "<p>{} in {}, stage <code>{}</code>; exit code {}.</p>",
        crate::model::text::plural(outcomes.len(), "gate"),
        seconds(report.duration),
        escape(report.stage),
        report.exit_code
    );
    if !critical.is_empty() {
        let names: Vec<String> = critical.iter().map(|&g| escape(&outcomes[g].name)).collect();
        let _ = writeln!(page, "<p class=\"critical\">Critical path: {}</p>", names.join(" → "));
    }
    waterfall(&mut page, outcomes, &critical, total);
    table(&mut page, outcomes, &critical);
    page.push_str("</body></html>\n");
    page
}

/// The SVG: one row per worker lane, a bar per batch; cache hits on a row of their own.
fn waterfall(page: &mut String, outcomes: &[Outcome], critical: &[usize], total: Duration) {
    let lanes = outcomes
        .iter()
        .flat_map(|o| o.batches.iter().map(|b| b.lane + 1))
        .max()
        .unwrap_or(0);
    let cached: Vec<&Outcome> = outcomes.iter().filter(|o| o.cached).collect();
    let rows = lanes + usize::from(!cached.is_empty());
    let height = LANE * rows.max(1) as f64 + 30.0;
    let _ = writeln!(
        page,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{height:.0}\" role=\"img\" aria-label=\"waterfall\">",
        WIDTH + LEFT + 10.0
    );
    let scale = WIDTH / total.as_secs_f64();
    for lane in 0..lanes {
        let y = LANE * lane as f64;
        let _ = writeln!(page, "<text x=\"0\" y=\"{:.0}\">worker {}</text>", y + 17.0, lane + 1);
    }
    for (index, outcome) in outcomes.iter().enumerate() {
        let class = format!(
            "{}{}",
            outcome.status.as_str(),
            if critical.contains(&index) { " critical" } else { "" }
        );
        for batch in &outcome.batches {
            let x = LEFT + batch.start.as_secs_f64() * scale;
            let width = (batch.end.saturating_sub(batch.start).as_secs_f64() * scale).max(2.0);
            let y = LANE * batch.lane as f64 + 3.0;
            let _ = writeln!(
                page,
                "<g><title>{} — {} ({}, {})</title><rect class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{:.0}\"/>",
                escape(&outcome.name),
                seconds(batch.end.saturating_sub(batch.start)),
                outcome.status.as_str(),
                memory(batch.peak_rss),
                LANE - 6.0
            );
            if width > 40.0 {
                let _ = writeln!(
                    page,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#fff\">{}</text>",
                    x + 4.0,
                    y + 14.0,
                    escape(&outcome.name)
                );
            }
            page.push_str("</g>\n");
        }
    }
    if !cached.is_empty() {
        let y = LANE * lanes as f64;
        let names: Vec<String> = cached.iter().map(|o| escape(&o.name)).collect();
        let _ = writeln!(
            page,
            "<text x=\"0\" y=\"{:.0}\">cached</text><text class=\"cached\" x=\"{LEFT}\" y=\"{:.0}\">◆ {}</text>",
            y + 17.0,
            y + 17.0,
            names.join(", ")
        );
    }
    let _ = writeln!(
        page,
        "<text x=\"{LEFT}\" y=\"{:.0}\">0s</text><text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{}</text>\n</svg>",
        height - 5.0,
        LEFT + WIDTH,
        height - 5.0,
        seconds(total)
    );
}

fn table(page: &mut String, outcomes: &[Outcome], critical: &[usize]) {
    page.push_str(
        "<table>\n<tr><th>gate</th><th>status</th><th>start</th><th>duration</th><th>files</th><th>processes</th><th>peak memory</th></tr>\n",
    );
    for (index, outcome) in outcomes.iter().enumerate() {
        let start = outcome.batches.first().map(|b| b.start).or(outcome.started);
        let peak = outcome.batches.iter().filter_map(|b| b.peak_rss).max();
        let status = if outcome.cached {
            format!("{} (cached)", outcome.status.as_str())
        } else {
            outcome.status.as_str().to_owned()
        };
        let _ = writeln!(
            page,
            "<tr{}><td>{}</td><td>{status}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if critical.contains(&index) {
                " class=\"critical\""
            } else {
                ""
            },
            escape(&outcome.name),
            start.map_or_else(|| "–".to_owned(), seconds),
            if matches!(outcome.status, Status::Skipped | Status::Blocked) {
                "–".to_owned()
            } else {
                seconds(outcome.duration)
            },
            outcome.files.len(),
            outcome.processes,
            memory(peak)
        );
    }
    page.push_str("</table>\n");
}

/// The chain of gates, through `depends_on`, that ended last: the gate that finished last,
/// then whichever of its dependencies finished last, and so on.
fn critical_path(outcomes: &[Outcome], dependencies: &[Vec<usize>]) -> Vec<usize> {
    let end = |g: usize| outcomes[g].batches.iter().map(|b| b.end).max();
    let Some(mut gate) = (0..outcomes.len())
        .filter(|&g| end(g).is_some())
        .max_by_key(|&g| end(g))
    else {
        return Vec::new();
    };
    let mut path = vec![gate];
    while let Some(&before) = dependencies
        .get(gate)
        .into_iter()
        .flatten()
        .filter(|&&d| end(d).is_some() && !path.contains(&d))
        .max_by_key(|&&d| end(d))
    {
        path.push(before);
        gate = before;
    }
    path.reverse();
    path
}

fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}

fn memory(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "–".to_owned(),
        |b| format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Batch, Kind};

    fn outcome(name: &str, batches: &[(usize, u64, u64)]) -> Outcome {
        let mut outcome = Outcome::not_run(name, Kind::Lint, Status::Passed, "", crate::model::Files::default());
        outcome.batches = batches
            .iter()
            .map(|&(lane, start, end)| Batch {
                lane,
                start: Duration::from_millis(start),
                end: Duration::from_millis(end),
                peak_rss: Some(3 << 20),
            })
            .collect();
        outcome
    }

    #[test]
    fn the_critical_path_follows_the_dependency_that_ended_last() {
        let outcomes = [
            outcome("build", &[(0, 0, 500)]),
            outcome("lint", &[(1, 0, 100)]),
            outcome("test", &[(0, 500, 900)]),
            outcome("docs", &[(1, 100, 200)]),
        ];
        let dependencies = vec![vec![], vec![], vec![0, 1], vec![]];
        assert_eq!(critical_path(&outcomes, &dependencies), [0, 2]);
    }

    #[test]
    fn names_are_escaped_and_every_gate_is_in_the_table() {
        let mut cached = outcome("<cached>", &[]);
        cached.cached = true;
        let outcomes = [outcome("a&b", &[(0, 0, 10), (1, 0, 20)]), cached];
        let changes = crate::git::changes::ChangeSet {
            source: crate::git::changes::Source::All,
            base: None,
            head: None,
            files: Vec::new(),
        };
        let lines = crate::model::ChangedLines::default();
        let report = Report {
            root: std::path::Path::new("/"),
            stage: "manual",
            changes: &changes,
            outcomes: &outcomes,
            duration: Duration::from_millis(25),
            exit_code: 0,
            lines: &lines,
            dependencies: &[vec![], vec![]],
        };
        let page = render(&report);
        assert!(
            page.contains("<td>a&amp;b</td>") && page.contains("&lt;cached&gt;"),
            "{page}"
        );
        assert_eq!(page.matches("<rect").count(), 2);
        assert!(page.contains("passed (cached)") && page.contains("3.0 MB"), "{page}");
        assert!(!page.contains("<script"));
    }
}
