//! gate: decides whether a change may go in.

mod audit;
mod cache;
mod cli;
mod commands;
mod config;
mod coverage;
mod env;
mod gates;
mod git;
mod github;
mod keeper;
mod migrate;
mod model;
mod printer;
mod report;
mod run;
mod secrets;
mod select;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use commands::Globals;
use printer::{Printer, Verbosity};

/// Usage, configuration or environment errors.
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    // A thread with a stack of its own size: the CLI definition alone takes more than a
    // small `ulimit -s` (which also sets how long a command line may be) leaves the main
    // thread in a debug build.
    std::thread::Builder::new()
        .name("gate".to_owned())
        .stack_size(16 << 20)
        .spawn(run)
        // A panic (a bug in gate) exits as Rust's own panics do: 101, never a pass.
        .map_or(ExitCode::from(EXIT_ERROR), |thread| {
            thread.join().unwrap_or(ExitCode::from(101))
        })
}

fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { EXIT_ERROR } else { 0 });
        }
    };
    printer::set_colors(cli.color);
    if let Some(dir) = &cli.directory
        && let Err(err) = std::env::set_current_dir(dir)
    {
        let err = anyhow::Error::new(err).context(format!("cannot change to `{}`", dir.display()));
        Printer::new(Verbosity::Normal).error(&err);
        return ExitCode::from(EXIT_ERROR);
    }
    let verbosity = match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    let globals = Globals {
        printer: Printer::new(verbosity),
        config: cli.config,
    };
    let result = match &cli.command {
        Command::Check(args) => commands::check::check(&globals, args),
        Command::List(args) => commands::list::list(&globals, args),
        Command::Install(args) => commands::install::install(&globals, args),
        Command::Uninstall(args) => commands::uninstall::uninstall(&globals, args),
        Command::Hook(args) => commands::hook::hook(&globals, args),
        Command::Recover(args) => commands::recover::recover(&globals, args),
        Command::Publish(args) => commands::publish::publish(&globals, args),
        Command::RequiredChecks => commands::publish::required_checks(&globals),
        Command::Coverage(args) => commands::coverage::coverage(&globals, args),
        Command::Audit(args) => commands::audit::audit(&globals, args),
        Command::Doctor => commands::doctor::doctor(&globals),
        Command::Init => commands::init::init(&globals),
        Command::Presets => commands::presets::presets(&globals),
        Command::Migrate(args) => commands::migrate::migrate(&globals, args),
        Command::Matrix(args) => commands::matrix::matrix(&globals, args),
        Command::MergeReports(args) => commands::matrix::merge_reports(&globals, args),
        Command::Secrets(args) => commands::secrets::secrets(&globals, args),
        Command::Cache { action } => commands::cache::cache(&globals, *action),
        Command::Completions { shell } => commands::docs::completions(&globals, *shell),
        Command::Man => commands::docs::man(&globals),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(EXIT_ERROR)),
        Err(err) if printer::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            globals.printer.error(&err);
            ExitCode::from(EXIT_ERROR)
        }
    }
}
