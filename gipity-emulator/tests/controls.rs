//! The test controls over HTTP (`/__emulator/...`): off by default, each control, CORS,
//! counters and recorded requests, reset, token controls, and the 400s of bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::controls::{assert_done, get, mint_status, page, post, setup, who};
use common::{
    Creds, assert_error, call, call_anonymously, client, get_with_token, guest, mint, preflight,
    reply, secret, send, session_of, token,
};
use gipity_emulator::{DEMO_APP, Emulator, Fault, Target, Times};
use serde_json::json;

/// Every control, with its method.
const CONTROLS: [(&str, &str); 13] = [
    ("POST", "reset"),
    ("POST", "credits"),
    ("POST", "billing"),
    ("POST", "rate-limit"),
    ("POST", "expire-tokens"),
    ("POST", "expire-player-tokens"),
    ("POST", "token-ttl"),
    ("POST", "auto"),
    ("POST", "fault"),
    ("POST", "clear-faults"),
    ("GET", "counters"),
    ("GET", "calls?app=p_demo&function=echo"),
    ("GET", "requests"),
];

#[tokio::test]
async fn controls_are_off_by_default() {
    let root = std::env::temp_dir();
    let emulator = Emulator::builder()
        .demo(true)
        .serve_dir(&root)
        .start()
        .await
        .unwrap();
    for (method, path) in CONTROLS {
        let r = if method == "GET" {
            get(&emulator, path).await
        } else {
            post(&emulator, path, json!({"seconds": 1})).await
        };
        assert_error(&r, 404, "NOT_FOUND");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--test-controls"),
            "{:?}",
            r.body
        );
    }
    // The static files do not shadow the prefix either.
    assert_error(&get(&emulator, "").await, 404, "NOT_FOUND");
    // Nothing changed, and nothing was recorded.
    assert_eq!(emulator.counters().http_requests, 0);
    assert!(emulator.requests().is_empty());
}

#[tokio::test]
async fn every_control_answers_when_on() {
    let emulator = setup().await;
    for (method, path) in CONTROLS {
        let r = if method == "GET" {
            get(&emulator, path).await
        } else {
            let body = match path {
                "token-ttl" => json!({"seconds": 60}),
                "billing" => json!({"app": "p_demo", "service": "llm", "mode": "owner_pays"}),
                "rate-limit" => json!({"limit": 600, "windowSeconds": 60}),
                "credits" => json!({"app": "p_demo", "credits": 1000}),
                "auto" => json!({"decision": "none"}),
                "fault" => json!({"target": "guest", "fault": {"kind": "expiredToken"}}),
                _ => json!({}),
            };
            post(&emulator, path, body).await
        };
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        assert!(r.body.get("data").is_some(), "{path}: {:?}", r.body);
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    // POST controls also work without a body.
    let r = client()
        .post(format!("{}/__emulator/reset", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_done(&reply(r).await);

    let r = get(&emulator, "nope").await;
    assert_error(&r, 404, "NOT_FOUND");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reset")
    );
    assert_error(&get(&emulator, "").await, 404, "NOT_FOUND");
    let r = get(&emulator, "reset").await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("POST"));
    assert_error(
        &post(&emulator, "counters", json!({})).await,
        405,
        "METHOD_NOT_ALLOWED",
    );
}

#[tokio::test]
async fn controls_get_cors_with_credentials() {
    let emulator = setup().await;
    let base = emulator.base_url();
    let origin = "http://127.0.0.1:8000";
    let r = preflight(format!("{base}/__emulator/fault"), origin)
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], origin);
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");
    assert_eq!(r.headers()["access-control-allow-headers"], "content-type");

    let r = client()
        .get(format!("{base}/__emulator/counters"))
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], origin);
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");

    let r = client()
        .get(format!("{base}/__emulator/counters"))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn counters_calls_and_requests_over_http() {
    let emulator = setup().await;
    let app_token = token(&emulator, DEMO_APP).await;
    let user = emulator.create_user("Watcher");
    let api_key = emulator.app(DEMO_APP).api_key();
    let cookie = emulator.sign_in(&user);
    let with_everything = Creds::session(app_token.clone(), format!("theme=dark; {cookie}"));
    call(
        &emulator,
        DEMO_APP,
        "echo",
        json!({"n": 1}),
        &with_everything,
    )
    .await;
    let keyed = Creds::default()
        .with_api_key(api_key.clone())
        .with_bearer("not-a-token");
    call(&emulator, DEMO_APP, "echo", json!({"n": 2}), &keyed).await;
    let r = client()
        .post(format!("{}/api/p_demo/fn/echo", emulator.base_url()))
        .header("Origin", "http://127.0.0.1:8000")
        .header("Cookie", "theme=dark")
        .json(&json!({"n": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A request whose body is refused counts as a call, not an execution.
    let r = client()
        .post(format!("{}/api/p_demo/fn/echo", emulator.base_url()))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let r = get(&emulator, "counters").await;
    assert_eq!(
        r.body,
        json!({"data": {"tokenMints": 1, "guestSignIns": 0, "httpRequests": 5, "bodyBytesSent": 0, "llmRequests": 0, "streamsAborted": 0, "creditsCharged": 0}})
    );

    let r = get(&emulator, "calls?app=p_demo&function=echo").await;
    assert_eq!(
        r.body,
        json!({"data": {"calls": 4, "executions": 3, "bodies": [{"n": 1}, {"n": 2}, {"n": 3}]}})
    );
    let r = get(&emulator, "calls?app=p_demo&function=never").await;
    assert_eq!(
        r.body,
        json!({"data": {"calls": 0, "executions": 0, "bodies": []}})
    );

    let r = get(&emulator, "requests?path=/api/p_demo/fn/echo").await;
    let records = r.body["data"].as_array().unwrap();
    assert_eq!(records.len(), 4, "{records:?}");
    assert_eq!(
        records[0],
        json!({
            "method": "POST",
            "path": "/api/p_demo/fn/echo",
            "hasCookie": true,
            "hasAppToken": true,
            "hasAuthorization": false,
            "hasApiKey": false,
            "origin": null,
        })
    );
    assert_eq!(records[1]["hasAuthorization"], true);
    assert_eq!(records[1]["hasApiKey"], true);
    assert_eq!(records[1]["hasCookie"], false);
    // Another cookie is not the session cookie.
    assert_eq!(records[2]["hasCookie"], false);
    assert_eq!(records[2]["origin"], "http://127.0.0.1:8000");

    // The view never shows a secret.
    let text = r.body.to_string();
    let session_value = cookie.split_once('=').unwrap().1;
    for secret in [
        app_token.as_str(),
        session_value,
        api_key.as_str(),
        "not-a-token",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }

    // Without a prefix: everything, in order.
    let all = get(&emulator, "requests").await;
    let all = all.body["data"].as_array().unwrap().clone();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0]["path"], "/api/token");
    let r = get(&emulator, "requests?path=/api/auth").await;
    assert_eq!(r.body, json!({"data": []}));
}

#[tokio::test]
async fn controls_are_not_recorded() {
    let emulator = setup().await;
    mint(&emulator, DEMO_APP).await;
    for _ in 0..3 {
        get(&emulator, "counters").await;
        get(&emulator, "requests").await;
        post(&emulator, "clear-faults", json!({})).await;
        post(&emulator, "nope", json!({})).await;
    }
    let r = preflight(
        format!("{}/__emulator/reset", emulator.base_url()),
        "http://127.0.0.1:8000",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    let counters = get(&emulator, "counters").await;
    assert_eq!(counters.body["data"]["httpRequests"], 1);
    assert_eq!(emulator.counters().http_requests, 1);
    let requests = emulator.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/token");
}

#[tokio::test]
async fn reset_returns_to_a_clean_slate() {
    let emulator = Emulator::builder()
        .demo(true)
        .test_controls(true)
        .token_ttl(Duration::from_secs(120))
        .start()
        .await
        .unwrap();
    let base = emulator.base_url();
    let app_token = token(&emulator, DEMO_APP).await;

    // A session with consent, from the login page.
    let r = page(
        &emulator,
        "/api/auth/login?app=p_demo&permissions=5&auto=approve&user=Resetter",
    )
    .await;
    let cookie = session_of(&r).unwrap();
    let creds = Creds::session(app_token.clone(), cookie.clone());
    let r = call(&emulator, DEMO_APP, "consented-ai", json!({}), &creds).await;
    assert_eq!(r.body, json!({"data": {"ok": true}}));

    // Faults, a TTL and an auto decision.
    post(
        &emulator,
        "fault",
        json!({"target": "token", "fault": {"kind": "htmlBadGateway"}, "times": "always"}),
    )
    .await;
    post(&emulator, "token-ttl", json!({"seconds": 5})).await;
    post(&emulator, "auto", json!({"decision": "deny"})).await;
    emulator.inject(
        Target::function(DEMO_APP, "echo"),
        Fault::StreamedBody(1000),
        Times::Once,
    );
    call_anonymously(&emulator, DEMO_APP, "echo", json!(1)).await;
    assert_eq!(emulator.counters().body_bytes_sent, 1000);
    assert_eq!(mint_status(&emulator).await, 502);

    assert_done(&post(&emulator, "reset", json!({})).await);

    let counters = get(&emulator, "counters").await;
    assert_eq!(
        counters.body,
        json!({"data": {"tokenMints": 0, "guestSignIns": 0, "httpRequests": 0, "bodyBytesSent": 0, "llmRequests": 0, "streamsAborted": 0, "creditsCharged": 0}})
    );
    assert_eq!(
        get(&emulator, "calls?app=p_demo&function=echo").await.body,
        json!({"data": {"calls": 0, "executions": 0, "bodies": []}})
    );
    assert_eq!(get(&emulator, "requests").await.body, json!({"data": []}));
    assert!(emulator.requests().is_empty());

    // The fault is gone, and the TTL is the one the emulator started with.
    let r = mint(&emulator, DEMO_APP).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["expiresIn"], 120);

    // The session ended; consents are gone even for a new session.
    assert_eq!(who(&emulator, &cookie).await, None);
    let user = emulator.create_user("Returning");
    emulator.grant_consent(&user, DEMO_APP, 1);
    emulator.reset();
    let creds = Creds::session(app_token.clone(), emulator.sign_in(&user));
    assert_error(
        &call(&emulator, DEMO_APP, "whoami", json!({}), &creds).await,
        403,
        "CONSENT_REQUIRED",
    );

    // The pages show their form again.
    let r = page(&emulator, "/api/auth/login?app=p_demo").await;
    assert!(session_of(&r).is_none());
    assert!(r.text().await.unwrap().contains("<form"));

    // Apps, functions and issued tokens stay.
    let r = call(&emulator, DEMO_APP, "add", json!({"a": 1, "b": 1}), &creds).await;
    assert_eq!(r.body, json!({"data": 2}));
    let r = get_with_token(format!("{base}/api/p_demo/auth/status"), &app_token).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn token_controls() {
    let emulator = setup().await;
    let base = emulator.base_url();

    assert_done(&post(&emulator, "token-ttl", json!({"seconds": 7})).await);
    assert_eq!(mint(&emulator, DEMO_APP).await.body["data"]["expiresIn"], 7);
    assert_done(&post(&emulator, "token-ttl", json!({"seconds": 1.5})).await);
    assert_eq!(mint(&emulator, DEMO_APP).await.body["data"]["expiresIn"], 2);
    assert_done(&post(&emulator, "token-ttl", json!({"seconds": 0})).await);
    let expired = token(&emulator, DEMO_APP).await;
    let status_url = format!("{base}/api/p_demo/auth/status");
    let status = |token| get_with_token(&status_url, token);
    assert_error(&status(&expired).await, 401, "TOKEN_EXPIRED");

    post(&emulator, "token-ttl", json!({"seconds": 3600})).await;
    let live = token(&emulator, DEMO_APP).await;
    assert_eq!(status(&live).await.status, 200);
    assert_done(&post(&emulator, "expire-tokens", json!({})).await);
    assert_error(&status(&live).await, 401, "TOKEN_EXPIRED");

    // Player tokens.
    let r = guest(&emulator, DEMO_APP, json!({"deviceSecret": secret('p')})).await;
    let player = Creds::default().with_bearer(r.body["data"]["token"].as_str().unwrap());
    let r = call(&emulator, DEMO_APP, "whoami", json!({}), &player).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_done(&post(&emulator, "expire-player-tokens", json!({})).await);
    assert_error(
        &call(&emulator, DEMO_APP, "whoami", json!({}), &player).await,
        401,
        "TOKEN_EXPIRED",
    );
    assert_eq!(
        get(&emulator, "counters").await.body["data"]["guestSignIns"],
        1
    );
}

#[tokio::test]
async fn bad_control_input_is_a_400() {
    let emulator = setup().await;
    let bad = [
        (
            "fault",
            json!({"fault": {"kind": "malformedJson"}}),
            "target",
        ),
        (
            "fault",
            json!({"target": "tokens", "fault": {"kind": "malformedJson"}}),
            "target",
        ),
        (
            "fault",
            json!({"target": {"app": "p_demo"}, "fault": {"kind": "malformedJson"}}),
            "target",
        ),
        ("fault", json!({"target": "token"}), "fault"),
        ("fault", json!({"target": "token", "fault": "boom"}), "kind"),
        ("fault", json!({"target": "token", "fault": {}}), "kind"),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "explode"}}),
            "htmlBadGateway",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "status"}}),
            "status",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "status", "status": 700}}),
            "status",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "status", "status": 503, "code": 5}}),
            "code",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "delay", "ms": "10"}}),
            "ms",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "delay", "ms": 10, "extra": 1}}),
            "extra",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "largeBody"}}),
            "bytes",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "softError"}}),
            "message",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "rateLimited", "retryAfter": -1}}),
            "retryAfter",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "slow", "ms": 1}}),
            "then",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "malformedJson"}, "times": 0}),
            "times",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "malformedJson"}, "times": "twice"}),
            "times",
        ),
        (
            "fault",
            json!({"target": "token", "fault": {"kind": "malformedJson"}, "time": 1}),
            "time",
        ),
        ("fault", json!([1]), "JSON object"),
        ("auto", json!({}), "decision"),
        ("auto", json!({"decision": "maybe"}), "decision"),
        ("auto", json!({"decision": "approve", "user": ""}), "user"),
        ("auto", json!({"decision": "approve", "user": 7}), "user"),
        (
            "auto",
            json!({"decision": "approve", "delayMs": -5}),
            "delayMs",
        ),
        ("auto", json!({"decision": "approve", "delay": 5}), "delay"),
        ("token-ttl", json!({}), "seconds"),
        ("token-ttl", json!({"seconds": -1}), "seconds"),
        ("token-ttl", json!({"seconds": "60"}), "seconds"),
        ("token-ttl", json!({"secs": 60}), "secs"),
        ("credits", json!({"credits": 5}), "app"),
        (
            "credits",
            json!({"app": "p_demo", "user": "u", "credits": 5}),
            "not both",
        ),
        (
            "credits",
            json!({"app": "p_demo", "credits": -5}),
            "credits",
        ),
        ("rate-limit", json!({"limit": 5}), "windowSeconds"),
        (
            "rate-limit",
            json!({"limit": 5, "windowSeconds": 0}),
            "windowSeconds",
        ),
        (
            "billing",
            json!({"app": "p_demo", "service": "llm", "mode": "free"}),
            "mode",
        ),
    ];
    for (path, body, mentions) in bad {
        let r = post(&emulator, path, body.clone()).await;
        assert_error(&r, 400, "BAD_REQUEST");
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(mentions), "{path} {body}: {message}");
    }
    let r = send(
        client()
            .post(format!("{}/__emulator/fault", emulator.base_url()))
            .body("{not json"),
    )
    .await;
    assert_error(&r, 400, "BAD_REQUEST");
    for query in ["calls", "calls?app=p_demo", "calls?function=echo&app="] {
        let r = get(&emulator, query).await;
        assert_error(&r, 400, "BAD_REQUEST");
    }
    // Nothing was armed and the TTL is unchanged.
    assert_eq!(
        mint(&emulator, DEMO_APP).await.body["data"]["expiresIn"],
        3600
    );
}
