//! Finding, reading and checking `gates.toml`.
//!
//! - `raw`: the serde mirror of the file, with spans.
//! - `resolve`: turns it into a checked [`Config`] (globs compiled, commands split,
//!   `depends_on` resolved and free of cycles).
//! - `specs`: the settings of built-in gates and of reading tools' output.
//! - `presets`: well-known tools as whole gates (`preset = "ruff-check"`).
//! - `programs`: where a gate's program is (project tool folders, then PATH).
//! - `detect`: the built-in configuration used when a repository has no `gates.toml`.

pub(crate) mod detect;
pub(crate) mod presets;
pub(crate) mod programs;
mod raw;
mod resolve;
mod specs;

use std::fmt;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Context;

pub(crate) use raw::{OnFix, OneOrMany, Pattern, RemoteWrite};
pub(crate) use resolve::{Action, CacheSettings, Config, FILES, Gate, Program, Settings};
pub(crate) use specs::{AuditSpec, CoverageSpec, HygieneCheck, HygieneSpec, ProblemFormat, SecretsSpec, default_db};

use crate::model::Problem;
use crate::printer::Printer;

pub(crate) const FILE_NAME: &str = "gates.toml";

/// A configuration error that points at a place in the file.
#[derive(Debug, thiserror::Error)]
pub(crate) struct Error {
    pub(crate) path: PathBuf,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) source_line: String,
    pub(crate) width: usize,
}

impl Error {
    pub(crate) fn at(path: &Path, source: &str, span: Option<Range<usize>>, problem: impl Into<Problem>) -> Self {
        let Problem { message, hint } = problem.into();
        let span = span.unwrap_or(0..0);
        let start = span.start.min(source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i);
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let width = source[start..span.end.clamp(start, line_end)].chars().count().max(1);
        Self {
            path: path.to_owned(),
            line,
            column,
            message,
            hint,
            source_line: source[line_start..line_end].trim_end_matches('\r').to_owned(),
            width,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )?;
        let gutter = self.line.to_string().len();
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{} | {}", self.line, self.source_line)?;
        write!(
            f,
            "{:gutter$} | {:pad$}{}",
            "",
            "",
            "^".repeat(self.width),
            pad = self.column - 1
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

/// Where the configuration came from, for messages and reports.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    File(PathBuf),
    Detected,
}

/// Every lockfile name pattern as one set (the secrets gate skips their integrity hashes).
pub(crate) fn lockfile_set() -> globset::GlobSet {
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in specs::lockfile_patterns() {
        builder.add(pattern.glob);
    }
    builder.build().unwrap_or_else(|_| globset::GlobSet::empty())
}

/// Reads the configuration: `explicit` if given, else `gates.toml` at `root`, else the
/// gates detected from what the repository tracks (`tracked` lists it, asked only then).
pub(crate) fn load(
    root: &Path,
    explicit: Option<&Path>,
    printer: Printer,
    tracked: &dyn Fn() -> anyhow::Result<Vec<String>>,
) -> anyhow::Result<(Config, Origin)> {
    match load_if_present(root, explicit)? {
        Some(loaded) => Ok(loaded),
        None => detected(root, &tracked()?, printer),
    }
}

/// The configuration when there is a file to read (`explicit`, or `gates.toml` at `root`),
/// for commands that work without one; a file that is there but broken is an error.
pub(crate) fn load_if_present(root: &Path, explicit: Option<&Path>) -> anyhow::Result<Option<(Config, Origin)>> {
    let path = explicit.map_or_else(|| root.join(FILE_NAME), Path::to_owned);
    if explicit.is_none() && !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("failed to read `{}`", path.display()))?;
    from_text(root, &text, path).map(Some)
}

/// Reads configuration text that came from `path` (or from git's copy of it).
pub(crate) fn from_text(root: &Path, text: &str, path: PathBuf) -> anyhow::Result<(Config, Origin)> {
    // Errors name the file as the user would type it from here.
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_owned))
        .unwrap_or_else(|| path.clone());
    let config = parse(text, &shown, root)?;
    Ok((config, Origin::File(path)))
}

/// The gates derived from what the repository contains, when it has no `gates.toml`.
pub(crate) fn detected(root: &Path, tracked: &[String], printer: Printer) -> anyhow::Result<(Config, Origin)> {
    let found = detect::detect(root, tracked, detect::Audit::WhenDatabaseExists);
    if found.chosen.is_empty() {
        if let Some(problem) = detect::not_tracked_yet(root) {
            return Err(problem.into());
        }
        let mut hint = String::from("write a `gates.toml` (`gate init`, or see `gates.toml.example`)");
        for skipped in &found.skipped {
            let _ = write!(hint, "\n  {skipped}");
        }
        return Err(Problem::hinted(
            format!(
                "no `{FILE_NAME}` in `{}`, and no project here with a tool gate can run",
                root.display()
            ),
            hint,
        )
        .into());
    }
    printer.note(format_args!(
        "no `{FILE_NAME}` found; using built-in gates (`gate init` writes them to a file):"
    ));
    for reason in &found.chosen {
        printer.note(format_args!("  {reason}"));
    }
    for skipped in &found.skipped {
        printer.note(format_args!("  {skipped}"));
    }
    let config = parse(&found.text, Path::new("<built-in gates>"), root)?;
    Ok((config, Origin::Detected))
}

/// Parses and checks configuration text; `path` names it in errors.
pub(crate) fn parse(text: &str, path: &Path, root: &Path) -> Result<Config, Error> {
    let raw: raw::RawConfig =
        toml::from_str(text).map_err(|err| Error::at(path, text, err.span(), err.message().trim_end()))?;
    resolve::resolve(raw, root).map_err(|(span, message)| Error::at(path, text, Some(span), message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_documents_valid_configuration() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("services/api")).unwrap();
        let text = include_str!("../../gates.toml.example");
        let config = parse(text, Path::new("gates.toml.example"), dir.path()).unwrap();
        assert_eq!(config.gates.len(), 9);
    }

    #[test]
    fn errors_point_at_line_and_column_with_a_caret() {
        let text = "[gates.a]\nkind = \"lint\"\nrun = [\"x\"]\ndepends_on = [\"zz\"]\n";
        let err = parse(text, Path::new("gates.toml"), Path::new("/")).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with("gates.toml:4:15: gate `a` depends on `zz`, which is not a gate\n"),
            "{shown}"
        );
        assert!(
            shown.contains("4 | depends_on = [\"zz\"]\n  |               ^^^^\nhint: the gates are `a`"),
            "{shown}"
        );
    }

    /// The line gate shows for a span is the toml crate's own, compared on syntax errors at
    /// many places, with multi-byte characters and CRLF line ends. The column differs on
    /// purpose: toml counts bytes, gate counts characters, as editors and rustc do, so the
    /// caret sits under the character.
    #[test]
    fn line_and_column_agree_with_the_toml_crate() {
        let texts = [
            "a = \n",
            "[gates.x]\nkind = \"lint\"\nrun = [\"x\",\n",
            "# é ü\nname = \"é\" é\n",
            "[gates.x]\r\nkind = = 1\r\n",
            "[a]\n[a]\n",
            "x = 1\ny = [1, 2\nz = 3\n",
            "\"é\" = 1\n\"é\" = 2\n",
            "k = \"unterminated\n",
        ];
        for text in texts {
            let err = toml::from_str::<toml::Table>(text).unwrap_err();
            let theirs = err.to_string();
            let ours = Error::at(Path::new("gates.toml"), text, err.span(), "x");
            let start = err.span().unwrap().start;
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            assert_eq!(ours.column, text[line_start..start].chars().count() + 1);
            let expected = format!("at line {}, column {}", ours.line, start - line_start + 1);
            assert!(
                theirs.contains(&expected),
                "{text:?}: toml says {theirs:?}, gate says {expected}"
            );
        }
    }
}
