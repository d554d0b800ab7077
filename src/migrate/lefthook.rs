//! `lefthook.yml` to gates: each command (or job) of each hook becomes a shell gate with
//! its `run` (`{staged_files}`, `{push_files}`, `{all_files}` and `{files}` become gate's
//! `{files}`), `glob`, `root`, `exclude`, `env` and the hooks it runs in. A command that
//! rewrites files (`stage_fixed`) becomes a fixer whose fixes are staged.

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{Migrated, Table, stages};
use crate::config::OneOrMany;

/// A top-level key: a hook's table, or a setting (`colors`, `output`, …) gate has no use for.
#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Hook(Hook),
    Setting(IgnoredAny),
}

#[derive(Deserialize)]
struct Hook {
    #[serde(default)]
    commands: IndexMap<String, Command>,
    #[serde(default)]
    jobs: Vec<Job>,
    #[serde(default)]
    scripts: IndexMap<String, IgnoredAny>,
}

#[derive(Deserialize, Default, Clone)]
struct Command {
    run: Option<String>,
    glob: Option<OneOrMany>,
    root: Option<String>,
    exclude: Option<OneOrMany>,
    #[serde(default)]
    stage_fixed: bool,
    #[serde(default)]
    env: IndexMap<String, String>,
    files: Option<String>,
    skip: Option<IgnoredAny>,
    only: Option<IgnoredAny>,
    tags: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Job {
    name: Option<String>,
    #[serde(flatten)]
    command: Command,
}

const FILE_PLACEHOLDERS: [&str; 4] = ["{staged_files}", "{push_files}", "{all_files}", "{files}"];

pub(crate) fn migrate(text: &str) -> anyhow::Result<Migrated> {
    let entries: IndexMap<String, Entry> = serde_saphyr::from_str(text)
        .map_err(|err| anyhow::anyhow!("`lefthook.yml` is not a lefthook configuration: {err}"))?;
    let mut migrated = Migrated::default();
    for (hook_name, entry) in &entries {
        let Entry::Hook(hook) = entry else { continue };
        if stages(std::slice::from_ref(hook_name)).is_err() {
            continue; // a setting that happened to be a table (`remotes`, `output`, …)
        }
        let named_jobs = hook.jobs.iter().enumerate().map(|(i, job)| {
            (
                job.name.clone().unwrap_or_else(|| format!("job-{}", i + 1)),
                job.command.clone(),
            )
        });
        for (name, command) in hook.commands.clone().into_iter().chain(named_jobs) {
            match gate(hook_name, &name, &command, &mut migrated) {
                Ok(Some(mut table)) => {
                    table.name = migrated.unique(&name);
                    migrated.gates.push(table);
                }
                Ok(None) => {}
                Err(why) => migrated.skipped.push(format!("{hook_name} `{name}`: {why}")),
            }
        }
        for script in hook.scripts.keys() {
            migrated.skipped.push(format!(
                "{hook_name} script `{script}`: scripts are not migrated; make it a gate with `run`"
            ));
        }
    }
    Ok(migrated)
}

/// The gate for one command; `None` when the same command was already migrated for
/// another hook (that gate gets this hook's stage too).
fn gate(hook: &str, name: &str, command: &Command, migrated: &mut Migrated) -> Result<Option<Table>, String> {
    let run = command.run.as_deref().ok_or("it has no `run`")?;
    if command.files.is_some() {
        return Err("its `files` command is not migrated; use `glob`".to_owned());
    }
    let mut script = run.to_owned();
    for placeholder in FILE_PLACEHOLDERS {
        script = script.replace(placeholder, "{files}");
    }
    if let Some(at) = script.find('{').filter(|&at| !script[at..].starts_with("{files}")) {
        let end = script[at..].find('}').map_or(script.len(), |e| at + e + 1);
        return Err(format!("its placeholder `{}` has no gate equivalent", &script[at..end]));
    }
    let stage = stages(&[hook.to_owned()])?;
    // The same command in two hooks is one gate that runs in both.
    if let Some(existing) = migrated
        .gates
        .iter_mut()
        .find(|g| g.name == name && run_of(g) == Some(script.as_str()))
    {
        if let Some((_, toml::Value::Array(have))) = existing.keys.iter_mut().find(|(k, _)| *k == "stages") {
            for s in stage {
                if !have.iter().any(|h| h.as_str() == Some(&s)) {
                    have.push(toml::Value::String(s));
                }
            }
        }
        return Ok(None);
    }
    let mut table = Table {
        comment: format!("lefthook {hook} command `{name}`"),
        ..Table::default()
    };
    table.set("kind", "custom");
    table.set("shell", true);
    table.set("run", script.clone());
    if command.stage_fixed {
        table.set("fix", script);
        table.set("on_fix", "stage");
        migrated.notes.push(format!(
            "{name}: it rewrites files (`stage_fixed`), so it is the gate's `fix`; give `run` a check-only flag, or CI fails it for writing"
        ));
    }
    selection(command, &stage, &mut table)?;
    for (key, set) in [
        ("skip", command.skip.is_some()),
        ("only", command.only.is_some()),
        ("tags", command.tags.is_some()),
    ] {
        if set {
            migrated
                .notes
                .push(format!("{name}: lefthook's `{key}` is not carried over"));
        }
    }
    Ok(Some(table))
}

/// Which files, where, with what environment, in which hooks.
fn selection(command: &Command, stage: &[String], table: &mut Table) -> Result<(), String> {
    if let Some(glob) = &command.glob {
        table.strings("files", &glob.clone().into_vec());
    }
    match &command.exclude {
        Some(OneOrMany::Many(globs)) => table.strings("exclude", globs),
        // A string is a regex in lefthook.
        Some(OneOrMany::One(regex)) => {
            regex::Regex::new(regex).map_err(|err| format!("its `exclude` regex: {err}"))?;
            table.strings("exclude_regex", std::slice::from_ref(regex));
        }
        None => {}
    }
    if let Some(root) = command
        .root
        .as_deref()
        .map(|r| r.trim_end_matches('/'))
        .filter(|r| !r.is_empty())
    {
        table.set("workdir", root);
    }
    if !command.env.is_empty() {
        let env: toml::Table = command
            .env
            .iter()
            .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
            .collect();
        table.set("env", toml::Value::Table(env));
    }
    table.strings("stages", stage);
    Ok(())
}

fn run_of(table: &Table) -> Option<&str> {
    table
        .keys
        .iter()
        .find(|(k, _)| *k == "run")
        .and_then(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_jobs_become_gates() {
        let text = r#"
colors: false
pre-commit:
  parallel: true
  commands:
    eslint:
      glob: "*.{js,ts}"
      root: "web/"
      run: npx eslint {staged_files}
    prettier:
      glob: "*.js"
      run: npx prettier --write {staged_files}
      stage_fixed: true
    lint:
      run: make lint
  scripts:
    "check.sh":
      runner: bash
pre-push:
  commands:
    lint:
      run: make lint
    odd:
      run: echo {0}
  jobs:
    - name: test
      run: pytest
      exclude: "^docs/"
"#;
        let migrated = migrate(text).unwrap();
        let rendered = migrated.render("lefthook.yml");
        let parsed: toml::Table = rendered.parse().unwrap_or_else(|e| panic!("{e}\n{rendered}"));
        let gates = parsed["gates"].as_table().unwrap();
        assert_eq!(gates.keys().collect::<Vec<_>>(), ["eslint", "prettier", "lint", "test"]);
        assert_eq!(gates["eslint"]["run"].as_str(), Some("npx eslint {files}"));
        assert_eq!(gates["eslint"]["workdir"].as_str(), Some("web"));
        assert_eq!(gates["prettier"]["on_fix"].as_str(), Some("stage"));
        let lint_stages: Vec<&str> = gates["lint"]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(lint_stages, ["pre-commit", "ci", "manual", "pre-push"]);
        assert_eq!(gates["test"]["exclude_regex"][0].as_str(), Some("^docs/"));
        let skipped = migrated.skipped.join("\n");
        assert!(skipped.contains("`odd`: its placeholder `{0}`"), "{skipped}");
        assert!(skipped.contains("script `check.sh`"), "{skipped}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("web")).unwrap();
        crate::config::parse(&rendered, std::path::Path::new("gates.toml"), dir.path()).unwrap();
    }
}
