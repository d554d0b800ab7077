//! The result cache through the real binary and real hooks: a pass is reused on exactly
//! the same inputs (and only a pass), anything that changes an input runs the gate again,
//! and a broken cache is a miss, never an error.

use std::fs;

use crate::common::{TestRepo, clear_recorded, recorded, recorder, walk};

/// A repository with a `lint` gate over `*.py` whose tool records each run.
fn repo(extra: &str) -> (TestRepo, std::path::PathBuf) {
    let repo = TestRepo::new();
    let log = repo.bin().join("lint.log");
    repo.tool("lint", &format!("{}\nsleep 0.2", recorder(&log)));
    repo.config(&format!(
        "[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"lint\", \"{{files}}\"]\n{extra}"
    ))
    .write("a.py", "one\n")
    .commit_all("init");
    (repo, log)
}

fn runs(log: &std::path::Path) -> usize {
    recorded(log).len()
}

#[test]
fn a_pass_in_the_pre_commit_hook_is_reused_by_hand_and_in_pre_push() {
    let (repo, log) = repo("");
    let remote = tempfile::tempdir().unwrap();
    repo.git(&["init", "-q", "--bare", remote.path().to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.install("pre-commit").install("pre-push");
    clear_recorded(&log);

    repo.write("a.py", "two\n").commit_all_with_hooks("change");
    assert_eq!(runs(&log), 1, "the hook ran the lint");
    let run = repo.gate(&["check", "--base", "HEAD~1", "--report", "json=report.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.line("lint").contains("cached"), "{run:?}");
    assert_eq!(runs(&log), 1, "by hand, the same content is not checked again");
    let report: serde_json::Value = serde_json::from_str(&repo.read("report.json")).unwrap();
    assert_eq!(report["gates"][0]["cached"], true);
    assert!(
        report["gates"][0]["duration_ms"].as_u64().unwrap() >= 200,
        "the run that passed: {report}"
    );
    let push = repo.git_run(&["push", "-q", "origin", "main"], None);
    assert_eq!(push.code, 0, "{push:?}");
    assert_eq!(runs(&log), 1, "nor in pre-push: {push:?}");
}

#[test]
fn a_changed_file_a_failure_and_no_cache_all_run() {
    let (repo, log) = repo("");
    let check = || repo.gate(&["check", "--all"]);
    check();
    check();
    assert_eq!(runs(&log), 1);
    repo.write("a.py", "changed\n");
    check();
    assert_eq!(runs(&log), 2, "new content, new run");
    repo.gate(&["check", "--all", "--no-cache"]);
    assert_eq!(runs(&log), 3, "--no-cache runs");

    // A failure is never reused.
    repo.tool("lint", &format!("{}\nexit 1", recorder(&log)));
    clear_recorded(&log);
    assert_eq!(check().code, 1);
    assert_eq!(check().code, 1);
    assert_eq!(runs(&log), 2);
}

#[test]
fn the_program_env_inputs_and_extra_inputs_are_part_of_the_key() {
    let (repo, log) = repo("env_inputs = [\"LINT_LEVEL\"]\ninputs = [\"lint.cfg\"]\n");
    repo.write("lint.cfg", "strict\n");
    let check = |level: &str| repo.gate_env(&["check", "--all"], &[("LINT_LEVEL", level)]);
    check("1");
    check("1");
    assert_eq!(runs(&log), 1);
    check("2");
    assert_eq!(runs(&log), 2, "env_inputs");
    repo.write("lint.cfg", "lenient\n").add_all();
    check("2");
    assert_eq!(runs(&log), 3, "inputs");
    // A new version of the tool (another size) is another program.
    repo.tool("lint", &format!("{}\nsleep 0.2\ntrue", recorder(&log)));
    check("2");
    assert_eq!(runs(&log), 4, "the program");
    check("2");
    assert_eq!(runs(&log), 4);
}

#[test]
fn cache_false_turns_it_off_for_one_gate() {
    let (repo, log) = repo("cache = false\n");
    repo.gate(&["check", "--all"]);
    repo.gate(&["check", "--all"]);
    assert_eq!(runs(&log), 2);
}

#[test]
fn a_corrupt_cache_is_a_miss_and_clean_empties_it() {
    let (repo, log) = repo("");
    repo.gate(&["check", "--all"]);
    let cache = repo.root().join(".git/gate/cache");
    let mut broken = 0;
    for shard in fs::read_dir(&cache).unwrap().flatten().filter(|e| e.path().is_dir()) {
        for entry in fs::read_dir(shard.path()).unwrap().flatten() {
            fs::write(entry.path(), "{\"version\": 1, \"gate\"").unwrap();
            broken += 1;
        }
    }
    assert_eq!(broken, 1);
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(runs(&log), 2, "the broken entry was a miss");
    let stats = repo.gate(&["cache", "stats"]);
    assert!(stats.stdout.contains("entries  1"), "{stats:?}");
    assert!(stats.stdout.contains("hits     0 of 2 lookups"), "{stats:?}");
    let clean = repo.gate(&["cache", "clean"]);
    assert!(clean.stdout.contains("removed 1 cached result"), "{clean:?}");
    repo.gate(&["check", "--all"]);
    assert_eq!(runs(&log), 3);
}

#[test]
fn worktrees_share_the_cache() {
    let (repo, log) = repo("");
    repo.gate(&["check", "--all"]);
    let other = tempfile::tempdir().unwrap();
    let path = other.path().join("wt");
    repo.git(&["worktree", "add", "-q", path.to_str().unwrap()]);
    let run = crate::common::Run::from_output(
        &repo
            .gate_command(&["check", "--all"])
            .current_dir(&path)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.line("lint").contains("cached"), "{run:?}");
    assert_eq!(runs(&log), 1);
}

#[test]
fn built_in_checks_are_cached_too() {
    let repo = TestRepo::new();
    repo.config("[gates.ws]\npreset = \"trailing-whitespace\"\n")
        .write("a.txt", "clean\n")
        .commit_all("init");
    let first = repo.gate(&["check", "--all"]);
    assert!(!first.line("ws").contains("cached"), "{first:?}");
    let second = repo.gate(&["check", "--all"]);
    assert!(second.line("ws").contains("cached"), "{second:?}");
    repo.write("a.txt", "dirty \n");
    let third = repo.gate(&["check", "--all"]);
    assert_eq!(third.code, 1, "{third:?}");
}

#[test]
fn a_changed_argv_runs_and_a_fixed_result_is_never_served() {
    let (repo, log) = repo("");
    repo.gate(&["check", "--all"]);
    repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"lint\", \"--strict\", \"{files}\"]\n");
    repo.gate(&["check", "--all"]);
    assert_eq!(runs(&log), 2, "another argv is another check");

    // A fixer that rewrote the file: `fixed`, never stored; the check on the new content
    // runs (and passes, and is stored).
    let fix_log = repo.bin().join("fix.log");
    repo.tool(
        "upper",
        &format!(
            "{}\nfor f in \"$@\"; do tr a-z A-Z < \"$f\" > \"$f.t\" && mv \"$f.t\" \"$f\"; done",
            recorder(&fix_log)
        ),
    );
    repo.config("[gates.lint]\nkind = \"format\"\nfiles = [\"*.py\"]\nrun = [\"lint\", \"{files}\"]\nfix = [\"upper\", \"{files}\"]\n");
    repo.write("a.py", "lower\n");
    let fixed = repo.gate(&["check", "--all", "--fix"]);
    assert_eq!(fixed.status("lint"), "fixed", "{fixed:?}");
    repo.write("a.py", "lower\n");
    let again = repo.gate(&["check", "--all", "--fix"]);
    assert_eq!(
        again.status("lint"),
        "fixed",
        "the fix was not served from the cache: {again:?}"
    );
    assert_eq!(recorded(&fix_log).len(), 2);
}

#[test]
fn concurrent_runs_leave_a_consistent_cache() {
    let (repo, log) = repo("");
    for n in 0..8 {
        repo.write(format!("f{n}.py"), format!("{n}\n"));
    }
    repo.add_all();
    let children: Vec<_> = (0..4)
        .map(|_| {
            repo.gate_command(&["check", "--all"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // Read-only runs share the run lock: all four pass, none is turned away.
    for mut child in children {
        let status = child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
    clear_recorded(&log);
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.line("lint").contains("cached"), "{run:?}");
    assert_eq!(runs(&log), 0);
    let leftovers: Vec<_> = walk(&repo.root().join(".git/gate/cache"))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".tmp")))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left: {leftovers:?}");
}

#[test]
fn a_version_command_names_the_program_instead_of_its_file() {
    let (repo, log) = repo("version = [\"lint\", \"--version\"]\n");
    let tool = |version: &str, extra: &str| {
        let script = format!(
            "if [ \"$1\" = --version ]; then {version}; fi\n{}\nsleep 0.2{extra}",
            recorder(&log)
        );
        repo.tool("lint", &script);
    };
    let check = || repo.gate(&["check", "--all"]);
    tool("echo lint 1.0; exit 0", "");
    check();
    check();
    assert_eq!(runs(&log), 1);
    // Another file (size, time) that says the same version: the same program.
    tool("echo lint 1.0; exit 0", "\ntrue");
    let run = check();
    assert!(run.line("lint").contains("cached"), "{run:?}");
    assert_eq!(runs(&log), 1, "the version decides, not the file");
    tool("echo lint 2.0; exit 0", "\ntrue");
    check();
    assert_eq!(runs(&log), 2, "a new version runs");
    check();
    assert_eq!(runs(&log), 2);
    // A version command that fails leaves the gate uncached: it runs, and passes.
    tool("exit 3", "");
    assert_eq!(check().code, 0);
    assert_eq!(check().code, 0);
    assert_eq!(runs(&log), 4, "no version, no reuse");
}

#[test]
fn a_secrets_gate_is_cached_on_the_lines_it_scanned() {
    let repo = TestRepo::new();
    repo.config("[gates.secrets]\nkind = \"secrets\"\n")
        .write("app.py", "x = 1\n")
        .commit_all("init");
    repo.install("pre-commit");
    let all = || repo.gate(&["check", "--all"]);
    assert!(!all().line("secrets").contains("cached"));
    let again = all();
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.line("secrets").contains("cached"), "{again:?}");
    // The same file, a secret added: never the old pass.
    let key = format!("ghp_{}", "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6");
    repo.write("app.py", format!("x = 1\ntoken = \"{key}\"\n"));
    let found = all();
    assert_eq!(found.code, 1, "{found:?}");
    // Staged, the added lines decide: the pass on the clean tree is not reused.
    repo.git(&["add", "app.py"]);
    let commit = repo.git_run(&["commit", "-m", "leak"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    let allowed = format!("x = 1\ntoken = \"{key}\"  # gate:allow-secret\n");
    repo.write("app.py", &allowed);
    repo.git(&["add", "app.py"]);
    let commit = repo.git_run(&["commit", "-qm", "allowed"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    let hook = repo.gate(&["hook", "pre-commit"]);
    assert_eq!(hook.code, 0, "{hook:?}");
}

#[test]
fn a_presets_configuration_and_a_test_suites_data_are_part_of_the_key() {
    let repo = TestRepo::new();
    let log = repo.bin().join("tools.log");
    // Stand-ins for ruff and pytest: ruff fails once its configuration asks for more,
    // pytest when its data says so.
    repo.tool(
        "ruff",
        &format!("{}\nif grep -q strict pyproject.toml; then echo '[{{\"code\":\"E1\",\"message\":\"strict\",\"filename\":\"a.py\",\"location\":{{\"row\":1,\"column\":1}}}}]'; exit 1; fi\necho '[]'", recorder(&log)),
    )
    .tool("pytest", &format!("{}\n! grep -q bad tests/data.json", recorder(&log)));
    repo.config("[gates.ruff]\npreset = \"ruff-check\"\n[gates.pytest]\npreset = \"pytest\"\n")
        .write("a.py", "x = 1\n")
        .write("pyproject.toml", "[tool.ruff]\n")
        .write("tests/data.json", "{\"ok\": 1}\n")
        .commit_all("init");
    let check = || repo.gate(&["check", "--all"]);
    assert_eq!(check().code, 0);
    assert_eq!(check().code, 0);
    assert_eq!(runs(&log), 2, "both passed once and were served after");
    // The linter's configuration changes, not the file it is handed.
    repo.write("pyproject.toml", "[tool.ruff]\n# strict\n");
    let run = check();
    assert_eq!(run.code, 1, "never the pass kept under the old configuration: {run:?}");
    assert!(run.line("ruff").contains("failed"), "{run:?}");
    // A test's data changes, none of its code.
    repo.write("pyproject.toml", "[tool.ruff]\n");
    repo.write("tests/data.json", "{\"bad\": 1}\n");
    let run = check();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.line("pytest").contains("failed"), "{run:?}");
}
