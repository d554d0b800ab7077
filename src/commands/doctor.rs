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
    let (config, origin) = match config::load(repo.root(), globals.config.as_deref(), globals.printer, &|| {
        crate::git::changes::tracked_paths(&repo)
    }) {
        Ok(loaded) => loaded,
        Err(err) => {
            writeln!(out, "config   problem: {err}")?;
            return Ok(2);
        }
    };
    let source = match &origin {
        config::Origin::File(path) => path.display().to_string(),
        config::Origin::Detected => "built-in gates".to_owned(),
    };
    writeln!(out, "config   ok: {} gates from {source}", config.gates.len())?;
    let problems = tools(&mut out, &config)? + hooks(&mut out, &repo)? + databases(&mut out, &config)?;
    // As documented: 2 when something needs fixing before gate can work as configured.
    Ok(if problems > 0 { 2 } else { 0 })
}

/// Where each gate's program resolves, and its version; the problems found.
fn tools(out: &mut impl Write, config: &config::Config) -> Result<usize> {
    let mut problems = 0;
    for gate in &config.gates {
        let Action::Command {
            run: Program::Argv(argv),
            ..
        } = &gate.action
        else {
            continue;
        };
        if let Some(found) = config.programs.get(&argv[0], &gate.workdir) {
            writeln!(
                out,
                "tools    ok: `{}` (gate `{}`) is {}{}",
                argv[0],
                gate.name,
                found.display(),
                version(found).map(|v| format!(" ({v})")).unwrap_or_default()
            )?;
        } else {
            problems += 1;
            writeln!(
                out,
                "tools    problem: `{}` (gate `{}`) {}",
                argv[0],
                gate.name,
                crate::config::programs::searched(&argv[0])
            )?;
        }
    }
    Ok(problems)
}

/// Whether gate's hooks are installed (not a problem when they are not).
fn hooks(out: &mut impl Write, repo: &Repo) -> Result<usize> {
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
    Ok(0)
}

/// Whether each audit gate's database is there and current; the problems found.
fn databases(out: &mut impl Write, config: &config::Config) -> Result<usize> {
    let mut problems = 0;
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
    Ok(problems)
}

/// The first line a tool prints for `--version`, if it answers within a second.
fn version(program: &std::path::Path) -> Option<String> {
    let mut child = std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while child.try_wait().ok()?.is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let output = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next()?.trim();
    (!first.is_empty()).then(|| crate::model::text::cut(first, 80))
}
