//! Posting one commit status (`POST /repos/{owner}/{repo}/statuses/{sha}`), retried with
//! backoff on server errors and rate limits (honouring `Retry-After`) within a bounded total.
//! Behind [`StatusApi`] so that the rest can be tested without a network.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Token;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Status {
    /// `pending`, `success`, `failure` or `error`.
    pub(crate) state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) target_url: Option<String>,
    pub(crate) description: String,
    pub(crate) context: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PostError {
    /// 403 or 404: a token that may not write statuses (a pull request from a fork).
    NotAllowed(u16),
    /// Anything else, after retries; the message names no secret.
    Failed(String),
}

pub(crate) trait StatusApi: Send {
    fn post(&self, sha: &str, status: &Status) -> Result<(), PostError>;
}

/// The real API over HTTPS (or HTTP, for a test server on loopback).
pub(crate) struct Http {
    agent: ureq::Agent,
    url: String,
    token: Token,
    /// Longest total wait across retries of one request.
    budget: Duration,
}

impl Http {
    pub(crate) fn new(api_url: &str, repository: &str, token: Token) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect would turn the POST into a GET (and carry the token elsewhere): it is
            // an answer to report, not to follow.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .user_agent(concat!("gate/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: ureq::Agent::new_with_config(config),
            url: format!("{}/repos/{repository}/statuses", api_url.trim_end_matches('/')),
            token,
            budget: Duration::from_mins(1),
        }
    }
}

/// What to do after one attempt.
enum Attempt {
    Done,
    Retry(Option<Duration>, String),
    Stop(PostError),
}

impl StatusApi for Http {
    fn post(&self, sha: &str, status: &Status) -> Result<(), PostError> {
        let body = serde_json::to_string(status).map_err(|err| PostError::Failed(err.to_string()))?;
        let url = format!("{}/{sha}", self.url);
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            let outcome = match self
                .agent
                .post(&url)
                .header("Authorization", &format!("Bearer {}", self.token.expose()))
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .content_type("application/json")
                .send(&body)
            {
                Ok(response) => classify(&response),
                // Unreachable: worth a couple of quick tries, not the whole budget.
                Err(err) if attempt < 2 => Attempt::Retry(None, format!("could not reach `{url}`: {err}")),
                Err(err) => Attempt::Stop(PostError::Failed(
                    self.token.redact(&format!("could not reach `{url}`: {err}")),
                )),
            };
            let (wait, why) = match outcome {
                Attempt::Done => return Ok(()),
                Attempt::Stop(err) => return Err(err),
                Attempt::Retry(wait, why) => (wait.unwrap_or(Duration::from_millis(500) * 2u32.pow(attempt)), why),
            };
            attempt += 1;
            if attempt >= 6 || start.elapsed() + wait > self.budget {
                return Err(PostError::Failed(
                    self.token.redact(&format!("{why} (gave up after {attempt} attempts)")),
                ));
            }
            std::thread::sleep(wait);
        }
    }
}

fn classify(response: &ureq::http::Response<ureq::Body>) -> Attempt {
    let code = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(60)));
    let rate_limited = code == 429
        || (code == 403 && (retry_after.is_some() || header("x-ratelimit-remaining").as_deref() == Some("0")));
    match code {
        200..=299 => Attempt::Done,
        _ if rate_limited => Attempt::Retry(
            retry_after.or(Some(Duration::from_secs(1))),
            format!("rate limited (HTTP {code})"),
        ),
        403 | 404 => Attempt::Stop(PostError::NotAllowed(code)),
        300..=399 => Attempt::Stop(PostError::Failed(format!(
            "the API answered HTTP {code} (a redirect, not followed: check `GITHUB_API_URL`)"
        ))),
        500..=599 => Attempt::Retry(retry_after, format!("the API answered HTTP {code}")),
        _ => Attempt::Stop(PostError::Failed(format!("the API answered HTTP {code}"))),
    }
}
