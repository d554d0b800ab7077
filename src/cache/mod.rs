//! The result cache: a gate that passed on exactly the same inputs is not run again.
//!
//! - `key`: what a result depends on, folded into one sha256 ([`Key`]).
//! - `store`: where passes are kept ([`Store`]): a bounded folder under the git common
//!   directory, shared by worktrees, safe under concurrent runs. A remote store can sit
//!   behind the same trait.

pub(crate) mod key;
pub(crate) mod store;

pub(crate) use key::{Key, KeyBuilder};
pub(crate) use store::{LocalStore, Record, Store};
