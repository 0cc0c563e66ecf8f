//! LOGIN_REQUIRED and CONSENT_REQUIRED: the handler, the single retry, the typed challenge.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{APP, assert_challenge, builder, call_err, emulator, login_client, session_client};
use gipity_runtime::{
    AuthOutcome, AuthStatus, Challenge, ChallengeKind, CookieJar, Credentials, Error, Permissions,
};
use serde_json::{Value, json};

#[tokio::test]
async fn login_required_without_handler_carries_the_challenge() {
    let emu = emulator().await;
    let client = builder(&emu)
        .return_url(format!("{}/app/", emu.base_url()))
        .build()
        .unwrap();
    let err = call_err(&client, "whoami").await;
    let challenge = assert_challenge(&emu, &err, ChallengeKind::Login);
    assert!(
        challenge
            .url()
            .query_pairs()
            .any(|(k, v)| k == "app" && v == APP)
    );
    assert!(
        challenge
            .popup_url()
            .query_pairs()
            .any(|(k, v)| k == "mode" && v == "popup")
    );
    let redirect = challenge.redirect_url().unwrap();
    let back = redirect
        .query_pairs()
        .find(|(k, _)| k == "return")
        .unwrap()
        .1;
    assert_eq!(back, format!("{}/app/", emu.base_url()));
    assert_eq!(challenge.outcome(), None);
    assert_eq!(err.status(), Some(401));
    assert_eq!(emu.executions(APP, "whoami"), 0);
}

#[tokio::test]
async fn handler_signs_in_and_the_call_is_retried_once() {
    let emu = emulator().await;
    let user = emu.create_user("Carol");
    let (client, runs) = login_client(&emu, CookieJar::new(), user.clone());
    let me: Value = client.call("whoami", &json!({})).await.unwrap();
    assert_eq!(me["guid"], json!(user.guid));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(emu.calls(APP, "whoami"), 2);
    assert_eq!(emu.executions(APP, "whoami"), 1);
    // Signed in now: no more interactions.
    let _: Value = client.call("whoami", &json!({})).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_interaction() {
    let emu = emulator().await;
    let (client, runs) = login_client(&emu, CookieJar::new(), emu.create_user("Dan"));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.call::<Value>("whoami", &json!({})).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "one interaction for ten calls"
    );
    assert_eq!(emu.executions(APP, "whoami"), 10);
}

#[tokio::test]
async fn refused_login_is_a_typed_error_with_the_outcome() {
    let emu = emulator().await;
    let client = builder(&emu)
        .on_auth_required(|_: Challenge| async { AuthOutcome::Denied })
        .build()
        .unwrap();
    let err = call_err(&client, "whoami").await;
    let Error::LoginRequired(challenge) = err else {
        panic!("expected LoginRequired");
    };
    assert_eq!(challenge.outcome(), Some(AuthOutcome::Denied));
    assert_eq!(
        emu.calls(APP, "whoami"),
        1,
        "a refused login is not retried"
    );
}

#[tokio::test]
async fn handler_that_claims_success_without_signing_in_is_not_looped() {
    let emu = emulator().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let client = builder(&emu)
        .on_auth_required(move |_: Challenge| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { AuthOutcome::Completed }
        })
        .build()
        .unwrap();
    let err = call_err(&client, "whoami").await;
    assert!(matches!(err, Error::LoginRequired(_)));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(emu.calls(APP, "whoami"), 2, "one retry, then the error");
}

#[tokio::test]
async fn consent_required_then_granted() {
    let emu = emulator().await;
    let user = emu.create_user("Erin");
    emu.grant_consent(&user, APP, Permissions::IDENTITY.bits());
    let jar = CookieJar::new();
    let client = builder(&emu)
        .credentials(Credentials::session_with_jar(jar.clone()).with_cookies(emu.sign_in(&user)))
        .build()
        .unwrap();
    // `ai` needs IDENTITY | AI: without a handler the consent challenge comes back.
    let err = call_err(&client, "ai").await;
    let challenge = assert_challenge(&emu, &err, ChallengeKind::Consent);
    assert!(
        challenge
            .url()
            .query_pairs()
            .any(|(k, v)| k == "permissions" && v == "5")
    );
    assert_eq!(err.status(), Some(403));

    let (client, runs) = login_client(&emu, jar, user);
    let v: String = client.call("ai", &json!({})).await.unwrap();
    assert_eq!(v, "ai result");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn consent_refused_is_a_typed_error() {
    let emu = emulator().await;
    let (client, _) = common::signed_in_client(&emu);
    let client = builder(&emu)
        .credentials(Credentials::session().with_cookies(cookie_of(&emu, &client).await))
        .on_auth_required(|_: Challenge| async { AuthOutcome::Denied })
        .build()
        .unwrap();
    let err = call_err(&client, "ai").await;
    let Error::ConsentRequired(challenge) = err else {
        panic!("expected ConsentRequired");
    };
    assert_eq!(challenge.outcome(), Some(AuthOutcome::Denied));
}

/// The session cookie the signed-in client sends.
async fn cookie_of(emu: &gipity_emulator::Emulator, client: &gipity_runtime::Client) -> String {
    let _: Value = client.call("whoami", &json!({})).await.unwrap();
    let request = emu.requests().pop().unwrap();
    request
        .headers
        .into_iter()
        .find(|(n, _)| n == "cookie")
        .map(|(_, v)| v)
        .unwrap()
}

#[tokio::test]
async fn auth_status_and_me() {
    let emu = emulator().await;
    let client = session_client(&emu);
    match client.auth_status(Permissions::IDENTITY).await.unwrap() {
        AuthStatus::SignedOut { login } => assert_eq!(login.kind(), ChallengeKind::Login),
        other => panic!("expected signed out, got {other:?}"),
    }
    assert_eq!(client.me().await.unwrap(), None);

    let user = emu.create_user("Frank");
    emu.grant_consent(&user, APP, 1);
    let client = builder(&emu)
        .credentials(Credentials::session().with_cookies(emu.sign_in(&user)))
        .build()
        .unwrap();
    match client.auth_status(Permissions::IDENTITY).await.unwrap() {
        AuthStatus::SignedIn { user: signed_in } => assert_eq!(signed_in.guid, user.guid),
        other => panic!("expected signed in, got {other:?}"),
    }
    match client
        .auth_status(Permissions::IDENTITY | Permissions::AI)
        .await
        .unwrap()
    {
        AuthStatus::NeedsConsent { user, consent } => {
            // The documented answer carries no user until they consent, and the server's
            // consent URL, not one the client builds.
            assert_eq!(user, None);
            assert_eq!(consent.kind(), ChallengeKind::Consent);
            assert_eq!(
                consent.url().as_str(),
                format!(
                    "{}/api/auth/consent?app={APP}&permissions=5",
                    emu.base_url()
                )
            );
        }
        other => panic!("expected needs consent, got {other:?}"),
    }
    assert_eq!(client.me().await.unwrap().map(|u| u.guid), Some(user.guid));
}

#[tokio::test]
async fn member_functions_need_membership() {
    let emu = emulator().await;
    let (client, user) = common::signed_in_client(&emu);
    let err = call_err(&client, "secret").await;
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.code(), Some("FORBIDDEN"));
    emu.app(APP).add_member(&user);
    let v: String = client.call("secret", &json!({})).await.unwrap();
    assert_eq!(v, "the member secret");
}

#[tokio::test]
async fn sign_in_then_consent_in_one_call() {
    let emu = emulator().await;
    let user = emu.create_user("Faye");
    let kinds = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (login, seen) = (emu.clone(), Arc::clone(&kinds));
    // Sign-in grants IDENTITY only; `ai` needs IDENTITY | AI, so a consent follows.
    let client = builder(&emu)
        .on_auth_required(move |challenge| {
            seen.lock().unwrap().push(challenge.kind());
            match challenge.kind() {
                ChallengeKind::Login => {
                    login.grant_consent(&user, APP, Permissions::IDENTITY.bits());
                    let cookie = login.sign_in(&user);
                    if let Some(jar) = challenge.cookie_jar() {
                        jar.add(&format!("{cookie}; Path=/"), challenge.url());
                    }
                }
                _ => login.grant_consent(
                    &user,
                    APP,
                    (Permissions::IDENTITY | Permissions::AI).bits(),
                ),
            }
            async { AuthOutcome::Completed }
        })
        .build()
        .unwrap();
    let v: String = client.call("ai", &json!({})).await.unwrap();
    assert_eq!(v, "ai result");
    assert_eq!(
        *kinds.lock().unwrap(),
        [ChallengeKind::Login, ChallengeKind::Consent]
    );
    assert_eq!(
        emu.calls(APP, "ai"),
        3,
        "the first send and one per challenge"
    );
    assert_eq!(emu.executions(APP, "ai"), 1);
}

#[tokio::test]
async fn a_server_url_with_mode_or_return_gets_ours_once() {
    let emu = emulator().await;
    let login = format!(
        "{}/api/auth/login?app={APP}&permissions=1&mode=redirect&scope=a%20b&star=%2A&return=https%3A%2F%2Fevil.example%2F",
        emu.base_url()
    );
    emu.inject(
        gipity_emulator::Target::function(APP, "whoami"),
        gipity_emulator::Fault::Json {
            status: 401,
            body: json!({"error": {"code": "LOGIN_REQUIRED", "message": "sign in", "loginUrl": login}})
                .to_string(),
        },
        gipity_emulator::Times::Once,
    );
    let return_url = format!("{}/back", emu.base_url());
    let client = builder(&emu)
        .return_url(return_url.as_str())
        .build()
        .unwrap();
    let err = call_err(&client, "whoami").await;
    let challenge = err.challenge().unwrap();
    let values = |url: &gipity_runtime::Url, name: &str| -> Vec<String> {
        url.query_pairs()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .collect()
    };
    assert_eq!(values(&challenge.popup_url(), "mode"), ["popup"]);
    assert_eq!(
        values(&challenge.redirect_url().unwrap(), "return"),
        [return_url]
    );
    let other = format!("{}/elsewhere", emu.base_url());
    assert_eq!(
        values(&challenge.redirect_url_to(&other).unwrap(), "return"),
        [other]
    );
    // The rest of the server's URL is kept, as the server wrote it.
    assert_eq!(values(&challenge.popup_url(), "app"), [APP]);
    let popup = challenge.popup_url();
    let query = popup.query().unwrap();
    assert!(
        query.starts_with(&format!("app={APP}&permissions=1&scope=a%20b&star=%2A&")),
        "{query}"
    );
}

/// The client, the request ids the function saw (one a run), and the handler's runs.
type SideEffect = (
    gipity_runtime::Client,
    Arc<std::sync::Mutex<Vec<Option<String>>>>,
    Arc<AtomicUsize>,
);

/// An app whose `record` function (auth `user`) keeps the request id of every run, and a
/// signed-in client whose handler grants any consent asked for; the next call of `record` runs,
/// then answers `CONSENT_REQUIRED` (as a function that wrote, then met the LLM service's
/// consent, would).
fn consent_after_a_side_effect(emu: &gipity_emulator::Emulator) -> SideEffect {
    let runs = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&runs);
    emu.app(APP)
        .function("record", gipity_emulator::Auth::User, move |call| {
            seen.lock().unwrap().push(call.request_id);
            Ok(json!("recorded"))
        });
    emu.inject(
        gipity_emulator::Target::function(APP, "record"),
        gipity_emulator::Fault::AfterRun(Box::new(gipity_emulator::Fault::Status {
            status: 403,
            code: "CONSENT_REQUIRED".into(),
            message: "the user must allow AI".into(),
        })),
        gipity_emulator::Times::Once,
    );
    let user = emu.create_user("Gus");
    emu.grant_consent(&user, APP, 1);
    let handled = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&handled);
    let client = builder(emu)
        .credentials(Credentials::session().with_cookies(emu.sign_in(&user)))
        .on_auth_required(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
            async { AuthOutcome::Completed }
        })
        .build()
        .unwrap();
    (client, runs, handled)
}

#[tokio::test]
async fn a_completed_challenge_is_resent_with_the_same_request_id() {
    let emu = emulator().await;
    let (client, runs, handled) = consent_after_a_side_effect(&emu);
    let v: String = client.call("record", &json!({})).await.unwrap();
    assert_eq!(v, "recorded");
    assert_eq!(handled.load(Ordering::SeqCst), 1);
    // The function ran twice: both runs saw the same, generated, request id.
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 2);
    let id = runs[0].clone().unwrap();
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(runs[1].as_deref(), Some(id.as_str()));
    // The next call gets another.
    let _: String = client.call("record", &json!({})).await.unwrap();
    assert_ne!(runs_after(&emu, 3), id);
}

/// The request id of the `n`-th (1-based) send to `record`.
fn runs_after(emu: &gipity_emulator::Emulator, n: usize) -> String {
    emu.requests()
        .iter()
        .filter(|r| r.path == format!("/api/{APP}/fn/record"))
        .nth(n - 1)
        .and_then(|r| r.header("x-request-id").map(str::to_owned))
        .unwrap()
}

#[tokio::test]
async fn a_function_that_opted_out_is_not_resent_after_a_completed_challenge() {
    let emu = emulator().await;
    let (client, runs, handled) = consent_after_a_side_effect(&emu);
    let record = gipity_runtime::RemoteFunction::new("record").resend_after_auth(false);
    let err = client
        .call_function::<String>(&record, &json!({}))
        .await
        .unwrap_err();
    let Error::ConsentRequired(challenge) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(challenge.outcome(), Some(AuthOutcome::Completed));
    assert_eq!(handled.load(Ordering::SeqCst), 1, "the handler ran");
    assert_eq!(runs.lock().unwrap().len(), 1, "the function ran once");
    assert_eq!(emu.executions(APP, "record"), 1);
    // The app decides: the consent is there now, so calling again works.
    let v: String = client.call_function(&record, &json!({})).await.unwrap();
    assert_eq!(v, "recorded");
}

/// `whoami` through `client`, which must answer within 10 s (a deadlock would not).
async fn whoami_without_deadlock(client: &gipity_runtime::Client) -> Value {
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        client.call("whoami", &json!({})),
    )
    .await
    .expect("no deadlock")
    .unwrap()
}

#[tokio::test]
async fn the_auth_handler_can_call_the_same_client() {
    let emu = emulator().await;
    let user = emu.create_user("Ida");
    let slot: Arc<std::sync::OnceLock<gipity_runtime::Client>> = Arc::default();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (login, client_slot, notes) = (emu.clone(), Arc::clone(&slot), Arc::clone(&seen));
    let client = builder(&emu)
        .on_auth_required(move |challenge| {
            let (login, user) = (login.clone(), user.clone());
            let (client, notes) = (client_slot.get().cloned(), Arc::clone(&notes));
            async move {
                let client = client.unwrap();
                let cookie = login
                    .complete_login(challenge.url().as_str(), &user)
                    .unwrap();
                challenge
                    .cookie_jar()
                    .unwrap()
                    .add(&format!("{cookie}; Path=/"), challenge.url());
                // What the docs' own flow does after the popup: re-check the status.
                let status = client.auth_status(Permissions::IDENTITY).await.unwrap();
                notes
                    .lock()
                    .unwrap()
                    .push(format!("{}", matches!(status, AuthStatus::SignedIn { .. })));
                let me = client.me().await.unwrap();
                notes.lock().unwrap().push(me.unwrap().display_name);
                let echoed: Value = client.call("echo", &json!("inside")).await.unwrap();
                notes.lock().unwrap().push(echoed.to_string());
                // A call that needs the handler again fails at once, typed.
                let err = client.call::<Value>("ai", &json!({})).await.unwrap_err();
                notes
                    .lock()
                    .unwrap()
                    .push(format!("{:?}", err.challenge().and_then(|c| c.outcome())));
                AuthOutcome::Completed
            }
        })
        .build()
        .unwrap();
    slot.set(client.clone()).unwrap();
    let me = whoami_without_deadlock(&client).await;
    assert_eq!(me["displayName"], "Ida");
    assert_eq!(
        *seen.lock().unwrap(),
        ["true", "Ida", "\"inside\"", "Some(InHandler)"]
    );
}

/// A session client on `emu` whose handler signs `user` in, after running `inside` (given the
/// client in `slot`) and keeping what it returns in `notes`.
fn client_whose_handler_calls<F, Fut>(
    emu: &gipity_emulator::Emulator,
    user: gipity_emulator::User,
    notes: Arc<std::sync::Mutex<Vec<String>>>,
    inside: F,
) -> gipity_runtime::Client
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = String> + Send + 'static,
{
    let login = emu.clone();
    builder(emu)
        .credentials(Credentials::session_with_jar(CookieJar::new()))
        .on_auth_required(move |challenge| {
            let (login, user, notes) = (login.clone(), user.clone(), Arc::clone(&notes));
            let inside = inside();
            async move {
                let note = inside.await;
                notes.lock().unwrap().push(note);
                let cookie = login
                    .complete_login(challenge.url().as_str(), &user)
                    .unwrap();
                challenge
                    .cookie_jar()
                    .unwrap()
                    .add(&format!("{cookie}; Path=/"), challenge.url());
                AuthOutcome::Completed
            }
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn handlers_of_two_clients_that_call_each_other_do_not_deadlock() {
    let emu = emulator().await;
    let notes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let a_slot: Arc<std::sync::OnceLock<gipity_runtime::Client>> = Arc::default();
    let b_slot: Arc<std::sync::OnceLock<gipity_runtime::Client>> = Arc::default();
    // B's handler calls A, which needs A's handler: the one whose run called B.
    let b = client_whose_handler_calls(&emu, emu.create_user("Bea"), Arc::clone(&notes), {
        let a_slot = Arc::clone(&a_slot);
        move || {
            let a = a_slot.get().cloned().unwrap();
            async move {
                let err = a.call::<Value>("whoami", &json!({})).await.unwrap_err();
                format!("b: {:?}", err.challenge().and_then(Challenge::outcome))
            }
        }
    });
    b_slot.set(b.clone()).unwrap();
    // A's handler calls B, which is signed out: B's handler runs inside A's.
    let a = client_whose_handler_calls(&emu, emu.create_user("Abe"), Arc::clone(&notes), {
        let b_slot = Arc::clone(&b_slot);
        move || {
            let b = b_slot.get().cloned().unwrap();
            async move {
                let me: Value = b.call("whoami", &json!({})).await.unwrap();
                format!("a: {}", me["displayName"])
            }
        }
    });
    a_slot.set(a.clone()).unwrap();
    let me = whoami_without_deadlock(&a).await;
    assert_eq!(me["displayName"], "Abe");
    assert_eq!(*notes.lock().unwrap(), ["b: Some(InHandler)", "a: \"Bea\""]);
}

#[tokio::test]
async fn a_handler_task_that_must_not_ask_the_handler_gets_the_challenge() {
    let emu = emulator().await;
    let notes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let slot: Arc<std::sync::OnceLock<gipity_runtime::Client>> = Arc::default();
    let client = client_whose_handler_calls(&emu, emu.create_user("Cy"), Arc::clone(&notes), {
        let slot = Arc::clone(&slot);
        move || {
            let client = slot.get().cloned().unwrap();
            async move {
                // A task of its own is not the handler's future: it says so.
                let options = gipity_runtime::CallOptions::new().ask_auth_handler(false);
                let task = tokio::spawn(async move {
                    let whoami = gipity_runtime::RemoteFunction::new("whoami");
                    client
                        .call_function_with::<Value>(&whoami, &json!({}), &options)
                        .await
                });
                let err = task.await.unwrap().unwrap_err();
                format!(
                    "{:?} {:?}",
                    err.challenge().map(Challenge::kind),
                    err.challenge().and_then(Challenge::outcome)
                )
            }
        }
    });
    slot.set(client.clone()).unwrap();
    let me = whoami_without_deadlock(&client).await;
    assert_eq!(me["displayName"], "Cy");
    assert_eq!(*notes.lock().unwrap(), ["Some(Login) None"]);
    // Outside a handler too: a background call never opens a sign-in.
    let signed_out =
        client_whose_handler_calls(&emu, emu.create_user("Di"), Arc::clone(&notes), || async {
            "the handler ran".to_owned()
        });
    let options = gipity_runtime::CallOptions::new().ask_auth_handler(false);
    let err = signed_out
        .call_function_with::<Value>(
            &gipity_runtime::RemoteFunction::new("whoami"),
            &json!({}),
            &options,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::LoginRequired(_)), "{err:?}");
    assert_eq!(notes.lock().unwrap().len(), 1, "the handler did not run");
}
