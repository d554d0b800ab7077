//! `gate publish REPORT.json`: posts the commit statuses of a saved report, for a later job
//! that may write them (the checking job of a fork's pull request may not). And `gate
//! required-checks`: the contexts to require in branch protection.

use std::io::Write;

use anyhow::{Result, bail};

use super::Globals;
use crate::cli::PublishArgs;
use crate::config;
use crate::env;
use crate::git::Repo;
use crate::github::statuses::Poster;
use crate::github::{Token, api, api_url, run_url};
use crate::model::Problem;
use crate::report::json;

pub(crate) fn publish(globals: &Globals, args: &PublishArgs) -> Result<i32> {
    let (head, outcomes) = json::load(&args.report)?;
    let prefix = status_prefix(globals)?;
    let Some(sha) = args.sha.clone().or(head) else {
        return Err(Problem::hinted("the report names no head commit", "say which with `--sha`").into());
    };
    let Some(token) = Token::from_env() else {
        return Err(Problem::hinted(
            "no token to post statuses with",
            "set `GITHUB_TOKEN` (or `GATE_GITHUB_TOKEN`) to a token that may write statuses",
        )
        .into());
    };
    let Some(repository) = env::var(env::GITHUB_REPOSITORY) else {
        return Err(Problem::hinted("`GITHUB_REPOSITORY` is not set", "set it to `owner/name`").into());
    };
    let poster = Poster::start(
        Box::new(api::Http::new(&api_url(), &repository, token)),
        sha.clone(),
        prefix,
        run_url(),
    );
    for outcome in &outcomes {
        poster.finished(outcome);
    }
    let ending = poster.finish();
    if let Some(code) = ending.not_allowed {
        return Err(Problem::hinted(
            format!("GitHub refused the statuses (HTTP {code})"),
            format!("the token needs `statuses: write` on `{repository}`"),
        )
        .into());
    }
    if let Some(message) = ending.failed {
        bail!("failed to post commit statuses: {message}");
    }
    writeln!(globals.printer.stdout(), "posted {} statuses to {sha}", ending.posted)?;
    Ok(0)
}

pub(crate) fn required_checks(globals: &Globals) -> Result<i32> {
    let repo = Repo::open()?;
    let (config, _) = config::load(repo.root(), globals.config.as_deref(), globals.printer, &|| {
        crate::git::changes::tracked_paths(&repo)
    })?;
    let mut out = globals.printer.stdout();
    for gate in config.gates.iter().filter(|g| g.runs_in(Some(crate::model::Stage::Ci))) {
        writeln!(out, "{}{}", config.settings.status_prefix, gate.name)?;
    }
    Ok(0)
}

/// The configured prefix when a configuration is at hand, else the default.
/// Outside a repository, the default; a broken `gates.toml` is refused, as `gate check` does.
fn status_prefix(globals: &Globals) -> Result<String> {
    let Ok(repo) = Repo::open() else {
        return Ok("gate/".to_owned());
    };
    Ok(config::load_if_present(repo.root(), globals.config.as_deref())?
        .map_or_else(|| "gate/".to_owned(), |(config, _)| config.settings.status_prefix))
}
