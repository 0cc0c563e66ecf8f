//! Every difference between native targets and the browser (`wasm32`), and nothing else.
//!
//! Each platform module offers the same items under the same names, and the rest of the crate
//! uses them without knowing which one it got (reqwest picks its whole module tree per
//! platform the same way):
//!
//! - `MaybeSend`, `MaybeSendSync`, `BoxFuture`: `Send` where there are threads;
//! - `sleep`: tokio's timer natively, `setTimeout` in the browser;
//! - `default_http_client`: the `reqwest::Client` a builder makes;
//! - `SessionStore`: where a session client's cookies live (a [`CookieJar`] natively, the
//!   browser itself on `wasm32`, where `CookieJar` has no values), `seed_session` to put given cookies there, `execute` to send a
//!   request with them, `store_cookies` to keep what a response sets;
//! - `read_body`: reading a response body within a limit;
//! - `native_only!`: a method that exists on native targets only;
//! - `ambient_slot!`: a process-wide slot (a `static` natively, a thread-local in the browser,
//!   whose values are not `Send`).
//!
//! Public items that exist on one target only are re-exported from the crate root through
//! [`public`], with a `doc(cfg)` badge.

/// A method for native targets only, with its `doc(cfg)` badge (for the impl blocks outside
/// `platform`, which name no target).
macro_rules! native_only {
    ($(#[$meta:meta])* $vis:vis fn $($rest:tt)*) => {
        $(#[$meta])*
        #[cfg(not(target_arch = "wasm32"))]
        #[cfg_attr(docsrs, doc(cfg(not(target_arch = "wasm32"))))]
        $vis fn $($rest)*
    };
}
pub(crate) use native_only;

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::*;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::*;

#[cfg(target_arch = "wasm32")]
#[cfg_attr(docsrs, doc(cfg(target_arch = "wasm32")))]
pub mod browser;

/// URLs over the browser's own parser.
#[cfg(target_arch = "wasm32")]
pub(crate) mod web_url;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use url::Host;
#[cfg(target_arch = "wasm32")]
pub(crate) use web_url::Host;

/// The HTTP side of each platform.
pub(crate) mod http;

/// The public items of one target, re-exported from the crate root.
pub mod public;
