//! Starting one process: argv without a shell, its own process group (so a timeout or
//! Ctrl-C stops the whole tree), stdout and stderr captured together in order.

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

/// Output past this many bytes is dropped (the rest is drained so the tool never blocks).
const MAX_OUTPUT: usize = 16 << 20;

/// One command to start.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<OsString>,
    pub(crate) cwd: PathBuf,
    pub(crate) env: Vec<(OsString, OsString)>,
    /// Variables of gate's own environment the process must not see.
    pub(crate) env_remove: Vec<OsString>,
    pub(crate) timeout: Option<Duration>,
    /// Arguments from the file list, hidden when the command is displayed.
    pub(crate) file_args: usize,
}

impl fmt::Display for Cmd {
    /// Shell-quoted, file list elided: for messages, never for running.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quote = |s: &std::ffi::OsStr| {
            let text = s.to_string_lossy();
            shlex::try_quote(&text).map_or_else(|_| text.to_string(), std::borrow::Cow::into_owned)
        };
        write!(f, "{}", quote(self.program.as_os_str()))?;
        let shown = self.args.len() - self.file_args;
        for arg in &self.args[..shown] {
            write!(f, " {}", quote(arg))?;
        }
        if self.file_args > 0 {
            write!(f, " <{} files>", self.file_args)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exit {
    Code(i32),
    Signal(i32),
    TimedOut(Duration),
    Interrupted,
    SpawnFailed(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Finished {
    pub(crate) exit: Exit,
    pub(crate) output: Vec<u8>,
    /// Peak resident memory of the process (and the children it waited for), in bytes.
    pub(crate) peak_rss: Option<u64>,
}

impl Finished {
    pub(crate) fn new(exit: Exit, output: Vec<u8>) -> Self {
        Self {
            exit,
            output,
            peak_rss: None,
        }
    }
}

/// Set once Ctrl-C or SIGTERM arrives: no new process starts after it.
pub(crate) static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Process groups of running children, to signal on interruption.
static RUNNING: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// The signal that stopped the run (SIGINT, SIGTERM or SIGHUP), 0 while none has.
pub(crate) static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// How long a child may take to end after SIGTERM: short enough that the whole run stops,
/// restores and exits within a second.
const GRACE: Duration = Duration::from_millis(400);

/// From now on Ctrl-C, SIGTERM and SIGHUP stop the run (children run in their own process
/// groups, so only gate gets the terminal's signals, and it stops them). Once per process.
pub(crate) fn handle_signals() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([libc::SIGINT, libc::SIGTERM, libc::SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            for signal in signals.forever() {
                let _ = SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
                interrupt_all();
            }
        });
    });
}

/// The exit code of a run a signal stopped: 128 + the signal, as shells report it.
pub(crate) fn interrupted_exit_code() -> i32 {
    128 + match SIGNAL.load(Ordering::SeqCst) {
        0 => libc::SIGINT,
        signal => signal,
    }
}

/// Stops every running child: SIGTERM, then SIGKILL for those still there after a grace period.
/// Called from the signal-handling thread.
pub(crate) fn interrupt_all() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    signal_running(libc::SIGTERM);
    let start = std::time::Instant::now();
    while start.elapsed() < GRACE && RUNNING.lock().is_ok_and(|r| !r.is_empty()) {
        std::thread::sleep(Duration::from_millis(10));
    }
    signal_running(libc::SIGKILL);
}

fn signal_running(signal: i32) {
    let groups = RUNNING.lock().map(|g| g.clone()).unwrap_or_default();
    for group in groups {
        kill_group(group, signal);
    }
}

fn kill_group(group: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group we created; no memory involved.
    unsafe {
        libc::kill(-group, signal);
    }
}

impl Cmd {
    pub(crate) fn run(&self) -> Finished {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Finished::new(Exit::Interrupted, Vec::new());
        }
        match self.spawn_and_wait() {
            Ok(finished) => finished,
            Err(err) => Finished::new(Exit::SpawnFailed(format!("failed to run `{self}`: {err}")), Vec::new()),
        }
    }

    fn spawn_and_wait(&self) -> std::io::Result<Finished> {
        let (mut reader, writer) = std::io::pipe()?;
        let mut command = Command::new(&self.program);
        for name in &self.env_remove {
            command.env_remove(name);
        }
        command
            .args(&self.args)
            .current_dir(&self.cwd)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer)
            .process_group(0);
        let mut child = command.spawn()?;
        // The command holds our copies of the pipe's write end; EOF comes only once they close.
        drop(command);
        let group = child.id() as i32;
        if let Ok(mut running) = RUNNING.lock() {
            running.push(group);
        }
        if INTERRUPTED.load(Ordering::SeqCst) {
            kill_group(group, libc::SIGKILL);
        }
        let sampler = MemorySampler::start(group);
        let (output, timed_out) = match self.timeout {
            None => (read_capped(&mut reader), false),
            Some(limit) => {
                let (send, receive) = mpsc::channel();
                std::thread::spawn(move || send.send(read_capped(&mut reader)));
                if let Ok(output) = receive.recv_timeout(limit) {
                    (output, false)
                } else {
                    kill_group(group, libc::SIGKILL);
                    // A grandchild that left the group may hold the pipe; do not wait on it long.
                    (receive.recv_timeout(Duration::from_secs(1)).unwrap_or_default(), true)
                }
            }
        };
        let waited = child.wait();
        let peak_rss = sampler.and_then(MemorySampler::stop);
        if let Ok(mut running) = RUNNING.lock() {
            running.retain(|&g| g != group);
        }
        let status = waited?;
        let exit = if timed_out {
            Exit::TimedOut(self.timeout.unwrap_or_default())
        } else if INTERRUPTED.load(Ordering::SeqCst) && status.code().is_none() {
            Exit::Interrupted
        } else if let Some(code) = status.code() {
            Exit::Code(code)
        } else {
            Exit::Signal(status.signal().unwrap_or(0))
        };
        let mut finished = Finished::new(exit, output);
        finished.peak_rss = peak_rss;
        Ok(finished)
    }
}

/// Set when the run reports memory (`--timings`): each process group is then sampled.
pub(crate) static MEASURE_MEMORY: AtomicBool = AtomicBool::new(false);

/// The peak resident memory of a process group (a tool and the processes it starts),
/// sampled from `/proc` while it runs. Sampling, because the kernel's own peak for a child
/// (wait4's `ru_maxrss`) includes the parent's pages it was forked with.
struct MemorySampler {
    done: std::sync::Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Option<u64>>,
}

impl MemorySampler {
    fn start(group: i32) -> Option<Self> {
        if !MEASURE_MEMORY.load(Ordering::Relaxed) {
            return None;
        }
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let stop = std::sync::Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            // SAFETY: sysconf has no preconditions.
            let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
            let mut peak = None;
            // Not before the program is exec'd: the forked child still holds gate's pages.
            std::thread::sleep(Duration::from_millis(20));
            while !stop.load(Ordering::Relaxed) {
                let pages = group_pages(group);
                if pages > 0 {
                    peak = Some(peak.unwrap_or(0).max(pages * page));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        });
        Some(Self { done, thread })
    }

    fn stop(self) -> Option<u64> {
        self.done.store(true, Ordering::Relaxed);
        self.thread.join().ok().flatten()
    }
}

/// Resident pages of every process in `group`, from `/proc/<pid>/stat`.
fn group_pages(group: i32) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| {
            // After the command name in parentheses: state, ppid, pgrp, … rss (the 22nd).
            let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
            (fields.get(2)?.parse::<i32>().ok()? == group).then(|| fields.get(21)?.parse::<u64>().ok())?
        })
        .sum()
}

fn read_capped(reader: &mut impl Read) -> Vec<u8> {
    let mut output = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = MAX_OUTPUT.saturating_sub(output.len());
                output.extend_from_slice(&buffer[..n.min(room)]);
            }
        }
    }
    if output.len() >= MAX_OUTPUT {
        output.extend_from_slice(b"\n[gate: output cut at 16 MiB]\n");
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn sh(script: &str, timeout: Option<Duration>) -> Cmd {
        Cmd {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            cwd: std::env::temp_dir(),
            env: Vec::new(),
            env_remove: Vec::new(),
            timeout,
            file_args: 0,
        }
    }

    #[test]
    fn stdout_and_stderr_are_captured_in_order() {
        let finished = sh("echo one; echo two >&2; echo three; exit 3", None).run();
        assert_eq!(finished.exit, Exit::Code(3));
        assert_eq!(String::from_utf8_lossy(&finished.output), "one\ntwo\nthree\n");
    }

    #[test]
    fn a_timeout_kills_the_whole_process_tree() {
        let start = Instant::now();
        let finished = sh("sleep 30 & sleep 30; echo never", Some(Duration::from_millis(300))).run();
        assert_eq!(finished.exit, Exit::TimedOut(Duration::from_millis(300)));
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn display_hides_the_file_list() {
        let mut cmd = sh("x", None);
        cmd.args.extend(["a b.py".into(), "c.py".into()]);
        cmd.file_args = 2;
        assert_eq!(cmd.to_string(), "/bin/sh -c x <2 files>");
    }
}
