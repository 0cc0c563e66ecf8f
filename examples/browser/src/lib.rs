//! A minimal browser page that calls Gipity functions through `gipity-runtime` (wasm32 only;
//! on other targets this crate is empty).
//!
//! The page (`index.html` next to this crate's `Cargo.toml`) loads the wasm module, which:
//!
//! - calls the public function `add` on load and shows `2 + 3 = 5` in `#sum`;
//! - signs in from the `#sign-in` button through the popup flow: the click calls `whoami`,
//!   the API answers `LOGIN_REQUIRED`, and the client's [`PopupHandler`] opens the Gipity
//!   login page in a popup (allowed: the click is a user gesture), then retries the call;
//! - resumes a blocked sign-in from a click: when the popup could not open (no user gesture,
//!   for instance a sign-in started on load by `?sign-in`), `#resume` appears, and its click
//!   opens the popup with [`Challenge::open_popup`] synchronously, then calls `whoami` again;
//! - streams the LLM's answer to `#prompt` into `#answer` from the `#ask` button: the demo app
//!   bills the LLM to its users (`user_pays`), so an anonymous user first meets
//!   `LOGIN_REQUIRED`, which the popup handler answers (a sign-in that grants AI use), and the
//!   request goes again before the stream starts;
//! - signs in from `#sign-in-redirect` through the redirect flow: the page navigates to the
//!   login page, which sends the user back here; on load, a page with a signed-in session
//!   shows who it is.
//!
//! The API base URL is the page's own origin, because the page is served by the emulator
//! (`gipity-emulator --serve <site>`), which is also the API. A real app hosted on Gipity
//! would use `https://a.gipity.ai` (the default base URL) instead.
//!
//! Build and run it by hand (from the workspace root):
//!
//! ```text
//! cargo xtask browser     # builds target/browser-example/site (and runs the browser tests)
//! cargo run -p gipity-emulator -- --serve target/browser-example/site
//! # then open http://127.0.0.1:8787/
//! ```
//!
//! [`PopupHandler`]: https://docs.rs/gipity-runtime/latest/gipity_runtime/browser/struct.PopupHandler.html
//! [`Challenge::open_popup`]: https://docs.rs/gipity-runtime/latest/gipity_runtime/struct.Challenge.html#method.open_popup

#[cfg(target_arch = "wasm32")]
mod page;
