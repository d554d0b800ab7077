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
            let index = match small_index(repo, paths, changes)? {
                Some(index) => index,
                None => repo.index()?,
            };
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

/// An index holding only the asked paths (and the old paths of their renames), built from
/// the fast index: libgit2 reading the whole index costs more than the diff of a few files
/// on a large repository. `None` when there is no fast index.
fn small_index(repo: &Repo, paths: &[&str], changes: &ChangeSet) -> Result<Option<git2::Index>> {
    let Some(fast) = repo.fast_index()? else {
        return Ok(None);
    };
    let mut wanted: Vec<&[u8]> = paths.iter().map(|p| p.as_bytes()).collect();
    let renamed: Vec<Vec<u8>> = changes
        .files
        .iter()
        .filter_map(|f| f.from.as_ref())
        .map(|from| from.to_string_lossy().into_owned().into_bytes())
        .collect();
    wanted.extend(renamed.iter().map(Vec::as_slice));
    let mut index = git2::Index::new().context("failed to make an index")?;
    for path in wanted {
        let Some(entry) = fast.entry_by_path(path.into()) else {
            continue;
        };
        let id = Oid::from_bytes(entry.id.as_slice()).context("an index entry's id")?;
        index
            .add(&git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: entry.mode.bits(),
                uid: 0,
                gid: 0,
                file_size: entry.stat.size,
                id,
                flags: u16::try_from(path.len().min(0xfff)).unwrap_or(0xfff),
                flags_extended: 0,
                path: path.to_vec(),
            })
            .context("failed to add to an index")?;
    }
    Ok(Some(index))
}
