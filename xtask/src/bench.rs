//! `cargo xtask bench`: the benchmarks of BENCHMARKS.md, in release mode, and the smoke run
//! that `cargo xtask ci` makes so that the harness cannot rot.
//!
//! The work is done by the `gipity-bench` binary (`bench/`); this task builds and runs it,
//! and makes sure the wasm sizes it reports exist first.

use std::path::PathBuf;

use crate::{cargo, run as step, target_dir};

/// `cargo xtask bench [--no-browser] [gipity-bench arguments]`: every benchmark, in release
/// mode; writes `target/bench/summary.json` (and `details.json`) and prints the table.
///
/// The wasm sizes come from `target/browser-example/sizes.json`: the browser pages are built
/// first (each alone, for size; no browser runs), unless `--no-browser` is given, in which
/// case an existing file is used and the sizes are `null` without one.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut forwarded: Vec<&str> = Vec::new();
    let mut browser = true;
    for arg in args {
        match arg.as_str() {
            "--no-browser" => browser = false,
            other => forwarded.push(other),
        }
    }
    let sizes = sizes_file();
    if browser {
        let built = crate::install::wasm_target()
            .and_then(|()| crate::install::wasm_bindgen_cli())
            .and_then(|()| crate::browser::build_examples().map(drop));
        if let Err(error) = built {
            // No sizes rather than the sizes of an older build.
            println!("the browser pages could not be built ({error}); the wasm sizes are null");
            let _ = std::fs::remove_file(&sizes);
        }
    }
    let out = target_dir().join("bench");
    let out = out.to_string_lossy();
    let sizes = sizes.to_string_lossy();
    let mut bench_args = vec![
        "run",
        "--release",
        "--quiet",
        "--package",
        "gipity-bench",
        "--",
        "--out",
        &out,
        "--wasm-sizes",
        &sizes,
    ];
    bench_args.extend(forwarded);
    step("bench (release)", cargo(&bench_args))
}

/// The smoke run: a second or two of the throughput harness, asserting only the exact counts
/// (one mint for 1000 concurrent cold calls, one request per warm call). Built in the dev
/// profile, which `cargo test` has built already, and never builds the compile benchmarks.
pub fn smoke() -> Result<(), String> {
    step(
        "bench smoke",
        cargo(&[
            "run",
            "--quiet",
            "--package",
            "gipity-bench",
            "--",
            "--smoke",
        ]),
    )
}

fn sizes_file() -> PathBuf {
    target_dir().join("browser-example").join("sizes.json")
}
