//! npm's, yarn's and pnpm's lockfiles.

use anyhow::{Result, bail};
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

/// `yarn.lock`: v1 (`version "1.2.3"`) and Berry (`version: 1.2.3`, `resolution:`).
#[expect(clippy::unnecessary_wraps, reason = "every lockfile parser has the same signature")]
pub(super) fn yarn_lock(text: &str, out: &mut Sink) -> Result<()> {
    /// The entry being read: its package name, its line, and whether it is local (a
    /// workspace, link or patch, not from the registry).
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
            if key == "__metadata" {
                current = None;
                continue;
            }
            let first = key.split(", ").next().unwrap_or(key);
            let local = ["@workspace:", "@link:", "@file:", "@portal:", "@patch:"]
                .iter()
                .any(|p| first.contains(p));
            current = Some(Entry {
                name: spec_name(first).to_owned(),
                line: index + 1,
                local,
            });
            continue;
        }
        let trimmed = line.trim();
        let version = trimmed
            .strip_prefix("version ")
            .or_else(|| trimmed.strip_prefix("version: "))
            .map(|v| v.trim().trim_matches('"'));
        if let (Some(version), Some(entry)) = (version, &current) {
            if entry.local {
                out.skip(format!("{} is a workspace, link or patched package", entry.name));
            } else {
                out.package(&entry.name, version, entry.line);
            }
        }
    }
    Ok(())
}

/// `pnpm-lock.yaml`: keys under `packages:` — `/name/1.2.3` (v5), `/name@1.2.3` (v6),
/// `name@1.2.3` (v9), with peer suffixes `_peer@x` or `(peer@x)`.
#[expect(clippy::unnecessary_wraps, reason = "every lockfile parser has the same signature")]
pub(super) fn pnpm_lock(text: &str, out: &mut Sink) -> Result<()> {
    let mut in_packages = false;
    for (index, line) in text.lines().enumerate() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_packages = line.trim_end() == "packages:";
            continue;
        }
        if !in_packages || !line.starts_with("  ") || line.starts_with("   ") {
            continue;
        }
        let key = line
            .trim()
            .trim_end_matches(':')
            .trim_matches(|c| c == '\'' || c == '"');
        let key = key.split('(').next().unwrap_or(key);
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
        let (name, version) = (name.as_str(), version.as_str());
        let version = version.split('_').next().unwrap_or(version);
        if version.starts_with(|c: char| c.is_ascii_digit()) {
            out.package(name, version, index + 1);
        } else {
            out.skip(format!("{name} is not from the registry ({version})"));
        }
    }
    Ok(())
}
