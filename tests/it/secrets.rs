//! The secrets gate through real commits, and masking in everything gate relays. The
//! secrets are generated at run time, so this file holds none.

use crate::common::TestRepo;

const ALNUM: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn fake(alphabet: &str, len: usize, seed: usize) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    (0..len)
        .map(|i| chars[(i * 7 + seed * 13 + i * i * 3) % chars.len()])
        .collect()
}

fn repo(extra: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.config(&format!("[gates.secrets]\nkind = \"secrets\"\n{extra}"))
        .write("app.py", "print(1)\n")
        .commit_all("init");
    repo.install("pre-commit");
    repo
}

/// Every file gate wrote or printed, as one text.
fn everything(repo: &TestRepo, run: &crate::common::Run, files: &[&str]) -> String {
    let mut all = format!("{}{}", run.stdout, run.stderr);
    for file in files {
        all.push_str(&std::fs::read_to_string(repo.root().join(file)).unwrap_or_default());
    }
    all
}

#[test]
fn a_staged_aws_key_pair_fails_the_commit_and_is_shown_masked_everywhere() {
    let repo = repo("");
    let id = format!("AKIA{}", fake(UPPER_DIGITS, 16, 1));
    let key = fake(ALNUM, 40, 2);
    repo.write(
        "deploy/.env",
        format!("# deploy\naws_access_key_id={id}\naws_secret_access_key={key}\n"),
    )
    .add_all();
    let commit = repo.git_run(&["commit", "-q", "-m", "oops"], None);
    assert_ne!(commit.code, 0, "{commit:?}");
    assert!(
        commit.stderr.contains("deploy/.env:3:23: error: aws-key-pair:"),
        "{commit:?}"
    );
    assert!(
        commit.stderr.contains(&format!("{}… (40 characters)", &key[..4])),
        "{commit:?}"
    );
    assert_eq!(
        repo.git(&["log", "--format=%s", "-1"]).trim(),
        "init",
        "nothing committed"
    );
    let run = repo.gate(&[
        "check",
        "--staged",
        "--report",
        "json=r.json",
        "--report",
        "junit=r.xml",
        "--report",
        "sarif=r.sarif",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let all = everything(&repo, &run, &["r.json", "r.xml", "r.sarif"]);
    assert!(
        !all.contains(&key) && !all.contains(&id),
        "no secret in any output: {all}"
    );
    assert!(all.contains("aws-key-pair"));
}

#[test]
fn only_what_the_change_adds_is_scanned_and_allow_comments_work() {
    let repo = repo("");
    let old = format!("ghp_{}", fake(ALNUM, 36, 3));
    // Committed before the gate (with --no-verify): not part of the next change.
    repo.write("old.py", format!("TOKEN = \"{old}\"\n"));
    repo.add_all();
    repo.git(&["commit", "-q", "--no-verify", "-m", "old"]);
    repo.write("old.py", format!("TOKEN = \"{old}\"\nprint(2)\n")).add_all();
    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.code, 0, "the added line holds no secret: {run:?}");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 1, "with --all every line counts: {run:?}");
    let new = format!("ghp_{}", fake(ALNUM, 36, 4));
    repo.write("new.py", format!("TOKEN = \"{new}\"  # gate:allow-secret\n"))
        .add_all();
    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.code, 0, "allowed inline: {run:?}");
}

#[test]
fn a_baseline_lets_an_old_finding_through_and_stops_a_new_one() {
    let repo = repo("baseline = \".secrets-baseline.json\"\n");
    let old = format!("sk_live_{}", fake(ALNUM, 24, 5));
    repo.write("billing.py", format!("STRIPE = \"{old}\"\n")).add_all();
    let run = repo.gate(&["secrets", "--all", "--baseline", ".secrets-baseline.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let baseline = repo.read(".secrets-baseline.json");
    assert!(
        baseline.contains("stripe-live-key") && !baseline.contains(&old),
        "{baseline}"
    );
    repo.add_all();
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 0, "the recorded finding passes: {run:?}");
    let new = format!("sk_live_{}", fake(ALNUM, 24, 6));
    repo.write("billing.py", format!("STRIPE = \"{old}\"\nOTHER = \"{new}\"\n"))
        .add_all();
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("billing.py:2:"), "only the new one: {run:?}");
    let by_hand = repo.gate(&["secrets", "--all"]);
    assert_eq!(by_hand.code, 1, "{by_hand:?}");
    assert!(by_hand.stdout.contains("1 secret found, 1 allowed"), "{by_hand:?}");
}

#[test]
fn masking_keeps_tokens_and_keys_out_of_everything_relayed_in_github_actions() {
    let token = fake(ALNUM, 32, 7);
    let key = format!("ghp_{}", fake(ALNUM, 36, 8));
    let repo = TestRepo::new();
    repo.tool(
        "leaky",
        &format!("echo \"token=$GITHUB_TOKEN\"; echo 'a.py:1:1: error: found {key}'; exit 1"),
    );
    repo.config("[gates.leaky]\nkind = \"lint\"\nrun = [\"leaky\"]\nalways = true\npass_env = [\"GITHUB_TOKEN\"]\nproblem_format = \"gnu\"\n")
        .write("a.py", "x = 1\n")
        .commit_all("init");
    let summary = repo.bin().join("summary.md");
    let run = repo.gate_env(
        &[
            "check",
            "--all",
            "--report",
            "json=r.json",
            "--report",
            "junit=r.xml",
            "--report",
            "sarif=r.sarif",
        ],
        &[
            ("CI", "true"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_TOKEN", &token),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let mut all = everything(&repo, &run, &["r.json", "r.xml", "r.sarif"]);
    all.push_str(&std::fs::read_to_string(&summary).unwrap_or_default());
    assert!(!all.contains(&token), "the token: {all}");
    assert!(!all.contains(&key), "the key: {all}");
    assert!(all.contains("token=***"), "{all}");
}
