//! `gate hook NAME`: what the installed shims call. The hook decides the change set and
//! the stage; everything else is an ordinary run.

use std::io::IsTerminal;

use anyhow::Result;

use super::check::{Mode, run_gates};
use super::{Globals, Session};
use crate::cli::HookArgs;
use crate::git::changes;

pub(crate) fn hook(globals: &Globals, args: &HookArgs) -> Result<i32> {
    if !crate::config::STAGES.contains(&args.name.as_str()) {
        globals.printer.warn(format_args!(
            "`{}` is not a stage gates can name; only gates without `stages` run",
            args.name
        ));
    }
    let session = Session::open(globals)?;
    let changes = match args.name.as_str() {
        "pre-push" => {
            // git passes `<remote name> <remote url>`, and the refs on stdin.
            let remote = args
                .args
                .first()
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                changes::push(&session.repo, &remote, std::io::empty())?
            } else {
                changes::push(&session.repo, &remote, stdin.lock())?
            }
        }
        "pre-commit" | "pre-merge-commit" | "prepare-commit-msg" | "commit-msg" => changes::staged(&session.repo)?,
        _ => changes::worktree(&session.repo)?,
    };
    // The pre-commit hook runs fixers, as formatters do under every hook manager.
    let fix = args.name == "pre-commit" && !crate::env::in_ci();
    let mode = Mode {
        stage: &args.name,
        only: &[],
        fix,
    };
    run_gates(globals, &session, &changes, &mode, &args.run)
}
