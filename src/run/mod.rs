//! Running the gates.
//!
//! - `plan`: per gate, skip or the commands to start (file lists batched under `ARG_MAX`).
//! - `scheduler`: runs the plan on one pool capped at `--jobs`, in dependency order.
//! - `process`: starts one command, captures its output, enforces its timeout.
//! - `event`: what the scheduler tells the reporters while it runs.
//! - `fixes`: what a fixer changed, from the content of its files before and after.

pub(crate) mod event;
pub(crate) mod fixes;
pub(crate) mod plan;
pub(crate) mod process;
pub(crate) mod scheduler;
