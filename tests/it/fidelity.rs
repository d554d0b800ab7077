//! The verdict is the commit's: what a hook checks is exactly what is committed or pushed.

use crate::common::TestRepo;

fn installed(repo: &TestRepo, hook: &str) {
    let run = repo.gate(&["install", "--hook", hook]);
    assert_eq!(run.code, 0, "{run:?}");
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
    installed(&repo, "pre-commit");
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
    installed(&repo, "pre-commit");
    std::fs::remove_file(repo.root().join("lib.py")).unwrap();
    repo.write("main.py", "from lib import one\n# touched\n");
    repo.git(&["add", "main.py"]);
    let commit = repo.git_run(&["commit", "-m", "touch"], None);
    assert_eq!(commit.code, 0, "lib.py is committed, so the check passes: {commit:?}");
    assert!(!repo.root().join("lib.py").exists());
    assert_eq!(repo.git(&["status", "--porcelain"]), " D lib.py\n");
}
