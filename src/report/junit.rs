//! `JUnit` XML: one testsuite per gate; one testcase per diagnostic, or one for the gate when
//! it has none. Failures carry the output, without terminal colours, escaped for XML.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::Report;
use crate::model::text::strip_ansi;
use crate::model::{Diagnostic, Outcome, Severity, Status};

pub(crate) fn render(report: &Report<'_>) -> io::Result<String> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let (tests, failures, errors, skipped) = report
        .outcomes
        .iter()
        .map(counts)
        .fold((0, 0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3));
    writer
        .create_element("testsuites")
        .with_attribute(("name", "gate"))
        .with_attribute(("tests", tests.to_string().as_str()))
        .with_attribute(("failures", failures.to_string().as_str()))
        .with_attribute(("errors", errors.to_string().as_str()))
        .with_attribute(("skipped", skipped.to_string().as_str()))
        .with_attribute(("time", seconds(report.duration).as_str()))
        .write_inner_content(|writer| {
            for outcome in report.outcomes {
                suite(writer, outcome)?;
            }
            Ok(())
        })?;
    let mut text = String::from_utf8_lossy(&writer.into_inner()).into_owned();
    text.push('\n');
    Ok(text)
}

/// (tests, failures, errors, skipped) of one gate's suite.
fn counts(outcome: &Outcome) -> (usize, usize, usize, usize) {
    if outcome.diagnostics.is_empty() {
        return match outcome.status {
            Status::Passed => (1, 0, 0, 0),
            Status::Failed | Status::Fixed => (1, 1, 0, 0),
            Status::Error => (1, 0, 1, 0),
            Status::Skipped | Status::Blocked => (1, 0, 0, 1),
        };
    }
    let failing = outcome
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (outcome.diagnostics.len(), failing, 0, 0)
}

fn suite(writer: &mut Writer<Vec<u8>>, outcome: &Outcome) -> io::Result<()> {
    let (tests, failures, errors, skipped) = counts(outcome);
    let classname = format!("gate.{}", outcome.name);
    let output = xml_text(&strip_ansi(&outcome.output));
    writer
        .create_element("testsuite")
        .with_attribute(("name", outcome.name.as_str()))
        .with_attribute(("tests", tests.to_string().as_str()))
        .with_attribute(("failures", failures.to_string().as_str()))
        .with_attribute(("errors", errors.to_string().as_str()))
        .with_attribute(("skipped", skipped.to_string().as_str()))
        .with_attribute(("time", seconds(outcome.duration).as_str()))
        .write_inner_content(|writer| {
            if outcome.diagnostics.is_empty() {
                gate_case(writer, outcome, &classname, &output)?;
            } else {
                for diagnostic in &outcome.diagnostics {
                    diagnostic_case(writer, diagnostic, &classname)?;
                }
            }
            if !output.is_empty() {
                writer
                    .create_element("system-out")
                    .write_text_content(BytesText::new(&output))?;
            }
            Ok(())
        })?;
    Ok(())
}

/// A gate without diagnostics is one test case, failing with its output.
fn gate_case(writer: &mut Writer<Vec<u8>>, outcome: &Outcome, classname: &str, output: &str) -> io::Result<()> {
    let case = writer
        .create_element("testcase")
        .with_attribute(("name", outcome.name.as_str()))
        .with_attribute(("classname", classname))
        .with_attribute(("time", seconds(outcome.duration).as_str()));
    let summary = xml_text(&outcome.summary());
    match outcome.status {
        Status::Passed => {
            case.write_empty()?;
        }
        Status::Skipped | Status::Blocked => {
            case.write_inner_content(|w| {
                w.create_element("skipped")
                    .with_attribute(("message", summary.as_str()))
                    .write_empty()?;
                Ok(())
            })?;
        }
        Status::Failed | Status::Fixed | Status::Error => {
            let tag = if outcome.status == Status::Error {
                "error"
            } else {
                "failure"
            };
            case.write_inner_content(|w| {
                w.create_element(tag)
                    .with_attribute(("message", summary.as_str()))
                    .with_attribute(("type", outcome.status.as_str()))
                    .write_text_content(BytesText::new(output))?;
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Each diagnostic is a test case of its own, failing when it is an error.
fn diagnostic_case(writer: &mut Writer<Vec<u8>>, diagnostic: &Diagnostic, classname: &str) -> io::Result<()> {
    let place = match (diagnostic.line, diagnostic.column) {
        (Some(line), Some(column)) => format!("{}:{line}:{column}", diagnostic.file),
        (Some(line), None) => format!("{}:{line}", diagnostic.file),
        _ => diagnostic.file.clone(),
    };
    let name = match &diagnostic.code {
        Some(code) => format!("{place} {code}"),
        None => place.clone(),
    };
    let message = xml_text(&diagnostic.message);
    let line = diagnostic.line.map(|l| l.to_string()).unwrap_or_default();
    let case = writer
        .create_element("testcase")
        .with_attribute(("name", xml_text(&name).as_str()))
        .with_attribute(("classname", classname))
        .with_attribute(("file", xml_text(&diagnostic.file).as_str()))
        .with_attribute(("line", line.as_str()));
    if diagnostic.severity == Severity::Error {
        case.write_inner_content(|w| {
            w.create_element("failure")
                .with_attribute(("message", message.as_str()))
                .with_attribute(("type", diagnostic.code.as_deref().unwrap_or("error")))
                .write_text_content(BytesText::new(&xml_text(&format!("{place}: {}", diagnostic.message))))?;
            Ok(())
        })?;
    } else {
        case.write_empty()?;
    }
    Ok(())
}

/// XML 1.0 allows no control characters but tab, newline and carriage return, even escaped.
fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c < ' ' && !matches!(c, '\t' | '\n' | '\r') {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

fn seconds(duration: std::time::Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}
