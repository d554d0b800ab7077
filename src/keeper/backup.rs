//! The backup of a pre-commit run, under `.git/gate/backups/<id>/`, written before the
//! working tree is touched and removed only after the restored tree was checked against it:
//!
//! - `manifest.json`: the paths, what each was (file and mode, link, nothing), where its
//!   bytes are in the packs, and the phase;
//! - `worktree.pack`: the bytes the user had in the working tree (the unstaged edits), one
//!   after another: one file and one `fdatasync` however many paths (a sync per file cost
//!   more than the rest of a run);
//! - `staged.pack`: the content gate put in their place (from the `swapped` phase on);
//! - `index`: a copy of the index as it was, so nothing depends on the live index.
//!
//! Backups of version 1 (`worktree/<n>`, `staged/<n>`) are still read.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::content::Content;
use crate::git::path_from_bytes;

const MANIFEST: &str = "manifest.json";
const VERSION: u32 = 2;

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
    /// What gate put there (in the `swapped` phase).
    pub(crate) staged: Option<Content>,
    /// Where the user's bytes are in `worktree.pack` (absent in version 1).
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
}

/// Where backups live in a repository's git dir.
pub(crate) fn backups_dir(git_dir: &Path) -> PathBuf {
    git_dir.join("gate").join("backups")
}

impl Backup {
    /// Saves the working-tree state of `paths` (repository-relative) and a copy of the index.
    pub(crate) fn create(git_dir: &Path, root: &Path, paths: &[PathBuf], index: &Path) -> Result<Self> {
        let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let pid = std::process::id();
        let id = format!("{created}-{pid}");
        let dir = backups_dir(git_dir).join(&id);
        private_dir(&dir)?;
        if index.exists() {
            let bytes = fs::read(index).with_context(|| format!("failed to copy the index `{}`", index.display()))?;
            write_synced(&dir.join("index"), &bytes)?;
        }
        let mut entries = Vec::with_capacity(paths.len());
        let mut pack = Vec::new();
        for path in paths {
            let worktree =
                Content::read(&root.join(path)).with_context(|| format!("failed to read `{}`", path.display()))?;
            let worktree_at = Some(stash_in(&mut pack, worktree.data()));
            entries.push(Entry {
                path: path.as_os_str().as_bytes().to_vec(),
                shown: path.to_string_lossy().into_owned(),
                worktree,
                staged: None,
                worktree_at,
                staged_at: None,
            });
        }
        write_synced(&dir.join("worktree.pack"), &pack)?;
        let backup = Self {
            dir,
            manifest: Manifest {
                version: VERSION,
                id,
                created,
                pid,
                phase: Phase::Saved,
                entries,
            },
        };
        // The manifest makes the backup count: written last, atomically.
        backup.write_manifest()?;
        Ok(backup)
    }

    /// Records the staged content now in the working tree.
    pub(crate) fn mark_swapped(&mut self, root: &Path) -> Result<()> {
        let mut pack = Vec::new();
        for entry in &mut self.manifest.entries {
            let path = root.join(path_from_bytes(&entry.path));
            let staged = Content::read(&path).with_context(|| format!("failed to read `{}`", path.display()))?;
            entry.staged_at = Some(stash_in(&mut pack, staged.data()));
            entry.staged = Some(staged);
        }
        write_synced(&self.dir.join("staged.pack"), &pack)?;
        self.manifest.phase = Phase::Swapped;
        self.write_manifest()
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
                let _ = fs::remove_dir_all(&path);
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
        })
    }

    /// What the user had at entry `n`, bytes included.
    pub(crate) fn worktree(&self, n: usize) -> Result<Content> {
        let entry = &self.manifest.entries[n];
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

    fn write_manifest(&self) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.manifest)?;
        let temp = self.dir.join(format!("{MANIFEST}.tmp"));
        write_synced(&temp, text.as_bytes())?;
        fs::rename(&temp, self.dir.join(MANIFEST)).with_context(|| format!("failed to write `{}`", self.dir.display()))
    }
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
        let backup = Backup::create(&git_dir, &root, &paths, &root.join("no-index")).unwrap();
        assert_eq!(backup.worktree(1).unwrap().data(), b"second file\n");
        assert_eq!(backup.worktree(0).unwrap().data(), b"first\n");
        fs::write(backup.dir.join("worktree.pack"), "first\n").unwrap();
        // A backup loaded from a cut-short pack says so, never hands out part of a file.
        let loaded = Backup::list(&git_dir).unwrap().pop().unwrap();
        let err = loaded.worktree(1).unwrap_err();
        assert!(format!("{err:#}").contains("shorter than its manifest says"), "{err:#}");
    }
}
