//! App tokens, auth status, `auth/me` and app-player sign-in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{
    assert_error, client, get, get_with, get_with_cookie, get_with_token, guest, me, mint, secret,
    send, token,
};
use gipity_emulator::{AuthMode, Emulator, permissions};
use serde_json::json;

#[tokio::test]
async fn mint_has_the_data_envelope_and_counts() {
    let emulator = Emulator::start().await.unwrap();
    emulator.app("p_shop");
    let reply = mint(&emulator, "p_shop").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let data = reply.body["data"].as_object().expect("data object");
    assert_eq!(data.len(), 2, "{data:?}");
    assert!(data["token"].as_str().unwrap().starts_with("eyJ"));
    assert_eq!(data["expiresIn"], 3600);
    assert!(reply.body.get("token").is_none());
    let second = token(&emulator, "p_shop").await;
    assert_ne!(second, data["token"].as_str().unwrap());
    assert_eq!(emulator.counters().token_mints, 2);
}

#[tokio::test]
async fn expires_in_follows_the_ttl() {
    let emulator = Emulator::builder()
        .token_ttl(Duration::from_secs(90))
        .start()
        .await
        .unwrap();
    emulator.app("p_a");
    assert_eq!(mint(&emulator, "p_a").await.body["data"]["expiresIn"], 90);
    emulator.set_token_ttl(Duration::from_millis(1500));
    assert_eq!(mint(&emulator, "p_a").await.body["data"]["expiresIn"], 2);
    emulator.set_token_ttl(Duration::from_millis(1));
    assert_eq!(mint(&emulator, "p_a").await.body["data"]["expiresIn"], 1);
    emulator.set_token_ttl(Duration::ZERO);
    assert_eq!(mint(&emulator, "p_a").await.body["data"]["expiresIn"], 0);
}

#[tokio::test]
async fn mint_rejects_bad_requests() {
    let emulator = Emulator::start().await.unwrap();
    emulator.app("p_a");
    let url = format!("{}/api/token", emulator.base_url());
    assert_error(&mint(&emulator, "p_nope").await, 404, "APP_NOT_FOUND");
    for body in ["{", "", "{}", "{\"app\": 5}", "[\"p_a\"]"] {
        let r = send(client().post(&url).body(body)).await;
        assert_error(&r, 400, "BAD_REQUEST");
    }
    let r = get(&url).await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("POST"));
    assert_eq!(emulator.counters().token_mints, 0);
}

#[tokio::test]
async fn auth_status_reports_login_and_consent() {
    let emulator = Emulator::start().await.unwrap();
    emulator.app("p_a");
    emulator.app("p_b");
    let base = emulator.base_url();
    let status_url = format!("{base}/api/p_a/auth/status");
    let token = token(&emulator, "p_a").await;

    let r = get(&status_url).await;
    assert_error(&r, 401, "APP_TOKEN_REQUIRED");
    let other = common::token(&emulator, "p_b").await;
    let r = get_with_token(&status_url, &other).await;
    assert_error(&r, 401, "INVALID_TOKEN");
    let r = get_with_token(&status_url, "eyJbogus").await;
    assert_error(&r, 401, "INVALID_TOKEN");
    let r = get_with_token(format!("{base}/api/p_zzz/auth/status"), &token).await;
    assert_error(&r, 404, "APP_NOT_FOUND");

    // Signed out: not wrapped in `data`, with a login URL.
    let r = get_with_token(&status_url, &token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["authenticated"], false);
    assert_eq!(r.body["consented"], false);
    assert!(r.body["user"].is_null());
    assert_eq!(
        r.body["loginUrl"],
        format!("{base}/api/auth/login?app=p_a&permissions=1")
    );
    assert!(r.body.get("consentUrl").is_none());
    assert!(r.body.get("data").is_none());

    // Signed in without consent.
    let alice = emulator.create_user("Alice");
    let cookie = emulator.sign_in(&alice);
    let url = format!("{status_url}?permissions=5");
    let signed_in = [("X-App-Token", token.as_str()), ("Cookie", cookie.as_str())];
    let r = get_with(&url, &signed_in).await;
    // The documented shape: no user until they consent.
    assert_eq!(r.body["authenticated"], true);
    assert_eq!(r.body["consented"], false);
    assert!(r.body["user"].is_null(), "{:?}", r.body);
    assert_eq!(
        r.body["consentUrl"],
        format!("{base}/api/auth/consent?app=p_a&permissions=5")
    );
    assert!(r.body.get("loginUrl").is_none());

    // Consent is a bit set, ORed in.
    emulator.grant_consent(&alice, "p_a", permissions::IDENTITY);
    let r = get_with(&url, &signed_in).await;
    assert_eq!(r.body["consented"], false);
    emulator.grant_consent(&alice, "p_a", permissions::AI);
    let r = get_with(&url, &signed_in).await;
    assert_eq!(r.body["consented"], true);
    assert!(r.body.get("consentUrl").is_none());
    assert_eq!(r.body["user"]["guid"], alice.guid.as_str());
    assert_eq!(r.body["user"]["displayName"], "Alice");
    assert!(r.body["user"]["avatarUrl"].is_null());
    assert_eq!(r.body["user"]["accountSlug"], "alice");

    emulator.revoke_consent(&alice, "p_a");
    let r = get_with(&status_url, &signed_in).await;
    assert_eq!(r.body["consented"], false);

    let r = get_with_token(format!("{status_url}?permissions=lots"), &token).await;
    assert_error(&r, 400, "BAD_REQUEST");
}

#[tokio::test]
async fn expired_tokens_get_token_expired() {
    let emulator = Emulator::start().await.unwrap();
    emulator.app("p_a");
    let old = token(&emulator, "p_a").await;
    emulator.expire_tokens();
    let fresh = token(&emulator, "p_a").await;
    let url = format!("{}/api/p_a/auth/status", emulator.base_url());
    let r = get_with_token(&url, &old).await;
    assert_error(&r, 401, "TOKEN_EXPIRED");
    let r = get_with_token(&url, &fresh).await;
    assert_eq!(r.status, 200);

    emulator.set_token_ttl(Duration::ZERO);
    let dead = token(&emulator, "p_a").await;
    let r = get_with_token(&url, &dead).await;
    assert_error(&r, 401, "TOKEN_EXPIRED");
}

#[tokio::test]
async fn me_reads_the_session_cookie() {
    let emulator = Emulator::start().await.unwrap();
    let url = format!("{}/api/auth/me", emulator.base_url());
    let r = get(&url).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({ "user": null }));

    let bob = emulator.create_user("Bob");
    let cookie = emulator.sign_in(&bob);
    assert!(cookie.starts_with("gipity_session="));
    let r = get_with_cookie(&url, &format!("theme=dark; {cookie}")).await;
    assert_eq!(r.body["user"], serde_json::to_value(&bob).unwrap());

    emulator.sign_out(&cookie);
    assert_eq!(me(&emulator, &cookie).await.body, json!({ "user": null }));
    let r = me(&emulator, "gipity_session=forged").await;
    assert_eq!(r.body, json!({ "user": null }));
}

#[tokio::test]
async fn guest_sign_in_keeps_one_player_per_device() {
    let emulator = Emulator::start().await.unwrap();
    emulator.app("p_game");
    let url = format!("{}/api/p_game/auth/guest", emulator.base_url());
    let post = |body| guest(&emulator, "p_game", body);

    let first = post(json!({ "deviceSecret": secret('a'), "displayName": "Ann" })).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let data = &first.body["data"];
    assert!(data["token"].as_str().unwrap().starts_with("eyJ"));
    assert_eq!(data["expiresIn"], 86_400);
    assert_eq!(data["user"]["displayName"], "Ann");
    assert!(data["user"]["guid"].as_str().unwrap().starts_with("u_"));

    let again = post(json!({ "deviceSecret": secret('a') })).await;
    assert_eq!(again.body["data"]["user"]["guid"], data["user"]["guid"]);
    assert_ne!(again.body["data"]["token"], data["token"]);
    let other = post(json!({ "deviceSecret": secret('b') })).await;
    assert_ne!(other.body["data"]["user"]["guid"], data["user"]["guid"]);
    assert_eq!(emulator.counters().guest_sign_ins, 3);

    for bad in [
        json!({}),
        json!({ "deviceSecret": "short" }),
        json!({ "deviceSecret": "x".repeat(257) }),
        json!({ "deviceSecret": 12345 }),
        json!({ "deviceSecret": secret('c'), "displayName": 7 }),
    ] {
        assert_error(&post(bad).await, 400, "BAD_REQUEST");
    }
    let ok = post(json!({ "deviceSecret": "y".repeat(32) })).await;
    assert_eq!(ok.status, 200);
    let ok = post(json!({ "deviceSecret": "y".repeat(256) })).await;
    assert_eq!(ok.status, 200);
    let r = send(client().post(&url).body("{oops")).await;
    assert_error(&r, 400, "BAD_REQUEST");

    let r = guest(&emulator, "p_none", json!({ "deviceSecret": secret('a') })).await;
    assert_error(&r, 404, "APP_NOT_FOUND");

    emulator.app("p_game").set_auth_mode(AuthMode::Gipity);
    assert_error(
        &post(json!({ "deviceSecret": secret('a') })).await,
        403,
        "GUEST_DISABLED",
    );
    emulator.app("p_game").set_auth_mode(AuthMode::App);
    assert_eq!(
        post(json!({ "deviceSecret": secret('a') })).await.status,
        200
    );
    assert_eq!(emulator.counters().guest_sign_ins, 6);
}

#[tokio::test]
async fn the_first_live_session_cookie_counts() {
    let emulator = Emulator::start().await.unwrap();
    let gus = emulator.create_user("Gus");
    let cookie = emulator.sign_in(&gus);
    let r = me(&emulator, &format!("gipity_session=stale; {cookie}")).await;
    assert_eq!(r.body["user"]["displayName"], "Gus");
    // `sign_out` also takes a full Set-Cookie line.
    emulator.sign_out(&format!("{cookie}; Path=/; HttpOnly"));
    assert!(me(&emulator, &cookie).await.body["user"].is_null());
}

#[tokio::test]
async fn head_is_answered_like_get_without_a_body() {
    let emulator = Emulator::start().await.unwrap();
    let r = client()
        .head(format!("{}/api/auth/me", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.bytes().await.unwrap().is_empty());
}
