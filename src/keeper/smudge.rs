//! Content filter drivers (`filter.<name>.smudge` or `.process`: git-lfs, git-crypt) are
//! programs git runs; libgit2's checkout applies only its built-in filters, so it would put
//! an LFS pointer or an encrypted blob where a checkout puts the file. Those paths are
//! written again with what `git cat-file --filters` makes of their blob: git's own checkout.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use git2::{AttrCheckFlags, Oid};

use super::content::Content;
use crate::git::Repo;

/// Writes each of `paths` that a filter driver checks out through git, from `index`.
pub(super) fn smudge(repo: &Repo, index: &git2::Index, paths: &[PathBuf]) -> Result<()> {
    let config = repo.git.config().context("failed to read the git configuration")?;
    // The drivers git knows; with none (most repositories) no path's attributes are read.
    let mut drivers = Vec::new();
    let mut entries = config
        .entries(Some(r"^filter\..*\.(smudge|process)$"))
        .context("failed to read the git configuration")?;
    while let Some(entry) = entries.next() {
        let name = entry.ok().and_then(|e| e.name().ok().map(str::to_owned));
        if let Some(driver) = name
            .as_deref()
            .and_then(|n| n.strip_prefix("filter."))
            .and_then(|n| n.rsplit_once('.'))
        {
            drivers.push(driver.0.to_owned());
        }
    }
    if drivers.is_empty() {
        return Ok(());
    }
    let has_driver = |name: &str| drivers.iter().any(|d| d == name);
    let driven: Vec<(&Path, Oid, u32)> = paths
        .iter()
        .filter_map(|path| {
            let entry = index.get_path(path, 0)?;
            // Links hold a target and submodules a commit: no filter applies.
            if entry.mode & 0o170_000 != 0o100_000 {
                return None;
            }
            let name = repo
                .git
                .get_attr(path, "filter", AttrCheckFlags::INDEX_THEN_FILE)
                .ok()
                .flatten()?;
            has_driver(name).then_some((path.as_path(), entry.id, entry.mode))
        })
        .collect();
    for (path, id, mode) in driven {
        let bytes = checked_out(repo.root(), path, id)?;
        let mode = if mode & 0o111 != 0 { 0o777 } else { 0o666 };
        Content::File {
            bytes,
            mode: mode & !super::umask(),
        }
        .write(&repo.root().join(path))
        .with_context(|| format!("failed to set `{}` aside", path.display()))?;
    }
    Ok(())
}

/// What git's checkout writes for blob `id` at `path`: its content through the path's
/// filters. One process per path: a driver is rare, and `--batch` input is line-based,
/// which a path may not be.
fn checked_out(root: &Path, path: &Path, id: Oid) -> Result<Vec<u8>> {
    let mut path_arg = std::ffi::OsString::from("--path=");
    path_arg.push(path);
    let output = Command::new("git")
        .args(["cat-file", "--filters"])
        .arg(path_arg)
        .arg(id.to_string())
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .context("failed to run git for a filtered file")?;
    if !output.status.success() {
        bail!(
            "git could not check out `{}` through its filter: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output.stdout)
}
