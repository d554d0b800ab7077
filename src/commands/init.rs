//! `gate init`: writes `gates.toml` from what the repository and PATH contain, the same
//! gates `gate check` would use without one, for the user to edit.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Context, Result};

use super::Globals;
use crate::config::{self, FILE_NAME};
use crate::git::Repo;
use crate::model::Problem;

pub(crate) fn init(globals: &Globals) -> Result<i32> {
    let repo = Repo::open()?;
    let path = repo.root().join(FILE_NAME);
    if path.exists() {
        return Err(Problem::hinted(
            format!("`{}` already exists", path.display()),
            "edit it, or remove it first to start over",
        )
        .into());
    }
    let tracked = crate::git::changes::tracked_paths(&repo)?;
    let found = config::detect::detect(repo.root(), &tracked, config::detect::Audit::Always);
    let mut out = globals.printer.stdout();
    if found.chosen.is_empty() {
        for skipped in &found.skipped {
            writeln!(out, "skipped {skipped}")?;
        }
        if let Some(problem) = config::detect::not_tracked_yet(repo.root()) {
            return Err(problem.into());
        }
        return Err(Problem::hinted(
            "found no project with a tool gate can run (package.json, pyproject.toml, Cargo.toml, go.mod, shell scripts, workflows, Dockerfiles, lockfiles)",
            "install the project's tools, or copy the gates you need from `gates.toml.example`",
        )
        .into());
    }
    let mut text = String::from(
        "# Written by `gate init`: one gate per tool and project folder, each a preset (`gate presets`\n\
         # shows what each runs). Any key set beside `preset` wins; gates.toml.example documents them.\n",
    );
    if !found.skipped.is_empty() {
        text.push_str("#\n# Skipped:\n");
        for skipped in &found.skipped {
            let _ = writeln!(text, "#   {skipped}");
        }
    }
    text.push_str(&found.text);
    // What gate writes must load: check it as any gates.toml is checked.
    config::parse(&text, &path, repo.root())?;
    std::fs::write(&path, &text).with_context(|| format!("failed to write `{}`", path.display()))?;
    writeln!(out, "wrote `{}`:", path.display())?;
    for chosen in &found.chosen {
        writeln!(out, "  {chosen}")?;
    }
    for skipped in &found.skipped {
        writeln!(out, "  skipped {skipped}")?;
    }
    Ok(0)
}
