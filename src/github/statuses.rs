//! Commit statuses, one context per gate: `pending` when the run starts, the final state when
//! the gate ends. Posted from a thread of its own so gates never wait on the network; a
//! read-only token (pull requests from forks) turns posting off with a warning.
//!
//! One request at a time, as GitHub asks of clients (concurrent content-creating requests
//! meet its secondary rate limits), and only the latest state of each context: a status
//! still waiting when a newer one for its gate comes is replaced by it (a gate that ended
//! before its `pending` went out is posted once, with its result). So a run whose gates end
//! together costs one request per gate, not two, and the job's tail waits on fewer.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use super::api::{PostError, Status, StatusApi};
use crate::model::text::cut;
use crate::model::{Outcome, Status as GateStatus};

/// GitHub refuses descriptions longer than this.
const MAX_DESCRIPTION: usize = 140;

pub(crate) struct Poster {
    queue: Arc<Queue>,
    worker: Option<JoinHandle<PostSummary>>,
    prefix: String,
    target_url: Option<String>,
}

/// The statuses not posted yet, in order, at most one per context.
#[derive(Default)]
struct Queue {
    state: Mutex<Waiting>,
    changed: Condvar,
}

#[derive(Default)]
struct Waiting {
    statuses: VecDeque<Status>,
    closed: bool,
}

impl Queue {
    fn push(&self, status: Status) {
        let mut waiting = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match waiting.statuses.iter_mut().find(|s| s.context == status.context) {
            Some(older) => *older = status,
            None => waiting.statuses.push_back(status),
        }
        self.changed.notify_one();
    }

    /// The next status to post; `None` once closed and empty.
    fn next(&self) -> Option<Status> {
        let mut waiting = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(status) = waiting.statuses.pop_front() {
                return Some(status);
            }
            if waiting.closed {
                return None;
            }
            waiting = self.changed.wait(waiting).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn close(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
        self.changed.notify_one();
    }
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
        let queue = Arc::new(Queue::default());
        let waiting = Arc::clone(&queue);
        let worker = std::thread::spawn(move || {
            let mut summary = PostSummary::default();
            while let Some(status) = waiting.next() {
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
            queue,
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
        self.queue.push(Status {
            state,
            target_url: self.target_url.clone(),
            description: cut(description, MAX_DESCRIPTION),
            context: format!("{}{gate}", self.prefix),
        });
    }

    /// Waits until everything is posted.
    pub(crate) fn finish(mut self) -> PostSummary {
        self.queue.close();
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
        // Posted before lint's result comes (else the result replaces it, see the next test).
        while record.lock().unwrap().is_empty() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
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

    /// An API that answers its first request only when told to.
    struct Held {
        posted: Arc<Mutex<Vec<Status>>>,
        release: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
        started: std::sync::mpsc::Sender<()>,
    }

    impl StatusApi for Held {
        fn post(&self, _sha: &str, status: &Status) -> Result<(), PostError> {
            if let Some(release) = self.release.lock().unwrap().take() {
                self.started.send(()).unwrap();
                release.recv().unwrap();
            }
            self.posted.lock().unwrap().push(status.clone());
            Ok(())
        }
    }

    #[test]
    fn a_status_still_waiting_is_replaced_by_its_gates_newer_one() {
        let record = Arc::new(Mutex::new(Vec::new()));
        let (release, held) = std::sync::mpsc::channel();
        let (started, first) = std::sync::mpsc::channel();
        let api = Held {
            posted: record.clone(),
            release: Mutex::new(Some(held)),
            started,
        };
        let poster = Poster::start(Box::new(api), "abc".into(), "gate/".into(), None);
        for gate in ["lint", "test", "docs"] {
            poster.pending(gate);
        }
        first.recv().unwrap(); // lint's pending is on its way; test's and docs' wait
        poster.post("test", "failure", "failed");
        poster.post("lint", "success", "passed");
        poster.post("docs", "success", "passed");
        release.send(()).unwrap();
        let summary = poster.finish();
        let sent: Vec<(String, &str)> = record
            .lock()
            .unwrap()
            .iter()
            .map(|s| (s.context.clone(), s.state))
            .collect();
        assert_eq!(
            sent,
            [
                ("gate/lint".to_owned(), "pending"),
                ("gate/test".to_owned(), "failure"),
                ("gate/docs".to_owned(), "success"),
                ("gate/lint".to_owned(), "success"),
            ],
            "one request per gate once it ended, and never a pending after its result"
        );
        assert_eq!(summary.posted, 4);
    }
}
