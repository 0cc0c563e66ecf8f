//! `POST /api/<app>/fn/<name>`: credentials, auth levels and request handling.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{
    Creds, assert_error, call, call_anonymously, client, get, guest, secret, send, token,
};
use gipity_emulator::{Auth, Caller, Emulator, FnError, User, permissions};
use serde_json::{Value, json};

/// An emulator with app `p_a` and functions of each auth level that return
/// who called them.
async fn setup() -> Emulator {
    let emulator = Emulator::start().await.unwrap();
    let describe = |call: gipity_emulator::Call| {
        Ok(json!({
            "caller": format!("{:?}", call.caller),
            "user": call.user.map(|u| u.guid),
            "body": call.body,
            "app": call.app,
        }))
    };
    emulator
        .app("p_a")
        .function("open", Auth::Public, describe)
        .function("mine", Auth::User, describe)
        .function("team", Auth::Member, describe)
        .function_with_permissions(
            "ai",
            Auth::User,
            permissions::IDENTITY | permissions::AI,
            describe,
        );
    emulator.app("p_b").function("open", Auth::Public, describe);
    emulator
}

#[tokio::test]
async fn public_functions_run_for_anyone() {
    let emulator = setup().await;
    let r = call_anonymously(&emulator, "p_a", "open", json!({"q": 1})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.body,
        json!({"data": {"caller": "Anonymous", "user": null, "body": {"q": 1}, "app": "p_a"}})
    );
    // A known session user is passed along.
    let alice = emulator.create_user("Alice");
    let cookie = emulator.sign_in(&alice);
    let creds = Creds::default().with_cookie(cookie);
    let r = call(&emulator, "p_a", "open", json!(null), &creds).await;
    assert_eq!(r.body["data"]["caller"], "Session");
    assert_eq!(r.body["data"]["user"], alice.guid.as_str());
    assert!(r.body["data"]["body"].is_null());
}

#[tokio::test]
async fn user_function_without_session_needs_login() {
    let emulator = setup().await;
    let creds = Creds::default().with_app_token(token(&emulator, "p_a").await);
    for creds in [Creds::default(), creds] {
        let r = call(&emulator, "p_a", "mine", json!({}), &creds).await;
        assert_error(&r, 401, "LOGIN_REQUIRED");
        let login = r.body["error"]["loginUrl"].as_str().unwrap();
        assert_eq!(
            login,
            format!(
                "{}/api/auth/login?app=p_a&permissions=1",
                emulator.base_url()
            )
        );
    }
    let r = call_anonymously(&emulator, "p_a", "ai", json!({})).await;
    assert!(
        r.body["error"]["loginUrl"]
            .as_str()
            .unwrap()
            .ends_with("permissions=5")
    );
    assert_eq!(emulator.calls("p_a", "mine"), 2);
    assert_eq!(emulator.executions("p_a", "mine"), 0);
}

#[tokio::test]
async fn session_needs_app_token_and_consent_then_complete_login_succeeds() {
    let emulator = setup().await;
    let alice = emulator.create_user("Alice");
    let cookie = emulator.sign_in(&alice);
    let app_token = token(&emulator, "p_a").await;

    let no_token = Creds::default().with_cookie(cookie.clone());
    assert_error(
        &call(&emulator, "p_a", "mine", json!({}), &no_token).await,
        401,
        "APP_TOKEN_REQUIRED",
    );

    let creds = Creds::session(app_token.clone(), cookie);
    let r = call(&emulator, "p_a", "mine", json!({}), &creds).await;
    assert_error(&r, 403, "CONSENT_REQUIRED");
    let consent_url = r.body["error"]["consentUrl"].as_str().unwrap().to_owned();
    assert_eq!(
        consent_url,
        format!(
            "{}/api/auth/consent?app=p_a&permissions=1",
            emulator.base_url()
        )
    );

    // A person finishes the page: new session, consent granted.
    let new_cookie = emulator.complete_login(&consent_url, &alice).unwrap();
    assert!(new_cookie.starts_with("gipity_session="));
    let creds = Creds::session(app_token, new_cookie);
    let r = call(&emulator, "p_a", "mine", json!({"n": 1}), &creds).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["caller"], "Session");
    assert_eq!(r.body["data"]["user"], alice.guid.as_str());

    // IDENTITY alone does not cover `ai`.
    let r = call(&emulator, "p_a", "ai", json!({}), &creds).await;
    assert_error(&r, 403, "CONSENT_REQUIRED");
    assert!(
        r.body["error"]["consentUrl"]
            .as_str()
            .unwrap()
            .ends_with("permissions=5")
    );

    // A login URL with the popup and return parameters the runtime adds.
    let login_url = format!(
        "{}/api/auth/login?app=p_a&permissions=5&mode=popup&return=https%3A%2F%2Fapp.gipity.ai%2Fa%2Fb%2F",
        emulator.base_url()
    );
    let cookie = emulator.complete_login(&login_url, &alice).unwrap();
    let creds = creds.with_cookie(cookie);
    assert_eq!(
        call(&emulator, "p_a", "ai", json!({}), &creds).await.status,
        200
    );
}

#[tokio::test]
async fn complete_login_rejects_foreign_urls() {
    let emulator = setup().await;
    let alice = emulator.create_user("Alice");
    let base = emulator.base_url();
    let other_port = format!(
        "http://127.0.0.1:{}/api/auth/login?app=p_a",
        emulator.addr().port().wrapping_add(1)
    );
    for url in [
        "not a url".to_owned(),
        "https://a.gipity.ai/api/auth/login?app=p_a&permissions=1".to_owned(),
        other_port,
        format!("{base}/api/auth/me?app=p_a"),
        format!("{base}/api/auth/login?permissions=1"),
        format!("{base}/api/auth/login?app=p_a&permissions=x"),
        format!("{base}/api/auth/login?app=p_unknown&permissions=1"),
    ] {
        assert!(emulator.complete_login(&url, &alice).is_err(), "{url}");
    }
    let err = emulator
        .complete_login("https://evil.example/api/auth/login?app=p_a", &alice)
        .unwrap_err();
    assert!(
        err.to_string().contains("not a login or consent URL"),
        "{err}"
    );
}

#[tokio::test]
async fn members_only() {
    let emulator = setup().await;
    let alice = emulator.create_user("Alice");
    let bob = emulator.create_user("Bob");
    emulator.app("p_a").add_member(&alice);
    let app_token = token(&emulator, "p_a").await;
    for user in [&alice, &bob] {
        emulator.grant_consent(user, "p_a", permissions::IDENTITY);
    }
    let creds = |user: &User| Creds::session(app_token.clone(), emulator.sign_in(user));
    let r = call(&emulator, "p_a", "team", json!({}), &creds(&alice)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["user"], alice.guid.as_str());
    let r = call(&emulator, "p_a", "team", json!({}), &creds(&bob)).await;
    assert_error(&r, 403, "FORBIDDEN");
    assert_error(
        &call_anonymously(&emulator, "p_a", "team", json!({})).await,
        401,
        "LOGIN_REQUIRED",
    );
    emulator.app("p_a").remove_member(&alice);
    assert_error(
        &call(&emulator, "p_a", "team", json!({}), &creds(&alice)).await,
        403,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn api_key_acts_as_a_member() {
    let emulator = setup().await;
    let key = emulator.app("p_a").api_key();
    assert!(key.starts_with("gip_pk_"));
    assert_eq!(emulator.app("p_a").api_key(), key);
    let creds = Creds::default().with_api_key(key.clone());
    for name in ["open", "mine", "team", "ai"] {
        let r = call(&emulator, "p_a", name, json!({}), &creds).await;
        assert_eq!(r.status, 200, "{name}: {:?}", r.body);
        assert_eq!(r.body["data"]["caller"], "ApiKey");
        assert!(r.body["data"]["user"].is_null());
    }
    // The key of another app, or a made-up one, is refused even for public functions.
    let bad = Creds::default().with_api_key("gip_pk_wrong");
    assert_error(
        &call(&emulator, "p_a", "open", json!({}), &bad).await,
        401,
        "INVALID_API_KEY",
    );
    let r = call(&emulator, "p_b", "open", json!({}), &creds).await;
    assert_error(&r, 401, "INVALID_API_KEY");
    // The API key wins over a bearer token.
    let both = Creds::default().with_api_key(key).with_bearer("junk");
    assert_eq!(
        call(&emulator, "p_a", "team", json!({}), &both)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn player_bearer_tokens() {
    let emulator = setup().await;
    let signed = guest(&emulator, "p_a", json!({"deviceSecret": secret('p')})).await;
    let player_token = signed.body["data"]["token"].as_str().unwrap().to_owned();
    let player_guid = signed.body["data"]["user"]["guid"]
        .as_str()
        .unwrap()
        .to_owned();

    let creds = Creds::default().with_bearer(player_token.clone());
    let r = call(&emulator, "p_a", "mine", json!({}), &creds).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["caller"], "Player");
    assert_eq!(r.body["data"]["user"], player_guid.as_str());
    // Players need no consent, but are members only when added.
    assert_eq!(
        call(&emulator, "p_a", "ai", json!({}), &creds).await.status,
        200
    );
    assert_error(
        &call(&emulator, "p_a", "team", json!({}), &creds).await,
        403,
        "FORBIDDEN",
    );
    // Bound to the app.
    assert_error(
        &call(&emulator, "p_b", "open", json!({}), &creds).await,
        401,
        "INVALID_TOKEN",
    );

    // An app token is not a bearer token.
    let app_token = token(&emulator, "p_a").await;
    let wrong = Creds::default().with_bearer(app_token);
    assert_error(
        &call(&emulator, "p_a", "open", json!({}), &wrong).await,
        401,
        "INVALID_TOKEN",
    );
    let junk = Creds::default().with_bearer("nonsense");
    assert_error(
        &call(&emulator, "p_a", "open", json!({}), &junk).await,
        401,
        "INVALID_TOKEN",
    );
    let r = send(
        client()
            .post(format!("{}/api/p_a/fn/open", emulator.base_url()))
            .header("Authorization", "Basic dXNlcjpwdw=="),
    )
    .await;
    assert_error(&r, 401, "INVALID_TOKEN");

    emulator.expire_player_tokens();
    assert_error(
        &call(&emulator, "p_a", "mine", json!({}), &creds).await,
        401,
        "TOKEN_EXPIRED",
    );

    emulator.set_player_token_ttl(Duration::from_secs(60));
    let again = guest(&emulator, "p_a", json!({"deviceSecret": secret('p')})).await;
    assert_eq!(again.body["data"]["expiresIn"], 60);
    assert_eq!(again.body["data"]["user"]["guid"], player_guid.as_str());
    let creds = Creds::default().with_bearer(again.body["data"]["token"].as_str().unwrap());
    assert_eq!(
        call(&emulator, "p_a", "mine", json!({}), &creds)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn account_tokens_act_as_the_user() {
    let emulator = setup().await;
    let carol = emulator.create_user("Carol");
    let token = emulator.account_token(&carol);
    assert!(token.starts_with("gip_at_"));
    let creds = Creds::default().with_bearer(token);
    let r = call(&emulator, "p_a", "ai", json!({}), &creds).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["caller"], "Account");
    assert_eq!(r.body["data"]["user"], carol.guid.as_str());
    assert_error(
        &call(&emulator, "p_a", "team", json!({}), &creds).await,
        403,
        "FORBIDDEN",
    );
    emulator.app("p_a").add_member(&carol);
    assert_eq!(
        call(&emulator, "p_a", "team", json!({}), &creds)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn app_token_must_be_valid_when_present() {
    let emulator = setup().await;
    let creds = Creds::default().with_app_token("eyJforged");
    assert_error(
        &call(&emulator, "p_a", "open", json!({}), &creds).await,
        401,
        "INVALID_TOKEN",
    );
    let other = Creds::default().with_app_token(token(&emulator, "p_b").await);
    assert_error(
        &call(&emulator, "p_a", "open", json!({}), &other).await,
        401,
        "INVALID_TOKEN",
    );
    let good = Creds::default().with_app_token(token(&emulator, "p_a").await);
    assert_eq!(
        call(&emulator, "p_a", "open", json!({}), &good)
            .await
            .status,
        200
    );
    emulator.expire_tokens();
    assert_error(
        &call(&emulator, "p_a", "open", json!({}), &good).await,
        401,
        "TOKEN_EXPIRED",
    );
}

#[tokio::test]
async fn function_errors_and_panics_are_500() {
    let emulator = Emulator::start().await.unwrap();
    emulator
        .app("p_a")
        .function("fails", Auth::Public, |_| Err(FnError::new("out of stock")))
        .function("panics", Auth::Public, |_| -> Result<Value, FnError> {
            panic!("deliberate panic in a test function")
        });
    let r = call_anonymously(&emulator, "p_a", "fails", json!({})).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    assert_eq!(r.body["error"]["message"], "out of stock");
    let r = call_anonymously(&emulator, "p_a", "panics", json!({})).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    // The server still answers.
    let r = call_anonymously(&emulator, "p_a", "fails", json!({})).await;
    assert_eq!(r.status, 500);
    assert_eq!(emulator.executions("p_a", "panics"), 1);
}

#[tokio::test]
async fn names_are_percent_decoded() {
    let emulator = Emulator::start().await.unwrap();
    emulator
        .app("p_a")
        .function("get-items", Auth::Public, |_| Ok(json!("dash")))
        .function("a b/c", Auth::Public, |_| Ok(json!("odd")))
        .function("café", Auth::Public, |_| Ok(json!("accent")));
    let none = Creds::default();
    assert_eq!(
        call(&emulator, "p_a", "get-items", json!({}), &none)
            .await
            .body["data"],
        "dash"
    );
    assert_eq!(
        call(&emulator, "p_a", "get%2Ditems", json!({}), &none)
            .await
            .body["data"],
        "dash"
    );
    assert_eq!(
        call(&emulator, "p_a", "a%20b%2Fc", json!({}), &none)
            .await
            .body["data"],
        "odd"
    );
    assert_eq!(
        call(&emulator, "p_a", "caf%C3%A9", json!({}), &none)
            .await
            .body["data"],
        "accent"
    );
    assert_eq!(emulator.calls("p_a", "get-items"), 2);
    assert_eq!(emulator.executions("p_a", "a b/c"), 1);
    assert_error(
        &call(&emulator, "p_a", "%FF", json!({}), &none).await,
        400,
        "BAD_REQUEST",
    );
}

#[tokio::test]
async fn bodies_unknowns_and_limits() {
    let emulator = setup().await;
    let base = emulator.base_url();
    let url = format!("{base}/api/p_a/fn/open");

    // Empty body is `{}`; any JSON value is accepted.
    let r = send(client().post(&url)).await;
    assert_eq!(r.body["data"]["body"], json!({}));
    let r = send(client().post(&url).body("[1,\"two\"]")).await;
    assert_eq!(r.body["data"]["body"], json!([1, "two"]));
    let r = send(client().post(&url).body("{\"a\":")).await;
    assert_error(&r, 400, "BAD_REQUEST");

    // 1 MiB is the limit.
    let big = format!("\"{}\"", "x".repeat(1024 * 1024));
    let r = send(client().post(&url).body(big)).await;
    assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
    let fits = format!("\"{}\"", "x".repeat(1024 * 1024 - 2));
    let r = send(client().post(&url).body(fits)).await;
    assert_eq!(r.status, 200);

    // Streamed without Content-Length, still limited.
    let mut request = format!(
        "POST /api/p_a/fn/open HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        emulator.addr()
    )
    .into_bytes();
    for _ in 0..20 {
        request.extend_from_slice(format!("{:x}\r\n", 64 * 1024).as_bytes());
        request.extend_from_slice(&[b' '; 64 * 1024]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let raw = common::raw(emulator.addr(), &request).await;
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(raw.contains("PAYLOAD_TOO_LARGE"), "{raw}");

    assert_error(
        &call_anonymously(&emulator, "p_zz", "open", json!({})).await,
        404,
        "APP_NOT_FOUND",
    );
    assert_error(
        &call_anonymously(&emulator, "p_a", "nope", json!({})).await,
        404,
        "FUNCTION_NOT_FOUND",
    );
    assert_eq!(emulator.calls("p_a", "nope"), 1);

    let r = get(&url).await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");
    for path in [
        "/api/nothing",
        "/api/p_a/fn",
        "/api/p_a/fn/open/extra",
        "/",
        "/api/token/",
    ] {
        let r = get(format!("{base}{path}")).await;
        assert_error(&r, 404, "NOT_FOUND");
    }
}

#[tokio::test]
async fn counters_bodies_and_requests() {
    let emulator = setup().await;
    let before = emulator.counters().http_requests;
    let alice = emulator.create_user("Alice");
    let creds = Creds::default().with_cookie(emulator.sign_in(&alice));
    for n in 0..3 {
        call(&emulator, "p_a", "open", json!({ "n": n }), &creds).await;
    }
    call_anonymously(&emulator, "p_a", "mine", json!({ "n": 9 })).await;
    assert_eq!(emulator.calls("p_a", "open"), 3);
    assert_eq!(emulator.executions("p_a", "open"), 3);
    assert_eq!(
        emulator.bodies("p_a", "open"),
        vec![json!({"n": 0}), json!({"n": 1}), json!({"n": 2})]
    );
    assert!(emulator.bodies("p_a", "mine").is_empty());
    assert_eq!(emulator.calls("p_x", "nothing"), 0);
    assert_eq!(emulator.counters().http_requests, before + 4);

    let requests = emulator.requests();
    let last = requests.last().unwrap();
    assert_eq!(last.method, "POST");
    assert_eq!(last.path, "/api/p_a/fn/mine");
    assert!(last.header("cookie").is_none());
    let first = requests
        .iter()
        .find(|r| r.path == "/api/p_a/fn/open")
        .unwrap();
    assert_eq!(first.header("Cookie"), creds.cookie.as_deref());
    assert!(
        first
            .headers
            .iter()
            .all(|(name, _)| name == &name.to_lowercase())
    );
}

#[tokio::test]
async fn closures_may_use_the_emulator() {
    let emulator = Emulator::start().await.unwrap();
    let inner = emulator.clone();
    emulator
        .app("p_a")
        .function("count", Auth::Public, move |_| {
            Ok(json!(inner.executions("p_a", "count")))
        });
    let r = call_anonymously(&emulator, "p_a", "count", json!({})).await;
    assert_eq!(r.body["data"], 1);
}

#[test]
fn caller_is_comparable() {
    assert_ne!(Caller::Session, Caller::Player);
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
