//! CI fan-out: `gate matrix` (the entries a change needs, `success` posted for the rest),
//! shards (`gate check --shard`), and `gate merge-reports` (one verdict from the shards).

use crate::common::TestRepo;
use crate::common::server::FakeGithub;

/// `lint` over `*.py` (fails on `bad`), `docs` over `*.md`; files in two services.
fn monorepo() -> TestRepo {
    let repo = TestRepo::new();
    repo.tool("lint", "if grep -l bad \"$@\"; then exit 1; fi");
    repo.config(
        "[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"lint\", \"{files}\"]\n\
         [gates.docs]\nkind = \"lint\"\nfiles = [\"*.md\"]\nrun = [\"lint\", \"{files}\"]\n",
    )
    .write("api/a.py", "good\n")
    .write("web/b.py", "good\n")
    .write("README.md", "docs\n")
    .commit_all("init");
    repo.write("api/a.py", "good again\n")
        .write("web/b.py", "bad\n")
        .add_all();
    repo
}

fn matrix(repo: &TestRepo, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["matrix", "--staged"];
    all.extend_from_slice(args);
    let run = repo.gate(&all);
    assert_eq!(run.code, 0, "{run:?}");
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|_| panic!("{run:?}"))
}

#[test]
fn the_matrix_holds_the_gates_the_change_needs() {
    let repo = monorepo();
    assert_eq!(
        matrix(&repo, &[]),
        serde_json::json!({"include": [{"gate": "lint", "shard": "lint"}]})
    );
    assert_eq!(
        matrix(&repo, &["--by", "dir"]),
        serde_json::json!({"include": [
            {"gate": "lint", "dir": "api", "shard": "lint@api"},
            {"gate": "lint", "dir": "web", "shard": "lint@web"}
        ]})
    );
}

#[test]
fn in_github_actions_the_gates_that_need_no_runner_get_success() {
    let repo = monorepo();
    let api = FakeGithub::start(Vec::new());
    let sha = "2222222222222222222222222222222222222222";
    let run = repo.gate_env(
        &["matrix", "--staged"],
        &[
            ("CI", "true"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", sha),
            ("GITHUB_REPOSITORY", "octo/widgets"),
            ("GITHUB_API_URL", &api.url),
            ("GITHUB_TOKEN", "ghs_token"),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let posts: Vec<(String, String, String)> = api
        .requests()
        .iter()
        .map(|r| {
            let body = r.json();
            (
                body["context"].as_str().unwrap().to_owned(),
                body["state"].as_str().unwrap().to_owned(),
                body["description"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!((posts[0].0.as_str(), posts[0].1.as_str()), ("gate/docs", "success"));
    assert!(posts[0].2.contains("skipped"), "{posts:?}");
}

#[test]
fn shards_run_their_part_and_merge_into_one_verdict() {
    let repo = monorepo();
    let api = repo.gate(&[
        "check",
        "--staged",
        "--shard",
        "lint@api",
        "--report",
        "json=shards/api.json",
    ]);
    assert_eq!(api.code, 0, "{api:?}");
    assert!(api.line("lint").contains("1 file"), "only the api files: {api:?}");
    let web = repo.gate(&[
        "check",
        "--staged",
        "--shard",
        "lint@web",
        "--report",
        "json=shards/web.json",
    ]);
    assert_eq!(web.code, 1, "{web:?}");

    let summary = repo.bin().join("summary.md");
    let merged = repo.gate_env(
        &[
            "merge-reports",
            "shards/api.json",
            "shards/web.json",
            "--report",
            "junit=merged.xml",
            "--report",
            "json=merged.json",
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    assert_eq!(merged.code, 1, "the combined code: {merged:?}");
    assert!(merged.stdout.contains("2 gates from 2 reports: exit 1"), "{merged:?}");
    let report: serde_json::Value = serde_json::from_str(&repo.read("merged.json")).unwrap();
    assert_eq!(report["gates"][0]["status"], "failed");
    assert_eq!(report["gates"][0]["files"].as_array().unwrap().len(), 2, "{report}");
    assert!(repo.read("merged.xml").contains("<testsuite name=\"lint\""));
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(written.contains("lint"), "one job summary: {written}");
    // Outside Actions there is no summary to write; the merge works the same.
    let merged = repo.gate(&["merge-reports", "shards/api.json"]);
    assert_eq!(merged.code, 0, "{merged:?}");
    let missing = repo.gate(&["merge-reports", "shards/none.json"]);
    assert_eq!(missing.code, 2, "{missing:?}");
}
