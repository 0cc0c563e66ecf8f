//! Users, permissions, auth levels, and the login/consent challenge with its handler.

use std::fmt;
use std::future::Future;
use std::ops::{BitOr, BitOrAssign};

use crate::Url;
use serde::{Deserialize, Serialize};

use crate::platform::{self, BoxFuture, CookieJar, MaybeSend, MaybeSendSync, SessionStore};

/// A Gipity user, as the API describes them (`camelCase` on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// The user's GUID.
    pub guid: String,
    /// The name to show.
    pub display_name: String,
    /// The avatar image, if the user has one.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// The user's account slug (the `<account>` in app URLs).
    #[serde(default)]
    pub account_slug: Option<String>,
}

/// The permissions an app asks of a user, as the `?permissions=N` bit set.
///
/// ```
/// use gipity_runtime::Permissions;
/// let p = Permissions::IDENTITY | Permissions::AI;
/// assert_eq!(p.bits(), 5);
/// assert!(p.contains(Permissions::AI));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u32);

impl Permissions {
    /// Who the user is (the default).
    pub const IDENTITY: Self = Self(1);
    /// Use of AI on the user's behalf.
    pub const AI: Self = Self(4);
    /// The user's account.
    pub const ACCOUNT: Self = Self(128);

    /// From raw bits; bits the docs do not name are kept as they are.
    #[must_use]
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// The raw bits.
    #[must_use]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set in `self`.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Permissions {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for Permissions {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        let mut rest = self.0;
        for (flag, name) in [
            (Self::IDENTITY, "IDENTITY"),
            (Self::AI, "AI"),
            (Self::ACCOUNT, "ACCOUNT"),
        ] {
            if self.contains(flag) {
                names.push(name);
                rest &= !flag.0;
            }
        }
        write!(f, "Permissions({}", names.join(" | "))?;
        if rest != 0 {
            if !names.is_empty() {
                f.write_str(" | ")?;
            }
            write!(f, "{rest:#x}")?;
        }
        f.write_str(")")
    }
}

/// Who may call a function, as declared in the project's `gipity.yaml` (`auth:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Auth {
    /// Anyone, signed in or not. The client attaches its credential when it has one, and sends
    /// the call without it when it cannot get one.
    Public,
    /// A signed-in Gipity user (or an app player, API key or account token). The call fails
    /// closed if the client cannot obtain its credential.
    User,
    /// A member of the project. Fails closed like [`Auth::User`].
    Member,
}

impl Auth {
    /// The name used in `gipity.yaml` and in the `auth = ".."` macro argument.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::User => "user",
            Self::Member => "member",
        }
    }
}

impl fmt::Display for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `GET /api/<app>/auth/status` says about the current user.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthStatus {
    /// Nobody is signed in; `login` says where to send them.
    SignedOut {
        /// The login challenge.
        login: Challenge,
    },
    /// Signed in, but the app lacks some of the permissions asked for.
    NeedsConsent {
        /// Who is signed in, when the API says (it documents `null` until the user consents).
        user: Option<User>,
        /// The consent challenge.
        consent: Challenge,
    },
    /// Signed in, with the permissions asked for.
    SignedIn {
        /// Who is signed in.
        user: User,
    },
}

/// Whether a [`Challenge`] asks for a sign-in or for consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChallengeKind {
    /// `LOGIN_REQUIRED`: the user must sign in.
    Login,
    /// `CONSENT_REQUIRED`: the user must grant the app permissions.
    Consent,
}

/// What an [`AuthHandler`] reports after trying to resolve a [`Challenge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthOutcome {
    /// The user signed in or granted consent: the call is retried once.
    Completed,
    /// The user refused.
    Denied,
    /// The user gave up (closed the window) without answering.
    Cancelled,
    /// The interaction could not start (a browser blocked the popup). The app can resume it
    /// from a user gesture and call again.
    Blocked,
    /// No answer came in time.
    TimedOut,
    /// The handler does not resolve challenges of this kind; the error goes to the caller.
    NotHandled,
    /// The page is navigating to the login or consent page (the redirect flow); the call
    /// will not complete in this page.
    Redirected,
    /// The call was made from inside the client's own auth handler, while it resolves a
    /// challenge: the handler is not asked again (that would wait for itself forever).
    InHandler,
}

/// A login or consent step the user must take before a call can succeed.
///
/// It carries the URL the API gave (checked to be on the API's own origin; if it was not, the
/// runtime builds the documented `<api>/api/auth/login?app=..&permissions=..` URL instead), and
/// builds the popup and redirect variants of it.
#[derive(Clone)]
pub struct Challenge {
    pub(crate) kind: ChallengeKind,
    pub(crate) url: Url,
    pub(crate) return_url: Option<Url>,
    pub(crate) outcome: Option<AuthOutcome>,
    /// The client's session store, so that a native handler can keep the cookie of the
    /// sign-in it completes.
    pub(crate) session: Option<SessionStore>,
    /// The service whose call met the challenge (`llm`, `tts`, ...), if it was a service.
    pub(crate) service: Option<Box<str>>,
}

impl PartialEq for Challenge {
    /// Challenges are equal when they ask the same thing (kind, URLs, outcome), whichever
    /// client's cookie jar they carry.
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.url == other.url
            && self.return_url == other.return_url
            && self.outcome == other.outcome
    }
}

impl Eq for Challenge {}

impl fmt::Debug for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Challenge")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("return_url", &self.return_url)
            .field("outcome", &self.outcome)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Challenge {
    /// Login or consent.
    #[must_use]
    pub fn kind(&self) -> ChallengeKind {
        self.kind
    }

    /// The page to send the user to (`loginUrl` / `consentUrl`).
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL for the popup flow: [`url`](Self::url) with `mode=popup`. Open it in a window
    /// named `gipity_auth`; the page posts `{type: "gipity_auth", status}` to its opener.
    #[must_use]
    pub fn popup_url(&self) -> Url {
        with_param(&self.url, "mode", "popup")
    }

    /// The URL for the redirect flow: [`url`](Self::url) with `return=<the client's return URL>`,
    /// or `None` if the client has no return URL (see
    /// [`ClientBuilder::return_url`](crate::ClientBuilder::return_url)).
    #[must_use]
    pub fn redirect_url(&self) -> Option<Url> {
        let return_url = self.return_url.as_ref()?;
        Some(with_param(&self.url, "return", return_url.as_str()))
    }

    /// What the auth handler reported, when the client has one and it ran.
    #[must_use]
    pub fn outcome(&self) -> Option<AuthOutcome> {
        self.outcome
    }

    /// The app service whose call met this challenge (`llm`, `tts`, ...), or `None` for a
    /// function. A service challenges because the app bills it to its users (`user_pays`);
    /// the error's message says so, and how to bill the owner instead.
    #[must_use]
    pub fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// The cookie jar of the session client that met this challenge (native session clients
    /// only; `None` otherwise). A native handler that completes a sign-in stores the session
    /// cookie here, so that the retried call carries it:
    ///
    /// ```
    /// use gipity_runtime::{AuthOutcome, Challenge, Client};
    ///
    /// let client = Client::builder("p_abc123")
    ///     .on_auth_required(|challenge: Challenge| async move {
    ///         // ... sign the user in at `challenge.url()`, and receive their cookie ...
    ///         let Some(jar) = challenge.cookie_jar() else {
    ///             return AuthOutcome::NotHandled;
    ///         };
    ///         jar.add("gipity_session=...; Path=/", challenge.url());
    ///         AuthOutcome::Completed
    ///     })
    ///     .build()?;
    /// # Ok::<(), gipity_runtime::Error>(())
    /// ```
    #[must_use]
    pub fn cookie_jar(&self) -> Option<&CookieJar> {
        self.session.as_ref().and_then(platform::cookie_jar)
    }
}

/// Resolves login and consent challenges for a [`Client`](crate::Client), so that a call that
/// met `LOGIN_REQUIRED` or `CONSENT_REQUIRED` can be retried once.
///
/// Implemented for closures `Fn(Challenge) -> impl Future<Output = AuthOutcome>`. Concurrent
/// calls that meet a challenge share one interaction: the handler runs once, and every waiting
/// call gets its outcome.
///
/// ```
/// use gipity_runtime::{AuthOutcome, Challenge, Client};
///
/// let client = Client::builder("p_abc123")
///     .on_auth_required(|challenge: Challenge| async move {
///         eprintln!("sign in at {}", challenge.url());
///         AuthOutcome::NotHandled
///     })
///     .build()?;
/// # Ok::<(), gipity_runtime::Error>(())
/// ```
pub trait AuthHandler: MaybeSendSync + 'static {
    /// Tries to resolve `challenge`, typically by showing `challenge.url()` to the user.
    fn authenticate(&self, challenge: Challenge) -> BoxFuture<'static, AuthOutcome>;
}

impl<F, Fut> AuthHandler for F
where
    F: Fn(Challenge) -> Fut + MaybeSendSync + 'static,
    Fut: Future<Output = AuthOutcome> + MaybeSend + 'static,
{
    fn authenticate(&self, challenge: Challenge) -> BoxFuture<'static, AuthOutcome> {
        Box::pin(self(challenge))
    }
}

/// `url` with `name=value`, replacing any `name` it had (a server's URL that already carries
/// `mode=` or `return=` must not end up with two, of which a page may read the first). The
/// other parameters are kept exactly as the server wrote them.
pub(crate) fn with_param(url: &Url, name: &str, value: &str) -> Url {
    let mut query = String::with_capacity(url.query().map_or(0, str::len) + name.len() + 16);
    for pair in url.query().unwrap_or("").split('&') {
        if pair.is_empty() || crate::form::key_is(pair, name) {
            continue;
        }
        query.push_str(pair);
        query.push('&');
    }
    crate::form::append_pair(&mut query, name, value);
    let mut url = url.clone();
    url.set_query(Some(&query));
    url
}
