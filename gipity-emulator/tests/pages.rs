//! The login and consent pages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    Creds, assert_error, call, call_anonymously, client, get, get_with, me, reply, send,
    session_from, token,
};
use gipity_emulator::{Auth, Emulator};
use serde_json::json;

async fn setup() -> Emulator {
    let emulator = Emulator::start().await.unwrap();
    emulator
        .app("p_l")
        .function("me", Auth::User, |call| Ok(json!(call.user)));
    emulator
}

fn form(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, value) in fields {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.extend(url_encode(value));
    }
    out
}

/// Submits the form of `/api/auth/<page>` with these fields.
async fn submit(emulator: &Emulator, page: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(format!("{}/api/auth/{page}", emulator.base_url()))
        .body(form(fields))
        .send()
        .await
        .unwrap()
}

fn url_encode(value: &str) -> impl Iterator<Item = String> + '_ {
    value.bytes().map(|b| {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            char::from(b).to_string()
        } else {
            format!("%{b:02X}")
        }
    })
}

#[tokio::test]
async fn login_page_shows_a_form() {
    let emulator = setup().await;
    let r = client()
        .get(format!(
            "{}/api/auth/login?app=p_l&permissions=5&mode=popup",
            emulator.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains("<form method=\"post\" action=\"/api/auth/login\""),
        "{page}"
    );
    assert!(page.contains("name=\"display_name\""));
    assert!(page.contains("value=\"approve\""));
    assert!(page.contains("value=\"deny\""));
    assert!(page.contains("name=\"app\" value=\"p_l\""));
    assert!(page.contains("name=\"permissions\" value=\"5\""));
    assert!(page.contains("name=\"mode\" value=\"popup\""));

    let r = client()
        .get(format!("{}/api/auth/consent?app=p_l", emulator.base_url()))
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("action=\"/api/auth/consent\""), "{page}");
}

#[tokio::test]
async fn page_parameters_are_checked() {
    let emulator = setup().await;
    let base = emulator.base_url();
    for (query, status, code) in [
        ("", 400, "BAD_REQUEST"),
        ("app=p_nope", 404, "APP_NOT_FOUND"),
        ("app=p_l&permissions=abc", 400, "BAD_REQUEST"),
        ("app=p_l&auto=maybe", 400, "BAD_REQUEST"),
        (
            "app=p_l&return=https%3A%2F%2Fevil.example%2F",
            400,
            "BAD_REQUEST",
        ),
    ] {
        let r = get(format!("{base}/api/auth/login?{query}")).await;
        assert_error(&r, status, code);
    }
    let r = send(
        client()
            .post(format!("{base}/api/auth/login"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form(&[("app", "p_l"), ("decision", "later")])),
    )
    .await;
    assert_error(&r, 400, "BAD_REQUEST");
    let r = send(client().delete(format!("{base}/api/auth/login"))).await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn approving_the_form_signs_in_and_grants_consent() {
    let emulator = setup().await;
    let base = emulator.base_url();
    let r = client()
        .post(format!("{base}/api/auth/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("app", "p_l"),
            ("permissions", "1"),
            ("mode", ""),
            ("return", ""),
            ("display_name", "Dora <script>"),
            ("decision", "approve"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = session_from(&r);
    let page = r.text().await.unwrap();
    assert!(page.contains("Signed in as Dora &lt;script&gt;"), "{page}");

    let first = me(&emulator, &cookie).await;
    assert_eq!(first.body["user"]["displayName"], "Dora <script>");

    let creds = Creds::session(token(&emulator, "p_l").await, cookie);
    let r = call(&emulator, "p_l", "me", json!({}), &creds).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["displayName"], "Dora <script>");

    // The same name signs the same user in again.
    let r = submit(
        &emulator,
        "consent",
        &[
            ("app", "p_l"),
            ("display_name", "Dora <script>"),
            ("decision", "approve"),
        ],
    )
    .await;
    let again = session_from(&r);
    let second = me(&emulator, &again).await;
    assert_eq!(second.body["user"]["guid"], first.body["user"]["guid"]);
}

#[tokio::test]
async fn popup_mode_posts_to_the_opener() {
    let emulator = setup().await;
    let r = submit(
        &emulator,
        "login",
        &[("app", "p_l"), ("mode", "popup"), ("decision", "approve")],
    )
    .await;
    assert_eq!(r.status(), 200);
    session_from(&r);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(r#"window.opener.postMessage({type:"gipity_auth", status:"success"}, "*")"#),
        "{page}"
    );
    assert!(page.contains("window.close()"));

    let r = submit(
        &emulator,
        "login",
        &[("app", "p_l"), ("mode", "popup"), ("decision", "deny")],
    )
    .await;
    assert!(r.headers().get("set-cookie").is_none());
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"status:"denied""#), "{page}");
}

#[tokio::test]
async fn auto_switch_decides_at_once() {
    let emulator = setup().await;
    let base = emulator.base_url();
    let r = client()
        .get(format!(
            "{base}/api/auth/login?app=p_l&permissions=5&mode=popup&auto=approve&user=Eve%20Example"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = session_from(&r);
    assert!(r.text().await.unwrap().contains(r#"status:"success""#));
    let app_token = token(&emulator, "p_l").await;
    let status = get_with(
        format!("{base}/api/p_l/auth/status?permissions=5"),
        &[("X-App-Token", &app_token), ("Cookie", &cookie)],
    )
    .await;
    assert_eq!(status.body["authenticated"], true);
    assert_eq!(status.body["consented"], true);
    assert_eq!(status.body["user"]["displayName"], "Eve Example");

    // Signed in without the consent asked for: exactly the documented shape, with no user.
    let status = get_with(
        format!("{base}/api/p_l/auth/status?permissions=133"),
        &[("X-App-Token", &app_token), ("Cookie", &cookie)],
    )
    .await;
    assert_eq!(
        status.body,
        serde_json::json!({
            "authenticated": true,
            "consented": false,
            "user": null,
            "consentUrl": format!("{base}/api/auth/consent?app=p_l&permissions=133"),
        })
    );

    // Consent for a signed-in user without a name keeps that user.
    let r = client()
        .get(format!(
            "{base}/api/auth/consent?app=p_l&permissions=128&auto=approve"
        ))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    let second = session_from(&r);
    let r = me(&emulator, &second).await;
    assert_eq!(r.body["user"]["displayName"], "Eve Example");

    let r = client()
        .get(format!(
            "{base}/api/auth/login?app=p_l&mode=popup&auto=deny"
        ))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().await.unwrap().contains(r#"status:"denied""#));
}

#[tokio::test]
async fn return_url_redirects_only_to_gipity_hosts() {
    let emulator = setup().await;
    let base = emulator.base_url();
    let back = "https://app.gipity.ai/alice/shop/?tab=1";
    let r = submit(
        &emulator,
        "login",
        &[("app", "p_l"), ("return", back), ("decision", "approve")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], back);
    session_from(&r);

    let local = "http://127.0.0.1:8000/index.html";
    let r = client()
        .get(format!(
            "{base}/api/auth/login?app=p_l&auto=deny&return={}",
            url_encode(local).collect::<String>()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], local);
    assert!(r.headers().get("set-cookie").is_none());

    for bad in [
        "https://evil.example/",
        "https://app.gipity.ai.evil.example/",
        "javascript:alert(1)",
    ] {
        let r = reply(
            submit(
                &emulator,
                "login",
                &[("app", "p_l"), ("return", bad), ("decision", "approve")],
            )
            .await,
        )
        .await;
        assert_error(&r, 400, "BAD_REQUEST");
        assert!(r.headers.get("set-cookie").is_none());
    }
}

#[tokio::test]
async fn the_login_url_from_an_error_works_in_a_browser_flow() {
    let emulator = setup().await;
    let r = call_anonymously(&emulator, "p_l", "me", json!({})).await;
    let login = r.body["error"]["loginUrl"].as_str().unwrap().to_owned();
    let r = client()
        .get(format!("{login}&mode=popup&auto=approve&user=Finn"))
        .send()
        .await
        .unwrap();
    let cookie = session_from(&r);
    let creds = Creds::session(token(&emulator, "p_l").await, cookie);
    let r = call(&emulator, "p_l", "me", json!({}), &creds).await;
    assert_eq!(r.body["data"]["displayName"], "Finn");
}
