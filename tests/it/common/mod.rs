//! `TestRepo`: a temporary git repository with a private `bin/` of fake tools, and the
//! real `gate` binary run in it with a clean environment.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

pub const GATE: &str = env!("CARGO_BIN_EXE_gate");

pub struct TestRepo {
    dir: TempDir,
    /// Outside the work tree, so fake tools never show up as changes.
    bin: PathBuf,
    home: PathBuf,
    _outside: TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The console line of a gate (`name ..... status ...`).
    pub fn line(&self, gate: &str) -> &str {
        let prefix = format!("{gate} .");
        self.stdout
            .lines()
            .find(|line| line.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no line for gate `{gate}` in:\n{}\n{}", self.stdout, self.stderr))
    }

    /// The status word of a gate's console line.
    pub fn status(&self, gate: &str) -> &str {
        self.line(gate)
            .split_whitespace()
            .find(|word| ["passed", "failed", "fixed", "skipped", "blocked", "error"].contains(word))
            .unwrap_or("?")
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl TestRepo {
    /// An empty repository on branch `main`, no commit yet.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("gate-it").tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let bin = outside.path().join("bin");
        let home = outside.path().join("home");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(&home).unwrap();
        let repo = Self { dir, bin, home, _outside: outside };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Gate Test"]);
        repo.git(&["config", "user.email", "gate@example.invalid"]);
        repo.git(&["config", "core.autocrlf", "false"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn bin(&self) -> &Path {
        &self.bin
    }

    pub fn path_var(&self) -> String {
        format!("{}:/usr/local/bin:/usr/bin:/bin", self.bin.display())
    }

    /// Writes a file (parents created) relative to the root.
    pub fn write(&self, path: impl AsRef<Path>, content: impl AsRef<[u8]>) -> &Self {
        let path = self.root().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
        self
    }

    pub fn read(&self, path: impl AsRef<Path>) -> String {
        fs::read_to_string(self.root().join(path)).unwrap()
    }

    /// A fake tool: a POSIX sh script on the PATH gate runs with.
    pub fn tool(&self, name: &str, script: &str) -> &Self {
        let path = self.bin.join(name);
        fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    pub fn config(&self, text: &str) -> &Self {
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
    pub fn git<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        let run = self.git_run(args, None);
        assert_eq!(run.code, 0, "git {:?} failed: {run:?}", args.iter().map(|a| a.as_ref().to_owned()).collect::<Vec<_>>());
        run.stdout
    }

    /// Runs git with an extra environment; returns the whole result (for `git commit` with hooks).
    pub fn git_run<S: AsRef<OsStr>>(&self, args: &[S], extra_env: Option<&[(&str, &str)]>) -> Run {
        let mut command = Command::new("git");
        self.env(&mut command);
        command.args(args).stdin(Stdio::null());
        for (key, value) in extra_env.unwrap_or_default() {
            command.env(key, value);
        }
        Run::from(command.output().unwrap())
    }

    pub fn add_all(&self) -> &Self {
        self.git(&["add", "-A"]);
        self
    }

    pub fn commit_all(&self, message: &str) -> &Self {
        self.add_all();
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
        self
    }

    /// A `gate` command ready to run here: clean environment, fake tools first on PATH.
    pub fn gate_command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut command = Command::new(GATE);
        self.env(&mut command);
        command.args(args).stdin(Stdio::null());
        command
    }

    pub fn gate<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        Run::from(self.gate_command(args).output().unwrap())
    }

    pub fn gate_env<S: AsRef<OsStr>>(&self, args: &[S], env: &[(&str, &str)]) -> Run {
        let mut command = self.gate_command(args);
        for (key, value) in env {
            command.env(key, value);
        }
        Run::from(command.output().unwrap())
    }
}

/// A fake tool that appends each argument on its own line (NUL-separated records) to a log,
/// so tests can see exactly which files a gate was handed.
pub fn recorder(log: &Path) -> String {
    format!(
        "for arg in \"$@\"; do printf '%s\\0' \"$arg\" >> '{}'; done\nprintf 'END\\0' >> '{}'",
        log.display(),
        log.display()
    )
}

/// The argument lists a [`recorder`] saw, one `Vec` per invocation.
pub fn recorded(log: &Path) -> Vec<Vec<String>> {
    let Ok(bytes) = fs::read(log) else { return Vec::new() };
    let mut calls = vec![Vec::new()];
    for record in bytes.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        if record == b"END" {
            calls.push(Vec::new());
        } else {
            calls.last_mut().unwrap().push(String::from_utf8_lossy(record).into_owned());
        }
    }
    calls.pop();
    calls
}
