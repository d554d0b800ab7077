//! SARIF 2.1.0: one run, a rule per gate and diagnostic code, results with repository-relative
//! URIs under `%SRCROOT%`, and `partialFingerprints` so code scanning can follow a finding.

use std::collections::BTreeMap;
use std::hash::Hasher;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::Report;
use crate::model::{Severity, Status};

/// Characters kept as they are in a relative URI path.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) fn render(report: &Report<'_>) -> serde_json::Result<String> {
    let mut rules: BTreeMap<String, String> = BTreeMap::new();
    let mut results = Vec::new();
    for outcome in report.outcomes {
        for diagnostic in &outcome.diagnostics {
            let rule = match &diagnostic.code {
                Some(code) => format!("{}/{code}", outcome.name),
                None => outcome.name.clone(),
            };
            rules
                .entry(rule.clone())
                .or_insert_with(|| format!("{} ({})", outcome.name, outcome.kind.as_str()));
            let mut region = serde_json::Map::new();
            if let Some(line) = diagnostic.line.filter(|&l| l > 0) {
                region.insert("startLine".into(), json!(line));
                if let Some(column) = diagnostic.column.filter(|&c| c > 0) {
                    region.insert("startColumn".into(), json!(column));
                }
            }
            let mut location = json!({
                "artifactLocation": { "uri": utf8_percent_encode(&diagnostic.file, PATH).to_string(), "uriBaseId": "%SRCROOT%" }
            });
            if !region.is_empty() {
                location["region"] = Value::Object(region);
            }
            results.push(json!({
                "ruleId": rule,
                "level": level(diagnostic.severity),
                "message": { "text": diagnostic.message },
                "locations": [{ "physicalLocation": location }],
                "partialFingerprints": { "primaryLocationLineHash": fingerprint(&[&rule, &diagnostic.file, &diagnostic.message]) },
            }));
        }
        // A failure with nothing to point at is still a result.
        if outcome.diagnostics.is_empty() && matches!(outcome.status, Status::Failed | Status::Error | Status::Fixed) {
            rules
                .entry(outcome.name.clone())
                .or_insert_with(|| format!("{} ({})", outcome.name, outcome.kind.as_str()));
            results.push(json!({
                "ruleId": outcome.name,
                "level": "error",
                "message": { "text": outcome.summary() },
                "partialFingerprints": { "primaryLocationLineHash": fingerprint(&[&outcome.name]) },
            }));
        }
    }
    let rule_ids: Vec<&String> = rules.keys().collect();
    for result in &mut results {
        let id = result["ruleId"].as_str().unwrap_or_default().to_owned();
        if let Some(index) = rule_ids.iter().position(|r| **r == id) {
            result["ruleIndex"] = json!(index);
        }
    }
    let root = format!("{}/", report.root.to_string_lossy().trim_end_matches('/'));
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "gate",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|(id, name)| json!({ "id": id, "shortDescription": { "text": name } })).collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "uri": format!("file://{}", utf8_percent_encode(&root, PATH)) } },
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&document)?;
    text.push('\n');
    Ok(text)
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A stable hash of a finding's identity (FNV-1a: the same across runs and machines).
fn fingerprint(parts: &[&str]) -> String {
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &byte in bytes {
                self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    let mut hasher = Fnv(0xcbf2_9ce4_8422_2325);
    for part in parts {
        hasher.write(part.as_bytes());
        hasher.write(&[0]);
    }
    format!("{:016x}:1", hasher.finish())
}
