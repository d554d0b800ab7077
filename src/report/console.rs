//! The terminal view. On a terminal: a live spinner per running gate and a result line as
//! each gate ends. Elsewhere (pipes, CI logs, hooks under an IDE): plain lines in config
//! order, each printed as soon as it and every gate above it are done. A gate's output is
//! one block under its line, never interleaved with another's.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use console::{Style, Term};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::model::Event;
use crate::model::{Diagnostic, Kind, Outcome, Severity, Status};
use crate::printer::{Printer, Verbosity};

pub(crate) struct Console {
    printer: Printer,
    names: Vec<String>,
    width: usize,
    live: Option<Live>,
    /// Plain mode: finished lines waiting for the gates above them (and whether the gate's
    /// output is in them).
    pending: Vec<Option<(String, bool)>>,
    next: usize,
    /// Whether a gate's output is printed under its line.
    show_output: bool,
    /// Skipped gates and why, shown together at the end unless `-v`.
    skipped: Vec<(String, String)>,
    /// Gates whose output is printed: a revised outcome (a check found to have written
    /// files) then says what is new, not the tool's output again.
    output_printed: Vec<bool>,
}

struct Live {
    bars: MultiProgress,
    running: Vec<Option<ProgressBar>>,
}

impl Console {
    pub(crate) fn new(printer: Printer, names: Vec<String>, live: bool, show_output: bool) -> Self {
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).max(20) + 4;
        let live = (live && printer.verbosity != Verbosity::Quiet).then(|| Live {
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            running: vec![None; names.len()],
        });
        Self {
            printer,
            output_printed: vec![false; names.len()],
            pending: vec![None; names.len()],
            names,
            width,
            live,
            next: 0,
            show_output,
            skipped: Vec::new(),
        }
    }

    /// Whether stdout is a terminal that can redraw lines.
    pub(crate) fn is_interactive() -> bool {
        let term = Term::stdout();
        term.is_term() && term.features().is_attended()
    }

    pub(crate) fn on_event(&mut self, event: Event<'_>) {
        match event {
            Event::Started { gate } => {
                if let Some(live) = &mut self.live {
                    let bar = live.bars.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_message(self.names[gate].clone());
                    bar.enable_steady_tick(Duration::from_millis(100));
                    live.running[gate] = Some(bar);
                }
            }
            Event::Finished { gate, outcome } => {
                let (text, with_output) = self.render(outcome, self.output_printed[gate]);
                if let Some(live) = &mut self.live {
                    if let Some(bar) = live.running[gate].take() {
                        bar.finish_and_clear();
                        live.bars.remove(&bar);
                    }
                    // Above the live area as real lines (indicatif's println pads to the
                    // terminal's width instead of ending lines, so captures ran together).
                    if !text.is_empty() {
                        self.output_printed[gate] |= with_output;
                        let printer = self.printer;
                        live.bars.suspend(|| {
                            let mut out = printer.stdout();
                            let _ = out.write_all(text.as_bytes());
                            let _ = out.flush();
                        });
                    }
                } else if gate < self.next {
                    // A revised outcome (a check found to have written files): its own line.
                    self.output_printed[gate] |= with_output;
                    let mut out = self.printer.stdout();
                    let _ = out.write_all(text.as_bytes());
                    let _ = out.flush();
                } else {
                    self.pending[gate] = Some((text, with_output));
                    let mut out = self.printer.stdout();
                    while let Some(Some((text, with_output))) = self.pending.get_mut(self.next).map(Option::take) {
                        let _ = out.write_all(text.as_bytes());
                        self.output_printed[self.next] |= with_output;
                        self.next += 1;
                    }
                    let _ = out.flush();
                }
            }
        }
    }

    /// Gate `gate` ended, but files were written meanwhile: its line waits for the end of
    /// the run, when what wrote them is known; its spinner stops and says so.
    pub(crate) fn held(&mut self, gate: usize) {
        if let Some(bar) = self.live.as_mut().and_then(|live| live.running[gate].as_ref()) {
            bar.finish_with_message(format!(
                "{}: ended; files were written, so its result waits for the other gates",
                self.names[gate]
            ));
        }
    }

    /// The closing line: counts per status and the wall time.
    pub(crate) fn finish(&mut self, outcomes: &[Outcome], wall: Duration) {
        if let Some(live) = self.live.take() {
            let _ = live.bars.clear();
        }
        self.print_skipped();
        let mut parts = Vec::new();
        for status in [
            Status::Passed,
            Status::Fixed,
            Status::Failed,
            Status::Error,
            Status::Blocked,
            Status::Skipped,
        ] {
            let count = outcomes.iter().filter(|o| o.status == status).count();
            if count > 0 {
                // The other words are participles: "2 passed", but "2 errors".
                let word = if status == Status::Error && count > 1 {
                    "errors"
                } else {
                    status.as_str()
                };
                parts.push(style(status).apply_to(format!("{count} {word}")).to_string());
            }
        }
        let gates = if outcomes.len() == 1 { "gate" } else { "gates" };
        let _ = writeln!(
            self.printer.stdout(),
            "{} {gates}: {} in {}",
            outcomes.len(),
            parts.join(", "),
            seconds(wall)
        );
    }

    /// Skipped gates, one line per reason: `skipped  docs, web-eslint: no matching files`.
    fn print_skipped(&mut self) {
        let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
        for (name, reason) in &self.skipped {
            match reasons.iter_mut().find(|(r, _)| r == reason) {
                Some((_, names)) => names.push(name),
                None => reasons.push((reason, vec![name])),
            }
        }
        let mut out = self.printer.stdout();
        for (reason, names) in reasons {
            let line = format!("skipped  {}: {reason}", names.join(", "));
            let _ = writeln!(out, "{}", Style::new().dim().apply_to(line));
        }
        self.skipped.clear();
    }

    /// A gate's line, and its output when it should be shown and was not (`shown`); whether
    /// the output is in it.
    fn render(&mut self, outcome: &Outcome, shown: bool) -> (String, bool) {
        if self.printer.verbosity == Verbosity::Quiet && matches!(outcome.status, Status::Passed | Status::Skipped) {
            return (String::new(), false);
        }
        // Skipped gates are noise in a monorepo; `-v` shows each.
        if self.printer.verbosity == Verbosity::Normal && outcome.status == Status::Skipped {
            let reason = outcome.reason.as_ref().map_or_else(String::new, |r| r.message.clone());
            self.skipped.push((outcome.name.clone(), reason));
            return (String::new(), false);
        }
        let mut line = headline(outcome, self.width);
        let explained = matches!(outcome.status, Status::Error | Status::Fixed)
            || (outcome.status == Status::Failed && !outcome.modified.is_empty());
        if explained && let Some(reason) = &outcome.reason {
            // The first line is on the headline.
            for more in reason.message.lines().skip(1) {
                let _ = writeln!(line, "  {more}");
            }
            if let Some(hint) = &reason.hint {
                let _ = writeln!(line, "  hint: {hint}");
            }
        }
        for file in &outcome.fixed {
            diff(&mut line, file);
        }
        let show_output = match self.printer.verbosity {
            Verbosity::Verbose => true,
            Verbosity::Normal | Verbosity::Quiet => {
                matches!(outcome.status, Status::Failed | Status::Error | Status::Fixed)
            }
        };
        let with_output = show_output && self.show_output && !shown;
        if with_output {
            output(&mut line, outcome);
        }
        (line, with_output)
    }
}

/// `name ..... status  time  files  what happened`, and its newline.
fn headline(outcome: &Outcome, width: usize) -> String {
    let dots = width.saturating_sub(outcome.name.chars().count() + 1);
    let mut line = format!(
        "{} {} {}",
        outcome.name,
        Style::new().dim().apply_to(".".repeat(dots)),
        style(outcome.status).apply_to(format!("{:<7}", outcome.status.as_str()))
    );
    let files = crate::model::text::plural(outcome.files.len(), "file");
    match outcome.status {
        Status::Skipped | Status::Blocked => {
            let reason = outcome.reason.as_ref().map_or("", |r| r.message.as_str());
            let _ = write!(line, "  {}", Style::new().dim().apply_to(reason));
        }
        _ => {
            let _ = write!(line, "  {:>7}  {files}", seconds(outcome.duration));
            let first = outcome.reason.as_ref().and_then(|r| r.message.lines().next());
            match (outcome.status, first) {
                (Status::Error, Some(first)) => {
                    let _ = write!(line, "  {}", style(Status::Error).apply_to(format!("error: {first}")));
                }
                (Status::Fixed, Some(first)) => {
                    let _ = write!(line, "  {}", style(Status::Fixed).apply_to(first));
                }
                // A check that wrote files: which.
                (Status::Failed, Some(first)) if !outcome.modified.is_empty() => {
                    let _ = write!(line, "  {}", style(Status::Failed).apply_to(first));
                }
                // What a built-in gate measured.
                (Status::Passed | Status::Failed, Some(first)) if outcome.details.is_some() => {
                    let _ = write!(line, "  {first}");
                }
                // The time is the run that passed; this run reused it.
                (Status::Passed, _) if outcome.cached => {
                    let from = if outcome.cached_remote {
                        "cached (remote)"
                    } else {
                        "cached"
                    };
                    let _ = write!(line, "  {}", Style::new().dim().apply_to(from));
                }
                _ => {}
            }
        }
    }
    line.push('\n');
    line
}

/// A fixed (or written) file's change as a coloured unified diff.
fn diff(out: &mut String, file: &crate::model::FixedFile) {
    match crate::model::unified_diff(file) {
        Some(diff) => {
            for diff_line in diff.lines() {
                let style = match diff_line.as_bytes().first() {
                    Some(b'+') => Style::new().green(),
                    Some(b'-') => Style::new().red(),
                    Some(b'@') => Style::new().cyan(),
                    _ => Style::new(),
                };
                let _ = writeln!(out, "{}", style.apply_to(diff_line));
            }
        }
        None => {
            let _ = writeln!(out, "binary file `{}` changed", file.path.display());
        }
    }
}

/// What the gate printed, or (for JSON output and failing built-in gates) its diagnostics.
fn output(out: &mut String, outcome: &Outcome) {
    // Raw JSON says little to a person: its diagnostics say it better.
    let json = matches!(outcome.output.trim_start().as_bytes().first(), Some(b'{' | b'['));
    // An empty list (a JSON checker that found nothing, failed for another reason) says nothing.
    let raw_says_more = !json || (outcome.diagnostics.is_empty() && !matches!(outcome.output.trim(), "[]" | "{}"));
    if raw_says_more && !outcome.output.is_empty() {
        out.push_str(&outcome.output);
        if !outcome.output.ends_with('\n') {
            out.push('\n');
        }
    }
    let builtin = matches!(
        outcome.kind,
        Kind::Coverage | Kind::Audit | Kind::Builtin | Kind::Secrets
    );
    if (json || (builtin && outcome.status == Status::Failed)) && !outcome.diagnostics.is_empty() {
        list_diagnostics(out, &outcome.diagnostics);
    }
}

/// The first diagnostics as `path:line:col: severity: message [code]`, then how many more.
fn list_diagnostics(out: &mut String, diagnostics: &[Diagnostic]) {
    const SHOWN: usize = 20;
    for d in diagnostics.iter().take(SHOWN) {
        let place = match (d.line, d.column) {
            (Some(line), Some(column)) => format!("{}:{line}:{column}", d.file),
            (Some(line), None) => format!("{}:{line}", d.file),
            _ => d.file.clone(),
        };
        let severity = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let code = d.code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
        let _ = writeln!(out, "{place}: {severity}: {}{code}", d.message);
    }
    if diagnostics.len() > SHOWN {
        let _ = writeln!(out, "… and {} more", diagnostics.len() - SHOWN);
    }
}

fn style(status: Status) -> Style {
    match status {
        Status::Passed => Style::new().green(),
        Status::Failed | Status::Error => Style::new().red().bold(),
        Status::Fixed | Status::Blocked => Style::new().yellow(),
        Status::Skipped => Style::new().dim(),
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}
