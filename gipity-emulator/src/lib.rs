//! A local, real-HTTP stand-in for the Gipity app API (`https://a.gipity.ai`).
//!
//! The emulator serves the endpoints, envelopes and error codes of the platform
//! on `127.0.0.1`, so the runtime's tests and examples run against real HTTP
//! without the network:
//!
//! | endpoint | what it does |
//! |---|---|
//! | `POST /api/token` | mints an app token: `{"data":{"token","expiresIn"}}` |
//! | `GET /api/<app>/auth/status?permissions=N` | `{"authenticated","consented","user","loginUrl"?,"consentUrl"?}` |
//! | `GET /api/auth/me` | `{"user": User or null}` from the session cookie |
//! | `POST /api/<app>/fn/<name>` | runs a registered closure, or a [project](EmulatorBuilder::project)'s JavaScript function under Node.js: `{"data": <value>}` |
//! | `POST /api/<app>/auth/guest` | app-player sign-in: `{"data":{"token","expiresIn","user"}}` |
//! | `POST /api/<app>/services/llm` | a fake model (the last user message or the prompt, reversed): a `chat.completion`, or with `"stream": true` server-sent events ending `data: [DONE]` |
//! | `GET /api/<app>/services/llm/models`, `tts/voices`, `music/models`, `image/models` | lists, in `data` |
//! | `POST /api/<app>/services/{tts,image,sound,music,video,transcribe,location/ip,location/geocode}` | their documented shapes; media URLs under `/__media/` |
//! | `GET/POST /api/auth/login`, `/api/auth/consent` | login and consent pages |
//! | `POST /api/auth/logout` | ends the session of the cookie and clears the cookie |
//! | `/__emulator/...` | test controls over HTTP, when [`EmulatorBuilder::test_controls`] is on |
//!
//! Services need an app token; who pays follows the app's [`Billing`] for the service
//! ([`App::set_billing`], `user_pays` by default): anonymous callers get `LOGIN_REQUIRED`,
//! signed-in users without AI permission `CONSENT_REQUIRED` (both for IDENTITY | AI), and a
//! payer short of credits ([`Emulator::set_credits`], [`App::set_owner_credits`]; 1,000 to
//! start) 402 `INSUFFICIENT_CREDITS`. Service answers carry `RateLimit-*` headers of one
//! window shared by every service ([`Emulator::set_service_rate_limit`]; 600 a minute), and a
//! request over it is a 429 `RATE_LIMITED` with `Retry-After`. `transcribe` takes a
//! `multipart/form-data` upload and "hears" text: audio whose bytes are UTF-8 is transcribed
//! as that text.
//!
//! Errors use the platform envelope `{"error":{"code","message"}}`;
//! `LOGIN_REQUIRED` carries `error.loginUrl` and `CONSENT_REQUIRED` carries
//! `error.consentUrl`. Pages on `http://127.0.0.1:<port>` and
//! `http://localhost:<port>` get CORS with credentials.
//!
//! Tests drive it through an [`Emulator`] handle: register apps and functions,
//! create and sign in users, control token lifetimes, inject [`Fault`]s and read
//! counters.
//!
//! # Test controls over HTTP
//!
//! Tests that cannot hold an [`Emulator`] (a wasm test in a browser, a
//! WebDriver test driving the binary) get the same controls over HTTP when
//! [`EmulatorBuilder::test_controls`] (the binary's `--test-controls`) is on.
//! They take and answer JSON, get CORS like the API, and are neither recorded
//! in [`Emulator::requests`] nor counted in [`Counters::http_requests`]. When
//! the controls are off, every `/__emulator/` path answers `404 NOT_FOUND`.
//!
//! | control | body or query | does |
//! |---|---|---|
//! | `POST /__emulator/reset` | | [`Emulator::reset`] |
//! | `POST /__emulator/expire-tokens` | | [`Emulator::expire_tokens`] |
//! | `POST /__emulator/expire-player-tokens` | | [`Emulator::expire_player_tokens`] |
//! | `POST /__emulator/token-ttl` | `{"seconds": N}` | [`Emulator::set_token_ttl`] |
//! | `POST /__emulator/billing` | `{"app", "service", "mode": "owner_pays"\|"user_pays"}` | [`App::set_billing`] |
//! | `POST /__emulator/credits` | `{"app", "credits": N}` (its owner's) or `{"user": "<guid>", "credits": N}` | [`App::set_owner_credits`], [`Emulator::set_credits`] |
//! | `POST /__emulator/rate-limit` | `{"limit": N, "windowSeconds": N}` | [`Emulator::set_service_rate_limit`] |
//! | `POST /__emulator/auto` | `{"decision": "approve"\|"deny"\|"close"\|"none", "user"?, "delayMs"?}` | [`Emulator::set_auto_decision`] |
//! | `POST /__emulator/fault` | `{"target", "fault", "times"?}` | [`Emulator::inject`] |
//! | `POST /__emulator/clear-faults` | | [`Emulator::clear_faults`] |
//! | `GET /__emulator/counters` | | `{"tokenMints","guestSignIns","httpRequests","bodyBytesSent","llmRequests","streamsAborted","creditsCharged"}` |
//! | `GET /__emulator/calls` | `?app=&function=` | `{"calls","executions","bodies"}` |
//! | `GET /__emulator/console` | `?app=&function=` | `{"lines": [{"level","message"}]}`: what a project function printed |
//! | `GET /__emulator/requests` | `?path=<prefix>` | `[{"method","path","hasCookie","hasAppToken","hasAuthorization","hasApiKey","origin"}]` |
//!
//! Successful POST controls answer `{"data":{}}`, reads answer `{"data": ...}`,
//! and bad input answers `400 BAD_REQUEST` in the error envelope. In `fault`,
//! `target` is `"token"`, `"guest"`, `{"app","function"}` or `{"app","service"}`; `times` is
//! `"once"` (the default), `"always"` or a count; `fault` is one of
//! `{"kind":"status","status","code"?,"message"?}`, `{"kind":"delay","ms"}`,
//! `{"kind":"slow","ms","then":<fault>}`, `{"kind":"expiredToken"}`,
//! `{"kind":"rateLimited","retryAfter"?}`, `{"kind":"htmlBadGateway"}`,
//! `{"kind":"malformedJson"}`, `{"kind":"truncated"}`,
//! `{"kind":"resetConnection"}`, `{"kind":"softError","message"}`,
//! `{"kind":"largeBody","bytes"}`, `{"kind":"streamedBody","bytes"}`,
//! `{"kind":"endlessBody"}`, `{"kind":"redirect","status"?,"location"}` (307 by default),
//! `{"kind":"streamCut"|"streamReset"|"streamStall"|"streamMalformed","after"}` (inside a streamed LLM
//! answer, with the target `{"app","service":"llm"}`) or
//! `{"kind":"json","status","body"}`.
//!
//! ```no_run
//! use gipity_emulator::{Auth, Emulator};
//! use serde_json::json;
//!
//! # async fn example() -> std::io::Result<()> {
//! let emulator = Emulator::start().await?;
//! emulator
//!     .app("p_shop")
//!     .function("get-items", Auth::Public, |call| Ok(json!([call.body])));
//! let url = format!("{}/api/p_shop/fn/get-items", emulator.base_url());
//! // ... call `url` with any HTTP client ...
//! assert_eq!(emulator.executions("p_shop", "get-items"), 0);
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod app;
mod callers;
mod controls;
mod cors;
mod demo;
mod faults;
mod http;
mod model;
mod multipart;
mod pages;
mod project;
mod routes;
mod services;
mod state;
mod statics;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use serde_json::Value;
use tokio::sync::watch;

pub use crate::app::App;
pub use crate::demo::{DEMO_APP, DEMO_USER};
pub use crate::faults::{Fault, Target, Times};
pub use crate::model::{
    AUTO_USER, Auth, AuthMode, AutoDecision, Billing, Call, Caller, ConsoleLine, Counters,
    EmulatorError, FORWARDED_HEADERS, FnError, RequestRecord, User, permissions,
};
pub use crate::project::{DEFAULT_FUNCTION_TIMEOUT, DEFAULT_PROJECT_APP, LOCAL_FILE};

use gipity_shared::path;

use crate::http::SESSION_COOKIE;
use crate::state::{Auto, Config, Shared};

/// App tokens live this long unless configured otherwise.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Player tokens live this long unless configured otherwise.
pub const DEFAULT_PLAYER_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// A running emulator.
///
/// Cheap to clone; every clone controls the same server. The server stops when
/// the last handle is dropped or [`Emulator::shutdown`] is called.
#[derive(Clone)]
pub struct Emulator {
    handle: Arc<Handle>,
}

/// Owned by the handles; dropping the last one stops the server.
struct Handle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    /// The project's app and its scratch directory (the runner script), if serving one.
    project: Option<(String, PathBuf)>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some((_, scratch)) = &self.project {
            let _ = std::fs::remove_dir_all(scratch);
        }
    }
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.handle.shared.base_url)
            .finish_non_exhaustive()
    }
}

/// Options for [`Emulator::builder`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    host: IpAddr,
    port: u16,
    token_ttl: Duration,
    player_token_ttl: Duration,
    demo: bool,
    serve_dir: Option<PathBuf>,
    test_controls: bool,
    manifest: Option<PathBuf>,
    project: Option<PathBuf>,
    project_app: Option<String>,
    print_console: bool,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            token_ttl: DEFAULT_TOKEN_TTL,
            player_token_ttl: DEFAULT_PLAYER_TOKEN_TTL,
            demo: false,
            serve_dir: None,
            test_controls: false,
            manifest: None,
            project: None,
            project_app: None,
            print_console: false,
        }
    }
}

impl EmulatorBuilder {
    /// The port to listen on; 0 (the default) picks a free one.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The address to listen on; `127.0.0.1` by default.
    ///
    /// An unspecified address (`0.0.0.0`, `::`) listens everywhere, while
    /// [`Emulator::base_url`] and the issued login URLs name loopback.
    #[must_use]
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// Lifetime of app tokens ([`DEFAULT_TOKEN_TTL`] by default).
    #[must_use]
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Lifetime of player tokens ([`DEFAULT_PLAYER_TOKEN_TTL`] by default).
    #[must_use]
    pub fn player_token_ttl(mut self, ttl: Duration) -> Self {
        self.player_token_ttl = ttl;
        self
    }

    /// Registers the demo app [`DEMO_APP`] with the functions `echo`, `add`,
    /// `whoami`, `boom`, `secret`, `consented-ai` and `slow`, and the member
    /// [`DEMO_USER`].
    ///
    /// `consented-ai` needs a user who granted IDENTITY and AI (5) and answers
    /// `{"ok": true}`; `slow` is public, waits `{"ms": N}` milliseconds (at most
    /// 10 000) without blocking the server, then echoes its body.
    #[must_use]
    pub fn demo(mut self, demo: bool) -> Self {
        self.demo = demo;
        self
    }

    /// Serves static files from `dir` at every path outside `/api`.
    #[must_use]
    pub fn serve_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.serve_dir = Some(dir.into());
        self
    }

    /// Turns on the test controls under `/__emulator/` (off by default); see
    /// the [crate documentation](crate#test-controls-over-http).
    #[must_use]
    pub fn test_controls(mut self, enabled: bool) -> Self {
        self.test_controls = enabled;
        self
    }

    /// Reads the app's `gipity.yaml` at `path` when starting: the functions it declares get
    /// the auth levels it gives (`public` for an entry without `auth`) whatever
    /// [`App::function`] registers them with, and its `services` phase sets who pays for each
    /// service (an app's [`App::set_billing`] still wins).
    #[must_use]
    pub fn manifest(mut self, path: impl Into<PathBuf>) -> Self {
        self.manifest = Some(path.into());
        self
    }

    /// Serves a Gipity app's own functions: reads `dir/gipity.yaml` (as
    /// [`manifest`](Self::manifest) does, unless one is given) and serves every function it
    /// declares from `dir/functions/<name>.js` or `dir/functions/<name>/index.js`, run under
    /// Node.js (20.19 or newer, or 22.7 on the 22 line: `node` on the `PATH`, or `GIPITY_NODE`) with the auth level it
    /// declares; files the manifest does not list are served as `public`, as the platform
    /// deploys them. Secrets and environment come from `dir/gipity.local.json`
    /// (`{"secrets": {..}, "env": {..}}`, strings). The app answers as
    /// [`DEFAULT_PROJECT_APP`] unless [`project_app`](Self::project_app) says otherwise.
    #[must_use]
    pub fn project(mut self, dir: impl Into<PathBuf>) -> Self {
        self.project = Some(dir.into());
        self
    }

    /// The app GUID the [project](Self::project) answers for.
    #[must_use]
    pub fn project_app(mut self, guid: impl Into<String>) -> Self {
        self.project_app = Some(guid.into());
        self
    }

    /// Prints each line a project function prints to standard output, prefixed with its
    /// function (off by default; [`Emulator::console`] keeps them either way).
    #[must_use]
    pub fn print_console(mut self, print: bool) -> Self {
        self.print_console = print;
        self
    }

    /// Binds and starts serving on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// When there is no Tokio runtime, the [manifest](Self::manifest) cannot be read
    /// ([`io::ErrorKind::InvalidData`] for one that is not valid, naming its line and column),
    /// the [project](Self::project) cannot be loaded (a declared function without its file,
    /// no Node.js 20.19 or newer: the message says what to install), or the address cannot be
    /// bound.
    pub async fn start(self) -> io::Result<Emulator> {
        let project = match &self.project {
            Some(dir) => Some(project::Project::load(dir)?),
            None => None,
        };
        let node_program = match &project {
            Some(_) => Some(project::node::find().await?),
            None => None,
        };
        let manifest = match &self.manifest {
            Some(path) => Some(Arc::new(
                gipity_manifest::Manifest::from_path(path).map_err(|e| match e {
                    gipity_manifest::Error::Read { source, .. } => io::Error::new(
                        source.kind(),
                        format!("cannot read the manifest {}: {source}", path.display()),
                    ),
                    other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
                })?,
            )),
            None => project
                .as_ref()
                .map(|project| Arc::clone(&project.manifest)),
        };
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| io::Error::other(format!("the emulator needs a Tokio runtime: {e}")))?;
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(self.host, self.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(Config {
            base_url: base_url(addr),
            manifest,
            serve_dir: self.serve_dir,
            test_controls: self.test_controls,
            token_ttl: self.token_ttl,
            player_token_ttl: self.player_token_ttl,
        }));
        let router = Router::new()
            .fallback(routes::dispatch)
            .layer(axum::middleware::from_fn(cors::layer))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&shared),
                routes::observe,
            ))
            .with_state(Arc::clone(&shared));
        let (stop, mut stopped) = watch::channel(false);
        let server = axum::serve(listener, router).with_graceful_shutdown(async move {
            // Ends on `shutdown()` or when the last handle (the sender) is gone.
            let _ = stopped.wait_for(|stop| *stop).await;
        });
        runtime.spawn(async move {
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "the emulator's server stopped");
            }
        });
        let served = match (project, node_program) {
            (Some(project), Some(program)) => {
                let app = self
                    .project_app
                    .clone()
                    .unwrap_or_else(|| DEFAULT_PROJECT_APP.to_owned());
                // A fresh directory of its own: created, never reused.
                let scratch = std::env::temp_dir().join(format!(
                    "gipity-emulator-{}-{}-{}",
                    std::process::id(),
                    addr.port(),
                    state::random_string(12, state::ALNUM)
                ));
                std::fs::create_dir(&scratch)?;
                let database = if project.wants_database() {
                    match project.database(&scratch).await {
                        Ok(database) => database,
                        Err(e) => {
                            let _ = std::fs::remove_dir_all(&scratch);
                            return Err(e);
                        }
                    }
                } else {
                    project::no_database()
                };
                let node = Arc::new(project::node::Node::new(program, &scratch, database)?);
                project::install(&shared, &app, Arc::new(project), node, self.print_console);
                Some((app, scratch))
            }
            _ => None,
        };
        let emulator = Emulator {
            handle: Arc::new(Handle {
                shared,
                addr,
                stop,
                project: served,
            }),
        };
        if self.demo {
            let app = emulator.app(DEMO_APP);
            demo::install(&app);
            let user = emulator.create_user(DEMO_USER);
            app.add_member(&user);
        }
        Ok(emulator)
    }
}

/// `http://HOST:PORT`, naming loopback for an unspecified address.
fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

impl Emulator {
    /// Starts an emulator on `127.0.0.1` at a free port, with default settings.
    ///
    /// # Errors
    ///
    /// When there is no Tokio runtime, or no port can be bound.
    pub async fn start() -> io::Result<Emulator> {
        Self::builder().start().await
    }

    /// Options for starting an emulator.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.shared().base_url.clone()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.handle.addr
    }

    /// Stops the server: it takes no new connections and closes the idle ones.
    /// The handle's controls keep working on the stored state.
    pub fn shutdown(&self) {
        self.handle.stop.send_replace(true);
    }

    // ---- apps and functions ----

    /// The app `guid`, registered now if it is new.
    ///
    /// Any string is accepted, including GUIDs that the platform (and the
    /// runtime) would reject, so tests can exercise that validation.
    pub fn app(&self, guid: &str) -> App {
        self.shared()
            .lock()
            .apps
            .entry(guid.to_owned())
            .or_default();
        App {
            guid: guid.to_owned(),
            shared: Arc::clone(&self.handle.shared),
        }
    }

    // ---- users ----

    /// Creates a user with a fresh `u_...` guid and an account slug derived from
    /// `display_name`.
    pub fn create_user(&self, display_name: &str) -> User {
        self.shared().lock().create_user(display_name)
    }

    /// Signs `user` in with a new session; returns the cookie pair
    /// `gipity_session=<value>` for a `Cookie` header or a cookie jar.
    ///
    /// A user not created by this emulator is registered as given.
    pub fn sign_in(&self, user: &User) -> String {
        let mut state = self.shared().lock();
        state.remember_user(user);
        let session = state.new_session(&user.guid);
        format!("{SESSION_COOKIE}={session}")
    }

    /// Ends the session named by `cookie_pair` (`gipity_session=<value>`, or the
    /// bare value; cookie attributes after `;` are ignored).
    pub fn sign_out(&self, cookie_pair: &str) {
        let pair = cookie_pair.split(';').next().unwrap_or("").trim();
        let value = pair
            .strip_prefix(SESSION_COOKIE)
            .and_then(|rest| rest.strip_prefix('='))
            .unwrap_or(pair);
        self.shared().lock().sessions.remove(value);
    }

    /// Grants `user` the `permissions` bits for `app`, added to what they granted before.
    pub fn grant_consent(&self, user: &User, app: &str, permissions: u32) {
        let mut state = self.shared().lock();
        state.remember_user(user);
        state.grant(&user.guid, app, permissions);
    }

    /// Sets the credits of `user`, who pays for services under
    /// [`Billing::UserPays`]. Every user starts with 1,000.
    pub fn set_credits(&self, user: &User, credits: u64) {
        let mut state = self.shared().lock();
        state.remember_user(user);
        state.user_credits.insert(user.guid.clone(), credits);
    }

    /// Sets the services' rate limit: `limit` requests a `window`, shared by every service
    /// and every caller (600 a minute by default). The window starts anew now. Service answers
    /// report it in `RateLimit-Limit`, `-Remaining`, `-Reset` and `RateLimit-Policy`; a
    /// request over it is a 429 `RATE_LIMITED` with `Retry-After`.
    /// The window is whole seconds (a fraction is cut; at least 1 s), as the headers say it.
    pub fn set_service_rate_limit(&self, limit: u64, window: Duration) {
        let window = Duration::from_secs(window.as_secs().max(1));
        self.shared().lock().service_rate = crate::state::RateWindow::new(limit, window);
    }

    /// The credits `user` has left.
    pub fn credits(&self, user: &User) -> u64 {
        self.shared()
            .lock()
            .user_credits
            .get(&user.guid)
            .copied()
            .unwrap_or(crate::state::DEFAULT_CREDITS)
    }

    /// Withdraws every permission `user` granted to `app`.
    pub fn revoke_consent(&self, user: &User, app: &str) {
        self.shared()
            .lock()
            .consents
            .remove(&(user.guid.clone(), app.to_owned()));
    }

    /// Stands in for a person finishing the login or consent page.
    ///
    /// Reads `app` and `permissions` from a `loginUrl` or `consentUrl` this
    /// emulator issued (extra parameters such as `mode` and `return` are
    /// ignored), signs `user` in with a new session, grants the permissions, and
    /// returns the session's cookie pair.
    ///
    /// # Errors
    ///
    /// When the URL is not a login or consent URL of this emulator, lacks `app`,
    /// has a bad `permissions`, or names an unregistered app.
    pub fn complete_login(
        &self,
        challenge_url: &str,
        user: &User,
    ) -> Result<String, EmulatorError> {
        let url = url::Url::parse(challenge_url)
            .map_err(|_| EmulatorError::InvalidUrl(challenge_url.to_owned()))?;
        let ours = url::Url::parse(&self.shared().base_url)
            .is_ok_and(|base| base.origin() == url.origin());
        if !ours || ![path::LOGIN, path::CONSENT].contains(&url.path()) {
            return Err(EmulatorError::ForeignUrl(challenge_url.to_owned()));
        }
        let mut app = None;
        let mut permissions = None;
        for (name, value) in url.query_pairs() {
            match name.as_ref() {
                "app" if app.is_none() => app = Some(value.into_owned()),
                "permissions" if permissions.is_none() => permissions = Some(value.into_owned()),
                _ => {}
            }
        }
        let app = app
            .filter(|a| !a.is_empty())
            .ok_or(EmulatorError::MissingApp)?;
        let permissions = match permissions {
            None => permissions::IDENTITY,
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| EmulatorError::InvalidPermissions(value.clone()))?,
        };
        let mut state = self.shared().lock();
        if !state.apps.contains_key(&app) {
            return Err(EmulatorError::UnknownApp(app));
        }
        state.remember_user(user);
        let session = state.new_session(&user.guid);
        state.grant(&user.guid, &app, permissions);
        Ok(format!("{SESSION_COOKIE}={session}"))
    }

    /// A new account token (`gip_at_...`) acting as `user`: it needs no consent,
    /// and makes the user a member of nothing.
    pub fn account_token(&self, user: &User) -> String {
        let mut state = self.shared().lock();
        state.remember_user(user);
        let token = format!("gip_at_{}", state::random_string(40, state::ALNUM));
        state
            .account_tokens
            .insert(token.clone(), user.guid.clone());
        token
    }

    // ---- tokens ----

    /// Lifetime of app tokens minted from now on; `expiresIn` is the TTL in
    /// whole seconds, rounded up. A zero TTL mints tokens that are already expired.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.shared().lock().token_ttl = ttl;
    }

    /// Lifetime of player tokens issued from now on.
    pub fn set_player_token_ttl(&self, ttl: Duration) {
        self.shared().lock().player_token_ttl = ttl;
    }

    /// Expires every app token issued so far (they now get `401 TOKEN_EXPIRED`).
    pub fn expire_tokens(&self) {
        self.shared().lock().expire_app_tokens();
    }

    /// Expires every player token issued so far.
    pub fn expire_player_tokens(&self) {
        self.shared().lock().expire_player_tokens();
    }

    // ---- faults ----

    /// Arms `fault` for the next `times` requests to `target`. Faults armed for
    /// the same target apply in the order they were injected.
    pub fn inject(&self, target: Target, fault: Fault, times: Times) {
        self.shared().lock().arm(target, fault, times);
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.shared().lock().clear_faults();
    }

    // ---- observation ----

    /// Token mints, guest sign-ins, HTTP requests and fault body bytes so far.
    pub fn counters(&self) -> Counters {
        self.shared().counters()
    }

    /// Requests that reached `POST /api/<app>/fn/<function>`, whatever their outcome.
    pub fn calls(&self, app: &str, function: &str) -> u64 {
        let key = (app.to_owned(), function.to_owned());
        self.shared().lock().calls.get(&key).copied().unwrap_or(0)
    }

    /// What project function `function` of `app` printed, in order, since the start or the
    /// last [`reset`](Self::reset).
    pub fn console(&self, app: &str, function: &str) -> Vec<ConsoleLine> {
        let key = (app.to_owned(), function.to_owned());
        self.shared()
            .lock()
            .console
            .get(&key)
            .cloned()
            .unwrap_or_default()
    }

    /// The app GUID of the [project](EmulatorBuilder::project), if one is served.
    pub fn project_app(&self) -> Option<&str> {
        self.handle.project.as_ref().map(|(app, _)| app.as_str())
    }

    /// Times the closure of `function` actually ran.
    pub fn executions(&self, app: &str, function: &str) -> u64 {
        let key = (app.to_owned(), function.to_owned());
        self.shared()
            .lock()
            .executions
            .get(&key)
            .copied()
            .unwrap_or(0)
    }

    /// Request bodies of the executions of `function`, in order.
    pub fn bodies(&self, app: &str, function: &str) -> Vec<Value> {
        let key = (app.to_owned(), function.to_owned());
        self.shared()
            .lock()
            .bodies
            .get(&key)
            .cloned()
            .unwrap_or_default()
    }

    /// Every request received so far, in order (test-control requests excepted).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared().lock().requests.clone()
    }

    // ---- between tests ----

    /// Makes the login and consent pages (`GET /api/auth/login` and
    /// `/api/auth/consent`) decide by themselves, as if a person clicked.
    ///
    /// The page's script waits `delay` before telling the opener (or
    /// redirecting), so a test can see the popup pending; an approval's
    /// session cookie is set on the page's response all the same. A page's own
    /// `auto=` query parameter wins over this setting.
    pub fn set_auto_decision(&self, decision: AutoDecision, delay: Duration) {
        self.shared().lock().auto = Some(Auto { decision, delay });
    }

    /// Puts the login and consent pages back to showing their form.
    pub fn clear_auto_decision(&self) {
        self.shared().lock().auto = None;
    }

    /// Returns to a clean slate between tests: disarms every fault, zeroes the
    /// counters, forgets recorded calls, executions, bodies, requests and console lines, ends
    /// every session, withdraws every consent, restores every credit balance (1,000),
    /// the services' rate limit (600 a minute, a fresh window) and the token lifetimes
    /// the emulator started with, and clears the auto decision.
    ///
    /// Apps (with their billing modes), functions, members, API keys, users and issued
    /// tokens stay.
    pub fn reset(&self) {
        self.shared().reset();
    }
}
