//! `gates.toml` errors are caught before anything runs, with `file:line:column` and a hint;
//! without a `gates.toml`, gates are derived from the repository.

use crate::common::TestRepo;

fn rejected(config: &str) -> crate::common::Run {
    let repo = TestRepo::new();
    repo.tool("marker", "touch ran")
        .write("a.py", "x\n")
        .config(config)
        .commit_all("init");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        !repo.root().join("ran").exists(),
        "nothing may run after a config error"
    );
    run
}

#[test]
fn unknown_key_names_line_and_column_and_the_expected_keys() {
    let run = rejected("[gates.lint]\nkind = \"lint\"\nrun = [\"marker\"]\nfiless = [\"*.py\"]\n");
    assert!(run.stderr.contains("gates.toml:4:1: unknown field `filess`"), "{run:?}");
    assert!(run.stderr.contains("`files`"), "{run:?}");
    assert!(run.stderr.contains("4 | filess"), "{run:?}");
}

#[test]
fn wrong_type_is_rejected() {
    let run = rejected("[settings]\njobs = \"four\"\n[gates.lint]\nkind = \"lint\"\nrun = [\"marker\"]\n");
    assert!(
        run.stderr.contains("gates.toml:2:8: invalid type: string \"four\""),
        "{run:?}"
    );
}

#[test]
fn unknown_kind_lists_the_kinds() {
    let run = rejected("[gates.lint]\nkind = \"linter\"\nrun = [\"marker\"]\n");
    assert!(
        run.stderr.contains("gates.toml:2:8: unknown variant `linter`"),
        "{run:?}"
    );
}

#[test]
fn bad_glob_points_at_the_pattern() {
    let run = rejected("[gates.lint]\nkind = \"lint\"\nrun = [\"marker\"]\nfiles = [\"src/[a.py\"]\n");
    assert!(
        run.stderr.contains("gates.toml:4:10: invalid glob `src/[a.py`"),
        "{run:?}"
    );
    assert!(run.stderr.contains("hint:"), "{run:?}");
}

#[test]
fn unknown_dependency_lists_the_gates() {
    let run = rejected(
        "[gates.lint]\nkind = \"lint\"\nrun = [\"marker\"]\ndepends_on = [\"tset\"]\n[gates.test]\nkind = \"test\"\nrun = [\"marker\"]\n",
    );
    assert!(
        run.stderr
            .contains("gates.toml:4:15: gate `lint` depends on `tset`, which is not a gate"),
        "{run:?}"
    );
    assert!(run.stderr.contains("hint: the gates are `lint`, `test`"), "{run:?}");
}

#[test]
fn dependency_cycle_names_the_cycle() {
    let run = rejected(
        "[gates.a]\nkind = \"lint\"\nrun = [\"marker\"]\ndepends_on = [\"b\"]\n\
         [gates.b]\nkind = \"lint\"\nrun = [\"marker\"]\ndepends_on = [\"c\"]\n\
         [gates.c]\nkind = \"lint\"\nrun = [\"marker\"]\ndepends_on = [\"a\"]\n",
    );
    assert!(
        run.stderr
            .contains("gates.toml:12:15: `depends_on` forms a cycle: a -> b -> c -> a"),
        "{run:?}"
    );
}

#[test]
fn bad_timeout_unterminated_quote_and_missing_run_are_rejected() {
    let run = rejected("[gates.a]\nkind = \"lint\"\nrun = [\"marker\"]\ntimeout = \"ten minutes\"\n");
    assert!(
        run.stderr.contains("gates.toml:4:11: invalid duration `ten minutes`"),
        "{run:?}"
    );
    let run = rejected("[gates.a]\nkind = \"lint\"\nrun = \"marker 'open\"\n");
    assert!(
        run.stderr
            .contains("gates.toml:3:7: this command has an unterminated quote"),
        "{run:?}"
    );
    let run = rejected("[gates.a]\nkind = \"lint\"\n");
    assert!(run.stderr.contains("gate `a` has no `run` command"), "{run:?}");
    let run = rejected("[gates.a]\nkind = \"lint\"\nrun = [\"marker\", \"--x={files}\"]\n");
    assert!(
        run.stderr.contains("`{files}` must be an argument of its own"),
        "{run:?}"
    );
    let run = rejected("[gates.a]\nkind = \"lint\"\nrun = [\"marker\"]\nstages = [\"pre-comit\"]\n");
    assert!(
        run.stderr.contains("gates.toml:4:10: unknown stage `pre-comit`"),
        "{run:?}"
    );
    let run = rejected("[gates.a]\nkind = \"lint\"\nrun = [\"marker\"]\nworkdir = \"../elsewhere\"\n");
    assert!(
        run.stderr
            .contains("gates.toml:4:11: `workdir` must be a path inside the repository"),
        "{run:?}"
    );
}

#[test]
fn toml_syntax_error_is_located() {
    let run = rejected("[gates.a\nkind = \"lint\"\n");
    assert!(run.stderr.contains("gates.toml:1:"), "{run:?}");
}

#[test]
fn without_gates_toml_cargo_projects_get_rustfmt_and_clippy() {
    let repo = TestRepo::new();
    let log = repo.bin().join("cargo.log");
    repo.tool("cargo", &format!("echo \"$@\" >> '{}'", log.display()))
        .write("Cargo.toml", "[package]\nname = \"x\"\n")
        .write("src/main.rs", "fn main() {}\n")
        .commit_all("init");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("no `gates.toml` found; using built-in gates"),
        "{run:?}"
    );
    let cargo = repo.bin().join("cargo");
    assert!(
        run.stderr.contains(&format!(
            ".: rustfmt: `Cargo.toml` found; `cargo` is {}",
            cargo.display()
        )),
        "{run:?}"
    );
    assert_eq!(run.status("rustfmt"), "passed");
    assert_eq!(run.status("clippy"), "passed");
    assert_eq!(run.status("cargo-test"), "passed");
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("fmt --all -- --check"), "{calls}");
    assert!(
        calls.contains("clippy --all-targets --message-format=json -- -D warnings"),
        "{calls}"
    );
}

#[test]
fn without_gates_toml_a_python_project_needs_ruff_on_path() {
    let repo = TestRepo::new();
    repo.write("pyproject.toml", "[project]\nname = \"x\"\n")
        .write("a.py", "x = 1\n")
        .commit_all("init");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("no project here with a tool gate can run"),
        "{run:?}"
    );

    repo.tool("ruff", "echo ruff \"$@\"");
    let run = repo.gate(&["check", "--all", "-v"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains(".: ruff-check: a Python project, and `ruff` is installed"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("ruff check --no-fix --output-format=json a.py"),
        "{run:?}"
    );
}

#[test]
fn init_writes_the_detected_gates_once() {
    let repo = TestRepo::new();
    repo.tool("cargo", "exit 0")
        .write("Cargo.toml", "[package]\nname = \"x\"\n")
        .commit_all("init");
    let run = repo.gate(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    let written = repo.read("gates.toml");
    assert!(
        written.contains("[gates.rustfmt]") && written.contains("[gates.clippy]"),
        "{written}"
    );
    assert!(
        written.contains("# .: rustfmt: `Cargo.toml` found; `cargo` is "),
        "{written}"
    );
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        !run.stderr.contains("built-in gates"),
        "the written file is used: {run:?}"
    );
    let run = repo.gate(&["init"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("already exists"), "{run:?}");
}

/// A new project not yet added to git: gate reads the tracked tree (what a commit holds),
/// so `init` finds nothing there, and says what to do instead of "no project".
#[test]
fn init_before_the_project_is_added_says_to_add_it() {
    let repo = TestRepo::new();
    repo.tool("cargo", "exit 0")
        .write("Cargo.toml", "[package]\nname = \"x\"\n");
    let run = repo.gate(&["init"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("not tracked yet"), "{run:?}");
    assert!(run.stderr.contains("`Cargo.toml` found"), "{run:?}");
    assert!(run.stderr.contains("git add"), "{run:?}");
    let run = repo.gate(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("not tracked yet"),
        "without gates.toml too: {run:?}"
    );
    repo.git(&["add", "Cargo.toml"]);
    let run = repo.gate(&["init"]);
    assert_eq!(run.code, 0, "staged is enough: {run:?}");
}

#[test]
fn a_dependency_named_twice_is_rejected_instead_of_hanging() {
    let run = rejected(
        "[gates.a]\nkind = \"lint\"\nrun = [\"marker\"]\ndepends_on = [\"b\", \"b\"]\n\n[gates.b]\nkind = \"lint\"\nrun = [\"marker\"]\n",
    );
    assert!(
        run.stderr
            .contains("gates.toml:4:20: gate `a` names `b` twice in `depends_on`"),
        "{run:?}"
    );
    assert!(run.stderr.contains("hint: name each gate once"), "{run:?}");
}

#[test]
fn audit_and_publish_refuse_a_broken_configuration_as_check_does() {
    let repo = TestRepo::new();
    repo.tool("ok", "exit 0")
        .config("[gates.x]\nkind = \"lint\"\nrun = [\"ok\"]\nalways = true\n")
        .commit_all("init");
    let run = repo.gate(&["check", "--all", "--report", "json=r.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    repo.write("Cargo.lock", "")
        .config("[gates.x]\nkind = \"lint\"\nrun = [\"x\"]\nfiless = 1\n");
    let run = repo.gate(&["audit", "--db", "nowhere"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("gates.toml:4:1: unknown field `filess`"), "{run:?}");
    let run = repo.gate(&["publish", "r.json"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("gates.toml:4:1: unknown field `filess`"), "{run:?}");
}

#[test]
fn environment_names_that_cannot_exist_are_rejected() {
    for bad in ["\"A=B\"", "\"\""] {
        let run = rejected(&format!(
            "[gates.a]\nkind = \"lint\"\nrun = [\"marker\"]\nenv = {{ {bad} = \"x\" }}\n"
        ));
        assert!(run.stderr.contains("which no environment variable can have"), "{run:?}");
    }
}

#[test]
fn an_empty_configuration_says_how_to_add_a_gate() {
    let run = rejected("# nothing yet\n");
    assert!(
        run.stderr.contains("gates.toml:1:1: there are no gates in it"),
        "{run:?}"
    );
    assert!(run.stderr.contains("hint: add one, e.g. `[gates.lint]`"), "{run:?}");
}

#[test]
fn a_glob_that_can_never_match_is_rejected() {
    let run = rejected("[gates.a]\nkind = \"lint\"\nrun = [\"marker\"]\nfiles = [\"../other/*.py\"]\n");
    assert!(
        run.stderr.contains("the glob `../other/*.py` can never match"),
        "{run:?}"
    );
}

#[test]
fn gate_skip_naming_no_gate_warns() {
    let repo = TestRepo::new();
    repo.tool("ok", "exit 0")
        .config("[gates.lint]\nkind = \"lint\"\nrun = [\"ok\"]\nalways = true\n")
        .commit_all("init");
    let run = repo.gate_env(&["check"], &[("GATE_SKIP", "lnit")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("`GATE_SKIP` names `lnit`, which is not a gate"),
        "{run:?}"
    );
}

#[test]
fn doctor_exits_2_when_something_needs_fixing() {
    let repo = TestRepo::new();
    repo.config("[gates.lint]\nkind = \"lint\"\nrun = [\"no-such-tool-here\"]\n")
        .commit_all("init");
    let run = repo.gate(&["doctor"]);
    assert_eq!(run.code, 2, "{run:?}");
}
