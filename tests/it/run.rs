//! The runner: parallelism under one `--jobs` cap, ordering, batching, timeouts, missing
//! programs, fail-fast, interruption, and what the console shows.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{TestRepo, gate_toml, recorded, recorder};

/// Two gates that each wait for the other's marker: they pass only if they run together.
#[test]
fn independent_gates_run_at_the_same_time() {
    let repo = TestRepo::new();
    repo.tool(
        "rendezvous",
        "touch \"$1.here\"; i=0; while [ ! -e \"$2.here\" ]; do i=$((i+1)); [ $i -gt 100 ] && exit 1; sleep 0.05; done",
    );
    repo.config(&format!(
        "{}{}",
        gate_toml("left", "run = [\"rendezvous\", \"left\", \"right\"]\nalways = true"),
        gate_toml("right", "run = [\"rendezvous\", \"right\", \"left\"]\nalways = true")
    ))
    .commit_all("init");
    let run = repo.gate(&["check", "--jobs", "2"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.status("left"), "passed");
    assert_eq!(run.status("right"), "passed");
}

/// With `--jobs 1` no two processes overlap, across gates and batches alike.
#[test]
fn jobs_caps_processes_across_gates_and_batches() {
    let repo = TestRepo::new();
    let lock = repo.root().join("lock");
    repo.tool(
        "exclusive",
        &format!(
            "mkdir '{0}' 2>/dev/null || {{ echo overlap; exit 1; }}; sleep 0.1; rmdir '{0}'",
            lock.display()
        ),
    );
    let mut config = String::new();
    for name in ["a", "b", "c", "d"] {
        config.push_str(&gate_toml(name, "run = [\"exclusive\"]\nalways = true"));
    }
    repo.config(&config).commit_all("init");
    let run = repo.gate(&["check", "--jobs", "1"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("4 gates: 4 passed"), "{run:?}");
}

#[test]
fn depends_on_orders_gates_and_a_failure_blocks_dependents() {
    let repo = TestRepo::new();
    let order = repo.root().join("order.log");
    repo.tool(
        "step",
        &format!("sleep 0.2; echo \"$1\" >> '{}'; exit \"${{2:-0}}\"", order.display()),
    );
    repo.config(&format!(
        "{}{}{}{}",
        gate_toml("test", "run = [\"step\", \"test\"]\nalways = true"),
        gate_toml(
            "coverage",
            "run = [\"step\", \"coverage\"]\nalways = true\ndepends_on = [\"test\"]"
        ),
        gate_toml("lint", "run = [\"step\", \"lint\", \"1\"]\nalways = true"),
        gate_toml(
            "after-lint",
            "run = [\"step\", \"after-lint\"]\nalways = true\ndepends_on = [\"lint\"]"
        ),
    ))
    .commit_all("init");
    let run = repo.gate(&["check", "--jobs", "4"]);
    assert_eq!(run.code, 1, "{run:?}");
    let order = std::fs::read_to_string(&order).unwrap();
    let position = |name: &str| order.lines().position(|l| l == name);
    assert!(position("test").unwrap() < position("coverage").unwrap(), "{order}");
    assert_eq!(position("after-lint"), None, "a blocked gate never starts: {order}");
    assert_eq!(run.status("coverage"), "passed");
    assert_eq!(run.status("lint"), "failed");
    assert_eq!(run.status("after-lint"), "blocked");
    assert!(
        run.line("after-lint").contains("depends on `lint`, which did not pass"),
        "{run:?}"
    );
    // Lines come in config order whatever the finishing order.
    let names: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split(" .").next())
        .take(4)
        .collect();
    assert_eq!(names, ["test", "coverage", "lint", "after-lint"]);
}

/// Thousands of files with `ARG_MAX` made small: several batches, each under the limit,
/// every file exactly once.
#[test]
fn file_lists_are_split_below_the_argument_limit() {
    let repo = TestRepo::new();
    let log = repo.bin().join("record.log");
    repo.tool("record", &recorder(&log));
    repo.config(&gate_toml("many", "run = [\"record\", \"--flag\", \"{files}\"]"));
    for i in 0..3000 {
        repo.write(format!("src/module_{i:05}/file_with_a_longish_name_{i:05}.py"), "x\n");
    }
    repo.add_all();
    // `ulimit -s` sets ARG_MAX to a quarter of the stack limit, but never below 128 KiB.
    let output = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -s 256 && exec \"$0\" check --staged --jobs 2",
            crate::common::GATE,
        ])
        .env_clear()
        .env("PATH", repo.path_var())
        .env("HOME", repo.root())
        .env("NO_COLOR", "1")
        .current_dir(repo.root())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let calls = recorded(&log);
    assert!(
        calls.len() >= 2,
        "180 KB of paths need several batches at 128 KiB, got {}",
        calls.len()
    );
    let mut seen = Vec::new();
    for call in &calls {
        assert_eq!(call[0], "--flag", "every batch keeps the fixed arguments");
        let bytes: usize = call.iter().map(|a| a.len() + 1 + 8).sum();
        assert!(bytes < 128 * 1024, "a batch of {bytes} bytes is over the limit");
        seen.extend(call[1..].iter().cloned());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3001, "every file once (the 3000 and gates.toml)");
}

#[test]
fn a_timeout_kills_the_process_tree_and_is_an_error() {
    let repo = TestRepo::new();
    let pid_file = repo.root().join("child.pid");
    repo.tool("hang", &format!("sleep 60 & echo $! > '{}'; wait", pid_file.display()));
    repo.config(&gate_toml("slow", "run = [\"hang\"]\nalways = true\ntimeout = \"1s\""))
        .commit_all("init");
    let start = Instant::now();
    let run = repo.gate(&["check"]);
    assert!(start.elapsed() < Duration::from_secs(20), "took {:?}", start.elapsed());
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.status("slow"), "error");
    assert!(run.line("slow").contains("error: timed out after 1s"), "{run:?}");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(!process_alive(pid.trim()), "the grandchild `sleep` must be killed too");
}

#[test]
fn a_process_left_holding_a_gates_output_never_hangs_the_run() {
    let repo = TestRepo::new();
    let pid_file = repo.root().join("child.pid");
    // The tool exits at once; what it started in the background keeps its output open.
    repo.tool(
        "starts-server",
        &format!("sleep 60 & echo $! > '{}'; echo 'tests passed'", pid_file.display()),
    );
    repo.config(&gate_toml("suite", "run = [\"starts-server\"]\nalways = true"))
        .commit_all("init");
    let start = Instant::now();
    let run = repo.gate(&["check", "-v"]);
    assert!(start.elapsed() < Duration::from_secs(30), "took {:?}", start.elapsed());
    assert_eq!(run.code, 0, "the tool's own exit decides: {run:?}");
    assert!(run.stdout.contains("tests passed"), "{run:?}");
    assert!(
        run.stdout
            .contains("exited, but processes it started kept its output open: gate stopped them"),
        "{run:?}"
    );
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(!process_alive(pid.trim()), "the leftover `sleep` is stopped");
}

/// A process that left the tool's process group (a server started with `setsid`, a daemon
/// that double-forked) is out of reach of the group's signals; holding the output it is
/// still the tool's leftover, and stopped, on exit and on a timeout alike.
#[test]
fn a_leftover_that_left_the_process_group_is_stopped_too() {
    for (how, timeout) in [("exited", ""), ("timed out", "\ntimeout = \"1s\"")] {
        let repo = TestRepo::new();
        let pids = repo.root().join("pids");
        let wait = if timeout.is_empty() { "" } else { "sleep 30; " };
        repo.tool(
            "starts-daemon",
            &format!(
                "setsid sleep 60 & echo $! >> '{p}'; (setsid sh -c 'sleep 61 & echo $! >> \"{p}\"; wait' &); echo started; {wait}exit 0",
                p = pids.display()
            ),
        );
        repo.config(&gate_toml(
            "suite",
            &format!("run = [\"starts-daemon\"]\nalways = true{timeout}"),
        ))
        .commit_all("init");
        let start = Instant::now();
        let run = repo.gate(&["check", "-v"]);
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{how}: took {:?}",
            start.elapsed()
        );
        assert!(run.stdout.contains("started"), "{how}: {run:?}");
        let pids = std::fs::read_to_string(&pids).unwrap();
        assert_eq!(pids.lines().count(), 2, "{how}: {pids}");
        for pid in pids.lines() {
            assert!(
                !process_alive(pid.trim()),
                "{how}: the leftover {pid} is stopped: {run:?}"
            );
        }
    }
}

/// Gate adopts what tools leave behind (see above); those that exit are reaped as the run
/// goes on, not left as gate's zombies until it exits.
#[test]
fn orphans_that_exit_are_reaped_while_the_run_goes_on() {
    let repo = TestRepo::new();
    repo.tool(
        "leaves",
        "(sleep 0.2 >/dev/null 2>&1 &); (setsid sleep 0.2 >/dev/null 2>&1 &); echo left",
    )
    .tool("waits", "sleep 0.8")
    .tool(
        "zombies",
        r#"for f in /proc/[0-9]*/stat; do s=$(cat "$f" 2>/dev/null) || continue; set -- ${s##*) }; if [ "$1" = Z ] && [ "$2" = "$PPID" ]; then echo "a zombie of gate: $f"; found=1; fi; done; [ -z "$found" ]"#,
    );
    let config = [
        gate_toml("a", "run = [\"leaves\"]\nalways = true"),
        gate_toml("b", "run = [\"waits\"]\nalways = true\ndepends_on = [\"a\"]"),
        gate_toml("c", "run = [\"zombies\"]\nalways = true\ndepends_on = [\"b\"]"),
    ]
    .join("\n");
    repo.config(&config).commit_all("init");
    let run = repo.gate(&["check", "-v"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("left"), "{run:?}");
}

fn process_alive(pid: &str) -> bool {
    // A zombie has exited; only a live process counts.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

#[test]
fn a_missing_program_is_an_error_naming_it() {
    let repo = TestRepo::new();
    repo.config(&gate_toml("lint", "run = [\"no-such-linter\", \"{files}\"]"))
        .write("a.py", "1\n")
        .commit_all("init");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.status("lint"), "error");
    assert!(
        run.line("lint")
            .contains("`no-such-linter` not found: it is not in `node_modules/.bin`"),
        "{run:?}"
    );
}

#[test]
fn fail_fast_starts_no_new_gate_after_a_failure() {
    let repo = TestRepo::new();
    let ran = repo.root().join("ran.log");
    repo.tool(
        "step",
        &format!("echo \"$1\" >> '{}'; exit \"${{2:-0}}\"", ran.display()),
    );
    let mut config = gate_toml("first", "run = [\"step\", \"first\", \"1\"]\nalways = true");
    for name in ["second", "third"] {
        config.push_str(&gate_toml(
            name,
            &format!("run = [\"step\", \"{name}\"]\nalways = true"),
        ));
    }
    repo.config(&config).commit_all("init");
    let run = repo.gate(&["check", "--jobs", "1", "--fail-fast"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(std::fs::read_to_string(&ran).unwrap(), "first\n");
    assert_eq!(run.status("second"), "blocked");
    assert!(run.line("third").contains("--fail-fast"), "{run:?}");

    // `settings.fail_fast` is the default; `--no-fail-fast` overrides it.
    std::fs::remove_file(&ran).unwrap();
    repo.config(&format!("[settings]\nfail_fast = true\n{config}"))
        .commit_all("settings");
    let run = repo.gate(&["check", "--jobs", "1", "--no-fail-fast"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(std::fs::read_to_string(&ran).unwrap().lines().count(), 3);
}

#[test]
fn output_is_one_block_per_gate_and_shown_for_failures_only() {
    let repo = TestRepo::new();
    repo.tool(
        "chatty",
        "for i in 1 2 3 4 5; do echo \"$1 line $i\"; sleep 0.02; done; exit \"${2:-0}\"",
    );
    repo.config(&format!(
        "{}{}{}",
        gate_toml("a", "run = [\"chatty\", \"a\", \"1\"]\nalways = true"),
        gate_toml("b", "run = [\"chatty\", \"b\", \"1\"]\nalways = true"),
        gate_toml("ok", "run = [\"chatty\", \"ok\"]\nalways = true"),
    ))
    .commit_all("init");
    let run = repo.gate(&["check", "--jobs", "3"]);
    assert_eq!(run.code, 1, "{run:?}");
    let block = |name: &str| (1..=5).fold(String::new(), |text, i| text + &format!("{name} line {i}\n"));
    assert!(
        run.stdout.contains(&format!("{}\n{}", run.line("a"), block("a"))),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(&format!("{}\n{}", run.line("b"), block("b"))),
        "{run:?}"
    );
    assert!(!run.stdout.contains("ok line"), "passing output is hidden: {run:?}");
    assert!(run.stdout.contains("3 gates: 1 passed, 2 failed in "), "{run:?}");

    let run = repo.gate(&["check", "-v"]);
    assert!(run.stdout.contains(&block("ok")), "-v shows all output: {run:?}");
    let run = repo.gate(&["check", "-q"]);
    assert!(!run.stdout.contains("ok ."), "-q hides passing gates: {run:?}");
    assert!(run.stdout.contains("a line 1"), "{run:?}");
}

#[test]
fn skips_are_reported_with_their_reason() {
    let repo = TestRepo::new();
    repo.tool("ok", "exit 0");
    repo.config(&format!(
        "{}{}{}{}",
        gate_toml("py", "files = [\"*.py\"]\nrun = [\"ok\", \"{files}\"]"),
        gate_toml("rs", "files = [\"*.rs\"]\nrun = [\"ok\", \"{files}\"]"),
        gate_toml(
            "push-only",
            "files = [\"*.py\"]\nrun = [\"ok\"]\nstages = [\"pre-push\", \"ci\"]"
        ),
        gate_toml("skipped-by-env", "run = [\"ok\"]\nalways = true"),
    ))
    .write("a.py", "1\n")
    .commit_all("init");
    let run = repo.gate_env(&["check", "--all"], &[("GATE_SKIP", "skipped-by-env, other")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.status("py"), "passed");
    assert!(run.line("py").contains("1 file"), "{run:?}");
    // Skipped gates collapse into one line per reason…
    assert!(run.stdout.contains("skipped  rs: no matching files\n"), "{run:?}");
    assert!(
        run.stdout.contains("skipped  push-only: not in stage `manual`"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("skipped  skipped-by-env: skipped by `GATE_SKIP`"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("rs ....."), "{run:?}");
    // …and `-v` shows each on its own line.
    let verbose = repo.gate_env(&["check", "--all", "-v"], &[("GATE_SKIP", "skipped-by-env, other")]);
    assert!(verbose.line("rs").contains("skipped  no matching files"), "{verbose:?}");
    assert!(
        verbose.line("push-only").contains("not in stage `manual`"),
        "{verbose:?}"
    );

    let run = repo.gate(&["check", "--all", "--stage", "pre-push"]);
    assert_eq!(run.status("push-only"), "passed", "{run:?}");
    let run = repo.gate_env(&["check", "--all"], &[("CI", "true")]);
    assert_eq!(run.status("push-only"), "passed", "CI selects the `ci` stage: {run:?}");

    let run = repo.gate(&["check", "--all", "--gate", "rs"]);
    assert!(
        run.stdout
            .contains("skipped  py, push-only, skipped-by-env: not selected with `--gate`"),
        "{run:?}"
    );
    let run = repo.gate(&["check", "--all", "--gate", "nope"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("there is no gate `nope`"), "{run:?}");
}

#[test]
fn workdir_runs_inside_the_service_with_relative_paths_and_placeholders() {
    let repo = TestRepo::new();
    let log = repo.bin().join("record.log");
    repo.tool(
        "record",
        &format!(
            "pwd >> '{}.pwd'; echo \"$SERVICE\" >> '{}.pwd'\n{}",
            log.display(),
            log.display(),
            recorder(&log)
        ),
    );
    repo.config(&gate_toml(
        "api",
        "workdir = \"services/api\"\nfiles = [\"*.py\"]\nrun = [\"record\", \"{root}\", \"{files}\"]\nenv = { SERVICE = \"api\" }",
    ))
    .write("services/api/app/main.py", "1\n")
    .write("services/web/main.py", "1\n")
    .commit_all("init");
    repo.write("services/api/app/main.py", "2\n")
        .write("services/web/main.py", "2\n");
    let run = repo.gate(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    let calls = recorded(&log);
    let root = repo.root().canonicalize().unwrap();
    assert_eq!(calls, vec![vec![root.display().to_string(), "app/main.py".to_owned()]]);
    let pwd = std::fs::read_to_string(format!("{}.pwd", log.display())).unwrap();
    assert_eq!(pwd, format!("{}\napi\n", root.join("services/api").display()));

    // Only the web service changed: the api gate is skipped.
    repo.commit_all("x");
    repo.write("services/web/main.py", "3\n");
    let run = repo.gate(&["check"]);
    assert_eq!(run.status("api"), "skipped", "{run:?}");
}

#[test]
fn ctrl_c_stops_every_child_and_exits_130() {
    let repo = TestRepo::new();
    let pids = repo.root().join("pids");
    repo.tool("hang", &format!("sleep 60 & echo $! >> '{}'; wait", pids.display()));
    repo.config(&format!(
        "{}{}",
        gate_toml("a", "run = [\"hang\"]\nalways = true"),
        gate_toml("b", "run = [\"hang\"]\nalways = true")
    ))
    .commit_all("init");
    let mut child = repo
        .gate_command(&["check", "--jobs", "2"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&pids).map_or(0, |p| p.lines().count()) < 2 {
        assert!(Instant::now() < deadline, "gates did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling a child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    for pid in std::fs::read_to_string(&pids).unwrap().lines() {
        assert!(!process_alive(pid), "child {pid} still running");
    }
}

#[test]
fn list_shows_the_plan_without_running() {
    let repo = TestRepo::new();
    repo.tool("ok", "touch ran");
    repo.config(&format!(
        "{}{}",
        gate_toml("py", "files = [\"*.py\"]\nrun = [\"ok\", \"{files}\"]"),
        gate_toml("rs", "files = [\"*.rs\"]\nrun = [\"ok\"]\ndepends_on = [\"py\"]"),
    ))
    .write("a.py", "1\n")
    .write("b.py", "1\n")
    .commit_all("init");
    let run = repo.gate(&["list", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!Path::new(&repo.root().join("ran")).exists());
    assert!(
        run.stdout.contains("3 files in the change set, stage `manual`"),
        "{run:?}"
    );
    let py = run.stdout.lines().find(|l| l.trim_start().starts_with("py ")).unwrap();
    assert!(
        py.contains("run") && py.contains("2 files") && py.contains("1 process") && py.contains("<2 files>"),
        "{py}"
    );
    let rs = run.stdout.lines().find(|l| l.trim_start().starts_with("rs ")).unwrap();
    assert!(rs.contains("skip") && rs.contains("no matching files"), "{rs}");
}

#[test]
fn base_and_head_placeholders_name_the_compared_commits() {
    let repo = TestRepo::new();
    let log = repo.bin().join("record.log");
    repo.tool("record", &recorder(&log));
    repo.config(&gate_toml(
        "range",
        "files = [\"*.py\"]\nrun = [\"record\", \"{base}..{head}\"]",
    ))
    .write("a.py", "1\n")
    .commit_all("init");
    let base = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("a.py", "2\n").commit_all("change");
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    let run = repo.gate(&["check", "--base", "main"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(recorded(&log), vec![vec![format!("{base}..{head}")]]);
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let repo = TestRepo::new();
    repo.tool("ok", "exit 0");
    repo.config(&gate_toml("g", "run = [\"ok\"]\nalways = true"))
        .commit_all("init");
    let run = repo.gate(&["check", "--color", "always"]);
    assert!(run.stdout.contains("\u{1b}[32mpassed"), "{run:?}");
    // The harness sets NO_COLOR; a pipe is no terminal either: plain text.
    let run = repo.gate(&["check"]);
    assert!(!run.stdout.contains('\u{1b}'), "{run:?}");
    let run = repo.gate(&["check", "--color", "never"]);
    assert!(!run.stdout.contains('\u{1b}'), "{run:?}");
}

#[test]
fn project_tools_are_found_where_projects_keep_them() {
    let repo = TestRepo::new();
    let bin = repo.root().join("services/web/node_modules/.bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        bin.join("webtool"),
        "#!/bin/sh\n[ \"$1\" = --version ] && echo 'webtool 9.1.0' && exit 0\ntouch ran\n",
    )
    .unwrap();
    std::fs::set_permissions(bin.join("webtool"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    repo.write(".gitignore", "node_modules/\n")
        .config("[gates.web]\nkind = \"lint\"\nworkdir = \"services/web\"\nrun = [\"webtool\"]\nalways = true\n")
        .write("services/web/index.js", "x\n")
        .commit_all("init");
    let run = repo.gate(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(repo.root().join("services/web/ran").exists());
    let doctor = repo.gate(&["doctor"]);
    assert!(
        doctor.stdout.contains("`webtool` (gate `web`) is ")
            && doctor.stdout.contains("node_modules/.bin/webtool (webtool 9.1.0)"),
        "{doctor:?}"
    );
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line_definition() {
    let repo = TestRepo::new();
    for (shell, marker) in [
        ("bash", "_gate()"),
        ("zsh", "#compdef gate"),
        ("fish", "complete -c gate"),
    ] {
        let run = repo.gate(&["completions", shell]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains(marker),
            "{shell}: {}",
            &run.stdout[..run.stdout.len().min(200)]
        );
        assert!(run.stdout.contains("required-checks"), "{shell} knows every subcommand");
    }
    let man = repo.gate(&["man"]);
    assert_eq!(man.code, 0, "{man:?}");
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH gate 1"),
        "{}",
        &man.stdout[..200]
    );
    assert!(man.stdout.contains("Decides whether a change may go in"));
    let bad = repo.gate(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn a_tool_that_asks_the_terminal_for_input_is_an_error_not_a_hang() {
    let repo = TestRepo::new();
    // Both the command itself and a process it starts: a tool's prompt (ssh, a password)
    // reads the terminal directly, and a gate's process cannot answer it.
    repo.tool("asks", "echo 'Password:'; read answer < /dev/tty; echo \"got $answer\"");
    repo.tool("runs-asks", "asks; echo done");
    repo.config(&format!(
        "{}{}",
        gate_toml("direct", "run = [\"asks\"]\nalways = true"),
        gate_toml("nested", "run = [\"runs-asks\"]\nalways = true")
    ))
    .commit_all("init");
    let command = format!("{} check", crate::common::GATE);
    let start = Instant::now();
    let output = repo
        .command("timeout", &["60", "script", "-qec", &command, "/dev/null"])
        .output()
        .expect("`script` (util-linux) is needed for this test");
    assert!(start.elapsed() < Duration::from_secs(30), "took {:?}", start.elapsed());
    let text = strip(&String::from_utf8_lossy(&output.stdout).replace('\r', ""));
    for gate in ["direct", "nested"] {
        let start = text.find(&format!("{gate} .")).unwrap_or_else(|| panic!("{text}"));
        let line = text[start..].lines().next().unwrap();
        assert!(
            line.contains("error") && line.contains("stopped to wait for input from the terminal"),
            "{line} in {text}"
        );
    }
    assert!(text.contains("2 gates: 2 errors"), "{text}");
}

#[test]
fn on_a_terminal_finished_gates_are_real_lines() {
    let repo = TestRepo::new();
    repo.config(&format!(
        "{}{}",
        gate_toml("slow", "run = [\"sleep\", \"0.3\"]\nalways = true"),
        gate_toml("quick", "run = [\"true\"]\nalways = true")
    ))
    .commit_all("init");
    // `script` gives gate a real pseudo-terminal, so the live view is on.
    let command = format!("{} check", crate::common::GATE);
    let output = repo
        .command("script", &["-qec", &command, "/dev/null"])
        .output()
        .expect("`script` (util-linux) is needed for this test");
    let text = strip(&String::from_utf8_lossy(&output.stdout).replace('\r', ""));
    for gate in ["slow", "quick"] {
        // The gate's line ends with a newline of its own, not padding to the terminal's width.
        let start = text
            .find(&format!("{gate} ."))
            .unwrap_or_else(|| panic!("no line for `{gate}`: {text:?}"));
        let line = text[start..].split('\n').next().unwrap();
        assert!(
            line.contains("passed") && !line.contains("          ") && !line.contains("gates:"),
            "{line:?} in {text:?}"
        );
        assert!(text[start..].contains('\n'), "{text:?}");
    }
    assert!(text.contains("2 gates: 2 passed"), "{text:?}");
}

#[test]
fn ctrl_c_on_a_terminal_leaves_no_half_line() {
    let repo = TestRepo::new();
    repo.config(&format!(
        "{}{}",
        gate_toml("slow", "run = [\"sleep\", \"30\"]\nalways = true"),
        gate_toml("quick", "run = [\"true\"]\nalways = true")
    ))
    .commit_all("init");
    // `exec`: gate is the child of `script`, so the signal goes to this test's gate only.
    let command = format!("exec {} check", crate::common::GATE);
    let script = repo
        .command("script", &["-qfec", &command, "/dev/null"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) is needed for this test");
    let gate = (0..100)
        .find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            let children =
                std::fs::read_to_string(format!("/proc/{}/task/{}/children", script.id(), script.id())).ok()?;
            children.split_whitespace().next()?.parse::<i32>().ok()
        })
        .expect("gate started under script");
    std::thread::sleep(std::time::Duration::from_millis(700));
    // SAFETY: kill(2) on the pid of a process this test started.
    unsafe { libc::kill(gate, libc::SIGINT) };
    let output = script.wait_with_output().unwrap();
    let raw = String::from_utf8_lossy(&output.stdout).into_owned();
    let spinner = raw.rfind(" slow ").expect("the spinner was drawn");
    let after = &raw[spinner..];
    // The last spinner frame is cleared before anything else is written…
    assert!(after.contains("\r\u{1b}[2Kslow ."), "{raw:?}");
    // …and the run ends on a whole line.
    assert!(raw.ends_with("\r\n"), "{raw:?}");
    assert!(strip(after).contains("error: interrupted"), "{raw:?}");
}

/// Text without terminal escape sequences.
fn strip(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn tools_keep_their_colours_on_a_colour_terminal_and_reports_get_none() {
    let repo = TestRepo::new();
    repo.tool(
        "colourful",
        "printf 'force=[%s] \\033[31mred\\033[0m\\n' \"$FORCE_COLOR\"; exit 1",
    );
    repo.config(&format!(
        "{}{}",
        gate_toml("a", "run = [\"colourful\"]\nalways = true"),
        gate_toml("b", "run = [\"colourful\"]\nalways = true\ncolor = false")
    ))
    .commit_all("init");
    let run = repo.gate(&["check", "--color", "always", "--report", "json=r.json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&repo.read("r.json")).unwrap();
    assert_eq!(
        report["gates"][0]["output"], "force=[1] red\n",
        "colour stripped in the report"
    );
    assert_eq!(report["gates"][1]["output"], "force=[] red\n", "color = false");
    assert!(
        run.stdout.contains("\u{1b}[31mred"),
        "the console keeps the tool's colour: {run:?}"
    );
    let plain = repo.gate(&["check", "--color", "never", "--report", "json=r.json"]);
    let report: serde_json::Value = serde_json::from_str(&repo.read("r.json")).unwrap();
    assert_eq!(report["gates"][0]["output"], "force=[] red\n", "{plain:?}");
}
