//! The lines a change touched, per file: the new-side ranges of its diff hunks. Only asked
//! for the few files that carry diagnostics, so it is never on the hot path.

use std::path::Path;

use git2::{DiffOptions, Oid};

use super::Repo;

/// New-side line ranges (first, last; 1-based) that the commits `base..head` changed in
/// `path`; empty when the file did not change or the commits are unknown.
pub(crate) fn changed_lines(repo: &Repo, base: Option<Oid>, head: Option<Oid>, path: &Path) -> Vec<(u32, u32)> {
    let tree = |oid: Option<Oid>| {
        oid.and_then(|oid| repo.git.find_commit(oid).ok())
            .and_then(|c| c.tree().ok())
    };
    let (old, new) = (tree(base), tree(head));
    let mut options = DiffOptions::new();
    options.pathspec(path).disable_pathspec_match(true).context_lines(0);
    let diff = match (&old, &new) {
        (_, Some(new)) if base != head => repo.git.diff_tree_to_tree(old.as_ref(), Some(new), Some(&mut options)),
        // The same commit on both sides (staged or by-hand runs): the change is in the work tree.
        _ => repo
            .git
            .diff_tree_to_workdir_with_index(old.as_ref(), Some(&mut options)),
    };
    let Ok(diff) = diff else { return Vec::new() };
    let mut ranges = Vec::new();
    let _ = diff.foreach(
        &mut |_, _| true,
        None,
        Some(&mut |_, hunk| {
            if hunk.new_lines() > 0 {
                ranges.push((hunk.new_start(), hunk.new_start() + hunk.new_lines() - 1));
            }
            true
        }),
        None,
    );
    ranges
}
