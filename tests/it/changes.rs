//! Change sets: which files each source yields, and that awkward paths reach tools intact.

use std::os::unix::ffi::OsStrExt;

use crate::common::{TestRepo, clear_recorded, recorded, recorder};

const RECORD_ALL: &str = "[gates.record]\nkind = \"lint\"\nrun = [\"record\", \"{files}\"]\n";

/// A repository whose `record` tool logs the files it is handed.
fn recording_repo() -> (TestRepo, std::path::PathBuf) {
    let repo = TestRepo::new();
    let log = repo.bin().join("record.log");
    repo.tool("record", &recorder(&log)).config(RECORD_ALL);
    (repo, log)
}

fn files_seen(log: &std::path::Path) -> Vec<String> {
    let mut files: Vec<String> = recorded(log).into_iter().flatten().collect();
    files.sort();
    files
}

fn json(repo: &TestRepo, path: &str) -> serde_json::Value {
    serde_json::from_str(&repo.read(path)).unwrap()
}

#[test]
fn staged_sees_the_index_not_unstaged_or_untracked_files() {
    let (repo, log) = recording_repo();
    repo.write("staged.py", "1\n")
        .write("unstaged.py", "1\n")
        .write("gone.py", "1\n")
        .write("old_name.py", "a long enough body for rename detection\n".repeat(5))
        .commit_all("init");
    repo.write("staged.py", "2\n")
        .write("unstaged.py", "2\n")
        .write("untracked.py", "new\n");
    repo.git(&["add", "staged.py"]);
    repo.git(&["rm", "-q", "gone.py"]);
    repo.git(&["mv", "old_name.py", "new_name.py"]);
    repo.write("intent.py", "1\n");
    repo.git(&["add", "-N", "intent.py"]);
    let run = repo.gate(&["check", "--staged", "--report", "json=out/r.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(files_seen(&log), ["new_name.py", "staged.py"]);
    let report = json(&repo, "out/r.json");
    let files = &report["change_set"]["files"];
    let listed: Vec<(&str, &str)> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["status"].as_str().unwrap()))
        .collect();
    assert!(listed.contains(&("gone.py", "deleted")), "{listed:?}");
    assert!(listed.contains(&("new_name.py", "renamed")), "{listed:?}");
    assert!(listed.contains(&("staged.py", "modified")), "{listed:?}");
    assert!(
        !listed
            .iter()
            .any(|(p, _)| ["unstaged.py", "untracked.py", "intent.py"].contains(p)),
        "{listed:?}"
    );
    let renamed = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "new_name.py")
        .unwrap();
    assert_eq!(renamed["from"], "old_name.py");
}

#[test]
fn staged_works_before_the_first_commit() {
    let (repo, log) = recording_repo();
    repo.write("a.py", "1\n").write("b.py", "1\n");
    repo.git(&["add", "a.py", "gates.toml"]);
    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(files_seen(&log), ["a.py", "gates.toml"]);
}

#[test]
fn staged_honours_git_index_file() {
    let (repo, log) = recording_repo();
    repo.write("a.py", "1\n").write("b.py", "1\n").commit_all("init");
    repo.write("a.py", "2\n").write("b.py", "2\n");
    repo.git(&["add", "a.py"]);
    // What `git commit b.py` does: a temporary index from HEAD plus the named path.
    let index = repo.root().join(".git/gate-test-index");
    let index = index.to_str().unwrap();
    assert_eq!(
        repo.git_run(&["read-tree", "HEAD"], Some(&[("GIT_INDEX_FILE", index)]))
            .code,
        0
    );
    assert_eq!(
        repo.git_run(&["add", "b.py"], Some(&[("GIT_INDEX_FILE", index)])).code,
        0
    );
    let run = repo.gate_env(&["check", "--staged"], &[("GIT_INDEX_FILE", index)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(files_seen(&log), ["b.py"]);
    // A relative value is relative to the directory git started the hook in.
    clear_recorded(&log);
    // (`--no-cache`: the same content would otherwise be a cached pass.)
    let run = repo.gate_env(
        &["check", "--staged", "--no-cache"],
        &[("GIT_INDEX_FILE", ".git/gate-test-index")],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(files_seen(&log), ["b.py"]);
}

#[test]
fn base_compares_with_the_merge_base() {
    let (repo, log) = recording_repo();
    repo.write("a.py", "1\n").commit_all("init");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.py", "1\n").commit_all("feature");
    repo.write("a.py", "2\n").commit_all("feature 2");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main_only.py", "1\n").commit_all("main moves on");
    repo.git(&["checkout", "-q", "feature"]);
    let run = repo.gate(&["check", "--base", "main"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(files_seen(&log), ["a.py", "feature.py"]);
}

#[test]
fn base_without_a_merge_base_or_unknown_ref_explains_the_fix() {
    let (repo, _) = recording_repo();
    repo.write("a.py", "1\n").commit_all("init");
    repo.git(&["checkout", "-q", "--orphan", "other"]);
    repo.write("b.py", "1\n").commit_all("unrelated");
    let run = repo.gate(&["check", "--base", "main"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("no merge base between `main` and `HEAD`"),
        "{run:?}"
    );
    assert!(run.stderr.contains("fetch-depth: 0"), "{run:?}");
    let run = repo.gate(&["check", "--base", "origin/nope"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("unknown revision `origin/nope`"), "{run:?}");
}

#[test]
fn by_hand_sees_staged_unstaged_and_untracked_but_not_ignored() {
    let (repo, log) = recording_repo();
    repo.write(".gitignore", "ignored.py\nbuild/\n")
        .write("staged.py", "1\n")
        .write("unstaged.py", "1\n")
        .write("clean.py", "1\n")
        .commit_all("init");
    repo.write("staged.py", "2\n").write("unstaged.py", "2\n");
    repo.git(&["add", "staged.py"]);
    repo.write("new/untracked.py", "1\n")
        .write("ignored.py", "1\n")
        .write("build/out.py", "1\n");
    let run = repo.gate(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(files_seen(&log), ["new/untracked.py", "staged.py", "unstaged.py"]);
}

#[test]
fn all_and_explicit_files() {
    let (repo, log) = recording_repo();
    repo.write("a.py", "1\n")
        .write("sub/b.py", "1\n")
        .write("untracked.py", "1\n");
    repo.git(&["add", "a.py", "sub/b.py", "gates.toml"]);
    repo.git(&["commit", "-q", "-m", "init"]);
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(files_seen(&log), ["a.py", "gates.toml", "sub/b.py"]);

    clear_recorded(&log);
    let mut command = repo.gate_command(&["check", "--files", "b.py", "../a.py"]);
    command.current_dir(repo.root().join("sub"));
    let run = command.output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(files_seen(&log), ["a.py", "sub/b.py"]);

    // A directory means the tracked files below it.
    clear_recorded(&log);
    let run = repo.gate(&["check", "--files", "sub"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(files_seen(&log), ["sub/b.py"]);

    let run = repo.gate(&["check", "--files", "missing.py"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("`missing.py` does not exist"), "{run:?}");
}

#[test]
fn awkward_paths_reach_tools_byte_for_byte() {
    let repo = TestRepo::new();
    // The tool fails unless every argument is an existing file, and logs what it saw.
    let log = repo.bin().join("record.log");
    repo.tool(
        "exists",
        &format!(
            "for f in \"$@\"; do [ -f \"$f\" ] || {{ echo \"missing: $f\"; exit 1; }}; done\n{}",
            recorder(&log)
        ),
    )
    .config("[gates.exists]\nkind = \"lint\"\nrun = [\"exists\", \"{files}\"]\n")
    .commit_all("init");
    let names: Vec<&[u8]> = vec![
        b"with space.py",
        "ünïcödé/файл.py".as_bytes(),
        b"-rf.py",
        b"--help.py",
        b"new\nline.py",
        b"not-utf8-\xff.py",
        b"quote'\"$(x).py",
    ];
    for name in &names {
        repo.write(std::ffi::OsStr::from_bytes(name), "1\n");
    }
    repo.add_all();
    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    let seen = files_seen(&log);
    assert_eq!(seen.len(), names.len(), "{seen:?}");
    assert!(
        seen.contains(&"./-rf.py".to_owned()),
        "dash-leading names are passed as ./-name: {seen:?}"
    );
    assert!(seen.contains(&"./--help.py".to_owned()), "{seen:?}");
    assert!(seen.contains(&"new\nline.py".to_owned()), "{seen:?}");
    assert!(seen.contains(&"ünïcödé/файл.py".to_owned()), "{seen:?}");
    assert!(seen.contains(&"not-utf8-\u{FFFD}.py".to_owned()), "{seen:?}");

    // The same through a shell gate: paths are positional parameters, never script text.
    clear_recorded(&log);
    repo.config("[gates.exists]\nkind = \"lint\"\nshell = true\nrun = \"exists {files} && echo ok\"\n");
    repo.add_all();
    let run = repo.gate(&["check", "--staged", "-v"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(files_seen(&log).len(), names.len() + 1, "gates.toml changed too");
}

#[test]
fn a_renamed_file_changes_only_the_lines_whose_content_changed() {
    let repo = TestRepo::new();
    repo.tool("ok", "exit 0");
    repo.config("[gates.ok]\nkind = \"lint\"\nrun = [\"ok\"]\nalways = true\n");
    let body: String = (1..=20).fold(String::new(), |text, i| {
        text + &format!("line number {i} of the module\n")
    });
    repo.write("old.py", &body).commit_all("init");
    repo.git(&["branch", "base"]);
    repo.git(&["mv", "old.py", "new.py"]);
    repo.write("new.py", body.replace("line number 7 of", "line number SEVEN of"));
    repo.git(&["add", "new.py"]);
    repo.git(&["commit", "-q", "-m", "rename"]);
    for (source, staged) in [
        (vec!["check", "--base", "base", "--report", "json=r.json"], false),
        (vec!["check", "--staged", "--report", "json=r.json"], true),
    ] {
        if staged {
            // The same rename, staged rather than committed.
            repo.git(&["reset", "-q", "--soft", "base"]);
        }
        let run = repo.gate(&source);
        assert_eq!(run.code, 0, "{run:?}");
        let report = json(&repo, "r.json");
        let file = report["change_set"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "new.py")
            .cloned()
            .unwrap();
        assert_eq!(file["status"], "renamed", "{source:?}: {file}");
        assert_eq!(file["lines"], serde_json::json!([[7, 7]]), "{source:?}: {file}");
    }
}
