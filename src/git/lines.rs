//! The lines a change touched, per file: the new-side ranges of its diff hunks. Asked for
//! only by reports and built-in gates that need them, never on a hook's hot path.

use std::path::Path;

use anyhow::{Context, Result};
use git2::{DiffOptions, Oid};

use super::Repo;
use super::changes::{ChangeSet, Source};
use crate::model::{ChangedLines, LineRange};

/// New-side changed line ranges of `paths` (repository-relative) in a change set, from one
/// diff limited to them: what patch coverage measures. A change set that compares nothing
/// (`--all`) has none; an untracked file is changed on every line.
pub(crate) fn changed_lines_of(repo: &Repo, changes: &ChangeSet, paths: &[&str]) -> Result<ChangedLines> {
    if paths.is_empty() || changes.source == Source::All {
        return Ok(ChangedLines::new());
    }
    if changes.source == Source::Staged
        && let Some(lines) = staged_lines(repo, changes, paths)?
    {
        return Ok(lines);
    }
    diffed_lines(repo, changes, paths)
}

/// The lines from libgit2's diff of the change set, limited to `paths`.
fn diffed_lines(repo: &Repo, changes: &ChangeSet, paths: &[&str]) -> Result<ChangedLines> {
    let tree = |oid: Option<Oid>| -> Result<Option<git2::Tree<'_>>> {
        oid.map(|oid| repo.git.find_commit(oid).and_then(|c| c.tree()))
            .transpose()
            .context("failed to read a commit of the change")
    };
    let mut options = DiffOptions::new();
    options
        .context_lines(0)
        .ignore_submodules(true)
        .disable_pathspec_match(true);
    for path in paths {
        options.pathspec(path);
    }
    // A renamed file's lines are compared with its old content, as `git diff -M` does: the
    // old path must be in the diff for rename detection to pair them.
    let asked: std::collections::HashSet<&Path> = paths.iter().map(Path::new).collect();
    for file in &changes.files {
        if let Some(from) = &file.from
            && asked.contains(file.path.as_path())
        {
            options.pathspec(from);
        }
    }
    let (old, new) = (tree(changes.base)?, tree(changes.head)?);
    let diff = match changes.source {
        Source::All => return Ok(ChangedLines::new()),
        Source::Base | Source::Push => repo
            .git
            .diff_tree_to_tree(old.as_ref(), new.as_ref(), Some(&mut options)),
        Source::Staged => {
            let index = repo.index()?;
            repo.git
                .diff_tree_to_index(old.as_ref(), Some(&index), Some(&mut options))
        }
        Source::Worktree | Source::Files => {
            options
                .include_untracked(true)
                .recurse_untracked_dirs(true)
                .show_untracked_content(true);
            repo.git
                .diff_tree_to_workdir_with_index(old.as_ref(), Some(&mut options))
        }
    };
    let mut diff = diff.context("failed to diff the change")?;
    let mut find = git2::DiffFindOptions::new();
    find.renames(true).renames_from_rewrites(false);
    diff.find_similar(Some(&mut find))
        .context("failed to find renames in the change")?;
    let mut ranges = ChangedLines::new();
    diff.foreach(
        &mut |_, _| true,
        None,
        Some(&mut |delta, hunk| {
            if hunk.new_lines() > 0
                && let Some(path) = delta.new_file().path()
            {
                ranges
                    .entry(path.to_string_lossy().into_owned())
                    .or_default()
                    .push(LineRange {
                        first: hunk.new_start(),
                        last: hunk.new_start() + hunk.new_lines() - 1,
                    });
            }
            true
        }),
        None,
    )
    .context("failed to read the diff of the change")?;
    Ok(ranges)
}

/// The lines a staged change adds, from the blobs themselves: each path's staged blob (the
/// fast index's id) against its HEAD blob (under its old name for a rename), diffed here.
/// libgit2's diff would load the attributes, and with them the whole index, which costs
/// more than the diff of a few files on a large repository. `None` without a fast index.
fn staged_lines(repo: &Repo, changes: &ChangeSet, paths: &[&str]) -> Result<Option<ChangedLines>> {
    let Some(index) = repo.fast_index()? else {
        return Ok(None);
    };
    let head = match changes.base {
        Some(oid) => Some(
            repo.git
                .find_commit(oid)
                .and_then(|c| c.tree())
                .context("failed to read HEAD's tree")?,
        ),
        None => None,
    };
    let blob_text = |oid: Oid| -> Option<String> {
        let blob = repo.git.find_blob(oid).ok()?;
        Some(String::from_utf8_lossy(blob.content()).into_owned())
    };
    let mut ranges = ChangedLines::new();
    for path in paths {
        let Some(entry) = index.entry_by_path((*path).as_bytes().into()) else {
            continue;
        };
        let Some(new) = Oid::from_bytes(entry.id.as_slice()).ok().and_then(blob_text) else {
            continue;
        };
        let old_path = changes
            .files
            .iter()
            .find(|f| f.path == Path::new(path))
            .and_then(|f| f.from.as_deref())
            .unwrap_or(Path::new(path));
        let old = head
            .as_ref()
            .and_then(|tree| tree.get_path(old_path).ok())
            .and_then(|entry| blob_text(entry.id()))
            .unwrap_or_default();
        let diff = similar::TextDiff::from_lines(&old, &new);
        let mut added: Vec<LineRange> = Vec::new();
        for op in diff.ops() {
            let range = op.new_range();
            if matches!(op.tag(), similar::DiffTag::Insert | similar::DiffTag::Replace) && !range.is_empty() {
                let first = u32::try_from(range.start + 1).unwrap_or(u32::MAX);
                let last = u32::try_from(range.end).unwrap_or(u32::MAX);
                added.push(LineRange { first, last });
            }
        }
        if !added.is_empty() {
            ranges.insert((*path).to_owned(), added);
        }
    }
    Ok(Some(ranges))
}

#[cfg(test)]
mod tests {

    use super::*;

    /// The blobs' own diff agrees with libgit2's on modified, added, renamed and emptied files.
    #[test]
    fn staged_lines_match_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| crate::git::git_in(dir.path(), args);
        git(&["init", "-q", "-b", "main"]);
        git(&["config", "user.name", "t"]);
        git(&["config", "user.email", "t@example.invalid"]);
        let write = |path: &str, text: &str| std::fs::write(dir.path().join(path), text).unwrap();
        let body = (1..=30).fold(String::new(), |mut body, i| {
            use std::fmt::Write as _;
            let _ = writeln!(body, "line {i}");
            body
        });
        write("a.txt", &body);
        write("old.txt", &body);
        write("gone.txt", "x\ny\n");
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "base"]);
        write(
            "a.txt",
            &body.replace("line 3\n", "line three\nextra\n").replace("line 20\n", ""),
        );
        git(&["mv", "old.txt", "new.txt"]);
        write("new.txt", &format!("{body}tail\n"));
        write("added.txt", "one\ntwo\n");
        write("gone.txt", "");
        git(&["add", "-A"]);
        let repo = Repo::open_at(dir.path()).unwrap();
        let changes = crate::git::changes::staged(&repo).unwrap();
        let paths = ["a.txt", "new.txt", "added.txt", "gone.txt"];
        let ours = staged_lines(&repo, &changes, &paths).unwrap().unwrap();
        let theirs = diffed_lines(&repo, &changes, &paths).unwrap();
        let sorted = |lines: &ChangedLines| {
            let mut all: Vec<(String, Vec<(u32, u32)>)> = lines
                .iter()
                .map(|(p, r)| (p.clone(), r.iter().map(|r| (r.first, r.last)).collect()))
                .collect();
            all.sort();
            all
        };
        assert_eq!(sorted(&ours), sorted(&theirs));
        assert!(
            ours.contains_key("added.txt") && ours.contains_key("new.txt"),
            "{ours:?}"
        );
    }
}
