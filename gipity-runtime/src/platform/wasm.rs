//! The browser (`wasm32`): one thread, `fetch`, and cookies that belong to the browser.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use url::Url;
use wasm_bindgen::JsCast as _;

use crate::error::{Error, Result, Setting};
use crate::secret::Secret;

/// `Send` on native targets; implemented for every type on `wasm32`.
pub trait MaybeSend {}
impl<T: ?Sized> MaybeSend for T {}

/// `Send + Sync` on native targets; implemented for every type on `wasm32`.
pub trait MaybeSendSync {}
impl<T: ?Sized> MaybeSendSync for T {}

/// A boxed future that is `Send` on native targets.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Waits for `duration` (a rate-limit retry, a popup poll), with the global `setTimeout`, so it
/// works in windows and workers alike.
pub(crate) async fn sleep(duration: Duration) {
    let millis = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        match set_timeout {
            Some(set_timeout) => {
                let _ = set_timeout.call2(&global, &resolve, &millis.into());
            }
            // No timer at all: resolve at once rather than hang.
            None => {
                let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
            }
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The HTTP client a builder makes: the browser's `fetch`, which enforces no timeout of its
/// own (each request carries one).
pub(crate) fn default_http_client(
    _timeout: Duration,
) -> Result<(reqwest::Client, Option<Duration>)> {
    let http = reqwest::Client::builder().build().map_err(|error| {
        tracing::error!(%error, "could not build the http client");
        Error::config(Setting::HttpClient, "could not build the http client")
    })?;
    Ok((http, None))
}

/// Where a session client's cookies live: in the browser, which sends them itself
/// (`credentials: include`).
#[derive(Clone, Default)]
pub(crate) struct SessionStore(());

/// The browser holds the session cookie (it is `HttpOnly`): a page cannot give one.
pub(crate) fn seed_session(_store: &SessionStore, _cookies: &Secret, _base: &Url) -> Result<()> {
    Err(Error::config(
        Setting::Credentials,
        "in the browser the session cookie belongs to the browser; `with_cookies` cannot seed it",
    ))
}

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

/// Starts sending `request` with `fetch`; a session client's requests carry
/// `credentials: include`, so the browser adds the session cookie.
pub(crate) fn execute(
    http: &reqwest::Client,
    request: reqwest::Request,
    session: Option<&SessionStore>,
) -> impl Future<Output = reqwest::Result<reqwest::Response>> + use<> {
    let mut builder = reqwest::RequestBuilder::from_parts(http.clone(), request);
    if session.is_some() {
        builder = builder.fetch_credentials_include();
    }
    builder.send()
}

/// The browser stores the cookies a response sets.
pub(crate) fn store_cookies(
    _session: Option<&SessionStore>,
    _response: &reqwest::Response,
    _url: &Url,
) {
}

/// Reads the body, refusing one whose `Content-Length` is over `limit`, or that turns out to be.
pub(crate) async fn read_body(
    response: reqwest::Response,
    status: u16,
    limit: u64,
    timeout: Duration,
) -> Result<bytes::Bytes> {
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(Error::BodyTooLarge { status, limit });
    }
    let body = response
        .bytes()
        .await
        .map_err(|error| Error::transport(error, timeout))?;
    if body.len() as u64 > limit {
        return Err(Error::BodyTooLarge { status, limit });
    }
    Ok(body)
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
