//! CORS with credentials for loopback pages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, preflight};
use gipity_emulator::{Auth, Emulator};
use reqwest::Method;
use serde_json::json;

async fn setup() -> Emulator {
    let emulator = Emulator::start().await.unwrap();
    emulator
        .app("p_c")
        .function("echo", Auth::Public, |call| Ok(call.body));
    emulator
}

#[tokio::test]
async fn preflight_echoes_origin_and_requested_headers() {
    let emulator = setup().await;
    for origin in ["http://127.0.0.1:8000", "http://localhost:5173"] {
        let r = preflight(format!("{}/api/p_c/fn/echo", emulator.base_url()), origin)
            .header("Access-Control-Request-Headers", "content-type,x-app-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], origin);
        assert_eq!(h["access-control-allow-credentials"], "true");
        assert_eq!(h["access-control-allow-methods"], "GET, POST, OPTIONS");
        assert_eq!(
            h["access-control-allow-headers"],
            "content-type,x-app-token"
        );
        assert_eq!(h["access-control-max-age"], "600");
        assert!(h["vary"].to_str().unwrap().contains("Origin"));
    }
    // Preflights never reach a function.
    assert_eq!(emulator.calls("p_c", "echo"), 0);
    // Any /api path preflights, even unknown ones.
    let r = preflight(
        format!("{}/api/token", emulator.base_url()),
        "http://127.0.0.1:9",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://127.0.0.1:9"
    );
    assert!(r.headers().get("access-control-allow-headers").is_none());
}

#[tokio::test]
async fn responses_echo_the_exact_origin() {
    let emulator = setup().await;
    let origin = "http://127.0.0.1:8000";
    let r = client()
        .post(format!("{}/api/p_c/fn/echo", emulator.base_url()))
        .header("Origin", origin)
        .json(&json!({"hi": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], origin);
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["vary"], "Origin");
    let exposed = h["access-control-expose-headers"].to_str().unwrap();
    for name in [
        "Retry-After",
        "RateLimit",
        "RateLimit-Policy",
        "RateLimit-Remaining",
    ] {
        assert!(exposed.split(", ").any(|n| n == name), "{name}: {exposed}");
    }
    // Error responses carry the headers too, so the page can read the envelope.
    let r = client()
        .post(format!("{}/api/p_c/fn/missing", emulator.base_url()))
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["access-control-allow-origin"], origin);
}

#[tokio::test]
async fn foreign_origins_get_no_cors_headers() {
    let emulator = setup().await;
    for origin in [
        "https://evil.example",
        "http://127.0.0.1.evil.example",
        "https://127.0.0.1:8000",
        "null",
    ] {
        let r = preflight(format!("{}/api/p_c/fn/echo", emulator.base_url()), origin)
            .header("Access-Control-Request-Headers", "x-app-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert!(
            r.headers()
                .keys()
                .all(|k| !k.as_str().starts_with("access-control-")),
            "{origin}: {:?}",
            r.headers()
        );
        let r = client()
            .post(format!("{}/api/p_c/fn/echo", emulator.base_url()))
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()
                .keys()
                .all(|k| !k.as_str().starts_with("access-control-"))
        );
    }
    // No Origin at all: no CORS headers either.
    let r = client()
        .post(format!("{}/api/p_c/fn/echo", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn preflights_are_recorded() {
    let emulator = setup().await;
    client()
        .request(
            Method::OPTIONS,
            format!("{}/api/p_c/fn/echo", emulator.base_url()),
        )
        .header("Origin", "http://localhost:1234")
        .send()
        .await
        .unwrap();
    let requests = emulator.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "OPTIONS");
    assert_eq!(requests[0].header("origin"), Some("http://localhost:1234"));
    assert_eq!(emulator.counters().http_requests, 1);
}
