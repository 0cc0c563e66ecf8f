//! The protocol's envelopes: `{"data": ..}` answers, the token and auth bodies, and the error
//! envelope `{"error": {"code", "message", "loginUrl"?, "consentUrl"?}}` turned into [`Error`].

use std::any::Any;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;

use crate::auth::User;
use crate::error::{Error, Result};
use crate::redact;

/// A response read in full (within the body limit).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    /// The rate limit the answer reports, when it was asked for and sent.
    pub(crate) rate_limit: Option<crate::rate_limit::RateLimit>,
    pub(crate) body: bytes::Bytes,
}

impl Reply {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// `{"data": T}`.
#[derive(Deserialize)]
pub(crate) struct Data<T> {
    pub(crate) data: T,
}

/// What `/api/token` and `/auth/guest` put inside `data`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenBody {
    token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// The lifetime assumed when a token answer gives none: 15 minutes, what Gipity's newer
/// sign-in kits answer (the docs say an hour; the shorter one is the safe guess).
pub(crate) const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 900;

/// The token of a mint or sign-in reply, `{"data": {"token", "expiresIn"}}`, and its lifetime
/// in seconds. `expiresIn` may be a whole or fractional number (cut to whole seconds) or a
/// numeric string; without one the lifetime is [`DEFAULT_TOKEN_LIFETIME_SECS`]; a negative,
/// non-finite or non-numeric one is a [`Error::Decode`].
pub(crate) fn token(reply: &Reply) -> Result<(String, u64)> {
    let body: Data<TokenBody> = decode(reply)?;
    let TokenBody { token, expires_in } = body.data;
    let seconds = match &expires_in {
        None | Some(serde_json::Value::Null) => Some(DEFAULT_TOKEN_LIFETIME_SECS as f64),
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(text)) => text.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match seconds {
        // `as` saturates: an absurd lifetime becomes u64::MAX, which the token caps.
        Some(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok((token, seconds as u64)),
        _ => Err(Error::Decode {
            status: reply.status,
            detail: "`expiresIn` must be a number of seconds, 0 or more".into(),
            excerpt: redact::excerpt(&reply.body),
        }),
    }
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
        detail: redact::excerpt(error.to_string().as_bytes()),
        excerpt: redact::excerpt(&reply.body),
    }
}

/// Decodes `{"data": T}` from a function's reply. `T = ()` accepts any `data`; a soft error
/// `{"data": {"error": "..."}}` is an error only if the function opted in.
pub(crate) fn decode_data<T: DeserializeOwned + 'static>(
    reply: &Reply,
    function: &str,
    soft_errors: bool,
) -> Result<T> {
    if soft_errors {
        #[derive(Deserialize)]
        struct Soft {
            error: String,
        }
        let raw: Data<&RawValue> =
            serde_json::from_slice(&reply.body).map_err(|error| decode_error(reply, &error))?;
        if let Ok(soft) = serde_json::from_str::<Soft>(raw.data.get()) {
            return Err(Error::Function {
                function: function.to_owned(),
                // The function's own words, bounded and with secrets redacted like any
                // excerpt of a body.
                message: redact::excerpt(soft.error.as_bytes()),
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
        redact::excerpt(code.as_bytes())
    }
}

/// The error for a non-success reply that nothing recovered from.
pub(crate) fn error_from(reply: &Reply, failure: Failure) -> Error {
    // The platform's status and code for this are not documented; its message reads
    // "Insufficient credits".
    let out_of_credits = failure.code.as_deref() == Some("INSUFFICIENT_CREDITS")
        || failure.message.as_deref().is_some_and(|message| {
            message
                .get(..20)
                .is_some_and(|start| start.eq_ignore_ascii_case("insufficient credits"))
        })
        || (reply.status == 402 && failure.code.is_none());
    if out_of_credits && failure.parsed {
        return Error::InsufficientCredits {
            status: reply.status,
            code: failure.code.map(error_code),
            message: failure.message.map(|m| redact::excerpt(m.as_bytes())),
        };
    }
    if failure.parsed || reply.body.is_empty() {
        Error::Http {
            status: reply.status,
            code: failure.code.map(error_code),
            message: failure.message.map(|m| redact::excerpt(m.as_bytes())),
        }
    } else {
        Error::Decode {
            status: reply.status,
            detail: "expected the error envelope `{\"error\": {\"code\", \"message\"}}`".into(),
            excerpt: redact::excerpt(&reply.body),
        }
    }
}
