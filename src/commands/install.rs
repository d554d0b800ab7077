//! `gate install`: writes the shim of `hooks/` into the repository's hooks directory.
//! A hook gate did not write is never replaced silently: without `--force` it is an
//! error; with it, the old hook is kept beside the shim and runs first.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Globals;
use crate::cli::InstallArgs;
use crate::git::Repo;
use crate::model::Problem;

/// The shim every hook gets; `@GATE_BIN@` becomes the quoted path of this binary, a
/// fallback for when `gate` is not on the PATH git hooks run with.
const SHIM: &str = include_str!("../../hooks/shim.sh");
/// The line that marks a hook as gate's.
pub(crate) const MARKER: &str = "# gate-managed hook";
/// Suffix of a foreign hook kept by `--force`.
pub(crate) const PREVIOUS: &str = ".gate-previous";
const DEFAULT_HOOKS: &[&str] = &["pre-commit", "pre-push"];

/// The client-side hooks git runs (githooks(5)); the shim can stand in for any of them.
pub(crate) const GIT_HOOKS: &[&str] = &[
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "pre-push",
    "post-rewrite",
    "pre-auto-gc",
    "reference-transaction",
];

pub(crate) fn install(globals: &Globals, args: &InstallArgs) -> Result<i32> {
    let repo = Repo::open()?;
    let dir = repo.hooks_dir()?;
    let names = hook_names(&args.hooks)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create `{}`", dir.display()))?;
    let shim = shim()?;
    let mut out = globals.printer.stdout();
    for name in names {
        let path = dir.join(name);
        let previous = kept_path(&path);
        if is_foreign(&path)? {
            if !args.force {
                return Err(Problem::hinted(
                    format!("`{}` exists and was not written by gate", path.display()),
                    format!(
                        "`gate install --force` keeps it as `{}` and runs it before gate",
                        previous.display()
                    ),
                )
                .into());
            }
            if previous.exists() {
                return Err(Problem::hinted(
                    format!(
                        "both `{}` and `{}` exist; gate will not overwrite either",
                        path.display(),
                        previous.display()
                    ),
                    "merge them by hand, then run `gate install` again",
                )
                .into());
            }
            std::fs::rename(&path, &previous)
                .with_context(|| format!("failed to move `{}` to `{}`", path.display(), previous.display()))?;
            writeln!(
                out,
                "kept the existing {name} hook as `{}`; it runs first",
                previous.display()
            )?;
        }
        write_executable(&path, &shim)?;
        writeln!(out, "installed {name} hook: `{}`", path.display())?;
    }
    Ok(0)
}

/// The hooks asked for, checked against the ones git knows.
pub(crate) fn hook_names(asked: &[String]) -> Result<Vec<&str>> {
    if asked.is_empty() {
        return Ok(DEFAULT_HOOKS.to_vec());
    }
    asked
        .iter()
        .map(|name| {
            GIT_HOOKS.iter().copied().find(|known| known == name).with_context(|| {
                Problem::hinted(
                    format!("`{name}` is not a git hook"),
                    format!("the hooks are {}", GIT_HOOKS.join(", ")),
                )
            })
        })
        .collect()
}

/// Where `--force` keeps the hook that was there.
pub(crate) fn kept_path(hook: &Path) -> PathBuf {
    let mut name = hook.file_name().unwrap_or_default().to_owned();
    name.push(PREVIOUS);
    hook.with_file_name(name)
}

/// Whether `path` holds a hook that gate did not write.
pub(crate) fn is_foreign(path: &Path) -> Result<bool> {
    match std::fs::read(path) {
        Ok(content) => Ok(!is_ours(&content)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err).with_context(|| format!("failed to read `{}`", path.display())),
    }
}

pub(crate) fn is_ours(content: &[u8]) -> bool {
    content
        .split(|&b| b == b'\n')
        .take(3)
        .any(|line| line.starts_with(MARKER.as_bytes()))
}

fn shim() -> Result<String> {
    let exe = std::env::current_exe().context("failed to find the path of the gate binary")?;
    let exe = exe
        .to_str()
        .with_context(|| format!("the path of the gate binary `{}` is not UTF-8", exe.display()))?;
    let quoted = shlex::try_quote(exe).with_context(|| format!("cannot quote `{exe}` for a shell script"))?;
    Ok(SHIM.replace("@GATE_BIN@", &quoted))
}

fn write_executable(path: &Path, content: &str) -> Result<()> {
    // Write beside, then rename: a hook git runs meanwhile is never half written.
    let temp = path.with_extension("gate-tmp");
    std::fs::write(&temp, content).with_context(|| format!("failed to write `{}`", temp.display()))?;
    std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("failed to make `{}` executable", temp.display()))?;
    std::fs::rename(&temp, path).with_context(|| format!("failed to write `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shim_carries_the_marker() {
        assert!(is_ours(SHIM.as_bytes()));
        assert!(!is_ours(b"#!/bin/sh\nexec husky\n"));
    }
}
