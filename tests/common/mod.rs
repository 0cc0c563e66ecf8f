//! Shared set-up for the runtime's tests: an emulator on 127.0.0.1 with a test app.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gipity_emulator::{Auth, Call, Emulator, Fault, FnError};
use gipity_runtime::{
    AuthOutcome, Challenge, ChallengeKind, Client, ClientBuilder, CookieJar, Credentials, Error,
};
use serde_json::{Value, json};

pub const APP: &str = "p_test";

/// An emulator with app `p_test` and functions `echo` (public), `whoami` (user),
/// `secret` (member), `ai` (user, needs IDENTITY | AI), `boom` (public, throws).
pub async fn emulator() -> Emulator {
    let emu = Emulator::start().await.expect("emulator starts");
    let app = emu.app(APP);
    app.function("echo", Auth::Public, |call: Call| Ok(call.body));
    app.function("whoami", Auth::User, |call: Call| {
        Ok(serde_json::to_value(call.user).unwrap_or(Value::Null))
    });
    app.function("secret", Auth::Member, |_| Ok(json!("the member secret")));
    app.function_with_permissions("ai", Auth::User, 5, |_| Ok(json!("ai result")));
    app.function("boom", Auth::Public, |_| Err(FnError("kaboom".into())));
    emu
}

/// A platform 503 `UNAVAILABLE`, "down for maintenance".
pub fn unavailable() -> Fault {
    Fault::Status {
        status: 503,
        code: "UNAVAILABLE".into(),
        message: "down for maintenance".into(),
    }
}

/// A client builder for `p_test` on `emu`.
pub fn builder(emu: &Emulator) -> ClientBuilder {
    Client::builder(APP).base_url(emu.base_url())
}

/// A session client on `emu`.
pub fn session_client(emu: &Emulator) -> Client {
    builder(emu).build().expect("client builds")
}

/// A session client already signed in as a new user who consented to IDENTITY.
pub fn signed_in_client(emu: &Emulator) -> (Client, gipity_emulator::User) {
    let user = emu.create_user("Alice");
    emu.grant_consent(&user, APP, 1);
    let cookie = emu.sign_in(&user);
    let client = builder(emu)
        .credentials(Credentials::session().with_cookies(cookie))
        .build()
        .expect("client builds");
    (client, user)
}

/// An auth handler that signs `user` in through the emulator's login page, counting runs.
pub fn login_handler(
    emu: &Emulator,
    jar: gipity_runtime::CookieJar,
    user: gipity_emulator::User,
    runs: Arc<AtomicUsize>,
) -> impl Fn(Challenge) -> std::pin::Pin<Box<dyn Future<Output = AuthOutcome> + Send>>
+ Send
+ Sync
+ 'static {
    let emu = emu.clone();
    move |challenge: Challenge| {
        runs.fetch_add(1, Ordering::SeqCst);
        let cookie = emu.complete_login(challenge.url().as_str(), &user);
        let jar = jar.clone();
        Box::pin(async move {
            // Let concurrent callers pile up behind this interaction.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            match cookie {
                Ok(cookie) => {
                    jar.add(&format!("{cookie}; Path=/"), challenge.url());
                    AuthOutcome::Completed
                }
                Err(_) => AuthOutcome::Denied,
            }
        })
    }
}

/// A session client whose auth handler signs `user` in through the emulator's login page,
/// and the count of the handler's runs.
pub fn login_client(
    emu: &Emulator,
    jar: CookieJar,
    user: gipity_emulator::User,
) -> (Client, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let client = builder(emu)
        .credentials(Credentials::session_with_jar(jar.clone()))
        .on_auth_required(login_handler(emu, jar, user, runs.clone()))
        .build()
        .expect("client builds");
    (client, runs)
}

/// Calls `function` with `{}`; the call must fail.
pub async fn call_err(client: &Client, function: &str) -> Error {
    client
        .call::<Value>(function, &json!({}))
        .await
        .unwrap_err()
}

/// Requests to `POST /api/token`, minted or not.
pub fn token_requests(emu: &Emulator) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.path == "/api/token")
        .count()
}

/// Asserts an `Error::Http` with this status, code and message.
pub fn assert_http_error(err: &Error, status: u16, code: &str, message: &str) {
    match err {
        Error::Http {
            status: actual,
            code: actual_code,
            message: actual_message,
            ..
        } => {
            assert_eq!(*actual, status, "{err:?}");
            assert_eq!(actual_code.as_deref(), Some(code));
            assert_eq!(actual_message.as_deref(), Some(message));
        }
        other => panic!("expected an http error, got {other:?}"),
    }
}

/// Asserts the error of this `kind` whose challenge points at the emulator's page, and
/// returns the challenge.
pub fn assert_challenge<'e>(emu: &Emulator, err: &'e Error, kind: ChallengeKind) -> &'e Challenge {
    let (challenge, page) = match (err, kind) {
        (Error::LoginRequired(challenge), ChallengeKind::Login) => (challenge, "login"),
        (Error::ConsentRequired(challenge), ChallengeKind::Consent) => (challenge, "consent"),
        _ => panic!("expected a {kind:?} challenge, got {err:?}"),
    };
    assert_eq!(challenge.kind(), kind);
    assert!(
        challenge
            .url()
            .as_str()
            .starts_with(&format!("{}/api/auth/{page}?", emu.base_url())),
        "{}",
        challenge.url()
    );
    challenge
}
