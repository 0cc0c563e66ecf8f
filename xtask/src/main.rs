//! Project automation: `cargo xtask ci` runs every check a submission must pass, installing
//! what a fresh machine lacks first.

use std::borrow::BorrowMut;
use std::env;
use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
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
         ci     install what is missing, then run fmt, clippy, tests, docs and the examples"
    );
}

/// Every check, in the order that fails fastest.
fn ci() -> Result<(), String> {
    let started = Instant::now();
    ensure_components()?;
    step("format", cargo(&["fmt", "--all", "--check"]))?;
    step(
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
    step("tests", cargo(&["test", "--workspace", "--all-targets"]))?;
    step("doc tests", cargo(&["test", "--workspace", "--doc"]))?;
    step(
        "docs",
        cargo(&["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    step(
        "example: quickstart",
        cargo(&["run", "--example", "quickstart"])
            .env_remove("GIPITY_API_BASE")
            .env_remove("GIPITY_APP"),
    )?;
    println!("xtask ci: every check passed in {:.0?}", started.elapsed());
    Ok(())
}

/// rustfmt and clippy come with the pinned toolchain's components; a machine whose toolchain
/// lacks them gets them from rustup (which `rust-toolchain.toml` alone does not do when
/// `RUSTUP_AUTO_INSTALL=0`).
fn ensure_components() -> Result<(), String> {
    for (component, probe) in [
        ("rustfmt", ["fmt", "--version"]),
        ("clippy", ["clippy", "--version"]),
    ] {
        let present = Command::new("cargo")
            .args(probe)
            .output()
            .is_ok_and(|output| output.status.success());
        if !present {
            step(
                &format!("install {component}"),
                Command::new("rustup")
                    .args(["component", "add", component])
                    .borrow_mut(),
            )?;
        }
    }
    Ok(())
}

fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.args(args);
    command
}

fn step(name: &str, mut command: impl BorrowMut<Command>) -> Result<(), String> {
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
