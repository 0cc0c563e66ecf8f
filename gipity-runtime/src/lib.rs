//! Typed callers for [Gipity](https://gipity.ai) serverless functions.
//!
//! A Gipity app's JavaScript functions (`functions/get-items.js`) are called at
//! `POST https://a.gipity.ai/api/<project GUID>/fn/<name>`. This crate makes those calls from
//! Rust, natively (tokio) and in the browser (`wasm32`): it mints and caches the app token,
//! carries the user's credentials, and recovers from auth errors by re-authenticating and
//! retrying once.
//!
//! ## Typed stubs
//!
//! Declare a Gipity function as a bodyless `async fn` with [`function`], or a group of them as
//! a trait with [`functions`]; the macros write the calls.
//!
//! ```no_run
//! use gipity_runtime::{Client, Result};
//! use serde::Deserialize;
//!
//! #[derive(Debug, Deserialize)]
//! pub struct Item {
//!     pub id: u64,
//!     pub name: String,
//! }
//!
//! /// Items of one category.
//! #[gipity_runtime::function(name = "get-items", auth = "public")]
//! pub async fn get_items(category: &str) -> Result<Vec<Item>>;
//!
//! /// The shop's functions, as methods of `Client`.
//! #[gipity_runtime::functions(auth = "user")]
//! pub trait Shop {
//!     /// Items of one category.
//!     #[gipity(name = "get-items", auth = "public")]
//!     async fn list_items(&self, category: &str) -> Result<Vec<Item>>;
//! }
//!
//! # async fn demo() -> Result<()> {
//! let client = Client::builder("p_shop").build()?;
//!
//! // Through the ambient client (`client.scope(..)` here, or `Client::install` once):
//! let books = client.scope(get_items("books")).await?;
//! // With an explicit client, and no global state:
//! let games = GetItemsArgs { category: "games" }.call(&client).await?;
//! // As a method of `Client`, with the trait in scope:
//! let music = client.list_items("music").await?;
//!
//! assert_eq!(books[0].name, "books");
//! assert_eq!(games[0].name, "games");
//! assert_eq!(music[0].name, "music");
//! # Ok(())
//! # }
//! ```
//!
//! ## Without the macros
//!
//! [`Client::call`] is the call the stubs make:
//!
//! ```no_run
//! # async fn demo() -> gipity_runtime::Result<()> {
//! use gipity_runtime::{Client, Credentials};
//!
//! let client = Client::builder("p_abc123")
//!     .credentials(Credentials::session())
//!     .build()?;
//! let sum: f64 = client.call("add", &serde_json::json!({ "a": 1, "b": 2 })).await?;
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
// Most items exist on both targets, some in a version per target (see `platform`), so no badge
// comes from the `cfg` that picks a version; items of one target only carry an explicit
// `doc(cfg)`.
#![cfg_attr(docsrs, doc(auto_cfg = false))]
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod builder;
mod challenge;
mod client;
mod credentials;
mod error;
mod flight;
mod form;
mod function;
pub mod llm;
mod options;
mod platform;
mod rate_limit;
mod recovery;
mod redact;
mod scope;
mod secret;
pub mod services;
mod sse;
mod transport;
mod validate;
mod wire;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// Entry points of the fuzz targets (`fuzz/`, built with `--cfg fuzzing` by cargo-fuzz). Not API.
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;

pub use auth::{
    Auth, AuthHandler, AuthOutcome, AuthStatus, Challenge, ChallengeKind, Permissions, User,
};
pub use builder::{
    BASE_URL_ENV, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRY_AFTER, DEFAULT_TIMEOUT,
};
pub use client::Client;
pub use credentials::Credentials;
pub use error::{CredentialKind, Error, Result, Setting, TransportError};
pub use function::RemoteFunction;
pub use options::CallOptions;
pub use platform::public::*;
pub use rate_limit::RateLimit;
pub use scope::Scope;
pub use services::DEFAULT_MEDIA_TIMEOUT;

#[doc(inline)]
pub use gipity_macros::{function, functions};
