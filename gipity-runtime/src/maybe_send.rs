//! `Send` where the platform has threads, nothing where it does not.
//!
//! Native futures must be `Send` so that `tokio::spawn` works; the browser's fetch futures are
//! not `Send`, and on `wasm32` nothing needs them to be.

use std::future::Future;
use std::pin::Pin;

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    /// `Send` on native targets; implemented for every type on `wasm32`.
    pub trait MaybeSend: Send {}
    impl<T: Send + ?Sized> MaybeSend for T {}

    /// `Send + Sync` on native targets; implemented for every type on `wasm32`.
    pub trait MaybeSendSync: Send + Sync {}
    impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}
}

#[cfg(target_arch = "wasm32")]
mod imp {
    /// `Send` on native targets; implemented for every type on `wasm32`.
    pub trait MaybeSend {}
    impl<T: ?Sized> MaybeSend for T {}

    /// `Send + Sync` on native targets; implemented for every type on `wasm32`.
    pub trait MaybeSendSync {}
    impl<T: ?Sized> MaybeSendSync for T {}
}

pub use imp::{MaybeSend, MaybeSendSync};

/// A boxed future that is `Send` on native targets.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A boxed future that is `Send` on native targets.
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;
