//! `gipity_shared::CLIENT_METHODS`, which the macros refuse as trait method names, is exactly
//! the set of `Client`'s methods.

use std::collections::BTreeSet;

/// The names of the `pub fn`/`pub async fn` with a `self` receiver in every `impl Client` block
/// of the crate's sources.
fn client_methods() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for block in text.split("\nimpl Client {").skip(1) {
                let body = block.split("\n}\n").next().unwrap_or("");
                for (at, _) in body.match_indices("pub ") {
                    let rest = &body[at + "pub ".len()..];
                    let Some(rest) = rest
                        .strip_prefix("async fn ")
                        .or_else(|| rest.strip_prefix("fn "))
                    else {
                        continue;
                    };
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    let receiver = rest.split_once('(').is_some_and(|(_, args)| {
                        let args = args.trim_start();
                        args.starts_with("&self") || args.starts_with("self")
                    });
                    if receiver {
                        names.insert(name);
                    }
                }
            }
        }
    }
    names
}

#[test]
fn shared_list_matches_the_methods() {
    let found = client_methods();
    let listed: BTreeSet<String> = gipity_shared::CLIENT_METHODS
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    assert!(
        found.contains("call") && found.contains("scope"),
        "{found:?}"
    );
    assert_eq!(found, listed);
}
