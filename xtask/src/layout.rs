//! The layout rules of the runtime and the emulator, checked on their sources:
//!
//! - no import circle between the files of `gipity-runtime/src` or `gipity-emulator/src`
//!   (a file's imports are the `crate::<module>` paths it names, unit tests excluded);
//! - no file of `gipity-runtime/src` outside `platform/` names `target_arch`: every difference
//!   between native targets and the browser lives in the platform modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::workspace_root;

pub fn check() -> Result<(), String> {
    let root = workspace_root();
    let mut problems = Vec::new();
    for krate in ["gipity-runtime", "gipity-emulator"] {
        let src = root.join(krate).join("src");
        let modules = modules(&src)?;
        if let Some(circle) = find_circle(&imports(&modules)) {
            problems.push(format!("{krate}: import circle {}", circle.join(" -> ")));
        }
        if krate == "gipity-runtime" {
            for (module, (path, text)) in &modules {
                if !module.starts_with("platform") && text.contains("target_arch") {
                    problems.push(format!(
                        "{}: names `target_arch` outside `platform/`",
                        path.display()
                    ));
                }
            }
        }
        println!(
            "layout: {krate}: {} modules, no import circle",
            modules.len()
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("layout:\n  {}", problems.join("\n  ")))
    }
}

/// Module path (`validate::urls`, `` for the crate root) -> (file, text), test files left out.
fn modules(src: &Path) -> Result<BTreeMap<String, (PathBuf, String)>, String> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let Some(relative) = path.strip_prefix(src).ok().and_then(Path::to_str) else {
                continue;
            };
            let Some(stem) = relative.strip_suffix(".rs") else {
                continue;
            };
            if stem == "tests" || stem.ends_with("/tests") || stem == "main" {
                continue;
            }
            let module = stem
                .strip_suffix("/mod")
                .unwrap_or(stem)
                .trim_start_matches("lib")
                .replace('/', "::");
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{relative}: {e}"))?;
            found.insert(module, (path.clone(), without_unit_tests(&text)));
        }
    }
    Ok(found)
}

/// The text up to a trailing `#[cfg(test)] mod tests { .. }`, which may import anything.
fn without_unit_tests(text: &str) -> String {
    match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => text[..at].to_owned(),
        None => text.to_owned(),
    }
}

/// Which modules each module names through `crate::` paths (`use crate::a::b`, `crate::a::f()`,
/// `use crate::{a, b}`), resolved to the longest known module; a module's own ancestors and
/// itself do not count.
fn imports(modules: &BTreeMap<String, (PathBuf, String)>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (module, (_, text)) in modules {
        let mut deps = BTreeSet::new();
        for path in crate_paths(text) {
            let segments: Vec<&str> = path.split("::").collect();
            let target = (1..=segments.len())
                .rev()
                .map(|n| segments[..n].join("::"))
                .find(|candidate| modules.contains_key(candidate));
            if let Some(target) = target
                && target != *module
                && !module.starts_with(&format!("{target}::"))
            {
                deps.insert(target);
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// The paths after each `crate::` in `text`, with `{a, b::c}` groups expanded one level.
fn crate_paths(text: &str) -> Vec<String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut paths = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            paths.extend(inner.split(',').map(|item| {
                item.trim()
                    .chars()
                    .take_while(|&c| word(c))
                    .collect::<String>()
            }));
        } else {
            let path: String = rest.chars().take_while(|&c| word(c)).collect();
            paths.push(path.trim_end_matches(':').to_owned());
        }
    }
    paths
}

/// A circle in `graph`, as the modules along it, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges
            .iter()
            .map(|(from, to)| {
                (
                    (*from).to_owned(),
                    to.iter().map(|t| (*t).to_owned()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn circles_are_found_and_chains_pass() {
        let chain = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &[])]);
        assert_eq!(find_circle(&chain), None);
        let circle = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
        assert_eq!(
            find_circle(&circle),
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
    }

    #[test]
    fn crate_paths_read_plain_paths_and_groups() {
        let text = "use crate::http::{a, b};\nuse crate::{controls, pages::Page};\nlet x = crate::model::f();";
        assert_eq!(
            crate_paths(text),
            ["http::", "controls", "pages::Page", "model::f"]
                .map(|p| p.trim_end_matches(':').to_owned())
        );
    }
}
