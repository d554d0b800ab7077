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
    /// The keyword automaton runs once over the whole text: lines without a keyword (nearly
    /// all of them) are never split out or looked at again.
    pub(crate) fn scan(&self, text: &str, only: Option<&[LineRange]>) -> Vec<Finding> {
        let mut found = Vec::new();
        // The line being gathered: its start and end, its number, the rules its keywords wake.
        let mut line: Option<(usize, usize, u32, Vec<usize>)> = None;
        // Where line numbers were last counted up to, and the number of the line there.
        let (mut counted, mut number) = (0, 1u32);
        for hit in self.keywords.find_overlapping_iter(text) {
            let at = hit.start();
            if line.as_ref().is_none_or(|(_, end, _, _)| at >= *end) {
                if let Some((start, end, n, woken)) = line.take() {
                    self.check_line(&text[start..end], n, woken, only, &mut found);
                }
                let start = memchr::memrchr(b'\n', &text.as_bytes()[..at]).map_or(0, |i| i + 1);
                let lines = memchr::memchr_iter(b'\n', &text.as_bytes()[counted..start]).count();
                number = number.saturating_add(u32::try_from(lines).unwrap_or(u32::MAX));
                counted = start;
                line = Some((start, line_end(text, start), number, Vec::new()));
            }
            if let Some((_, _, _, woken)) = line.as_mut() {
                woken.extend_from_slice(&self.wakes[hit.pattern().as_usize()]);
            }
        }
        if let Some((start, end, n, woken)) = line {
            self.check_line(&text[start..end], n, woken, only, &mut found);
        }
        pair_aws(&mut found);
        found
    }

    fn check_line(
        &self,
        line: &str,
        number: u32,
        woken: Vec<usize>,
        only: Option<&[LineRange]>,
        found: &mut Vec<Finding>,
    ) {
        if only.is_some_and(|ranges| !ranges.iter().any(|r| r.contains(number))) {
            return;
        }
        // As `str::lines` gives it: without its `\r\n`.
        self.run_rules(line.strip_suffix('\r').unwrap_or(line), number, woken, found);
    }

    fn scan_line(&self, line: &str, number: u32, found: &mut Vec<Finding>) {
        let woken: Vec<usize> = self
            .keywords
            .find_overlapping_iter(line)
            .flat_map(|m| self.wakes[m.pattern().as_usize()].iter().copied())
            .collect();
        self.run_rules(line, number, woken, found);
    }

    /// The woken rules' regexes on one line.
    fn run_rules(&self, line: &str, number: u32, mut woken: Vec<usize>, found: &mut Vec<Finding>) {
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
                if is_placeholder(text)
                    || rule.entropy.is_some_and(|min| entropy(text) < min)
                    || (rule.id == GENERIC && looks_like_code(line, secret.start(), secret.end()))
                {
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

/// Where the line starting at `start` ends (its `\n`, or the text's end).
fn line_end(text: &str, start: usize) -> usize {
    memchr::memchr(b'\n', &text.as_bytes()[start..]).map_or(text.len(), |i| start + i)
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
/// `<your-token>`, one character repeated, the word `password`.
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
        // The word itself, as in `postgres://user:password@localhost` in every README.
        || ["password", "passwd", "pass", "pwd", "secret", "test"].contains(&lower.as_str())
}

/// The rule for any secret-like name given a value, which code does all the time.
const GENERIC: &str = "generic-secret";

/// Whether the unquoted value at `start..end` of `line` is code rather than a secret: a
/// call (`token = get_token(x)`), or a name (`password = settings.DB_PASSWORD`, a word
/// with no digit). A quoted value is a literal, and so may be a secret.
fn looks_like_code(line: &str, start: usize, end: usize) -> bool {
    if line[..start].ends_with(['"', '\'', '`']) {
        return false;
    }
    // A Rust path or a Ruby symbol is a name too (`token: fs::Token`, `Token::Eof`).
    let value = &line[start..end];
    let bare = value.trim_start_matches(':');
    let name = bare.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'));
    let qualified = value.contains(['.', ':']);
    line[end..].starts_with('(') || (name && (qualified || !value.chars().any(|c| c.is_ascii_digit())))
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
mod fake;
#[cfg(test)]
mod tests;
