//! Project automation.
//!
//! - `cargo xtask ci`: every check a submission must pass, installing what a fresh machine
//!   lacks first (rustfmt/clippy, the wasm32 target, Chromium, ChromeDriver, wasm-bindgen-cli).
//! - `cargo xtask browser`: only the browser part (wasm test suite and browser example).

mod bench;
mod browser;
mod fuzz;
mod install;
mod layout;
mod proc;
mod webdriver;

use std::borrow::BorrowMut;
use std::env;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("browser") => browser(),
        Some("bench") => bench::run(&args[1..]),
        Some("layout") => layout::check(),
        Some("help" | "--help" | "-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`; run `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "cargo xtask <task>\n\n\
         tasks:\n  \
         ci       install what is missing, then run fmt, clippy, tests, docs, examples and the browser suite\n  \
         browser  only the browser suite and the browser example (headless Chromium)\n  \
         layout   no import circle in the runtime or the emulator; target differences only in platform/\n  \
         bench    the benchmarks of BENCHMARKS.md (release; writes target/bench/summary.json)"
    );
}

/// Every check, in the order that fails fastest.
fn ci() -> Result<(), String> {
    let started = Instant::now();
    install::components()?;
    install::wasm_target()?;
    run("format", cargo(&["fmt", "--all", "--check"]))?;
    println!("\n==> layout");
    layout::check()?;
    run(
        "clippy",
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // The runtime's own tests need the (native) emulator; on wasm32 its library is checked,
    // and the browser suite is its test.
    for (package, targets) in [
        ("gipity-runtime", "--lib"),
        ("gipity-browser-tests", "--tests"),
        ("gipity-browser-example", "--lib"),
        ("gipity-browser-bare-reqwest", "--lib"),
    ] {
        run(
            &format!("clippy (wasm32, {package})"),
            cargo(&[
                "clippy",
                "--target",
                "wasm32-unknown-unknown",
                "-p",
                package,
                targets,
                "--",
                "-D",
                "warnings",
            ]),
        )?;
    }
    // The emulator's project tests run functions under Node.js, with a PostgreSQL.
    let node = install::node()?;
    install::postgres()?;
    run(
        "tests",
        cargo(&["test", "--workspace", "--all-targets"]).env("GIPITY_NODE", node),
    )?;
    bench::smoke()?;
    run("doc tests", cargo(&["test", "--workspace", "--doc"]))?;
    run(
        "docs",
        cargo(&["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    run(
        "docs (wasm32, gipity-runtime)",
        cargo(&[
            "doc",
            "-p",
            "gipity-runtime",
            "--no-deps",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    docs_rs()?;
    // Each publishable crate builds from its packaged sources, with the workspace's
    // unpublished dependencies resolved locally.
    forget_packaged_builds()?;
    run("package", cargo(&["package", "--workspace"]))?;
    run(
        "example: quickstart",
        cargo(&["run", "--example", "quickstart"])
            .env_remove("GIPITY_API_BASE")
            .env_remove("GIPITY_APP"),
    )?;
    run(
        "example: shop",
        cargo(&["run", "--example", "shop"])
            .env_remove("GIPITY_API_BASE")
            .env_remove("GIPITY_APP"),
    )?;
    run(
        "example: chat",
        cargo(&["run", "--example", "chat", "--", "Why is the sky blue?"])
            .env_remove("GIPITY_API_BASE")
            .env_remove("GIPITY_APP"),
    )?;
    fuzz::run()?;
    browser()?;
    println!("xtask ci: every check passed in {:.0?}", started.elapsed());
    Ok(())
}

/// Forgets what an earlier `cargo package` of the same version left: the sources cargo
/// unpacked from its local registry (under `$CARGO_HOME/registry/src/-<hash>/`) and what it
/// compiled from them. Cargo takes registry crates for immutable, so without this a second run
/// verifies against the first run's sources (and misses, say, a function added since). A fresh
/// machine has neither; a developer's does.
fn forget_packaged_builds() -> Result<(), String> {
    const OURS: [&str; 4] = [
        "gipity_shared",
        "gipity_macros",
        "gipity_runtime",
        "gipity_emulator",
    ];
    let ours = |name: &str| {
        let name = name.replace('-', "_");
        OURS.iter().any(|crate_name| {
            name.starts_with(&format!("{crate_name}_"))
                || name.starts_with(&format!("lib{crate_name}_"))
        })
    };
    let remove = |path: &std::path::Path| {
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
        match removed {
            // Gone already (another build removed it): nothing to forget.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other.map_err(|error| format!("{}: {error}", path.display())),
        }
    };
    let set = |name: &str| env::var_os(name).filter(|value| !value.is_empty());
    let cargo_home = set("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .filter(|home| home.is_absolute());
    // `cargo package` verifies with the dev profile, whose folder is `debug`.
    let mut dirs: Vec<PathBuf> = ["deps", ".fingerprint", "build"]
        .iter()
        .map(|dir| target_dir().join("debug").join(dir))
        .collect();
    if let Some(Ok(registries)) =
        cargo_home.map(|home| std::fs::read_dir(home.join("registry").join("src")))
    {
        // Local registries have no name: their folders start with `-`.
        dirs.extend(
            registries
                .flatten()
                .filter(|entry| entry.file_name().to_string_lossy().starts_with('-'))
                .map(|entry| entry.path()),
        );
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if ours(&entry.file_name().to_string_lossy()) {
                remove(&entry.path())?;
            }
        }
    }
    Ok(())
}

/// The runtime's docs as docs.rs builds them (nightly, `--cfg docsrs`, native and wasm32), with
/// warnings as errors: the `doc(cfg)` badges. Only where a nightly toolchain is installed.
fn docs_rs() -> Result<(), String> {
    let nightly = |args: &[&str]| {
        let mut command = Command::new("rustup");
        command
            .args(["run", "nightly"])
            .args(args)
            .current_dir(workspace_root())
            .env_remove("CARGO")
            .env_remove("RUSTC")
            .env_remove("RUSTDOC");
        command
    };
    let available = nightly(&["rustc", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !available {
        println!("\n==> docs (docs.rs): no nightly toolchain; skipped");
        return Ok(());
    }
    run(
        "install the wasm32 target (nightly)",
        Command::new("rustup").args([
            "target",
            "add",
            "--toolchain",
            "nightly",
            "wasm32-unknown-unknown",
        ]),
    )?;
    for target in [None, Some("wasm32-unknown-unknown")] {
        let mut args = vec!["cargo", "doc", "-p", "gipity-runtime", "--no-deps"];
        if let Some(target) = target {
            args.extend(["--target", target]);
        }
        let mut command = nightly(&args);
        command.env("RUSTDOCFLAGS", "--cfg docsrs -D warnings");
        run(
            &format!("docs (docs.rs, {})", target.unwrap_or("native")),
            command,
        )?;
    }
    Ok(())
}

/// The browser part: installs Chromium, ChromeDriver, the wasm32 target and wasm-bindgen-cli,
/// runs the wasm test suite in headless Chromium against the emulator binary, then builds the
/// browser example for size and drives it end to end through WebDriver.
fn browser() -> Result<(), String> {
    install::wasm_target()?;
    install::chromium()?;
    install::wasm_bindgen_cli()?;
    browser::suite()?;
    browser::example()
}

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

/// Where cargo puts build output.
pub fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// `cargo <args>`, run from the workspace root.
pub fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.args(args).current_dir(workspace_root());
    command
}

/// Runs one step, printing its name, duration and outcome.
pub fn run(name: &str, mut command: impl BorrowMut<Command>) -> Result<(), String> {
    println!("\n==> {name}");
    let started = Instant::now();
    let status = command
        .borrow_mut()
        .status()
        .map_err(|error| format!("{name}: could not start: {error}"))?;
    if status.success() {
        println!("==> {name}: ok ({:.1?})", started.elapsed());
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}
