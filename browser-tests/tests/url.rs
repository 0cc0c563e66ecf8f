//! `gipity_runtime::Url` on both targets: natively it is `url::Url`, in the browser the
//! crate's own type over the browser's URL parser. The same expectations run on both (`cargo
//! test` natively, `cargo xtask browser` in Chromium), so the browser's type is held to what
//! the `url` crate answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gipity_runtime::Url;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::{wasm_bindgen_test as test, wasm_bindgen_test_configure};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test_configure!(run_in_browser);

/// What a parsed URL reports.
struct Parsed {
    input: &'static str,
    serialization: &'static str,
    scheme: &'static str,
    username: &'static str,
    password: Option<&'static str>,
    host: Option<&'static str>,
    port: Option<u16>,
    port_or_default: Option<u16>,
    path: &'static str,
    query: Option<&'static str>,
    fragment: Option<&'static str>,
    origin: &'static str,
}

const PARSED: &[Parsed] = &[
    Parsed {
        input: "https://a.gipity.ai",
        serialization: "https://a.gipity.ai/",
        scheme: "https",
        username: "",
        password: None,
        host: Some("a.gipity.ai"),
        port: None,
        port_or_default: Some(443),
        path: "/",
        query: None,
        fragment: None,
        origin: "https://a.gipity.ai",
    },
    Parsed {
        input: "HTTP://LocalHost:8787/api//x/?a=1&b=%20#frag",
        serialization: "http://localhost:8787/api//x/?a=1&b=%20#frag",
        scheme: "http",
        username: "",
        password: None,
        host: Some("localhost"),
        port: Some(8787),
        port_or_default: Some(8787),
        path: "/api//x/",
        query: Some("a=1&b=%20"),
        fragment: Some("frag"),
        origin: "http://localhost:8787",
    },
    Parsed {
        input: "http://0x7f.1:80/",
        serialization: "http://127.0.0.1/",
        scheme: "http",
        username: "",
        password: None,
        host: Some("127.0.0.1"),
        port: None,
        port_or_default: Some(80),
        path: "/",
        query: None,
        fragment: None,
        origin: "http://127.0.0.1",
    },
    Parsed {
        input: "http://[0:0::1]:9000/p?",
        serialization: "http://[::1]:9000/p?",
        scheme: "http",
        username: "",
        password: None,
        host: Some("[::1]"),
        port: Some(9000),
        port_or_default: Some(9000),
        path: "/p",
        query: Some(""),
        fragment: None,
        origin: "http://[::1]:9000",
    },
    Parsed {
        input: "https://user:pa%20ss@h.example/#",
        serialization: "https://user:pa%20ss@h.example/#",
        scheme: "https",
        username: "user",
        password: Some("pa%20ss"),
        host: Some("h.example"),
        port: None,
        port_or_default: Some(443),
        path: "/",
        query: None,
        fragment: Some(""),
        origin: "https://h.example",
    },
    Parsed {
        input: "https://caf\u{e9}.example/a b/{c}/./d/../e?q=\"x\" y",
        serialization: "https://xn--caf-dma.example/a%20b/%7Bc%7D/e?q=%22x%22%20y",
        scheme: "https",
        username: "",
        password: None,
        host: Some("xn--caf-dma.example"),
        port: None,
        port_or_default: Some(443),
        path: "/a%20b/%7Bc%7D/e",
        query: Some("q=%22x%22%20y"),
        fragment: None,
        origin: "https://xn--caf-dma.example",
    },
    Parsed {
        input: "mailto:someone@example.com",
        serialization: "mailto:someone@example.com",
        scheme: "mailto",
        username: "",
        password: None,
        host: None,
        port: None,
        port_or_default: None,
        path: "someone@example.com",
        query: None,
        fragment: None,
        origin: "null",
    },
];

#[test]
fn urls_parse_into_the_parts_the_url_standard_gives() {
    for case in PARSED {
        let url = Url::parse(case.input).unwrap_or_else(|e| panic!("{}: {e}", case.input));
        let input = case.input;
        assert_eq!(url.as_str(), case.serialization, "{input}");
        assert_eq!(url.to_string(), case.serialization, "{input}");
        assert_eq!(url.scheme(), case.scheme, "{input}");
        assert_eq!(url.username(), case.username, "{input}");
        assert_eq!(url.password(), case.password, "{input}");
        assert_eq!(url.host_str(), case.host, "{input}");
        assert_eq!(url.port(), case.port, "{input}");
        assert_eq!(url.port_or_known_default(), case.port_or_default, "{input}");
        assert_eq!(url.path(), case.path, "{input}");
        assert_eq!(url.query(), case.query, "{input}");
        assert_eq!(url.fragment(), case.fragment, "{input}");
        assert_eq!(url.origin().ascii_serialization(), case.origin, "{input}");
    }
}

#[test]
fn origins_compare_as_the_standard_says() {
    let a = Url::parse("https://h.example/a").unwrap();
    let b = Url::parse("https://h.example:443/b?c").unwrap();
    let other_port = Url::parse("https://h.example:8443/").unwrap();
    let other_scheme = Url::parse("http://h.example/").unwrap();
    assert!(a.origin() == b.origin());
    assert!(a.origin() != other_port.origin());
    assert!(a.origin() != other_scheme.origin());
    // An opaque origin equals no other, not even itself made again.
    let opaque = Url::parse("mailto:x@y").unwrap();
    assert!(opaque.origin() != opaque.origin());
}

/// Browsers are laxer than the standard about some hosts (Chromium takes `exa mple.com`):
/// the client never hands them such text, as it refuses whitespace, control characters,
/// backslashes and non-ASCII in a URL before parsing it.
#[test]
fn what_does_not_parse_is_an_error() {
    for input in [
        "",
        "not a url",
        "/relative/path",
        "http://",
        "http://[::1/",
        "https://h:65536/",
    ] {
        assert!(Url::parse(input).is_err(), "{input:?} parsed");
    }
}

/// `(base, segments, result)`: `pop_if_empty` then `extend`.
const SEGMENTS: &[(&str, &[&str], &str)] = &[
    (
        "https://a.gipity.ai/",
        &["api", "p_1", "fn"],
        "https://a.gipity.ai/api/p_1/fn",
    ),
    (
        "https://a.gipity.ai/api/",
        &["p_1"],
        "https://a.gipity.ai/api/p_1",
    ),
    ("https://h/x?q=1#f", &["y"], "https://h/x/y?q=1#f"),
    (
        "https://h/",
        &[
            "get items/..",
            "..",
            ".",
            "a?b#c",
            "100%",
            "b\\c",
            "caf\u{e9}",
            "t\tn\nr\r",
        ],
        "https://h/get%20items%2F../a%3Fb%23c/100%25/b%5Cc/caf%C3%A9/tnr",
    ),
    ("https://h/", &["", "x", ""], "https://h/x/"),
];

#[test]
fn path_segments_are_encoded_as_the_url_crate_encodes_them() {
    for (base, segments, expected) in SEGMENTS {
        let mut url = Url::parse(base).unwrap();
        url.path_segments_mut()
            .unwrap()
            .pop_if_empty()
            .extend(segments.iter());
        assert_eq!(url.as_str(), *expected, "{base} + {segments:?}");
    }
    let mut one = Url::parse("https://h/a").unwrap();
    one.path_segments_mut().unwrap().push("b");
    assert_eq!(one.as_str(), "https://h/a/b");
    assert!(
        Url::parse("mailto:x@y")
            .unwrap()
            .path_segments_mut()
            .is_err()
    );
}

#[test]
fn query_pairs_are_form_encoded_and_keep_the_fragment() {
    /// `(base, pairs, result)`.
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );
    let cases: &[Case] = &[
        (
            "https://h/p",
            &[("app", "p_1"), ("return", "https://x/?a=1 b&c")],
            "https://h/p?app=p_1&return=https%3A%2F%2Fx%2F%3Fa%3D1+b%26c",
        ),
        (
            "https://h/p?x=1",
            &[("permissions", "5")],
            "https://h/p?x=1&permissions=5",
        ),
        (
            "https://h/p?x=1#f",
            &[("a", "\u{e9}*-._~")],
            "https://h/p?x=1&a=%C3%A9*-._%7E#f",
        ),
        ("https://h/p?", &[("a", "b")], "https://h/p?a=b"),
    ];
    for (base, pairs, expected) in cases {
        let mut url = Url::parse(base).unwrap();
        url.query_pairs_mut().extend_pairs(pairs.iter());
        assert_eq!(url.as_str(), *expected, "{base} + {pairs:?}");
    }
    let mut url = Url::parse("https://h/p").unwrap();
    url.query_pairs_mut()
        .append_pair("a", "1")
        .append_pair("b", "2");
    assert_eq!(url.as_str(), "https://h/p?a=1&b=2");
}

#[test]
fn path_and_query_setters_keep_the_other_parts() {
    let mut url = Url::parse("https://h/x/y?q=1#f").unwrap();
    url.set_path("/a/b");
    assert_eq!(url.as_str(), "https://h/a/b?q=1#f");
    url.set_path("");
    assert_eq!(url.as_str(), "https://h/?q=1#f");
    url.set_path("c?d#e");
    assert_eq!(url.as_str(), "https://h/c%3Fd%23e?q=1#f");
    url.set_query(Some("a=1#x"));
    assert_eq!(url.as_str(), "https://h/c%3Fd%23e?a=1%23x#f");
    url.set_query(None);
    assert_eq!(url.as_str(), "https://h/c%3Fd%23e#f");
    assert_eq!(url.query(), None);
}
