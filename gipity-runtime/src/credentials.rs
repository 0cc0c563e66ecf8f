//! What a client presents to the API, and how it holds it: the public [`Credentials`] policy,
//! the credential resolved from it by the builder, the tokens, and their acquisition (the app
//! token mint, the app player's sign-in, invalidation of a rejected token).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::Url;
use http::header::{HeaderName, HeaderValue};
use serde::Serialize;

use crate::auth::Auth;
use crate::error::{CredentialKind, Error, Result, Setting};
use crate::flight::{Flight, Outcome};
use crate::platform::{self, CookieJar, SessionStore};
use crate::secret::{self, Secret};
use crate::transport::{Deadline, Request, Transport};
use crate::validate;
use crate::wire::{self, Reply};

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
pub struct Credentials {
    kind: Kind,
    /// Cookies given with [`Credentials::with_cookies`] to a credential that is not a session:
    /// `build()` refuses them rather than drop them silently.
    stray_cookies: bool,
}

#[derive(Clone)]
enum Kind {
    Session {
        store: SessionStore,
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
        Self::of(Kind::Session {
            store: SessionStore::default(),
            seed: None,
        })
    }

    /// Like [`session`](Self::session), with a cookie jar you hold too (to share one session
    /// between clients). A client's jar is also reachable afterwards, from
    /// [`Client::cookie_jar`](crate::Client::cookie_jar) and, in an auth handler, from
    /// [`Challenge::cookie_jar`](crate::Challenge::cookie_jar). Native targets only: in the
    /// browser [`CookieJar`] has no values.
    #[must_use]
    pub fn session_with_jar(jar: CookieJar) -> Self {
        Self::of(Kind::Session {
            store: platform::session_store(jar),
            seed: None,
        })
    }

    /// Seeds the session cookie jar from a `Cookie` header value (`"name=value; other=value"`),
    /// for tools and tests that already hold a session. The cookies are scoped to the API host.
    ///
    /// Only a session holds cookies, and only natively: on any other credential, or in the
    /// browser (where the session cookie belongs to the browser),
    /// [`build`](crate::ClientBuilder::build) fails with [`Error::InvalidConfig`] for
    /// [`Setting::Credentials`] rather than drop the cookies.
    #[must_use]
    pub fn with_cookies(self, cookie_header: impl Into<String>) -> Self {
        match self.kind {
            Kind::Session { store, .. } => Self::of(Kind::Session {
                store,
                seed: Some(Secret::new(cookie_header.into())),
            }),
            kind => Self {
                kind,
                stray_cookies: true,
            },
        }
    }

    /// An app player (native games and tools): the client signs in with
    /// `POST /api/<app>/auth/guest` and sends the player token as `Authorization: Bearer`.
    /// The same device secret (32 to 256 characters) always signs in the same player; keep it
    /// stable and private per device. On a 401 the client signs in again, once.
    #[must_use]
    pub fn player(device_secret: impl Into<String>) -> Self {
        Self::of(Kind::Player {
            device_secret: Secret::new(device_secret.into()),
            display_name: None,
        })
    }

    /// Like [`player`](Self::player), with the name the player is shown under.
    #[must_use]
    pub fn player_named(device_secret: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self::of(Kind::Player {
            device_secret: Secret::new(device_secret.into()),
            display_name: Some(display_name.into()),
        })
    }

    /// A project API key, sent as `X-Api-Key` (scripts, servers, agents).
    #[must_use]
    pub fn api_key(key: impl Into<String>) -> Self {
        Self::of(Kind::ApiKey(Secret::new(key.into())))
    }

    /// An account token (`gip_at_...`) or a service token, sent as `Authorization: Bearer`.
    #[must_use]
    pub fn bearer(token: impl Into<String>) -> Self {
        Self::of(Kind::Bearer(Secret::new(token.into())))
    }

    /// Nothing at all: `public` functions only. Calls to other functions fail before sending.
    #[must_use]
    pub fn anonymous() -> Self {
        Self::of(Kind::Anonymous)
    }

    fn of(kind: Kind) -> Self {
        Self {
            kind,
            stray_cookies: false,
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self.kind {
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
        match self.kind {
            Kind::Anonymous => f.write_str("Credentials::Anonymous"),
            _ => write!(f, "Credentials::{}([redacted])", self.name()),
        }
    }
}

/// The longest a minted token is trusted, whatever `expiresIn` says.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// How long a token whose refresh failed is used before the refresh is tried again (at most
/// until it expires).
const RETRY_REFRESH: Duration = Duration::from_secs(5);

/// A minted token, when to refresh it, and when it expires.
#[derive(Clone)]
pub(crate) struct Token {
    headers: secret::Headers,
    refresh_at: web_time::Instant,
    expires_at: web_time::Instant,
}

impl Token {
    /// Refreshes a quarter of the lifetime early, and at most 60 s early (as Gipity's own
    /// sign-in code does), so that a call never leaves with a token about to expire. A
    /// lifetime beyond [`MAX_TOKEN_LIFETIME`] (a broken or hostile server) is capped.
    fn new(value: String, expires_in: u64) -> Self {
        let lifetime = Duration::from_secs(expires_in).min(MAX_TOKEN_LIFETIME);
        let margin = (lifetime / 4).min(Duration::from_secs(60));
        let now = web_time::Instant::now();
        Self {
            headers: secret::Headers::of(&Secret::new(value)),
            refresh_at: now.checked_add(lifetime - margin).unwrap_or(now),
            expires_at: now.checked_add(lifetime).unwrap_or(now),
        }
    }

    /// Not yet due for refresh.
    pub(crate) fn fresh(&self) -> bool {
        web_time::Instant::now() < self.refresh_at
    }

    /// Not yet expired (it may be due for refresh).
    fn valid(&self) -> bool {
        web_time::Instant::now() < self.expires_at
    }

    /// How long until it expires.
    fn left(&self) -> Duration {
        self.expires_at
            .saturating_duration_since(web_time::Instant::now())
    }

    /// This token, to be refreshed again after [`RETRY_REFRESH`] (or when it expires).
    fn retry_later(mut self) -> Self {
        let now = web_time::Instant::now();
        self.refresh_at = now
            .checked_add(RETRY_REFRESH)
            .map_or(self.expires_at, |retry| retry.min(self.expires_at));
        self
    }

    /// The token of a mint or sign-in reply, `{"data": {"token", "expiresIn"}}`; `kind`
    /// names it in the error when it is not a usable header value.
    pub(crate) fn from_reply(reply: &Reply, kind: &'static str) -> Result<Self> {
        let (token, expires_in) = wire::token(reply)?;
        validate::credential(kind, &token).map_err(|e| Error::InvalidRequest(e.0))?;
        Ok(Self::new(token, expires_in))
    }
}

/// A token is usable if it is fresh, or if its mint finished while the caller waited for it
/// (a very short TTL must not turn every waiter into a minter).
fn usable(token: &Token, newer: bool) -> bool {
    newer || token.fresh()
}

/// How long the call that refreshes a token due for refresh, but still valid, waits for the new
/// one before it uses the current one once more (and at most half of its own time, and half of
/// what the current token has left).
const REFRESH_PATIENCE: Duration = Duration::from_secs(5);

/// The header of the token cached in `flight` while it is fresh; else of one obtained
/// (single-flight) by `work`, within the call's `deadline`, with the generation of its run.
///
/// A token due for refresh but still valid serves the calls that arrive while another call
/// refreshes it: they do not wait.
async fn obtain<W, Fut>(
    flight: &Flight<Token>,
    deadline: &Deadline,
    header: fn(&Token) -> &Option<HeaderValue>,
    work: W,
) -> Result<(Option<HeaderValue>, u64), Arc<Error>>
where
    W: FnOnce() -> Fut,
    Fut: Future<Output = Result<Token>>,
{
    let seen = match flight.current(Token::fresh, |token| header(token).clone()) {
        Ok(found) => return Ok(found),
        Err(seen) => seen,
    };
    if flight.busy()
        && let Ok(found) = flight.current(Token::valid, |token| header(token).clone())
    {
        return Ok(found);
    }
    // Boxed: obtaining is a whole request, and every call's future would otherwise carry room
    // for it.
    let run = flight.run(seen, usable, Some(deadline), || {
        renewed(flight, deadline, work())
    });
    let (result, generation) = Box::pin(run).await;
    result.map(|token| (header(&token).clone(), generation))
}

/// The token `obtain` gets within `deadline`; or, while the token cached in `flight` (due for
/// refresh) is still valid and the new one fails or is slow, the cached one for a little
/// longer: a failed or slow early refresh must not fail calls that the current token can
/// still make. It keeps its generation, so a 401 on it still invalidates it; and a token
/// invalidated meanwhile is never the fallback (this runs under the flight's gate, and reads
/// the cache after every earlier run). Without a valid token the failure stands, for every
/// caller waiting; a refresh cut short by this caller's own deadline is this caller's alone.
async fn renewed(
    flight: &Flight<Token>,
    deadline: &Deadline,
    obtain: impl Future<Output = Result<Token>>,
) -> Outcome<Token> {
    let mut obtain = std::pin::pin!(obtain);
    if let Ok((stale, generation)) = flight.current(Token::valid, Token::clone) {
        let patience = deadline
            .remaining()
            .map_or(Duration::ZERO, |left| left / 2)
            .min(REFRESH_PATIENCE)
            .min(stale.left() / 2);
        let fallback = || {
            flight
                .keep(generation, |token| token.clone().retry_later())
                .inspect(|_| {
                    tracing::debug!(
                        "refreshing a token failed or is slow; the current one serves until it expires"
                    );
                })
        };
        match platform::timeout(patience, obtain.as_mut()).await {
            Some(Ok(token)) => return Outcome::Stored(Ok(token)),
            Some(Err(error)) => {
                return match fallback() {
                    Some(kept) => Outcome::Own(Ok(kept)),
                    None => Outcome::Stored(Err(error)),
                };
            }
            None => {
                if let Some(kept) = fallback() {
                    return Outcome::Own(Ok(kept));
                }
                // The current token was rejected meanwhile: wait for the new one after all.
            }
        }
    }
    match deadline.bound(async { Ok(obtain.await) }).await {
        Ok(result) => Outcome::Stored(result),
        Err(timeout) => Outcome::Own(Err(timeout)),
    }
}

/// Which credential a request wants.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attach {
    /// A function call: the client's credential (the auth level decides fail-closed or not).
    Function(Option<Auth>),
    /// The app token (auth status).
    AppToken,
    /// An app service: the app token, always (fail closed), and the client's own credential
    /// beside it (an API key, a bearer or player token), which says who pays.
    Service,
    /// No credential header; cookies only (`/auth/me`, minting, guest sign-in).
    CookiesOnly,
}

/// What goes on one request: the credential's ready-made (sensitive) header value, `None` if
/// the credential cannot be a header value, and for tokens the generation of the run that
/// obtained it.
pub(crate) enum Attached {
    AppToken(Option<HeaderValue>, u64),
    /// The app token, and the client's credential beside it (never another `Service`).
    Service(Option<HeaderValue>, u64, Box<Attached>),
    Player(Option<HeaderValue>, u64),
    ApiKey(Option<HeaderValue>),
    Bearer(Option<HeaderValue>),
    Nothing,
}

const X_APP_TOKEN: HeaderName = HeaderName::from_static(gipity_shared::header::APP_TOKEN);
const X_API_KEY: HeaderName = HeaderName::from_static(gipity_shared::header::API_KEY);

impl Attached {
    /// The credential's headers: one, or two for a service.
    pub(crate) fn headers(&self) -> [Option<(HeaderName, &HeaderValue)>; 2] {
        match self {
            Self::Service(value, _, beside) => [
                value.as_ref().map(|value| (X_APP_TOKEN, value)),
                beside.header(),
            ],
            other => [other.header(), None],
        }
    }

    /// The credential's header, if it has one.
    fn header(&self) -> Option<(HeaderName, &HeaderValue)> {
        let (name, value) = match self {
            Self::AppToken(value, _) => (X_APP_TOKEN, value),
            Self::Service(..) => return None,
            Self::Player(value, _) | Self::Bearer(value) => (http::header::AUTHORIZATION, value),
            Self::ApiKey(value) => (X_API_KEY, value),
            Self::Nothing => return None,
        };
        value.as_ref().map(|value| (name, value))
    }
}

/// The credential a built client holds, resolved from its [`Credentials`].
enum Held {
    Session,
    Player {
        device_secret: Secret,
        display_name: Option<String>,
        token: Flight<Token>,
    },
    ApiKey(secret::Headers),
    Bearer(secret::Headers),
    Anonymous,
}

/// A client's identity: the credential it holds, its app token, and how to obtain both.
pub(crate) struct Identity {
    app: String,
    token_url: Url,
    guest_url: Url,
    /// The timeout of a mint or sign-in request.
    timeout: Duration,
    held: Held,
    app_token: Flight<Token>,
}

/// Where the identity gets its tokens.
pub(crate) struct Endpoints {
    pub(crate) app: String,
    /// `POST /api/token`.
    pub(crate) token_url: Url,
    /// `POST /api/<app>/auth/guest`.
    pub(crate) guest_url: Url,
    pub(crate) timeout: Duration,
}

impl Identity {
    /// Checks `credentials` and resolves them; a session's store (its cookie jar natively) goes
    /// to the transport, seeded with the given cookies for `base`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a malformed key, token or device secret, and for cookies
    /// that no store can hold.
    pub(crate) fn resolve(
        credentials: Credentials,
        endpoints: Endpoints,
        base: &Url,
    ) -> Result<(Self, Option<SessionStore>)> {
        let config = |e: validate::Invalid| Error::config(Setting::Credentials, e.0);
        if credentials.stray_cookies {
            return Err(Error::config(
                Setting::Credentials,
                format!(
                    "cookies were given to {} credentials; only `Credentials::session()` holds cookies",
                    credentials.name()
                ),
            ));
        }
        let mut session = None;
        let held = match credentials.kind {
            Kind::Session { store, seed } => {
                if let Some(seed) = &seed {
                    platform::http::seed_session(&store, seed, base)?;
                }
                session = Some(store);
                Held::Session
            }
            Kind::Player {
                device_secret,
                display_name,
            } => {
                validate::device_secret(device_secret.expose()).map_err(config)?;
                Held::Player {
                    device_secret,
                    display_name,
                    token: Flight::new(),
                }
            }
            Kind::ApiKey(key) => {
                validate::credential("api key", key.expose()).map_err(config)?;
                Held::ApiKey(secret::Headers::of(&key))
            }
            Kind::Bearer(token) => {
                validate::credential("bearer token", token.expose()).map_err(config)?;
                Held::Bearer(secret::Headers::of(&token))
            }
            Kind::Anonymous => Held::Anonymous,
        };
        let identity = Self {
            app: endpoints.app,
            token_url: endpoints.token_url,
            guest_url: endpoints.guest_url,
            timeout: endpoints.timeout,
            held,
            app_token: Flight::new(),
        };
        Ok((identity, session))
    }

    /// The name of the credential kind, for `Debug`.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self.held {
            Held::Session => "Session",
            Held::Player { .. } => "Player",
            Held::ApiKey(_) => "ApiKey",
            Held::Bearer(_) => "Bearer",
            Held::Anonymous => "Anonymous",
        }
    }

    /// The credential to attach, obtaining (single-flight) the token it needs within
    /// `deadline`.
    pub(crate) async fn attach(
        &self,
        transport: &Transport,
        attach: Attach,
        deadline: &Deadline,
    ) -> Result<Attached> {
        let auth = match attach {
            Attach::CookiesOnly => return Ok(Attached::Nothing),
            Attach::AppToken => return self.app_token(transport, attach, deadline).await,
            Attach::Service => return self.service(transport, deadline).await,
            Attach::Function(auth) => auth,
        };
        match &self.held {
            Held::Session => self.app_token(transport, attach, deadline).await,
            Held::Player { .. } => match self.player_token(transport, deadline).await {
                Ok((token, generation)) => Ok(Attached::Player(token, generation)),
                Err(_) if auth == Some(Auth::Public) => Ok(Attached::Nothing),
                Err(source) => Err(Error::CredentialUnavailable {
                    credential: CredentialKind::PlayerToken,
                    source: Some(source),
                }),
            },
            Held::ApiKey(headers) => Ok(Attached::ApiKey(headers.plain.clone())),
            Held::Bearer(headers) => Ok(Attached::Bearer(headers.bearer.clone())),
            Held::Anonymous if matches!(auth, Some(Auth::User | Auth::Member)) => {
                Err(Error::CredentialUnavailable {
                    credential: CredentialKind::None,
                    source: None,
                })
            }
            Held::Anonymous => Ok(Attached::Nothing),
        }
    }

    /// The app token and, beside it, the client's own credential (for a player, signed in
    /// first; a session has only its cookie).
    async fn service(&self, transport: &Transport, deadline: &Deadline) -> Result<Attached> {
        let Attached::AppToken(token, generation) =
            self.app_token(transport, Attach::Service, deadline).await?
        else {
            return Err(Error::CredentialUnavailable {
                credential: CredentialKind::AppToken,
                source: None,
            });
        };
        let beside = match &self.held {
            Held::Session | Held::Anonymous => Attached::Nothing,
            Held::Player { .. } => match self.player_token(transport, deadline).await {
                Ok((player, player_generation)) => Attached::Player(player, player_generation),
                Err(source) => {
                    return Err(Error::CredentialUnavailable {
                        credential: CredentialKind::PlayerToken,
                        source: Some(source),
                    });
                }
            },
            Held::ApiKey(headers) => Attached::ApiKey(headers.plain.clone()),
            Held::Bearer(headers) => Attached::Bearer(headers.bearer.clone()),
        };
        Ok(Attached::Service(token, generation, Box::new(beside)))
    }

    async fn app_token(
        &self,
        transport: &Transport,
        attach: Attach,
        deadline: &Deadline,
    ) -> Result<Attached> {
        let result = obtain(
            &self.app_token,
            deadline,
            |token| &token.headers.plain,
            || self.mint(transport),
        )
        .await;
        match result {
            Ok((header, generation)) => Ok(Attached::AppToken(header, generation)),
            Err(_) if attach == Attach::Function(Some(Auth::Public)) => Ok(Attached::Nothing),
            Err(source) => Err(Error::CredentialUnavailable {
                credential: CredentialKind::AppToken,
                source: Some(source),
            }),
        }
    }

    async fn player_token(
        &self,
        transport: &Transport,
        deadline: &Deadline,
    ) -> Result<(Option<HeaderValue>, u64), Arc<Error>> {
        let Held::Player {
            device_secret,
            display_name,
            token,
        } = &self.held
        else {
            return Err(Arc::new(Error::InvalidRequest(Cow::Borrowed(
                "the client has no player credentials",
            ))));
        };
        obtain(
            token,
            deadline,
            |token| &token.headers.bearer,
            || self.sign_in_player(transport, device_secret, display_name.as_deref()),
        )
        .await
    }

    /// `POST /api/token {"app": <guid>}` -> `{"data": {"token", "expiresIn"}}`.
    async fn mint(&self, transport: &Transport) -> Result<Token> {
        tracing::debug!("minting an app token");
        #[derive(Serialize)]
        struct MintBody<'a> {
            app: &'a str,
        }
        let body = serde_json::to_vec(&MintBody { app: &self.app }).map_err(Error::Encode)?;
        let reply = self.post(transport, &self.token_url, body).await?;
        Token::from_reply(&reply, "app token")
    }

    /// `POST /api/<guid>/auth/guest {"deviceSecret", "displayName"?}` -> `{"data": {"token", "expiresIn", "user"}}`.
    async fn sign_in_player(
        &self,
        transport: &Transport,
        device_secret: &Secret,
        display_name: Option<&str>,
    ) -> Result<Token> {
        tracing::debug!("signing in the app player");
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct GuestBody<'a> {
            device_secret: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            display_name: Option<&'a str>,
        }
        let body = serde_json::to_vec(&GuestBody {
            device_secret: device_secret.expose(),
            display_name,
        })
        .map_err(Error::Encode)?;
        let reply = self.post(transport, &self.guest_url, body).await?;
        Token::from_reply(&reply, "player token")
    }

    /// A mint or sign-in request: no credential header, no recovery.
    async fn post(&self, transport: &Transport, url: &Url, body: Vec<u8>) -> Result<Reply> {
        let request = Request {
            method: http::Method::POST,
            url,
            body: Some(bytes::Bytes::from(body)),
            timeout: self.timeout,
            request_id: None,
            content_type: None,
            metered: false,
        };
        let reply = transport.send(&request, [None, None], None).await?;
        if reply.is_success() {
            Ok(reply)
        } else if reply.status == 429 {
            Err(Error::RateLimited {
                retry_after: reply.retry_after,
            })
        } else {
            let failure = wire::failure(&reply);
            Err(wire::error_from(&reply, failure))
        }
    }

    /// Drops the credential a server rejected. Returns whether a fresh one can be obtained.
    pub(crate) fn invalidate(&self, credential: &Attached) -> bool {
        match credential {
            Attached::AppToken(_, generation) => {
                self.app_token.invalidate(*generation);
                true
            }
            Attached::Player(_, generation) => {
                if let Held::Player { token, .. } = &self.held {
                    token.invalidate(*generation);
                }
                true
            }
            // The app token is what a service checks first; the credential beside it (a player
            // token, say) stays: signing a player in again for every service 401 costs a
            // sign-in the 401 may not have asked for.
            Attached::Service(_, generation, _) => {
                self.app_token.invalidate(*generation);
                true
            }
            Attached::ApiKey(_) | Attached::Bearer(_) | Attached::Nothing => false,
        }
    }

    /// Forgets the cached app token and player token.
    pub(crate) fn clear(&self) {
        self.app_token.clear();
        if let Held::Player { token, .. } = &self.held {
            token.clear();
        }
    }
}
