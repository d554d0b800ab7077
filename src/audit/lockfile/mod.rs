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
            _ if name.starts_with("requirements") && name.ends_with(".txt") => Kind::Requirements,
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
    let mut out = Out {
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
pub(crate) struct Out {
    ecosystem: Ecosystem,
    file: PathBuf,
    parsed: Parsed,
}

impl Out {
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
