//! Presets against the real tools (`PyPI`, npm and Debian; `tests/tools/install` and `.ci/run`
//! install them): a planted problem fails the gate with a diagnostic on its line, the fix
//! command repairs it, and a clean file passes. The tools are found where projects keep
//! them: the test repository's `.venv/bin` and `node_modules/.bin`.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::{Run, TestRepo};

/// `tests/tools/.installed`, after installing the pinned tools there if needed.
pub(crate) fn installed() -> &'static Path {
    static DONE: OnceLock<PathBuf> = OnceLock::new();
    DONE.get_or_init(|| {
        let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools");
        let output = Command::new("bash").arg(tools.join("install")).output().unwrap();
        assert!(
            output.status.success(),
            "the preset tests run the real tools, and `bash tests/tools/install` (PyPI and npm) failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        tools.join(".installed")
    })
}

/// A repository whose `.venv` and `node_modules` hold the real tools, with one gate.
fn repo_with(gate: &str) -> TestRepo {
    let tools = installed();
    let repo = TestRepo::new();
    symlink(tools.join("venv"), repo.root().join(".venv")).unwrap();
    symlink(tools.join("node/node_modules"), repo.root().join("node_modules")).unwrap();
    repo.write(
        ".gitignore",
        ".venv\nnode_modules\nreport.json\n__pycache__/\n.mypy_cache/\n",
    )
    .config(gate);
    repo
}

/// A Debian tool on the PATH tests give gate; `.ci/run` installs it.
fn debian(tool: &str) {
    assert!(
        Path::new("/usr/bin").join(tool).is_file(),
        "`{tool}` is not installed: run `.ci/run`, or `apt-get install {tool}`"
    );
}

/// The toolchain the tests themselves run on, for the Rust presets: `cargo` on the PATH
/// gate gets, and where rustup keeps its toolchains.
#[expect(clippy::disallowed_methods, reason = "the test's own environment, not gate's")]
fn rust_env(repo: &TestRepo) -> Vec<(&'static str, String)> {
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo"));
    let rustup_home = std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{home}/.rustup"));
    let cargo = Path::new(&cargo_home).join("bin/cargo");
    assert!(cargo.exists(), "no cargo at {}", cargo.display());
    symlink(&cargo, repo.bin().join("cargo")).unwrap();
    vec![("CARGO_HOME", cargo_home), ("RUSTUP_HOME", rustup_home)]
}

/// `gate check --all` with a JSON report: the run and the one gate's report entry.
fn check(repo: &TestRepo, extra: &[&str]) -> (Run, Value) {
    check_env(repo, extra, &[])
}

fn check_env(repo: &TestRepo, extra: &[&str], env: &[(&str, String)]) -> (Run, Value) {
    let mut args = vec!["check", "--all", "--report", "json=report.json"];
    args.extend_from_slice(extra);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = repo.gate_env(&args, &env);
    let report: Value = serde_json::from_str(&repo.read("report.json")).unwrap_or_else(|_| panic!("{run:?}"));
    (run, report["gates"][0].clone())
}

/// The diagnostics of a report entry as `file:line` (and `:col` where given) and code.
fn places(gate: &Value) -> Vec<String> {
    gate["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let column = d["column"].as_u64().map(|c| format!(":{c}")).unwrap_or_default();
            let code = d["code"].as_str().map(|c| format!(" {c}")).unwrap_or_default();
            format!("{}:{}{column}{code}", d["file"].as_str().unwrap(), d["line"])
        })
        .collect()
}

/// The planted problem fails with these diagnostics; with `fix`, the file becomes `fixed`.
fn fails_then_fixes(repo: &TestRepo, file: &str, expected: &[&str], fixed: Option<&str>) {
    repo.add_all().commit_all("planted");
    let (run, gate) = check(repo, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(gate["status"], "failed", "{run:?}");
    let found = places(&gate);
    for want in expected {
        assert!(
            found.iter().any(|f| f.starts_with(want)),
            "no `{want}` in {found:?}\n{run:?}"
        );
    }
    if let Some(fixed) = fixed {
        let (run, gate) = check(repo, &["--fix"]);
        assert_eq!(gate["status"], "fixed", "{run:?}");
        assert_eq!(repo.read(file), fixed, "{run:?}");
        let (run, gate) = check(repo, &[]);
        assert_eq!((run.code, gate["status"].as_str()), (0, Some("passed")), "{run:?}");
    }
}

#[test]
fn ruff_check_reads_ruffs_json_and_fixes() {
    let repo = repo_with("[gates.ruff]\npreset = \"ruff-check\"\n");
    repo.write("a.py", "import os\nprint(1)\n");
    fails_then_fixes(&repo, "a.py", &["a.py:1:8 F401"], Some("print(1)\n"));
}

#[test]
fn ruff_format_never_rewrites_in_the_check() {
    let repo = repo_with("[gates.fmt]\npreset = \"ruff-format\"\n");
    repo.write("a.py", "x=1\n");
    fails_then_fixes(&repo, "a.py", &["a.py:1"], Some("x = 1\n"));
}

#[test]
fn black_and_isort() {
    let repo = repo_with("[gates.black]\npreset = \"black\"\n");
    repo.write("a.py", "x=1\n");
    fails_then_fixes(&repo, "a.py", &["a.py"], Some("x = 1\n"));
    let repo = repo_with("[gates.isort]\npreset = \"isort\"\n");
    repo.write("a.py", "import sys\nimport os\n");
    fails_then_fixes(&repo, "a.py", &["a.py"], Some("import os\nimport sys\n"));
}

#[test]
fn flake8_lines_and_columns() {
    let repo = repo_with("[gates.flake8]\npreset = \"flake8\"\n");
    repo.write("a.py", "x=1\n");
    fails_then_fixes(&repo, "a.py", &["a.py:1:2 E225"], None);
}

#[test]
fn mypy_runs_once_over_the_project() {
    let repo = repo_with("[gates.types]\npreset = \"mypy\"\n");
    repo.write("a.py", "def f() -> int:\n    return 1\n")
        .write("d.py", "def g() -> int:\n    return \"x\"\n");
    fails_then_fixes(&repo, "d.py", &["d.py:2:12"], None);
    let (run, gate) = check(&repo, &[]);
    assert_eq!(gate["processes"], 1, "one run for the whole project: {run:?}");
}

#[test]
fn pyright_places_its_errors() {
    let repo = repo_with("[gates.types]\npreset = \"pyright\"\n");
    repo.write("d.py", "def g() -> int:\n    return \"x\"\n");
    fails_then_fixes(&repo, "d.py", &["d.py:2:12"], None);
}

#[test]
fn pytest_fails_on_a_failing_test_and_passes_on_a_passing_one() {
    let repo = repo_with("[gates.test]\npreset = \"pytest\"\n");
    repo.write("test_a.py", "def test_a():\n    assert 1 == 2\n");
    fails_then_fixes(&repo, "test_a.py", &[], None);
    repo.write("test_a.py", "def test_a():\n    assert 1 == 1\n");
    let (run, gate) = check(&repo, &[]);
    assert_eq!((run.code, gate["status"].as_str()), (0, Some("passed")), "{run:?}");
}

#[test]
fn a_test_runner_runs_when_only_its_data_changes() {
    let repo = repo_with("[gates.test]\npreset = \"pytest\"\n");
    repo.write(
        "test_data.py",
        "import json, pathlib\n\ndef test_data():\n    assert json.loads(pathlib.Path('expected.json').read_text())['ok']\n",
    )
    .write("expected.json", "{\"ok\": true}\n")
    .commit_all("init");
    // A commit that touches no Python file can still break the suite.
    repo.write("expected.json", "{\"ok\": false}\n");
    repo.git(&["add", "expected.json"]);
    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.status("test"), "failed", "{run:?}");
}

#[test]
fn eslint_diagnostics_come_from_its_json_and_show_as_lines() {
    let repo = repo_with("[gates.eslint]\npreset = \"eslint\"\n");
    repo.write(
        "eslint.config.mjs",
        "import js from \"@eslint/js\";\nexport default [js.configs.recommended];\n",
    )
    .write("a.js", "const x = 1;\nexport const y = 2;\n");
    fails_then_fixes(&repo, "a.js", &["a.js:1:7 no-unused-vars"], None);
    let run = repo.gate(&["check", "--all"]);
    assert!(run.stdout.contains("a.js:1:7: error"), "{run:?}");
    assert!(!run.stdout.contains("\"filePath\""), "no raw JSON: {run:?}");
}

#[test]
fn prettier_checks_and_writes() {
    let repo = repo_with("[gates.prettier]\npreset = \"prettier\"\n");
    repo.write("a.js", "const x  =  1\n");
    fails_then_fixes(&repo, "a.js", &["a.js"], Some("const x = 1;\n"));
}

#[test]
fn tsc_maps_its_errors_to_lines() {
    let repo = repo_with("[gates.tsc]\npreset = \"tsc\"\n");
    repo.write(
        "tsconfig.json",
        "{\"compilerOptions\": {\"strict\": true}, \"include\": [\"*.ts\"]}\n",
    )
    .write("a.ts", "export const n: number = \"x\";\n");
    fails_then_fixes(&repo, "a.ts", &["a.ts:1:14 TS2322"], None);
}

#[test]
fn biome_checks_and_writes() {
    let repo = repo_with("[gates.biome]\npreset = \"biome\"\n");
    repo.write("a.js", "let y = 2\nexport { y }\n");
    fails_then_fixes(&repo, "a.js", &["a.js:1:1 lint/style/useConst"], None);
}

#[test]
fn vitest_runs_the_suite() {
    let repo = repo_with("[gates.test]\npreset = \"vitest\"\n");
    repo.write("package.json", "{\"type\": \"module\"}\n").write(
        "a.test.js",
        "import { test, expect } from \"vitest\";\ntest(\"a\", () => expect(1).toBe(2));\n",
    );
    fails_then_fixes(&repo, "a.test.js", &[], None);
}

#[test]
fn shellcheck_and_shfmt() {
    debian("shellcheck");
    debian("shfmt");
    let repo = repo_with("[gates.sc]\npreset = \"shellcheck\"\n");
    repo.write("a.sh", "#!/bin/sh\necho $1\n");
    fails_then_fixes(&repo, "a.sh", &["a.sh:2:6"], None);
    let repo = repo_with("[gates.shfmt]\npreset = \"shfmt\"\n");
    repo.write("a.sh", "#!/bin/sh\nif true ; then\n  echo  x\nfi\n");
    fails_then_fixes(
        &repo,
        "a.sh",
        &["a.sh"],
        Some("#!/bin/sh\nif true; then\n\techo x\nfi\n"),
    );
}

#[test]
fn yamllint_and_markdownlint() {
    let repo = repo_with("[gates.yaml]\npreset = \"yamllint\"\n");
    repo.write("a.yaml", "---\nkey: [1,2]\n");
    fails_then_fixes(&repo, "a.yaml", &["a.yaml:2:9"], None);
    let repo = repo_with("[gates.md]\npreset = \"markdownlint\"\n");
    repo.write("a.md", "# T\n## x\n\ntext\n");
    fails_then_fixes(&repo, "a.md", &["a.md:1 MD022"], Some("# T\n\n## x\n\ntext\n"));
}

#[test]
fn rustfmt_and_clippy_on_a_crate() {
    let repo = repo_with("[gates.fmt]\npreset = \"rustfmt\"\n[gates.clippy]\npreset = \"clippy\"\n");
    let env = rust_env(&repo);
    repo.write(".gitignore", ".venv\nnode_modules\nreport.json\ntarget\n")
        .write(
            "Cargo.toml",
            "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .write(
            "src/main.rs",
            "fn main() {\n    let x = 1;\n    if x == x { println!(\"{x}\") }\n}\n",
        );
    repo.add_all().commit_all("planted");
    let (run, _) = check_env(&repo, &[], &env);
    assert_eq!(run.code, 1, "{run:?}");
    let report: Value = serde_json::from_str(&repo.read("report.json")).unwrap();
    let (fmt, clippy) = (&report["gates"][0], &report["gates"][1]);
    assert_eq!(
        (fmt["status"].as_str(), clippy["status"].as_str()),
        (Some("failed"), Some("failed")),
        "{run:?}"
    );
    assert!(places(fmt).iter().any(|p| p.starts_with("src/main.rs:")), "{run:?}");
    assert!(
        places(clippy)
            .iter()
            .any(|p| p.starts_with("src/main.rs:3:8 clippy::eq_op")),
        "{:?}",
        places(clippy)
    );
    let (run, _) = check_env(&repo, &["--fix", "--gate", "fmt"], &env);
    assert!(
        repo.read("src/main.rs").contains("    if x == x {\n        println!"),
        "{run:?}"
    );
}

#[test]
fn a_preset_key_set_beside_it_wins_and_an_unknown_preset_is_named() {
    let repo = repo_with("[gates.ruff]\npreset = \"ruff-check\"\nfiles = [\"src/*.py\"]\n");
    repo.write("a.py", "import os\n").write("src/b.py", "print(1)\n");
    repo.add_all().commit_all("planted");
    let (run, gate) = check(&repo, &[]);
    assert_eq!(
        (run.code, gate["files"].clone()),
        (0, serde_json::json!(["src/b.py"])),
        "{run:?}"
    );
    repo.config("[gates.lint]\npreset = \"ruff\"\n");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("gates.toml:2:10: unknown preset `ruff`"), "{run:?}");
    assert!(
        run.stderr.contains("hint: the presets are ruff-check, ruff-format"),
        "{run:?}"
    );
}

#[test]
fn gate_presets_lists_every_preset_with_what_it_runs() {
    let repo = TestRepo::new();
    let run = repo.gate(&["presets"]);
    assert_eq!(run.code, 0, "{run:?}");
    for name in [
        "ruff-check",
        "ruff-format",
        "black",
        "isort",
        "flake8",
        "mypy",
        "pyright",
        "pytest",
        "eslint",
        "prettier",
        "tsc",
        "jest",
        "vitest",
        "biome",
        "rustfmt",
        "clippy",
        "cargo-test",
        "cargo-nextest",
        "gofmt",
        "go-vet",
        "golangci-lint",
        "go-test",
        "shellcheck",
        "shfmt",
        "actionlint",
        "hadolint",
        "markdownlint",
        "yamllint",
    ] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name}: {run:?}"
        );
    }
    assert!(
        run.stdout
            .contains("    run: ruff check --no-fix --output-format=json {files}")
    );
    assert!(
        run.stdout.contains("mypy           typecheck once in its workdir"),
        "{run:?}"
    );
}

#[test]
fn a_preset_keeps_its_tools_colours_with_the_tools_own_flag() {
    let repo = TestRepo::new();
    repo.tool("pytest", "echo \"pytest $*\"")
        .config("[gates.test]\npreset = \"pytest\"\n[gates.plain]\npreset = \"pytest\"\ncolor = false\n")
        .write("test_a.py", "\n")
        .commit_all("init");
    let run = repo.gate(&["--color", "always", "check", "--all", "-v"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("pytest --color=yes -q"), "{run:?}");
    assert_eq!(
        run.stdout.matches("--color=yes").count(),
        1,
        "not with `color = false`: {run:?}"
    );
    let run = repo.gate(&["check", "--all", "-v"]);
    assert!(!run.stdout.contains("--color=yes"), "no colour, no flag: {run:?}");
}

#[test]
fn go_presets_format_vet_and_test() {
    debian("go");
    debian("gofmt");
    let module = |repo: &TestRepo| {
        repo.write("go.mod", "module example.com/demo\n\ngo 1.19\n");
    };
    let repo = repo_with("[gates.gofmt]\npreset = \"gofmt\"\n");
    module(&repo);
    repo.write("main.go", "package main\nfunc main() {\n  println(1)\n}\n");
    fails_then_fixes(
        &repo,
        "main.go",
        &["main.go"],
        Some("package main\n\nfunc main() {\n\tprintln(1)\n}\n"),
    );

    let repo = repo_with("[gates.vet]\npreset = \"go-vet\"\n");
    module(&repo);
    repo.write(
        "main.go",
        "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Printf(\"%d\\n\", \"x\")\n}\n",
    );
    fails_then_fixes(&repo, "main.go", &["main.go:6:2"], None);

    let repo = repo_with("[gates.test]\npreset = \"go-test\"\n");
    module(&repo);
    repo.write(
        "a_test.go",
        "package main\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) { t.Fatal(\"no\") }\n",
    )
    .write("main.go", "package main\n\nfunc main() {}\n");
    fails_then_fixes(&repo, "a_test.go", &[], None);
}

#[test]
fn hadolint_and_jest() {
    let repo = repo_with("[gates.docker]\npreset = \"hadolint\"\n");
    repo.write("Dockerfile", "FROM debian\n");
    fails_then_fixes(&repo, "Dockerfile", &["Dockerfile:1 DL3006"], None);
    let repo = repo_with("[gates.test]\npreset = \"jest\"\n");
    repo.write("a.test.js", "test(\"a\", () => expect(1).toBe(2));\n");
    fails_then_fixes(&repo, "a.test.js", &[], None);
}

#[test]
fn cargo_test_and_nextest_fail_on_a_failing_test() {
    assert!(
        ["/usr/local/bin", "/usr/bin"]
            .iter()
            .any(|dir| Path::new(dir).join("cargo-nextest").is_file()),
        "cargo-nextest is not installed: `cargo install cargo-nextest --locked` (the machine image has it)"
    );
    for preset in ["cargo-test", "cargo-nextest"] {
        let repo = repo_with(&format!("[gates.test]\npreset = \"{preset}\"\n"));
        let env = rust_env(&repo);
        repo.write(".gitignore", ".venv\nnode_modules\nreport.json\ntarget\n")
            .write(
                "Cargo.toml",
                "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            )
            .write("src/lib.rs", "#[test]\nfn fails() {\n    assert_eq!(1, 2);\n}\n");
        repo.add_all().commit_all("planted");
        let (run, gate) = check_env(&repo, &[], &env);
        assert_eq!(
            (run.code, gate["status"].as_str()),
            (1, Some("failed")),
            "{preset}: {run:?}"
        );
        repo.write("src/lib.rs", "#[test]\nfn passes() {}\n");
        let (run, gate) = check_env(&repo, &[], &env);
        assert_eq!(
            (run.code, gate["status"].as_str()),
            (0, Some("passed")),
            "{preset}: {run:?}"
        );
    }
}
