//! The public items of one target, re-exported from the crate root.

// These exist on both targets (in two versions): no "available on" badge for them.
#[cfg(not(target_arch = "wasm32"))]
pub use crate::platform::native::{BoxFuture, CookieJar, MaybeSend, MaybeSendSync};
#[cfg(target_arch = "wasm32")]
pub use crate::platform::wasm::{BoxFuture, CookieJar, MaybeSend, MaybeSendSync};

#[cfg(target_arch = "wasm32")]
pub use crate::platform::browser;
