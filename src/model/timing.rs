//! When each batch of a gate ran, on which worker, and how much memory it took.

use std::time::Duration;

use serde::Serialize;

/// One process (or built-in run) of a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Batch {
    /// The worker thread it ran on.
    pub(crate) lane: usize,
    /// From the start of the run.
    pub(crate) start: Duration,
    pub(crate) end: Duration,
    /// Peak resident memory of the process and the children it waited for, in bytes.
    pub(crate) peak_rss: Option<u64>,
}

/// A batch as the JSON report writes it.
#[derive(Serialize)]
pub(crate) struct BatchJson {
    lane: usize,
    start_ms: u128,
    end_ms: u128,
    peak_rss_bytes: Option<u64>,
}

impl From<&Batch> for BatchJson {
    fn from(batch: &Batch) -> Self {
        Self {
            lane: batch.lane,
            start_ms: batch.start.as_millis(),
            end_ms: batch.end.as_millis(),
            peak_rss_bytes: batch.peak_rss,
        }
    }
}
