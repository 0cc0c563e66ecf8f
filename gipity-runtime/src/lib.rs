//! Typed callers for [Gipity](https://gipity.ai) serverless functions.
//!
//! A Gipity app's JavaScript functions (`functions/get-items.js`) are called at
//! `POST https://a.gipity.ai/api/<project GUID>/fn/<name>`. This crate makes those calls from
//! Rust, natively (tokio) and in the browser (`wasm32`): it mints and caches the app token,
//! carries the user's credentials, and recovers from auth errors by re-authenticating and
//! retrying once.
//!
//! ```no_run
//! use gipity_runtime::{Client, Credentials};
//!
//! # async fn demo() -> gipity_runtime::Result<()> {
//! let client = Client::builder("p_abc123")
//!     .credentials(Credentials::session())
//!     .build()?;
//! let sum: f64 = client.call("add", &serde_json::json!({ "a": 1, "b": 2 })).await?;
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod client;
mod credentials;
mod error;
mod flight;
mod maybe_send;
mod platform;
mod scope;
mod secret;
mod transport;
mod validate;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use auth::{
    Auth, AuthHandler, AuthOutcome, AuthStatus, Challenge, ChallengeKind, Permissions, User,
};
pub use client::{
    BASE_URL_ENV, Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRY_AFTER, DEFAULT_TIMEOUT, RemoteFunction,
};
#[cfg(not(target_arch = "wasm32"))]
pub use credentials::CookieJar;
pub use credentials::Credentials;
pub use error::{CredentialKind, Error, Result};
pub use maybe_send::{BoxFuture, MaybeSend, MaybeSendSync};
pub use scope::Scope;
pub use url::Url;

#[doc(inline)]
pub use gipity_macros::{function, functions};
