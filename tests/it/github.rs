//! `gate check` as a GitHub Actions step: the change set from the event, commit statuses
//! posted to a loopback stand-in for the API, annotations, the job summary, and reports.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::server::{Answer, FakeGithub, Request};
use crate::common::{Run, TestRepo};

const TOKEN: &str = "ghs_secretTOKENvalue123";

/// A repository with a pull request: `main` at the base, `topic` two commits ahead, checked
/// out at a merge commit as actions/checkout does. Gates: `lint` passes, `tests` fails with
/// a GNU diagnostic on a changed line, `docs` matches nothing.
struct PullRequest {
    repo: TestRepo,
    base: String,
    head: String,
    event: PathBuf,
    summary: PathBuf,
}

fn pull_request() -> PullRequest {
    let repo = TestRepo::new();
    repo.tool("lint", "exit 0");
    repo.tool(
        "tests",
        "echo 'src/app.py:2:5: error: assertion failed'; echo '::set-output name=x::injected'; exit 1",
    );
    repo.config(
        "[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"lint\", \"{files}\"]\n\
         [gates.tests]\nkind = \"test\"\nfiles = [\"*.py\"]\nrun = [\"tests\"]\nproblem_format = \"gnu\"\n\
         [gates.docs]\nkind = \"lint\"\nfiles = [\"*.md\"]\nrun = [\"lint\"]\n",
    )
    .write("src/app.py", "a = 1\n")
    .commit_all("base");
    let base = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("src/app.py", "a = 1\nb = 2\n").commit_all("pr 1");
    repo.write("src/other.py", "c = 3\n").commit_all("pr 2");
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main_moved.txt", "x\n").commit_all("main moves");
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge for the PR", "topic"]);
    let event = repo.bin().join("event.json");
    std::fs::write(
        &event,
        format!(r#"{{"pull_request":{{"base":{{"sha":"{base}"}},"head":{{"sha":"{head}"}}}}}}"#),
    )
    .unwrap();
    let summary = repo.bin().join("summary.md");
    PullRequest {
        repo,
        base,
        head,
        event,
        summary,
    }
}

impl PullRequest {
    fn env<'a>(&'a self, api: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("CI", "true"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", self.event.to_str().unwrap()),
            ("GITHUB_SHA", "1111111111111111111111111111111111111111"),
            ("GITHUB_REPOSITORY", "octo/widgets"),
            ("GITHUB_SERVER_URL", "https://github.example"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_API_URL", api),
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_STEP_SUMMARY", self.summary.to_str().unwrap()),
        ]
    }

    fn check(&self, api: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "check",
            "--report",
            "json=out/r.json",
            "--report",
            "junit=out/r.xml",
            "--report",
            "sarif=out/r.sarif",
        ];
        args.extend_from_slice(extra);
        self.repo.gate_env(&args, &self.env(api))
    }

    /// The token appears in nothing gate wrote.
    fn assert_no_token(&self, run: &Run) {
        assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN), "{run:?}");
        for file in ["out/r.json", "out/r.xml", "out/r.sarif"] {
            if let Ok(text) = std::fs::read_to_string(self.repo.root().join(file)) {
                assert!(!text.contains(TOKEN), "{file}");
            }
        }
        if let Ok(text) = std::fs::read_to_string(&self.summary) {
            assert!(!text.contains(TOKEN));
        }
    }
}

/// A posted status's context, state and description.
fn post(request: &Request) -> (String, String, String) {
    let body = request.json();
    let field = |name: &str| body[name].as_str().unwrap().to_owned();
    (field("context"), field("state"), field("description"))
}

/// The state `context` was left in, after checking that only pendings came before it.
fn final_states(posts: &[(String, String, String)], context: &str) -> String {
    let states: Vec<&str> = posts
        .iter()
        .filter(|(c, _, _)| c == context)
        .map(|(_, s, _)| s.as_str())
        .collect();
    let (last, before) = states
        .split_last()
        .unwrap_or_else(|| panic!("nothing posted for {context}"));
    assert!(before.iter().all(|s| *s == "pending"), "{context}: {states:?}");
    (*last).to_owned()
}

#[test]
fn a_pull_request_gets_one_status_per_gate_on_its_head_commit() {
    let pr = pull_request();
    // The first request meets a server error and is retried.
    let api = FakeGithub::start(vec![Answer::status(500)]);
    let run = pr.check(&api.url, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    pr.assert_no_token(&run);

    let requests = api.requests();
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.path,
            format!("/repos/octo/widgets/statuses/{}", pr.head),
            "the PR head, not GITHUB_SHA"
        );
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(request.header("accept"), Some("application/vnd.github+json"));
    }
    let posts: Vec<(String, String, String)> = requests
        .iter()
        .map(|r| {
            let body = r.json();
            assert_eq!(
                body["target_url"],
                "https://github.example/octo/widgets/actions/runs/42"
            );
            (
                body["context"].as_str().unwrap().to_owned(),
                body["state"].as_str().unwrap().to_owned(),
                body["description"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(requests[0].body, requests[1].body, "the first one twice: {posts:#?}");
    // A pending still waiting when its gate ended is replaced by the result (see `statuses`):
    // how many pendings went out depends on timing, their order never does.
    assert!((4..=6).contains(&requests.len()), "{posts:#?}");
    assert_eq!(final_states(&posts, "gate/lint"), "success");
    assert_eq!(final_states(&posts, "gate/tests"), "failure");
    assert_eq!(final_states(&posts, "gate/docs"), "success");
    assert_eq!(
        posts.iter().filter(|(c, _, _)| c == "gate/docs").count(),
        1,
        "skipped gates never hang as pending"
    );
    let description = |context: &str| posts.iter().rev().find(|(c, _, _)| c == context).unwrap().2.clone();
    assert_eq!(description("gate/docs"), "skipped: no matching files");
    assert_eq!(description("gate/tests"), "1 error in 1 file");
    assert!(description("gate/lint").starts_with("passed in "));

    // The change set is the PR's own: merge-base(base, head)..head.
    let report: serde_json::Value = serde_json::from_str(&pr.repo.read("out/r.json")).unwrap();
    assert_eq!(report["change_set"]["base"], pr.base.as_str());
    assert_eq!(report["change_set"]["head"], pr.head.as_str());
    let files: Vec<&str> = report["change_set"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["src/app.py", "src/other.py"]);
    assert_eq!(report["stage"], "ci");
    assert_eq!(report["gates"][1]["diagnostics"][0]["file"], "src/app.py");
    assert_eq!(report["gates"][1]["diagnostics"][0]["line"], 2);

    // Annotations, and output that cannot inject workflow commands.
    assert!(
        run.stdout
            .contains("::error file=src/app.py,line=2,col=5,title=tests::assertion failed\n"),
        "{run:?}"
    );
    let group = run
        .stdout
        .find("::group::tests: 1 error in 1 file")
        .expect("a group per gate with output");
    let stop = &run.stdout[group..];
    let token_line = stop.lines().nth(1).unwrap();
    let token = token_line
        .strip_prefix("::stop-commands::")
        .expect("stop-commands right after the group");
    assert!(token.len() >= 16);
    let injected = stop.find("::set-output name=x::injected").unwrap();
    let resumed = stop.find(&format!("::{token}::")).unwrap();
    assert!(
        injected < resumed,
        "the tool's output sits between stop-commands and its token"
    );

    let summary = std::fs::read_to_string(&pr.summary).unwrap();
    assert!(
        summary.contains("| Gate | Status | Duration | Files | Summary |"),
        "{summary}"
    );
    assert!(summary.contains("| tests | ❌ failed |"), "{summary}");
    assert!(summary.contains("| docs | ⏭️ skipped |"), "{summary}");
    assert!(
        summary.contains("<details><summary>tests: 1 error in 1 file</summary>"),
        "{summary}"
    );
}

/// A check that exits 0 but wrote a file is failed once the gates end: its required status
/// goes from pending to failure, never green for a moment before (auto-merge would take it).
#[test]
fn a_check_that_wrote_a_file_is_never_posted_as_a_success() {
    let pr = pull_request();
    pr.repo
        .tool("lint", "for f in \"$@\"; do printf 'x = 1\\n' > \"$f\"; done; exit 0");
    let api = FakeGithub::start(Vec::new());
    let run = pr.check(&api.url, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let lint: Vec<(String, String)> = api
        .requests()
        .iter()
        .map(crate::common::server::Request::json)
        .filter(|body| body["context"] == "gate/lint")
        .map(|body| {
            (
                body["state"].as_str().unwrap().to_owned(),
                body["description"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let states: Vec<&str> = lint.iter().map(|(state, _)| state.as_str()).collect();
    assert_eq!(states, ["pending", "failure"], "{lint:#?}");
    assert!(lint[1].1.contains("modified files"), "{lint:#?}");
    assert_eq!(run.stdout.matches("lint ").count(), 1, "one line for lint: {run:?}");
}

#[test]
fn a_read_only_token_warns_and_falls_back_to_annotations() {
    let pr = pull_request();
    let api = FakeGithub::start(vec![Answer::status(403)]);
    let run = pr.check(&api.url, &[]);
    assert_eq!(run.code, 1, "the gates decide the exit code, not the refusal: {run:?}");
    assert!(
        run.stderr.contains("GitHub refused the commit statuses (HTTP 403)"),
        "{run:?}"
    );
    assert!(run.stderr.contains("pull requests from forks"), "{run:?}");
    assert_eq!(api.requests().len(), 1, "no further posts after a refusal");
    assert!(run.stdout.contains("::error file=src/app.py"), "{run:?}");
    pr.assert_no_token(&run);
}

#[test]
fn rate_limits_are_retried_after_the_time_github_asks_for() {
    let pr = pull_request();
    let api = FakeGithub::start(vec![Answer {
        status: 403,
        headers: vec![("Retry-After", "1"), ("X-RateLimit-Remaining", "0")],
    }]);
    let start = Instant::now();
    let run = pr.check(&api.url, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(start.elapsed() >= Duration::from_secs(1));
    let requests = api.requests();
    assert_eq!(requests[0].body, requests[1].body, "the limited request was sent again");
    let posts: Vec<(String, String, String)> = requests.iter().map(post).collect();
    assert_eq!(final_states(&posts, "gate/tests"), "failure");
    assert!(!run.stderr.contains("refused"), "{run:?}");
}

#[test]
fn any_other_failure_to_post_is_exit_2_without_the_token() {
    let pr = pull_request();
    let api = FakeGithub::start(vec![Answer::status(422)]);
    let run = pr.check(&api.url, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("failed to post commit statuses: the API answered HTTP 422"),
        "{run:?}"
    );
    pr.assert_no_token(&run);

    // Nothing listening: the error says where it tried, never with what.
    let run = pr.check("http://127.0.0.1:9", &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("could not reach"), "{run:?}");
    pr.assert_no_token(&run);
}

#[test]
fn no_statuses_turns_posting_off_and_flags_beat_the_event() {
    let pr = pull_request();
    let api = FakeGithub::start(Vec::new());
    let run = pr.check(&api.url, &["--no-statuses", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(api.requests().is_empty());
    let report: serde_json::Value = serde_json::from_str(&pr.repo.read("out/r.json")).unwrap();
    assert_eq!(report["change_set"]["source"], "all", "`--all` overrides the event");
}

#[test]
fn publish_posts_a_saved_report_and_required_checks_lists_the_contexts() {
    let pr = pull_request();
    let run = pr.check("http://127.0.0.1:9", &["--no-statuses"]);
    assert_eq!(run.code, 1, "{run:?}");
    let api = FakeGithub::start(Vec::new());
    let env = pr.env(&api.url);
    let run = pr.repo.gate_env(&["publish", "out/r.json"], &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(&format!("posted 3 statuses to {}", pr.head)),
        "{run:?}"
    );
    let states: Vec<String> = api
        .requests()
        .iter()
        .map(|r| r.json()["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["success", "failure", "success"]);
    pr.assert_no_token(&run);

    let run = pr.repo.gate(&["required-checks"]);
    assert_eq!(run.stdout, "gate/lint\ngate/tests\ngate/docs\n");
}

#[test]
fn a_shallow_clone_says_to_fetch_the_history() {
    let pr = pull_request();
    let clone = tempfile::tempdir().unwrap();
    let source = format!("file://{}", pr.repo.root().display());
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", &source, clone.path().to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut command = std::process::Command::new(crate::common::GATE);
    command
        .args(["check"])
        .current_dir(clone.path())
        .env_clear()
        .env("PATH", pr.repo.path_var());
    for (key, value) in pr.env("http://127.0.0.1:9") {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
}

#[test]
fn annotations_beyond_ten_per_level_become_one_notice() {
    let repo = TestRepo::new();
    repo.tool(
        "many",
        "for i in $(seq 1 15); do echo \"a.py:$i:1: error: problem $i\"; done; exit 1",
    );
    repo.config("[gates.many]\nkind = \"lint\"\nrun = [\"many\"]\nalways = true\nproblem_format = \"gnu\"\n")
        .write("a.py", "x\n")
        .commit_all("init");
    let run = repo.gate_env(&["check", "--all"], &[("GITHUB_ACTIONS", "true"), ("CI", "true")]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout.matches("::error file=a.py").count(), 10, "{run:?}");
    assert!(
        run.stdout
            .contains("::notice title=gate::5 more errors not shown as annotations"),
        "{run:?}"
    );
}

#[test]
fn junit_and_sarif_reports_are_well_formed() {
    let pr = pull_request();
    let run = pr.check("http://127.0.0.1:9", &["--no-statuses"]);
    assert_eq!(run.code, 1, "{run:?}");
    let junit = pr.repo.read("out/r.xml");
    let mut reader = quick_xml::Reader::from_str(&junit);
    let mut suites = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(tag) if tag.name().as_ref() == "testsuite" => {
                let name = tag.try_get_attribute("name").unwrap().unwrap();
                suites.push(name.value.to_string());
            }
            _ => {}
        }
    }
    assert_eq!(suites, ["lint", "tests", "docs"]);
    assert!(
        junit.contains(r#"<testcase name="src/app.py:2:5" classname="gate.tests""#),
        "{junit}"
    );
    assert!(junit.contains(r#"<failure message="assertion failed""#), "{junit}");
    assert!(
        junit.contains(r#"<skipped message="skipped: no matching files"/>"#),
        "{junit}"
    );

    let sarif: serde_json::Value = serde_json::from_str(&pr.repo.read("out/r.sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "tests");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/app.py"
    );
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
    assert!(result["partialFingerprints"]["primaryLocationLineHash"].is_string());

    // Checked against the SARIF 2.1.0 schema.
    let schema_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schemas/sarif-schema-2.1.0.json");
    let schema = std::fs::read_to_string(&schema_path).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&sarif).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_push_that_creates_a_branch_is_compared_with_the_default_branch() {
    let repo = TestRepo::new();
    repo.tool("record", &crate::common::recorder(&repo.bin().join("seen")));
    repo.config("[gates.record]\nkind = \"lint\"\nrun = [\"record\", \"{files}\"]\n")
        .write("a.txt", "1\n")
        .commit_all("init");
    let main = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.git(&["update-ref", "refs/remotes/origin/main", &main]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("b.txt", "1\n").commit_all("feature");
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    let event = repo.bin().join("push.json");
    std::fs::write(
        &event,
        format!(
            r#"{{"before":"0000000000000000000000000000000000000000","after":"{head}","repository":{{"default_branch":"main"}}}}"#
        ),
    )
    .unwrap();
    let run = repo.gate_env(
        &["check"],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("CI", "true"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let seen: Vec<String> = crate::common::recorded(&repo.bin().join("seen")).concat();
    assert_eq!(seen, ["b.txt"]);
}

#[test]
fn annotations_on_changed_lines_come_first() {
    let repo = TestRepo::new();
    repo.tool(
        "many",
        "for i in $(seq 1 15); do echo \"a.py:$i:1: error: problem $i\"; done; exit 1",
    );
    repo.config("[gates.many]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"many\"]\nproblem_format = \"gnu\"\n")
        .write(
            "a.py",
            (1..=15).fold(String::new(), |text, i| text + &format!("line {i}\n")),
        )
        .commit_all("init");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    let changed = (1..=15).fold(String::new(), |text, i| {
        text + &format!("line {i}{}\n", if i >= 14 { " changed" } else { "" })
    });
    repo.write("a.py", changed).commit_all("change the last two lines");
    let run = repo.gate_env(
        &["check", "--base", "main"],
        &[("GITHUB_ACTIONS", "true"), ("CI", "true")],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let shown: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error file=a.py"))
        .collect();
    assert_eq!(shown.len(), 10, "{run:?}");
    assert!(shown[0].starts_with("::error file=a.py,line=14,"), "{shown:#?}");
    assert!(shown[1].starts_with("::error file=a.py,line=15,"), "{shown:#?}");
    assert!(
        !shown.iter().any(|l| l.contains("line=9,")),
        "the rest fill in, in tool order: {shown:#?}"
    );
}

/// (gate, status, files) of every gate in a JSON report.
fn verdicts(report: &serde_json::Value) -> Vec<(String, String, Vec<String>)> {
    report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let files = g["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_owned())
                .collect();
            (
                g["name"].as_str().unwrap().to_owned(),
                g["status"].as_str().unwrap().to_owned(),
                files,
            )
        })
        .collect()
}

#[test]
fn the_same_pull_request_gets_the_same_verdict_by_hand_and_in_actions() {
    let pr = pull_request();
    let api = FakeGithub::start(Vec::new());
    let in_actions = pr.check(&api.url, &[]);
    assert_eq!(in_actions.code, 1, "{in_actions:?}");
    let actions_report: serde_json::Value = serde_json::from_str(&pr.repo.read("out/r.json")).unwrap();

    let by_hand = pr
        .repo
        .gate(&["check", "--base", &pr.base, "--report", "json=out/hand.json"]);
    assert_eq!(by_hand.code, in_actions.code, "{by_hand:?}");
    let hand_report: serde_json::Value = serde_json::from_str(&pr.repo.read("out/hand.json")).unwrap();

    let expected = verdicts(&actions_report);
    assert_eq!(verdicts(&hand_report), expected);
    assert_eq!(
        expected
            .iter()
            .map(|(n, s, _)| (n.as_str(), s.as_str()))
            .collect::<Vec<_>>(),
        [("lint", "passed"), ("tests", "failed"), ("docs", "skipped")]
    );
    assert_eq!(expected[0].2, ["src/app.py", "src/other.py"]);
    // And the statuses posted say the same.
    let mut posted: Vec<(String, String)> = api
        .requests()
        .iter()
        .map(crate::common::server::Request::json)
        .filter(|b| b["state"] != "pending")
        .map(|b| {
            (
                b["context"].as_str().unwrap().to_owned(),
                b["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    posted.sort();
    assert_eq!(
        posted,
        [
            ("gate/docs".to_owned(), "success".to_owned()),
            ("gate/lint".to_owned(), "success".to_owned()),
            ("gate/tests".to_owned(), "failure".to_owned())
        ]
    );
}

#[test]
fn gates_never_see_the_token_or_the_workflow_command_files() {
    let pr = pull_request();
    let github_env = pr.repo.bin().join("github_env");
    std::fs::write(&github_env, "").unwrap();
    // A tool that prints what it can of the token and tries to set variables for later steps.
    pr.repo.tool(
        "lint",
        "echo \"token=[$GITHUB_TOKEN] gate=[$GATE_GITHUB_TOKEN]\"; [ -n \"$GITHUB_ENV\" ] && echo 'EVIL=1' >> \"$GITHUB_ENV\"; echo \"summary=[$GITHUB_STEP_SUMMARY]\"; exit 1",
    );
    let api = FakeGithub::start(Vec::new());
    let mut env = pr.env(&api.url);
    let github_env_text = github_env.to_str().unwrap().to_owned();
    env.push(("GITHUB_ENV", &github_env_text));
    env.push(("GATE_GITHUB_TOKEN", TOKEN));
    let run = pr.repo.gate_env(
        &["check", "--report", "json=out/r.json", "--report", "junit=out/r.xml"],
        &env,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("token=[] gate=[]"), "{run:?}");
    assert!(run.stdout.contains("summary=[]"), "{run:?}");
    pr.assert_no_token(&run);
    assert_eq!(
        std::fs::read_to_string(&github_env).unwrap(),
        "",
        "no workflow command file for tools"
    );
    // A gate that needs it says so.
    pr.repo
        .config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"lint\"]\npass_env = [\"GITHUB_ENV\"]\n");
    let run = pr.repo.gate_env(&["check"], &env);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(std::fs::read_to_string(&github_env).unwrap(), "EVIL=1\n");
    assert!(run.stdout.contains("token=[] gate=[]"), "{run:?}");
}

#[test]
fn a_redirect_from_the_api_is_no_posted_status() {
    let pr = pull_request();
    let moved = Answer {
        status: 301,
        headers: vec![("Location", "/elsewhere")],
    };
    let api = FakeGithub::start(vec![moved.clone(), moved.clone(), moved.clone(), moved]);
    let run = pr.check(&api.url, &[]);
    assert_eq!(run.code, 2, "statuses that could not be posted are an error: {run:?}");
    let requests = api.requests();
    assert!(
        requests.iter().all(|r| r.method == "POST"),
        "never followed as a GET: {requests:?}"
    );
    assert!(run.stderr.contains("HTTP 301"), "{run:?}");
    pr.assert_no_token(&run);
}
