//! The command line, clap derive only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::model::Stage;
use crate::printer::ColorChoice;
use crate::report::Target;

#[derive(Debug, Parser)]
#[command(
    name = "gate",
    version,
    about = "Decides whether a change may go in: formatters, linters, type checks and tests, in parallel, on the files the change touched"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// When to use colour.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub(crate) color: ColorChoice,
    /// Show the output of every gate, not only of failing ones.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub(crate) verbose: bool,
    /// Show only failures and the closing line.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Run as if gate was started in DIR (like `git -C`).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub(crate) directory: Option<PathBuf>,
    /// The configuration file (default: `gates.toml` at the repository root).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the gates on a change set.
    Check(CheckArgs),
    /// Show the plan: which gates would run, on how many files, and why others would not.
    List(ListArgs),
    /// Write gate's hook shims into the repository's hooks directory.
    Install(InstallArgs),
    /// Remove gate's hook shims and put back what was there before.
    Uninstall(UninstallArgs),
    /// What the installed hook shims call.
    Hook(HookArgs),
    /// Put back unstaged changes saved by a run that was killed before it could.
    Recover(RecoverArgs),
    /// Post the commit statuses of a saved JSON report (from a job that may write them).
    Publish(PublishArgs),
    /// Print the status check names to require in branch protection.
    RequiredChecks,
    /// Check coverage reports by hand: total and patch coverage against thresholds.
    Coverage(CoverageArgs),
    /// Audit lockfiles against the offline vulnerability database (or update it).
    Audit(AuditArgs),
    /// Check the setup: configuration, tools on PATH, hooks, database age.
    Doctor,
    /// Write a `gates.toml` with the gates detected from the repository and PATH.
    Init,
    /// List the presets (`preset = "NAME"` in a gate) and what each runs.
    Presets,
    /// Write `gates.toml` from `.pre-commit-config.yaml` or `lefthook.yml`.
    Migrate(MigrateArgs),
    /// Print a GitHub Actions matrix (JSON) of the gates the change needs, one entry per
    /// gate (or per gate and directory); post `success` for the gates that need no runner.
    Matrix(MatrixArgs),
    /// Combine shard JSON reports into one report, summary and exit code.
    MergeReports(MergeArgs),
    /// Scan what a change adds for secrets (every tracked text file with `--all`).
    Secrets(SecretsArgs),
    /// The result cache: `stats` shows its size and hits, `clean` empties it.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print gate's man page (roff) to stdout: `gate man | man -l -`.
    Man,
}

/// Which files a run considers and which gates it runs.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct Selection {
    /// The staged changes (index against HEAD), as a pre-commit hook sees them.
    #[arg(long, conflicts_with_all = ["base", "all", "files"])]
    pub(crate) staged: bool,
    /// The commits since the merge base of REF and HEAD.
    #[arg(long, value_name = "REF", conflicts_with_all = ["all", "files"])]
    pub(crate) base: Option<String>,
    /// Every tracked file.
    #[arg(long, conflicts_with = "files")]
    pub(crate) all: bool,
    /// These files, as if they had changed.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub(crate) files: Vec<PathBuf>,
    /// Run only these gates (repeatable).
    #[arg(long = "gate", value_name = "NAME")]
    pub(crate) gates: Vec<String>,
    /// The stage to run, e.g. `pre-commit`, `pre-push`, `ci` or `manual` (default: `ci` in CI, else `manual`).
    #[arg(long, value_name = "STAGE", value_enum)]
    pub(crate) stage: Option<Stage>,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) selection: Selection,
    /// Run each gate's `fix` command instead of `run` (never in CI).
    #[arg(long)]
    pub(crate) fix: bool,
    /// One entry of `gate matrix`: `GATE`, or `GATE@DIR` for its files under DIR.
    #[arg(long, value_name = "ID", conflicts_with = "gates")]
    pub(crate) shard: Option<String>,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

/// Options of a run that override `[settings]`.
#[derive(Debug, Clone, Default, Args)]
#[expect(clippy::struct_excessive_bools, reason = "each is a command-line flag")]
pub(crate) struct RunArgs {
    /// Processes to run at once, across all gates (default: `settings.jobs`, else two more than the CPUs; 0: that default).
    #[arg(short, long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
    /// Start no new gate after the first failure.
    #[arg(long, overrides_with = "no_fail_fast")]
    pub(crate) fail_fast: bool,
    /// Start every gate even after a failure (overrides `settings.fail_fast`).
    #[arg(long)]
    pub(crate) no_fail_fast: bool,
    /// Also write the result as FORMAT (json, junit, sarif) to PATH, e.g. `junit=gate.xml` (repeatable).
    #[arg(long, value_name = "FORMAT=PATH", value_parser = Target::parse)]
    pub(crate) report: Vec<Target>,
    /// In GitHub Actions, do not post commit statuses.
    #[arg(long)]
    pub(crate) no_statuses: bool,
    /// Run every gate: reuse no earlier pass, and keep none.
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Write an HTML page of where the time went (default `gate-timings.html`).
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "gate-timings.html")]
    pub(crate) timings: Option<PathBuf>,
}

impl RunArgs {
    pub(crate) fn fail_fast(&self) -> Option<bool> {
        match (self.fail_fast, self.no_fail_fast) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) selection: Selection,
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// Hooks to install (default: pre-commit and pre-push).
    #[arg(long = "hook", value_name = "NAME")]
    pub(crate) hooks: Vec<String>,
    /// Replace a hook gate did not write; the old one is kept and runs first.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UninstallArgs {
    /// Hooks to remove (default: every hook gate installed).
    #[arg(long = "hook", value_name = "NAME")]
    pub(crate) hooks: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct HookArgs {
    /// The hook git runs, e.g. `pre-commit` or `pre-push`.
    pub(crate) name: String,
    /// The arguments git passed to the hook.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub(crate) args: Vec<std::ffi::OsString>,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RecoverArgs {
    /// The backup to restore (default: every backup, oldest first).
    pub(crate) id: Option<String>,
    /// List the backups instead of restoring.
    #[arg(long)]
    pub(crate) list: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// A report written by `gate check --report json=PATH`.
    pub(crate) report: PathBuf,
    /// The commit to post to (default: the report's head commit).
    #[arg(long)]
    pub(crate) sha: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CoverageArgs {
    /// `LCOV`, `Cobertura` XML, `JaCoCo` XML or Go cover profile files (merged).
    #[arg(required = true)]
    pub(crate) reports: Vec<PathBuf>,
    /// Fail below this total coverage, in percent.
    #[arg(long, value_name = "PERCENT")]
    pub(crate) min_total: Option<f64>,
    /// Fail below this coverage of the changed lines, in percent.
    #[arg(long, value_name = "PERCENT")]
    pub(crate) min_patch: Option<f64>,
    /// The changed lines are those of merge-base(REF, HEAD)..HEAD (default: changes against HEAD).
    #[arg(long, value_name = "REF")]
    pub(crate) base: Option<String>,
    /// Rewrite a report path prefix, `FROM=TO` (repeatable).
    #[arg(long, value_name = "FROM=TO")]
    pub(crate) path_map: Vec<String>,
}

#[derive(Debug, Clone, Copy, clap::Subcommand)]
pub(crate) enum CacheAction {
    /// Entries, size, and the hits and misses runs counted.
    Stats,
    /// Remove every cached result.
    Clean,
}

#[derive(Debug, Args)]
pub(crate) struct SecretsArgs {
    /// Files to scan whole (default: what the change set adds).
    pub(crate) paths: Vec<PathBuf>,
    /// The staged changes.
    #[arg(long, conflicts_with_all = ["base", "all"])]
    pub(crate) staged: bool,
    /// The commits since the merge base of REF and HEAD.
    #[arg(long, value_name = "REF", conflicts_with = "all")]
    pub(crate) base: Option<String>,
    /// Every tracked file.
    #[arg(long)]
    pub(crate) all: bool,
    /// Write what is found to FILE as a baseline (fingerprints, never secrets) and pass.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct MatrixArgs {
    #[command(flatten)]
    pub(crate) selection: Selection,
    /// One entry per gate (default) or per gate and top-level directory of its files.
    #[arg(long, value_enum, default_value_t = MatrixBy::Gate)]
    pub(crate) by: MatrixBy,
    /// Do not post statuses for the gates that need no runner.
    #[arg(long)]
    pub(crate) no_statuses: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum MatrixBy {
    Gate,
    Dir,
}

#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// The shards' `--report json=PATH` files.
    #[arg(required = true)]
    pub(crate) reports: Vec<PathBuf>,
    /// Also write the merged result as FORMAT=PATH (json, junit, sarif).
    #[arg(long, value_name = "FORMAT=PATH", value_parser = Target::parse)]
    pub(crate) report: Vec<Target>,
    /// In GitHub Actions, do not post the merged statuses.
    #[arg(long)]
    pub(crate) no_statuses: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// The configuration to read (default: `.pre-commit-config.yaml`, else `lefthook.yml`).
    #[arg(long, value_name = "FILE")]
    pub(crate) from: Option<PathBuf>,
    /// Replace an existing `gates.toml`.
    #[arg(long)]
    pub(crate) force: bool,
}

/// How `gate audit` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AuditFormat {
    /// `path:line: message` lines and a closing line.
    Text,
    /// The whole audit result as JSON.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Lockfiles to audit (default: every lockfile in the repository).
    pub(crate) lockfiles: Vec<PathBuf>,
    /// The OSV database folder (default: the audit gate's `db`, else the user cache).
    #[arg(long, value_name = "DIR")]
    pub(crate) db: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub(crate) format: AuditFormat,
    /// Download the database exports for the ecosystems the repository uses.
    #[arg(long)]
    pub(crate) update: bool,
    /// Where `--update` downloads `<Ecosystem>/all.zip` from.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://osv-vulnerabilities.storage.googleapis.com"
    )]
    pub(crate) url: String,
}
