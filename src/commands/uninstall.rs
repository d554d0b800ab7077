//! `gate uninstall`: removes gate's shims and puts back any hook `--force` kept.

use std::io::Write;

use anyhow::{Context, Result};

use super::Globals;
use super::install::{GIT_HOOKS, hook_names, is_foreign, kept_path};
use crate::cli::UninstallArgs;
use crate::git::Repo;

pub(crate) fn uninstall(globals: &Globals, args: &UninstallArgs) -> Result<i32> {
    let repo = Repo::open()?;
    let dir = repo.hooks_dir()?;
    let names = if args.hooks.is_empty() {
        GIT_HOOKS.to_vec()
    } else {
        hook_names(&args.hooks)?
    };
    let mut out = globals.printer.stdout();
    let mut removed = 0;
    for name in names {
        let path = dir.join(name);
        if !path.exists() || is_foreign(&path)? {
            continue;
        }
        std::fs::remove_file(&path).with_context(|| format!("failed to remove `{}`", path.display()))?;
        removed += 1;
        let previous = kept_path(&path);
        if previous.exists() {
            std::fs::rename(&previous, &path)
                .with_context(|| format!("failed to restore `{}` from `{}`", path.display(), previous.display()))?;
            writeln!(out, "restored the previous {name} hook: `{}`", path.display())?;
        } else {
            writeln!(out, "removed {name} hook: `{}`", path.display())?;
        }
    }
    if removed == 0 {
        writeln!(out, "no gate hooks installed in `{}`", dir.display())?;
    }
    Ok(0)
}
