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
        let graph = imports(&modules);
        if let Some(circle) = find_circle(&graph) {
            let steps: Vec<String> = circle
                .windows(2)
                .map(|pair| {
                    let name = |m: &str| {
                        if m.is_empty() {
                            "(root)".to_owned()
                        } else {
                            m.to_owned()
                        }
                    };
                    let via = graph
                        .get(&pair[0])
                        .and_then(|deps| deps.get(&pair[1]))
                        .map_or("", String::as_str);
                    format!("{} -> {} (`{via}`)", name(&pair[0]), name(&pair[1]))
                })
                .collect();
            problems.push(format!("{krate}: import circle: {}", steps.join(", ")));
        } else {
            println!(
                "layout: {krate}: {} modules, no import circle",
                modules.len()
            );
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

/// The code of a file: up to a trailing `#[cfg(test)] mod tests { .. }` (which may import
/// anything), without comment lines (a doc link is no import).
fn without_unit_tests(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Which modules each module uses: `crate::a::b` paths (`use crate::{a, b::c}` groups too),
/// paths through a declared child (`native::f`, `pub use native::*`) and `super::` paths, each
/// resolved to the longest known module. A `crate::Name` re-exported by the crate root counts
/// as a use of the module it comes from (a glob re-export's module, for a name the root does
/// not list), so a module may name `crate::Client` without depending on the root. A module's
/// own ancestors and itself do not count.
fn imports(modules: &BTreeMap<String, (PathBuf, String)>) -> Graph {
    let root_text = modules.get("").map_or("", |(_, text)| text.as_str());
    let (reexports, glob) = root_reexports(root_text);
    let resolve = |path: &str| -> String {
        let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let module = (1..=segments.len())
            .rev()
            .map(|n| segments[..n].join("::"))
            .find(|candidate| modules.contains_key(candidate));
        module.unwrap_or_else(|| {
            let first = segments.first().copied().unwrap_or("");
            reexports
                .get(first)
                .or(glob.as_ref())
                .map(|module| module.trim_end_matches("::public").to_owned())
                .unwrap_or_default()
        })
    };
    let mut graph = BTreeMap::new();
    for (module, (_, text)) in modules {
        let mut paths = relative_paths(text, "crate::");
        for child in modules
            .keys()
            .filter(|other| parent_of(other).as_deref() == Some(module.as_str()))
        {
            let name = child.rsplit("::").next().unwrap_or(child);
            if uses_relative(text, name) {
                paths.push(child.clone());
            }
        }
        if let Some(parent) = parent_of(module) {
            for path in relative_paths(text, "super::") {
                paths.push(match (parent.is_empty(), path.is_empty()) {
                    (true, _) => path,
                    (false, true) => parent.clone(),
                    (false, false) => format!("{parent}::{path}"),
                });
            }
        }
        let mut deps = BTreeMap::new();
        for path in paths {
            let target = resolve(&path);
            if target != *module && !module.starts_with(&format!("{target}::")) {
                deps.entry(target).or_insert(path);
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// `validate::urls` -> `validate`, `client` -> `` (the root), `` -> none.
fn parent_of(module: &str) -> Option<String> {
    if module.is_empty() {
        return None;
    }
    Some(
        module
            .rsplit_once("::")
            .map_or(String::new(), |(parent, _)| parent.to_owned()),
    )
}

/// Whether `text` names `name::` as a path of its own (not `crate::name::` or `x.name::`).
fn uses_relative(text: &str, name: &str) -> bool {
    let needle = format!("{name}::");
    text.match_indices(&needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        !matches!(before, Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.')
    })
}

/// The paths after each `prefix` in `text` (`a::b` for `crate::a::b`), with `{a, b::c}` groups
/// expanded one level; `` for `super::*`.
fn relative_paths(text: &str, prefix: &str) -> Vec<String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut paths = Vec::new();
    for (at, _) in text.match_indices(prefix) {
        let before = text[..at].chars().next_back();
        if matches!(before, Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &text[at + prefix.len()..];
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

/// The crate root's `pub use a::b::{X, Y};` / `pub use a::X;` re-exports (name -> the module
/// path `a::b` as written) and the module of its first glob re-export, if any.
fn root_reexports(root: &str) -> (BTreeMap<String, String>, Option<String>) {
    let mut names = BTreeMap::new();
    let mut glob = None;
    for statement in root.split(';') {
        let joined = statement
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("//") && !line.starts_with('#'))
            .collect::<Vec<_>>()
            .join(" ");
        let Some(path) = joined.strip_prefix("pub use ") else {
            continue;
        };
        let path = path.trim_start_matches("crate::");
        if let Some((module, group)) = path.split_once("::{") {
            for item in group.trim_end_matches('}').split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    names.insert(item.to_owned(), module.to_owned());
                }
            }
        } else if let Some(module) = path.strip_suffix("::*") {
            glob.get_or_insert_with(|| module.to_owned());
        } else if let Some((module, item)) = path.rsplit_once("::") {
            names.insert(item.to_owned(), module.to_owned());
        }
    }
    (names, glob)
}

/// Module -> the modules it uses, each with the first path that uses it.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// A circle in `graph`, as the modules along it, if there is one.
fn find_circle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
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
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
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

    fn graph(edges: &[(&str, &[&str])]) -> Graph {
        edges
            .iter()
            .map(|(from, to)| {
                (
                    (*from).to_owned(),
                    to.iter()
                        .map(|t| ((*t).to_owned(), String::new()))
                        .collect(),
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
            relative_paths(text, "crate::"),
            ["http::", "controls", "pages::Page", "model::f"]
                .map(|p| p.trim_end_matches(':').to_owned())
        );
    }
}
