//! The public items of one target, re-exported from the crate root.

// These exist on both targets (in two versions): no "available on" badge for them.
#[cfg(not(target_arch = "wasm32"))]
pub use crate::platform::native::{BoxFuture, CookieJar, MaybeSend, MaybeSendSync};
#[cfg(target_arch = "wasm32")]
pub use crate::platform::wasm::{BoxFuture, CookieJar, MaybeSend, MaybeSendSync};

#[cfg(target_arch = "wasm32")]
pub use crate::platform::browser;

#[cfg(target_arch = "wasm32")]
pub use crate::platform::web_url::Url;
/// An absolute URL: `url::Url` natively; in the browser (`wasm32`), the crate's own type over
/// the browser's URL parser, with the same methods for what the crate uses (the types they
/// return are in the `browser` module).
#[cfg(not(target_arch = "wasm32"))]
pub use url::Url;
