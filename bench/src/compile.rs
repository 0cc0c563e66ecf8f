//! Build-time cost of the macro: four generated crates with 200 functions each, rebuilt
//! after touching their one source file of functions.
//!
//! - `gipity`: 200 `#[gipity_runtime::function]` stubs (no `gipity.yaml` is found above it);
//! - `manifest`: the same 200 stubs, checked against a `gipity.yaml` beside the crate that
//!   declares the 200 functions (the stubs without `auth` take the manifest's);
//! - `hand`: the same 200 functions written by hand over `Client::call_function`, each with a
//!   `#[derive(Serialize)]` arguments struct (what a careful user writes without the macro);
//! - `leptos`: 200 Leptos `#[server]` functions (crate `server_fn`, client side only, reqwest
//!   client) with the same parameters and return types.
//!
//! The crates are written under `<out>/compile/<name>/`, each its own workspace with its own
//! target directory, so that their dependencies are built once and reused by later runs.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// How many functions each crate declares.
pub const FUNCTIONS: usize = 200;

/// One of the four crates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `#[gipity_runtime::function]` stubs.
    Gipity,
    /// The same stubs, checked against a 200-function `gipity.yaml`.
    Manifest,
    /// Hand-written calls over `Client::call_function`.
    Hand,
    /// Leptos `#[server]` functions.
    Leptos,
}

impl Flavor {
    /// Every flavor, in measuring order.
    pub const ALL: [Self; 4] = [Self::Gipity, Self::Manifest, Self::Hand, Self::Leptos];

    /// The crate's directory name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Gipity => "gipity",
            Self::Manifest => "manifest",
            Self::Hand => "hand",
            Self::Leptos => "leptos",
        }
    }
}

/// The measurements of one crate.
#[derive(Debug, Clone, Default)]
pub struct CrateTimes {
    /// Incremental rebuilds after a touch, in seconds, one per round.
    pub rebuilds: Vec<f64>,
    /// The first build in an empty target directory, in seconds, if one was ever measured
    /// (kept in `cold.txt` beside the crate, so later runs still report it).
    pub cold: Option<f64>,
    /// Whether `cold` was measured by this run.
    pub cold_this_run: bool,
    /// Rebuilds after a touch with incremental compilation off (`gipity` and `hand` only).
    pub full_rebuilds: Vec<f64>,
    /// rustc's `expand_crate` pass (every macro of the crate expanded), in seconds, one per
    /// run of `-Z time-passes` (`gipity` and `hand` only; empty where rustc refused the flag).
    pub expansions: Vec<f64>,
}

/// The crates whose non-incremental rebuilds and macro expansion are measured too.
pub const EXPANDED: [Flavor; 2] = [Flavor::Gipity, Flavor::Hand];

/// Rounds of non-incremental rebuilds, and of `-Z time-passes` runs.
const FULL_ROUNDS: usize = 5;
const EXPANSION_ROUNDS: usize = 3;

/// The measurements of all four crates, indexed like [`Flavor::ALL`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per crate.
    pub crates: Vec<CrateTimes>,
}

impl Report {
    /// The times of `flavor`.
    #[must_use]
    pub fn get(&self, flavor: Flavor) -> &CrateTimes {
        let index = Flavor::ALL
            .iter()
            .position(|f| *f == flavor)
            .unwrap_or_default();
        &self.crates[index]
    }
}

/// Generates the crates, builds each once (cold the first time), then times `rounds`
/// interleaved incremental rebuilds of each.
///
/// # Errors
/// If a crate cannot be written or fails to build.
pub fn run(out: &Path, workspace: &Path, rounds: usize) -> Result<Report, String> {
    let root = out.join("compile");
    let mut report = Report::default();
    for flavor in Flavor::ALL {
        let dir = root.join(flavor.name());
        write_crate(flavor, &dir, workspace)?;
        let mut times = CrateTimes::default();
        let cold_file = dir.join("cold.txt");
        let target = dir.join("target");
        if target.exists() {
            println!("compile: {}: warm-up build", flavor.name());
            build(&dir)?;
            times.cold = fs::read_to_string(&cold_file)
                .ok()
                .and_then(|text| text.trim().parse().ok());
        } else {
            println!(
                "compile: {}: cold build (dependencies included; minutes on 2 cores)",
                flavor.name()
            );
            let cold = build(&dir)?.as_secs_f64();
            fs::write(&cold_file, format!("{cold:.3}\n")).map_err(|e| e.to_string())?;
            times.cold = Some(cold);
            times.cold_this_run = true;
        }
        report.crates.push(times);
    }
    for round in 0..rounds {
        // Rotate the order, so that no crate always follows the same one.
        for offset in 0..Flavor::ALL.len() {
            let index = (round + offset) % Flavor::ALL.len();
            let flavor = Flavor::ALL[index];
            let dir = root.join(flavor.name());
            touch(&dir.join("src").join("functions.rs"))?;
            let elapsed = build(&dir)?.as_secs_f64();
            println!(
                "compile: round {}: {}: {elapsed:.2} s",
                round + 1,
                flavor.name()
            );
            report.crates[index].rebuilds.push(elapsed);
        }
    }
    // Without incremental compilation cargo builds the path dependencies (the runtime and its
    // macros) as other artifacts: built once here, outside the measured rounds.
    for flavor in EXPANDED {
        build_with(
            &root.join(flavor.name()),
            &["build", "--quiet"],
            &[("CARGO_INCREMENTAL", "0")],
        )?;
    }
    let wrapper = bootstrap_wrapper(&root)?;
    for round in 0..FULL_ROUNDS {
        for offset in 0..EXPANDED.len() {
            let flavor = EXPANDED[(round + offset) % EXPANDED.len()];
            let dir = root.join(flavor.name());
            touch(&dir.join("src").join("functions.rs"))?;
            let elapsed = build_with(&dir, &["build", "--quiet"], &[("CARGO_INCREMENTAL", "0")])?
                .0
                .as_secs_f64();
            println!(
                "compile: non-incremental round {}: {}: {elapsed:.2} s",
                round + 1,
                flavor.name()
            );
            report.crates[index_of(flavor)].full_rebuilds.push(elapsed);
        }
    }
    for round in 0..EXPANSION_ROUNDS {
        for flavor in EXPANDED {
            let dir = root.join(flavor.name());
            touch(&dir.join("src").join("functions.rs"))?;
            let stderr = build_with(
                &dir,
                &["rustc", "--quiet", "--lib", "--", "-Z", "time-passes"],
                // `-Z` flags are for nightly compilers: the wrapper lets the stable one take
                // this measuring flag for the crate itself. Set for the whole of cargo,
                // `RUSTC_BOOTSTRAP` would also change how proc-macro2 builds (its build script
                // reads it) and so rebuild, differently, the macros being measured.
                &[
                    ("RUSTC_WORKSPACE_WRAPPER", wrapper.as_str()),
                    ("CARGO_INCREMENTAL", "0"),
                ],
            )
            .map(|(_, stderr)| stderr);
            match stderr.as_deref().map(expand_crate_seconds) {
                Ok(Some(seconds)) => {
                    println!(
                        "compile: expansion round {}: {}: {:.1} ms",
                        round + 1,
                        flavor.name(),
                        seconds * 1e3
                    );
                    report.crates[index_of(flavor)].expansions.push(seconds);
                }
                Ok(None) => println!("compile: {}: no expand_crate pass reported", flavor.name()),
                Err(error) => println!("compile: {}: time-passes failed: {error}", flavor.name()),
            }
        }
    }
    Ok(report)
}

/// A `rustc` wrapper that sets `RUSTC_BOOTSTRAP=1` for the one compilation it wraps (cargo
/// applies a workspace wrapper to the workspace's own crates only).
fn bootstrap_wrapper(root: &Path) -> Result<String, String> {
    let path = root.join("rustc-bootstrap.sh");
    write_if_changed(&path, "#!/bin/sh\nRUSTC_BOOTSTRAP=1 exec \"$@\"\n")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

fn index_of(flavor: Flavor) -> usize {
    Flavor::ALL
        .iter()
        .position(|f| *f == flavor)
        .unwrap_or_default()
}

/// The seconds of the `expand_crate` line of rustc's `-Z time-passes` output
/// (`time:   0.161; rss: ...  expand_crate`).
fn expand_crate_seconds(output: &str) -> Option<f64> {
    output.lines().find_map(|line| {
        let line = line.trim();
        if !line.ends_with(" expand_crate") && !line.ends_with("\texpand_crate") {
            return None;
        }
        line.strip_prefix("time:")?
            .split(';')
            .next()?
            .trim()
            .parse()
            .ok()
    })
}

/// `cargo build` (dev profile) in `dir`, with its own target directory.
fn build(dir: &Path) -> Result<Duration, String> {
    build_with(dir, &["build", "--quiet"], &[]).map(|(elapsed, _)| elapsed)
}

/// `cargo <args>` in `dir` with `env`: how long it took, and what it wrote to stderr.
fn build_with(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(Duration, String), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let started = Instant::now();
    let output = Command::new(cargo)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .map_err(|error| format!("could not run cargo: {error}"))?;
    let elapsed = started.elapsed();
    if output.status.success() {
        Ok((
            elapsed,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    } else {
        Err(format!(
            "building {} failed ({}):\n{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Sets the file's modification time to now, as `touch` does.
fn touch(path: &Path) -> Result<(), String> {
    fs::File::options()
        .append(true)
        .open(path)
        .and_then(|file| file.set_modified(SystemTime::now()))
        .map_err(|error| format!("touch {}: {error}", path.display()))
}

/// Writes `contents` to `path` unless it already holds exactly that (so that an unchanged
/// crate is not rebuilt for nothing).
fn write_if_changed(path: &Path, contents: &str) -> Result<(), String> {
    if fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_crate(flavor: Flavor, dir: &Path, workspace: &Path) -> Result<(), String> {
    write_if_changed(&dir.join("Cargo.toml"), &manifest(flavor, workspace))?;
    write_if_changed(&dir.join("src").join("lib.rs"), &lib_rs(flavor))?;
    write_if_changed(&dir.join("src").join("functions.rs"), &functions_rs(flavor))?;
    if flavor == Flavor::Manifest {
        write_if_changed(&dir.join("gipity.yaml"), &gipity_yaml())?;
    }
    // Start from the workspace's lock file, so that shared dependencies resolve to the
    // versions the workspace is tested with (cargo drops what the crate does not use).
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        fs::copy(workspace.join("Cargo.lock"), &lock).map_err(|e| format!("Cargo.lock: {e}"))?;
    }
    Ok(())
}

fn manifest(flavor: Flavor, workspace: &Path) -> String {
    let dependencies = match flavor {
        Flavor::Gipity | Flavor::Manifest | Flavor::Hand => {
            let runtime: PathBuf = workspace.join("gipity-runtime");
            format!(
                "gipity-runtime = {{ path = {:?} }}\n\
                 serde = {{ version = \"1\", features = [\"derive\"] }}\n",
                runtime.display().to_string()
            )
        }
        // The client side of `server_fn` over reqwest (a native client), without the server
        // side (`ssr`); `rustls` matches gipity-runtime's default HTTPS support.
        Flavor::Leptos => "server_fn = { version = \"=0.8.13\", default-features = false, \
                           features = [\"reqwest\", \"rustls\"] }\n\
                           server_fn_macro_default = \"=0.8.6\"\n\
                           serde = { version = \"1\", features = [\"derive\"] }\n"
            .to_owned(),
    };
    format!(
        "# Generated by gipity-bench; rewritten on every run.\n\
         [package]\n\
         name = \"bench-compile-{}\"\n\
         version = \"0.0.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\n\
         [dependencies]\n\
         {dependencies}\n\
         [workspace]\n",
        flavor.name()
    )
}

fn lib_rs(flavor: Flavor) -> String {
    let mut lib = String::from(
        "//! Generated by gipity-bench: 200 remote functions, for build-time measurements.\n\
         #![allow(missing_docs, dead_code, unused_variables, clippy::all)]\n\n\
         use serde::{Deserialize, Serialize};\n\n\
         #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n\
         pub struct Item {\n    pub id: u64,\n    pub name: String,\n    pub price: f64,\n    pub tags: Vec<String>,\n}\n\n\
         #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n\
         pub struct Cart {\n    pub item_ids: Vec<u64>,\n    pub coupon: Option<String>,\n}\n\n\
         #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n\
         pub struct Receipt {\n    pub order_id: String,\n    pub total: f64,\n}\n\n\
         pub mod functions;\n",
    );
    if flavor == Flavor::Leptos {
        lib.push_str("\npub use server_fn::ServerFnError;\n");
    }
    lib
}

/// One parameter: its name, and its type in the stub (which may borrow) and in Leptos
/// (which must own).
struct Param {
    name: &'static str,
    borrowed: &'static str,
    owned: &'static str,
}

const fn param(name: &'static str, borrowed: &'static str, owned: &'static str) -> Param {
    Param {
        name,
        borrowed,
        owned,
    }
}

/// The signatures the 200 functions cycle through.
const SHAPES: [(&[Param], &str); 8] = [
    (
        &[
            param("category", "&str", "String"),
            param("page", "u32", "u32"),
        ],
        "Vec<Item>",
    ),
    (
        &[
            param("level", "u32", "u32"),
            param("high_score", "u64", "u64"),
        ],
        "()",
    ),
    (&[param("item_id", "u64", "u64")], "Item"),
    (
        &[
            param("item", "&Item", "Item"),
            param("quantity", "u32", "u32"),
            param("gift_note", "Option<String>", "Option<String>"),
        ],
        "Receipt",
    ),
    (
        &[
            param("tags", "Vec<String>", "Vec<String>"),
            param("max_results", "Option<u32>", "Option<u32>"),
        ],
        "Vec<String>",
    ),
    (&[], "u64"),
    (
        &[
            param("display_name", "&str", "String"),
            param("enabled", "bool", "bool"),
            param("ratio", "f64", "f64"),
        ],
        "Option<Item>",
    ),
    (
        &[
            param("item_ids", "Vec<u64>", "Vec<u64>"),
            param("cart", "&Cart", "Cart"),
        ],
        "Vec<Item>",
    ),
];

/// The options of function `i`, varied the way a real API varies them.
struct Options {
    /// A dashed remote name, or the Rust name.
    remote: Option<String>,
    auth: Option<&'static str>,
    camel: bool,
}

fn options(i: usize) -> Options {
    Options {
        remote: i.is_multiple_of(3).then(|| format!("op-{i}")),
        auth: match i % 4 {
            0 => Some("public"),
            1 => Some("user"),
            2 => Some("member"),
            _ => None,
        },
        camel: i.is_multiple_of(5),
    }
}

fn functions_rs(flavor: Flavor) -> String {
    let mut out = String::from("//! Generated by gipity-bench.\n\n");
    match flavor {
        Flavor::Gipity | Flavor::Manifest => {
            out.push_str("use crate::{Cart, Item, Receipt};\nuse gipity_runtime::Result;\n")
        }
        Flavor::Hand => out.push_str(
            "use crate::{Cart, Item, Receipt};\n\
             use gipity_runtime::{Auth, Client, RemoteFunction, Result};\n\
             use serde::Serialize;\n",
        ),
        Flavor::Leptos => out.push_str(
            "use crate::{Cart, Item, Receipt, ServerFnError};\n\
             use server_fn_macro_default::server;\n",
        ),
    }
    for i in 0..FUNCTIONS {
        let (params, ret) = &SHAPES[i % SHAPES.len()];
        let options = options(i);
        out.push('\n');
        let _ = writeln!(out, "/// Remote operation number {i}.");
        match flavor {
            Flavor::Gipity | Flavor::Manifest => gipity_stub(&mut out, i, params, ret, &options),
            Flavor::Hand => hand_written(&mut out, i, params, ret, &options),
            Flavor::Leptos => leptos_fn(&mut out, i, params, ret, &options),
        }
    }
    out
}

/// The manifest of the `manifest` crate: the 200 functions, each with the auth level its
/// stub writes (or `user` where the stub writes none), and a tables list, as an app has.
fn gipity_yaml() -> String {
    let mut out = String::from(
        "# Generated by gipity-bench.\nversion: 1\ndeploy:\n  phases:\n    - name: functions\n      \
         type: functions\n      source: functions\n      function_definitions:\n",
    );
    for i in 0..FUNCTIONS {
        let options = options(i);
        let remote = options.remote.unwrap_or_else(|| format!("op_{i}"));
        let _ = writeln!(
            out,
            "        - name: {remote}\n          auth: {}\n          tables: [items, carts]\n          \
             description: \"Remote operation number {i}\"",
            options.auth.unwrap_or("user")
        );
    }
    out
}

fn gipity_stub(out: &mut String, i: usize, params: &[Param], ret: &str, options: &Options) {
    let mut args = Vec::new();
    if let Some(remote) = &options.remote {
        args.push(format!("name = {remote:?}"));
    }
    if let Some(auth) = options.auth {
        args.push(format!("auth = {auth:?}"));
    }
    if options.camel {
        args.push("rename_all = \"camelCase\"".to_owned());
    }
    let list: Vec<String> = params
        .iter()
        .map(|p| format!("{}: {}", p.name, p.borrowed))
        .collect();
    let _ = writeln!(
        out,
        "#[gipity_runtime::function({})]\npub async fn op_{i}({}) -> Result<{ret}>;",
        args.join(", "),
        list.join(", ")
    );
}

fn hand_written(out: &mut String, i: usize, params: &[Param], ret: &str, options: &Options) {
    let borrows = params.iter().any(|p| p.borrowed.starts_with('&'));
    let lifetime = if borrows { "<'a>" } else { "" };
    let mut list = vec!["client: &Client".to_owned()];
    list.extend(params.iter().map(|p| format!("{}: {}", p.name, p.borrowed)));
    let _ = writeln!(
        out,
        "pub async fn op_{i}({}) -> Result<{ret}> {{",
        list.join(", ")
    );
    let _ = writeln!(out, "    #[derive(Serialize)]");
    if options.camel {
        let _ = writeln!(out, "    #[serde(rename_all = \"camelCase\")]");
    }
    let _ = writeln!(out, "    struct Args{lifetime} {{");
    for p in params {
        if p.borrowed.starts_with("Option<") {
            let _ = writeln!(
                out,
                "        #[serde(skip_serializing_if = \"Option::is_none\")]"
            );
        }
        let ty = p
            .borrowed
            .strip_prefix('&')
            .map_or_else(|| p.borrowed.to_owned(), |rest| format!("&'a {rest}"));
        let _ = writeln!(out, "        {}: {ty},", p.name);
    }
    let _ = writeln!(out, "    }}");
    let remote = options.remote.clone().unwrap_or_else(|| format!("op_{i}"));
    let auth = options.auth.map_or_else(String::new, |auth| {
        let variant = match auth {
            "public" => "Public",
            "user" => "User",
            _ => "Member",
        };
        format!(".auth(Auth::{variant})")
    });
    let _ = writeln!(
        out,
        "    static FUNCTION: RemoteFunction<'static> = RemoteFunction::new({remote:?}){auth};"
    );
    let fields: Vec<&str> = params.iter().map(|p| p.name).collect();
    let _ = writeln!(
        out,
        "    client.call_function(&FUNCTION, &Args {{ {} }}).await\n}}",
        fields.join(", ")
    );
}

fn leptos_fn(out: &mut String, i: usize, params: &[Param], ret: &str, options: &Options) {
    // `#[server]` picks its client from a feature of its macro crate that `server_fn` does not
    // forward; a native client names it.
    let mut args = vec!["client = server_fn::client::reqwest::ReqwestClient".to_owned()];
    if let Some(remote) = &options.remote {
        args.push(format!("endpoint = {remote:?}"));
    }
    let args = format!("({})", args.join(", "));
    let list: Vec<String> = params
        .iter()
        .map(|p| format!("{}: {}", p.name, p.owned))
        .collect();
    let _ = writeln!(
        out,
        "#[server{args}]\npub async fn op_{i}({}) -> Result<{ret}, ServerFnError> {{\n    unreachable!()\n}}",
        list.join(", ")
    );
}
