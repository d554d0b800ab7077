//! The least any runner does for `--all`: list the tracked files (`git ls-files`) and start
//! four no-op processes with all of them at once, then wait. No configuration, no file
//! matching, no check of what the processes wrote. bench.py times gate against it.
//! Built by bench/run.sh with `rustc -O`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, exit};

fn main() {
    let listed = match Command::new("git").args(["ls-files", "-z"]).output() {
        Ok(out) if out.status.success() => out.stdout,
        _ => {
            eprintln!("least: `git ls-files` failed");
            exit(2);
        }
    };
    let files: Vec<&OsStr> = listed
        .split(|&b| b == 0)
        .filter(|name| !name.is_empty())
        .map(OsStr::from_bytes)
        .collect();
    let started: Vec<_> = (0..4)
        .map(|_| Command::new("true").args(&files).spawn().expect("least: cannot start `true`"))
        .collect();
    for mut child in started {
        if !child.wait().is_ok_and(|status| status.success()) {
            exit(1);
        }
    }
}
