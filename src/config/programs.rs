//! Where a gate's program is: the one lookup `plan` and `gate doctor` share. A name with a
//! `/` is a path relative to the gate's `workdir`; a bare name is looked up where projects
//! keep their tools, from the `workdir` up to the repository root (`node_modules/.bin`,
//! `.venv/bin`, `venv/bin`), then in `$VIRTUAL_ENV/bin`, then on PATH. So `eslint` installed
//! by `npm install` in `services/web` runs from a git GUI with no environment activated.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::env;

/// Where the programs of every gate resolved, looked up once when the configuration is
/// read, by program name and the gate's `workdir` (relative to the repository root).
#[derive(Debug, Default)]
pub(crate) struct Programs(HashMap<(String, PathBuf), Option<PathBuf>>);

impl Programs {
    /// Looks `name` up for a gate in `workdir` unless that was done already.
    pub(crate) fn add(&mut self, name: &str, workdir: &Path, root: &Path) {
        self.0
            .entry((name.to_owned(), workdir.to_owned()))
            .or_insert_with(|| resolve(name, &root.join(workdir), root));
    }

    /// Where `name` resolved for a gate in `workdir`; `None` when it is nowhere.
    pub(crate) fn get(&self, name: &str, workdir: &Path) -> Option<&Path> {
        self.0
            .get(&(name.to_owned(), workdir.to_owned()))
            .and_then(Option::as_deref)
    }
}

/// The project folders that hold tools, in the order they are tried in each directory.
const TOOL_DIRS: [&str; 3] = ["node_modules/.bin", ".venv/bin", "venv/bin"];

/// Where `name` resolves for a gate running in `workdir` (absolute) of the repository at
/// `root`; `None` when nowhere.
pub(crate) fn resolve(name: &str, workdir: &Path, root: &Path) -> Option<PathBuf> {
    if name.contains('/') {
        let path = workdir.join(name);
        return executable(&path).then_some(path);
    }
    let mut dir = Some(workdir);
    while let Some(at) = dir {
        for tools in TOOL_DIRS {
            let candidate = at.join(tools).join(name);
            if executable(&candidate) {
                return Some(candidate);
            }
        }
        // Never above the repository: a folder outside it does not decide what runs.
        if at == root {
            break;
        }
        dir = at.parent().filter(|parent| parent.starts_with(root));
    }
    if let Some(venv) = env::var_os(env::VIRTUAL_ENV).filter(|v| !v.is_empty()) {
        let candidate = PathBuf::from(venv).join("bin").join(name);
        if executable(&candidate) {
            return Some(candidate);
        }
    }
    which::which_in(name, env::var_os(env::PATH), workdir).ok()
}

/// Where a program was looked for, for the message when it is nowhere.
pub(crate) fn searched(name: &str) -> String {
    if name.contains('/') {
        "does not exist (or is not executable) in the gate's `workdir`".to_owned()
    } else {
        "is not in `node_modules/.bin`, `.venv/bin` or `venv/bin` of the gate's `workdir` or its parents, nor in `$VIRTUAL_ENV/bin`, nor on PATH".to_owned()
    }
}

fn executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn project_tools_are_found_from_the_workdir_up_to_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let web = root.join("services/web");
        std::fs::create_dir_all(&web).unwrap();
        tool(&web.join("node_modules/.bin/eslint"));
        tool(&root.join(".venv/bin/ruff"));
        tool(&dir.path().join("node_modules/.bin/outside"));
        std::fs::write(root.join("venv-not-exec"), "").unwrap();
        assert_eq!(
            resolve("eslint", &web, &root),
            Some(web.join("node_modules/.bin/eslint"))
        );
        assert_eq!(resolve("ruff", &web, &root), Some(root.join(".venv/bin/ruff")));
        assert_eq!(resolve("eslint", &root, &root), None, "not below the workdir");
        assert_eq!(resolve("outside", &web, &root), None, "never above the repository");
        assert_eq!(
            resolve("node_modules/.bin/eslint", &web, &root),
            Some(web.join("node_modules/.bin/eslint"))
        );
        assert_eq!(resolve("./venv-not-exec", &root, &root), None);
        assert!(resolve("sh", &web, &root).is_some(), "PATH last");
    }
}
