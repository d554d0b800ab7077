//! The built-in dependency audit.
//!
//! - `version`: version ordering per ecosystem.

pub(crate) mod version;
