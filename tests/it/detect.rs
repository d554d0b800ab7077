//! Detection for polyglot monorepos: `gate init` (and the built-in default) finds every
//! project folder, what each uses, and whether the tool is installed there.

use crate::common::TestRepo;

/// An executable at `path` inside the repository (untracked, as installed tools are).
fn installed(repo: &TestRepo, path: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    repo.write(path, format!("#!/bin/sh\n{script}\n"));
    std::fs::set_permissions(repo.root().join(path), std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn monorepo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", "node_modules/\n.venv/\n")
        .write(
            "services/web/package.json",
            r#"{"devDependencies": {"eslint": "^9.0.0", "prettier": "^3.0.0"}}"#,
        )
        .write("services/web/src/app.js", "export const a = 1;\n")
        .write(
            "services/api/pyproject.toml",
            "[project]\nname = \"api\"\n\n[tool.ruff]\nline-length = 100\n\n[tool.mypy]\nstrict = true\n",
        )
        .write("services/api/app.py", "x = 1\n")
        .write("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n")
        .write("crates/core/Cargo.toml", "[package]\nname = \"core\"\n")
        .write("crates/core/src/lib.rs", "\n")
        .write("Cargo.lock", "version = 3\n")
        .write("deploy/Dockerfile", "FROM debian\n");
    installed(&repo, "services/web/node_modules/.bin/eslint", "echo eslint \"$@\"");
    installed(&repo, "services/api/.venv/bin/ruff", "echo ruff \"$@\"");
    repo.tool("cargo", "echo cargo \"$@\"");
    repo.commit_all("monorepo");
    repo
}

#[test]
fn init_writes_one_gate_per_tool_and_folder_and_says_what_it_skipped() {
    let repo = monorepo();
    let run = repo.gate(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    let written = repo.read("gates.toml");
    for gate in [
        "[gates.web-eslint]\npreset = \"eslint\"\nworkdir = \"services/web\"\n",
        "[gates.api-ruff-check]\npreset = \"ruff-check\"\nworkdir = \"services/api\"\n",
        "[gates.api-ruff-format]\npreset = \"ruff-format\"\nworkdir = \"services/api\"\n",
        "[gates.rustfmt]\npreset = \"rustfmt\"\n",
        "[gates.clippy]\npreset = \"clippy\"\n",
        "[gates.audit]\nkind = \"audit\"\n",
    ] {
        assert!(written.contains(gate), "no {gate:?} in\n{written}");
    }
    assert!(
        !written.contains("crates/core"),
        "a workspace member is part of its workspace:\n{written}"
    );
    assert!(
        written.contains(
            "# services/web: web-eslint: `eslint` in package.json; `eslint` is services/web/node_modules/.bin/eslint"
        ),
        "{written}"
    );
    for skipped in [
        "services/web: not prettier: `prettier` in package.json, but `prettier` is not installed (npm install --save-dev prettier)",
        "services/api: not mypy: `[tool.mypy]` in pyproject.toml, but `mypy` is not installed (pip install mypy)",
        ".: not hadolint: a Dockerfile (`deploy/Dockerfile`), but `hadolint` is not installed",
    ] {
        assert!(written.contains(skipped), "no {skipped:?} in\n{written}");
        assert!(run.stdout.contains(skipped), "{run:?}");
    }
    assert!(
        written.contains("download the database first with `gate audit --update`"),
        "{written}"
    );
    // What init wrote runs, each tool from its folder, on that folder's files only.
    repo.write("services/web/src/app.js", "export const a = 2;\n");
    let run = repo.gate(&["check", "-v", "--gate", "web-eslint", "--gate", "api-ruff-check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("eslint --format json src/app.js"), "{run:?}");
    assert_eq!(run.status("api-ruff-check"), "skipped", "{run:?}");
}

#[test]
fn the_built_in_default_is_the_same_detection_without_the_audit_it_cannot_run() {
    let repo = monorepo();
    let run = repo.gate(&["list", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("using built-in gates"), "{run:?}");
    assert!(run.stderr.contains("services/web: web-eslint:"), "{run:?}");
    assert!(
        run.stderr
            .contains("not audit: `Cargo.lock` found, but there is no vulnerability database yet"),
        "{run:?}"
    );
    for gate in [
        "web-eslint",
        "api-ruff-check",
        "api-ruff-format",
        "rustfmt",
        "clippy",
        "cargo-test",
    ] {
        assert!(run.stdout.contains(gate), "{gate}: {run:?}");
    }
}
