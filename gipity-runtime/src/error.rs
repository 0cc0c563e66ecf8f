//! The one error type of the runtime.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Challenge, ChallengeKind};

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong when calling a Gipity function.
///
/// No variant ever carries a credential: tokens, cookies, keys and device secrets are redacted
/// from `Debug` and `Display`, URLs are stripped from transport errors, and response excerpts
/// have token-like runs replaced by `[redacted]`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be sent or its response could not be read (connection refused or
    /// reset, DNS, TLS, a request the browser refused). The error says no URL.
    #[error("request to the gipity api failed")]
    Transport(#[source] TransportError),

    /// The API answered with a redirect, which the client never follows: the request's
    /// credentials would go with it. `status` is the redirect's status, natively; the browser
    /// hides it from the page. (A `reqwest::Client` given to `ClientBuilder::http_client`,
    /// natively, follows redirects if it was built to; see that method.)
    #[error("the gipity api answered with a redirect{}, which is not followed", RedirectStatus(*status))]
    #[non_exhaustive]
    Redirected {
        /// The HTTP status (`301`, `307`, ...), when the platform tells it.
        status: Option<u16>,
    },

    /// The call, or reading its response, took longer than the configured timeout.
    #[error("request timed out after {0:?}")]
    Timeout(Duration),

    /// The API answered with a non-success status and the platform's error envelope
    /// `{"error": {"code", "message"}}` (or no envelope at all).
    #[error("{}", HttpDisplay { status: *status, code: code.as_deref(), message: message.as_deref() })]
    #[non_exhaustive]
    Http {
        /// The HTTP status.
        status: u16,
        /// The platform's error code, such as `FUNCTION_ERROR` or `FORBIDDEN`.
        code: Option<String>,
        /// The platform's error message.
        message: Option<String>,
    },

    /// The response body was not the JSON the protocol promises (an HTML error page, a
    /// truncated body, a `data` of the wrong shape).
    #[error("unexpected response body (status {status}): {detail}; body starts: {excerpt}")]
    #[non_exhaustive]
    Decode {
        /// The HTTP status of the response.
        status: u16,
        /// What did not match, with token-like values redacted.
        detail: String,
        /// The start of the body, with token-like values redacted.
        excerpt: String,
    },

    /// The response body is larger than the client's limit; reading stopped at the limit.
    #[error("response body exceeds the limit of {limit} bytes")]
    #[non_exhaustive]
    BodyTooLarge {
        /// The HTTP status of the response.
        status: u16,
        /// The limit, in bytes (see [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
        limit: u64,
    },

    /// The user must sign in (`LOGIN_REQUIRED`), and the auth handler did not resolve it.
    /// The challenge says where to send the user; [`Challenge::outcome`] says what the handler
    /// reported, if there was one. From a service, the message says who pays
    /// ([`Challenge::service`]).
    #[error("sign-in required{}", ServiceNote(.0, ChallengeKind::Login))]
    LoginRequired(Box<Challenge>),

    /// The user is signed in but has not granted this app the permissions the function or
    /// service needs (`CONSENT_REQUIRED`), and the auth handler did not resolve it.
    #[error("consent required{}", ServiceNote(.0, ChallengeKind::Consent))]
    ConsentRequired(Box<Challenge>),

    /// The one who pays for a service call (the signed-in user under `user_pays`, the app's
    /// owner under `owner_pays`) has too few credits (402 `INSUFFICIENT_CREDITS`). Never
    /// retried: more credits, or another payer, is the way on.
    #[error("insufficient credits (status {status}){}", OptionalMessage(message.as_deref()))]
    #[non_exhaustive]
    InsufficientCredits {
        /// The HTTP status (402 from the emulator; the platform's is not documented).
        status: u16,
        /// The platform's error code, when it sent one.
        code: Option<String>,
        /// The platform's message, redacted and bounded.
        message: Option<String>,
    },

    /// The API answered 429. `retry_after` is the server's `Retry-After`, when it sent one.
    #[error("rate limited by the gipity api")]
    #[non_exhaustive]
    RateLimited {
        /// How long the server asked the caller to wait.
        retry_after: Option<Duration>,
    },

    /// The credential the call needs could not be obtained, so the call was not sent
    /// (fail closed). `source` is why the mint or sign-in failed, when one was attempted.
    #[error("{credential} unavailable")]
    #[non_exhaustive]
    CredentialUnavailable {
        /// Which credential.
        credential: CredentialKind,
        /// Why it could not be obtained.
        #[source]
        source: Option<Arc<Error>>,
    },

    /// A function that "fails softly" answered `{"data": {"error": "..."}}` and the binding
    /// opted in to treating that as an error.
    #[error("function `{function}` reported an error: {message}")]
    #[non_exhaustive]
    Function {
        /// The remote function name.
        function: String,
        /// The `error` string the function returned.
        message: String,
    },

    /// A streamed answer broke: it ended before its last event (`data: [DONE]`), or sent an
    /// event that is malformed, too large, or an error. What came before was handed out; the
    /// answer is incomplete and the request is not sent again (it may have been billed).
    #[error("the streamed answer broke: {detail}")]
    #[non_exhaustive]
    Stream {
        /// What went wrong, with token-like values redacted.
        detail: String,
    },

    /// The arguments could not be serialized to JSON.
    #[error("could not serialize the arguments")]
    Encode(#[source] serde_json::Error),

    /// The client configuration, or a value given to it, is invalid.
    #[error("invalid configuration of the {setting}: {message}")]
    #[non_exhaustive]
    InvalidConfig {
        /// Which setting is wrong (or which part of the environment the client needs).
        setting: Setting,
        /// What is wrong with it; never repeats a secret.
        message: Cow<'static, str>,
    },

    /// The call itself is invalid (a function name that is not a safe path segment, a client
    /// that cannot make this kind of call); nothing was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(Cow<'static, str>),

    /// A free function stub was called outside [`Client::scope`](crate::Client::scope) and no
    /// client was installed with [`Client::install`](crate::Client::install).
    #[error(
        "no gipity client: call `Client::install` once, or run the call inside `client.scope(..)`"
    )]
    NoClient,
}

/// Which setting [`Error::InvalidConfig`] is about, for programs that react to one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// The project GUID given to [`Client::builder`](crate::Client::builder).
    App,
    /// The API base URL ([`ClientBuilder::base_url`](crate::ClientBuilder::base_url) or `GIPITY_API_BASE`).
    BaseUrl,
    /// The return URL of the redirect flow ([`ClientBuilder::return_url`](crate::ClientBuilder::return_url),
    /// [`Challenge::redirect_url_to`](crate::Challenge::redirect_url_to)).
    ReturnUrl,
    /// The credentials ([`ClientBuilder::credentials`](crate::ClientBuilder::credentials)): a
    /// malformed key, token or device secret, or cookies given to a client that cannot hold them.
    Credentials,
    /// The HTTP client the builder makes.
    HttpClient,
    /// The process-wide ambient client ([`Client::install`](crate::Client::install)).
    AmbientClient,
    /// What the runtime needs from its surroundings (in the browser: a window that can navigate).
    Environment,
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::App => "app GUID",
            Self::BaseUrl => "base URL",
            Self::ReturnUrl => "return URL",
            Self::Credentials => "credentials",
            Self::HttpClient => "HTTP client",
            Self::AmbientClient => "ambient client",
            Self::Environment => "environment",
        })
    }
}

/// Which credential [`Error::CredentialUnavailable`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialKind {
    /// The app token from `POST /api/token`, sent as `X-App-Token`.
    AppToken,
    /// The app-player token from `POST /api/<app>/auth/guest`, sent as a bearer token.
    PlayerToken,
    /// No credential at all: the client is anonymous, and the function is not `public`.
    None,
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AppToken => "app token",
            Self::PlayerToken => "player token",
            Self::None => "credential (the client is anonymous)",
        })
    }
}

struct HttpDisplay<'a> {
    status: u16,
    code: Option<&'a str>,
    message: Option<&'a str>,
}

impl fmt::Display for HttpDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the gipity api answered status {}", self.status)?;
        if let Some(code) = self.code {
            write!(f, " ({code})")?;
        }
        if let Some(message) = self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

impl Error {
    /// Whether the same call may succeed if made again later: transport failures, timeouts,
    /// rate limits, 502/503/504, and credentials that could not be obtained for one of those
    /// reasons. The runtime never retries a call that may have executed; this tells the caller
    /// when doing so is reasonable (if the function is idempotent).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) | Self::Timeout(_) | Self::RateLimited { .. } => true,
            Self::Http { status, .. } | Self::Decode { status, .. } => {
                matches!(status, 502..=504)
            }
            Self::CredentialUnavailable {
                source: Some(source),
                ..
            } => source.is_retryable(),
            _ => false,
        }
    }

    /// The HTTP status, for errors that come from a response.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. }
            | Self::Decode { status, .. }
            | Self::BodyTooLarge { status, .. } => Some(*status),
            Self::Redirected { status } => *status,
            Self::InsufficientCredits { status, .. } => Some(*status),
            Self::LoginRequired(_) => Some(401),
            Self::ConsentRequired(_) => Some(403),
            Self::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// The platform's error code (`LOGIN_REQUIRED`, `FUNCTION_ERROR`, ...), when there is one.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Http { code, .. } | Self::InsufficientCredits { code, .. } => code.as_deref(),
            Self::LoginRequired(_) => Some("LOGIN_REQUIRED"),
            Self::ConsentRequired(_) => Some("CONSENT_REQUIRED"),
            Self::RateLimited { .. } => Some("RATE_LIMITED"),
            _ => None,
        }
    }

    /// The login or consent challenge, for [`Error::LoginRequired`] and [`Error::ConsentRequired`].
    #[must_use]
    pub fn challenge(&self) -> Option<&Challenge> {
        match self {
            Self::LoginRequired(challenge) | Self::ConsentRequired(challenge) => Some(challenge),
            _ => None,
        }
    }

    pub(crate) fn config(setting: Setting, message: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidConfig {
            setting,
            message: message.into(),
        }
    }
}

/// Why a request could not be sent or its response read, below HTTP: reqwest's error natively
/// (its URL removed), the browser's error name in the browser. `Display` is the underlying
/// error's, [`source`](std::error::Error::source) goes on to its cause, where there is one,
/// and [`get_ref`](Self::get_ref) gives the underlying error itself.
pub struct TransportError(Box<dyn std::error::Error + Send + Sync>);

impl TransportError {
    pub(crate) fn new(failure: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(failure))
    }

    /// The underlying error: natively a `reqwest::Error` (its URL removed), to downcast for
    /// `is_connect()` and the like.
    #[must_use]
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TransportError").field(&self.0).finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// What a service challenge adds to the error's message: who pays, and how to change it.
struct ServiceNote<'a>(&'a Challenge, ChallengeKind);

impl fmt::Display for ServiceNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(service) = self.0.service() else {
            return Ok(());
        };
        match self.1 {
            ChallengeKind::Login => write!(
                f,
                ": the app's `{service}` service is billed to its users (`user_pays`), so a \
                 Gipity user must sign in to pay for it; to bill the app's owner instead, \
                 declare `{service}: owner_pays` in the `services` phase of the app's gipity.yaml"
            ),
            ChallengeKind::Consent => write!(
                f,
                ": the app's `{service}` service is billed to its users (`user_pays`), and the \
                 user has not allowed this app to use AI on their behalf (IDENTITY | AI); \
                 `{service}: owner_pays` in gipity.yaml bills the app's owner instead"
            ),
        }
    }
}

/// `: <message>`, or nothing.
struct OptionalMessage<'a>(Option<&'a str>);

impl fmt::Display for OptionalMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(message) => write!(f, ": {message}"),
            None => Ok(()),
        }
    }
}

/// ` (status 307)`, or nothing.
struct RedirectStatus(Option<u16>);

impl fmt::Display for RedirectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(status) => write!(f, " (status {status})"),
            None => Ok(()),
        }
    }
}
