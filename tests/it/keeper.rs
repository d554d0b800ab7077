//! Pre-commit safety, through a real `git commit` with the hook installed: gates see the
//! staged content, and afterwards every byte of the working tree and index is as it was
//! (plus fixes, where asked for).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::TestRepo;

/// A gate that records what it saw of each file it is handed, then passes or fails.
fn seeing_gate(repo: &TestRepo, exit: u8) -> std::path::PathBuf {
    let seen = repo.bin().join("seen");
    repo.tool(
        "look",
        &format!(
            "for f in \"$@\"; do printf '%s:' \"$f\" >> '{0}'; cat \"$f\" >> '{0}'; echo >> '{0}'; done; exit {exit}",
            seen.display()
        ),
    );
    seen
}

const LOOK: &str = "[gates.look]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"look\", \"{files}\"]\n";

fn staged(repo: &TestRepo, path: &str) -> String {
    repo.git(&["show", &format!(":{path}")])
}

fn committed(repo: &TestRepo, path: &str) -> String {
    repo.git(&["show", &format!("HEAD:{path}")])
}

fn no_backup_left(repo: &TestRepo) {
    let dir = repo.root().join(".git/gate/backups");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "backups left: {left:?}");
}

/// A repository with `a.txt` committed, then staged and edited again (partially staged).
fn partially_staged(exit: u8) -> (TestRepo, std::path::PathBuf) {
    partially_staged_at("a.txt", exit)
}

/// [`partially_staged`] with the file at `path`.
fn partially_staged_at(path: &str, exit: u8) -> (TestRepo, std::path::PathBuf) {
    let repo = TestRepo::new();
    let seen = seeing_gate(&repo, exit);
    repo.config(LOOK).write(path, "one\ntwo\nthree\n").commit_all("init");
    repo.install("pre-commit");
    repo.stage(path, "one\nTWO staged\nthree\n")
        .write(path, "one\nTWO staged\nthree\nfour unstaged\n");
    (repo, seen)
}

#[test]
fn gates_see_the_staged_content_and_unstaged_edits_survive_a_commit() {
    let (repo, seen) = partially_staged(0);
    let commit = repo.git_run(&["commit", "-m", "partial"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "a.txt:one\nTWO staged\nthree\n\n"
    );
    assert_eq!(committed(&repo, "a.txt"), "one\nTWO staged\nthree\n");
    assert_eq!(staged(&repo, "a.txt"), "one\nTWO staged\nthree\n");
    assert_eq!(repo.read("a.txt"), "one\nTWO staged\nthree\nfour unstaged\n");
    no_backup_left(&repo);
}

/// An editor holding the file open, or watching its time, sees nothing happen: the file
/// with the unstaged edits is set aside and put back as itself, not rewritten.
#[test]
fn a_file_with_unstaged_edits_comes_back_as_the_same_file() {
    use std::os::unix::fs::MetadataExt;
    let (repo, seen) = partially_staged(0);
    let path = repo.root().join("a.txt");
    let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let before = std::fs::metadata(&path).unwrap();
    let commit = repo.git_run(&["commit", "-m", "partial"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "a.txt:one\nTWO staged\nthree\n\n"
    );
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (after.dev(), after.ino()),
        (before.dev(), before.ino()),
        "the same file"
    );
    assert_eq!(after.modified().unwrap(), old, "never written");
    assert_eq!(repo.read("a.txt"), "one\nTWO staged\nthree\nfour unstaged\n");
    no_backup_left(&repo);
}

/// The file gate put in the tree for one commit is filled again for the next (no new file:
/// see `keeper/spare.rs`): the gate sees exactly the new staged bytes and mode, nothing of
/// the longer content the file held before, and every user byte comes back.
#[test]
fn the_next_commit_fills_the_file_gate_put_before_with_exactly_the_staged_content() {
    let repo = TestRepo::new();
    let seen = repo.bin().join("seen");
    repo.tool(
        "look",
        &format!(
            "for f in \"$@\"; do stat -c '%n %a %i' \"$f\" >> '{0}'; cat \"$f\" >> '{0}'; done",
            seen.display()
        ),
    );
    repo.config(LOOK)
        .write("a.txt", "a\n")
        .write("b.txt", "b\n")
        .commit_all("init");
    repo.install("pre-commit");
    let long = "a long staged line\n".repeat(50);
    repo.stage("a.txt", &long).write("a.txt", format!("{long}a unstaged\n"));
    let first = repo.git_run(&["commit", "-m", "a"], None);
    assert_eq!(first.code, 0, "{first:?}");
    let seen_a = std::fs::read_to_string(&seen).unwrap();
    assert!(seen_a.starts_with("a.txt 644 "), "{seen_a}");
    let inode = seen_a.lines().next().unwrap().rsplit(' ').next().unwrap().to_owned();
    std::fs::remove_file(&seen).unwrap();

    assert_eq!(repo.read("a.txt"), format!("{long}a unstaged\n"));
    // `a.txt` has no unstaged edits now: only `b.txt` is set aside, and gets the spare.
    repo.git(&["add", "a.txt"]);
    repo.stage("b.txt", "b staged\n");
    repo.git(&["update-index", "--chmod=+x", "b.txt"]);
    repo.write("b.txt", "b staged\nb unstaged\n");
    let second = repo.git_run(&["commit", "-m", "b"], None);
    assert_eq!(second.code, 0, "{second:?}");
    let seen_b = std::fs::read_to_string(&seen).unwrap();
    assert!(
        seen_b.ends_with(&format!("\nb.txt 755 {inode}\nb staged\n")),
        "the same file as gate put for `a.txt`, holding b's staged bytes and mode only: {seen_b}"
    );
    assert_eq!(committed(&repo, "b.txt"), "b staged\n");
    assert_eq!(repo.git(&["ls-files", "-s", "b.txt"]).split(' ').next(), Some("100755"));
    assert_eq!(repo.read("b.txt"), "b staged\nb unstaged\n");
    let mode = std::fs::metadata(repo.root().join("b.txt"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o644, "the user's file, not the staged mode");
    no_backup_left(&repo);
}

/// With the git directory on another mount (here tmpfs, `--separate-git-dir`), files
/// cannot be moved into the backup: their bytes are copied into it, and come back.
#[test]
fn a_git_directory_on_another_mount_gets_a_copy_and_every_byte_back() {
    use std::os::unix::fs::MetadataExt;
    let (repo, seen) = partially_staged(0);
    let shm = Path::new("/dev/shm");
    let elsewhere = tempfile::Builder::new()
        .prefix("gate-it-gitdir")
        .tempdir_in(shm)
        .unwrap();
    assert_ne!(
        std::fs::metadata(shm).unwrap().dev(),
        std::fs::metadata(repo.root()).unwrap().dev(),
        "this test needs /dev/shm (tmpfs) on another mount than the temporary directory"
    );
    let git_dir = elsewhere.path().join("git");
    // As `git init --separate-git-dir` leaves it (which cannot itself move a git directory
    // across mounts): the directory elsewhere, a `.git` file pointing at it.
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(repo.root().join(".git"))
        .arg(&git_dir)
        .status()
        .unwrap();
    assert!(copied.success());
    std::fs::remove_dir_all(repo.root().join(".git")).unwrap();
    std::fs::write(repo.root().join(".git"), format!("gitdir: {}\n", git_dir.display())).unwrap();
    assert_eq!(repo.git(&["rev-parse", "--git-dir"]).trim(), git_dir.to_str().unwrap());
    // While the gate runs, it lists the backup: a pack of copied bytes, no moved file.
    let listing = repo.bin().join("listing");
    repo.tool(
        "look",
        &format!(
            "cat \"$@\" >> '{}'; cd '{}/gate/backups' && ls */ */files > '{}'",
            seen.display(),
            git_dir.display(),
            listing.display()
        ),
    );
    let commit = repo.git_run(&["commit", "-m", "partial"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "one\nTWO staged\nthree\n");
    let listed = std::fs::read_to_string(&listing).unwrap();
    assert!(listed.contains("worktree.pack"), "{listed}");
    assert!(!listed.lines().any(|l| l.trim() == "0"), "nothing moved: {listed}");
    assert_eq!(committed(&repo, "a.txt"), "one\nTWO staged\nthree\n");
    assert_eq!(repo.read("a.txt"), "one\nTWO staged\nthree\nfour unstaged\n");
    assert!(
        std::fs::read_dir(git_dir.join("gate/backups"))
            .unwrap()
            .next()
            .is_none()
    );
}

/// A file in a directory whose names cannot change (read-only to the user; here immutable,
/// which binds root too) cannot be moved aside: its bytes are copied and written back, as
/// its own permissions allow, and the commit goes through.
#[test]
fn a_file_in_a_directory_gate_cannot_rename_in_is_copied_and_comes_back() {
    let (repo, seen) = partially_staged_at("locked/a.txt", 0);
    let locked = repo.root().join("locked");
    let chattr = |flag: &str| std::process::Command::new("chattr").arg(flag).arg(&locked).status();
    let set = chattr("+i");
    assert!(
        set.as_ref().is_ok_and(std::process::ExitStatus::success),
        "this test needs `chattr +i` (e2fsprogs, and the CAP_LINUX_IMMUTABLE capability): {set:?}"
    );
    let commit = repo.git_run(&["commit", "-m", "locked"], None);
    chattr("-i").unwrap();
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "locked/a.txt:one\nTWO staged\nthree\n\n"
    );
    assert_eq!(committed(&repo, "locked/a.txt"), "one\nTWO staged\nthree\n");
    assert_eq!(repo.read("locked/a.txt"), "one\nTWO staged\nthree\nfour unstaged\n");
    no_backup_left(&repo);
}

#[test]
fn a_failing_gate_leaves_index_and_working_tree_exactly_as_they_were() {
    let (repo, _) = partially_staged(1);
    let before = repo.git(&["rev-parse", "HEAD"]);
    let commit = repo.git_run(&["commit", "-m", "partial"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), before);
    assert_eq!(staged(&repo, "a.txt"), "one\nTWO staged\nthree\n");
    assert_eq!(repo.read("a.txt"), "one\nTWO staged\nthree\nfour unstaged\n");
    no_backup_left(&repo);
}

#[test]
fn a_gate_that_reads_the_whole_project_names_the_untracked_files_it_sees() {
    let repo = TestRepo::new();
    // The suite imports `helper.py`: it passes only while that untracked file is there,
    // though the commit lacks it.
    repo.tool(
        "suite",
        "[ -f helper.py ] || { echo 'ModuleNotFoundError: helper'; exit 1; }",
    )
    .tool("lint", "exit 0");
    repo.config("[gates.suite]\nkind = \"test\"\nfiles = [\"*.py\"]\nrun = [\"suite\"]\n[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"lint\", \"{files}\"]\n")
        .write(".gitignore", "ignored.py\n")
        .write("app.py", "print(1)\n")
        .write("helper.py", "X = 1\n")
        .commit_all("init");
    repo.install("pre-commit");
    repo.git(&["rm", "-q", "--cached", "helper.py"]);
    repo.write("app.py", "import helper\n")
        .write("ignored.py", "")
        .write("notes.txt", "todo\n")
        .write("pkg/new.py", "Y = 2\n");
    repo.git(&["add", "app.py"]);
    let commit = repo.git_run(&["commit", "-q", "-m", "use helper"], None);
    assert_eq!(
        commit.code, 0,
        "a note, not a failure (as with pre-commit's stash): {commit:?}"
    );
    let said = format!("{}{}", commit.stdout, commit.stderr);
    assert!(
        said.contains("note: `suite` reads the whole project, which holds untracked files the commit lacks: `helper.py`, `pkg/new.py`; `git add` them, or ignore them"),
        "{said}"
    );
    assert!(!said.contains("ignored.py") && !said.contains("notes.txt"), "{said}");
    assert_eq!(repo.read("helper.py"), "X = 1\n", "untracked files stay where they are");

    // Gates handed only the staged files see no untracked file: nothing to say.
    repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"lint\", \"{files}\"]\n");
    repo.write("app.py", "print(2)\n");
    repo.git(&["add", "app.py", "gates.toml"]);
    let commit = repo.git_run(&["commit", "-q", "-m", "lint only"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert!(
        !format!("{}{}", commit.stdout, commit.stderr).contains("untracked"),
        "{commit:?}"
    );
}

#[test]
fn untracked_ignored_and_clean_files_are_never_touched_and_other_edits_come_back() {
    let repo = TestRepo::new();
    seeing_gate(&repo, 0);
    repo.config(LOOK)
        .write("a.txt", "one\n")
        .write(".gitignore", "ignored.txt\n")
        .write("other.txt", "x\n")
        .write("clean.txt", "c\n")
        .commit_all("init");
    repo.install("pre-commit");
    repo.stage("a.txt", "one\nTWO staged\nthree\n")
        .write("a.txt", "one\nTWO staged\nthree\nfour unstaged\n")
        .write("other.txt", "edited, not staged\n")
        .write("untracked.txt", "u\n")
        .write("ignored.txt", "i\n");
    let untouched = ["clean.txt", "untracked.txt", "ignored.txt"];
    let mtime = |p: &str| std::fs::metadata(repo.root().join(p)).unwrap().modified().unwrap();
    let before: Vec<_> = untouched.iter().map(|p| mtime(p)).collect();
    std::thread::sleep(Duration::from_millis(20));
    let commit = repo.git_run(&["commit", "-m", "partial"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    let after: Vec<_> = untouched.iter().map(|p| mtime(p)).collect();
    assert_eq!(before, after, "not even rewritten with the same bytes");
    assert_eq!(repo.read("other.txt"), "edited, not staged\n");
    assert_eq!(repo.read("untracked.txt"), "u\n");
    assert_eq!(repo.read("a.txt"), "one\nTWO staged\nthree\nfour unstaged\n");
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        " M a.txt\n M other.txt\n?? untracked.txt\n"
    );
}

#[test]
fn a_staged_file_deleted_in_the_working_tree_is_checked_then_deleted_again() {
    let repo = TestRepo::new();
    let seen = seeing_gate(&repo, 0);
    repo.config(LOOK).write("a.txt", "one\n").commit_all("init");
    repo.install("pre-commit");
    repo.write("a.txt", "staged\n");
    repo.git(&["add", "a.txt"]);
    std::fs::remove_file(repo.root().join("a.txt")).unwrap();
    let commit = repo.git_run(&["commit", "-m", "x"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "a.txt:staged\n\n");
    assert!(!repo.root().join("a.txt").exists());
    assert_eq!(committed(&repo, "a.txt"), "staged\n");
}

fn fixer_repo(on_fix: &str) -> TestRepo {
    let repo = TestRepo::new();
    // Upper-cases the first line of each file.
    repo.tool("fmt", "for f in \"$@\"; do sed -i '1s/.*/\\U&/' \"$f\"; done");
    repo.config(&format!(
        "[gates.fmt]\nkind = \"format\"\nfiles = [\"*.txt\"]\nrun = [\"false\"]\nfix = [\"fmt\", \"{{files}}\"]\non_fix = \"{on_fix}\"\n"
    ))
    .write("a.txt", "one\ntwo\nthree\n")
    .commit_all("init");
    repo.install("pre-commit");
    repo
}

#[test]
fn a_fix_to_a_fully_staged_file_fails_the_commit_and_stays_in_the_working_tree() {
    let repo = fixer_repo("fail");
    repo.write("a.txt", "changed\ntwo\nthree\n");
    repo.git(&["add", "a.txt"]);
    let commit = repo.git_run(&["commit", "-m", "x"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert!(
        commit.stderr.contains("fmt") && commit.stderr.contains("fixed"),
        "{commit:?}"
    );
    assert!(
        commit.stderr.contains("-changed\n+CHANGED"),
        "the diff is shown: {commit:?}"
    );
    assert_eq!(repo.read("a.txt"), "CHANGED\ntwo\nthree\n");
    assert_eq!(staged(&repo, "a.txt"), "changed\ntwo\nthree\n");
}

#[test]
fn on_fix_stage_puts_the_fix_into_the_commit() {
    let repo = fixer_repo("stage");
    repo.write("a.txt", "changed\ntwo\nthree\n");
    repo.git(&["add", "a.txt"]);
    let commit = repo.git_run(&["commit", "-m", "x"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert!(commit.stderr.contains("fixed and staged 1 file"), "{commit:?}");
    assert_eq!(committed(&repo, "a.txt"), "CHANGED\ntwo\nthree\n");
    assert_eq!(repo.read("a.txt"), "CHANGED\ntwo\nthree\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn content_filter_drivers_apply_both_ways_as_git_applies_them() {
    // A filter driver (as git-lfs and git-crypt are): the blob holds each line reversed,
    // the working tree the line as written.
    let repo = TestRepo::new();
    repo.git(&["config", "filter.rev.clean", "rev"]);
    repo.git(&["config", "filter.rev.smudge", "rev"]);
    let seen = repo.bin().join("seen");
    repo.tool("ok", &format!("cat \"$@\" >> '{}'", seen.display()))
        .tool("upper", crate::common::UPPERCASE);
    repo.config("[gates.up]\nkind = \"format\"\nfiles = [\"*.txt\"]\nrun = [\"ok\", \"{files}\"]\nfix = [\"upper\", \"{files}\"]\non_fix = \"stage\"\n[gates.look]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"ok\", \"{files}\"]\n")
        .write(".gitattributes", "*.txt filter=rev\n")
        .write("a.txt", "one\n")
        .write("b.txt", "bee\n")
        .commit_all("init");
    assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "eno\n", "the blob is the clean form");
    repo.install("pre-commit");
    // A fix staged: what goes into the commit is the clean form of the fixed file.
    repo.write("a.txt", "one\ntwo\n");
    repo.git(&["add", "a.txt"]);
    let commit = repo.git_run(&["commit", "-q", "-m", "fix"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "ENO\nOWT\n", "{commit:?}");
    assert_eq!(repo.read("a.txt"), "ONE\nTWO\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    // Staged content put in place of unstaged edits is what a checkout writes.
    repo.config("[gates.look]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"ok\", \"{files}\"]\n");
    repo.write("b.txt", "bee\nstaged\n");
    repo.git(&["add", "b.txt", "gates.toml"]);
    repo.write("b.txt", "bee\nstaged\nunstaged\n");
    let _ = std::fs::remove_file(&seen);
    let commit = repo.git_run(&["commit", "-q", "-m", "b"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "bee\nstaged\n",
        "the tool saw the checked-out form"
    );
    assert_eq!(repo.read("b.txt"), "bee\nstaged\nunstaged\n");
    assert_eq!(repo.git(&["show", "HEAD:b.txt"]), "eeb\ndegats\n");
}

#[test]
fn a_fix_to_a_partially_staged_file_is_merged_but_not_staged() {
    let repo = fixer_repo("stage");
    repo.write("a.txt", "changed\ntwo\nthree\n");
    repo.git(&["add", "a.txt"]);
    repo.write("a.txt", "changed\ntwo\nthree\nunstaged\n");
    let commit = repo.git_run(&["commit", "-m", "x"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert!(
        commit
            .stderr
            .contains("the fix to `a.txt` is in the working tree but not staged"),
        "{commit:?}"
    );
    assert!(commit.stderr.contains("merged the fix to `a.txt`"), "{commit:?}");
    assert_eq!(repo.read("a.txt"), "CHANGED\ntwo\nthree\nunstaged\n");
    assert_eq!(staged(&repo, "a.txt"), "changed\ntwo\nthree\n");
    no_backup_left(&repo);
}

#[test]
fn when_a_fix_conflicts_with_unstaged_edits_the_edits_win_and_the_fix_is_kept_as_a_patch() {
    let repo = fixer_repo("fail");
    repo.write("a.txt", "changed\ntwo\nthree\n");
    repo.git(&["add", "a.txt"]);
    repo.write("a.txt", "mine\ntwo\nthree\n");
    let commit = repo.git_run(&["commit", "-m", "x"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert_eq!(repo.read("a.txt"), "mine\ntwo\nthree\n");
    assert_eq!(staged(&repo, "a.txt"), "changed\ntwo\nthree\n");
    assert!(
        commit.stderr.contains("conflicts with your unstaged changes"),
        "{commit:?}"
    );
    let patches: Vec<_> = std::fs::read_dir(repo.root().join(".git/gate/fixes"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(patches.len(), 1, "{patches:?}");
    let patch = std::fs::read_to_string(&patches[0]).unwrap();
    assert!(
        patch.contains("--- a/a.txt\n+++ b/a.txt\n") && patch.contains("-changed\n+CHANGED\n"),
        "{patch}"
    );
    let hinted = format!("git apply --cached {}", patches[0].display());
    assert!(commit.stderr.contains(&hinted), "{commit:?}");
    no_backup_left(&repo);
    // The command the hint names works: the fix is staged, the user's edit stays.
    let applied = repo.git_run(&["apply", "--cached", patches[0].to_str().unwrap()], None);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(staged(&repo, "a.txt"), "CHANGED\ntwo\nthree\n");
    assert_eq!(repo.read("a.txt"), "mine\ntwo\nthree\n");
    // Saved fixes older than 30 days go at the next pre-commit run; newer ones stay.
    let old = std::fs::File::options().write(true).open(&patches[0]).unwrap();
    old.set_modified(std::time::SystemTime::now() - Duration::from_hours(31 * 24))
        .unwrap();
    drop(old);
    let run = repo.gate(&["check", "--staged"]);
    assert!(run.code <= 1, "{run:?}");
    assert!(!patches[0].exists(), "a 31-day-old fix patch is cleaned");
}

#[test]
fn a_timeout_or_crash_still_restores() {
    for script in ["sleep 30", "kill -SEGV $$"] {
        let repo = TestRepo::new();
        repo.tool("bad", script);
        repo.config("[gates.bad]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"bad\"]\ntimeout = \"1s\"\n")
            .write("a.txt", "one\n")
            .commit_all("init");
        repo.install("pre-commit");
        repo.write("a.txt", "staged\n");
        repo.git(&["add", "a.txt"]);
        repo.write("a.txt", "staged\nunstaged\n");
        let commit = repo.git_run(&["commit", "-m", "x"], None);
        assert_ne!(commit.code, 0, "{script}: {commit:?}");
        assert_eq!(repo.read("a.txt"), "staged\nunstaged\n", "{script}");
        assert_eq!(staged(&repo, "a.txt"), "staged\n");
        no_backup_left(&repo);
    }
}

/// Starts `gate check --staged` on a partially staged repository whose gate hangs, and
/// returns once the gate runs (the working tree then shows the staged content).
fn hanging_run(repo: &TestRepo) -> std::process::Child {
    let started = repo.root().join(".git/started");
    repo.tool("hang", &format!("touch '{}'; sleep 60", started.display()));
    repo.config("[gates.hang]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"hang\"]\n")
        .write("a.txt", "one\n")
        .write("b.bin", b"\x00\x01binary\xff")
        .commit_all("init");
    repo.write("a.txt", "staged\n").write("b.bin", b"\x00staged\xff");
    repo.git(&["add", "a.txt", "b.bin"]);
    repo.write("a.txt", "staged\nunstaged\n")
        .write("b.bin", b"\x00unstaged\xfe");
    let child = repo
        .gate_command(&["check", "--staged"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the gate did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        repo.read("a.txt"),
        "staged\n",
        "while gates run the tree shows the staged content"
    );
    child
}

fn unstaged_intact(repo: &TestRepo) {
    assert_eq!(repo.read("a.txt"), "staged\nunstaged\n");
    assert_eq!(std::fs::read(repo.root().join("b.bin")).unwrap(), b"\x00unstaged\xfe");
    assert_eq!(staged(repo, "a.txt"), "staged\n");
}

#[test]
fn ctrl_c_and_sigterm_restore_before_exiting() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let repo = TestRepo::new();
        let mut child = hanging_run(&repo);
        // SAFETY: signalling a child we started.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "128 + the signal, as shells report it");
        unstaged_intact(&repo);
        no_backup_left(&repo);
    }
}

#[test]
fn after_kill_9_gate_refuses_to_run_until_recover_restores() {
    let repo = TestRepo::new();
    let mut child = hanging_run(&repo);
    child.kill().unwrap();
    child.wait().unwrap();
    // The hanging gate's `sleep` outlives its parent; it holds nothing gate needs.
    assert_eq!(repo.read("a.txt"), "staged\n", "nothing could run after SIGKILL");

    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("an interrupted gate run left a backup of your unstaged changes"),
        "{run:?}"
    );
    assert!(run.stderr.contains("hint: run `gate recover`"), "{run:?}");

    let list = repo.gate(&["recover", "--list"]);
    assert_eq!(list.code, 0, "{list:?}");
    assert!(
        list.stdout.contains("2 files:") && list.stdout.contains("    a.txt") && list.stdout.contains("    b.bin"),
        "{list:?}"
    );

    let recover = repo.gate(&["recover"]);
    assert_eq!(recover.code, 0, "{recover:?}");
    unstaged_intact(&repo);
    no_backup_left(&repo);
    repo.tool("hang", "exit 0");
    assert_eq!(repo.gate(&["check", "--staged"]).code, 0);
}

#[test]
fn a_second_run_waits_for_the_first() {
    let repo = TestRepo::new();
    let mut first = hanging_run(&repo);
    let mut second = repo
        .gate_command(&["check", "--staged"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(second.try_wait().unwrap().is_none(), "the second run waits");
    // Ctrl-C while it waits stops it at once, touching nothing.
    // SAFETY: signalling a child we started.
    unsafe { libc::kill(second.id() as i32, libc::SIGINT) };
    let output = second.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("waiting for another gate run"), "{stderr}");
    // SAFETY: as above.
    unsafe { libc::kill(first.id() as i32, libc::SIGINT) };
    assert_eq!(first.wait().unwrap().code(), Some(130));
    unstaged_intact(&repo);
}

#[test]
fn edge_cases_keep_every_byte() {
    let repo = TestRepo::new();
    let seen = seeing_gate(&repo, 0);
    repo.config("[gates.look]\nkind = \"lint\"\nrun = [\"look\", \"{files}\"]\n");
    repo.git(&["config", "core.autocrlf", "true"]);
    let names = [
        "crlf.txt",
        "with space.txt",
        "ünï cödé.txt",
        "bin.dat",
        "exec.sh",
        "old name.txt",
    ];
    repo.write("crlf.txt", "a\r\nb\r\n")
        .write("with space.txt", "1\n")
        .write("ünï cödé.txt", "1\n")
        .write("bin.dat", b"\x00\x01\x02")
        .write("exec.sh", "#!/bin/sh\n")
        .write(
            "old name.txt",
            "rename me\nwith enough lines\nto be found\nas a rename\n",
        )
        .commit_all("init");
    repo.install("pre-commit");
    // Staged edits, then different unstaged edits on top of each.
    repo.write("crlf.txt", "a\r\nstaged\r\n")
        .write("with space.txt", "staged\n")
        .write("ünï cödé.txt", "staged\n");
    repo.write("bin.dat", b"\x00staged\x02");
    repo.git(&["mv", "old name.txt", "new name.txt"]);
    repo.git(&["add", "-A"]);
    repo.git(&["update-index", "--chmod=+x", "exec.sh"]); // staged +x, working tree stays -x
    repo.write("crlf.txt", "a\r\nstaged\r\nunstaged\r\n")
        .write("with space.txt", "staged\nunstaged\n")
        .write("ünï cödé.txt", "staged\nunstaged\n")
        .write("bin.dat", b"\x00unstaged\x03")
        .write(
            "new name.txt",
            "rename me\nwith enough lines\nto be found\nas a rename\nunstaged\n",
        )
        .write("intent.txt", "not staged\n");
    repo.git(&["add", "-N", "intent.txt"]);
    let mode = |p: &str| std::fs::metadata(repo.root().join(p)).unwrap().permissions().mode() & 0o777;
    let before_mode = mode("exec.sh");
    let commit = repo.git_run(&["commit", "-m", "edge"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    let seen = std::fs::read_to_string(&seen).unwrap();
    // Gates see what a checkout of the index gives: with core.autocrlf, CRLF line ends.
    assert!(seen.contains("crlf.txt:a\r\nstaged\r\n\n"), "{seen:?}");
    assert!(seen.contains("with space.txt:staged\r\n\n"), "{seen:?}");
    assert!(seen.contains("bin.dat:\0staged\x02\n"), "{seen:?}");
    assert!(
        seen.contains("new name.txt:rename me\r\nwith enough lines\r\nto be found\r\nas a rename\r\n\n"),
        "{seen:?}"
    );
    assert!(!seen.contains("intent.txt"), "{seen:?}");
    assert_eq!(repo.read("crlf.txt"), "a\r\nstaged\r\nunstaged\r\n");
    assert_eq!(repo.read("with space.txt"), "staged\nunstaged\n");
    assert_eq!(repo.read("ünï cödé.txt"), "staged\nunstaged\n");
    assert_eq!(std::fs::read(repo.root().join("bin.dat")).unwrap(), b"\x00unstaged\x03");
    assert_eq!(
        repo.read("new name.txt"),
        "rename me\nwith enough lines\nto be found\nas a rename\nunstaged\n"
    );
    assert_eq!(repo.read("intent.txt"), "not staged\n");
    assert_eq!(mode("exec.sh"), before_mode, "the working tree keeps its mode");
    assert!(repo.git(&["ls-files", "-s", "exec.sh"]).starts_with("100755"));
    assert_eq!(committed(&repo, "crlf.txt"), "a\nstaged\n", "autocrlf stores LF");
    assert_eq!(repo.git(&["show", "HEAD:bin.dat"]).as_bytes(), b"\x00staged\x02");
    for name in names.iter().filter(|n| **n != "old name.txt") {
        assert!(repo.root().join(name).exists(), "{name}");
    }
    no_backup_left(&repo);
}

#[test]
fn first_commit_merge_in_progress_subdirectory_and_temporary_indexes() {
    // No commit yet, partially staged.
    let repo = TestRepo::new();
    let seen = seeing_gate(&repo, 0);
    repo.config(LOOK).write("a.txt", "staged\n");
    repo.git(&["add", "-A"]);
    repo.install("pre-commit");
    repo.write("a.txt", "staged\nunstaged\n");
    let commit = repo.git_run(&["commit", "-m", "root"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(committed(&repo, "a.txt"), "staged\n");
    assert_eq!(repo.read("a.txt"), "staged\nunstaged\n");

    // A merge in progress, committed from a subdirectory.
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("side.txt", "side\n");
    repo.git(&["add", "side.txt"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "side"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write("sub/main.txt", "main\n");
    repo.git(&["add", "sub/main.txt"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "main"]);
    assert_eq!(repo.git_run(&["merge", "--no-commit", "side"], None).code, 0);
    assert!(repo.root().join(".git/MERGE_HEAD").exists());
    std::fs::remove_file(&seen).unwrap();
    let mut commit = std::process::Command::new("git");
    commit
        .args(["commit", "-m", "merge"])
        .current_dir(repo.root().join("sub"))
        .env_clear()
        .env("PATH", repo.path_var())
        .env("HOME", repo.root())
        .env("GIT_CONFIG_NOSYSTEM", "1");
    let output = commit.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "side.txt:side\n\n");
    assert_eq!(repo.read("a.txt"), "staged\nunstaged\n");

    // `git commit -a` and `git commit PATH` leave other unstaged edits alone.
    repo.write("b.txt", "b\n");
    repo.git(&["add", "b.txt"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "b"]);
    repo.write("b.txt", "b2\n");
    let commit = repo.git_run(&["commit", "-m", "path", "b.txt"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(committed(&repo, "b.txt"), "b2\n");
    assert_eq!(
        repo.read("a.txt"),
        "staged\nunstaged\n",
        "commit PATH leaves a.txt's edit alone"
    );
    let commit = repo.git_run(&["commit", "-a", "-m", "all"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(committed(&repo, "a.txt"), "staged\nunstaged\n");
    no_backup_left(&repo);
}

#[test]
fn submodules_are_left_alone() {
    let inner = TestRepo::new();
    inner.write("lib.txt", "lib\n").commit_all("lib");
    let repo = TestRepo::new();
    seeing_gate(&repo, 0);
    repo.config(LOOK).write("a.txt", "a\n").commit_all("init");
    let added = repo.git_run(
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            inner.root().to_str().unwrap(),
            "sub",
        ],
        None,
    );
    assert_eq!(added.code, 0, "{added:?}");
    repo.git(&["commit", "-q", "--no-verify", "-m", "submodule"]);
    repo.install("pre-commit");
    std::fs::write(repo.root().join("sub/lib.txt"), "edited inside\n").unwrap();
    repo.write("a.txt", "staged\n");
    repo.git(&["add", "a.txt"]);
    let commit = repo.git_run(&["commit", "-m", "x"], None);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert_eq!(
        std::fs::read_to_string(repo.root().join("sub/lib.txt")).unwrap(),
        "edited inside\n"
    );
}

#[test]
fn the_backup_does_not_depend_on_the_index() {
    // The index copy in the backup is what the index was, whatever happens to the live one.
    let (repo, _) = partially_staged(0);
    let mut child = {
        let started = repo.root().join(".git/started");
        repo.tool("look", &format!("touch '{}'; sleep 60", started.display()));
        let child = repo
            .gate_command(&["check", "--staged"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !started.exists() {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    };
    let index_before = std::fs::read(repo.root().join(".git/index")).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let backups: Vec<_> = std::fs::read_dir(repo.root().join(".git/gate/backups"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read(backups[0].path().join("index")).unwrap(), index_before);
    std::fs::remove_file(repo.root().join(".git/index")).unwrap();
    let recover = repo.gate(&["recover"]);
    assert_eq!(recover.code, 0, "{recover:?}");
    assert_eq!(repo.read("a.txt"), "one\nTWO staged\nthree\nfour unstaged\n");
    assert!(
        Path::new(&repo.root().join(".git/gate/backups"))
            .read_dir()
            .unwrap()
            .next()
            .is_none()
    );
}

#[test]
fn a_panic_in_gate_itself_restores() {
    let (repo, _) = partially_staged(0);
    let run = repo.gate_env(&["check", "--staged"], &[("GATE_FAULT", "panic-after-stash")]);
    assert_eq!(run.code, 101, "{run:?}");
    assert!(run.stderr.contains("injected fault"), "{run:?}");
    assert_eq!(repo.read("a.txt"), "one\nTWO staged\nthree\nfour unstaged\n");
    assert_eq!(staged(&repo, "a.txt"), "one\nTWO staged\nthree\n");
    no_backup_left(&repo);
}

#[test]
fn a_fixer_never_runs_beside_a_gate_that_shares_its_files() {
    let repo = TestRepo::new();
    let lock = repo.root().join(".git/busy");
    // Both tools fail if the other is running: a directory serves as the flag.
    let exclusive = format!(
        "mkdir '{0}' 2>/dev/null || {{ echo overlap; exit 1; }}; sleep 0.3; rmdir '{0}'",
        lock.display()
    );
    repo.tool("fixer", &exclusive)
        .tool("reader", &exclusive)
        .tool("other", "sleep 0.3");
    repo.config(
        "[gates.fix]\nkind = \"format\"\nfiles = [\"*.txt\"]\nrun = [\"true\"]\nfix = [\"fixer\", \"{files}\"]\n\
         [gates.read]\nkind = \"lint\"\nfiles = [\"*.txt\"]\nrun = [\"reader\", \"{files}\"]\n\
         [gates.elsewhere]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"other\", \"{files}\"]\n",
    )
    .write("a.txt", "a\n")
    .write("b.py", "b\n")
    .commit_all("init");
    repo.write("a.txt", "a2\n").write("b.py", "b2\n");
    let start = Instant::now();
    let run = repo.gate(&["check", "--fix", "--jobs", "3"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.status("fix"), "passed");
    assert_eq!(run.status("read"), "passed");
    assert!(
        start.elapsed() >= Duration::from_millis(600),
        "the fixer and the reader ran one after the other"
    );
}

#[test]
fn check_fix_by_hand_applies_fixes_and_ci_never_runs_fixers() {
    let repo = fixer_repo("fail");
    repo.write("a.txt", "changed\ntwo\nthree\n");
    let run = repo.gate_env(&["check", "--fix"], &[("CI", "true")]);
    assert_eq!(run.code, 1, "in CI the checker (`false`) runs: {run:?}");
    assert!(run.stderr.contains("fixers never run in CI"), "{run:?}");
    assert_eq!(repo.read("a.txt"), "changed\ntwo\nthree\n");

    let run = repo.gate(&["check", "--fix"]);
    assert_eq!(run.code, 0, "asked-for fixes are success: {run:?}");
    assert_eq!(run.status("fmt"), "fixed");
    assert!(run.stdout.contains("-changed\n+CHANGED"), "{run:?}");
    assert_eq!(repo.read("a.txt"), "CHANGED\ntwo\nthree\n");
}
