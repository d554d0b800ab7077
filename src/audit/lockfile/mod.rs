//! Lockfiles: the pinned packages of a repository, each with the file and line it came from.
//!
//! - `rust`: `Cargo.lock`.
//! - `js`: `package-lock.json` / `npm-shrinkwrap.json` (v1-v3), `yarn.lock` (v1, Berry),
//!   `pnpm-lock.yaml` (v5, v6, v9).
//! - `python`: `requirements*.txt`, `poetry.lock`, `uv.lock`, `Pipfile.lock`.
//! - `other`: `go.mod`, `Gemfile.lock`, `composer.lock`.

mod js;
mod other;
mod python;
mod rust;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::version::Ecosystem;

/// One pinned package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Package {
    pub(crate) ecosystem: Ecosystem,
    pub(crate) name: String,
    pub(crate) version: String,
    /// Repository-relative lockfile.
    pub(crate) file: PathBuf,
    pub(crate) line: u32,
}

/// What one lockfile yielded.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) packages: Vec<Package>,
    /// Entries not audited, and why (local paths, git sources, unpinned requirements).
    pub(crate) skipped: Vec<String>,
}

/// The lockfile kinds, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    CargoLock,
    NpmLock,
    YarnLock,
    PnpmLock,
    Requirements,
    PoetryLock,
    UvLock,
    PipfileLock,
    GoMod,
    GemfileLock,
    ComposerLock,
}

impl Kind {
    pub(crate) fn of(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?;
        Some(match name {
            "Cargo.lock" => Kind::CargoLock,
            "package-lock.json" | "npm-shrinkwrap.json" => Kind::NpmLock,
            "yarn.lock" => Kind::YarnLock,
            "pnpm-lock.yaml" => Kind::PnpmLock,
            "poetry.lock" => Kind::PoetryLock,
            "uv.lock" => Kind::UvLock,
            "Pipfile.lock" => Kind::PipfileLock,
            "go.mod" => Kind::GoMod,
            "Gemfile.lock" | "gems.locked" => Kind::GemfileLock,
            "composer.lock" => Kind::ComposerLock,
            _ if Path::new(name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
                && (name.starts_with("requirements")
                    // `requirements/base.txt`, `requirements/prod.txt` (pip-tools compiles
                    // `requirements/*.in` into them).
                    || path
                        .parent()
                        .and_then(Path::file_name)
                        .is_some_and(|dir| dir == "requirements")) =>
            {
                Kind::Requirements
            }
            _ => return None,
        })
    }

    pub(crate) fn ecosystem(self) -> Ecosystem {
        match self {
            Kind::CargoLock => Ecosystem::CratesIo,
            Kind::NpmLock | Kind::YarnLock | Kind::PnpmLock => Ecosystem::Npm,
            Kind::Requirements | Kind::PoetryLock | Kind::UvLock | Kind::PipfileLock => Ecosystem::PyPi,
            Kind::GoMod => Ecosystem::Go,
            Kind::GemfileLock => Ecosystem::RubyGems,
            Kind::ComposerLock => Ecosystem::Packagist,
        }
    }
}

/// Parses the lockfile at `root/relative`.
pub(crate) fn parse(root: &Path, relative: &Path) -> Result<Parsed> {
    let kind = Kind::of(relative).with_context(|| format!("`{}` is not a lockfile gate knows", relative.display()))?;
    let path = root.join(relative);
    let text = std::fs::read_to_string(&path).with_context(|| format!("failed to read `{}`", relative.display()))?;
    parse_text_of(kind, root, relative, &text)
}

/// Parses a lockfile's text (requirement files read their includes from `root`).
fn parse_text_of(kind: Kind, root: &Path, relative: &Path, text: &str) -> Result<Parsed> {
    let text = text.to_owned();
    let mut out = Sink {
        ecosystem: kind.ecosystem(),
        file: relative.to_path_buf(),
        parsed: Parsed::default(),
    };
    match kind {
        Kind::CargoLock => rust::cargo_lock(&text, &mut out),
        Kind::NpmLock => js::package_lock(&text, &mut out),
        Kind::YarnLock => js::yarn_lock(&text, &mut out),
        Kind::PnpmLock => js::pnpm_lock(&text, &mut out),
        Kind::Requirements => python::requirements(root, relative, &mut out, &mut Vec::new()),
        Kind::PoetryLock | Kind::UvLock => python::toml_lock(&text, &mut out),
        Kind::PipfileLock => python::pipfile_lock(&text, &mut out),
        Kind::GoMod => other::go_mod(&text, &mut out),
        Kind::GemfileLock => other::gemfile_lock(&text, &mut out),
        Kind::ComposerLock => other::composer_lock(&text, &mut out),
    }
    .with_context(|| format!("failed to read the lockfile `{}`", relative.display()))?;
    Ok(out.parsed)
}

/// Where parsers put what they find.
pub(crate) struct Sink {
    ecosystem: Ecosystem,
    file: PathBuf,
    parsed: Parsed,
}

impl Sink {
    fn package(&mut self, name: &str, version: &str, line: usize) {
        let package = Package {
            ecosystem: self.ecosystem,
            name: name.to_owned(),
            version: version.to_owned(),
            file: self.file.clone(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
        };
        if !self
            .parsed
            .packages
            .iter()
            .any(|p| p.name == package.name && p.version == package.version)
        {
            self.parsed.packages.push(package);
        }
    }

    fn skip(&mut self, what: impl Into<String>) {
        self.parsed
            .skipped
            .push(format!("{}: {}", self.file.display(), what.into()));
    }
}

/// The 1-based line of the first occurrence of `needle` at or after line `from`.
pub(crate) fn line_of(text: &str, needle: &str, from: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, line)| line.contains(needle))
        .map(|(i, _)| i + 1)
}

/// No parser panics, whatever the bytes: every prefix of a real-shaped lockfile and every
/// single-byte mutation of it (to a character that means something to some format) parses
/// or fails with an error.
#[cfg(test)]
mod robustness {
    use super::*;

    const SAMPLES: &[(&str, &str)] = &[
        (
            "Cargo.lock",
            "version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\": 3, \"packages\": {\"\": {\"name\": \"a\"}, \"node_modules/@s/x\": {\"version\": \"1.2.3\", \"resolved\": \"https://r/x.tgz\"}}}\n",
        ),
        (
            "npm-shrinkwrap.json",
            "{\"lockfileVersion\": 1, \"dependencies\": {\"x\": {\"version\": \"1.0.0\", \"dependencies\": {\"y\": {\"version\": \"2.0.0\"}}}}}\n",
        ),
        (
            "yarn.lock",
            "# yarn lockfile v1\n\n\"@s/x@^1.0.0\", x@1:\n  version \"1.2.3\"\n  resolved \"https://r/x\"\n\"\n",
        ),
        (
            "yarn.lock",
            "__metadata:\n  version: 6\n\n\"x@npm:^1.0.0\":\n  version: 1.2.3\n  resolution: \"x@npm:1.2.3\"\n",
        ),
        (
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\npackages:\n  '@s/x@1.2.3(peer@1.0.0)':\n    resolution: {integrity: sha512-x}\n  /y/2.0.0_z@1.0.0:\n    dev: false\n",
        ),
        (
            "requirements.txt",
            "# pins\nJinja2==2.10 --hash=sha256:abc \\\n    --hash=sha256:def\nrequests[socks]>=2 ; python_version > \"3\"\n-e .\n",
        ),
        (
            "poetry.lock",
            "[[package]]\nname = \"jinja2\"\nversion = \"2.10\"\n\n[package.source]\ntype = \"git\"\n",
        ),
        (
            "uv.lock",
            "version = 1\n[[package]]\nname = \"jinja2\"\nversion = \"2.10\"\nsource = { registry = \"https://pypi.org/simple\" }\n",
        ),
        (
            "Pipfile.lock",
            "{\"default\": {\"jinja2\": {\"version\": \"==2.10\"}}, \"develop\": {}}\n",
        ),
        (
            "go.mod",
            "module example.com/m\n\ngo 1.22\n\nrequire (\n\tgolang.org/x/text v0.3.0 // indirect\n)\nreplace golang.org/x/text => golang.org/x/text v0.3.8\n",
        ),
        (
            "Gemfile.lock",
            "GEM\n  remote: https://rubygems.org/\n  specs:\n    rails (7.0.4)\n      actionpack (= 7.0.4)\n\nPLATFORMS\n  ruby\n",
        ),
        (
            "composer.lock",
            "{\"packages\": [{\"name\": \"a/b\", \"version\": \"v5.4.1\"}], \"packages-dev\": []}\n",
        ),
    ];

    fn survives(name: &str, text: &str, dir: &Path) {
        let relative = Path::new(name);
        let kind = Kind::of(relative).unwrap();
        std::fs::write(dir.join(relative), text).unwrap();
        let outcome = std::panic::catch_unwind(|| parse_text_of(kind, dir, relative, text));
        assert!(outcome.is_ok(), "{name} panicked on {text:?}");
    }

    #[test]
    fn prefixes_and_mutations_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut cases = 0;
        for (name, text) in SAMPLES {
            for (end, _) in text.char_indices().chain([(text.len(), ' ')]) {
                survives(name, &text[..end], dir.path());
                cases += 1;
            }
            for (at, _) in text.char_indices() {
                for replacement in ['"', '\'', ':', '@', '/', ' ', '\n', '[', '{', '=', '-', '0', '\\', 'é'] {
                    let mut mutated = (*text).to_owned();
                    mutated.replace_range(
                        at..at + text[at..].chars().next().map_or(1, char::len_utf8),
                        &replacement.to_string(),
                    );
                    survives(name, &mutated, dir.path());
                    cases += 1;
                }
            }
        }
        assert!(cases > 10_000, "{cases}");
    }

    #[test]
    fn a_yarn_line_holding_a_single_quote_is_no_panic() {
        let dir = tempfile::tempdir().unwrap();
        survives("yarn.lock", "\"\n  version \"1.0.0\"\n", dir.path());
        survives("yarn.lock", "é\n  version \"1.0.0\"\n", dir.path());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `text` as the lockfile `name`; returns "name version line" per package, and notes.
    fn parse_text(name: &str, text: &str) -> (Vec<String>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let parsed = parse(dir.path(), Path::new(name)).unwrap();
        let packages = parsed
            .packages
            .iter()
            .map(|p| format!("{} {} {}", p.name, p.version, p.line))
            .collect();
        (packages, parsed.skipped)
    }

    #[test]
    fn cargo_lock_registry_git_and_path() {
        let text = "version = 3\n\n[[package]]\nname = \"me\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"forked\"\nversion = \"0.2.0\"\nsource = \"git+https://example.com/forked#abc\"\n";
        let (packages, skipped) = parse_text("Cargo.lock", text);
        assert_eq!(packages, ["serde 1.0.1 8"]);
        assert!(skipped[0].contains("forked 0.2.0 comes from `git+"), "{skipped:?}");
    }

    #[test]
    fn package_lock_v1_v2_v3() {
        let v3 = r#"{
  "lockfileVersion": 3,
  "packages": {
    "": { "name": "app" },
    "node_modules/lodash": { "version": "4.17.20", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz" },
    "node_modules/@scope/pkg": { "version": "1.0.0" },
    "node_modules/a/node_modules/lodash": { "version": "3.0.0" },
    "node_modules/local": { "resolved": "file:../local", "link": true }
  }
}"#;
        let (packages, skipped) = parse_text("package-lock.json", v3);
        assert_eq!(packages, ["lodash 4.17.20 5", "@scope/pkg 1.0.0 6", "lodash 3.0.0 7"]);
        assert_eq!(skipped.len(), 1);
        let v1 = r#"{
  "lockfileVersion": 1,
  "dependencies": {
    "minimist": { "version": "0.0.8", "dependencies": { "deep": { "version": "2.0.0" } } },
    "gitdep": { "version": "git+https://example.com/x.git#abc" }
  }
}"#;
        let (packages, skipped) = parse_text("npm-shrinkwrap.json", v1);
        assert_eq!(packages, ["minimist 0.0.8 4", "deep 2.0.0 4"]);
        assert!(skipped[0].contains("gitdep comes from git"));
    }

    #[test]
    fn yarn_v1_and_berry() {
        let v1 = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n  version \"7.12.13\"\n  resolved \"https://registry.yarnpkg.com/x\"\n\nlodash@^4.17.0:\n  version \"4.17.21\"\n";
        assert_eq!(
            parse_text("yarn.lock", v1).0,
            ["@babel/code-frame 7.12.13 3", "lodash 4.17.21 7"]
        );
        let berry = "__metadata:\n  version: 6\n  cacheKey: 8\n\n\"lodash@npm:^4.17.0, lodash@npm:^4.17.1\":\n  version: 4.17.20\n  resolution: \"lodash@npm:4.17.20\"\n  dependencies:\n    x: ^1\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"app@workspace:.\"\n\n\"@s/odd@npm:1.10\":\n  version: 1.10\n  resolution: \"@s/odd@npm:1.10\"\n";
        let (packages, skipped) = parse_text("yarn.lock", berry);
        // YAML reads `1.10` as the text it is, not as the number 1.1.
        assert_eq!(packages, ["lodash 4.17.20 5", "@s/odd 1.10 15"]);
        assert_eq!(skipped, ["yarn.lock: app is a workspace, link or patched package"]);
        let broken = "__metadata:\n  version: 6\n\"a@npm:1\": [\n";
        assert!(parse_text_of(Kind::YarnLock, Path::new("."), Path::new("yarn.lock"), broken).is_err());
    }

    #[test]
    fn pnpm_v5_v6_v9() {
        let v5 = "lockfileVersion: 5.4\n\npackages:\n\n  /lodash/4.17.20:\n    resolution: {integrity: x}\n  /@scope/pkg/1.0.0_react@18.0.0:\n    dev: false\n";
        assert_eq!(
            parse_text("pnpm-lock.yaml", v5).0,
            ["lodash 4.17.20 5", "@scope/pkg 1.0.0 7"]
        );
        let v6 = "lockfileVersion: '6.0'\n\npackages:\n\n  /lodash@4.17.20:\n    resolution: {integrity: x}\n  /@scope/pkg@1.0.0(react@18.0.0):\n    dev: false\n";
        assert_eq!(
            parse_text("pnpm-lock.yaml", v6).0,
            ["lodash 4.17.20 5", "@scope/pkg 1.0.0 7"]
        );
        let v9 = "lockfileVersion: '9.0'\n\npackages:\n\n  lodash@4.17.20:\n    resolution: {integrity: x}\n\n  '@scope/pkg@1.0.0':\n    resolution: {integrity: y}\n\nsnapshots:\n\n  lodash@4.17.20: {}\n";
        assert_eq!(
            parse_text("pnpm-lock.yaml", v9).0,
            ["lodash 4.17.20 5", "@scope/pkg 1.0.0 8"]
        );
    }

    #[test]
    fn requirements_with_includes_hashes_markers_and_unpinned() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.txt"), "Jinja2==2.10\n").unwrap();
        std::fs::write(
            dir.path().join("requirements-dev.txt"),
            "# tools\n-r base.txt\nrequests[socks]==2.19.0 ; python_version >= \"3\" \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\nflask>=2\n-e ./local\nhttps://example.com/pkg.zip\n",
        )
        .unwrap();
        let parsed = parse(dir.path(), Path::new("requirements-dev.txt")).unwrap();
        let packages: Vec<String> = parsed
            .packages
            .iter()
            .map(|p| format!("{} {} {} {}", p.file.display(), p.name, p.version, p.line))
            .collect();
        assert_eq!(
            packages,
            ["base.txt Jinja2 2.10 1", "requirements-dev.txt requests 2.19.0 3"]
        );
        assert_eq!(parsed.skipped.len(), 3, "{:?}", parsed.skipped);
        assert!(parsed.skipped[0].contains("`flask>=2` is not pinned"));
    }

    #[test]
    fn poetry_uv_and_pipfile() {
        let poetry = "[[package]]\nname = \"django\"\nversion = \"3.2.0\"\n\n[[package]]\nname = \"mylib\"\nversion = \"0.1.0\"\n\n[package.source]\ntype = \"directory\"\nurl = \"../mylib\"\n";
        let (packages, skipped) = parse_text("poetry.lock", poetry);
        assert_eq!(packages, ["django 3.2.0 2"]);
        assert_eq!(skipped.len(), 1);
        let uv = "version = 1\n\n[[package]]\nname = \"jinja2\"\nversion = \"2.10\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n";
        assert_eq!(parse_text("uv.lock", uv).0, ["jinja2 2.10 4"]);
        let pipfile = r#"{"_meta": {}, "default": {"django": {"version": "==3.2.0"}, "local": {"path": "."}}, "develop": {"pytest": {"version": "==7.0.0"}}}"#;
        let (packages, skipped) = parse_text("Pipfile.lock", pipfile);
        assert_eq!(packages, ["django 3.2.0 1", "pytest 7.0.0 1"]);
        assert_eq!(skipped.len(), 1);
    }

    #[test]
    fn go_mod_gemfile_and_composer() {
        let go = "module example.com/app\n\ngo 1.21\n\nrequire golang.org/x/text v0.3.0\n\nrequire (\n\tgithub.com/a/b v1.2.3 // indirect\n\tgithub.com/c/d v0.1.0\n\tgithub.com/e/f v1.0.0\n)\n\nreplace github.com/c/d => github.com/c/d-fork v0.2.0\nreplace github.com/e/f => ../f\n";
        let (packages, skipped) = parse_text("go.mod", go);
        assert_eq!(
            packages,
            [
                "golang.org/x/text v0.3.0 5",
                "github.com/a/b v1.2.3 8",
                "github.com/c/d-fork v0.2.0 9"
            ]
        );
        assert!(skipped[0].contains("github.com/e/f is replaced by a local directory"));
        let gems = "GIT\n  remote: https://example.com/x.git\n  specs:\n    gitgem (1.0.0)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.13.10-x86_64-linux)\n      racc (~> 1.4)\n    rack (2.2.3)\n\nPLATFORMS\n  ruby\n";
        let (packages, skipped) = parse_text("Gemfile.lock", gems);
        assert_eq!(packages, ["nokogiri 1.13.10 9", "rack 2.2.3 11"]);
        assert_eq!(skipped.len(), 1);
        let composer = "{\n  \"packages\": [\n    {\n      \"name\": \"symfony/http-kernel\",\n      \"version\": \"v4.4.0\"\n    }\n  ],\n  \"packages-dev\": [\n    {\n      \"name\": \"acme/tool\",\n      \"version\": \"dev-main\"\n    }\n  ]\n}\n";
        let (packages, skipped) = parse_text("composer.lock", composer);
        assert_eq!(packages, ["symfony/http-kernel 4.4.0 4"]);
        assert_eq!(skipped.len(), 1);
    }

    #[test]
    fn a_broken_lockfile_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.lock"), "[[package]\nname = \"x\"").unwrap();
        let err = parse(dir.path(), Path::new("Cargo.lock")).unwrap_err();
        assert!(
            format!("{err:#}").contains("failed to read the lockfile `Cargo.lock`"),
            "{err:#}"
        );
        std::fs::write(dir.path().join("package-lock.json"), "{not json").unwrap();
        assert!(parse(dir.path(), Path::new("package-lock.json")).is_err());
    }
}
