//! Cache keys: every input of a result, length-prefixed into one sha256, so no two
//! different input lists can give the same bytes to hash.

use std::fmt;

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

    pub(crate) fn finish(self) -> Key {
        Key(crate::model::text::hex(&self.hasher.finalize()))
    }
}

impl Default for KeyBuilder {
    fn default() -> Self {
        Self::new()
    }
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
}
