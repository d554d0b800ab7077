//! The only code that writes to stdout or stderr: results go to stdout, warnings and
//! notes to stderr, and quiet/verbose are decided here, once.

use std::fmt::Display;
use std::io::{self, Write};

use crate::env;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Printer {
    pub(crate) verbosity: Verbosity,
}

impl Printer {
    pub(crate) fn new(verbosity: Verbosity) -> Self {
        Self { verbosity }
    }

    #[expect(
        clippy::unused_self,
        reason = "writing goes through the printer, so output stays in one place"
    )]
    pub(crate) fn stdout(self) -> io::StdoutLock<'static> {
        io::stdout().lock()
    }

    #[expect(
        clippy::unused_self,
        reason = "writing goes through the printer, so output stays in one place"
    )]
    pub(crate) fn stderr(self) -> io::StderrLock<'static> {
        io::stderr().lock()
    }

    /// A warning the user should act on; shown even when quiet.
    pub(crate) fn warn(self, message: impl Display) {
        let label = console::style("warning").yellow().bold().for_stderr();
        let _ = writeln!(self.stderr(), "{label}: {message}");
    }

    /// Context about what gate decided (e.g. the built-in gates it chose); hidden when quiet.
    pub(crate) fn note(self, message: impl Display) {
        if self.verbosity > Verbosity::Quiet {
            let label = console::style("note").cyan().bold().for_stderr();
            let _ = writeln!(self.stderr(), "{label}: {message}");
        }
    }

    /// Prints a fatal error and its chain of causes, as cargo does.
    pub(crate) fn error(self, error: &anyhow::Error) {
        let mut err = self.stderr();
        let label = console::style("error").red().bold().for_stderr();
        let (causes, hint) = crate::model::Problem::causes(error);
        let mut causes = causes.iter();
        let _ = writeln!(err, "{label}: {}", causes.next().map_or("", String::as_str));
        for cause in causes {
            let _ = writeln!(err, "  caused by: {cause}");
        }
        if let Some(hint) = hint {
            let _ = writeln!(err, "hint: {hint}");
        }
    }
}

/// Colour for stdout and stderr: `--color`, else on for a terminal unless `NO_COLOR` is set.
/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub(crate) fn set_colors(choice: ColorChoice) {
    let wanted = |term: console::Term| match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => env::var_os(env::NO_COLOR).is_none_or(|v| v.is_empty()) && term.is_term(),
    };
    console::set_colors_enabled(wanted(console::Term::stdout()));
    console::set_colors_enabled_stderr(wanted(console::Term::stderr()));
}

/// `gate list | head` closes the pipe early; that is not an error (as in ripgrep).
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}
