//! The emulator's shared state: apps, users, sessions, tokens, faults and records.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use serde_json::Value;

use crate::faults::{Fault, Target, Times};
use crate::http::{ApiError, session_cookies};
use crate::model::{
    Auth, AuthMode, AutoDecision, Billing, Call, ConsoleLine, Counters, RequestRecord, User,
};

/// The credits every user and every app owner starts with.
pub(crate) const DEFAULT_CREDITS: u64 = 1_000;

/// What a stored function returns: a future of its result.
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, ApiError>> + Send>>;

/// A function as stored: synchronous closures are wrapped in a ready future.
pub(crate) type Handler = Arc<dyn Fn(Call) -> HandlerFuture + Send + Sync + 'static>;

/// A registered function.
#[derive(Clone)]
pub(crate) struct FunctionDef {
    pub(crate) auth: Auth,
    pub(crate) permissions: u32,
    pub(crate) handler: Handler,
}

/// A registered app.
#[derive(Default)]
pub(crate) struct AppEntry {
    pub(crate) functions: HashMap<String, FunctionDef>,
    pub(crate) api_key: Option<String>,
    pub(crate) members: HashSet<String>,
    pub(crate) auth_mode: AuthMode,
    /// Service -> billing mode; a service not named here is `user_pays`.
    pub(crate) billing: HashMap<String, Billing>,
    /// A streamed LLM answer's characters per event, and the pause between events.
    pub(crate) llm_stream: Option<(usize, Duration)>,
}

/// An app token or a player token.
pub(crate) struct IssuedToken {
    pub(crate) app: String,
    /// The player, for player tokens.
    pub(crate) user: Option<String>,
    /// `None`: never expires (a TTL too large to represent).
    pub(crate) expires_at: Option<Instant>,
}

impl IssuedToken {
    fn expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// What a presented token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid,
    Expired,
    Invalid,
}

/// A fault waiting for its target.
struct ArmedFault {
    target: Target,
    fault: Fault,
    /// `None`: applies forever.
    remaining: Option<u32>,
}

/// The decision the login and consent pages take by themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Auto {
    pub(crate) decision: AutoDecision,
    /// How long the page's script waits before acting.
    pub(crate) delay: Duration,
}

/// Everything behind the lock.
pub(crate) struct State {
    pub(crate) apps: HashMap<String, AppEntry>,
    /// In creation order, so display-name look-ups are deterministic.
    pub(crate) users: Vec<User>,
    /// Session value -> user guid.
    pub(crate) sessions: HashMap<String, String>,
    /// (user guid, app) -> granted permission bits.
    pub(crate) consents: HashMap<(String, String), u32>,
    pub(crate) app_tokens: HashMap<String, IssuedToken>,
    pub(crate) player_tokens: HashMap<String, IssuedToken>,
    /// Account token -> user guid.
    pub(crate) account_tokens: HashMap<String, String>,
    /// (app, device secret) -> player's user guid.
    pub(crate) devices: HashMap<(String, String), String>,
    pub(crate) token_ttl: Duration,
    pub(crate) player_token_ttl: Duration,
    faults: Vec<ArmedFault>,
    pub(crate) counters: Counters,
    pub(crate) calls: HashMap<(String, String), u64>,
    pub(crate) executions: HashMap<(String, String), u64>,
    pub(crate) bodies: HashMap<(String, String), Vec<Value>>,
    /// What project functions printed, per (app, function).
    pub(crate) console: HashMap<(String, String), Vec<ConsoleLine>>,
    pub(crate) requests: Vec<RequestRecord>,
    /// Set by the `auto` control: pages decide without a person.
    pub(crate) auto: Option<Auto>,
    /// App -> its owner's credits, once changed from [`DEFAULT_CREDITS`].
    pub(crate) owner_credits: HashMap<String, u64>,
    /// User guid -> the user's credits, once changed from [`DEFAULT_CREDITS`].
    pub(crate) user_credits: HashMap<String, u64>,
    /// The services' shared rate limit.
    pub(crate) service_rate: RateWindow,
}

/// The services' rate limit: one window shared by every service. The platform keeps one per
/// IP; the emulator's callers all share loopback, so it keeps one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateWindow {
    limit: u64,
    window: Duration,
    started: Instant,
    used: u64,
}

/// Where a service call stands in the rate window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meter {
    pub(crate) limit: u64,
    pub(crate) remaining: u64,
    /// Whole seconds until the window resets, rounded up.
    pub(crate) reset_secs: u64,
    pub(crate) window_secs: u64,
}

/// The services' default rate limit: 600 requests a minute.
pub(crate) const DEFAULT_SERVICE_RATE: (u64, Duration) = (600, Duration::from_secs(60));

impl RateWindow {
    pub(crate) fn new(limit: u64, window: Duration) -> Self {
        Self {
            limit,
            window,
            started: Instant::now(),
            used: 0,
        }
    }

    /// Counts one request: where it stands, `Err` when it is over the limit.
    pub(crate) fn take(&mut self, now: Instant) -> Result<Meter, Meter> {
        if now.duration_since(self.started) >= self.window {
            self.started = now;
            self.used = 0;
        }
        let left = self.window.saturating_sub(now.duration_since(self.started));
        let reset_secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        let over = self.used >= self.limit;
        if !over {
            self.used += 1;
        }
        let meter = Meter {
            limit: self.limit,
            remaining: self.limit - self.used,
            reset_secs,
            window_secs: self.window.as_secs(),
        };
        if over { Err(meter) } else { Ok(meter) }
    }
}

/// State shared by the server task and every handle.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// `http://HOST:PORT`, no trailing slash.
    pub(crate) base_url: String,
    /// Root of `--serve`, if static files are served.
    pub(crate) serve_dir: Option<PathBuf>,
    /// Whether the `/__emulator/` routes answer.
    pub(crate) test_controls: bool,
    /// The app's `gipity.yaml`: the auth levels of the functions it declares and the billing
    /// of its services.
    pub(crate) manifest: Option<Arc<gipity_manifest::Manifest>>,
    /// The app token lifetime the emulator started with (restored by a reset).
    token_ttl: Duration,
    /// The player token lifetime the emulator started with (restored by a reset).
    player_token_ttl: Duration,
    /// [`Counters::body_bytes_sent`], kept outside the lock: fault bodies add to
    /// it while the server streams them.
    pub(crate) body_bytes_sent: Arc<AtomicU64>,
    /// [`Counters::streams_aborted`], counted by stream bodies as they are dropped.
    pub(crate) streams_aborted: Arc<AtomicU64>,
    /// The source of ids (completions, media URLs).
    ids: AtomicU64,
}

/// How [`Shared`] is set up.
pub(crate) struct Config {
    pub(crate) base_url: String,
    pub(crate) manifest: Option<Arc<gipity_manifest::Manifest>>,
    pub(crate) serve_dir: Option<PathBuf>,
    pub(crate) test_controls: bool,
    pub(crate) token_ttl: Duration,
    pub(crate) player_token_ttl: Duration,
}

impl Shared {
    pub(crate) fn new(config: Config) -> Self {
        Self {
            state: Mutex::new(State::new(config.token_ttl, config.player_token_ttl)),
            base_url: config.base_url,
            serve_dir: config.serve_dir,
            test_controls: config.test_controls,
            manifest: config.manifest,
            token_ttl: config.token_ttl,
            player_token_ttl: config.player_token_ttl,
            body_bytes_sent: Arc::new(AtomicU64::new(0)),
            streams_aborted: Arc::new(AtomicU64::new(0)),
            ids: AtomicU64::new(0),
        }
    }

    /// A new number, for ids.
    pub(crate) fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The counters, with the bytes of fault bodies sent so far.
    pub(crate) fn counters(&self) -> Counters {
        let mut counters = self.lock().counters;
        counters.body_bytes_sent = self.body_bytes_sent.load(Ordering::Relaxed);
        counters.streams_aborted = self.streams_aborted.load(Ordering::Relaxed);
        counters
    }

    /// Forgets faults, counters, records, sessions, consents, credit balances and the
    /// auto decision, and restores the services' rate limit and the token lifetimes the
    /// emulator started with.
    /// Apps, functions, users and issued tokens stay.
    pub(crate) fn reset(&self) {
        let mut state = self.lock();
        state.faults.clear();
        state.counters = Counters::default();
        self.body_bytes_sent.store(0, Ordering::Relaxed);
        self.streams_aborted.store(0, Ordering::Relaxed);
        state.owner_credits.clear();
        state.user_credits.clear();
        state.service_rate = RateWindow::new(DEFAULT_SERVICE_RATE.0, DEFAULT_SERVICE_RATE.1);
        state.calls.clear();
        state.executions.clear();
        state.bodies.clear();
        state.console.clear();
        state.requests.clear();
        state.sessions.clear();
        state.consents.clear();
        state.token_ttl = self.token_ttl;
        state.player_token_ttl = self.player_token_ttl;
        state.auto = None;
    }

    /// Locks the state. A panic while the lock was held (only a bug in this
    /// crate could cause one: closures run outside the lock) leaves the data
    /// usable, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `<base>/api/auth/<page>?app=<app>&permissions=<n>`.
    pub(crate) fn challenge_url(&self, page: &str, app: &str, permissions: u32) -> String {
        let app: String = url::form_urlencoded::byte_serialize(app.as_bytes()).collect();
        format!(
            "{}/api/auth/{page}?app={app}&permissions={permissions}",
            self.base_url
        )
    }
}

impl State {
    fn new(token_ttl: Duration, player_token_ttl: Duration) -> Self {
        Self {
            apps: HashMap::new(),
            users: Vec::new(),
            sessions: HashMap::new(),
            consents: HashMap::new(),
            app_tokens: HashMap::new(),
            player_tokens: HashMap::new(),
            account_tokens: HashMap::new(),
            devices: HashMap::new(),
            token_ttl,
            player_token_ttl,
            faults: Vec::new(),
            counters: Counters::default(),
            calls: HashMap::new(),
            executions: HashMap::new(),
            bodies: HashMap::new(),
            console: HashMap::new(),
            requests: Vec::new(),
            auto: None,
            owner_credits: HashMap::new(),
            user_credits: HashMap::new(),
            service_rate: RateWindow::new(DEFAULT_SERVICE_RATE.0, DEFAULT_SERVICE_RATE.1),
        }
    }

    // ---- users and sessions ----

    pub(crate) fn user(&self, guid: &str) -> Option<&User> {
        self.users.iter().find(|u| u.guid == guid)
    }

    pub(crate) fn user_by_display_name(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.display_name == name)
    }

    pub(crate) fn create_user(&mut self, display_name: &str) -> User {
        let mut guid = format!("u_{}", random_string(12, ALNUM));
        while self.user(&guid).is_some() {
            guid = format!("u_{}", random_string(12, ALNUM));
        }
        let base = slugify(display_name);
        let mut slug = base.clone();
        let mut n = 2u64;
        while self.users.iter().any(|u| u.account_slug == slug) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        let user = User {
            guid,
            display_name: display_name.to_owned(),
            avatar_url: None,
            account_slug: slug,
        };
        self.users.push(user.clone());
        user
    }

    /// Adds a user built outside the emulator, or refreshes a known one.
    pub(crate) fn remember_user(&mut self, user: &User) {
        match self.users.iter_mut().find(|u| u.guid == user.guid) {
            Some(known) => *known = user.clone(),
            None => self.users.push(user.clone()),
        }
    }

    /// Creates a session and returns its cookie value.
    pub(crate) fn new_session(&mut self, user_guid: &str) -> String {
        let value = random_string(40, ALNUM);
        self.sessions.insert(value.clone(), user_guid.to_owned());
        value
    }

    /// The user of the first live session named by the request's cookies.
    pub(crate) fn signed_in_user(&self, headers: &HeaderMap) -> Option<User> {
        session_cookies(headers)
            .iter()
            .find_map(|value| self.sessions.get(value))
            .and_then(|guid| self.user(guid))
            .cloned()
    }

    pub(crate) fn grant(&mut self, user_guid: &str, app: &str, permissions: u32) {
        *self
            .consents
            .entry((user_guid.to_owned(), app.to_owned()))
            .or_insert(0) |= permissions;
    }

    /// A streamed LLM answer's characters per event (4 by default) and the pause between
    /// events (none), for `app`.
    pub(crate) fn llm_stream(&self, app: &str) -> (usize, Duration) {
        self.apps
            .get(app)
            .and_then(|entry| entry.llm_stream)
            .unwrap_or((4, Duration::ZERO))
    }

    pub(crate) fn has_consent(&self, user_guid: &str, app: &str, permissions: u32) -> bool {
        let granted = self
            .consents
            .get(&(user_guid.to_owned(), app.to_owned()))
            .copied()
            .unwrap_or(0);
        granted & permissions == permissions
    }

    // ---- tokens ----

    /// Mints an app token for `app`; returns it with its `expiresIn`.
    pub(crate) fn mint_app_token(&mut self, app: &str) -> (String, u64) {
        let token = jwt_like();
        let ttl = self.token_ttl;
        self.app_tokens.insert(
            token.clone(),
            IssuedToken {
                app: app.to_owned(),
                user: None,
                expires_at: Instant::now().checked_add(ttl),
            },
        );
        self.counters.token_mints += 1;
        (token, expires_in(ttl))
    }

    pub(crate) fn check_app_token(&self, token: &str, app: &str) -> TokenCheck {
        match self.app_tokens.get(token) {
            Some(t) if t.app == app => {
                if t.expired(Instant::now()) {
                    TokenCheck::Expired
                } else {
                    TokenCheck::Valid
                }
            }
            _ => TokenCheck::Invalid,
        }
    }

    /// Mints a player token for `user_guid` in `app`; returns it with its `expiresIn`.
    pub(crate) fn mint_player_token(&mut self, app: &str, user_guid: &str) -> (String, u64) {
        let token = jwt_like();
        let ttl = self.player_token_ttl;
        self.player_tokens.insert(
            token.clone(),
            IssuedToken {
                app: app.to_owned(),
                user: Some(user_guid.to_owned()),
                expires_at: Instant::now().checked_add(ttl),
            },
        );
        (token, expires_in(ttl))
    }

    /// The player a token of `app` names, or why it names none.
    pub(crate) fn check_player_token(&self, token: &str, app: &str) -> Result<User, TokenCheck> {
        let t = match self.player_tokens.get(token) {
            Some(t) if t.app == app => t,
            _ => return Err(TokenCheck::Invalid),
        };
        if t.expired(Instant::now()) {
            return Err(TokenCheck::Expired);
        }
        t.user
            .as_deref()
            .and_then(|guid| self.user(guid))
            .cloned()
            .ok_or(TokenCheck::Invalid)
    }

    pub(crate) fn expire_app_tokens(&mut self) {
        let now = Instant::now();
        for t in self.app_tokens.values_mut() {
            t.expires_at = Some(now);
        }
    }

    pub(crate) fn expire_player_tokens(&mut self) {
        let now = Instant::now();
        for t in self.player_tokens.values_mut() {
            t.expires_at = Some(now);
        }
    }

    // ---- faults ----

    pub(crate) fn arm(&mut self, target: Target, fault: Fault, times: Times) {
        let remaining = match times {
            Times::Once => Some(1),
            Times::N(0) => return,
            Times::N(n) => Some(n),
            Times::Always => None,
        };
        self.faults.push(ArmedFault {
            target,
            fault,
            remaining,
        });
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The next fault armed for `target`, used up by one.
    pub(crate) fn take_fault(&mut self, target: &Target) -> Option<Fault> {
        self.take_fault_if(target, |_| true)
    }

    /// The first fault armed for `target` that `wanted` accepts, used up by one; the others
    /// stay armed.
    pub(crate) fn take_fault_if(
        &mut self,
        target: &Target,
        wanted: impl Fn(&Fault) -> bool,
    ) -> Option<Fault> {
        // The first fault armed for the target that `wanted` accepts: a fault for another
        // moment of the same request (after the run, inside a stream) does not block it.
        let index = self
            .faults
            .iter()
            .position(|f| &f.target == target && wanted(&f.fault))?;
        let armed = self.faults.get_mut(index)?;
        let fault = armed.fault.clone();
        if let Some(left) = armed.remaining.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.faults.remove(index);
            }
        }
        Some(fault)
    }

    // ---- records ----

    pub(crate) fn record_call(&mut self, app: &str, function: &str) {
        *self
            .calls
            .entry((app.to_owned(), function.to_owned()))
            .or_insert(0) += 1;
    }

    pub(crate) fn record_execution(&mut self, app: &str, function: &str, body: &Value) {
        let key = (app.to_owned(), function.to_owned());
        *self.executions.entry(key.clone()).or_insert(0) += 1;
        self.bodies.entry(key).or_default().push(body.clone());
    }
}

/// `expiresIn` for a TTL: whole seconds, rounded up.
pub(crate) fn expires_in(ttl: Duration) -> u64 {
    ttl.as_secs()
        .saturating_add(u64::from(ttl.subsec_nanos() > 0))
}

/// Letters and digits.
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// The base64url alphabet.
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 64 unpredictable-enough bits: std's randomly keyed hasher over a counter and the clock.
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(now) = SystemTime::now().duration_since(UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    hasher.finish()
}

/// `len` characters drawn from `alphabet` (at most 256 symbols).
pub(crate) fn random_string(len: usize, alphabet: &[u8]) -> String {
    let size = alphabet.len().max(1) as u64;
    let mut out = String::with_capacity(len);
    let mut bits = random_u64();
    let mut left = 8;
    for _ in 0..len {
        if left == 0 {
            bits = random_u64();
            left = 8;
        }
        let index = usize::try_from((bits & 0xff) % size).unwrap_or(0);
        out.push(char::from(alphabet.get(index).copied().unwrap_or(b'x')));
        bits >>= 8;
        left -= 1;
    }
    out
}

/// An opaque token that looks like a JWT (`eyJ...`), as the platform's do.
fn jwt_like() -> String {
    format!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}",
        random_string(40, BASE64URL),
        random_string(43, BASE64URL)
    )
}

/// `Demo User!` -> `demo-user`.
fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("user");
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_rounds_up() {
        assert_eq!(expires_in(Duration::ZERO), 0);
        assert_eq!(expires_in(Duration::from_millis(1)), 1);
        assert_eq!(expires_in(Duration::from_secs(3600)), 3600);
        assert_eq!(expires_in(Duration::from_millis(1500)), 2);
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Demo User"), "demo-user");
        assert_eq!(slugify("  --Ünïcode!! "), "n-code");
        assert_eq!(slugify("!!!"), "user");
    }

    #[test]
    fn random_strings_differ_and_use_the_alphabet() {
        let a = random_string(32, ALNUM);
        let b = random_string(32, ALNUM);
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALNUM.contains(&c)));
        assert!(jwt_like().starts_with("eyJ"));
    }

    #[test]
    fn faults_are_used_up_in_order() {
        let mut state = State::new(Duration::from_secs(1), Duration::from_secs(1));
        state.arm(Target::Token, Fault::ExpiredToken, Times::Once);
        state.arm(Target::Token, Fault::MalformedJson, Times::N(2));
        state.arm(Target::Guest, Fault::HtmlBadGateway, Times::N(0));
        assert_eq!(state.take_fault(&Target::Token), Some(Fault::ExpiredToken));
        assert_eq!(state.take_fault(&Target::Token), Some(Fault::MalformedJson));
        assert_eq!(state.take_fault(&Target::Token), Some(Fault::MalformedJson));
        assert_eq!(state.take_fault(&Target::Token), None);
        assert_eq!(state.take_fault(&Target::Guest), None);
    }
}
