//! The staged change set the way `git diff --cached` finds it, fast enough for a
//! pre-commit hook on a large repository: the index is read without re-hashing it (git
//! itself skips that check), and HEAD's tree is compared with the index through the
//! index's cache-tree, so only the trees of directories holding staged changes are read.
//!
//! libgit2 verifies the index checksum with collision-detecting SHA-1 and reads every tree
//! of HEAD; on 20,000 files that is several times what git needs. Anything this path does
//! not handle (sparse or unreadable index, possible renames) returns `None`, and the
//! caller falls back to libgit2's diff.

use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, Tree};
use gix_index::extension;
use rayon::prelude::*;

use super::blobs::same_as_entry;
use super::changes::{ChangedFile, FileStatus};
use super::path_from_bytes;

/// One index entry, reduced to what a tree comparison needs.
struct Entry<'a> {
    path: &'a [u8],
    id: Oid,
    mode: u32,
    conflicted: bool,
}

/// Reads an index the way git does: without re-hashing it. `None` when gix cannot read it
/// (then libgit2 does the work).
pub(super) fn read_index(path: &Path) -> Option<gix_index::File> {
    gix_index::File::at(path, gix_hash::Kind::Sha1, true, gix_index::decode::Options::default()).ok()
}

/// The staged files, or `None` when the caller should use libgit2 instead.
pub(super) fn staged(repo: &Repository, index: &gix_index::File, head: Option<&Tree<'_>>) -> Option<Vec<ChangedFile>> {
    let mut entries = Vec::with_capacity(index.entries().len());
    for entry in index.entries() {
        if entry.mode.is_sparse() {
            return None;
        }
        if entry.flags.contains(gix_index::entry::Flags::INTENT_TO_ADD) || entry.mode.is_submodule() {
            continue; // not staged content (git add -N), or another repository's business
        }
        let path: &[u8] = entry.path(index);
        if entries.last().is_some_and(|last: &Entry<'_>| last.path == path) {
            // The stages of a conflict: one file.
            if let Some(last) = entries.last_mut() {
                last.conflicted = true;
            }
            continue;
        }
        entries.push(Entry {
            path,
            id: Oid::from_bytes(entry.id.as_slice()).ok()?,
            mode: entry.mode.bits(),
            conflicted: entry.stage_raw() != 0,
        });
    }
    let mut walk = Walk {
        repo,
        changes: Vec::new(),
    };
    walk.directory(head, index.tree(), b"", &entries).ok()?;
    let has = |status| walk.changes.iter().any(|c: &ChangedFile| c.status == status);
    if has(FileStatus::Added) && has(FileStatus::Deleted) {
        return None; // renames: libgit2's similarity detection decides
    }
    Some(walk.changes)
}

/// An entry git keeps in the working tree: no conflict stage, submodule, sparse directory
/// or entry outside a sparse checkout.
pub(crate) fn in_worktree(entry: &gix_index::Entry) -> bool {
    entry.stage_raw() == 0
        && !entry.mode.is_submodule()
        && !entry.mode.is_sparse()
        && !entry.flags.contains(gix_index::entry::Flags::SKIP_WORKTREE)
}

/// [`in_worktree`], and its blob is the content (not intent-to-add, whose blob is empty).
pub(crate) fn holds_blob(entry: &gix_index::Entry) -> bool {
    in_worktree(entry) && !entry.flags.contains(gix_index::entry::Flags::INTENT_TO_ADD)
}

/// Tracked paths whose working tree differs from the index: edited, deleted, or of another
/// type. Stat data that matches what the index recorded (and is not too recent to trust)
/// proves a file clean, as in git; otherwise the raw bytes are hashed and compared with the
/// staged blob. Content filters (`core.autocrlf`) are not applied: a file they would call
/// clean may be reported, which only costs a needless (and lossless) set-aside. Entries
/// git does not keep on disk (intent-to-add, skip-worktree, submodules, conflicts) are left
/// out.
pub(crate) fn unstaged(index: &gix_index::File, root: &Path) -> Vec<PathBuf> {
    // Thousands of `lstat`s: spread over the cores, as git's preload-index does. A root
    // that cannot be opened leaves every file to be set aside (which then says why not).
    let tree = super::stat::Root::open(root).ok();
    let path_of = |entry: &gix_index::Entry| Path::new(std::ffi::OsStr::from_bytes(entry.path(index)));
    // A file beyond a directory that is now a link is not there (git's view): never read.
    let linked = tree.as_ref().map_or_else(HashSet::new, |tree| {
        super::stat::linked_directories(tree, index.entries().iter().filter(|e| holds_blob(e)).map(path_of))
    });
    index
        .entries()
        .par_iter()
        .filter(|e| holds_blob(e))
        .filter_map(|entry| {
            let path = path_of(entry);
            let same = !super::stat::beyond_a_link(&linked, path)
                && tree
                    .as_ref()
                    .is_some_and(|tree| same_as_entry(index, entry, tree, root, path));
            (!same).then(|| path.to_path_buf())
        })
        .collect()
}

struct Walk<'r> {
    repo: &'r Repository,
    changes: Vec<ChangedFile>,
}

/// What sorts a tree entry or an index group: a name, with `/` after a directory's, as
/// git orders tree entries (and so as full index paths order).
fn key(name: &[u8], is_dir: bool) -> Vec<u8> {
    let mut key = name.to_vec();
    if is_dir {
        key.push(b'/');
    }
    key
}

impl Walk<'_> {
    /// Compares one directory of HEAD (`tree`) with the index entries under `prefix`.
    fn directory(
        &mut self,
        tree: Option<&Tree<'_>>,
        cache: Option<&extension::Tree>,
        prefix: &[u8],
        entries: &[Entry<'_>],
    ) -> Result<(), git2::Error> {
        if let (Some(tree), Some(cache)) = (tree, cache)
            && cache.num_entries.is_some()
            && cache.id.as_slice() == tree.id().as_bytes()
        {
            return Ok(()); // the cache-tree vouches that nothing below changed
        }
        let mut tree_entries = tree
            .map(|t| t.iter().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .peekable();
        let mut groups = Groups { entries, prefix, at: 0 }.peekable();
        loop {
            let tree_key = tree_entries
                .peek()
                .map(|e| key(e.name_bytes(), e.kind() == Some(ObjectType::Tree)));
            let group_key = groups.peek().map(|g| key(g.name, g.is_dir));
            let order = match (&tree_key, &group_key) {
                (None, None) => return Ok(()),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(t), Some(g)) => t.cmp(g),
            };
            match order {
                std::cmp::Ordering::Less => {
                    let Some(old) = tree_entries.next() else { return Ok(()) };
                    self.removed(prefix, &old)?;
                }
                std::cmp::Ordering::Greater => {
                    let Some(group) = groups.next() else { return Ok(()) };
                    for entry in group.entries {
                        self.push(entry.path, FileStatus::Added, entry.mode);
                    }
                }
                std::cmp::Ordering::Equal => {
                    let (Some(old), Some(group)) = (tree_entries.next(), groups.next()) else {
                        return Ok(());
                    };
                    if group.is_dir {
                        let sub_cache =
                            cache.and_then(|c| c.children.iter().find(|child| child.name.as_slice() == group.name));
                        if sub_cache.is_some_and(|c| c.num_entries.is_some() && c.id.as_slice() == old.id().as_bytes())
                        {
                            continue; // vouched for by the cache-tree: the subtree is not even read
                        }
                        let subtree = self.repo.find_tree(old.id())?;
                        let mut sub_prefix = prefix.to_vec();
                        sub_prefix.extend_from_slice(group.name);
                        sub_prefix.push(b'/');
                        self.directory(Some(&subtree), sub_cache, &sub_prefix, group.entries)?;
                    } else if let [entry] = group.entries {
                        let same = entry.id == old.id() && entry.mode == old.filemode() as u32;
                        if entry.conflicted || !same {
                            self.push(entry.path, FileStatus::Modified, entry.mode);
                        }
                    }
                }
            }
        }
    }

    /// A HEAD entry the index no longer has: its file, or every file below it, is deleted.
    fn removed(&mut self, prefix: &[u8], old: &git2::TreeEntry<'_>) -> Result<(), git2::Error> {
        let mut path = prefix.to_vec();
        path.extend_from_slice(old.name_bytes());
        match old.kind() {
            Some(ObjectType::Blob) => self.push(&path, FileStatus::Deleted, old.filemode() as u32),
            Some(ObjectType::Tree) => {
                let tree = self.repo.find_tree(old.id())?;
                path.push(b'/');
                let mut files = Vec::new();
                tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                    if entry.kind() == Some(ObjectType::Blob) {
                        let mut file = path.clone();
                        file.extend_from_slice(dir.as_bytes());
                        file.extend_from_slice(entry.name_bytes());
                        files.push((file, entry.filemode() as u32));
                    }
                    git2::TreeWalkResult::Ok
                })?;
                for (file, mode) in files {
                    self.push(&file, FileStatus::Deleted, mode);
                }
            }
            _ => {} // submodules
        }
        Ok(())
    }

    fn push(&mut self, path: &[u8], status: FileStatus, mode: u32) {
        self.changes.push(ChangedFile {
            path: path_from_bytes(path),
            status,
            from: None,
            link: mode == super::changes::LINK_MODE,
        });
    }
}

/// Index entries under one directory, grouped by their first path component below it.
struct Groups<'e, 'a> {
    entries: &'e [Entry<'a>],
    prefix: &'e [u8],
    at: usize,
}

struct Group<'e, 'a> {
    name: &'a [u8],
    is_dir: bool,
    entries: &'e [Entry<'a>],
}

impl<'e, 'a> Iterator for Groups<'e, 'a> {
    type Item = Group<'e, 'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let first = self.entries.get(self.at)?;
        let rest: &'a [u8] = &first.path[self.prefix.len()..];
        let Some(slash) = rest.iter().position(|&b| b == b'/') else {
            self.at += 1;
            return Some(Group {
                name: rest,
                is_dir: false,
                entries: &self.entries[self.at - 1..self.at],
            });
        };
        let name = &rest[..slash];
        // Sorted paths keep everything below `name/` together.
        let dir_len = self.prefix.len() + slash + 1;
        let start = self.at;
        let end = start
            + self.entries[start..]
                .iter()
                .take_while(|e| e.path.len() > dir_len && e.path[..dir_len] == first.path[..dir_len])
                .count();
        self.at = end;
        Some(Group {
            name,
            is_dir: true,
            entries: &self.entries[start..end],
        })
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    struct Scratch {
        dir: tempfile::TempDir,
    }

    impl Scratch {
        fn new() -> Self {
            let scratch = Self {
                dir: tempfile::tempdir().unwrap(),
            };
            crate::git::init_in(scratch.dir.path());
            scratch
        }

        fn git(&self, args: &[&str]) {
            let status = Command::new("git")
                .args(args)
                .current_dir(self.dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        }

        fn write(&self, path: &str, content: &str) {
            let path = self.dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }

        fn remove(&self, path: &str) {
            let path = self.dir.path().join(path);
            if path.is_dir() {
                std::fs::remove_dir_all(path).unwrap();
            } else {
                std::fs::remove_file(path).unwrap();
            }
        }

        fn hash_object(&self, path: &str) -> String {
            let out = Command::new("git")
                .args(["hash-object", "--no-filters", path])
                .current_dir(self.dir.path())
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        }

        /// (fast path result, libgit2 result), each as sorted `status path` lines.
        fn both(&self) -> (Option<Vec<String>>, Vec<String>) {
            let repo = Repository::open(self.dir.path()).unwrap();
            let tree = repo.head().ok().map(|h| h.peel_to_tree().unwrap());
            let lines = |files: Vec<ChangedFile>| {
                let mut lines: Vec<String> = files
                    .iter()
                    .map(|f| {
                        format!(
                            "{:?} {}{}",
                            f.status,
                            f.path.display(),
                            if f.link { " (link)" } else { "" }
                        )
                    })
                    .collect();
                lines.sort();
                lines
            };
            let index = read_index(&repo.path().join("index")).unwrap();
            let fast = staged(&repo, &index, tree.as_ref()).map(lines);
            let mut options = git2::DiffOptions::new();
            options.ignore_submodules(true).include_typechange(true);
            let index = repo.index().unwrap();
            let diff = repo
                .diff_tree_to_index(tree.as_ref(), Some(&index), Some(&mut options))
                .unwrap();
            let slow = diff
                .deltas()
                .map(|d| {
                    let status = match d.status() {
                        git2::Delta::Added => "Added",
                        git2::Delta::Deleted => "Deleted",
                        _ => "Modified",
                    };
                    let file = if d.status() == git2::Delta::Deleted {
                        d.old_file()
                    } else {
                        d.new_file()
                    };
                    let link = if file.mode() == git2::FileMode::Link {
                        " (link)"
                    } else {
                        ""
                    };
                    format!("{status} {}{link}", file.path().unwrap().display())
                })
                .collect::<Vec<_>>();
            let mut slow: Vec<String> = slow.into_iter().filter(|line| line != "Added ita.txt").collect();
            slow.sort();
            (fast, slow)
        }
    }

    fn populated() -> Scratch {
        let repo = Scratch::new();
        for path in [
            "a.txt",
            "dir/b.txt",
            "dir/sub/c.txt",
            "dir.x",
            "dir-x/f",
            "dir0/f",
            "x/y/z.txt",
            "exec.sh",
            "keep/k1",
            "keep/deep/k2",
        ] {
            repo.write(path, path);
        }
        for i in 0..50 {
            repo.write(&format!("many/m{i:02}/file"), "x");
        }
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "init"]);
        repo
    }

    #[test]
    fn nothing_staged_reads_no_tree_and_finds_nothing() {
        let repo = populated();
        assert_eq!(repo.both(), (Some(Vec::new()), Vec::new()));
    }

    #[test]
    fn modifications_additions_and_mode_changes_match_libgit2() {
        let repo = populated();
        repo.write("dir/sub/c.txt", "changed");
        repo.write("dir/new.txt", "new");
        repo.write("dir.y", "new");
        repo.write("new/deep/f", "new");
        repo.write("many/m07/file", "changed");
        repo.write("ita.txt", "intent to add");
        repo.git(&["update-index", "--chmod=+x", "exec.sh"]);
        repo.git(&["add", "dir", "dir.y", "new", "many"]);
        repo.git(&["add", "-N", "ita.txt"]);
        let (fast, slow) = repo.both();
        assert_eq!(fast.as_ref(), Some(&slow));
        assert_eq!(slow.len(), 6, "{slow:?}");
    }

    #[test]
    fn deletions_and_type_changes_match_libgit2() {
        let repo = populated();
        repo.remove("x");
        repo.remove("dir/sub");
        repo.write("keep/k1", "changed");
        repo.git(&["add", "-A"]);
        let (fast, slow) = repo.both();
        assert_eq!(fast.as_ref(), Some(&slow));
        assert_eq!(slow, ["Deleted dir/sub/c.txt", "Deleted x/y/z.txt", "Modified keep/k1"]);
    }

    #[test]
    fn links_added_changed_and_deleted_match_libgit2() {
        use std::os::unix::fs::symlink;
        let repo = Scratch::new();
        repo.write("d/target.txt", "t");
        let root = repo.dir.path();
        symlink("target.txt", root.join("d/old-link")).unwrap();
        symlink("d/target.txt", root.join("was-link")).unwrap();
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-qm", "links"]);
        symlink("/etc/hostname", root.join("new-link")).unwrap();
        std::fs::remove_file(root.join("was-link")).unwrap();
        repo.write("was-link", "a file now");
        repo.git(&["add", "-A"]);
        let (fast, slow) = repo.both();
        assert_eq!(fast.as_ref(), Some(&slow));
        assert_eq!(slow, ["Added new-link (link)", "Modified was-link"]);
        // Deleted, on its own and with its directory (additions beside deletions would leave
        // the answer to libgit2's rename detection).
        repo.git(&["commit", "-qm", "more"]);
        repo.remove("d");
        repo.remove("new-link");
        repo.git(&["add", "-A"]);
        let (fast, slow) = repo.both();
        assert_eq!(fast.as_ref(), Some(&slow));
        assert_eq!(
            slow,
            [
                "Deleted d/old-link (link)",
                "Deleted d/target.txt",
                "Deleted new-link (link)"
            ]
        );
    }

    #[test]
    fn additions_with_deletions_leave_rename_detection_to_libgit2() {
        let repo = populated();
        repo.git(&["mv", "a.txt", "moved.txt"]);
        assert_eq!(repo.both().0, None);
    }

    #[test]
    fn before_the_first_commit_everything_is_added() {
        let repo = Scratch::new();
        repo.write("a", "1");
        repo.write("d/b", "2");
        repo.git(&["add", "-A"]);
        let (fast, slow) = repo.both();
        assert_eq!(fast.as_ref(), Some(&slow));
        assert_eq!(slow, ["Added a", "Added d/b"]);
    }

    /// Hundreds of generated repositories: random trees (nested, executable, deep), random
    /// staged additions, edits, deletions, mode changes and renames, unstaged edits on top,
    /// sometimes a sparse checkout. Wherever the fast path answers, it answers as libgit2 does.
    #[test]
    fn random_repositories_match_libgit2() {
        crate::git::twin_cases(150, 61, |_, below| {
            let repo = Scratch::new();
            let dirs = ["", "a/", "a/b/", "c/", "c/d/e/", "f-g/", "f.g/"];
            let mut paths: Vec<String> = (0..3 + below(12))
                .map(|i| format!("{}file{i}", dirs[below(dirs.len() as u64)]))
                .collect();
            paths.sort();
            paths.dedup();
            for path in &paths {
                repo.write(path, &format!("{path} {}", below(1000)));
            }
            repo.git(&["add", "-A"]);
            repo.git(&["commit", "-q", "-m", "init"]);
            // Renames and deletions are rarer, so that many cases have neither (with both, the
            // fast path leaves rename detection to libgit2).
            let renames = below(3) == 0;
            for path in &paths {
                match below(if renames { 8 } else { 3 }) {
                    0 => repo.write(path, "staged edit"),
                    1 => repo.remove(path),
                    2 => repo.git(&["update-index", "--chmod=+x", path]),
                    3 => {
                        let to = format!("{}moved-{}", dirs[below(dirs.len() as u64)], below(100));
                        if !paths.contains(&to) {
                            let to = repo.dir.path().join(to);
                            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                            std::fs::rename(repo.dir.path().join(path), to).unwrap();
                        }
                    }
                    _ => {}
                }
            }
            if below(3) == 0 {
                repo.write(&format!("{}new{}", dirs[below(dirs.len() as u64)], below(100)), "new");
            }
            repo.git(&["add", "-A"]);
            // Unstaged edits never count.
            if let Some(path) = paths.iter().find(|p| repo.dir.path().join(p).is_file()) {
                repo.write(path, "unstaged");
            }
            if below(10) == 0 {
                // A sparse checkout (without a sparse index, which libgit2 cannot read).
                repo.git(&["sparse-checkout", "set", "--no-cone", "/a/", "/c/"]);
            }
            repo.both()
        });
    }

    /// The tracked files a tool could read, from gix's index and from libgit2's: the same,
    /// conflicts, submodules and sparse-checkout entries left out by both.
    #[test]
    fn the_tracked_files_are_the_same_through_gix_and_libgit2() {
        let scratch = Scratch::new();
        scratch.write("a.txt", "base\n");
        scratch.write("keep/b.txt", "b\n");
        scratch.write("away/c.txt", "c\n");
        scratch.git(&["add", "."]);
        scratch.git(&["commit", "-qm", "base"]);
        scratch.git(&["checkout", "-qb", "other"]);
        scratch.write("a.txt", "theirs\n");
        scratch.git(&["commit", "-qam", "theirs"]);
        scratch.git(&["checkout", "-q", "main"]);
        scratch.write("a.txt", "ours\n");
        scratch.git(&["commit", "-qam", "ours"]);
        let merged = Command::new("git")
            .args(["merge", "-q", "other"])
            .current_dir(scratch.dir.path())
            .output()
            .unwrap();
        assert!(!merged.status.success(), "a conflict in a.txt");
        let gitlink = "160000,1111111111111111111111111111111111111111,sub";
        scratch.git(&["update-index", "--add", "--cacheinfo", gitlink]);
        scratch.git(&["update-index", "--skip-worktree", "away/c.txt"]);
        let root = scratch.dir.path();
        let index = read_index(&root.join(".git/index")).unwrap();
        let repo = crate::git::Repo::open_at(root).unwrap();
        let fast = crate::git::changes::tracked_in(&index);
        assert_eq!(fast, [(PathBuf::from("keep/b.txt"), 0o100_644)]);
        assert_eq!(fast, crate::git::changes::tracked_by_libgit2(&repo).unwrap());
    }

    /// The ids `blob_ids` gives, vouched by the index or hashed, are git's own.
    #[test]
    fn blob_ids_are_gits_whether_the_index_vouches_or_not() {
        let scratch = Scratch::new();
        scratch.write("same.txt", "same\n");
        scratch.write("edited.txt", "staged\n");
        scratch.git(&["add", "."]);
        scratch.write("edited.txt", "edited in the working tree\n");
        scratch.write("untracked.txt", "new\n");
        let root = scratch.dir.path();
        let index = read_index(&root.join(".git/index")).unwrap();
        let paths: Vec<PathBuf> = ["same.txt", "edited.txt", "untracked.txt", "gone.txt"]
            .map(PathBuf::from)
            .to_vec();
        let ids = crate::git::blobs::blob_ids(Some(&index), root, &paths, false);
        let expected: Vec<String> = ["same.txt", "edited.txt", "untracked.txt"]
            .iter()
            .map(|p| scratch.hash_object(p))
            .collect();
        assert_eq!(ids[..3], expected[..]);
        assert_eq!(ids[3], "missing");
        assert_eq!(
            crate::git::blobs::blob_ids(None, root, &paths, false)[..3],
            expected[..],
            "without an index, hashed"
        );
        let trusted = crate::git::blobs::blob_ids(Some(&index), root, &paths, true);
        let staged = Command::new("git")
            .args(["rev-parse", ":edited.txt"])
            .current_dir(root)
            .output()
            .unwrap();
        assert_eq!(
            trusted[1],
            String::from_utf8_lossy(&staged.stdout).trim(),
            "trusted: the staged blob"
        );
    }

    /// The files with unstaged changes are git's own (`git diff --name-only`), whether a
    /// size tells (no read), content does (same size, or a stat git zeroed), or nothing
    /// changed but the times.
    #[test]
    fn unstaged_files_are_gits_whether_sizes_or_content_tell() {
        use std::os::unix::fs::PermissionsExt;
        let scratch = Scratch::new();
        let names = [
            "same.txt",
            "longer.txt",
            "swapped.txt",
            "touched.txt",
            "mode.sh",
            "gone.txt",
            "zeroed.txt",
            "zeroed-edited.txt",
        ];
        for name in names {
            scratch.write(name, "four\n");
        }
        scratch.git(&["add", "."]);
        scratch.git(&["commit", "-q", "-m", "init"]);
        let root = scratch.dir.path();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        let touch = |name: &str| {
            std::fs::File::options()
                .write(true)
                .open(root.join(name))
                .unwrap()
                .set_modified(later)
                .unwrap();
        };
        scratch.write("longer.txt", "four and more\n");
        scratch.write("swapped.txt", "FOUR\n");
        touch("swapped.txt");
        touch("touched.txt");
        std::fs::set_permissions(root.join("mode.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        scratch.remove("gone.txt");
        // Entries without stat data (size 0), as git leaves a racily clean entry it smudged.
        let blob = scratch.hash_object("zeroed.txt");
        let info = format!("100644 {blob}\tzeroed.txt\n100644 {blob}\tzeroed-edited.txt\n");
        let mut child = Command::new("git")
            .args(["update-index", "--index-info"])
            .current_dir(root)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), info.as_bytes()).unwrap();
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
        scratch.write("zeroed-edited.txt", "five\n");
        let index = read_index(&root.join(".git/index")).unwrap();
        let zeroed = index.entry_by_path("zeroed.txt".into()).unwrap();
        assert_eq!(zeroed.stat.size, 0, "the test needs an entry without stat data");
        let mut ours: Vec<String> = unstaged(&index, root)
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        ours.sort();
        let git = Command::new("git")
            .args(["diff", "--name-only"])
            .current_dir(root)
            .output()
            .unwrap();
        let theirs: Vec<String> = String::from_utf8(git.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(ours, theirs);
        assert_eq!(
            ours,
            ["gone.txt", "longer.txt", "mode.sh", "swapped.txt", "zeroed-edited.txt"]
        );
    }
}
