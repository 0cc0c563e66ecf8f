//! The automatic decisions of the login and consent pages (`POST /__emulator/auto`), in every
//! mode, and the popup's message to its opener.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::controls::{assert_done, page, post, setup, who};
use common::{Creds, assert_error, call, client, reply, session_of, token};
use gipity_emulator::{AutoDecision, DEMO_APP};
use serde_json::json;

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
