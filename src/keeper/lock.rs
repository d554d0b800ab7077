//! One run at a time per repository (an IDE's commit and a terminal's): the second waits
//! for the first, saying so, and gives up with a clear error after a while.

use std::fs::{self, File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::model::Problem;
use crate::printer::Printer;

/// How long a second run waits for the first.
const WAIT: Duration = Duration::from_mins(2);

/// A lock on `.git/gate/lock`, held by the operating system for as long as the file is open:
/// a run killed with `kill -9` releases it (no PID file to go stale, no race between two
/// runs that both find it stale).
pub(crate) struct RunLock {
    _file: File,
}

/// What a run does to the working tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// It sets changes aside or fixes files: no other run at the same time.
    Exclusive,
    /// It only reads the tree: beside other readers, never beside a run that writes.
    Shared,
}

impl RunLock {
    pub(crate) fn acquire(git_dir: &Path, access: Access, printer: Printer) -> Result<Self> {
        Self::acquire_within(git_dir, access, printer, WAIT, &|| false)
    }

    /// As [`RunLock::acquire`], giving up as soon as `stop` says so (a signal while waiting).
    pub(crate) fn acquire_unless(
        git_dir: &Path,
        access: Access,
        printer: Printer,
        stop: &dyn Fn() -> bool,
    ) -> Result<Self> {
        Self::acquire_within(git_dir, access, printer, WAIT, stop)
    }

    fn acquire_within(
        git_dir: &Path,
        access: Access,
        printer: Printer,
        wait: Duration,
        stop: &dyn Fn() -> bool,
    ) -> Result<Self> {
        let dir = git_dir.join("gate");
        fs::create_dir_all(&dir).with_context(|| format!("failed to create `{}`", dir.display()))?;
        let path = dir.join("lock");
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("failed to open `{}`", path.display()))?;
        let start = Instant::now();
        let mut told_waiting = false;
        loop {
            let tried = match access {
                Access::Exclusive => file.try_lock(),
                Access::Shared => file.try_lock_shared(),
            };
            match tried {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(err)) => {
                    return Err(err).with_context(|| format!("failed to lock `{}`", path.display()));
                }
            }
            let holder = holder(&mut file);
            if stop() {
                bail!("stopped while waiting for another gate run{holder}");
            }
            if start.elapsed() >= wait {
                return Err(Problem::hinted(
                    format!("another gate run{holder} is still working in this repository"),
                    "wait for it to finish, then run again",
                )
                .into());
            }
            if !told_waiting {
                printer.note(format_args!("waiting for another gate run{holder} in this repository"));
                told_waiting = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if access == Access::Exclusive {
            // For the message a waiting run prints; the lock itself is the file's.
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(file, "{}", std::process::id());
        }
        Ok(Self { _file: file })
    }
}

/// ` (pid N)` of the run that holds the lock, when it wrote one.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut text);
    text.trim()
        .parse::<u32>()
        .map(|pid| format!(" (pid {pid})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::Verbosity;

    #[test]
    fn writers_exclude_everyone_readers_share_and_a_dropped_lock_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let printer = Printer::new(Verbosity::Quiet);
        let short = Duration::from_millis(200);
        let first = RunLock::acquire_within(dir.path(), Access::Exclusive, printer, WAIT, &|| false).unwrap();
        for access in [Access::Exclusive, Access::Shared] {
            let err = RunLock::acquire_within(dir.path(), access, printer, short, &|| false)
                .err()
                .unwrap();
            assert!(err.to_string().contains("another gate run (pid"), "{err}");
        }
        drop(first);
        let reader = RunLock::acquire_within(dir.path(), Access::Shared, printer, short, &|| false).unwrap();
        let _other_reader = RunLock::acquire_within(dir.path(), Access::Shared, printer, short, &|| false).unwrap();
        assert!(RunLock::acquire_within(dir.path(), Access::Exclusive, printer, short, &|| false).is_err());
        drop(reader);
    }
}
