//! LCOV tracefiles (`SF:`, `DA:`, `end_of_record`), read as a stream. A file in several
//! sections adds up; `LF`/`LH` summaries are ignored and recomputed from the `DA` lines.

use std::io::BufRead;
use std::path::Path;

use anyhow::{Result, bail};

use super::RawFile;

use crate::model::Problem;

/// Hands each section to `sink` as soon as it ends, so memory holds one section at a time.
pub(super) fn parse(reader: impl BufRead, name: &Path, sink: &mut dyn FnMut(RawFile)) -> Result<()> {
    let mut reader = reader;
    let mut current: Option<RawFile> = None;
    let mut line = Vec::with_capacity(256);
    let mut number = 0usize;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        let text = trim(&line);
        if let Some(rest) = text.strip_prefix(b"DA:") {
            let Some(file) = current.as_mut() else {
                bail!("{}:{number}: `DA` record outside a `SF` section", name.display());
            };
            let mut fields = rest.split(|&b| b == b',');
            let (Some(line_no), Some(hits)) = (fields.next().and_then(number_of), fields.next().and_then(hits_of))
            else {
                return Err(Problem::hinted(
                    format!(
                        "{}:{number}: malformed `DA` record `{}`",
                        name.display(),
                        String::from_utf8_lossy(text)
                    ),
                    "LCOV lines look like `DA:<line>,<hits>`",
                )
                .into());
            };
            *file.lines.entry(line_no).or_insert(0) += hits;
        } else if let Some(path) = text.strip_prefix(b"SF:") {
            if let Some(file) = current.take() {
                sink(file);
            }
            current = Some(RawFile::new(vec![String::from_utf8_lossy(path).into_owned()]));
        } else if text == b"end_of_record"
            && let Some(file) = current.take()
        {
            sink(file);
        }
        // TN, FN, FNDA, FNF, FNH, BRDA, BRF, BRH, LF, LH: not needed for line coverage.
    }
    if let Some(file) = current.take() {
        sink(file);
    }
    Ok(())
}

fn trim(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    &line[..end]
}

/// Plain decimal digits, the common case, without going through text.
fn digits(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 18 || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(field.iter().fold(0, |n, &d| n * 10 + u64::from(d - b'0')))
}

fn number_of(field: &[u8]) -> Option<u32> {
    digits(field)
        .and_then(|n| u32::try_from(n).ok())
        .or_else(|| std::str::from_utf8(field).ok()?.trim().parse().ok())
        .filter(|&n| n > 0)
}

/// Hit counts; some tools write `-1` for "not instrumented here", which counts as not hit.
fn hits_of(field: &[u8]) -> Option<u64> {
    if let Some(hits) = digits(field) {
        return Some(hits);
    }
    let text = std::str::from_utf8(field).ok()?.trim();
    let value: f64 = text.parse().ok()?;
    Some(if value > 0.0 { value as u64 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_of_one_file_add_up_and_summaries_are_ignored() {
        let text = "TN:\nSF:src/a.rs\nDA:1,1\nDA:2,0\nLF:99\nLH:99\nend_of_record\nSF:src/a.rs\nDA:2,3\nDA:3,0\nend_of_record\nSF:C:\\\\x\\\\b.rs\r\nDA:1,-1\r\nend_of_record\r\n";
        let mut files = Vec::new();
        parse(text.as_bytes(), Path::new("lcov.info"), &mut |f| files.push(f)).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].lines.get(&1), Some(&1));
        assert_eq!(files[1].lines.get(&2), Some(&3));
        assert_eq!(files[2].candidates[0], "C:\\\\x\\\\b.rs");
        assert_eq!(files[2].lines.get(&1), Some(&0));
    }

    #[test]
    fn a_malformed_line_names_file_and_line() {
        let err = parse(
            "SF:a\nDA:1,1\nDA:x\n".as_bytes(),
            Path::new("cov/lcov.info"),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cov/lcov.info:3: malformed `DA` record `DA:x`"),
            "{err}"
        );
    }
}
