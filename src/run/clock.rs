//! A moment on the working tree's own file-system clock, so that what changed since can be
//! told from each file's change time (ctime) alone, without its stat data from before.
//!
//! Every change to a file, its content, mode, links or name, sets its ctime to the file
//! system's current time, and no program can set it back (unlike mtime: `touch -d`, `cp
//! -p`). The moment is taken by setting the times of a file of gate's own under the git
//! directory and reading its ctime back: the same file system's clock (an NFS server's, a
//! second granularity), so a change made after it has a ctime at or past it. Timestamps from
//! one clock never go back between files (the kernel's multigrain floor keeps its coarse
//! and fine times in order), barring a clock stepped back by hand.
//!
//! Where this cannot be trusted the caller keeps taking every file's stat data before: a git
//! directory on another file system than the working tree, a file system whose ctime did not
//! move forward when set (some FUSE file systems; two runs within one clock tick), or a file
//! on another device than the stamp (a mount inside the repository).

use std::path::Path;

use rustix::fs::{Mode, OFlags, Stat, Timespec, Timestamps, UTIME_NOW};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    device: u64,
    ctime_ns: i128,
}

impl Stamp {
    /// Now, on the clock of the file system holding `root`; `None` where it cannot tell.
    pub(crate) fn take(root: &Path, git_dir: &Path) -> Option<Self> {
        let dir = git_dir.join("gate");
        std::fs::create_dir_all(&dir).ok()?;
        let file = rustix::fs::open(
            dir.join("clock"),
            OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .ok()?;
        let was = rustix::fs::fstat(&file).ok()?;
        if was.st_dev != rustix::fs::stat(root).ok()?.st_dev {
            return None;
        }
        let now = Timespec {
            tv_sec: 0,
            tv_nsec: UTIME_NOW,
        };
        rustix::fs::futimens(
            &file,
            &Timestamps {
                last_access: now,
                last_modification: now,
            },
        )
        .ok()?;
        let set = rustix::fs::fstat(&file).ok()?;
        (ctime_ns(&set) > ctime_ns(&was)).then(|| Self {
            device: set.st_dev,
            ctime_ns: ctime_ns(&set),
        })
    }

    /// Whether the file `stat` describes may have changed since the stamp: its ctime is at
    /// or past it, or it lies on another device (another clock).
    pub(crate) fn changed_since(&self, stat: &Stat) -> bool {
        stat.st_dev != self.device || ctime_ns(stat) >= self.ctime_ns
    }
}

fn ctime_ns(stat: &Stat) -> i128 {
    i128::from(stat.st_ctime) * 1_000_000_000 + i128::from(stat.st_ctime_nsec)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::Stamp;

    fn stat(path: &std::path::Path) -> rustix::fs::Stat {
        rustix::fs::lstat(path).unwrap()
    }

    #[test]
    fn a_change_after_the_stamp_is_seen_and_one_before_it_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let (root, git) = (dir.path(), dir.path().join(".git"));
        fs::create_dir(&git).unwrap();
        fs::write(root.join("old"), "a").unwrap();
        fs::write(root.join("written"), "a").unwrap();
        fs::write(root.join("chmodded"), "a").unwrap();
        fs::write(root.join("opened"), "a").unwrap();
        // Two runs within one clock tick are told apart or refused, never mixed up.
        let stamp = loop {
            if let Some(stamp) = Stamp::take(root, &git) {
                break stamp;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        fs::write(root.join("written"), "a").unwrap();
        fs::set_permissions(root.join("chmodded"), fs::Permissions::from_mode(0o644)).unwrap();
        drop(fs::OpenOptions::new().write(true).open(root.join("opened")).unwrap());
        fs::write(root.join("new"), "a").unwrap();
        assert!(!stamp.changed_since(&stat(&root.join("old"))));
        assert!(!stamp.changed_since(&stat(&root.join("opened"))), "opened, not written");
        assert!(
            stamp.changed_since(&stat(&root.join("written"))),
            "same bytes written again"
        );
        assert!(
            stamp.changed_since(&stat(&root.join("chmodded"))),
            "same mode set again"
        );
        assert!(stamp.changed_since(&stat(&root.join("new"))));
    }

    #[test]
    fn a_link_where_the_clock_file_goes_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let (root, git) = (dir.path(), dir.path().join(".git"));
        fs::create_dir_all(git.join("gate")).unwrap();
        fs::write(root.join("target"), "a").unwrap();
        std::os::unix::fs::symlink(root.join("target"), git.join("gate/clock")).unwrap();
        let before = stat(&root.join("target"));
        assert!(Stamp::take(root, &git).is_none());
        let after = stat(&root.join("target"));
        assert_eq!(
            (before.st_ctime, before.st_ctime_nsec),
            (after.st_ctime, after.st_ctime_nsec)
        );
    }
}
