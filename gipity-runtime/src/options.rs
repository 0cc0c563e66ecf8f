//! [`CallOptions`]: a timeout, a request id and whether to ask the auth handler, for one call,
//! without changing a stub's signature.

use std::cell::RefCell;
use std::time::Duration;

use http::header::HeaderValue;

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
/// A request id names one call, so a scoped one goes to the first call made in the scope that
/// has none of its own (whether or not that call gets sent); a later such call fails with
/// [`Error::InvalidRequest`] before sending (two calls under one id would look like one call
/// sent twice to a function that deduplicates). To retry under one id, give it to the call, or
/// open a scope per attempt. A scoped timeout applies to every call in the scope. An inner
/// scope replaces an outer one, all fields at once.
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
    /// `Some(false)`: the call does not ask the client's auth handler.
    ask_auth_handler: Option<bool>,
    /// Scoped options only: a call of the scope took the request id.
    request_id_taken: bool,
}

impl CallOptions {
    /// No options: the call uses the function's and the client's settings.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            timeout: None,
            request_id: None,
            ask_auth_handler: None,
            request_id_taken: false,
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

    /// Whether the call may ask the client's auth handler (the default) when it meets a
    /// login or consent challenge. With `false` the call fails with the challenge
    /// ([`Error::LoginRequired`], [`Error::ConsentRequired`]) instead: for background calls that
    /// must never open a sign-in, and for calls an auth handler makes from a task of its own
    /// (which the client cannot tell from any other call, so it would wait for the handler).
    #[must_use]
    pub const fn ask_auth_handler(mut self, ask: bool) -> Self {
        self.ask_auth_handler = Some(ask);
        self
    }

    /// Whether the call may ask the auth handler, if set.
    #[must_use]
    pub const fn ask_auth_handler_value(&self) -> Option<bool> {
        self.ask_auth_handler
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

    /// These options, completed field by field with the scoped ones, and checked. A call that
    /// takes the scope's request id uses it up.
    pub(crate) fn effective(&self) -> Result<Effective> {
        let (timeout, ask_auth_handler, request_id) = SCOPED.with(|scoped| {
            let mut scoped = scoped.borrow_mut();
            let scoped = scoped.as_mut();
            let timeout = self
                .timeout
                .or_else(|| scoped.as_ref().and_then(|s| s.timeout));
            let ask_auth_handler = self
                .ask_auth_handler
                .or_else(|| scoped.as_ref().and_then(|s| s.ask_auth_handler))
                .unwrap_or(true);
            let request_id = match (&self.request_id, scoped) {
                (Some(id), _) => request_id_header(id).map(Some),
                (None, Some(scoped)) if scoped.request_id_taken => Err(Error::InvalidRequest(
                    "the request id of this `CallOptions::scope` was taken by an earlier call; \
                     a request id names one call, so give this call its own"
                        .into(),
                )),
                (None, Some(scoped)) => match scoped.request_id.take() {
                    Some(id) => {
                        scoped.request_id_taken = true;
                        request_id_header(&id).map(Some)
                    }
                    None => Ok(None),
                },
                (None, None) => Ok(None),
            };
            (timeout, ask_auth_handler, request_id)
        });
        let request_id = match request_id? {
            Some(id) => id,
            None => generated_request_id(),
        };
        Ok(Effective {
            timeout,
            ask_auth_handler,
            request_id,
        })
    }
}

/// Options as one call applies them.
pub(crate) struct Effective {
    pub(crate) timeout: Option<Duration>,
    pub(crate) ask_auth_handler: bool,
    /// The given request id, or one made for this call: every send of the call carries it.
    pub(crate) request_id: HeaderValue,
}

/// A request id for a call that was given none: 32 hexadecimal digits, two values of
/// [`random_u64`](crate::platform::random_u64): distinct within the process, unpredictable
/// from the ids seen before, and unrelated to another process's.
pub(crate) fn generated_request_id() -> HeaderValue {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut id = [0_u8; 32];
    for (half, value) in id
        .chunks_exact_mut(16)
        .zip([crate::platform::random_u64(), crate::platform::random_u64()])
    {
        for (index, digit) in half.iter_mut().enumerate() {
            *digit = DIGITS[((value >> (60 - 4 * index)) & 0xf) as usize];
        }
    }
    HeaderValue::from_bytes(&id).unwrap_or(HeaderValue::from_static("0"))
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
