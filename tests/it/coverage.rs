//! The coverage gate: every report format with numbers worked out by hand, path mapping,
//! thresholds, and patch coverage end to end on a real diff against a base commit.

use std::path::Path;

use crate::common::TestRepo;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/coverage")
            .join(name),
    )
    .unwrap()
}

/// A repository holding the files the fixtures measure.
fn measured_repo() -> TestRepo {
    let repo = TestRepo::new();
    let lines = |n: usize| (1..=n).fold(String::new(), |text, i| text + &format!("line {i}\n"));
    repo.write("src/app.py", lines(6))
        .write("src/ünï.py", lines(2))
        .write("src/main/java/com/acme/A.java", lines(5))
        .write("svc/go.mod", "module example.com/svc\n\ngo 1.22\n")
        .write("svc/pkg/a.go", lines(8))
        .write("gates.toml", "")
        .commit_all("init");
    repo
}

#[test]
fn lcov_sections_add_up_and_windows_and_unicode_paths_match() {
    let repo = measured_repo();
    repo.write("cov/lcov.info", fixture("lcov.info"));
    let run = repo.gate(&["coverage", "cov/lcov.info"]);
    assert_eq!(run.code, 0, "{run:?}");
    // src/app.py: 6 lines measured, 4 covered (line 3 covered by the second section);
    // src/ünï.py: 2 measured, 1 covered; vendor/gone.py matches nothing and is not counted.
    assert!(
        run.stdout.contains("passed: no coverable lines changed; total 62.50%"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("`vendor/gone.py` in the coverage report matches no tracked file"),
        "{run:?}"
    );
}

#[test]
fn cobertura_jacoco_and_go_profiles_merge() {
    let repo = measured_repo();
    repo.write("cov/coverage.xml", fixture("cobertura.xml"))
        .write("cov/jacoco.xml", fixture("jacoco.xml"))
        .write("cov/cover.out", fixture("cover.out"));
    let run = repo.gate(&["coverage", "cov/coverage.xml"]);
    assert!(run.stdout.contains("total 66.67%"), "cobertura: 2 of 3: {run:?}");
    let run = repo.gate(&["coverage", "cov/jacoco.xml"]);
    assert!(run.stdout.contains("total 50.00%"), "jacoco: 1 of 2: {run:?}");
    let run = repo.gate(&["coverage", "cov/cover.out"]);
    assert!(run.stdout.contains("total 60.00%"), "go: lines 3-5 of 3-5,7-8: {run:?}");
    // Merged: 3 + 2 + 5 = 10 measured, 2 + 1 + 3 = 6 covered.
    let run = repo.gate(&[
        "coverage",
        "cov/coverage.xml",
        "cov/jacoco.xml",
        "cov/cover.out",
        "--min-total",
        "60",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("total 60.00% ≥ 60.00%"), "{run:?}");
    let run = repo.gate(&[
        "coverage",
        "cov/coverage.xml",
        "cov/jacoco.xml",
        "cov/cover.out",
        "--min-total",
        "60.01",
    ]);
    assert_eq!(run.code, 1, "the exact ratio decides: {run:?}");
}

#[test]
fn empty_missing_malformed_and_foreign_reports() {
    let repo = measured_repo();
    repo.write("cov/empty.info", "");
    // A report that measures nothing proves nothing: an error, never a pass.
    let run = repo.gate(&["coverage", "cov/empty.info", "--min-total", "90"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("the coverage report `cov/empty.info` measures no line"),
        "{run:?}"
    );
    repo.write(
        "cov/empty.xml",
        "<?xml version=\"1.0\"?>\n<coverage><packages></packages></coverage>\n",
    );
    let run = repo.gate(&["coverage", "cov/empty.xml", "--min-total", "90"]);
    assert_eq!(run.code, 2, "{run:?}");

    let run = repo.gate(&["coverage", "cov/missing.info"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("the coverage report `cov/missing.info` does not exist"),
        "{run:?}"
    );

    repo.write("cov/bad.info", "SF:src/app.py\nDA:1,1\nDA:two,1\n");
    let run = repo.gate(&["coverage", "cov/bad.info"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("cov/bad.info:3: malformed `DA` record `DA:two,1`"),
        "{run:?}"
    );

    repo.write("cov/notes.txt", "hello\n");
    let run = repo.gate(&["coverage", "cov/notes.txt"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is not a coverage report gate can read"), "{run:?}");
}

/// A branch that changes lines 3-5 and adds 7-8 of a file; the test gate writes an LCOV
/// report covering 3, 4 and 7 of those five measured lines (line 6 is a blank, unmeasured).
fn patch_repo(min_patch: &str) -> TestRepo {
    let repo = TestRepo::new();
    let report = "SF:src/app.py\\nDA:1,1\\nDA:2,1\\nDA:3,1\\nDA:4,1\\nDA:5,0\\nDA:7,1\\nDA:8,0\\nend_of_record\\n";
    repo.tool("tests", &format!("mkdir -p cov && printf '{report}' > cov/lcov.info"));
    repo.config(&format!(
        "[gates.tests]\nkind = \"test\"\nfiles = [\"*.py\"]\nrun = [\"tests\"]\n\
         [gates.coverage]\nkind = \"coverage\"\nfiles = [\"*.py\"]\nreport = \"cov/lcov.info\"\nmin_patch = {min_patch}\nmin_total = 50\ndepends_on = [\"tests\"]\n"
    ))
    .write(".gitignore", "cov/\n")
    .write("src/app.py", "a\nb\nc\nd\ne\n")
    .commit_all("base");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("src/app.py", "a\nb\nC\nD\nE\n\nnew 7\nnew 8\n")
        .commit_all("change");
    repo
}

#[test]
fn patch_coverage_of_a_real_diff_fails_below_the_threshold_with_diagnostics() {
    let repo = patch_repo("90");
    let run = repo.gate(&["check", "--base", "main", "--report", "json=r.json"]);
    assert_eq!(run.code, 1, "{run:?} {}", repo.read("r.json"));
    assert_eq!(run.status("tests"), "passed");
    assert_eq!(run.status("coverage"), "failed");
    // Changed and measured: 3, 4, 5, 7, 8; covered: 3, 4, 7.
    assert!(
        run.stdout
            .contains("patch 60.00% < 90.00% (3/5 lines); total 71.43% ≥ 50.00%"),
        "{run:?}"
    );
    let report: serde_json::Value = serde_json::from_str(&repo.read("r.json")).unwrap();
    let gate = &report["gates"][1];
    assert_eq!(gate["details"]["patch"]["covered"], 3);
    assert_eq!(gate["details"]["patch"]["measured"], 5);
    assert_eq!(gate["details"]["files"][0]["file"], "src/app.py");
    let diagnostics: Vec<(u64, Option<u64>)> = gate["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["end_line"].as_u64()))
        .collect();
    // Line 5 alone (6 is unmeasured but 7 is covered), then line 8.
    assert_eq!(diagnostics, [(5, None), (8, None)]);
    assert_eq!(
        gate["diagnostics"][0]["message"],
        "line 5 is changed but no test covers it"
    );

    let repo = patch_repo("60");
    let run = repo.gate(&["check", "--base", "main"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("patch 60.00% ≥ 60.00% (3/5 lines)"), "{run:?}");
}

#[test]
fn a_report_the_tests_did_not_write_is_stale() {
    let repo = patch_repo("60");
    repo.tool("tests", "exit 0"); // runs, but writes no report this time
    std::fs::create_dir_all(repo.root().join("cov")).unwrap();
    repo.write("cov/lcov.info", "SF:src/app.py\nDA:1,1\nend_of_record\n");
    let old = std::time::SystemTime::now() - std::time::Duration::from_hours(1);
    std::fs::File::options()
        .write(true)
        .open(repo.root().join("cov/lcov.info"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let run = repo.gate(&["check", "--base", "main"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.status("coverage"), "error");
    assert!(
        run.line("coverage").contains("is older than this run's tests"),
        "{run:?}"
    );
}

#[test]
fn coverage_config_is_checked() {
    let repo = TestRepo::new();
    repo.config("[gates.c]\nkind = \"coverage\"\nrun = [\"x\"]\nreport = \"a\"\n")
        .commit_all("init");
    let run = repo.gate(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("gates.toml:3:7: a `coverage` gate is built in and takes no `run`"),
        "{run:?}"
    );
    repo.config("[gates.c]\nkind = \"coverage\"\nreport = \"a\"\nmin_patch = 120\n");
    let run = repo.gate(&["check"]);
    assert!(
        run.stderr
            .contains("gates.toml:4:13: a coverage threshold is a percentage from 0 to 100"),
        "{run:?}"
    );
    repo.config("[gates.c]\nkind = \"lint\"\nrun = [\"x\"]\nmin_total = 80\n");
    let run = repo.gate(&["check"]);
    assert!(run.stderr.contains("`min_total` is for coverage gates"), "{run:?}");
    repo.config("[gates.c]\nkind = \"coverage\"\n");
    let run = repo.gate(&["check"]);
    assert!(run.stderr.contains("coverage gate `c` has no `report`"), "{run:?}");
}

#[test]
fn excluded_files_count_in_neither_number() {
    let repo = patch_repo("90");
    let config = repo.read("gates.toml").replace(
        "depends_on = [\"tests\"]",
        "depends_on = [\"tests\"]\nexclude = [\"src/app.py\"]",
    );
    // Another changed file keeps the gate running; the excluded one is left out of the numbers.
    repo.config(&config).write("src/other.py", "x\n").commit_all("exclude");
    let run = repo.gate(&["check", "--base", "main"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.line("coverage").contains("no coverable lines changed; total n/a"),
        "{run:?}"
    );
}

#[test]
fn report_paths_resolve_in_the_gates_workdir_and_ambiguity_names_the_candidates() {
    let repo = TestRepo::new();
    let lines = (1..=4).fold(String::new(), |text, i| text + &format!("line {i}\n"));
    repo.write("services/api/app.py", &lines)
        .write("services/web/app.py", &lines)
        .write("services/api/coverage.info", "SF:app.py\nDA:1,1\nDA:2,1\nDA:3,0\nDA:4,1\nend_of_record\n")
        .config(
            "[gates.api-cov]\nkind = \"coverage\"\nworkdir = \"services/api\"\nreport = \"coverage.info\"\nmin_total = 70\nalways = true\n\n[gates.root-cov]\nkind = \"coverage\"\nreport = \"services/api/coverage.info\"\nmin_total = 70\nalways = true\n",
        )
        .commit_all("init");
    let run = repo.gate(&["check", "--all", "-v"]);
    assert_eq!(run.status("api-cov"), "passed", "{run:?}");
    assert!(run.stdout.contains("total 75.00% ≥ 70.00%"), "{run:?}");
    // From the root, `app.py` could be either service's: named, not guessed, not counted.
    assert!(
        run.stdout.contains(
            "`app.py` in the coverage report matches 2 tracked files (services/api/app.py, services/web/app.py)"
        ),
        "{run:?}"
    );
    assert_eq!(run.status("root-cov"), "error", "nothing measured is no pass: {run:?}");
}
