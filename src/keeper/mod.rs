//! Pre-commit safety: while gates run, the working tree shows exactly what will be
//! committed, and no unstaged byte is ever lost.
//!
//! - `backup`: the on-disk backup of the paths gate touches, written before it touches them.
//! - `content`: a path's state (file and mode, link, nothing), read and written exactly.
//! - `lock`: one run per repository at a time.
//!
//! Only tracked paths whose working tree differs from the index are touched ("affected"),
//! staged or not: an unstaged edit anywhere could change what a tool sees. Untracked and
//! ignored files, and tracked files without unstaged changes, never are. Afterwards each affected path gets the
//! user's content back; where a fixer changed the staged content meanwhile, the fix and the
//! user's edits are merged, and on a conflict the user's edits win and the fix is saved as a
//! patch under `.git/gate/fixes/`.

pub(crate) mod backup;
pub(crate) mod content;
pub(crate) mod lock;
mod smudge;
mod spare;

use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use git2::Oid;
use git2::build::CheckoutBuilder;

use self::backup::Backup;
use self::content::Content;
use self::spare::Spares;
use crate::git::Repo;
use crate::git::path_from_bytes;
use crate::model::Problem;
use crate::printer::Printer;

/// The unstaged edits set aside for one run; put back by [`Keeper::restore`], or on drop
/// (a panic) as a last resort.
pub(crate) struct Keeper<'r> {
    repo: &'r Repo,
    backup: Option<Backup>,
    printer: Printer,
    /// Paths that differ from the target but were left as they are (under a link).
    left: Vec<PathBuf>,
    target: Target,
}

/// What putting the edits back did beyond a plain restore.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    /// Paths where a fix and the user's edits were merged.
    pub(crate) merged: Vec<PathBuf>,
    /// Paths where they conflicted: the user's edits were kept, the fix saved here.
    pub(crate) conflicts: Vec<(PathBuf, PathBuf)>,
}

/// What the working tree must hold while gates run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The staged content: a pre-commit run.
    Index,
    /// HEAD's content: a pre-push run of the checked-out commit, staged changes set aside too.
    Head,
}

impl<'r> Keeper<'r> {
    /// Sets aside every difference between the working tree and `target` for tracked files
    /// (edits, deletions, type and mode changes) and puts the target's content in place.
    /// `beside` runs on another thread while the set-aside writes (which leaves a core
    /// idle); not at all (`None`) when there is nothing to set aside.
    pub(crate) fn stash<T: Send>(
        repo: &'r Repo,
        target: Target,
        printer: Printer,
        beside: impl FnOnce() -> T + Send,
    ) -> Result<(Self, Option<T>)> {
        clean_old_fixes(repo.git.path());
        let mut affected = affected(repo)?;
        let mut tree_index = None;
        if let Target::Head = target {
            // Staged changes differ from HEAD too; so do files staged as new (absent in HEAD).
            let staged = crate::git::changes::staged(repo)?;
            for file in staged.files {
                affected.extend(file.from);
                affected.push(file.path);
            }
            affected.sort();
            affected.dedup();
            let mut index = git2::Index::new().context("failed to make an index of HEAD")?;
            if let Some(head) = repo.head()? {
                index
                    .read_tree(&head.tree().context("failed to read HEAD's tree")?)
                    .context("failed to read HEAD's tree")?;
            }
            tree_index = Some(index);
        }
        let (affected, left) = writable(repo.root(), affected, printer);
        if affected.is_empty() {
            let keeper = Self {
                repo,
                backup: None,
                printer,
                left,
                target,
            };
            return Ok((keeper, None));
        }
        let mut backup = Backup::create(repo.git.path(), repo.root(), &affected, &repo.index_path()?)?;
        let mut keeper = Self {
            repo,
            backup: None,
            printer,
            left,
            target,
        };
        let (swapped, beside) = std::thread::scope(|scope| {
            let beside = scope.spawn(beside);
            let swapped = backup
                .move_out(repo.root())
                .and_then(|()| {
                    let moved: Vec<bool> = backup.manifest.entries.iter().map(|e| e.moved).collect();
                    swap_in(repo, &affected, &moved, tree_index)
                })
                .and_then(|put| backup.mark_swapped(put));
            (swapped, beside.join())
        });
        keeper.backup = Some(backup);
        swapped?;
        let beside = beside.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok((keeper, Some(beside)))
    }

    /// What was set aside, as the user knows it.
    pub(crate) fn kept(&self) -> &'static str {
        match self.target {
            Target::Index => "unstaged changes",
            Target::Head => "staged and unstaged changes",
        }
    }

    /// Paths left as they were because the checked content cannot be put there.
    pub(crate) fn left(&self) -> &[PathBuf] {
        &self.left
    }

    /// Whether every tracked file in the working tree now holds its staged content, so
    /// the index's blob ids stand for it without reading it.
    pub(crate) fn worktree_is_index(&self) -> bool {
        self.target == Target::Index && self.left.is_empty()
    }

    /// Paths that differ from what is checked: set aside, or left as they were.
    pub(crate) fn differing(&self) -> HashSet<PathBuf> {
        let mut all = self.affected();
        all.extend(self.left.iter().cloned());
        all
    }

    /// Paths whose unstaged edits are set aside.
    pub(crate) fn affected(&self) -> HashSet<PathBuf> {
        self.backup
            .iter()
            .flat_map(|b| b.manifest.entries.iter().map(|e| path_from_bytes(&e.path)))
            .collect()
    }

    /// What the set-aside put at `path` (in a pre-push run, the pushed commit's content,
    /// which the index need not hold); `None` for a path it did not write.
    pub(crate) fn put_at(&self, path: &Path) -> Option<&Content> {
        let backup = self.backup.as_ref()?;
        let bytes = path.as_os_str().as_bytes();
        let n = backup.manifest.entries.iter().position(|e| e.path == bytes)?;
        backup.put(n)
    }

    /// Puts the user's edits back, merged with any fix, checks the result against the
    /// backup and only then deletes the backup.
    pub(crate) fn restore(mut self) -> Result<Restored> {
        match self.backup.take() {
            Some(backup) => put_back(self.repo.root(), self.repo.git.path(), backup, false),
            None => Ok(Restored::default()),
        }
    }
}

impl Drop for Keeper<'_> {
    fn drop(&mut self) {
        if let Some(backup) = self.backup.take() {
            let id = backup.manifest.id.clone();
            if let Err(err) = put_back(self.repo.root(), self.repo.git.path(), backup, false) {
                self.printer.error(&err.context(Problem::hinted(
                    format!("failed to restore your unstaged changes; they are safe in backup `{id}`"),
                    format!("run `gate recover {id}`"),
                )));
            }
        }
    }
}

/// The paths gate may write, and those it leaves as they are, saying so: a path under a
/// directory that is now a symbolic link (writing there would write wherever the link
/// points, maybe outside the repository) or now a file, and a path that is now a directory
/// (git itself would not replace it). Tools are not handed those.
fn writable(root: &Path, paths: Vec<PathBuf>, printer: Printer) -> (Vec<PathBuf>, Vec<PathBuf>) {
    paths.into_iter().partition(|path| match obstacle(root, path) {
        None => true,
        Some(why) => {
            printer.warn(format_args!(
                "`{}` is not checked: {why}; gate leaves it as it is",
                path.display()
            ));
            false
        }
    })
}

/// Why the checked content cannot be put at `path`, if it cannot.
fn obstacle(root: &Path, path: &Path) -> Option<String> {
    let mut prefix = PathBuf::new();
    let components: Vec<_> = path.components().collect();
    for component in &components[..components.len().saturating_sub(1)] {
        prefix.push(component);
        let Ok(meta) = std::fs::symlink_metadata(root.join(&prefix)) else {
            return None; // missing parents are created
        };
        if meta.file_type().is_symlink() {
            return Some(format!(
                "`{}` is now a symbolic link, and gate never writes through one",
                prefix.display()
            ));
        }
        if !meta.is_dir() {
            return Some(format!("`{}` is now a file", prefix.display()));
        }
    }
    std::fs::symlink_metadata(root.join(path))
        .is_ok_and(|m| m.is_dir())
        .then(|| "it is now a directory".to_owned())
}

/// Puts the content of `index` (the repository's own when `None`) at `paths`; a path the
/// index does not hold is removed (its bytes are in the backup). `moved`: per path, whether
/// the user's file was moved out (so a spare file can be moved in). Returns what each path
/// holds.
fn swap_in(repo: &Repo, paths: &[PathBuf], moved: &[bool], index: Option<git2::Index>) -> Result<Vec<Content>> {
    if !repo.may_filter_content()? {
        // The staged entries from the index gix read already (libgit2 would read and
        // checksum it again), or from the tree made into an index.
        return match (&index, repo.fast_index()?) {
            (Some(index), _) => write_blobs(repo, paths, moved, |path| {
                index.get_path(path, 0).map(|entry| (entry.id, entry.mode))
            }),
            (None, Some(fast)) => write_blobs(repo, paths, moved, |path| {
                let entry = fast.entry_by_path(path.as_os_str().as_bytes().into())?;
                Some((Oid::from_bytes(entry.id.as_slice()).ok()?, entry.mode.bits()))
            }),
            (None, None) => checkout(repo, &mut repo.index()?, paths),
        };
    }
    let mut index = match index {
        Some(index) => index,
        None => repo.index()?,
    };
    checkout(repo, &mut index, paths)
}

/// [`swap_in`] through libgit2's checkout, which applies git's content filters.
fn checkout(repo: &Repo, index: &mut git2::Index, paths: &[PathBuf]) -> Result<Vec<Content>> {
    let mut checkout = CheckoutBuilder::new();
    checkout.force().update_index(false).disable_pathspec_match(true);
    let mut any = false;
    for path in paths {
        if index.get_path(path, 0).is_some() {
            // Whatever is at the path now (saved in the backup) goes first: a checkout onto
            // a link would write through it.
            let full = repo.root().join(path);
            if std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink()) {
                std::fs::remove_file(&full).with_context(|| format!("failed to set `{}` aside", path.display()))?;
            }
            checkout.path(path);
            any = true;
        } else {
            Content::Missing
                .write(&repo.root().join(path))
                .with_context(|| format!("failed to set `{}` aside", path.display()))?;
        }
    }
    if any {
        repo.git
            .checkout_index(Some(index), Some(&mut checkout))
            .context("failed to put the checked content into the working tree")?;
        smudge::smudge(repo, index, paths)?;
    }
    paths
        .iter()
        .map(|path| {
            let full = repo.root().join(path);
            Content::read(&full).with_context(|| format!("failed to read `{}`", full.display()))
        })
        .collect()
}

/// [`swap_in`] where no content filter can apply: each path gets its blob's bytes as they
/// are (a link its target), executable as the index says. libgit2's checkout compared the
/// whole working tree with the index first, a second pass over every file; a unit test
/// holds this to its result.
fn write_blobs(
    repo: &Repo,
    paths: &[PathBuf],
    moved: &[bool],
    staged: impl Fn(&Path) -> Option<(Oid, u32)>,
) -> Result<Vec<Content>> {
    let mut put = Vec::with_capacity(paths.len());
    let mut spares = Spares::new(repo.git.path());
    for (n, path) in paths.iter().enumerate() {
        let full = repo.root().join(path);
        let content = match staged(path) {
            Some((id, mode)) => {
                let blob = repo
                    .git
                    .find_blob(id)
                    .with_context(|| format!("failed to read the staged `{}`", path.display()))?;
                let bytes = blob.content().to_vec();
                if mode == 0o120_000 {
                    Content::Symlink { target: bytes }
                } else {
                    let mode = if mode & 0o111 != 0 { 0o777 } else { 0o666 };
                    Content::File {
                        bytes,
                        mode: mode & !umask(),
                    }
                }
            }
            None => Content::Missing,
        };
        let filled = match &content {
            Content::File { bytes, mode } if moved.get(n) == Some(&true) => spares.fill(&full, bytes, *mode),
            _ => false,
        };
        if !filled {
            content
                .write(&full)
                .with_context(|| format!("failed to set `{}` aside", path.display()))?;
        }
        put.push(content);
    }
    Ok(put)
}

/// The process's file-creation mask, as git's checkout applies it: read from
/// `/proc/self/status` (setting it to read it would race with threads creating files).
fn umask() -> u32 {
    static MASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MASK.get_or_init(|| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|l| l.starts_with("Umask:"))?;
                u32::from_str_radix(line.trim_start_matches("Umask:").trim(), 8).ok()
            })
            .unwrap_or(0o022)
    })
}

/// Tracked paths whose working tree differs from the index, over the whole index: an
/// unstaged edit anywhere could change what a tool sees (an import, a config file).
fn affected(repo: &Repo) -> Result<Vec<PathBuf>> {
    repo.differing_from_index()
}

/// Restores a backup. `recovering`: after a killed run, where the user may have edited since;
/// content that is neither theirs nor gate's is kept aside, never overwritten.
pub(crate) fn put_back(root: &Path, git_dir: &Path, backup: Backup, recovering: bool) -> Result<Restored> {
    let mut restored = Restored::default();
    let mut expected = Vec::with_capacity(backup.manifest.entries.len());
    let mut patch = String::new();
    let id = backup.manifest.id.clone();
    let (fixes_dir, recovered_dir) = (git_dir.join("gate/fixes"), git_dir.join("gate/recovered"));
    let mut spares = Spares::new(git_dir);
    for n in 0..backup.manifest.entries.len() {
        let entry = &backup.manifest.entries[n];
        let relative = path_from_bytes(&entry.path);
        let full = root.join(&relative);
        // Where the user's content is: their own file, moved into the backup, or a copy.
        let ours = match backup.moved_file(n) {
            Some(file) => Back::Move(file),
            None if entry.moved => continue, // never moved out, or moved back already: in place
            None => Back::Write(backup.worktree(n)?),
        };
        let current = Content::read(&full).with_context(|| format!("failed to read `{}`", full.display()))?;
        let holds_put = backup.holds_put(n, &current)?;
        // Untouched since gate put the staged content there, or gate never got that far.
        let untouched = holds_put
            || (entry.staged.is_none() && !recovering)
            || match &ours {
                // Moved out, and the run stopped before anything was put there; or after a
                // stop in the restore, which moves gate's file away first: nothing to keep.
                Back::Move(_) => current == Content::Missing && (entry.staged.is_none() || recovering),
                Back::Write(copy) => current == *copy,
            };
        let back = if untouched {
            // Gate's own file, as gate put it, is kept for the next run to fill (only where
            // the user's comes back by a move: the folder may be changed).
            if let (true, false, Back::Move(_), Content::File { bytes, .. }) = (holds_put, recovering, &ours, &current)
            {
                spares.keep(&full, bytes.len(), n);
            }
            ours
        } else if recovering {
            let kept = keep_aside(&recovered_dir.join(&id), n, &relative, &current)?;
            restored.conflicts.push((relative.clone(), kept));
            ours
        } else {
            let staged = match backup.put(n) {
                Some(put) => std::borrow::Cow::Borrowed(put),
                None => std::borrow::Cow::Owned(backup.staged(n)?.unwrap_or(Content::Missing)),
            };
            let mine = match &ours {
                Back::Move(_) => std::borrow::Cow::Owned(backup.worktree(n)?),
                Back::Write(copy) => std::borrow::Cow::Borrowed(copy),
            };
            if let Some(merged) = merge(&staged, &mine, &current) {
                restored.merged.push(relative.clone());
                Back::Write(merged)
            } else {
                let diff = match (staged.text_bytes(), current.text_bytes()) {
                    (Some(before), Some(after)) => crate::model::text_diff(&relative, before, after),
                    _ => None,
                };
                let saved = if let Some(diff) = diff {
                    patch.push_str(&diff);
                    fixes_dir.join(format!("{id}.patch"))
                } else {
                    keep_aside(&fixes_dir.join(&id), n, &relative, &current)?
                };
                restored.conflicts.push((relative.clone(), saved));
                ours
            }
        };
        let expect = back
            .apply(&full)
            .with_context(|| format!("failed to restore `{}`", full.display()))?;
        expected.push((full, expect));
    }
    if !patch.is_empty() {
        backup::private_dir(&fixes_dir)?;
        backup::write_private(&fixes_dir.join(format!("{id}.patch")), patch.as_bytes())?;
    }
    for (full, expect) in &expected {
        if !expect.holds(full)? {
            return Err(Problem::hinted(
                format!(
                    "`{}` does not hold what was restored; the backup `{id}` is kept",
                    full.display()
                ),
                format!("run `gate recover {id}`"),
            )
            .into());
        }
    }
    backup.remove()?;
    Ok(restored)
}

/// How a path gets the user's content back.
enum Back {
    /// The user's own file, moved back from the backup.
    Move(PathBuf),
    /// Content written: a copy from the backup, a merge, or nothing (a removal).
    Write(Content),
}

/// What a restored path must hold when the restore is checked.
enum Expect {
    /// The very file moved back (device and inode).
    File(u64, u64),
    Content(Content),
}

impl Back {
    fn apply(self, full: &Path) -> std::io::Result<Expect> {
        use std::os::unix::fs::MetadataExt;
        match self {
            Back::Write(content) => {
                content.write(full)?;
                Ok(Expect::Content(content))
            }
            Back::Move(file) => {
                let meta = std::fs::symlink_metadata(&file)?;
                if std::fs::symlink_metadata(full).is_ok_and(|m| m.is_dir()) {
                    std::fs::remove_dir(full)?; // only an empty one: never remove content
                }
                if let Err(err) = std::fs::rename(&file, full) {
                    // A fix or a check removed the folder: it comes back, as git would.
                    let parent = full.parent().filter(|p| !p.exists());
                    let Some(parent) = parent.filter(|_| err.kind() == std::io::ErrorKind::NotFound) else {
                        return Err(err);
                    };
                    std::fs::create_dir_all(parent)?;
                    std::fs::rename(&file, full)?;
                }
                Ok(Expect::File(meta.dev(), meta.ino()))
            }
        }
    }
}

impl Expect {
    fn holds(&self, full: &Path) -> Result<bool> {
        use std::os::unix::fs::MetadataExt;
        Ok(match self {
            Expect::Content(content) => {
                Content::read(full).with_context(|| format!("failed to read `{}`", full.display()))? == *content
            }
            Expect::File(dev, ino) => std::fs::symlink_metadata(full).is_ok_and(|m| m.dev() == *dev && m.ino() == *ino),
        })
    }
}

/// The user's edits (`ours`, from `base`) merged with a fixer's change (`theirs`, from `base`),
/// or `None` when they conflict or are not text.
fn merge(base: &Content, ours: &Content, theirs: &Content) -> Option<Content> {
    let (Some(base_text), Some(our_text), Some(their_text)) =
        (base.text_bytes(), ours.text_bytes(), theirs.text_bytes())
    else {
        return None;
    };
    let input = |text| {
        let mut input = git2::MergeFileInput::new();
        input.content(text);
        input
    };
    let result = git2::merge_file(&input(base_text), &input(our_text), &input(their_text), None).ok()?;
    result
        .is_automergeable()
        .then(|| ours.with_data(result.content().to_vec()))
}

/// Saves content that must not be overwritten and is no text patch: a copy in `dir`.
fn keep_aside(dir: &Path, n: usize, relative: &Path, content: &Content) -> Result<PathBuf> {
    backup::private_dir(dir)?;
    let name = relative
        .file_name()
        .map_or_else(|| n.to_string(), |f| format!("{n}-{}", f.to_string_lossy()));
    let path = dir.join(name);
    backup::write_private(&path, content.data())?;
    // A copy the user opens keeps the original's permission bits (in a 0700 folder).
    if let Content::File { mode, .. } = content {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode))
            .with_context(|| format!("failed to set the mode of `{}`", path.display()))?;
    }
    Ok(path)
}

/// How long a saved fix (a patch, or a copy of a binary file) is kept for review.
const KEEP_FIXES: std::time::Duration = std::time::Duration::from_hours(24 * 30);

/// Removes saved fixes older than [`KEEP_FIXES`]; what cannot be removed stays, quietly.
fn clean_old_fixes(git_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(git_dir.join("gate/fixes")) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| now.duration_since(modified).is_ok_and(|age| age > KEEP_FIXES));
        if old {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// Refuses to run while an interrupted run's backup is waiting to be restored.
pub(crate) fn check_no_leftover(git_dir: &Path) -> Result<()> {
    let backups = Backup::list(git_dir)?;
    if let Some(backup) = backups.last() {
        return Err(Problem::hinted(format!("an interrupted gate run left a backup of your unstaged changes (`{}`, {}); gate will not run until it is restored", backup.manifest.id, crate::model::text::plural(backup.manifest.entries.len(), "file")), "run `gate recover` to put them back (`gate recover --list` shows the backups)").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    use crate::git::git_in as git;

    /// A repository with staged files of every kind and unstaged edits over them.
    fn scratch() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        let write = |path: &str, text: &str| {
            std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
            std::fs::write(root.join(path), text).unwrap();
        };
        write("plain.txt", "staged\n");
        write("tool.sh", "#!/bin/sh\n");
        write("deep/new/file.txt", "new\n");
        write("gone.txt", "committed\n");
        std::os::unix::fs::symlink("plain.txt", root.join("link")).unwrap();
        git(root, &["add", "-A"]);
        git(root, &["update-index", "--chmod=+x", "tool.sh"]);
        git(root, &["rm", "-q", "--cached", "gone.txt"]);
        write("plain.txt", "unstaged edit\n");
        write("tool.sh", "#!/bin/sh\necho edited\n");
        std::fs::set_permissions(root.join("tool.sh"), std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::remove_dir_all(root.join("deep")).unwrap();
        std::fs::remove_file(root.join("link")).unwrap();
        write("link", "a file where a link is staged\n");
        dir
    }

    #[test]
    fn writing_blobs_puts_what_libgit2_checks_out() {
        let paths: Vec<PathBuf> = ["plain.txt", "tool.sh", "deep/new/file.txt", "gone.txt", "link"]
            .map(PathBuf::from)
            .to_vec();
        let (ours, theirs) = (scratch(), scratch());
        let repo = Repo::open_at(ours.path()).unwrap();
        swap_in(&repo, &paths, &[], None).unwrap();
        let repo = Repo::open_at(theirs.path()).unwrap();
        checkout(&repo, &mut repo.index().unwrap(), &paths).unwrap();
        for path in &paths {
            let read = |dir: &tempfile::TempDir| Content::read(&dir.path().join(path)).unwrap();
            assert_eq!(read(&ours), read(&theirs), "{}", path.display());
        }
        let mode = |dir: &tempfile::TempDir| {
            std::fs::metadata(dir.path().join("tool.sh"))
                .unwrap()
                .permissions()
                .mode()
        };
        assert_eq!(mode(&ours), mode(&theirs));
        assert!(mode(&ours) & 0o100 != 0, "executable, as staged");
    }

    /// A run stopped after each step of the set-aside (killed, or a power cut that kept
    /// only what was synced), then the user edits a file before `gate recover`: every byte
    /// of theirs comes back, the same files where they were moved, and what is neither
    /// theirs nor known to be gate's is kept aside, never overwritten.
    #[test]
    fn recovery_after_a_stop_at_every_step_of_the_set_aside() {
        use std::os::unix::fs::MetadataExt;
        let paths: Vec<PathBuf> = ["plain.txt", "tool.sh", "deep/new/file.txt", "gone.txt", "link"]
            .map(PathBuf::from)
            .to_vec();
        for stop in [
            "created",
            "moved",
            "swapped, record lost",
            "swapped",
            "swapped, restoring",
        ] {
            let dir = scratch();
            let root = dir.path();
            let git_dir = root.join(".git");
            let read = |path: &PathBuf| Content::read(&root.join(path)).unwrap();
            let before: Vec<Content> = paths.iter().map(read).collect();
            let inode = std::fs::metadata(root.join("plain.txt")).unwrap().ino();
            let repo = Repo::open_at(root).unwrap();
            let mut backup = Backup::create(&git_dir, root, &paths, &git_dir.join("index")).unwrap();
            if stop != "created" {
                backup.move_out(root).unwrap();
            }
            if stop.starts_with("swapped") {
                let moved: Vec<bool> = backup.manifest.entries.iter().map(|e| e.moved).collect();
                let put = swap_in(&repo, &paths, &moved, None).unwrap();
                assert_eq!(read(&paths[0]).data(), b"staged\n");
                if stop != "swapped, record lost" {
                    backup.mark_swapped(put).unwrap();
                }
                if stop == "swapped, restoring" {
                    // The restore had moved gate's file into the spares, not the user's back.
                    assert!(Spares::new(&git_dir).keep(&root.join("tool.sh"), 0, 1));
                }
                std::fs::write(root.join("plain.txt"), "edited after the stop\n").unwrap();
            }
            drop(backup); // the process is gone
            let loaded = Backup::list(&git_dir).unwrap().pop().unwrap();
            let restored = put_back(root, &git_dir, loaded, true).unwrap();
            for (path, content) in paths.iter().zip(&before) {
                assert_eq!(read(path), *content, "{stop}: {}", path.display());
            }
            assert_eq!(
                std::fs::metadata(root.join("plain.txt")).unwrap().ino(),
                inode,
                "{stop}"
            );
            let kept: Vec<&Path> = restored.conflicts.iter().map(|(p, _)| p.as_path()).collect();
            match stop {
                "created" | "moved" => assert!(kept.is_empty(), "{stop}: {kept:?}"),
                // What gate put is not known: all of it is kept aside, with the user's edit.
                "swapped, record lost" => assert_eq!(kept.len(), 4, "{stop}: {kept:?}"),
                _ => assert_eq!(kept, [Path::new("plain.txt")], "{stop}"),
            }
            if let Some((_, copy)) = restored.conflicts.iter().find(|(p, _)| p == Path::new("plain.txt")) {
                assert_eq!(std::fs::read(copy).unwrap(), b"edited after the stop\n", "{stop}");
            }
            assert!(Backup::list(&git_dir).unwrap().is_empty(), "{stop}");
        }
    }

    /// A backup an older gate left (version 2: the user's bytes in `worktree.pack`, what
    /// gate put in `staged.pack`) is still recovered, keeping aside what is neither.
    #[test]
    fn a_version_2_backup_is_still_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let (root, git_dir) = (dir.path().join("tree"), dir.path().join("git"));
        let backup = backup::backups_dir(&git_dir).join("100-1");
        std::fs::create_dir_all(&backup).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        let file = |path: &Path, text: &str| {
            std::fs::write(path, text).unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
        };
        file(&root.join("a.txt"), "staged a\n"); // as the killed run left it
        file(&root.join("b.txt"), "edited after the kill\n");
        std::fs::write(backup.join("worktree.pack"), "mine a\nmine b\n").unwrap();
        std::fs::write(backup.join("staged.pack"), "staged a\nstaged b\n").unwrap();
        let entry = |name: &str, mine: u32, staged: u32| {
            format!(
                r#"{{"path": {:?}, "shown": "{name}", "worktree": {{"kind": "file", "mode": 420}},
                "staged": {{"kind": "file", "mode": 420}}, "worktree_at": {{"offset": {mine}, "len": 7}},
                "staged_at": {{"offset": {staged}, "len": 9}}}}"#,
                name.as_bytes()
            )
        };
        let manifest = format!(
            r#"{{"version": 2, "id": "100-1", "created": 100, "pid": 1, "phase": "swapped", "entries": [{}, {}]}}"#,
            entry("a.txt", 0, 0),
            entry("b.txt", 7, 9)
        );
        std::fs::write(backup.join("manifest.json"), manifest).unwrap();
        let loaded = Backup::list(&git_dir).unwrap().pop().unwrap();
        let restored = put_back(&root, &git_dir, loaded, true).unwrap();
        assert_eq!(std::fs::read_to_string(root.join("a.txt")).unwrap(), "mine a\n");
        assert_eq!(std::fs::read_to_string(root.join("b.txt")).unwrap(), "mine b\n");
        let kept: Vec<&Path> = restored.conflicts.iter().map(|(p, _)| p.as_path()).collect();
        assert_eq!(kept, [Path::new("b.txt")]);
        assert_eq!(
            std::fs::read_to_string(&restored.conflicts[0].1).unwrap(),
            "edited after the kill\n"
        );
        assert!(!backup.exists());
    }
}
