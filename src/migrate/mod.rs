//! `gate migrate`: a `gates.toml` from another hook manager's configuration.
//!
//! - `precommit`: `.pre-commit-config.yaml` (local hooks as commands, hooks of well-known
//!   repositories as presets and built-in checks).
//! - `lefthook`: `lefthook.yml`.
//!
//! Both build [`Migrated`]: gates as TOML tables with a comment saying where each came
//! from, and what was not migrated and why.

pub(crate) mod lefthook;
pub(crate) mod precommit;

use std::fmt::Write as _;

use toml::Value;

/// One gate, as its `gates.toml` table.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) name: String,
    /// Where it came from, written above the table.
    pub(crate) comment: String,
    pub(crate) keys: Vec<(&'static str, Value)>,
}

impl Table {
    pub(crate) fn set(&mut self, key: &'static str, value: impl Into<Value>) {
        self.keys.push((key, value.into()));
    }

    pub(crate) fn strings(&mut self, key: &'static str, values: &[String]) {
        self.set(key, Value::Array(values.iter().cloned().map(Value::String).collect()));
    }
}

/// What a migration made of a configuration.
#[derive(Debug, Default)]
pub(crate) struct Migrated {
    pub(crate) gates: Vec<Table>,
    /// `hook: why`, for each hook that did not become a gate.
    pub(crate) skipped: Vec<String>,
    /// Things a migrated gate does differently, worth a look.
    pub(crate) notes: Vec<String>,
}

impl Migrated {
    /// A gate name not taken yet: `name`, else `name-2`, `name-3`, …
    pub(crate) fn unique(&self, name: &str) -> String {
        let taken = |candidate: &str| self.gates.iter().any(|g| g.name == candidate);
        if !taken(name) {
            return name.to_owned();
        }
        // One more candidate than there are gates: one of them is free.
        (2..=self.gates.len() + 2)
            .map(|n| format!("{name}-{n}"))
            .find(|candidate| !taken(candidate))
            .unwrap_or_else(|| name.to_owned())
    }

    /// The `gates.toml` text, headed by where it came from and what was left out.
    pub(crate) fn render(&self, source: &str) -> String {
        let mut text =
            format!("# Written by `gate migrate` from `{source}`; gates.toml.example documents every key.\n");
        for (title, lines) in [("Not migrated", &self.skipped), ("Check", &self.notes)] {
            if !lines.is_empty() {
                let _ = writeln!(text, "#\n# {title}:");
                for line in lines {
                    let _ = writeln!(text, "#   {}", line.replace('\n', "\n#     "));
                }
            }
        }
        for gate in &self.gates {
            let comment = gate.comment.replace('\n', "\n# ");
            let _ = write!(text, "\n# {comment}\n[gates.{}]\n", quoted_key(&gate.name));
            for (key, value) in &gate.keys {
                let _ = writeln!(text, "{key} = {value}");
            }
        }
        text
    }
}

/// A bare TOML key when the name allows one, else a quoted one.
fn quoted_key(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        name.to_owned()
    } else {
        Value::String(name.to_owned()).to_string()
    }
}

/// The globs for an `identify` file type (what pre-commit's `types` name); `None` for
/// types that are no file name pattern (`text`, `executable`), `Some(&[])` for `file`.
pub(crate) fn type_globs(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "file" | "text" => &[],
        "python" => &["*.py", "*.pyi"],
        "pyi" => &["*.pyi"],
        "jupyter" => &["*.ipynb"],
        "javascript" => &["*.js", "*.mjs", "*.cjs"],
        "jsx" => &["*.jsx"],
        "ts" => &["*.ts", "*.mts", "*.cts"],
        "tsx" => &["*.tsx"],
        "json" => &["*.json"],
        "yaml" => &["*.yaml", "*.yml"],
        "toml" => &["*.toml"],
        "markdown" => &["*.md", "*.markdown"],
        "rst" => &["*.rst"],
        "shell" | "bash" | "sh" => &["*.sh", "*.bash"],
        "rust" => &["*.rs"],
        "go" => &["*.go"],
        "dockerfile" => &["Dockerfile", "*.Dockerfile", "Dockerfile.*"],
        "css" => &["*.css"],
        "scss" => &["*.scss"],
        "html" => &["*.html", "*.htm"],
        "sql" => &["*.sql"],
        "c" => &["*.c", "*.h"],
        "c++" => &["*.cpp", "*.cc", "*.cxx", "*.hpp", "*.hh"],
        "java" => &["*.java"],
        "kotlin" => &["*.kt", "*.kts"],
        "ruby" => &["*.rb"],
        "xml" => &["*.xml"],
        "ini" => &["*.ini", "*.cfg"],
        "terraform" => &["*.tf", "*.tfvars"],
        "proto" => &["*.proto"],
        "swift" => &["*.swift"],
        "php" => &["*.php"],
        "lua" => &["*.lua"],
        "vue" => &["*.vue"],
        "svg" => &["*.svg"],
        _ => return None,
    })
}

/// A hook manager's stage names as gate's; a check that runs in a hook also runs in CI
/// and by hand, so the merge gate enforces what the hook did.
pub(crate) fn stages(names: &[String]) -> Result<Vec<String>, String> {
    let mut stages: Vec<String> = Vec::new();
    for name in names {
        let stage = match name.as_str() {
            "commit" | "pre-commit" => "pre-commit",
            "push" | "pre-push" => "pre-push",
            "merge-commit" | "pre-merge-commit" => "pre-merge-commit",
            "manual" => "manual",
            "commit-msg" | "prepare-commit-msg" | "post-checkout" | "post-commit" | "post-merge" | "post-rewrite"
            | "pre-rebase" => name.as_str(),
            other => return Err(format!("unknown stage `{other}`")),
        };
        if !stages.iter().any(|s| s == stage) {
            stages.push(stage.to_owned());
        }
    }
    if stages
        .iter()
        .any(|s| s == "pre-commit" || s == "pre-push" || s == "pre-merge-commit")
    {
        for extra in ["ci", "manual"] {
            if !stages.iter().any(|s| s == extra) {
                stages.push(extra.to_owned());
            }
        }
    }
    Ok(stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_unique_and_render_as_valid_toml() {
        let mut migrated = Migrated::default();
        for name in ["lint", "lint", "has space"] {
            let mut table = Table {
                name: migrated.unique(name),
                comment: "from a test".to_owned(),
                ..Table::default()
            };
            table.set("kind", "lint");
            table.strings("run", &["echo".to_owned(), "a \"quoted\" arg".to_owned()]);
            migrated.gates.push(table);
        }
        let text = migrated.render("test");
        let parsed: toml::Table = text.parse().unwrap();
        let gates = parsed["gates"].as_table().unwrap();
        assert_eq!(gates.keys().collect::<Vec<_>>(), ["lint", "lint-2", "has space"]);
        assert_eq!(gates["lint"]["run"][1].as_str(), Some("a \"quoted\" arg"));
    }

    #[test]
    fn hook_stages_also_run_in_ci_and_by_hand() {
        assert_eq!(stages(&["commit".to_owned()]).unwrap(), ["pre-commit", "ci", "manual"]);
        assert_eq!(stages(&["manual".to_owned()]).unwrap(), ["manual"]);
        assert!(stages(&["weird".to_owned()]).is_err());
    }
}
