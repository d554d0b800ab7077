//! One file per subcommand; what they share (opening the repository and configuration,
//! choosing the change set, running the gates) lives here and in `check`.

pub(crate) mod audit;
pub(crate) mod check;
pub(crate) mod coverage;
pub(crate) mod doctor;
pub(crate) mod hook;
pub(crate) mod init;
pub(crate) mod install;
pub(crate) mod list;
pub(crate) mod publish;
pub(crate) mod recover;
pub(crate) mod uninstall;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::cli::Selection;
use crate::config::{self, Config, Origin};
use crate::env;
use crate::git::Repo;
use crate::git::changes::{self, ChangeSet};
use crate::github::{self, event::Range};
use crate::printer::Printer;

/// Options every subcommand takes.
pub(crate) struct Globals {
    pub(crate) printer: Printer,
    pub(crate) config: Option<PathBuf>,
}

/// The repository and its configuration, loaded once per run.
pub(crate) struct Session {
    pub(crate) repo: Repo,
    pub(crate) config: Config,
    pub(crate) origin: Origin,
}

impl Session {
    pub(crate) fn open(globals: &Globals) -> Result<Self> {
        let repo = Repo::open()?;
        let (config, origin) = config::load(repo.root(), globals.config.as_deref(), globals.printer)?;
        Ok(Self { repo, config, origin })
    }

    /// The change set a selection asks for; with no flag, everything changed against HEAD
    /// (in CI: `settings.base..HEAD` when a base is configured).
    pub(crate) fn changes(&self, selection: &Selection) -> Result<ChangeSet> {
        if selection.staged {
            return changes::staged(&self.repo);
        }
        if let Some(base) = &selection.base {
            return changes::base(&self.repo, base);
        }
        if selection.all {
            return changes::all(&self.repo);
        }
        if !selection.files.is_empty() {
            let cwd = std::env::current_dir().context("failed to read the current directory")?;
            return changes::explicit(&self.repo, &cwd, &selection.files);
        }
        if env::in_github_actions()
            && let Some(range) = github::event_range()?
        {
            return match range {
                Range::Between { base, head } => changes::between(&self.repo, &base, &head),
                Range::NewBranch { head, default_branch } => {
                    changes::between(&self.repo, &format!("origin/{default_branch}"), &head)
                }
            };
        }
        match &self.config.settings.base {
            Some(base) if env::in_ci() => changes::base(&self.repo, base),
            _ => changes::worktree(&self.repo),
        }
    }

    /// Checks `--gate` names against the configuration.
    pub(crate) fn check_gate_names(&self, names: &[String]) -> Result<()> {
        for name in names {
            if !self.config.gates.iter().any(|g| &g.name == name) {
                bail!(
                    "there is no gate `{name}`\nhint: the gates are {}",
                    self.config
                        .gates
                        .iter()
                        .map(|g| format!("`{}`", g.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        Ok(())
    }
}

/// The stage a run is in: `--stage`, else `ci` in CI, else `manual`.
pub(crate) fn stage(selection: &Selection) -> Result<String> {
    match &selection.stage {
        Some(stage) if config::STAGES.contains(&stage.as_str()) => Ok(stage.clone()),
        Some(stage) => bail!(
            "unknown stage `{stage}`\nhint: the stages are {}",
            config::STAGES
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None if env::in_ci() => Ok("ci".to_owned()),
        None => Ok("manual".to_owned()),
    }
}
