//! The secrets gate through real commits, and masking in everything gate relays. The
//! secrets are generated at run time, so this file holds none.

use crate::common::TestRepo;

#[path = "../../src/secrets/fake.rs"]
#[allow(dead_code, reason = "the unit tests use all of it, these some")]
mod fake;
use fake::{ALNUM, UPPER_DIGITS, fake};

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

/// A corpus file: its path, its text, and the line and rule of each secret planted in it.
type CorpusFile = (&'static str, String, Vec<(usize, &'static str)>);

/// Realistic files with a planted secret of every rule, and lookalikes that are not secrets.
/// Returns the repository and, per planted secret, `path:line` and the rule.
pub(crate) fn corpus(repo: &TestRepo) -> Vec<(String, &'static str)> {
    let mut files: Vec<CorpusFile> = vec![
        (
            "deploy/.env",
            format!(
                "# production\nAWS_ACCESS_KEY_ID=AKIA{}\nAWS_SECRET_ACCESS_KEY={}\nDATABASE_URL=postgres://app:{}@db.internal:5432/app\nSTRIPE_KEY=sk_live_{}\nLOG_LEVEL=info\n",
                fake(UPPER_DIGITS, 16, 101),
                fake(ALNUM, 40, 102),
                fake(ALNUM, 18, 103),
                fake(ALNUM, 24, 104)
            ),
            vec![(3, "aws-key-pair"), (4, "url-credentials"), (5, "stripe-live-key")],
        ),
        (
            "config/settings.py",
            format!(
                "import os\n\nGITHUB_TOKEN = \"ghp_{}\"\nSLACK_BOT = \"xoxb-{}-{}\"\nSENDGRID = \"SG.{}.{}\"\nOPENAI_API_KEY = \"sk-proj-{}\"\nDEBUG = False\n",
                fake(ALNUM, 36, 105),
                fake("0123456789", 12, 106),
                fake(ALNUM, 24, 107),
                fake(ALNUM, 22, 108),
                fake(ALNUM, 43, 109),
                fake(ALNUM, 48, 110)
            ),
            vec![
                (3, "github-pat"),
                (4, "slack-token"),
                (5, "sendgrid-key"),
                (6, "openai-key"),
            ],
        ),
    ];
    files.extend(more_corpus_files());
    let mut planted = Vec::new();
    for (path, text, secrets) in files {
        repo.write(path, text);
        planted.extend(
            secrets
                .into_iter()
                .map(|(line, rule)| (format!("{path}:{line}:"), rule)),
        );
    }
    planted
}

/// The corpus's tokens in code and docs, its keys, and the lookalikes.
fn more_corpus_files() -> Vec<CorpusFile> {
    let hex = "0123456789abcdef";
    vec![
        (
            "web/src/api.ts",
            format!(
                "const MAPS = 'AIza{}';\nexport const client = {{ anthropic: 'sk-ant-api03-{}' }};\nconst jwt = 'eyJ{}.eyJ{}.{}';\n",
                fake(ALNUM, 35, 111),
                fake(ALNUM, 90, 112),
                fake(ALNUM, 20, 113),
                fake(ALNUM, 30, 114),
                fake(ALNUM, 40, 115)
            ),
            vec![(1, "google-api-key"), (2, "anthropic-key"), (3, "jwt")],
        ),
        (
            "ci/publish.sh",
            format!(
                "#!/bin/sh\nexport NPM_TOKEN=npm_{}\nexport TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc{}\ncurl -X POST https://hooks.slack.com/services/T{}/B{}/{}\n",
                fake(ALNUM, 36, 116),
                fake(ALNUM, 60, 117),
                fake(UPPER_DIGITS, 8, 118),
                fake(UPPER_DIGITS, 8, 119),
                fake(ALNUM, 24, 120)
            ),
            vec![(2, "npm-token"), (3, "pypi-token"), (4, "slack-webhook")],
        ),
        (
            "keys/deploy_key",
            format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
                fake(ALNUM, 64, 121)
            ),
            vec![(1, "private-key")],
        ),
        (
            "keys/sa.json",
            format!(
                "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo\",\n  \"private_key_id\": \"{}\"\n}}\n",
                fake(hex, 40, 122)
            ),
            vec![(2, "gcp-service-account")],
        ),
        (
            "ops/notes.yml",
            format!(
                "gitlab: glpat-{}\ntwilio: SK{}\nfine: github_pat_{}\napp_token: ghs_{}\nrefresh: ghr_{}\noauth: gho_{}\nadmin_password: \"{}\"\n",
                fake(ALNUM, 20, 123),
                fake(hex, 32, 124),
                fake(ALNUM, 82, 125),
                fake(ALNUM, 36, 126),
                fake(ALNUM, 36, 127),
                fake(ALNUM, 36, 128),
                fake(ALNUM, 20, 129)
            ),
            vec![
                (1, "gitlab-token"),
                (2, "twilio-api-key"),
                (3, "github-fine-grained-pat"),
                (4, "github-app-token"),
                (5, "github-refresh-token"),
                (6, "github-oauth"),
                (7, "generic-secret"),
            ],
        ),
        (
            "docs/setup.md",
            format!(
                "# Setup\n\nSet `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE` and `password = ${{DB_PASSWORD}}`.\nUse `api_key: <your-api-key>` and `token: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`.\nCommit {} with checksum sha256:{}.\nRequest id 123e4567-e89b-12d3-a456-426614174000.\n![logo](data:image/png;base64,{})\n",
                fake(hex, 40, 130),
                fake(hex, 64, 131),
                fake(ALNUM, 200, 132)
            ),
            vec![],
        ),
        (
            "package-lock.json",
            format!(
                "{{\"packages\": {{\"node_modules/x\": {{\"integrity\": \"sha512-{}==\"}}}}}}\n",
                fake(ALNUM, 86, 133)
            ),
            vec![],
        ),
    ]
}

#[test]
fn the_corpus_every_planted_secret_found_and_no_lookalike() {
    let repo = TestRepo::new();
    let planted = corpus(&repo);
    repo.add_all();
    let run = repo.gate(&["secrets", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().filter(|l| l.contains(": ")).collect();
    for (place, rule) in &planted {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(place.as_str()) && l.contains(&format!(" {rule}: "))),
            "{rule} at {place}: {}",
            run.stdout
        );
    }
    // Every line printed is a planted secret: no lookalike (docs, hashes, lockfile).
    let findings: Vec<&&str> = lines.iter().filter(|l| !l.ends_with("found")).collect();
    assert_eq!(findings.len(), planted.len(), "{}", run.stdout);
    // `bench/secrets.py` scans the same corpus with detect-secrets: it asks for a copy.
    if let Some(dir) = corpus_dir() {
        let dir = std::path::Path::new(&dir);
        let _ = std::fs::remove_dir_all(dir);
        let copied = std::process::Command::new("cp")
            .arg("-r")
            .arg(repo.root())
            .arg(dir)
            .status()
            .unwrap();
        assert!(copied.success());
        let planted: Vec<String> = planted.iter().map(|(place, rule)| format!("{place}{rule}")).collect();
        std::fs::write(dir.join("planted.txt"), planted.join("\n") + "\n").unwrap();
    }
}

#[expect(clippy::disallowed_methods, reason = "the test's own environment, not gate's")]
fn corpus_dir() -> Option<std::ffi::OsString> {
    std::env::var_os("GATE_BENCH_CORPUS")
}

/// `gate secrets` needs no `gates.toml` and no tool: in a repository where no tool gate
/// could be derived (nothing but text), it scans with the built-in rules.
#[test]
fn gate_secrets_works_with_no_config_and_no_tools() {
    let repo = TestRepo::new();
    let token = format!("ghp_{}", fake(ALNUM, 36, 11));
    repo.write("notes.txt", format!("token = \"{token}\"\n"))
        .commit_all("init");
    let run = repo.gate(&["secrets", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("notes.txt:1:"), "{run:?}");
    assert!(
        !run.stdout.contains(&token) && !run.stderr.contains(&token),
        "masked: {run:?}"
    );
}

/// A repository with a bare remote holding its first commit, and the pre-push hook.
fn pushed(extra: &str) -> (TestRepo, tempfile::TempDir) {
    let repo = repo(extra);
    let remote = tempfile::tempdir().unwrap();
    repo.git(&["init", "-q", "--bare", remote.path().to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    repo.install("pre-push");
    let push = repo.git_run(&["push", "-q", "origin", "main"], None);
    assert_eq!(push.code, 0, "{push:?}");
    (repo, remote)
}

fn commit_unchecked(repo: &TestRepo, message: &str) -> String {
    repo.add_all();
    repo.git(&["commit", "-q", "--no-verify", "-m", message]);
    repo.git(&["rev-parse", "--short", "HEAD"]).trim().to_owned()
}

#[test]
fn a_secret_one_pushed_commit_adds_and_the_next_removes_is_still_found() {
    let (repo, remote) = pushed("");
    let token = format!("ghp_{}", fake(ALNUM, 36, 11));
    repo.write("creds.py", format!("import os\nTOKEN = \"{token}\"\n"));
    let added = commit_unchecked(&repo, "add creds");
    repo.git(&["rm", "-q", "creds.py"]);
    commit_unchecked(&repo, "remove creds");
    // Neither end of the push holds it, and no file differs between them: it is in the
    // history the push sends all the same, for good.
    let push = repo.git_run(&["push", "-q", "origin", "main"], None);
    assert_ne!(push.code, 0, "{push:?}");
    let said = format!("{}{}", push.stdout, push.stderr);
    assert!(
        said.contains(&format!(
            "creds.py:2:10: error: github-pat: ghp_… (40 characters), added by commit {added}: gone from the tip there, still in the history"
        )),
        "names the file, the line and the commit that added it: {push:?}"
    );
    assert!(!said.contains(&token), "{push:?}");
    let remote_main = std::process::Command::new("git")
        .args(["--git-dir", remote.path().to_str().unwrap(), "rev-parse", "main"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&remote_main.stdout).trim(),
        repo.git(&["rev-parse", "HEAD~2"]).trim(),
        "nothing pushed"
    );
    // CI and by hand on the same commits say the same.
    let ci = repo.gate(&["check", "--base", "origin/main"]);
    assert_eq!(ci.code, 1, "{ci:?}");
    assert!(ci.stdout.contains(&added), "{ci:?}");
    let by_hand = repo.gate(&["secrets", "--base", "origin/main"]);
    assert_eq!(by_hand.code, 1, "{by_hand:?}");
    assert!(by_hand.stdout.contains("creds.py:2:10"), "{by_hand:?}");

    // Beside other changes, found once; a secret the tip still holds is named at the tip.
    repo.write("app.py", format!("print(1)\nKEY = \"{token}\"\n"));
    commit_unchecked(&repo, "again");
    let run = repo.gate(&["check", "--base", "origin/main"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("app.py:2:8") && run.stdout.contains("creds.py:2:10"),
        "{run:?}"
    );
}

#[test]
fn only_what_each_pushed_commit_adds_counts_and_renames_add_nothing() {
    let (repo, _remote) = pushed("");
    let old = format!("ghp_{}", fake(ALNUM, 36, 12));
    repo.write("old.py", format!("TOKEN = \"{old}\"\n"));
    commit_unchecked(&repo, "old");
    assert_eq!(
        repo.git_run(&["push", "-q", "--no-verify", "origin", "main"], None)
            .code,
        0
    );
    // Already on the remote: moved, then edited, it adds nothing the remote lacks.
    repo.git(&["mv", "old.py", "moved.py"]);
    commit_unchecked(&repo, "move");
    repo.write("moved.py", format!("TOKEN = \"{old}\"\nprint(3)\n"));
    commit_unchecked(&repo, "edit");
    let push = repo.git_run(&["push", "-q", "origin", "main"], None);
    assert_eq!(push.code, 0, "{push:?}");
}

#[test]
fn a_merge_adds_only_what_none_of_its_parents_held() {
    let (repo, _remote) = pushed("");
    let token = format!("ghp_{}", fake(ALNUM, 36, 13));
    // A side branch that added a secret and removed it, merged: its commits are sent too.
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("side.py", format!("T = \"{token}\"\n"));
    let added = commit_unchecked(&repo, "side secret");
    repo.write("side.py", "T = None\n");
    commit_unchecked(&repo, "side fixed");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.py", "m = 1\n");
    commit_unchecked(&repo, "main work");
    repo.git(&["merge", "-q", "--no-verify", "--no-edit", "topic"]);
    repo.write("after.py", "a = 1\n");
    commit_unchecked(&repo, "after the merge");
    let run = repo.gate(&["secrets", "--base", "origin/main"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "side.py:1:6: github-pat: ghp_… (40 characters), added by commit {added}"
        )),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("1 secret found"),
        "the merge itself adds nothing: {run:?}"
    );
    assert_eq!(
        repo.git_run(&["push", "-q", "--no-verify", "origin", "main"], None)
            .code,
        0
    );

    // A merge whose resolution adds one (an "evil merge") is its only author.
    let other = format!("ghp_{}", fake(ALNUM, 36, 14));
    repo.git(&["checkout", "-q", "-b", "second"]);
    repo.write("x.py", "x = 1\n");
    commit_unchecked(&repo, "second");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("y.py", "y = 1\n");
    commit_unchecked(&repo, "main again");
    repo.git(&["merge", "-q", "--no-verify", "--no-commit", "second"]);
    repo.write("x.py", format!("x = 1\nK = \"{other}\"\n"));
    let merge = commit_unchecked(&repo, "evil merge");
    repo.write("x.py", "x = 1\n");
    commit_unchecked(&repo, "clean up");
    let run = repo.gate(&["secrets", "--base", "origin/main"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "x.py:2:6: github-pat: ghp_… (40 characters), added by commit {merge}"
        )),
        "{run:?}"
    );
    assert!(run.stdout.contains("1 secret found"), "{run:?}");
}

#[test]
fn a_shallow_clone_that_lacks_commits_of_the_range_is_never_a_pass() {
    let (repo, remote) = pushed("");
    // A side branch of two commits merged after one on main: cloned three deep, the
    // side's second commit is there without its parent.
    repo.git(&["checkout", "-q", "-b", "side"]);
    for i in 0..2 {
        repo.write(format!("s{i}.py"), format!("s = {i}\n"));
        commit_unchecked(&repo, &format!("s{i}"));
    }
    repo.git(&["checkout", "-q", "main"]);
    repo.write("c.py", "c = 1\n");
    commit_unchecked(&repo, "c");
    let base = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.git(&["merge", "-q", "--no-verify", "--no-edit", "side"]);
    repo.write("t.py", "t = 1\n");
    commit_unchecked(&repo, "t");
    assert_eq!(
        repo.git_run(&["push", "-q", "--no-verify", "origin", "main"], None)
            .code,
        0
    );
    let shallow = tempfile::tempdir().unwrap();
    let url = format!("file://{}", remote.path().display());
    let clone = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "3", "--branch", "main", &url])
        .arg(shallow.path().join("c"))
        .output()
        .unwrap();
    assert!(clone.status.success(), "{clone:?}");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_gate"))
        .current_dir(shallow.path().join("c"))
        .args(["check", "--base", &base])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(2), "not a pass: {run:?}");
    assert!(
        stdout.contains("secrets ................ error") && stdout.contains("1 commit of the range not scanned"),
        "{stdout}"
    );
    assert!(stdout.contains("git fetch --unshallow"), "{stdout}");
}

#[test]
fn a_new_branch_that_merged_pushed_commits_is_not_blamed_for_them() {
    let (repo, _remote) = pushed("");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("t.py", "t = 1\n");
    commit_unchecked(&repo, "topic work");
    // The default branch moves on with a secret added and removed, pushed without gate (as
    // history from before gate is): already on the remote.
    repo.git(&["checkout", "-q", "main"]);
    let token = format!("ghp_{}", fake(ALNUM, 36, 15));
    repo.write("old.py", format!("T = \"{token}\"\n"));
    commit_unchecked(&repo, "old secret");
    repo.git(&["rm", "-q", "old.py"]);
    commit_unchecked(&repo, "old secret gone");
    assert_eq!(
        repo.git_run(&["push", "-q", "--no-verify", "origin", "main"], None)
            .code,
        0
    );
    repo.git(&["checkout", "-q", "topic"]);
    repo.git(&["merge", "-q", "--no-verify", "--no-edit", "main"]);
    let push = repo.git_run(&["push", "-q", "origin", "topic"], None);
    assert_eq!(push.code, 0, "the merged commits were on the remote already: {push:?}");
}
