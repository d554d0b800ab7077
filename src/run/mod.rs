//! Running the gates.
//!
//! - `session`: one run, start to end, from a request: the pipeline in one place.
//! - `plan`: per gate, skip or the commands to start (file lists batched under `ARG_MAX`).
//! - `scheduler`: runs the plan on one pool capped at `--jobs`, in dependency order.
//! - `process`: starts one command, captures its output, enforces its timeout.
//! - `processes`: what a command started, from /proc: its group, and what left the group.
//! - `cached`: a pass on the same inputs is reused; passes are kept.
//! - `modified`: checks must not write; the gates that did fail.
//! - `watch`: what the gates wrote, from inotify, instead of scanning every file again.
//! - `clock`: a moment on the file system's clock, so what changed since needs no scan before.
//! - `fixes`: what a fixer changed, and where fixes go afterwards.
//! - `unchecked`: what a run cannot check (left by the set-aside, beyond a link), named.
//! - `untracked`: the untracked files a gate that reads the whole project sees, named.

pub(crate) mod cached;
pub(crate) mod clock;
pub(crate) mod fixes;
pub(crate) mod modified;
pub(crate) mod plan;
pub(crate) mod process;
pub(crate) mod processes;
pub(crate) mod scheduler;
pub(crate) mod session;
pub(crate) mod unchecked;
pub(crate) mod untracked;
pub(crate) mod watch;
