//! `gate migrate` against pre-commit itself (installed from `PyPI` by `tests/tools/install`):
//! on a repository with planted problems, `gate check --all` after the migration gives
//! the verdicts `pre-commit run --all-files` gives.

use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use crate::common::TestRepo;
use crate::presets::installed;

const CONFIG: &str = r#"
exclude: ^vendor/
repos:
  - repo: local
    hooks:
      - id: ruff
        name: ruff
        entry: ruff check --no-fix
        language: system
        types: [python]
      - id: flake8
        name: flake8
        entry: flake8
        language: system
        types: [python]
        exclude: ^legacy/
      - id: no-todo
        name: no-todo
        entry: scripts/no-todo.sh
        language: script
        files: \.(py|txt)$
      - id: always
        name: always
        entry: "true"
        language: system
        pass_filenames: false
        always_run: true
      - id: json-check
        name: json-check
        entry: scripts/no-todo.sh
        language: script
        types: [json]
      - id: unknown
        name: unknown
        entry: hadolint
        language: docker_image
"#;

fn planted() -> TestRepo {
    let tools = installed();
    let repo = TestRepo::new();
    for tool in ["ruff", "flake8", "pre-commit"] {
        symlink(tools.join("venv/bin").join(tool), repo.bin().join(tool)).unwrap();
    }
    repo.write(".pre-commit-config.yaml", CONFIG)
        .write("a.py", "import os\n\nprint(os)\nx=1\n")
        .write("legacy/b.py", "import sys\n")
        .write("vendor/c.py", "import json\n")
        .write("notes.md", "TODO: not a checked file\n")
        .write("scripts/no-todo.sh", "#!/bin/sh\n! grep -n TODO \"$@\"\n");
    std::fs::set_permissions(
        repo.root().join("scripts/no-todo.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    repo.commit_all("planted");
    repo
}

/// `pre-commit run --all-files`: each hook's name and `Passed`, `Failed` or `Skipped`.
fn pre_commit_verdicts(repo: &TestRepo) -> BTreeMap<String, String> {
    let output = repo
        .command("pre-commit", &["run", "--all-files", "--color", "never"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| {
            let status = ["Passed", "Failed", "Skipped"]
                .into_iter()
                .find(|s| line.ends_with(s))?;
            let name = line.split(['.', '(']).next()?.trim();
            Some((name.to_owned(), status.to_ascii_lowercase()))
        })
        .collect()
}

#[test]
fn after_migrate_gate_gives_pre_commits_verdicts() {
    let repo = planted();
    let theirs = pre_commit_verdicts(&repo);
    assert_eq!(theirs.len(), 5, "pre-commit ran the five hooks it can: {theirs:?}");
    let run = repo.gate(&["migrate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("wrote `") && run.stdout.contains("5 gates from `.pre-commit-config.yaml`"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("not migrated: unknown (local): `language: docker_image` hooks are not migrated"),
        "{run:?}"
    );
    repo.commit_all("migrated");
    let run = repo.gate(&["check", "--all", "--report", "json=report.json"]);
    let report: serde_json::Value =
        serde_json::from_str(&repo.read("report.json")).unwrap_or_else(|_| panic!("{run:?}"));
    let ours: BTreeMap<String, String> = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let status = g["status"].as_str().unwrap();
            (
                g["name"].as_str().unwrap().to_owned(),
                if status == "skipped" { "skipped" } else { status }.to_owned(),
            )
        })
        .collect();
    assert_eq!(ours, theirs, "gate: {run:?}");
    assert_eq!(ours["ruff"], "failed", "the planted problems fail: {run:?}");
    assert_eq!(ours["flake8"], "failed");
    assert_eq!(ours["no-todo"], "passed");
}

#[test]
fn migrate_refuses_to_overwrite_and_names_what_it_needs() {
    let repo = TestRepo::new();
    let run = repo.gate(&["migrate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("found no `.pre-commit-config.yaml` or `lefthook.yml`"),
        "{run:?}"
    );
    repo.write(
        "lefthook.yml",
        "pre-commit:\n  commands:\n    lint:\n      glob: \"*.py\"\n      run: ruff check {staged_files}\n",
    )
    .config("[gates.x]\nkind = \"lint\"\nrun = [\"true\"]\n");
    let run = repo.gate(&["migrate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("already exists") && run.stderr.contains("--force"),
        "{run:?}"
    );
    let run = repo.gate(&["migrate", "--force"]);
    assert_eq!(run.code, 0, "{run:?}");
    let written = repo.read("gates.toml");
    assert!(
        written.contains(
            "[gates.lint]\nkind = \"custom\"\nshell = true\nrun = \"ruff check {files}\"\nfiles = [\"*.py\"]"
        ),
        "{written}"
    );
    assert!(Path::new(&repo.root().join("gates.toml")).is_file());
}
