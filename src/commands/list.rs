//! `gate list`: the plan for the current change set, without running anything.

use std::io::Write;

use anyhow::Result;

use super::Globals;
use super::check::{source, stage};
use crate::cli::{ListArgs, Selection};
use crate::config::Origin;
use crate::git::changes::ChangeSet;
use crate::model::Stage;
use crate::model::text::plural;
use crate::run::plan::Decision;
use crate::run::plan::GatePlan;
use crate::run::session::{ConfigAt, Overrides, Request, Scope, Workspace};

/// What a selection would run, without running it: the workspace, the change set, the
/// stage and each gate's plan (`gate list`, `gate matrix`).
pub(crate) struct Planned {
    pub(crate) session: Workspace,
    pub(crate) changes: ChangeSet,
    pub(crate) stage: Stage,
    pub(crate) plans: Vec<GatePlan>,
}

pub(crate) fn planned(globals: &Globals, selection: &Selection) -> Result<Planned> {
    let stage = stage(selection);
    let source = source(selection)?;
    let session = Workspace::open(globals.config.as_deref(), ConfigAt::of(&source), globals.printer)?;
    session.check_gate_names(&selection.gates)?;
    let request = Request {
        scope: Scope::Changes(source.clone()),
        within: None,
        stage: Some(stage),
        only: selection.gates.clone(),
        fix: false,
        overrides: Overrides::default(),
        reports: Vec::new(),
        statuses: false,
    };
    // The plan of a tree that a running pre-commit has set aside would be a lie: wait.
    let _lock = crate::keeper::lock::RunLock::acquire(
        session.repo.git.path(),
        crate::keeper::lock::Access::Shared,
        globals.printer,
    )?;
    let changes = session.changes(&source)?;
    let plans = session.plan(&changes, &request, globals.printer);
    Ok(Planned {
        session,
        changes,
        stage,
        plans,
    })
}

pub(crate) fn list(globals: &Globals, args: &ListArgs) -> Result<i32> {
    let Planned {
        session,
        changes,
        stage,
        plans,
    } = planned(globals, &args.selection)?;
    let mut out = globals.printer.stdout();
    let origin = match &session.origin {
        Origin::File(path) => format!("`{}`", path.display()),
        Origin::Detected => "built-in gates".to_owned(),
    };
    writeln!(
        out,
        "{} files in the change set, stage `{stage}`, gates from {origin}:",
        changes.files.len()
    )?;
    let width = session
        .config
        .gates
        .iter()
        .map(|g| g.name.chars().count())
        .max()
        .unwrap_or(0);
    for (gate, plan) in session.config.gates.iter().zip(&plans) {
        let files = plural(plan.files.matched.len(), "file");
        let line = match &plan.decision {
            Decision::Run(commands) => {
                let processes = commands.len();
                let first = commands.first().map(ToString::to_string).unwrap_or_default();
                let after = if gate.depends_on.is_empty() {
                    String::new()
                } else {
                    let names: Vec<&str> = gate
                        .depends_on
                        .iter()
                        .map(|&d| session.config.gates[d].name.as_str())
                        .collect();
                    format!(", after {}", names.join(", "))
                };
                let plural = if processes == 1 { "process" } else { "processes" };
                format!("run   {files:>10}  {processes} {plural}{after}: {first}")
            }
            Decision::Builtin(_) => format!("run   {files:>10}  built in"),
            Decision::Cached(_) => format!("run   {files:>10}  cached"),
            Decision::Skip(reason) => format!("skip  {files:>10}  {reason}"),
            Decision::Error(message) => format!(
                "error {files:>10}  {}",
                message.message.lines().next().unwrap_or_default()
            ),
        };
        writeln!(out, "  {:width$}  {line}", gate.name)?;
    }
    Ok(0)
}
