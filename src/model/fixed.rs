//! A file a fixer (or a misbehaving check) rewrote, and the diff that shows it.

use std::path::{Path, PathBuf};

/// A file a fixer rewrote: repository-relative path, content before and after
/// (`None`: the file did not exist).
#[derive(Debug, Clone)]
pub(crate) struct FixedFile {
    pub(crate) path: PathBuf,
    pub(crate) before: Option<Vec<u8>>,
    pub(crate) after: Option<Vec<u8>>,
}

/// A unified diff of one fixed file, `None` for binary content.
pub(crate) fn unified_diff(file: &FixedFile) -> Option<String> {
    let empty = Vec::new();
    text_diff(
        &file.path,
        file.before.as_ref().unwrap_or(&empty),
        file.after.as_ref().unwrap_or(&empty),
    )
}

/// A unified diff that `git apply` takes (`a/` and `b/` prefixes), `None` unless both sides
/// are UTF-8 text.
pub(crate) fn text_diff(path: &Path, before: &[u8], after: &[u8]) -> Option<String> {
    if before.contains(&0) || after.contains(&0) {
        return None;
    }
    let (before, after) = (std::str::from_utf8(before).ok()?, std::str::from_utf8(after).ok()?);
    let name = path.to_string_lossy();
    Some(
        similar::TextDiff::from_lines(before, after)
            .unified_diff()
            .header(&format!("a/{name}"), &format!("b/{name}"))
            .to_string(),
    )
}
