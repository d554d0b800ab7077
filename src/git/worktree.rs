//! The work tree gate checks pushed commits in when they are not the checked-out one: a
//! linked worktree under the git directory, kept between runs so build caches survive, and
//! never the user's own working tree.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use git2::Oid;

use super::Repo;

/// The worktree at `tip`, made on first use and reused after: tracked files are reset to
/// the tip and untracked files removed; ignored files (build output) are kept.
pub(crate) fn at_commit(repo: &Repo, tip: Oid) -> Result<PathBuf> {
    let path = repo.git.commondir().join("gate").join("worktrees").join("push");
    let tip = tip.to_string();
    if path.join(".git").is_file() {
        let updated = git(&path, &["checkout", "--quiet", "--force", "--detach", &tip])
            .and_then(|()| git(&path, &["clean", "--quiet", "--force", "-d"]));
        if updated.is_ok() {
            return Ok(path);
        }
        // A broken leftover (moved, half-deleted): start again.
        let _ = std::fs::remove_dir_all(&path);
    }
    git(repo.root(), &["worktree", "prune"])?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("failed to create `{}`", parent.display()))?;
    }
    let target = path.to_string_lossy().into_owned();
    git(
        repo.root(),
        &["worktree", "add", "--quiet", "--force", "--detach", &target, &tip],
    )?;
    Ok(path)
}

/// Runs git in `dir`, free of the hook's `GIT_*` variables that would point it elsewhere.
fn git(dir: &Path, args: &[&str]) -> Result<()> {
    // No hook of the user's runs for gate's own checkouts.
    let output = Command::new("git")
        .args(["-c", "core.hooksPath=/dev/null"])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_PREFIX")
        .output()
        .context("failed to run git")?;
    if !output.status.success() {
        bail!(
            "`git {}` failed in `{}`: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
