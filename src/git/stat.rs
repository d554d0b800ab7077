//! `lstat` of thousands of tracked files, relative to the repository root opened once: the
//! kernel then walks each path from the root, not from `/` (a quarter of the time of a
//! pass over 20,000 files went to walking the absolute paths' leading directories).

use std::collections::HashSet;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};

/// The working tree's root, held open.
pub(crate) struct Root(OwnedFd);

impl Root {
    pub(crate) fn open(root: &Path) -> std::io::Result<Self> {
        let fd = rustix::fs::open(root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
        Ok(Self(fd))
    }

    /// What `lstat` says of `path`, relative to the root.
    pub(crate) fn lstat(&self, path: &Path) -> std::io::Result<Stat> {
        Ok(rustix::fs::statat(&self.0, path, AtFlags::SYMLINK_NOFOLLOW)?)
    }
}

/// Every directory of `files` (relative paths) and each of its parents, the root (empty
/// path) included, parents first; `None` past `limit`.
pub(crate) fn directories<'p>(files: impl Iterator<Item = &'p Path>, limit: usize) -> Option<Vec<PathBuf>> {
    let mut dirs: HashSet<&Path> = HashSet::new();
    let mut last = None;
    for file in files {
        // Index order keeps a directory's files together: most repeat the last one's.
        if file.parent() == last {
            continue;
        }
        last = file.parent();
        let mut dir = file.parent();
        while let Some(at) = dir {
            if !dirs.insert(at) {
                break; // its parents are in already
            }
            if dirs.len() > limit {
                return None;
            }
            dir = at.parent();
        }
    }
    let mut dirs: Vec<PathBuf> = dirs.into_iter().map(Path::to_path_buf).collect();
    dirs.sort();
    Some(dirs)
}

/// The directories of `files` that are symbolic links now, or lie beyond one. A tracked
/// file there is not in the working tree, as git sees it (git never follows them), and
/// `lstat` relative to the root would follow the link: one `lstat` per directory decides.
pub(crate) fn linked_directories<'p>(root: &Root, files: impl Iterator<Item = &'p Path>) -> HashSet<PathBuf> {
    let mut linked: HashSet<PathBuf> = HashSet::new();
    for dir in directories(files, usize::MAX).unwrap_or_default() {
        if dir.as_os_str().is_empty() {
            continue; // the root itself
        }
        let beyond = dir.parent().is_some_and(|parent| linked.contains(parent));
        if beyond || root.lstat(&dir).is_ok_and(|stat| file_type(&stat) == FileType::Symlink) {
            linked.insert(dir);
        }
    }
    linked
}

/// Whether `path` (relative to `root`) lies outside the repository once links are followed:
/// a link in it may point anywhere, and gate reads nothing outside because a file in it says
/// so. A path that does not resolve (nothing there) leads nowhere.
pub(crate) fn leads_out(root: &Path, path: &Path) -> bool {
    match (root.join(path).canonicalize(), root.canonicalize()) {
        (Ok(real), Ok(root)) => !real.starts_with(root),
        _ => false,
    }
}

/// Whether `path` lies in one of `linked` (see [`linked_directories`]).
pub(crate) fn beyond_a_link(linked: &HashSet<PathBuf>, path: &Path) -> bool {
    !linked.is_empty() && path.parent().is_some_and(|parent| linked.contains(parent))
}

pub(crate) fn file_type(stat: &Stat) -> FileType {
    FileType::from_raw_mode(stat.st_mode)
}

/// A regular file executable by its owner, as git reads the mode.
pub(crate) fn is_executable(stat: &Stat) -> bool {
    file_type(stat) == FileType::RegularFile && stat.st_mode & 0o100 != 0
}

/// The index's stat data for a file, as git (and gix, whose conversion a test holds this to)
/// records it: seconds and nanoseconds, times before 1970 or past 2106 as zero, sizes,
/// devices and inodes cut to 32 bits.
#[expect(clippy::cast_possible_truncation, reason = "git keeps 32 bits of each, on purpose")]
#[allow(
    clippy::useless_conversion,
    clippy::unnecessary_cast,
    reason = "the field types differ between targets"
)]
pub(crate) fn index_stat(stat: &Stat) -> gix_index::entry::Stat {
    let time = |secs: i64, nsecs: u64| match u32::try_from(secs) {
        Ok(secs) => gix_index::entry::stat::Time {
            secs,
            nsecs: nsecs as u32,
        },
        Err(_) => gix_index::entry::stat::Time::default(),
    };
    gix_index::entry::Stat {
        mtime: time(i64::from(stat.st_mtime), stat.st_mtime_nsec as u64),
        ctime: time(i64::from(stat.st_ctime), stat.st_ctime_nsec as u64),
        dev: stat.st_dev as u32,
        ino: stat.st_ino as u32,
        uid: stat.st_uid,
        gid: stat.st_gid,
        size: stat.st_size as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_every_parent_once_and_bounded() {
        let files = [
            Path::new("a/b/c.py"),
            Path::new("a/d.py"),
            Path::new("e/f/g/h"),
            Path::new("top"),
        ];
        let dirs = directories(files.into_iter(), 100).unwrap();
        let names: Vec<&str> = dirs.iter().map(|d| d.to_str().unwrap()).collect();
        assert_eq!(names, ["", "a", "a/b", "e", "e/f", "e/f/g"]);
        assert!(directories(files.into_iter(), 5).is_none());
    }

    #[test]
    fn linked_directories_are_the_links_and_all_beyond_them() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(outside.path().join("c")).unwrap();
        std::fs::create_dir_all(dir.path().join("real")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("a")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        let files = [
            Path::new("a/c/x"),
            Path::new("a/y"),
            Path::new("real/z"),
            Path::new("top"),
        ];
        let linked = linked_directories(&root, files.into_iter());
        let mut names: Vec<&str> = linked.iter().map(|d| d.to_str().unwrap()).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "a/c"]);
        let beyond: Vec<&Path> = files.into_iter().filter(|f| beyond_a_link(&linked, f)).collect();
        assert_eq!(beyond, [Path::new("a/c/x"), Path::new("a/y")]);
    }

    #[test]
    fn the_index_stat_is_the_one_gix_makes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("plain"), "text\n").unwrap();
        std::fs::write(root.join("tool"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(root.join("tool"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("plain", root.join("link")).unwrap();
        std::fs::create_dir(root.join("dir")).unwrap();
        let opened = Root::open(root).unwrap();
        for name in ["plain", "tool", "link", "dir"] {
            let ours = opened.lstat(Path::new(name)).unwrap();
            let theirs = gix_index::fs::Metadata::from_path_no_follow(&root.join(name)).unwrap();
            assert_eq!(
                index_stat(&ours),
                gix_index::entry::Stat::from_fs(&theirs).unwrap(),
                "{name}"
            );
            assert_eq!(is_executable(&ours), theirs.is_executable(), "{name}");
            assert_eq!(file_type(&ours) == FileType::Symlink, theirs.is_symlink(), "{name}");
            assert_eq!(file_type(&ours) == FileType::Directory, theirs.is_dir(), "{name}");
            assert_eq!(file_type(&ours) == FileType::RegularFile, theirs.is_file(), "{name}");
        }
        assert!(opened.lstat(Path::new("missing")).is_err());
    }
}
