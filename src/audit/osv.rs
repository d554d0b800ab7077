//! The offline OSV database: records read from `<db>/<Ecosystem>/*.json` or the
//! `<db>/<Ecosystem>/all.zip` export, indexed by ecosystem and normalized package name, and
//! evaluated exactly as the OSV schema says (`versions` or any range; SEMVER and ECOSYSTEM
//! ranges with `introduced`, `fixed`, `last_affected`, `limit`; GIT ranges ignored;
//! withdrawn records ignored).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use super::version::Ecosystem;

use crate::model::Problem;

#[derive(Debug, Deserialize)]
pub(crate) struct Record {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) aliases: Vec<String>,
    #[serde(default)]
    pub(crate) summary: Option<String>,
    #[serde(default)]
    pub(crate) details: Option<String>,
    #[serde(default)]
    pub(crate) withdrawn: Option<String>,
    /// When the record last changed (RFC 3339).
    #[serde(default)]
    pub(crate) modified: Option<String>,
    #[serde(default)]
    pub(crate) severity: Vec<SeverityEntry>,
    #[serde(default)]
    pub(crate) affected: Vec<Affected>,
    #[serde(default)]
    pub(crate) database_specific: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SeverityEntry {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) score: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Affected {
    pub(crate) package: Option<PackageRef>,
    #[serde(default)]
    pub(crate) ranges: Vec<Range>,
    #[serde(default)]
    pub(crate) versions: Vec<String>,
    #[serde(default)]
    pub(crate) severity: Vec<SeverityEntry>,
    #[serde(default)]
    pub(crate) database_specific: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PackageRef {
    pub(crate) ecosystem: String,
    pub(crate) name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Range {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) events: Vec<HashMap<String, String>>,
}

/// The records that concern a set of ecosystems, indexed by (ecosystem, normalized name).
#[derive(Debug, Default)]
pub(crate) struct Database {
    records: Vec<Record>,
    index: HashMap<(Ecosystem, String), Vec<usize>>,
    /// Newest modification among the files read (for `gate doctor`).
    pub(crate) loaded_from: Vec<PathBuf>,
    /// Ecosystems with at least one record: only their packages can be audited.
    pub(crate) covered: std::collections::HashSet<Ecosystem>,
    /// The newest `modified` time among the records: how current the database is.
    pub(crate) newest: Option<jiff::Timestamp>,
}

impl Database {
    /// Loads the records of `ecosystems` from `dir`; a missing ecosystem folder is no error
    /// (nothing is known about it), a corrupt record is.
    pub(crate) fn load(dir: &Path, ecosystems: &[Ecosystem]) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Problem::hinted(
                format!("the vulnerability database `{}` does not exist", dir.display()),
                "run `gate audit --update`, or set `db` of the audit gate to a folder of OSV records",
            )
            .into());
        }
        let mut database = Database::default();
        for &ecosystem in ecosystems {
            let folder = dir.join(ecosystem.osv_name());
            let records = if folder.join("all.zip").is_file() {
                read_zip(&folder.join("all.zip"))?
            } else if folder.is_dir() {
                read_folder(&folder)?
            } else {
                continue;
            };
            database.loaded_from.push(folder);
            if !records.is_empty() {
                database.covered.insert(ecosystem);
            }
            for record in records {
                database.add(record);
            }
        }
        Ok(database)
    }

    fn add(&mut self, record: Record) {
        if let Some(modified) = record
            .modified
            .as_deref()
            .and_then(|m| m.parse::<jiff::Timestamp>().ok())
        {
            self.newest = self.newest.max(Some(modified));
        }
        if record.withdrawn.is_some() {
            return;
        }
        let at = self.records.len();
        for affected in &record.affected {
            let Some(package) = &affected.package else { continue };
            let Some(ecosystem) = Ecosystem::from_osv(package.ecosystem.split(':').next().unwrap_or_default()) else {
                continue;
            };
            let entry = self
                .index
                .entry((ecosystem, ecosystem.normalize_name(&package.name)))
                .or_default();
            if entry.last() != Some(&at) {
                entry.push(at);
            }
        }
        self.records.push(record);
    }

    /// Records that affect `name` at `version`, with the smallest fixed version above it.
    pub(crate) fn matches(&self, ecosystem: Ecosystem, name: &str, version: &str) -> Vec<(&Record, Option<String>)> {
        let Some(indices) = self.index.get(&(ecosystem, ecosystem.normalize_name(name))) else {
            return Vec::new();
        };
        indices
            .iter()
            .map(|&i| &self.records[i])
            .filter_map(|record| {
                let mine = record.affected.iter().filter(|a| {
                    a.package.as_ref().is_some_and(|p| {
                        Ecosystem::from_osv(p.ecosystem.split(':').next().unwrap_or_default()) == Some(ecosystem)
                            && ecosystem.normalize_name(&p.name) == ecosystem.normalize_name(name)
                    })
                });
                let mut hit = false;
                let mut fixed: Option<String> = None;
                for affected in mine {
                    if affects(affected, ecosystem, version) {
                        hit = true;
                        for candidate in fixed_versions(affected) {
                            let above = ecosystem.compare(&candidate, version) == Some(std::cmp::Ordering::Greater);
                            let smaller = fixed
                                .as_ref()
                                .is_none_or(|f| ecosystem.compare(&candidate, f) == Some(std::cmp::Ordering::Less));
                            if above && smaller {
                                fixed = Some(candidate);
                            }
                        }
                    }
                }
                hit.then_some((record, fixed))
            })
            .collect()
    }
}

fn read_folder(folder: &Path) -> Result<Vec<Record>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)
        .with_context(|| format!("failed to read `{}`", folder.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .par_iter()
        .map(|path| {
            let text = std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
            parse_record(&text, &path.display().to_string())
        })
        .collect()
}

/// The largest record gate reads: real ones are a few kilobytes, the largest a few hundred.
const MAX_RECORD: u64 = 16 << 20;

fn read_zip(path: &Path) -> Result<Vec<Record>> {
    let file = std::fs::File::open(path).with_context(|| format!("failed to open `{}`", path.display()))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("`{}` is not a zip archive", path.display()))?;
    let mut texts = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .with_context(|| format!("`{}` is damaged", path.display()))?;
        let entry_name = entry.name().map(std::borrow::Cow::into_owned).unwrap_or_default();
        if !Path::new(&entry_name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            continue;
        }
        let name = format!("{}:{entry_name}", path.display());
        // The size a zip declares is a claim, not a fact: read at most the cap, and never
        // reserve what the header says (a 1 MB archive may claim a 1 GB entry).
        let mut text = Vec::new();
        (&mut entry)
            .take(MAX_RECORD + 1)
            .read_to_end(&mut text)
            .with_context(|| format!("failed to read `{name}`"))?;
        if text.len() as u64 > MAX_RECORD {
            return Err(Problem::hinted(
                format!(
                    "`{name}` is larger than {} MB, which no OSV record is",
                    MAX_RECORD >> 20
                ),
                "the database export is damaged or not OSV; run `gate audit --update` again",
            )
            .into());
        }
        texts.push((name, text));
    }
    texts.par_iter().map(|(name, text)| parse_record(text, name)).collect()
}

fn parse_record(text: &[u8], name: &str) -> Result<Record> {
    serde_json::from_slice(text).with_context(|| format!("`{name}` is not an OSV record"))
}

/// Whether `version` is affected per one `affected` entry.
fn affects(affected: &Affected, ecosystem: Ecosystem, version: &str) -> bool {
    if affected
        .versions
        .iter()
        .any(|v| ecosystem.compare(v, version) == Some(std::cmp::Ordering::Equal) || v == version)
    {
        return true;
    }
    affected
        .ranges
        .iter()
        .filter(|range| range.kind == "SEMVER" || range.kind == "ECOSYSTEM")
        .any(|range| in_range(range, ecosystem, version))
}

/// The schema's evaluation: events in version order ("0" first); `introduced` opens,
/// `fixed` closes at the version, `last_affected` after it; `limit` caps the range.
fn in_range(range: &Range, ecosystem: Ecosystem, version: &str) -> bool {
    use std::cmp::Ordering::{Greater, Less};
    let mut events: Vec<(&str, &str)> = range
        .events
        .iter()
        .flat_map(|event| event.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .collect();
    let order = |v: &str, w: &str| match (v, w) {
        ("0", "0") => std::cmp::Ordering::Equal,
        ("0", _) => Less,
        (_, "0") => Greater,
        _ => ecosystem.compare(v, w).unwrap_or(std::cmp::Ordering::Equal),
    };
    events.sort_by(|a, b| order(a.1, b.1));
    let at_least = |bound: &str| {
        bound == "0"
            || matches!(
                ecosystem.compare(version, bound),
                Some(Greater | std::cmp::Ordering::Equal)
            )
    };
    let mut affected = false;
    for (kind, bound) in &events {
        match *kind {
            "introduced" if at_least(bound) => affected = true,
            "fixed" if at_least(bound) => affected = false,
            "last_affected" if ecosystem.compare(version, bound) == Some(Greater) => affected = false,
            "limit" if at_least(bound) => return false,
            _ => {}
        }
    }
    affected
}

fn fixed_versions(affected: &Affected) -> impl Iterator<Item = String> + '_ {
    affected
        .ranges
        .iter()
        .filter(|r| r.kind != "GIT")
        .flat_map(|r| r.events.iter())
        .filter_map(|event| event.get("fixed").cloned())
}

/// A record's severity: the highest CVSS base score among its vectors (v3.x, v4), else the
/// database's own label, else unknown.
pub(crate) fn severity(record: &Record) -> Severity {
    let vectors = record
        .severity
        .iter()
        .chain(record.affected.iter().flat_map(|a| a.severity.iter()))
        .filter_map(|entry| cvss_score(&entry.kind, &entry.score));
    let rustsec_cvss = record
        .affected
        .iter()
        .filter_map(|a| a.database_specific.as_ref()?.get("cvss")?.as_str())
        .filter_map(|vector| cvss_score("CVSS_V3", vector));
    if let Some(score) = vectors.chain(rustsec_cvss).reduce(f64::max) {
        return Severity::from_score(score);
    }
    let label = record
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    match label.as_deref() {
        Some("critical") => Severity::Level(Level::Critical, None),
        Some("high") => Severity::Level(Level::High, None),
        Some("moderate" | "medium") => Severity::Level(Level::Medium, None),
        Some("low") => Severity::Level(Level::Low, None),
        _ => Severity::Unknown,
    }
}

fn cvss_score(kind: &str, vector: &str) -> Option<f64> {
    match kind {
        "CVSS_V3" => cvss::v3::Vector::from_str(vector).ok().map(|v| v.base_score().value()),
        "CVSS_V4" => cvss::v4::Vector::from_str(vector).ok().map(|v| v.score().value()),
        _ => None,
    }
}

/// The `RustSec` informational kind (`unmaintained`, `unsound`, `notice`), if the record is one.
pub(crate) fn informational(record: &Record) -> Option<String> {
    record
        .affected
        .iter()
        .find_map(|a| {
            a.database_specific
                .as_ref()?
                .get("informational")?
                .as_str()
                .map(str::to_owned)
        })
        .or_else(|| {
            record
                .database_specific
                .as_ref()?
                .get("informational")?
                .as_str()
                .map(str::to_owned)
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Severity {
    /// A level, with the CVSS base score it came from.
    Level(Level, Option<f64>),
    Unknown,
}

impl Severity {
    fn from_score(score: f64) -> Self {
        let level = match score {
            s if s >= 9.0 => Level::Critical,
            s if s >= 7.0 => Level::High,
            s if s >= 4.0 => Level::Medium,
            _ => Level::Low,
        };
        Severity::Level(level, Some(score))
    }

    /// For thresholds, an unknown severity counts as medium: neither waved through nor
    /// treated as the worst.
    pub(crate) fn level(self) -> Level {
        match self {
            Severity::Level(level, _) => level,
            Severity::Unknown => Level::Medium,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Severity::Level(level, Some(score)) => write!(f, "{} ({score:.1})", format!("{level:?}").to_lowercase()),
            Severity::Level(level, None) => write!(f, "{}", format!("{level:?}").to_lowercase()),
            Severity::Unknown => f.write_str("unknown severity"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(events: &[(&str, &str)]) -> Range {
        Range {
            kind: "SEMVER".to_owned(),
            events: events
                .iter()
                .map(|(k, v)| HashMap::from([((*k).to_owned(), (*v).to_owned())]))
                .collect(),
        }
    }

    #[test]
    fn ranges_follow_the_schema() {
        let r = range(&[
            ("introduced", "0"),
            ("fixed", "1.2.0"),
            ("introduced", "2.0.0"),
            ("last_affected", "2.1.0"),
        ]);
        let at = |v| in_range(&r, Ecosystem::CratesIo, v);
        assert!(at("0.1.0") && at("1.1.9") && !at("1.2.0") && !at("1.9.0"));
        assert!(at("2.0.0") && at("2.1.0") && !at("2.1.1"));
        let limited = range(&[("introduced", "1.0.0"), ("limit", "1.5.0")]);
        assert!(in_range(&limited, Ecosystem::CratesIo, "1.4.0") && !in_range(&limited, Ecosystem::CratesIo, "1.5.0"));
    }

    #[test]
    fn cvss_vectors_score() {
        let score = cvss_score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert!((score - 9.8).abs() < 1e-9);
        assert_eq!(Severity::from_score(score).level(), Level::Critical);
        assert!(
            cvss_score(
                "CVSS_V4",
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
            )
            .is_some()
        );
        assert_eq!(cvss_score("CVSS_V3", "not a vector"), None);
    }

    #[test]
    fn an_export_entry_claiming_more_than_any_record_is_refused_without_reading_it_all() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.zip");
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        writer.start_file("HUGE-1.json", options).unwrap();
        // 64 MB of one byte: a few dozen kilobytes compressed.
        let block = vec![b' '; 1 << 20];
        for _ in 0..64 {
            writer.write_all(&block).unwrap();
        }
        writer.finish().unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20);
        let err = read_zip(&path).unwrap_err();
        assert!(err.to_string().contains("is larger than 16 MB"), "{err}");
    }
}
