//! `--report json=PATH`: the full result, the model every later renderer reads.

use crate::common::TestRepo;

#[test]
fn json_report_carries_the_change_set_and_every_gate() {
    let repo = TestRepo::new();
    repo.tool("say", "echo \"checked $*\"; exit \"${EXIT:-0}\"");
    repo.config(
        "[gates.ok]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"say\", \"{files}\"]\n\
         [gates.bad]\nkind = \"test\"\nfiles = [\"*.py\"]\nrun = [\"say\"]\nenv = { EXIT = \"3\" }\n\
         [gates.rust]\nkind = \"format\"\nfiles = [\"*.rs\"]\nrun = [\"say\"]\n\
         [gates.after]\nkind = \"custom\"\nrun = [\"say\"]\nalways = true\ndepends_on = [\"bad\"]\n",
    )
    .write("a.py", "1\n")
    .commit_all("init");
    repo.write("a.py", "2\n");
    let run = repo.gate(&["check", "--report", "json=reports/gate.json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&repo.read("reports/gate.json")).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["stage"], "manual");
    assert_eq!(report["change_set"]["source"], "worktree");
    assert_eq!(
        report["change_set"]["head"].as_str().unwrap(),
        repo.git(&["rev-parse", "HEAD"]).trim()
    );
    assert_eq!(report["change_set"]["files"][0]["path"], "a.py");
    assert_eq!(report["change_set"]["files"][0]["status"], "modified");
    assert_eq!(
        report["change_set"]["files"][0]["lines"],
        serde_json::json!([[1, 1]]),
        "changed lines, new side"
    );
    assert_eq!(report["summary"]["passed"], 1);
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["summary"]["skipped"], 1);
    assert_eq!(report["summary"]["blocked"], 1);

    let gates = report["gates"].as_array().unwrap();
    let names: Vec<&str> = gates.iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ok", "bad", "rust", "after"]);
    let (ok, bad, rust, after) = (&gates[0], &gates[1], &gates[2], &gates[3]);
    assert_eq!(ok["status"], "passed");
    assert_eq!(ok["kind"], "lint");
    assert_eq!(ok["exit_code"], 0);
    assert_eq!(ok["files"], serde_json::json!(["a.py"]));
    assert_eq!(ok["output"], "checked a.py\n");
    assert_eq!(ok["processes"], 1);
    assert!(ok["diagnostics"].as_array().unwrap().is_empty());
    assert!(ok["duration_ms"].is_u64() && ok["started_ms"].is_u64());
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["exit_code"], 3);
    assert_eq!(bad["reason"], "exited with code 3");
    assert_eq!(rust["status"], "skipped");
    assert_eq!(rust["reason"], "no matching files");
    assert!(rust["started_ms"].is_null());
    assert_eq!(after["status"], "blocked");
}

#[test]
fn a_bad_report_target_is_a_usage_error_before_anything_runs() {
    let repo = TestRepo::new();
    repo.tool("mark", "touch ran")
        .config("[gates.a]\nkind = \"lint\"\nrun = [\"mark\"]\nalways = true\n")
        .commit_all("init");
    let run = repo.gate(&["check", "--report", "xml=out.xml"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("unknown report format `xml`"), "{run:?}");
    let run = repo.gate(&["check", "--report", "json"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("hint: write e.g. `--report json=gate-report.json`"),
        "{run:?}"
    );
    assert!(!repo.root().join("ran").exists());
}
