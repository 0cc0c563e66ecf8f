//! [`CallOptions`]: a timeout and a request id for one call, without changing a stub's
//! signature.

use std::cell::RefCell;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::error::{Error, Result};

/// The longest request id, in characters.
const MAX_REQUEST_ID: usize = 200;

/// Options for one call: a timeout instead of the function's or the client's, and the
/// `X-Request-Id` it is sent with (Gipity forwards it to the function as
/// `ctx.headers['x-request-id']`, so a function can recognise a call it has already served).
/// Without one, each call gets a random id (32 hexadecimal digits); either way every send of
/// one call (after a token refresh, a completed sign-in, a rate limit) carries the same id.
///
/// Give them to one call ([`Client::call_function_with`](crate::Client::call_function_with),
/// or a stub's generated `FooArgs { .. }.call_with(&client, &options)`), or to every call made
/// inside a future with [`CallOptions::scope`] (for free stubs and trait methods). Options given
/// to the call win over scoped ones, field by field.
///
/// ```no_run
/// # async fn demo(client: gipity_runtime::Client) -> gipity_runtime::Result<()> {
/// use std::time::Duration;
/// use gipity_runtime::CallOptions;
///
/// let options = CallOptions::new()
///     .timeout(Duration::from_secs(2))
///     .request_id("order-7c1f");
/// let sum: f64 = options
///     .scope(client.scope(async { gipity_runtime::Client::current()?.call("add", &(1, 2)).await }))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    timeout: Option<Duration>,
    request_id: Option<String>,
}

impl CallOptions {
    /// No options: the call uses the function's and the client's settings.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            timeout: None,
            request_id: None,
        }
    }

    /// The timeout of this call, instead of the function's or the client's.
    #[must_use]
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `X-Request-Id` of this call: 1 to 200 visible ASCII characters (the call fails with
    /// [`Error::InvalidRequest`] before sending otherwise).
    #[must_use]
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// The timeout set, if any.
    #[must_use]
    pub const fn timeout_value(&self) -> Option<Duration> {
        self.timeout
    }

    /// The request id set, if any.
    #[must_use]
    pub fn request_id_value(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// These options, completed field by field with the scoped ones, and checked.
    pub(crate) fn effective(&self) -> Result<Effective> {
        let (timeout, request_id) = SCOPED.with(|scoped| {
            let scoped = scoped.borrow();
            let scoped = scoped.as_ref();
            (
                self.timeout.or_else(|| scoped.and_then(|s| s.timeout)),
                self.request_id
                    .as_deref()
                    .or_else(|| scoped.and_then(|s| s.request_id.as_deref()))
                    .map(request_id_header)
                    .transpose(),
            )
        });
        let request_id = match request_id? {
            Some(id) => id,
            None => generated_request_id(),
        };
        Ok(Effective {
            timeout,
            request_id,
        })
    }
}

/// Options as one call applies them.
pub(crate) struct Effective {
    pub(crate) timeout: Option<Duration>,
    /// The given request id, or one made for this call: every send of the call carries it.
    pub(crate) request_id: HeaderValue,
}

/// A request id for a call that was given none: 32 hexadecimal digits, random enough that two
/// calls, of this process or another, do not share one.
fn generated_request_id() -> HeaderValue {
    let id = format!(
        "{:016x}{:016x}",
        crate::platform::random_u64(),
        crate::platform::random_u64()
    );
    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("0"))
}

fn request_id_header(id: &str) -> Result<HeaderValue> {
    let valid =
        !id.is_empty() && id.len() <= MAX_REQUEST_ID && id.bytes().all(|b| b.is_ascii_graphic());
    if !valid {
        return Err(Error::InvalidRequest(
            format!(
                "a request id must be 1 to {MAX_REQUEST_ID} visible ASCII characters (no spaces)"
            )
            .into(),
        ));
    }
    HeaderValue::from_str(id)
        .map_err(|_| Error::InvalidRequest("the request id cannot be a header value".into()))
}

thread_local! {
    static SCOPED: RefCell<Option<CallOptions>> = const { RefCell::new(None) };
}

/// Swaps `slot` with the scoped options of this thread (see `Scope`).
pub(crate) fn swap_scoped(slot: &mut Option<CallOptions>) {
    SCOPED.with(|scoped| std::mem::swap(&mut *scoped.borrow_mut(), slot));
}
