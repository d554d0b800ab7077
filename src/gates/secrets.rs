//! The secrets gate's job: scan what the change adds (the added lines of each file; every
//! line with `--all`), skipping binary files, lockfiles and allowed paths, and report each
//! finding masked. Findings the baseline records, that an allow regex or stopword covers,
//! or that a line's allow comment names do not fail the gate.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::config::SecretsSpec;
use crate::model::text::plural;
use crate::model::{ChangedLines, Diagnostic, Severity, Verdict};
use crate::secrets::{Finding, Scanner, fingerprint, mask};

/// A file bigger than this is not text anyone commits by hand.
const MAX_FILE: u64 = 10 << 20;

#[derive(Debug)]
pub(crate) struct SecretsJob {
    pub(crate) spec: SecretsSpec,
    pub(crate) root: PathBuf,
    /// Repository-relative files that exist.
    pub(crate) files: Vec<PathBuf>,
    /// The lines the change added, per file; `None`: every line.
    pub(crate) lines: Option<ChangedLines>,
}

/// A baseline file: findings accepted when it was written, by fingerprint only.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Baseline {
    pub(crate) version: u32,
    pub(crate) findings: Vec<Recorded>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Recorded {
    pub(crate) rule: String,
    pub(crate) path: String,
    pub(crate) fingerprint: String,
}

impl SecretsJob {
    pub(crate) fn run(&self) -> Result<Verdict> {
        let (found, allowed) = self.scan()?;
        let diagnostics: Vec<Diagnostic> = found
            .iter()
            .map(|(path, f)| Diagnostic {
                file: path.clone(),
                line: Some(f.line),
                column: Some(f.column),
                end_line: None,
                severity: Severity::Error,
                code: Some(f.rule.clone()),
                message: format!("{}: {}", f.rule, mask(&f.secret)),
            })
            .collect();
        let files: HashSet<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        let mut summary = if found.is_empty() {
            format!("no secrets in {}", plural(self.files.len(), "file"))
        } else {
            format!("{} in {}", plural(found.len(), "secret"), plural(files.len(), "file"))
        };
        if allowed > 0 {
            let _ = write!(summary, " ({allowed} allowed)");
        }
        Ok(Verdict {
            passed: found.is_empty(),
            summary,
            diagnostics,
            notes: Vec::new(),
            details: None,
            error: None,
        })
    }

    /// The findings that fail the gate (path, finding), and how many were allowed.
    pub(crate) fn scan(&self) -> Result<(Vec<(String, Finding)>, usize)> {
        let scanner = Scanner::with(&self.spec.rules).map_err(anyhow::Error::msg)?;
        let baseline = match &self.spec.baseline {
            Some(path) => load_baseline(&self.root.join(path))?,
            None => HashSet::new(),
        };
        let lockfiles = crate::config::lockfile_set();
        let mut found = Vec::new();
        let mut allowed = 0;
        for file in &self.files {
            let shown = file.to_string_lossy().into_owned();
            if self.spec.allow_paths.is_match(file) || lockfiles.is_match(file) {
                continue;
            }
            let Some(text) = read_text(&self.root.join(file)) else {
                continue;
            };
            let only = self
                .lines
                .as_ref()
                .map(|lines| lines.get(&shown).map(Vec::as_slice).unwrap_or_default());
            for finding in scanner.scan(&text, only) {
                let print = fingerprint(&finding.rule, &shown, &finding.secret);
                if baseline.contains(&print)
                    || self.spec.allow_regexes.iter().any(|r| r.is_match(&finding.secret))
                    || self
                        .spec
                        .stopwords
                        .iter()
                        .any(|w| finding.secret.to_lowercase().contains(&w.to_lowercase()))
                {
                    allowed += 1;
                } else {
                    found.push((shown.clone(), finding));
                }
            }
        }
        Ok((found, allowed))
    }
}

/// A file's text; `None` for links, binaries (a NUL in the first 8000 bytes, as git
/// judges) and files too big to be hand-written.
fn read_text(path: &Path) -> Option<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // Opened without following a link (never read what a link in the repository names).
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).ok()?);
    file.take(MAX_FILE).read_to_end(&mut bytes).ok()?;
    if crate::model::text::looks_binary(&bytes) {
        return None;
    }
    Some(String::from_utf8(bytes).unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()))
}

fn load_baseline(path: &Path) -> Result<HashSet<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("failed to read the baseline `{}`", path.display()))?;
    let baseline: Baseline =
        serde_json::from_str(&text).with_context(|| format!("`{}` is not a gate secrets baseline", path.display()))?;
    Ok(baseline.findings.into_iter().map(|f| f.fingerprint).collect())
}
