//! GitHub Actions: which commits a run is about, and commit statuses, one per gate.
//!
//! - `event`: the change set's base and head from the event payload.
//! - `api`: the REST call that posts a status, with retries, behind a small trait.
//! - `statuses`: posting `pending` and final states from a thread of its own while gates run.

pub(crate) mod api;
pub(crate) mod event;
pub(crate) mod statuses;

use std::fmt;
use std::path::PathBuf;

use anyhow::Result;

use crate::env;
use crate::model::Problem;
use crate::printer::Printer;

/// The base and head of the event that started the workflow, if it names them.
pub(crate) fn event_range() -> Result<Option<event::Range>> {
    let (Some(name), Some(path)) = (env::var(env::GITHUB_EVENT_NAME), env::var_os(env::GITHUB_EVENT_PATH)) else {
        return Ok(None);
    };
    event::range(&name, &PathBuf::from(path))
}

/// A secret. It has no `Display`, and its `Debug` shows nothing of it.
#[derive(Clone)]
pub(crate) struct Token(String);

impl Token {
    /// `GATE_GITHUB_TOKEN`, else `GITHUB_TOKEN`.
    pub(crate) fn from_env() -> Option<Self> {
        env::var(env::GATE_GITHUB_TOKEN)
            .or_else(|| env::var(env::GITHUB_TOKEN))
            .map(Token)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the token replaced: for any message that might have
    /// picked it up from somewhere (an echoed header, a URL).
    pub(crate) fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// The run's page, linked from every status.
pub(crate) fn run_url() -> Option<String> {
    let server = env::var(env::GITHUB_SERVER_URL).unwrap_or_else(|| "https://github.com".to_owned());
    let repository = env::var(env::GITHUB_REPOSITORY)?;
    let run = env::var(env::GITHUB_RUN_ID)?;
    Some(format!(
        "{}/{repository}/actions/runs/{run}",
        server.trim_end_matches('/')
    ))
}

/// Where the REST API is.
pub(crate) fn api_url() -> String {
    env::var(env::GITHUB_API_URL).unwrap_or_else(|| "https://api.github.com".to_owned())
}

/// What a run adds in GitHub Actions: commit statuses while it runs, then output groups,
/// annotations and the job summary.
pub(crate) struct Actions {
    poster: Option<statuses::Poster>,
    summary: Option<PathBuf>,
}

/// Whether statuses may be posted, and where.
pub(crate) struct StatusTarget<'a> {
    pub(crate) sha: Option<String>,
    pub(crate) prefix: &'a str,
    pub(crate) enabled: bool,
}

impl Actions {
    /// `None` outside GitHub Actions. Posts `pending` for `running` gates at once.
    pub(crate) fn start<'g>(
        target: &StatusTarget<'_>,
        running: impl Iterator<Item = &'g str>,
        printer: Printer,
    ) -> Option<Self> {
        if !env::in_github_actions() {
            return None;
        }
        let poster = match (target.enabled, Token::from_env(), env::var(env::GITHUB_REPOSITORY)) {
            (false, _, _) => None,
            (true, None, _) => {
                printer.note("no `GITHUB_TOKEN` or `GATE_GITHUB_TOKEN`: commit statuses are not posted");
                None
            }
            (true, Some(_), None) => {
                printer.warn("`GITHUB_REPOSITORY` is not set: commit statuses are not posted");
                None
            }
            (true, Some(token), Some(repository)) => {
                let sha = target.sha.clone().or_else(|| env::var(env::GITHUB_SHA));
                sha.map(|sha| {
                    let api = api::Http::new(&api_url(), &repository, token);
                    statuses::Poster::start(Box::new(api), sha, target.prefix.to_owned(), run_url())
                })
            }
        };
        if let Some(poster) = &poster {
            for gate in running {
                poster.pending(gate);
            }
        }
        Some(Self {
            poster,
            summary: env::var_os(env::GITHUB_STEP_SUMMARY).map(PathBuf::from),
        })
    }

    pub(crate) fn finished(&self, outcome: &crate::model::Outcome) {
        if let Some(poster) = &self.poster {
            poster.finished(outcome);
        }
    }

    /// Prints the workflow commands, writes the job summary and waits for the statuses.
    /// An error means statuses could not be posted (a failure of the run, exit 2).
    pub(crate) fn finish(self, report: &crate::report::Report<'_>, printer: Printer) -> Result<()> {
        use std::io::Write as _;
        let _ = printer
            .stdout()
            .write_all(crate::report::github::commands(report).as_bytes());
        if let Some(path) = &self.summary {
            crate::report::github::write_summary(path, report)?;
        }
        self.wait_for_statuses(printer)
    }

    /// Waits until the statuses posted so far are sent (or refused).
    pub(crate) fn wait_for_statuses(self, printer: Printer) -> Result<()> {
        let Some(poster) = self.poster else { return Ok(()) };
        let summary = poster.finish();
        if let Some(code) = summary.not_allowed {
            printer.warn(Problem::hinted(
                format!("GitHub refused the commit statuses (HTTP {code}): the token may not write statuses, as for pull requests from forks; the result is in the annotations and the job summary"),
                "give the job `permissions: statuses: write`, or post later with `gate publish` from a job that may",
            ));
        }
        if let Some(message) = summary.failed {
            anyhow::bail!("failed to post commit statuses: {message}");
        }
        Ok(())
    }
}
