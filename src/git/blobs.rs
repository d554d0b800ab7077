//! What the working tree holds, as git blob ids: the index's own id where its stat data
//! vouches for a file (no read), the hashed content otherwise.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid};
use rayon::prelude::*;

use super::stat::{self, Root};

/// What the working tree holds at an index entry's path.
#[derive(Debug, PartialEq, Eq)]
enum Blob {
    /// The entry's stat data vouches for it: the content is the entry's blob.
    Vouched,
    /// Read and hashed (`None`: not there, or not the entry's kind of file).
    Hashed(Option<Oid>),
    /// Not read: its size is not the entry's, so neither are its bytes (asked only whether
    /// the file is the entry's).
    Differs,
}

fn worktree_blob(
    index: &gix_index::File,
    entry: &gix_index::Entry,
    tree: &Root,
    root: &Path,
    path: &Path,
    id_needed: bool,
) -> Blob {
    use rustix::fs::FileType;
    let options = gix_index::entry::stat::Options::default();
    let Ok(stat) = tree.lstat(path) else {
        return Blob::Hashed(None);
    };
    let kind = stat::file_type(&stat);
    if kind == FileType::Directory {
        return Blob::Hashed(None); // a directory where a file is staged: the caller decides
    }
    let kind_matches = match entry.mode {
        gix_index::entry::Mode::SYMLINK => kind == FileType::Symlink,
        gix_index::entry::Mode::FILE_EXECUTABLE => stat::is_executable(&stat),
        _ => kind == FileType::RegularFile && !stat::is_executable(&stat),
    };
    if !kind_matches {
        return Blob::Hashed(None);
    }
    let now = stat::index_stat(&stat);
    if entry.stat.matches(&now, options) && !entry.stat.is_racy(index.timestamp(), options) {
        return Blob::Vouched;
    }
    // As git: a recorded size of 0 may be a racily clean entry git smudged, so only a
    // non-zero one that differs proves the bytes differ (sizes are kept modulo 2^32).
    if !id_needed && entry.stat.size != 0 && entry.stat.size != now.size {
        return Blob::Differs;
    }
    Blob::Hashed(hash_file(&root.join(path), kind == FileType::Symlink))
}

/// Whether the working tree holds the entry's blob (and kind of file).
pub(super) fn same_as_entry(
    index: &gix_index::File,
    entry: &gix_index::Entry,
    tree: &Root,
    root: &Path,
    path: &Path,
) -> bool {
    match worktree_blob(index, entry, tree, root, path, false) {
        Blob::Vouched => true,
        Blob::Hashed(oid) => oid.is_some_and(|oid| oid.as_bytes() == entry.id.as_slice()),
        Blob::Differs => false,
    }
}

/// The git blob id of a file's content (a link's target text).
fn hash_file(full: &Path, symlink: bool) -> Option<Oid> {
    let bytes = if symlink {
        std::fs::read_link(full).map(|target| target.as_os_str().as_bytes().to_vec())
    } else {
        std::fs::read(full)
    };
    Oid::hash_object(ObjectType::Blob, &bytes.ok()?).ok()
}

/// The git blob id of each path's working-tree content, hex: the index's own id where its
/// stat data vouches for the file (no read), or without looking when `trusted` (the caller
/// made the working tree equal to the index), the hashed content otherwise; `missing` for
/// a path with nothing there. Paths in parallel.
pub(crate) fn blob_ids(index: Option<&gix_index::File>, root: &Path, paths: &[PathBuf], trusted: bool) -> Vec<String> {
    use gix_index::entry::Flags;
    let tree = Root::open(root).ok();
    paths
        .par_iter()
        .map(|path| {
            let entry = index.and_then(|index| {
                let bytes = path.as_os_str().as_bytes();
                index.entry_by_path(bytes.into()).map(|entry| (index, entry))
            });
            if let Some((_, entry)) = entry
                && trusted
                && entry.stage_raw() == 0
                && !entry.flags.intersects(Flags::INTENT_TO_ADD | Flags::SKIP_WORKTREE)
            {
                return entry.id.to_string();
            }
            let full = root.join(path);
            let blob = |(index, entry)| {
                tree.as_ref()
                    .map(|tree| (entry, worktree_blob(index, entry, tree, root, path, true)))
            };
            let oid = match entry.and_then(blob) {
                Some((entry, Blob::Vouched)) => return entry.id.to_string(),
                Some((_, Blob::Hashed(Some(oid)))) => Some(oid),
                _ => std::fs::symlink_metadata(&full)
                    .ok()
                    .filter(|m| !m.is_dir())
                    .and_then(|m| hash_file(&full, m.is_symlink())),
            };
            oid.map_or_else(|| "missing".to_owned(), |oid| oid.to_string())
        })
        .collect()
}
