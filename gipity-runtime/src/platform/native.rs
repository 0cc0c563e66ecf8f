//! Native targets (tokio, threads, a cookie jar of our own): the parts that know nothing of HTTP.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use url::Url;

mod cookies;

use cookies::Cookies;

/// `Send` on native targets; implemented for every type on `wasm32`.
pub trait MaybeSend: Send {}
impl<T: Send + ?Sized> MaybeSend for T {}

/// `Send + Sync` on native targets; implemented for every type on `wasm32`.
pub trait MaybeSendSync: Send + Sync {}
impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}

/// A boxed future that is `Send` on native targets.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// 64 random bits (not for keys: ids): a counter hashed with SipHash under keys drawn once per
/// process from the OS (a `RandomState`). A value does not give away the next one (the keys
/// are secret), values of other processes are unrelated, and each costs one short hash.
pub(crate) fn random_u64() -> u64 {
    use std::hash::BuildHasher as _;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static KEYS: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    static STEP: AtomicU64 = AtomicU64::new(0);
    KEYS.get_or_init(std::collections::hash_map::RandomState::new)
        .hash_one(STEP.fetch_add(1, Ordering::Relaxed))
}

/// `future`, or `None` if `limit` passes first.
pub(crate) async fn timeout<T>(limit: Duration, future: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(limit, future).await.ok()
}

/// Waits for `duration` (a rate-limit retry).
pub(crate) async fn sleep(duration: Duration) {
    tokio::time::sleep(duration).await;
}

/// A cookie jar for native session clients, scoped by the usual cookie rules (domain, path,
/// expiry) and only ever consulted for requests to the client's API base.
///
/// Cloning shares the jar. `Debug` never shows a cookie.
/// In the browser this type has no values: the browser keeps the session cookie itself.
#[derive(Clone)]
pub struct CookieJar(Arc<RwLock<Cookies>>);

#[cfg_attr(docsrs, doc(cfg(not(target_arch = "wasm32"))))]
impl Default for CookieJar {
    /// An empty jar.
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl CookieJar {
    /// An empty jar (native targets only: in the browser there is no jar).
    #[cfg_attr(docsrs, doc(cfg(not(target_arch = "wasm32"))))]
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a cookie as if `url` had answered with `Set-Cookie: <set_cookie>`.
    pub fn add(&self, set_cookie: &str, url: &Url) {
        self.write().set(set_cookie, url, SystemTime::now());
    }

    /// Whether the jar would send any cookie to `url`.
    #[must_use]
    pub fn has_cookies_for(&self, url: &Url) -> bool {
        self.cookie_header(url).is_some()
    }

    /// The `Cookie` header value for a request to `url`, if any cookie goes there.
    pub(crate) fn cookie_header(&self, url: &Url) -> Option<String> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .header(url, SystemTime::now())
    }

    /// The cookies, for writing. The lock guards plain data and no code runs under it, so a
    /// poisoned lock still holds a consistent jar.
    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cookies> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CookieJar([redacted])")
    }
}

/// Where a session client's cookies live: natively, a jar of its own.
pub(crate) type SessionStore = CookieJar;

/// The session's cookie jar, to hand to an auth handler or the app.
pub(crate) fn cookie_jar(store: &SessionStore) -> Option<&CookieJar> {
    Some(store)
}

/// The session store that keeps its cookies in `jar`.
pub(crate) fn session_store(jar: CookieJar) -> SessionStore {
    jar
}

/// A process-wide slot for one value, set once, as a module `$name` with `set` and `get`:
/// natively a `static`, shared by every thread.
macro_rules! ambient_slot {
    ($name:ident: $ty:ty) => {
        mod $name {
            use super::*;

            static SLOT: ::std::sync::OnceLock<$ty> = ::std::sync::OnceLock::new();

            /// Sets the value, or gives it back if one is set already.
            pub(super) fn set(value: $ty) -> ::core::result::Result<(), $ty> {
                SLOT.set(value)
            }

            /// A clone of the value, if one is set.
            pub(super) fn get() -> ::core::option::Option<$ty> {
                SLOT.get().cloned()
            }
        }
    };
}
pub(crate) use ambient_slot;
