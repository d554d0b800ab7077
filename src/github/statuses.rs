//! Commit statuses, one context per gate: `pending` when the run starts, the final state when
//! the gate ends. Posted from a thread of its own so gates never wait on the network; a
//! read-only token (pull requests from forks) turns posting off with a warning.

use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;

use super::api::{PostError, Status, StatusApi};
use crate::model::text::cut;
use crate::model::{Outcome, Status as GateStatus};

/// GitHub refuses descriptions longer than this.
const MAX_DESCRIPTION: usize = 140;

pub(crate) struct Poster {
    send: Option<Sender<Status>>,
    worker: Option<JoinHandle<PostSummary>>,
    prefix: String,
    target_url: Option<String>,
}

/// How posting ended.
#[derive(Debug, Default)]
pub(crate) struct PostSummary {
    /// The HTTP code of a refusal that turned posting off (a warning, not an error).
    pub(crate) not_allowed: Option<u16>,
    /// A failure that is an error of the run.
    pub(crate) failed: Option<String>,
    pub(crate) posted: usize,
}

impl Poster {
    pub(crate) fn start(api: Box<dyn StatusApi>, sha: String, prefix: String, target_url: Option<String>) -> Self {
        let (send, receive) = mpsc::channel::<Status>();
        let worker = std::thread::spawn(move || {
            let mut summary = PostSummary::default();
            for status in receive {
                if summary.not_allowed.is_some() || summary.failed.is_some() {
                    continue; // drain: once refused, the rest would be too
                }
                match api.post(&sha, &status) {
                    Ok(()) => summary.posted += 1,
                    Err(PostError::NotAllowed(code)) => summary.not_allowed = Some(code),
                    Err(PostError::Failed(message)) => summary.failed = Some(message),
                }
            }
            summary
        });
        Self {
            send: Some(send),
            worker: Some(worker),
            prefix,
            target_url,
        }
    }

    pub(crate) fn pending(&self, gate: &str) {
        self.post(gate, "pending", "running");
    }

    pub(crate) fn finished(&self, outcome: &Outcome) {
        self.post(&outcome.name, state(outcome.status), &outcome.summary());
    }

    fn post(&self, gate: &str, state: &'static str, description: &str) {
        if let Some(send) = &self.send {
            let _ = send.send(Status {
                state,
                target_url: self.target_url.clone(),
                description: cut(description, MAX_DESCRIPTION),
                context: format!("{}{gate}", self.prefix),
            });
        }
    }

    /// Waits until everything is posted.
    pub(crate) fn finish(mut self) -> PostSummary {
        drop(self.send.take());
        self.worker
            .take()
            .and_then(|worker| worker.join().ok())
            .unwrap_or_else(|| PostSummary {
                failed: Some("the status thread stopped unexpectedly".to_owned()),
                ..PostSummary::default()
            })
    }
}

/// The state a required check shows: skipped gates succeed, so a required check never hangs.
pub(crate) fn state(status: GateStatus) -> &'static str {
    match status {
        GateStatus::Passed | GateStatus::Skipped => "success",
        GateStatus::Failed | GateStatus::Fixed | GateStatus::Blocked => "failure",
        GateStatus::Error => "error",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    struct Fake {
        posted: Arc<Mutex<Vec<(String, Status)>>>,
        refuse_after: usize,
    }

    impl StatusApi for Fake {
        fn post(&self, sha: &str, status: &Status) -> Result<(), PostError> {
            let mut posted = self.posted.lock().unwrap();
            if posted.len() >= self.refuse_after {
                return Err(PostError::NotAllowed(403));
            }
            posted.push((sha.to_owned(), status.clone()));
            Ok(())
        }
    }

    #[test]
    fn pending_then_final_in_order_and_a_refusal_stops_posting() {
        let record = Arc::new(Mutex::new(Vec::new()));
        let api = Fake {
            posted: record.clone(),
            refuse_after: 2,
        };
        let poster = Poster::start(
            Box::new(api),
            "abc".into(),
            "gate/".into(),
            Some("https://x/run".into()),
        );
        poster.pending("lint");
        poster.post("lint", "success", "passed in 0.1s");
        poster.post("test", "failure", "x");
        poster.post("other", "failure", "y");
        let summary = poster.finish();
        assert_eq!(summary.posted, 2);
        assert_eq!(summary.not_allowed, Some(403));
        let sent = record.lock().unwrap();
        assert_eq!(sent[0].1.state, "pending");
        assert_eq!(sent[1].1.context, "gate/lint");
        assert_eq!(sent[1].0, "abc");
    }
}
