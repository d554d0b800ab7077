//! The result model every stage of a run shares, and nothing else: it depends on no other
//! module of gate, so config, the engines, the scheduler and every reporter can speak it.
//!
//! - `kind`: what sort of gate it is ([`Kind`]) and where it runs ([`Stage`]).
//! - `diagnostic`: a finding at a place in a file ([`Diagnostic`], [`Severity`]).
//! - `outcome`: what became of a gate ([`Outcome`], [`Status`]); what a built-in gate
//!   decided ([`Verdict`]).
//! - `fixed`: a file a gate rewrote ([`FixedFile`]) and its diff.
//! - `lines`: the lines a change touched ([`LineRange`], [`ChangedLines`]).
//! - `event`: what the scheduler tells reporters while it runs.
//! - `problem`: an error message with its hint apart ([`Problem`]).
//! - `timing`: when each batch ran, where, and its peak memory ([`Batch`]).
//! - `text`: text helpers reports share.

mod diagnostic;
mod event;
mod fixed;
mod kind;
mod lines;
mod outcome;
mod problem;
pub(crate) mod text;
mod timing;

pub(crate) use diagnostic::{Diagnostic, Severity};
pub(crate) use event::Event;
pub(crate) use fixed::{FixedFile, text_diff, unified_diff};
pub(crate) use kind::{Kind, Stage};
pub(crate) use lines::{ChangedLines, LineRange};
pub(crate) use outcome::{Files, Outcome, Status, Verdict};
pub(crate) use problem::Problem;
pub(crate) use timing::{Batch, BatchJson};
