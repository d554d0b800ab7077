//! Go cover profiles (`go test -coverprofile`): `mode:` then
//! `import/path/file.go:startLine.startCol,endLine.endCol statements count`. A block covers
//! its lines; a line is covered when any block on it ran.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use anyhow::{Result, bail};

use super::RawFile;

use crate::model::Problem;

pub(super) fn parse(reader: impl BufRead, name: &Path) -> Result<Vec<RawFile>> {
    let mut files: HashMap<String, RawFile> = HashMap::new();
    let mut order = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with("mode:") {
            continue;
        }
        let malformed = || {
            anyhow::Error::from(Problem::hinted(
                format!("{}:{number}: malformed cover profile line `{line}`", name.display()),
                "lines look like `path/file.go:3.14,5.2 1 0`",
            ))
        };
        let (location, counts) = line.rsplit_once(':').ok_or_else(malformed)?;
        let mut fields = counts.split_whitespace();
        let (Some(range), Some(_statements), Some(count), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            bail!(malformed());
        };
        let (start, end) = range.split_once(',').ok_or_else(malformed)?;
        let line_of = |pos: &str| pos.split_once('.').and_then(|(l, _)| l.parse::<u32>().ok());
        let (Some(first), Some(last), Ok(count)) = (line_of(start), line_of(end), count.parse::<u64>()) else {
            bail!(malformed());
        };
        if last < first {
            bail!(malformed());
        }
        let file = files.entry(location.to_owned()).or_insert_with(|| {
            order.push(location.to_owned());
            RawFile::new(vec![location.to_owned()])
        });
        file.blocks.push((first, last, count));
    }
    Ok(order.into_iter().filter_map(|path| files.remove(&path)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_lines() {
        let text = "mode: set\nexample.com/m/pkg/a.go:3.14,5.2 2 1\nexample.com/m/pkg/a.go:5.2,7.3 1 0\n";
        let files = parse(text.as_bytes(), Path::new("c.out")).unwrap();
        assert_eq!(files.len(), 1);
        let file = files.into_iter().next().unwrap();
        let mut lines: Vec<(u32, u64)> = file.into_lines(6).into_iter().collect();
        lines.sort_unstable();
        assert_eq!(lines, [(3, 1), (4, 1), (5, 1), (6, 0)], "clamped to the file's 6 lines");
    }

    #[test]
    fn a_block_of_fifty_million_lines_costs_what_the_file_has() {
        let text = "mode: set\nc.go:1.1,50000000.1 2 1\n";
        let file = parse(text.as_bytes(), Path::new("c.out"))
            .unwrap()
            .into_iter()
            .next()
            .unwrap();
        assert_eq!(file.into_lines(3).len(), 3);
    }

    #[test]
    fn a_malformed_line_names_file_and_line() {
        let err = parse("mode: set\nnot a profile line\n".as_bytes(), Path::new("c.out")).unwrap_err();
        assert!(
            err.to_string().starts_with("c.out:2: malformed cover profile line"),
            "{err}"
        );
    }
}
