//! Untracked files stay where they are while the working tree holds the commit's content
//! (as with pre-commit's stash): moving them would take a project's own tools and settings
//! with them. A gate handed the staged files never sees them, but one that reads the whole
//! project (a test suite, a type checker: no `{files}`) does, though the commit lacks them:
//! a module nobody added makes the suite pass and the commit broken. Those files are named
//! with the run's result, per gate by its own `files` and `workdir`.

use std::path::{Path, PathBuf};

use crate::config::{Action, Config, Gate};
use crate::git::Repo;
use crate::printer::Printer;
use crate::run::plan::{Decision, GatePlan};

/// How many files a note names before it counts the rest.
const SHOWN: usize = 5;

/// How long the idle listing may go on once the gates are done, before it is made again at
/// the normal priority.
const LAST_CHANCE: std::time::Duration = std::time::Duration::from_millis(100);

/// The untracked files, listed beside the gates, and the gates that read the whole project.
/// The listing walks the whole working tree (about 15 ms of CPU at 20,000 files): beside the
/// gates it runs only on cores they leave idle (`SCHED_IDLE`), so it never slows them; one
/// not done shortly after they end (other work keeps every core busy) is stopped and made
/// again at the normal priority, so a busy machine never makes the run wait long on it.
pub(crate) struct Untracked {
    readers: Vec<usize>,
    root: PathBuf,
    since: std::time::SystemTime,
    /// The idle listing's process, once started, to stop it.
    process: Holder,
    listing: std::thread::JoinHandle<anyhow::Result<Vec<PathBuf>>>,
}

impl Untracked {
    /// Starts the listing when a gate that reads the whole project will run.
    pub(crate) fn start(repo: &Repo, config: &Config, plans: &[GatePlan]) -> Option<Self> {
        let readers: Vec<usize> = config
            .gates
            .iter()
            .zip(plans)
            .enumerate()
            .filter(|(_, (gate, plan))| reads_the_project(gate, plan))
            .map(|(at, _)| at)
            .collect();
        if readers.is_empty() {
            return None;
        }
        let root = repo.root().to_path_buf();
        let process = Holder::default();
        let (at, started) = (root.clone(), std::sync::Arc::clone(&process));
        Some(Self {
            readers,
            root,
            since: std::time::SystemTime::now(),
            process,
            listing: std::thread::spawn(move || list(&at, Some(&started))),
        })
    }

    /// The listing, without what the gates created meanwhile (a cache, a report: theirs,
    /// not yours).
    fn finish(self) -> (Vec<usize>, anyhow::Result<Vec<PathBuf>>) {
        // With the gates done the cores are idle, unless other work keeps them busy.
        let waited = std::time::Instant::now();
        while !self.listing.is_finished() && waited.elapsed() < LAST_CHANCE {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        if !self.listing.is_finished()
            && let Some(pidfd) = self
                .process
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .as_ref()
        {
            // Through its pidfd: never another process that got its number since.
            let _ = rustix::process::pidfd_send_signal(pidfd, rustix::process::Signal::KILL);
        }
        let listed = match self.listing.join() {
            Ok(Ok(listed)) => Ok(listed),
            _ => list(&self.root, None),
        };
        let (root, since) = (self.root, self.since);
        let listed = listed.map(|mut listed| {
            listed.retain(|path| {
                std::fs::symlink_metadata(root.join(path)).is_ok_and(|meta| {
                    use std::os::unix::fs::MetadataExt;
                    let changed = std::time::UNIX_EPOCH
                        + std::time::Duration::new(
                            u64::try_from(meta.ctime()).unwrap_or(0),
                            u32::try_from(meta.ctime_nsec()).unwrap_or(0),
                        );
                    changed < since
                })
            });
            listed
        });
        (self.readers, listed)
    }

    /// Names, per gate (gates that see the same files together), the untracked files its
    /// `files` and `workdir` take.
    pub(crate) fn name(self, printer: Printer, config: &Config) {
        let (readers, untracked) = self.finish();
        let untracked = match untracked {
            Ok(untracked) => untracked,
            Err(err) => {
                printer.warn(format_args!(
                    "could not list the untracked files the gates that read the whole project may see: {err}"
                ));
                return;
            }
        };
        let mut notes: Vec<(Vec<&str>, Vec<&Path>)> = Vec::new();
        for gate in readers.iter().filter_map(|&at| config.gates.get(at)) {
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

use crate::git::workdir::{Holder, untracked as list};

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| crate::git::git_in(dir.path(), args);
        git(&["init", "-q"]);
        std::fs::write(dir.path().join(".gitignore"), "ignored.py\n").unwrap();
        std::fs::write(dir.path().join("tracked.py"), "").unwrap();
        git(&["add", "."]);
        std::fs::write(dir.path().join("ignored.py"), "").unwrap();
        std::fs::write(dir.path().join("new.py"), "").unwrap();
        dir
    }

    #[test]
    fn git_lists_what_it_would_show_as_untracked() {
        let dir = repo();
        let holder = Holder::default();
        assert_eq!(list(dir.path(), Some(&holder)).unwrap(), [PathBuf::from("new.py")]);
        assert!(holder.lock().unwrap().is_some(), "the idle listing leaves its pidfd");
        assert_eq!(list(dir.path(), None).unwrap(), [PathBuf::from("new.py")]);
    }

    #[test]
    fn a_listing_starved_past_the_gates_is_stopped_and_made_again() {
        let dir = repo();
        // A listing that will not end by itself, as one starved of CPU would not.
        let mut stuck = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let process = Holder::default();
        *process.lock().unwrap() = Some(
            rustix::process::pidfd_open(
                rustix::process::Pid::from_child(&stuck),
                rustix::process::PidfdFlags::empty(),
            )
            .unwrap(),
        );
        let pid = stuck.id();
        let listing = std::thread::spawn(move || {
            let _ = stuck.wait();
            anyhow::bail!("stopped")
        });
        let untracked = Untracked {
            readers: Vec::new(),
            root: dir.path().to_path_buf(),
            since: std::time::SystemTime::now() + std::time::Duration::from_mins(1),
            process,
            listing,
        };
        let start = std::time::Instant::now();
        let (_, listed) = untracked.finish();
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(listed.unwrap(), [PathBuf::from("new.py")]);
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "the stuck one was stopped"
        );
    }
}
