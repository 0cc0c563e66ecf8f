//! Shared set-up for the runtime's tests: an emulator on 127.0.0.1 with a test app.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gipity_emulator::{Auth, Call, Emulator, FnError};
use gipity_runtime::{AuthOutcome, Challenge, Client, ClientBuilder, Credentials};
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
