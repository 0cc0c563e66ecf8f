//! One HTTP exchange with the API, and the protocol's envelopes.

use std::any::Any;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;

use crate::auth::User;
use crate::client::{Attached, Client, RemoteFunction, Request};
use crate::error::{Error, Result};
use crate::validate;

/// A response read in full (within the body limit).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: bytes::Bytes,
}

/// The HTTP client a builder makes when the app brings none: no redirects (a credential header
/// must never be replayed to another host), no cookie store (the runtime scopes cookies itself).
///
/// Natively it enforces `timeout` itself, and returns it: a request whose timeout is that one
/// then needs no per-request timeout (which costs reqwest an allocation per request).
pub(crate) fn default_http_client(
    timeout: Duration,
) -> Result<(reqwest::Client, Option<Duration>)> {
    let builder = reqwest::Client::builder();
    #[cfg(not(target_arch = "wasm32"))]
    let builder = builder
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("gipity-runtime/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout);
    #[cfg(not(target_arch = "wasm32"))]
    let enforced = Some(timeout);
    #[cfg(target_arch = "wasm32")]
    let enforced = {
        let _ = timeout;
        None
    };
    let http = builder.build().map_err(|error| {
        tracing::error!(%error, "could not build the http client");
        Error::InvalidConfig("could not build the http client".into())
    })?;
    Ok((http, enforced))
}

/// `application/json`, made once rather than parsed and copied on every request.
const APPLICATION_JSON: reqwest::header::HeaderValue =
    reqwest::header::HeaderValue::from_static("application/json");

/// Sends one request with `credential` attached and reads the response.
pub(crate) async fn send(
    client: &Client,
    request: &Request<'_>,
    credential: &Attached,
) -> Result<Reply> {
    #[cfg_attr(
        target_arch = "wasm32",
        expect(unused_mut, reason = "read by value there")
    )]
    let mut response = start(client, request, credential)
        .await
        .map_err(|error| Error::transport(error, request.timeout))?;
    let status = response.status().as_u16();
    // Storing takes the jar's write lock, which concurrent calls reading it would queue
    // behind: only a response that sets cookies takes it.
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(jar) = client.jar()
        && response.headers().contains_key(reqwest::header::SET_COOKIE)
    {
        use reqwest::cookie::CookieStore as _;
        let mut set_cookies = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter();
        jar.0.set_cookies(&mut set_cookies, request.url);
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let limit = client.max_response_bytes();
    // Natively the body is read through a borrow, so that the future of a call does not hold
    // the response twice (here, and in the reader).
    #[cfg(not(target_arch = "wasm32"))]
    let body = read_body(&mut response, status, limit, request.timeout).await?;
    #[cfg(target_arch = "wasm32")]
    let body = read_body(response, status, limit, request.timeout).await?;
    Ok(Reply {
        status,
        retry_after,
        body,
    })
}

/// Builds the request and starts sending it. A plain `fn`, so that the request being built is
/// not part of the future of the call.
fn start(
    client: &Client,
    request: &Request<'_>,
    credential: &Attached,
) -> impl Future<Output = reqwest::Result<reqwest::Response>> + use<> {
    // The request is assembled in place rather than through `RequestBuilder`, whose methods
    // each move the whole request and convert their arguments.
    let mut http_request = reqwest::Request::new(request.method.clone(), request.url.clone());
    if client.inner.http_timeout != Some(request.timeout) {
        *http_request.timeout_mut() = Some(request.timeout);
    }
    if let Some(body) = &request.body {
        *http_request.body_mut() = Some(body.clone().into());
    }
    let headers = http_request.headers_mut();
    // Ours and the client's defaults (`User-Agent`) in one allocation, rather than a map that
    // fills up and is rehashed as reqwest adds the last of them.
    headers.reserve(8);
    headers.insert(reqwest::header::ACCEPT, APPLICATION_JSON);
    if request.body.is_some() {
        headers.insert(reqwest::header::CONTENT_TYPE, APPLICATION_JSON);
    }
    credential.apply(headers);
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(jar) = client.jar() {
        use reqwest::cookie::CookieStore as _;
        if let Some(mut cookies) = jar.0.cookies(request.url) {
            cookies.set_sensitive(true);
            headers.insert(reqwest::header::COOKIE, cookies);
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    return client.inner.http.execute(http_request);
    #[cfg(target_arch = "wasm32")]
    {
        let mut builder =
            reqwest::RequestBuilder::from_parts(client.inner.http.clone(), http_request);
        if client.is_session() {
            builder = builder.fetch_credentials_include();
        }
        builder.send()
    }
}

/// The most buffer reserved up front from a `Content-Length`.
#[cfg(not(target_arch = "wasm32"))]
const PREALLOCATE_AT_MOST: u64 = 1024 * 1024;

/// Reads the body, stopping as soon as it crosses `limit` (a hostile or broken server cannot
/// make the client buffer more than that).
#[cfg(not(target_arch = "wasm32"))]
async fn read_body(
    response: &mut reqwest::Response,
    status: u16,
    limit: u64,
    timeout: Duration,
) -> Result<bytes::Bytes> {
    let too_large = || Error::BodyTooLarge { status, limit };
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(too_large());
    }
    // The declared length sizes the buffer, up to a point: the header is the server's word.
    let declared = response
        .content_length()
        .unwrap_or(0)
        .min(PREALLOCATE_AT_MOST);
    // A body that arrives in one chunk (the usual small JSON reply) is kept as it is; only a
    // body in several chunks is copied into one buffer.
    let mut single: Option<bytes::Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut received: u64 = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| Error::transport(error, timeout))?
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

#[cfg(target_arch = "wasm32")]
async fn read_body(
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

/// `{"data": T}`.
#[derive(Deserialize)]
pub(crate) struct Data<T> {
    pub(crate) data: T,
}

/// What `/api/token` and `/auth/guest` put inside `data`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenBody {
    pub(crate) token: String,
    pub(crate) expires_in: u64,
}

/// `GET /api/<app>/auth/status` (not wrapped in `data`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusBody {
    pub(crate) authenticated: bool,
    #[serde(default)]
    pub(crate) consented: bool,
    #[serde(default)]
    pub(crate) user: Option<User>,
    #[serde(default)]
    pub(crate) login_url: Option<String>,
    #[serde(default)]
    pub(crate) consent_url: Option<String>,
}

/// `GET /api/auth/me`.
#[derive(Deserialize)]
pub(crate) struct MeBody {
    #[serde(default)]
    pub(crate) user: Option<User>,
}

/// Decodes a successful reply as `T`.
pub(crate) fn decode<T: DeserializeOwned>(reply: &Reply) -> Result<T> {
    serde_json::from_slice(&reply.body).map_err(|error| decode_error(reply, &error))
}

fn decode_error(reply: &Reply, error: &serde_json::Error) -> Error {
    Error::Decode {
        status: reply.status,
        detail: validate::excerpt(error.to_string().as_bytes()),
        excerpt: validate::excerpt(&reply.body),
    }
}

/// Decodes `{"data": T}` from a function's reply. `T = ()` accepts any `data`; a soft error
/// `{"data": {"error": "..."}}` is an error only if the function opted in.
pub(crate) fn decode_data<T: DeserializeOwned + 'static>(
    reply: &Reply,
    function: &RemoteFunction<'_>,
) -> Result<T> {
    if function.soft_errors_enabled() {
        #[derive(Deserialize)]
        struct Soft {
            error: String,
        }
        let raw: Data<&RawValue> =
            serde_json::from_slice(&reply.body).map_err(|error| decode_error(reply, &error))?;
        if let Ok(soft) = serde_json::from_str::<Soft>(raw.data.get()) {
            return Err(Error::Function {
                function: function.name().to_owned(),
                message: soft.error,
            });
        }
    }
    // `T = ()` accepts any `data`. `Box::new(())` does not allocate; the downcast succeeds
    // exactly when `T` is `()`.
    let unit: Box<dyn Any> = Box::new(());
    if let Ok(unit) = unit.downcast::<T>() {
        let _: Data<IgnoredAny> = decode(reply)?;
        return Ok(*unit);
    }
    decode::<Data<T>>(reply).map(|envelope| envelope.data)
}

/// The platform's error envelope, as far as it could be read.
#[derive(Default)]
pub(crate) struct Failure {
    pub(crate) code: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) login_url: Option<String>,
    pub(crate) consent_url: Option<String>,
    pub(crate) parsed: bool,
}

/// Reads `{"error": {"code", "message", "loginUrl"?, "consentUrl"?}}` (or `{"error": "..."}`).
pub(crate) fn failure(reply: &Reply) -> Failure {
    #[derive(Deserialize)]
    struct Envelope {
        error: ErrorField,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ErrorField {
        Object(ErrorBody),
        Text(String),
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ErrorBody {
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        login_url: Option<String>,
        #[serde(default)]
        consent_url: Option<String>,
    }
    match serde_json::from_slice::<Envelope>(&reply.body) {
        Ok(Envelope {
            error: ErrorField::Object(body),
        }) => Failure {
            code: body.code,
            message: body.message,
            login_url: body.login_url,
            consent_url: body.consent_url,
            parsed: true,
        },
        Ok(Envelope {
            error: ErrorField::Text(message),
        }) => Failure {
            message: Some(message),
            parsed: true,
            ..Failure::default()
        },
        Err(_) => Failure::default(),
    }
}

/// The platform's `error.code` as the error carries it: a code as sent (at most 64 ASCII
/// letters, digits, `_`, `.`, `-` or `:`, and from 20 characters on `UPPER_SNAKE_CASE`, like
/// `FUNCTION_EXECUTION_TIMEOUT`); anything else, which the server controls as freely as a
/// message and which may be a token it echoed, as a short redacted excerpt.
fn error_code(code: String) -> String {
    let charset = code
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':'));
    let shape =
        code.len() < 20 || (code.contains('_') && !code.bytes().any(|b| b.is_ascii_lowercase()));
    let plain = !code.is_empty() && code.len() <= 64 && charset && shape;
    if plain {
        code
    } else {
        validate::excerpt(code.as_bytes())
    }
}

/// The error for a non-success reply that nothing recovered from.
pub(crate) fn error_from(reply: &Reply, failure: Failure) -> Error {
    if failure.parsed || reply.body.is_empty() {
        Error::Http {
            status: reply.status,
            code: failure.code.map(error_code),
            message: failure.message.map(|m| validate::excerpt(m.as_bytes())),
        }
    } else {
        Error::Decode {
            status: reply.status,
            detail: "expected the error envelope `{\"error\": {\"code\", \"message\"}}`".into(),
            excerpt: validate::excerpt(&reply.body),
        }
    }
}
