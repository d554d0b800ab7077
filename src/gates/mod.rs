//! The gates gate runs itself, and reading tools' output into diagnostics.
//!
//! - `problems`: diagnostics read out of a tool's output (`problem_format`).
//! - `coverage`, `audit`, `hygiene`, `secrets`: the built-in gates, each a job run on a
//!   worker thread.

pub(crate) mod audit;
pub(crate) mod coverage;
pub(crate) mod hygiene;
pub(crate) mod problems;
pub(crate) mod secrets;

use crate::model::Verdict;

/// The work of a built-in gate, gathered on the coordinating thread, run on a worker.
#[derive(Debug)]
pub(crate) enum BuiltinJob {
    Coverage(coverage::CoverageJob),
    Audit(audit::AuditJob),
    Hygiene(hygiene::HygieneJob),
    Secrets(secrets::SecretsJob),
}

impl BuiltinJob {
    /// `fresh_after`: inputs older than this were not written by this run's dependencies.
    pub(crate) fn run(&self, fresh_after: Option<std::time::SystemTime>) -> anyhow::Result<Verdict> {
        match self {
            BuiltinJob::Coverage(job) => job.run(fresh_after),
            BuiltinJob::Audit(job) => job.run(),
            BuiltinJob::Hygiene(job) => job.run(),
            BuiltinJob::Secrets(job) => job.run(),
        }
    }
}
