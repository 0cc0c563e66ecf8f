//! Misuses of the macros are compile errors on the offending tokens (`tests/ui/*.stderr`).
//!
//! rustc's messages change between releases: these run on the toolchain pinned in
//! `rust-toolchain.toml`; refresh them with `TRYBUILD=overwrite` after a bump.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
