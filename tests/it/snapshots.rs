//! What users see, pinned whole: console output of a run, a configuration error, the plan
//! of `gate list`, and a check that wrote files. Durations and temporary paths are masked.

use crate::common::{Run, TestRepo};

/// Both streams, with what changes from run to run masked.
fn shown(run: &Run) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
}

fn settings(repo: &TestRepo) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b\d+\.\d\ds\b", "[time]");
    settings.add_filter(r"in \d+\.\d\ds", "in [time]");
    settings.add_filter(&regex_escape(&repo.root().display().to_string()), "[repo]");
    settings.add_filter(&regex_escape(&repo.bin().display().to_string()), "[bin]");
    settings.add_filter(r"pid \d+", "pid [pid]");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

fn three_gates() -> TestRepo {
    let repo = TestRepo::new();
    repo.tool("ok", "exit 0").tool(
        "lint",
        "echo 'src/app.py:2:5: error[E1]: name is undefined'; echo 'src/app.py:3: warning: unused'; exit 1",
    );
    repo.config(
        "[gates.format]\nkind = \"format\"\nfiles = [\"*.py\"]\nrun = [\"ok\", \"{files}\"]\n\n\
         [gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"lint\", \"{files}\"]\nproblem_format = \"gnu\"\n\n\
         [gates.docs]\nkind = \"lint\"\nfiles = [\"*.md\"]\nrun = [\"ok\"]\n\n\
         [gates.tests]\nkind = \"test\"\nfiles = [\"*.py\"]\nrun = [\"ok\"]\ndepends_on = [\"lint\"]\n",
    )
    .write("src/app.py", "a = 1\nb = c\nimport os\n")
    .write("src/util.py", "x = 1\n")
    .commit_all("init");
    repo
}

#[test]
fn a_failing_run() {
    let repo = three_gates();
    let run = repo.gate(&["check", "--all"]);
    settings(&repo).bind(|| insta::assert_snapshot!("a_failing_run", shown(&run)));
}

#[test]
fn the_plan() {
    let repo = three_gates();
    let run = repo.gate(&["list", "--all"]);
    settings(&repo).bind(|| insta::assert_snapshot!("the_plan", shown(&run)));
}

#[test]
fn a_configuration_error() {
    let repo = TestRepo::new();
    repo.config("[gates.lint]\nkind = \"lint\"\nrun = [\"x\"]\ndepends_on = [\"tset\"]\n\n[gates.test]\nkind = \"test\"\nrun = [\"y\"]\n")
        .commit_all("init");
    let run = repo.gate(&["check", "--all"]);
    settings(&repo).bind(|| insta::assert_snapshot!("a_configuration_error", shown(&run)));
}

#[test]
fn a_check_that_writes_files() {
    let repo = TestRepo::new();
    repo.tool("sneaky", "for f in \"$@\"; do printf 'x = 1\\n' > \"$f\"; done");
    repo.config("[gates.lint]\nkind = \"lint\"\nfiles = [\"*.py\"]\nrun = [\"sneaky\", \"{files}\"]\n")
        .write("a.py", "x=1\n")
        .commit_all("init");
    repo.write("a.py", "x=2\n");
    repo.git(&["add", "a.py"]);
    let run = repo.gate(&["check", "--staged"]);
    settings(&repo).bind(|| insta::assert_snapshot!("a_check_that_writes_files", shown(&run)));
}

#[test]
fn json_diagnostics_are_shown_as_lines_once() {
    let repo = TestRepo::new();
    // cargo reports the same warning for the library and for its tests.
    let message = r#"{"reason":"compiler-message","message":{"message":"unused variable: `x`","code":{"code":"unused_variables"},"level":"warning","spans":[{"file_name":"src/main.rs","line_start":2,"column_start":9,"is_primary":true}]}}"#;
    repo.tool("clippyish", &format!("echo '{message}'; echo '{message}'; exit 1"))
        .config("[gates.clippy]\nkind = \"lint\"\nfiles = [\"*.rs\"]\nrun = [\"clippyish\"]\nproblem_format = \"json-lines\"\n")
        .write("src/main.rs", "fn main() {\n    let x = 1;\n}\n")
        .commit_all("init");
    let run = repo.gate(&["check", "--all"]);
    settings(&repo).bind(|| insta::assert_snapshot!("json_diagnostics_are_shown_as_lines_once", shown(&run)));
}

/// Every stored snapshot belongs to a test here: a renamed or removed test leaves none behind.
#[test]
fn no_snapshot_is_left_unreferenced() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots");
    let source = include_str!("snapshots.rs");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(snapshot) = name.strip_suffix(".snap") else {
            panic!("`{name}` in tests/it/snapshots is no accepted snapshot (review and rename or delete it)");
        };
        assert!(
            source.contains(&format!("assert_snapshot!(\"{snapshot}\"")),
            "`{name}` is referenced by no test: delete it"
        );
    }
}
