//! Report paths to repository paths: absolute paths under the root become relative; the
//! report's own roots (`Cobertura` sources, `JaCoCo` source roots) and Go module paths are
//! tried; then the user's `path_map`; then a unique suffix match against tracked files.

use std::collections::{HashMap, HashSet};
use std::path::Path;

/// `path_map`: a report path starting with `from` starts with `to` in the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrefixMap {
    pub(crate) from: String,
    pub(crate) to: String,
}

/// Where a report's file is in the repository.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    Found(String),
    /// Several tracked files end alike: no guess, the candidates are named.
    Ambiguous(Vec<String>),
    NotFound,
}

pub(crate) struct Resolver<'a> {
    root: String,
    /// The gate's `workdir` with a trailing `/` (empty for the root): report paths are
    /// tried relative to it first, as the tests that wrote them ran there.
    workdir: String,
    tracked: HashSet<&'a str>,
    /// Tracked paths by file name, for suffix matching.
    by_name: HashMap<&'a str, Vec<&'a str>>,
    path_map: &'a [PrefixMap],
    /// (module path, directory relative to the root) from each tracked `go.mod`.
    go_modules: Vec<(String, String)>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(root: &Path, workdir: &Path, tracked: &'a [String], path_map: &'a [PrefixMap]) -> Self {
        let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        for path in tracked {
            let name = path.rsplit('/').next().unwrap_or(path);
            by_name.entry(name).or_default().push(path);
        }
        let go_modules = tracked
            .iter()
            .filter(|p| *p == "go.mod" || p.ends_with("/go.mod"))
            .filter_map(|go_mod| {
                let text = std::fs::read_to_string(root.join(go_mod)).ok()?;
                let module = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("module "))?
                    .trim()
                    .trim_matches('"')
                    .to_owned();
                let dir = go_mod
                    .strip_suffix("go.mod")
                    .unwrap_or_default()
                    .trim_end_matches('/')
                    .to_owned();
                Some((module, dir))
            })
            .collect();
        let workdir = workdir.to_string_lossy().trim_matches('/').to_owned();
        Self {
            root: format!("{}/", root.to_string_lossy().trim_end_matches('/')),
            workdir: if workdir.is_empty() {
                workdir
            } else {
                format!("{workdir}/")
            },
            tracked: tracked.iter().map(String::as_str).collect(),
            by_name,
            path_map,
            go_modules,
        }
    }

    /// The tracked file a report's candidates name, if exactly one.
    pub(crate) fn resolve(&self, candidates: &[String]) -> Resolved {
        let normalized: Vec<String> = candidates.iter().map(|c| self.normalize(c)).collect();
        let in_workdir = normalized
            .iter()
            .filter(|_| !self.workdir.is_empty())
            .map(|c| format!("{}{c}", self.workdir));
        if let Some(found) = in_workdir
            .chain(normalized.iter().cloned())
            .find(|c| self.tracked.contains(c.as_str()))
        {
            return Resolved::Found(found);
        }
        let mut ambiguous = None;
        for candidate in &normalized {
            match self.by_suffix(candidate) {
                Resolved::Found(found) => return Resolved::Found(found),
                Resolved::Ambiguous(all) => ambiguous = ambiguous.or(Some(all)),
                Resolved::NotFound => {}
            }
        }
        ambiguous.map_or(Resolved::NotFound, Resolved::Ambiguous)
    }

    /// How many lines the tracked file has (0 when it cannot be read).
    pub(crate) fn line_count(&self, path: &str) -> u32 {
        let Ok(bytes) = std::fs::read(format!("{}{path}", self.root)) else {
            return 0;
        };
        let newlines = memchr::memchr_iter(b'\n', &bytes).count();
        let unterminated = usize::from(bytes.last().is_some_and(|&b| b != b'\n'));
        u32::try_from(newlines + unterminated).unwrap_or(u32::MAX)
    }

    fn normalize(&self, candidate: &str) -> String {
        let mut path = candidate.trim().replace('\\', "/");
        if let Some(relative) = path.strip_prefix(&self.root) {
            path = relative.to_owned();
        }
        for (module, dir) in &self.go_modules {
            if let Some(rest) = path.strip_prefix(&format!("{module}/")) {
                path = if dir.is_empty() {
                    rest.to_owned()
                } else {
                    format!("{dir}/{rest}")
                };
                break;
            }
        }
        for map in self.path_map {
            if let Some(rest) = path.strip_prefix(map.from.as_str()) {
                path = format!("{}{rest}", map.to);
                break;
            }
        }
        while let Some(rest) = path.strip_prefix("./") {
            path = rest.to_owned();
        }
        path
    }

    /// A tracked file whose path and the candidate's end alike, when only one does.
    fn by_suffix(&self, candidate: &str) -> Resolved {
        let Some(name) = candidate.rsplit('/').next() else {
            return Resolved::NotFound;
        };
        let Some(named) = self.by_name.get(name) else {
            return Resolved::NotFound;
        };
        let mut matches: Vec<String> = named
            .iter()
            .filter(|tracked| {
                candidate.ends_with(&format!("/{tracked}"))
                    || tracked.ends_with(&format!("/{candidate}"))
                    || **tracked == candidate
            })
            .map(|tracked| (*tracked).to_owned())
            .collect();
        match matches.len() {
            0 => Resolved::NotFound,
            1 => Resolved::Found(matches.remove(0)),
            _ => {
                matches.sort();
                Resolved::Ambiguous(matches)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_mapped_windows_go_and_suffix_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("svc")).unwrap();
        std::fs::write(dir.path().join("svc/go.mod"), "module example.com/svc\n\ngo 1.22\n").unwrap();
        let tracked: Vec<String> = [
            "src/app.py",
            "svc/go.mod",
            "svc/pkg/a.go",
            "lib/util.py",
            "other/util.py",
            "java/src/main/java/com/A.java",
            "ünï/ç.py",
        ]
        .map(String::from)
        .to_vec();
        let map = vec![PrefixMap {
            from: "/build/".to_owned(),
            to: "src/".to_owned(),
        }];
        let resolver = Resolver::new(dir.path(), Path::new(""), &tracked, &map);
        let root = dir.path().to_string_lossy();
        let one = |c: &str| match resolver.resolve(&[c.to_owned()]) {
            Resolved::Found(found) => Some(found),
            _ => None,
        };
        assert_eq!(one(&format!("{root}/src/app.py")).as_deref(), Some("src/app.py"));
        assert_eq!(one("/build/app.py").as_deref(), Some("src/app.py"));
        assert_eq!(one("./src/app.py").as_deref(), Some("src/app.py"));
        assert_eq!(one("src\\app.py").as_deref(), Some("src/app.py"));
        assert_eq!(one("example.com/svc/pkg/a.go").as_deref(), Some("svc/pkg/a.go"));
        assert_eq!(
            one("/ci/checkout/project/src/app.py").as_deref(),
            Some("src/app.py"),
            "unique suffix"
        );
        assert_eq!(
            resolver.resolve(&["util.py".to_owned()]),
            Resolved::Ambiguous(vec!["lib/util.py".to_owned(), "other/util.py".to_owned()]),
            "two tracked files end alike: no guess, both named"
        );
        let in_lib = Resolver::new(dir.path(), Path::new("lib"), &tracked, &map);
        assert_eq!(
            in_lib.resolve(&["util.py".to_owned()]),
            Resolved::Found("lib/util.py".to_owned()),
            "relative to the gate's workdir first"
        );
        assert_eq!(one("com/A.java").as_deref(), Some("java/src/main/java/com/A.java"));
        assert_eq!(one("ünï/ç.py").as_deref(), Some("ünï/ç.py"));
        assert_eq!(one("gone.py"), None);
    }
}
