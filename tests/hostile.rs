//! Hostile input, through the public API: return URLs, base URLs, GUIDs, credentials and
//! function names are refused before any request; login and consent URLs a server sends are
//! used only on the API's own origin, and error envelopes a server writes stay short and
//! redacted.
//!
//! The rule for server-sent URLs: a `loginUrl`/`consentUrl` is followed only when it has the
//! API base's exact scheme, host and port, no user info, and a path under
//! `<base path>/api/auth/` (no encoded `.`, `/` or `\` after it). Anything else is ignored and
//! the runtime builds the documented URL itself: `<api>/api/auth/login?app=<GUID>&permissions=N`
//! (`/api/auth/consent` for consent).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{APP, builder, call_err, emulator, session_client};
use gipity_emulator::{Emulator, Fault, Target, Times};
use gipity_runtime::{
    AuthOutcome, Challenge, Client, Credentials, Error, Permissions, RemoteFunction, Setting, Url,
};
use serde_json::{Value, json};

/// Return URLs that must never be accepted, whatever the client's base URL.
fn hostile_return_urls() -> Vec<String> {
    let mut urls: Vec<String> = [
        // Wrong schemes and shapes.
        "http://app.gipity.ai/",
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        "javascript://app.gipity.ai/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "wss://app.gipity.ai/",
        "blob:https://app.gipity.ai/0b1c",
        "//evil.example/",
        "//app.gipity.ai/",
        "/alice/shop/",
        "alice/shop",
        "?return=https://evil.example",
        "https:gipity.ai",
        "https:/gipity.ai",
        "https:///gipity.ai",
        "https://",
        "",
        // Look-alike hosts.
        "https://gipity.ai.evil.example/",
        "https://app.gipity.ai.evil.example/",
        "https://evilgipity.ai/",
        "https://app-gipity.ai/",
        "https://gipity.com/",
        "https://a.gipity.ai/",
        "https://www.gipity.ai/",
        "https://app..gipity.ai/",
        "https://gipity.ai./",
        "https://evil.example/app.gipity.ai",
        "https://evil.example?https://app.gipity.ai",
        "https://evil.example#@app.gipity.ai",
        // User info and encoded authorities.
        "https://gipity.ai@evil.example/",
        "https://user:pw@app.gipity.ai/",
        "https://app.gipity.ai:443@evil.example/",
        "https://app.gipity.ai%2F@evil.example",
        "https://gipity%2eai/",
        "https://app.gipity.ai%00.evil.example/",
        // Ports and IP hosts.
        "https://gipity.ai:443/",
        "https://app.gipity.ai:8443/",
        "https://dev.gipity.ai:/",
        "https://[::1]/",
        "https://127.0.0.1/",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://localhost/",
        // Whitespace, controls, backslashes.
        "https://gip\tity.ai/",
        "https://app.gipity.ai\n.evil.example/",
        " https://app.gipity.ai/",
        "https://app.gipity.ai/\r",
        "https://app.gipity.ai\\@evil.example/",
        "\\\\evil.example",
        // Unicode look-alikes and punycode.
        "https://gipity\u{3002}ai/",
        "https://\u{FF47}ipity.ai/",
        "https://app.gipity.ai\u{200B}/",
        "https://\u{430}pp.gipity.ai/",
        "https://xn--gipity-9ua.ai/",
        "https://app.gipity.ai/\u{202E}",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    urls.push(format!("https://app.gipity.ai/{}", "a".repeat(2100)));
    urls
}

/// Return URLs near the emulator's origin that are not it.
fn near_misses(emu: &Emulator) -> Vec<String> {
    let port = Url::parse(&emu.base_url()).unwrap().port().unwrap();
    vec![
        format!("http://127.0.0.1:{}/", port.wrapping_add(1)),
        format!("http://localhost:{port}/"),
        format!("https://127.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://user@127.0.0.1:{port}/"),
        "http://127.0.0.1/".to_owned(),
    ]
}

const ALLOWED_RETURN_URLS: [&str; 6] = [
    "https://app.gipity.ai/alice/shop/",
    "https://dev.gipity.ai/acme/shop/?tab=cart#top",
    "https://gipity.ai/",
    "https://gipity.ai",
    "HTTPS://APP.GIPITY.AI/Alice/",
    "https://app.gipity.ai/a%20b?q=%2F",
];

#[tokio::test]
async fn hostile_return_urls_are_refused_and_gipity_pages_accepted() {
    let emu = emulator().await;
    // A challenge to build redirect URLs from (`Challenge::redirect_url_to`).
    let err = call_err(&session_client(&emu), "whoami").await;
    let challenge = err.challenge().unwrap().clone();
    let requests_before = emu.counters().http_requests;

    let mut hostile = hostile_return_urls();
    assert!(hostile.len() >= 40);
    hostile.extend(near_misses(&emu));
    let bases = [emu.base_url(), "https://a.gipity.ai".to_owned()];
    let mut tries = 0;
    for url in &hostile {
        for base in &bases {
            let err = Client::builder(APP)
                .base_url(base.as_str())
                .return_url(url.as_str())
                .build()
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidConfig {
                        setting: Setting::ReturnUrl,
                        ..
                    }
                ),
                "{url:?}: {err:?}"
            );
            tries += 1;
        }
        let err = challenge.redirect_url_to(url).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidConfig {
                    setting: Setting::ReturnUrl,
                    ..
                }
            ),
            "{url:?}: {err:?}"
        );
        tries += 1;
    }
    for url in ALLOWED_RETURN_URLS {
        for base in &bases {
            Client::builder(APP)
                .base_url(base.as_str())
                .return_url(url)
                .build()
                .unwrap_or_else(|e| panic!("{url:?} refused: {e}"));
        }
        let redirect = challenge.redirect_url_to(url).unwrap();
        assert_eq!(redirect.origin(), challenge.url().origin());
        let back = redirect
            .query_pairs()
            .find(|(name, _)| name == "return")
            .map(|(_, value)| value.into_owned());
        assert_eq!(back.as_deref(), Some(Url::parse(url).unwrap().as_str()));
    }
    // The emulator's own origin is a return URL only for a client of that emulator.
    let own = format!("{}/app/?x=1", emu.base_url());
    assert!(builder(&emu).return_url(own.as_str()).build().is_ok());
    assert!(challenge.redirect_url_to(&own).is_ok());
    assert!(
        Client::builder(APP)
            .base_url("https://a.gipity.ai")
            .return_url(own.as_str())
            .build()
            .is_err()
    );
    assert_eq!(
        emu.counters().http_requests,
        requests_before,
        "nothing was sent"
    );
    println!(
        "return URLs: {} hostile refused ({tries} tries: the builder on two bases and \
         redirect_url_to), {} allowed accepted",
        hostile.len(),
        ALLOWED_RETURN_URLS.len() + 1
    );
}

#[tokio::test]
async fn hostile_configuration_is_refused_before_any_request() {
    let emu = emulator().await;
    let guids: Vec<String> = vec![
        String::new(),
        "p_".into(),
        "p".into(),
        "abc123".into(),
        "P_abc".into(),
        "p_a/b".into(),
        "p_../token".into(),
        "p_a b".into(),
        "p_a\nb".into(),
        "p_\u{e9}".into(),
        " p_abc".into(),
        "p_abc ".into(),
        "p_abc%2F".into(),
        "p_abc?x=1".into(),
        "p_abc#".into(),
        format!("p_{}", "a".repeat(65)),
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln".into(),
        "gip_at_0123456789".into(),
    ];
    let tokens: Vec<String> = vec![
        String::new(),
        APP.into(),
        format!(" {APP} "),
        "Bearer gip_at_0123456789".into(),
        "bearer gip_at_0123456789".into(),
        "gip_at_0123 456789".into(),
        "gip_pk_abc\r\nX-Evil: 1".into(),
        "gip_pk_abc\n".into(),
        "gip_pk_\u{e9}t\u{e9}".into(),
        "gip_pk_\u{0}".into(),
        "x".repeat(8193),
    ];
    let device_secrets: Vec<String> = vec![
        String::new(),
        "short".into(),
        "x".repeat(31),
        "x".repeat(257),
        format!("p_{}", "a".repeat(40)),
        format!("{} ", "a".repeat(40)),
        format!("{}\n", "a".repeat(40)),
        "\u{e9}".repeat(40),
    ];
    let bases = [
        "",
        "a.gipity.ai",
        "/api",
        "//a.gipity.ai",
        "http://a.gipity.ai",
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example",
        "http://sub.localhost/",
        "http://10.0.0.1/",
        "http://[::2]/",
        "ftp://a.gipity.ai",
        "javascript:alert(1)",
        "https://user:pw@a.gipity.ai",
        "https://a.gipity.ai?x=1",
        "https://a.gipity.ai#f",
        "https://a.gipity.ai\n",
        "https://a.gipity.ai\\x",
        "https://a%2egipity.ai",
    ];

    let refused = |what: &str, input: &str, result: gipity_runtime::Result<Client>| {
        let err = result.unwrap_err();
        let Error::InvalidConfig {
            setting, message, ..
        } = &err
        else {
            panic!("{what} {input:?}: {err:?}");
        };
        let expected = match what {
            "GUID" => Setting::App,
            "base URL" => Setting::BaseUrl,
            _ => Setting::Credentials,
        };
        assert_eq!(*setting, expected, "{what} {input:?}");
        if what != "base URL" && input.len() >= 6 {
            assert!(!message.contains(input), "{what}: the message quotes it");
        }
    };
    for guid in &guids {
        refused(
            "GUID",
            guid,
            Client::builder(guid.as_str())
                .base_url(emu.base_url())
                .build(),
        );
    }
    for token in &tokens {
        refused(
            "API key",
            token,
            builder(&emu)
                .credentials(Credentials::api_key(token.as_str()))
                .build(),
        );
        refused(
            "bearer",
            token,
            builder(&emu)
                .credentials(Credentials::bearer(token.as_str()))
                .build(),
        );
    }
    for secret in &device_secrets {
        refused(
            "device secret",
            secret,
            builder(&emu)
                .credentials(Credentials::player(secret.as_str()))
                .build(),
        );
    }
    for base in bases {
        refused(
            "base URL",
            base,
            Client::builder(APP).base_url(base).build(),
        );
    }
    assert_eq!(emu.counters().http_requests, 0, "nothing was sent");
    println!(
        "hostile configuration: {} GUIDs, {} tokens (as API key and bearer), {} device secrets, {} base URLs",
        guids.len(),
        tokens.len(),
        device_secrets.len(),
        bases.len()
    );
}

#[tokio::test]
async fn hostile_function_names_are_refused_before_any_request() {
    let emu = emulator().await;
    let names: Vec<String> = vec![
        String::new(),
        ".".into(),
        "..".into(),
        "../token".into(),
        "..\\token".into(),
        "../../api/token".into(),
        "a/b".into(),
        "/abs".into(),
        "a b".into(),
        "a\tb".into(),
        "a\nb".into(),
        "a\0b".into(),
        "%2e%2e".into(),
        "%2F".into(),
        "x?y".into(),
        "x#y".into(),
        "x;y".into(),
        "name:".into(),
        "a..b".into(),
        "-flag".into(),
        "_private".into(),
        "\u{e9}".into(),
        "get-items\u{200B}".into(),
        "\u{202E}abc".into(),
        "x".repeat(129),
    ];
    let clients = [
        session_client(&emu),
        builder(&emu)
            .credentials(Credentials::api_key("gip_pk_0123456789"))
            .build()
            .unwrap(),
        builder(&emu)
            .credentials(Credentials::player("d".repeat(40)))
            .build()
            .unwrap(),
        builder(&emu)
            .credentials(Credentials::anonymous())
            .build()
            .unwrap(),
    ];
    for client in &clients {
        for name in &names {
            let err = client.call::<Value>(name, &json!({})).await.unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{name:?}: {err:?}");
            let function = RemoteFunction::new(name).auth(gipity_runtime::Auth::Public);
            let err = client
                .call_function::<Value>(&function, &json!({}))
                .await
                .unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{name:?}: {err:?}");
        }
    }
    let counters = emu.counters();
    assert_eq!(counters.http_requests, 0, "nothing was sent");
    assert_eq!(counters.token_mints, 0, "not even a mint");
    println!("function names: {} hostile", names.len());
}

/// Answers the next call of `function` with `LOGIN_REQUIRED` (or `CONSENT_REQUIRED`) and the
/// given URL.
fn challenge_fault(emu: &Emulator, function: &str, consent: bool, url: &str) {
    let (status, code, field) = if consent {
        (403, "CONSENT_REQUIRED", "consentUrl")
    } else {
        (401, "LOGIN_REQUIRED", "loginUrl")
    };
    let body = json!({"error": {"code": code, "message": "sign in", field: url}});
    emu.inject(
        Target::function(APP, function),
        Fault::Json {
            status,
            body: body.to_string(),
        },
        Times::Once,
    );
}

/// `loginUrl`s a hostile or broken server could send, relative to the emulator at `base`.
fn foreign_challenge_urls(base: &str) -> Vec<String> {
    let port = Url::parse(base).unwrap().port().unwrap();
    vec![
        "https://evil.example/api/auth/login?app=p_test&permissions=1".into(),
        format!("http://127.0.0.1.evil.example:{port}/api/auth/login"),
        format!("http://localhost:{port}/api/auth/login"),
        format!("http://127.0.0.1:{}/api/auth/login", port.wrapping_add(1)),
        format!("https://127.0.0.1:{port}/api/auth/login"),
        format!("http://evil.example@127.0.0.1:{port}/api/auth/login"),
        "//evil.example/api/auth/login".into(),
        "/api/auth/login".into(),
        "javascript:alert(document.cookie)".into(),
        format!("{base}/api/token"),
        format!("{base}/api/authx/login"),
        format!("{base}/api/auth/%2e%2e/token"),
        format!("{base}/api/auth/login\n"),
        String::new(),
    ]
}

#[tokio::test]
async fn foreign_login_and_consent_urls_are_rebuilt_on_the_api_origin() {
    let emu = emulator().await;
    let base = emu.base_url();
    let client = session_client(&emu);
    let foreign = foreign_challenge_urls(&base);
    for url in &foreign {
        challenge_fault(&emu, "whoami", false, url);
        let err = call_err(&client, "whoami").await;
        let Error::LoginRequired(challenge) = &err else {
            panic!("{url:?}: {err:?}");
        };
        assert_eq!(
            challenge.url().as_str(),
            format!("{base}/api/auth/login?app={APP}&permissions=1"),
            "{url:?} was followed"
        );
        assert_eq!(challenge.popup_url().origin(), challenge.url().origin());

        challenge_fault(&emu, "whoami", true, &url.replace("login", "consent"));
        let function =
            RemoteFunction::new("whoami").permissions(Permissions::IDENTITY | Permissions::AI);
        let err = client
            .call_function::<Value>(&function, &json!({}))
            .await
            .unwrap_err();
        let Error::ConsentRequired(challenge) = &err else {
            panic!("{url:?}: {err:?}");
        };
        assert_eq!(
            challenge.url().as_str(),
            format!("{base}/api/auth/consent?app={APP}&permissions=5"),
            "{url:?} was followed"
        );
    }
    assert_eq!(emu.executions(APP, "whoami"), 0);

    // A URL on the API origin under /api/auth/ is used as given.
    let own = format!("{base}/api/auth/login?app={APP}&permissions=1&hint=from-server");
    challenge_fault(&emu, "whoami", false, &own);
    let err = call_err(&client, "whoami").await;
    assert_eq!(err.challenge().unwrap().url().as_str(), own);

    // The auth handler is given the rebuilt URL, which works: the call is retried once.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let jar = gipity_runtime::CookieJar::new();
    let user = emu.create_user("Hana");
    let client = builder(&emu)
        .credentials(Credentials::session_with_jar(jar.clone()))
        .on_auth_required({
            let emu = emu.clone();
            let seen = Arc::clone(&seen);
            move |challenge: Challenge| {
                seen.lock().unwrap().push(challenge.url().to_string());
                let outcome = match emu.complete_login(challenge.url().as_str(), &user) {
                    Ok(cookie) => {
                        jar.add(&format!("{cookie}; Path=/"), challenge.url());
                        AuthOutcome::Completed
                    }
                    Err(_) => AuthOutcome::Denied,
                };
                async move { outcome }
            }
        })
        .build()
        .unwrap();
    let calls_before = emu.calls(APP, "whoami");
    challenge_fault(&emu, "whoami", false, "https://evil.example/api/auth/login");
    let me: Value = client.call("whoami", &json!({})).await.unwrap();
    assert_eq!(me["displayName"], json!("Hana"));
    assert_eq!(
        *seen.lock().unwrap(),
        [format!("{base}/api/auth/login?app={APP}&permissions=1")]
    );
    assert_eq!(emu.calls(APP, "whoami") - calls_before, 2);
    assert_eq!(emu.executions(APP, "whoami"), 1);
    println!(
        "server-sent URLs: {} foreign login URLs and {} foreign consent URLs rebuilt",
        foreign.len(),
        foreign.len()
    );
}

#[tokio::test]
async fn hostile_error_envelopes_stay_short_and_redacted() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1XzEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    let cases = [
        json!({"error": {"code": "X".repeat(5000), "message": "m"}}),
        json!({"error": {"code": token, "message": "m"}}),
        json!({"error": {"code": "INVALID_TOKEN", "message": format!("rejected: Bearer {token}")}}),
        json!({"error": {"code": "X", "message": "y".repeat(100_000)}}),
        json!({"error": format!("session={token}")}),
    ];
    for body in &cases {
        emu.inject(
            Target::function(APP, "echo"),
            Fault::Json {
                status: 500,
                body: body.to_string(),
            },
            Times::Once,
        );
        let err = call_err(&client, "echo").await;
        let Error::Http { code, message, .. } = &err else {
            panic!("{err:?}");
        };
        assert!(
            code.as_ref().is_none_or(|c| c.chars().count() <= 160),
            "{code:?}"
        );
        assert!(message.as_ref().is_none_or(|m| m.chars().count() <= 160));
        let shown = format!("{err} {err:?}");
        assert!(shown.chars().count() < 1024, "{} characters", shown.len());
        assert!(!shown.contains(token), "{shown}");
    }
    // Platform codes pass through unchanged, long UPPER_SNAKE_CASE ones included; a long
    // mixed-case code (a token the server echoed) does not.
    for (code, shown) in [
        ("ALREADY_EXISTS.v2:item-1", "ALREADY_EXISTS.v2:item-1"),
        (
            "FUNCTION_EXECUTION_TIMEOUT_EXCEEDED",
            "FUNCTION_EXECUTION_TIMEOUT_EXCEEDED",
        ),
        ("not_found", "not_found"),
        ("Zx81fQk2LmN0pR7sT4uV9wYb", "[redacted]"),
    ] {
        emu.inject(
            Target::function(APP, "echo"),
            Fault::Json {
                status: 409,
                body: json!({"error": {"code": code, "message": "m"}}).to_string(),
            },
            Times::Once,
        );
        let err = call_err(&client, "echo").await;
        assert_eq!(err.code(), Some(shown), "{code}");
    }
    assert_eq!(emu.executions(APP, "echo"), 0);
}
