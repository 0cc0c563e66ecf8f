//! [`ClientBuilder`]: the client's settings, their defaults, and [`build`](ClientBuilder::build),
//! which validates them and puts a [`Client`] together.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{AuthHandler, AuthOutcome, Challenge};
use crate::challenge::Challenges;
use crate::client::{Client, Inner};
use crate::credentials::{Credentials, Endpoints, Identity};
use crate::error::{Error, Result, Setting};
use crate::platform::{self, MaybeSend, MaybeSendSync};
use crate::recovery::Recovery;
use crate::transport::Transport;
use crate::validate;

/// The API host used when neither [`ClientBuilder::base_url`] nor `GIPITY_API_BASE` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://a.gipity.ai";

/// The environment variable that replaces [`DEFAULT_BASE_URL`] (an explicit
/// [`ClientBuilder::base_url`] still wins).
pub const BASE_URL_ENV: &str = "GIPITY_API_BASE";

/// The default per-call timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default limit on a response body, enforced while reading it.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// The default bound on how long a rate-limited call waits for `Retry-After` before retrying.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// Builds a [`Client`]. Every setting is validated in [`build`](Self::build).
#[must_use]
pub struct ClientBuilder {
    app: String,
    base_url: Option<String>,
    credentials: Credentials,
    return_url: Option<String>,
    handler: Option<Arc<dyn AuthHandler>>,
    timeout: Duration,
    /// Natively, a `reqwest::Client` the app gave (`http_client`).
    http: Option<platform::http::HttpClient>,
    max_response_bytes: u64,
    max_retry_after: Duration,
    allow_insecure_http: bool,
}

impl Client {
    /// Starts building a client for the app with this project GUID (`p_...`). The GUID names
    /// the app; it is not a credential and is never sent as one.
    pub fn builder(app: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            app: app.into(),
            base_url: None,
            credentials: Credentials::session(),
            return_url: None,
            handler: None,
            timeout: DEFAULT_TIMEOUT,
            http: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            allow_insecure_http: false,
        }
    }
}

impl ClientBuilder {
    /// The API base URL: an absolute `https` URL (or `http` on a loopback host, for the
    /// emulator). Default: `GIPITY_API_BASE` if set, else [`DEFAULT_BASE_URL`].
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The credential policy (default [`Credentials::session`]).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Where login and consent pages send the user back in the redirect flow. Only
    /// `https://app.gipity.ai`, `https://dev.gipity.ai` and `https://gipity.ai` URLs are
    /// accepted (and the emulator's own origin when the base URL is on loopback).
    pub fn return_url(mut self, return_url: impl Into<String>) -> Self {
        self.return_url = Some(return_url.into());
        self
    }

    /// Resolves `LOGIN_REQUIRED` and `CONSENT_REQUIRED` with `handler`, an async closure that
    /// gets the [`Challenge`] and reports an [`AuthOutcome`] (no type annotation needed). Without
    /// a handler the call fails with [`Error::LoginRequired`] / [`Error::ConsentRequired`],
    /// carrying the challenge. For a handler type (such as the browser's `PopupHandler`), use
    /// [`auth_handler`](Self::auth_handler).
    ///
    /// ```
    /// use gipity_runtime::{AuthOutcome, Client};
    ///
    /// let client = Client::builder("p_abc123")
    ///     .on_auth_required(|challenge| async move {
    ///         eprintln!("sign in at {}", challenge.url());
    ///         AuthOutcome::NotHandled
    ///     })
    ///     .build()?;
    /// # Ok::<(), gipity_runtime::Error>(())
    /// ```
    pub fn on_auth_required<F, Fut>(self, handler: F) -> Self
    where
        F: Fn(Challenge) -> Fut + MaybeSendSync + 'static,
        Fut: Future<Output = AuthOutcome> + MaybeSend + 'static,
    {
        self.auth_handler(handler)
    }

    /// Resolves `LOGIN_REQUIRED` and `CONSENT_REQUIRED` with an [`AuthHandler`] value; see
    /// [`on_auth_required`](Self::on_auth_required) for closures.
    pub fn auth_handler(mut self, handler: impl AuthHandler) -> Self {
        self.handler = Some(Arc::new(handler));
        self
    }

    /// The per-call timeout (default [`DEFAULT_TIMEOUT`]). It bounds the whole call, end to
    /// end: obtaining the token (mint or player sign-in), every send with its response, and
    /// any wait for `Retry-After` (a wait that would outlast it is not made). The time an auth
    /// handler spends with the user does not count. A function's own timeout
    /// ([`RemoteFunction::timeout`](crate::RemoteFunction::timeout), `timeout = ".."` on a stub)
    /// and [`CallOptions::timeout`](crate::CallOptions::timeout) replace it for their calls.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    platform::native_only! {
        /// Sends through this `reqwest::Client` instead of one the builder makes (native
        /// targets; in the browser the client calls `fetch` itself).
        ///
        /// What the builder's own client does, this one must do by itself: build it with
        /// `redirect(reqwest::redirect::Policy::none())`, or it replays `X-App-Token`,
        /// `X-Api-Key` and `Authorization` to wherever a redirect points (a redirect it does not
        /// follow is [`Error::Redirected`]); without `no_proxy()` it sends plain-http requests
        /// to a loopback base, credentials included, through `HTTP_PROXY`; and it should have no
        /// cookie store of its own (the client keeps the session's cookies, scoped to the API
        /// host).
        pub fn http_client(mut self, http: reqwest::Client) -> Self {
            self.http = Some(http);
            self
        }
    }

    /// The largest response body accepted (default [`DEFAULT_MAX_RESPONSE_BYTES`]); larger
    /// bodies fail with [`Error::BodyTooLarge`] as soon as the limit is crossed.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The longest `Retry-After` a rate-limited call waits for before its one retry (default
    /// [`DEFAULT_MAX_RETRY_AFTER`]); longer waits fail with [`Error::RateLimited`] at once.
    /// `Duration::ZERO` turns the retry off.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Allows a plain `http` base URL on a host that is not loopback (a platform on a private
    /// network). Credentials then travel unencrypted.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Validates the configuration and builds the client.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], naming the [`Setting`], for an invalid GUID, base URL, return
    /// URL or credential (a GUID given as a token, a device secret of the wrong length, cookies
    /// given to a credential that is not a session), or if the HTTP client cannot be built.
    pub fn build(self) -> Result<Client> {
        let config = |setting: Setting| move |e: validate::Invalid| Error::config(setting, e.0);
        validate::app_guid(&self.app).map_err(config(Setting::App))?;
        let base = match self.base_url {
            Some(base) => base,
            None => base_from_env().unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        };
        let base = validate::base_url(&base, self.allow_insecure_http)
            .map_err(config(Setting::BaseUrl))?;
        let extra_origin = validate::is_loopback(&base).then_some(&base);
        let return_url = self
            .return_url
            .map(|url| validate::return_url(&url, extra_origin))
            .transpose()
            .map_err(config(Setting::ReturnUrl))?;
        let app = self.app;
        let endpoint = |segments: &[&str]| {
            let mut url = base.clone();
            if let Ok(mut path) = url.path_segments_mut() {
                path.pop_if_empty().extend(segments);
            }
            url
        };
        let api_path = |path: &'static str| {
            endpoint(
                &path
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>(),
            )
        };
        let app_path = |tail: &[&str]| {
            let mut segments = vec!["api", app.as_str()];
            segments.extend_from_slice(tail);
            endpoint(&segments)
        };
        let (identity, session) = Identity::resolve(
            self.credentials,
            Endpoints {
                app: app.clone(),
                token_url: api_path(gipity_shared::path::TOKEN),
                guest_url: app_path(gipity_shared::path::GUEST),
                timeout: self.timeout,
            },
            &base,
        )?;
        let (http, http_timeout) = match self.http {
            Some(http) => (http, None),
            None => {
                platform::http::default_http_client(self.timeout, validate::is_loopback(&base))?
            }
        };
        let recovery = Recovery::new(
            self.handler,
            Challenges {
                app: app.clone(),
                base: base.clone(),
                return_url,
                session: session.clone(),
            },
            self.max_retry_after,
        );
        Ok(Client::from_inner(Inner {
            function_urls: crate::client::FunctionUrls::new(app_path(&[
                gipity_shared::path::FUNCTION,
            ])),
            status_url: app_path(gipity_shared::path::STATUS),
            me_url: api_path(gipity_shared::path::ME),
            services_base: app_path(&[gipity_shared::path::SERVICES]),
            transport: Transport::new(http, http_timeout, self.max_response_bytes, session),
            identity,
            recovery,
            timeout: self.timeout,
            app,
            base,
        }))
    }
}

fn base_from_env() -> Option<String> {
    std::env::var(BASE_URL_ENV)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The raw settings are not shown: they are unchecked until `build`, and a token given
        // as the GUID, or user info in a URL, would show with them.
        f.debug_struct("ClientBuilder")
            .field(
                "app",
                &if validate::app_guid(&self.app).is_ok() {
                    self.app.as_str()
                } else {
                    "(invalid)"
                },
            )
            .field("base_url_set", &self.base_url.is_some())
            .field("credentials", &self.credentials)
            .field("return_url_set", &self.return_url.is_some())
            .field("auth_handler", &self.handler.is_some())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
