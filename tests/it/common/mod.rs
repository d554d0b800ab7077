//! `TestRepo`: a temporary git repository with a private `bin/` of fake tools, and the
//! real `gate` binary run in it with a clean environment.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

pub(crate) mod nginx;
pub(crate) mod server;

pub(crate) const GATE: &str = env!("CARGO_BIN_EXE_gate");

/// A fixer (for `repo.tool("upper", UPPERCASE)`) that uppercases each file it is handed in
/// place, keeping the file's mode.
pub(crate) const UPPERCASE: &str =
    "for f in \"$@\"; do tr a-z A-Z < \"$f\" > \"$f.tmp\" && cat \"$f.tmp\" > \"$f\" && rm \"$f.tmp\"; done";

pub(crate) struct TestRepo {
    dir: TempDir,
    /// Outside the work tree, so fake tools never show up as changes.
    bin: PathBuf,
    home: PathBuf,
    _outside: TempDir,
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn from_output(output: &Output) -> Self {
        Self::from(output)
    }

    fn from(output: &Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The console line of a gate (`name ..... status ...`).
    pub(crate) fn line(&self, gate: &str) -> &str {
        let prefix = format!("{gate} .");
        self.stdout
            .lines()
            .find(|line| line.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no line for gate `{gate}` in:\n{}\n{}", self.stdout, self.stderr))
    }

    /// The status word of a gate's console line; `skipped` when the gate is named on one of
    /// the collapsed `skipped  a, b: reason` lines.
    pub(crate) fn status(&self, gate: &str) -> &str {
        let collapsed = self.stdout.lines().any(|line| {
            line.strip_prefix("skipped  ")
                .and_then(|rest| rest.split_once(": "))
                .is_some_and(|(names, _)| names.split(", ").any(|name| name == gate))
        });
        if collapsed {
            return "skipped";
        }
        self.line(gate)
            .split_whitespace()
            .find(|word| ["passed", "failed", "fixed", "skipped", "blocked", "error"].contains(word))
            .unwrap_or("?")
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl TestRepo {
    /// An empty repository on branch `main`, no commit yet.
    pub(crate) fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("gate-it").tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let bin = outside.path().join("bin");
        let home = outside.path().join("home");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(&home).unwrap();
        let repo = Self {
            dir,
            bin,
            home,
            _outside: outside,
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Gate Test"]);
        repo.git(&["config", "user.email", "gate@example.invalid"]);
        repo.git(&["config", "core.autocrlf", "false"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn bin(&self) -> &Path {
        &self.bin
    }

    pub(crate) fn path_var(&self) -> String {
        format!("{}:/usr/local/bin:/usr/bin:/bin", self.bin.display())
    }

    /// Writes a file (parents created) relative to the root.
    pub(crate) fn write(&self, path: impl AsRef<Path>, content: impl AsRef<[u8]>) -> &Self {
        let path = self.root().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
        self
    }

    /// Writes a file and stages it: `.stage(p, staged).write(p, more)` leaves it partially staged.
    pub(crate) fn stage(&self, path: &str, content: impl AsRef<[u8]>) -> &Self {
        self.write(path, content);
        self.git(&["add", path]);
        self
    }

    pub(crate) fn read(&self, path: impl AsRef<Path>) -> String {
        fs::read_to_string(self.root().join(path)).unwrap()
    }

    /// A fake tool: a POSIX sh script on the PATH gate runs with.
    pub(crate) fn tool(&self, name: &str, script: &str) -> &Self {
        let path = self.bin.join(name);
        fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    pub(crate) fn config(&self, text: &str) -> &Self {
        self.write("gates.toml", text)
    }

    fn env(&self, command: &mut Command) {
        command
            .env_clear()
            .env("PATH", self.path_var())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env("LANG", "C.UTF-8")
            .current_dir(self.root());
    }

    /// Runs git, asserting success; returns stdout.
    pub(crate) fn git<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        let run = self.git_run(args, None);
        assert_eq!(
            run.code,
            0,
            "git {:?} failed: {run:?}",
            args.iter().map(|a| a.as_ref().to_owned()).collect::<Vec<_>>()
        );
        run.stdout
    }

    /// Runs git, asserting success; returns stdout as bytes (for binary content).
    pub(crate) fn git_bytes(&self, args: &[&str]) -> Vec<u8> {
        let mut command = Command::new("git");
        self.env(&mut command);
        let output = command.args(args).stdin(Stdio::null()).output().unwrap();
        assert!(output.status.success(), "git {args:?} failed");
        output.stdout
    }

    /// Runs git with an extra environment; returns the whole result (for `git commit` with hooks).
    pub(crate) fn git_run<S: AsRef<OsStr>>(&self, args: &[S], extra_env: Option<&[(&str, &str)]>) -> Run {
        let mut command = Command::new("git");
        self.env(&mut command);
        command.args(args).stdin(Stdio::null());
        for (key, value) in extra_env.unwrap_or_default() {
            command.env(key, value);
        }
        Run::from(&command.output().unwrap())
    }

    pub(crate) fn add_all(&self) -> &Self {
        self.git(&["add", "-A"]);
        self
    }

    pub(crate) fn commit_all(&self, message: &str) -> &Self {
        self.add_all();
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
        self
    }

    /// Commits everything with the hooks running; asserts success.
    pub(crate) fn commit_all_with_hooks(&self, message: &str) -> &Self {
        self.add_all();
        let run = self.git_run(&["commit", "-q", "-m", message], None);
        assert_eq!(run.code, 0, "{run:?}");
        self
    }

    /// A `gate` command ready to run here: clean environment, fake tools first on PATH.
    pub(crate) fn gate_command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut command = Command::new(GATE);
        self.env(&mut command);
        command.args(args).stdin(Stdio::null());
        command
    }

    /// Any program, with the same clean environment as gate gets (and a terminal type).
    pub(crate) fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        self.env(&mut command);
        command.env("TERM", "xterm").args(args).stdin(Stdio::null());
        command
    }

    /// `gate install --hook HOOK`, which must succeed.
    pub(crate) fn install(&self, hook: &str) -> &Self {
        let run = self.gate(&["install", "--hook", hook]);
        assert_eq!(run.code, 0, "{run:?}");
        self
    }

    pub(crate) fn gate<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        Run::from(&self.gate_command(args).output().unwrap())
    }

    pub(crate) fn gate_env<S: AsRef<OsStr>>(&self, args: &[S], env: &[(&str, &str)]) -> Run {
        let mut command = self.gate_command(args);
        for (key, value) in env {
            command.env(key, value);
        }
        Run::from(&command.output().unwrap())
    }
}

/// A fake tool that records its arguments, one file per invocation (`<log>.<pid>`, so that
/// parallel batches never interleave), NUL-separated.
pub(crate) fn recorder(log: &Path) -> String {
    format!("printf '%s\\0' \"$@\" > '{}'.$$", log.display())
}

/// The argument lists a [`recorder`] saw, one `Vec` per invocation (in no set order).
pub(crate) fn recorded(log: &Path) -> Vec<Vec<String>> {
    let mut calls = Vec::new();
    for path in recorder_files(log) {
        let bytes = fs::read(path).unwrap();
        let mut args: Vec<String> = bytes
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        args.pop(); // after the last NUL
        calls.push(args);
    }
    calls
}

/// Removes what a [`recorder`] logged so far.
pub(crate) fn clear_recorded(log: &Path) {
    for path in recorder_files(log) {
        fs::remove_file(path).unwrap();
    }
}

fn recorder_files(log: &Path) -> Vec<PathBuf> {
    let prefix = format!("{}.", log.file_name().unwrap().to_string_lossy());
    let Ok(entries) = fs::read_dir(log.parent().unwrap()) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_prefix(&prefix)
                .is_some_and(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|entry| entry.path())
        .collect()
}

/// A `custom` gate's table.
pub(crate) fn gate_toml(name: &str, body: &str) -> String {
    format!("[gates.{name}]\nkind = \"custom\"\n{body}\n")
}

/// Every file under `dir`, at any depth.
pub(crate) fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|e| {
            if e.path().is_dir() {
                walk(&e.path())
            } else {
                vec![e.path()]
            }
        })
        .collect()
}
