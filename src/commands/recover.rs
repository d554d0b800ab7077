//! `gate recover`: after a run was killed (`kill -9`, power loss) before it could put the
//! unstaged changes back, lists the backups it left and restores them.

use std::io::Write;

use anyhow::Result;

use super::Globals;
use crate::cli::RecoverArgs;
use crate::git::Repo;
use crate::keeper::backup::Backup;
use crate::keeper::lock::{Access, RunLock};
use crate::keeper::put_back;
use crate::model::Problem;

pub(crate) fn recover(globals: &Globals, args: &RecoverArgs) -> Result<i32> {
    let repo = Repo::open()?;
    let git_dir = repo.git.path();
    let _lock = RunLock::acquire(git_dir, Access::Exclusive, globals.printer)?;
    let backups = Backup::list(git_dir)?;
    let mut out = globals.printer.stdout();
    if backups.is_empty() {
        writeln!(out, "no backups to recover: nothing was left by an interrupted run")?;
        return Ok(0);
    }
    if args.list {
        for backup in &backups {
            let manifest = &backup.manifest;
            let when = humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(manifest.created),
            );
            writeln!(
                out,
                "{}  {when}  pid {}  {}:",
                manifest.id,
                manifest.pid,
                crate::model::text::plural(manifest.entries.len(), "file")
            )?;
            for entry in &manifest.entries {
                writeln!(out, "    {}", entry.shown)?;
            }
        }
        return Ok(0);
    }
    let chosen: Vec<Backup> = match &args.id {
        Some(id) => {
            let Some(backup) = backups.into_iter().find(|b| &b.manifest.id == id) else {
                return Err(Problem::hinted(
                    format!("there is no backup `{id}`"),
                    "`gate recover --list` shows the backups",
                )
                .into());
            };
            vec![backup]
        }
        None => backups,
    };
    for backup in chosen {
        let id = backup.manifest.id.clone();
        let paths: Vec<String> = backup.manifest.entries.iter().map(|e| e.shown.clone()).collect();
        let restored = put_back(repo.root(), git_dir, backup, true)?;
        writeln!(out, "restored backup `{id}`:")?;
        for path in paths {
            writeln!(out, "    {path}")?;
        }
        for (path, kept) in &restored.conflicts {
            writeln!(
                out,
                "`{}` had changed since the run was interrupted; that version is kept in `{}`",
                path.display(),
                kept.display()
            )?;
        }
    }
    Ok(0)
}
