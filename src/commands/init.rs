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
    let (gates, reasons) = config::detect::default_config(repo.root());
    if gates.is_empty() {
        return Err(Problem::hinted("found nothing gate knows how to check (no Cargo.toml with cargo, pyproject.toml with ruff, go.mod with go)", "copy the gates you need from `gates.toml.example`").into());
    }
    let mut text = String::from("# Written by `gate init`; every key is documented in gates.toml.example.\n");
    for reason in &reasons {
        let _ = writeln!(text, "# {reason}");
    }
    text.push_str(&gates);
    // What gate writes must load: check it as any gates.toml is checked.
    config::parse(&text, &path, repo.root())?;
    std::fs::write(&path, &text).with_context(|| format!("failed to write `{}`", path.display()))?;
    let mut out = globals.printer.stdout();
    writeln!(out, "wrote `{}`:", path.display())?;
    for reason in reasons {
        writeln!(out, "  {reason}")?;
    }
    Ok(0)
}
