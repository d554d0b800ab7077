//! One run at a time per repository (an IDE's commit and a terminal's): the second waits
//! for the first, saying so, and gives up with a clear error after a while.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::printer::Printer;

/// How long a second run waits for the first.
const WAIT: Duration = Duration::from_mins(2);

pub(crate) struct RunLock {
    path: PathBuf,
}

impl RunLock {
    pub(crate) fn acquire(git_dir: &Path, printer: Printer) -> Result<Self> {
        Self::acquire_within(git_dir, printer, WAIT)
    }

    fn acquire_within(git_dir: &Path, printer: Printer, wait: Duration) -> Result<Self> {
        let dir = git_dir.join("gate");
        fs::create_dir_all(&dir).with_context(|| format!("failed to create `{}`", dir.display()))?;
        let path = dir.join("lock");
        let start = Instant::now();
        let mut said = false;
        loop {
            match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    let _ = write!(file, "{}", std::process::id());
                    return Ok(Self { path });
                }
                Err(err) if err.kind() == ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err).with_context(|| format!("failed to create `{}`", path.display())),
            }
            let holder = fs::read_to_string(&path)
                .ok()
                .and_then(|pid| pid.trim().parse::<i32>().ok());
            match holder {
                Some(pid) if alive(pid) => {
                    if start.elapsed() >= wait {
                        bail!(
                            "another gate run (pid {pid}) is still working in this repository\nhint: wait for it to finish; if no gate is running, remove `{}`",
                            path.display()
                        );
                    }
                    if !said {
                        printer.note(format_args!(
                            "waiting for another gate run (pid {pid}) in this repository"
                        ));
                        said = true;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                // The holder died (kill -9, power loss) or is writing its pid right now.
                Some(_) => {
                    let _ = fs::remove_file(&path);
                }
                None if start.elapsed() > Duration::from_secs(2) => {
                    let _ = fs::remove_file(&path);
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::Verbosity;

    #[test]
    fn a_second_lock_waits_then_fails_and_a_dead_holder_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let printer = Printer::new(Verbosity::Quiet);
        let first = RunLock::acquire_within(dir.path(), printer, WAIT).unwrap();
        let err = RunLock::acquire_within(dir.path(), printer, Duration::from_millis(300))
            .err()
            .unwrap();
        assert!(err.to_string().contains("another gate run"), "{err}");
        drop(first);
        let _second = RunLock::acquire_within(dir.path(), printer, Duration::from_millis(300)).unwrap();

        let stale = tempfile::tempdir().unwrap();
        fs::create_dir_all(stale.path().join("gate")).unwrap();
        // No process has pid i32::MAX.
        fs::write(stale.path().join("gate/lock"), i32::MAX.to_string()).unwrap();
        RunLock::acquire_within(stale.path(), printer, Duration::from_millis(300)).unwrap();
    }
}
