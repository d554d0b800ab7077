//! The secrets gate's job: scan what the change adds (the added lines of each file; every
//! line with `--all`), skipping binary files, lockfiles and allowed paths, and report each
//! finding masked. Findings the baseline records, that an allow regex or stopword covers,
//! or that a line's allow comment names do not fail the gate. For a range of commits (a
//! push, `--base`) what each earlier commit added counts too: the history is sent with
//! the tip, and a secret removed later is still in it.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::config::SecretsSpec;
use crate::git::history::History;
use crate::model::text::plural;
use crate::model::{ChangedLines, Diagnostic, Problem, Severity, Verdict};
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
    /// What the range's earlier commits added, and the git directory that holds them.
    pub(crate) history: Option<(History, PathBuf)>,
}

/// A finding that fails the gate.
pub(crate) struct Found {
    pub(crate) path: String,
    pub(crate) finding: Finding,
    /// The commit that added it, when the tip no longer holds it where it was added.
    pub(crate) commit: Option<String>,
}

impl Found {
    /// What the finding is, the secret masked.
    pub(crate) fn describe(&self) -> String {
        let what = format!("{}: {}", self.finding.rule, mask(&self.finding.secret));
        match &self.commit {
            Some(commit) => format!("{what}, added by commit {commit}: gone from the tip there, still in the history"),
            None => what,
        }
    }
}

/// Said when a finding is in the history only.
pub(crate) const IN_HISTORY: &str = "a secret a commit added stays in the history the push sends, also when a later commit removes it: revoke it, then rewrite the commits that hold it (`git rebase -i`)";

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
            .map(|found| Diagnostic {
                file: found.path.clone(),
                line: Some(found.finding.line),
                column: Some(found.finding.column),
                end_line: None,
                severity: Severity::Error,
                code: Some(found.finding.rule.clone()),
                message: found.describe(),
            })
            .collect();
        let files: HashSet<&str> = found.iter().map(|f| f.path.as_str()).collect();
        let mut summary = if found.is_empty() {
            format!("no secrets in {}", plural(self.files.len(), "file"))
        } else {
            format!("{} in {}", plural(found.len(), "secret"), plural(files.len(), "file"))
        };
        if allowed > 0 {
            let _ = write!(summary, " ({allowed} allowed)");
        }
        let mut notes = Vec::new();
        if found.iter().any(|f| f.commit.is_some()) {
            notes.push(IN_HISTORY.to_owned());
        }
        Ok(Verdict {
            passed: found.is_empty(),
            summary,
            diagnostics,
            notes,
            details: None,
            error: self.history.as_ref().and_then(|(history, _)| cut_short(history)),
        })
    }

    /// The findings that fail the gate, and how many were allowed.
    pub(crate) fn scan(&self) -> Result<(Vec<Found>, usize)> {
        let scanner = Scanner::with(&self.spec.rules).map_err(anyhow::Error::msg)?;
        let baseline = match &self.spec.baseline {
            Some(path) if crate::git::stat::leads_out(&self.root, path) => {
                return Err(Problem::hinted(
                    format!("the baseline `{}` is a link out of the repository", path.display()),
                    "gate reads only files inside the repository: keep the baseline there",
                )
                .into());
            }
            Some(path) => load_baseline(&self.root.join(path))?,
            None => HashSet::new(),
        };
        let lockfiles = crate::config::lockfile_set();
        let skipped = |file: &Path| self.spec.allow_paths.is_match(file) || lockfiles.is_match(file);
        let mut found = Vec::new();
        let mut allowed = 0;
        // A secret the tip holds is shown there; one only the history holds, once, where it
        // was first added.
        let mut seen = HashSet::new();
        let mut judge = |path: &str, finding: Finding, commit: Option<String>| {
            let print = fingerprint(&finding.rule, path, &finding.secret);
            if !seen.insert(print.clone()) && commit.is_some() {
                return;
            }
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
                found.push(Found {
                    path: path.to_owned(),
                    finding,
                    commit,
                });
            }
        };
        for file in &self.files {
            let shown = file.to_string_lossy().into_owned();
            if skipped(file) {
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
                judge(&shown, finding, None);
            }
        }
        if let Some((history, git_dir)) = &self.history {
            let repo = git2::Repository::open(git_dir)
                .with_context(|| format!("failed to open the repository `{}`", git_dir.display()))?;
            for added in history.introduced.iter().filter(|added| !skipped(&added.path)) {
                let blob = repo
                    .find_blob(added.blob)
                    .with_context(|| format!("failed to read `{}` of commit {}", added.path.display(), added.commit))?;
                if !is_text(blob.content()) {
                    continue;
                }
                let text = String::from_utf8_lossy(blob.content());
                let commit = repo
                    .find_object(added.commit, None)
                    .and_then(|o| o.short_id())
                    .ok()
                    .and_then(|id| std::str::from_utf8(&id).ok().map(str::to_owned))
                    .unwrap_or_else(|| added.commit.to_string());
                let shown = added.path.to_string_lossy();
                for finding in scanner.scan(&text, Some(&added.lines)) {
                    judge(&shown, finding, Some(commit.clone()));
                }
            }
        }
        Ok((found, allowed))
    }
}

/// The commits a shallow clone could not say anything about: the gate cannot pass.
pub(crate) fn cut_short(history: &History) -> Option<Problem> {
    let first = history.cut.first()?;
    Some(Problem::hinted(
        format!(
            "{} of the range not scanned ({first}{}): this clone lacks their parents, so what they added is unknown",
            plural(history.cut.len(), "commit"),
            if history.cut.len() > 1 { " and others" } else { "" }
        ),
        "fetch the whole history (`git fetch --unshallow`, or `fetch-depth: 0` for actions/checkout)",
    ))
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
    if !is_text(&bytes) {
        return None;
    }
    Some(String::from_utf8(bytes).unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()))
}

/// Not a binary (a NUL in the first 8000 bytes, as git judges), nor too big to be
/// hand-written.
fn is_text(bytes: &[u8]) -> bool {
    bytes.len() as u64 <= MAX_FILE && !crate::model::text::looks_binary(bytes)
}

fn load_baseline(path: &Path) -> Result<HashSet<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("failed to read the baseline `{}`", path.display()))?;
    let baseline: Baseline =
        serde_json::from_str(&text).with_context(|| format!("`{}` is not a gate secrets baseline", path.display()))?;
    Ok(baseline.findings.into_iter().map(|f| f.fingerprint).collect())
}
