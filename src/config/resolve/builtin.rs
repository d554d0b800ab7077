//! The settings of built-in gates: a coverage gate's report and thresholds, an audit gate's
//! database, policy and ignores.

use std::ops::Range;
use std::path::Path;

use super::{Action, Failure, glob_set};
use crate::audit::version::Ecosystem;
use crate::config::raw::RawGate;
use crate::config::specs::{AuditSpec, CoverageSpec, HygieneCheck, HygieneSpec, SecretsSpec};
use crate::model::{Kind, Problem};
use crate::secrets::RuleSpec;

/// A secrets gate: its own rules (checked here), what it allows, its baseline.
fn secrets(raw: &RawGate) -> Result<SecretsSpec, Failure> {
    let rules: Vec<RuleSpec> = raw
        .rules
        .iter()
        .map(|rule| {
            let spec = rule.get_ref();
            regex::Regex::new(&spec.regex).map_err(|err| {
                (
                    rule.span(),
                    Problem::new(format!("the regex of rule `{}` does not compile: {err}", spec.id)),
                )
            })?;
            Ok(RuleSpec {
                id: spec.id.clone(),
                regex: spec.regex.clone(),
                keywords: spec.keywords.clone(),
                entropy: spec.entropy,
            })
        })
        .collect::<Result<_, Failure>>()?;
    let allow = raw.allow.as_ref();
    let allow_regexes = allow
        .map(|a| a.regexes.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|r| regex::Regex::new(r.get_ref()).map_err(|err| (r.span(), Problem::new(format!("not a regex: {err}")))))
        .collect::<Result<_, Failure>>()?;
    Ok(SecretsSpec {
        rules,
        allow_paths: glob_set(allow.map(|a| a.paths.as_slice()).unwrap_or_default())?,
        allow_regexes,
        stopwords: allow.map(|a| a.stopwords.clone()).unwrap_or_default(),
        baseline: raw
            .baseline
            .as_ref()
            .map(|b| super::inside("baseline", b.get_ref(), b.span()))
            .transpose()?,
    })
}

/// A hygiene gate: which check, and its limit.
fn hygiene(raw: &RawGate, gate_span: Range<usize>) -> Result<HygieneSpec, Failure> {
    let names = || HygieneCheck::ALL.map(HygieneCheck::name).join(", ");
    let Some(name) = &raw.builtin else {
        return Err((
            gate_span,
            Problem::hinted(
                "a `builtin` gate names its check",
                format!(
                    "add e.g. `builtin = \"trailing-whitespace\"`; the checks are {}",
                    names()
                ),
            ),
        ));
    };
    let check = HygieneCheck::from_name(name.get_ref()).ok_or_else(|| {
        (
            name.span(),
            Problem::hinted(
                format!("unknown built-in check `{}`", name.get_ref()),
                format!("the checks are {}", names()),
            ),
        )
    })?;
    if let Some(max_kb) = &raw.max_kb
        && check != HygieneCheck::LargeFiles
    {
        return Err((max_kb.span(), Problem::new("`max_kb` is for the `large-files` check")));
    }
    if let Some(max_kb) = &raw.max_kb
        && *max_kb.get_ref() == 0
    {
        return Err((max_kb.span(), Problem::new("`max_kb` must be more than 0")));
    }
    Ok(HygieneSpec {
        check,
        max_kb: raw.max_kb.as_ref().map_or(500, |m| *m.get_ref()),
    })
}

/// The built-in work of a `coverage` or `audit` gate; other gates may not use their keys.
pub(super) fn builtin(
    name: &str,
    raw: &RawGate,
    gate_span: Range<usize>,
    root: &Path,
) -> Result<Option<Action>, Failure> {
    if raw.kind() == Kind::Audit {
        return audit(raw, root).map(|spec| Some(Action::Audit(spec)));
    }
    if raw.kind() == Kind::Builtin {
        return hygiene(raw, gate_span).map(|spec| Some(Action::Hygiene(spec)));
    }
    if raw.kind() == Kind::Secrets {
        return secrets(raw).map(|spec| Some(Action::Secrets(spec)));
    }
    if let Some(builtin) = &raw.builtin {
        return Err((
            builtin.span(),
            Problem::hinted(
                "`builtin` is for `kind = \"builtin\"` gates",
                "set `kind = \"builtin\"`, or use `preset`",
            ),
        ));
    }
    if raw.kind() != Kind::Coverage {
        let misplaced = [
            raw.report.as_ref().map(|r| ("report", r.span())),
            raw.min_total.as_ref().map(|m| ("min_total", m.span())),
            raw.min_patch.as_ref().map(|m| ("min_patch", m.span())),
        ];
        if let Some((key, span)) = misplaced.into_iter().flatten().next() {
            return Err((
                span,
                Problem::hinted(
                    format!("`{key}` is for coverage gates"),
                    "set `kind = \"coverage\"` on a gate of its own",
                ),
            ));
        }
        return Ok(None);
    }
    coverage(name, raw, gate_span).map(|spec| Some(Action::Coverage(spec)))
}

/// A coverage gate's reports and thresholds.
fn coverage(name: &str, raw: &RawGate, gate_span: Range<usize>) -> Result<CoverageSpec, Failure> {
    let Some(report) = &raw.report else {
        return Err((
            gate_span,
            Problem::hinted(
                format!("coverage gate `{name}` has no `report`"),
                "add e.g. `report = \"target/lcov.info\"`",
            ),
        ));
    };
    let mut thresholds = [None, None];
    for (slot, value) in thresholds.iter_mut().zip([&raw.min_total, &raw.min_patch]) {
        if let Some(value) = value {
            if !(0.0..=100.0).contains(value.get_ref()) {
                return Err((
                    value.span(),
                    "a coverage threshold is a percentage from 0 to 100".into(),
                ));
            }
            *slot = Some(*value.get_ref());
        }
    }
    if report.get_ref().clone().into_vec().is_empty() {
        return Err((
            report.span(),
            Problem::hinted(
                "`report` names no file, so nothing would be measured",
                "add e.g. `report = \"target/lcov.info\"`",
            ),
        ));
    }
    Ok(CoverageSpec {
        reports: report
            .get_ref()
            .clone()
            .into_vec()
            .iter()
            .map(|path| super::inside("report", path, report.span()))
            .collect::<Result<_, _>>()?,
        min_total: thresholds[0],
        min_patch: thresholds[1],
        path_map: raw
            .path_map
            .iter()
            .map(|m| crate::coverage::paths::PrefixMap {
                from: m.from.clone(),
                to: m.to.clone(),
            })
            .collect(),
        source_roots: raw
            .source_roots
            .clone()
            .unwrap_or_else(|| vec!["src/main/java".to_owned(), "src/main/kotlin".to_owned()]),
        exclude: glob_set(&raw.exclude)?,
    })
}

/// An audit gate's settings; every ignore must say why, and when it ends must be a date.
fn audit(raw: &RawGate, root: &Path) -> Result<AuditSpec, Failure> {
    let mut ignore = Vec::with_capacity(raw.ignore.len());
    for entry in &raw.ignore {
        let span = entry.span();
        let entry = entry.get_ref();
        let reason = entry.reason.clone().filter(|r| !r.trim().is_empty()).ok_or_else(|| {
            (
                span.clone(),
                Problem::hinted(
                    format!("the ignore of `{}` has no `reason`", entry.id),
                    "say why the risk is accepted, e.g. `reason = \"not reachable: we never parse untrusted input\"`",
                ),
            )
        })?;
        let expires = match &entry.expires {
            Some(text) => Some(crate::audit::parse_date(text).ok_or_else(|| {
                (
                    span.clone(),
                    Problem::hinted(format!("`expires = \"{text}\"` is not a date"), "write `YYYY-MM-DD`"),
                )
            })?),
            None => None,
        };
        ignore.push(crate::audit::Ignore {
            id: entry.id.clone(),
            reason,
            expires,
        });
    }
    let db = raw.db.as_ref().map(|db| root.join(db));
    let ecosystems = match &raw.ecosystems {
        Some(names) => {
            let mut ecosystems = Vec::new();
            for name in names.get_ref() {
                let ecosystem = Ecosystem::from_osv(name).ok_or_else(|| {
                    (
                        names.span(),
                        Problem::hinted(
                            format!("unknown ecosystem `{name}`"),
                            format!(
                                "the ecosystems are {}",
                                Ecosystem::ALL
                                    .iter()
                                    .map(|e| format!("`{}`", e.osv_name()))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ),
                    )
                })?;
                ecosystems.push(ecosystem);
            }
            Some(ecosystems)
        }
        None => None,
    };
    Ok(AuditSpec {
        db,
        policy: crate::audit::Policy {
            min_severity: raw.min_severity.unwrap_or(crate::audit::osv::Level::Low),
            fail_informational: raw.informational == Some(super::raw::Informational::Fail),
            ignore,
            ecosystems,
            unaudited_warns: raw.unaudited == Some(super::raw::Unaudited::Warn),
        },
        new_only: raw.new_only.unwrap_or(false),
    })
}
