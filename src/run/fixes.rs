//! What a fixer changed: its files are read before it runs and compared afterwards, so no
//! `git diff` runs after every gate, and a change is known byte for byte; and where the
//! fixes go afterwards (staged, left in the working tree, merged with unstaged edits).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::{Config, OnFix};
use crate::git::Repo;
use crate::keeper::Restored;
use crate::model::text::plural;
use crate::model::{FixedFile, Outcome, Status};
use crate::printer::Printer;

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

/// By hand, `--fix` asked for fixes in the working tree: having them is success.
pub(crate) fn keep_in_worktree(outcomes: &mut [Outcome]) {
    for outcome in outcomes.iter_mut().filter(|o| o.status == Status::Fixed) {
        outcome.fix_staged = true;
    }
}

/// `on_fix = "stage"`: fixes to files that were fully staged go into the commit. A file with
/// unstaged edits keeps its fix in the working tree only: staging it would stage those too.
pub(crate) fn stage(
    printer: Printer,
    repo: &Repo,
    config: &Config,
    outcomes: &mut [Outcome],
    affected: &HashSet<PathBuf>,
) -> Result<()> {
    let wants_stage = |o: &Outcome| {
        o.status == Status::Fixed
            && config
                .gates
                .iter()
                .any(|g| g.name == o.name && g.on_fix == OnFix::Stage)
    };
    if !outcomes.iter().any(wants_stage) {
        return Ok(());
    }
    let mut index = repo.index()?;
    for outcome in outcomes.iter_mut().filter(|o| wants_stage(o)) {
        let mut held_back = Vec::new();
        for file in &outcome.fixed {
            if affected.contains(&file.path) {
                held_back.push(format!("`{}`", file.path.display()));
            } else if file.after.is_some() {
                index.add_path(&file.path)?;
            } else {
                index.remove_path(&file.path)?;
            }
        }
        let staged = outcome.fixed.len() - held_back.len();
        outcome.fix_staged = held_back.is_empty();
        let reason = if held_back.is_empty() {
            let message = format!("fixed and staged {}", plural(staged, "file"));
            printer.note(format_args!("{}: {message}", outcome.name));
            message
        } else {
            let message = format!(
                "the fix to {} is in the working tree but not staged: the file has unstaged changes\nhint: review it, then `git add` it and commit again",
                held_back.join(", ")
            );
            printer.warn(format_args!("{}: {message}", outcome.name));
            message
        };
        outcome.reason = Some(reason);
    }
    Repo::write_index(&mut index)
}

/// Says where fixes went when the user's unstaged edits came back.
pub(crate) fn tell_restored(printer: Printer, restored: &Restored) {
    for path in &restored.merged {
        printer.note(format_args!(
            "merged the fix to `{}` with your unstaged changes",
            path.display()
        ));
    }
    for (path, saved) in &restored.conflicts {
        let how = if saved.extension().is_some_and(|e| e == "patch") {
            format!("apply it with `git apply {}`", saved.display())
        } else {
            format!("copy it over `{}`", path.display())
        };
        printer.warn(format_args!(
            "the fix to `{}` conflicts with your unstaged changes, which were kept; the fix is saved in `{}`\nhint: review it, then {how}",
            path.display(),
            saved.display(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::unified_diff;

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
