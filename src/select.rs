//! Change set × gate globs → the files each gate sees.

use std::path::{Path, PathBuf};

use globset::{Candidate, GlobSet};

use crate::config::{Config, Gate};
use crate::git::changes::ChangeSet;

/// The files one gate matched.
#[derive(Debug, Default, Clone)]
pub(crate) struct FileSet {
    /// Repository-relative, deleted files included: a deletion can still matter to a gate.
    pub(crate) matched: crate::model::Files,
    /// Relative to the gate's `workdir`, deleted files left out: what `{files}` expands to.
    pub(crate) args: Vec<PathBuf>,
}

/// One [`FileSet`] per gate, in config order.
pub(crate) fn select(config: &Config, changes: &ChangeSet) -> Vec<FileSet> {
    let mut sets = vec![FileSet::default(); config.gates.len()];
    for file in &changes.files {
        let candidate = Candidate::new(&file.path);
        if config.settings.exclude.is_match_candidate(&candidate) {
            continue;
        }
        for (gate, set) in config.gates.iter().zip(sets.iter_mut()) {
            if let Some(relative) = matches(gate, &file.path, &candidate) {
                std::sync::Arc::make_mut(&mut set.matched).push(file.path.clone());
                if file.exists() {
                    set.args.push(relative.to_owned());
                }
            }
        }
    }
    sets
}

/// Whether the gate takes this repository-relative path (its `workdir`, globs and regexes).
pub(crate) fn takes(gate: &Gate, path: &Path) -> bool {
    matches(gate, path, &Candidate::new(path)).is_some()
}

/// The path relative to the gate's `workdir` when the gate takes it.
fn matches<'a>(gate: &Gate, path: &'a Path, root_candidate: &Candidate<'_>) -> Option<&'a Path> {
    let relative = path.strip_prefix(&gate.workdir).ok()?;
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
        assert_eq!(sets[1].args, [PathBuf::from("src/app.py")]);
    }
}
