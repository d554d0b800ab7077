//! Version ordering per ecosystem, as OSV ranges need it: `SemVer` 2.0 (crates.io, npm, Go,
//! leniently: a `v` prefix, `+incompatible` and any number of components), PEP 440 (`PyPI`),
//! `Gem::Version` (`RubyGems`) and PHP's `version_compare` (Packagist).

use std::cmp::Ordering;
use std::str::FromStr;

/// The ecosystems gate audits, named as OSV names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub(crate) enum Ecosystem {
    #[serde(rename = "crates.io")]
    CratesIo,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "PyPI")]
    PyPi,
    #[serde(rename = "Go")]
    Go,
    #[serde(rename = "RubyGems")]
    RubyGems,
    #[serde(rename = "Packagist")]
    Packagist,
}

impl Ecosystem {
    pub(crate) const ALL: [Ecosystem; 6] = [
        Ecosystem::CratesIo,
        Ecosystem::Npm,
        Ecosystem::PyPi,
        Ecosystem::Go,
        Ecosystem::RubyGems,
        Ecosystem::Packagist,
    ];

    pub(crate) fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPi => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
        }
    }

    pub(crate) fn from_osv(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.osv_name() == name)
    }

    /// Orders two versions. Every ecosystem here orders any two strings (`PyPI` puts what is
    /// not PEP 440 before what is); `Option` leaves room for orderings that cannot.
    #[expect(
        clippy::unnecessary_wraps,
        reason = "callers handle versions an ecosystem cannot order"
    )]
    pub(crate) fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        match self {
            Ecosystem::CratesIo | Ecosystem::Npm | Ecosystem::Go => Some(semver(a, b)),
            Ecosystem::PyPi => Some(PyVersion::parse(a).cmp(&PyVersion::parse(b))),
            Ecosystem::RubyGems => Some(rubygems(a, b)),
            Ecosystem::Packagist => Some(composer(a, b)),
        }
    }

    /// Whether `version` is a version of this ecosystem's scheme. One that is not is never
    /// matched against ranges: any answer would be a guess.
    pub(crate) fn parses(self, version: &str) -> bool {
        let version = version.trim();
        match self {
            Ecosystem::CratesIo | Ecosystem::Npm | Ecosystem::Go => {
                let core = version.strip_prefix('v').unwrap_or(version);
                let core = core.split(['+', '-']).next().unwrap_or_default();
                !core.is_empty()
                    && core
                        .split('.')
                        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            }
            Ecosystem::PyPi => pep440_rs::Version::from_str(version).is_ok(),
            // Gem::Version: digits first, then dot-separated alphanumeric segments.
            Ecosystem::RubyGems => {
                version.bytes().next().is_some_and(|b| b.is_ascii_digit())
                    && version
                        .split(['.', '-'])
                        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()))
            }
            Ecosystem::Packagist => {
                let core = version.strip_prefix('v').unwrap_or(version);
                core.starts_with("dev-") || core.bytes().next().is_some_and(|b| b.is_ascii_digit())
            }
        }
    }

    /// The name a package is indexed under: `PyPI` names normalized as PEP 503 says.
    pub(crate) fn normalize_name(self, name: &str) -> String {
        match self {
            Ecosystem::PyPi => {
                let mut out = String::with_capacity(name.len());
                let mut separator = false;
                for c in name.trim().chars() {
                    if matches!(c, '-' | '_' | '.') {
                        separator = true;
                    } else {
                        if separator && !out.is_empty() {
                            out.push('-');
                        }
                        separator = false;
                        out.push(c.to_ascii_lowercase());
                    }
                }
                out
            }
            _ => name.trim().to_owned(),
        }
    }
}

/// A `PyPI` version: PEP 440, or a legacy version that predates it (ordered before every
/// PEP 440 version, by the key `packaging` used for them).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PyVersion {
    Legacy(Vec<String>),
    Pep440(pep440_rs::Version),
}

impl PyVersion {
    fn parse(text: &str) -> Self {
        match pep440_rs::Version::from_str(text.trim()) {
            Ok(version) => PyVersion::Pep440(version),
            Err(_) => PyVersion::Legacy(legacy_key(&text.trim().to_lowercase())),
        }
    }
}

/// `packaging.version.LegacyVersion`'s comparison key.
fn legacy_key(version: &str) -> Vec<String> {
    let mut raw = Vec::new();
    let mut current = String::new();
    let mut kind = 0u8; // 1: digits, 2: letters
    for c in version.chars() {
        let this = if c.is_ascii_digit() {
            1
        } else if c.is_ascii_lowercase() {
            2
        } else {
            0
        };
        if this != kind || this == 0 {
            if !current.is_empty() {
                raw.push(std::mem::take(&mut current));
            }
            if this == 0 {
                if c == '-' {
                    raw.push("-".to_owned());
                }
                kind = 0;
                continue;
            }
        }
        kind = this;
        current.push(c);
    }
    if !current.is_empty() {
        raw.push(current);
    }
    let mut parts: Vec<String> = Vec::new();
    let mapped = raw.into_iter().map(|part| match part.as_str() {
        "pre" | "preview" | "rc" => "c".to_owned(),
        "-" => "final-".to_owned(),
        "dev" => "@".to_owned(),
        _ => part,
    });
    for part in mapped.chain(std::iter::once("final".to_owned())) {
        let part = if part.starts_with(|c: char| c.is_ascii_digit()) {
            format!("{part:0>8}")
        } else {
            format!("*{part}")
        };
        if part.starts_with('*') {
            if part.as_str() < "*final" {
                while parts.last().is_some_and(|p| p == "*final-") {
                    parts.pop();
                }
            }
            while parts.last().is_some_and(|p| p == "00000000") {
                parts.pop();
            }
        }
        parts.push(part);
    }
    parts
}

/// Decimal digit strings of any length, compared as numbers.
fn numeric(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `SemVer` 2.0 precedence; build metadata is ignored.
fn semver(a: &str, b: &str) -> Ordering {
    let split = |v: &str| {
        let v = v.trim().trim_start_matches(['v', 'V']);
        let v = v.split_once('+').map_or(v, |(core, _)| core);
        match v.split_once('-') {
            Some((core, pre)) => (core.to_owned(), Some(pre.to_owned())),
            None => (v.to_owned(), None),
        }
    };
    let ((core_a, pre_a), (core_b, pre_b)) = (split(a), split(b));
    let (parts_a, parts_b): (Vec<&str>, Vec<&str>) = (core_a.split('.').collect(), core_b.split('.').collect());
    for i in 0..parts_a.len().max(parts_b.len()) {
        let (x, y) = (
            parts_a.get(i).copied().unwrap_or("0"),
            parts_b.get(i).copied().unwrap_or("0"),
        );
        let order = if is_number(x) && is_number(y) {
            numeric(x, y)
        } else {
            x.cmp(y)
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    match (pre_a, pre_b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let (ids_a, ids_b): (Vec<&str>, Vec<&str>) = (x.split('.').collect(), y.split('.').collect());
            for (p, q) in ids_a.iter().zip(&ids_b) {
                let order = match (is_number(p), is_number(q)) {
                    (true, true) => numeric(p, q),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => p.cmp(q),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
            ids_a.len().cmp(&ids_b.len())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Number(String),
    Text(String),
}

/// `Gem::Version#<=>`: segments of digits and letters, trailing zeros of the numeric and
/// the string part dropped, a string segment below any number.
fn rubygems(left: &str, right: &str) -> Ordering {
    let canonical = |v: &str| {
        let v = v.trim().replace('-', ".pre.");
        let mut segments = Vec::new();
        let mut current = String::new();
        let mut digits = None;
        for c in v.chars() {
            if !c.is_ascii_alphanumeric() {
                if !current.is_empty() {
                    segments.push(if digits == Some(true) {
                        Segment::Number(current.clone())
                    } else {
                        Segment::Text(current.clone())
                    });
                    current.clear();
                }
                digits = None;
                continue;
            }
            let is_digit = c.is_ascii_digit();
            if digits.is_some_and(|d| d != is_digit) && !current.is_empty() {
                segments.push(if digits == Some(true) {
                    Segment::Number(current.clone())
                } else {
                    Segment::Text(current.clone())
                });
                current.clear();
            }
            digits = Some(is_digit);
            current.push(c);
        }
        if !current.is_empty() {
            segments.push(if digits == Some(true) {
                Segment::Number(current)
            } else {
                Segment::Text(current)
            });
        }
        let split = segments
            .iter()
            .position(|s| matches!(s, Segment::Text(_)))
            .unwrap_or(segments.len());
        let (mut numbers, mut rest) = (segments[..split].to_vec(), segments[split..].to_vec());
        let zero = |s: &Segment| matches!(s, Segment::Number(n) if n.trim_start_matches('0').is_empty());
        while numbers.last().is_some_and(zero) {
            numbers.pop();
        }
        while rest.last().is_some_and(zero) {
            rest.pop();
        }
        numbers.extend(rest);
        numbers
    };
    let (mine, theirs) = (canonical(left), canonical(right));
    let zero = Segment::Number("0".to_owned());
    for index in 0..mine.len().max(theirs.len()) {
        let pair = (mine.get(index).unwrap_or(&zero), theirs.get(index).unwrap_or(&zero));
        let order = match pair {
            (Segment::Number(one), Segment::Number(other)) => numeric(one, other),
            (Segment::Text(one), Segment::Text(other)) => one.cmp(other),
            (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// PHP's `version_compare`, which Composer follows, with a leading `v` ignored.
fn composer(left: &str, right: &str) -> Ordering {
    fn canonical(v: &str) -> Vec<String> {
        let v = v.trim().trim_start_matches(['v', 'V']);
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut previous: Option<bool> = None;
        for c in v.chars() {
            if matches!(c, '-' | '_' | '+' | '.') {
                if !current.is_empty() {
                    parts.push(std::mem::take(&mut current));
                }
                previous = None;
                continue;
            }
            let digit = c.is_ascii_digit();
            if previous.is_some_and(|p| p != digit) && !current.is_empty() {
                parts.push(std::mem::take(&mut current));
            }
            previous = Some(digit);
            current.push(c);
        }
        if !current.is_empty() {
            parts.push(current);
        }
        parts
    }
    /// The rank of a special form; a number ranks as `#`.
    fn special(part: &str) -> i32 {
        const FORMS: [(&str, i32); 10] = [
            ("dev", 0),
            ("alpha", 1),
            ("a", 1),
            ("beta", 2),
            ("b", 2),
            ("RC", 3),
            ("rc", 3),
            ("#", 4),
            ("pl", 5),
            ("p", 5),
        ];
        if is_number(part) {
            return 4;
        }
        FORMS
            .iter()
            .find(|(form, _)| part.starts_with(form))
            .map_or(-6, |(_, rank)| *rank)
    }
    fn parts(x: &[String], y: &[String]) -> Ordering {
        for (p, q) in x.iter().zip(y) {
            let order = if is_number(p) && is_number(q) {
                numeric(p, q)
            } else {
                special(p).cmp(&special(q))
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        // What is left of the longer one is compared with a number's rank, as PHP does.
        let number = ["#".to_owned()];
        match x.len().cmp(&y.len()) {
            Ordering::Greater if is_number(&x[y.len()]) => Ordering::Greater,
            Ordering::Greater => parts(&x[y.len()..], &number),
            Ordering::Less if is_number(&y[x.len()]) => Ordering::Less,
            Ordering::Less => parts(&number, &y[x.len()..]),
            Ordering::Equal => Ordering::Equal,
        }
    }
    parts(&canonical(left), &canonical(right))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of an oracle file (`A < B`, `A = B`, `A > B`) must hold.
    fn oracle(file: &str, ecosystem: Ecosystem) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/version-oracles")
            .join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let mut failures = Vec::new();
        let mut checked = 0;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [a, op, b] = fields[..] else { continue };
            let expected = match op {
                "<" => Ordering::Less,
                "=" => Ordering::Equal,
                ">" => Ordering::Greater,
                _ => continue,
            };
            checked += 1;
            if ecosystem.compare(a, b) != Some(expected) {
                failures.push(format!("{line} (got {:?})", ecosystem.compare(a, b)));
            }
        }
        assert!(checked > 0, "{file} had no comparisons");
        assert!(
            failures.is_empty(),
            "{file}: {} of {checked} failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn versions_outside_the_scheme_are_told_apart() {
        assert!(Ecosystem::CratesIo.parses("1.2.3"));
        assert!(Ecosystem::CratesIo.parses("0.4.0-alpha.1+build"));
        assert!(!Ecosystem::CratesIo.parses("not-a-version"));
        assert!(!Ecosystem::Npm.parses("1..2"));
        assert!(Ecosystem::Go.parses("v0.0.0-20210101000000-abcdef123456"));
        assert!(Ecosystem::PyPi.parses("2.19.0"));
        assert!(Ecosystem::PyPi.parses("1.0.post1"));
        assert!(!Ecosystem::PyPi.parses("2.19.0."));
        assert!(Ecosystem::RubyGems.parses("7.0.4.3"));
        assert!(!Ecosystem::RubyGems.parses("latest"));
        assert!(Ecosystem::Packagist.parses("v5.4.1"));
        assert!(!Ecosystem::Packagist.parses("*"));
    }

    #[test]
    fn semver_oracle() {
        oracle("semver-versions.txt", Ecosystem::CratesIo);
    }

    #[test]
    fn pep440_oracles() {
        oracle("pypi-versions.txt", Ecosystem::PyPi);
        oracle("pypi-versions-generated.txt", Ecosystem::PyPi);
    }

    #[test]
    fn rubygems_oracles() {
        oracle("rubygems-versions.txt", Ecosystem::RubyGems);
        oracle("rubygems-versions-generated.txt", Ecosystem::RubyGems);
    }

    #[test]
    fn composer_oracle() {
        oracle("packagist-versions.txt", Ecosystem::Packagist);
    }

    #[test]
    fn go_versions_and_pep503_names() {
        assert_eq!(
            Ecosystem::Go.compare("v1.2.3+incompatible", "v1.2.3"),
            Some(Ordering::Equal)
        );
        assert_eq!(Ecosystem::Go.compare("v0.0.0-2021", "v0.0.0"), Some(Ordering::Less));
        assert_eq!(Ecosystem::PyPi.normalize_name("Foo.Bar__baz"), "foo-bar-baz");
    }
}
