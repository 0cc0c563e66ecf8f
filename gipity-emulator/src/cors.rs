//! CORS with credentials for pages on `http://127.0.0.1:<port>` and `http://localhost:<port>`.
//!
//! An allowed origin is echoed exactly (never `*`, which browsers refuse with
//! credentials), with `Access-Control-Allow-Credentials: true`. Any other origin
//! gets no CORS headers at all, so the browser blocks the response.

use axum::extract::Request;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// Private Network Access preflight header (Chromium).
const REQUEST_PRIVATE_NETWORK: &str = "access-control-request-private-network";
/// Private Network Access answer (Chromium).
const ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";

/// The middleware: answers preflights on `/api` and `/__emulator` paths and
/// decorates every response to an allowed origin.
pub(crate) async fn layer(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_api =
        path == "/api" || path.starts_with("/api/") || crate::controls::is_control_path(path);
    let origin = request
        .headers()
        .get(ORIGIN)
        .filter(|v| v.to_str().is_ok_and(is_allowed_origin))
        .cloned();
    if is_api && request.method() == Method::OPTIONS {
        return preflight(origin, request.headers());
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.append(VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        allow(headers, origin);
        // `Retry-After` and the rate limit are not CORS-safelisted response headers.
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(
                "Retry-After, RateLimit, RateLimit-Policy, RateLimit-Limit, \
                 RateLimit-Remaining, RateLimit-Reset",
            ),
        );
    }
    response
}

/// `204` to a preflight; with CORS headers only for an allowed origin.
fn preflight(origin: Option<HeaderValue>, request: &HeaderMap) -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ),
    );
    let Some(origin) = origin else {
        return response;
    };
    allow(headers, origin);
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    if let Some(requested) = request.get(ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
    }
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    if request
        .get(REQUEST_PRIVATE_NETWORK)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
    {
        headers.insert(ALLOW_PRIVATE_NETWORK, HeaderValue::from_static("true"));
    }
    response
}

fn allow(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
}

/// `http://127.0.0.1[:port]` or `http://localhost[:port]`, exactly.
pub(crate) fn is_allowed_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let (host, port) = match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok()
    });
    (host == "127.0.0.1" || host == "localhost") && port_ok
}

#[cfg(test)]
mod tests {
    use super::is_allowed_origin;

    #[test]
    fn loopback_origins_only() {
        for ok in [
            "http://127.0.0.1:8000",
            "http://localhost:3000",
            "http://127.0.0.1",
            "http://localhost:65535",
        ] {
            assert!(is_allowed_origin(ok), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:8000",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com:80",
            "http://127.0.0.1:",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:80/",
            "http://evil.com",
            "null",
            "",
        ] {
            assert!(!is_allowed_origin(bad), "{bad}");
        }
    }
}
