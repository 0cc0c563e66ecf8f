//! The session cookie goes to the API host and nowhere else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{APP, emulator};
use gipity_runtime::{Client, CookieJar, Credentials, Url};
use serde_json::{Value, json};

fn port_of(base: &str) -> u16 {
    Url::parse(base).unwrap().port().unwrap()
}

#[tokio::test]
async fn cookie_is_not_sent_to_another_host() {
    let api = emulator().await;
    let other = emulator().await;
    let user = api.create_user("Gina");
    api.grant_consent(&user, APP, 1);
    let jar = CookieJar::new();
    let api_client = Client::builder(APP)
        .base_url(api.base_url())
        .credentials(Credentials::session_with_jar(jar.clone()).with_cookies(api.sign_in(&user)))
        .build()
        .unwrap();
    let _: Value = api_client.call("whoami", &json!({})).await.unwrap();

    // The same jar, a client for another host name (`localhost` is not `127.0.0.1`).
    let other_base = format!("http://localhost:{}", port_of(&other.base_url()));
    let other_client = Client::builder(APP)
        .base_url(other_base.as_str())
        .credentials(Credentials::session_with_jar(jar.clone()))
        .build()
        .unwrap();
    let _: Value = other_client.call("echo", &json!({})).await.unwrap();
    let seen = other.requests();
    assert!(!seen.is_empty());
    for request in seen {
        assert!(
            !request.headers.iter().any(|(n, _)| n == "cookie"),
            "cookie leaked to {}",
            request.path
        );
    }
    assert!(jar.has_cookies_for(&Url::parse(&api.base_url()).unwrap()));
    assert!(!jar.has_cookies_for(&Url::parse(&other_base).unwrap()));
}
