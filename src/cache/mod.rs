//! The result cache: a gate that passed on exactly the same inputs is not run again.
//!
//! - `key`: what a result depends on, folded into one sha256 ([`Key`]).
//! - `store`: where passes are kept ([`Store`]): a bounded folder under the git common
//!   directory, shared by worktrees, safe under concurrent runs.
//! - `remote`: a shared store on the Bazel HTTP cache layout, behind the local one.

pub(crate) mod key;
pub(crate) mod remote;
pub(crate) mod store;

pub(crate) use key::{Key, KeyBuilder};
pub(crate) use remote::Remote;
pub(crate) use store::{LocalStore, Record, Store};
