#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::*;
use crate::validate::test_support::{assert_message_style, emulator};

mod cases;

// ------------------------------------------------------------------ return_url

#[test]
fn return_url_rejects_hostile_inputs() {
    let long_path = format!("https://app.gipity.ai/{}", "a".repeat(MAX_URL_BYTES));
    let mut cases: Vec<(&str, String)> = cases::HOSTILE_RETURN_URLS
        .iter()
        .map(|&(what, input)| (what, input.to_owned()))
        .collect();
    cases.push(("too long", long_path));
    assert!(cases.len() >= 45, "only {} hostile cases", cases.len());
    let extra = emulator();
    for (what, input) in &cases {
        for origin in [None, Some(&extra)] {
            match return_url(input, origin) {
                Ok(url) => panic!("{what}: {input:?} accepted as {url}"),
                Err(error) => {
                    assert_message_style(&error, input);
                    assert!(error.0.chars().count() < 400, "{what}: message too long");
                }
            }
        }
    }
}

#[test]
fn return_url_accepts_gipity_pages_and_the_extra_origin() {
    let extra = emulator();
    let cases = cases::RETURN_URLS;
    for &(input, with_extra, expected) in cases {
        match return_url(input, with_extra.then_some(&extra)) {
            Ok(url) => assert_eq!(url.as_str(), expected, "{input:?}"),
            Err(error) => panic!("{input:?} rejected: {}", error.0),
        }
    }
}

#[test]
fn return_url_extra_origin_is_exact() {
    let extra = emulator();
    for input in [
        "http://127.0.0.1:8788/",      // other port
        "http://127.0.0.1/",           // default port
        "https://127.0.0.1:8787/",     // other scheme
        "http://localhost:8787/",      // other host, same machine
        "http://127.1:8787/",          // same address, non-canonical spelling
        "http://user@127.0.0.1:8787/", // user info
        "http://127.0.0.1:8787@evil.com/",
        "ws://127.0.0.1:8787/",
    ] {
        assert!(
            return_url(input, Some(&extra)).is_err(),
            "{input:?} accepted"
        );
    }
    let v6 = Url::parse("http://[::1]:9000/").unwrap();
    assert!(return_url("http://[::1]:9000/x", Some(&v6)).is_ok());
    assert!(return_url("http://[0::1]:9000/x", Some(&v6)).is_err());
    // A Gipity host with a port passes only as the extra origin itself.
    let odd = Url::parse("https://app.gipity.ai:8443").unwrap();
    assert!(return_url("https://app.gipity.ai:8443/x", Some(&odd)).is_ok());
    assert!(return_url("https://app.gipity.ai:9443/x", Some(&odd)).is_err());
    assert!(return_url("https://app.gipity.ai:8443/x", None).is_err());
    let local = Url::parse("http://localhost:3000").unwrap();
    assert!(return_url("http://LOCALHOST:3000/", Some(&local)).is_ok());
    assert!(return_url("http://localhost.:3000/", Some(&local)).is_err());
}

#[test]
fn url_functions_never_panic() {
    const PARTS: [&str; 24] = [
        "https:",
        "http:",
        "//",
        "[",
        "]",
        ":",
        "@",
        "%",
        "%2e",
        "\u{e9}",
        "\\",
        ".",
        "gipity.ai",
        "app.",
        "#",
        "?",
        "/",
        "xn--",
        "::1",
        "443",
        "\t",
        "\u{200B}",
        "127.0.0.1",
        "",
    ];
    let extra = emulator();
    let base = base_url("https://a.gipity.ai/p", false).unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        let mut input = String::new();
        for _ in 0..6 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            input.push_str(PARTS[(seed >> 33) as usize % PARTS.len()]);
        }
        for origin in [None, Some(&extra)] {
            if let Ok(url) = return_url(&input, origin) {
                let host = url.host_str().unwrap_or_default();
                assert!(
                    RETURN_HOSTS.contains(&host) || url.origin() == extra.origin(),
                    "{input:?} accepted as {url}"
                );
            }
        }
        let _ = base_url(&input, true);
        if let Some(url) = challenge_url(&input, &base) {
            assert!(url.path().starts_with("/p/api/auth/"), "{input:?} -> {url}");
        }
    }
}

#[test]
fn return_url_length_limit_is_2048_bytes() {
    let head = "https://app.gipity.ai/";
    let exact = format!("{head}{}", "a".repeat(MAX_URL_BYTES - head.len()));
    assert_eq!(exact.len(), MAX_URL_BYTES);
    assert!(return_url(&exact, None).is_ok());
    let over = format!("{exact}a");
    assert!(return_url(&over, None).is_err());
}

#[test]
fn return_url_messages_do_not_quote_credentials() {
    for input in [
        "https://user:hunter2@evil.com/",
        "https://evil.com/?token=hunter2",
        "https://evil.com/#access_token=hunter2",
    ] {
        let error = return_url(input, None).unwrap_err();
        assert!(!error.0.contains("hunter2"), "{input:?}: {}", error.0);
    }
    let long = format!("https://evil.com/{}", "x".repeat(500));
    let error = return_url(&long, None).unwrap_err();
    assert!(
        error.0.contains('…') && error.0.chars().count() < 200,
        "{}",
        error.0
    );
}

// ------------------------------------------------------------------ base_url

#[test]
fn base_url_accepts_and_normalizes() {
    let cases = cases::BASE_URLS;
    for &(input, insecure, expected) in cases {
        match base_url(input, insecure) {
            Ok(url) => assert_eq!(url.as_str(), expected, "{input:?}"),
            Err(error) => panic!("{input:?} rejected: {}", error.0),
        }
    }
    assert_eq!(
        base_url("https://a.gipity.ai/", false),
        base_url("https://a.gipity.ai", false)
    );
}

#[test]
fn base_url_rejects() {
    let cases = cases::BAD_BASE_URLS;
    for &input in cases {
        match base_url(input, false) {
            Ok(url) => panic!("{input:?} accepted as {url}"),
            Err(error) => assert_message_style(&error, input),
        }
    }
    // Insecure http is allowed on request, the rest still is not.
    assert!(base_url("http://a.gipity.ai", true).is_ok());
    assert!(base_url("http://user:pw@a.gipity.ai", true).is_err());
    assert!(base_url("ftp://a.gipity.ai", true).is_err());
    let error = base_url("https://user:hunter2@a.gipity.ai", false).unwrap_err();
    assert!(!error.0.contains("hunter2"));
    let error = base_url("https://a.gipity.ai/?key=hunter2", false).unwrap_err();
    assert!(!error.0.contains("hunter2"), "{}", error.0);
}

#[test]
fn is_loopback_cases() {
    for (input, expected) in [
        ("http://localhost/", true),
        ("http://LocalHost:1/", true),
        ("http://127.0.0.1/", true),
        ("http://127.255.0.9/", true),
        ("http://[::1]/", true),
        ("http://localhost./", false),
        ("http://foo.localhost/", false),
        ("http://128.0.0.1/", false),
        ("http://[::ffff:127.0.0.1]/", false),
        ("https://a.gipity.ai/", false),
    ] {
        assert_eq!(
            is_loopback(&Url::parse(input).unwrap()),
            expected,
            "{input:?}"
        );
    }
    assert!(!is_loopback(&Url::parse("data:,x").unwrap()));
}

// ------------------------------------------------------------------ challenge_url

#[test]
fn challenge_urls() {
    let base = base_url("https://a.gipity.ai", false).unwrap();
    let prefixed = base_url("https://host.example/platform/", false).unwrap();
    let local = base_url("http://127.0.0.1:8787", false).unwrap();
    let accepted = [
        (
            "https://a.gipity.ai/api/auth/login?app=p_x&permissions=5",
            &base,
        ),
        ("https://a.gipity.ai/api/auth/consent?app=p_x#frag", &base),
        ("https://A.GIPITY.AI:443/api/auth/login", &base),
        (
            "https://host.example/platform/api/auth/login?app=p_x",
            &prefixed,
        ),
        ("http://127.0.0.1:8787/api/auth/login?app=p_x", &local),
    ];
    for (given, api) in accepted {
        assert!(challenge_url(given, api).is_some(), "{given:?} refused");
    }
    let refused = [
        ("https://evil.com/api/auth/login", &base),
        ("https://a.gipity.ai.evil.com/api/auth/login", &base),
        ("https://app.gipity.ai/api/auth/login", &base),
        ("https://a.gipity.ai:8443/api/auth/login", &base),
        ("http://a.gipity.ai/api/auth/login", &base),
        ("https://user:pw@a.gipity.ai/api/auth/login", &base),
        ("https://evil.com@a.gipity.ai/api/auth/login", &base),
        ("https://a.gipity.ai/api/token", &base),
        ("https://a.gipity.ai/api/auth", &base),
        ("https://a.gipity.ai/x/api/auth/login", &base),
        ("https://a.gipity.ai/api/auth/../../evil", &base),
        ("https://a.gipity.ai/api/auth/%2e%2e/%2e%2e/evil", &base),
        ("https://a.gipity.ai/api/auth/..%2f..%2fevil", &base),
        ("https://a.gipity.ai/api/authx/login", &base),
        ("https://a%2egipity.ai/api/auth/login", &base),
        ("https://a.gipity.ai/api/auth/login\n", &base),
        ("https://a.gipity.ai\\api/auth/login", &base),
        ("//a.gipity.ai/api/auth/login", &base),
        ("/api/auth/login", &base),
        ("javascript:alert(1)//a.gipity.ai/api/auth/", &base),
        ("", &base),
        ("https://host.example/api/auth/login", &prefixed),
        ("https://host.example/platformx/api/auth/login", &prefixed),
        ("http://127.0.0.1:8788/api/auth/login", &local),
        ("http://localhost:8787/api/auth/login", &local),
    ];
    for (given, api) in refused {
        assert_eq!(challenge_url(given, api), None, "{given:?} accepted");
    }
}

#[test]
fn quoted_urls_lose_their_user_info_even_around_a_backslash() {
    for url in [
        "http://user:pass@host/x",
        "http://user:pass\\@host/x",
        "http://user:pass@host\\x",
        "http://us\\er:pass@host",
        "https://user:pass@host?token=abc",
    ] {
        let quoted = quoted_url(url);
        assert!(!quoted.contains("pass"), "{url:?} -> {quoted}");
        assert!(quoted.contains("host"), "{url:?} -> {quoted}");
    }
}
