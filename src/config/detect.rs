//! The gates a repository without `gates.toml` gets (and `gate init` writes): every project
//! directory in the tracked tree (`package.json`, `pyproject.toml` / `setup.cfg` /
//! requirement files, Cargo workspace roots, `go.mod`), what each one uses (its
//! dependencies and tool configuration), and whether that tool resolves from there. One
//! gate per tool and directory, a preset with a `workdir`, each with the reason it was
//! chosen; tools that are configured but not installed are skipped, with how to install
//! them. Shell scripts, workflow files and Dockerfiles get repository-wide gates, and
//! lockfiles an audit gate.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use super::presets::{self, Preset};
use super::programs;

/// What detection chose, as `gates.toml` text, and why; and what it skipped, and why.
#[derive(Debug, Default)]
pub(crate) struct Detected {
    pub(crate) text: String,
    pub(crate) chosen: Vec<String>,
    pub(crate) skipped: Vec<String>,
}

/// A project directory (repository-relative, `""` for the root) and its ecosystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ecosystem {
    Python,
    Node,
    Rust,
    Go,
}

/// A tool a project uses, and what says so.
struct Wanted {
    preset: &'static str,
    because: String,
}

/// Whether the audit gate is written even without a database (`gate init`: the user is
/// told to download one), or only when one exists (the built-in default must not fail a
/// first run on something the user never asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audit {
    Always,
    WhenDatabaseExists,
}

/// The gates for the repository at `root` whose tracked files are `tracked`.
/// When the tracked files make no project: the error for a project not added to git yet
/// (its files untracked), naming what it would give; `None` when the untracked files make
/// none either. Gate reads the tracked tree, what a commit holds, never what git ignores.
pub(crate) fn not_tracked_yet(root: &Path) -> Option<crate::model::Problem> {
    let untracked: Vec<String> = crate::git::workdir::untracked(root, None)
        .ok()?
        .iter()
        .filter_map(|p| p.to_str().map(str::to_owned))
        .collect();
    let would = detect(root, &untracked, Audit::Always);
    if would.chosen.is_empty() {
        return None;
    }
    let mut message = String::from("found no project among the tracked files; it is not tracked yet:");
    for chosen in &would.chosen {
        let _ = write!(message, "\n  {chosen}");
    }
    Some(crate::model::Problem::hinted(
        message,
        "`git add` the project (gate reads what git tracks, as a commit holds it), then run again",
    ))
}

pub(crate) fn detect(root: &Path, tracked: &[String], audit: Audit) -> Detected {
    let mut detected = Detected::default();
    let mut names = BTreeSet::new();
    for (dir, ecosystem) in projects(root, tracked) {
        let project = Project {
            root,
            dir: &dir,
            tracked,
        };
        for wanted in project.tools(ecosystem) {
            detected.add(root, &dir, &wanted, &mut names);
        }
    }
    for wanted in repository_wide(tracked) {
        detected.add(root, "", &wanted, &mut names);
    }
    detected.audit(tracked, audit);
    detected
}

impl Detected {
    /// One gate for `wanted` in `dir`, when its program resolves from there.
    fn add(&mut self, root: &Path, dir: &str, wanted: &Wanted, names: &mut BTreeSet<String>) {
        let Some(preset) = presets::find(wanted.preset) else {
            return;
        };
        let shown_dir = if dir.is_empty() { "." } else { dir };
        let program = program_of(preset);
        let Some(found) = programs::resolve(program, &root.join(dir), root) else {
            self.skipped.push(format!(
                "{shown_dir}: not {}: {}, but `{program}` is not installed ({})",
                preset.name, wanted.because, preset.install
            ));
            return;
        };
        let name = gate_name(dir, preset.name, names);
        let found = found.strip_prefix(root).unwrap_or(&found).display().to_string();
        let why = format!("{shown_dir}: {name}: {}; `{program}` is {found}", wanted.because);
        let _ = write!(self.text, "\n# {why}\n[gates.{name}]\npreset = \"{}\"\n", preset.name);
        if !dir.is_empty() {
            let _ = writeln!(self.text, "workdir = \"{dir}\"");
        }
        self.chosen.push(why);
    }

    fn audit(&mut self, tracked: &[String], audit: Audit) {
        let lockfiles = crate::audit::lockfiles(tracked.iter().map(Path::new));
        let Some(first) = lockfiles.first() else { return };
        let more = match lockfiles.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        let has_db = super::default_db().is_ok_and(|db| db.is_dir());
        if audit == Audit::WhenDatabaseExists && !has_db {
            self.skipped.push(format!(
                "not audit: `{}`{more} found, but there is no vulnerability database yet (`gate audit --update` downloads one)",
                first.display()
            ));
            return;
        }
        let why = format!("audit: `{}`{more} found", first.display());
        let _ = write!(self.text, "\n# {why}");
        if !has_db {
            self.text
                .push_str("; download the database first with `gate audit --update`");
        }
        self.text.push_str("\n[gates.audit]\nkind = \"audit\"\n");
        self.chosen.push(why);
    }
}

/// The program a preset runs: the first word of its check (the tool itself for a script).
fn program_of(preset: &Preset) -> &'static str {
    match preset.run {
        presets::Command::Argv(argv) => argv[0],
        presets::Command::Shell(_) => preset.name,
    }
}

/// `web-eslint` for `services/web`, `eslint` at the root; the whole path when two
/// directories share a last part.
fn gate_name(dir: &str, preset: &str, names: &mut BTreeSet<String>) -> String {
    let last = dir.rsplit('/').next().unwrap_or(dir);
    let mut name = if last.is_empty() {
        preset.to_owned()
    } else {
        format!("{last}-{preset}")
    };
    if names.contains(&name) {
        name = format!("{}-{preset}", dir.replace('/', "-"));
    }
    names.insert(name.clone());
    name
}

/// Folders that hold other projects' code, not this repository's projects.
fn vendored(path: &str) -> bool {
    path.split('/').any(|part| {
        matches!(
            part,
            "node_modules" | "vendor" | ".venv" | "venv" | "third_party" | "target"
        )
    })
}

/// Every project directory and its ecosystem, Cargo members under a workspace root left
/// out; a folder that is two kinds of project (a Python package with a `package.json`)
/// is both.
fn projects(root: &Path, tracked: &[String]) -> BTreeSet<(String, Ecosystem)> {
    let mut found = BTreeSet::new();
    let mut cargo = Vec::new();
    for path in tracked.iter().filter(|p| !vendored(p)) {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        let ecosystem = match file {
            "package.json" => Ecosystem::Node,
            "pyproject.toml" | "setup.cfg" | "setup.py" => Ecosystem::Python,
            f if is_requirements(f) => Ecosystem::Python,
            "go.mod" => Ecosystem::Go,
            "Cargo.toml" => {
                cargo.push(dir.to_owned());
                continue;
            }
            _ => continue,
        };
        found.insert((dir.to_owned(), ecosystem));
    }
    let workspaces: Vec<&String> = cargo
        .iter()
        .filter(|dir| read(root, &join(dir, "Cargo.toml")).is_some_and(|text| text.contains("[workspace]")))
        .collect();
    for dir in &cargo {
        let member = workspaces
            .iter()
            .any(|ws| *ws != dir && (ws.is_empty() || dir.starts_with(&format!("{ws}/"))));
        if !member {
            found.insert((dir.clone(), Ecosystem::Rust));
        }
    }
    found
}

fn extension_is(path: &str, wanted: &[&str]) -> bool {
    Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| wanted.iter().any(|w| e.eq_ignore_ascii_case(w)))
}

/// `requirements.txt`, `requirements-dev.txt`, …
fn is_requirements(file: &str) -> bool {
    file.starts_with("requirements") && extension_is(file, &["txt"])
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

/// A tracked file's text; projects' own files only, so nothing outside is ever read.
fn read(root: &Path, relative: &str) -> Option<String> {
    let path = root.join(relative);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    // Manifests are small; a huge or linked one is not read.
    (meta.is_file() && meta.len() < 4 << 20)
        .then(|| std::fs::read_to_string(path).ok())
        .flatten()
}

struct Project<'a> {
    root: &'a Path,
    dir: &'a str,
    tracked: &'a [String],
}

impl Project<'_> {
    fn has(&self, file: &str) -> bool {
        let wanted = join(self.dir, file);
        self.tracked.contains(&wanted)
    }

    fn first_of(&self, files: &[&str]) -> Option<String> {
        files.iter().find(|f| self.has(f)).map(|f| (*f).to_owned())
    }

    fn read(&self, file: &str) -> Option<String> {
        self.has(file).then(|| read(self.root, &join(self.dir, file))).flatten()
    }

    fn tools(&self, ecosystem: Ecosystem) -> Vec<Wanted> {
        match ecosystem {
            Ecosystem::Python => self.python(),
            Ecosystem::Node => self.node(),
            Ecosystem::Rust => ["rustfmt", "clippy", "cargo-test"]
                .into_iter()
                .map(|preset| Wanted {
                    preset,
                    because: "`Cargo.toml` found".to_owned(),
                })
                .collect(),
            Ecosystem::Go => {
                let mut tools: Vec<Wanted> = ["gofmt", "go-vet", "go-test"]
                    .into_iter()
                    .map(|preset| Wanted {
                        preset,
                        because: "`go.mod` found".to_owned(),
                    })
                    .collect();
                if let Some(config) =
                    self.first_of(&[".golangci.yml", ".golangci.yaml", ".golangci.toml", ".golangci.json"])
                {
                    tools.push(Wanted {
                        preset: "golangci-lint",
                        because: format!("`{config}` found"),
                    });
                }
                tools
            }
        }
    }

    fn python(&self) -> Vec<Wanted> {
        let pyproject = self
            .read("pyproject.toml")
            .and_then(|text| text.parse::<toml::Table>().ok());
        let section = |name: &str| {
            let mut at = pyproject.as_ref().and_then(|t| t.get("tool"));
            for part in name.split('.') {
                at = at.and_then(|v| v.get(part));
            }
            at.is_some()
        };
        let requirements = self.python_dependencies();
        let declared = |name: &str| declares(&requirements, name);
        let setup_cfg = self.read("setup.cfg").unwrap_or_default();
        let tox_ini = self.read("tox.ini").unwrap_or_default();
        let mut tools = Vec::new();
        let mut want = |preset: &'static str, because: Option<String>| {
            if let Some(because) = because {
                tools.push(Wanted { preset, because });
            }
        };
        let ruff = if section("ruff") {
            Some("`[tool.ruff]` in pyproject.toml".to_owned())
        } else if let Some(file) = self.first_of(&["ruff.toml", ".ruff.toml"]) {
            Some(format!("`{file}` found"))
        } else {
            declared("ruff").then(|| "`ruff` is a dependency".to_owned())
        };
        let configured = |section_name: &str, files: &[&str], tool: &str| -> Option<String> {
            if section(section_name) {
                Some(format!("`[tool.{section_name}]` in pyproject.toml"))
            } else if let Some(file) = self.first_of(files) {
                Some(format!("`{file}` found"))
            } else {
                declared(tool).then(|| format!("`{tool}` is a dependency"))
            }
        };
        let flake8 = self
            .first_of(&[".flake8"])
            .map(|f| format!("`{f}` found"))
            .or_else(|| {
                setup_cfg
                    .contains("[flake8]")
                    .then(|| "`[flake8]` in setup.cfg".to_owned())
            })
            .or_else(|| tox_ini.contains("[flake8]").then(|| "`[flake8]` in tox.ini".to_owned()))
            .or_else(|| declared("flake8").then(|| "`flake8` is a dependency".to_owned()));
        let black = configured("black", &[], "black");
        let isort = configured("isort", &[".isort.cfg"], "isort");
        let mypy = configured("mypy", &["mypy.ini", ".mypy.ini"], "mypy");
        let pyright = configured("pyright", &["pyrightconfig.json"], "pyright");
        let pytest = configured("pytest.ini_options", &["pytest.ini", "conftest.py"], "pytest");
        // With nothing configured, ruff's defaults are a sound start where ruff is installed.
        let nothing = [&ruff, &flake8, &black, &isort].iter().all(|t| t.is_none());
        let ruff = ruff.or_else(|| {
            (nothing && programs::resolve("ruff", &self.root.join(self.dir), self.root).is_some())
                .then(|| "a Python project, and `ruff` is installed".to_owned())
        });
        want("ruff-format", ruff.clone());
        want("ruff-check", ruff);
        want("black", black);
        want("isort", isort);
        want("flake8", flake8);
        want("mypy", mypy);
        want("pyright", pyright);
        want("pytest", pytest);
        tools
    }

    /// The text that names the project's Python dependencies: its requirement files and
    /// `pyproject.toml`.
    fn python_dependencies(&self) -> String {
        self.tracked
            .iter()
            .filter(|t| {
                let (dir, file) = t.rsplit_once('/').unwrap_or(("", t));
                dir == self.dir && is_requirements(file)
            })
            .filter_map(|t| read(self.root, t))
            .chain(self.read("pyproject.toml"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn node(&self) -> Vec<Wanted> {
        let package: serde_json::Value = self
            .read("package.json")
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        let depends = |name: &str| {
            ["dependencies", "devDependencies"]
                .iter()
                .any(|key| package.get(key).and_then(|d| d.get(name)).is_some())
        };
        let because = |dependency: &str, files: &[&str]| -> Option<String> {
            if depends(dependency) {
                Some(format!("`{dependency}` in package.json"))
            } else {
                self.first_of(files).map(|f| format!("`{f}` found"))
            }
        };
        let mut tools = Vec::new();
        let candidates: [(&'static str, Option<String>); 6] = [
            (
                "eslint",
                because(
                    "eslint",
                    &[
                        "eslint.config.js",
                        "eslint.config.mjs",
                        "eslint.config.cjs",
                        "eslint.config.ts",
                        ".eslintrc.js",
                        ".eslintrc.cjs",
                        ".eslintrc.json",
                        ".eslintrc.yml",
                        ".eslintrc.yaml",
                        ".eslintrc",
                    ],
                ),
            ),
            (
                "prettier",
                because(
                    "prettier",
                    &[
                        ".prettierrc",
                        ".prettierrc.json",
                        ".prettierrc.yml",
                        ".prettierrc.yaml",
                        ".prettierrc.js",
                        ".prettierrc.cjs",
                        ".prettierrc.mjs",
                        "prettier.config.js",
                        "prettier.config.mjs",
                        "prettier.config.cjs",
                    ],
                ),
            ),
            (
                "tsc",
                (depends("typescript") && self.has("tsconfig.json"))
                    .then(|| "`typescript` in package.json and `tsconfig.json` found".to_owned()),
            ),
            (
                "jest",
                because(
                    "jest",
                    &["jest.config.js", "jest.config.ts", "jest.config.mjs", "jest.config.cjs"],
                ),
            ),
            (
                "vitest",
                because("vitest", &["vitest.config.ts", "vitest.config.js", "vitest.config.mjs"]),
            ),
            ("biome", because("@biomejs/biome", &["biome.json", "biome.jsonc"])),
        ];
        for (preset, why) in candidates {
            if let Some(because) = why {
                tools.push(Wanted { preset, because });
            }
        }
        tools
    }
}

/// Whether a line of `dependencies` names the package `name` (`ruff`, `"ruff>=0.5"`, …).
fn declares(dependencies: &str, name: &str) -> bool {
    dependencies.lines().any(|line| {
        let line = line.trim().trim_start_matches(['"', '\'']);
        line.strip_prefix(name).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(['=', '>', '<', '~', '!', '[', ' ', '"', '\'', ';', ','])
        })
    })
}

/// Gates for files anywhere in the repository: shell scripts, workflows, Dockerfiles.
fn repository_wide(tracked: &[String]) -> Vec<Wanted> {
    let first = |matches: &dyn Fn(&str) -> bool| tracked.iter().find(|p| !vendored(p) && matches(p)).cloned();
    let mut tools = Vec::new();
    if let Some(script) = first(&|p| extension_is(p, &["sh", "bash"])) {
        tools.push(Wanted {
            preset: "shellcheck",
            because: format!("shell scripts (`{script}`)"),
        });
    }
    if let Some(workflow) = first(&|p| p.starts_with(".github/workflows/") && extension_is(p, &["yml", "yaml"])) {
        tools.push(Wanted {
            preset: "actionlint",
            because: format!("GitHub workflows (`{workflow}`)"),
        });
    }
    if let Some(dockerfile) = first(&|p| {
        let file = p.rsplit('/').next().unwrap_or(p);
        file == "Dockerfile" || file.starts_with("Dockerfile.") || file.ends_with(".Dockerfile")
    }) {
        tools.push(Wanted {
            preset: "hadolint",
            because: format!("a Dockerfile (`{dockerfile}`)"),
        });
    }
    tools
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_the_folder_and_never_collide() {
        let mut names = BTreeSet::new();
        assert_eq!(gate_name("", "eslint", &mut names), "eslint");
        assert_eq!(gate_name("services/web", "eslint", &mut names), "web-eslint");
        assert_eq!(gate_name("apps/web", "eslint", &mut names), "apps-web-eslint");
    }

    #[test]
    fn every_preset_detection_names_exists() {
        for name in [
            "rustfmt",
            "clippy",
            "cargo-test",
            "gofmt",
            "go-vet",
            "go-test",
            "golangci-lint",
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
            "shellcheck",
            "actionlint",
            "hadolint",
        ] {
            assert!(presets::find(name).is_some(), "{name}");
        }
    }

    #[test]
    fn dependency_lines_name_packages_not_prefixes() {
        let text =
            "[project.optional-dependencies]\ndev = [\n  \"ruff>=0.5\",\n  \"mypy-extensions\",\n]\npytest==8.0\n";
        assert!(declares(text, "ruff"));
        assert!(declares(text, "pytest"));
        assert!(!declares(text, "mypy"), "mypy-extensions is another package");
    }

    #[test]
    fn cargo_members_of_a_workspace_are_one_project() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("crates/a")).unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = [\"crates/*\"]\n").unwrap();
        std::fs::write(dir.path().join("crates/a/Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
        let tracked = vec![
            "Cargo.toml".to_owned(),
            "crates/a/Cargo.toml".to_owned(),
            "node_modules/x/package.json".to_owned(),
        ];
        let found: Vec<(String, Ecosystem)> = projects(dir.path(), &tracked).into_iter().collect();
        assert_eq!(found, [(String::new(), Ecosystem::Rust)]);
    }
}
