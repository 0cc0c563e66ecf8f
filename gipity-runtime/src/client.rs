//! [`Client`]: the handle to one app's API, and its public calls.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::Url;
use http::header::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::auth::{AuthStatus, ChallengeKind, Permissions, User};
use crate::credentials::{Attach, Identity};
use crate::error::{Error, Result};
use crate::function::RemoteFunction;
use crate::options::CallOptions;
use crate::platform::{self, CookieJar};
use crate::recovery::{Exchange, Recovery};
use crate::transport::{Deadline, Request, Transport};
use crate::validate;
use crate::wire;

/// A handle to one Gipity app's API: its credentials, token cache and auth handler.
///
/// Cheap to clone (the clones share everything). Build one with
/// [`Client::builder`](crate::ClientBuilder), then call functions through the stubs generated
/// by [`function`](crate::function) and [`functions`](crate::functions), or with
/// [`Client::call`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// What a client is made of; the builder puts it together.
pub(crate) struct Inner {
    pub(crate) app: String,
    pub(crate) base: Url,
    /// `<base>/api/<app>/fn/<name>`, built once per function.
    pub(crate) function_urls: urls::FunctionUrls,
    /// `<base>/api/<app>/auth/status`.
    pub(crate) status_url: Url,
    /// `<base>/api/auth/me`.
    pub(crate) me_url: Url,
    /// `<base>/api/<app>/services/`.
    pub(crate) services_base: Url,
    pub(crate) timeout: Duration,
    pub(crate) transport: Transport,
    pub(crate) identity: Identity,
    pub(crate) recovery: Recovery,
}

/// Records how a call ended on its span, and returns its result.
fn record_outcome<T>(span: &tracing::Span, result: Result<T>) -> Result<T> {
    if !span.is_disabled() {
        match &result {
            Ok(_) => span.record("outcome", "ok"),
            Err(error) => span.record("outcome", tracing::field::display(error)),
        };
    }
    result
}

impl Client {
    // Fires on wasm32 only, so `allow` rather than `expect`.
    #[allow(
        clippy::arc_with_non_send_sync,
        reason = "in the browser a client holds values that are not `Send`: one thread, one client type for both targets"
    )]
    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The project GUID.
    #[must_use]
    pub fn app(&self) -> &str {
        &self.inner.app
    }

    /// The API base URL.
    #[must_use]
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The session's cookie jar (native session clients only; `None` for other credentials and
    /// in the browser, where the browser keeps the cookie). Store a session cookie your app
    /// obtained here, or read what the API set.
    #[must_use]
    pub fn cookie_jar(&self) -> Option<&CookieJar> {
        self.inner
            .transport
            .session()
            .and_then(platform::cookie_jar)
    }

    /// Calls function `name` with `body` as its `ctx.body`, and decodes what it returns inside
    /// `{"data": ...}` as `T` (`client.call::<Vec<Item>>("get-items", &body)`). `T = ()`
    /// accepts any `data`.
    ///
    /// # Errors
    /// See [`Error`]: the call fails before sending if `name` is not a safe function name or
    /// the credential cannot be obtained, and with the API's answer otherwise.
    pub async fn call<T>(&self, name: &str, body: &(impl Serialize + ?Sized)) -> Result<T>
    where
        T: DeserializeOwned + 'static,
    {
        self.call_function(&RemoteFunction::new(name), body).await
    }

    /// Like [`call`](Self::call), with the function's auth level, timeout and options.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub async fn call_function<T>(
        &self,
        function: &RemoteFunction<'_>,
        body: &(impl Serialize + ?Sized),
    ) -> Result<T>
    where
        T: DeserializeOwned + 'static,
    {
        self.call_function_with(function, body, &CallOptions::new())
            .await
    }

    /// Like [`call_function`](Self::call_function), with options for this one call (a
    /// timeout, a request id). They win over options set with [`CallOptions::scope`].
    ///
    /// # Errors
    /// As [`call`](Self::call); [`Error::InvalidRequest`] if the request id cannot be a
    /// header value.
    pub async fn call_function_with<T>(
        &self,
        function: &RemoteFunction<'_>,
        body: &(impl Serialize + ?Sized),
        options: &CallOptions,
    ) -> Result<T>
    where
        T: DeserializeOwned + 'static,
    {
        let span = tracing::debug_span!(
            "gipity.call",
            function = function.name(),
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        self.call_inner(function, body, options, span.clone())
            .instrument(span)
            .await
    }

    /// The call, in `span` (that of [`call_function_with`](Self::call_function_with)), whose
    /// outcome it records.
    async fn call_inner<T, B>(
        &self,
        function: &RemoteFunction<'_>,
        body: &B,
        options: &CallOptions,
        span: tracing::Span,
    ) -> Result<T>
    where
        T: DeserializeOwned + 'static,
        B: Serialize + ?Sized,
    {
        // No temporary of the preparation outlives it, so that the future stays small.
        let (url, body, options) = match self.function_request(function, body, options) {
            Ok(prepared) => prepared,
            Err(error) => return record_outcome(&span, Err(error)),
        };
        let timeout = options
            .timeout
            .or(function.timeout_override())
            .unwrap_or(self.inner.timeout);
        let exchange = Exchange {
            request: Request {
                method: http::Method::POST,
                url: &url,
                body: Some(body),
                timeout,
                request_id: Some(&options.request_id),
                content_type: None,
                metered: false,
            },
            attach: Attach::Function(function.auth_level()),
            permissions: function.permissions_needed(),
            resend_after_auth: function.resends_after_auth(),
            ask_auth_handler: options.ask_auth_handler,
            service: None,
            stream: false,
            deadline: Deadline::after(timeout),
        };
        let result = match self.execute(&exchange, &span).await {
            Ok(reply) => wire::decode_data(&reply, function.name(), function.soft_errors_enabled()),
            Err(error) => Err(error),
        };
        record_outcome(&span, result)
    }

    /// The URL, the JSON body and the effective options of a call to `function`. The name of
    /// a `static` descriptor was checked when it was made; any other is checked here.
    fn function_request<B>(
        &self,
        function: &RemoteFunction<'_>,
        body: &B,
        options: &CallOptions,
    ) -> Result<(Arc<Url>, bytes::Bytes, crate::options::Effective)>
    where
        B: Serialize + ?Sized,
    {
        if !function.name_checked() {
            validate::function_name(function.name()).map_err(|e| Error::InvalidRequest(e.0))?;
        }
        let options = options.effective()?;
        let body = bytes::Bytes::from(serde_json::to_vec(body).map_err(Error::Encode)?);
        Ok((self.inner.function_urls.get(function.name()), body, options))
    }

    /// Asks the API whether a user is signed in and has granted `permissions`
    /// (`GET /api/<app>/auth/status`). Uses the app token and the session cookie.
    ///
    /// # Errors
    /// As [`call`](Self::call); a signed-out user is not an error but [`AuthStatus::SignedOut`].
    pub async fn auth_status(&self, permissions: Permissions) -> Result<AuthStatus> {
        let mut url = self.inner.status_url.clone();
        url.query_pairs_mut()
            .append_pair("permissions", &permissions.bits().to_string());
        let request_id = crate::options::generated_request_id();
        let exchange = self.get(&url, Some(&request_id), Attach::AppToken, permissions);
        let reply = self.execute(&exchange, &tracing::Span::current()).await?;
        let status: wire::StatusBody = wire::decode(&reply)?;
        let challenges = self.inner.recovery.challenges();
        match (status.authenticated, status.consented, status.user) {
            (true, true, Some(user)) => Ok(AuthStatus::SignedIn { user }),
            (true, false, user) => Ok(AuthStatus::NeedsConsent {
                user,
                consent: challenges.make(
                    ChallengeKind::Consent,
                    status.consent_url.as_deref(),
                    permissions,
                ),
            }),
            (true, true, None) => Err(Error::Decode {
                status: reply.status,
                detail: "`authenticated` and `consented`, but `user` is null".into(),
                excerpt: crate::redact::excerpt(&reply.body),
            }),
            (false, ..) => Ok(AuthStatus::SignedOut {
                login: challenges.make(
                    ChallengeKind::Login,
                    status.login_url.as_deref(),
                    permissions,
                ),
            }),
        }
    }

    /// Who the session cookie belongs to (`GET /api/auth/me`), or `None` if nobody is signed in.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub async fn me(&self) -> Result<Option<User>> {
        // No request id: in the browser, `/auth/me` with the cookie alone stays a simple CORS
        // request, which needs no preflight the API might not answer for it.
        let exchange = self.get(
            &self.inner.me_url,
            None,
            Attach::CookiesOnly,
            Permissions::IDENTITY,
        );
        let reply = self.execute(&exchange, &tracing::Span::current()).await?;
        let me: wire::MeBody = wire::decode(&reply)?;
        Ok(me.user)
    }

    /// Forgets the cached app token and player token; the next call mints new ones.
    pub fn clear_tokens(&self) {
        self.inner.identity.clear();
    }

    fn get<'a>(
        &self,
        url: &'a Url,
        request_id: Option<&'a HeaderValue>,
        attach: Attach,
        permissions: Permissions,
    ) -> Exchange<'a> {
        Exchange {
            request: Request {
                method: http::Method::GET,
                url,
                body: None,
                timeout: self.inner.timeout,
                request_id,
                content_type: None,
                metered: false,
            },
            attach,
            permissions,
            resend_after_auth: true,
            ask_auth_handler: true,
            service: None,
            stream: false,
            deadline: Deadline::after(self.inner.timeout),
        }
    }

    /// Sends `exchange` through the client's recovery (see [`crate::recovery`]).
    pub(crate) async fn execute(
        &self,
        exchange: &Exchange<'_>,
        span: &tracing::Span,
    ) -> Result<wire::Reply> {
        let inner = &*self.inner;
        inner
            .recovery
            .execute(&inner.transport, &inner.identity, exchange, span)
            .await
    }

    /// Sends `exchange`, whose success is a stream, through the client's recovery.
    pub(crate) async fn open(
        &self,
        exchange: &Exchange<'_>,
        span: &tracing::Span,
    ) -> Result<crate::transport::Sent> {
        let inner = &*self.inner;
        inner
            .recovery
            .open(&inner.transport, &inner.identity, exchange, span)
            .await
    }

    /// The largest response body the client accepts.
    pub(crate) fn max_response_bytes(&self) -> u64 {
        self.inner.transport.max_response_bytes()
    }

    /// The client's timeout.
    pub(crate) fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// `<base>/api/<app>/services/`.
    pub(crate) fn services_base(&self) -> &Url {
        &self.inner.services_base
    }

    /// How the client builds challenges (for the fuzz targets).
    #[cfg(any(fuzzing, test))]
    pub(crate) fn challenges(&self) -> &crate::challenge::Challenges {
        self.inner.recovery.challenges()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Client")
            .field("app", &inner.app)
            .field("base_url", &inner.base.as_str())
            .field("credentials", &inner.identity.kind_name())
            .field("auth_handler", &inner.recovery.has_handler())
            .field("timeout", &inner.timeout)
            .finish_non_exhaustive()
    }
}

mod urls;

pub(crate) use urls::FunctionUrls;

#[cfg(test)]
mod tests;
