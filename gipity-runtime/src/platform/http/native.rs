//! HTTP on native targets: reqwest over hyper, with the session's cookie jar.

use std::time::Duration;

use http::header::{COOKIE, HeaderValue, RETRY_AFTER, SET_COOKIE};
use url::Url;

use super::{Incoming, Opened, Outgoing, is_redirect, retry_after};
use crate::error::{Error, Result, Setting, TransportError};
use crate::platform::SessionStore;
use crate::rate_limit::{self, RateLimit};
use crate::secret::Secret;

/// The HTTP client of native targets.
pub(crate) type HttpClient = reqwest::Client;

/// reqwest's error as the crate's: a timeout is [`Error::Timeout`] of `timeout`.
fn transport(error: reqwest::Error, timeout: Duration) -> Error {
    if error.is_timeout() {
        Error::Timeout(timeout)
    } else {
        Error::Transport(TransportError::new(error.without_url()))
    }
}

/// The HTTP client a builder makes when the app brings none: no redirects (a credential header
/// must never be replayed to another host), no cookie store (the runtime scopes cookies itself),
/// and `timeout` enforced by the client itself, which it returns: a request whose timeout is
/// that one then needs no per-request timeout (which costs reqwest an allocation per request).
///
/// For a loopback base (the emulator) it uses no proxy: `HTTP_PROXY` would otherwise see the
/// plain-http requests, credentials included.
pub(crate) fn default_http_client(
    timeout: Duration,
    loopback: bool,
) -> Result<(HttpClient, Option<Duration>)> {
    let builder = reqwest::Client::builder();
    let builder = if loopback {
        builder.no_proxy()
    } else {
        builder
    };
    let http = builder
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("gipity-runtime/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .build()
        .map_err(|error| {
            tracing::error!(%error, "could not build the http client");
            Error::config(Setting::HttpClient, "could not build the http client")
        })?;
    Ok((http, Some(timeout)))
}

/// Puts the cookies of a `Cookie` header value (`"a=1; b=2"`) into the jar, scoped to `base`.
pub(crate) fn seed_session(store: &SessionStore, cookies: &Secret, base: &Url) -> Result<()> {
    for cookie in cookies.expose().split(';') {
        let cookie = cookie.trim();
        if !cookie.is_empty() {
            store.add(cookie, base);
        }
    }
    Ok(())
}

/// Sends `outgoing`, with the session's cookies for its URL when there is a session, keeps the
/// cookies the response sets, and reads the body within its limit.
pub(crate) async fn exchange(
    http: &HttpClient,
    outgoing: Outgoing<'_>,
    session: Option<&SessionStore>,
) -> Result<Incoming> {
    match send(http, outgoing, session, false).await? {
        Opened::Done(incoming) => Ok(incoming),
        Opened::Stream(_) => Err(Error::InvalidRequest("a stream was not asked for".into())),
    }
}

/// The longest a streamed answer may last as far as reqwest is concerned: the stream's reader
/// bounds the wait for each chunk itself.
const STREAM_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// As [`exchange`], but a success comes back with its body unread, as a [`BodyStream`]; the
/// outgoing limit bounds the wait for the answer's head only.
pub(crate) async fn open(
    http: &HttpClient,
    mut outgoing: Outgoing<'_>,
    session: Option<&SessionStore>,
) -> Result<Opened> {
    let (head, timeout) = (outgoing.limit.unwrap_or(outgoing.timeout), outgoing.timeout);
    // reqwest's timeout would cut the body too: the stream's reader bounds each chunk.
    outgoing.limit = Some(STREAM_LIFETIME);
    crate::platform::timeout(head, send(http, outgoing, session, true))
        .await
        .unwrap_or(Err(Error::Timeout(timeout)))
}

async fn send(
    http: &HttpClient,
    outgoing: Outgoing<'_>,
    session: Option<&SessionStore>,
    stream: bool,
) -> Result<Opened> {
    let (timeout, max_body, url, metered) = (
        outgoing.timeout,
        outgoing.max_body,
        outgoing.url,
        outgoing.metered,
    );
    let response = start(http, outgoing, session)
        .await
        .map_err(|error| transport(error, timeout))?;
    let status = response.status().as_u16();
    if is_redirect(status) {
        return Err(Error::Redirected {
            status: Some(status),
        });
    }
    store_cookies(session, &response, url);
    let retry_after = retry_after(
        response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok()),
    );
    let rate_limit = metered.then(|| rate_limit(response.headers())).flatten();
    if stream && (200..300).contains(&status) {
        return Ok(Opened::Stream(BodyStream {
            response,
            timeout,
            rate_limit,
        }));
    }
    let body = read_body(response, status, max_body, timeout).await?;
    Ok(Opened::Done(Incoming {
        status,
        retry_after,
        rate_limit,
        body,
    }))
}

/// The rate limit `headers` report.
fn rate_limit(headers: &http::HeaderMap) -> Option<RateLimit> {
    RateLimit::from_headers(rate_limit::Headers::from_values(
        rate_limit::NAMES.map(|name| headers.get(name).and_then(|value| value.to_str().ok())),
    ))
}

/// The body of a success, read chunk by chunk. Dropping it closes the connection.
pub(crate) struct BodyStream {
    response: reqwest::Response,
    timeout: Duration,
    /// The rate limit the answer's head reports, when it was asked for and sent.
    pub(crate) rate_limit: Option<RateLimit>,
}

impl BodyStream {
    /// The next chunk, or `None` at the end.
    pub(crate) async fn next(&mut self) -> Result<Option<bytes::Bytes>> {
        let timeout = self.timeout;
        self.response
            .chunk()
            .await
            .map_err(|error| transport(error, timeout))
    }
}

/// Builds the request and starts sending it. A plain `fn`, so that the request being built is
/// not part of the future of the call.
fn start(
    http: &HttpClient,
    outgoing: Outgoing<'_>,
    session: Option<&SessionStore>,
) -> impl Future<Output = reqwest::Result<reqwest::Response>> + use<> {
    let mut request = reqwest::Request::new(outgoing.method.clone(), outgoing.url.clone());
    // Only when there is one: reqwest keeps it in the request's extensions, a map allocated on
    // first use.
    if outgoing.limit.is_some() {
        *request.timeout_mut() = outgoing.limit;
    }
    if let Some(body) = outgoing.body {
        *request.body_mut() = Some(body.clone().into());
    }
    *request.headers_mut() = outgoing.headers;
    if let Some(jar) = session
        && let Some(cookies) = jar.cookie_header(request.url())
        // The header's bytes are taken as they are (`from_str` would copy them).
        && let Ok(mut cookies) = HeaderValue::from_maybe_shared(bytes::Bytes::from(cookies))
    {
        cookies.set_sensitive(true);
        request.headers_mut().insert(COOKIE, cookies);
    }
    http.execute(request)
}

/// Keeps the cookies `response` sets, for a session client. Storing takes the jar's write
/// lock, which concurrent calls reading it would queue behind: only a response that sets
/// cookies takes it.
fn store_cookies(session: Option<&SessionStore>, response: &reqwest::Response, url: &Url) {
    if let Some(jar) = session
        && response.headers().contains_key(SET_COOKIE)
    {
        let now = std::time::SystemTime::now();
        let mut cookies = jar.write();
        for set_cookie in response.headers().get_all(SET_COOKIE) {
            if let Ok(set_cookie) = set_cookie.to_str() {
                cookies.set(set_cookie, url, now);
            }
        }
    }
}

/// The most buffer reserved up front from a `Content-Length`.
const PREALLOCATE_AT_MOST: u64 = 1024 * 1024;

/// Reads the body, stopping as soon as it crosses `limit` (a hostile or broken server cannot
/// make the client buffer more than that).
async fn read_body(
    mut response: reqwest::Response,
    status: u16,
    limit: u64,
    timeout: Duration,
) -> Result<bytes::Bytes> {
    let too_large = || Error::BodyTooLarge { status, limit };
    let declared = response.content_length();
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    // The declared length sizes the buffer, up to a point: the header is the server's word.
    let declared = declared.unwrap_or(0).min(PREALLOCATE_AT_MOST);
    // A body that arrives in one chunk (the usual small JSON reply) is kept as it is; only a
    // body in several chunks is copied into one buffer.
    let mut single: Option<bytes::Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut received: u64 = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| transport(error, timeout))?
    {
        received += chunk.len() as u64;
        if received > limit {
            return Err(too_large());
        }
        if single.is_none() && joined.is_empty() {
            single = Some(chunk);
            continue;
        }
        if let Some(first) = single.take() {
            let capacity = declared.max(received);
            joined.reserve(usize::try_from(capacity).unwrap_or(0));
            joined.extend_from_slice(&first);
        }
        joined.extend_from_slice(&chunk);
    }
    Ok(single.unwrap_or_else(|| bytes::Bytes::from(joined)))
}
