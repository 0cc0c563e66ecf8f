//! One HTTP exchange with the API, over a small [`Transport`] value: the request goes out with
//! the headers it is given, and the response comes back read in full within the body limit.
//! Nothing here knows about credentials, retries or the client; target differences (cookies,
//! `fetch`, reading the body) are the platform's.

use std::time::Duration;

use crate::Url;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use crate::error::{Error, Result};
use crate::platform::http::{self as platform_http, HttpClient};
use crate::platform::{self, SessionStore};
use crate::wire::Reply;

/// How a client talks HTTP: its HTTP client (a `reqwest::Client` natively, `fetch` in the
/// browser), the timeout that client enforces by itself (if known), the body limit, and the
/// session's cookie store for session clients.
pub(crate) struct Transport {
    http: HttpClient,
    http_timeout: Option<Duration>,
    max_response_bytes: u64,
    session: Option<SessionStore>,
}

/// When a whole call must be done by: its timeout, from its start. What the client waits for
/// (a mint, a sign-in, a send, a `Retry-After`) fits in what is left; the time an auth handler
/// spends with the user does not count ([`extend`](Self::extend)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    /// `None`: further than the clock can say (a timeout of `Duration::MAX`), that is never.
    at: Option<web_time::Instant>,
    total: Duration,
}

/// A send whose limit would be within this of the call's whole timeout keeps the whole timeout
/// (which the HTTP client may enforce by itself, at no cost per request).
const SLACK: Duration = Duration::from_millis(1);

impl Deadline {
    /// `total` from now.
    pub(crate) fn after(total: Duration) -> Self {
        Self {
            at: web_time::Instant::now().checked_add(total),
            total,
        }
    }

    /// The call's whole timeout, as [`Error::Timeout`] reports it.
    pub(crate) fn total(&self) -> Duration {
        self.total
    }

    /// What is left, or `None` once the deadline has passed.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        match self.at {
            Some(at) => at
                .checked_duration_since(web_time::Instant::now())
                .filter(|left| !left.is_zero()),
            None => Some(Duration::MAX),
        }
    }

    /// The limit of one send of `timeout`: `None` (the whole timeout) while about that much is
    /// left, else what is left.
    pub(crate) fn limit(&self, timeout: Duration) -> Option<Duration> {
        let left = self.remaining().unwrap_or(Duration::ZERO);
        (left.saturating_add(SLACK) < timeout).then_some(left)
    }

    /// Moves the deadline `by` later (the time an auth handler spent with the user).
    pub(crate) fn extend(&mut self, by: Duration) {
        self.at = self.at.and_then(|at| at.checked_add(by));
    }

    /// `future`, or [`Error::Timeout`] once the deadline passes; a deadline that never comes
    /// bounds nothing.
    pub(crate) async fn bound<T>(&self, future: impl Future<Output = Result<T>>) -> Result<T> {
        if self.at.is_none() {
            return future.await;
        }
        let left = self.remaining().ok_or(Error::Timeout(self.total))?;
        platform::timeout(left, future)
            .await
            .unwrap_or(Err(Error::Timeout(self.total)))
    }
}

/// What a send gave: an answer read in full, or a success whose body is still to read.
pub(crate) enum Sent {
    /// Read in full.
    Reply(Reply),
    /// A 2xx whose body is a stream.
    Stream(platform_http::BodyStream),
}

/// One request: where, what, and how long it may take.
pub(crate) struct Request<'a> {
    pub(crate) method: http::Method,
    pub(crate) url: &'a Url,
    pub(crate) body: Option<bytes::Bytes>,
    /// The call's timeout: the limit of a send unless its deadline is nearer, and what
    /// [`Error::Timeout`] reports.
    pub(crate) timeout: Duration,
    /// The id of the logical call this request belongs to (`X-Request-Id`), when it has one.
    pub(crate) request_id: Option<&'a HeaderValue>,
    /// The body's type, when it is not JSON (a multipart upload).
    pub(crate) content_type: Option<&'a HeaderValue>,
    /// Whether the answer's rate limit (`RateLimit-*`) is read.
    pub(crate) metered: bool,
}

/// `text/event-stream`, what a streamed answer is.
const TEXT_EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");

/// `application/json`, made once rather than parsed and copied on every request.
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// `X-Request-Id`.
const X_REQUEST_ID: HeaderName = HeaderName::from_static(gipity_shared::header::REQUEST_ID);

impl Transport {
    pub(crate) fn new(
        http: HttpClient,
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

    /// The largest response body accepted.
    pub(crate) fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }

    /// The session's cookie store, for session clients.
    pub(crate) fn session(&self) -> Option<&SessionStore> {
        self.session.as_ref()
    }

    /// Sends `request` with `credentials` (header names and their sensitive values) and reads the
    /// response, within `limit` if one is given (else the request's timeout). A redirect is
    /// [`Error::Redirected`] (see [`platform_http::is_redirect`]): it is never followed, and it
    /// is not an answer of the API.
    pub(crate) async fn send(
        &self,
        request: &Request<'_>,
        credentials: [Option<(HeaderName, &HeaderValue)>; 2],
        limit: Option<Duration>,
    ) -> Result<Reply> {
        let limit = limit.unwrap_or(request.timeout);
        let outgoing = platform_http::Outgoing {
            method: &request.method,
            url: request.url,
            headers: headers(request, credentials),
            body: request.body.as_ref(),
            limit: (self.http_timeout != Some(limit)).then_some(limit),
            timeout: request.timeout,
            max_body: self.max_response_bytes,
            metered: request.metered,
        };
        let incoming = platform_http::exchange(&self.http, outgoing, self.session()).await?;
        Ok(reply(incoming))
    }

    /// As [`send`](Self::send), but a success comes back unread, as a stream; `limit` (else
    /// the request's timeout) bounds the wait for the answer's head.
    pub(crate) async fn open(
        &self,
        request: &Request<'_>,
        credentials: [Option<(HeaderName, &HeaderValue)>; 2],
        limit: Option<Duration>,
    ) -> Result<Sent> {
        let mut headers = headers(request, credentials);
        headers.insert(ACCEPT, TEXT_EVENT_STREAM);
        let outgoing = platform_http::Outgoing {
            method: &request.method,
            url: request.url,
            headers,
            body: request.body.as_ref(),
            limit: Some(limit.unwrap_or(request.timeout)),
            timeout: request.timeout,
            max_body: self.max_response_bytes,
            metered: request.metered,
        };
        Ok(
            match platform_http::open(&self.http, outgoing, self.session()).await? {
                platform_http::Opened::Stream(body) => Sent::Stream(body),
                platform_http::Opened::Done(incoming) => Sent::Reply(reply(incoming)),
            },
        )
    }
}

/// The reply of an answer read in full. A 429 without `Retry-After` whose rate limit says when
/// the window resets is to be retried then.
fn reply(incoming: platform_http::Incoming) -> Reply {
    let reset = incoming.rate_limit.and_then(|rate| rate.reset);
    Reply {
        status: incoming.status,
        retry_after: incoming
            .retry_after
            .or_else(|| (incoming.status == 429).then_some(reset).flatten()),
        rate_limit: incoming.rate_limit,
        body: incoming.body,
    }
}

/// The headers of `request`: ours, in one allocation with room for the HTTP client's defaults
/// (`User-Agent`), rather than a map that fills up and is rehashed as they are added.
fn headers(
    request: &Request<'_>,
    credentials: [Option<(HeaderName, &HeaderValue)>; 2],
) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(ACCEPT, APPLICATION_JSON);
    if request.body.is_some() {
        let content_type = request.content_type.cloned();
        headers.insert(CONTENT_TYPE, content_type.unwrap_or(APPLICATION_JSON));
    }
    for (name, value) in credentials.into_iter().flatten() {
        headers.insert(name, value.clone());
    }
    if let Some(id) = request.request_id {
        headers.insert(X_REQUEST_ID, id.clone());
    }
    headers
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::platform::http::Incoming;
    use crate::rate_limit::RateLimit;

    fn incoming(status: u16, retry_after: Option<u64>, reset: Option<u64>) -> Incoming {
        Incoming {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            rate_limit: reset.map(|reset| RateLimit {
                reset: Some(Duration::from_secs(reset)),
                ..RateLimit::default()
            }),
            body: bytes::Bytes::new(),
        }
    }

    #[test]
    fn a_429_without_retry_after_waits_for_the_rate_limit_reset() {
        let after = |status, retry_after, reset| {
            super::reply(incoming(status, retry_after, reset)).retry_after
        };
        assert_eq!(after(429, None, Some(7)), Some(Duration::from_secs(7)));
        assert_eq!(after(429, Some(2), Some(7)), Some(Duration::from_secs(2)));
        assert_eq!(after(429, None, None), None);
        assert_eq!(after(200, None, Some(7)), None);
    }
}
