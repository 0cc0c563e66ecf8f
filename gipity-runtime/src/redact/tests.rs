#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::*;

// ------------------------------------------------------------------ excerpt

#[test]
fn excerpt_cases() {
    let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    let json_token = format!(r#"{{"data": {{"token": "{jwt}", "expiresIn": 3600}}}}"#);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", b"".to_vec(), "(empty body)"),
        ("blank", b" \r\n\t \x00 ".to_vec(), "(blank body)"),
        (
            "html 502",
            html.as_bytes().to_vec(),
            "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center> </body> </html>",
        ),
        (
            "json with a token",
            json_token.into_bytes(),
            r#"{"data": {"token": "[redacted]", "expiresIn": 3600}}"#,
        ),
        (
            "short json secret",
            br#"{"apiKey":"abc","name":"x"}"#.to_vec(),
            r#"{"apiKey":"[redacted]","name":"x"}"#,
        ),
        (
            "quoted value with spaces and escapes",
            br#"{"password": "two \"words\" here", "ok": true}"#.to_vec(),
            r#"{"password": "[redacted]", "ok": true}"#,
        ),
        ("cookie-ish", b"session=abc".to_vec(), "session=[redacted]"),
        (
            "set-cookie header",
            b"Set-Cookie: sid=abc; Path=/; HttpOnly".to_vec(),
            "Set-Cookie: [redacted]; Path=/; HttpOnly",
        ),
        (
            "authorization header",
            b"Authorization: Bearer abc.def".to_vec(),
            "Authorization: Bearer [redacted]",
        ),
        (
            "standalone bearer",
            b"got Bearer xyz here".to_vec(),
            "got Bearer [redacted] here",
        ),
        (
            "form-encoded",
            b"user=bob&password=hunter2&next=/x".to_vec(),
            "user=bob&password=[redacted]&next=/x",
        ),
        (
            "query string",
            b"/cb?x=1+access_token=q1".to_vec(),
            "/cb?x=1+access_token=[redacted]",
        ),
        (
            "spaced equals",
            b"secret = sauce.".to_vec(),
            "secret = [redacted]",
        ),
        (
            "long run",
            b"id: 0123456789abcdefghij end".to_vec(),
            "id: [redacted] end",
        ),
        (
            "nineteen chars stay",
            b"0123456789abcdefghi".to_vec(),
            "0123456789abcdefghi",
        ),
        (
            "controls and whitespace",
            b"a\x00\x1b[31mb\t\t\n c\x7f".to_vec(),
            "a [31mb c",
        ),
        (
            "invisible characters",
            "a\u{200B}\u{202E}b\u{FEFF}c".as_bytes().to_vec(),
            "a b c",
        ),
        (
            "invalid utf-8",
            b"ok \xff\xfe done".to_vec(),
            "ok \u{FFFD}\u{FFFD} done",
        ),
        (
            "error envelope",
            br#"{"error":{"code":"LOGIN_REQUIRED","message":"sign in"}}"#.to_vec(),
            r#"{"error":{"code":"LOGIN_REQUIRED","message":"sign in"}}"#,
        ),
    ];
    for (what, body, expected) in cases {
        assert_eq!(excerpt(&body), expected, "{what}");
    }
}

#[test]
fn excerpt_cuts_long_bodies() {
    // Plain ASCII words, cut at 159 characters + `…`.
    let body = "word ".repeat(100);
    let out = excerpt(body.as_bytes());
    assert!(out.ends_with('…'), "{out:?}");
    assert!(
        out.chars().count() <= EXCERPT_CHARS,
        "{}",
        out.chars().count()
    );
    assert!(out.starts_with("word word"));

    // Multibyte characters at the cut: the cut is on a character boundary.
    for prefix in ["", "a", "ab", "abc"] {
        let body = format!("{prefix}{}", "é€😀 ".repeat(100));
        let out = excerpt(body.as_bytes());
        assert!(out.ends_with('…'), "{out:?}");
        assert!(out.chars().count() <= EXCERPT_CHARS);
    }

    // Exactly 160 characters: not cut.
    let exact = "ab ".repeat(53) + "a";
    assert_eq!(exact.chars().count(), 160);
    assert_eq!(excerpt(exact.as_bytes()), exact);

    // A body beyond the scan limit is cut, and a run at the scan limit is redacted even if
    // the part read is short (it may be the start of a token).
    let mut body = "x ".repeat(EXCERPT_SCAN_BYTES / 2 - 2).into_bytes();
    body.extend_from_slice(b"ab SECRETTOKENVALUE0123456789");
    let out = excerpt(&body);
    assert!(out.ends_with('…'));
    assert!(!out.contains("SECRET"));
    let pieces = tokenize(&String::from_utf8_lossy(&body[..EXCERPT_SCAN_BYTES]));
    let redacted = redact(&pieces, true);
    assert!(
        redacted.ends_with("ab [redacted]"),
        "{:?}",
        redacted.get(redacted.len().saturating_sub(30)..)
    );

    // Many tokens: the excerpt stays short and secret-free.
    let body = format!(
        "{} tail",
        "eyJhbGciOiJIUzI1NiJ9.payload.signature ".repeat(1000)
    );
    let out = excerpt(body.as_bytes());
    assert!(out.starts_with("[redacted] [redacted]"), "{out:?}");
    assert!(!out.contains("eyJ"));
    assert!(out.chars().count() <= EXCERPT_CHARS);

    // Runs full of `=` (the pair search is linear, not quadratic).
    let body = format!("token{}", "=".repeat(EXCERPT_SCAN_BYTES));
    assert_eq!(excerpt(body.as_bytes()), "[redacted]…");
    assert_eq!(
        sensitive_pair("a=1+access_token=xyz"),
        Some(("a=1+access_token", "xyz"))
    );
    assert_eq!(sensitive_pair("key"), None);
    assert_eq!(sensitive_pair("x=key"), None);
    assert_eq!(sensitive_pair("KEY=="), Some(("KEY", "=")));

    // Never panics on arbitrary bytes.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(40_000).collect();
    let out = excerpt(&bytes);
    assert!(out.chars().count() <= EXCERPT_CHARS);
}
