//! One HTTP exchange with the API, over a small [`Transport`] value: the request goes out with
//! the headers it is given, and the response comes back read in full within the body limit.
//! Nothing here knows about credentials, retries or the client; target differences (cookies,
//! `fetch`, reading the body) are the platform's.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use crate::error::{Error, Result};
use crate::platform::SessionStore;
use crate::platform::http;
use crate::wire::Reply;

/// How a client talks HTTP: its `reqwest::Client`, the timeout that client enforces by itself
/// (if known), the body limit, and the session's cookie store for session clients.
pub(crate) struct Transport {
    http: reqwest::Client,
    http_timeout: Option<Duration>,
    max_response_bytes: u64,
    session: Option<SessionStore>,
}

/// One request: where, what, and how long it may take.
pub(crate) struct Request<'a> {
    pub(crate) method: reqwest::Method,
    pub(crate) url: &'a Url,
    pub(crate) body: Option<bytes::Bytes>,
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
    /// response.
    pub(crate) async fn send(
        &self,
        request: &Request<'_>,
        credential: Option<(HeaderName, &HeaderValue)>,
    ) -> Result<Reply> {
        let response = self
            .start(request, credential)
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
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> + use<> {
        // The request is assembled in place rather than through `RequestBuilder`, whose methods
        // each move the whole request and convert their arguments.
        let mut http_request = reqwest::Request::new(request.method.clone(), request.url.clone());
        if self.http_timeout != Some(request.timeout) {
            *http_request.timeout_mut() = Some(request.timeout);
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
