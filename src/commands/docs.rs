//! `gate completions SHELL` and `gate man`: generated from the command-line definition
//! itself, so they never drift from it.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::Globals;
use crate::cli::Cli;

pub(crate) fn completions(globals: &Globals, shell: clap_complete::Shell) -> Result<i32> {
    let mut command = Cli::command();
    // Generated into memory first: clap_complete panics when its writer fails (a closed
    // pipe), and gate never panics.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "gate", &mut script);
    let mut out = globals.printer.stdout();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .context("failed to write the completions")?;
    Ok(0)
}

pub(crate) fn man(globals: &Globals) -> Result<i32> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .context("failed to render the man page")?;
    let mut out = globals.printer.stdout();
    out.write_all(&page)
        .and_then(|()| out.flush())
        .context("failed to write the man page")?;
    Ok(0)
}
