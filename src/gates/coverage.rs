//! The built-in coverage gate: reads the reports, checks `min_total` and `min_patch`, and
//! makes one diagnostic per run of uncovered changed lines.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Result;

use crate::config::CoverageSpec;
use crate::coverage::{self, Measure, Merged, Uncovered, paths::Resolver};
use crate::git::Repo;
use crate::git::changes::ChangeSet;
use crate::model::{ChangedLines, Diagnostic, Problem, Severity, Verdict};

/// Everything one run of the gate needs, gathered on the coordinating thread.
#[derive(Debug)]
pub(crate) struct CoverageJob {
    pub(crate) spec: CoverageSpec,
    pub(crate) root: PathBuf,
    pub(crate) tracked: Vec<String>,
    /// The gate's `workdir`, relative to the root: report paths resolve against it first.
    pub(crate) workdir: PathBuf,
    /// The change; its changed lines are read only for the files the reports measure.
    pub(crate) changes: ChangeSet,
}

impl CoverageJob {
    /// `fresh_after`: when a test gate this one depends on ran in this run, reports older than
    /// it are stale, not evidence.
    pub(crate) fn run(&self, fresh_after: Option<SystemTime>) -> Result<Verdict> {
        let resolver = Resolver::new(&self.root, &self.workdir, &self.tracked, &self.spec.path_map);
        let mut merged = Merged::default();
        for report in &self.spec.reports {
            // Relative to the gate's workdir first, where its tests ran.
            let in_workdir = self.root.join(&self.workdir).join(report);
            let (path, report) = if !self.workdir.as_os_str().is_empty() && in_workdir.exists() {
                (in_workdir, &self.workdir.join(report))
            } else {
                (self.root.join(report), report)
            };
            if crate::git::stat::leads_out(&self.root, &path) {
                return Err(Problem::hinted(
                    format!(
                        "the coverage report `{}` is a link out of the repository",
                        report.display()
                    ),
                    "gate reads only files inside the repository: have the tests write the report there",
                )
                .into());
            }
            let modified = std::fs::metadata(&path).and_then(|m| m.modified());
            let Ok(modified) = modified else {
                return Err(Problem::hinted(
                    format!("the coverage report `{}` does not exist", report.display()),
                    "run the tests that write it first (make this gate `depends_on` them), or fix `report`",
                )
                .into());
            };
            if let Some(fresh_after) = fresh_after
                && modified < fresh_after
            {
                return Err(Problem::hinted(
                    format!(
                        "the coverage report `{}` is older than this run's tests, so it does not measure this change",
                        report.display()
                    ),
                    format!(
                        "make the test gate write `{}` (e.g. with a coverage flag)",
                        report.display()
                    ),
                )
                .into());
            }
            let mut measured = 0usize;
            coverage::read(&path, &self.spec.source_roots, &mut |file| {
                measured += usize::from(!file.is_empty());
                merged.add(file, &resolver);
            })?;
            if measured == 0 {
                return Err(Problem::hinted(
                    format!(
                        "the coverage report `{}` measures no line, so it says nothing about coverage",
                        report.display()
                    ),
                    "check that the tests ran with coverage on and wrote this file",
                )
                .into());
            }
        }
        let changed = self.changed_lines(&merged)?;
        Ok(judge(&self.spec, &merged.measure(&changed, &self.spec.exclude)))
    }

    /// Changed line ranges of the changed files that the reports measure. The repository is
    /// opened here, on the worker thread (a git2 repository is not shared between threads).
    fn changed_lines(&self, merged: &Merged) -> Result<ChangedLines> {
        let changed: std::collections::HashSet<&std::path::Path> = self
            .changes
            .files
            .iter()
            .filter(|f| f.exists())
            .map(|f| f.path.as_path())
            .collect();
        let paths: Vec<&str> = merged.paths().filter(|p| changed.contains(Path::new(p))).collect();
        if paths.is_empty() {
            return Ok(ChangedLines::new());
        }
        let repo = Repo::open()?;
        crate::git::lines::changed_lines_of(&repo, &self.changes, &paths)
    }
}

fn judge(spec: &CoverageSpec, measure: &Measure) -> Verdict {
    let percent = |p: Option<f64>| p.map_or_else(|| "n/a".to_owned(), |p| format!("{p:.2}%"));
    let mut passed = true;
    let mut parts = Vec::new();
    let patch = measure.patch;
    if patch.measured == 0 {
        parts.push("no coverable lines changed".to_owned());
    } else {
        let verdict = match spec.min_patch {
            Some(min) if !patch.reaches(min) => {
                passed = false;
                format!(" < {min:.2}%")
            }
            Some(min) => format!(" ≥ {min:.2}%"),
            None => String::new(),
        };
        parts.push(format!(
            "patch {}{verdict} ({}/{} lines)",
            percent(patch.percent()),
            patch.covered,
            patch.measured
        ));
    }
    let total = measure.total;
    let verdict = match spec.min_total {
        Some(min) if total.measured > 0 && !total.reaches(min) => {
            passed = false;
            format!(" < {min:.2}%")
        }
        Some(min) if total.measured > 0 => format!(" ≥ {min:.2}%"),
        _ => String::new(),
    };
    parts.push(format!("total {}{verdict}", percent(total.percent())));
    let severity = if spec.min_patch.is_some() {
        Severity::Error
    } else {
        Severity::Warning
    };
    let diagnostics = measure.uncovered.iter().map(|u| uncovered(u, severity)).collect();
    let notes = unplaced_notes(measure);
    // Lines were measured (each report was checked for that), but none in a tracked file
    // (files the gate excludes on purpose aside).
    let unplaced = !measure.unmatched.is_empty() || !measure.ambiguous.is_empty();
    let error = (total.measured == 0 && unplaced).then(|| {
        Problem::hinted(
            format!(
                "the coverage reports measure no tracked file ({} report paths match none, {} match several)",
                measure.unmatched.len(),
                measure.ambiguous.len()
            ),
            "map the report's paths with `path_map`, or set the gate's `workdir`",
        )
    });
    Verdict {
        passed,
        summary: parts.join("; "),
        diagnostics,
        notes,
        details: serde_json::to_value(measure).ok(),
        error,
    }
}

/// A run of changed lines no test covers.
fn uncovered(Uncovered { file, lines }: &Uncovered, severity: Severity) -> Diagnostic {
    Diagnostic {
        file: file.clone(),
        line: Some(lines.first),
        column: None,
        end_line: Some(lines.last).filter(|&l| l != lines.first),
        severity,
        code: Some("uncovered".to_owned()),
        message: if lines.first == lines.last {
            format!("line {} is changed but no test covers it", lines.first)
        } else {
            format!(
                "lines {}-{} are changed but no test covers them",
                lines.first, lines.last
            )
        },
    }
}

/// A warning for each report path that was not counted, and why.
fn unplaced_notes(measure: &Measure) -> Vec<String> {
    measure
        .unmatched
        .iter()
        .map(|path| {
            format!(
                "warning: `{path}` in the coverage report matches no tracked file; not counted (map it with `path_map`)"
            )
        })
        .chain(measure.ambiguous.iter().map(|(path, all)| {
            format!(
                "warning: `{path}` in the coverage report matches {} tracked files ({}); not counted (map it with `path_map`)",
                all.len(),
                all.join(", ")
            )
        }))
        .collect()
}

/// The report paths a run of `gate coverage` names, relative to `root` where possible.
pub(crate) fn relative_reports(root: &Path, cwd: &Path, reports: &[PathBuf]) -> Vec<PathBuf> {
    reports
        .iter()
        .map(|r| {
            let absolute = cwd.join(r);
            absolute.strip_prefix(root).map(Path::to_path_buf).unwrap_or(absolute)
        })
        .collect()
}
