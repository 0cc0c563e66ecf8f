//! Calling functions over real HTTP: bodies, results, names, credentials on the wire.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    APP, assert_http_error, builder, call_err, emulator, session_client, signed_in_client,
};
use gipity_emulator::{Auth, Fault, Target, Times};
use gipity_runtime::{Client, Credentials, Error, RemoteFunction, Setting};
use serde::Deserialize;
use serde_json::{Value, json};

#[tokio::test]
async fn public_call_round_trips_the_body() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let body = json!({"category": "books", "limit": 3, "tags": ["a", "b"]});
    let echoed: Value = client.call("echo", &body).await.unwrap();
    assert_eq!(echoed, body);
    assert_eq!(emu.bodies(APP, "echo"), vec![body]);
    assert_eq!(emu.executions(APP, "echo"), 1);
}

#[tokio::test]
async fn typed_result_is_decoded_from_data() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        id: u64,
        name: String,
    }
    let emu = emulator().await;
    emu.app(APP).function("items", Auth::Public, |_| {
        Ok(json!([{"id": 1, "name": "Dune"}, {"id": 2, "name": "Emma"}]))
    });
    let items: Vec<Item> = session_client(&emu)
        .call("items", &json!({}))
        .await
        .unwrap();
    assert_eq!(
        items,
        [
            Item {
                id: 1,
                name: "Dune".into()
            },
            Item {
                id: 2,
                name: "Emma".into()
            }
        ]
    );
}

#[tokio::test]
async fn unit_accepts_any_data() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let (): () = client
        .call("echo", &json!({"anything": [1, 2, 3]}))
        .await
        .unwrap();
    let (): () = client.call("echo", &json!(null)).await.unwrap();
}

#[tokio::test]
async fn wrong_data_shape_is_a_decode_error_with_status() {
    let emu = emulator().await;
    let err = session_client(&emu)
        .call::<u64>("echo", &json!({"not": "a number"}))
        .await
        .unwrap_err();
    match err {
        Error::Decode { status, detail, .. } => {
            assert_eq!(status, 200);
            assert!(detail.contains("invalid type"), "{detail}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn dashed_names_are_sent_as_one_path_segment() {
    let emu = emulator().await;
    emu.app(APP)
        .function("get-items", Auth::Public, |call| Ok(call.body));
    let got: Value = session_client(&emu)
        .call("get-items", &json!({"x": 1}))
        .await
        .unwrap();
    assert_eq!(got, json!({"x": 1}));
    let paths: Vec<String> = emu.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.contains(&format!("/api/{APP}/fn/get-items")),
        "{paths:?}"
    );
}

#[tokio::test]
async fn hostile_function_names_fail_before_any_request() {
    let emu = emulator().await;
    let client = session_client(&emu);
    for name in ["", "../token", "a/b", "a b", "..", "%2e%2e", "x?y", "é"] {
        let err = client.call::<Value>(name, &json!({})).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{name:?}: {err:?}");
    }
    assert_eq!(emu.counters().http_requests, 0);
}

#[tokio::test]
async fn function_error_envelope_becomes_http_error() {
    let emu = emulator().await;
    let err = call_err(&session_client(&emu), "boom").await;
    assert_http_error(&err, 500, "FUNCTION_ERROR", "kaboom");
    assert_eq!(err.code(), Some("FUNCTION_ERROR"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn unknown_function_is_404() {
    let emu = emulator().await;
    let err = call_err(&session_client(&emu), "missing").await;
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("FUNCTION_NOT_FOUND"));
}

#[tokio::test]
async fn soft_errors_are_success_unless_opted_in() {
    let emu = emulator().await;
    emu.app(APP).function("soft", Auth::Public, |_| {
        Ok(json!({"error": "out of stock"}))
    });
    let client = session_client(&emu);
    let data: Value = client.call("soft", &json!({})).await.unwrap();
    assert_eq!(data, json!({"error": "out of stock"}));
    let err = client
        .call_function::<Value>(&RemoteFunction::new("soft").soft_errors(true), &json!({}))
        .await
        .unwrap_err();
    match err {
        Error::Function {
            function, message, ..
        } => {
            assert_eq!(function, "soft");
            assert_eq!(message, "out of stock");
        }
        other => panic!("expected a function error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_soft_error_message_is_bounded() {
    let emu = emulator().await;
    emu.app(APP).function("chatty", Auth::Public, |_| {
        Ok(json!({"error": "why ".repeat(10_000)}))
    });
    let err = session_client(&emu)
        .call_function::<Value>(&RemoteFunction::new("chatty").soft_errors(true), &json!({}))
        .await
        .unwrap_err();
    let Error::Function { message, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(message.starts_with("why why"), "{message}");
    assert!(
        message.chars().count() <= 160,
        "{} chars",
        message.chars().count()
    );
    assert!(err.to_string().chars().count() < 300);
}

#[tokio::test]
async fn a_proxy_from_the_environment_never_sees_loopback_calls() {
    const CHILD: &str = "GIPITY_TEST_PROXY_CHILD";
    if std::env::var_os(CHILD).is_some() {
        // In the child, with HTTP_PROXY set: the call reaches the emulator directly.
        let emu = emulator().await;
        let client = builder(&emu)
            .credentials(Credentials::api_key(emu.app(APP).api_key()))
            .build()
            .unwrap();
        let v: Value = client.call("echo", &json!({"k": 1})).await.unwrap();
        assert_eq!(v, json!({"k": 1}));
        return;
    }
    // A "proxy" that accepts connections and answers nothing.
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_proxy_from_the_environment_never_sees_loopback_calls",
        ])
        .env(CHILD, "1")
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the call through the environment's proxy failed"
    );
    assert!(
        matches!(proxy.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the proxy saw a connection"
    );
}

#[tokio::test]
async fn session_client_sends_app_token_and_cookie() {
    let emu = emulator().await;
    let (client, user) = signed_in_client(&emu);
    let me: Value = client.call("whoami", &json!({})).await.unwrap();
    assert_eq!(me["guid"], json!(user.guid));
    let call = emu
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path.ends_with("/fn/whoami"))
        .unwrap();
    let header = |name: &str| {
        call.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert!(header("x-app-token").unwrap().starts_with("eyJ"));
    assert!(header("cookie").unwrap().contains("gipity_session="));
    assert!(header("authorization").is_none());
    assert!(header("x-api-key").is_none());
}

#[tokio::test]
async fn api_key_client_sends_only_the_key() {
    let emu = emulator().await;
    let key = emu.app(APP).api_key();
    let client = builder(&emu)
        .credentials(Credentials::api_key(key.clone()))
        .build()
        .unwrap();
    let secret: String = client.call("secret", &json!({})).await.unwrap();
    assert_eq!(secret, "the member secret");
    let last = emu.requests().pop().unwrap();
    assert!(last.headers.contains(&("x-api-key".into(), key)));
    assert!(
        !last
            .headers
            .iter()
            .any(|(n, _)| n == "x-app-token" || n == "cookie")
    );
    assert_eq!(
        emu.counters().token_mints,
        0,
        "an api key client mints no app token"
    );
}

#[tokio::test]
async fn bearer_client_uses_an_account_token() {
    let emu = emulator().await;
    let user = emu.create_user("Bob");
    let client = builder(&emu)
        .credentials(Credentials::bearer(emu.account_token(&user)))
        .build()
        .unwrap();
    let me: Value = client.call("whoami", &json!({})).await.unwrap();
    assert_eq!(me["displayName"], json!("Bob"));
}

#[tokio::test]
async fn anonymous_client_calls_public_functions_and_refuses_others_locally() {
    let emu = emulator().await;
    let client = builder(&emu)
        .credentials(Credentials::anonymous())
        .build()
        .unwrap();
    let v: Value = client
        .call_function(
            &RemoteFunction::new("echo").auth(gipity_runtime::Auth::Public),
            &json!(1),
        )
        .await
        .unwrap();
    assert_eq!(v, json!(1));
    let before = emu.counters().http_requests;
    let err = client
        .call_function::<Value>(
            &RemoteFunction::new("whoami").auth(gipity_runtime::Auth::User),
            &json!({}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::CredentialUnavailable { .. }),
        "{err:?}"
    );
    assert_eq!(emu.counters().http_requests, before, "nothing was sent");
    assert_eq!(emu.counters().token_mints, 0);
}

#[tokio::test]
async fn player_signs_in_once_and_sends_a_bearer() {
    let emu = emulator().await;
    let client = builder(&emu)
        .credentials(Credentials::player_named("d".repeat(40), "Player One"))
        .build()
        .unwrap();
    for _ in 0..3 {
        let me: Value = client.call("whoami", &json!({})).await.unwrap();
        assert_eq!(me["displayName"], json!("Player One"));
    }
    assert_eq!(emu.counters().guest_sign_ins, 1);
    let last = emu.requests().pop().unwrap();
    assert!(
        last.headers
            .iter()
            .any(|(n, v)| n == "authorization" && v.starts_with("Bearer "))
    );
}

#[tokio::test]
async fn expired_player_token_signs_in_again_once() {
    let emu = emulator().await;
    let client = builder(&emu)
        .credentials(Credentials::player("s".repeat(32)))
        .build()
        .unwrap();
    let _: Value = client.call("whoami", &json!({})).await.unwrap();
    emu.expire_player_tokens();
    let _: Value = client.call("whoami", &json!({})).await.unwrap();
    assert_eq!(emu.counters().guest_sign_ins, 2);
    assert_eq!(emu.calls(APP, "whoami"), 3, "one rejected call, one retry");
    assert_eq!(emu.executions(APP, "whoami"), 2);
}

#[tokio::test]
async fn invalid_configuration_is_rejected_at_build() {
    let cases: [(&str, gipity_runtime::ClientBuilder, Setting); 7] = [
        ("bad guid", Client::builder("not-a-guid"), Setting::App),
        (
            "guid as api key",
            Client::builder("p_abc").credentials(Credentials::api_key("p_abc")),
            Setting::Credentials,
        ),
        (
            "guid as bearer",
            Client::builder("p_abc").credentials(Credentials::bearer("p_abc")),
            Setting::Credentials,
        ),
        (
            "short device secret",
            Client::builder("p_abc").credentials(Credentials::player("short")),
            Setting::Credentials,
        ),
        (
            "relative base",
            Client::builder("p_abc").base_url("/api"),
            Setting::BaseUrl,
        ),
        (
            "http to a remote host",
            Client::builder("p_abc").base_url("http://a.gipity.ai"),
            Setting::BaseUrl,
        ),
        (
            "foreign return url",
            Client::builder("p_abc").return_url("https://evil.example/"),
            Setting::ReturnUrl,
        ),
    ];
    for (what, builder, expected) in cases {
        let err = builder.build().unwrap_err();
        assert!(
            matches!(err, Error::InvalidConfig { setting, .. } if setting == expected),
            "{what}: {err:?}"
        );
    }
    assert!(
        Client::builder("p_abc")
            .return_url("https://app.gipity.ai/alice/shop/")
            .build()
            .is_ok()
    );
}

#[tokio::test]
async fn base_url_comes_from_the_builder_then_the_default() {
    let client = Client::builder("p_abc").build().unwrap();
    let expected = std::env::var(gipity_runtime::BASE_URL_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "https://a.gipity.ai/".into());
    assert_eq!(
        client.base_url().as_str().trim_end_matches('/'),
        expected.trim_end_matches('/')
    );
    let client = Client::builder("p_abc")
        .base_url("http://127.0.0.1:9/")
        .build()
        .unwrap();
    assert_eq!(client.base_url().as_str(), "http://127.0.0.1:9/");
}

#[tokio::test]
async fn per_call_timeout_is_a_typed_timeout() {
    let emu = emulator().await;
    emu.inject(
        Target::function(APP, "echo"),
        Fault::Delay(std::time::Duration::from_millis(800)),
        Times::Once,
    );
    let err = session_client(&emu)
        .call_function::<Value>(
            &RemoteFunction::new("echo").timeout(std::time::Duration::from_millis(150)),
            &json!({}),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(err.is_retryable());
}
