//! What a client presents to the API, and how it holds it.

use std::fmt;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::Arc;

use crate::secret::Secret;

/// The credential policy of a [`Client`](crate::Client). One client holds one policy.
///
/// Every value is redacted in `Debug` and never logged:
///
/// ```
/// use gipity_runtime::Credentials;
/// let creds = Credentials::api_key("gip_pk_0123456789abcdef");
/// assert_eq!(format!("{creds:?}"), "Credentials::ApiKey([redacted])");
/// ```
#[derive(Clone)]
pub struct Credentials(pub(crate) Kind);

#[derive(Clone)]
pub(crate) enum Kind {
    Session {
        #[cfg(not(target_arch = "wasm32"))]
        jar: CookieJar,
        seed: Option<Secret>,
    },
    Player {
        device_secret: Secret,
        display_name: Option<String>,
    },
    ApiKey(Secret),
    Bearer(Secret),
    Anonymous,
}

impl Credentials {
    /// A browser user ("Sign in with Gipity"): a minted app token as `X-App-Token`, plus the
    /// user's `.gipity.ai` session cookie. In the browser every request is sent with
    /// `credentials: include`; natively the client keeps a cookie jar scoped to the API host.
    #[must_use]
    pub fn session() -> Self {
        Self(Kind::Session {
            #[cfg(not(target_arch = "wasm32"))]
            jar: CookieJar::new(),
            seed: None,
        })
    }

    /// Like [`session`](Self::session), with a cookie jar you hold too (to store the session
    /// cookie of a sign-in your app performs, or to share one session between clients).
    #[cfg(not(target_arch = "wasm32"))]
    #[must_use]
    pub fn session_with_jar(jar: CookieJar) -> Self {
        Self(Kind::Session { jar, seed: None })
    }

    /// Seeds the session cookie jar from a `Cookie` header value (`"name=value; other=value"`),
    /// for tools and tests that already hold a session. The cookies are scoped to the API host.
    /// Has no effect on other credential kinds, nor in the browser, where cookies belong to it.
    #[must_use]
    pub fn with_cookies(self, cookie_header: impl Into<String>) -> Self {
        match self.0 {
            Kind::Session {
                #[cfg(not(target_arch = "wasm32"))]
                jar,
                ..
            } => Self(Kind::Session {
                #[cfg(not(target_arch = "wasm32"))]
                jar,
                seed: Some(Secret::new(cookie_header.into())),
            }),
            other => Self(other),
        }
    }

    /// An app player (native games and tools): the client signs in with
    /// `POST /api/<app>/auth/guest` and sends the player token as `Authorization: Bearer`.
    /// The same device secret (32 to 256 characters) always signs in the same player; keep it
    /// stable and private per device. On a 401 the client signs in again, once.
    #[must_use]
    pub fn player(device_secret: impl Into<String>) -> Self {
        Self(Kind::Player {
            device_secret: Secret::new(device_secret.into()),
            display_name: None,
        })
    }

    /// Like [`player`](Self::player), with the name the player is shown under.
    #[must_use]
    pub fn player_named(device_secret: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self(Kind::Player {
            device_secret: Secret::new(device_secret.into()),
            display_name: Some(display_name.into()),
        })
    }

    /// A project API key, sent as `X-Api-Key` (scripts, servers, agents).
    #[must_use]
    pub fn api_key(key: impl Into<String>) -> Self {
        Self(Kind::ApiKey(Secret::new(key.into())))
    }

    /// An account token (`gip_at_...`) or a service token, sent as `Authorization: Bearer`.
    #[must_use]
    pub fn bearer(token: impl Into<String>) -> Self {
        Self(Kind::Bearer(Secret::new(token.into())))
    }

    /// Nothing at all: `public` functions only. Calls to other functions fail before sending.
    #[must_use]
    pub fn anonymous() -> Self {
        Self(Kind::Anonymous)
    }

    pub(crate) fn name(&self) -> &'static str {
        match self.0 {
            Kind::Session { .. } => "Session",
            Kind::Player { .. } => "Player",
            Kind::ApiKey(_) => "ApiKey",
            Kind::Bearer(_) => "Bearer",
            Kind::Anonymous => "Anonymous",
        }
    }
}

impl Default for Credentials {
    /// [`Credentials::session`].
    fn default() -> Self {
        Self::session()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Kind::Anonymous => f.write_str("Credentials::Anonymous"),
            _ => write!(f, "Credentials::{}([redacted])", self.name()),
        }
    }
}

/// A cookie jar for native session clients, scoped by the usual cookie rules (domain, path,
/// expiry) and only ever consulted for requests to the client's API base.
///
/// Cloning shares the jar. `Debug` never shows a cookie.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone, Default)]
pub struct CookieJar(pub(crate) Arc<reqwest::cookie::Jar>);

#[cfg(not(target_arch = "wasm32"))]
impl CookieJar {
    /// An empty jar.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a cookie as if `url` had answered with `Set-Cookie: <set_cookie>`.
    pub fn add(&self, set_cookie: &str, url: &url::Url) {
        self.0.add_cookie_str(set_cookie, url);
    }

    /// Whether the jar would send any cookie to `url`.
    #[must_use]
    pub fn has_cookies_for(&self, url: &url::Url) -> bool {
        use reqwest::cookie::CookieStore as _;
        self.0.cookies(url).is_some()
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CookieJar([redacted])")
    }
}
