//! The check of stubs against the app's `gipity.yaml`.
//!
//! Which manifest: `manifest = ".."` on the attribute (relative to `CARGO_MANIFEST_DIR`; a
//! missing file is an error), else the `GIPITY_MANIFEST` environment variable (a path, or
//! `off`), else the nearest `gipity.yaml` walking up from `CARGO_MANIFEST_DIR`, else none (no
//! check). The variable and the walk apply to the crates of the user's own tree only: a crate
//! cargo fetched (from a registry, a git repository or a vendor directory) is someone else's
//! library of stubs, checked only by its own `manifest = ".."`.
//!
//! A manifest is parsed once per compiler process, and again only when its bytes change (a
//! long-lived process, such as an IDE's, sees edits).
//!
//! The generated code names the manifest with `include_bytes!` and reads `GIPITY_MANIFEST`
//! with `option_env!`, so that cargo re-runs the check when either changes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use gipity_manifest::{Declared, Manifest};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

use crate::args::{self, Auth};
use crate::ctxt::Ctxt;
use crate::model::Function;

/// The environment variable that names the manifest, or turns the check off.
pub(crate) const ENV: &str = "GIPITY_MANIFEST";

/// How many declared names an error lists when none is close to the unknown one.
const LISTED: usize = 5;

/// The manifest the stubs of one invocation are checked against.
pub(crate) struct Loaded {
    manifest: Arc<Manifest>,
    /// Absolute.
    path: PathBuf,
    /// Function files the check relied on (undeclared functions the platform deploys).
    files: Vec<PathBuf>,
    /// Named by `manifest = ".."`, which `GIPITY_MANIFEST=off` does not turn off.
    explicit: bool,
}

/// The manifest for this invocation, or `None` when there is none or it could not be read
/// (then the error is in `cx`).
pub(crate) fn load(cx: &Ctxt, attribute: Option<&LitStr>) -> Option<Loaded> {
    let crate_dir = crate_dir();
    let explicit = attribute.is_some();
    let (path, span) = if let Some(lit) = attribute {
        let path = crate_dir.join(lit.value());
        if !path.is_file() {
            cx.error_spanned_by(
                lit,
                format!(
                    "no gipity.yaml at `{}`: `manifest = \"..\"` is relative to the crate's \
                     directory (CARGO_MANIFEST_DIR), here `{}`",
                    lit.value(),
                    path.display()
                ),
            );
            return None;
        }
        (path, lit.span())
    } else {
        match std::env::var_os(ENV) {
            Some(value) if value == "off" => return None,
            Some(value) if !value.is_empty() && !fetched(&crate_dir) => {
                let path = crate_dir.join(value);
                if !path.is_file() {
                    cx.error_at(
                        Span::call_site(),
                        format!(
                            "{ENV} names `{}`, which is not a file; point it at the app's \
                             gipity.yaml, or set it to `off` to build without the check",
                            path.display()
                        ),
                    );
                    return None;
                }
                (path, Span::call_site())
            }
            _ if fetched(&crate_dir) => return None,
            _ => (gipity_manifest::discover(&crate_dir)?, Span::call_site()),
        }
    };
    let path = std::path::absolute(&path).unwrap_or(path);
    match parsed(&path) {
        Ok(manifest) => Some(Loaded {
            manifest,
            path,
            files: Vec::new(),
            explicit,
        }),
        Err(message) => {
            cx.error_at(
                span,
                format!("invalid gipity.yaml: {message}{}", off_hint(explicit)),
            );
            None
        }
    }
}

/// How to build anyway, for a manifest the user did not name on the attribute.
fn off_hint(explicit: bool) -> String {
    if explicit {
        String::new()
    } else {
        format!("\n(set {ENV}=off to build without the check)")
    }
}

/// Whether the crate in `dir` is one cargo fetched: unpacked from a registry (`.cargo-ok`),
/// vendored (`.cargo-checksum.json`), or in a git checkout (`.cargo-ok` at its root).
fn fetched(dir: &Path) -> bool {
    dir.join(".cargo-checksum.json").is_file()
        || dir.ancestors().any(|dir| dir.join(".cargo-ok").is_file())
}

fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
}

type Parsed = Result<Arc<Manifest>, String>;

/// A manifest's bytes when it was parsed, and what they gave.
struct Cached {
    bytes: Vec<u8>,
    parsed: Parsed,
}

static CACHE: Mutex<Option<HashMap<PathBuf, Cached>>> = Mutex::new(None);

/// The manifest at `path`, parsed again only when its bytes change (reading a small file
/// costs far less than parsing it, and no timestamp can be stale).
fn parsed(path: &Path) -> Parsed {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(hit) = cache.get(path)
        && hit.bytes == bytes
    {
        return hit.parsed.clone();
    }
    let parsed = match std::str::from_utf8(&bytes) {
        Ok(text) => Manifest::parse(text, Some(path))
            .map(Arc::new)
            .map_err(|e| e.to_string()),
        Err(e) => Err(format!("{}: not UTF-8 text: {e}", path.display())),
    };
    cache.insert(
        path.to_owned(),
        Cached {
            bytes,
            parsed: parsed.clone(),
        },
    );
    parsed
}

fn auth_of(auth: gipity_manifest::Auth) -> Auth {
    match auth {
        gipity_manifest::Auth::Public => Auth::Public,
        gipity_manifest::Auth::User => Auth::User,
        gipity_manifest::Auth::Member => Auth::Member,
    }
}

impl Loaded {
    /// Checks `function` against the manifest; a stub without `auth` takes the manifest's.
    pub(crate) fn check(&mut self, cx: &Ctxt, function: &mut Function) {
        let manifest = Arc::clone(&self.manifest);
        let name = function.remote.value.clone();
        if gipity_shared::check_function_name(&name).is_err() {
            // Reported by the name's own check.
            return;
        }
        let span = function.remote.span;
        let file = || format!("gipity.yaml ({})", self.path.display());
        let declared = manifest.lookup(&name);
        if !matches!(declared, Some(Declared::Function(_)))
            && let Some(found) = manifest.function_file(&name)
        {
            // A file the platform deploys as a public function, whatever else bears its name.
            let shown = found
                .strip_prefix(self.path.parent().unwrap_or(Path::new("")))
                .unwrap_or(&found)
                .display()
                .to_string();
            self.settle(
                cx,
                function,
                Auth::Public,
                &format!("`{shown}`, not declared in `gipity.yaml`: the platform's default"),
                || {
                    format!(
                        "{} does not declare `{name}`, so the platform serves `{shown}` as \
                         `public`",
                        file()
                    )
                },
            );
            self.files.push(found);
            return;
        }
        match declared {
            Some(Declared::Function(declared)) => {
                let line = declared.at.line;
                if !declared.hooks.is_empty() {
                    cx.error_at(
                        span,
                        format!(
                            "`{name}` is called by the platform, not by clients: {} declares it \
                             with `hooks: [{}]` (line {line}); do not bind it",
                            file(),
                            declared.hooks.join(", ")
                        ),
                    );
                    return;
                }
                let source = format!("declared in `gipity.yaml`, line {line}");
                match declared.auth {
                    Some(auth) => self.settle(cx, function, auth_of(auth), &source, || {
                        format!(
                            "{} declares `{name}` with `auth: {auth}` (line {line})",
                            file()
                        )
                    }),
                    None => self.settle(
                        cx,
                        function,
                        Auth::Public,
                        &format!("{source}, without `auth`: the platform's default"),
                        || {
                            format!(
                                "{} declares `{name}` without `auth` (line {line}), so the \
                                 platform serves it as `public`",
                                file()
                            )
                        },
                    ),
                }
            }
            Some(Declared::Table(table)) => cx.error_at(
                span,
                format!(
                    "`{name}` is a records table in {} (line {}), not a function: read and \
                     write it through the Records API, `/api/{{app}}/records/{name}`",
                    file(),
                    table.at.line
                ),
            ),
            Some(Declared::Job(job)) => cx.error_at(
                span,
                format!(
                    "`{name}` is a job in {} (line {}), not a function: the platform runs jobs",
                    file(),
                    job.at.line
                ),
            ),
            Some(Declared::Room(room)) => cx.error_at(
                span,
                format!(
                    "`{name}` is a realtime room in {} (line {}), not a function: join it over \
                     `wss://rt.gipity.ai`",
                    file(),
                    room.at.line
                ),
            ),
            Some(_) => {}
            None => cx.error_at(
                span,
                format!(
                    "{}{}",
                    unknown(&manifest, &name, function.remote.explicit, &file()),
                    off_hint(self.explicit)
                ),
            ),
        }
    }

    /// The stub's `auth` must be `declared`; a stub without one takes it.
    fn settle(
        &self,
        cx: &Ctxt,
        function: &mut Function,
        declared: Auth,
        source: &str,
        says: impl FnOnce() -> String,
    ) {
        match function.options.auth {
            None => {
                function.options.auth = Some(declared);
                function.auth_source = Some(source.to_owned());
            }
            Some(written) if written != declared => cx.error_at(
                function.options.auth_span.unwrap_or(function.remote.span),
                format!(
                    "`auth = \"{}\"` contradicts the manifest: {}; write `auth = \"{}\"`, or \
                     leave `auth` out to take the manifest's",
                    written.name(),
                    says(),
                    declared.name()
                ),
            ),
            Some(_) => function.auth_source = Some(source.to_owned()),
        }
    }

    /// Items that make cargo re-run the check when the manifest, a function file it relied
    /// on, or `GIPITY_MANIFEST` changes.
    pub(crate) fn tracking(&self) -> TokenStream {
        // A path that is not UTF-8 cannot be written in a literal: it goes untracked.
        let files = std::iter::once(&self.path)
            .chain(&self.files)
            .filter_map(|path| path.to_str())
            .map(|path| LitStr::new(path, Span::call_site()));
        quote! {
            const _: () = {
                #(let _ = ::core::include_bytes!(#files);)*
                let _ = ::core::option_env!(#ENV);
            };
        }
    }
}

/// `tracking` the first time this compilation asks for it, else nothing. rustc runs every
/// invocation of the macro for a crate in one process, and one copy of the items tracks the
/// files and the variable for the whole crate: the other 199 stubs of a 200-stub crate need
/// not make the compiler evaluate 199 more. A stub whose `#[cfg]` is false is never expanded,
/// so it never takes the items away from the others. (A process that serves several crates
/// and expands one stub many times, as rust-analyzer's macro server does, tracks nothing for
/// cargo: there the first expansion has the items and later ones do not.)
pub(crate) fn once(tracking: TokenStream) -> TokenStream {
    static EMITTED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let key = format!(
        "{}\0{}\0{tracking}",
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default(),
        std::env::var("CARGO_CRATE_NAME").unwrap_or_default(),
    );
    let mut emitted = EMITTED.lock().unwrap_or_else(PoisonError::into_inner);
    if emitted.get_or_insert_with(HashSet::new).insert(key) {
        tracking
    } else {
        TokenStream::new()
    }
}

/// Makes cargo re-run the macro when `GIPITY_MANIFEST` changes, for a crate without a
/// manifest.
pub(crate) fn tracking_without_manifest() -> TokenStream {
    quote! {
        const _: () = {
            let _ = ::core::option_env!(#ENV);
        };
    }
}

/// "no function `get-itmes` in gipity.yaml (..); did you mean `get-items`?"
fn unknown(manifest: &Manifest, name: &str, explicit: bool, file: &str) -> String {
    let declared: Vec<&str> = manifest
        .functions
        .iter()
        .filter(|function| function.hooks.is_empty())
        .map(|function| function.name.as_str())
        .collect();
    let sources = manifest
        .function_sources
        .iter()
        .map(|source| format!("`{source}/{name}.js`"))
        .collect::<Vec<_>>();
    let not_found = if sources.is_empty() {
        format!("no function `{name}` in {file}")
    } else {
        format!(
            "no function `{name}` in {file}, and no {}",
            sources.join(" or ")
        )
    };
    let hint = if let Some(close) = args::did_you_mean(name, &declared) {
        if explicit {
            format!("did you mean `{close}`?")
        } else {
            format!(
                "did you mean `{close}`? (the remote name is the fn's own unless \
                 `name = \"{close}\"` gives it)"
            )
        }
    } else if declared.is_empty() {
        "it declares no functions".to_owned()
    } else {
        let listed: Vec<String> = declared
            .iter()
            .take(LISTED)
            .map(|name| format!("`{name}`"))
            .collect();
        let more = declared.len().saturating_sub(LISTED);
        if more > 0 {
            format!("it declares {} and {more} more", listed.join(", "))
        } else {
            format!("it declares {}", listed.join(", "))
        }
    };
    format!("{not_found}; {hint}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;
    use crate::model::tests::{messages, model};

    const MANIFEST: &str = "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: my-todos\n          auth: user\n        - name: open\n";

    fn loaded() -> Loaded {
        let path = PathBuf::from("/app/gipity.yaml");
        let manifest = Manifest::parse(MANIFEST, Some(&path)).expect("parses");
        Loaded {
            manifest: Arc::new(manifest),
            path,
            files: Vec::new(),
            explicit: false,
        }
    }

    /// The stub's model after the check, and the check's errors.
    fn checked(args: TokenStream, item: TokenStream) -> (Function, Vec<String>) {
        let (stub, errors) = model(args, item);
        assert!(errors.is_empty(), "{errors:?}");
        let mut function = stub.expect("a model").function;
        let cx = Ctxt::new();
        loaded().check(&cx, &mut function);
        (function, messages(cx))
    }

    #[test]
    fn a_stub_without_auth_takes_the_manifests_and_says_so_in_its_docs() {
        let (function, errors) = checked(
            quote!(name = "my-todos"),
            quote!(
                async fn todos() -> Result<Vec<String>>;
            ),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(function.options.auth, Some(Auth::User));
        let docs = crate::docs::stub(&function, None).join("\n");
        assert!(
            docs.contains(
                " Auth `user` (declared in `gipity.yaml`, line 5): needs a signed-in user"
            ),
            "{docs}"
        );
        let (function, _) = checked(
            quote!(),
            quote!(
                async fn open() -> Result<()>;
            ),
        );
        assert_eq!(function.options.auth, Some(Auth::Public));
        assert_eq!(
            function.auth_source.as_deref(),
            Some("declared in `gipity.yaml`, line 7, without `auth`: the platform's default")
        );
    }

    #[test]
    fn an_agreeing_auth_is_kept_and_a_contradicting_one_is_an_error() {
        let (function, errors) = checked(
            quote!(name = "my-todos", auth = "user"),
            quote!(
                async fn todos() -> Result<()>;
            ),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(function.options.auth, Some(Auth::User));
        let (_, errors) = checked(
            quote!(name = "my-todos", auth = "member"),
            quote!(
                async fn todos() -> Result<()>;
            ),
        );
        assert_eq!(
            errors,
            [
                "`auth = \"member\"` contradicts the manifest: gipity.yaml (/app/gipity.yaml) \
              declares `my-todos` with `auth: user` (line 5); write `auth = \"user\"`, or leave \
              `auth` out to take the manifest's"
            ]
        );
    }

    #[test]
    fn an_invalid_name_is_left_to_its_own_check() {
        let (stub, _) = model(
            quote!(name = "a b"),
            quote!(
                async fn f() -> Result<()>;
            ),
        );
        let mut function = stub.expect("a model").function;
        let cx = Ctxt::new();
        loaded().check(&cx, &mut function);
        assert!(messages(cx).is_empty());
    }

    #[test]
    fn crates_cargo_fetched_are_told_apart_from_the_users() {
        let root =
            std::env::temp_dir().join(format!("gipity-macros-fetched-{}", std::process::id()));
        let registry = root.join("registry").join("stubs-0.1.0");
        let vendored = root.join("vendor").join("stubs");
        let checkout = root.join("checkout");
        let in_checkout = checkout.join("crates").join("stubs");
        let own = root.join("app").join("client");
        for dir in [&registry, &vendored, &in_checkout, &own] {
            std::fs::create_dir_all(dir).expect("dir");
        }
        std::fs::write(registry.join(".cargo-ok"), "{\"v\":1}").expect("write");
        std::fs::write(vendored.join(".cargo-checksum.json"), "{}").expect("write");
        std::fs::write(checkout.join(".cargo-ok"), "").expect("write");
        assert!(fetched(&registry));
        assert!(fetched(&vendored));
        assert!(fetched(&in_checkout));
        assert!(!fetched(&own));
        std::fs::remove_dir_all(&root).expect("cleanup");
    }

    #[test]
    fn tracking_items_come_once_per_compilation_and_set_of_files() {
        let first = quote!(
            const _: () = {
                let _ = "tracking-once-test-a";
            };
        );
        assert_eq!(once(first.clone()).to_string(), first.to_string());
        assert!(once(first).is_empty(), "the same items a second time");
        let other = quote!(
            const _: () = {
                let _ = "tracking-once-test-b";
            };
        );
        assert_eq!(once(other.clone()).to_string(), other.to_string());
    }

    #[test]
    fn tracking_names_the_manifest_and_the_variable() {
        let tokens = loaded().tracking().to_string();
        assert!(
            tokens.contains(":: core :: include_bytes ! (\"/app/gipity.yaml\")"),
            "{tokens}"
        );
        assert!(
            tokens.contains(":: core :: option_env ! (\"GIPITY_MANIFEST\")"),
            "{tokens}"
        );
        let without = tracking_without_manifest().to_string();
        assert!(!without.contains("include_bytes"), "{without}");
        assert!(without.contains("option_env"), "{without}");
    }

    #[test]
    fn unknown_names_get_a_suggestion_or_a_list() {
        let manifest = loaded().manifest;
        assert_eq!(
            unknown(&manifest, "my-todo", true, "gipity.yaml"),
            "no function `my-todo` in gipity.yaml, and no `functions/my-todo.js`; did you mean \
             `my-todos`?"
        );
        assert_eq!(
            unknown(&manifest, "launch", true, "gipity.yaml"),
            "no function `launch` in gipity.yaml, and no `functions/launch.js`; it declares \
             `my-todos`, `open`"
        );
        let empty = Manifest::parse("", None).expect("parses");
        assert_eq!(
            unknown(&empty, "f", true, "gipity.yaml"),
            "no function `f` in gipity.yaml; it declares no functions"
        );
    }
}
