//! `Cargo.lock`: `[[package]]` tables; packages with a `source` other than a registry are
//! git or path dependencies, not audited.

use anyhow::Result;
use serde::Deserialize;

use super::{Sink, line_of};

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    version: String,
    source: Option<String>,
}

pub(super) fn cargo_lock(text: &str, out: &mut Sink) -> Result<()> {
    let lock: Lock = toml::from_str(text)?;
    let mut cursor = 1;
    for entry in lock.package {
        let line = line_of(text, &format!("name = \"{}\"", entry.name), cursor).unwrap_or(cursor);
        cursor = line;
        match entry.source.as_deref() {
            Some(source) if source.starts_with("registry+") || source.starts_with("sparse+") => {
                out.package(&entry.name, &entry.version, line);
            }
            // No source: a workspace member or a path dependency, not from a registry.
            None => {}
            Some(source) => out.skip(format!(
                "{} {} comes from `{source}`, not a registry",
                entry.name, entry.version
            )),
        }
    }
    Ok(())
}
