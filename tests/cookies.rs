//! The session cookie goes to the API host and nowhere else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{APP, emulator};
use gipity_runtime::{Client, CookieJar, Credentials, Error, Setting, Url};
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

#[tokio::test]
async fn an_auth_handler_stores_the_sign_in_cookie_in_the_clients_own_jar() {
    let emu = emulator().await;
    let user = emu.create_user("Hedy");
    let login = emu.clone();
    // No jar made up front, and no type annotation on the closure's parameter.
    let client = Client::builder(APP)
        .base_url(emu.base_url())
        .on_auth_required(move |challenge| {
            let cookie = login.complete_login(challenge.url().as_str(), &user);
            async move {
                let (Ok(cookie), Some(jar)) = (cookie, challenge.cookie_jar()) else {
                    return gipity_runtime::AuthOutcome::Denied;
                };
                jar.add(&format!("{cookie}; Path=/"), challenge.url());
                gipity_runtime::AuthOutcome::Completed
            }
        })
        .build()
        .unwrap();
    let me: Value = client.call("whoami", &json!({})).await.unwrap();
    assert_eq!(me["displayName"], "Hedy");
    let base = Url::parse(&emu.base_url()).unwrap();
    assert!(client.cookie_jar().unwrap().has_cookies_for(&base));
    assert_eq!(
        emu.calls(APP, "whoami"),
        2,
        "the challenged call and its retry"
    );
}

#[tokio::test]
async fn a_seeded_session_exposes_its_jar() {
    let emu = emulator().await;
    let user = emu.create_user("Ida");
    emu.grant_consent(&user, APP, 1);
    let client = Client::builder(APP)
        .base_url(emu.base_url())
        .credentials(Credentials::session().with_cookies(emu.sign_in(&user)))
        .build()
        .unwrap();
    let base = Url::parse(&emu.base_url()).unwrap();
    assert!(client.cookie_jar().unwrap().has_cookies_for(&base));
    let me: Value = client.call("whoami", &json!({})).await.unwrap();
    assert_eq!(me["displayName"], "Ida");
}

#[tokio::test]
async fn cookies_for_a_credential_that_is_not_a_session_are_refused() {
    let emu = emulator().await;
    let cookie = "gipity_session=Zq7Xcookie0123456789abcdef";
    let kinds = [
        ("api key", Credentials::api_key("gip_pk_0123456789abcdef")),
        ("bearer", Credentials::bearer("gip_at_0123456789abcdef")),
        ("player", Credentials::player("d".repeat(40))),
        ("anonymous", Credentials::anonymous()),
    ];
    for (what, credentials) in kinds {
        let plain = Client::builder(APP)
            .base_url(emu.base_url())
            .credentials(credentials.clone())
            .build()
            .unwrap();
        assert!(plain.cookie_jar().is_none(), "{what}");
        let err = Client::builder(APP)
            .base_url(emu.base_url())
            .credentials(credentials.with_cookies(cookie))
            .build()
            .unwrap_err();
        let Error::InvalidConfig {
            setting: Setting::Credentials,
            message,
            ..
        } = &err
        else {
            panic!("{what}: {err:?}");
        };
        assert!(
            message.contains("only `Credentials::session()` holds cookies"),
            "{message}"
        );
        assert!(
            !format!("{err} {err:?}").contains("Zq7Xcookie"),
            "{what}: {err:?}"
        );
    }
    assert!(emu.requests().is_empty());
}
