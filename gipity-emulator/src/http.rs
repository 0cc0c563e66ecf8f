//! Response builders and request helpers shared by the routes.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::header::{ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// Largest request body accepted (1 MiB).
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// `content-type` of every JSON response.
pub(crate) const JSON: &str = "application/json";
/// `content-type` of every HTML page.
pub(crate) const HTML: &str = "text/html; charset=utf-8";

/// A response with `body` and `content-type`.
pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Body>,
) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &Value) -> Response {
    // Serialising a `Value` cannot fail: its map keys are strings.
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    respond(status, JSON, bytes)
}

/// `200 {"data": value}`.
pub(crate) fn data(value: Value) -> Response {
    json(StatusCode::OK, &json!({ "data": value }))
}

/// The platform error envelope: `{"error":{"code","message"}}`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    envelope(status, code, message, Map::new())
}

fn envelope(status: StatusCode, code: &str, message: &str, extra: Map<String, Value>) -> Response {
    let mut inner = Map::new();
    inner.insert("code".to_owned(), Value::from(code));
    inner.insert("message".to_owned(), Value::from(message));
    inner.extend(extra);
    json(status, &json!({ "error": Value::Object(inner) }))
}

/// A request the API refuses; answers with the error envelope.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// More fields inside `error` (such as `loginUrl`).
    extra: Map<String, Value>,
    /// Headers of the answer (`Allow` of a `405`, `Retry-After` of a `429`).
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
            headers: Vec::new(),
        }
    }

    /// The message (`error.message`).
    #[cfg(test)]
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// Adds a field inside `error`.
    pub(crate) fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(name.to_owned(), value.into());
        self
    }

    /// Sets the `Allow` header.
    pub(crate) fn allow(self, methods: &str) -> Self {
        self.header(ALLOW, methods)
    }

    /// Adds headers to the answer.
    pub(crate) fn headers(mut self, headers: Vec<(HeaderName, HeaderValue)>) -> Self {
        self.headers.extend(headers);
        self
    }

    /// Adds a header to the answer (one that is not a header value is left out).
    pub(crate) fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    /// `400 BAD_REQUEST`.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// `401` with this code.
    pub(crate) fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// `404 APP_NOT_FOUND`.
    pub(crate) fn app_not_found(app: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APP_NOT_FOUND",
            format!("no app `{}`", excerpt(app)),
        )
    }

    /// `404 NOT_FOUND`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = envelope(self.status, self.code, &self.message, self.extra);
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// The response of a handler that may refuse the request.
pub(crate) fn answer(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// An HTML page.
pub(crate) fn html(status: StatusCode, page: String) -> Response {
    respond(status, HTML, page)
}

/// How much of an oversized body is read and dropped before answering `413`,
/// so the client sees the answer instead of a reset connection.
const DRAIN_BUDGET: usize = 16 * 1024 * 1024;
/// How long draining may take.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// Reads a request body of at most `limit` bytes.
///
/// Refuses with `413 PAYLOAD_TOO_LARGE` past the limit and `400 BAD_REQUEST`
/// when the body cannot be read.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the request body is larger than {limit} bytes"),
        )
    };
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut body = body;
    if declared.is_some_and(|len| len > limit_u64) {
        drain(&mut body).await;
        return Err(too_large());
    }
    let mut collected: Vec<u8> = Vec::new();
    while let Some(frame) = next_frame(&mut body).await {
        let Ok(frame) = frame else {
            return Err(ApiError::bad_request("the request body could not be read"));
        };
        if let Ok(chunk) = frame.into_data() {
            if collected.len().saturating_add(chunk.len()) > limit {
                drain(&mut body).await;
                return Err(too_large());
            }
            collected.extend_from_slice(&chunk);
        }
    }
    Ok(Bytes::from(collected))
}

async fn next_frame(body: &mut Body) -> Option<Result<http_body::Frame<Bytes>, axum::Error>> {
    poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
}

/// Reads and drops what is left of a body, within a byte and time budget.
async fn drain(body: &mut Body) {
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = next_frame(body).await {
            if let Some(chunk) = frame.data_ref() {
                seen = seen.saturating_add(chunk.len());
            }
            if seen > DRAIN_BUDGET {
                break;
            }
        }
    })
    .await;
}

/// Parses a JSON request body; an empty (or all-whitespace) body is `{}`.
pub(crate) fn parse_json_body(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// The values of every `gipity_session` cookie the request carries, in order
/// (a browser may send several, set for different paths).
pub(crate) fn session_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .collect()
}

/// At most 64 characters of untrusted text, for messages.
pub(crate) fn excerpt(text: &str) -> String {
    truncated(text, 64)
}

/// At most `max` characters of `text`, with `...` when cut.
pub(crate) fn truncated(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push_str("...");
    }
    out
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Name of the session cookie.
pub(crate) const SESSION_COOKIE: &str = "gipity_session";

/// `Ok` when `method` is one of `allowed` (`HEAD` counts as `GET`), else `405`.
pub(crate) fn allow(method: &Method, allowed: &[Method]) -> Result<(), ApiError> {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    if allowed.contains(method) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(Method::as_str).collect();
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("use {}", names.join(" or ")),
    )
    .allow(&names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; gipity_session=abc ; b=2"),
        );
        assert_eq!(session_cookies(&headers), ["abc"]);
        headers.insert(COOKIE, HeaderValue::from_static("gipity_sessionx=1"));
        assert!(session_cookies(&headers).is_empty());
        headers.insert(
            COOKIE,
            HeaderValue::from_static("gipity_session=a; gipity_session=b"),
        );
        assert_eq!(session_cookies(&headers), ["a", "b"]);
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        assert_eq!(parse_json_body(b"").ok(), Some(json!({})));
        assert_eq!(parse_json_body(b" \n").ok(), Some(json!({})));
        assert_eq!(parse_json_body(b"[1]").ok(), Some(json!([1])));
        assert!(parse_json_body(b"{").is_err());
    }
}
