//! Credential values that never show themselves.
//!
//! A [`Secret`] has a `Debug` that prints `[redacted]` and no `Display`; the only way to the bytes
//! is [`Secret::expose`], which the transport calls when it builds a header marked sensitive.

use std::fmt;
use std::sync::Arc;

/// A credential value (token, key, cookie, device secret). Cheap to clone; redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(Arc<str>);

impl Secret {
    pub(crate) fn new(value: impl Into<Arc<str>>) -> Self {
        Self(value.into())
    }

    /// The raw value, for building a sensitive header. Never format it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A `reqwest` header value marked sensitive, so that `reqwest` and `http` redact it too.
pub(crate) fn header_value(secret: &Secret) -> Option<http::header::HeaderValue> {
    let mut value = http::header::HeaderValue::from_str(secret.expose()).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// `Bearer <token>` as a sensitive header value.
pub(crate) fn bearer_value(secret: &Secret) -> Option<http::header::HeaderValue> {
    let mut value =
        http::header::HeaderValue::from_str(&format!("Bearer {}", secret.expose())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The header values of one secret, made once when the secret is obtained (a mint, a sign-in,
/// the builder), so that each request clones them (a reference count) instead of validating
/// and copying the secret again. Both are sensitive; a value that cannot be a header is `None`.
#[derive(Clone, Default)]
pub(crate) struct Headers {
    /// The secret as it is (`X-App-Token`, `X-Api-Key`).
    pub(crate) plain: Option<http::header::HeaderValue>,
    /// `Bearer <secret>` (`Authorization`).
    pub(crate) bearer: Option<http::header::HeaderValue>,
}

impl Headers {
    pub(crate) fn of(secret: &Secret) -> Self {
        Self {
            plain: header_value(secret),
            bearer: bearer_value(secret),
        }
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
