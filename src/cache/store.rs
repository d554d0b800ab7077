//! Where cached passes live. Each record is one JSON file named by its key, written to a
//! temporary name and renamed into place, so a reader sees a whole record or none; one
//! that does not parse is a miss, never an error. Reading a record marks it used; past
//! the size bound the least recently used go first.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::Key;
use crate::model::Diagnostic;

/// The record format this build reads and writes.
const RECORD_VERSION: u32 = 1;

/// No record is bigger than this; a bigger file is not a record gate wrote.
const MAX_RECORD: u64 = 64 << 20;

/// A gate's pass, as a later run shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) version: u32,
    pub(crate) gate: String,
    /// How long the run that passed took.
    pub(crate) duration_ms: u64,
    pub(crate) output: String,
    #[serde(default)]
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// What the gate said it measured (built-in gates), if anything.
    pub(crate) summary: Option<String>,
    /// Seconds since the epoch when it was stored.
    pub(crate) created: u64,
    /// Served by the remote store in this run.
    #[serde(skip)]
    pub(crate) remote: bool,
}

impl Record {
    pub(crate) fn new(gate: &str, duration_ms: u64, output: String, diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            version: RECORD_VERSION,
            gate: gate.to_owned(),
            duration_ms,
            output,
            diagnostics,
            summary: None,
            created: now(),
            remote: false,
        }
    }
}

/// A place results are kept: the local folder, and (later) a remote behind it.
pub(crate) trait Store {
    fn get(&self, key: &Key) -> Option<Record>;
    fn put(&self, key: &Key, record: &Record) -> Result<()>;
}

/// Counts kept across runs for `gate cache stats`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Counters {
    /// Every hit, those the remote served included.
    pub(crate) hits: u64,
    #[serde(default)]
    pub(crate) remote_hits: u64,
    pub(crate) misses: u64,
    pub(crate) stored: u64,
}

/// The local store: `<git common dir>/gate/cache`.
pub(crate) struct LocalStore {
    dir: PathBuf,
    max_bytes: u64,
}

/// What `gate cache stats` shows.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    pub(crate) entries: u64,
    pub(crate) bytes: u64,
    pub(crate) counters: Counters,
}

impl LocalStore {
    pub(crate) fn new(dir: PathBuf, max_bytes: u64) -> Self {
        Self { dir, max_bytes }
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(&key.as_str()[..2]).join(format!("{key}.json"))
    }

    /// Every record file, with its size and when it was last used.
    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let Ok(shards) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        shards
            .flatten()
            .filter(|shard| shard.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|shard| fs::read_dir(shard.path()).ok())
            .flat_map(Iterator::flatten)
            .filter(|file| file.path().extension().is_some_and(|e| e == "json"))
            .filter_map(|file| {
                let meta = file.metadata().ok()?;
                Some((file.path(), meta.len(), meta.modified().unwrap_or(UNIX_EPOCH)))
            })
            .collect()
    }

    /// Drops the least recently used records until the store is within its bound.
    fn evict(&self) {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort_by_key(|(_, _, used)| *used);
        // Down to 90%, so not every run pays for an eviction.
        let target = self.max_bytes / 10 * 9;
        for (path, size, _) in entries {
            if total <= target {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(size);
            }
        }
    }

    pub(crate) fn usage(&self) -> Usage {
        let entries = self.entries();
        Usage {
            entries: entries.len() as u64,
            bytes: entries.iter().map(|(_, size, _)| size).sum(),
            counters: self.counters(),
        }
    }

    fn counters(&self) -> Counters {
        fs::read(self.dir.join("stats.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Adds a run's hits, misses and stored passes to the counts (best effort: counts are
    /// for people, not for decisions).
    pub(crate) fn count(&self, hits: u64, remote_hits: u64, misses: u64, stored: u64) {
        let mut counters = self.counters();
        counters.hits += hits;
        counters.remote_hits += remote_hits;
        counters.misses += misses;
        counters.stored += stored;
        if let Ok(bytes) = serde_json::to_vec(&counters) {
            let _ = write_atomically(&self.dir, &self.dir.join("stats.json"), &bytes);
        }
    }

    pub(crate) fn clean(&self) -> Result<u64> {
        let removed = self.entries().len() as u64;
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(removed),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(err) => Err(err).with_context(|| format!("failed to remove `{}`", self.dir.display())),
        }
    }
}

impl Store for LocalStore {
    fn get(&self, key: &Key) -> Option<Record> {
        let path = self.path(key);
        let meta = fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > MAX_RECORD {
            return None;
        }
        let record: Record = serde_json::from_slice(&fs::read(&path).ok()?).ok()?;
        if record.version != RECORD_VERSION {
            return None;
        }
        // Used now: the last to be evicted.
        if let Ok(file) = fs::File::options().write(true).open(&path) {
            let _ = file.set_modified(SystemTime::now());
        }
        Some(record)
    }

    fn put(&self, key: &Key, record: &Record) -> Result<()> {
        let path = self.path(key);
        let shard = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(shard).with_context(|| format!("failed to create `{}`", shard.display()))?;
        write_atomically(shard, &path, &serde_json::to_vec(record)?)?;
        self.evict();
        Ok(())
    }
}

/// Writes `bytes` to a unique temporary file in `dir`, then renames it over `path`.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("failed to create `{}`", dir.display()))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temporary = dir.join(format!(".tmp-{}-{nanos}", std::process::id()));
    fs::write(&temporary, bytes).with_context(|| format!("failed to write `{}`", temporary.display()))?;
    fs::rename(&temporary, path).with_context(|| format!("failed to write `{}`", path.display()))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::KeyBuilder;

    fn key(n: u32) -> Key {
        let mut builder = KeyBuilder::new();
        builder.text("n", &n.to_string());
        builder.finish()
    }

    #[test]
    fn a_record_comes_back_and_a_broken_one_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("cache"), 1 << 20);
        assert!(store.get(&key(1)).is_none());
        store
            .put(&key(1), &Record::new("lint", 1200, "ok\n".to_owned(), Vec::new()))
            .unwrap();
        let record = store.get(&key(1)).unwrap();
        assert_eq!((record.gate.as_str(), record.duration_ms), ("lint", 1200));
        fs::write(store.path(&key(1)), "{\"version\": 1, \"gate\": ").unwrap();
        assert!(store.get(&key(1)).is_none(), "truncated: a miss");
        fs::write(store.path(&key(1)), "").unwrap();
        assert!(store.get(&key(1)).is_none(), "empty: a miss");
    }

    #[test]
    fn the_least_recently_used_go_first_past_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("cache"), 3500);
        let big = "x".repeat(900);
        for n in 0..3 {
            store
                .put(&key(n), &Record::new("g", 1, big.clone(), Vec::new()))
                .unwrap();
            let old = SystemTime::now() - std::time::Duration::from_secs(u64::from(100 - n));
            fs::File::options()
                .write(true)
                .open(store.path(&key(n)))
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        // Using the oldest makes it the newest.
        assert!(store.get(&key(0)).is_some());
        store.put(&key(3), &Record::new("g", 1, big, Vec::new())).unwrap();
        assert!(store.get(&key(0)).is_some(), "recently used stays");
        assert!(store.get(&key(1)).is_none(), "least recently used went");
        assert!(store.usage().bytes <= 3500);
    }

    #[test]
    fn counts_add_up_and_clean_empties() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("cache"), 1 << 20);
        store
            .put(&key(1), &Record::new("g", 1, String::new(), Vec::new()))
            .unwrap();
        store.count(2, 1, 1, 1);
        store.count(1, 0, 0, 0);
        let usage = store.usage();
        assert_eq!((usage.entries, usage.counters.hits, usage.counters.misses), (1, 3, 1));
        assert_eq!(store.clean().unwrap(), 1);
        assert_eq!(store.usage().entries, 0);
    }
}
