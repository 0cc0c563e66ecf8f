//! The browser (`wasm32`): one thread, and cookies that belong to the browser; the parts that
//! know nothing of HTTP.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::Url;
use wasm_bindgen::JsCast as _;

/// `Send` on native targets; implemented for every type on `wasm32`.
pub trait MaybeSend {}
impl<T: ?Sized> MaybeSend for T {}

/// `Send + Sync` on native targets; implemented for every type on `wasm32`.
pub trait MaybeSendSync {}
impl<T: ?Sized> MaybeSendSync for T {}

/// A boxed future that is `Send` on native targets.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// 64 random bits (not for keys: ids), from `Math.random` (53 bits at a time).
pub(crate) fn random_u64() -> u64 {
    // `as` on a value in 0..2^32: exact.
    let half = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (half() << 32) | half()
}

/// `future`, or `None` if `limit` passes first (a `setTimeout` raced against it).
pub(crate) async fn timeout<T>(limit: Duration, future: impl Future<Output = T>) -> Option<T> {
    let mut future = std::pin::pin!(future);
    let mut timer = std::pin::pin!(sleep(limit));
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(cx) {
            return std::task::Poll::Ready(Some(value));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// Waits for `duration` (a rate-limit retry, a popup poll), with the global `setTimeout`, so it
/// works in windows and workers alike.
pub(crate) async fn sleep(duration: Duration) {
    use wasm_bindgen::JsValue;

    /// Clears the timer when the wait is dropped (a call that finished before its timeout).
    struct Clear(Option<js_sys::Function>, JsValue);
    impl Drop for Clear {
        fn drop(&mut self) {
            if let Some(clear) = &self.0 {
                let _ = clear.call1(&js_sys::global(), &self.1);
            }
        }
    }

    let millis = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
    let global = js_sys::global();
    let function = |name: &str| {
        js_sys::Reflect::get(&global, &name.into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    };
    // No timer at all: resolve at once rather than hang.
    let Some(set_timeout) = function("setTimeout") else {
        return;
    };
    let mut timer = JsValue::UNDEFINED;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        timer = set_timeout
            .call2(&global, &resolve, &millis.into())
            .unwrap_or(JsValue::UNDEFINED);
    });
    let _clear = Clear(function("clearTimeout"), timer);
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Where a session client's cookies live: in the browser, which sends them itself
/// (`credentials: include`).
#[derive(Clone, Default)]
pub(crate) struct SessionStore(());

/// A cookie jar for native session clients. In the browser this type has no values: the
/// browser keeps the session cookie itself (it is `HttpOnly`), and sends it with
/// `credentials: include`.
#[derive(Debug, Clone)]
pub enum CookieJar {}

impl CookieJar {
    /// Stores a cookie as if `url` had answered with `Set-Cookie: <set_cookie>`.
    pub fn add(&self, _set_cookie: &str, _url: &Url) {
        match *self {}
    }

    /// Whether the jar would send any cookie to `url`.
    #[must_use]
    pub fn has_cookies_for(&self, _url: &Url) -> bool {
        match *self {}
    }
}

/// The browser keeps its cookies to itself: there is no jar to hand out.
pub(crate) fn cookie_jar(_store: &SessionStore) -> Option<&CookieJar> {
    None
}

/// A jar cannot exist in the browser.
pub(crate) fn session_store(jar: CookieJar) -> SessionStore {
    match jar {}
}

/// A slot for one value, set once, as a module `$name` with `set` and `get`: in the browser a
/// thread-local (there is one thread, and clients hold values that are not `Send`).
macro_rules! ambient_slot {
    ($name:ident: $ty:ty) => {
        mod $name {
            use super::*;

            ::std::thread_local! {
                static SLOT: ::std::cell::OnceCell<$ty> = const { ::std::cell::OnceCell::new() };
            }

            /// Sets the value, or gives it back if one is set already.
            pub(super) fn set(value: $ty) -> ::core::result::Result<(), $ty> {
                SLOT.with(|slot| slot.set(value))
            }

            /// A clone of the value, if one is set.
            pub(super) fn get() -> ::core::option::Option<$ty> {
                SLOT.with(|slot| slot.get().cloned())
            }
        }
    };
}
pub(crate) use ambient_slot;
