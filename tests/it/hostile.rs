//! Hostile working trees: links, type changes and odd entries never make gate write
//! outside the repository or lose a byte.

use std::os::unix::fs::{PermissionsExt, symlink};

use crate::common::TestRepo;

fn sha(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_staged_file_that_is_now_a_symlink_is_never_written_through() {
    let repo = TestRepo::new();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("precious.txt");
    std::fs::write(&target, "precious, outside the repository\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    repo.tool("ok", "exit 0")
        .config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"ok\", \"{files}\"]\n")
        .write("a.txt", "committed\n")
        .commit_all("init");
    repo.install("pre-commit");
    repo.write("a.txt", "staged\n");
    repo.git(&["add", "a.txt"]);
    std::fs::remove_file(repo.root().join("a.txt")).unwrap();
    symlink(&target, repo.root().join("a.txt")).unwrap();
    let before = sha(&target);
    let commit = repo.git_run(&["commit", "-m", "staged"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(sha(&target), before, "the link's target is untouched");
    assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
    let link = std::fs::symlink_metadata(repo.root().join("a.txt")).unwrap();
    assert!(link.file_type().is_symlink(), "the user's link is back");
    assert_eq!(std::fs::read_link(repo.root().join("a.txt")).unwrap(), target);
    assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "staged\n");
}

/// A tracked file under a directory that is now a link is, as git sees it, not in the
/// working tree, whatever the link's target holds (even the committed bytes): gate never
/// writes through the link, never takes the file beyond it for the tracked one, and says the
/// file is not checked.
#[test]
fn a_parent_directory_that_is_now_a_symlink_is_never_written_through_nor_read() {
    for beyond in ["outside\n", "committed\n"] {
        let repo = TestRepo::new();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("b.txt"), beyond).unwrap();
        repo.tool("ok", "exit 0")
            .config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"ok\", \"{files}\"]\n")
            .write("a/b.txt", "committed\n")
            .write("c.txt", "c\n")
            .commit_all("init");
        repo.install("pre-commit");
        repo.stage("c.txt", "staged c\n");
        std::fs::remove_dir_all(repo.root().join("a")).unwrap();
        symlink(outside.path(), repo.root().join("a")).unwrap();
        let commit = repo.git_run(&["commit", "-m", "c"], None);
        assert_eq!(commit.code, 0, "{beyond:?}: {commit:?}");
        assert!(
            commit
                .stderr
                .contains("`a/b.txt` is not checked: `a` is now a symbolic link"),
            "{beyond:?}: {commit:?}"
        );
        assert_eq!(std::fs::read_to_string(outside.path().join("b.txt")).unwrap(), beyond);
        assert!(
            std::fs::symlink_metadata(repo.root().join("a"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

/// By hand (`gate check --all`, nothing set aside) the same holds: a tracked file beyond a
/// directory that is now a link is not handed to a tool (it would read outside the
/// repository); the link is named with how many files it hides.
#[test]
fn check_all_hands_no_tool_a_file_beyond_a_linked_directory() {
    let repo = TestRepo::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("b.txt"), "committed\n").unwrap();
    std::fs::write(outside.path().join("d.txt"), "d\n").unwrap();
    let log = repo.root().join(".git/handed.log");
    // It also writes beyond the link, which is outside the repository: not gate's to read.
    repo.tool(
        "record",
        &format!(
            "printf '%s\\n' \"$@\" >> '{}'; printf 'written\\n' > a/b.txt",
            log.display()
        ),
    )
    .config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"record\", \"{files}\"]\n")
    .write("a/b.txt", "committed\n")
    .write("a/d.txt", "d\n")
    .write("c.txt", "c\n")
    .commit_all("init");
    std::fs::remove_dir_all(repo.root().join("a")).unwrap();
    symlink(outside.path(), repo.root().join("a")).unwrap();
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "`a` is now a symbolic link, and gate never reads through one: 2 tracked files in it are not checked"
        ),
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "c.txt\n", "{run:?}");
    assert!(
        !run.stdout.contains("written") && !run.stdout.contains("modified files"),
        "{run:?}"
    );
}

/// A tracked symbolic link is where it points, not content: no tool is handed it (it would
/// read outside the repository, and the same commit could pass on one machine and fail on
/// another), in every kind of run; a gate that matched only links says so.
#[test]
fn tools_are_never_handed_a_tracked_symbolic_link() {
    let repo = TestRepo::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "not the repository's\n").unwrap();
    let log = repo.root().join(".git/handed.log");
    repo.tool("record", &format!("printf '%s\\n' \"$@\" >> '{}'", log.display()))
        .config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"record\", \"{files}\"]\n")
        .write("a.txt", "a\n")
        .commit_all("init");
    repo.install("pre-commit");
    let handed = || std::fs::read_to_string(&log).unwrap_or_default();
    symlink(outside.path().join("secret.txt"), repo.root().join("leak.txt")).unwrap();
    symlink("a.txt", repo.root().join("alias.txt")).unwrap();
    repo.git(&["add", "leak.txt", "alias.txt"]);
    let commit = repo.git_run(&["commit", "-m", "links"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert!(
        commit.stderr.contains("skipped  lint: only symbolic links matched"),
        "{commit:?}"
    );
    assert_eq!(handed(), "", "{commit:?}");
    for args in [
        &["check", "--all"][..],
        &["check", "--files", "leak.txt", "a.txt"],
        &["check", "--base", "HEAD~1"],
    ] {
        let _ = std::fs::remove_file(&log);
        let run = repo.gate(args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        let expected = if args[1] == "--base" { "" } else { "a.txt\n" };
        assert_eq!(handed(), expected, "{args:?}: {run:?}");
    }
}

/// A gate's `workdir` through a symbolic link out of the repository is an error, and the
/// tool never starts there; through a link to another directory of the repository it runs.
#[test]
fn a_workdir_through_a_link_out_of_the_repository_is_an_error() {
    let repo = TestRepo::new();
    let outside = tempfile::tempdir().unwrap();
    let log = repo.root().join(".git/ran.log");
    repo.tool("where", &format!("pwd >> '{}'", log.display()))
        .config(
            "[gates.out]\nkind = \"lint\"\nworkdir = \"away/sub\"\nalways = true\nrun = [\"where\"]\n\
             [gates.in]\nkind = \"lint\"\nworkdir = \"alias\"\nalways = true\nrun = [\"where\"]\n",
        )
        .write("real/a.txt", "a\n")
        .commit_all("init");
    std::fs::create_dir(outside.path().join("sub")).unwrap();
    symlink(outside.path(), repo.root().join("away")).unwrap();
    symlink("real", repo.root().join("alias")).unwrap();
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout
            .contains("`workdir` of gate `out` lies through `away`, a symbolic link out of the repository"),
        "{run:?}"
    );
    let ran = std::fs::read_to_string(&log).unwrap();
    assert_eq!(ran.lines().count(), 1, "{ran}");
    assert!(ran.trim_end().ends_with("/real"), "{ran}");
}

#[test]
fn backups_are_readable_by_the_user_alone() {
    let repo = TestRepo::new();
    // Shows the modes of what gate saved, while it holds the backup.
    repo.tool(
        "show",
        "find .git/gate/backups -mindepth 1 -printf '%m %P\\n' | sort; exit 1",
    )
    .config("[gates.show]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"show\"]\n")
    .write("secret.txt", "v1\n")
    .commit_all("init");
    std::fs::set_permissions(repo.root().join("secret.txt"), std::fs::Permissions::from_mode(0o600)).unwrap();
    repo.write("secret.txt", "v2 staged\n");
    repo.git(&["add", "secret.txt"]);
    repo.write("secret.txt", "v3 unstaged, private\n");
    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.code, 1, "{run:?}");
    let listing: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|m| m.len() == 3 && m.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    assert!(!listing.is_empty(), "{run:?}");
    // Folders 0700 and what gate wrote 0600; the user's own file, moved in, keeps its mode
    // (0600 here), and the index is the index itself, linked: both only inside 0700.
    assert!(
        listing.iter().any(|l| l.starts_with("600 ") && l.contains("/files/")),
        "{listing:?}"
    );
    assert!(
        listing.iter().any(|l| l.ends_with("/files") && l.starts_with("700 ")),
        "{listing:?}"
    );
    for line in listing.iter().filter(|l| !l.ends_with("/index")) {
        let mode = line.split_whitespace().next().unwrap();
        assert!(mode == "700" || mode == "600", "{line} in {listing:?}");
    }
    assert_eq!(repo.read("secret.txt"), "v3 unstaged, private\n");
    assert_eq!(
        std::fs::metadata(repo.root().join("secret.txt"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn requirement_includes_never_read_outside_the_repository() {
    let repo = TestRepo::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("leak.txt"), "SECRETNAME==1.0.0\n").unwrap();
    let db = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv");
    repo.config(&format!("[gates.deps]\nkind = \"audit\"\ndb = \"{}\"\n", db.display()))
        .commit_all("init");
    let leak = outside.path().join("leak.txt");
    symlink(&leak, repo.root().join("linked.txt")).unwrap();
    for include in [leak.to_str().unwrap(), "/etc/passwd", "linked.txt"] {
        repo.write("requirements.txt", format!("-r {include}\nrequests==2.31.0\n"));
        repo.git(&["add", "-A"]);
        let run = repo.gate(&["check", "--all", "--report", "json=r.json"]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stdout
                .contains(&format!("the include `{include}` is outside the repository")),
            "{run:?}"
        );
        let everything = format!("{}{}{}", run.stdout, run.stderr, repo.read("r.json"));
        assert!(
            !everything.contains("SECRETNAME") && !everything.contains("root:"),
            "{everything}"
        );
    }
}

#[test]
fn a_report_or_baseline_the_configuration_names_is_never_read_outside_the_repository() {
    let repo = TestRepo::new();
    let outside = tempfile::tempdir().unwrap();
    // A baseline that would let every finding through, and an LCOV report, both outside.
    std::fs::write(outside.path().join("baseline.json"), "{\"version\":1,\"findings\":[]}").unwrap();
    std::fs::write(outside.path().join("lcov.info"), "SF:a.py\nDA:1,1\nend_of_record\n").unwrap();
    repo.write("a.py", "x = 1\n").commit_all("init");
    let far = outside.path().display().to_string();
    let cases = [
        (
            "[gates.s]\nkind = \"secrets\"\nbaseline = \"../b.json\"\n",
            "error: gates.toml:3:12: `baseline`",
        ),
        (
            &format!("[gates.s]\nkind = \"secrets\"\nbaseline = \"{far}/baseline.json\"\n"),
            "error: gates.toml:3:12: `baseline`",
        ),
        (
            &format!("[gates.c]\nkind = \"coverage\"\nreport = [\"ok.info\", \"{far}/lcov.info\"]\nalways = true\n"),
            "error: gates.toml:3:10: `report`",
        ),
        (
            "[gates.c]\nkind = \"coverage\"\nreport = \"build/../../lcov.info\"\nalways = true\n",
            "error: gates.toml:3:10: `report`",
        ),
    ];
    for (config, said) in cases {
        repo.config(config);
        let run = repo.gate(&["check", "--all"]);
        assert_eq!(run.code, 2, "{config}: {run:?}");
        assert!(run.stderr.contains(said), "{config}: {run:?}");
        assert!(run.stderr.contains("must be a path inside the repository"), "{run:?}");
    }
    // A link in the repository to them: not followed out.
    symlink(outside.path().join("lcov.info"), repo.root().join("lcov.info")).unwrap();
    symlink(outside.path().join("baseline.json"), repo.root().join("baseline.json")).unwrap();
    repo.config("[gates.c]\nkind = \"coverage\"\nreport = \"lcov.info\"\nalways = true\n[gates.s]\nkind = \"secrets\"\nbaseline = \"baseline.json\"\nalways = true\n");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.line("c")
            .contains("the coverage report `lcov.info` is a link out of the repository"),
        "{run:?}"
    );
    assert!(
        run.line("s")
            .contains("the baseline `baseline.json` is a link out of the repository"),
        "{run:?}"
    );
}

#[test]
fn a_read_only_run_waits_for_a_live_pre_commit_run() {
    let repo = TestRepo::new();
    repo.tool("slow", "sleep 1")
        .config("[gates.slow]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"slow\"]\n")
        .write("a.txt", "a\n")
        .commit_all("init");
    repo.write("a.txt", "staged\n");
    repo.git(&["add", "a.txt"]);
    repo.write("a.txt", "staged\nunstaged\n");
    let mut first = repo.gate_command(&["check", "--staged"]).spawn().unwrap();
    // Until the first run holds its lock and has set the edit aside.
    let started = std::time::Instant::now();
    while repo.read("a.txt") != "staged\n" && started.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = repo.gate(&["check", "--all"]);
    assert!(first.wait().unwrap().success());
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second.stderr.contains("waiting for another gate run (pid"),
        "{second:?}"
    );
    assert!(!second.stderr.contains("backup"), "{second:?}");
    assert_eq!(repo.read("a.txt"), "staged\nunstaged\n");
}

#[test]
fn sigterm_and_sighup_stop_a_pre_commit_run_within_a_second_and_restore() {
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGHUP, 129), (libc::SIGINT, 130)] {
        let repo = TestRepo::new();
        let pids = repo.root().join(".git/pids");
        // A tool that ignores SIGTERM, as some do.
        repo.tool(
            "stubborn",
            &format!(
                "trap '' TERM; echo $$ >> '{}'; while :; do sleep 0.05; done",
                pids.display()
            ),
        )
        .config("[gates.s]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"stubborn\"]\n")
        .write("a.txt", "a\n")
        .commit_all("init");
        repo.write("a.txt", "staged\n");
        repo.git(&["add", "a.txt"]);
        repo.write("a.txt", "staged\nunstaged\n");
        let mut child = repo.gate_command(&["check", "--staged"]).spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !pids.exists() {
            assert!(std::time::Instant::now() < deadline, "the gate did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let sent = std::time::Instant::now();
        // SAFETY: signalling a child we started.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert!(
            sent.elapsed() < std::time::Duration::from_millis(1500),
            "{signal}: {:?}",
            sent.elapsed()
        );
        assert_eq!(status.code(), Some(code), "signal {signal}");
        assert_eq!(repo.read("a.txt"), "staged\nunstaged\n", "signal {signal}");
        let pid = std::fs::read_to_string(&pids).unwrap();
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(pid.trim().parse::<i32>().unwrap(), 0) } == 0;
        assert!(!alive, "signal {signal}: the tool still runs");
    }
}

#[test]
fn crlf_repositories_compare_as_git_does() {
    for setup in ["autocrlf", "attributes"] {
        let repo = TestRepo::new();
        if setup == "autocrlf" {
            repo.git(&["config", "core.autocrlf", "true"]);
        } else {
            repo.write(".gitattributes", "*.txt text eol=crlf\n");
        }
        repo.tool("ok", "exit 0").tool("upper", crate::common::UPPERCASE);
        repo.config("[gates.up]\nkind = \"format\"\nfiles = [\"*.txt\"]\nrun = [\"ok\"]\nfix = [\"upper\", \"{files}\"]\non_fix = \"stage\"\n")
            .write("a.txt", "one\r\n")
            .commit_all("init");
        repo.install("pre-commit");
        repo.write("a.txt", "one\r\ntwo\r\n");
        repo.git(&["add", "a.txt"]);
        // Fully staged: git itself sees no unstaged change.
        assert_eq!(repo.git(&["status", "--porcelain"]), "M  a.txt\n", "{setup}");
        let commit = repo.git_run(&["commit", "-m", "two"], None);
        assert_eq!(commit.code, 0, "{setup}: the fix is staged, not refused: {commit:?}");
        assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "ONE\nTWO\n", "{setup}");
        assert_eq!(repo.git(&["status", "--porcelain"]), "", "{setup}");
    }
}

/// A gate that records each path it is handed and what is there.
fn recording(repo: &TestRepo) -> std::path::PathBuf {
    let seen = repo.bin().join("seen");
    repo.tool(
        "look",
        &format!(
            "for f in \"$@\"; do if [ -d \"$f\" ]; then echo \"$f:dir\"; elif [ -f \"$f\" ]; then printf '%s:' \"$f\"; cat \"$f\"; else echo \"$f:missing\"; fi; done >> '{}'",
            seen.display()
        ),
    );
    seen
}

#[test]
fn type_changes_in_the_working_tree_are_set_aside_or_named() {
    // A staged file whose path is now a directory; a staged a/b.txt where `a` is now a file.
    let repo = TestRepo::new();
    let seen = recording(&repo);
    repo.config("[gates.look]\nkind = \"lint\"\nfiles = [\"*.txt\", \"**/*.txt\"]\nrun = [\"look\", \"{files}\"]\n")
        .write("d.txt", "d\n")
        .write("a/b.txt", "b\n")
        .commit_all("init");
    repo.write("d.txt", "d staged\n");
    repo.write("a/b.txt", "b staged\n");
    repo.git(&["add", "-A"]);
    std::fs::remove_file(repo.root().join("d.txt")).unwrap();
    repo.write("d.txt/inner", "user's new directory\n");
    std::fs::remove_dir_all(repo.root().join("a")).unwrap();
    repo.write("a", "user's new file\n");
    let run = repo.gate(&["check", "--staged"]);
    assert_ne!(run.code, 2, "no internal error: {run:?}");
    let seen = std::fs::read_to_string(&seen).unwrap_or_default();
    assert!(!seen.contains(":dir"), "a tool is never handed a directory: {seen}");
    assert_eq!(repo.read("d.txt/inner"), "user's new directory\n");
    assert_eq!(repo.read("a"), "user's new file\n");
    let said = format!("{}{}", run.stdout, run.stderr);
    for path in ["d.txt", "a/b.txt"] {
        assert!(
            seen.contains(&format!("{path}:")) || said.contains(&format!("`{path}`")),
            "{path} is checked or named: {seen} {said}"
        );
    }
}

#[test]
fn sparse_checkout_entries_are_not_handed_to_tools_and_leave_nothing_behind() {
    let repo = TestRepo::new();
    let seen = recording(&repo);
    repo.config("[gates.look]\nkind = \"lint\"\nfiles = [\"**/*.txt\"]\nrun = [\"look\", \"{files}\"]\n")
        .write("in/a.txt", "a\n")
        .write("out/b.txt", "b\n")
        .commit_all("init");
    repo.git(&["sparse-checkout", "set", "--no-cone", "/in/", "/gates.toml"]);
    assert!(!repo.root().join("out").exists());
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    let seen = std::fs::read_to_string(&seen).unwrap();
    assert!(!seen.contains("out/b.txt"), "{seen}");
    repo.write("in/a.txt", "a2\n");
    repo.git(&["add", "in/a.txt"]);
    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!repo.root().join("out").exists(), "no directory left behind");
}

#[test]
fn a_bare_git_dir_with_a_separate_work_tree_works() {
    // The dotfiles pattern: `git --git-dir=~/.dotfiles --work-tree=~`.
    let repo = TestRepo::new();
    repo.tool("nobad", "! grep -l bad \"$@\"");
    let home = repo.root().join("home");
    let git_dir = repo.root().join("dotfiles.git");
    std::fs::create_dir_all(&home).unwrap();
    repo.git(&["init", "-q", "--bare", git_dir.to_str().unwrap()]);
    let dot = |args: &[&str]| {
        let mut all = vec![
            format!("--git-dir={}", git_dir.display()),
            format!("--work-tree={}", home.display()),
        ];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        repo.git_run(&all, None)
    };
    std::fs::write(
        home.join("gates.toml"),
        "[gates.t]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"nobad\", \"{files}\"]\n",
    )
    .unwrap();
    std::fs::write(home.join("a.txt"), "good\n").unwrap();
    for (key, value) in [("user.name", "Gate Test"), ("user.email", "gate@example.invalid")] {
        assert_eq!(dot(&["config", key, value]).code, 0);
    }
    let (config, a) = (home.join("gates.toml"), home.join("a.txt"));
    let (config, a) = (config.to_str().unwrap(), a.to_str().unwrap());
    let added = dot(&["add", config, a]);
    assert_eq!(added.code, 0, "{added:?}");
    let install = repo.gate_env(
        &["install", "--hook", "pre-commit"],
        &[
            ("GIT_DIR", git_dir.to_str().unwrap()),
            ("GIT_WORK_TREE", home.to_str().unwrap()),
        ],
    );
    assert_eq!(install.code, 0, "{install:?}");
    let first = dot(&["commit", "-q", "-m", "init"]);
    assert_eq!(first.code, 0, "{first:?}");
    std::fs::write(home.join("a.txt"), "bad\n").unwrap();
    assert_eq!(dot(&["add", a]).code, 0);
    std::fs::write(home.join("a.txt"), "bad\nunstaged\n").unwrap();
    let commit = dot(&["commit", "-m", "bad"]);
    assert_ne!(commit.code, 0, "the gate ran and failed: {commit:?}");
    // Failed on the staged content, not an error about the repository's shape.
    assert!(
        commit.stderr.contains("t ") && commit.stderr.contains(" failed "),
        "{commit:?}"
    );
    assert!(!commit.stderr.contains("bare repository"), "{commit:?}");
    assert_eq!(std::fs::read_to_string(home.join("a.txt")).unwrap(), "bad\nunstaged\n");
    // The staged content stays staged; nothing was committed.
    assert!(dot(&["rev-parse", "HEAD~1"]).code != 0, "still one commit");
}

#[test]
fn a_signal_at_any_point_of_a_run_leaves_every_byte() {
    let repo = TestRepo::new();
    repo.tool("quick", "sleep 0.05")
        .config("[gates.q]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"quick\", \"{files}\"]\n");
    for i in 0..300 {
        repo.write(format!("f{i:03}.txt"), format!("{i}\n"));
    }
    repo.commit_all("init");
    for i in 0..300 {
        repo.write(format!("f{i:03}.txt"), format!("{i}\nstaged\n"));
    }
    repo.git(&["add", "-A"]);
    for i in 0..300 {
        repo.write(format!("f{i:03}.txt"), format!("{i}\nstaged\nunstaged\n"));
    }
    // From before the set-aside starts to after the restore ends.
    for delay_ms in [0, 5, 15, 30, 50, 80, 120, 200] {
        let mut child = repo.gate_command(&["check", "--staged"]).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        // SAFETY: signalling a child we started.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = child.wait().unwrap();
        // Before gate installs its handler (it has touched nothing yet) the signal ends it.
        let ended = std::os::unix::process::ExitStatusExt::signal(&status) == Some(libc::SIGTERM);
        assert!(
            ended || matches!(status.code(), Some(0 | 143)),
            "after {delay_ms} ms: {status:?}"
        );
        for i in [0, 150, 299] {
            assert_eq!(
                repo.read(format!("f{i:03}.txt")),
                format!("{i}\nstaged\nunstaged\n"),
                "after {delay_ms} ms"
            );
        }
        let left = std::fs::read_dir(repo.root().join(".git/gate/backups")).map_or(0, Iterator::count);
        assert_eq!(left, 0, "after {delay_ms} ms: a backup was left");
    }
    let all_back = (0..300).all(|i| repo.read(format!("f{i:03}.txt")) == format!("{i}\nstaged\nunstaged\n"));
    assert!(all_back);
}

#[test]
fn absurd_jobs_are_capped_with_a_note() {
    let repo = TestRepo::new();
    repo.tool("ok", "exit 0")
        .config("[gates.a]\nkind = \"lint\"\nrun = [\"ok\"]\nalways = true\n")
        .commit_all("init");
    for jobs in ["6000", "9223372036854775807"] {
        let started = std::time::Instant::now();
        let run = repo.gate(&["check", "--jobs", jobs]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stderr.contains(&format!("{jobs} jobs asked for; running at most")),
            "{run:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{jobs}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn hostile_lockfiles_and_cover_profiles_end_quickly_without_a_panic() {
    let repo = TestRepo::new();
    let db = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv");
    repo.write("yarn.lock", "\"\n  version \"1.0.0\"\né\n  version \"2\"\n")
        .write("c.go", "package c\n\nfunc F() {}\n")
        .write("go.mod", "module example.com/c\n\ngo 1.22\n")
        .write("cover.out", "mode: set\nexample.com/c/c.go:1.1,50000000.1 2 1\n")
        .commit_all("init");
    let run = repo.gate(&["audit", "--db", db.to_str().unwrap()]);
    assert!(matches!(run.code, 0..=2), "no panic (101): {run:?}");
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    let started = std::time::Instant::now();
    let run = repo.gate(&["coverage", "cover.out"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("total 100.00%"),
        "three lines, not fifty million: {run:?}"
    );
}
