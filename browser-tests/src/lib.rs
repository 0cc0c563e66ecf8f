//! The browser test suite of `gipity-runtime` lives in `tests/browser.rs`; it runs on
//! `wasm32-unknown-unknown` in headless Chromium (see `cargo xtask ci`).
