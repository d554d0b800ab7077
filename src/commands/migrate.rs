//! `gate migrate`: `gates.toml` from pre-commit's or lefthook's configuration.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Globals;
use crate::cli::MigrateArgs;
use crate::config::{self, FILE_NAME};
use crate::git::Repo;
use crate::model::Problem;

/// The configurations gate reads, in the order it looks for them.
const SOURCES: [&str; 5] = [
    ".pre-commit-config.yaml",
    ".pre-commit-config.yml",
    "lefthook.yml",
    "lefthook.yaml",
    ".lefthook.yml",
];

pub(crate) fn migrate(globals: &Globals, args: &MigrateArgs) -> Result<i32> {
    let repo = Repo::open()?;
    let target = repo.root().join(FILE_NAME);
    if target.exists() && !args.force {
        return Err(Problem::hinted(
            format!("`{}` already exists", target.display()),
            "`gate migrate --force` replaces it",
        )
        .into());
    }
    let source = source(repo.root(), args.from.as_deref())?;
    let text = std::fs::read_to_string(&source).with_context(|| format!("failed to read `{}`", source.display()))?;
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let migrated = if name.contains("lefthook") {
        crate::migrate::lefthook::migrate(&text)?
    } else {
        crate::migrate::precommit::migrate(&text)?
    };
    let rendered = migrated.render(&name);
    // What gate writes must load: check it as any gates.toml is checked.
    config::parse(&rendered, &target, repo.root())?;
    std::fs::write(&target, &rendered).with_context(|| format!("failed to write `{}`", target.display()))?;
    let mut out = globals.printer.stdout();
    writeln!(
        out,
        "wrote `{}`: {} from `{name}`",
        target.display(),
        crate::model::text::plural(migrated.gates.len(), "gate")
    )?;
    for skipped in &migrated.skipped {
        writeln!(out, "  not migrated: {skipped}")?;
    }
    for note in &migrated.notes {
        writeln!(out, "  check: {note}")?;
    }
    Ok(0)
}

/// `--from`, else the first configuration found at the root.
fn source(root: &Path, from: Option<&Path>) -> Result<PathBuf> {
    if let Some(from) = from {
        return Ok(from.to_path_buf());
    }
    SOURCES
        .iter()
        .map(|name| root.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            Problem::hinted(
                format!(
                    "found no `.pre-commit-config.yaml` or `lefthook.yml` in `{}`",
                    root.display()
                ),
                "name one with `--from FILE`",
            )
            .into()
        })
}
