//! One file per subcommand. `check` and `hook` only build a request for
//! [`crate::run::session`]; the others are small tools around the same pieces.

pub(crate) mod audit;
pub(crate) mod cache;
pub(crate) mod check;
pub(crate) mod coverage;
pub(crate) mod docs;
pub(crate) mod doctor;
pub(crate) mod hook;
pub(crate) mod init;
pub(crate) mod install;
pub(crate) mod list;
pub(crate) mod matrix;
pub(crate) mod migrate;
pub(crate) mod presets;
pub(crate) mod publish;
pub(crate) mod recover;
pub(crate) mod secrets;
pub(crate) mod uninstall;

use std::path::PathBuf;

use crate::printer::Printer;

/// Options every subcommand takes.
pub(crate) struct Globals {
    pub(crate) printer: Printer,
    pub(crate) config: Option<PathBuf>,
}
