//! The HTTP side of each platform: the client a builder makes, sending a request with the
//! session's cookies, keeping the cookies a response sets, and reading a body within a limit.
//! Apart from the rest of `platform`, so that what knows nothing of HTTP (and of [`Error`])
//! can be used by every module.
//!
//! [`Error`]: crate::Error

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::*;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::*;
