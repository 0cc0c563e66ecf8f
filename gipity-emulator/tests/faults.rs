//! Fault injection on functions, token mints and guest sign-ins.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Reply, assert_error, call_anonymously, client, guest, mint, reply, secret};
use gipity_emulator::{Auth, Emulator, Fault, Target, Times};
use serde_json::{Value, json};

async fn setup() -> Emulator {
    let emulator = Emulator::start().await.unwrap();
    emulator
        .app("p_x")
        .function("echo", Auth::Public, |call| Ok(call.body))
        .function("other", Auth::Public, |_| Ok(json!("other")));
    emulator
}

fn url(emulator: &Emulator) -> String {
    format!("{}/api/p_x/fn/echo", emulator.base_url())
}

/// Arms `fault` for the next call of `p_x/echo`.
fn inject_once(emulator: &Emulator, fault: Fault) {
    emulator.inject(Target::function("p_x", "echo"), fault, Times::Once);
}

/// Calls `p_x/echo` without credentials.
async fn echo(emulator: &Emulator, body: Value) -> Reply {
    call_anonymously(emulator, "p_x", "echo", body).await
}

/// `POST` to `p_x/echo` with no body, for faults whose answer is not a JSON reply.
async fn post_echo(emulator: &Emulator) -> reqwest::Response {
    client().post(url(emulator)).send().await.unwrap()
}

#[tokio::test]
async fn status_fault_replaces_the_call_once() {
    let emulator = setup().await;
    let fault = Fault::Status {
        status: 503,
        code: "UNAVAILABLE".into(),
        message: "down for a bit".into(),
    };
    inject_once(&emulator, fault);
    let r = echo(&emulator, json!({"n": 1})).await;
    assert_error(&r, 503, "UNAVAILABLE");
    assert_eq!(r.body["error"]["message"], "down for a bit");
    // Another function is untouched, and the fault is used up.
    assert_eq!(
        call_anonymously(&emulator, "p_x", "other", json!({}))
            .await
            .status,
        200
    );
    let r = echo(&emulator, json!({"n": 2})).await;
    assert_eq!(r.body, json!({"data": {"n": 2}}));
    assert_eq!(emulator.calls("p_x", "echo"), 2);
    assert_eq!(emulator.executions("p_x", "echo"), 1);
    assert_eq!(emulator.bodies("p_x", "echo"), vec![json!({"n": 2})]);
}

#[tokio::test]
async fn times_n_always_and_clear() {
    let emulator = setup().await;
    let target = Target::function("p_x", "echo");
    emulator.inject(target.clone(), Fault::ExpiredToken, Times::N(2));
    for _ in 0..2 {
        assert_error(&echo(&emulator, json!({})).await, 401, "TOKEN_EXPIRED");
    }
    assert_eq!(echo(&emulator, json!({})).await.status, 200);

    emulator.inject(
        target.clone(),
        Fault::RateLimited { retry_after: None },
        Times::Always,
    );
    for _ in 0..3 {
        assert_eq!(echo(&emulator, json!({})).await.status, 429);
    }
    emulator.clear_faults();
    assert_eq!(echo(&emulator, json!({})).await.status, 200);
    assert_eq!(emulator.calls("p_x", "echo"), 7);
    assert_eq!(emulator.executions("p_x", "echo"), 2);
}

#[tokio::test]
async fn rate_limited_with_and_without_retry_after() {
    let emulator = setup().await;
    inject_once(
        &emulator,
        Fault::RateLimited {
            retry_after: Some(7),
        },
    );
    inject_once(&emulator, Fault::RateLimited { retry_after: None });
    let r = echo(&emulator, json!({})).await;
    assert_error(&r, 429, "RATE_LIMITED");
    assert_eq!(r.header("retry-after"), Some("7"));
    let r = echo(&emulator, json!({})).await;
    assert_error(&r, 429, "RATE_LIMITED");
    assert_eq!(r.header("retry-after"), None);
}

#[tokio::test]
async fn delay_then_normal_answer() {
    let emulator = setup().await;
    inject_once(&emulator, Fault::Delay(Duration::from_millis(200)));
    let started = Instant::now();
    let r = echo(&emulator, json!({"slow": true})).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(r.body, json!({"data": {"slow": true}}));
    assert_eq!(emulator.calls("p_x", "echo"), 1);
    assert_eq!(emulator.executions("p_x", "echo"), 1);

    // A client that gives up during the delay leaves no execution behind.
    inject_once(&emulator, Fault::Delay(Duration::from_millis(300)));
    let gave_up = client()
        .post(url(&emulator))
        .json(&json!({}))
        .timeout(Duration::from_millis(50))
        .send()
        .await;
    assert!(gave_up.is_err());
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(emulator.calls("p_x", "echo"), 2);
    assert_eq!(emulator.executions("p_x", "echo"), 1);
}

#[tokio::test]
async fn html_bad_gateway() {
    let emulator = setup().await;
    inject_once(&emulator, Fault::HtmlBadGateway);
    let r = post_echo(&emulator).await;
    assert_eq!(r.status(), 502);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let text = r.text().await.unwrap();
    assert!(text.contains("502 Bad Gateway"), "{text}");
    assert_eq!(emulator.executions("p_x", "echo"), 0);
}

#[tokio::test]
async fn malformed_json() {
    let emulator = setup().await;
    inject_once(&emulator, Fault::MalformedJson);
    let r = post_echo(&emulator).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let text = r.text().await.unwrap();
    assert_eq!(text, "{\"data\": [1, 2");
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
}

#[tokio::test]
async fn truncated_body() {
    let emulator = setup().await;
    inject_once(&emulator, Fault::Truncated);
    let r = post_echo(&emulator).await;
    assert_eq!(r.status(), 200);
    let declared: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > 0);
    assert!(r.bytes().await.is_err(), "a short body must be an error");

    // On the wire: the declared length, fewer bytes, then the close.
    inject_once(&emulator, Fault::Truncated);
    let raw = common::raw(
        emulator.addr(),
        b"POST /api/p_x/fn/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_lowercase()
            .contains(&format!("content-length: {declared}")),
        "{head}"
    );
    assert!(!body.is_empty() && body.len() < declared, "{body}");
    assert_eq!(emulator.executions("p_x", "echo"), 0);
    // The server is fine afterwards.
    assert_eq!(echo(&emulator, json!({})).await.status, 200);
}

#[tokio::test]
async fn reset_connection() {
    let emulator = setup().await;
    inject_once(&emulator, Fault::ResetConnection);
    let r = post_echo(&emulator).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.is_err(), "an aborted body must be an error");

    inject_once(&emulator, Fault::ResetConnection);
    let raw = common::raw(
        emulator.addr(),
        b"POST /api/p_x/fn/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains("{\"data\""), "part of the body is sent: {raw}");
    assert!(
        !raw.ends_with("0\r\n\r\n"),
        "the chunked body must not be terminated: {raw}"
    );
    assert_eq!(emulator.executions("p_x", "echo"), 0);
    assert_eq!(echo(&emulator, json!({})).await.status, 200);
}

#[tokio::test]
async fn large_body() {
    let emulator = setup().await;
    let size = 3 * 1024 * 1024 + 17;
    inject_once(&emulator, Fault::LargeBody(size));
    let r = post_echo(&emulator).await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(bytes.len(), size);
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let text = value["data"].as_str().unwrap();
    assert!(text.bytes().all(|b| b == b'x'));

    inject_once(&emulator, Fault::LargeBody(0));
    let r = reply(post_echo(&emulator).await).await;
    assert_eq!(r.body, json!({"data": ""}));
    assert_eq!(emulator.executions("p_x", "echo"), 0);
}

#[tokio::test]
async fn streamed_body_has_no_length_and_counts_what_was_sent() {
    let emulator = setup().await;
    let size = 3 * 1024 * 1024 + 17;
    inject_once(&emulator, Fault::StreamedBody(size));
    let r = post_echo(&emulator).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.content_length(), None);
    assert_eq!(
        r.headers()
            .get("transfer-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("chunked")
    );
    let bytes = r.bytes().await.unwrap();
    assert_eq!(bytes.len(), size);
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(value["data"].as_str().unwrap().bytes().all(|b| b == b'x'));
    assert_eq!(emulator.counters().body_bytes_sent, size as u64);
    assert_eq!(emulator.executions("p_x", "echo"), 0);
}

#[tokio::test]
async fn a_client_that_stops_reading_stops_the_body() {
    let emulator = setup().await;
    let size = 256 * 1024 * 1024;
    inject_once(&emulator, Fault::StreamedBody(size));
    let mut r = post_echo(&emulator).await;
    assert!(r.chunk().await.unwrap().is_some());
    drop(r);
    // The server notices the closed connection and stops; the count settles far below the size.
    let mut sent = emulator.counters().body_bytes_sent;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = emulator.counters().body_bytes_sent;
        if now == sent {
            break;
        }
        sent = now;
    }
    assert!(sent > 0);
    assert!(sent < 32 * 1024 * 1024, "{sent} bytes sent");
}

#[tokio::test]
async fn json_fault_is_sent_verbatim() {
    let emulator = setup().await;
    let body = r#"{"error":{"code":"LOGIN_REQUIRED","message":"m","loginUrl":"https://elsewhere.example/login"}}"#;
    inject_once(
        &emulator,
        Fault::Json {
            status: 401,
            body: body.into(),
        },
    );
    inject_once(
        &emulator,
        Fault::Json {
            status: 1000,
            body: "not json".into(),
        },
    );
    let r = post_echo(&emulator).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(r.text().await.unwrap(), body);
    let r = post_echo(&emulator).await;
    assert_eq!(r.status(), 500, "an invalid status becomes 500");
    assert_eq!(r.text().await.unwrap(), "not json");
    assert_eq!(emulator.calls("p_x", "echo"), 2);
    assert_eq!(emulator.executions("p_x", "echo"), 0);
}

#[tokio::test]
async fn soft_error() {
    let emulator = setup().await;
    inject_once(&emulator, Fault::SoftError("quota used up".into()));
    let r = echo(&emulator, json!({})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"data": {"error": "quota used up"}}));
    assert_eq!(emulator.executions("p_x", "echo"), 0);
}

#[tokio::test]
async fn invalid_status_becomes_500() {
    let emulator = setup().await;
    let fault = Fault::Status {
        status: 42,
        code: "WEIRD".into(),
        message: "m".into(),
    };
    inject_once(&emulator, fault);
    assert_error(&echo(&emulator, json!({})).await, 500, "WEIRD");
}

#[tokio::test]
async fn faults_apply_before_the_app_is_looked_up() {
    let emulator = setup().await;
    emulator.inject(
        Target::function("p_ghost", "fn"),
        Fault::ExpiredToken,
        Times::Once,
    );
    let r = call_anonymously(&emulator, "p_ghost", "fn", json!({})).await;
    assert_error(&r, 401, "TOKEN_EXPIRED");
    assert_eq!(emulator.calls("p_ghost", "fn"), 1);
    let r = call_anonymously(&emulator, "p_ghost", "fn", json!({})).await;
    assert_error(&r, 404, "APP_NOT_FOUND");
}

#[tokio::test]
async fn token_faults_replace_the_mint() {
    let emulator = setup().await;
    let status = Fault::Status {
        status: 500,
        code: "INTERNAL".into(),
        message: "oops".into(),
    };
    emulator.inject(Target::Token, status, Times::Once);
    emulator.inject(Target::Token, Fault::HtmlBadGateway, Times::Once);
    emulator.inject(
        Target::Token,
        Fault::Delay(Duration::from_millis(100)),
        Times::Once,
    );
    assert_error(&mint(&emulator, "p_x").await, 500, "INTERNAL");
    assert_eq!(emulator.counters().token_mints, 0);
    let r = client()
        .post(format!("{}/api/token", emulator.base_url()))
        .json(&json!({"app": "p_x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(emulator.counters().token_mints, 0);
    let started = Instant::now();
    let r = mint(&emulator, "p_x").await;
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(r.status, 200);
    assert_eq!(emulator.counters().token_mints, 1);
}

#[tokio::test]
async fn guest_faults_replace_the_sign_in() {
    let emulator = setup().await;
    emulator.inject(
        Target::Guest,
        Fault::RateLimited {
            retry_after: Some(1),
        },
        Times::Once,
    );
    let sign_in = || guest(&emulator, "p_x", json!({"deviceSecret": secret('g')}));
    let r = sign_in().await;
    assert_error(&r, 429, "RATE_LIMITED");
    assert_eq!(emulator.counters().guest_sign_ins, 0);
    let r = sign_in().await;
    assert_eq!(r.status, 200);
    assert_eq!(emulator.counters().guest_sign_ins, 1);
}

#[tokio::test]
async fn a_fault_after_the_run_waits_for_a_call_that_may_run() {
    let emulator = setup().await;
    let key = emulator
        .app("p_x")
        .function("write", Auth::User, |_| Ok(json!("written")))
        .api_key();
    let consent = Fault::Status {
        status: 403,
        code: "CONSENT_REQUIRED".into(),
        message: "the function met a consent after writing".into(),
    };
    emulator.inject(
        Target::function("p_x", "write"),
        Fault::AfterRun(Box::new(consent.clone())),
        Times::Once,
    );
    // Refused before running: the fault is not used up.
    let r = call_anonymously(&emulator, "p_x", "write", json!({})).await;
    assert_error(&r, 401, "LOGIN_REQUIRED");
    assert_eq!(emulator.executions("p_x", "write"), 0);
    let creds = common::Creds::default().with_api_key(&key);
    let r = common::call(&emulator, "p_x", "write", json!({}), &creds).await;
    assert_error(&r, 403, "CONSENT_REQUIRED");
    assert_eq!(
        emulator.executions("p_x", "write"),
        1,
        "it ran, then answered"
    );
    let r = common::call(&emulator, "p_x", "write", json!({}), &creds).await;
    assert_eq!(r.body, json!({"data": "written"}));

    // Inside a slow fault: waits, runs, then answers.
    emulator.inject(
        Target::function("p_x", "write"),
        Fault::Slow {
            delay: Duration::from_millis(100),
            then: Box::new(Fault::AfterRun(Box::new(consent))),
        },
        Times::Once,
    );
    let started = Instant::now();
    let r = common::call(&emulator, "p_x", "write", json!({}), &creds).await;
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_error(&r, 403, "CONSENT_REQUIRED");
    assert_eq!(emulator.executions("p_x", "write"), 3);
}
