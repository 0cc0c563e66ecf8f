#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::*;
use crate::validate::test_support::assert_message_style;

// ------------------------------------------------------------------ function_name

#[test]
fn function_names() {
    let max = "a".repeat(128);
    for name in [
        "get-items",
        "a",
        "9",
        "x.y",
        "A_b-c.d",
        "v2.get_items",
        max.as_str(),
    ] {
        assert_eq!(function_name(name), Ok(()), "{name:?}");
        assert!(gipity_shared::is_function_name(name), "{name:?}");
    }
    let too_long = "a".repeat(129);
    let hostile = [
        "",
        " ",
        "a b",
        "a/b",
        "../x",
        "x/../y",
        "%2e%2e",
        ".",
        "..",
        "a..b",
        "a..",
        "-x",
        "_x",
        ".hidden",
        "caf\u{e9}",
        "a\u{200B}",
        "\u{FF41}",
        "a\\b",
        "a?b",
        "a#b",
        "a\nb",
        "a\0",
        "a:b",
        too_long.as_str(),
    ];
    for name in hostile {
        assert!(!gipity_shared::is_function_name(name), "{name:?}");
        match function_name(name) {
            Ok(()) => panic!("{name:?} accepted"),
            Err(error) => {
                assert_message_style(&error, name);
                assert!(error.0.chars().count() < 300);
            }
        }
    }
}

// ------------------------------------------------------------------ app_guid

#[test]
fn app_guids() {
    let max = format!("p_{}", "a".repeat(64));
    for guid in ["p_1", "p_abc123", "p_A-b_C", "p__", max.as_str()] {
        assert_eq!(app_guid(guid), Ok(()), "{guid:?}");
        assert!(looks_like_app_guid(guid));
    }
    let too_long = format!("p_{}", "a".repeat(65));
    for guid in [
        "",
        "p_",
        "p",
        "P_abc",
        "q_abc",
        " p_abc",
        "p_abc ",
        "p_a.b",
        "p_a/b",
        "p_a b",
        "p_\u{e9}",
        "eyJhbGciOiJIUzI1NiJ9",
        too_long.as_str(),
    ] {
        match app_guid(guid) {
            Ok(()) => panic!("{guid:?} accepted"),
            Err(error) => assert_message_style(&error, guid),
        }
    }
    // Surrounding whitespace still looks like a GUID (a pasted value).
    assert!(looks_like_app_guid(" p_abc\n"));
    assert!(!looks_like_app_guid("gip_at_abc"));
    assert!(!looks_like_app_guid(""));
    // The message never quotes the input: it may be a misplaced credential.
    let error = app_guid("sk_live_hunter2").unwrap_err();
    assert!(!error.0.contains("hunter2"));
}

// ------------------------------------------------------------------ credential

#[test]
fn credentials() {
    let max = "k".repeat(8192);
    for value in [
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
        "gip_at_0123456789abcdef",
        "x",
        "!~",
        "pk_live_abc", // not a GUID: the prefix is `pk_`
        max.as_str(),
    ] {
        assert_eq!(credential("app token", value), Ok(()), "{value:?}");
    }
    let too_long = "k".repeat(8193);
    let cases = [
        ("guid", "p_SECRETGUID1"),
        ("guid with newline", "p_SECRETGUID1\n"),
        ("space", "SECRET secret"),
        ("bearer prefix", "Bearer SECRETtoken"),
        ("newline", "SECRETtoken\n"),
        ("tab", "SECRET\ttoken"),
        ("carriage return injection", "SECRET\r\nX-Evil: 1"),
        ("nul", "SECRET\0"),
        ("non-ascii", "SECRET\u{e9}"),
        ("delete", "SECRET\u{7f}"),
        ("empty", ""),
        ("too long", too_long.as_str()),
    ];
    for (what, value) in cases {
        match credential("api key", value) {
            Ok(()) => panic!("{what}: accepted"),
            Err(error) => {
                assert_message_style(&error, what);
                assert!(error.0.starts_with("api key "), "{what}: {}", error.0);
                assert!(!error.0.contains("SECRET"), "{what}: {}", error.0);
                assert!(
                    !error.0.contains("kkkkkkkk"),
                    "{what}: message repeats the value"
                );
            }
        }
    }
    assert_eq!(
        credential("app token", "p_abc").unwrap_err().0,
        "app token looks like a project GUID; the GUID names the app and is not a credential"
    );
}

// ------------------------------------------------------------------ device_secret

#[test]
fn device_secrets() {
    let min = "s".repeat(32);
    let max = "s".repeat(256);
    for secret in [
        min.as_str(),
        max.as_str(),
        "0123456789abcdef0123456789ABCDEF!#$%",
    ] {
        assert_eq!(device_secret(secret), Ok(()), "{secret:?}");
    }
    let short = format!("SECRET{}", "s".repeat(25));
    let long = format!("SECRET{}", "s".repeat(251));
    let spaced = format!("SECRET {}", "s".repeat(30));
    let newline = format!("SECRET{}\n", "s".repeat(30));
    // 32 characters but more bytes: the length is counted in characters.
    let multibyte = format!("SECRET{}", "\u{e9}".repeat(26));
    let guid = format!("p_SECRET{}", "s".repeat(30));
    for (what, secret) in [
        ("empty", String::new()),
        ("31 chars", short),
        ("257 chars", long),
        ("space", spaced),
        ("newline", newline),
        ("non-ascii", multibyte),
        ("guid", guid),
    ] {
        match device_secret(&secret) {
            Ok(()) => panic!("{what}: accepted"),
            Err(error) => {
                assert_message_style(&error, what);
                assert!(!error.0.contains("SECRET"), "{what}: {}", error.0);
                assert!(!error.0.contains("ssss"), "{what}: {}", error.0);
            }
        }
    }
    let multibyte = "\u{e9}".repeat(32);
    assert!(
        device_secret(&multibyte)
            .unwrap_err()
            .0
            .contains("visible ASCII"),
        "32 chars pass the length rule, then fail the charset rule"
    );
}
