//! The lines a change touched in a file.

use std::collections::HashMap;

/// Lines `first..=last` (1-based) of a file's new side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub(crate) struct LineRange {
    pub(crate) first: u32,
    pub(crate) last: u32,
}

impl LineRange {
    pub(crate) fn contains(self, line: u32) -> bool {
        (self.first..=self.last).contains(&line)
    }
}

/// Changed line ranges per repository-relative path.
pub(crate) type ChangedLines = HashMap<String, Vec<LineRange>>;
