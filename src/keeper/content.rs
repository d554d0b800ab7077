//! A path's state in the working tree, read and written byte for byte: a file with its
//! permission bits, a symbolic link, or nothing.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum Content {
    File {
        #[serde(skip)]
        bytes: Vec<u8>,
        mode: u32,
    },
    Symlink {
        #[serde(skip)]
        target: Vec<u8>,
    },
    Missing,
}

impl Content {
    pub(crate) fn read(path: &Path) -> io::Result<Self> {
        let metadata = match fs::symlink_metadata(path) {
            Ok(metadata) => metadata,
            // Nothing there, or a parent is no directory: nothing at this path either.
            Err(err) if matches!(err.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
                return Ok(Content::Missing);
            }
            Err(err) => return Err(err),
        };
        if metadata.file_type().is_symlink() {
            let target = fs::read_link(path)?;
            return Ok(Content::Symlink {
                target: target.as_os_str().as_bytes().to_vec(),
            });
        }
        if metadata.is_dir() {
            return Ok(Content::Missing);
        }
        Ok(Content::File {
            bytes: fs::read(path)?,
            mode: metadata.permissions().mode() & 0o7777,
        })
    }

    /// Puts this state at `path`, replacing whatever is there (never a directory with content).
    pub(crate) fn write(&self, path: &Path) -> io::Result<()> {
        let current = fs::symlink_metadata(path).ok();
        let replace_kind = match (self, &current) {
            (_, None) => false,
            (Content::File { .. }, Some(meta)) => !meta.file_type().is_file(),
            (Content::Symlink { .. } | Content::Missing, Some(_)) => true,
        };
        if replace_kind && let Some(meta) = &current {
            if meta.is_dir() {
                fs::remove_dir(path)?; // only an empty one: never remove content
            } else {
                fs::remove_file(path)?;
            }
        }
        match self {
            Content::Missing => Ok(()),
            Content::Symlink { target } => {
                create_parent(path)?;
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), path)
            }
            Content::File { bytes, mode } => {
                create_parent(path)?;
                fs::write(path, bytes)?;
                fs::set_permissions(path, fs::Permissions::from_mode(*mode))
            }
        }
    }

    /// The bytes that stand for this state in a backup.
    pub(crate) fn data(&self) -> &[u8] {
        match self {
            Content::File { bytes, .. } => bytes,
            Content::Symlink { target } => target,
            Content::Missing => &[],
        }
    }

    /// The same state with its bytes filled in from a backup.
    pub(crate) fn with_data(&self, data: Vec<u8>) -> Self {
        match self {
            Content::File { mode, .. } => Content::File {
                bytes: data,
                mode: *mode,
            },
            Content::Symlink { .. } => Content::Symlink { target: data },
            Content::Missing => Content::Missing,
        }
    }

    /// Text that a line merge can work on.
    pub(crate) fn text_bytes(&self) -> Option<&[u8]> {
        match self {
            Content::File { bytes, .. } if !bytes.contains(&0) => Some(bytes),
            _ => None,
        }
    }
}

fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => fs::create_dir_all(parent),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_links_and_absence_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/f");
        for content in [
            Content::File {
                bytes: b"a\r\n\0b".to_vec(),
                mode: 0o755,
            },
            Content::Symlink {
                target: b"../elsewhere".to_vec(),
            },
            Content::File {
                bytes: Vec::new(),
                mode: 0o644,
            },
            Content::Missing,
        ] {
            content.write(&path).unwrap();
            assert_eq!(Content::read(&path).unwrap(), content);
        }
    }
}
