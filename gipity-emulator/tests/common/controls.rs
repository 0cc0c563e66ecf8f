//! Helpers of the test-control tests.

#![allow(dead_code)]

use gipity_emulator::{DEMO_APP, Emulator};
use serde_json::{Value, json};

use super::{Reply, client, me, post_json};

/// The demo app with the test controls on.
pub async fn setup() -> Emulator {
    Emulator::builder()
        .demo(true)
        .test_controls(true)
        .start()
        .await
        .unwrap()
}

/// `POST /__emulator/<path>` with a JSON body.
pub async fn post(emulator: &Emulator, path: &str, body: Value) -> Reply {
    post_json(format!("{}/__emulator/{path}", emulator.base_url()), &body).await
}

/// `GET /__emulator/<path>`.
pub async fn get(emulator: &Emulator, path: &str) -> Reply {
    super::get(format!("{}/__emulator/{path}", emulator.base_url())).await
}

/// Asserts `{"data":{}}`.
pub fn assert_done(reply: &Reply) {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body, json!({"data": {}}));
}

/// `GET` a page of the emulator; returns the response.
pub async fn page(emulator: &Emulator, path_and_query: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path_and_query}", emulator.base_url()))
        .send()
        .await
        .unwrap()
}

/// The status of `POST /api/token` for the demo app, whatever the body.
pub async fn mint_status(emulator: &Emulator) -> u16 {
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
pub async fn who(emulator: &Emulator, cookie: &str) -> Option<String> {
    let r = me(emulator, cookie).await;
    r.body["user"]["displayName"].as_str().map(str::to_owned)
}
