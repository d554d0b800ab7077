//! The module graph of `src/`, read from its `crate::` paths: no cycle between top-level
//! modules, the result model a leaf, the engines free of config and reporting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn top_level(path: &Path, src: &Path) -> String {
    let relative = path.strip_prefix(src).unwrap();
    let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let from = top_level(&path, &src);
            let text = std::fs::read_to_string(&path).unwrap();
            let edges = graph.entry(from.clone()).or_default();
            for (at, _) in text.match_indices("crate::") {
                let name: String = text[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != from {
                    edges.insert(name);
                }
            }
        }
    }
    graph
}

fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, node: &str, path: &mut Vec<String>) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| n == node) {
        let mut cycle = path[at..].to_vec();
        cycle.push(node.to_owned());
        return Some(cycle);
    }
    path.push(node.to_owned());
    for next in graph.get(node).into_iter().flatten() {
        if let Some(cycle) = cycle_from(graph, next, path) {
            return Some(cycle);
        }
    }
    path.pop();
    None
}

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let graph = graph();
    assert!(graph.len() > 10, "{graph:?}");
    for node in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, node, &mut Vec::new()) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_result_model_is_a_leaf_and_engines_do_not_reach_up() {
    let graph = graph();
    assert_eq!(graph["model"], BTreeSet::new(), "model imports {:?}", graph["model"]);
    for engine in ["audit", "coverage"] {
        for forbidden in ["config", "gates", "github", "report", "run", "commands"] {
            assert!(
                !graph[engine].contains(forbidden),
                "`{engine}` depends on `{forbidden}`: {:?}",
                graph[engine]
            );
        }
    }
}
