//! The browser suite: gipity-runtime on wasm32 in headless Chromium, against the emulator
//! binary, on loopback only.

use std::net::SocketAddr;
use std::process::Command;

use crate::install::CHROMEDRIVER;
use crate::proc::Background;
use crate::{cargo, run, target_dir, workspace_root};

/// The emulator binary's address; the suite has it compiled in (`GIPITY_TEST_API`).
const API: &str = "127.0.0.1:8787";
/// The test page's address. Pinned: the emulator checks the exact `Origin`, and the page and
/// the API must share a host name for the `SameSite=Lax` session cookie.
const PAGE: &str = "127.0.0.1:8000";

/// Runs `gipity-browser-tests` on wasm32 in headless Chromium.
pub fn suite() -> Result<(), String> {
    run(
        "build the emulator",
        cargo(&["build", "-p", "gipity-emulator"]),
    )?;
    let emulator = target_dir().join("debug").join("gipity-emulator");
    let addr: SocketAddr = API.parse().map_err(|e| format!("bad address {API}: {e}"))?;
    let port = addr.port().to_string();
    let _emulator = Background::start(
        "gipity-emulator",
        Command::new(&emulator).args(["--port", &port, "--test-controls"]),
        addr,
    )?;
    run(
        "browser tests (wasm32, headless Chromium)",
        cargo(&[
            "test",
            "-p",
            "gipity-browser-tests",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .current_dir(workspace_root().join("browser-tests"))
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("WASM_BINDGEN_TEST_ADDRESS", PAGE)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "60")
        // The runner serves its page cross-origin isolated (COOP `same-origin`) by default,
        // which severs `window.opener` in a cross-origin popup, as it would on any app page
        // with that header: the popup flow needs `same-origin-allow-popups` or no COOP.
        .env("WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION", "1")
        .env("GIPITY_TEST_API", format!("http://{API}")),
    )
}
