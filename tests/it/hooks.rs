//! `gate install` / `uninstall` and the hooks under a real `git commit` and `git push`.

use std::os::unix::fs::PermissionsExt;

use crate::common::{TestRepo, recorded, recorder};

const LINT_PY: &str = "[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"lint\", \"{files}\"]\n";

/// A repository with one commit, a `lint` tool that fails on files containing `bad`
/// and logs what it checked, and gate's hooks installed.
fn hooked_repo() -> (TestRepo, std::path::PathBuf) {
    let repo = TestRepo::new();
    let log = repo.bin().join("lint.log");
    repo.tool(
        "lint",
        &format!("{}\nif grep -l bad \"$@\"; then exit 1; fi", recorder(&log)),
    )
    .config(LINT_PY)
    .write("a.py", "good\n")
    .commit_all("init");
    let run = repo.gate(&["install"]);
    assert_eq!(run.code, 0, "{run:?}");
    (repo, log)
}

/// A bare repository the test repository's `origin` names; kept while the test runs.
fn origin(repo: &TestRepo) -> tempfile::TempDir {
    let remote = tempfile::tempdir().unwrap();
    repo.git(&["init", "-q", "--bare", remote.path().to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    remote
}

fn head(repo: &TestRepo) -> String {
    repo.git(&["rev-parse", "HEAD"])
}

fn files_seen(log: &std::path::Path) -> Vec<String> {
    let mut files: Vec<String> = recorded(log).into_iter().flatten().collect();
    files.sort();
    files
}

#[test]
fn install_writes_executable_shims_for_pre_commit_and_pre_push() {
    let (repo, _) = hooked_repo();
    for hook in ["pre-commit", "pre-push"] {
        let path = repo.root().join(".git/hooks").join(hook);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("#!/bin/sh\n# gate-managed hook"), "{text}");
        assert!(
            text.contains(crate::common::GATE),
            "the installing binary is the fallback: {text}"
        );
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o111, 0o111);
    }
    // Installing again updates gate's own hooks without complaint.
    assert_eq!(repo.gate(&["install"]).code, 0);
}

#[test]
fn a_failing_gate_blocks_git_commit_and_a_passing_one_allows_it() {
    let (repo, log) = hooked_repo();
    let before = head(&repo);
    repo.write("b.py", "bad\n").write("unstaged.py", "bad\n");
    repo.git(&["add", "b.py"]);
    let commit = repo.git_run(&["commit", "-m", "bad change"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    // git sends a hook's stdout to stderr.
    assert!(
        commit.stderr.contains("lint") && commit.stderr.contains("failed"),
        "{commit:?}"
    );
    assert_eq!(head(&repo), before, "the commit must not be made");
    assert_eq!(files_seen(&log), ["b.py"], "only the staged file is checked");

    repo.write("b.py", "fixed\n");
    repo.git(&["add", "b.py"]);
    let commit = repo.git_run(&["commit", "-m", "good change"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert!(commit.stderr.contains("passed"), "{commit:?}");
    assert_ne!(head(&repo), before);
    assert_eq!(repo.git(&["show", "--name-only", "--format=", "HEAD"]), "b.py\n");

    // GATE_SKIP lets a commit through a failing gate, and says so.
    repo.write("c.py", "bad\n");
    repo.git(&["add", "c.py"]);
    let commit = repo.git_run(&["commit", "-m", "skip"], Some(&[("GATE_SKIP", "lint")]));
    assert_eq!(commit.code, 0, "{commit:?}");
    assert!(commit.stderr.contains("skipped by `GATE_SKIP`"), "{commit:?}");
}

#[test]
fn commit_all_and_commit_path_check_the_temporary_index() {
    let (repo, log) = hooked_repo();
    repo.write("b.py", "good\n").write("c.py", "good\n").commit_all("more");
    repo.write("a.py", "bad\n").write("b.py", "changed\n");
    // `git commit -a` stages a.py only in a temporary index: gate must see it and fail.
    let commit = repo.git_run(&["commit", "-a", "-m", "all"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert_eq!(files_seen(&log), ["a.py", "b.py"]);

    // `git commit b.py` checks b.py alone, not the bad a.py.
    crate::common::clear_recorded(&log);
    let commit = repo.git_run(&["commit", "-m", "just b", "b.py"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(files_seen(&log), ["b.py"]);
    assert_eq!(repo.read("a.py"), "bad\n", "the unstaged edit is untouched");
}

#[test]
fn the_first_commit_is_checked_too() {
    let repo = TestRepo::new();
    let log = repo.bin().join("lint.log");
    repo.tool("lint", &recorder(&log)).config(LINT_PY).write("a.py", "x\n");
    assert_eq!(repo.gate(&["install"]).code, 0);
    repo.add_all();
    let commit = repo.git_run(&["commit", "-m", "root"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(files_seen(&log), ["a.py"]);
}

#[test]
fn an_existing_hook_is_never_overwritten_silently() {
    let repo = TestRepo::new();
    let log = repo.bin().join("lint.log");
    repo.tool("lint", &recorder(&log))
        .config(LINT_PY)
        .write("a.py", "x\n")
        .commit_all("init");
    let hook = repo.root().join(".git/hooks/pre-commit");
    let husky = "#!/bin/sh\necho husky-was-here >> \"$(git rev-parse --show-toplevel)/husky.log\"\n";
    std::fs::write(&hook, husky).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

    let run = repo.gate(&["install"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("exists and was not written by gate"), "{run:?}");
    assert!(run.stderr.contains("hint: `gate install --force`"), "{run:?}");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), husky);

    let run = repo.gate(&["install", "--force"]);
    assert_eq!(run.code, 0, "{run:?}");
    repo.write("a.py", "y\n");
    repo.git(&["add", "a.py"]);
    let commit = repo.git_run(&["commit", "-m", "both run"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(repo.read("husky.log"), "husky-was-here\n", "the old hook runs first");
    assert_eq!(files_seen(&log), ["a.py"]);

    let run = repo.gate(&["uninstall"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        husky,
        "uninstall puts the old hook back"
    );
    assert!(!repo.root().join(".git/hooks/pre-commit.gate-previous").exists());
    assert!(!repo.root().join(".git/hooks/pre-push").exists());
}

#[test]
fn a_repo_local_hooks_path_is_honoured() {
    let repo = TestRepo::new();
    repo.tool("lint", "exit 1")
        .config(LINT_PY)
        .write("a.py", "x\n")
        .commit_all("init");
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    let run = repo.gate(&["install", "--hook", "pre-commit"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(repo.root().join(".githooks/pre-commit").exists());
    assert!(!repo.root().join(".git/hooks/pre-commit").exists());
    repo.write("a.py", "y\n");
    repo.git(&["add", "a.py"]);
    assert_ne!(
        repo.git_run(&["commit", "-m", "x"], None).code,
        0,
        "the hook in core.hooksPath runs"
    );

    let run = repo.gate(&["install", "--hook", "pre-comit"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("`pre-comit` is not a git hook"), "{run:?}");
}

#[test]
fn the_shim_says_when_it_cannot_find_gate() {
    let (repo, _) = hooked_repo();
    let hook = repo.root().join(".git/hooks/pre-commit");
    let text = std::fs::read_to_string(&hook)
        .unwrap()
        .replace(crate::common::GATE, "/nonexistent/gate");
    std::fs::write(&hook, text).unwrap();
    repo.write("a.py", "y\n");
    repo.git(&["add", "a.py"]);
    let commit = repo.git_run(&["commit", "-m", "x"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert!(
        commit
            .stderr
            .contains("gate: cannot find the gate binary to run the pre-commit hook"),
        "{commit:?}"
    );
    assert!(commit.stderr.contains("hint:"), "{commit:?}");
}

#[test]
fn pre_push_checks_the_pushed_commits_only() {
    let repo = TestRepo::new();
    let log = repo.bin().join("lint.log");
    repo.tool(
        "lint",
        &format!("{}\nif grep -l bad \"$@\"; then exit 1; fi", recorder(&log)),
    );
    repo.config(&format!("{LINT_PY}stages = [\"pre-push\"]\n"))
        .write("a.py", "good\n")
        .commit_all("init");
    let _remote = origin(&repo);
    assert_eq!(repo.gate(&["install"]).code, 0);

    // The pre-commit hook does not run a pre-push gate.
    repo.write("b.py", "bad\n").commit_all_with_hooks("b");
    assert!(
        files_seen(&log).is_empty(),
        "stages = [\"pre-push\"] keeps it off commits"
    );

    // A new branch: every commit the remote lacks (here, all of them).
    let push = repo.git_run(&["push", "-q", "origin", "main"], None);
    assert_ne!(push.code, 0, "{push:?}");
    assert_eq!(files_seen(&log), ["a.py", "b.py"]);
    repo.write("b.py", "good\n").commit_all_with_hooks("fix b");
    crate::common::clear_recorded(&log);
    let push = repo.git_run(&["push", "-q", "origin", "main"], None);
    assert_eq!(push.code, 0, "{push:?}");

    // An update: only the files of the new commits.
    crate::common::clear_recorded(&log);
    repo.write("c.py", "good\n").commit_all_with_hooks("c");
    let push = repo.git_run(&["push", "-q", "origin", "main"], None);
    assert_eq!(push.code, 0, "{push:?}");
    assert_eq!(files_seen(&log), ["c.py"]);

    // A new branch off main: only its own commits.
    crate::common::clear_recorded(&log);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("d.py", "good\n").commit_all_with_hooks("d");
    let push = repo.git_run(&["push", "-q", "origin", "topic"], None);
    assert_eq!(push.code, 0, "{push:?}");
    assert_eq!(files_seen(&log), ["d.py"]);

    // Deleting a branch sends no content: nothing to check.
    crate::common::clear_recorded(&log);
    let push = repo.git_run(&["push", "-q", "origin", "--delete", "topic"], None);
    assert_eq!(push.code, 0, "{push:?}");
    assert!(files_seen(&log).is_empty());
}

#[test]
fn a_new_branch_that_merged_the_default_branch_is_checked_for_its_own_changes() {
    let (repo, log) = hooked_repo();
    let _remote = origin(&repo);
    assert_eq!(repo.git_run(&["push", "-q", "origin", "main"], None).code, 0);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("mine.py", "good\n");
    repo.add_all();
    repo.git(&["commit", "-q", "--no-verify", "-m", "mine"]);
    // Someone else's change on the default branch, pushed without gate.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("theirs.py", "bad\n");
    repo.add_all();
    repo.git(&["commit", "-q", "--no-verify", "-m", "theirs"]);
    assert_eq!(
        repo.git_run(&["push", "-q", "--no-verify", "origin", "main"], None)
            .code,
        0
    );
    repo.git(&["checkout", "-q", "topic"]);
    repo.git(&["merge", "-q", "--no-verify", "--no-edit", "main"]);
    crate::common::clear_recorded(&log);
    let push = repo.git_run(&["push", "-q", "origin", "topic"], None);
    assert_eq!(push.code, 0, "not blamed for what the remote has: {push:?}");
    assert_eq!(files_seen(&log), ["mine.py"]);
}

#[test]
fn pushing_a_tag_checks_the_commit_it_names() {
    let (repo, log) = hooked_repo();
    let _remote = origin(&repo);
    assert_eq!(repo.git_run(&["push", "-q", "origin", "main"], None).code, 0);

    // An annotated tag is a tag object, not a commit: git hands the hook its id.
    repo.git(&["tag", "-a", "v1", "-m", "release 1"]);
    let push = repo.git_run(&["push", "origin", "v1"], None);
    assert_eq!(push.code, 0, "the commit is on the remote already: {push:?}");
    assert!(push.stderr.contains("nothing to check"), "{push:?}");

    // A tag on a commit the remote lacks: that commit is checked, and can stop the push.
    crate::common::clear_recorded(&log);
    repo.write("b.py", "bad\n");
    repo.add_all();
    repo.git(&["commit", "-q", "--no-verify", "-m", "b"]);
    repo.git(&["tag", "-a", "v2", "-m", "release 2"]);
    let push = repo.git_run(&["push", "origin", "v2"], None);
    assert_ne!(push.code, 0, "{push:?}");
    assert!(
        push.stdout.contains("lint") && push.stdout.contains("failed"),
        "{push:?}"
    );
    assert_eq!(files_seen(&log), ["b.py"]);
    repo.write("b.py", "good\n");
    repo.add_all();
    repo.git(&["commit", "-q", "--no-verify", "-m", "b fixed"]);
    repo.git(&["tag", "-f", "-a", "v2", "-m", "release 2"]);
    let push = repo.git_run(&["push", "origin", "main", "v2"], None);
    assert_eq!(push.code, 0, "{push:?}");

    // A tag of something that is not a commit sends no commit to check.
    let blob = repo.git(&["hash-object", "-w", "a.py"]);
    repo.git(&["tag", "-a", "blobtag", "-m", "a blob", blob.trim()]);
    let push = repo.git_run(&["push", "origin", "blobtag"], None);
    assert_eq!(push.code, 0, "{push:?}");
}
