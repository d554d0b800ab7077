//! What a fixer changed: its files are read before it runs and compared afterwards, so no
//! `git diff` runs after every gate, and a change is known byte for byte.

use std::path::{Path, PathBuf};

/// A file a fixer rewrote: repository-relative path, content before and after
/// (`None`: the file did not exist).
#[derive(Debug, Clone)]
pub(crate) struct FixedFile {
    pub(crate) path: PathBuf,
    pub(crate) before: Option<Vec<u8>>,
    pub(crate) after: Option<Vec<u8>>,
}

/// The content of a fixer's files before it ran.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
}

pub(crate) fn snapshot(root: &Path, paths: &[PathBuf]) -> Snapshot {
    Snapshot {
        files: paths.iter().map(|path| (path.clone(), read(root, path))).collect(),
    }
}

/// The files whose content differs from the snapshot now.
pub(crate) fn changed(root: &Path, snapshot: Snapshot) -> Vec<FixedFile> {
    snapshot
        .files
        .into_iter()
        .filter_map(|(path, before)| {
            let after = read(root, &path);
            (after != before).then_some(FixedFile { path, before, after })
        })
        .collect()
}

fn read(root: &Path, path: &Path) -> Option<Vec<u8>> {
    std::fs::read(root.join(path)).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_files_are_reported_with_a_diff() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "x=1\n").unwrap();
        std::fs::write(dir.path().join("b.py"), "y = 2\n").unwrap();
        let before = snapshot(dir.path(), &[PathBuf::from("a.py"), PathBuf::from("b.py")]);
        std::fs::write(dir.path().join("a.py"), "x = 1\n").unwrap();
        let fixed = changed(dir.path(), before);
        assert_eq!(fixed.len(), 1);
        assert_eq!(
            unified_diff(&fixed[0]).unwrap(),
            "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x=1\n+x = 1\n"
        );
    }
}
