//! The built-in hygiene gates through real commits: found on the staged content, fixed
//! by the pre-commit hook (kept for review, or staged with `on_fix = "stage"`), never read
//! through a link, and refused with a clear error when misconfigured.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};

use crate::common::TestRepo;

fn repo(config: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.config(config).write("base.txt", "base\n").commit_all("base");
    repo.install("pre-commit");
    repo
}

#[test]
fn the_pre_commit_hook_fixes_whitespace_and_file_ends_and_stops_the_commit_for_review() {
    let repo = repo("[gates.ws]\npreset = \"trailing-whitespace\"\n[gates.eof]\npreset = \"end-of-file\"\n");
    repo.write("a.txt", "a  \nb\n\n\n").add_all();
    let run = repo.git_run(&["commit", "-q", "-m", "dirty"], None);
    assert_ne!(run.code, 0, "the fixes are left for review: {run:?}");
    assert!(
        run.stderr.contains("ws ") && run.stderr.contains("fixed 1 file"),
        "{run:?}"
    );
    assert_eq!(repo.read("a.txt"), "a\nb\n", "both fixes in the working tree");
    assert_eq!(
        repo.git(&["show", ":a.txt"]),
        "a  \nb\n\n\n",
        "the index keeps what was staged"
    );
    repo.add_all();
    let run = repo.git_run(&["commit", "-q", "-m", "clean"], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "a\nb\n");
}

#[test]
fn with_on_fix_stage_the_fix_goes_into_the_commit() {
    let repo = repo("[gates.ws]\npreset = \"trailing-whitespace\"\non_fix = \"stage\"\n");
    repo.write("a.txt", "a \r\nb\r\n").add_all();
    let run = repo.git_run(&["commit", "-q", "-m", "dirty"], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "a\r\nb\r\n", "line ends kept");
}

#[test]
fn what_cannot_be_fixed_fails_with_its_line() {
    let repo = repo(
        "[gates.conflict]\npreset = \"merge-conflict\"\n[gates.json]\npreset = \"check-json\"\n\
         [gates.yaml]\npreset = \"check-yaml\"\n[gates.toml]\npreset = \"check-toml\"\n\
         [gates.big]\nkind = \"builtin\"\nbuiltin = \"large-files\"\nmax_kb = 1\n\
         [gates.shebang]\npreset = \"executable-shebang\"\n",
    );
    repo.write("c.txt", "a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> other\n")
        .write("bad.json", "{\n  \"a\": 1,\n}\n")
        .write("ok.yaml", "a: 1\n---\nb: 2\n")
        .write("bad.toml", "a = 1\nb =\n")
        .write("big.bin", vec![b'x'; 2048])
        .write("run.sh", "echo hi\n");
    fs::set_permissions(repo.root().join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    repo.add_all();
    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.code, 1, "{run:?}");
    for line in [
        "c.txt:2: error: merge conflict marker `<<<<<<<`",
        "c.txt:4: error: merge conflict marker `=======`",
        "bad.json:3: error:",
        "bad.toml:2: error:",
        "big.bin: error: 2 KB, more than `max_kb = 1`",
        "run.sh:1: error: executable but has no shebang",
    ] {
        assert!(run.stdout.contains(line), "no `{line}`: {run:?}");
    }
    assert!(
        run.stdout.contains("yaml ") && !run.stdout.contains("ok.yaml:"),
        "several YAML documents are fine: {run:?}"
    );
}

#[test]
fn links_are_never_read_or_written_through() {
    let repo = repo("[gates.ws]\npreset = \"trailing-whitespace\"\n[gates.eof]\npreset = \"end-of-file\"\n");
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("secret.txt");
    fs::write(&target, "keep   \n\n\n").unwrap();
    symlink(&target, repo.root().join("link.txt")).unwrap();
    repo.add_all();
    let run = repo.gate(&["check", "--staged", "--fix"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep   \n\n\n");
}

#[test]
fn case_conflicts_are_found_against_the_tracked_tree() {
    let repo = repo("[gates.case]\npreset = \"case-conflict\"\n");
    repo.write("Base.txt", "other\n").add_all();
    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("`Base.txt` and `base.txt` differ only in case"),
        "{run:?}"
    );
}

#[test]
fn misconfigured_builtins_are_config_errors() {
    let repo = TestRepo::new();
    repo.config("[gates.x]\nkind = \"builtin\"\nbuiltin = \"trailing-space\"\n");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("gates.toml:3:11: unknown built-in check `trailing-space`"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("hint: the checks are trailing-whitespace, end-of-file"),
        "{run:?}"
    );
    repo.config("[gates.x]\npreset = \"end-of-file\"\nmax_kb = 10\n");
    let run = repo.gate(&["check", "--all"]);
    assert!(
        run.stderr
            .contains("gates.toml:3:10: `max_kb` is for the `large-files` check"),
        "{run:?}"
    );
    repo.config("[gates.x]\nkind = \"builtin\"\n");
    let run = repo.gate(&["check", "--all"]);
    assert!(run.stderr.contains("a `builtin` gate names its check"), "{run:?}");
}
