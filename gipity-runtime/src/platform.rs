//! What differs between native targets and the browser.

use std::time::Duration;

/// Waits for `duration` (a rate-limit retry).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) async fn sleep(duration: Duration) {
    tokio::time::sleep(duration).await;
}
