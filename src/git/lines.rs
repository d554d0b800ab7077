//! The lines a change touched, per file: the new-side ranges of its diff hunks. Asked for
//! only by reports and built-in gates that need them, never on a hook's hot path.

use std::collections::HashMap;

use git2::{DiffOptions, Oid};

use super::Repo;
use super::changes::{ChangeSet, Source};

/// New-side changed line ranges of `paths` (repository-relative) in a change set, from one
/// diff limited to them: what patch coverage measures. A change set that compares nothing
/// (`--all`) has none; an untracked file is changed on every line.
pub(crate) fn changed_lines_of(repo: &Repo, changes: &ChangeSet, paths: &[&str]) -> HashMap<String, Vec<(u32, u32)>> {
    if paths.is_empty() || changes.source == Source::All {
        return HashMap::new();
    }
    let tree = |oid: Option<Oid>| {
        oid.and_then(|oid| repo.git.find_commit(oid).ok())
            .and_then(|c| c.tree().ok())
    };
    let mut options = DiffOptions::new();
    options
        .context_lines(0)
        .ignore_submodules(true)
        .disable_pathspec_match(true);
    for path in paths {
        options.pathspec(path);
    }
    let (old, new) = (tree(changes.base), tree(changes.head));
    let diff = match changes.source {
        Source::All => return HashMap::new(),
        Source::Base | Source::Push => repo
            .git
            .diff_tree_to_tree(old.as_ref(), new.as_ref(), Some(&mut options)),
        Source::Staged => repo.index().ok().map_or_else(
            || Err(git2::Error::from_str("no index")),
            |index| {
                repo.git
                    .diff_tree_to_index(old.as_ref(), Some(&index), Some(&mut options))
            },
        ),
        Source::Worktree | Source::Files => {
            options
                .include_untracked(true)
                .recurse_untracked_dirs(true)
                .show_untracked_content(true);
            repo.git
                .diff_tree_to_workdir_with_index(old.as_ref(), Some(&mut options))
        }
    };
    let Ok(diff) = diff else { return HashMap::new() };
    let mut ranges: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
    let _ = diff.foreach(
        &mut |_, _| true,
        None,
        Some(&mut |delta, hunk| {
            if hunk.new_lines() > 0
                && let Some(path) = delta.new_file().path()
            {
                ranges
                    .entry(path.to_string_lossy().into_owned())
                    .or_default()
                    .push((hunk.new_start(), hunk.new_start() + hunk.new_lines() - 1));
            }
            true
        }),
        None,
    );
    ranges
}
