//! Faults armed over HTTP (`POST /__emulator/fault`): every kind, and slow faults that hold up
//! nothing else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;
use std::time::Instant;

use common::controls::{assert_done, get, mint_status, post, setup};
use common::{Creds, assert_error, call, client, guest, mint, secret};
use gipity_emulator::DEMO_APP;
use serde_json::{Value, json};

#[tokio::test]
async fn fault_control_arms_every_kind() {
    let emulator = setup().await;
    let echo = json!({"app": "p_demo", "function": "echo"});
    let arm = |fault: Value, times: Value| {
        let emulator = emulator.clone();
        let echo = echo.clone();
        async move {
            let r = post(
                &emulator,
                "fault",
                json!({"target": echo, "fault": fault, "times": times}),
            )
            .await;
            assert_done(&r);
        }
    };
    let raw_echo = || {
        client()
            .post(format!("{}/api/p_demo/fn/echo", emulator.base_url()))
            .json(&json!({"n": 1}))
            .send()
    };
    let none = Creds::default();

    arm(
        json!({"kind": "status", "status": 503, "code": "UNAVAILABLE", "message": "down"}),
        json!("once"),
    )
    .await;
    let r = call(&emulator, DEMO_APP, "echo", json!({}), &none).await;
    assert_error(&r, 503, "UNAVAILABLE");
    assert_eq!(r.body["error"]["message"], "down");
    assert_eq!(
        call(&emulator, DEMO_APP, "echo", json!(2), &none)
            .await
            .body,
        json!({"data": 2})
    );

    arm(json!({"kind": "delay", "ms": 200}), json!(1)).await;
    let started = Instant::now();
    let r = call(&emulator, DEMO_APP, "echo", json!(3), &none).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(r.body, json!({"data": 3}));

    arm(json!({"kind": "expiredToken"}), json!(2)).await;
    for _ in 0..2 {
        assert_error(
            &call(&emulator, DEMO_APP, "echo", json!({}), &none).await,
            401,
            "TOKEN_EXPIRED",
        );
    }
    assert_eq!(
        call(&emulator, DEMO_APP, "echo", json!({}), &none)
            .await
            .status,
        200
    );

    arm(
        json!({"kind": "rateLimited", "retryAfter": 7}),
        json!("once"),
    )
    .await;
    let r = call(&emulator, DEMO_APP, "echo", json!({}), &none).await;
    assert_error(&r, 429, "RATE_LIMITED");
    assert_eq!(r.header("retry-after"), Some("7"));
    arm(json!({"kind": "rateLimited"}), json!("once")).await;
    let r = call(&emulator, DEMO_APP, "echo", json!({}), &none).await;
    assert_error(&r, 429, "RATE_LIMITED");
    assert_eq!(r.header("retry-after"), None);

    arm(json!({"kind": "htmlBadGateway"}), json!("once")).await;
    let r = raw_echo().await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("502 Bad Gateway"));

    arm(json!({"kind": "malformedJson"}), json!("once")).await;
    let r = raw_echo().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());

    arm(
        json!({"kind": "softError", "message": "out of stock"}),
        json!("once"),
    )
    .await;
    let r = call(&emulator, DEMO_APP, "echo", json!({}), &none).await;
    assert_eq!(r.body, json!({"data": {"error": "out of stock"}}));

    arm(
        json!({"kind": "largeBody", "bytes": 300_000}),
        json!("once"),
    )
    .await;
    let r = raw_echo().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().len(), 300_000);

    arm(
        json!({"kind": "streamedBody", "bytes": 200_000}),
        json!("once"),
    )
    .await;
    let r = raw_echo().await.unwrap();
    assert_eq!(r.content_length(), None);
    assert_eq!(r.bytes().await.unwrap().len(), 200_000);
    assert_eq!(
        get(&emulator, "counters").await.body["data"]["bodyBytesSent"],
        500_000
    );

    arm(
        json!({"kind": "redirect", "location": "http://127.0.0.1:9/elsewhere"}),
        json!("once"),
    )
    .await;
    let r = raw_echo().await.unwrap();
    assert_eq!(r.status(), 307);
    assert_eq!(r.headers()["location"], "http://127.0.0.1:9/elsewhere");
    arm(
        json!({"kind": "redirect", "status": 301, "location": "/moved"}),
        json!("once"),
    )
    .await;
    assert_eq!(raw_echo().await.unwrap().status(), 301);
    let r = post(
        &emulator,
        "fault",
        json!({"target": {"app": "p_demo", "function": "echo"}, "fault": {"kind": "redirect", "status": 200, "location": "/x"}}),
    )
    .await;
    assert_error(&r, 400, "BAD_REQUEST");
    assert!(
        r.body["error"]["message"].as_str().unwrap().contains("3xx"),
        "{}",
        r.body
    );

    // An endless body goes on until the client stops reading, and then stops too.
    arm(json!({"kind": "endlessBody"}), json!("once")).await;
    let mut r = raw_echo().await.unwrap();
    assert_eq!(r.content_length(), None);
    let mut read = 0_usize;
    while read < 5_000_000 {
        read += r
            .chunk()
            .await
            .unwrap()
            .expect("the body does not end")
            .len();
    }
    drop(r);
    let sent = || async {
        get(&emulator, "counters").await.body["data"]["bodyBytesSent"]
            .as_u64()
            .unwrap()
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = sent().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        sent().await,
        stopped,
        "the body goes on after the client left"
    );
    assert!(stopped >= 500_000 + 5_000_000);

    arm(
        json!({"kind": "json", "status": 401, "body": "{\"error\":{\"code\":\"LOGIN_REQUIRED\",\"loginUrl\":\"https://elsewhere.example/\"}}"}),
        json!("once"),
    )
    .await;
    let r = call(&emulator, DEMO_APP, "echo", json!({}), &none).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["loginUrl"], "https://elsewhere.example/");

    arm(
        json!({"kind": "slow", "ms": 100, "then": {"kind": "status", "status": 500}}),
        json!("once"),
    )
    .await;
    let started = Instant::now();
    let r = call(&emulator, DEMO_APP, "echo", json!({}), &none).await;
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_error(&r, 500, "INJECTED_FAULT");

    // Token and guest targets, `always` until cleared.
    assert_done(
        &post(
            &emulator,
            "fault",
            json!({"target": "token", "fault": {"kind": "htmlBadGateway"}, "times": "always"}),
        )
        .await,
    );
    assert_done(
        &post(
            &emulator,
            "fault",
            json!({"target": "guest", "fault": {"kind": "status", "status": 503, "code": "X", "message": "y"}}),
        )
        .await,
    );
    for _ in 0..3 {
        assert_eq!(mint_status(&emulator).await, 502);
    }
    let r = guest(&emulator, DEMO_APP, json!({"deviceSecret": secret('g')})).await;
    assert_error(&r, 503, "X");
    assert_done(&post(&emulator, "clear-faults", json!({})).await);
    assert_eq!(mint(&emulator, DEMO_APP).await.status, 200);
    assert_eq!(
        get(&emulator, "counters").await.body["data"]["tokenMints"],
        1
    );
}

#[tokio::test]
async fn slow_waits_without_holding_up_other_requests() {
    // A current-thread runtime: a blocking wait would stall the echo below.
    let emulator = setup().await;
    let none = Creds::default();
    let started = Instant::now();
    let slow = {
        let emulator = emulator.clone();
        tokio::spawn(async move {
            let none = Creds::default();
            call(
                &emulator,
                DEMO_APP,
                "slow",
                json!({"ms": 800, "tag": "s"}),
                &none,
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = call(&emulator, DEMO_APP, "echo", json!("quick"), &none).await;
    assert_eq!(r.body, json!({"data": "quick"}));
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "echo waited {:?}",
        started.elapsed()
    );
    let r = slow.await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(800));
    assert_eq!(r.body, json!({"data": {"ms": 800, "tag": "s"}}));

    let r = call(&emulator, DEMO_APP, "slow", json!({}), &none).await;
    assert_eq!(r.body, json!({"data": {}}));
    let r = call(&emulator, DEMO_APP, "slow", json!({"ms": "soon"}), &none).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
}
