//! `Cobertura` XML (coverage.py, cargo-llvm-cov, Istanbul, .NET) and `JaCoCo` XML, read as a
//! stream of tags.

use std::io::BufRead;
use std::path::Path;

use anyhow::{Result, bail};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::RawFile;

/// Which XML dialect a report is, from its root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Cobertura,
    Jacoco,
}

fn attribute(tag: &BytesStart<'_>, name: &str) -> Option<String> {
    tag.try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
        .map(std::borrow::Cow::into_owned)
}

fn number<T: std::str::FromStr>(tag: &BytesStart<'_>, name: &str) -> Option<T> {
    attribute(tag, name).and_then(|n| n.parse().ok())
}

/// The parser's state between tags.
struct Walk<'r> {
    source_roots: &'r [String],
    dialect: Option<Dialect>,
    /// `Cobertura` `sources/source` roots.
    sources: Vec<String>,
    in_source: bool,
    /// The `JaCoCo` package being read.
    package: String,
    files: Vec<RawFile>,
    current: Option<RawFile>,
}

impl Walk<'_> {
    fn open(&mut self, tag: &BytesStart<'_>, name: &Path) -> Result<()> {
        let local = tag.local_name();
        match (self.dialect, local.as_ref()) {
            (None, "coverage") => self.dialect = Some(Dialect::Cobertura),
            (None, "report") => self.dialect = Some(Dialect::Jacoco),
            (None, other) => bail!(
                "{}: an XML root element `{other}` is neither Cobertura (`coverage`) nor JaCoCo (`report`)",
                name.display()
            ),
            (Some(Dialect::Cobertura), "source") => self.in_source = true,
            (Some(Dialect::Cobertura), "class") => {
                let filename = attribute(tag, "filename").unwrap_or_default().replace('\\', "/");
                let mut candidates: Vec<String> = self
                    .sources
                    .iter()
                    .map(|source| format!("{}/{filename}", source.trim_end_matches(['/', '\\']).replace('\\', "/")))
                    .collect();
                candidates.push(filename);
                self.begin(candidates);
            }
            (Some(Dialect::Cobertura), "line") => {
                // Lines also appear under `method`: the same line twice counts once.
                if let Some(file) = self.current.as_mut() {
                    let (Some(line), Some(hits)) = (number::<u32>(tag, "number"), number::<f64>(tag, "hits")) else {
                        bail!(
                            "{}: a `line` with a `number` that is not a line number (1 or more) or no `hits`",
                            name.display()
                        );
                    };
                    if line == 0 || !hits.is_finite() {
                        bail!("{}: `line number=\"{line}\"` is not a line of a file", name.display());
                    }
                    let entry = file.lines.entry(line).or_insert(0);
                    *entry = (*entry).max(if hits > 0.0 { hits as u64 } else { 0 });
                }
            }
            (Some(Dialect::Jacoco), "package") => self.package = attribute(tag, "name").unwrap_or_default(),
            (Some(Dialect::Jacoco), "sourcefile") => {
                let file = attribute(tag, "name").unwrap_or_default();
                let relative = if self.package.is_empty() {
                    file
                } else {
                    format!("{}/{file}", self.package)
                };
                let mut candidates: Vec<String> = self
                    .source_roots
                    .iter()
                    .map(|root| format!("{}/{relative}", root.trim_end_matches('/')))
                    .collect();
                candidates.push(relative);
                self.begin(candidates);
            }
            (Some(Dialect::Jacoco), "line") => {
                // `ci`: covered instructions; a line without instructions is not measured.
                if let (Some(file), Some(line), Some(missed), Some(covered)) = (
                    self.current.as_mut(),
                    number::<u32>(tag, "nr"),
                    number::<u64>(tag, "mi"),
                    number::<u64>(tag, "ci"),
                ) && missed + covered > 0
                {
                    *file.lines.entry(line).or_insert(0) += covered;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn close(&mut self, local: &str) {
        match local {
            "source" => self.in_source = false,
            "class" | "sourcefile" => self.end(),
            "package" => self.package.clear(),
            _ => {}
        }
    }

    fn begin(&mut self, candidates: Vec<String>) {
        self.end();
        self.current = Some(RawFile::new(candidates));
    }

    fn end(&mut self) {
        if let Some(file) = self.current.take() {
            self.files.push(file);
        }
    }
}

/// `source_roots`: `JaCoCo`'s roots to try before its package paths.
pub(super) fn parse(reader: impl BufRead, name: &Path, source_roots: &[String]) -> Result<Vec<RawFile>> {
    let mut xml = Reader::from_reader(reader);
    xml.config_mut().trim_text(true);
    let mut buffer = Vec::new();
    let mut walk = Walk {
        source_roots,
        dialect: None,
        sources: Vec::new(),
        in_source: false,
        package: String::new(),
        files: Vec::new(),
        current: None,
    };
    // Elements open and not closed yet: a report cut short is no report.
    let mut depth = 0usize;
    loop {
        let event = xml.read_event_into(&mut buffer).map_err(|err| {
            anyhow::anyhow!(
                "{}: not valid XML near byte {}: {err}",
                name.display(),
                xml.error_position()
            )
        })?;
        match event {
            Event::Eof => break,
            Event::Start(tag) => {
                depth += 1;
                walk.open(&tag, name)?;
            }
            Event::Empty(tag) => walk.open(&tag, name)?,
            Event::Text(text) if walk.in_source => {
                walk.sources
                    .push(text.xml_content(XmlVersion::Implicit1_0).trim().to_owned());
            }
            Event::End(tag) => {
                depth = depth.saturating_sub(1);
                walk.close(tag.local_name().as_ref());
            }
            _ => {}
        }
        buffer.clear();
    }
    if walk.dialect.is_none() {
        bail!("{}: no XML coverage data in it", name.display());
    }
    if depth > 0 {
        bail!(
            "{}: the XML ends with {depth} elements still open: the report was cut short",
            name.display()
        );
    }
    walk.end();
    Ok(walk.files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cobertura_classes_with_sources() {
        let text = r#"<?xml version="1.0" ?>
<coverage line-rate="0.5"><sources><source>/home/ci/repo/src</source></sources>
<packages><package name="p"><classes>
<class name="a" filename="pkg/a.py"><methods/><lines>
<line number="1" hits="1"/><line number="2" hits="0"/><line number="3" hits="2" branch="true"/>
</lines></class></classes></package></packages></coverage>"#;
        let files = parse(text.as_bytes(), Path::new("coverage.xml"), &[]).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].candidates, ["/home/ci/repo/src/pkg/a.py", "pkg/a.py"]);
        assert_eq!(files[0].lines.len(), 3);
        assert_eq!(files[0].lines[&2], 0);
    }

    #[test]
    fn jacoco_sourcefiles_under_packages() {
        let text = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
<report name="x"><package name="com/acme"><class name="com/acme/A" sourcefilename="A.java"/>
<sourcefile name="A.java"><line nr="3" mi="0" ci="2" mb="0" cb="0"/><line nr="4" mi="1" ci="0" mb="0" cb="0"/>
<line nr="5" mi="0" ci="0" mb="0" cb="0"/></sourcefile></package></report>"#;
        let files = parse(text.as_bytes(), Path::new("jacoco.xml"), &["src/main/java".to_owned()]).unwrap();
        assert_eq!(
            files[0].candidates,
            ["src/main/java/com/acme/A.java", "com/acme/A.java"]
        );
        assert_eq!(files[0].lines.len(), 2, "a line with no instructions is not measured");
        assert_eq!((files[0].lines[&3], files[0].lines[&4]), (2, 0));
    }

    #[test]
    fn broken_or_foreign_xml_is_an_error() {
        // Cut short: an error, never an empty (or partial) report that passes.
        assert!(parse("<coverage><packages>".as_bytes(), Path::new("c.xml"), &[]).is_err());
        let err = parse("<html><body/></html>".as_bytes(), Path::new("c.xml"), &[]).unwrap_err();
        assert!(err.to_string().contains("neither Cobertura"), "{err}");
        let err = parse("<coverage><a></b></coverage>".as_bytes(), Path::new("c.xml"), &[]).unwrap_err();
        assert!(err.to_string().contains("c.xml: not valid XML"), "{err}");
    }

    #[test]
    fn cut_short_reports_and_impossible_lines_are_errors() {
        let whole = r#"<coverage><packages><package><classes><class filename="a.py"><lines><line number="1" hits="1"/></lines></class></classes></package></packages></coverage>"#;
        assert!(parse(whole.as_bytes(), Path::new("c.xml"), &[]).is_ok());
        let cut = &whole[..whole.find("</lines>").unwrap()];
        let err = parse(cut.as_bytes(), Path::new("c.xml"), &[]).err().unwrap();
        assert!(err.to_string().contains("cut short"), "{err}");
        for bad in ["-5", "0", "x", "99999999999"] {
            let text = whole.replace("number=\"1\"", &format!("number=\"{bad}\""));
            assert!(parse(text.as_bytes(), Path::new("c.xml"), &[]).is_err(), "{bad}");
        }
    }
}
