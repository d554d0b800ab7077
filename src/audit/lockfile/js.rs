//! npm's, yarn's and pnpm's lockfiles.

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use super::{Sink, line_of};

/// `package-lock.json` v2/v3 (`packages`, keyed by `node_modules/…` path) and v1 (nested
/// `dependencies`).
pub(super) fn package_lock(text: &str, out: &mut Sink) -> Result<()> {
    let lock: Value = serde_json::from_str(text)?;
    if let Some(packages) = lock.get("packages").and_then(Value::as_object) {
        let mut cursor = 1;
        for (key, entry) in packages {
            let Some(at) = key.rfind("node_modules/") else { continue }; // "" is the project itself
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&key[at + "node_modules/".len()..]);
            let line = line_of(text, &format!("\"{key}\""), cursor).unwrap_or(cursor);
            cursor = line;
            npm_entry(name, entry, line, out);
        }
        return Ok(());
    }
    let Some(dependencies) = lock.get("dependencies").and_then(Value::as_object) else {
        bail!("neither `packages` nor `dependencies`: not an npm lockfile");
    };
    let mut cursor = 1;
    v1(text, dependencies, &mut cursor, out);
    Ok(())
}

fn v1(text: &str, dependencies: &serde_json::Map<String, Value>, cursor: &mut usize, out: &mut Sink) {
    for (name, entry) in dependencies {
        let line = line_of(text, &format!("\"{name}\": {{"), *cursor).unwrap_or(*cursor);
        *cursor = line;
        npm_entry(name, entry, line, out);
        if let Some(nested) = entry.get("dependencies").and_then(Value::as_object) {
            v1(text, nested, cursor, out);
        }
    }
}

fn npm_entry(name: &str, entry: &Value, line: usize, out: &mut Sink) {
    let version = entry.get("version").and_then(Value::as_str).unwrap_or_default();
    let resolved = entry.get("resolved").and_then(Value::as_str).unwrap_or_default();
    if entry.get("link").and_then(Value::as_bool) == Some(true)
        || resolved.starts_with("file:")
        || version.starts_with("file:")
    {
        out.skip(format!("{name} is a local path"));
    } else if resolved.starts_with("git") || version.contains("://") || version.starts_with("git") {
        out.skip(format!("{name} comes from git"));
    } else if !version.is_empty() {
        out.package(name, version, line);
    }
}

/// The package name of a `name@range` spec (`@scope/name@range` keeps its scope).
fn spec_name(spec: &str) -> &str {
    let spec = spec.trim().trim_matches('"');
    // The first character may be the `@` of a scope; the version's `@` comes after it.
    let first = spec.chars().next().map_or(0, char::len_utf8);
    match spec.get(first..).and_then(|rest| rest.find('@')) {
        Some(at) => &spec[..first + at],
        None => spec,
    }
}

/// `yarn.lock`: v1 (its own format, read by line: `version "1.2.3"`) and Berry (YAML, with
/// `__metadata`, `version:` and `resolution:`).
pub(super) fn yarn_lock(text: &str, out: &mut Sink) -> Result<()> {
    if text.lines().any(|line| line == "__metadata:") {
        return yarn_berry(text, out);
    }
    yarn_v1(text, out);
    Ok(())
}

/// Where a workspace, link or patch (not a registry package) shows in a yarn spec.
const YARN_LOCAL: [&str; 5] = ["@workspace:", "@link:", "@file:", "@portal:", "@patch:"];

fn yarn_v1(text: &str, out: &mut Sink) {
    /// The entry being read: its package name, its line, and whether it is local.
    struct Entry {
        name: String,
        line: usize,
        local: bool,
    }
    let mut current: Option<Entry> = None;
    for (index, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            let key = line.trim_end_matches(':');
            let first = key.split(", ").next().unwrap_or(key);
            current = Some(Entry {
                name: spec_name(first).to_owned(),
                line: index + 1,
                local: YARN_LOCAL.iter().any(|p| first.contains(p)),
            });
            continue;
        }
        let version = line.trim().strip_prefix("version ").map(|v| v.trim().trim_matches('"'));
        if let (Some(version), Some(entry)) = (version, &current) {
            if entry.local {
                out.skip(format!("{} is a workspace, link or patched package", entry.name));
            } else {
                out.package(&entry.name, version, entry.line);
            }
        }
    }
}

#[derive(Deserialize)]
struct BerryEntry {
    version: Option<String>,
    resolution: Option<String>,
}

fn yarn_berry(text: &str, out: &mut Sink) -> Result<()> {
    let entries: IndexMap<String, BerryEntry> =
        serde_saphyr::from_str(text).context("not a YAML yarn Berry lockfile")?;
    let mut lines = LineCursor::new(text);
    for (key, entry) in entries.into_iter().filter(|(key, _)| key != "__metadata") {
        let first = key.split(", ").next().unwrap_or(&key);
        let name = spec_name(first);
        let line = lines.find(first);
        let resolution = entry.resolution.as_deref().unwrap_or(first);
        match entry.version {
            _ if YARN_LOCAL.iter().any(|p| resolution.contains(p) || first.contains(p)) => {
                out.skip(format!("{name} is a workspace, link or patched package"));
            }
            Some(version) => out.package(name, &version, line),
            None => out.skip(format!("{name} has no version")),
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct PnpmLock {
    #[serde(default)]
    packages: IndexMap<String, IgnoredAny>,
}

/// `pnpm-lock.yaml`: keys under `packages:` — `/name/1.2.3` (v5), `/name@1.2.3` (v6),
/// `name@1.2.3` (v9), with peer suffixes `_peer@x` or `(peer@x)`.
pub(super) fn pnpm_lock(text: &str, out: &mut Sink) -> Result<()> {
    let lock: PnpmLock = serde_saphyr::from_str(text).context("not a YAML pnpm lockfile")?;
    let mut lines = LineCursor::new(text);
    for whole in lock.packages.keys() {
        let line = lines.find(whole);
        let key = whole.split('(').next().unwrap_or(whole);
        let key = key.strip_prefix('/').unwrap_or(key);
        let segments: Vec<&str> = key.split('/').collect();
        // v5: `name/1.2.3` or `@scope/name/1.2.3_peer@x`: the version is a segment of its own.
        let v5 = segments
            .iter()
            .rposition(|s| s.starts_with(|c: char| c.is_ascii_digit()))
            .filter(|&i| i > 0);
        let (name, version) = match v5 {
            Some(i) => (segments[..i].join("/"), segments[i].to_owned()),
            None => match key.get(1..).and_then(|rest| rest.rfind('@')) {
                Some(at) => (key[..=at].to_owned(), key[at + 2..].to_owned()),
                None => continue,
            },
        };
        let version = version.split('_').next().unwrap_or(&version);
        if version.starts_with(|c: char| c.is_ascii_digit()) {
            out.package(&name, version, line);
        } else {
            out.skip(format!("{name} is not from the registry ({version})"));
        }
    }
    Ok(())
}

/// Line numbers of keys found in file order: each search starts where the last ended, so
/// a whole file costs one pass however many keys it has.
struct LineCursor<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
}

impl<'a> LineCursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line of the next occurrence of `needle`; where it is not found (the YAML
    /// wrote it escaped), the line of the last one found.
    fn find(&mut self, needle: &str) -> usize {
        let rest = &self.text[self.offset..];
        if let Some(at) = memchr::memmem::find(rest.as_bytes(), needle.as_bytes()) {
            self.line += memchr::memchr_iter(b'\n', &rest.as_bytes()[..at]).count();
            self.offset += at + needle.len();
        }
        self.line
    }
}
