//! The backup of a pre-commit run, under `.git/gate/backups/<id>/`, complete before the
//! working tree is touched and removed only after the restored tree was checked against it:
//!
//! - `manifest.json`: the paths, what each was (file and mode, link, nothing), where the
//!   user's bytes are, and what gate put there; written (and synced, with its folder) before
//!   the first path is touched;
//! - `files/<n>`: the user's file itself, moved here by `rename` and moved back afterwards:
//!   no copy, no data to sync, and the file comes back as the same file (inode, times,
//!   links), so an editor never sees it change;
//! - `worktree.pack`: the bytes of the paths that cannot be moved (on another mount than
//!   the git directory, or in a directory this process may not change), one after
//!   another, synced once however many;
//! - `index`: the index as it was (a hard link: git replaces the index, never rewrites it).
//!
//! Version 2 backups (`worktree.pack` for every path, `staged.pack`) and version 1
//! (`worktree/<n>`, `staged/<n>`) are still read.

use std::collections::HashMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::content::Content;
use crate::git::path_from_bytes;

const MANIFEST: &str = "manifest.json";
const VERSION: u32 = 3;
const FILES: &str = "files";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Phase {
    /// The user's files are saved; the working tree may or may not hold staged content yet.
    Saved,
    /// The working tree holds the staged content, which is saved too.
    Swapped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// Repository-relative path, as bytes (paths need not be UTF-8).
    pub(crate) path: Vec<u8>,
    /// The same path for people reading the manifest.
    pub(crate) shown: String,
    /// What the user had at this path.
    pub(crate) worktree: Content,
    /// Version 3: the user's file was moved to `files/<n>` (once the run touches it: a
    /// missing `files/<n>` means the path still, or again, holds it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) moved: bool,
    /// What gate put there (in the `swapped` phase).
    pub(crate) staged: Option<Content>,
    /// Version 3: the git blob id of what gate put there (its bytes are not kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) staged_id: Option<String>,
    /// Where the user's bytes are in `worktree.pack` (absent in version 1 and for moved files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) worktree_at: Option<Stored>,
    /// Where gate's bytes are in `staged.pack`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) staged_at: Option<Stored>,
}

/// A run of bytes in a pack file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

/// Appends `data` to a pack being built, saying where it went.
fn stash_in(pack: &mut Vec<u8>, data: &[u8]) -> Stored {
    let stored = Stored {
        offset: pack.len() as u64,
        len: data.len() as u64,
    };
    pack.extend_from_slice(data);
    stored
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub(crate) version: u32,
    pub(crate) id: String,
    /// Seconds since the Unix epoch.
    pub(crate) created: u64,
    pub(crate) pid: u32,
    pub(crate) phase: Phase,
    pub(crate) entries: Vec<Entry>,
}

#[derive(Debug)]
pub(crate) struct Backup {
    pub(crate) dir: PathBuf,
    pub(crate) manifest: Manifest,
    /// What this run put at each path, bytes included (empty for a loaded backup).
    put: Vec<Content>,
}

/// Where backups live in a repository's git dir.
pub(crate) fn backups_dir(git_dir: &Path) -> PathBuf {
    git_dir.join("gate").join("backups")
}

impl Backup {
    /// Records the working-tree state of `paths` (repository-relative) durably, with the
    /// index as it was; the paths are untouched until [`Backup::move_out`].
    pub(crate) fn create(git_dir: &Path, root: &Path, paths: &[PathBuf], index: &Path) -> Result<Self> {
        // Debug builds copy on request, so the tests take the other mount's path too.
        #[cfg(debug_assertions)]
        let moving = crate::env::var(crate::env::GATE_FAULT).as_deref() != Some("copy-backup");
        #[cfg(not(debug_assertions))]
        let moving = true;
        Self::create_in(git_dir, root, paths, index, moving)
    }

    /// [`Backup::create`]; `moving`: whether files may be moved at all (else all are copied).
    fn create_in(git_dir: &Path, root: &Path, paths: &[PathBuf], index: &Path, moving: bool) -> Result<Self> {
        let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let id = format!("{created}-{}", std::process::id());
        let dir = backups_dir(git_dir).join(&id);
        private_dir(&dir.join(FILES))?;
        // The user's files can be moved here only from the same mount (rename(2)), and only
        // out of a directory this process may change (asked once per directory).
        let mount = if moving { mount_id(&dir.join(FILES)) } else { None };
        let mut changeable: HashMap<PathBuf, bool> = HashMap::new();
        let mut may_move = |full: &Path| {
            let parent = full.parent().unwrap_or(root);
            *changeable
                .entry(parent.to_path_buf())
                .or_insert_with(|| may_change(parent))
        };
        keep_index(index, &dir.join("index"))?;
        let mut entries = Vec::with_capacity(paths.len());
        let mut pack = Vec::new();
        for path in paths {
            let full = root.join(path);
            let (worktree, moved) = match movable(&full, mount).filter(|_| may_move(&full)) {
                Some(kind) => (kind, true),
                None => (
                    Content::read(&full).with_context(|| format!("failed to read `{}`", path.display()))?,
                    false,
                ),
            };
            let worktree_at = (!moved).then(|| stash_in(&mut pack, worktree.data()));
            entries.push(Entry {
                path: path.as_os_str().as_bytes().to_vec(),
                shown: path.to_string_lossy().into_owned(),
                worktree,
                moved,
                staged: None,
                staged_id: None,
                worktree_at,
                staged_at: None,
            });
        }
        if entries.iter().any(|e| !e.moved) {
            write_synced(&dir.join("worktree.pack"), &pack)?;
        }
        let backup = Self {
            dir,
            manifest: Manifest {
                version: VERSION,
                id,
                created,
                pid: std::process::id(),
                phase: Phase::Saved,
                entries,
            },
            put: Vec::new(),
        };
        // The manifest makes the backup count: written last, atomically, and on disk (its
        // folder's entry too) before any of the user's files moves.
        backup.write_manifest(true)?;
        Ok(backup)
    }

    /// Moves each movable path's file into the backup. An error leaves the rest in place
    /// (the paths not moved still hold the user's files, as the backup knows).
    pub(crate) fn move_out(&self, root: &Path) -> Result<()> {
        for (n, entry) in self.manifest.entries.iter().enumerate() {
            if entry.moved {
                let from = root.join(path_from_bytes(&entry.path));
                fs::rename(&from, self.moved_path(n))
                    .with_context(|| format!("failed to set `{}` aside", from.display()))?;
            }
        }
        Ok(())
    }

    /// Records what gate put at each path (in the manifest its blob id only). Not synced:
    /// after a crash that loses it, whatever is at a path is kept aside before the user's
    /// file goes back, so nothing is lost either way.
    pub(crate) fn mark_swapped(&mut self, put: Vec<Content>) -> Result<()> {
        for (entry, content) in self.manifest.entries.iter_mut().zip(&put) {
            entry.staged_id = Some(blob_id(content));
            entry.staged = Some(content.with_data(Vec::new()));
        }
        self.put = put;
        self.manifest.phase = Phase::Swapped;
        self.write_manifest(false)
    }

    /// Where entry `n`'s moved file lives while the run lasts.
    fn moved_path(&self, n: usize) -> PathBuf {
        self.dir.join(FILES).join(n.to_string())
    }

    /// Entry `n`'s file in the backup, if it was moved there and is there still.
    pub(crate) fn moved_file(&self, n: usize) -> Option<PathBuf> {
        let path = self.moved_path(n);
        (self.manifest.entries[n].moved && fs::symlink_metadata(&path).is_ok()).then_some(path)
    }

    /// Whether `current` is exactly what gate put at entry `n`; `false` when that is unknown.
    pub(crate) fn holds_put(&self, n: usize, current: &Content) -> Result<bool> {
        if let Some(put) = self.put.get(n) {
            return Ok(put == current);
        }
        let entry = &self.manifest.entries[n];
        match (&entry.staged, &entry.staged_id) {
            (Some(staged), Some(id)) => {
                Ok(staged.with_data(Vec::new()) == current.with_data(Vec::new()) && blob_id(current) == *id)
            }
            (Some(_), None) => Ok(self.staged(n)?.is_some_and(|s| s == *current)),
            (None, _) => Ok(false),
        }
    }

    /// What this run put at entry `n`, bytes included (a fix's merge base).
    pub(crate) fn put(&self, n: usize) -> Option<&Content> {
        self.put.get(n)
    }

    /// Every complete backup in the repository, oldest first. A directory without a manifest
    /// is a backup that never became complete, so the working tree was never touched: removed.
    pub(crate) fn list(git_dir: &Path) -> Result<Vec<Self>> {
        let dir = backups_dir(git_dir);
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut backups = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.join(MANIFEST).exists() {
                // Never complete, so the working tree was never touched; a folder that holds
                // moved files anyway is left for a person to look at, never removed.
                let holds_files = fs::read_dir(path.join(FILES)).is_ok_and(|mut d| d.next().is_some());
                if !holds_files {
                    let _ = fs::remove_dir_all(&path);
                }
                continue;
            }
            backups.push(Self::load(&path)?);
        }
        backups.sort_by(|a, b| (a.manifest.created, &a.manifest.id).cmp(&(b.manifest.created, &b.manifest.id)));
        Ok(backups)
    }

    fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let text = fs::read_to_string(&path).with_context(|| format!("failed to read `{}`", path.display()))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not a gate backup manifest", path.display()))?;
        Ok(Self {
            dir: dir.to_owned(),
            manifest,
            put: Vec::new(),
        })
    }

    /// What the user had at entry `n`, bytes included.
    pub(crate) fn worktree(&self, n: usize) -> Result<Content> {
        let entry = &self.manifest.entries[n];
        if entry.moved {
            let path = self.moved_path(n);
            return Content::read(&path)
                .with_context(|| format!("failed to read the backup file `{}`", path.display()));
        }
        let data = self.data("worktree", n)?;
        Ok(entry.worktree.with_data(data))
    }

    /// What gate put at entry `n`, if the backup got that far.
    pub(crate) fn staged(&self, n: usize) -> Result<Option<Content>> {
        match &self.manifest.entries[n].staged {
            Some(staged) => Ok(Some(staged.with_data(self.data("staged", n)?))),
            None => Ok(None),
        }
    }

    fn data(&self, part: &str, n: usize) -> Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let entry = &self.manifest.entries[n];
        let stored = if part == "worktree" {
            entry.worktree_at
        } else {
            entry.staged_at
        };
        let Some(stored) = stored else {
            // Version 1: a file per entry.
            let path = self.dir.join(part).join(n.to_string());
            return fs::read(&path).with_context(|| format!("failed to read the backup file `{}`", path.display()));
        };
        let path = self.dir.join(format!("{part}.pack"));
        let mut file =
            fs::File::open(&path).with_context(|| format!("failed to open the backup file `{}`", path.display()))?;
        let pack_len = file.metadata().map_or(0, |m| m.len());
        if stored.offset.saturating_add(stored.len) > pack_len {
            anyhow::bail!("the backup file `{}` is shorter than its manifest says", path.display());
        }
        let mut data = vec![0; usize::try_from(stored.len).unwrap_or(0)];
        file.seek(SeekFrom::Start(stored.offset))
            .and_then(|_| file.read_exact(&mut data))
            .with_context(|| format!("failed to read the backup file `{}`", path.display()))?;
        Ok(data)
    }

    pub(crate) fn remove(self) -> Result<()> {
        fs::remove_dir_all(&self.dir).with_context(|| format!("failed to remove the backup `{}`", self.dir.display()))
    }

    /// Replaces the manifest atomically; `durable`: on disk, its name included, on return.
    fn write_manifest(&self, durable: bool) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.manifest)?;
        let temp = self.dir.join(format!("{MANIFEST}.tmp"));
        write_0600(&temp, text.as_bytes(), durable)?;
        fs::rename(&temp, self.dir.join(MANIFEST))
            .and_then(|()| {
                if durable {
                    fs::File::open(&self.dir)?.sync_all()
                } else {
                    Ok(())
                }
            })
            .with_context(|| format!("failed to write `{}`", self.dir.display()))
    }
}

/// The mount `dir` is on (statx's mount id, Linux 5.8 on); `None` when it cannot be told,
/// so nothing is moved.
fn mount_id(dir: &Path) -> Option<u64> {
    use rustix::fs::{AtFlags, CWD, StatxFlags, statx};
    let stat = statx(CWD, dir, AtFlags::SYMLINK_NOFOLLOW, StatxFlags::MNT_ID).ok()?;
    (stat.stx_mask & StatxFlags::MNT_ID.bits() != 0).then_some(stat.stx_mnt_id)
}

/// What is at `full` (its kind and mode, no bytes) when it is a file or a link on `mount`,
/// which `rename` can move into the backup if its directory may be changed; `None` for
/// anything else (read and copied).
fn movable(full: &Path, mount: Option<u64>) -> Option<Content> {
    use rustix::fs::{AtFlags, CWD, FileType, StatxFlags, statx};
    let mount = mount?;
    let stat = statx(
        CWD,
        full,
        AtFlags::SYMLINK_NOFOLLOW,
        StatxFlags::TYPE | StatxFlags::MODE | StatxFlags::MNT_ID,
    )
    .ok()?;
    if stat.stx_mask & StatxFlags::MNT_ID.bits() == 0 || stat.stx_mnt_id != mount {
        return None;
    }
    match FileType::from_raw_mode(u32::from(stat.stx_mode)) {
        FileType::RegularFile => Some(Content::File {
            bytes: Vec::new(),
            mode: u32::from(stat.stx_mode) & 0o7777,
        }),
        FileType::Symlink => Some(Content::Symlink { target: Vec::new() }),
        _ => None,
    }
}

/// Whether this process may add and remove names in `dir`: moving one needs that, where
/// rewriting a file does not (a read-only or immutable directory refuses the move).
fn may_change(dir: &Path) -> bool {
    use rustix::fs::{Access, AtFlags, CWD, accessat};
    accessat(CWD, dir, Access::WRITE_OK | Access::EXEC_OK, AtFlags::EACCESS).is_ok()
}

/// The index as it was: a hard link (git replaces the index file, so the link keeps the
/// old one), or a copy where links cannot be made. Nothing reads it back: it is there for
/// a person putting things right by hand.
fn keep_index(index: &Path, copy: &Path) -> Result<()> {
    if !index.exists() || fs::hard_link(index, copy).is_ok() {
        return Ok(());
    }
    let bytes = fs::read(index).with_context(|| format!("failed to copy the index `{}`", index.display()))?;
    write_private(copy, &bytes)
}

/// The git blob id of a path's content (a link's target), hex.
fn blob_id(content: &Content) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, content.data()).map_or_else(|_| String::new(), |id| id.to_string())
}

/// Creates `dir` and any missing parents readable by the user alone (0700): backups hold
/// the user's files, whatever their own permissions were.
pub(crate) fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))
}

/// Writes a file only the user can read (0600), replacing what is there.
pub(crate) fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    write_0600(path, data, false)
}

/// Writes and flushes to disk: a backup must survive a crash right after it is written.
fn write_synced(path: &Path, data: &[u8]) -> Result<()> {
    write_0600(path, data, true)
}

fn write_0600(path: &Path, data: &[u8], sync: bool) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = fs::remove_file(path);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("failed to create `{}`", path.display()))?;
    file.write_all(data)
        .and_then(|()| if sync { file.sync_data() } else { Ok(()) })
        .with_context(|| format!("failed to write `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_short_pack_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (git_dir, root) = (dir.path().join("git"), dir.path().join("tree"));
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("a.txt"), "first\n").unwrap();
        fs::write(root.join("b.txt"), "second file\n").unwrap();
        let paths = [PathBuf::from("a.txt"), PathBuf::from("b.txt")];
        // As on another mount than the git directory: the bytes are copied into the pack.
        let backup = Backup::create_in(&git_dir, &root, &paths, &root.join("no-index"), false).unwrap();
        assert!(backup.manifest.entries.iter().all(|e| !e.moved));
        assert_eq!(backup.worktree(1).unwrap().data(), b"second file\n");
        assert_eq!(backup.worktree(0).unwrap().data(), b"first\n");
        fs::write(backup.dir.join("worktree.pack"), "first\n").unwrap();
        // A backup loaded from a cut-short pack says so, never hands out part of a file.
        let loaded = Backup::list(&git_dir).unwrap().pop().unwrap();
        let err = loaded.worktree(1).unwrap_err();
        assert!(format!("{err:#}").contains("shorter than its manifest says"), "{err:#}");
    }

    #[test]
    fn files_are_moved_out_and_a_folder_holding_moved_files_is_never_removed() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let (git_dir, root) = (dir.path().join("git"), dir.path().join("tree"));
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("a.txt"), "mine\n").unwrap();
        let inode = fs::metadata(root.join("a.txt")).unwrap().ino();
        let paths = [PathBuf::from("a.txt"), PathBuf::from("absent.txt")];
        let backup = Backup::create(&git_dir, &root, &paths, &root.join("no-index")).unwrap();
        assert!(backup.manifest.entries[0].moved, "same mount: moved");
        assert!(!backup.manifest.entries[1].moved, "nothing to move");
        assert!(root.join("a.txt").exists(), "untouched until moved out");
        backup.move_out(&root).unwrap();
        assert!(!root.join("a.txt").exists());
        let moved = backup.moved_file(0).unwrap();
        assert_eq!(fs::metadata(&moved).unwrap().ino(), inode, "the same file, not a copy");
        assert_eq!(backup.worktree(0).unwrap().data(), b"mine\n");
        // Without its manifest the folder is no backup, but it holds a user's file: kept.
        fs::remove_file(backup.dir.join(MANIFEST)).unwrap();
        assert!(Backup::list(&git_dir).unwrap().is_empty());
        assert_eq!(fs::read(&moved).unwrap(), b"mine\n");
    }
}
