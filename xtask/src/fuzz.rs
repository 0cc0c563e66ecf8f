//! The fuzz step of `cargo xtask ci`.
//!
//! Always: the committed corpus (`fuzz/corpus/<target>/`) through the targets' entry points on
//! the pinned toolchain (`gipity-runtime`'s unit tests `__fuzz::corpus`: the entry points are
//! compiled for the crate's own tests and under `cfg(fuzzing)`, never through a feature), and
//! rustfmt on the fuzz crate. Then, when a nightly toolchain and
//! a C++ compiler are present, each fuzz target for a bounded time (`GIPITY_FUZZ_SECONDS`,
//! default 30; 0 skips it), installing cargo-fuzz first if it is missing. It prints which of
//! the two happened, and how many inputs each target ran.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{cargo, run as step, target_dir, workspace_root};

/// The fuzz targets in `fuzz/fuzz_targets/`.
const TARGETS: [&str; 2] = ["decode_response", "return_url"];
/// Seconds each target runs when `GIPITY_FUZZ_SECONDS` is not set.
const DEFAULT_SECONDS: u64 = 30;

pub fn run() -> Result<(), String> {
    corpus_regression()?;
    // The entry points as cargo-fuzz builds them (`--cfg fuzzing`, outside the crate's tests).
    step(
        "clippy (gipity-runtime, cfg(fuzzing))",
        cargo(&[
            "clippy",
            "-p",
            "gipity-runtime",
            "--lib",
            "--",
            "--cfg",
            "fuzzing",
            "-D",
            "warnings",
        ]),
    )?;
    step(
        "format (fuzz targets)",
        cargo(&["fmt", "--manifest-path", "fuzz/Cargo.toml", "--check"]),
    )?;

    let seconds = match std::env::var("GIPITY_FUZZ_SECONDS") {
        Ok(value) => value
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("GIPITY_FUZZ_SECONDS={value:?} is not a whole number"))?,
        Err(_) => DEFAULT_SECONDS,
    };
    if seconds == 0 {
        println!("fuzz: GIPITY_FUZZ_SECONDS=0: ran the corpus regression only");
        return Ok(());
    }
    if !succeeds(&mut nightly(&["--version"])) {
        println!(
            "fuzz: no nightly toolchain (`rustup run nightly cargo` failed): ran the corpus \
             regression only; `rustup toolchain install nightly` to fuzz"
        );
        return Ok(());
    }
    if !succeeds(Command::new("c++").arg("--version")) {
        println!(
            "fuzz: no C++ compiler (`c++`) to build libFuzzer: ran the corpus regression only"
        );
        return Ok(());
    }
    if !succeeds(&mut nightly(&["fuzz", "--version"])) {
        step(
            "install cargo-fuzz",
            cargo(&["install", "cargo-fuzz", "--locked"]),
        )?;
    }
    println!("fuzz: nightly and cargo-fuzz present: running each target for {seconds} s");
    let mut summary = Vec::new();
    for target in TARGETS {
        let executions = fuzz(target, seconds)?;
        summary.push(format!("{target}: {executions} executions in {seconds} s"));
    }
    println!("fuzz: {}", summary.join("; "));
    Ok(())
}

/// The corpus through the entry points (`gipity-runtime`'s unit tests `__fuzz::corpus::*`),
/// failing if the filter matched no test: an empty run would pass and check nothing.
fn corpus_regression() -> Result<(), String> {
    const NAME: &str = "fuzz corpus regression (stable)";
    println!("\n==> {NAME}");
    let started = Instant::now();
    let output = cargo(&["test", "-p", "gipity-runtime", "--lib", "__fuzz::corpus::"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("{NAME}: could not start: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    if !output.status.success() {
        return Err(format!("{NAME} failed ({})", output.status));
    }
    let passed: u64 = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("test result: ok. "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<u64>().ok())
        .sum();
    if passed == 0 {
        return Err(format!(
            "{NAME}: the filter `__fuzz::corpus::` matched no test"
        ));
    }
    println!("==> {NAME}: ok, {passed} tests ({:.1?})", started.elapsed());
    Ok(())
}

/// `cargo <args>` on the nightly toolchain, in `fuzz/`, without the variables the outer cargo
/// set for this (stable) process.
fn nightly(args: &[&str]) -> Command {
    let mut command = Command::new("rustup");
    command
        .args(["run", "nightly", "cargo"])
        .args(args)
        .current_dir(workspace_root().join("fuzz"))
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .env_remove("RUSTUP_TOOLCHAIN");
    command
}

fn succeeds(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs one target for `seconds` over a scratch copy of its corpus (libFuzzer adds what it
/// finds to the first corpus directory; the committed seeds stay as they are). Returns how many
/// inputs it ran.
fn fuzz(target: &str, seconds: u64) -> Result<u64, String> {
    let name = format!("fuzz {target} ({seconds} s)");
    println!("\n==> {name}");
    let started = Instant::now();
    let scratch: PathBuf = target_dir().join("fuzz-corpus").join(target);
    std::fs::create_dir_all(&scratch)
        .map_err(|error| format!("{name}: cannot create {}: {error}", scratch.display()))?;
    let seeds = workspace_root().join("fuzz").join("corpus").join(target);
    // No sanitizer: the runtime forbids unsafe code, and without AddressSanitizer about four
    // times as many inputs run in the same time.
    let mut child = nightly(&["fuzz", "run", "--sanitizer", "none", target])
        .arg(&scratch)
        .arg(&seeds)
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-print_final_stats=1",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("{name}: could not start: {error}"))?;
    let mut executions = None;
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if let Some(count) = line.strip_prefix("stat::number_of_executed_units:") {
                executions = count.trim().parse::<u64>().ok();
            }
        }
    }
    let status = child.wait().map_err(|error| format!("{name}: {error}"))?;
    if !status.success() {
        return Err(format!(
            "{name} failed ({status}); the input is in fuzz/artifacts/{target}/: add it to \
             fuzz/corpus/{target}/ once fixed"
        ));
    }
    let executions =
        executions.ok_or_else(|| format!("{name}: libFuzzer printed no execution count"))?;
    println!(
        "==> {name}: ok, {executions} executions ({:.1?})",
        started.elapsed()
    );
    Ok(executions)
}
