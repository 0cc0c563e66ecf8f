//! The committed fuzz corpus (`fuzz/corpus/<target>/`), run through the same entry points as
//! the fuzz targets, on stable: no input panics or breaks a rule the targets check.
//!
//! `cargo test -p gipity-runtime --lib __fuzz::corpus::`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use super as __fuzz;

/// Every file of `fuzz/corpus/<target>/`, sorted.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every corpus file of `target` through `entry`; fails naming every file that panicked.
fn run(target: &str, minimum: usize, entry: fn(&[u8])) {
    let files = corpus(target);
    assert!(
        files.len() >= minimum,
        "{target}: {} corpus files, expected at least {minimum}",
        files.len()
    );
    let mut failed = Vec::new();
    for file in &files {
        let input = std::fs::read(file).unwrap();
        if catch_unwind(AssertUnwindSafe(|| entry(&input))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    println!("{target}: {} corpus files", files.len());
    assert!(failed.is_empty(), "{target}: panicked on {failed:#?}");
}

#[test]
fn decode_response_corpus() {
    run("decode_response", 24, __fuzz::decode_response);
}

#[test]
fn return_url_corpus() {
    run("return_url", 40, __fuzz::urls);
}

/// Inputs the corpus may lose in a minimization: empty, and the two rules this project cares
/// most about (a foreign login URL; an allowed return URL).
#[test]
fn fixed_inputs() {
    __fuzz::decode_response(b"");
    __fuzz::urls(b"");
    __fuzz::decode_response(
        b"401\n{\"error\":{\"code\":\"LOGIN_REQUIRED\",\"loginUrl\":\"https://evil.example/x\"}}",
    );
    __fuzz::urls(b"https://app.gipity.ai/alice/shop/");
}
