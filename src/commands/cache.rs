//! `gate cache stats` and `gate cache clean`.

use std::io::Write;

use anyhow::Result;

use super::Globals;
use crate::cache::LocalStore;
use crate::cli::CacheAction;
use crate::git::Repo;
use crate::keeper::lock::{Access, RunLock};

pub(crate) fn cache(globals: &Globals, action: CacheAction) -> Result<i32> {
    let repo = Repo::open()?;
    let dir = repo.git.commondir().join("gate").join("cache");
    let store = LocalStore::new(dir.clone(), u64::MAX);
    let mut out = globals.printer.stdout();
    match action {
        CacheAction::Stats => {
            let usage = store.usage();
            let asked = usage.counters.hits + usage.counters.misses;
            writeln!(out, "cache    {}", dir.display())?;
            writeln!(
                out,
                "entries  {} ({:.1} MB)",
                usage.entries,
                usage.bytes as f64 / f64::from(1 << 20)
            )?;
            writeln!(
                out,
                "hits     {} of {asked} lookups ({} from the remote, {} misses); {} passes stored",
                usage.counters.hits, usage.counters.remote_hits, usage.counters.misses, usage.counters.stored
            )?;
        }
        CacheAction::Clean => {
            // Not while a run reads or writes it.
            let _lock = RunLock::acquire(repo.git.path(), Access::Exclusive, globals.printer)?;
            let removed = store.clean()?;
            writeln!(
                out,
                "removed {}",
                crate::model::text::plural(usize::try_from(removed).unwrap_or(usize::MAX), "cached result")
            )?;
        }
    }
    Ok(0)
}
