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
pub(crate) fn default_http_client() -> Result<reqwest::Client> {
    let builder = reqwest::Client::builder();
    #[cfg(not(target_arch = "wasm32"))]
    let builder = builder
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("gipity-runtime/", env!("CARGO_PKG_VERSION")));
    builder.build().map_err(|error| {
        tracing::error!(%error, "could not build the http client");
        Error::InvalidConfig("could not build the http client".into())
    })
}

/// Sends one request with `credential` attached and reads the response.
pub(crate) async fn send(
    client: &Client,
    request: &Request<'_>,
    credential: &Attached,
) -> Result<Reply> {
    let mut builder = client
        .inner
        .http
        .request(request.method.clone(), request.url.clone())
        .timeout(request.timeout)
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(body) = &request.body {
        builder = builder
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
    }
    builder = credential.apply(builder);
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(jar) = client.jar() {
        use reqwest::cookie::CookieStore as _;
        if let Some(mut cookies) = jar.0.cookies(request.url) {
            cookies.set_sensitive(true);
            builder = builder.header(reqwest::header::COOKIE, cookies);
        }
    }
    #[cfg(target_arch = "wasm32")]
    if client.is_session() {
        builder = builder.fetch_credentials_include();
    }
    let response = builder
        .send()
        .await
        .map_err(|error| Error::transport(error, request.timeout))?;
    let status = response.status().as_u16();
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(jar) = client.jar() {
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
    let body = read_body(
        response,
        status,
        client.max_response_bytes(),
        request.timeout,
    )
    .await?;
    Ok(Reply {
        status,
        retry_after,
        body,
    })
}

/// The most buffer reserved up front from a `Content-Length`.
#[cfg(not(target_arch = "wasm32"))]
const PREALLOCATE_AT_MOST: u64 = 1024 * 1024;

/// Reads the body, stopping as soon as it crosses `limit` (a hostile or broken server cannot
/// make the client buffer more than that).
#[cfg(not(target_arch = "wasm32"))]
async fn read_body(
    mut response: reqwest::Response,
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
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| Error::transport(error, timeout))?
    {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(bytes::Bytes::from(body))
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

/// The error for a non-success reply that nothing recovered from.
pub(crate) fn error_from(reply: &Reply, failure: Failure) -> Error {
    if failure.parsed || reply.body.is_empty() {
        Error::Http {
            status: reply.status,
            code: failure.code,
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
