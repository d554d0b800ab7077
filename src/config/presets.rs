//! Presets: what a well-known tool needs to be a gate — its kind, the files it reads, a
//! check command that never rewrites files, the fix command, and how to read its output —
//! so `preset = "ruff-check"` is a whole gate. Any key set next to `preset` wins.
//!
//! A check that takes `{files}` runs per batch of changed files; type checkers and test
//! runners, which must see the whole project, run once in the gate's `workdir`.

use crate::model::Kind;

/// A well-known tool as a gate.
#[derive(Debug)]
pub(crate) struct Preset {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) files: &'static [&'static str],
    /// The check; never rewrites a file.
    pub(crate) run: Command,
    pub(crate) fix: Option<Command>,
    /// `gnu`, `json-lines` or a regex (see `problem_format`).
    pub(crate) problem_format: Option<&'static str>,
    /// How to install the tool, for messages when it is missing.
    pub(crate) install: &'static str,
    /// The tool's own flag to keep its colours, put right after the program when gate's
    /// output has colour (for tools that do not read `FORCE_COLOR`).
    pub(crate) color: Option<&'static str>,
    /// What else its result depends on, for the result cache (`inputs`): the tool's own
    /// configuration, and for test runners every tracked file (tests read their data).
    /// A pass kept before the tool's configuration changed is never served after it.
    pub(crate) inputs: &'static [&'static str],
}

/// Every tracked file: a test reads fixtures, snapshots and data no glob can foresee, so a
/// test runner runs when anything in its `workdir` changes (as pre-commit's pytest hooks
/// run with `always_run`), and its pass is kept for the whole repository's content.
const EVERYTHING: &[&str] = &["**"];

/// A preset's command: an argv, or a script for `sh -c` where the tool's exit status alone
/// does not say whether the check failed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Command {
    Argv(&'static [&'static str]),
    Shell(&'static str),
}

const PYTHON: &[&str] = &["*.py", "*.pyi"];
const PYTHON_PROJECT: &[&str] = &["*.py", "*.pyi", "pyproject.toml", "setup.cfg", "mypy.ini", ".mypy.ini"];
const SCRIPT: &[&str] = &["*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.mts", "*.cts"];
const SCRIPT_PROJECT: &[&str] = &[
    "*.js",
    "*.jsx",
    "*.mjs",
    "*.cjs",
    "*.ts",
    "*.tsx",
    "*.mts",
    "*.cts",
    "package.json",
    "tsconfig*.json",
];
const PRETTIER: &[&str] = &[
    "*.js",
    "*.jsx",
    "*.mjs",
    "*.cjs",
    "*.ts",
    "*.tsx",
    "*.mts",
    "*.cts",
    "*.css",
    "*.scss",
    "*.less",
    "*.json",
    "*.md",
    "*.yaml",
    "*.yml",
    "*.html",
    "*.vue",
    "*.graphql",
];
const BIOME: &[&str] = &[
    "*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.mts", "*.cts", "*.json", "*.jsonc", "*.css",
];
const RUST: &[&str] = &["*.rs", "Cargo.toml", "Cargo.lock"];
const GO: &[&str] = &["*.go", "go.mod", "go.sum"];
const SHELL: &[&str] = &["*.sh", "*.bash"];
const YAML: &[&str] = &["*.yml", "*.yaml"];

/// Diagnostics of tools whose output is neither GNU lines nor JSON gate knows.
mod formats {
    pub(super) const BLACK: &str = r"^would reformat (?P<file>.+)$";
    pub(super) const FLAKE8: &str =
        r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<message>.*)$";
    pub(super) const ISORT: &str = r"^ERROR: (?P<file>.+?) (?P<message>Imports are incorrectly sorted.*)$";
    pub(super) const PYRIGHT: &str = r"^[ \t]*(?P<file>[^\s:][^:\n]*):(?P<line>\d+):(?P<col>\d+) - (?P<severity>error|warning|information): (?P<message>.*)$";
    /// `[warn] path`; the closing `[warn] Code style issues …` line has spaces, so it is not a file.
    pub(super) const PRETTIER: &str = r"^\[warn\] (?P<file>\S+)$";
    pub(super) const TSC: &str = r"^(?P<file>[^\s(][^(\n]*)\((?P<line>\d+),(?P<col>\d+)\): (?P<severity>error|warning) (?P<code>TS\d+): (?P<message>.*)$";
    /// `--reporter=concise`: `! a.js:1:7: lint/x/y: message`, `× a.js: format: message`.
    pub(super) const BIOME: &str = r"^(?P<severity>[!×i]) (?P<file>[^\s:][^:\n]*):(?:(?P<line>\d+):(?P<col>\d+):)? (?P<code>[a-z]+(?:/\S+)?): (?P<message>.*)$";
    pub(super) const RUSTFMT: &str = r"^Diff in (?P<file>.+?):(?P<line>\d+):$";
    pub(super) const GO_VET: &str =
        r"^(?:vet: )?(?P<file>[^\s:#][^:\n]*\.go):(?P<line>\d+):(?P<col>\d+): (?P<message>.*)$";
    pub(super) const GOFMT: &str = r"^(?P<file>\S+\.go)$";
    pub(super) const SHFMT: &str = r"^\+\+\+ (?P<file>\S+)$";
    pub(super) const HADOLINT: &str =
        r"^(?P<file>[^\s:]+):(?P<line>\d+) (?P<code>\S+) (?P<severity>error|warning|info|style): (?P<message>.*)$";
    pub(super) const MARKDOWNLINT: &str = r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+)(?::(?P<col>\d+))? (?:(?P<severity>error|warning) )?(?P<code>MD\d+)\S* (?P<message>.*)$";
    pub(super) const YAMLLINT: &str =
        r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): \[(?P<severity>error|warning)\] (?P<message>.*)$";
}

const fn preset(name: &'static str, kind: Kind, files: &'static [&'static str], run: Command) -> Preset {
    Preset {
        name,
        kind,
        files,
        run,
        fix: None,
        problem_format: None,
        install: "",
        color: None,
        inputs: &[],
    }
}

impl Preset {
    const fn fix(mut self, fix: &'static [&'static str]) -> Self {
        self.fix = Some(Command::Argv(fix));
        self
    }

    const fn fix_shell(mut self, fix: &'static str) -> Self {
        self.fix = Some(Command::Shell(fix));
        self
    }

    const fn format(mut self, format: &'static str) -> Self {
        self.problem_format = Some(format);
        self
    }

    const fn color(mut self, flag: &'static str) -> Self {
        self.color = Some(flag);
        self
    }

    const fn install(mut self, how: &'static str) -> Self {
        self.install = how;
        self
    }

    const fn inputs(mut self, inputs: &'static [&'static str]) -> Self {
        self.inputs = inputs;
        self
    }
}

use Command::{Argv, Shell};

/// Every preset, in the order `gate presets` lists them.
pub(crate) const PRESETS: &[Preset] = &[
    // Python
    preset(
        "ruff-check",
        Kind::Lint,
        PYTHON,
        Argv(&["ruff", "check", "--no-fix", "--output-format=json", "{files}"]),
    )
    .fix(&["ruff", "check", "--fix", "{files}"])
    .format("json")
    .inputs(&["pyproject.toml", "ruff.toml", ".ruff.toml"])
    .install("pip install ruff"),
    preset(
        "ruff-format",
        Kind::Format,
        PYTHON,
        Argv(&["ruff", "format", "--check", "--output-format=json", "{files}"]),
    )
    .fix(&["ruff", "format", "{files}"])
    .format("json")
    .inputs(&["pyproject.toml", "ruff.toml", ".ruff.toml"])
    .install("pip install ruff"),
    preset("black", Kind::Format, PYTHON, Argv(&["black", "--check", "{files}"]))
        .fix(&["black", "{files}"])
        .format(formats::BLACK)
        .color("--color")
        .inputs(&["pyproject.toml"])
        .install("pip install black"),
    preset(
        "isort",
        Kind::Format,
        PYTHON,
        Argv(&["isort", "--check-only", "{files}"]),
    )
    .fix(&["isort", "{files}"])
    .format(formats::ISORT)
    .inputs(&["pyproject.toml", ".isort.cfg", "setup.cfg", "tox.ini", ".editorconfig"])
    .install("pip install isort"),
    preset("flake8", Kind::Lint, PYTHON, Argv(&["flake8", "{files}"]))
        .format(formats::FLAKE8)
        .color("--color=always")
        .inputs(&["setup.cfg", "tox.ini", ".flake8"])
        .install("pip install flake8"),
    preset(
        "mypy",
        Kind::Typecheck,
        PYTHON_PROJECT,
        Argv(&["mypy", "--show-column-numbers", "--no-error-summary", "."]),
    )
    .format("gnu")
    .color("--color-output")
    .inputs(&["mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg"])
    .install("pip install mypy"),
    preset("pyright", Kind::Typecheck, PYTHON_PROJECT, Argv(&["pyright"]))
        .format(formats::PYRIGHT)
        .inputs(&["pyrightconfig.json", "pyproject.toml"])
        .install("pip install pyright, or npm install --save-dev pyright"),
    preset("pytest", Kind::Test, EVERYTHING, Argv(&["pytest", "-q"]))
        .color("--color=yes")
        .inputs(EVERYTHING)
        .install("pip install pytest"),
    // JavaScript and TypeScript
    preset(
        "eslint",
        Kind::Lint,
        SCRIPT,
        Argv(&["eslint", "--format", "json", "{files}"]),
    )
    .fix(&["eslint", "--fix", "{files}"])
    .format("json")
    .inputs(&[
        "eslint.config.*",
        ".eslintrc",
        ".eslintrc.*",
        "package.json",
        "tsconfig*.json",
    ])
    .install("npm install --save-dev eslint"),
    preset(
        "prettier",
        Kind::Format,
        PRETTIER,
        Argv(&["prettier", "--check", "{files}"]),
    )
    .fix(&["prettier", "--write", "{files}"])
    .format(formats::PRETTIER)
    .inputs(&[
        ".prettierrc",
        ".prettierrc.*",
        "prettier.config.*",
        "package.json",
        ".editorconfig",
        ".prettierignore",
    ])
    .install("npm install --save-dev prettier"),
    preset(
        "tsc",
        Kind::Typecheck,
        SCRIPT_PROJECT,
        Argv(&["tsc", "--noEmit", "--pretty", "false"]),
    )
    .format(formats::TSC)
    .inputs(&["*.json"])
    .install("npm install --save-dev typescript"),
    preset("jest", Kind::Test, EVERYTHING, Argv(&["jest", "--ci"]))
        .color("--colors")
        .inputs(EVERYTHING)
        .install("npm install --save-dev jest"),
    preset("vitest", Kind::Test, EVERYTHING, Argv(&["vitest", "run"]))
        .inputs(EVERYTHING)
        .install("npm install --save-dev vitest"),
    preset(
        "biome",
        Kind::Lint,
        BIOME,
        Argv(&["biome", "check", "--colors=off", "--reporter=concise", "{files}"]),
    )
    .fix(&["biome", "check", "--write", "{files}"])
    .format(formats::BIOME)
    .inputs(&["biome.json", "biome.jsonc"])
    .install("npm install --save-dev @biomejs/biome"),
    // Rust
    preset(
        "rustfmt",
        Kind::Format,
        RUST,
        Argv(&["cargo", "fmt", "--all", "--", "--check"]),
    )
    .fix(&["cargo", "fmt", "--all"])
    .format(formats::RUSTFMT)
    .inputs(&["rustfmt.toml", ".rustfmt.toml", "rust-toolchain", "rust-toolchain.toml"])
    .install("rustup component add rustfmt"),
    preset(
        "clippy",
        Kind::Lint,
        RUST,
        Argv(&[
            "cargo",
            "clippy",
            "--all-targets",
            "--message-format=json",
            "--",
            "-D",
            "warnings",
        ]),
    )
    .format("json")
    .inputs(&[
        "clippy.toml",
        ".clippy.toml",
        "rust-toolchain",
        "rust-toolchain.toml",
        ".cargo/config.toml",
    ])
    .install("rustup component add clippy"),
    preset("cargo-test", Kind::Test, EVERYTHING, Argv(&["cargo", "test"]))
        .color("--color=always")
        .inputs(EVERYTHING)
        .install("rustup (cargo comes with Rust)"),
    preset(
        "cargo-nextest",
        Kind::Test,
        EVERYTHING,
        Argv(&["cargo", "nextest", "run"]),
    )
    .color("--color=always")
    .inputs(EVERYTHING)
    .install("cargo install cargo-nextest --locked"),
    // Go
    preset(
        "gofmt",
        Kind::Format,
        &["*.go"],
        // gofmt exits 0 whatever it finds; the listed files are the failure.
        Shell(
            r#"unformatted=$(gofmt -l {files}) && test -z "$unformatted" || { printf '%s\n' "$unformatted"; exit 1; }"#,
        ),
    )
    .fix_shell("gofmt -w {files}")
    .format(formats::GOFMT)
    .install("install Go (gofmt comes with it)"),
    preset("go-vet", Kind::Lint, GO, Argv(&["go", "vet", "./..."]))
        .format(formats::GO_VET)
        .install("install Go"),
    preset("golangci-lint", Kind::Lint, GO, Argv(&["golangci-lint", "run"]))
        .format("gnu")
        .inputs(&[".golangci.yml", ".golangci.yaml", ".golangci.toml", ".golangci.json"])
        .install("see golangci-lint.run for install"),
    preset("go-test", Kind::Test, EVERYTHING, Argv(&["go", "test", "./..."]))
        .inputs(EVERYTHING)
        .install("install Go"),
    // Other
    preset(
        "shellcheck",
        Kind::Lint,
        SHELL,
        Argv(&["shellcheck", "--format=gcc", "{files}"]),
    )
    .format("gnu")
    .inputs(&[".shellcheckrc"])
    .install("apt-get install shellcheck, or brew install shellcheck"),
    preset("shfmt", Kind::Format, SHELL, Argv(&["shfmt", "-d", "{files}"]))
        .fix(&["shfmt", "-w", "{files}"])
        .format(formats::SHFMT)
        .inputs(&[".editorconfig"])
        .install("apt-get install shfmt, or go install mvdan.cc/sh/v3/cmd/shfmt@latest"),
    preset(
        "actionlint",
        Kind::Lint,
        &[".github/workflows/*.yml", ".github/workflows/*.yaml"],
        Argv(&["actionlint", "-oneline", "-no-color", "{files}"]),
    )
    .format("gnu")
    .inputs(&[".github/actionlint.yaml", ".github/actionlint.yml"])
    .install("go install github.com/rhysd/actionlint/cmd/actionlint@latest"),
    preset(
        "hadolint",
        Kind::Lint,
        &["Dockerfile", "*.Dockerfile", "Dockerfile.*"],
        Argv(&["hadolint", "--no-color", "{files}"]),
    )
    .format(formats::HADOLINT)
    .inputs(&[".hadolint.yaml", ".hadolint.yml"])
    .install("see github.com/hadolint/hadolint for a binary"),
    preset(
        "markdownlint",
        Kind::Lint,
        &["*.md"],
        Argv(&["markdownlint", "{files}"]),
    )
    .fix(&["markdownlint", "--fix", "{files}"])
    .format(formats::MARKDOWNLINT)
    .inputs(&[".markdownlint.*", ".markdownlintrc"])
    .install("npm install --save-dev markdownlint-cli"),
    preset(
        "yamllint",
        Kind::Lint,
        YAML,
        Argv(&["yamllint", "--format", "parsable", "{files}"]),
    )
    .format(formats::YAMLLINT)
    .inputs(&[".yamllint", ".yamllint.yaml", ".yamllint.yml"])
    .install("pip install yamllint"),
];

/// The preset called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|preset| preset.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProblemFormat;

    #[test]
    fn every_preset_is_a_valid_gate() {
        let mut names = std::collections::HashSet::new();
        for preset in PRESETS {
            assert!(names.insert(preset.name), "`{}` twice", preset.name);
            if let Some(format) = preset.problem_format {
                ProblemFormat::parse(format).unwrap_or_else(|err| panic!("{}: {err}", preset.name));
            }
            assert!(!preset.install.is_empty(), "{} says how to install it", preset.name);
            for input in preset.inputs {
                crate::config::raw::Pattern::parse(input).unwrap_or_else(|err| panic!("{}: {err}", preset.name));
            }
            // A check never rewrites files: no fix flag in `run`.
            if let Argv(run) = preset.run {
                assert!(
                    !run.iter().any(|a| ["--fix", "--write", "-w"].contains(a)),
                    "{}",
                    preset.name
                );
            }
        }
    }
}
