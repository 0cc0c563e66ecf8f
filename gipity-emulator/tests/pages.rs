//! The login and consent pages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Creds, assert_error, call, client, reply, token};
use gipity_emulator::{Auth, Emulator};
use serde_json::json;

async fn setup() -> Emulator {
    let emulator = Emulator::start().await.unwrap();
    emulator
        .app("p_l")
        .function("me", Auth::User, |call| Ok(json!(call.user)));
    emulator
}

/// `name=value` of the `Set-Cookie` header, after checking its attributes.
fn session_from(response: &reqwest::Response) -> String {
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut parts = set_cookie.split(';').map(str::trim);
    let pair = parts.next().unwrap().to_owned();
    assert!(pair.starts_with("gipity_session="), "{set_cookie}");
    let attributes: Vec<&str> = parts.collect();
    assert_eq!(
        attributes,
        ["Path=/", "HttpOnly", "SameSite=Lax"],
        "{set_cookie}"
    );
    pair
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
        let r = reply(
            client()
                .get(format!("{base}/api/auth/login?{query}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(&r, status, code);
    }
    let r = reply(
        client()
            .post(format!("{base}/api/auth/login"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form(&[("app", "p_l"), ("decision", "later")]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 400, "BAD_REQUEST");
    let r = reply(
        client()
            .delete(format!("{base}/api/auth/login"))
            .send()
            .await
            .unwrap(),
    )
    .await;
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

    let me = reply(
        client()
            .get(format!("{base}/api/auth/me"))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me.body["user"]["displayName"], "Dora <script>");

    let creds = Creds {
        cookie: Some(cookie),
        app_token: Some(token(&emulator, "p_l").await),
        ..Creds::default()
    };
    let r = call(&emulator, "p_l", "me", json!({}), &creds).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["displayName"], "Dora <script>");

    // The same name signs the same user in again.
    let r = client()
        .post(format!("{base}/api/auth/consent"))
        .body(form(&[
            ("app", "p_l"),
            ("display_name", "Dora <script>"),
            ("decision", "approve"),
        ]))
        .send()
        .await
        .unwrap();
    let again = session_from(&r);
    let me2 = reply(
        client()
            .get(format!("{base}/api/auth/me"))
            .header("Cookie", &again)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me2.body["user"]["guid"], me.body["user"]["guid"]);
}

#[tokio::test]
async fn popup_mode_posts_to_the_opener() {
    let emulator = setup().await;
    let base = emulator.base_url();
    let r = client()
        .post(format!("{base}/api/auth/login"))
        .body(form(&[
            ("app", "p_l"),
            ("mode", "popup"),
            ("decision", "approve"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    session_from(&r);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(r#"window.opener.postMessage({type:"gipity_auth", status:"success"}, "*")"#),
        "{page}"
    );
    assert!(page.contains("window.close()"));

    let r = client()
        .post(format!("{base}/api/auth/login"))
        .body(form(&[
            ("app", "p_l"),
            ("mode", "popup"),
            ("decision", "deny"),
        ]))
        .send()
        .await
        .unwrap();
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
    let status = reply(
        client()
            .get(format!("{base}/api/p_l/auth/status?permissions=5"))
            .header("X-App-Token", token(&emulator, "p_l").await)
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status.body["authenticated"], true);
    assert_eq!(status.body["consented"], true);
    assert_eq!(status.body["user"]["displayName"], "Eve Example");

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
    let me = reply(
        client()
            .get(format!("{base}/api/auth/me"))
            .header("Cookie", &second)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me.body["user"]["displayName"], "Eve Example");

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
    let r = client()
        .post(format!("{base}/api/auth/login"))
        .body(form(&[
            ("app", "p_l"),
            ("return", back),
            ("decision", "approve"),
        ]))
        .send()
        .await
        .unwrap();
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
            client()
                .post(format!("{base}/api/auth/login"))
                .body(form(&[
                    ("app", "p_l"),
                    ("return", bad),
                    ("decision", "approve"),
                ]))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(&r, 400, "BAD_REQUEST");
        assert!(r.headers.get("set-cookie").is_none());
    }
}

#[tokio::test]
async fn the_login_url_from_an_error_works_in_a_browser_flow() {
    let emulator = setup().await;
    let r = call(&emulator, "p_l", "me", json!({}), &Creds::default()).await;
    let login = r.body["error"]["loginUrl"].as_str().unwrap().to_owned();
    let r = client()
        .get(format!("{login}&mode=popup&auto=approve&user=Finn"))
        .send()
        .await
        .unwrap();
    let cookie = session_from(&r);
    let creds = Creds {
        cookie: Some(cookie),
        app_token: Some(token(&emulator, "p_l").await),
        ..Creds::default()
    };
    let r = call(&emulator, "p_l", "me", json!({}), &creds).await;
    assert_eq!(r.body["data"]["displayName"], "Finn");
}
