//! Change set × gate globs → the files each gate sees.

use std::path::Path;

use globset::{Candidate, GlobSet};

use crate::config::{Config, Gate};
use crate::git::changes::ChangeSet;

/// The files one gate matched.
#[derive(Debug, Default, Clone)]
pub(crate) struct FileSet {
    /// Repository-relative, deleted files included: a deletion can still matter to a gate.
    pub(crate) matched: crate::model::Files,
    /// Relative to the gate's `workdir`, deleted files and symbolic links left out: what
    /// `{files}` expands to. A tool reads what a link points to, which is not the commit's
    /// content and may be outside the repository (pre-commit's default `types: [file]`
    /// leaves links out too); gate's own gates read links as links.
    pub(crate) args: crate::model::Files,
}

/// One [`FileSet`] per gate, in config order. Gates that select alike (a formatter and a
/// linter of the same files) are matched once and share the lists.
pub(crate) fn select(config: &Config, changes: &ChangeSet) -> Vec<FileSet> {
    let mut distinct: Vec<&Gate> = Vec::new();
    let group: Vec<usize> = config
        .gates
        .iter()
        .map(|gate| {
            if let Some(at) = distinct.iter().position(|d| d.selector == gate.selector) {
                at
            } else {
                distinct.push(gate);
                distinct.len() - 1
            }
        })
        .collect();
    let mut lists = vec![(Vec::new(), Vec::new()); distinct.len()];
    for file in &changes.files {
        let candidate = Candidate::new(&file.path);
        if config.settings.exclude.is_match_candidate(&candidate) {
            continue;
        }
        for (gate, (matched, args)) in distinct.iter().zip(lists.iter_mut()) {
            if let Some(relative) = matches(gate, &file.path, &candidate) {
                matched.push(file.path.clone());
                if file.exists() && !file.link {
                    args.push(relative.to_owned());
                }
            }
        }
    }
    let sets: Vec<FileSet> = distinct
        .iter()
        .zip(lists)
        .map(|(gate, (matched, args))| {
            // At the root with nothing deleted the two lists are one.
            let same = gate.workdir.as_os_str().is_empty() && args.len() == matched.len();
            let matched = std::sync::Arc::new(matched);
            let args = if same {
                matched.clone()
            } else {
                std::sync::Arc::new(args)
            };
            FileSet { matched, args }
        })
        .collect();
    group.into_iter().map(|at| sets[at].clone()).collect()
}

/// Whether the gate takes this repository-relative path (its `workdir`, globs and regexes).
pub(crate) fn takes(gate: &Gate, path: &Path) -> bool {
    matches(gate, path, &Candidate::new(path)).is_some()
}

/// The path relative to the gate's `workdir` when the gate takes it.
fn matches<'a>(gate: &Gate, path: &'a Path, root_candidate: &Candidate<'_>) -> Option<&'a Path> {
    let relative = if gate.workdir.as_os_str().is_empty() {
        path
    } else {
        path.strip_prefix(&gate.workdir).ok()?
    };
    let accepts = |set: &GlobSet| {
        if gate.workdir.as_os_str().is_empty() {
            set.is_match_candidate(root_candidate)
        } else {
            set.is_match(relative)
        }
    };
    if gate.files.as_ref().is_some_and(|files| !accepts(files)) || accepts(&gate.exclude) {
        return None;
    }
    if !gate.files_regex.is_empty() || !gate.exclude_regex.is_empty() {
        let text = path.to_string_lossy();
        if !gate.files_regex.iter().all(|r| r.is_match(&text)) || gate.exclude_regex.iter().any(|r| r.is_match(&text)) {
            return None;
        }
    }
    Some(relative)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::changes::{ChangedFile, FileStatus, Source};
    use std::path::PathBuf;

    fn change_set(paths: &[(&str, FileStatus)]) -> ChangeSet {
        ChangeSet {
            source: Source::Files,
            base: None,
            head: None,
            files: paths
                .iter()
                .map(|(path, status)| ChangedFile {
                    path: PathBuf::from(path),
                    status: *status,
                    from: None,
                    link: false,
                })
                .collect(),
        }
    }

    fn config(text: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("services/api")).unwrap();
        crate::config::parse(text, Path::new("gates.toml"), dir.path()).unwrap()
    }

    #[test]
    fn patterns_without_a_slash_match_at_any_depth_and_workdir_paths_are_relative() {
        let config = config(
            r#"
[settings]
exclude = ["vendor/**"]
[gates.py]
kind = "lint"
files = ["*.py"]
exclude = ["*_pb2.py"]
run = ["lint", "{files}"]
[gates.api]
kind = "test"
workdir = "services/api"
files = ["src/*.py"]
run = ["pytest"]
"#,
        );
        let changes = change_set(&[
            ("a.py", FileStatus::Modified),
            ("services/api/src/app.py", FileStatus::Added),
            ("services/api/src/deep/x.py", FileStatus::Added),
            ("services/api/src/old.py", FileStatus::Deleted),
            ("gen/m_pb2.py", FileStatus::Modified),
            ("vendor/lib.py", FileStatus::Modified),
            ("README.md", FileStatus::Modified),
        ]);
        let sets = select(&config, &changes);
        assert_eq!(
            *sets[0].matched,
            [
                "a.py",
                "services/api/src/app.py",
                "services/api/src/deep/x.py",
                "services/api/src/old.py"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(sets[0].args.len(), 3, "deleted files are not passed");
        assert_eq!(
            *sets[1].matched,
            ["services/api/src/app.py", "services/api/src/old.py"].map(PathBuf::from)
        );
        assert_eq!(*sets[1].args, [PathBuf::from("src/app.py")]);
    }

    /// Gates that select alike are matched once and share their lists; every gate still
    /// gets exactly what it takes on its own.
    #[test]
    fn gates_that_select_alike_share_one_match() {
        let config = config(
            r#"
[gates.format]
kind = "format"
files = ["*.py"]
run = ["fmt", "{files}"]
[gates.lint]
kind = "lint"
files = ["*.py"]
run = ["lint", "{files}"]
[gates.lint-src]
kind = "lint"
files = ["*.py"]
exclude = ["tests/**"]
run = ["lint", "{files}"]
[gates.api]
kind = "test"
workdir = "services/api"
files = ["*.py"]
run = ["pytest", "{files}"]
[gates.everything]
kind = "lint"
run = ["x", "{files}"]
"#,
        );
        let changes = change_set(&[
            ("a.py", FileStatus::Modified),
            ("tests/t.py", FileStatus::Added),
            ("services/api/app.py", FileStatus::Added),
            ("gone.py", FileStatus::Deleted),
            ("README.md", FileStatus::Modified),
        ]);
        let sets = select(&config, &changes);
        assert!(std::sync::Arc::ptr_eq(&sets[0].matched, &sets[1].matched));
        assert!(std::sync::Arc::ptr_eq(&sets[0].args, &sets[1].args));
        assert!(!std::sync::Arc::ptr_eq(&sets[0].matched, &sets[2].matched));
        for (gate, set) in config.gates.iter().zip(&sets) {
            let alone: Vec<&Path> = changes
                .files
                .iter()
                .map(|f| f.path.as_path())
                .filter(|p| takes(gate, p))
                .collect();
            assert_eq!(
                set.matched.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
                alone,
                "{}",
                gate.name
            );
        }
        assert_eq!(*sets[3].args, [PathBuf::from("app.py")], "relative to the workdir");
        assert_eq!(sets[4].matched.len(), 5);
        assert_eq!(sets[4].args.len(), 4, "the deleted file is not passed");
    }
}
