//! One HTTP exchange with the API, over a small [`Transport`] value: the request goes out with
//! the headers it is given, and the response comes back read in full within the body limit.
//! Nothing here knows about credentials, retries or the client; target differences (cookies,
//! `fetch`, reading the body) are the platform's.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use crate::error::{Error, Result};
use crate::platform::http;
use crate::platform::{self, SessionStore};
use crate::wire::Reply;

/// How a client talks HTTP: its `reqwest::Client`, the timeout that client enforces by itself
/// (if known), the body limit, and the session's cookie store for session clients.
pub(crate) struct Transport {
    http: reqwest::Client,
    http_timeout: Option<Duration>,
    max_response_bytes: u64,
    session: Option<SessionStore>,
}

/// When a whole call must be done by: its timeout, from its start. What the client waits for
/// (a mint, a sign-in, a send, a `Retry-After`) fits in what is left; the time an auth handler
/// spends with the user does not count ([`extend`](Self::extend)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: web_time::Instant,
    total: Duration,
}

/// A send whose limit would be within this of the call's whole timeout keeps the whole timeout
/// (which the HTTP client may enforce by itself, at no cost per request).
const SLACK: Duration = Duration::from_millis(1);

impl Deadline {
    /// `total` from now.
    pub(crate) fn after(total: Duration) -> Self {
        let now = web_time::Instant::now();
        Self {
            at: now.checked_add(total).unwrap_or(now),
            total,
        }
    }

    /// The call's whole timeout, as [`Error::Timeout`] reports it.
    pub(crate) fn total(&self) -> Duration {
        self.total
    }

    /// What is left, or `None` once the deadline has passed.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.at
            .checked_duration_since(web_time::Instant::now())
            .filter(|left| !left.is_zero())
    }

    /// The limit of one send of `timeout`: `None` (the whole timeout) while about that much is
    /// left, else what is left.
    pub(crate) fn limit(&self, timeout: Duration) -> Option<Duration> {
        let left = self.remaining().unwrap_or(Duration::ZERO);
        (left + SLACK < timeout).then_some(left)
    }

    /// Moves the deadline `by` later (the time an auth handler spent with the user).
    pub(crate) fn extend(&mut self, by: Duration) {
        self.at = self.at.checked_add(by).unwrap_or(self.at);
    }

    /// `future`, or [`Error::Timeout`] once the deadline passes.
    pub(crate) async fn bound<T>(&self, future: impl Future<Output = Result<T>>) -> Result<T> {
        let left = self.remaining().ok_or(Error::Timeout(self.total))?;
        platform::timeout(left, future)
            .await
            .unwrap_or(Err(Error::Timeout(self.total)))
    }
}

/// One request: where, what, and how long it may take.
pub(crate) struct Request<'a> {
    pub(crate) method: reqwest::Method,
    pub(crate) url: &'a Url,
    pub(crate) body: Option<bytes::Bytes>,
    /// The call's timeout: the limit of a send unless its deadline is nearer, and what
    /// [`Error::Timeout`] reports.
    pub(crate) timeout: Duration,
    /// The id of the logical call this request belongs to (`X-Request-Id`), when it has one.
    pub(crate) request_id: Option<&'a HeaderValue>,
}

/// `application/json`, made once rather than parsed and copied on every request.
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// `X-Request-Id`.
const X_REQUEST_ID: HeaderName = HeaderName::from_static(gipity_shared::header::REQUEST_ID);

impl Transport {
    pub(crate) fn new(
        http: reqwest::Client,
        http_timeout: Option<Duration>,
        max_response_bytes: u64,
        session: Option<SessionStore>,
    ) -> Self {
        Self {
            http,
            http_timeout,
            max_response_bytes,
            session,
        }
    }

    /// The session's cookie store, for session clients.
    pub(crate) fn session(&self) -> Option<&SessionStore> {
        self.session.as_ref()
    }

    /// Sends `request` with `credential` (a header name and its sensitive value) and reads the
    /// response, within `limit` if one is given (else the request's timeout).
    pub(crate) async fn send(
        &self,
        request: &Request<'_>,
        credential: Option<(HeaderName, &HeaderValue)>,
        limit: Option<Duration>,
    ) -> Result<Reply> {
        let response = self
            .start(request, credential, limit)
            .await
            .map_err(|error| Error::transport(error, request.timeout))?;
        let status = response.status().as_u16();
        http::store_cookies(self.session(), &response, request.url);
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body =
            http::read_body(response, status, self.max_response_bytes, request.timeout).await?;
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    /// Builds the request and starts sending it. A plain `fn`, so that the request being built
    /// is not part of the future of the call.
    fn start(
        &self,
        request: &Request<'_>,
        credential: Option<(HeaderName, &HeaderValue)>,
        limit: Option<Duration>,
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> + use<> {
        // The request is assembled in place rather than through `RequestBuilder`, whose methods
        // each move the whole request and convert their arguments.
        let mut http_request = reqwest::Request::new(request.method.clone(), request.url.clone());
        let limit = limit.unwrap_or(request.timeout);
        if self.http_timeout != Some(limit) {
            *http_request.timeout_mut() = Some(limit);
        }
        if let Some(body) = &request.body {
            *http_request.body_mut() = Some(body.clone().into());
        }
        let headers = http_request.headers_mut();
        // Ours and the client's defaults (`User-Agent`) in one allocation, rather than a map
        // that fills up and is rehashed as reqwest adds the last of them.
        headers.reserve(8);
        headers.insert(reqwest::header::ACCEPT, APPLICATION_JSON);
        if request.body.is_some() {
            headers.insert(reqwest::header::CONTENT_TYPE, APPLICATION_JSON);
        }
        if let Some((name, value)) = credential {
            headers.insert(name, value.clone());
        }
        if let Some(id) = request.request_id {
            headers.insert(X_REQUEST_ID, id.clone());
        }
        http::execute(&self.http, http_request, self.session())
    }
}
