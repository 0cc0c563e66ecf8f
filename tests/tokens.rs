//! The app token: one mint for many cold callers, proactive refresh, refresh on rejection,
//! fail closed when minting fails. A token rejected on every attempt and a mint slower than the
//! timeout are rows of the fault matrix in `faults.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{APP, emulator, session_client, token_requests, unavailable};
use gipity_emulator::{Fault, Target, Times};
use gipity_runtime::{Auth, CredentialKind, Error, RemoteFunction};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_cold_calls_mint_once() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let calls = (0..200).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.call::<Value>("echo", &json!({ "i": i })).await })
    });
    let results = futures_join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "every call succeeds");
    assert_eq!(emu.counters().token_mints, 1);
    assert_eq!(emu.executions(APP, "echo"), 200);
}

#[tokio::test]
async fn warm_calls_reuse_the_token() {
    let emu = emulator().await;
    let client = session_client(&emu);
    for i in 0..20 {
        let _: Value = client.call("echo", &json!(i)).await.unwrap();
    }
    assert_eq!(emu.counters().token_mints, 1);
    assert_eq!(
        emu.counters().http_requests,
        21,
        "one mint, then one request per call"
    );
}

#[tokio::test]
async fn token_is_refreshed_before_it_expires() {
    let emu = emulator().await;
    emu.set_token_ttl(Duration::from_secs(1));
    let client = session_client(&emu);
    let _: Value = client.call("echo", &json!(1)).await.unwrap();
    // A 1 s token is refreshed 250 ms early; after 900 ms it is no longer used.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let _: Value = client.call("echo", &json!(2)).await.unwrap();
    assert_eq!(emu.counters().token_mints, 2);
    assert_eq!(emu.calls(APP, "echo"), 2, "no call was rejected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiring_mid_run_is_refreshed_once_for_all_callers() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let _: Value = client.call("echo", &json!(0)).await.unwrap();
    emu.expire_tokens();
    let calls = (0..50).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.call::<Value>("echo", &json!(i)).await })
    });
    let results = futures_join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        emu.counters().token_mints,
        2,
        "one refresh for every rejected caller"
    );
    assert_eq!(emu.executions(APP, "echo"), 51);
}

#[tokio::test]
async fn one_rejection_then_success() {
    let emu = emulator().await;
    let client = session_client(&emu);
    emu.inject(
        Target::function(APP, "echo"),
        Fault::ExpiredToken,
        Times::Once,
    );
    let v: Value = client.call("echo", &json!("ok")).await.unwrap();
    assert_eq!(v, json!("ok"));
    assert_eq!(emu.calls(APP, "echo"), 2);
    assert_eq!(emu.executions(APP, "echo"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_mint_fails_closed_for_every_waiting_caller() {
    let emu = emulator().await;
    // A slow failure, so that every caller is waiting on the one mint when it fails.
    emu.inject(
        Target::Token,
        Fault::Slow {
            delay: Duration::from_millis(300),
            then: Box::new(unavailable()),
        },
        Times::Once,
    );
    let client = session_client(&emu);
    let calls = (0..20).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.call::<Value>("whoami", &json!({})).await })
    });
    for result in futures_join_all(calls).await {
        match result.unwrap_err() {
            Error::CredentialUnavailable {
                credential: CredentialKind::AppToken,
                source: Some(source),
                ..
            } => assert_eq!(source.status(), Some(503)),
            other => panic!("expected a credential error, got {other:?}"),
        }
    }
    assert_eq!(
        emu.calls(APP, "whoami"),
        0,
        "nothing was sent without a token"
    );
    assert_eq!(
        token_requests(&emu),
        1,
        "one mint attempt for twenty waiting callers"
    );
    // The next call mints again and succeeds as far as the token goes.
    let v: Value = client.call("echo", &json!(1)).await.unwrap();
    assert_eq!(v, json!(1));
}

#[tokio::test]
async fn public_function_goes_out_without_a_token_when_minting_fails() {
    let emu = emulator().await;
    emu.inject(Target::Token, Fault::HtmlBadGateway, Times::Always);
    let client = session_client(&emu);
    let v: Value = client
        .call_function(
            &RemoteFunction::new("echo").auth(Auth::Public),
            &json!("anon"),
        )
        .await
        .unwrap();
    assert_eq!(v, json!("anon"));
    let last = emu.requests().pop().unwrap();
    assert!(!last.headers.iter().any(|(n, _)| n == "x-app-token"));
}

async fn futures_join_all<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.expect("task completes"));
    }
    out
}

#[tokio::test]
async fn absurd_expires_in_is_capped_not_a_panic() {
    // A server that claims a token lives for u64::MAX seconds must not crash the client.
    let (base, server) = serve(vec![
        format!(
            r#"{{"data":{{"token":"eyJabc.def.ghi","expiresIn":{}}}}}"#,
            u64::MAX
        ),
        r#"{"data":"ok"}"#.to_owned(),
    ])
    .await;
    let client = gipity_runtime::Client::builder(APP)
        .base_url(base)
        .build()
        .unwrap();
    let v: String = client.call("echo", &json!({})).await.unwrap();
    assert_eq!(v, "ok");
    server.await.unwrap();
}

/// A server on loopback that answers its next connections with `bodies` (200, JSON), in order.
async fn serve(bodies: Vec<String>) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        for body in bodies {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 4096];
            let _ = socket.read(&mut request).await.unwrap();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
        }
    });
    (base, server)
}

#[tokio::test]
async fn expires_in_may_be_fractional_a_string_or_missing() {
    for expires_in in [
        r#","expiresIn":3599.5"#,
        r#","expiresIn":"3600""#,
        "",
        r#","expiresIn":null"#,
    ] {
        let (base, server) = serve(vec![
            format!(r#"{{"data":{{"token":"eyJabc.def.ghi"{expires_in}}}}}"#),
            r#"{"data":"ok"}"#.to_owned(),
        ])
        .await;
        let client = gipity_runtime::Client::builder(APP)
            .base_url(base)
            .build()
            .unwrap();
        let v: String = client.call("echo", &json!({})).await.unwrap();
        assert_eq!(v, "ok", "{expires_in}");
        server.await.unwrap();
    }
}

#[tokio::test]
async fn a_negative_or_non_numeric_expires_in_is_a_typed_error() {
    for expires_in in ["-1", r#""soon""#, "true", "[]"] {
        let (base, server) = serve(vec![format!(
            r#"{{"data":{{"token":"eyJabc.def.ghi","expiresIn":{expires_in}}}}}"#
        )])
        .await;
        let client = gipity_runtime::Client::builder(APP)
            .base_url(base)
            .build()
            .unwrap();
        let err = client.call::<Value>("echo", &json!({})).await.unwrap_err();
        let Error::CredentialUnavailable {
            credential: CredentialKind::AppToken,
            source: Some(source),
            ..
        } = &err
        else {
            panic!("{expires_in}: {err:?}");
        };
        assert!(
            matches!(&**source, Error::Decode { detail, .. } if detail.contains("expiresIn")),
            "{expires_in}: {source:?}"
        );
        // Nothing but the mint was sent: the call fails closed.
        server.await.unwrap();
    }
}

#[tokio::test]
async fn a_failed_early_refresh_keeps_the_valid_token() {
    let emu = emulator().await;
    emu.set_token_ttl(Duration::from_secs(4));
    let client = session_client(&emu);
    let _: Value = client.call("echo", &json!(1)).await.unwrap();
    assert_eq!(emu.counters().token_mints, 1);
    // Past the refresh point (3 s: a quarter early), before expiry (4 s); the refresh fails.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    emu.inject(Target::Token, unavailable(), Times::Always);
    let v: Value = client.call("echo", &json!(2)).await.unwrap();
    assert_eq!(v, json!(2));
    let v: Value = client.call("echo", &json!(3)).await.unwrap();
    assert_eq!(v, json!(3));
    // One refresh was tried; the next waits a while instead of failing every call.
    assert_eq!(token_requests(&emu), 2);
    assert_eq!(emu.counters().token_mints, 1);
    // Once the token has really expired, calls fail closed.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let err = client.call::<Value>("echo", &json!(4)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::CredentialUnavailable {
                credential: CredentialKind::AppToken,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(emu.executions(APP, "echo"), 3);
}

#[tokio::test]
async fn a_hanging_refresh_serves_the_valid_token() {
    let emu = emulator().await;
    emu.set_token_ttl(Duration::from_secs(8));
    let client = session_client(&emu);
    let _: Value = client.call("echo", &json!(1)).await.unwrap();
    // Past the refresh point (6 s: a quarter early), before expiry; the token endpoint hangs
    // far past the call's timeout.
    tokio::time::sleep(Duration::from_millis(6200)).await;
    emu.inject(
        Target::Token,
        Fault::Delay(Duration::from_secs(30)),
        Times::Once,
    );
    let echo = RemoteFunction::new("echo").timeout(Duration::from_secs(10));
    let started = std::time::Instant::now();
    let refreshing = tokio::spawn({
        let client = client.clone();
        async move { client.call_function::<Value>(&echo, &json!(2)).await }
    });
    // A call that arrives during the refresh uses the current token without waiting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let arrived = std::time::Instant::now();
    let v: Value = client.call("echo", &json!(3)).await.unwrap();
    assert_eq!(v, json!(3));
    assert!(
        arrived.elapsed() < Duration::from_millis(700),
        "waited for the refresh: {:?}",
        arrived.elapsed()
    );
    let v = refreshing.await.unwrap().unwrap();
    assert_eq!(v, json!(2));
    // The refreshing call waited a little (half of what the token had left), not for the
    // endpoint, nor its own timeout.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(emu.executions(APP, "echo"), 3);
}

#[tokio::test]
async fn a_mint_cut_short_by_one_calls_timeout_does_not_fail_the_others() {
    let emu = emulator().await;
    let client = session_client(&emu);
    emu.inject(
        Target::Token,
        Fault::Delay(Duration::from_millis(800)),
        Times::Once,
    );
    // A hurried call starts the mint and gives up on it; a patient one waits behind it.
    let hurried = RemoteFunction::new("echo").timeout(Duration::from_millis(150));
    let hurried = tokio::spawn({
        let client = client.clone();
        async move { client.call_function::<Value>(&hurried, &json!(1)).await }
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let patient: Value = client.call("echo", &json!(2)).await.unwrap();
    assert_eq!(patient, json!(2));
    let err = hurried.await.unwrap().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::CredentialUnavailable { source: Some(source), .. }
                if matches!(**source, Error::Timeout(t) if t == Duration::from_millis(150))
        ),
        "{err:?}"
    );
    // The patient call minted for itself.
    assert_eq!(token_requests(&emu), 2);
}

#[tokio::test]
async fn a_token_rejected_during_a_failed_refresh_is_not_the_fallback() {
    // Timeline (token lifetime 16 s, so due for refresh at 12 s): a call sends the token at
    // 10.5 s and is answered 401 at 13.2 s; meanwhile a refresh starts at 12.3 s, gives up
    // waiting at 14.15 s (half of what the token has left) but finds the token rejected, so
    // waits on, and fails at 14.8 s, while the rejected token has not yet expired.
    let emu = emulator().await;
    emu.set_token_ttl(Duration::from_secs(16));
    let client = session_client(&emu);
    let _: Value = client.call("echo", &json!(0)).await.unwrap();
    let first = emu.requests();
    let rejected = first
        .iter()
        .find_map(|r| r.header("x-app-token"))
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    emu.inject(
        Target::function(APP, "echo"),
        Fault::Slow {
            delay: Duration::from_millis(2700),
            then: Box::new(Fault::ExpiredToken),
        },
        Times::Once,
    );
    let rejected_call = tokio::spawn({
        let client = client.clone();
        async move { client.call::<Value>("echo", &json!(1)).await }
    });
    tokio::time::sleep(Duration::from_millis(1800)).await;
    emu.inject(
        Target::Token,
        Fault::Slow {
            delay: Duration::from_millis(2500),
            then: Box::new(unavailable()),
        },
        Times::Once,
    );
    let refreshing = client.call::<Value>("echo", &json!(2)).await;
    let rejected_call = rejected_call.await.unwrap();
    for result in [&refreshing, &rejected_call] {
        assert!(
            matches!(
                result,
                Err(Error::CredentialUnavailable {
                    credential: CredentialKind::AppToken,
                    ..
                })
            ),
            "{result:?}"
        );
    }
    // The rejected token went out twice: before it was due, and the send it was rejected on.
    let sent = emu
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/fn/echo") && r.header("x-app-token") == Some(&rejected))
        .count();
    assert_eq!(sent, 2);
    // Then a fresh mint serves.
    let v: Value = client.call("echo", &json!(3)).await.unwrap();
    assert_eq!(v, json!(3));
}
