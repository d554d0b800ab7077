//! Untracked files stay where they are while the working tree holds the commit's content
//! (as with pre-commit's stash): moving them would take a project's own tools and settings
//! with them. A gate handed the staged files never sees them, but one that reads the whole
//! project (a test suite, a type checker: no `{files}`) does, though the commit lacks them:
//! a module nobody added makes the suite pass and the commit broken. Those files are named
//! before the gates run, per gate by its own `files` and `workdir`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::config::{Action, Config, Gate};
use crate::git::Repo;
use crate::printer::Printer;
use crate::run::plan::{Decision, GatePlan};

/// How many files a note names before it counts the rest.
const SHOWN: usize = 5;

/// Names the untracked files each gate that reads the whole project can see.
pub(crate) fn name(printer: Printer, repo: &Repo, config: &Config, plans: &[GatePlan]) {
    let readers: Vec<&Gate> = config
        .gates
        .iter()
        .zip(plans)
        .filter(|(gate, plan)| reads_the_project(gate, plan))
        .map(|(gate, _)| gate)
        .collect();
    if readers.is_empty() {
        return;
    }
    let untracked = match list(repo.root()) {
        Ok(untracked) => untracked,
        Err(err) => {
            printer.warn(format_args!(
                "could not list the untracked files the gates that read the whole project may see: {err}"
            ));
            return;
        }
    };
    // Gates that see the same files are named together.
    let mut notes: Vec<(Vec<&str>, Vec<&Path>)> = Vec::new();
    for gate in readers {
        let seen: Vec<&Path> = untracked
            .iter()
            .map(PathBuf::as_path)
            .filter(|path| !config.settings.exclude.is_match(path) && crate::select::takes(gate, path))
            .collect();
        if seen.is_empty() {
            continue;
        }
        match notes.iter_mut().find(|(_, files)| *files == seen) {
            Some((gates, _)) => gates.push(&gate.name),
            None => notes.push((vec![&gate.name], seen)),
        }
    }
    for (gates, files) in notes {
        let gates: Vec<String> = gates.iter().map(|g| format!("`{g}`")).collect();
        let (verb, gates) = match gates.split_last() {
            Some((last, [])) => ("reads", last.clone()),
            Some((last, rest)) => ("read", format!("{} and {last}", rest.join(", "))),
            None => continue,
        };
        let mut shown: Vec<String> = files.iter().take(SHOWN).map(|f| format!("`{}`", f.display())).collect();
        if files.len() > SHOWN {
            shown.push(format!("{} more", files.len() - SHOWN));
        }
        printer.note(format_args!(
            "{gates} {verb} the whole project, which holds untracked files the commit lacks: {}; `git add` them, or ignore them",
            shown.join(", ")
        ));
    }
}

/// A command that runs without the changed files reads whatever it finds.
fn reads_the_project(gate: &Gate, plan: &GatePlan) -> bool {
    let Decision::Run(_) = plan.decision else {
        return false;
    };
    match &gate.action {
        Action::Command { run, fix } => {
            let command = match fix {
                Some(fix) if plan.fixing => fix,
                _ => run,
            };
            !command.takes_files()
        }
        _ => false,
    }
}

/// The untracked files git would show (`.gitignore`, `info/exclude` and the global excludes
/// honoured), against the index git set for this commit (`GIT_INDEX_FILE`) if any.
fn list(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let output = std::process::Command::new("git")
        .args(["ls-files", "--others", "--exclude-standard", "-z"])
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()?;
    if !output.status.success() {
        anyhow::bail!("{}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(output
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(OsStr::from_bytes(p)))
        .collect())
}
