//! Finding secrets in text, and keeping them out of everything gate shows.
//!
//! - `rules`: the built-in rules (stable ids, keywords, regexes).
//! - [`Scanner`]: one aho-corasick pass for every rule's keywords; only the rules whose
//!   keywords a line holds run their regex. Documentation examples and placeholders are
//!   not findings; neither is a line that says `gate:allow-secret` (or `gitleaks:allow`,
//!   `pragma: allowlist secret`).
//! - [`mask`], [`fingerprint`]: how a finding is shown and remembered, never the secret.
//! - [`Masker`]: replaces secrets in a tool's output before gate relays it.

pub(crate) mod rules;

use aho_corasick::AhoCorasick;
use regex::Regex;
use sha2::{Digest, Sha256};

use crate::model::LineRange;
pub(crate) use rules::RuleSpec;

/// A secret found on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) rule: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) secret: String,
}

struct Rule {
    id: String,
    pattern: String,
    /// Compiled the first time a line holds one of the rule's keywords: most commits wake
    /// few rules, and compiling them all would cost more than the scan.
    regex: std::sync::OnceLock<Option<Regex>>,
    entropy: Option<f64>,
}

impl Rule {
    fn regex(&self) -> Option<&Regex> {
        self.regex.get_or_init(|| Regex::new(&self.pattern).ok()).as_ref()
    }
}

/// The rules, ready to scan.
pub(crate) struct Scanner {
    rules: Vec<Rule>,
    keywords: AhoCorasick,
    /// Keyword index → the rules it wakes.
    wakes: Vec<Vec<usize>>,
}

/// Inline markers that allow what a line holds.
const ALLOW_MARKERS: [&str; 3] = ["gate:allow-secret", "gitleaks:allow", "pragma: allowlist secret"];

impl Scanner {
    pub(crate) fn new(specs: &[RuleSpec]) -> Result<Self, String> {
        let mut rules = Vec::new();
        let mut keywords = Vec::new();
        let mut wakes: Vec<Vec<usize>> = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            // Syntax is checked now (cheap); compiling waits for a line that needs it.
            regex_syntax::Parser::new()
                .parse(&spec.regex)
                .map_err(|err| format!("rule `{}`: {err}", spec.id))?;
            rules.push(Rule {
                id: spec.id.clone(),
                pattern: spec.regex.clone(),
                regex: std::sync::OnceLock::new(),
                entropy: spec.entropy,
            });
            for keyword in &spec.keywords {
                if let Some(at) = keywords.iter().position(|k| k == keyword) {
                    wakes[at].push(index);
                } else {
                    keywords.push(keyword.clone());
                    wakes.push(vec![index]);
                }
            }
        }
        let keywords = AhoCorasick::new(&keywords).map_err(|err| err.to_string())?;
        Ok(Self { rules, keywords, wakes })
    }

    /// The built-in rules and `custom` ones.
    pub(crate) fn with(custom: &[RuleSpec]) -> Result<Self, String> {
        let mut specs = rules::builtin();
        specs.extend(custom.iter().cloned());
        Self::new(&specs)
    }

    /// The secrets in `text`; with `only`, on those lines only (the lines a change added).
    pub(crate) fn scan(&self, text: &str, only: Option<&[LineRange]>) -> Vec<Finding> {
        let mut found = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            if only.is_some_and(|ranges| !ranges.iter().any(|r| r.contains(number))) {
                continue;
            }
            self.scan_line(line, number, &mut found);
        }
        pair_aws(&mut found);
        found
    }

    fn scan_line(&self, line: &str, number: u32, found: &mut Vec<Finding>) {
        let mut woken: Vec<usize> = self
            .keywords
            .find_overlapping_iter(line)
            .flat_map(|m| self.wakes[m.pattern().as_usize()].iter().copied())
            .collect();
        if woken.is_empty() || ALLOW_MARKERS.iter().any(|m| line.contains(m)) {
            return;
        }
        woken.sort_unstable();
        woken.dedup();
        for rule in woken.into_iter().map(|i| &self.rules[i]) {
            let Some(regex) = rule.regex() else { continue };
            for caps in regex.captures_iter(line) {
                let Some(secret) = caps.get(1).or_else(|| caps.get(0)) else {
                    continue;
                };
                let text = secret.as_str();
                if is_placeholder(text) || rule.entropy.is_some_and(|min| entropy(text) < min) {
                    continue;
                }
                // One secret, one finding: the first (most specific) rule names it.
                if found.iter().any(|f| f.line == number && f.secret == text) {
                    continue;
                }
                found.push(Finding {
                    rule: rule.id.clone(),
                    line: number,
                    column: u32::try_from(line[..secret.start()].chars().count() + 1).unwrap_or(1),
                    secret: text.to_owned(),
                });
            }
        }
    }

    /// Every secret in `text` replaced by `***`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for line in text.lines() {
            let mut found = Vec::new();
            self.scan_line(line, 0, &mut found);
            for finding in found {
                out = out.replace(&finding.secret, "***");
            }
        }
        out
    }
}

/// An AWS key id and a secret key within five lines are one finding: a usable key pair.
fn pair_aws(found: &mut Vec<Finding>) {
    let ids: Vec<u32> = found
        .iter()
        .filter(|f| f.rule == "aws-access-key-id")
        .map(|f| f.line)
        .collect();
    for finding in found.iter_mut().filter(|f| f.rule == "aws-secret-access-key") {
        if ids.iter().any(|&line| line.abs_diff(finding.line) <= 5) {
            "aws-key-pair".clone_into(&mut finding.rule);
        }
    }
    let pairs: Vec<u32> = found
        .iter()
        .filter(|f| f.rule == "aws-key-pair")
        .map(|f| f.line)
        .collect();
    found.retain(|f| f.rule != "aws-access-key-id" || !pairs.iter().any(|&line| line.abs_diff(f.line) <= 5));
}

/// Documentation examples and placeholders: `AKIAIOSFODNN7EXAMPLE`, `xxxx`, `${VAR}`,
/// `<your-token>`, one character repeated.
pub(crate) fn is_placeholder(secret: &str) -> bool {
    let lower = secret.to_ascii_lowercase();
    let first = secret.chars().next();
    [
        "example",
        "xxxx",
        "placeholder",
        "changeme",
        "dummy",
        "sample",
        "your_",
        "your-",
        "redacted",
        "****",
    ]
    .iter()
    .any(|p| lower.contains(p))
        || ["${", "{{", "<", ">", "%(", "$("].iter().any(|p| secret.contains(p))
        || secret.chars().all(|c| Some(c) == first)
}

/// Shannon entropy in bits per character.
pub(crate) fn entropy(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in text.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    let total = f64::from(u32::try_from(text.chars().count()).unwrap_or(u32::MAX).max(1));
    counts
        .values()
        .map(|&n| {
            let p = f64::from(n) / total;
            -p * p.log2()
        })
        .sum()
}

/// How a secret is shown: its first four characters and its length.
pub(crate) fn mask(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}… ({} characters)", secret.chars().count())
}

/// A finding's identity for a baseline: a hash of rule, path and secret, never the secret.
pub(crate) fn fingerprint(rule: &str, path: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [rule, path, secret] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    crate::model::text::hex(&hasher.finalize())
}

/// Replaces secrets in what gate relays: the values of secret-like environment variables
/// (6 characters or more: shorter ones would hit too much), and anything a rule matches.
pub(crate) struct Masker {
    values: Vec<String>,
    /// Built on first use: a run whose tools print nothing pays nothing for it.
    scanner: std::sync::OnceLock<Option<Scanner>>,
}

impl Masker {
    /// `vars`: the environment; `extra`: names listed in `settings.mask_env`.
    pub(crate) fn new(vars: impl Iterator<Item = (String, String)>, extra: &[String]) -> Self {
        let mut values: Vec<String> = vars
            .filter(|(name, value)| value.chars().count() >= 6 && (secret_like(name) || extra.contains(name)))
            .map(|(_, value)| value)
            .collect();
        // Longest first, so a value that holds another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Self {
            values,
            scanner: std::sync::OnceLock::new(),
        }
    }

    /// Everything of an outcome that came from the tool: its output, its diagnostics'
    /// messages, its reason.
    pub(crate) fn outcome(&self, outcome: &mut crate::model::Outcome) {
        outcome.output = self.apply(&outcome.output);
        for diagnostic in &mut outcome.diagnostics {
            diagnostic.message = self.apply(&diagnostic.message);
        }
        if let Some(reason) = &mut outcome.reason {
            reason.message = self.apply(&reason.message);
        }
    }

    pub(crate) fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), "***");
            }
        }
        if out.is_empty() {
            return out;
        }
        // Compiling the rules takes more stack than a small `ulimit -s` leaves the main
        // thread (seen at 256 KiB in a debug build): on a thread of its own.
        let scanner = self.scanner.get_or_init(|| {
            std::thread::Builder::new()
                .stack_size(8 << 20)
                .spawn(|| Scanner::with(&[]).ok())
                .ok()
                .and_then(|thread| thread.join().ok())
                .flatten()
        });
        match scanner {
            Some(scanner) => scanner.redact(&out),
            None => out,
        }
    }
}

/// `*_TOKEN`, `*_SECRET*`, `*_PASSWORD`, `*_KEY`, `GITHUB_TOKEN`.
fn secret_like(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.ends_with("TOKEN") || upper.contains("SECRET") || upper.ends_with("PASSWORD") || upper.ends_with("_KEY")
}

#[cfg(test)]
mod tests;
