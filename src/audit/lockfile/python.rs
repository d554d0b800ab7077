//! Python's requirement files and lockfiles. Names stay as written; matching normalizes them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

use super::{Sink, line_of};

use crate::model::Problem;

/// `requirements*.txt`: `name==version` pins (extras, markers, `--hash` and line
/// continuations tolerated), `-r`/`-c` includes followed; anything unpinned is listed, not
/// guessed.
pub(super) fn requirements(root: &Path, relative: &Path, out: &mut Sink, seen: &mut Vec<PathBuf>) -> Result<()> {
    if seen.contains(&relative.to_path_buf()) {
        return Ok(());
    }
    seen.push(relative.to_path_buf());
    let text = std::fs::read_to_string(root.join(relative))
        .with_context(|| format!("failed to read `{}`", relative.display()))?;
    let mut logical = String::new();
    let mut start = 0;
    for (index, raw) in text.lines().enumerate() {
        if logical.is_empty() {
            start = index + 1;
        }
        let line = raw.split(" #").next().unwrap_or(raw);
        let line = if line.trim_start().starts_with('#') { "" } else { line };
        if let Some(continued) = line.trim_end().strip_suffix('\\') {
            logical.push_str(continued);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        let entry = Entry {
            text: entry.trim(),
            line: start,
        };
        requirement(root, relative, &entry, out, seen)?;
    }
    Ok(())
}

/// An include's path, repository-relative, when it names a file inside the repository
/// (links resolved): a requirements file must not make gate read `/etc/passwd` or
/// `/proc/self/environ` and echo it into a report. The error names the include only.
fn inside(root: &Path, relative: &Path, target: &str, line: usize) -> Result<PathBuf> {
    let named = root.join(relative.parent().unwrap_or(Path::new(""))).join(target);
    let real_root = root
        .canonicalize()
        .with_context(|| format!("failed to resolve `{}`", root.display()))?;
    let Ok(real) = named.canonicalize() else {
        bail!("line {line}: the included file `{target}` does not exist");
    };
    match real.strip_prefix(&real_root) {
        Ok(inner) if real.is_file() => Ok(inner.to_path_buf()),
        Ok(_) => bail!("line {line}: the include `{target}` is not a file"),
        Err(_) => Err(Problem::hinted(
            format!("line {line}: the include `{target}` is outside the repository, so it is not read"),
            "include only requirement files of this repository",
        )
        .into()),
    }
}

/// One logical line of a requirements file (continuations joined), and the line it
/// starts on.
struct Entry<'a> {
    text: &'a str,
    line: usize,
}

fn requirement(root: &Path, relative: &Path, entry: &Entry<'_>, out: &mut Sink, seen: &mut Vec<PathBuf>) -> Result<()> {
    let Entry { text: entry, line } = *entry;
    if entry.is_empty() {
        return Ok(());
    }
    for include in [
        "-r ",
        "--requirement ",
        "-c ",
        "--constraint ",
        "--requirement=",
        "-r",
        "-c",
    ] {
        if let Some(target) = entry.strip_prefix(include) {
            let target = inside(root, relative, target.trim(), line)?;
            // Packages of an included file point at that file.
            let parent = std::mem::replace(&mut out.file, target.clone());
            let result = requirements(root, &target, out, seen);
            out.file = parent;
            return result;
        }
    }
    if entry.starts_with('-') {
        if entry.starts_with("-e") || entry.starts_with("--editable") {
            out.skip(format!("line {line}: editable requirement `{entry}` not audited"));
        }
        return Ok(()); // --index-url, --hash on its own line, …
    }
    let requirement = entry
        .split(';')
        .next()
        .unwrap_or(entry)
        .split(" --")
        .next()
        .unwrap_or(entry)
        .trim();
    if requirement.contains("://")
        || requirement.starts_with('.')
        || requirement.starts_with('/')
        || requirement.contains(" @ ")
    {
        out.skip(format!("line {line}: `{requirement}` is a URL or path"));
        return Ok(());
    }
    let pinned = requirement.split_once("===").or_else(|| requirement.split_once("=="));
    match pinned {
        Some((name, version)) if !version.contains(['*', ',', '<', '>']) => {
            let name = name.split('[').next().unwrap_or(name).trim();
            out.package(name, version.trim(), line);
        }
        _ => out.skip(format!(
            "line {line}: `{requirement}` is not pinned with `==`, so no version is known"
        )),
    }
    Ok(())
}

#[derive(Deserialize)]
struct TomlLock {
    #[serde(default)]
    package: Vec<TomlPackage>,
}

#[derive(Deserialize)]
struct TomlPackage {
    name: String,
    version: Option<String>,
    source: Option<toml::Value>,
}

/// `poetry.lock` and `uv.lock`: `[[package]]` tables; git, path, directory and editable
/// sources are not audited.
pub(super) fn toml_lock(text: &str, out: &mut Sink) -> Result<()> {
    let lock: TomlLock = toml::from_str(text)?;
    let mut cursor = 1;
    for package in lock.package {
        let line = line_of(text, &format!("name = \"{}\"", package.name), cursor).unwrap_or(cursor);
        cursor = line;
        let local = package.source.as_ref().is_some_and(|source| {
            let table = source.as_table();
            let kind = table.and_then(|t| t.get("type")).and_then(toml::Value::as_str);
            matches!(kind, Some("git" | "directory" | "file" | "url"))
                || table.is_some_and(|t| {
                    ["git", "path", "directory", "editable", "virtual", "url"]
                        .iter()
                        .any(|k| t.contains_key(*k))
                })
        });
        match (&package.version, local) {
            (Some(version), false) => out.package(&package.name, version, line),
            _ => out.skip(format!("{} is a local, git or URL package", package.name)),
        }
    }
    Ok(())
}

/// `Pipfile.lock`: `default` and `develop`, each `{ name: { "version": "==1.2.3" } }`.
pub(super) fn pipfile_lock(text: &str, out: &mut Sink) -> Result<()> {
    let lock: Value = serde_json::from_str(text)?;
    let mut cursor = 1;
    for section in ["default", "develop"] {
        let Some(entries) = lock.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (name, entry) in entries {
            let line = line_of(text, &format!("\"{name}\": {{"), cursor).unwrap_or(cursor);
            cursor = line;
            match entry
                .get("version")
                .and_then(Value::as_str)
                .and_then(|v| v.strip_prefix("=="))
            {
                Some(version) => out.package(name, version, line),
                None => out.skip(format!("{name} has no pinned version (git, path or editable)")),
            }
        }
    }
    Ok(())
}
