//! Sessions: logout ends one, and consent to AI needs identity and AI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::controls::{page, setup, who};
use common::{Creds, assert_error, call, client, preflight, reply, session_of, token};
use gipity_emulator::DEMO_APP;
use serde_json::json;

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
