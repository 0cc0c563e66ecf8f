//! HTTP in the browser: the page's own `fetch`, whose cookies are the browser's.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::Url;
use bytes::Bytes;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{Incoming, Opened, Outgoing, is_redirect, retry_after};
use crate::error::{Error, Result, Setting, TransportError};
use crate::platform::{self, SessionStore};
use crate::rate_limit::{self, RateLimit};
use crate::secret::Secret;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, of windows and workers alike.
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_request(input: &web_sys::Request) -> js_sys::Promise;
}

/// The HTTP client of the browser: `fetch` itself, which needs no state.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HttpClient;

/// Why an exchange failed below HTTP, as far as the browser says: the name of the JavaScript
/// error (`TypeError` for a network failure or a refused CORS check). Its message is not kept:
/// a browser may put the URL in it.
struct Failure {
    what: &'static str,
    name: Option<String>,
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Failure")
            .field("what", &self.what)
            .field("name", &self.name)
            .finish()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} ({name})", self.what),
            None => f.write_str(self.what),
        }
    }
}

impl std::error::Error for Failure {}

/// A JavaScript exception of `what`, as the crate's error.
fn failed(what: &'static str) -> impl FnOnce(JsValue) -> Error {
    move |error| {
        let name = error
            .dyn_ref::<js_sys::Error>()
            .map(|error| String::from(error.name()));
        Error::Transport(TransportError::new(Failure { what, name }))
    }
}

/// The HTTP client a builder makes: the browser's `fetch`, which enforces no timeout of its
/// own (each exchange carries one). The browser's proxy settings are its own; `loopback`
/// changes nothing here.
pub(crate) fn default_http_client(
    _timeout: Duration,
    _loopback: bool,
) -> Result<(HttpClient, Option<Duration>)> {
    Ok((HttpClient, None))
}

/// The browser holds the session cookie (it is `HttpOnly`): a page cannot give one.
pub(crate) fn seed_session(_store: &SessionStore, _cookies: &Secret, _base: &Url) -> Result<()> {
    Err(Error::config(
        Setting::Credentials,
        "in the browser the session cookie belongs to the browser; `with_cookies` cannot seed it",
    ))
}

/// Aborts the request when dropped: a call that times out, or whose future is dropped, stops
/// its request and its body (after a complete exchange, aborting does nothing).
struct Abort(web_sys::AbortController);

impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends `outgoing` with `fetch` (a session client's with `credentials: include`, so the
/// browser adds the session cookie and keeps the ones the response sets), never following a
/// redirect, and reads the body within its limit; all within the exchange's time limit.
pub(crate) async fn exchange(
    _http: &HttpClient,
    outgoing: Outgoing<'_>,
    session: Option<&SessionStore>,
) -> Result<Incoming> {
    match within_limit(&outgoing, fetch(&outgoing, session.is_some(), false)).await? {
        Opened::Done(incoming) => Ok(incoming),
        Opened::Stream(_) => Err(Error::InvalidRequest("a stream was not asked for".into())),
    }
}

/// As [`exchange`], but a success comes back with its body unread, as a [`BodyStream`]; the
/// time limit bounds the wait for the answer's head only.
pub(crate) async fn open(
    _http: &HttpClient,
    outgoing: Outgoing<'_>,
    session: Option<&SessionStore>,
) -> Result<Opened> {
    within_limit(&outgoing, fetch(&outgoing, session.is_some(), true)).await
}

/// `exchange` within the outgoing request's limit; a limit too long for a timer bounds nothing.
async fn within_limit(
    outgoing: &Outgoing<'_>,
    exchange: impl Future<Output = Result<Opened>>,
) -> Result<Opened> {
    let timeout = outgoing.timeout;
    let limit = outgoing.limit.unwrap_or(timeout);
    if limit == Duration::MAX {
        return exchange.await;
    }
    platform::timeout(limit, exchange)
        .await
        .unwrap_or(Err(Error::Timeout(timeout)))
}

async fn fetch(outgoing: &Outgoing<'_>, include_credentials: bool, stream: bool) -> Result<Opened> {
    let init = web_sys::RequestInit::new();
    init.set_method(outgoing.method.as_str());
    // `manual`: the browser answers a redirect with an opaque response and follows nothing.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    // A session's cookie rides along; no other client sends the page's cookies (`fetch` would
    // send them to a same-origin API by default).
    init.set_credentials(if include_credentials {
        web_sys::RequestCredentials::Include
    } else {
        web_sys::RequestCredentials::Omit
    });
    let headers = web_sys::Headers::new().map_err(failed("could not make the request headers"))?;
    for (name, value) in &outgoing.headers {
        let value = value.to_str().map_err(|_| {
            Error::InvalidRequest(
                "a header value is not visible ASCII, which fetch cannot send".into(),
            )
        })?;
        headers
            .append(name.as_str(), value)
            .map_err(failed("the browser refused a request header"))?;
    }
    init.set_headers(&headers);
    if let Some(body) = outgoing.body {
        init.set_body(&js_sys::Uint8Array::from(&body[..]));
    }
    let controller =
        web_sys::AbortController::new().map_err(failed("could not make an abort controller"))?;
    init.set_signal(Some(&controller.signal()));
    let abort = Abort(controller);
    let request = web_sys::Request::new_with_str_and_init(outgoing.url.as_str(), &init)
        .map_err(failed("the browser refused the request"))?;
    let response: web_sys::Response = JsFuture::from(fetch_with_request(&request))
        .await
        .map_err(failed("the request failed"))?
        .unchecked_into();
    if response.type_() == web_sys::ResponseType::Opaqueredirect {
        // The browser hides a redirect's status and location from the page.
        return Err(Error::Redirected { status: None });
    }
    let status = response.status();
    if is_redirect(status) {
        // Not seen with `manual`, which turns each into an opaque redirect; never followed.
        return Err(Error::Redirected {
            status: Some(status),
        });
    }
    let headers = response.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let rate_limit = outgoing.metered.then(|| rate_limit(&header)).flatten();
    if stream && (200..300).contains(&status) {
        let reader = response.body().map(|body| {
            body.get_reader()
                .unchecked_into::<web_sys::ReadableStreamDefaultReader>()
        });
        return Ok(Opened::Stream(BodyStream {
            reader,
            _abort: abort,
            rate_limit,
        }));
    }
    let retry_after = retry_after(header("retry-after").as_deref());
    let declared = header("content-length").and_then(|length| length.trim().parse::<u64>().ok());
    let body = read_body(&response, status, declared, outgoing.max_body).await?;
    drop(abort);
    Ok(Opened::Done(Incoming {
        status,
        retry_after,
        rate_limit,
        body,
    }))
}

/// The rate limit the headers `header` reads report.
fn rate_limit(header: &impl Fn(&str) -> Option<String>) -> Option<RateLimit> {
    let values = rate_limit::NAMES.map(header);
    RateLimit::from_headers(rate_limit::Headers::from_values(
        values.each_ref().map(Option::as_deref),
    ))
}

/// The body of a success, read chunk by chunk. Dropping it aborts the request.
pub(crate) struct BodyStream {
    reader: Option<web_sys::ReadableStreamDefaultReader>,
    _abort: Abort,
    /// The rate limit the answer's head reports, when it was asked for and sent.
    pub(crate) rate_limit: Option<RateLimit>,
}

impl BodyStream {
    /// The next chunk, or `None` at the end.
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>> {
        let Some(reader) = &self.reader else {
            return Ok(None);
        };
        Ok(read_chunk(reader)
            .await?
            .map(|chunk| Bytes::from(chunk.to_vec())))
    }
}

/// The next chunk of `reader`, or `None` at its end.
async fn read_chunk(
    reader: &web_sys::ReadableStreamDefaultReader,
) -> Result<Option<js_sys::Uint8Array>> {
    let read = JsFuture::from(reader.read())
        .await
        .map_err(failed("reading the response failed"))?;
    let finished = js_sys::Reflect::get(&read, &JsValue::from_str("done"))
        .ok()
        .and_then(|done| done.as_bool())
        .ok_or_else(|| {
            failed("the response stream answered a read without `done`")(JsValue::NULL)
        })?;
    if finished {
        return Ok(None);
    }
    js_sys::Reflect::get(&read, &JsValue::from_str("value"))
        .ok()
        .and_then(|chunk| chunk.dyn_into().ok())
        .map(Some)
        .ok_or_else(|| failed("the response stream gave something other than bytes")(JsValue::NULL))
}

/// Reads the body from its stream, chunk by chunk, cancelling it as soon as it crosses `limit`
/// (a declared length over the limit is refused before reading). The limit counts the bytes
/// the page receives, after the browser has decoded any `Content-Encoding`.
async fn read_body(
    response: &web_sys::Response,
    status: u16,
    declared: Option<u64>,
    limit: u64,
) -> Result<Bytes> {
    let too_large = || Error::BodyTooLarge { status, limit };
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let Some(stream) = response.body() else {
        return Ok(Bytes::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = read_chunk(&reader).await? {
        let received = (body.len() as u64).saturating_add(u64::from(chunk.length()));
        if received > limit {
            // Cancelling tells the browser to stop receiving; the abort on drop ends the rest.
            drop(reader.cancel());
            return Err(too_large());
        }
        // Within the limit, which fits in memory: `received` is a `usize` here.
        let start = body.len();
        body.resize(usize::try_from(received).unwrap_or(start), 0);
        if let Some(room) = body.get_mut(start..) {
            chunk.copy_to(room);
        }
    }
    Ok(Bytes::from(body))
}
