//! The test controls over HTTP (`/__emulator/...`), logout, the automatic
//! page decisions and the demo functions the browser tests use.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    Binary, Creds, Reply, assert_error, call, call_anonymously, client, get_with_token, guest, me,
    mint, post_json, preflight, reply, secret, send, session_of, token,
};
use gipity_emulator::{AutoDecision, DEMO_APP, Emulator, Fault, FnError, Target, Times};
use serde_json::{Value, json};

/// The demo app with the test controls on.
async fn setup() -> Emulator {
    Emulator::builder()
        .demo(true)
        .test_controls(true)
        .start()
        .await
        .unwrap()
}

/// `POST /__emulator/<path>` with a JSON body.
async fn post(emulator: &Emulator, path: &str, body: Value) -> Reply {
    post_json(format!("{}/__emulator/{path}", emulator.base_url()), &body).await
}

/// `GET /__emulator/<path>`.
async fn get(emulator: &Emulator, path: &str) -> Reply {
    common::get(format!("{}/__emulator/{path}", emulator.base_url())).await
}

/// Asserts `{"data":{}}`.
fn assert_done(reply: &Reply) {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body, json!({"data": {}}));
}

/// `GET` a page of the emulator; returns the response.
async fn page(emulator: &Emulator, path_and_query: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path_and_query}", emulator.base_url()))
        .send()
        .await
        .unwrap()
}

/// The status of `POST /api/token` for the demo app, whatever the body.
async fn mint_status(emulator: &Emulator) -> u16 {
    client()
        .post(format!("{}/api/token", emulator.base_url()))
        .json(&json!({"app": DEMO_APP}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `GET /api/auth/me` with `cookie`: the display name, or `None` when signed out.
async fn who(emulator: &Emulator, cookie: &str) -> Option<String> {
    let r = me(emulator, cookie).await;
    r.body["user"]["displayName"].as_str().map(str::to_owned)
}

/// Every control, with its method.
const CONTROLS: [(&str, &str); 10] = [
    ("POST", "reset"),
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
        json!({"data": {"tokenMints": 1, "guestSignIns": 0, "httpRequests": 5, "bodyBytesSent": 0}})
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
        json!({"data": {"tokenMints": 0, "guestSignIns": 0, "httpRequests": 0, "bodyBytesSent": 0}})
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

/// The page modes an auto decision answers in.
const MODES: [&str; 3] = [
    "&mode=popup",
    "&return=http%3A%2F%2F127.0.0.1%3A8000%2Fapp%2F",
    "",
];

#[tokio::test]
async fn auto_approve_signs_in_on_both_pages_in_every_mode() {
    let emulator = setup().await;
    assert_done(&post(&emulator, "auto", json!({"decision": "approve"})).await);
    for page_name in ["login", "consent"] {
        for mode in MODES {
            let r = page(
                &emulator,
                &format!("/api/auth/{page_name}?app=p_demo&permissions=5{mode}"),
            )
            .await;
            let cookie = session_of(&r).unwrap_or_else(|| panic!("{page_name}{mode}: no cookie"));
            let status = r.status();
            let location = r.headers().get("location").cloned();
            let html = r.text().await.unwrap();
            match mode {
                "&mode=popup" => {
                    assert_eq!(status, 200);
                    assert!(
                        html.contains(
                            r#"window.opener.postMessage({type:"gipity_auth", status:"success"}, "*")"#
                        ),
                        "{html}"
                    );
                    assert!(html.contains("window.close()"), "{html}");
                    assert!(!html.contains("setTimeout"), "{html}");
                }
                "" => {
                    assert_eq!(status, 200);
                    assert!(html.contains("Signed in as Browser User"), "{html}");
                }
                _ => {
                    assert_eq!(status, 303);
                    assert_eq!(location.unwrap(), "http://127.0.0.1:8000/app/");
                }
            }
            assert_eq!(
                who(&emulator, &cookie).await.as_deref(),
                Some("Browser User")
            );
            let creds = Creds::session(token(&emulator, DEMO_APP).await, cookie);
            let r = call(&emulator, DEMO_APP, "consented-ai", json!({}), &creds).await;
            assert_eq!(r.body, json!({"data": {"ok": true}}), "{page_name}{mode}");
        }
    }

    // A named user; the consent page keeps the signed-in user when none is named.
    post(
        &emulator,
        "auto",
        json!({"decision": "approve", "user": "Ada"}),
    )
    .await;
    let r = page(&emulator, "/api/auth/login?app=p_demo&mode=popup").await;
    let ada = session_of(&r).unwrap();
    assert_eq!(who(&emulator, &ada).await.as_deref(), Some("Ada"));
    post(&emulator, "auto", json!({"decision": "approve"})).await;
    let r = client()
        .get(format!(
            "{}/api/auth/consent?app=p_demo&permissions=5&mode=popup",
            emulator.base_url()
        ))
        .header("Cookie", &ada)
        .send()
        .await
        .unwrap();
    let again = session_of(&r).unwrap();
    assert_eq!(who(&emulator, &again).await.as_deref(), Some("Ada"));
}

#[tokio::test]
async fn auto_deny_and_close_in_every_mode() {
    let emulator = setup().await;
    for page_name in ["login", "consent"] {
        post(&emulator, "auto", json!({"decision": "deny"})).await;
        for mode in MODES {
            let r = page(
                &emulator,
                &format!("/api/auth/{page_name}?app=p_demo{mode}"),
            )
            .await;
            assert!(session_of(&r).is_none(), "{page_name}{mode}");
            let status = r.status();
            let location = r.headers().get("location").cloned();
            let html = r.text().await.unwrap();
            match mode {
                "&mode=popup" => {
                    assert!(
                        html.contains(
                            r#"window.opener.postMessage({type:"gipity_auth", status:"denied"}, "*")"#
                        ),
                        "{html}"
                    );
                    assert!(html.contains("window.close()"), "{html}");
                }
                "" => assert!(html.contains("Sign-in cancelled"), "{html}"),
                _ => {
                    assert_eq!(status, 303);
                    assert_eq!(location.unwrap(), "http://127.0.0.1:8000/app/");
                }
            }
        }

        post(&emulator, "auto", json!({"decision": "close"})).await;
        for mode in MODES {
            let r = page(
                &emulator,
                &format!("/api/auth/{page_name}?app=p_demo{mode}"),
            )
            .await;
            assert!(session_of(&r).is_none(), "{page_name}{mode}");
            assert_eq!(r.status(), 200, "{page_name}{mode}");
            assert!(r.headers().get("location").is_none());
            let html = r.text().await.unwrap();
            assert!(!html.contains("postMessage"), "{html}");
            assert!(html.contains(r#"data-status="closed""#), "{html}");
            if mode == "&mode=popup" {
                assert!(html.contains("window.close()"), "{html}");
            } else {
                assert!(html.contains("closed without an answer"), "{html}");
                assert!(!html.contains("<script"), "{html}");
            }
        }
    }
}

#[tokio::test]
async fn auto_delay_query_precedence_and_none() {
    let emulator = setup().await;
    post(
        &emulator,
        "auto",
        json!({"decision": "approve", "user": "Slow Sam", "delayMs": 750}),
    )
    .await;
    let r = page(&emulator, "/api/auth/login?app=p_demo&mode=popup").await;
    let cookie = session_of(&r).unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("setTimeout(function () {"), "{html}");
    assert!(html.contains("}, 750);"), "{html}");
    assert!(html.contains(r#"status:"success""#), "{html}");
    assert_eq!(who(&emulator, &cookie).await.as_deref(), Some("Slow Sam"));

    // A redirect cannot wait as a 303: the page redirects from its script.
    let r = page(
        &emulator,
        "/api/auth/login?app=p_demo&return=http%3A%2F%2F127.0.0.1%3A8000%2F",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(session_of(&r).is_some());
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"window.location.replace("http://127.0.0.1:8000/");"#),
        "{html}"
    );
    assert!(html.contains("}, 750);"), "{html}");

    post(
        &emulator,
        "auto",
        json!({"decision": "close", "delayMs": 300}),
    )
    .await;
    let html = page(&emulator, "/api/auth/consent?app=p_demo&mode=popup")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("}, 300);"), "{html}");
    assert!(!html.contains("postMessage"), "{html}");

    // The page's own `auto=` wins, at once.
    let r = page(
        &emulator,
        "/api/auth/login?app=p_demo&mode=popup&auto=approve",
    )
    .await;
    assert!(session_of(&r).is_some());
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"status:"success""#), "{html}");
    assert!(!html.contains("setTimeout"), "{html}");
    let html = page(
        &emulator,
        "/api/auth/login?app=p_demo&mode=popup&auto=close",
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(!html.contains("postMessage"), "{html}");

    // From Rust, too.
    emulator.set_auto_decision(AutoDecision::Deny, Duration::ZERO);
    let html = page(&emulator, "/api/auth/login?app=p_demo&mode=popup")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"status:"denied""#), "{html}");

    assert_done(&post(&emulator, "auto", json!({"decision": "none"})).await);
    let r = page(&emulator, "/api/auth/login?app=p_demo&mode=popup").await;
    assert!(session_of(&r).is_none());
    assert!(r.text().await.unwrap().contains("<form"));

    // Page parameters are still checked.
    post(&emulator, "auto", json!({"decision": "approve"})).await;
    let r = reply(page(&emulator, "/api/auth/login?app=p_missing&mode=popup").await).await;
    assert_error(&r, 404, "APP_NOT_FOUND");
    emulator.clear_auto_decision();
    let r = page(&emulator, "/api/auth/login?app=p_demo").await;
    assert!(r.text().await.unwrap().contains("<form"));
}

#[tokio::test]
async fn the_popup_posts_to_the_openers_origin_when_known() {
    let emulator = setup().await;
    post(&emulator, "auto", json!({"decision": "approve"})).await;
    let base = emulator.base_url();
    let login = format!("{base}/api/auth/login?app=p_demo&mode=popup");

    // A browser's popup carries the opener's origin as its Referer.
    let html = client()
        .get(&login)
        .header("Referer", "http://127.0.0.1:8000/")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(
            r#"window.opener.postMessage({type:"gipity_auth", status:"success"}, "http://127.0.0.1:8000");"#
        ),
        "{html}"
    );
    let close = html.find("window.close()").unwrap();
    assert!(html.find("postMessage").unwrap() < close, "{html}");

    // An explicit `opener` wins; the form carries it to its submission.
    emulator.clear_auto_decision();
    let html = client()
        .get(format!(
            "{login}&opener=http%3A%2F%2Flocalhost%3A3000%2Fpath"
        ))
        .header("Referer", "http://127.0.0.1:8000/")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<input type="hidden" name="opener" value="http://localhost:3000">"#),
        "{html}"
    );
    let html = client()
        .post(format!("{base}/api/auth/login"))
        .header("Referer", format!("{base}/api/auth/login"))
        .body("app=p_demo&mode=popup&opener=http%3A%2F%2Flocalhost%3A3000&decision=deny")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"status:"denied"}, "http://localhost:3000");"#),
        "{html}"
    );

    let r = common::get(format!("{login}&opener=javascript%3Ax")).await;
    assert_error(&r, 400, "BAD_REQUEST");
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() {
    let emulator = setup().await;
    let base = emulator.base_url();
    let r = page(
        &emulator,
        "/api/auth/login?app=p_demo&auto=approve&user=Leaver",
    )
    .await;
    let cookie = session_of(&r).unwrap();
    let other = emulator.sign_in(&emulator.create_user("Stayer"));
    assert_eq!(who(&emulator, &cookie).await.as_deref(), Some("Leaver"));

    let logout = || {
        client()
            .post(format!("{base}/api/auth/logout"))
            .header("Origin", "http://127.0.0.1:8000")
    };
    let r = logout().header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(
        r.headers()["set-cookie"],
        "gipity_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    );
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8000"
    );
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");
    assert_eq!(reply(r).await.body, json!({"data": {}}));
    assert_eq!(who(&emulator, &cookie).await, None);
    assert_eq!(who(&emulator, &other).await.as_deref(), Some("Stayer"));

    // Idempotent: again, and with no cookie at all.
    for request in [logout().header("Cookie", &cookie), logout()] {
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("set-cookie").is_some());
        assert_eq!(reply(r).await.body, json!({"data": {}}));
    }

    let r = preflight(format!("{base}/api/auth/logout"), "http://127.0.0.1:8000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8000"
    );
    let r = common::get(format!("{base}/api/auth/logout")).await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn consented_ai_needs_identity_and_ai() {
    let emulator = setup().await;
    let none = Creds::default();
    let r = call(&emulator, DEMO_APP, "consented-ai", json!({}), &none).await;
    assert_error(&r, 401, "LOGIN_REQUIRED");
    assert!(
        r.body["error"]["loginUrl"]
            .as_str()
            .unwrap()
            .ends_with("permissions=5")
    );

    let user = emulator.create_user("Half Consent");
    emulator.grant_consent(&user, DEMO_APP, 1);
    let creds = Creds::session(token(&emulator, DEMO_APP).await, emulator.sign_in(&user));
    let r = call(&emulator, DEMO_APP, "consented-ai", json!({}), &creds).await;
    assert_error(&r, 403, "CONSENT_REQUIRED");
    assert!(
        r.body["error"]["consentUrl"]
            .as_str()
            .unwrap()
            .ends_with("permissions=5")
    );
    emulator.grant_consent(&user, DEMO_APP, 4);
    let r = call(&emulator, DEMO_APP, "consented-ai", json!({}), &creds).await;
    assert_eq!(r.body, json!({"data": {"ok": true}}));
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

#[tokio::test]
async fn async_functions_and_their_panics() {
    let emulator = Emulator::start().await.unwrap();
    emulator
        .app("p_async")
        .async_function("later", gipity_emulator::Auth::Public, |call| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(json!({"got": call.body}))
        })
        .async_function("fails", gipity_emulator::Auth::Public, |_| async {
            Err::<Value, _>(FnError::new("async failure"))
        })
        .async_function(
            "panics-while-polled",
            gipity_emulator::Auth::Public,
            |_| async {
                tokio::task::yield_now().await;
                explode()
            },
        )
        .async_function_with_permissions(
            "panics-first",
            gipity_emulator::Auth::Public,
            1,
            |_| -> std::future::Ready<Result<Value, FnError>> { panic!("boom before the future") },
        );
    let none = Creds::default();
    let r = call(&emulator, "p_async", "later", json!(1), &none).await;
    assert_eq!(r.body, json!({"data": {"got": 1}}));
    let r = call(&emulator, "p_async", "fails", json!(1), &none).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    assert_eq!(r.body["error"]["message"], "async failure");
    for name in ["panics-while-polled", "panics-first"] {
        let r = call(&emulator, "p_async", name, json!(1), &none).await;
        assert_error(&r, 500, "FUNCTION_ERROR");
    }
    // The server carries on.
    let r = call(&emulator, "p_async", "later", json!(2), &none).await;
    assert_eq!(r.body, json!({"data": {"got": 2}}));
    assert_eq!(emulator.executions("p_async", "later"), 2);
}

fn explode() -> Result<Value, FnError> {
    panic!("boom in poll")
}

#[test]
fn binary_documents_the_flags() {
    let out = Command::new(Binary::PATH).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for text in [
        "--test-controls",
        "--serve DIR",
        "consented-ai",
        "slow",
        "/__emulator/",
    ] {
        assert!(help.contains(text), "{text}: {help}");
    }
    let out = Command::new(Binary::PATH)
        .arg("--test-controls=1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn binary_with_test_controls() {
    let mut binary = Binary::start(&["--port", "0", "--test-controls"]);
    let base = binary.base.clone();
    let _demo = binary.next_line();
    let third = binary.next_line();
    assert_eq!(third, format!("test controls: {base}/__emulator/"));

    let result = async {
        let r = post_json(
            format!("{base}/__emulator/auto"),
            &json!({"decision": "approve", "user": "Bin User"}),
        )
        .await;
        assert_eq!(r.body, json!({"data": {}}));
        let r = client()
            .get(format!(
                "{base}/api/auth/login?app=p_demo&permissions=5&mode=popup"
            ))
            .send()
            .await
            .unwrap();
        assert!(session_of(&r).is_some());
        let r = post_json(format!("{base}/api/p_demo/fn/slow"), &json!({"ms": 10})).await;
        assert_eq!(r.body, json!({"data": {"ms": 10}}));
        let r = common::get(format!("{base}/__emulator/counters")).await;
        assert_eq!(r.body["data"]["httpRequests"], 2);
    };
    let outcome = tokio::time::timeout(Duration::from_secs(10), result).await;
    drop(binary);
    outcome.unwrap();
}
