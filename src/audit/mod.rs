//! The built-in dependency audit.
//!
//! - `version`: version ordering per ecosystem.
//! - `lockfile`: the pinned packages of each lockfile, with their lines.
//! - `osv`: the offline database and how a record affects a version.

pub(crate) mod lockfile;
pub(crate) mod osv;
pub(crate) mod version;
