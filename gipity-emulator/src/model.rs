//! Public data types: users, auth levels, calls and what the emulator records.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Permission bits an app can ask a user for (`?permissions=N` is a bit set).
pub mod permissions {
    /// Who the user is: guid, display name, avatar, account slug. The default.
    pub const IDENTITY: u32 = 1;
    /// Use of the platform's AI features on the user's behalf.
    pub const AI: u32 = 4;
    /// Access to the user's account.
    pub const ACCOUNT: u32 = 128;
}

/// A Gipity user as the API shows it (`{"guid","displayName","avatarUrl","accountSlug"}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user's id, `u_...`.
    pub guid: String,
    /// The name shown to people.
    pub display_name: String,
    /// A picture of the user, if any (`null` on the wire when absent).
    pub avatar_url: Option<String>,
    /// The account part of the user's app URLs (`app.gipity.ai/<accountSlug>/...`).
    pub account_slug: String,
}

/// Who may call a function, as declared by `auth:` in the project's `gipity.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Auth {
    /// Anyone, including anonymous callers.
    Public,
    /// A signed-in user who granted the function's permissions, an app player,
    /// an account token or the project API key.
    User,
    /// As [`Auth::User`], and the user must be a member of the project (or the
    /// caller holds the project API key).
    Member,
}

/// Who pays for an app's use of a service, as `gipity.yaml`'s `services` phase declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Billing {
    /// The app's owner, from the owner's credits: anyone with an app token may call.
    OwnerPays,
    /// Each signed-in user, from their own credits (the platform's effective default): an
    /// anonymous caller gets 401 `LOGIN_REQUIRED`, a user who has not allowed the app AI use
    /// 403 `CONSENT_REQUIRED`, both asking for IDENTITY | AI. An API key bills the owner.
    #[default]
    UserPays,
}

impl Auth {
    pub(crate) fn from_manifest(auth: gipity_manifest::Auth) -> Self {
        match auth {
            gipity_manifest::Auth::Public => Self::Public,
            gipity_manifest::Auth::User => Self::User,
            gipity_manifest::Auth::Member => Self::Member,
        }
    }
}

impl Billing {
    pub(crate) fn from_manifest(billing: gipity_manifest::Billing) -> Self {
        match billing {
            gipity_manifest::Billing::OwnerPays => Self::OwnerPays,
            gipity_manifest::Billing::UserPays => Self::UserPays,
        }
    }
}

/// Which sign-in methods a project allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthMode {
    /// Gipity accounts only: app-player (guest) sign-in is refused with `GUEST_DISABLED`.
    Gipity,
    /// App players only.
    App,
    /// Both Gipity accounts and app players (the default).
    #[default]
    Both,
}

/// The kind of credential a function call was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    /// No credential at all (or a session cookie that names no live session).
    Anonymous,
    /// A browser user: `X-App-Token` (when given) plus the `gipity_session` cookie.
    Session,
    /// An app player: `Authorization: Bearer <player token>` from `/auth/guest`.
    Player,
    /// The project API key in `X-Api-Key`; acts as a member with every permission.
    ApiKey,
    /// An account token (`gip_at_...`) in `Authorization: Bearer`.
    Account,
}

/// One execution of a registered function: what the closure receives.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The app (project GUID) the function belongs to.
    pub app: String,
    /// The JSON request body (`{}` when the request had no body).
    pub body: Value,
    /// The calling user, when the credential names one.
    pub user: Option<User>,
    /// The kind of credential presented.
    pub caller: Caller,
    /// The call's `X-Request-Id`, which Gipity forwards to functions (`ctx.headers`): the same
    /// on every send of one client call.
    pub request_id: Option<String>,
    /// The HTTP method, upper case (`ctx.method`).
    pub method: String,
    /// The query string's parameters (`ctx.query`).
    pub query: BTreeMap<String, String>,
    /// The headers the platform forwards to functions (`ctx.headers`), lower-case names: of
    /// `content-type`, `accept`, `user-agent`, `x-request-id`, `origin`, `referer`,
    /// `x-forwarded-for` and `x-real-ip`, those the request had.
    pub headers: Vec<(String, String)>,
}

/// The headers the platform forwards to a function.
pub const FORWARDED_HEADERS: [&str; 8] = [
    "content-type",
    "accept",
    "user-agent",
    "x-request-id",
    "origin",
    "referer",
    "x-forwarded-for",
    "x-real-ip",
];

/// A line a project function printed (`console.log`, `services.console.warn`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ConsoleLine {
    /// `log`, `info`, `warn`, `error`, `debug`, or `stdout`.
    pub level: String,
    /// The line, formatted as Node.js formats it.
    pub message: String,
}

/// The error a function closure returns: "the function threw".
///
/// The emulator answers `500 {"error":{"code":"FUNCTION_ERROR","message":<the message>}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FnError(pub String);

impl FnError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// `500 FUNCTION_ERROR` with the message.
    pub(crate) fn into_api(self) -> crate::http::ApiError {
        crate::http::ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "FUNCTION_ERROR",
            self.0,
        )
    }
}

impl fmt::Display for FnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FnError {}

impl From<&str> for FnError {
    fn from(message: &str) -> Self {
        Self(message.to_owned())
    }
}

impl From<String> for FnError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

/// Totals over the emulator's lifetime, from [`Emulator::counters`](crate::Emulator::counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Counters {
    /// App tokens minted by `POST /api/token` (faulted mints, except delays, do not count).
    pub token_mints: u64,
    /// Successful app-player sign-ins (`POST /api/<guid>/auth/guest`).
    pub guest_sign_ins: u64,
    /// Every HTTP request the server received, preflights included, except
    /// those to the test controls under `/__emulator/`.
    pub http_requests: u64,
    /// Bytes of the streamed fault bodies ([`Fault::LargeBody`],
    /// [`Fault::StreamedBody`], [`Fault::EndlessBody`], [`Fault::Truncated`],
    /// [`Fault::ResetConnection`])
    /// handed to the connection: a client that stops reading early stops them.
    ///
    /// [`Fault::LargeBody`]: crate::Fault::LargeBody
    /// [`Fault::StreamedBody`]: crate::Fault::StreamedBody
    /// [`Fault::EndlessBody`]: crate::Fault::EndlessBody
    /// [`Fault::Truncated`]: crate::Fault::Truncated
    /// [`Fault::ResetConnection`]: crate::Fault::ResetConnection
    pub body_bytes_sent: u64,
    /// LLM requests answered (`POST /api/<app>/services/llm`), streamed or not.
    pub llm_requests: u64,
    /// Streamed LLM answers whose client went away before the end.
    pub streams_aborted: u64,
    /// Credits charged by services, to owners and users.
    pub credits_charged: u64,
}

/// One request as the server received it, from [`Emulator::requests`](crate::Emulator::requests).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestRecord {
    /// The method, upper case (`GET`, `POST`, `OPTIONS`).
    pub method: String,
    /// The path with its query string, as sent (still percent-encoded).
    pub path: String,
    /// Every header in arrival order: lower-case name, value (invalid UTF-8 replaced).
    pub headers: Vec<(String, String)>,
}

impl RequestRecord {
    /// The first value of header `name` (matched case-insensitively), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The name [`AutoDecision::Approve`] signs in with when it names nobody and
/// nobody is signed in.
pub const AUTO_USER: &str = "Browser User";

/// What the login and consent pages do by themselves once
/// [`Emulator::set_auto_decision`](crate::Emulator::set_auto_decision) (or the
/// `POST /__emulator/auto` control) sets it, as if a person clicked.
///
/// The `auto=approve|deny|close` query parameter of a page wins over it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AutoDecision {
    /// Signs in and grants the requested permissions (the response sets the
    /// session cookie). The popup posts `status: "success"` to its opener.
    Approve {
        /// The display name to sign in as (an unknown name creates the user).
        /// `None`: the signed-in user, else [`AUTO_USER`].
        user: Option<String>,
    },
    /// Refuses; the popup posts `status: "denied"` to its opener.
    Deny,
    /// Closes without an answer: the popup calls `window.close()` without
    /// posting any message; other modes show a page saying it was closed.
    Close,
}

/// Why a test control could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The text is not a URL.
    InvalidUrl(String),
    /// The URL is not a login or consent URL of this emulator.
    ForeignUrl(String),
    /// The URL has no `app` parameter.
    MissingApp,
    /// The `permissions` parameter is not a number.
    InvalidPermissions(String),
    /// The app named by the URL is not registered.
    UnknownApp(String),
}

impl fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(url) => write!(f, "`{url}` is not a URL"),
            Self::ForeignUrl(url) => {
                write!(f, "`{url}` is not a login or consent URL of this emulator")
            }
            Self::MissingApp => f.write_str("the URL has no `app` parameter"),
            Self::InvalidPermissions(value) => {
                write!(f, "`permissions={value}` is not a permission bit set")
            }
            Self::UnknownApp(app) => write!(f, "app `{app}` is not registered"),
        }
    }
}

impl std::error::Error for EmulatorError {}
