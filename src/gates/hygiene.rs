//! The hygiene gates, built in (no Python needed): trailing whitespace, the end of file,
//! mixed line endings, merge conflict markers, large files, JSON/TOML/YAML that does not
//! parse, executables without a shebang, and paths that differ only in case. The first
//! three fix what they find when the run fixes, as pre-commit's hooks do.
//!
//! Files are read through no link: a symlink is a path, not content of this repository.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::de::IgnoredAny;

use crate::config::HygieneCheck;
use crate::model::text::plural;
use crate::model::{Diagnostic, Severity, Verdict};

/// One hygiene gate's work on the changed files it matched.
#[derive(Debug)]
pub(crate) struct HygieneJob {
    pub(crate) check: HygieneCheck,
    pub(crate) root: PathBuf,
    /// Repository-relative, existing files.
    pub(crate) files: Vec<PathBuf>,
    /// Rewrite what the check can fix.
    pub(crate) fix: bool,
    pub(crate) max_kb: u64,
    /// Every tracked path, for `case-conflict`.
    pub(crate) tracked: Vec<String>,
}

/// What one file came to: its problems, and its new content when it was fixed.
struct Looked {
    found: Vec<Finding>,
    fixed: Option<Vec<u8>>,
}

struct Finding {
    line: Option<u32>,
    message: String,
}

impl HygieneJob {
    pub(crate) fn run(&self) -> Result<Verdict> {
        let mut diagnostics = Vec::new();
        let mut fixed = 0;
        if self.check == HygieneCheck::CaseConflict {
            diagnostics = self.case_conflicts();
        } else {
            for file in &self.files {
                let Some(looked) = self.look(file)? else { continue };
                if let Some(content) = looked.fixed {
                    write_in_place(&self.root.join(file), &content)?;
                    fixed += 1;
                    continue;
                }
                diagnostics.extend(looked.found.into_iter().map(|f| Diagnostic {
                    file: file.to_string_lossy().into_owned(),
                    line: f.line,
                    column: None,
                    end_line: None,
                    severity: Severity::Error,
                    code: Some(self.check.name().to_owned()),
                    message: f.message,
                }));
            }
        }
        let files_with = {
            let mut names: Vec<&str> = diagnostics.iter().map(|d| d.file.as_str()).collect();
            names.dedup();
            names.len()
        };
        let summary = match (diagnostics.len(), fixed) {
            (0, 0) => format!("{} checked", plural(self.files.len(), "file")),
            (0, n) => format!("fixed {}", plural(n, "file")),
            (n, _) => format!("{} in {}", plural(n, "problem"), plural(files_with, "file")),
        };
        Ok(Verdict {
            passed: diagnostics.is_empty(),
            summary,
            diagnostics,
            notes: Vec::new(),
            details: None,
            error: None,
        })
    }

    /// The file's problems; `None` for what this check does not read (links, binaries).
    fn look(&self, file: &Path) -> Result<Option<Looked>> {
        let path = self.root.join(file);
        let meta = fs::symlink_metadata(&path).with_context(|| format!("failed to read `{}`", file.display()))?;
        if !meta.is_file() {
            return Ok(None);
        }
        if self.check == HygieneCheck::LargeFiles {
            let limit = self.max_kb * 1024;
            let found = (meta.len() > limit)
                .then(|| Finding {
                    line: None,
                    message: format!("{} KB, more than `max_kb = {}`", meta.len().div_ceil(1024), self.max_kb),
                })
                .into_iter()
                .collect();
            return Ok(Some(Looked { found, fixed: None }));
        }
        let bytes = fs::read(&path).with_context(|| format!("failed to read `{}`", file.display()))?;
        let text_only = !matches!(self.check, HygieneCheck::ExecutableShebang);
        if text_only && crate::model::text::looks_binary(&bytes) {
            return Ok(None);
        }
        let executable = meta.permissions().mode() & 0o111 != 0;
        let found = self.check.find(&bytes, executable);
        let fixed = (self.fix && !found.is_empty())
            .then(|| self.check.fixed(&bytes))
            .flatten()
            .filter(|content| *content != bytes);
        Ok(Some(Looked { found, fixed }))
    }

    /// Changed paths that differ only in case from another tracked path (or from each
    /// other): on macOS and Windows they are one file.
    fn case_conflicts(&self) -> Vec<Diagnostic> {
        let mut by_folded: HashMap<String, Vec<&str>> = HashMap::new();
        let changed: Vec<String> = self.files.iter().map(|f| f.to_string_lossy().into_owned()).collect();
        let mut all: Vec<&str> = self
            .tracked
            .iter()
            .map(String::as_str)
            .chain(changed.iter().map(String::as_str))
            .collect();
        all.sort_unstable();
        all.dedup();
        for path in &all {
            // Folders count too: `Docs/a` and `docs/b` clash on `docs`.
            let mut end = 0;
            for part in path.split('/') {
                end += part.len();
                let prefix = &path[..end];
                let entry = by_folded.entry(prefix.to_lowercase()).or_default();
                if !entry.contains(&prefix) {
                    entry.push(prefix);
                }
                end += 1;
            }
        }
        changed
            .iter()
            .filter_map(|file| {
                let mut end = 0;
                for part in file.split('/') {
                    end += part.len();
                    let prefix = &file[..end];
                    let clash: Vec<&&str> = by_folded[&prefix.to_lowercase()]
                        .iter()
                        .filter(|p| **p != prefix)
                        .collect();
                    if let Some(other) = clash.first() {
                        return Some(Diagnostic {
                            file: file.clone(),
                            line: None,
                            column: None,
                            end_line: None,
                            severity: Severity::Error,
                            code: Some(HygieneCheck::CaseConflict.name().to_owned()),
                            message: format!("`{prefix}` and `{other}` differ only in case"),
                        });
                    }
                    end += 1;
                }
                None
            })
            .collect()
    }
}

impl HygieneCheck {
    fn find(self, bytes: &[u8], executable: bool) -> Vec<Finding> {
        let at = |line: usize, message: &str| Finding {
            line: u32::try_from(line).ok(),
            message: message.to_owned(),
        };
        match self {
            HygieneCheck::TrailingWhitespace => lines(bytes)
                .enumerate()
                .filter(|(_, line)| strip_cr(line).last().is_some_and(|b| *b == b' ' || *b == b'\t'))
                .map(|(i, _)| at(i + 1, "trailing whitespace"))
                .collect(),
            HygieneCheck::EndOfFile => end_of_file(bytes).into_iter().collect(),
            HygieneCheck::MixedLineEnding => mixed_line_endings(bytes).into_iter().collect(),
            HygieneCheck::MergeConflict => merge_conflicts(bytes),
            HygieneCheck::CheckJson => parse_error(bytes, |text| {
                serde_json::from_str::<IgnoredAny>(text)
                    .map(|_| ())
                    .map_err(|err| (u32::try_from(err.line()).ok(), err.to_string()))
            }),
            HygieneCheck::CheckToml => parse_error(bytes, |text| {
                toml::from_str::<toml::Table>(text).map(|_| ()).map_err(|err| {
                    let line = err
                        .span()
                        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
                    (
                        line.and_then(|l| u32::try_from(l).ok()),
                        err.message().trim().to_owned(),
                    )
                })
            }),
            HygieneCheck::CheckYaml => parse_error(bytes, |text| {
                serde_saphyr::from_multiple::<IgnoredAny>(text)
                    .map(|_| ())
                    .map_err(|err| {
                        let line = err.location().and_then(|l| u32::try_from(l.line()).ok());
                        (line, err.to_string().lines().next().unwrap_or_default().to_owned())
                    })
            }),
            HygieneCheck::ExecutableShebang => {
                if executable && !bytes.starts_with(b"#!") {
                    vec![at(
                        1,
                        "executable but has no shebang (`#!`): mark it not executable, or add one",
                    )]
                } else {
                    Vec::new()
                }
            }
            HygieneCheck::LargeFiles | HygieneCheck::CaseConflict => Vec::new(),
        }
    }

    /// The content with the problems fixed, for the checks that can fix.
    fn fixed(self, bytes: &[u8]) -> Option<Vec<u8>> {
        match self {
            HygieneCheck::TrailingWhitespace => Some(
                split_keeping_ends(bytes)
                    .flat_map(|(line, end)| {
                        let body = line
                            .iter()
                            .rposition(|b| *b != b' ' && *b != b'\t')
                            .map_or(0, |i| i + 1);
                        line[..body].iter().chain(end).copied().collect::<Vec<u8>>()
                    })
                    .collect(),
            ),
            HygieneCheck::EndOfFile => {
                let body = bytes
                    .iter()
                    .rposition(|b| *b != b'\n' && *b != b'\r')
                    .map_or(0, |i| i + 1);
                let mut fixed = bytes[..body].to_vec();
                if body > 0 {
                    fixed.extend_from_slice(if crlf_count(bytes) > lf_count(bytes) {
                        b"\r\n"
                    } else {
                        b"\n"
                    });
                }
                Some(fixed)
            }
            HygieneCheck::MixedLineEnding => {
                let to: &[u8] = if crlf_count(bytes) > lf_count(bytes) {
                    b"\r\n"
                } else {
                    b"\n"
                };
                Some(
                    split_keeping_ends(bytes)
                        .flat_map(|(line, end)| {
                            let end = if end.is_empty() { end } else { to };
                            line.iter().chain(end).copied().collect::<Vec<u8>>()
                        })
                        .collect(),
                )
            }
            _ => None,
        }
    }
}

/// The lines of a file, without their `\n`.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.split(|b| *b == b'\n').filter(move |_| !bytes.is_empty())
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Each line and its ending (`\n`, `\r\n`, or nothing for the last line without one).
fn split_keeping_ends(bytes: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, end, next) = match memchr::memchr(b'\n', rest) {
            Some(at) if at > 0 && rest[at - 1] == b'\r' => (&rest[..at - 1], &rest[at - 1..=at], &rest[at + 1..]),
            Some(at) => (&rest[..at], &rest[at..=at], &rest[at + 1..]),
            None => (rest, &rest[rest.len()..], &rest[rest.len()..]),
        };
        rest = next;
        Some((line, end))
    })
}

fn crlf_count(bytes: &[u8]) -> usize {
    bytes.windows(2).filter(|w| w == b"\r\n").count()
}

fn lf_count(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count() - crlf_count(bytes)
}

fn end_of_file(bytes: &[u8]) -> Option<Finding> {
    let line_count = memchr::memchr_iter(b'\n', bytes).count();
    if bytes.is_empty() {
        return None;
    }
    let at = |message: &str| Finding {
        line: u32::try_from(line_count.max(1)).ok(),
        message: message.to_owned(),
    };
    if !bytes.ends_with(b"\n") {
        return Some(at("no newline at the end of the file"));
    }
    let trimmed = strip_cr(&bytes[..bytes.len() - 1]);
    (trimmed.is_empty() || trimmed.ends_with(b"\n")).then(|| at("blank lines at the end of the file"))
}

fn mixed_line_endings(bytes: &[u8]) -> Option<Finding> {
    let (crlf, lf) = (crlf_count(bytes), lf_count(bytes));
    if crlf == 0 || lf == 0 {
        return None;
    }
    // Point at the first line that differs from the file's majority.
    let minority_is_crlf = crlf <= lf;
    let line = split_keeping_ends(bytes)
        .position(|(_, end)| (end == b"\r\n") == minority_is_crlf && !end.is_empty())
        .map_or(1, |i| i + 1);
    Some(Finding {
        line: u32::try_from(line).ok(),
        message: format!(
            "mixed line endings: {} and {}",
            plural(crlf, "CRLF line"),
            plural(lf, "LF line")
        ),
    })
}

fn merge_conflicts(bytes: &[u8]) -> Vec<Finding> {
    let starts = |line: &[u8], marker: &[u8]| {
        let line = strip_cr(line);
        line.starts_with(marker) && (line.len() == marker.len() || line[marker.len()] == b' ')
    };
    let opened = lines(bytes).any(|line| starts(line, b"<<<<<<<"));
    lines(bytes)
        .enumerate()
        .filter(|(_, line)| {
            starts(line, b"<<<<<<<") || starts(line, b">>>>>>>") || (opened && strip_cr(line) == b"=======")
        })
        .map(|(i, line)| Finding {
            line: u32::try_from(i + 1).ok(),
            message: format!(
                "merge conflict marker `{}`",
                String::from_utf8_lossy(&strip_cr(line)[..7])
            ),
        })
        .collect()
}

/// A parse error of a text format, at its line.
fn parse_error(bytes: &[u8], parse: impl Fn(&str) -> Result<(), (Option<u32>, String)>) -> Vec<Finding> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return vec![Finding {
            line: None,
            message: "not UTF-8 text".to_owned(),
        }];
    };
    match parse(text) {
        Ok(()) => Vec::new(),
        Err((line, message)) => vec![Finding { line, message }],
    }
}

/// Rewrites a file's content where it is (keeping its mode and inode), never through a link.
fn write_in_place(path: &Path, content: &[u8]) -> Result<()> {
    let meta = fs::symlink_metadata(path)?;
    anyhow::ensure!(
        meta.is_file(),
        "`{}` is not a regular file; not rewritten",
        path.display()
    );
    fs::write(path, content).with_context(|| format!("failed to write `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(check: HygieneCheck, text: &[u8]) -> Vec<(Option<u32>, String)> {
        check
            .find(text, false)
            .into_iter()
            .map(|f| (f.line, f.message))
            .collect()
    }

    #[test]
    fn trailing_whitespace_found_and_fixed_keeping_line_ends() {
        let text = b"a \nb\t\r\nc\nd  ";
        let lines: Vec<_> = found(HygieneCheck::TrailingWhitespace, text)
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(lines, [Some(1), Some(2), Some(4)]);
        assert_eq!(HygieneCheck::TrailingWhitespace.fixed(text).unwrap(), b"a\nb\r\nc\nd");
    }

    #[test]
    fn end_of_file_wants_exactly_one_newline() {
        assert!(found(HygieneCheck::EndOfFile, b"a\n").is_empty());
        assert!(found(HygieneCheck::EndOfFile, b"").is_empty());
        assert_eq!(found(HygieneCheck::EndOfFile, b"a\nb")[0].0, Some(1));
        assert_eq!(found(HygieneCheck::EndOfFile, b"a\n\n\n").len(), 1);
        assert_eq!(HygieneCheck::EndOfFile.fixed(b"a\nb").unwrap(), b"a\nb\n");
        assert_eq!(HygieneCheck::EndOfFile.fixed(b"a\n\n\r\n").unwrap(), b"a\n");
        assert_eq!(HygieneCheck::EndOfFile.fixed(b"a\r\nb").unwrap(), b"a\r\nb\r\n");
        assert_eq!(HygieneCheck::EndOfFile.fixed(b"\n\n").unwrap(), b"");
    }

    #[test]
    fn mixed_line_endings_go_to_the_majority() {
        assert!(found(HygieneCheck::MixedLineEnding, b"a\r\nb\r\n").is_empty());
        let text = b"a\r\nb\nc\n";
        assert_eq!(found(HygieneCheck::MixedLineEnding, text)[0].0, Some(1));
        assert_eq!(HygieneCheck::MixedLineEnding.fixed(text).unwrap(), b"a\nb\nc\n");
        assert_eq!(
            HygieneCheck::MixedLineEnding.fixed(b"a\r\nb\r\nc\nd").unwrap(),
            b"a\r\nb\r\nc\r\nd"
        );
    }

    #[test]
    fn merge_markers_but_not_rst_headings() {
        let text = b"a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> branch\n";
        let lines: Vec<_> = found(HygieneCheck::MergeConflict, text)
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(lines, [Some(2), Some(4), Some(6)]);
        assert!(found(HygieneCheck::MergeConflict, b"Title\n=======\n").is_empty());
    }

    #[test]
    fn parse_errors_point_at_their_line() {
        assert!(found(HygieneCheck::CheckJson, b"{\"a\": 1}").is_empty());
        assert_eq!(found(HygieneCheck::CheckJson, b"{\n\"a\": 1,\n}")[0].0, Some(3));
        assert_eq!(found(HygieneCheck::CheckToml, b"a = 1\nb = \n")[0].0, Some(2));
        assert!(found(HygieneCheck::CheckYaml, b"a: 1\n---\nb: 2\n").is_empty());
        assert_eq!(
            found(HygieneCheck::CheckYaml, b"a: 1\nb: [\n")[0].0.map(|l| l >= 2),
            Some(true)
        );
    }

    #[test]
    fn shebangs_on_executables() {
        assert_eq!(HygieneCheck::ExecutableShebang.find(b"echo", true).len(), 1);
        assert!(
            HygieneCheck::ExecutableShebang
                .find(b"#!/bin/sh\necho", true)
                .is_empty()
        );
        assert!(HygieneCheck::ExecutableShebang.find(b"echo", false).is_empty());
    }

    #[test]
    fn case_conflicts_with_tracked_paths_and_folders() {
        let job = HygieneJob {
            check: HygieneCheck::CaseConflict,
            root: PathBuf::from("/"),
            files: vec!["README.md".into(), "Docs/b.md".into(), "src/ok.rs".into()],
            fix: false,
            max_kb: 500,
            tracked: vec!["readme.md".into(), "docs/a.md".into(), "src/lib.rs".into()],
        };
        let found: Vec<String> = job.case_conflicts().into_iter().map(|d| d.message).collect();
        assert_eq!(
            found,
            [
                "`README.md` and `readme.md` differ only in case",
                "`Docs` and `docs` differ only in case"
            ]
        );
    }
}
