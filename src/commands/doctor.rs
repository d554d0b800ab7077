//! `gate doctor`: is the setup sound? The configuration loads, every program is on PATH,
//! the hooks are installed, and the vulnerability database is there and how old it is.

use std::io::Write;

use anyhow::Result;

use super::Globals;
use crate::commands::install::is_ours;
use crate::config::default_db;
use crate::config::{self, Action, Program};
use crate::git::Repo;

pub(crate) fn doctor(globals: &Globals) -> Result<i32> {
    let repo = Repo::open()?;
    let mut out = globals.printer.stdout();
    let mut problems = 0;
    let (config, origin) = match config::load(repo.root(), globals.config.as_deref(), globals.printer) {
        Ok(loaded) => loaded,
        Err(err) => {
            writeln!(out, "config   problem: {err}")?;
            return Ok(1);
        }
    };
    let source = match &origin {
        config::Origin::File(path) => path.display().to_string(),
        config::Origin::Detected => "built-in gates".to_owned(),
    };
    writeln!(out, "config   ok: {} gates from {source}", config.gates.len())?;
    for gate in &config.gates {
        let Action::Command {
            run: Program::Argv(argv),
            ..
        } = &gate.action
        else {
            continue;
        };
        let cwd = repo.root().join(&gate.workdir);
        let found = if argv[0].contains('/') {
            cwd.join(&argv[0]).is_file()
        } else {
            which::which_in(&argv[0], crate::env::var_os(crate::env::PATH), &cwd).is_ok()
        };
        if !found {
            problems += 1;
            writeln!(
                out,
                "tools    problem: `{}` (gate `{}`) is not on PATH",
                argv[0], gate.name
            )?;
        }
    }
    if problems == 0 {
        writeln!(out, "tools    ok: every program is on PATH")?;
    }
    let hooks = repo.hooks_dir()?;
    for hook in ["pre-commit", "pre-push"] {
        let installed = std::fs::read(hooks.join(hook)).is_ok_and(|content| is_ours(&content));
        writeln!(
            out,
            "hooks    {hook}: {}",
            if installed {
                "installed"
            } else {
                "not installed (run `gate install`)"
            }
        )?;
    }
    for gate in &config.gates {
        let Action::Audit(spec) = &gate.action else {
            continue;
        };
        let db = spec.db().or_else(|_| default_db())?;
        // The database is as current as its newest record, whatever the files' times say.
        let newest = match crate::audit::osv::Database::load(&db, &crate::audit::version::Ecosystem::ALL) {
            Ok(database) => database.newest,
            Err(_) => None,
        };
        if let Some(newest) = newest {
            let days = jiff::Timestamp::now().duration_since(newest).as_secs().max(0) / 86_400;
            let stale = days > 7;
            problems += usize::from(stale);
            writeln!(
                out,
                "audit    {}: database `{}`: newest record from {days} days ago{}",
                if stale { "problem" } else { "ok" },
                db.display(),
                if stale { " (run `gate audit --update`)" } else { "" }
            )?;
        } else {
            problems += 1;
            writeln!(
                out,
                "audit    problem: no database at `{}` (run `gate audit --update`)",
                db.display()
            )?;
        }
    }
    // As documented: 2 when something needs fixing before gate can work as configured.
    Ok(if problems > 0 { 2 } else { 0 })
}
