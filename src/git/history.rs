//! What each commit of a range added, one commit at a time. A push sends every commit, not
//! only its tip: a secret one commit adds and the next removes is in neither end's content,
//! yet the remote keeps it for good. The range's last commit adds nothing its tip does not
//! show (or that the base did not hold already), so it is left to the scan of the tip.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use git2::{DiffFindOptions, DiffOptions, Oid, Tree};

use super::Repo;
use super::changes::{ChangeSet, Source};
use crate::model::LineRange;

/// The lines one commit added to one file.
#[derive(Debug, Clone)]
pub(crate) struct Introduced {
    pub(crate) commit: Oid,
    pub(crate) path: PathBuf,
    pub(crate) blob: Oid,
    pub(crate) lines: Vec<LineRange>,
}

/// What the commits of a range before its last added, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    pub(crate) introduced: Vec<Introduced>,
    /// Commits whose parents this clone lacks (a shallow clone): what they added is unknown.
    pub(crate) cut: Vec<Oid>,
}

impl History {
    pub(crate) fn is_empty(&self) -> bool {
        self.introduced.is_empty() && self.cut.is_empty()
    }
}

/// What the commits of `changes` added to the files `wanted` takes: empty unless it is a
/// range of commits (a push, `--base`).
pub(crate) fn of_change(repo: &Repo, changes: &ChangeSet, wanted: &dyn Fn(&Path) -> bool) -> Result<History> {
    match (changes.source, changes.head) {
        (Source::Base, Some(head)) => introduced(repo, changes.base, head, false, wanted),
        // A push sends nothing a remote-tracking branch holds already (a new branch that
        // merged the default branch carries its commits).
        (Source::Push, Some(head)) => introduced(repo, changes.base, head, true, wanted),
        _ => Ok(History::default()),
    }
}

fn introduced(
    repo: &Repo,
    base: Option<Oid>,
    head: Oid,
    published: bool,
    wanted: &dyn Fn(&Path) -> bool,
) -> Result<History> {
    let shallow = shallow_commits(repo);
    let mut walk = repo.git.revwalk().context("failed to walk the commits")?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    walk.push(head)?;
    if let Some(base) = base {
        walk.hide(base)?;
    }
    if published {
        // None there (a push to a URL) is no error.
        let _ = walk.hide_glob("refs/remotes/*");
    }
    let mut history = History::default();
    for oid in walk {
        let oid = oid.context("failed to walk the commits")?;
        if oid == head {
            continue;
        }
        let commit = repo
            .git
            .find_commit(oid)
            .with_context(|| format!("failed to read commit {oid}"))?;
        // (`Commit::parents` stops quietly at a parent it cannot read.)
        let parents: Option<Vec<Tree<'_>>> = (0..commit.parent_count())
            .map(|i| commit.parent(i).and_then(|p| p.tree()).ok())
            .collect();
        let parents = match parents {
            Some(parents) if !shallow.contains(&oid) => parents,
            _ => {
                history.cut.push(oid);
                continue;
            }
        };
        let tree = commit.tree().with_context(|| format!("failed to read commit {oid}"))?;
        let added = if parents.is_empty() {
            added_lines(repo, None, &tree, wanted)?
        } else {
            // A merge adds what none of its parents held: a conflict's resolution.
            let mut each = parents
                .iter()
                .map(|parent| added_lines(repo, Some(parent), &tree, wanted))
                .collect::<Result<Vec<_>>>()?
                .into_iter();
            let first = each.next().unwrap_or_default();
            each.fold(first, |mut kept, other| {
                kept.retain(|path, (_, lines)| {
                    let Some((_, theirs)) = other.get(path) else {
                        return false;
                    };
                    lines.retain(|line| theirs.contains(line));
                    !lines.is_empty()
                });
                kept
            })
        };
        let mut added: Vec<(PathBuf, (Oid, BTreeSet<u32>))> = added.into_iter().collect();
        added.sort_by(|a, b| a.0.cmp(&b.0));
        history
            .introduced
            .extend(added.into_iter().map(|(path, (blob, lines))| Introduced {
                commit: oid,
                path,
                blob,
                lines: ranges(&lines),
            }));
    }
    Ok(history)
}

/// The lines of `new` each wanted file gained over `old` (renames followed), with its blob.
fn added_lines(
    repo: &Repo,
    old: Option<&Tree<'_>>,
    new: &Tree<'_>,
    wanted: &dyn Fn(&Path) -> bool,
) -> Result<HashMap<PathBuf, (Oid, BTreeSet<u32>)>> {
    let mut options = DiffOptions::new();
    options.context_lines(0).ignore_submodules(true);
    let mut diff = repo
        .git
        .diff_tree_to_tree(old, Some(new), Some(&mut options))
        .context("failed to compare commits")?;
    // A moved file adds only what changed in it, as `git diff -M` shows it.
    let mut find = DiffFindOptions::new();
    find.renames(true).renames_from_rewrites(false);
    diff.find_similar(Some(&mut find))
        .context("failed to find renames between commits")?;
    let mut added: HashMap<PathBuf, (Oid, BTreeSet<u32>)> = HashMap::new();
    diff.foreach(
        &mut |_, _| true,
        None,
        Some(&mut |delta, hunk| {
            let file = delta.new_file();
            // Links hold a path, not text anyone types a secret into; submodules are commits.
            let blob = file.mode() == git2::FileMode::Blob || file.mode() == git2::FileMode::BlobExecutable;
            if hunk.new_lines() > 0
                && blob
                && let Some(path) = file.path().filter(|p| wanted(p))
            {
                let (_, lines) = added
                    .entry(path.to_path_buf())
                    .or_insert_with(|| (file.id(), BTreeSet::new()));
                lines.extend(hunk.new_start()..hunk.new_start().saturating_add(hunk.new_lines()));
            }
            true
        }),
        None,
    )
    .context("failed to read the diff between commits")?;
    Ok(added)
}

/// Runs of consecutive line numbers.
fn ranges(lines: &BTreeSet<u32>) -> Vec<LineRange> {
    let mut ranges: Vec<LineRange> = Vec::new();
    for &line in lines {
        match ranges.last_mut() {
            Some(range) if range.last.checked_add(1) == Some(line) => range.last = line,
            _ => ranges.push(LineRange {
                first: line,
                last: line,
            }),
        }
    }
    ranges
}

/// The commits a shallow clone holds without their parents (`.git/shallow`).
fn shallow_commits(repo: &Repo) -> HashSet<Oid> {
    std::fs::read_to_string(repo.git.commondir().join("shallow"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| Oid::from_str(line.trim()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_join_consecutive_lines() {
        let lines: BTreeSet<u32> = [1, 2, 3, 7, 9, 10].into_iter().collect();
        let pairs: Vec<(u32, u32)> = ranges(&lines).iter().map(|r| (r.first, r.last)).collect();
        assert_eq!(pairs, [(1, 3), (7, 7), (9, 10)]);
        assert!(ranges(&BTreeSet::new()).is_empty());
    }
}
