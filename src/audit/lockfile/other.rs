//! Go modules, Bundler and Composer.

use std::collections::HashMap;

use anyhow::Result;
use serde_json::Value;

use super::{Sink, line_of};

/// `go.mod`: `require` lines and blocks; a `replace` to another module version audits the
/// replacement, a `replace` to a local path skips the module.
#[expect(clippy::unnecessary_wraps, reason = "every lockfile parser has the same signature")]
pub(super) fn go_mod(text: &str, out: &mut Sink) -> Result<()> {
    let mut requires: Vec<(String, String, usize)> = Vec::new();
    let mut replaces: HashMap<String, Option<(String, String)>> = HashMap::new();
    let mut block: Option<&str> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or(raw).trim();
        if line.is_empty() {
            continue;
        }
        if line == ")" {
            block = None;
            continue;
        }
        let (directive, rest) = match block {
            Some(directive) => (directive, line),
            None => match line.split_once(char::is_whitespace) {
                Some((directive, rest)) if rest.trim() == "(" => {
                    block = Some(if directive == "require" {
                        "require"
                    } else if directive == "replace" {
                        "replace"
                    } else {
                        "other"
                    });
                    continue;
                }
                Some((directive, rest)) => (directive, rest.trim()),
                None => continue,
            },
        };
        match directive {
            "require" => {
                let mut fields = rest.split_whitespace();
                if let (Some(module), Some(version)) = (fields.next(), fields.next()) {
                    requires.push((module.to_owned(), version.to_owned(), index + 1));
                }
            }
            "replace" => {
                let Some((old, new)) = rest.split_once("=>") else {
                    continue;
                };
                let old = old.split_whitespace().next().unwrap_or_default().to_owned();
                let mut new = new.split_whitespace();
                let target = match (new.next(), new.next()) {
                    (Some(module), Some(version)) => Some((module.to_owned(), version.to_owned())),
                    _ => None, // a local directory
                };
                replaces.insert(old, target);
            }
            _ => {}
        }
    }
    for (module, version, line) in requires {
        match replaces.get(&module) {
            Some(Some((new_module, new_version))) => out.package(new_module, new_version, line),
            Some(None) => out.skip(format!("{module} is replaced by a local directory")),
            None => out.package(&module, &version, line),
        }
    }
    Ok(())
}

/// `Gemfile.lock`: the `specs:` of `GEM` sections (`    name (version[-platform])`);
/// `GIT` and `PATH` sections are not audited.
#[expect(clippy::unnecessary_wraps, reason = "every lockfile parser has the same signature")]
pub(super) fn gemfile_lock(text: &str, out: &mut Sink) -> Result<()> {
    let mut section = "";
    for (index, line) in text.lines().enumerate() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            section = line.trim();
            continue;
        }
        let Some(spec) = line.strip_prefix("    ").filter(|s| !s.starts_with(' ')) else {
            continue;
        };
        let Some((name, rest)) = spec.split_once(" (") else {
            continue;
        };
        let version = rest.trim_end_matches(')');
        match section {
            "GEM" => {
                // A platform gem: `1.13.10-x86_64-linux`.
                let version = version
                    .split_once('-')
                    .filter(|(v, _)| v.contains('.'))
                    .map_or(version, |(v, _)| v);
                out.package(name, version, index + 1);
            }
            "GIT" | "PATH" => out.skip(format!("{name} comes from a {} source", section.to_lowercase())),
            _ => {}
        }
    }
    Ok(())
}

/// `composer.lock`: `packages` and `packages-dev`; `dev-` branches are not versions.
pub(super) fn composer_lock(text: &str, out: &mut Sink) -> Result<()> {
    let lock: Value = serde_json::from_str(text)?;
    let mut cursor = 1;
    for section in ["packages", "packages-dev"] {
        let Some(packages) = lock.get(section).and_then(Value::as_array) else {
            continue;
        };
        for package in packages {
            let (Some(name), Some(version)) = (
                package.get("name").and_then(Value::as_str),
                package.get("version").and_then(Value::as_str),
            ) else {
                continue;
            };
            let line = line_of(text, &format!("\"name\": \"{name}\""), cursor).unwrap_or(cursor);
            cursor = line;
            if version.starts_with("dev-") || version.ends_with("-dev") {
                out.skip(format!("{name} is a development branch ({version})"));
            } else {
                out.package(name, version.trim_start_matches('v'), line);
            }
        }
    }
    Ok(())
}
