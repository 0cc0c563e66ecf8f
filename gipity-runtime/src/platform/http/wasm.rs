//! HTTP in the browser: `fetch`, whose cookies are the browser's.

use std::future::Future;
use std::time::Duration;

use url::Url;

use crate::error::{Error, Result, Setting};
use crate::platform::SessionStore;
use crate::secret::Secret;

/// The HTTP client a builder makes: the browser's `fetch`, which enforces no timeout of its
/// own (each request carries one).
/// The browser's proxy settings are its own; `loopback` changes nothing here.
pub(crate) fn default_http_client(
    _timeout: Duration,
    _loopback: bool,
) -> Result<(reqwest::Client, Option<Duration>)> {
    let http = reqwest::Client::builder().build().map_err(|error| {
        tracing::error!(%error, "could not build the http client");
        Error::config(Setting::HttpClient, "could not build the http client")
    })?;
    Ok((http, None))
}

/// The browser holds the session cookie (it is `HttpOnly`): a page cannot give one.
pub(crate) fn seed_session(_store: &SessionStore, _cookies: &Secret, _base: &Url) -> Result<()> {
    Err(Error::config(
        Setting::Credentials,
        "in the browser the session cookie belongs to the browser; `with_cookies` cannot seed it",
    ))
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
