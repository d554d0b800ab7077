//! Every environment variable gate reads, in one place, so that none is read by accident
//! and tests know exactly what to set.

use std::ffi::OsString;

/// Gates named here (comma separated) are skipped, like pre-commit's `SKIP`.
pub(crate) const GATE_SKIP: &str = "GATE_SKIP";
/// Disables colour whatever its value, per <https://no-color.org>.
pub(crate) const NO_COLOR: &str = "NO_COLOR";
/// Set by most CI services; selects the `ci` stage.
pub(crate) const CI: &str = "CI";
/// Set by GitHub Actions.
pub(crate) const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
/// Set by git for `git commit -a` and `git commit PATH`: the temporary index to check.
pub(crate) const GIT_INDEX_FILE: &str = "GIT_INDEX_FILE";
/// The work tree of a bare git dir (`git --git-dir=~/.dotfiles --work-tree=~`).
pub(crate) const GIT_WORK_TREE: &str = "GIT_WORK_TREE";
/// Fault injection for tests only (debug builds): `panic-after-stash` makes gate panic right
/// after it set unstaged changes aside, to prove that a panic restores them; `copy-backup`
/// copies the user's files into the backup as on another mount, instead of moving them.
#[cfg(debug_assertions)]
pub(crate) const GATE_FAULT: &str = "GATE_FAULT";
/// GitHub Actions: the event that started the workflow, and the file with its payload.
pub(crate) const GITHUB_EVENT_NAME: &str = "GITHUB_EVENT_NAME";
pub(crate) const GITHUB_EVENT_PATH: &str = "GITHUB_EVENT_PATH";
/// GitHub Actions: the commit the workflow runs on (for pull requests, a test merge commit).
pub(crate) const GITHUB_SHA: &str = "GITHUB_SHA";
/// GitHub Actions: `owner/name`.
pub(crate) const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
/// GitHub Actions: where the REST API is (default `https://api.github.com`); tests point it
/// at a server of their own.
pub(crate) const GITHUB_API_URL: &str = "GITHUB_API_URL";
pub(crate) const GITHUB_SERVER_URL: &str = "GITHUB_SERVER_URL";
pub(crate) const GITHUB_RUN_ID: &str = "GITHUB_RUN_ID";
/// GitHub Actions: the file the job summary is appended to.
pub(crate) const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
/// The token for commit statuses: `GATE_GITHUB_TOKEN` first, else `GITHUB_TOKEN`. Never printed.
pub(crate) const GATE_GITHUB_TOKEN: &str = "GATE_GITHUB_TOKEN";
pub(crate) const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
/// Where the default vulnerability database lives: `$XDG_CACHE_HOME/gate/osv`, else
/// `$HOME/.cache/gate/osv`.
pub(crate) const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// Where git keeps its global attributes file when `core.attributesFile` is not set.
pub(crate) const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
pub(crate) const HOME: &str = "HOME";
/// The search path for the programs gates run.
pub(crate) const PATH: &str = "PATH";
/// The remote result cache's URL, and its bearer token.
pub(crate) const GATE_CACHE_URL: &str = "GATE_CACHE_URL";
pub(crate) const GATE_CACHE_TOKEN: &str = "GATE_CACHE_TOKEN";
/// An activated Python virtual environment: its `bin` is searched before PATH.
pub(crate) const VIRTUAL_ENV: &str = "VIRTUAL_ENV";

/// Never handed to a gate's process unless the gate lists it in `pass_env`: tokens a tool
/// could print into a log or report, and the files through which a step writes workflow
/// commands around the `::stop-commands::` fence.
pub(crate) const WITHHELD: &[&str] = &[
    GITHUB_TOKEN,
    GATE_GITHUB_TOKEN,
    GATE_CACHE_TOKEN,
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITHUB_ENV",
    "GITHUB_OUTPUT",
    "GITHUB_PATH",
    "GITHUB_STATE",
    GITHUB_STEP_SUMMARY,
];

#[expect(
    clippy::disallowed_methods,
    reason = "this module is the one reader of the environment"
)]
pub(crate) fn var_os(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// A variable's value as text; unset, empty and non-UTF-8 all read as `None`.
pub(crate) fn var(name: &str) -> Option<String> {
    var_os(name)
        .and_then(|value| value.into_string().ok())
        .filter(|value| !value.is_empty())
}

/// `true` for a set, non-empty value other than `false` or `0`.
pub(crate) fn flag(name: &str) -> bool {
    var(name).is_some_and(|value| !matches!(value.as_str(), "false" | "0"))
}

/// The names in `GATE_SKIP`.
pub(crate) fn skipped_gates() -> Vec<String> {
    var(GATE_SKIP)
        .map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether gate runs as a step of a GitHub Actions job.
pub(crate) fn in_github_actions() -> bool {
    flag(GITHUB_ACTIONS)
}

/// Whether gate runs inside CI, where the `ci` stage applies.
pub(crate) fn in_ci() -> bool {
    flag(CI) || flag(GITHUB_ACTIONS)
}

/// Bytes the environment takes in a child's argument space (`execve` counts both).
pub(crate) fn size_in_bytes() -> usize {
    std::env::vars_os()
        .map(|(key, value)| key.len() + value.len() + 2 + std::mem::size_of::<usize>())
        .sum()
}
