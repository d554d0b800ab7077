//! What a fixer changed: its files are read before it runs and compared afterwards, so no
//! `git diff` runs after every gate, and a change is known byte for byte; and where the
//! fixes go afterwards (staged, left in the working tree, merged with unstaged edits).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::{Config, OnFix};
use crate::git::Repo;
use crate::keeper::Restored;
use crate::keeper::content::Content;
use crate::model::text::plural;
use crate::model::{FixedFile, Outcome, Problem, Status};
use crate::printer::Printer;

/// The content of a fixer's files before it ran.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
}

pub(crate) fn snapshot(root: &Path, paths: &[PathBuf]) -> Snapshot {
    Snapshot {
        files: paths.iter().map(|path| (path.clone(), read(root, path))).collect(),
    }
}

/// The files whose content differs from the snapshot now.
pub(crate) fn changed(root: &Path, snapshot: Snapshot) -> Vec<FixedFile> {
    snapshot
        .files
        .into_iter()
        .filter_map(|(path, before)| {
            let after = read(root, &path);
            (after != before).then_some(FixedFile { path, before, after })
        })
        .collect()
}

fn read(root: &Path, path: &Path) -> Option<Vec<u8>> {
    std::fs::read(root.join(path)).ok()
}

/// Puts back what a fixer's files held before it ran: the fixer did not finish (crash,
/// timeout, interruption, non-zero exit), so what it wrote is no fix. Never writes through
/// a link: whatever is at the path now is replaced.
pub(crate) fn undo(root: &Path, files: &[FixedFile]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for file in files {
        let path = root.join(&file.path);
        // The fixer may have rewritten the bytes, never the mode it had to keep.
        let mode = std::fs::symlink_metadata(&path)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map_or(0o644, |m| m.permissions().mode() & 0o7777);
        let before = match &file.before {
            Some(bytes) => Content::File {
                bytes: bytes.clone(),
                mode,
            },
            None => Content::Missing,
        };
        before.write(&path)?;
    }
    Ok(())
}

/// By hand, `--fix` asked for fixes in the working tree: having them is success.
pub(crate) fn keep_in_worktree(outcomes: &mut [Outcome]) {
    for outcome in outcomes.iter_mut().filter(|o| o.status == Status::Fixed) {
        outcome.fix_staged = true;
    }
}

/// `on_fix = "stage"`: fixes to files that were fully staged go into the commit. A file is
/// staged only when every change made to it in the run came from a gate that stages its
/// fixes; a file with unstaged edits keeps its fix in the working tree only (staging it
/// would stage those edits too).
pub(crate) fn stage(
    printer: Printer,
    repo: &Repo,
    config: &Config,
    outcomes: &mut [Outcome],
    affected: &HashSet<PathBuf>,
) -> Result<()> {
    // Outcomes are in the configuration's order: gate `i` is outcome `i`.
    let wants_stage: Vec<bool> = outcomes
        .iter()
        .zip(&config.gates)
        .map(|(o, gate)| o.status == Status::Fixed && gate.on_fix == OnFix::Stage)
        .collect();
    if !wants_stage.contains(&true) {
        return Ok(());
    }
    // Who else changed each file: a fix to review, or a check that wrote.
    let mut unreviewed: std::collections::HashMap<PathBuf, Vec<String>> = std::collections::HashMap::new();
    for (outcome, _) in outcomes.iter().zip(&wants_stage).filter(|(_, wants)| !**wants) {
        for path in outcome.fixed.iter().map(|f| &f.path).chain(&outcome.modified) {
            unreviewed.entry(path.clone()).or_default().push(outcome.name.clone());
        }
    }
    let mut to_stage = Vec::new();
    for (outcome, _) in outcomes.iter_mut().zip(&wants_stage).filter(|(_, wants)| **wants) {
        let mut held_back = Vec::new();
        let mut also_changed_by = Vec::new();
        for file in &outcome.fixed {
            if affected.contains(&file.path) {
                held_back.push(format!("`{}`", file.path.display()));
            } else if let Some(others) = unreviewed.get(&file.path) {
                held_back.push(format!("`{}`", file.path.display()));
                also_changed_by.extend(others.iter().map(|o| format!("`{o}`")));
            } else {
                to_stage.push(file.path.clone());
            }
        }
        let staged = outcome.fixed.len() - held_back.len();
        outcome.fix_staged = held_back.is_empty();
        let reason = if held_back.is_empty() {
            let message = format!("fixed and staged {}", plural(staged, "file"));
            printer.note(format_args!("{}: {message}", outcome.name));
            Problem::new(message)
        } else {
            also_changed_by.sort();
            also_changed_by.dedup();
            let why = if also_changed_by.is_empty() {
                "the file has unstaged changes".to_owned()
            } else {
                format!(
                    "{} changed it too, and its changes are not to be staged unreviewed",
                    also_changed_by.join(", ")
                )
            };
            let message = Problem::hinted(
                format!(
                    "the fix to {} is in the working tree but not staged: {why}",
                    held_back.join(", ")
                ),
                "review it, then `git add` it and commit again",
            );
            printer.warn(format_args!("{}: {message}", outcome.name));
            message
        };
        outcome.reason = Some(reason);
    }
    git_add(repo, &to_stage)?;
    also_in_the_real_index(repo, &repo.index()?, outcomes)
}

/// Stages `paths` (rewritten or deleted) with git itself, into the index this commit uses
/// (`GIT_INDEX_FILE`): git's clean filters make the blob, as for any `git add` (a `filter`
/// driver such as git-lfs or git-crypt; libgit2 runs only its built-in ones, and would
/// commit a file's checked-out form, an LFS file's whole content instead of its pointer).
fn git_add(repo: &Repo, paths: &[PathBuf]) -> Result<()> {
    let start = std::time::Instant::now();
    // Well under any argument limit, whatever the paths' length.
    for chunk in paths.chunks(512) {
        loop {
            let output = std::process::Command::new("git")
                .args(["--literal-pathspecs", "add", "--all", "--"])
                .args(chunk)
                .current_dir(repo.root())
                .stdin(std::process::Stdio::null())
                .output()
                .context("failed to run `git add` for the fixed files")?;
            if output.status.success() {
                break;
            }
            let said = String::from_utf8_lossy(&output.stderr);
            // Another git process (an editor's `git status`) holds the index a moment.
            if said.contains(".lock': File exists") && start.elapsed() < crate::git::LOCK_WAIT {
                std::thread::sleep(std::time::Duration::from_millis(50));
                continue;
            }
            return Err(Problem::hinted(
                format!("`git add` of the fixed files failed: {}", said.trim()),
                "the fixes are in the working tree: review them, then `git add` them and commit again",
            )
            .into());
        }
    }
    Ok(())
}

/// `git commit PATH` checks a temporary index (`GIT_INDEX_FILE=.git/next-index-*.lock`)
/// and has already written the real one, with the paths' content before the fix, to
/// `.git/index.lock`, which it renames into place after the commit. The staged fixes go
/// there too, or `git status` would show a staged change that reverts them.
fn also_in_the_real_index(repo: &Repo, temporary: &git2::Index, outcomes: &[Outcome]) -> Result<()> {
    let Ok(used) = repo.index_path() else { return Ok(()) };
    let is_temporary = used
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("next-index"));
    let real = repo.git.path().join("index.lock");
    if !is_temporary || !real.is_file() {
        return Ok(());
    }
    let mut index = git2::Index::open(&real).context("failed to read git's pending index")?;
    for outcome in outcomes.iter().filter(|o| o.status == Status::Fixed && o.fix_staged) {
        for file in &outcome.fixed {
            match temporary.get_path(&file.path, 0) {
                Some(entry) => index.add(&entry).context("failed to update git's pending index")?,
                None => {
                    let _ = index.remove_path(&file.path);
                }
            }
        }
    }
    // libgit2 writes `index.lock.lock` and renames it over `index.lock`: git's pending index.
    index.write().context("failed to update git's pending index")
}

/// Says where fixes went when the user's unstaged edits came back.
/// `kept`: what was set aside, as the user knows it ("unstaged changes" in a pre-commit run).
pub(crate) fn tell_restored(printer: Printer, restored: &Restored, outcomes: &[Outcome], kept: &str) {
    // A change a check made is no fix: it is named as the check's, never offered to stage.
    let writers = |path: &Path| {
        let names: Vec<String> = outcomes
            .iter()
            .filter(|o| o.modified.iter().any(|m| m == path))
            .map(|o| format!("`{}`", o.name))
            .collect();
        (!names.is_empty()).then(|| names.join(" or "))
    };
    for path in &restored.merged {
        match writers(path) {
            Some(checks) => printer.warn(format_args!(
                "{checks} wrote to `{}` while checking it; that change is merged with your {kept} in the working tree (not staged): review it",
                path.display()
            )),
            None => printer.note(format_args!(
                "merged the fix to `{}` with your {kept}",
                path.display()
            )),
        }
    }
    for (path, saved) in &restored.conflicts {
        // The gate's own failure says what to do about a check that writes.
        let problem = if let Some(checks) = writers(path) {
            Problem::new(format!(
                "{checks} wrote to `{}` while checking it; your {kept} were kept, and what it wrote is saved in `{}` (not staged)",
                path.display(),
                saved.display(),
            ))
        } else {
            let how = if saved.extension().is_some_and(|e| e == "patch") {
                // The patch was made against the staged content, which is where it applies.
                format!("stage it with `git apply --cached {}`", saved.display())
            } else {
                format!("copy it over `{}`", path.display())
            };
            Problem::hinted(
                format!(
                    "the fix to `{}` conflicts with your {kept}, which were kept; the fix is saved in `{}`",
                    path.display(),
                    saved.display(),
                ),
                format!("review it, then {how}"),
            )
        };
        printer.warn(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::unified_diff;

    #[test]
    fn only_changed_files_are_reported_with_a_diff() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "x=1\n").unwrap();
        std::fs::write(dir.path().join("b.py"), "y = 2\n").unwrap();
        let before = snapshot(dir.path(), &[PathBuf::from("a.py"), PathBuf::from("b.py")]);
        std::fs::write(dir.path().join("a.py"), "x = 1\n").unwrap();
        let fixed = changed(dir.path(), before);
        assert_eq!(fixed.len(), 1);
        assert_eq!(
            unified_diff(&fixed[0]).unwrap(),
            "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x=1\n+x = 1\n"
        );
    }
}
