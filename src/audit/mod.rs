//! The built-in dependency audit.
//!
//! - `version`: version ordering per ecosystem.
//! - `osv`: the offline database and how a record affects a version.

pub(crate) mod osv;
pub(crate) mod version;
