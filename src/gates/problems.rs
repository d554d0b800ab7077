//! Diagnostics from a tool's output (`problem_format`): GNU-style lines, the JSON that
//! rustc/cargo (`--message-format=json`) and ruff (`--output-format=json` or `json-lines`)
//! print, or a user's regex with named groups. Paths become repository-relative.

use std::path::Path;

use regex::Regex;
use serde_json::Value;

use crate::config::ProblemFormat;
use crate::model::text::strip_ansi;
use crate::model::{Diagnostic, Severity};

/// What follows `FILE:` in a GNU line: `LINE[:COL]: [severity[code]:] message`.
fn gnu_rest() -> &'static Regex {
    static GNU: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    GNU.get_or_init(|| {
        Regex::new(
            r"^(?P<line>\d+)(?::(?P<col>\d+))?:\s*(?:(?P<severity>error|warning|note|info|notice)(?:\[(?P<code>[^\]]+)\])?\s*:\s*)?(?P<message>\S.*?)\s*$",
        )
        .unwrap_or_else(|_| unreachable_regex())
    })
}

/// GNU lines: `FILE:LINE[:COL]: message`. A file name may itself hold `:` and digits
/// (`c:1:2.txt:1:2: error`), so of the places the line could split, the longest prefix
/// that names a real file wins; with none, the first.
fn by_gnu(output: &str, places: &Places<'_>) -> Vec<Diagnostic> {
    output
        .lines()
        .filter_map(|line| {
            let splits: Vec<(usize, regex::Captures<'_>)> = line
                .match_indices(':')
                .filter(|&(at, _)| at > 0 && !line[..at].starts_with(char::is_whitespace))
                .filter_map(|(at, _)| gnu_rest().captures(&line[at + 1..]).map(|caps| (at, caps)))
                .collect();
            let (at, caps) = splits
                .iter()
                .rev()
                .find(|(at, _)| places.is_file(&line[..*at]))
                .or_else(|| splits.first())?;
            from_captures(places.relative(&line[..*at]), caps)
        })
        .collect()
}

/// A diagnostic from the named groups `line`, `col`, `severity`, `code` and `message`.
fn from_captures(file: String, caps: &regex::Captures<'_>) -> Option<Diagnostic> {
    let number = |name| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    Some(Diagnostic {
        file,
        line: number("line"),
        column: number("col"),
        end_line: None,
        severity: severity(caps.name("severity").map(|m| m.as_str())),
        code: caps.name("code").map(|m| m.as_str().to_owned()),
        message: caps.name("message").or_else(|| caps.get(0))?.as_str().trim().to_owned(),
    })
}

/// A regex that matches nothing, in place of one that cannot fail to compile.
fn unreachable_regex() -> Regex {
    Regex::new(r"[^\s\S]").unwrap_or_else(|_| unreachable_regex())
}

/// Where a tool ran and where the repository is, to make its paths repository-relative.
pub(crate) struct Places<'a> {
    pub(crate) root: &'a Path,
    /// The gate's working directory, relative to the root.
    pub(crate) workdir: &'a Path,
}

impl Places<'_> {
    /// Whether a tool's path names a file (relative to where it ran, or absolute).
    fn is_file(&self, file: &str) -> bool {
        let path = Path::new(file.trim());
        if path.is_absolute() {
            path.is_file()
        } else {
            self.root.join(self.workdir).join(path).is_file()
        }
    }

    /// A tool's path (absolute, or relative to where it ran) as a repository-relative path.
    fn relative(&self, file: &str) -> String {
        let path = Path::new(file.trim());
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(self.workdir).join(path)
        };
        let normal = crate::git::normalize(&absolute);
        match normal.strip_prefix(self.root) {
            Ok(relative) => relative.to_string_lossy().into_owned(),
            Err(_) => file.trim().to_owned(),
        }
    }
}

/// The diagnostics in `output`.
/// The diagnostics in `output`, each once (cargo reports a warning for the library and
/// again for its tests).
pub(crate) fn parse(format: &ProblemFormat, output: &str, places: &Places<'_>) -> Vec<Diagnostic> {
    let output = strip_ansi(output);
    let mut found = match format {
        ProblemFormat::Gnu => by_gnu(&output, places),
        ProblemFormat::Regex(regex) => by_regex(regex, &output, places),
        ProblemFormat::JsonLines => by_json(&output, places),
    };
    let mut seen = std::collections::HashSet::new();
    found.retain(|d| seen.insert((d.file.clone(), d.line, d.column, d.code.clone(), d.message.clone())));
    found
}

fn severity(text: Option<&str>) -> Severity {
    match text.map(str::to_ascii_lowercase).as_deref() {
        // Words, and the marks tools put before a line instead (biome's `!`, `×`, `i`).
        Some("warning" | "warn" | "!") => Severity::Warning,
        Some("note" | "info" | "information" | "notice" | "help" | "style" | "i") => Severity::Note,
        _ => Severity::Error,
    }
}

fn by_regex(regex: &Regex, output: &str, places: &Places<'_>) -> Vec<Diagnostic> {
    regex
        .captures_iter(output)
        .filter_map(|caps| from_captures(places.relative(caps.name("file")?.as_str()), &caps))
        .collect()
}

fn by_json(output: &str, places: &Places<'_>) -> Vec<Diagnostic> {
    let trimmed = output.trim_start();
    let values: Vec<Value> = if trimmed.starts_with('[') {
        serde_json::from_str::<Vec<Value>>(trimmed).unwrap_or_default()
    } else {
        output
            .lines()
            .filter_map(|line| serde_json::from_str(line.trim()).ok())
            .collect()
    };
    values
        .iter()
        .flat_map(
            |value| match from_rustc(value, places).or_else(|| from_ruff(value, places)) {
                Some(found) => vec![found],
                None => from_eslint(value, places),
            },
        )
        .collect()
}

/// eslint's `--format json`: per file `{"filePath", "messages": [{"ruleId", "severity"
/// (1 warning, 2 error), "message", "line", "column", "endLine"}]}`.
fn from_eslint(value: &Value, places: &Places<'_>) -> Vec<Diagnostic> {
    let (Some(file), Some(messages)) = (
        value.get("filePath").and_then(Value::as_str),
        value.get("messages").and_then(Value::as_array),
    ) else {
        return Vec::new();
    };
    let file = places.relative(file);
    messages
        .iter()
        .filter_map(|message| {
            let number = |key| {
                message
                    .get(key)
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
            };
            let line = number("line");
            Some(Diagnostic {
                file: file.clone(),
                line,
                column: number("column"),
                end_line: number("endLine").filter(|&end| Some(end) != line),
                severity: if message.get("severity").and_then(Value::as_u64) == Some(2) {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                code: message.get("ruleId").and_then(Value::as_str).map(str::to_owned),
                message: message.get("message")?.as_str()?.to_owned(),
            })
        })
        .collect()
}

/// cargo's `{"reason":"compiler-message","message":{…}}` or rustc's bare message.
fn from_rustc(value: &Value, places: &Places<'_>) -> Option<Diagnostic> {
    let message = if value.get("reason").and_then(Value::as_str) == Some("compiler-message") {
        value.get("message")?
    } else {
        value
    };
    let level = message.get("level")?.as_str()?;
    if level.starts_with("failure") || level == "error: internal compiler error" {
        return None;
    }
    let spans = message.get("spans")?.as_array()?;
    let span = spans
        .iter()
        .find(|s| s.get("is_primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| spans.first())?;
    let number = |key| span.get(key).and_then(Value::as_u64).map(|n| n as u32);
    // Paths in cargo's messages are relative to the workspace root, where cargo ran.
    Some(Diagnostic {
        file: places.relative(span.get("file_name")?.as_str()?),
        line: number("line_start"),
        column: number("column_start"),
        end_line: number("line_end").filter(|&end| Some(end) != number("line_start")),
        severity: severity(Some(level)),
        code: message
            .get("code")
            .and_then(|c| c.get("code"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        message: message.get("message")?.as_str()?.to_owned(),
    })
}

/// ruff's `{"code","filename","location":{"row","column"},"message"}`.
fn from_ruff(value: &Value, places: &Places<'_>) -> Option<Diagnostic> {
    let location = value.get("location")?;
    let number = |key| location.get(key).and_then(Value::as_u64).map(|n| n as u32);
    Some(Diagnostic {
        file: places.relative(value.get("filename")?.as_str()?),
        line: number("row"),
        column: number("column"),
        end_line: None,
        severity: Severity::Error,
        code: value.get("code").and_then(Value::as_str).map(str::to_owned),
        message: value.get("message")?.as_str()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Places<'static> {
        Places {
            root: Path::new("/repo"),
            workdir: Path::new("services/api"),
        }
    }

    #[test]
    fn gnu_lines_with_and_without_column_and_severity() {
        let output = "\u{1b}[1mapp/main.py\u{1b}[0m:12:5: error[E501]: line too long\nlib.c:3: missing semicolon\n/repo/other/x.py:1:1: warning: unused\nnot a diagnostic\n";
        let found = parse(&ProblemFormat::Gnu, output, &places());
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].file, "services/api/app/main.py");
        assert_eq!((found[0].line, found[0].column), (Some(12), Some(5)));
        assert_eq!(found[0].code.as_deref(), Some("E501"));
        assert_eq!(found[0].message, "line too long");
        assert_eq!(found[1].file, "services/api/lib.c");
        assert_eq!(
            (found[1].line, found[1].column, found[1].severity),
            (Some(3), None, Severity::Error)
        );
        assert_eq!(found[2].file, "other/x.py");
        assert_eq!(found[2].severity, Severity::Warning);
    }

    #[test]
    fn gnu_file_names_holding_colons_and_digits_prefer_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c:1:2.txt"), "x\n").unwrap();
        std::fs::write(dir.path().join("a,b:c.py"), "x\n").unwrap();
        let places = Places {
            root: dir.path(),
            workdir: Path::new(""),
        };
        let found = parse(
            &ProblemFormat::Gnu,
            "c:1:2.txt:1:2: error: bad\na,b:c.py:3: warning: odd\nnofile:7: guessed\n",
            &places,
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(
            (found[0].file.as_str(), found[0].line, found[0].column),
            ("c:1:2.txt", Some(1), Some(2))
        );
        assert_eq!((found[1].file.as_str(), found[1].line), ("a,b:c.py", Some(3)));
        assert_eq!((found[2].file.as_str(), found[2].line), ("nofile", Some(7)));
    }

    #[test]
    fn cargo_and_ruff_json() {
        let cargo = r#"{"reason":"compiler-artifact","target":{}}
{"reason":"compiler-message","message":{"message":"unused variable: `x`","code":{"code":"unused_variables"},"level":"warning","spans":[{"file_name":"src/main.rs","line_start":2,"column_start":9,"is_primary":true}]}}
{"reason":"build-finished","success":true}"#;
        let found = parse(&ProblemFormat::JsonLines, cargo, &places());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].file, "services/api/src/main.rs");
        assert_eq!(found[0].code.as_deref(), Some("unused_variables"));
        assert_eq!(found[0].severity, Severity::Warning);

        let ruff = r#"[{"code":"F401","filename":"/repo/services/api/app.py","location":{"row":1,"column":8},"message":"`os` imported but unused"}]"#;
        let found = parse(&ProblemFormat::JsonLines, ruff, &places());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].file, "services/api/app.py");
        assert_eq!((found[0].line, found[0].column), (Some(1), Some(8)));
        assert_eq!(found[0].code.as_deref(), Some("F401"));
    }

    #[test]
    fn a_user_regex_needs_file_and_message() {
        let format = ProblemFormat::parse(r"^(?P<file>\S+) line (?P<line>\d+): (?P<message>.+)$").unwrap();
        let found = parse(&format, "a.sh line 4: oops\n", &places());
        assert_eq!(found[0].file, "services/api/a.sh");
        assert_eq!(found[0].line, Some(4));
        let err = ProblemFormat::parse(r"(?P<line>\d+)").unwrap_err();
        assert!(err.message.contains("no named group `file`"), "{err}");
        assert!(
            ProblemFormat::parse("(unclosed")
                .unwrap_err()
                .message
                .contains("valid regex")
        );
    }
}
