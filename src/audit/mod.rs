//! The built-in dependency audit.
//!
//! - `version`: version ordering per ecosystem.
//! - `lockfile`: the pinned packages of each lockfile, with their lines.
//! - `osv`: the offline database and how a record affects a version.
//! - `update`: downloading the database exports.

pub(crate) mod lockfile;
pub(crate) mod osv;
pub(crate) mod update;
pub(crate) mod version;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use self::lockfile::Package;
use self::osv::{Database, Level, Severity};
use self::version::Ecosystem;
use crate::model::{Diagnostic, Severity as DiagnosticSeverity};

/// An accepted risk: `{ id, reason, expires }` in the gate's `ignore`.
#[derive(Debug, Clone)]
pub(crate) struct Ignore {
    pub(crate) id: String,
    pub(crate) reason: String,
    /// From that day on the ignore applies no more.
    pub(crate) expires: Option<jiff::civil::Date>,
}

/// What an audit is asked to do.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// Findings below this fail nothing (they are warnings).
    pub(crate) min_severity: Level,
    /// Whether `RustSec` informational notices (unmaintained, unsound) fail the gate.
    pub(crate) fail_informational: bool,
    pub(crate) ignore: Vec<Ignore>,
    /// Only these ecosystems are audited (`None`: all); others are noted as left out.
    pub(crate) ecosystems: Option<Vec<Ecosystem>>,
    /// Whether packages that could not be audited only warn (else the gate is an error).
    pub(crate) unaudited_warns: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_severity: Level::Low,
            fail_informational: false,
            ignore: Vec::new(),
            ecosystems: None,
            unaudited_warns: false,
        }
    }
}

/// Packages that could not be audited, and why: never a silent pass.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Unaudited {
    pub(crate) ecosystem: Ecosystem,
    /// One package, or `None` for every package of the ecosystem.
    pub(crate) package: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) reason: String,
}

/// One vulnerable package.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Finding {
    pub(crate) id: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) summary: String,
    pub(crate) severity: String,
    pub(crate) level: Level,
    /// Whether the severity came from the record (else `level` is the medium it counts as).
    pub(crate) known: bool,
    pub(crate) ecosystem: Ecosystem,
    pub(crate) package: String,
    pub(crate) version: String,
    pub(crate) fixed: Option<String>,
    pub(crate) informational: Option<String>,
    pub(crate) file: String,
    pub(crate) line: u32,
    /// Whether it fails the gate (severity at or above the threshold, not informational).
    pub(crate) fails: bool,
}

/// The outcome of auditing some lockfiles.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Audit {
    pub(crate) findings: Vec<Finding>,
    pub(crate) packages: usize,
    pub(crate) lockfiles: Vec<String>,
    /// Entries not audited and why; ignores that expired or matched nothing.
    pub(crate) notes: Vec<String>,
    /// What could not be audited.
    pub(crate) unaudited: Vec<Unaudited>,
}

impl Audit {
    pub(crate) fn failing(&self) -> usize {
        self.findings.iter().filter(|f| f.fails).count()
    }

    /// One line per ecosystem (or package) that could not be audited.
    pub(crate) fn unaudited_lines(&self) -> Vec<String> {
        self.unaudited
            .iter()
            .map(|u| match (&u.package, &u.version) {
                (Some(package), Some(version)) => {
                    format!("{}:{}: {package} {version} not audited: {}", u.file, u.line, u.reason)
                }
                _ => format!("{} packages not audited: {}", u.ecosystem.osv_name(), u.reason),
            })
            .collect()
    }

    /// "2 vulnerable packages (1 critical, 1 high) among 140 in 3 lockfiles".
    pub(crate) fn summary(&self) -> String {
        let found = self.found();
        if self.unaudited.is_empty() {
            found
        } else {
            format!("{found}; {} not audited", self.unaudited.len())
        }
    }

    fn found(&self) -> String {
        let files = format!(
            "{} lockfile{}",
            self.lockfiles.len(),
            if self.lockfiles.len() == 1 { "" } else { "s" }
        );
        if self.findings.is_empty() {
            return format!(
                "no known vulnerabilities in {} ({files})",
                crate::model::text::plural(self.packages, "package")
            );
        }
        let mut levels = Vec::new();
        for level in [Level::Critical, Level::High, Level::Medium, Level::Low] {
            let count = self
                .findings
                .iter()
                .filter(|f| f.known && f.level == level && f.informational.is_none())
                .count();
            if count > 0 {
                levels.push(format!("{count} {}", format!("{level:?}").to_lowercase()));
            }
        }
        let unknown = self
            .findings
            .iter()
            .filter(|f| !f.known && f.informational.is_none())
            .count();
        if unknown > 0 {
            levels.push(format!("{unknown} of unknown severity"));
        }
        let notices = self.findings.iter().filter(|f| f.informational.is_some()).count();
        if notices > 0 {
            levels.push(format!("{notices} notice{}", if notices == 1 { "" } else { "s" }));
        }
        format!(
            "{} finding{} ({}) among {} packages ({files}); {} fail the gate",
            self.findings.len(),
            if self.findings.len() == 1 { "" } else { "s" },
            levels.join(", "),
            self.packages,
            self.failing()
        )
    }

    /// One diagnostic per finding, and per entry that could not be audited (an error
    /// unless the gate only warns about those).
    pub(crate) fn diagnostics(&self, unaudited_warns: bool) -> Vec<Diagnostic> {
        let unaudited = self.unaudited.iter().map(|u| Diagnostic {
            file: u.file.clone(),
            line: (u.line > 0).then_some(u.line),
            column: None,
            end_line: None,
            severity: if unaudited_warns {
                DiagnosticSeverity::Warning
            } else {
                DiagnosticSeverity::Error
            },
            code: Some("not-audited".to_owned()),
            message: match (&u.package, &u.version) {
                (Some(package), Some(version)) => format!("{package} {version} not audited: {}", u.reason),
                _ => format!("{} packages not audited: {}", u.ecosystem.osv_name(), u.reason),
            },
        });
        self.findings
            .iter()
            .map(|f| {
                let aliases = if f.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", f.aliases.join(", "))
                };
                let fixed = f
                    .fixed
                    .as_ref()
                    .map_or_else(|| "no fixed version".to_owned(), |v| format!("fixed in {v}"));
                let kind = f
                    .informational
                    .as_ref()
                    .map_or_else(|| f.severity.clone(), |i| format!("{i} (informational)"));
                Diagnostic {
                    file: f.file.clone(),
                    line: Some(f.line),
                    column: None,
                    end_line: None,
                    severity: if f.fails {
                        DiagnosticSeverity::Error
                    } else {
                        DiagnosticSeverity::Warning
                    },
                    code: Some(f.id.clone()),
                    message: format!(
                        "{}{aliases}: {} {} — {}; {kind}; {fixed}",
                        f.id, f.package, f.version, f.summary
                    ),
                }
            })
            .chain(unaudited)
            .collect()
    }
}

/// Every lockfile among `files` (repository-relative), by name.
pub(crate) fn lockfiles<'a>(files: impl Iterator<Item = &'a Path>) -> Vec<PathBuf> {
    files
        .filter(|f| lockfile::Kind::of(f).is_some())
        .map(Path::to_path_buf)
        .collect()
}

/// Audits `lockfiles` against the database at `db`.
pub(crate) fn audit(
    root: &Path,
    lockfiles: &[PathBuf],
    db: &Path,
    policy: &Policy,
    today: jiff::civil::Date,
) -> anyhow::Result<Audit> {
    let mut audit = Audit::default();
    let mut packages: Vec<Package> = Vec::new();
    for file in lockfiles {
        let parsed = lockfile::parse(root, file)?;
        audit.notes.extend(parsed.skipped);
        packages.extend(parsed.packages);
        audit.lockfiles.push(file.to_string_lossy().into_owned());
    }
    set_aside_unauditable(&mut audit, &mut packages, policy);
    audit.packages = packages.len();
    if packages.is_empty() {
        return Ok(audit);
    }
    let mut ecosystems: Vec<Ecosystem> = packages.iter().map(|p| p.ecosystem).collect();
    ecosystems.sort_unstable();
    ecosystems.dedup();
    let database = Database::load(db, &ecosystems)?;
    set_aside_uncovered(&mut audit, &mut packages, &ecosystems, &database, db);
    audit.packages = packages.len();
    let mut used = vec![false; policy.ignore.len()];
    for ignore in &policy.ignore {
        if let Some(date) = ignore.expires.filter(|&date| date <= today) {
            audit.notes.push(format!(
                "the ignore of {} expired on {date}; it applies no more",
                ignore.id
            ));
        }
    }
    for package in &packages {
        for finding in findings_for(&database, package, policy) {
            let ids: HashSet<&str> = std::iter::once(finding.id.as_str())
                .chain(finding.aliases.iter().map(String::as_str))
                .collect();
            let ignored =
                policy.ignore.iter().enumerate().find(|(_, ignore)| {
                    ids.contains(ignore.id.as_str()) && ignore.expires.is_none_or(|date| date > today)
                });
            if let Some((index, ignore)) = ignored {
                used[index] = true;
                audit.notes.push(format!(
                    "{} in {} {} is ignored: {}",
                    finding.id, finding.package, finding.version, ignore.reason
                ));
                continue;
            }
            audit.findings.push(finding);
        }
    }
    for (ignore, used) in policy.ignore.iter().zip(used) {
        if !used && ignore.expires.is_none_or(|date| date > today) {
            audit
                .notes
                .push(format!("the ignore of {} matched no finding; remove it", ignore.id));
        }
    }
    Ok(audit)
}

/// Leaves out the packages of ecosystems the gate does not audit (noted) and those whose
/// version is not of their ecosystem's scheme (unaudited: a range cannot place them).
fn set_aside_unauditable(audit: &mut Audit, packages: &mut Vec<Package>, policy: &Policy) {
    if let Some(wanted) = &policy.ecosystems {
        let before = packages.len();
        packages.retain(|p| wanted.contains(&p.ecosystem));
        if packages.len() < before {
            audit.notes.push(format!(
                "{} packages of ecosystems not listed in `ecosystems` are not audited",
                before - packages.len()
            ));
        }
    }
    // A version outside its ecosystem's scheme cannot be placed in a range.
    packages.retain(|p| {
        if p.ecosystem.parses(&p.version) {
            return true;
        }
        audit.unaudited.push(Unaudited {
            ecosystem: p.ecosystem,
            package: Some(p.name.clone()),
            version: Some(p.version.clone()),
            file: p.file.to_string_lossy().into_owned(),
            line: p.line,
            reason: format!("not a {} version", p.ecosystem.osv_name()),
        });
        false
    });
}

/// Leaves out the packages of ecosystems the database holds no records for: unaudited.
fn set_aside_uncovered(
    audit: &mut Audit,
    packages: &mut Vec<Package>,
    ecosystems: &[Ecosystem],
    database: &Database,
    db: &Path,
) {
    for &ecosystem in ecosystems {
        if database.covered.contains(&ecosystem) {
            continue;
        }
        let of: Vec<&Package> = packages.iter().filter(|p| p.ecosystem == ecosystem).collect();
        audit.unaudited.push(Unaudited {
            ecosystem,
            package: None,
            version: None,
            file: of
                .first()
                .map(|p| p.file.to_string_lossy().into_owned())
                .unwrap_or_default(),
            line: 0,
            reason: format!(
                "the database `{}` holds no {} records ({} packages)",
                db.display(),
                ecosystem.osv_name(),
                of.len()
            ),
        });
    }
    let unaudited_ecosystems: Vec<Ecosystem> = ecosystems
        .iter()
        .copied()
        .filter(|e| !database.covered.contains(e))
        .collect();
    packages.retain(|p| !unaudited_ecosystems.contains(&p.ecosystem));
}

/// The findings for one package: records that share an id or alias are one finding.
fn findings_for(database: &Database, package: &Package, policy: &Policy) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for (record, fixed) in database.matches(package.ecosystem, &package.name, &package.version) {
        let mut names: Vec<String> = std::iter::once(record.id.clone())
            .chain(record.aliases.iter().cloned())
            .collect();
        if let Some(existing) = findings
            .iter_mut()
            .find(|f| names.iter().any(|n| *n == f.id || f.aliases.contains(n)))
        {
            names.retain(|n| *n != existing.id && !existing.aliases.contains(n));
            existing.aliases.extend(names);
            continue;
        }
        let severity = osv::severity(record);
        let informational = osv::informational(record);
        let level = severity.level();
        let fails = match &informational {
            Some(_) => policy.fail_informational,
            None => level >= policy.min_severity,
        };
        findings.push(Finding {
            id: record.id.clone(),
            aliases: record.aliases.clone(),
            summary: summary_of(record),
            severity: match severity {
                Severity::Unknown => "unknown severity".to_owned(),
                Severity::Level(..) => format!("severity {severity}"),
            },
            level,
            known: !matches!(severity, Severity::Unknown),
            ecosystem: package.ecosystem,
            package: package.name.clone(),
            version: package.version.clone(),
            fixed,
            informational,
            file: package.file.to_string_lossy().into_owned(),
            line: package.line,
            fails,
        });
    }
    findings
}

/// A record's summary, else the first sentence of its details.
fn summary_of(record: &osv::Record) -> String {
    if let Some(summary) = record.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        return summary.trim().to_owned();
    }
    let details = record.details.as_deref().unwrap_or("no summary").trim();
    let first = details
        .split(". ")
        .next()
        .unwrap_or(details)
        .lines()
        .next()
        .unwrap_or(details);
    crate::model::text::cut(first.trim_end_matches('.'), 120)
}

/// Today's date in UTC, for ignore expiry.
pub(crate) fn today() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// `YYYY-MM-DD`, a real day of the calendar (`2027-02-31` is not).
pub(crate) fn parse_date(text: &str) -> Option<jiff::civil::Date> {
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("2027-01-31"), Some(jiff::civil::date(2027, 1, 31)));
        assert_eq!(parse_date("2027-13-01"), None);
        assert_eq!(parse_date("2027-02-31"), None);
        assert_eq!(parse_date("2028-02-29"), Some(jiff::civil::date(2028, 2, 29)));
        assert!(today() > jiff::civil::date(2026, 1, 1));
    }
}
