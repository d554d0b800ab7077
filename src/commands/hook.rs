//! `gate hook NAME`: what the installed shims call. The hook decides the change set and
//! the stage; everything else is an ordinary run.

use std::io::{IsTerminal, Read};

use anyhow::{Context, Result};

use super::Globals;
use super::check::request_for;
use crate::cli::HookArgs;
use crate::model::Stage;
use crate::run::session::{self, ChangeSource, Request, Scope};

pub(crate) fn hook(globals: &Globals, args: &HookArgs) -> Result<i32> {
    let stage = args.name.parse::<Stage>().ok();
    if stage.is_none() {
        globals.printer.warn(format_args!(
            "`{}` is not a stage gates can name; only gates without `stages` run",
            args.name
        ));
    }
    let scope = match stage {
        Some(Stage::PrePush) => {
            // git passes `<remote name> <remote url>`, and the refs on stdin.
            let remote = args
                .args
                .first()
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut refs = String::new();
            let stdin = std::io::stdin();
            if !stdin.is_terminal() {
                stdin
                    .lock()
                    .read_to_string(&mut refs)
                    .context("failed to read the pushed refs from git")?;
            }
            Scope::Push { remote, refs }
        }
        Some(stage) if stage.commits_the_index() => Scope::Changes(ChangeSource::Staged),
        _ => Scope::Changes(ChangeSource::Worktree),
    };
    let request = Request {
        scope,
        stage,
        // The pre-commit hook runs fixers, as formatters do under every hook manager.
        fix: stage == Some(Stage::PreCommit) && !crate::env::in_ci(),
        ..request_for(&args.run)
    };
    session::run(globals.printer, globals.config.as_deref(), &request)
}
