//! The fault matrix: one test per fault, each asserting the typed outcome and what the
//! emulator saw. A call is executed at most once; the only second attempts are the retries the
//! runtime makes after an answer that proves the first attempt did not run (a rejected token, a
//! resolved challenge, a 429).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{
    APP, assert_challenge, assert_http_error, builder, call_err, emulator, login_client,
    session_client, signed_in_client, token_requests, unavailable,
};
use gipity_emulator::{Auth, Emulator, Fault, Target, Times};
use gipity_runtime::{
    AuthOutcome, Challenge, ChallengeKind, CookieJar, CredentialKind, Credentials,
    DEFAULT_MAX_RESPONSE_BYTES, Error, RemoteFunction,
};
use serde_json::{Value, json};

fn inject(emu: &Emulator, function: &str, fault: Fault, times: Times) {
    emu.inject(Target::function(APP, function), fault, times);
}

/// Requests that reached `function`, and executions of it.
/// Asserts that the app token could not be had in time: `CredentialUnavailable` from a
/// `Timeout` of `timeout`.
fn assert_mint_timed_out(err: &Error, timeout: Duration) {
    match err {
        Error::CredentialUnavailable {
            credential: CredentialKind::AppToken,
            source: Some(source),
            ..
        } => assert!(
            matches!(**source, Error::Timeout(t) if t == timeout),
            "{source:?}"
        ),
        other => panic!("{other:?}"),
    }
}

fn seen(emu: &Emulator, function: &str) -> (u64, u64) {
    (emu.calls(APP, function), emu.executions(APP, function))
}

/// `Counters::body_bytes_sent` once the server has stopped sending.
async fn settled_body_bytes(emu: &Emulator) -> u64 {
    let mut sent = emu.counters().body_bytes_sent;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = emu.counters().body_bytes_sent;
        if now == sent {
            break;
        }
        sent = now;
    }
    sent
}

#[tokio::test]
async fn token_endpoint_5xx_fails_closed() {
    let emu = emulator().await;
    emu.inject(Target::Token, unavailable(), Times::Once);
    let client = session_client(&emu);
    let err = call_err(&client, "echo").await;
    match &err {
        Error::CredentialUnavailable {
            credential: CredentialKind::AppToken,
            source: Some(source),
            ..
        } => match &**source {
            Error::Http { status, code, .. } => {
                assert_eq!(*status, 503);
                assert_eq!(code.as_deref(), Some("UNAVAILABLE"));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(seen(&emu, "echo"), (0, 0), "nothing sent without a token");
    assert_eq!(token_requests(&emu), 1, "the mint is not retried");
    assert_eq!(emu.counters().token_mints, 0);

    // The failure is not cached: the next call mints and runs.
    let v: Value = client.call("echo", &json!(1)).await.unwrap();
    assert_eq!(v, json!(1));
    assert_eq!(seen(&emu, "echo"), (1, 1));
    assert_eq!(emu.counters().token_mints, 1);
}

#[tokio::test]
async fn token_endpoint_slower_than_the_timeout() {
    let emu = emulator().await;
    emu.inject(
        Target::Token,
        Fault::Delay(Duration::from_secs(1)),
        Times::Once,
    );
    let client = builder(&emu)
        .timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = call_err(&client, "echo").await;
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "gave up at the timeout, not when the server answered: {:?}",
        started.elapsed()
    );
    assert_mint_timed_out(&err, Duration::from_millis(150));
    assert!(err.is_retryable());
    assert_eq!(seen(&emu, "echo"), (0, 0));
    assert_eq!(token_requests(&emu), 1);

    let v: Value = client.call("echo", &json!(2)).await.unwrap();
    assert_eq!(v, json!(2));
    assert_eq!(seen(&emu, "echo"), (1, 1));
}

#[tokio::test]
async fn function_5xx_with_the_error_envelope() {
    let emu = emulator().await;
    let client = session_client(&emu);
    // A platform 503 in front of the function: the function never ran.
    inject(&emu, "echo", unavailable(), Times::Once);
    let err = call_err(&client, "echo").await;
    assert_http_error(&err, 503, "UNAVAILABLE", "down for maintenance");
    assert!(err.is_retryable());
    assert_eq!(seen(&emu, "echo"), (1, 0), "a 5xx is not retried");

    // The function ran and threw: a 500 that must never be retried.
    let err = call_err(&client, "boom").await;
    assert_http_error(&err, 500, "FUNCTION_ERROR", "kaboom");
    assert!(!err.is_retryable());
    assert_eq!(seen(&emu, "boom"), (1, 1), "executed once, not retried");
}

#[tokio::test]
async fn html_502_page() {
    let emu = emulator().await;
    inject(&emu, "echo", Fault::HtmlBadGateway, Times::Once);
    let err = call_err(&session_client(&emu), "echo").await;
    match &err {
        Error::Decode {
            status: 502,
            excerpt,
            ..
        } => {
            assert!(excerpt.contains("502 Bad Gateway"), "{excerpt}");
            assert!(!excerpt.contains('\n') && excerpt.chars().count() <= 160);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(seen(&emu, "echo"), (1, 0));
}

#[tokio::test]
async fn malformed_json() {
    let emu = emulator().await;
    inject(&emu, "echo", Fault::MalformedJson, Times::Once);
    let err = call_err(&session_client(&emu), "echo").await;
    match &err {
        Error::Decode {
            status: 200,
            detail,
            excerpt,
            ..
        } => {
            assert!(detail.contains("EOF"), "{detail}");
            assert_eq!(excerpt, "{\"data\": [1, 2");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable(), "a 200 with a broken body may have run");
    assert_eq!(seen(&emu, "echo"), (1, 0));
}

#[tokio::test]
async fn truncated_body() {
    let emu = emulator().await;
    inject(&emu, "echo", Fault::Truncated, Times::Once);
    let err = call_err(&session_client(&emu), "echo").await;
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(seen(&emu, "echo"), (1, 0), "not retried");
}

#[tokio::test]
async fn connection_reset_mid_response() {
    let emu = emulator().await;
    inject(&emu, "echo", Fault::ResetConnection, Times::Once);
    let client = session_client(&emu);
    let err = call_err(&client, "echo").await;
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(seen(&emu, "echo"), (1, 0), "not retried");
    // The client is not left broken.
    let v: Value = client.call("echo", &json!(3)).await.unwrap();
    assert_eq!(v, json!(3));
}

#[tokio::test]
async fn function_slower_than_the_call_timeout() {
    const RUNS_FOR: Duration = Duration::from_millis(500);
    let emu = emulator().await;
    emu.app(APP)
        .async_function("slow", Auth::Public, |call| async move {
            tokio::time::sleep(RUNS_FOR).await;
            Ok(call.body)
        });
    // Anonymous, so that the time measured is the call's alone (no token to mint first).
    let client = builder(&emu)
        .credentials(Credentials::anonymous())
        .build()
        .unwrap();
    let timeout = Duration::from_millis(100);
    let slow = RemoteFunction::new("slow")
        .auth(gipity_runtime::Auth::Public)
        .timeout(timeout);
    let started = Instant::now();
    let err = client
        .call_function::<Value>(&slow, &json!({}))
        .await
        .unwrap_err();
    assert!(started.elapsed() < RUNS_FOR, "{:?}", started.elapsed());
    assert!(matches!(err, Error::Timeout(t) if t == timeout), "{err:?}");
    assert!(err.is_retryable());
    // The function started once, and nothing tries it again once it has finished.
    tokio::time::sleep(RUNS_FOR.saturating_sub(started.elapsed()) + Duration::from_millis(100))
        .await;
    assert_eq!(seen(&emu, "slow"), (1, 1));
}

#[tokio::test]
async fn login_required_401() {
    let emu = emulator().await;
    // No handler: the typed error with the challenge, after one request.
    let err = call_err(&session_client(&emu), "whoami").await;
    assert_challenge(&emu, &err, ChallengeKind::Login);
    assert_eq!(seen(&emu, "whoami"), (1, 0));

    // A handler that signs in: exactly one retry.
    let (client, runs) = login_client(&emu, CookieJar::new(), emu.create_user("Lena"));
    let me: Value = client.call("whoami", &json!({})).await.unwrap();
    assert_eq!(me["displayName"], json!("Lena"));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(seen(&emu, "whoami"), (3, 1), "one refused call, one retry");
}

#[tokio::test]
async fn consent_required_403() {
    let emu = emulator().await;
    let (client, _) = signed_in_client(&emu);
    // `ai` needs IDENTITY | AI; the user granted IDENTITY only.
    let err = call_err(&client, "ai").await;
    assert_challenge(&emu, &err, ChallengeKind::Consent);
    assert_eq!(err.status(), Some(403));
    assert_eq!(seen(&emu, "ai"), (1, 0));

    // A handler that is refused: the outcome is in the error, and nothing is retried.
    let user = emu.create_user("Omar");
    emu.grant_consent(&user, APP, 1);
    let client = builder(&emu)
        .credentials(Credentials::session().with_cookies(emu.sign_in(&user)))
        .on_auth_required(|_: Challenge| async { AuthOutcome::Denied })
        .build()
        .unwrap();
    let err = call_err(&client, "ai").await;
    let Error::ConsentRequired(challenge) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(challenge.outcome(), Some(AuthOutcome::Denied));
    assert_eq!(seen(&emu, "ai"), (2, 0));
}

#[tokio::test]
async fn expired_token_401_refreshes_and_retries_once() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let _: Value = client.call("echo", &json!(0)).await.unwrap();
    assert_eq!(emu.counters().token_mints, 1);

    // The token the client holds expired on the server: refresh, one retry, success.
    emu.expire_tokens();
    let v: Value = client.call("echo", &json!(1)).await.unwrap();
    assert_eq!(v, json!(1));
    assert_eq!(
        seen(&emu, "echo"),
        (3, 2),
        "one rejected request, one retry"
    );
    assert_eq!(emu.counters().token_mints, 2);

    // Rejected again after the refresh: the second 401 is returned, never a second retry.
    inject(&emu, "echo", Fault::ExpiredToken, Times::Always);
    let err = client.call::<Value>("echo", &json!(2)).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("TOKEN_EXPIRED"));
    assert_eq!(seen(&emu, "echo"), (5, 2));
    assert_eq!(emu.counters().token_mints, 3);
}

#[tokio::test]
async fn rate_limited_429_with_retry_after() {
    let emu = emulator().await;
    let client = session_client(&emu);
    inject(
        &emu,
        "echo",
        Fault::RateLimited {
            retry_after: Some(1),
        },
        Times::Once,
    );
    let started = Instant::now();
    let v: Value = client.call("echo", &json!("later")).await.unwrap();
    assert_eq!(v, json!("later"));
    assert!(started.elapsed() >= Duration::from_secs(1), "waited");
    assert_eq!(seen(&emu, "echo"), (2, 1), "one retry after the wait");

    // A wait beyond `max_retry_after` (10 s by default) is the caller's decision.
    inject(
        &emu,
        "echo",
        Fault::RateLimited {
            retry_after: Some(3600),
        },
        Times::Once,
    );
    let started = Instant::now();
    let err = call_err(&client, "echo").await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3600)),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(seen(&emu, "echo"), (3, 1));
}

#[tokio::test]
async fn response_over_the_body_limit_is_refused() {
    const MIB: u64 = 1024 * 1024;
    assert_eq!(DEFAULT_MAX_RESPONSE_BYTES, 16 * MIB);
    let emu = emulator().await;
    let client = session_client(&emu);

    // A chunked body of 256 MiB: no length up front, so only reading can tell. The client
    // stops at the limit, and the server stops sending soon after.
    inject(
        &emu,
        "echo",
        Fault::StreamedBody(256 * MIB as usize),
        Times::Once,
    );
    let err = call_err(&client, "echo").await;
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                status: 200,
                limit: DEFAULT_MAX_RESPONSE_BYTES,
                ..
            }
        ),
        "{err:?}"
    );
    let sent = settled_body_bytes(&emu).await;
    println!("streamed 256 MiB body: the server sent {sent} bytes before the client hung up");
    assert!(sent >= DEFAULT_MAX_RESPONSE_BYTES, "read up to the limit");
    assert!(
        sent < 2 * DEFAULT_MAX_RESPONSE_BYTES,
        "stopped early: {sent}"
    );
    assert_eq!(seen(&emu, "echo"), (1, 0));

    // A body whose Content-Length is over the limit is refused before its body is read.
    let before = emu.counters().body_bytes_sent;
    inject(
        &emu,
        "echo",
        Fault::LargeBody(64 * MIB as usize),
        Times::Once,
    );
    let err = call_err(&client, "echo").await;
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");
    let sent = settled_body_bytes(&emu).await - before;
    println!("64 MiB body with Content-Length: the server sent {sent} bytes");
    assert!(
        sent < DEFAULT_MAX_RESPONSE_BYTES,
        "refused from the header: {sent}"
    );
    assert_eq!(seen(&emu, "echo"), (2, 0));

    // Under the limit, a chunked body is read whole.
    inject(
        &emu,
        "echo",
        Fault::StreamedBody(2 * MIB as usize),
        Times::Once,
    );
    let data: String = client.call("echo", &json!({})).await.unwrap();
    assert_eq!(
        data.len() as u64,
        2 * MIB - 11,
        "the body minus `{{\"data\":\"\"}}`"
    );

    // A limit set on the builder is the one enforced, both ways.
    let client = builder(&emu).max_response_bytes(64 * 1024).build().unwrap();
    inject(&emu, "echo", Fault::LargeBody(256 * 1024), Times::Once);
    let err = call_err(&client, "echo").await;
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                status: 200,
                limit: 65536,
                ..
            }
        ),
        "{err:?}"
    );
    inject(&emu, "echo", Fault::LargeBody(32 * 1024), Times::Once);
    let v: String = client.call("echo", &json!({})).await.unwrap();
    assert!(v.len() >= 30 * 1024);
}

#[tokio::test]
async fn a_functions_timeout_bounds_the_whole_call_mint_included() {
    let emu = emulator().await;
    emu.inject(
        Target::Token,
        Fault::Delay(Duration::from_secs(2)),
        Times::Once,
    );
    // The client's timeout is the default 30 s; the function's is 100 ms.
    let client = builder(&emu).build().unwrap();
    let quick = RemoteFunction::new("echo").timeout(Duration::from_millis(100));
    let started = Instant::now();
    let err = client
        .call_function::<Value>(&quick, &json!({}))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "waited for the mint: {:?}",
        started.elapsed()
    );
    assert_mint_timed_out(&err, Duration::from_millis(100));
    assert_eq!(seen(&emu, "echo"), (0, 0));
}

#[tokio::test]
async fn a_retry_after_longer_than_the_call_may_wait_is_not_waited_for() {
    let emu = emulator().await;
    let client = builder(&emu).build().unwrap();
    let _: Value = client.call("echo", &json!({})).await.unwrap();
    emu.inject(
        Target::function(APP, "echo"),
        Fault::RateLimited {
            retry_after: Some(1),
        },
        Times::Once,
    );
    let quick = RemoteFunction::new("echo").timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = client
        .call_function::<Value>(&quick, &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(1)),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(seen(&emu, "echo"), (2, 1));
}

#[tokio::test]
async fn a_timeout_too_long_for_the_clock_means_no_timeout() {
    let emu = emulator().await;
    let client = builder(&emu).timeout(Duration::MAX).build().unwrap();
    let v: Value = client.call("echo", &json!({"n": 1})).await.unwrap();
    assert_eq!(v, json!({"n": 1}));
    let forever = RemoteFunction::new("echo").timeout(Duration::MAX);
    let v: Value = builder(&emu)
        .build()
        .unwrap()
        .call_function(&forever, &json!({"n": 2}))
        .await
        .unwrap();
    assert_eq!(v, json!({"n": 2}));
    let options = gipity_runtime::CallOptions::new().timeout(Duration::MAX);
    let v: Value = client
        .call_function_with(&RemoteFunction::new("echo"), &json!({"n": 3}), &options)
        .await
        .unwrap();
    assert_eq!(v, json!({"n": 3}));
}
