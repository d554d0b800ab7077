//! The remote cache against a real server (nginx with `WebDAV` on loopback): a pass in one
//! clone is served in another with an empty local cache, only CI writes, a corrupt blob is
//! a miss, and a failing, slow or refusing server never changes a verdict nor shows a
//! token.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::nginx::{Nginx, Silent};
use crate::common::{Run, TestRepo, clear_recorded, recorded, recorder};

/// A tool outside both clones, so it is the same program (path, size, time) for both.
struct Shared {
    _dir: tempfile::TempDir,
    tool: PathBuf,
    log: PathBuf,
}

fn shared_tool() -> Shared {
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("lint");
    let log = dir.path().join("lint.log");
    std::fs::write(&tool, format!("#!/bin/sh\n{}\n", recorder(&log))).unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    Shared { _dir: dir, tool, log }
}

/// A clone: the same content and configuration, its own (empty) local cache.
fn clone(tool: &Path, remote: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.config(&format!(
        "[cache]\nremote = \"{remote}\"\nremote_timeout = \"500ms\"\n\n[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"{}\", \"{{files}}\"]\n",
        tool.display()
    ))
    .write("a.py", "one\n")
    .commit_all("init");
    repo
}

fn check(repo: &TestRepo, env: &[(&str, &str)]) -> Run {
    repo.gate_env(&["check", "--all"], env)
}

#[test]
fn a_pass_in_ci_is_served_to_another_clone_and_only_ci_writes() {
    let server = Nginx::start(None, false);
    let shared = shared_tool();
    let developer = clone(&shared.tool, &server.url());
    let run = check(&developer, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        server.stored().is_empty(),
        "a developer's machine does not write: {:?}",
        server.stored()
    );

    let ci = clone(&shared.tool, &server.url());
    let run = check(&ci, &[("CI", "true")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        server.stored().len(),
        3,
        "the record and its two blobs: {:?}",
        server.stored()
    );
    clear_recorded(&shared.log);

    let other = clone(&shared.tool, &server.url());
    let run = check(&other, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.line("lint").contains("cached (remote)"), "{run:?}");
    assert!(recorded(&shared.log).is_empty(), "the tool was not started");
    let stats = other.gate(&["cache", "stats"]);
    assert!(stats.stdout.contains("1 from the remote"), "{stats:?}");
    // Kept locally too: served again with the server gone.
    drop(server);
    let run = check(&other, &[]);
    assert!(
        run.line("lint").contains("cached") && !run.line("lint").contains("remote"),
        "{run:?}"
    );
}

#[test]
fn a_corrupt_blob_on_the_server_is_a_miss() {
    let server = Nginx::start(None, false);
    let shared = shared_tool();
    check(&clone(&shared.tool, &server.url()), &[("CI", "true")]);
    for path in server.stored().iter().filter(|p| p.to_string_lossy().contains("/cas/")) {
        std::fs::write(path, "tampered").unwrap();
    }
    clear_recorded(&shared.log);
    let run = check(&clone(&shared.tool, &server.url()), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.line("lint").contains("cached"), "{run:?}");
    assert_eq!(recorded(&shared.log).len(), 1, "the gate ran");
}

#[test]
fn a_failing_slow_or_refusing_remote_never_changes_the_verdict() {
    let shared = shared_tool();
    let broken = Nginx::start(None, true);
    let silent = Silent::start();
    let mut stopped = Nginx::start(None, false);
    let stopped_url = stopped.url();
    stopped.stop();
    let slow_url = format!("http://127.0.0.1:{}/cache", silent.port);
    for (url, why) in [
        (broken.url(), "HTTP 500"),
        (slow_url, "could not be reached"),
        (stopped_url, "could not be reached"),
    ] {
        let repo = clone(&shared.tool, &url);
        let start = Instant::now();
        let run = check(&repo, &[("CI", "true")]);
        assert_eq!(run.code, 0, "{url}: {run:?}");
        assert_eq!(run.status("lint"), "passed", "{run:?}");
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "{url}: within its timeouts: {:?}",
            start.elapsed()
        );
        assert_eq!(
            run.stderr.matches("the remote cache").count(),
            1,
            "{url}: one warning: {run:?}"
        );
        assert!(run.stderr.contains(why), "{why}: {run:?}");
    }
}

#[test]
fn a_token_is_sent_but_never_shown() {
    let server = Nginx::start(Some("s3cret-token"), false);
    let shared = shared_tool();
    // The right token: written from CI, served to another clone.
    check(
        &clone(&shared.tool, &server.url()),
        &[("CI", "true"), ("GATE_CACHE_TOKEN", "s3cret-token")],
    );
    assert_eq!(server.stored().len(), 3);
    let run = check(
        &clone(&shared.tool, &server.url()),
        &[("GATE_CACHE_TOKEN", "s3cret-token")],
    );
    assert!(run.line("lint").contains("cached (remote)"), "{run:?}");
    // A wrong one, and credentials in the URL: refused, the verdict unchanged, neither shown.
    let url = server.url().replace("http://", "http://me:hunter2-pass@");
    let repo = clone(&shared.tool, &url);
    let run = repo.gate_env(
        &["check", "--all", "--report", "json=report.json"],
        &[("CI", "true"), ("GATE_CACHE_TOKEN", "wrong-token-value")],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("HTTP 401"), "{run:?}");
    let everything = format!("{}{}{}", run.stdout, run.stderr, repo.read("report.json"));
    for secret in ["wrong-token-value", "hunter2-pass", "s3cret-token"] {
        assert!(!everything.contains(secret), "{secret} shown: {everything}");
    }
}
