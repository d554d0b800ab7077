//! `gate presets`: every preset and what it runs.

use std::io::Write;

use anyhow::Result;

use super::Globals;
use crate::config::HygieneCheck;
use crate::config::presets::{Command, PRESETS};

pub(crate) fn presets(globals: &Globals) -> Result<i32> {
    let mut out = globals.printer.stdout();
    let shown = |command: Command| match command {
        Command::Argv(argv) => argv.join(" "),
        Command::Shell(script) => format!("sh -c '{script}'"),
    };
    for preset in PRESETS {
        let once = match preset.run {
            Command::Argv(argv) => !argv.contains(&"{files}"),
            Command::Shell(script) => !script.contains("{files}"),
        };
        writeln!(
            out,
            "{:<14} {:<9} {}",
            preset.name,
            preset.kind.as_str(),
            if once {
                "once in its workdir"
            } else {
                "per batch of changed files"
            }
        )?;
        writeln!(out, "    run: {}", shown(preset.run))?;
        if let Some(fix) = preset.fix {
            writeln!(out, "    fix: {}", shown(fix))?;
        }
        writeln!(out, "    files: {}", preset.files.join(" "))?;
    }
    writeln!(out, "\nBuilt in (kind = \"builtin\", or the name as a preset):")?;
    for check in HygieneCheck::ALL {
        writeln!(out, "{:<19} {}", check.name(), check.about())?;
    }
    writeln!(
        out,
        "\nUse one with `preset = \"NAME\"` in a gate; any key set beside it wins (e.g. `workdir`, `run`)."
    )?;
    Ok(0)
}
