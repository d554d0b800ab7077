//! Coverage reports: `LCOV`, `Cobertura` XML, `JaCoCo` XML and Go cover profiles, detected from
//! their content, merged (a line is covered when any report covers it), mapped to tracked
//! files, and measured: total coverage and patch coverage (the changed lines that the
//! reports measure, covered / measured, as diff-cover defines it).
//!
//! - `lcov`, `xml` (`Cobertura` and `JaCoCo`), `goprofile`: the parsers, each streaming.
//! - `paths`: report paths to repository paths.

mod goprofile;
mod lcov;
pub(crate) mod paths;
mod xml;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result};
use globset::GlobSet;
use serde::Serialize;

use crate::model::{ChangedLines, LineRange, Problem};

/// Changed lines of a file that the reports measure and no test ran.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Uncovered {
    pub(crate) file: String,
    #[serde(flatten)]
    pub(crate) lines: LineRange,
}

/// One file as a report names it: the paths it could be, most likely first, and hits per line.
#[derive(Debug)]
pub(crate) struct RawFile {
    pub(crate) candidates: Vec<String>,
    pub(crate) lines: HashMap<u32, u64>,
    /// Blocks of lines `(first, last, hits)` (Go profiles), expanded only once the file is
    /// known, and only up to its real length: a block may claim fifty million lines.
    pub(crate) blocks: Vec<(u32, u32, u64)>,
}

impl RawFile {
    fn new(candidates: Vec<String>) -> Self {
        Self {
            candidates,
            lines: HashMap::new(),
            blocks: Vec::new(),
        }
    }

    /// Whether the report measures anything in it.
    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.blocks.is_empty()
    }

    /// The measured lines, clamped to `length` (lines past a file's end do not exist).
    fn into_lines(self, length: u32) -> HashMap<u32, u64> {
        let mut lines = self.lines;
        lines.retain(|&line, _| line >= 1 && line <= length);
        for (first, last, hits) in self.blocks {
            for line in first.max(1)..=last.min(length) {
                let seen = lines.entry(line).or_insert(0);
                *seen = (*seen).max(hits);
            }
        }
        lines
    }
}

/// Reads one report, handing each file to `sink`; the format comes from the content.
pub(crate) fn read(path: &Path, source_roots: &[String], sink: &mut dyn FnMut(RawFile)) -> Result<()> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("failed to open the coverage report `{}`", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let start = reader
        .fill_buf()
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let text = String::from_utf8_lossy(&start[..start.len().min(512)]).into_owned();
    let head = text.trim_start_matches('\u{feff}').trim_start();
    if head.is_empty() {
        return Ok(());
    }
    if head.starts_with("mode:") {
        goprofile::parse(reader, path)?.into_iter().for_each(sink);
        Ok(())
    } else if head.starts_with('<') {
        xml::parse(reader, path, source_roots)?.into_iter().for_each(sink);
        Ok(())
    } else if ["TN:", "SF:", "DA:", "FN:"].iter().any(|p| head.starts_with(p)) {
        lcov::parse(reader, path, sink)
    } else {
        Err(Problem::hinted(
            format!("`{}` is not a coverage report gate can read", path.display()),
            "gate reads LCOV, Cobertura XML, JaCoCo XML and Go cover profiles",
        )
        .into())
    }
}

/// Covered out of measured lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Numbers {
    pub(crate) covered: u64,
    pub(crate) measured: u64,
}

impl Numbers {
    pub(crate) fn percent(self) -> Option<f64> {
        (self.measured > 0).then(|| self.covered as f64 * 100.0 / self.measured as f64)
    }

    /// Whether the exact ratio reaches `minimum` percent (to the hundredth of a percent).
    pub(crate) fn reaches(self, minimum: f64) -> bool {
        let minimum = (minimum * 100.0).round().max(0.0) as u128;
        u128::from(self.covered) * 10_000 >= minimum * u128::from(self.measured)
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FileNumbers {
    pub(crate) file: String,
    pub(crate) total: Numbers,
    pub(crate) patch: Numbers,
}

/// What the reports say about the repository and the change.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Measure {
    pub(crate) total: Numbers,
    pub(crate) patch: Numbers,
    pub(crate) files: Vec<FileNumbers>,
    /// Changed lines the reports measure but no test ran: (file, first, last).
    pub(crate) uncovered: Vec<Uncovered>,
    /// Report paths that match no tracked file: listed, never counted.
    pub(crate) unmatched: Vec<String>,
    /// Report paths that match several tracked files, with them: listed, never counted.
    pub(crate) ambiguous: Vec<(String, Vec<String>)>,
}

/// Hits per line per repository path, merged over reports.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    files: BTreeMap<String, HashMap<u32, u64>>,
    /// A set: a report of thousands of unmatched files must not compare each with all others.
    unmatched: std::collections::BTreeSet<String>,
    ambiguous: BTreeMap<String, Vec<String>>,
}

impl Merged {
    pub(crate) fn add(&mut self, file: RawFile, resolver: &paths::Resolver<'_>) {
        match resolver.resolve(&file.candidates) {
            paths::Resolved::Found(path) => {
                let length = resolver.line_count(&path);
                let measured = file.into_lines(length);
                let lines = self.files.entry(path).or_default();
                if lines.is_empty() {
                    *lines = measured;
                } else {
                    for (line, hits) in measured {
                        *lines.entry(line).or_insert(0) += hits;
                    }
                }
            }
            paths::Resolved::Ambiguous(all) => {
                if let Some(name) = file.candidates.last() {
                    self.ambiguous.insert(name.clone(), all);
                }
            }
            paths::Resolved::NotFound => {
                if let Some(name) = file.candidates.last() {
                    self.unmatched.insert(name.clone());
                }
            }
        }
    }

    pub(crate) fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Total and patch coverage; `changed` holds the changed line ranges per file.
    pub(crate) fn measure(self, changed: &ChangedLines, exclude: &GlobSet) -> Measure {
        let mut measure = Measure {
            unmatched: self.unmatched.into_iter().collect(),
            ambiguous: self.ambiguous.into_iter().collect(),
            ..Measure::default()
        };
        for (file, lines) in self.files {
            if exclude.is_match(&file) {
                continue;
            }
            let mut numbers = FileNumbers {
                file: file.clone(),
                total: Numbers::default(),
                patch: Numbers::default(),
            };
            numbers.total.measured = lines.len() as u64;
            numbers.total.covered = lines.values().filter(|&&hits| hits > 0).count() as u64;
            let mut uncovered_lines = Vec::new();
            if let Some(ranges) = changed.get(&file) {
                for range in ranges {
                    for line in range.first..=range.last {
                        match lines.get(&line) {
                            Some(&hits) if hits > 0 => {
                                numbers.patch.measured += 1;
                                numbers.patch.covered += 1;
                            }
                            Some(_) => {
                                numbers.patch.measured += 1;
                                uncovered_lines.push(line);
                            }
                            None => {}
                        }
                    }
                }
            }
            uncovered_lines.sort_unstable();
            uncovered_lines.dedup();
            // Uncovered changed lines in runs: one diagnostic per run of measured lines,
            // where lines the report does not measure (blank, comments) do not break a run.
            let mut runs: Vec<LineRange> = Vec::new();
            for line in uncovered_lines {
                match runs.last_mut() {
                    Some(run) if (run.last + 1..line).all(|between| !lines.contains_key(&between)) => run.last = line,
                    _ => runs.push(LineRange {
                        first: line,
                        last: line,
                    }),
                }
            }
            measure.uncovered.extend(runs.into_iter().map(|lines| Uncovered {
                file: file.clone(),
                lines,
            }));
            measure.total.measured += numbers.total.measured;
            measure.total.covered += numbers.total.covered;
            measure.patch.measured += numbers.patch.measured;
            measure.patch.covered += numbers.patch.covered;
            measure.files.push(numbers);
        }
        measure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_compare_the_exact_ratio() {
        let n = Numbers {
            covered: 7,
            measured: 8,
        };
        assert!(n.reaches(87.5));
        assert!(!n.reaches(87.51));
        let third = Numbers {
            covered: 1,
            measured: 3,
        };
        assert!(third.reaches(33.33) && !third.reaches(33.34));
        assert!(
            Numbers::default().reaches(90.0),
            "nothing measured never fails a threshold"
        );
    }
}
