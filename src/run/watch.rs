//! What the gates wrote, from the kernel instead of a second `lstat` of every tracked file:
//! on Linux, an inotify watch on every directory that holds tracked files (and each of
//! their parents) from just before the gates start. Every write, close after writing,
//! attribute change, creation, removal and rename of a name in those directories is an
//! event naming it, so after the gates end the few named files are all that need a look.
//!
//! Where the events cannot say what changed, the caller compares every file as before:
//! not Linux, more directories than [`MAX_DIRECTORIES`], a watch that cannot be added
//! (the user's inotify limit), a full event queue, or a watched directory removed, renamed
//! or unmounted (its files' events stop; a rename is seen only at its parent). Not seen,
//! as with any inotify-based status (git's fsmonitor with watchman): a tracked file written
//! through a hard link that lives outside the watched directories.

/// Past this many directories the scan is cheaper than the watches, and inotify watches are
/// a per-user budget other programs (editors, file watchers) need too.
#[cfg_attr(not(target_os = "linux"), allow(dead_code, reason = "the watch is Linux's"))]
const MAX_DIRECTORIES: usize = 20_000;

#[cfg(target_os = "linux")]
pub(crate) use linux::Watch;

#[cfg(not(target_os = "linux"))]
pub(crate) struct Watch;

#[cfg(not(target_os = "linux"))]
impl Watch {
    pub(crate) fn start<'p>(
        _root: &std::path::Path,
        _files: impl Iterator<Item = &'p std::path::Path>,
    ) -> Option<Self> {
        None
    }

    pub(crate) fn touched(&self) -> Option<std::collections::HashSet<std::path::PathBuf>> {
        None
    }

    pub(crate) fn with_touched<R>(
        &self,
        _ask: impl FnOnce(&mut std::collections::HashSet<std::path::PathBuf>) -> R,
    ) -> Option<R> {
        None
    }

    pub(crate) fn created(&self) -> Option<std::collections::HashSet<std::path::PathBuf>> {
        None
    }

    pub(crate) fn forget(&self) -> bool {
        false
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::{HashMap, HashSet};
    use std::ffi::OsStr;
    use std::mem::MaybeUninit;
    use std::os::fd::OwnedFd;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
    use rustix::io::Errno;

    pub(crate) struct Watch {
        /// `None` only while it is being dropped.
        pub(super) fd: Option<OwnedFd>,
        /// Each watch's directory, relative to the root.
        dirs: HashMap<i32, PathBuf>,
        /// What the events said so far: read as they come (a gate's result may wait on
        /// them), kept until asked for; `None` once they cannot tell.
        seen: Mutex<Option<Seen>>,
    }

    #[derive(Default)]
    struct Seen {
        touched: HashSet<PathBuf>,
        /// Removed or renamed away at some point.
        gone: HashSet<PathBuf>,
        /// Created while nothing was there since the watch started: a name is created only
        /// where there is none (a rename over a name is no creation), so these were not
        /// there when it started.
        created: HashSet<PathBuf>,
    }

    impl Watch {
        /// Watches the directories of `files` (relative to `root`); `None` when it cannot.
        pub(crate) fn start<'p>(root: &Path, files: impl Iterator<Item = &'p Path>) -> Option<Self> {
            let dirs = crate::git::stat::directories(files, super::MAX_DIRECTORIES)?;
            let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok()?;
            let flags = WatchFlags::MODIFY
                | WatchFlags::ATTRIB
                | WatchFlags::CLOSE_WRITE
                | WatchFlags::CREATE
                | WatchFlags::DELETE
                | WatchFlags::MOVED_FROM
                | WatchFlags::MOVED_TO
                | WatchFlags::DELETE_SELF
                | WatchFlags::MOVE_SELF
                | WatchFlags::ONLYDIR
                | WatchFlags::DONT_FOLLOW;
            let mut watched = HashMap::with_capacity(dirs.len());
            for dir in dirs {
                // A directory that is not there (or is a link) now: its files are compared
                // the slow way, so every file is.
                let wd = inotify::add_watch(&fd, root.join(&dir).as_path(), flags).ok()?;
                watched.insert(wd, dir);
            }
            Some(Self {
                fd: Some(fd),
                dirs: watched,
                seen: Mutex::new(Some(Seen::default())),
            })
        }

        /// The paths (relative to the root) written, created, removed or renamed since the
        /// watch started (or since [`Watch::forget`]); `None` when the events cannot tell.
        pub(crate) fn touched(&self) -> Option<HashSet<PathBuf>> {
            self.with_touched(|touched| touched.clone())
        }

        /// `ask` of what [`Watch::touched`] would say, without a copy of it (asked as each
        /// gate ends).
        pub(crate) fn with_touched<R>(&self, ask: impl FnOnce(&mut HashSet<PathBuf>) -> R) -> Option<R> {
            self.with_seen(|seen| ask(&mut seen.touched))
        }

        /// The files created where nothing was since the watch started (or since
        /// [`Watch::forget`]); `None` when the events cannot tell.
        pub(crate) fn created(&self) -> Option<HashSet<PathBuf>> {
            self.with_seen(|seen| seen.created.clone())
        }

        fn with_seen<R>(&self, ask: impl FnOnce(&mut Seen) -> R) -> Option<R> {
            let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(set) = seen.as_mut()
                && !self.read(set)
            {
                *seen = None;
            }
            seen.as_mut().map(ask)
        }

        /// Drops what was seen so far (the set-aside's own writes); `false` when the events
        /// can no longer tell.
        pub(crate) fn forget(&self) -> bool {
            self.with_seen(|seen| *seen = Seen::default()).is_some()
        }

        /// Adds what the queued events say to `seen`; `false` when they cannot tell.
        fn read(&self, seen: &mut Seen) -> bool {
            let mut buffer = vec![MaybeUninit::<u8>::uninit(); 64 << 10];
            let Some(fd) = self.fd.as_ref() else { return false };
            let mut reader = inotify::Reader::new(fd, &mut buffer);
            loop {
                let event = match reader.next() {
                    Ok(event) => event,
                    Err(Errno::AGAIN) => return true,
                    Err(Errno::INTR) => continue,
                    Err(_) => return false,
                };
                let flags = event.events();
                if flags.intersects(
                    ReadFlags::QUEUE_OVERFLOW
                        | ReadFlags::DELETE_SELF
                        | ReadFlags::MOVE_SELF
                        | ReadFlags::UNMOUNT
                        | ReadFlags::IGNORED,
                ) {
                    return false;
                }
                let Some(dir) = self.dirs.get(&event.wd()) else {
                    return false;
                };
                let Some(name) = event.file_name() else { continue };
                let path = dir.join(OsStr::from_bytes(name.to_bytes()));
                if flags.contains(ReadFlags::ISDIR) {
                    // A new or renamed-in directory holds no tracked file (one that did
                    // was removed or renamed away first, which ends up here too).
                    // (Rare: the watched directories are looked through only then.)
                    if flags.intersects(ReadFlags::DELETE | ReadFlags::MOVED_FROM)
                        && self.dirs.values().any(|watched| *watched == path)
                    {
                        return false;
                    }
                    continue;
                }
                if flags.intersects(ReadFlags::DELETE | ReadFlags::MOVED_FROM) {
                    seen.gone.insert(path.clone());
                } else if flags.contains(ReadFlags::CREATE) && !seen.gone.contains(&path) {
                    seen.created.insert(path.clone());
                }
                seen.touched.insert(path);
            }
        }
    }

    impl Drop for Watch {
        fn drop(&mut self) {
            if let Some(fd) = self.fd.take() {
                super::release::release(fd);
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod release {
    use std::os::fd::{AsRawFd, OwnedFd, RawFd};

    /// Closes an inotify instance without waiting for its teardown. The kernel removes its
    /// watches and then waits for a grace period before `close` returns: 13-25 ms in about
    /// half of the runs measured (strace -T), more than a whole run spends on its own work,
    /// and paid again at exit if the descriptor is left open. A forked child holds a second
    /// reference and lets go of it at once, so the wait is the child's and nobody waits for
    /// it; the instance is gone within the grace period, not at exit (a push of many refs
    /// starts a watch for each, and the user's instances are few: 128 by default).
    pub(super) fn release(fd: OwnedFd) {
        reap();
        if let Some(holder) = hand_over(fd) {
            CHILDREN
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(holder.pid);
            drop(holder.cue); // the child lets go now
        }
    }

    /// Children that held an instance, to be waited for once they are done.
    static CHILDREN: std::sync::Mutex<Vec<libc::pid_t>> = std::sync::Mutex::new(Vec::new());

    /// Waits for the children that have exited, without blocking: they are not left as
    /// zombies for the whole run.
    fn reap() {
        let mut children = CHILDREN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        children.retain(|&pid| {
            let mut status = 0;
            // SAFETY: waits only for a child this process forked and has not waited for.
            unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) == 0 }
        });
    }

    /// A child holding an instance: it lets go once `cue` closes.
    pub(super) struct Holder {
        pub(super) pid: libc::pid_t,
        pub(super) cue: OwnedFd,
    }

    /// Forks the child that holds `fd` and drops this process's reference; `None` (and `fd`
    /// closed here, waiting) when there can be no child.
    pub(super) fn hand_over(fd: OwnedFd) -> Option<Holder> {
        let mut ends = [0; 2];
        // SAFETY: pipe2 writes two descriptors into the array it is given.
        if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return None;
        }
        // SAFETY: after fork the child runs only async-signal-safe calls (sigaction,
        // close_range, close, read, _exit) on values it already holds: no allocation, no lock.
        match unsafe { libc::fork() } {
            0 => unsafe { hold_until_cue(fd.as_raw_fd(), ends[0]) },
            -1 => {
                // SAFETY: both ends are ours and used nowhere else.
                unsafe {
                    libc::close(ends[0]);
                    libc::close(ends[1]);
                }
                None
            }
            pid => {
                // SAFETY: the read end is ours and used nowhere else in this process; the
                // write end is ours alone from here on.
                unsafe { libc::close(ends[0]) };
                drop(fd); // the child's reference keeps the instance: no teardown here
                Some(Holder {
                    pid,
                    cue: unsafe { std::os::fd::FromRawFd::from_raw_fd(ends[1]) },
                })
            }
        }
    }

    /// The child: keeps only the instance and the pipe, waits for the parent's end of the
    /// pipe to close, then exits (tearing the instance down on its own time). A signal to
    /// the process group ends it as it would end any process.
    unsafe fn hold_until_cue(instance: RawFd, cue: RawFd) -> ! {
        // SAFETY: see `release`; every call below is async-signal-safe.
        unsafe {
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(signal, &raw const default, std::ptr::null_mut());
            }
            // Nothing else stays open: the caller's pipes (stdout, stderr) must see their
            // end when the parent exits, not when the child does.
            let (low, high) = (instance.min(cue), instance.max(cue));
            let closed = [(0, low - 1), (low + 1, high - 1), (high + 1, RawFd::MAX)]
                .into_iter()
                .filter(|(from, to)| from <= to)
                .all(|(from, to)| {
                    libc::syscall(libc::SYS_close_range, from.cast_unsigned(), to.cast_unsigned(), 0) == 0
                });
            if !closed {
                for fd in (0..4096).filter(|fd| *fd != instance && *fd != cue) {
                    libc::close(fd);
                }
            }
            let mut byte = 0u8;
            while libc::read(cue, (&raw mut byte).cast(), 1) < 0 && *libc::__errno_location() == libc::EINTR {}
            libc::_exit(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::fs;
    use std::path::Path;

    #[cfg(target_os = "linux")]
    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        fs::write(dir.path().join("a/b/c.py"), "c\n").unwrap();
        fs::write(dir.path().join("top"), "t\n").unwrap();
        dir
    }

    #[cfg(target_os = "linux")]
    fn watching(dir: &Path) -> Watch {
        Watch::start(dir, [Path::new("a/b/c.py"), Path::new("top")].into_iter()).unwrap()
    }

    /// Only a name made where there was none since the watch started counts as created: a
    /// file written again, removed and made again, or renamed over, was there before.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_made_where_there_was_none_is_created() {
        let dir = tree();
        let root = dir.path();
        fs::remove_file(root.join("top")).unwrap(); // before the watch: the user's deletion
        fs::write(root.join("a/b/d.py"), "d\n").unwrap();
        let watch = watching(root);
        fs::write(root.join("top"), "t\n").unwrap();
        fs::write(root.join("a/b/c.py"), "written\n").unwrap();
        fs::write(root.join("a/b/tmp"), "over\n").unwrap();
        fs::rename(root.join("a/b/tmp"), root.join("a/b/d.py")).unwrap();
        assert_eq!(
            watch.created(),
            Some(HashSet::from([
                std::path::PathBuf::from("top"),
                std::path::PathBuf::from("a/b/tmp")
            ]))
        );

        let dir = tree();
        let root = dir.path();
        let watch = watching(root);
        fs::remove_file(root.join("top")).unwrap();
        fs::write(root.join("top"), "t\n").unwrap();
        assert_eq!(watch.created(), Some(HashSet::new()), "removed and made again");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn writes_chmods_removals_and_renames_of_files_are_named() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tree();
        let root = dir.path();
        let watch = watching(root);
        assert_eq!(watch.touched(), Some(HashSet::new()), "nothing yet");
        fs::write(root.join("a/b/c.py"), "changed\n").unwrap();
        fs::set_permissions(root.join("top"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir(root.join("cache")).unwrap(); // a tool's cache: no tracked file
        fs::write(root.join("cache/x"), "x").unwrap();
        fs::rename(root.join("a/b/c.py"), root.join("a/moved.py")).unwrap();
        let touched = watch.touched().unwrap();
        let mut names: Vec<&str> = touched.iter().map(|p| p.to_str().unwrap()).collect();
        names.sort_unstable();
        assert_eq!(names, ["a/b/c.py", "a/moved.py", "top"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_through_a_shared_mapping_is_named() {
        use std::os::fd::AsFd;
        let dir = tree();
        let root = dir.path();
        let watch = watching(root);
        let _ = watch.touched();
        {
            let file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(root.join("top"))
                .unwrap();
            // SAFETY: a fresh private file mapped for two bytes, unmapped before it closes.
            unsafe {
                let map = rustix::mm::mmap(
                    std::ptr::null_mut(),
                    2,
                    rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                    rustix::mm::MapFlags::SHARED,
                    file.as_fd(),
                    0,
                )
                .unwrap();
                map.cast::<u8>().write(b'T');
                rustix::mm::munmap(map, 2).unwrap();
            }
        }
        assert_eq!(fs::read(root.join("top")).unwrap(), b"T\n");
        let touched = watch.touched().unwrap();
        assert!(touched.contains(Path::new("top")), "{touched:?}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_watched_directory_removed_or_renamed_or_a_full_queue_cannot_tell() {
        let dir = tree();
        let root = dir.path();
        let watch = watching(root);
        fs::rename(root.join("a"), root.join("z")).unwrap();
        assert_eq!(watch.touched(), None, "a renamed directory");

        let dir = tree();
        let root = dir.path();
        let watch = watching(root);
        fs::remove_dir_all(root.join("a/b")).unwrap();
        assert_eq!(watch.touched(), None, "a removed directory");

        let dir = tree();
        let root = dir.path();
        let watch = watching(root);
        let queue: usize = fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        for i in 0..=queue {
            fs::write(root.join(format!("a/f{i}")), "").unwrap();
        }
        assert_eq!(watch.touched(), None, "more events than the queue holds");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_directory_that_is_a_link_is_not_watched() {
        let dir = tree();
        let root = dir.path();
        fs::rename(root.join("a"), root.join("real")).unwrap();
        std::os::unix::fs::symlink("real", root.join("a")).unwrap();
        assert!(Watch::start(root, [Path::new("a/b/c.py")].into_iter()).is_none());
    }
}

#[cfg(all(test, target_os = "linux"))]
mod release_tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    /// A released instance is held by a child that keeps nothing else open (a caller reading
    /// this process's output to its end never waits for it) and that exits once told.
    #[test]
    fn a_released_watch_is_held_by_a_child_with_nothing_else_open_until_its_cue() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("top"), "t\n").unwrap();
        let mut watch = super::Watch::start(dir.path(), [Path::new("top")].into_iter()).unwrap();
        let fd = watch.fd.take().unwrap();
        let holder = super::release::hand_over(fd).expect("a child holds the watch");
        let deadline = Instant::now() + Duration::from_secs(10);
        let open = loop {
            let open: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", holder.pid))
                .unwrap()
                .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .map(|link| link.to_string_lossy().into_owned())
                .collect();
            if open.len() <= 2 || Instant::now() > deadline {
                break open;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut kinds: Vec<&str> = open.iter().map(|l| l.split(':').next().unwrap()).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["anon_inode", "pipe"], "{open:?}");
        assert!(open.iter().any(|l| l.contains("inotify")), "{open:?}");
        assert!(
            exited(holder.pid, Duration::from_millis(200)).is_none(),
            "it waits for its cue"
        );
        drop(holder.cue);
        assert_eq!(
            exited(holder.pid, Duration::from_secs(10)),
            Some(0),
            "it exits once told"
        );
    }

    /// A dropped watch leaves no child behind for long: each is told at once, and waited for
    /// by the next release.
    #[test]
    fn dropped_watches_leave_no_children_behind() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("top"), "t\n").unwrap();
        let before = children();
        for _ in 0..3 {
            drop(super::Watch::start(dir.path(), [Path::new("top")].into_iter()).unwrap());
        }
        let ours: Vec<String> = children().into_iter().filter(|pid| !before.contains(pid)).collect();
        assert!(!ours.is_empty(), "the watches were handed to children");
        let deadline = Instant::now() + Duration::from_secs(10);
        while ours.iter().any(|pid| state(pid).is_some_and(|s| s != 'Z')) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(super::Watch::start(dir.path(), [Path::new("top")].into_iter()).unwrap());
        let left: Vec<&String> = ours.iter().filter(|pid| state(pid).is_some()).collect();
        assert!(left.is_empty(), "children not waited for: {left:?}");
    }

    /// A process's state letter (`Z`: exited, not waited for); `None` once it is gone.
    fn state(pid: &str) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(") ")?.1.chars().next()
    }

    /// The exit code of child `pid` once it has exited, waiting up to `within`.
    fn exited(pid: libc::pid_t, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            let mut status = 0;
            // SAFETY: waits for this test's own child.
            if unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) } == pid {
                return Some(libc::WEXITSTATUS(status));
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn children() -> Vec<String> {
        std::fs::read_to_string("/proc/thread-self/children")
            .unwrap()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}
