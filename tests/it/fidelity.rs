//! The verdict is the commit's: what a hook checks is exactly what is committed or pushed.

use crate::common::{Run, TestRepo};
use std::fs;

/// Everything a run printed: hooks print to stderr under git, to stdout by hand.
fn said(run: &Run) -> String {
    format!("{}{}", run.stdout, run.stderr)
}

/// A "type checker" that fails unless every name `main.py` imports is defined in `lib.py`.
fn import_checker(repo: &TestRepo) {
    repo.tool(
        "pycheck",
        "for name in $(sed -n 's/^from lib import //p' main.py); do grep -q \"^def $name\" lib.py || { echo \"main.py:1: error: lib has no $name\"; exit 1; }; done",
    );
}

const PYCHECK: &str = "[gates.types]\nkind = \"typecheck\"\nfiles = [\"*.py\"]\nrun = [\"pycheck\"]\n";

#[test]
fn an_unstaged_edit_in_another_file_does_not_decide_the_commit() {
    let repo = TestRepo::new();
    import_checker(&repo);
    repo.config(PYCHECK)
        .write("lib.py", "def one(): pass\n")
        .write("main.py", "from lib import one\n")
        .commit_all("init");
    repo.install("pre-commit");
    // `helper` exists only in an unstaged edit of lib.py; main.py is staged using it.
    repo.write("lib.py", "def one(): pass\ndef helper(): pass\n");
    repo.write("main.py", "from lib import helper\n");
    repo.git(&["add", "main.py"]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let commit = repo.git_run(&["commit", "-m", "uses helper"], None);
    assert_ne!(commit.code, 0, "the commit would break HEAD: {commit:?}");
    assert!(
        commit.stderr.contains("lib has no helper") || commit.stdout.contains("lib has no helper"),
        "{commit:?}"
    );
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(repo.read("lib.py"), "def one(): pass\ndef helper(): pass\n");
    assert_eq!(repo.read("main.py"), "from lib import helper\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), " M lib.py\nM  main.py\n");
    // Staging lib.py too makes the commit whole.
    repo.git(&["add", "lib.py"]);
    let commit = repo.git_run(&["commit", "-m", "uses helper"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
}

#[test]
fn an_unstaged_deletion_of_another_file_is_put_back_for_the_run_and_deleted_again() {
    let repo = TestRepo::new();
    import_checker(&repo);
    repo.config(PYCHECK)
        .write("lib.py", "def one(): pass\n")
        .write("main.py", "from lib import one\n")
        .commit_all("init");
    repo.install("pre-commit");
    std::fs::remove_file(repo.root().join("lib.py")).unwrap();
    repo.write("main.py", "from lib import one\n# touched\n");
    repo.git(&["add", "main.py"]);
    let commit = repo.git_run(&["commit", "-m", "touch"], None);
    assert_eq!(commit.code, 0, "lib.py is committed, so the check passes: {commit:?}");
    assert!(!repo.root().join("lib.py").exists());
    assert_eq!(repo.git(&["status", "--porcelain"]), " D lib.py\n");
}

/// A repository with a `bare` remote, gate's hooks installed, and a lint that fails on `bad`.
fn with_remote() -> (TestRepo, tempfile::TempDir) {
    let repo = TestRepo::new();
    repo.tool("lint", "if grep -l bad \"$@\"; then exit 1; fi");
    repo.config(
        "[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"lint\", \"{files}\"]\nstages = [\"pre-push\"]\n",
    )
    .write("a.py", "good\n")
    .commit_all("init");
    let remote = tempfile::tempdir().unwrap();
    repo.git(&["init", "-q", "--bare", remote.path().to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.install("pre-push");
    (repo, remote)
}

fn remote_ref(remote: &tempfile::TempDir, name: &str) -> String {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--verify", "-q", name])
        .current_dir(remote.path())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn pre_push_checks_the_pushed_commit_not_a_fix_left_in_the_working_tree() {
    let (repo, remote) = with_remote();
    repo.write("b.py", "bad\n");
    repo.git(&["add", "b.py"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "broken"]);
    // Fixed in the working tree (staged, and further unstaged), never committed.
    repo.write("b.py", "good\n");
    repo.git(&["add", "b.py"]);
    repo.write("b.py", "good\n# more\n");
    let before = remote_ref(&remote, "main");
    let push = repo.git_run(&["push", "-q", "origin", "main"], None);
    assert_ne!(push.code, 0, "the pushed commit is broken: {push:?}");
    assert!(push.stdout.contains("b.py") || push.stderr.contains("b.py"), "{push:?}");
    assert_eq!(remote_ref(&remote, "main"), before);
    // The user's staged and unstaged work is exactly as it was.
    assert_eq!(repo.read("b.py"), "good\n# more\n");
    assert_eq!(repo.git(&["show", ":b.py"]), "good\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), "MM b.py\n");
    // Committing the fix makes the push green.
    repo.git(&["commit", "-q", "--no-verify", "-am", "fix"]);
    let push = repo.git_run(&["push", "-q", "origin", "main"], None);
    assert_eq!(push.code, 0, "{push:?}");
    assert_eq!(remote_ref(&remote, "main"), repo.git(&["rev-parse", "HEAD"]).trim());
}

/// A pre-push run of the checked-out commit puts back what the index no longer holds (a
/// directory staged as deleted): a check that writes there is caught too, whether the watch
/// names the file or (the directory made again) every file is compared.
#[test]
fn pre_push_catches_a_check_writing_a_file_only_the_pushed_commit_holds() {
    for script in [
        "printf 'y\\n' > sub/x.py",
        "rm -r sub && mkdir sub && printf 'y\\n' > sub/x.py",
    ] {
        let repo = TestRepo::new();
        repo.tool("sneaky", script);
        repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"sneaky\"]\nstages = [\"pre-push\"]\n")
            .write("a.py", "a\n")
            .write("sub/x.py", "x\n")
            .commit_all("init");
        let remote = tempfile::tempdir().unwrap();
        repo.git(&["init", "-q", "--bare", remote.path().to_str().unwrap()]);
        repo.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
        repo.install("pre-push");
        repo.git(&["rm", "-q", "sub/x.py"]);
        assert!(!repo.root().join("sub").exists());
        let push = repo.git_run(&["push", "-q", "origin", "main"], None);
        assert_ne!(push.code, 0, "{script}: {push:?}");
        assert!(said(&push).contains("modified files: `sub/x.py`"), "{script}: {push:?}");
        assert!(said(&push).contains("-x\n+y"), "{script}: {push:?}");
        assert!(
            said(&push).contains("your staged and unstaged changes were kept"),
            "{script}: {push:?}"
        );
        assert_eq!(remote_ref(&remote, "main"), "", "{script}");
        assert_eq!(repo.git(&["status", "--porcelain"]), "D  sub/x.py\n", "{script}");
    }
}

#[test]
fn pushing_a_branch_that_is_not_checked_out_checks_that_branch() {
    let (repo, remote) = with_remote();
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("t.py", "bad\n");
    repo.git(&["add", "t.py"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "broken topic"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write("a.py", "good\n# unstaged edit on main\n");
    let push = repo.git_run(&["push", "-q", "origin", "topic"], None);
    assert_ne!(push.code, 0, "topic is broken though main is fine: {push:?}");
    assert_eq!(remote_ref(&remote, "topic"), "");
    assert!(!repo.root().join("t.py").exists(), "the user's tree stays on main");
    assert_eq!(repo.read("a.py"), "good\n# unstaged edit on main\n");
    // A good branch not checked out passes, and the worktree is reused.
    repo.git(&["branch", "-q", "-f", "good", "main"]);
    repo.git(&["checkout", "-q", "good"]);
    repo.write("g.py", "good\n");
    repo.git(&["add", "g.py"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "good"]);
    repo.git(&["checkout", "-q", "main"]);
    let push = repo.git_run(&["push", "-q", "origin", "good"], None);
    assert_eq!(push.code, 0, "{push:?}");
    assert_eq!(remote_ref(&remote, "good"), repo.git(&["rev-parse", "good"]).trim());
    let worktrees = repo.git(&["worktree", "list"]);
    assert_eq!(
        worktrees.lines().count(),
        2,
        "one worktree of gate's, reused: {worktrees}"
    );
}

#[test]
fn the_staged_configuration_gates_the_commit() {
    let repo = TestRepo::new();
    repo.tool("fail", "echo always fails; exit 1");
    repo.config("[gates.strict]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"fail\"]\n")
        .write("a.py", "x\n")
        .commit_all("init");
    repo.install("pre-commit");
    // Moving the failing gate out of pre-commit without staging that edit changes nothing.
    repo.config("[gates.strict]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"fail\"]\nstages = [\"manual\"]\n");
    repo.write("a.py", "y\n");
    repo.git(&["add", "a.py"]);
    let commit = repo.git_run(&["commit", "-m", "sneak"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert!(
        commit
            .stderr
            .contains("`gates.toml` in the working tree differs; this run uses the staged copy"),
        "{commit:?}"
    );
    // Staged, the edit decides.
    repo.git(&["add", "gates.toml"]);
    let commit = repo.git_run(&["commit", "-m", "moved"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
}

#[test]
fn a_check_that_rewrites_a_file_fails_and_its_change_is_never_committed() {
    let repo = TestRepo::new();
    // A "linter" that quietly formats in place and exits 0 (`ruff check` with `fix = true`).
    repo.tool("sneaky", "for f in \"$@\"; do printf 'x = 1\\n' > \"$f\"; done");
    repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"sneaky\", \"{files}\"]\n")
        .write("a.py", "x=1\n")
        .commit_all("init");
    repo.install("pre-commit");
    repo.write("a.py", "x=2\n");
    repo.git(&["add", "a.py"]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let commit = repo.git_run(&["commit", "-m", "edit"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert!(said(&commit).contains("lint"), "{commit:?}");
    assert!(said(&commit).contains("modified files: `a.py`"), "{commit:?}");
    assert!(said(&commit).contains("-x=2\n+x = 1"), "the diff is shown: {commit:?}");
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(repo.git(&["show", ":a.py"]), "x=2\n", "never staged");
    assert_eq!(repo.read("a.py"), "x = 1\n", "kept in the working tree for review");
    // By hand too.
    repo.git(&["checkout", "--", "a.py"]);
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("modified files: `a.py`"), "{run:?}");
}

/// A check that failed on its own and also wrote a file is shown once with its output, then
/// again with what it wrote: not with its output a second time.
#[test]
fn a_failed_check_found_to_have_written_is_not_shown_twice() {
    let repo = TestRepo::new();
    repo.tool(
        "writes",
        "echo 'a.py:1: E1 something is off'; printf 'y\\n' > a.py; exit 1",
    );
    repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"writes\"]\n")
        .write("a.py", "x\n")
        .commit_all("init");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("modified files: `a.py`"), "{run:?}");
    assert_eq!(run.stdout.matches("E1 something is off").count(), 1, "{}", run.stdout);

    // A JSON checker that found nothing prints an empty list: not worth a line.
    repo.git(&["checkout", "--", "a.py"]);
    repo.tool("writes", "echo '[]'; printf 'y\\n' > a.py");
    repo.config(
        "[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"writes\"]\nproblem_format = \"json-lines\"\n",
    );
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("modified files: `a.py`"), "{run:?}");
    assert!(!run.stdout.contains("[]"), "{}", run.stdout);
}

#[test]
fn gates_running_at_the_same_time_as_a_write_are_named() {
    let repo = TestRepo::new();
    repo.tool("writer", "sleep 0.3; echo changed >> a.txt")
        .tool("sleeper", "sleep 0.6");
    repo.config(
        "[gates.writer]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"writer\"]\n\n[gates.sleeper]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"sleeper\"]\n",
    )
    .write("a.txt", "a\n")
    .commit_all("init");
    let run = repo.gate(&["check", "--all", "--jobs", "2"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("writer ................. failed"), "{run:?}");
    assert!(run.stdout.contains("`sleeper` ran at the same time"), "{run:?}");
}

#[test]
fn a_file_is_staged_only_when_every_fix_to_it_may_be_staged() {
    let repo = TestRepo::new();
    repo.tool(
        "stage-fix",
        "for f in \"$@\"; do printf 'staged fix\\n' >> \"$f\"; done",
    )
    .tool(
        "review-fix",
        "for f in \"$@\"; do printf 'reviewed fix\\n' >> \"$f\"; done",
    )
    .tool("ok", "exit 0");
    repo.config(
        "[gates.a]\nkind = \"format\"\nfiles = [\"*.txt\"]\nrun = [\"ok\"]\nfix = [\"stage-fix\", \"{files}\"]\non_fix = \"stage\"\n\n[gates.b]\nkind = \"format\"\nfiles = [\"*.txt\"]\nrun = [\"ok\"]\nfix = [\"review-fix\", \"{files}\"]\non_fix = \"fail\"\n",
    )
    .write("f.txt", "one\n")
    .commit_all("init");
    repo.install("pre-commit");
    repo.write("f.txt", "two\n");
    repo.git(&["add", "f.txt"]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let commit = repo.git_run(&["commit", "-m", "edit"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(repo.git(&["show", ":f.txt"]), "two\n", "no unreviewed fix in the index");
    let text = repo.read("f.txt");
    assert!(text.contains("staged fix") && text.contains("reviewed fix"), "{text}");
    assert!(said(&commit).contains("`b` changed it too"), "{commit:?}");
}

#[test]
fn a_fixer_that_dies_half_way_leaves_no_partial_output() {
    let repo = TestRepo::new();
    // Truncates its file to half, then is killed.
    repo.tool("halfway", "for f in \"$@\"; do head -n 15 \"$f\" > \"$f.tmp\"; cat \"$f.tmp\" > \"$f\"; rm \"$f.tmp\"; done; kill -KILL $$")
        .tool("ok", "exit 0");
    repo.config(
        "[gates.fmt]\nkind = \"format\"\nfiles = [\"*.txt\"]\nrun = [\"ok\"]\nfix = [\"halfway\", \"{files}\"]\n",
    );
    let thirty: String = (1..=30).fold(String::new(), |text, i| text + &format!("line {i}\n"));
    repo.write("f.txt", "old\n").commit_all("init");
    repo.install("pre-commit");
    repo.write("f.txt", &thirty);
    repo.git(&["add", "f.txt"]);
    // And an unstaged edit on top, which must come back too.
    let edited = format!("{thirty}unstaged\n");
    repo.write("f.txt", &edited);
    let commit = repo.git_run(&["commit", "-m", "edit"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert!(said(&commit).contains("error"), "{commit:?}");
    assert!(said(&commit).contains("was undone"), "{commit:?}");
    assert_eq!(repo.read("f.txt"), edited);
    assert_eq!(repo.git(&["show", ":f.txt"]), thirty);
}

#[test]
fn git_commit_path_with_a_staged_fix_leaves_the_index_agreeing_with_the_commit() {
    let repo = TestRepo::new();
    repo.tool("ok", "exit 0").tool("upper", crate::common::UPPERCASE);
    repo.config("[gates.up]\nkind = \"format\"\nfiles = [\"*.txt\"]\nrun = [\"ok\"]\nfix = [\"upper\", \"{files}\"]\non_fix = \"stage\"\n")
        .write("b.txt", "b\n")
        .commit_all("init");
    repo.install("pre-commit");
    repo.write("b.txt", "hello\n");
    let commit = repo.git_run(&["commit", "-m", "path", "b.txt"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(repo.git(&["show", "HEAD:b.txt"]), "HELLO\n");
    assert_eq!(
        repo.git(&["show", ":b.txt"]),
        "HELLO\n",
        "the real index has the fix too"
    );
    assert_eq!(repo.read("b.txt"), "HELLO\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

/// Each way a check can change a tracked file, through a real commit: whatever the kernel's
/// events can say (a write, a rename over it, a mode change) and what they cannot (a
/// directory removed and made again, where every file is compared instead).
#[test]
fn every_way_a_check_can_change_a_tracked_file_is_caught() {
    let ways = [
        ("in place", "printf 'y\\n' > src/deep/a.py"),
        ("renamed over", "printf 'y\\n' > tmp.$$ && mv tmp.$$ src/deep/a.py"),
        ("mode", "chmod +x src/deep/a.py"),
        ("removed", "rm src/deep/a.py"),
        (
            "directory made again",
            "rm -rf src/deep && mkdir src/deep && printf 'y\\n' > src/deep/a.py",
        ),
        ("directory renamed away", "mv src/deep src/gone"),
        (
            "parent renamed and back",
            "mv src src2 && printf 'y\\n' > src2/deep/a.py && mv src2 src",
        ),
    ];
    // A lint gate whose tool is `script`, over src/deep/a.py (and b.py) as committed.
    let sneaky = |script: &str| {
        let repo = TestRepo::new();
        repo.tool("sneaky", script);
        repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"sneaky\"]\n")
            .write("src/deep/a.py", "x\n")
            .write("src/deep/b.py", "b\n")
            .commit_all("init");
        repo
    };
    for (way, script) in ways {
        let repo = sneaky(script);
        repo.install("pre-commit");
        repo.write("src/deep/b.py", "b2\n");
        repo.git(&["add", "src/deep/b.py"]);
        let head = repo.git(&["rev-parse", "HEAD"]);
        let commit = repo.git_run(&["commit", "-m", "edit"], None);
        assert_ne!(commit.code, 0, "{way}: {commit:?}");
        assert!(
            said(&commit).contains("modified files: `src/deep/a.py`"),
            "{way}: {commit:?}"
        );
        assert_eq!(repo.git(&["rev-parse", "HEAD"]), head, "{way}");
        // By hand, where the tree is checked as it is.
        let run = sneaky(script).gate(&["check", "--all"]);
        assert_eq!(run.code, 1, "{way}: {run:?}");
        assert!(run.stdout.contains("modified files: `src/deep/a.py`"), "{way}: {run:?}");
    }
}

/// By hand nothing is set aside and no file's stat data is taken before the gates: what
/// changed since they started is told by the kernel's change times. A check that removes a
/// watched directory stops the events, and every file is compared; the user's own edits and
/// deletions from before the run are still not the check's doing, a check's writes are.
#[test]
fn by_hand_the_users_own_edits_are_never_taken_for_a_checks() {
    let repo = TestRepo::new();
    repo.tool(
        "sneaky",
        "sleep 0.05; rm -rf src/deep && mkdir src/deep && printf 'y\\n' > src/deep/a.py && printf 'x\\n' > src/same.py",
    );
    repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"sneaky\"]\n")
        .write("src/deep/a.py", "x\n")
        .write("src/same.py", "x\n")
        .write("src/edited.py", "e\n")
        .write("gone/deleted.py", "d\n")
        .write("gone/kept.py", "k\n")
        .write("top.py", "t\n")
        .commit_all("init");
    repo.write("src/edited.py", "edited by the user\n");
    fs::remove_file(repo.root().join("gone/deleted.py")).unwrap();
    fs::remove_file(repo.root().join("top.py")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("modified files: `src/deep/a.py`\n"),
        "only the check's write: {run:?}"
    );
    assert_eq!(repo.read("src/edited.py"), "edited by the user\n");
    assert!(!repo.root().join("gone/deleted.py").exists());

    // With the events up: opening the edited file for writing without writing is an event
    // (closed after writing) but no change.
    repo.tool("sneaky", "sleep 0.05; : >> src/edited.py");
    repo.git(&["checkout", "--", "src/deep/a.py"]);
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// By hand, a tracked file the user had deleted that a check writes again is the check's
/// write, even with exactly its committed content.
#[test]
fn by_hand_a_check_that_writes_a_deleted_file_again_is_caught() {
    let repo = TestRepo::new();
    repo.tool("sneaky", "printf 'x\\n' > src/a.py");
    repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"sneaky\"]\n")
        .write("src/a.py", "x\n")
        .write("src/b.py", "b\n")
        .commit_all("init");
    fs::remove_file(repo.root().join("src/a.py")).unwrap();
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("modified files: `src/a.py`"), "{run:?}");
}

/// With unstaged edits set aside, the watch on what checks write starts while the set-aside
/// writes: its own writes are not blamed, a check's are, in the file set aside and elsewhere.
#[test]
fn a_check_that_writes_while_edits_are_set_aside_is_caught() {
    let cases = [
        ("a clean file", "printf 'y\\n' > src/a.py", Some("src/a.py")),
        ("the file set aside", "printf 'y\\n' > src/b.py", Some("src/b.py")),
        ("nothing", "cat src/a.py src/b.py >/dev/null", None),
    ];
    for (what, script, blamed) in cases {
        let repo = TestRepo::new();
        repo.tool("sneaky", script);
        repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"sneaky\"]\n")
            .write("src/a.py", "a\n")
            .write("src/b.py", "b\n")
            .commit_all("init");
        repo.install("pre-commit");
        repo.stage("src/b.py", "b2\n").write("src/b.py", "b2\nunstaged\n");
        let head = repo.git(&["rev-parse", "HEAD"]);
        let commit = repo.git_run(&["commit", "-m", "edit"], None);
        if let Some(file) = blamed {
            assert_ne!(commit.code, 0, "{what}: {commit:?}");
            assert!(
                said(&commit).contains(&format!("modified files: `{file}`")),
                "{what}: {commit:?}"
            );
            assert_eq!(repo.git(&["rev-parse", "HEAD"]), head, "{what}");
            assert_eq!(
                repo.git(&["show", ":src/b.py"]),
                "b2\n",
                "{what}: the index is as staged"
            );
            // What a check wrote over a file set aside is no fix to stage.
            assert!(!said(&commit).contains("the fix to"), "{what}: {commit:?}");
            if file == "src/b.py" {
                assert!(
                    said(&commit).contains("`lint` wrote to `src/b.py` while checking it"),
                    "{what}: {commit:?}"
                );
            }
        } else {
            assert_eq!(commit.code, 0, "{what}: {commit:?}");
            assert_eq!(repo.git(&["show", "HEAD:src/b.py"]), "b2\n", "{what}");
        }
        assert_eq!(
            repo.read("src/b.py"),
            "b2\nunstaged\n",
            "{what}: the unstaged edit is back"
        );
    }
}

/// A check's write that merges cleanly with the unstaged edit is merged like a fix would
/// be (kept for review, as in a file without edits), and named as the check's.
#[test]
fn a_checks_write_merged_with_unstaged_edits_is_named_as_the_checks() {
    let repo = TestRepo::new();
    repo.tool("sneaky", "sed -i 's/^1$/one/' b.py");
    repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"sneaky\"]\n")
        .write("b.py", "1\n2\n3\n4\n5\n6\n")
        .commit_all("init");
    repo.install("pre-commit");
    repo.stage("b.py", "1\n2\n3\n4\n5\n6\n7\n")
        .write("b.py", "1\n2\n3\n4\n5\n6\n7\n8 unstaged\n");
    let commit = repo.git_run(&["commit", "-m", "edit"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert!(
        said(&commit).contains("`lint` wrote to `b.py` while checking it; that change is merged"),
        "{commit:?}"
    );
    assert!(!said(&commit).contains("the fix to"), "{commit:?}");
    assert_eq!(repo.read("b.py"), "one\n2\n3\n4\n5\n6\n7\n8 unstaged\n");
    assert_eq!(repo.git(&["show", ":b.py"]), "1\n2\n3\n4\n5\n6\n7\n", "never staged");
}

#[test]
fn with_nothing_staged_that_a_gate_takes_nothing_is_set_aside() {
    use std::os::unix::fs::MetadataExt;
    let repo = TestRepo::new();
    repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"false\", \"{files}\"]\n")
        .write("a.py", "x\n")
        .write("notes.txt", "n\n")
        .commit_all("init");
    repo.write("a.py", "unstaged\n");
    repo.write("notes.txt", "staged\n");
    repo.git(&["add", "notes.txt"]);
    let meta = || fs::symlink_metadata(repo.root().join("a.py")).unwrap();
    let before = meta();
    let run = repo.gate(&["hook", "pre-commit"]);
    assert_eq!(run.code, 0, "{run:?}");
    let after = meta();
    assert_eq!(
        (after.ino(), after.mtime(), after.mtime_nsec()),
        (before.ino(), before.mtime(), before.mtime_nsec()),
        "the unstaged edit was never touched"
    );
    assert_eq!(repo.read("a.py"), "unstaged\n");
}
