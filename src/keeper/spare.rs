//! Files a run put in the working tree, kept under `.git/gate/spare/` when it ends and
//! filled again by the next run instead of creating new ones.
//!
//! Why: a set-aside of N files makes N files and frees them again at the restore. On ext4
//! without a journal the kernel's inode allocator then skips every inode freed in the last
//! minute (one buffer lookup each), so where files churn (a developer's tools, a benchmark's
//! peers) creating them took half of a 100-file run (perf: `ext4_create` ->
//! `find_inode_bit` -> `recently_deleted`). Filling a file that exists allocates no inode.
//!
//! Only gate's own files come here, and only when they hold exactly what gate put there (the
//! restore checks); they hold staged content, which the repository's objects hold anyway.
//! A spare is used again only if it is still a plain file with no other name (a tool that
//! linked to it keeps what it linked). The pool is bounded in files and in each file's size.
//! Runs that set changes aside hold the repository's run lock, so one run at a time uses it.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// At most this many files wait in the pool.
const MAX_FILES: usize = 512;
/// Larger files are not kept: their blocks would stay taken until the next run.
const MAX_BYTES: u64 = 64 * 1024;

/// The pool of one repository's spare files.
pub(crate) struct Spares {
    dir: PathBuf,
    /// Spares not used yet this run (listed once, when first needed).
    free: Option<Vec<PathBuf>>,
    /// Files in the pool, as far as this run knows.
    held: usize,
}

impl Spares {
    pub(crate) fn new(git_dir: &Path) -> Self {
        Self {
            dir: git_dir.join("gate").join("spare"),
            free: None,
            held: 0,
        }
    }

    fn free(&mut self) -> &mut Vec<PathBuf> {
        if self.free.is_none() {
            let listed: Vec<PathBuf> = fs::read_dir(&self.dir)
                .map(|dir| dir.flatten().map(|entry| entry.path()).collect())
                .unwrap_or_default();
            self.held = listed.len();
            self.free = Some(listed);
        }
        self.free.get_or_insert_with(Vec::new)
    }

    /// Puts a file holding `bytes` with permission bits `mode` at `full`, where nothing is,
    /// by filling a spare and moving it there. `false` when no spare could be used; the
    /// caller then creates the file as usual.
    pub(crate) fn fill(&mut self, full: &Path, bytes: &[u8], mode: u32) -> bool {
        let mut refused = 0;
        while let Some(spare) = self.free().pop() {
            if let Err(err) = fill_one(&spare, bytes, mode) {
                // Not ours to fill (linked, replaced, another user's): dropped from the
                // pool; a pool that keeps refusing is not tried again this run.
                if err.kind() == io::ErrorKind::NotFound || fs::remove_file(&spare).is_ok() {
                    self.held = self.held.saturating_sub(1);
                }
                refused += 1;
                if refused >= 4 {
                    self.free = Some(Vec::new());
                }
                continue;
            }
            let parent = full.parent().filter(|p| !p.as_os_str().is_empty());
            // Not movable there (another mount, a folder this process may not change): the
            // spare stays in the pool and the file is made the usual way.
            if parent.is_some_and(|p| fs::create_dir_all(p).is_err()) || fs::rename(&spare, full).is_err() {
                return false;
            }
            self.held = self.held.saturating_sub(1);
            return true;
        }
        false
    }

    /// Moves the file at `full` (what gate put there, unchanged, `len` bytes: the caller
    /// checked) into the pool, when there is room; `n` names it uniquely within this run.
    /// Afterwards nothing is at `full` if this returned `true`.
    pub(crate) fn keep(&mut self, full: &Path, len: usize, n: usize) -> bool {
        self.free();
        if len as u64 > MAX_BYTES || self.held >= MAX_FILES {
            return false;
        }
        if self.held == 0 && super::backup::private_dir(&self.dir).is_err() {
            return false;
        }
        // A same-named spare of an earlier run with this process id is replaced (counted
        // twice here: the pool only ever holds fewer than the bound).
        let name = self.dir.join(format!("{}-{n}", std::process::id()));
        if fs::rename(full, &name).is_err() {
            self.held = MAX_FILES; // a pool that cannot take files is not tried again this run
            return false;
        }
        self.held += 1;
        true
    }
}

/// Fills `spare` with `bytes` and gives it `mode`. It is opened without following a link
/// or waiting (a FIFO put there fails at once) and refused unless it is a plain file with
/// one name. Its blocks are written over, not
/// freed and taken again (a journaled file system logs both), and only what is left past
/// the new end is cut.
fn fill_one(spare: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let flags = i32::try_from(flags.bits()).unwrap_or(0);
    let mut file = fs::OpenOptions::new().write(true).custom_flags(flags).open(spare)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.nlink() != 1 {
        return Err(io::Error::other("not a spare file"));
    }
    file.write_all(bytes)?;
    if meta.len() > bytes.len() as u64 {
        file.set_len(bytes.len() as u64)?;
    }
    if meta.mode() & 0o7777 != mode {
        file.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_file_is_filled_again_as_the_same_file_and_a_linked_one_never() {
        let dir = tempfile::tempdir().unwrap();
        let (git_dir, root) = (dir.path().join("git"), dir.path().join("tree"));
        fs::create_dir_all(&root).unwrap();
        let put = root.join("a.py");
        fs::write(&put, "staged a\n").unwrap();
        let inode = fs::metadata(&put).unwrap().ino();
        let mut spares = Spares::new(&git_dir);
        assert!(spares.keep(&put, 9, 0));
        assert!(!put.exists());

        // The next run: the same inode, new bytes and mode, in a folder made for it.
        let mut spares = Spares::new(&git_dir);
        let target = root.join("new/b.sh");
        assert!(spares.fill(&target, b"#!/bin/sh\n", 0o755));
        let meta = fs::metadata(&target).unwrap();
        assert_eq!((meta.ino(), meta.mode() & 0o7777), (inode, 0o755));
        assert_eq!(fs::read(&target).unwrap(), b"#!/bin/sh\n");
        assert!(!spares.fill(&root.join("c.py"), b"c", 0o644), "the pool is empty");

        // A spare that gained a second name (a tool linked to it) is never filled.
        assert!(spares.keep(&target, 10, 1));
        let spare = fs::read_dir(git_dir.join("gate/spare"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        fs::hard_link(&spare, dir.path().join("linked")).unwrap();
        let mut spares = Spares::new(&git_dir);
        assert!(!spares.fill(&root.join("d.py"), b"d", 0o644));
        assert_eq!(fs::read(dir.path().join("linked")).unwrap(), b"#!/bin/sh\n");
        assert!(!root.join("d.py").exists(), "left for the caller to create");
        // A FIFO someone put in the pool is no spare, and never waited on.
        rustix::fs::mknodat(
            rustix::fs::CWD,
            git_dir.join("gate/spare/fifo"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let mut spares = Spares::new(&git_dir);
        assert!(!spares.fill(&root.join("e.py"), b"e", 0o644));
        assert!(!git_dir.join("gate/spare/fifo").exists(), "dropped from the pool");
        // Nor is a large file kept.
        fs::write(&put, vec![b'x'; 100_000]).unwrap();
        assert!(!Spares::new(&git_dir).keep(&put, 100_000, 2));
        assert!(put.exists());
    }
}
