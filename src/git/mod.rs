//! The repository, read through git2.
//!
//! - `blobs`: the working tree's content as git blob ids, vouched for by the index.
//! - `changes`: the change sets (staged, worktree, base, push, all, explicit files).
//! - `history`: what each commit of a range added (a push sends them all).
//! - `lines`: the lines a change touched in one file (for annotations and patch coverage).
//! - `stat`: `lstat` relative to the root, and the index's stat data from it.
//! - `staged`: the fast path for the staged change set, through the index's cache-tree.

pub(crate) mod blobs;
pub(crate) mod changes;
pub(crate) mod history;
pub(crate) mod lines;
pub(crate) mod staged;
pub(crate) mod stat;
pub(crate) mod workdir;
pub(crate) mod worktree;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use git2::{Index, Repository};

use crate::env;
use crate::model::Problem;

/// How long to wait for another git process to release `index.lock`.
pub(crate) const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub(crate) struct Repo {
    pub(crate) git: Repository,
    root: PathBuf,
    /// The index as gix reads it (fast, no re-hashing), read once per run.
    fast_index: std::cell::OnceCell<Option<gix_index::File>>,
}

impl Repo {
    /// Opens the repository the way git itself would from here, so that gate works inside
    /// hooks (`GIT_DIR`, `GIT_WORK_TREE`) and from any subdirectory.
    pub(crate) fn open() -> Result<Self> {
        // git does not re-hash objects it reads; neither need we (it is a third of the cost).
        git2::opts::strict_hash_verification(false);
        let git = Repository::open_from_env().map_err(|err| {
            anyhow::Error::from(Problem::hinted(
                format!("not inside a git repository ({})", err.message()),
                "run gate from a git work tree, or `git init` one",
            ))
        })?;
        // A bare git dir with a work tree elsewhere (the dotfiles pattern): git honours
        // GIT_WORK_TREE there, and so does gate.
        if git.workdir().is_none()
            && let Some(tree) = env::var_os(env::GIT_WORK_TREE).filter(|t| !t.is_empty())
        {
            let tree = std::path::absolute(PathBuf::from(&tree))
                .with_context(|| format!("failed to resolve `GIT_WORK_TREE` `{}`", Path::new(&tree).display()))?;
            git.set_workdir(&tree, false)
                .with_context(|| format!("failed to use `{}` as the work tree", tree.display()))?;
        }
        Self::from_git(git)
    }

    /// Opens the work tree at `path` (one gate made), whatever the environment says.
    pub(crate) fn open_at(path: &Path) -> Result<Self> {
        git2::opts::strict_hash_verification(false);
        let git =
            Repository::open(path).with_context(|| format!("failed to open the work tree `{}`", path.display()))?;
        Self::from_git(git)
    }

    fn from_git(git: Repository) -> Result<Self> {
        let Some(root) = git.workdir() else {
            bail!(
                "`{}` is a bare repository; gate needs a work tree",
                git.path().display()
            );
        };
        let root = root.canonicalize().unwrap_or_else(|_| root.to_owned());
        Ok(Self {
            git,
            root,
            fast_index: std::cell::OnceCell::new(),
        })
    }

    /// The work tree root; every path gate keeps is relative to it.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The index a commit will record: `GIT_INDEX_FILE` when git set one (`git commit -a`,
    /// `git commit PATH` write a temporary index), else the repository's own.
    pub(crate) fn index(&self) -> Result<Index> {
        // libgit2 reads `GIT_INDEX_FILE` itself for a repository opened from the environment.
        let mut index = self.git.index().map_err(|err| {
            let message = format!("failed to read the git index: {}", err.message());
            if err.message().contains("'sdir'") {
                anyhow::Error::from(Problem::hinted(
                    message,
                    "this repository uses a sparse index, which gate cannot read yet; `git sparse-checkout init --no-sparse-index` (or `git config index.sparse false`) turns it off",
                ))
            } else {
                anyhow::Error::msg(message)
            }
        })?;
        // The repository keeps one index object; pick up what other processes wrote since.
        index.read(false).context("failed to read the git index")?;
        Ok(index)
    }

    /// The index read the fast way; `None` if gix cannot read it (libgit2 then does the work).
    /// Read once: callers that change the index use [`Repo::index`].
    pub(crate) fn fast_index(&self) -> Result<Option<&gix_index::File>> {
        if let Some(index) = self.fast_index.get() {
            return Ok(index.as_ref());
        }
        let index = staged::read_index(&self.index_path()?);
        Ok(self.fast_index.get_or_init(|| index).as_ref())
    }

    /// Where the index is: `GIT_INDEX_FILE`, else the git dir's `index`.
    pub(crate) fn index_path(&self) -> Result<PathBuf> {
        match env::var_os(env::GIT_INDEX_FILE).filter(|f| !f.is_empty()) {
            // A relative value is relative to where git started the hook, which is our cwd.
            Some(file) => std::path::absolute(PathBuf::from(&file))
                .with_context(|| format!("failed to resolve `GIT_INDEX_FILE` `{}`", Path::new(&file).display())),
            None => Ok(self.git.path().join("index")),
        }
    }

    /// Tracked paths whose working tree differs from the index, as `git status` sees it:
    /// stat data, then content, in parallel; where git's filters could make raw bytes differ
    /// from a blob they match (`core.autocrlf`, `eol`/`text` attributes), libgit2 confirms
    /// the few candidates through those filters.
    pub(crate) fn differing_from_index(&self) -> Result<Vec<PathBuf>> {
        match self.fast_index()? {
            Some(index) => {
                let candidates = staged::unstaged(index, self.root());
                if candidates.is_empty() || !self.may_filter(index) {
                    return Ok(candidates);
                }
                self.statuses_of(Some(&candidates))
            }
            None => self.statuses_of(None),
        }
    }

    /// Whether a content filter could make a file's bytes differ from its blob's, for the
    /// repository's index (`true` when it cannot be read the fast way).
    pub(crate) fn may_filter_content(&self) -> Result<bool> {
        Ok(self.fast_index()?.is_none_or(|index| self.may_filter(index)))
    }

    /// Whether content filters could apply: `core.autocrlf` set to anything but `false`,
    /// `core.eol` set, or any attributes file.
    fn may_filter(&self, index: &gix_index::File) -> bool {
        let configured = self
            .git
            .config()
            .is_ok_and(|c| c.get_string("core.attributesFile").is_ok());
        self.converts_by_config()
            || configured
            || global_attributes().is_some_and(|file| file.is_file())
            || self.git.path().join("info/attributes").is_file()
            || index
                .entries()
                .iter()
                .any(|e| e.path(index).ends_with(b".gitattributes"))
    }

    /// [`Repo::may_filter_content`], reading what the attributes files say: only a setting
    /// that converts content counts (see [`attributes_convert`]), so `binary`, `-text` or
    /// `linguist-generated` leave a repository on the fast path. A tracked `.gitattributes`
    /// missing from the working tree (git then reads the staged one) counts too.
    pub(crate) fn may_convert_content(&self) -> Result<bool> {
        let Some(index) = self.fast_index()? else {
            return Ok(true);
        };
        let converts = |file: &Path, optional: bool| match std::fs::read(file) {
            Ok(text) => attributes_convert(&String::from_utf8_lossy(&text)),
            Err(err) => !(optional && err.kind() == std::io::ErrorKind::NotFound),
        };
        let configured = self
            .git
            .config()
            .ok()
            .and_then(|c| c.get_path("core.attributesFile").ok());
        Ok(self.converts_by_config()
            || configured
                .into_iter()
                .chain(global_attributes())
                .chain([self.git.path().join("info/attributes")])
                .any(|file| converts(&file, true))
            || index
                .entries()
                .iter()
                .map(|e| e.path(index))
                .filter(|path| *path == b".gitattributes" || path.ends_with(b"/.gitattributes"))
                .any(|path| converts(&self.root().join(path_from_bytes(path)), false)))
    }

    /// `core.autocrlf` set to anything but `false`, or `core.eol` set.
    fn converts_by_config(&self) -> bool {
        let config = self.git.config().ok();
        let set = |key: &str| config.as_ref().is_some_and(|c| c.get_string(key).is_ok());
        // `true`, or `input` (no boolean): conversions; `false` converts nothing.
        let autocrlf = config
            .as_ref()
            .is_some_and(|c| c.get_bool("core.autocrlf").unwrap_or_else(|_| set("core.autocrlf")));
        autocrlf || set("core.eol")
    }

    /// libgit2's status (filters applied) of `paths`, or of the whole tree.
    fn statuses_of(&self, paths: Option<&[PathBuf]>) -> Result<Vec<PathBuf>> {
        use git2::{Status, StatusOptions};
        let mut options = StatusOptions::new();
        options
            .include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true)
            .update_index(false);
        if let Some(paths) = paths {
            options.disable_pathspec_match(true);
            for path in paths {
                options.pathspec(path);
            }
        }
        let statuses = self
            .git
            .statuses(Some(&mut options))
            .context("failed to compare the index with the working tree")?;
        let unstaged = Status::WT_MODIFIED | Status::WT_DELETED | Status::WT_TYPECHANGE | Status::WT_RENAMED;
        Ok(statuses
            .iter()
            .filter(|entry| entry.status().intersects(unstaged))
            .map(|entry| path_from_bytes(entry.path_bytes()))
            .collect())
    }

    /// The commit HEAD points at, or `None` before the first commit.
    pub(crate) fn head(&self) -> Result<Option<git2::Commit<'_>>> {
        match self.git.head() {
            Ok(head) => Ok(Some(head.peel_to_commit().context("HEAD does not point at a commit")?)),
            Err(err) if matches!(err.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => Ok(None),
            Err(err) => Err(err).context("failed to read HEAD"),
        }
    }

    /// Where git looks for hooks: `core.hooksPath` when the repository sets it, else the
    /// common git dir's `hooks` (shared by all worktrees).
    /// A file's bytes as the index stages it, `None` when it is not staged.
    pub(crate) fn staged_bytes(&self, path: &Path) -> Result<Option<Vec<u8>>> {
        // The fast index when it can be read: libgit2 would re-hash all of it.
        let id = if let Some(index) = self.fast_index()? {
            let Some(entry) = index.entry_by_path(path.as_os_str().as_bytes().into()) else {
                return Ok(None);
            };
            git2::Oid::from_bytes(entry.id.as_slice()).context("a malformed object id in the index")?
        } else {
            let index = self.index()?;
            let Some(entry) = index.get_path(path, 0) else {
                return Ok(None);
            };
            entry.id
        };
        let blob = self
            .git
            .find_blob(id)
            .with_context(|| format!("failed to read the staged `{}`", path.display()))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// A file's bytes in a commit, `None` when the commit has no such file.
    pub(crate) fn committed_bytes(&self, commit: git2::Oid, path: &Path) -> Result<Option<Vec<u8>>> {
        let tree = self
            .git
            .find_commit(commit)
            .and_then(|c| c.tree())
            .with_context(|| format!("failed to read commit {commit}"))?;
        let Ok(entry) = tree.get_path(path) else {
            return Ok(None);
        };
        let blob = self
            .git
            .find_blob(entry.id())
            .with_context(|| format!("failed to read `{}` of commit {commit}", path.display()))?;
        Ok(Some(blob.content().to_vec()))
    }

    pub(crate) fn hooks_dir(&self) -> Result<PathBuf> {
        let config = self.git.config().context("failed to read the git configuration")?;
        if let Ok(local) = config.open_level(git2::ConfigLevel::Local)
            && let Ok(path) = local.get_path("core.hooksPath")
        {
            return Ok(self.root.join(path));
        }
        if let Ok(path) = config.get_string("core.hooksPath") {
            return Err(Problem::hinted(
                format!("`core.hooksPath` is set to `{path}` outside this repository (global or system git config)"),
                "installing there would affect every repository; set a repo-local one with `git config core.hooksPath .githooks`, or unset it",
            )
            .into());
        }
        Ok(self.git.commondir().join("hooks"))
    }
}

/// A path as git stores it (bytes) to a `PathBuf`, keeping non-UTF-8 names intact.
pub(crate) fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}

/// A new repository in `dir` for a test, with a committer.
#[cfg(test)]
pub(crate) fn init_in(dir: &Path) {
    git_in(dir, &["init", "-q", "-b", "main"]);
    git_in(dir, &["config", "user.name", "t"]);
    git_in(dir, &["config", "user.email", "t@example.invalid"]);
}

/// The random twin tests: `case(seed, below)` builds a repository from `below(n)` (a number
/// under `n`, the same for a seed every run) and answers (fast path, libgit2); wherever
/// the fast path answers, it must answer as libgit2 does, and it must answer `at_least`.
#[cfg(test)]
pub(crate) fn twin_cases(
    seeds: u64,
    at_least: usize,
    mut case: impl FnMut(u64, &mut dyn FnMut(u64) -> usize) -> (Option<Vec<String>>, Vec<String>),
) {
    let mut answered = 0;
    for seed in 0..seeds {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut below = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n).unwrap_or(0)
        };
        let (fast, slow) = case(seed, &mut below);
        if let Some(fast) = fast {
            assert_eq!(fast, slow, "seed {seed}");
            answered += 1;
        }
    }
    assert!(
        answered >= at_least,
        "the fast path answered only {answered} of {seeds}"
    );
}

/// Runs git in `dir` for a test, which fails with what git said.
#[cfg(test)]
pub(crate) fn git_in(dir: &Path, args: &[&str]) {
    let output = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether an attributes file's text sets anything that converts content between the
/// working tree and the blob: `text`, `eol`, `crlf`, `filter`, `ident` or
/// `working-tree-encoding` set (unset, `-text`, or unspecified, `!eol`, converts nothing),
/// or a macro definition or quoted pattern, which are not read here and so count.
fn attributes_convert(text: &str) -> bool {
    const CONVERTING: [&str; 6] = ["text", "eol", "crlf", "filter", "ident", "working-tree-encoding"];
    text.lines().map(str::trim).any(|line| {
        if line.is_empty() || line.starts_with('#') {
            return false;
        }
        if line.starts_with("[attr]") || line.starts_with('"') {
            return true;
        }
        line.split_whitespace().skip(1).any(|attribute| {
            !attribute.starts_with(['-', '!']) && CONVERTING.contains(&attribute.split('=').next().unwrap_or(attribute))
        })
    })
}

/// The attributes file git reads for every repository when `core.attributesFile` is not
/// set: `$XDG_CONFIG_HOME/git/attributes`, else `~/.config/git/attributes`.
fn global_attributes() -> Option<PathBuf> {
    let config = env::var_os(env::XDG_CONFIG_HOME)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| env::var_os(env::HOME).map(|home| PathBuf::from(home).join(".config")))?;
    Some(config.join("git").join("attributes"))
}

/// `a/./b/../c` to `a/c` without touching the file system (the file may not exist).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only settings that convert content send the set-aside through libgit2's filters.
    #[test]
    fn autocrlf_false_filters_nothing_and_true_input_or_eol_may() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| git_in(dir.path(), args);
        git(&["init", "-q"]);
        std::fs::write(dir.path().join("a.txt"), "a\n").unwrap();
        git(&["add", "a.txt"]);
        let filters = |setting: Option<(&str, &str)>| {
            if let Some((key, value)) = setting {
                git(&["config", key, value]);
            }
            let filters = Repo::open_at(dir.path()).unwrap().may_filter_content().unwrap();
            if let Some((key, _)) = setting {
                git(&["config", "--unset", key]);
            }
            filters
        };
        assert!(!filters(None));
        assert!(!filters(Some(("core.autocrlf", "false"))));
        assert!(filters(Some(("core.autocrlf", "true"))));
        assert!(filters(Some(("core.autocrlf", "input"))));
        assert!(filters(Some(("core.eol", "crlf"))));
        std::fs::write(dir.path().join(".gitattributes"), "*.txt text\n").unwrap();
        git(&["add", ".gitattributes"]);
        assert!(filters(None), "an attributes file");
        let converts = |text: &str| {
            std::fs::write(dir.path().join(".gitattributes"), text).unwrap();
            Repo::open_at(dir.path()).unwrap().may_convert_content().unwrap()
        };
        assert!(converts("*.txt text\n"));
        assert!(converts("* text=auto\n"));
        assert!(converts("*.sh eol=lf\n"));
        assert!(converts("*.bin filter=lfs diff=lfs merge=lfs -text\n"));
        assert!(converts("[attr]mine text\n*.x mine\n"), "a macro may convert");
        assert!(converts("\"a b\" text\n"), "a quoted pattern is not read");
        assert!(!converts("# * text\n*.png binary\n*.md linguist-documentation -diff\n"));
        assert!(!converts("*.txt -text !eol -crlf\n"));
    }
}
