//! A finding at a place in a file, whoever made it: a tool's output read through its
//! `problem_format`, or a built-in gate.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Error,
    Warning,
    Note,
}

/// A finding at a place in a file, parsed from a tool's output or made by a built-in gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Diagnostic {
    /// Repository-relative.
    pub(crate) file: String,
    pub(crate) line: Option<u32>,
    pub(crate) column: Option<u32>,
    /// The last line of a finding that spans several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) end_line: Option<u32>,
    pub(crate) severity: Severity,
    /// The tool's rule or error code, e.g. `F401` or `unused_variables`.
    pub(crate) code: Option<String>,
    pub(crate) message: String,
}
