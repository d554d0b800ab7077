//! Checks must not write. What the tracked files held before the gates start is known and
//! compared with what they hold after they end; a file whose content or mode changed and
//! that no fixer claims was modified by a check, which fails it ("modified files", with a
//! diff), as pre-commit does. Gates run in parallel, so the file's modification time picks
//! the gates that were running then; when several were, all of them are named.
//!
//! Before: in a run that set edits aside, the index (and what the set-aside put); by hand,
//! a moment on the file system's clock (see `clock`), or where that cannot be had, every
//! file's stat data. After: only the files an inotify watch saw written are compared (see
//! `watch`); where it cannot tell, every file is.

use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::git::Repo;
use crate::git::stat::Root;
use crate::keeper::Keeper;
use crate::keeper::content::Content;
use crate::model::{FixedFile, Outcome, Problem, Status};
use crate::run::clock::Stamp;
use crate::run::watch::Watch;

/// What `lstat` says of a file, enough to notice any rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Signature {
    len: u64,
    modified_ns: i128,
    changed_ns: i128,
    inode: u64,
    mode: u32,
}

fn open(root: &Path) -> Result<Root> {
    Root::open(root).with_context(|| format!("failed to open the working tree `{}`", root.display()))
}

/// `path` relative to the opened root; `None` when nothing is there.
fn signature(tree: &Root, path: &Path) -> Option<Signature> {
    let stat = tree.lstat(path).ok()?;
    Some(Signature {
        len: u64::try_from(stat.st_size).unwrap_or(u64::MAX),
        modified_ns: i128::from(stat.st_mtime) * 1_000_000_000 + i128::from(stat.st_mtime_nsec),
        changed_ns: i128::from(stat.st_ctime) * 1_000_000_000 + i128::from(stat.st_ctime_nsec),
        inode: stat.st_ino,
        mode: stat.st_mode,
    })
}

/// The tracked files as they were before the gates ran.
pub(crate) struct Before {
    taken: SystemTime,
    /// `None`: the working tree held exactly the index's content (a pre-commit run after
    /// the set-aside), so the index itself is the "before" and no scan is needed.
    files: Option<Vec<(PathBuf, Option<Signature>)>>,
    /// In such a run, the files the set-aside wrote, as it left them: through git's
    /// filters (`core.autocrlf`) their bytes need not be the staged blob's.
    swapped: std::collections::HashMap<PathBuf, Option<Signature>>,
    /// Of those, the files the set-aside put that the index does not hold (a pre-push run
    /// puts back the pushed commit's files deleted and staged since).
    unindexed: Vec<PathBuf>,
    /// What was written from here on, where the kernel can say.
    watch: Option<Watch>,
    /// In a run that sets nothing aside with the watch up, no file's stat data is taken
    /// before: what changed since this moment is told by the file's change time.
    since: Option<Since>,
}

/// See [`Before::since`].
struct Since {
    stamp: Stamp,
    /// The tracked files, all compared should the watch stop telling.
    paths: Vec<PathBuf>,
}

impl Since {
    /// Whether the file at `path` may have changed since the stamp. A file that is not there
    /// now was removed since only if its directory changed since (removing or renaming a
    /// name changes its directory), or the nearest directory still there, when that is gone
    /// too: a file the user had deleted before the run is no check's doing.
    fn changed(&self, tree: &Root, path: &Path) -> bool {
        if let Ok(stat) = tree.lstat(path) {
            return self.stamp.changed_since(&stat);
        }
        let mut dir = path.parent();
        while let Some(at) = dir {
            let looked = if at.as_os_str().is_empty() {
                tree.lstat(Path::new("."))
            } else {
                tree.lstat(at)
            };
            if let Ok(stat) = looked {
                return self.stamp.changed_since(&stat);
            }
            dir = at.parent();
        }
        true
    }
}

/// What a file that may have changed held before the gates, as far as is known.
#[derive(Debug, Clone, Copy)]
enum Was {
    /// Its stat data (`None`: nothing there).
    Seen(Option<Signature>),
    /// Not looked at: holding the staged content with the staged mode is no change.
    Unseen,
}

/// Takes the stat data of every tracked file, in parallel; in an isolated run the index
/// already says what every file holds, and only the files the set-aside wrote are read.
/// `watching`: a watch started already, beside the set-aside's writes: their events are
/// read and dropped here (a queue they filled, as thousands of files can, is started over).
pub(crate) fn before(repo: &Repo, set_aside: Option<&Keeper<'_>>, watching: Option<Watch>) -> Result<Before> {
    let taken = SystemTime::now();
    if let Some(keeper) = set_aside
        && let Some(index) = repo.fast_index()?
    {
        let root = repo.root();
        // Only what the set-aside wrote: a path it left as it was may be under a link.
        let unindexed: Vec<PathBuf> = keeper
            .affected()
            .into_iter()
            .filter(|p| index.entry_by_path(p.as_os_str().as_bytes().into()).is_none())
            .collect();
        let watch = match watching {
            Some(watch) if unindexed.is_empty() && watch.forget() => Some(watch),
            _ => Watch::start(root, indexed_files(index).chain(unindexed.iter().map(PathBuf::as_path))),
        };
        return Ok(Before {
            taken,
            files: None,
            swapped: {
                let tree = open(root)?;
                keeper
                    .differing()
                    .into_iter()
                    .map(|p| {
                        let signature = signature(&tree, &p);
                        (p, signature)
                    })
                    .collect()
            },
            unindexed,
            watch,
            since: None,
        });
    }
    scan(repo.root(), repo.git.path(), tracked(repo)?)
}

/// [`before`] for a run that sets nothing aside, on a thread of its own: it reads only the
/// file system, so the run plans meanwhile (the scan was a third of an `--all` run).
pub(crate) struct Scan(std::thread::JoinHandle<Result<Before>>);

impl Scan {
    pub(crate) fn start(repo: &Repo) -> Result<Self> {
        let (root, git_dir, paths) = (repo.root().to_path_buf(), repo.git.path().to_path_buf(), tracked(repo)?);
        Ok(Self(std::thread::spawn(move || scan(&root, &git_dir, paths))))
    }

    pub(crate) fn finish(self) -> Result<Before> {
        self.0
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the scan of the working tree failed")))
    }
}

/// A watch from now on and the moment it started; where either cannot be had, the stat data
/// of `paths`, in parallel (the scan was a third of an `--all` run).
fn scan(root: &Path, git_dir: &Path, paths: Vec<PathBuf>) -> Result<Before> {
    let taken = SystemTime::now();
    let watch = Watch::start(root, paths.iter().map(PathBuf::as_path));
    if watch.is_some()
        && let Some(stamp) = Stamp::take(root, git_dir)
    {
        return Ok(Before {
            taken,
            files: None,
            swapped: std::collections::HashMap::new(),
            unindexed: Vec::new(),
            watch,
            since: Some(Since { stamp, paths }),
        });
    }
    let tree = open(root)?;
    let files = paths
        .into_par_iter()
        .map(|path| {
            let signature = signature(&tree, &path);
            (path, signature)
        })
        .collect();
    Ok(Before {
        taken,
        files: Some(files),
        swapped: std::collections::HashMap::new(),
        unindexed: Vec::new(),
        watch,
        since: None,
    })
}

impl Before {
    /// Whether anything but the files in `claimed` (fixes) was written since the gates
    /// started, as far as the watch can tell now: a check that passed may yet be failed
    /// for it. `false` where the watch cannot tell (only the comparison at the end can).
    pub(crate) fn written_besides(&self, claimed: &HashSet<PathBuf>) -> bool {
        self.watch
            .as_ref()
            .and_then(|watch| watch.with_touched(|touched| touched.iter().any(|path| !claimed.contains(path))))
            .unwrap_or(false)
    }

    /// Ends the watch (its holder must be told) and leaves the rest to the process's exit.
    pub(crate) fn leave(mut self) {
        drop(self.watch.take());
        std::mem::forget(self);
    }

    /// When no gate starts anything: nothing to compare afterwards.
    pub(crate) fn nothing_runs() -> Self {
        Self {
            taken: SystemTime::now(),
            files: None,
            swapped: std::collections::HashMap::new(),
            unindexed: Vec::new(),
            watch: None,
            since: None,
        }
    }
}

/// A watch on the directories of the files `index` holds.
pub(crate) fn watch_index(root: &Path, index: &gix_index::File) -> Option<Watch> {
    Watch::start(root, indexed_files(index))
}

/// The files `index` holds in the working tree (not submodules), relative to the root.
fn indexed_files(index: &gix_index::File) -> impl Iterator<Item = &Path> {
    index
        .entries()
        .iter()
        .filter(|e| crate::git::staged::holds_blob(e))
        .map(|e| Path::new(std::ffi::OsStr::from_bytes(e.path(index))))
}

fn tracked(repo: &Repo) -> Result<Vec<PathBuf>> {
    if let Some(index) = repo.fast_index()? {
        return Ok(index
            .entries()
            .iter()
            .filter(|e| crate::git::staged::holds_blob(e))
            .map(|e| crate::git::path_from_bytes(e.path(index)))
            .collect());
    }
    Ok(crate::git::changes::all(repo)?
        .files
        .into_iter()
        .map(|f| f.path)
        .collect())
}

/// A file a check changed, with its content before when it is known.
struct Change {
    path: PathBuf,
    when: Option<SystemTime>,
    before: Option<Vec<u8>>,
    after: Option<Vec<u8>>,
}

/// Fails the gates that modified files, naming the files (and the other gates that could
/// have done it). `fixing[i]`: gate `i` ran its fixer, whose own files are fixes, not faults.
/// `set_aside`: the working tree held exactly the checked content when the gates started
/// (the index's, and what the set-aside put), so each file's content before is known.
pub(crate) fn blame(
    repo: &Repo,
    before: &Before,
    outcomes: &mut [Outcome],
    fixing: &[bool],
    set_aside: Option<&Keeper<'_>>,
) -> Result<Vec<usize>> {
    // Nothing ran (all skipped or served from the cache): nothing can have written.
    if outcomes.iter().all(|o| o.processes == 0) {
        return Ok(Vec::new());
    }
    let claimed: HashSet<&Path> = outcomes
        .iter()
        .flat_map(|o| o.fixed.iter().map(|f| f.path.as_path()))
        .collect();
    let changes = changes(repo, before, &claimed, set_aside)?;
    let mut blamed = Vec::new();
    for change in changes {
        let suspects = suspects(outcomes, fixing, before.taken, change.when);
        for &gate in &suspects {
            let others: Vec<String> = suspects
                .iter()
                .filter(|&&o| o != gate)
                .map(|&o| format!("`{}`", outcomes[o].name))
                .collect();
            let outcome = &mut outcomes[gate];
            if outcome.status != Status::Error {
                outcome.status = Status::Failed;
            }
            outcome.modified.push(change.path.clone());
            if change.before.is_some() || change.after.is_none() {
                outcome.fixed.push(FixedFile {
                    path: change.path.clone(),
                    before: change.before.clone(),
                    after: change.after.clone(),
                });
            }
            let files: Vec<String> = outcome.modified.iter().map(|f| format!("`{}`", f.display())).collect();
            let hint = if others.is_empty() {
                "a check must not write files, only `fix` commands may; give the tool its check-only flag (e.g. `--check`, `--no-fix`)".to_owned()
            } else {
                format!(
                    "{} ran at the same time and could have written them too; a check must not write files, only `fix` commands may",
                    others.join(", ")
                )
            };
            outcome.reason = Some(Problem::hinted(format!("modified files: {}", files.join(", ")), hint));
            if !blamed.contains(&gate) {
                blamed.push(gate);
            }
        }
    }
    Ok(blamed)
}

/// The tracked files whose content or mode changed since `before`, fixers' files aside.
fn changes(
    repo: &Repo,
    before: &Before,
    claimed: &HashSet<&Path>,
    set_aside: Option<&Keeper<'_>>,
) -> Result<Vec<Change>> {
    let isolated = set_aside.is_some();
    let root = repo.root();
    let candidates = candidates(repo, before, claimed)?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let index = repo.index()?;
    let mut changes = Vec::new();
    for &(ref path, was) in &candidates {
        let full = root.join(path);
        let meta = std::fs::symlink_metadata(&full).ok();
        let now = Content::read(&full).ok();
        let after = match &now {
            Some(Content::Missing) | None => None,
            Some(content) => Some(content.data().to_vec()),
        };
        let staged = index.get_path(path, 0);
        let staged_bytes = match &staged {
            Some(entry) => Some(
                repo.git
                    .find_blob(entry.id)
                    .with_context(|| format!("failed to read the staged `{}`", path.display()))?
                    .content()
                    .to_vec(),
            ),
            None => None,
        };
        let now_mode = meta.as_ref().map(|m| m.permissions().mode());
        let same_as_staged = staged_bytes.is_some()
            && staged_bytes == after
            && staged.as_ref().map(|e| e.mode & 0o111 != 0) == now_mode.map(|m| m & 0o111 != 0);
        // What the set-aside put there is what the file held before (the pushed commit's
        // content in a pre-push run, which the index need not hold).
        let put = set_aside.and_then(|keeper| keeper.put_at(path));
        // A file rewritten with its own bytes and mode is no change; when it held the
        // staged content before, staged content now means the same.
        let unchanged = match (put, was) {
            (Some(put), _) => now.as_ref() == Some(put),
            (None, Was::Seen(was)) if !isolated => same_as_staged && was.map(|s| s.mode) == now_mode,
            (None, _) => same_as_staged,
        };
        if unchanged {
            continue;
        }
        let before_bytes = match put {
            Some(Content::Missing) => None,
            Some(put) => Some(put.data().to_vec()),
            None if isolated => staged_bytes,
            None => None,
        };
        changes.push(Change {
            path: path.clone(),
            when: meta.and_then(|m| m.modified().ok()),
            before: before_bytes,
            after,
        });
    }
    Ok(changes)
}

/// The files whose stat data says they may have changed since `before`, fixers' files aside:
/// those the watch names, or every one where it cannot tell. A file beyond a directory that
/// is now a link is not the tracked one (git's view), and is never read: reading it would
/// read outside the repository.
fn candidates(repo: &Repo, before: &Before, claimed: &HashSet<&Path>) -> Result<Vec<(PathBuf, Was)>> {
    let touched = before.watch.as_ref().and_then(Watch::touched);
    let tree = open(repo.root())?;
    if touched.as_ref().is_some_and(HashSet::is_empty) {
        return Ok(Vec::new());
    }
    let was_swapped = |path: &PathBuf| {
        before
            .swapped
            .get(path)
            .is_none_or(|was| signature(&tree, path) != *was)
    };
    let index = repo.fast_index()?;
    let tracked = |path: &PathBuf| {
        index.is_none_or(|index| {
            index
                .entry_by_path(path.as_os_str().as_bytes().into())
                .is_some_and(crate::git::staged::holds_blob)
        })
    };
    let mut candidates: Vec<(PathBuf, Was)> = match (&before.files, touched) {
        (Some(files), touched) => files
            .par_iter()
            .filter(|(path, _)| touched.as_ref().is_none_or(|t| t.contains(path)))
            .filter(|(path, was)| !claimed.contains(path.as_path()) && signature(&tree, path) != *was)
            .map(|(path, was)| (path.clone(), Was::Seen(*was)))
            .collect(),
        (None, touched) if let Some(since) = &before.since => match touched {
            Some(touched) => {
                // A file the run created was not there before (the user had deleted it).
                let created = before.watch.as_ref().and_then(Watch::created).unwrap_or_default();
                touched
                    .into_iter()
                    .filter(|path| tracked(path) && !claimed.contains(path.as_path()) && since.changed(&tree, path))
                    .map(|path| {
                        let was = if created.contains(&path) {
                            Was::Seen(None)
                        } else {
                            Was::Unseen
                        };
                        (path, was)
                    })
                    .collect()
            }
            None => since
                .paths
                .par_iter()
                .filter(|path| !claimed.contains(path.as_path()) && since.changed(&tree, path))
                .map(|path| (path.clone(), Was::Unseen))
                .collect(),
        },
        // Only what was written, of the files git keeps in the working tree.
        (None, Some(touched)) => touched
            .into_iter()
            .filter(|path| {
                (tracked(path) || before.unindexed.contains(path))
                    && !claimed.contains(path.as_path())
                    && was_swapped(path)
            })
            .map(|path| (path, Was::Unseen))
            .collect(),
        // The same comparison with the index as the set-aside made: stat data, then content;
        // and what the set-aside put where the index holds nothing.
        (None, None) => match index {
            Some(_) => {
                let mut paths = repo.differing_from_index()?;
                paths.extend(before.unindexed.iter().cloned());
                paths
                    .into_iter()
                    .filter(|path| !claimed.contains(path.as_path()) && was_swapped(path))
                    .map(|path| (path, Was::Unseen))
                    .collect()
            }
            None => Vec::new(),
        },
    };
    if !candidates.is_empty() {
        let linked = crate::git::stat::linked_directories(&tree, candidates.iter().map(|(p, _)| p.as_path()));
        candidates.retain(|(path, _)| !crate::git::stat::beyond_a_link(&linked, path));
    }
    Ok(candidates)
}

/// The gates that may have written a file at `when`: checks that were running then (or,
/// when none was, every check that ran, then every gate that ran).
fn suspects(outcomes: &[Outcome], fixing: &[bool], taken: SystemTime, when: Option<SystemTime>) -> Vec<usize> {
    let slack = Duration::from_millis(250);
    let ran = |i: &usize| outcomes[*i].started.is_some();
    let running_then = |i: &usize| {
        let (Some(started), Some(when)) = (outcomes[*i].started, when) else {
            return false;
        };
        let Ok(at) = when.duration_since(taken) else {
            return false;
        };
        at + slack >= started && at <= started + outcomes[*i].duration + slack
    };
    let all: Vec<usize> = (0..outcomes.len()).filter(ran).collect();
    let checks: Vec<usize> = all.iter().copied().filter(|&i| !fixing[i]).collect();
    for pool in [&checks, &all] {
        let then: Vec<usize> = pool.iter().copied().filter(running_then).collect();
        if !then.is_empty() {
            return then;
        }
    }
    if checks.is_empty() { all } else { checks }
}
