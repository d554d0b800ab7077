//! Randomized: random repositories with random staged and unstaged edits, deletions and
//! mode changes (in staged files and in files with nothing staged) across text and binary
//! files, random gates (pass, fail, fixer, crashing fixer, fixer killed by a
//! `timeout`), and after every run: no unstaged byte lost, the index as the user staged it
//! (plus fixes where `on_fix = "stage"` applies). Seeded, so a failure replays.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use crate::common::TestRepo;

/// A small deterministic generator (`SplitMix64`), so every case can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const FIX_PREFIX: &[u8] = b"# fixed\n";

fn content(rng: &mut Rng, binary: bool) -> Vec<Vec<u8>> {
    (0..4 + rng.below(4))
        .map(|i| {
            let mut line = format!("line {i} {}\n", rng.next() % 1000).into_bytes();
            if binary && i == 1 {
                line.extend_from_slice(b"\x00\xff\x01\n");
            }
            line
        })
        .collect()
}

fn edit(rng: &mut Rng, lines: &mut Vec<Vec<u8>>, tag: &str) {
    // Lines 0 and 1 stay: the fixer inserts above them, so most merges are clean.
    let at = 2 + rng.below((lines.len() - 2) as u64);
    if rng.chance(70) {
        lines[at] = format!("{tag} {}\n", rng.next() % 1000).into_bytes();
    } else {
        lines.push(format!("{tag} appended\n").into_bytes());
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum GateKind {
    Pass,
    Fail,
    Fixer,
    CrashingFixer,
    SlowFixer,
}

#[test]
fn random_repositories_never_lose_a_byte() {
    let mut seen = Tally::default();
    for seed in 0..200 {
        run_case(seed, &mut seen);
    }
    // The cases must reach every interesting path, or the test proves little.
    assert!(seen.merged > 10, "{seen:?}");
    assert!(seen.kept_by_user > 10, "{seen:?}");
    assert!(seen.restaged > 5, "{seen:?}");
    assert!(seen.partially_staged > 50, "{seen:?}");
}

/// How often each outcome occurred over all cases.
#[derive(Debug, Default)]
struct Tally {
    /// A fix merged with the user's unstaged edits.
    merged: usize,
    /// A fix that changed a file with unstaged edits, where the user's bytes were kept.
    kept_by_user: usize,
    restaged: usize,
    partially_staged: usize,
}

/// One generated repository, staged and edited, with what the user had before the run.
struct Case {
    repo: TestRepo,
    names: Vec<String>,
    originals: BTreeMap<String, Vec<Vec<u8>>>,
    staged: BTreeMap<String, Vec<Vec<u8>>>,
    /// The working tree before the run (`None`: deleted).
    worktree: BTreeMap<String, Option<Vec<u8>>>,
    /// Permission bits of the files that exist before the run (some changed, unstaged).
    modes: BTreeMap<String, u32>,
    kind: GateKind,
    on_fix: &'static str,
}

fn run_case(seed: u64, tally: &mut Tally) {
    let case = generate(seed);
    let index_before = case.repo.git(&["ls-files", "-s"]);
    // Odd seeds copy the user's files into the backup, as on another mount, instead of
    // moving them (with and without content filters, see `generate`).
    let fault = if seed % 2 == 1 { "copy-backup" } else { "" };
    let result = case.repo.gate_env(&["hook", "pre-commit"], &[("GATE_FAULT", fault)]);
    let context = format!(
        "seed {seed} ({fault}), gate {:?}, on_fix {}: {result:?}",
        case.kind, case.on_fix
    );
    if matches!(case.kind, GateKind::CrashingFixer | GateKind::SlowFixer) && !result.stdout.contains("skipped") {
        assert_eq!(result.code, 2, "a fixer that did not finish is an error: {context}");
    }
    // On a loaded machine even the quick fixer can pass its timeout: it then made no fix,
    // and the verdict says so.
    let undone = result.stdout.contains("was undone") || result.stderr.contains("was undone");
    let fixer_ran = case.kind == GateKind::Fixer && !undone;
    let restaged = check_worktree(&case, &context, tally, fixer_ran);
    check_index(&case, &index_before, &restaged, &context);
}

fn generate(seed: u64) -> Case {
    let mut rng = Rng(seed.wrapping_mul(7919) + 17);
    let repo = TestRepo::new();
    // Half the cases with a setting that may convert content: the set-aside then checks
    // out through libgit2's filters instead of writing the blobs itself (the content here
    // has no CRLF, so what the user expects is the same).
    if seed % 4 >= 2 {
        repo.git(&["config", "core.autocrlf", "input"]);
    }
    let names: Vec<String> = (0..2 + rng.below(4))
        .map(|i| format!("f{i}.{}", if i == 0 { "bin" } else { "txt" }))
        .collect();
    let mut originals = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let lines = content(&mut rng, i == 0);
        repo.write(name, lines.concat());
        originals.insert(name.clone(), lines);
    }
    // The gate and its tools.
    let kind = [
        GateKind::Pass,
        GateKind::Fail,
        GateKind::Fixer,
        GateKind::CrashingFixer,
        GateKind::SlowFixer,
    ][match rng.below(10) {
        0 | 1 => 0,
        2 => 1,
        3..=6 => 2,
        7 | 8 => 3,
        _ => 4,
    }];
    let on_fix = if rng.chance(50) { "stage" } else { "fail" };
    let prefix = "for f in \"$@\"; do if [ -e \"$f\" ]; then { printf '# fixed\\n'; cat \"$f\"; } > \"$f.tmp\" && cat \"$f.tmp\" > \"$f\" && rm \"$f.tmp\"; fi; done";
    repo.tool("pass", "exit 0").tool("fail", "exit 1").tool("fixer", prefix);
    repo.tool("crasher", &format!("{prefix}\nkill -SEGV $$"));
    repo.tool("slow", &format!("{prefix}\nsleep 5"));
    let (run, fix) = match kind {
        GateKind::Pass => ("pass", None),
        GateKind::Fail => ("fail", None),
        GateKind::Fixer => ("fail", Some("fixer")),
        GateKind::CrashingFixer => ("fail", Some("crasher")),
        GateKind::SlowFixer => ("fail", Some("slow")),
    };
    let fix_line = fix
        .map(|f| format!("fix = [\"{f}\", \"{{files}}\"]\n"))
        .unwrap_or_default();
    repo.config(&format!(
        "[gates.g]\nkind = \"format\"\nfiles = [\"f*\"]\nrun = [\"{run}\", \"{{files}}\"]\n{fix_line}on_fix = \"{on_fix}\"\ntimeout = \"500ms\"\n"
    ))
    .commit_all("init");

    // Random staged edits, then random unstaged edits (or deletions) on top.
    let mut staged = originals.clone();
    for name in &names {
        if rng.chance(70) {
            let lines = staged.get_mut(name).unwrap();
            edit(&mut rng, lines, "staged");
            repo.write(name, lines.concat());
            repo.git(&["add", "--", name]);
        }
    }
    let mut worktree: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
    for name in &names {
        let mut lines = staged[name].clone();
        let value = if rng.chance(10) {
            std::fs::remove_file(repo.root().join(name)).unwrap();
            None
        } else {
            if rng.chance(50) {
                edit(&mut rng, &mut lines, "unstaged");
                repo.write(name, lines.concat());
            }
            Some(lines.concat())
        };
        worktree.insert(name.clone(), value);
    }
    let mut modes = BTreeMap::new();
    for name in &names {
        let path = repo.root().join(name);
        if path.exists() {
            if rng.chance(15) {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            modes.insert(
                name.clone(),
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777,
            );
        }
    }
    Case {
        repo,
        names,
        originals,
        staged,
        worktree,
        modes,
        kind,
        on_fix,
    }
}

/// Every file holds the user's bytes, or (where a fixer changed it) those bytes with the fix
/// merged in. Returns the files whose fix went into the index.
fn check_worktree(case: &Case, context: &str, tally: &mut Tally, fixer_ran: bool) -> Vec<String> {
    let repo = &case.repo;
    assert!(
        !repo
            .root()
            .join(".git/gate/backups")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some()),
        "backup left: {context}"
    );
    // A fixer that crashed or timed out made no fix: what it wrote was undone.
    let kept_fixes = repo.root().join(".git/gate/fixes").exists();
    let mut restaged = Vec::new();
    for name in &case.names {
        let user = &case.worktree[name];
        let now = std::fs::read(repo.root().join(name)).ok();
        if let Some(mode) = case.modes.get(name) {
            let after = std::fs::metadata(repo.root().join(name)).unwrap().permissions().mode() & 0o7777;
            assert_eq!(after, *mode, "{name} keeps its mode: {context}");
        }
        // A mode change not staged is an unstaged change too.
        let fully_staged =
            user.as_deref() == Some(case.staged[name].concat().as_slice()) && case.modes.get(name) == Some(&0o644);
        let fixed = user.as_ref().map(|u| [FIX_PREFIX, u].concat());
        let staged_change = case.staged[name] != case.originals[name];
        if staged_change && !fully_staged {
            tally.partially_staged += 1;
        }
        if !fixer_ran || now == *user {
            assert_eq!(now, *user, "{name} must hold the user's bytes: {context}");
            if fixer_ran && staged_change && !fully_staged {
                assert!(
                    kept_fixes,
                    "{name}: a fix that could not be merged is kept aside: {context}"
                );
                tally.kept_by_user += 1;
            }
        } else {
            assert_eq!(
                now, fixed,
                "{name}: the user's bytes, or with the fix merged in: {context}"
            );
            if !fully_staged {
                tally.merged += 1;
            }
            if fully_staged && case.on_fix == "stage" && case.kind == GateKind::Fixer && staged_change {
                restaged.push(name.clone());
                tally.restaged += 1;
            }
        }
    }
    restaged
}

/// The index holds what the user staged, plus the fixes that `on_fix = "stage"` staged.
fn check_index(case: &Case, index_before: &str, restaged: &[String], context: &str) {
    let repo = &case.repo;
    let index_after = repo.git(&["ls-files", "-s"]);
    for line in index_before.lines() {
        let name = line.rsplit('\t').next().unwrap();
        let after = index_after.lines().find(|l| l.ends_with(&format!("\t{name}"))).unwrap();
        if restaged.iter().any(|r| r == name) {
            let blob = after.split_whitespace().nth(1).unwrap();
            let blob_content = repo.git_bytes(&["cat-file", "-p", blob]);
            assert_eq!(
                blob_content,
                [FIX_PREFIX, &case.staged[name].concat()].concat(),
                "{name} restaged: {context}"
            );
        } else {
            assert_eq!(after, line, "{name}: the index holds what the user staged: {context}");
        }
    }
}
