//! The built-in configuration for a repository without `gates.toml`: gates chosen from the
//! project files at the root and the tools found on PATH, each with the reason it was chosen.

use std::path::Path;

struct Candidate {
    /// Any of these files at the root marks the ecosystem.
    markers: &'static [&'static str],
    /// The program that must be on PATH.
    program: &'static str,
    /// `[gates.*]` tables, as they would be written in `gates.toml`.
    gates: &'static str,
}

const CANDIDATES: &[Candidate] = &[
    Candidate {
        markers: &["Cargo.toml"],
        program: "cargo",
        gates: r#"
[gates.rustfmt]
kind = "format"
files = ["*.rs"]
run = ["cargo", "fmt", "--all", "--check"]
fix = ["cargo", "fmt", "--all"]

[gates.clippy]
kind = "lint"
files = ["*.rs", "Cargo.toml", "Cargo.lock"]
run = ["cargo", "clippy", "--all-targets", "--", "-D", "warnings"]
"#,
    },
    Candidate {
        markers: &["pyproject.toml", "ruff.toml", ".ruff.toml"],
        program: "ruff",
        gates: r#"
[gates.ruff-format]
kind = "format"
files = ["*.py", "*.pyi"]
run = ["ruff", "format", "--check", "{files}"]
fix = ["ruff", "format", "{files}"]

[gates.ruff]
kind = "lint"
files = ["*.py", "*.pyi"]
# `--no-fix`: a `fix = true` in pyproject must not make the check rewrite files.
run = ["ruff", "check", "--no-fix", "{files}"]
fix = ["ruff", "check", "--fix", "{files}"]
"#,
    },
    Candidate {
        markers: &["go.mod"],
        program: "go",
        gates: r#"
[gates.go-vet]
kind = "lint"
files = ["*.go", "go.mod", "go.sum"]
run = ["go", "vet", "./..."]
"#,
    },
];

/// The configuration text and, per chosen ecosystem, why it was chosen.
pub(crate) fn default_config(root: &Path) -> (String, Vec<String>) {
    let mut text = String::new();
    let mut reasons = Vec::new();
    for candidate in CANDIDATES {
        let Some(marker) = candidate.markers.iter().find(|m| root.join(m).is_file()) else {
            continue;
        };
        let names = gate_names(candidate.gates);
        if which::which(candidate.program).is_ok() {
            text.push_str(candidate.gates);
            reasons.push(format!(
                "{names}: `{marker}` found and `{}` is on PATH",
                candidate.program
            ));
        } else {
            reasons.push(format!(
                "not {names}: `{marker}` found but `{}` is not on PATH",
                candidate.program
            ));
        }
    }
    if text.is_empty() {
        reasons.clear();
    }
    (text, reasons)
}

fn gate_names(gates: &str) -> String {
    gates
        .lines()
        .filter_map(|line| line.strip_prefix("[gates.")?.strip_suffix(']'))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_candidate_is_valid_configuration() {
        let dir = tempfile::tempdir().unwrap();
        for candidate in CANDIDATES {
            let config = super::super::parse(candidate.gates, Path::new("built-in"), dir.path()).unwrap();
            assert!(!config.gates.is_empty());
        }
    }

    #[test]
    fn names_come_from_the_tables() {
        assert_eq!(gate_names(CANDIDATES[0].gates), "rustfmt, clippy");
    }
}
