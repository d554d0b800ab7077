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
    /// Stopped by the kernel for reading the terminal (a prompt), and killed: a gate's
    /// process can never be answered.
    AskedTheTerminal,
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
        let (reader, writer) = std::io::pipe()?;
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
        let (mut output, ending) = match rustix::process::pidfd_open(
            rustix::process::Pid::from_child(&child),
            rustix::process::PidfdFlags::empty(),
        ) {
            Ok(exits) => gather(&reader, &exits, group, self.timeout),
            Err(_) => gather_to_end(reader, group, self.timeout),
        };
        if ending == Ending::LeftOpen {
            output.extend_from_slice(
                format!(
                    "\n[gate: `{self}` exited, but processes it started kept its output open: gate stopped them]\n"
                )
                .as_bytes(),
            );
        }
        let timed_out = ending == Ending::TimedOut;
        let asked = ending == Ending::AskedTheTerminal;
        let waited = child.wait();
        super::processes::reap_adopted();
        let peak_rss = sampler.and_then(MemorySampler::stop);
        if let Ok(mut running) = RUNNING.lock() {
            running.retain(|&g| g != group);
        }
        let status = waited?;
        let exit = if timed_out {
            Exit::TimedOut(self.timeout.unwrap_or_default())
        } else if asked {
            Exit::AskedTheTerminal
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
                let pages = super::processes::group_pages(group);
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

/// How long a command's output may stay open after it exited, for what its last children
/// print; then what still holds it (a server a test script started and left) is stopped.
const LINGER: Duration = Duration::from_secs(1);

/// How long to wait for the output to close once its holders were killed: a process that
/// left the group may hold it still.
const LAST_WORDS: Duration = Duration::from_secs(1);

/// How the output of a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Every holder closed it.
    Closed,
    /// The timeout passed: the whole group was killed.
    TimedOut,
    /// The command exited but processes it started kept it open: they were stopped.
    LeftOpen,
    /// A process of the command's group was stopped for reading the terminal: the group
    /// was killed.
    AskedTheTerminal,
}

/// How often a running command's group is looked at for a process the terminal stopped.
const LOOK: Duration = Duration::from_millis(500);

/// Reads the command's output until every holder closed it, watching `exits` (the
/// command's pidfd) so that neither a timeout nor a process it left behind holding the
/// output can make the run wait for ever.
fn gather(
    reader: &std::io::PipeReader,
    exits: &std::os::fd::OwnedFd,
    group: i32,
    timeout: Option<Duration>,
) -> (Vec<u8>, Ending) {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let start = std::time::Instant::now();
    let mut output = Capped::default();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut exited = None;
    // Once holders are being stopped: since when, why, and whether SIGKILL followed SIGTERM.
    let mut stopping: Option<(std::time::Instant, Ending, bool)> = None;
    let mut next_look = start + LOOK;
    // Stopped at the last look: only a process still stopped at the next one counts (a test
    // suite may stop its own children for a moment).
    let mut stopped_before: Vec<i32> = Vec::new();
    loop {
        let deadline = match (stopping, exited, timeout) {
            (Some((at, _, killed)), _, _) => Some(at + if killed { LAST_WORDS } else { GRACE }),
            (None, Some(at), _) => Some(at + LINGER),
            (None, None, Some(limit)) => Some(start + limit),
            (None, None, None) => None,
        };
        // While it runs, its group is looked at now and then (see `stopped_in`).
        let looking = stopping.is_none() && exited.is_none();
        let wake = match deadline {
            Some(deadline) if looking => Some(deadline.min(next_look)),
            Some(deadline) => Some(deadline),
            None => looking.then_some(next_look),
        };
        let wait = wake.map(|d| Timespec::try_from(d.saturating_duration_since(std::time::Instant::now())));
        let wait = match wait {
            Some(Ok(wait)) => Some(wait),
            Some(Err(_)) | None => None,
        };
        let mut fds = [PollFd::new(reader, PollFlags::IN), PollFd::new(exits, PollFlags::IN)];
        let watched = if exited.is_none() { 2 } else { 1 };
        match poll(&mut fds[..watched], wait.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(_) => return (output.finish(), Ending::Closed),
        }
        if !fds[0].revents().is_empty() {
            match (&*reader).read(&mut buffer) {
                Ok(0) => return (output.finish(), stopping.map_or(Ending::Closed, |(_, why, _)| why)),
                Ok(n) => output.push(&buffer[..n]),
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return (output.finish(), Ending::Closed),
            }
        }
        if exited.is_none() && watched == 2 && !fds[1].revents().is_empty() {
            exited = Some(std::time::Instant::now());
        }
        let now = std::time::Instant::now();
        if looking && now >= next_look {
            next_look = now + LOOK;
            let stopped = super::processes::stopped_in(group);
            let still = stopped.iter().any(|pid| stopped_before.contains(pid));
            stopped_before = stopped;
            if still {
                stop(group, reader, libc::SIGKILL);
                stopping = Some((now, Ending::AskedTheTerminal, true));
                continue;
            }
        }
        if deadline.is_none_or(|d| now < d) {
            continue;
        }
        stopping = match stopping {
            // Killed, and yet something holds it: what it says is not waited for.
            Some((_, why, true)) => return (output.finish(), why),
            Some((_, why, false)) => {
                stop(group, reader, libc::SIGKILL);
                Some((now, why, true))
            }
            None if exited.is_some() => {
                stop(group, reader, libc::SIGTERM);
                Some((now, Ending::LeftOpen, false))
            }
            None => {
                stop(group, reader, libc::SIGKILL);
                Some((now, Ending::TimedOut, true))
            }
        };
    }
}

/// Signals `group`, and what left it holding `output` (see `processes`).
fn stop(group: i32, output: &std::io::PipeReader, signal: i32) {
    // Looked for first: while the group lives, what left it is still a descendant even
    // where gate could not adopt orphans.
    let holders = super::processes::holders_outside(group, output);
    kill_group(group, signal);
    for pid in holders {
        // SAFETY: kill(2) signals one of gate's own descendants; no memory involved.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// [`gather`] without a pidfd (kernels before 5.3): to the end of the output, bounded only
/// by the timeout.
fn gather_to_end(mut reader: std::io::PipeReader, group: i32, timeout: Option<Duration>) -> (Vec<u8>, Ending) {
    let Some(limit) = timeout else {
        return (read_capped(&mut reader), Ending::Closed);
    };
    // A second read end, to find what holds the output once the reader thread has the first.
    let pipe = reader.try_clone();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || send.send(read_capped(&mut reader)));
    if let Ok(output) = receive.recv_timeout(limit) {
        return (output, Ending::Closed);
    }
    match &pipe {
        Ok(pipe) => stop(group, pipe, libc::SIGKILL),
        Err(_) => kill_group(group, libc::SIGKILL),
    }
    // Something that left the group may hold the pipe still; do not wait on it long.
    (receive.recv_timeout(LAST_WORDS).unwrap_or_default(), Ending::TimedOut)
}

/// Output kept up to [`MAX_OUTPUT`]; the rest is read and dropped so the tool never blocks.
#[derive(Default)]
struct Capped(Vec<u8>);

impl Capped {
    fn push(&mut self, bytes: &[u8]) {
        let room = MAX_OUTPUT.saturating_sub(self.0.len());
        self.0.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.0.len() >= MAX_OUTPUT {
            self.0.extend_from_slice(b"\n[gate: output cut at 16 MiB]\n");
        }
        self.0
    }
}

fn read_capped(reader: &mut impl Read) -> Vec<u8> {
    let mut output = Capped::default();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => output.push(&buffer[..n]),
        }
    }
    output.finish()
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
    fn what_a_child_prints_just_after_the_command_exits_is_kept() {
        let finished = sh("(sleep 0.2; echo late) & echo early", None).run();
        assert_eq!(finished.exit, Exit::Code(0));
        assert_eq!(String::from_utf8_lossy(&finished.output), "early\nlate\n");
    }

    #[test]
    fn a_leftover_holding_the_output_is_stopped_and_named() {
        let start = Instant::now();
        let finished = sh("sleep 30 & echo done; exit 4", Some(Duration::from_mins(1))).run();
        assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
        assert_eq!(finished.exit, Exit::Code(4), "the command's own exit");
        let output = String::from_utf8_lossy(&finished.output);
        assert!(output.starts_with("done\n"), "{output}");
        assert!(output.contains("kept its output open: gate stopped them"), "{output}");
    }

    #[test]
    fn a_leftover_that_ignores_sigterm_is_killed() {
        let start = Instant::now();
        let finished = sh("(trap '' TERM; sleep 30) & echo done", None).run();
        assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
        assert_eq!(finished.exit, Exit::Code(0));
        assert!(String::from_utf8_lossy(&finished.output).contains("gate stopped them"));
    }

    #[test]
    fn without_a_pidfd_the_output_is_read_to_its_end_or_the_timeout() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        std::io::Write::write_all(&mut writer, b"all of it").unwrap();
        drop(writer);
        assert_eq!(gather_to_end(reader, 0, None), (b"all of it".to_vec(), Ending::Closed));
        let (reader, writer) = std::io::pipe().unwrap();
        let (output, ending) = gather_to_end(reader, i32::MAX, Some(Duration::from_millis(50)));
        assert_eq!((output.len(), ending), (0, Ending::TimedOut));
        drop(writer);
    }

    /// On a timeout without a pidfd too, what left the group holding the output is killed.
    #[test]
    fn without_a_pidfd_a_timeout_kills_what_left_the_group_too() {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let (reader, writer) = std::io::pipe().unwrap();
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!(
                "setsid sleep 30 & echo $! > '{}'; sleep 30",
                pid_file.display()
            ))
            .stdout(writer.try_clone().unwrap())
            .stderr(writer)
            .process_group(0)
            .spawn()
            .unwrap();
        let group = i32::try_from(child.id()).unwrap();
        let start = Instant::now();
        let (_, ending) = gather_to_end(reader, group, Some(Duration::from_millis(500)));
        child.wait().unwrap();
        assert_eq!(ending, Ending::TimedOut);
        assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let proc_stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        assert!(
            proc_stat.is_empty() || proc_stat.contains(") Z "),
            "the setsid sleep is killed: {proc_stat}"
        );
    }

    #[test]
    fn a_stopped_command_is_killed_instead_of_waited_for() {
        // What the kernel does to a background process that reads the terminal.
        let start = Instant::now();
        let finished = sh("echo asking; kill -STOP $$; echo never", None).run();
        assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
        assert_eq!(finished.exit, Exit::AskedTheTerminal);
        assert_eq!(String::from_utf8_lossy(&finished.output), "asking\n");
    }

    #[test]
    fn display_hides_the_file_list() {
        let mut cmd = sh("x", None);
        cmd.args.extend(["a b.py".into(), "c.py".into()]);
        cmd.file_args = 2;
        assert_eq!(cmd.to_string(), "/bin/sh -c x <2 files>");
    }
}
