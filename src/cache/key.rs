//! Cache keys: every input of a result, length-prefixed into one sha256, so no two
//! different input lists can give the same bytes to hash.

use std::fmt;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// A result's identity: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key(String);

impl Key {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Collects a key's inputs.
pub(crate) struct KeyBuilder {
    hasher: Sha256,
}

/// Bumped whenever what goes into a key, or a record's meaning, changes.
const VERSION: &str = "gate result cache 1";

impl KeyBuilder {
    pub(crate) fn new() -> Self {
        let mut builder = Self { hasher: Sha256::new() };
        builder.text("version", VERSION);
        builder
    }

    /// A labelled value.
    pub(crate) fn text(&mut self, label: &str, value: &str) {
        for part in [label.as_bytes(), value.as_bytes()] {
            self.hasher.update((part.len() as u64).to_le_bytes());
            self.hasher.update(part);
        }
    }

    /// A file's path and content (a link's target text, not what it points at; a missing
    /// file as missing).
    pub(crate) fn file(&mut self, root: &Path, relative: &Path) {
        let path = root.join(relative);
        let digest = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => std::fs::read_link(&path).map_or_else(
                |err| format!("unreadable:{err}"),
                |target| format!("link:{}", target.display()),
            ),
            Ok(meta) if meta.is_file() => content_digest(&path).unwrap_or_else(|err| format!("unreadable:{err}")),
            Ok(_) => "not a file".to_owned(),
            Err(_) => "missing".to_owned(),
        };
        self.text("file", &relative.to_string_lossy());
        self.text("content", &digest);
    }

    pub(crate) fn finish(self) -> Key {
        Key(hex(&self.hasher.finalize()))
    }
}

impl Default for KeyBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// The sha256 of a file's content, read in pieces (never whole into memory).
pub(crate) fn content_digest(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_change_with_any_input_and_never_by_moving_bytes_between_fields() {
        let key = |parts: &[(&str, &str)]| {
            let mut builder = KeyBuilder::new();
            for (label, value) in parts {
                builder.text(label, value);
            }
            builder.finish()
        };
        assert_eq!(key(&[("a", "b")]), key(&[("a", "b")]));
        assert_ne!(key(&[("a", "b")]), key(&[("a", "c")]));
        assert_ne!(key(&[("a", "bc")]), key(&[("ab", "c")]));
        assert_eq!(key(&[]).as_str().len(), 64);
        assert!(key(&[]).as_str().bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn file_content_is_part_of_the_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "one").unwrap();
        let of = || {
            let mut builder = KeyBuilder::new();
            builder.file(dir.path(), Path::new("a"));
            builder.finish()
        };
        let before = of();
        assert_eq!(before, of());
        std::fs::write(dir.path().join("a"), "two").unwrap();
        assert_ne!(before, of());
        // The sha256 of "two", checked against the known digest.
        assert_eq!(
            content_digest(&dir.path().join("a")).unwrap(),
            "3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3"
        );
    }
}
