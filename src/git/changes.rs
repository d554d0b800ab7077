//! Change sets: the files a run considers, and how each changed.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use git2::{Delta, Diff, DiffFindOptions, DiffOptions, FileMode, Oid, Tree};
use serde::Serialize;

use super::{Repo, normalize, path_from_bytes};

use crate::model::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Source {
    Staged,
    Worktree,
    Base,
    Push,
    All,
    Files,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FileStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
    Untracked,
    Unchanged,
}

#[derive(Debug, Clone)]
pub(crate) struct ChangedFile {
    /// Relative to the repository root.
    pub(crate) path: PathBuf,
    pub(crate) status: FileStatus,
    /// The old path of a rename.
    pub(crate) from: Option<PathBuf>,
    /// A symbolic link (git's mode 120000, or the working tree's): the commit holds where
    /// it points, not content a tool can check.
    pub(crate) link: bool,
}

/// Git's mode of a symbolic link.
pub(crate) const LINK_MODE: u32 = 0o120_000;

impl ChangedFile {
    /// Deleted files are listed, but a tool is never handed a path that does not exist.
    pub(crate) fn exists(&self) -> bool {
        self.status != FileStatus::Deleted
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ChangeSet {
    pub(crate) source: Source,
    /// The commit the change is measured from (`{base}`), when there is one.
    pub(crate) base: Option<Oid>,
    /// The commit under test (`{head}`), when there is one.
    pub(crate) head: Option<Oid>,
    pub(crate) files: Vec<ChangedFile>,
}

/// Index against HEAD: what the next commit records. Works before the first commit.
pub(crate) fn staged(repo: &Repo) -> Result<ChangeSet> {
    let (head_id, tree) = head_and_tree(repo)?;
    let fast = repo
        .fast_index()?
        .and_then(|index| super::staged::staged(&repo.git, index, tree.as_ref()));
    let files = match fast {
        Some(files) => files,
        None => staged_by_libgit2(repo, tree.as_ref())?,
    };
    Ok(ChangeSet {
        source: Source::Staged,
        base: head_id,
        head: head_id,
        files,
    })
}

/// The same comparison through libgit2's diff: slower on large trees, but it detects renames.
pub(super) fn staged_by_libgit2(repo: &Repo, tree: Option<&Tree<'_>>) -> Result<Vec<ChangedFile>> {
    let index = repo.index()?;
    let mut options = diff_options();
    let diff = repo
        .git
        .diff_tree_to_index(tree, Some(&index), Some(&mut options))
        .context("failed to compare the index with HEAD")?;
    let mut files = files_of(diff)?;
    // `git add -N` records an intent, not content: `git diff --cached` and commits skip it.
    files.retain(|file| {
        index
            .get_path(&file.path, 0)
            .is_none_or(|entry| entry.flags_extended & INTENT_TO_ADD == 0)
    });
    Ok(files)
}

/// `GIT_INDEX_ENTRY_INTENT_TO_ADD` in an index entry's extended flags.
const INTENT_TO_ADD: u16 = 1 << 13;
/// `GIT_INDEX_ENTRY_SKIP_WORKTREE`: the entry is outside a sparse checkout.
const SKIP_WORKTREE: u16 = 1 << 14;

/// HEAD's commit id and tree; both `None` before the first commit.
fn head_and_tree(repo: &Repo) -> Result<(Option<Oid>, Option<Tree<'_>>)> {
    let Some(head) = repo.head()? else {
        return Ok((None, None));
    };
    let tree = head.tree().context("failed to read HEAD's tree")?;
    Ok((Some(head.id()), Some(tree)))
}

/// HEAD against the work tree: staged, unstaged and untracked-but-not-ignored files.
pub(crate) fn worktree(repo: &Repo) -> Result<ChangeSet> {
    let (head_id, tree) = head_and_tree(repo)?;
    // Content filters and an ignored executable bit change what "the same" means: libgit2.
    let plain = !repo.may_convert_content()?
        && repo
            .git
            .config()
            .is_ok_and(|c| c.get_bool("core.filemode").unwrap_or(true));
    let fast = match repo.fast_index()? {
        Some(index) if plain => super::workdir::changes(&repo.git, index, tree.as_ref(), repo.root()),
        _ => None,
    };
    let files = match fast {
        Some(files) => files,
        None => worktree_by_libgit2(repo, tree.as_ref())?,
    };
    Ok(ChangeSet {
        source: Source::Worktree,
        base: head_id,
        head: head_id,
        files,
    })
}

/// [`worktree`] through libgit2's diff: slower, but it applies filters and detects renames.
pub(super) fn worktree_by_libgit2(repo: &Repo, tree: Option<&Tree<'_>>) -> Result<Vec<ChangedFile>> {
    let mut options = diff_options();
    options.include_untracked(true).recurse_untracked_dirs(true);
    let diff = repo
        .git
        .diff_tree_to_workdir_with_index(tree, Some(&mut options))
        .context("failed to compare the work tree with HEAD")?;
    files_of(diff)
}

/// merge-base(REF, HEAD)..HEAD: what a pull request against REF would change.
pub(crate) fn base(repo: &Repo, reference: &str) -> Result<ChangeSet> {
    let Some(head) = repo.head()? else {
        return Err(Problem::hinted(
            format!("HEAD has no commit yet, so there is nothing to compare with `{reference}`"),
            "use `--staged` before the first commit",
        )
        .into());
    };
    let target = commit(repo, reference)?;
    range(repo, &target, &head, reference, "HEAD")
}

/// merge-base(base, head)..head for two commits named by id or ref, as a CI event names them.
pub(crate) fn between(repo: &Repo, base: &str, head: &str) -> Result<ChangeSet> {
    let (base_commit, head_commit) = (commit(repo, base)?, commit(repo, head)?);
    range(repo, &base_commit, &head_commit, base, head)
}

/// A commit by id or ref; a missing one usually means a shallow clone.
fn commit<'r>(repo: &'r Repo, reference: &str) -> Result<git2::Commit<'r>> {
    repo.git
        .revparse_single(reference)
        .and_then(|object| object.peel_to_commit())
        .map_err(|err| {
            anyhow::Error::from(Problem::hinted(format!("unknown revision `{reference}` ({})", err.message()), "fetch it first (`git fetch origin main`; in GitHub Actions `fetch-depth: 0` in actions/checkout), or name a branch, tag or commit that exists"))
        })
}

fn range(
    repo: &Repo,
    base: &git2::Commit<'_>,
    head: &git2::Commit<'_>,
    base_name: &str,
    head_name: &str,
) -> Result<ChangeSet> {
    let merge_base = repo.git.merge_base(base.id(), head.id()).map_err(|_| {
        let shallow = if repo.git.is_shallow() {
            "this clone is shallow, so "
        } else {
            ""
        };
        anyhow::Error::from(Problem::hinted(
            format!("no merge base between `{base_name}` and `{head_name}`: {shallow}their histories do not meet"),
            "fetch the full history (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)",
        ))
    })?;
    let base_tree = repo.git.find_commit(merge_base)?.tree()?;
    let files = tree_diff(repo, Some(&base_tree), &head.tree()?)?;
    Ok(ChangeSet {
        source: Source::Base,
        base: Some(merge_base),
        head: Some(head.id()),
        files,
    })
}

/// The bits of an index entry's flags that hold its merge stage; 0 outside a conflict.
const STAGE_MASK: u16 = 0x3000;

/// Every tracked file, as listed in the index (a conflicted file once).
pub(crate) fn all(repo: &Repo) -> Result<ChangeSet> {
    // The index read once, the fast way, where gix can (libgit2 built a hash map of it).
    let unchanged = |(path, mode)| ChangedFile {
        path,
        status: FileStatus::Unchanged,
        from: None,
        link: mode == LINK_MODE,
    };
    let files = match repo.fast_index()? {
        Some(index) => tracked_in(index),
        None => tracked_by_libgit2(repo)?,
    };
    let files = files.into_iter().map(unchanged).collect();
    let head = repo.head()?.map(|c| c.id());
    Ok(ChangeSet {
        source: Source::All,
        base: head,
        head,
        files,
    })
}

/// The paths a tool could read, with their modes: no conflicts, submodules or entries
/// outside a sparse checkout (not on disk).
pub(crate) fn tracked_in(index: &gix_index::File) -> Vec<(PathBuf, u32)> {
    index
        .entries()
        .iter()
        .filter(|e| super::staged::in_worktree(e))
        .map(|e| (path_from_bytes(e.path(index)), e.mode.bits()))
        .collect()
}

/// [`tracked_in`] through libgit2, for an index gix cannot read.
pub(crate) fn tracked_by_libgit2(repo: &Repo) -> Result<Vec<(PathBuf, u32)>> {
    Ok(repo
        .index()?
        .iter()
        .filter(|entry| {
            entry.mode != u32::from(FileMode::Commit)
                && entry.flags & STAGE_MASK == 0
                && entry.flags_extended & SKIP_WORKTREE == 0
        })
        .map(|entry| (path_from_bytes(&entry.path), entry.mode))
        .collect())
}

/// Every tracked path as text, as coverage reports and lockfile lists name files.
pub(crate) fn tracked_paths(repo: &Repo) -> Result<Vec<String>> {
    Ok(all(repo)?
        .files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect())
}

/// Files named on the command line, relative to `cwd`; they must lie inside the work tree.
pub(crate) fn explicit(repo: &Repo, cwd: &Path, paths: &[PathBuf]) -> Result<ChangeSet> {
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let absolute = normalize(&cwd.join(path));
        let relative = match absolute.strip_prefix(repo.root()) {
            Ok(relative) => relative.to_owned(),
            Err(_) => absolute
                .canonicalize()
                .ok()
                .and_then(|real| real.strip_prefix(repo.root()).ok().map(Path::to_owned))
                .with_context(|| {
                    format!(
                        "`{}` is outside the repository `{}`",
                        path.display(),
                        repo.root().display()
                    )
                })?,
        };
        let on_disk = repo.root().join(&relative);
        if on_disk.is_dir() {
            // A directory stands for the tracked files below it.
            let tracked = all(repo)?.files.into_iter().filter(|f| f.path.starts_with(&relative));
            files.extend(tracked.map(|f| ChangedFile {
                status: FileStatus::Modified,
                ..f
            }));
            continue;
        }
        if !on_disk.exists() {
            return Err(Problem::hinted(
                format!("`{}` does not exist", path.display()),
                "`--files` takes existing files; deleted files come from `--staged` or `--base`",
            )
            .into());
        }
        files.push(ChangedFile {
            path: relative,
            status: FileStatus::Modified,
            from: None,
            link: std::fs::symlink_metadata(&on_disk).is_ok_and(|m| m.file_type().is_symlink()),
        });
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.path.clone()));
    let head = repo.head()?.map(|c| c.id());
    Ok(ChangeSet {
        source: Source::Files,
        base: head,
        head,
        files,
    })
}

/// What one `git push` sends, one change set per ref that sends content (deletions and refs
/// the remote already has are left out): the commits since the remote's copy of the ref (or,
/// for a new branch, since the commits the remote has), with the pushed tip as `head`.
pub(crate) fn push(repo: &Repo, remote: &str, input: impl BufRead) -> Result<Vec<ChangeSet>> {
    let mut pushed: Vec<ChangeSet> = Vec::new();
    for line in input.lines() {
        let line = line.context("failed to read the refs git passed to the pre-push hook")?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, local, _, remote_sha] = fields[..] else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(Problem::hinted(
                format!("unexpected pre-push input line `{line}`"),
                "git writes `<local ref> <local sha> <remote ref> <remote sha>`",
            )
            .into());
        };
        let local = Oid::from_str(local).with_context(|| format!("bad object id `{local}` in pre-push input"))?;
        if local.is_zero() {
            continue; // a deleted branch sends no content
        }
        // An annotated tag is pushed as the tag object: what is checked is its commit.
        let object = repo
            .git
            .find_object(local, None)
            .with_context(|| format!("pushed object `{local}` not found"))?;
        let Ok(head) = object.peel_to_commit() else {
            continue; // a tag of a tree or a blob sends no commit
        };
        let local = head.id();
        let remote_commit = Oid::from_str(remote_sha)
            .ok()
            .filter(|oid| !oid.is_zero())
            .and_then(|oid| repo.git.find_object(oid, None).ok())
            .and_then(|object| object.peel_to_commit().ok());
        let base = match remote_commit {
            Some(remote_commit) => Some(
                repo.git
                    .merge_base(remote_commit.id(), local)
                    .unwrap_or(remote_commit.id()),
            ),
            None => new_branch_base(repo, remote, local)?,
        };
        if base == Some(local) || pushed.iter().any(|p| p.head == Some(local) && p.base == base) {
            continue;
        }
        let base_tree = base
            .map(|oid| repo.git.find_commit(oid).and_then(|c| c.tree()))
            .transpose()?;
        pushed.push(ChangeSet {
            source: Source::Push,
            base,
            head: Some(local),
            files: tree_diff(repo, base_tree.as_ref(), &head.tree()?)?,
        });
    }
    Ok(pushed)
}

/// A branch the remote does not have: the commits not on any of the remote's branches
/// start after the parent of the oldest one (`None`: the whole history is new). A branch
/// that merged one of the remote's branches since is compared with the last commit it
/// merged (their merge base), so what it merged is not checked again as its own change.
fn new_branch_base(repo: &Repo, remote: &str, local: Oid) -> Result<Option<Oid>> {
    let mut walk = repo.git.revwalk()?;
    walk.push(local)?;
    // A push to a URL has no remote-tracking refs; then every commit counts as new.
    let _ = walk.hide_glob(&format!("refs/remotes/{remote}/*"));
    walk.set_sorting(git2::Sort::TOPOLOGICAL)?;
    let mut oldest = None;
    for oid in walk {
        oldest = Some(oid?);
    }
    let Some(oldest) = oldest else {
        return Ok(Some(local));
    };
    let Some(parent) = repo.git.find_commit(oldest)?.parent_ids().next() else {
        return Ok(None);
    };
    Ok(Some(latest_merged(repo, remote, local, parent)))
}

/// The latest merge base of `local` with the remote's branches that `from` leads to: where
/// the branch's own changes start once it merged them. `from` when none is later.
fn latest_merged(repo: &Repo, remote: &str, local: Oid, from: Oid) -> Oid {
    /// Enough for any remote's branches a push is compared with; more only costs time.
    const MAX_REFS: usize = 200;
    let Ok(refs) = repo.git.references_glob(&format!("refs/remotes/{remote}/*")) else {
        return from;
    };
    let mut best = from;
    for tip in refs.flatten().take(MAX_REFS).filter_map(|r| r.peel_to_commit().ok()) {
        let Ok(base) = repo.git.merge_base(local, tip.id()) else {
            continue;
        };
        if base != local && repo.git.graph_descendant_of(base, best).unwrap_or(false) {
            best = base;
        }
    }
    best
}

fn tree_diff(repo: &Repo, old: Option<&Tree<'_>>, new: &Tree<'_>) -> Result<Vec<ChangedFile>> {
    let mut options = diff_options();
    let diff = repo
        .git
        .diff_tree_to_tree(old, Some(new), Some(&mut options))
        .context("failed to compare commits")?;
    files_of(diff)
}

fn diff_options() -> DiffOptions {
    let mut options = DiffOptions::new();
    options.ignore_submodules(true).include_typechange(true);
    options
}

fn files_of(mut diff: Diff<'_>) -> Result<Vec<ChangedFile>> {
    let has = |diff: &Diff<'_>, status| diff.deltas().any(|d| d.status() == status);
    if has(&diff, Delta::Added) && has(&diff, Delta::Deleted) {
        diff.find_similar(Some(DiffFindOptions::new().renames(true)))
            .context("failed to detect renames")?;
    }
    let mut files = Vec::with_capacity(diff.deltas().len());
    for delta in diff.deltas() {
        let (file, status) = match delta.status() {
            Delta::Added | Delta::Copied => (delta.new_file(), FileStatus::Added),
            Delta::Untracked => (delta.new_file(), FileStatus::Untracked),
            Delta::Deleted => (delta.old_file(), FileStatus::Deleted),
            Delta::Renamed => (delta.new_file(), FileStatus::Renamed),
            Delta::Modified | Delta::Typechange | Delta::Conflicted => (delta.new_file(), FileStatus::Modified),
            _ => continue,
        };
        // Submodules are another repository's business.
        if file.mode() == FileMode::Commit {
            continue;
        }
        let Some(path) = file.path_bytes() else { continue };
        files.push(ChangedFile {
            path: path_from_bytes(path),
            status,
            from: (status == FileStatus::Renamed)
                .then(|| delta.old_file().path_bytes().map(path_from_bytes))
                .flatten(),
            link: file.mode() == FileMode::Link,
        });
    }
    Ok(files)
}
