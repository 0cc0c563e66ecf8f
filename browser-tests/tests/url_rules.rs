//! The URL rules of the client on both targets, through its public API: the same inputs are
//! accepted and refused natively (over `url::Url`) and in the browser (over the browser's URL
//! parser). The tables are those of the runtime's own unit tests of `validate/urls`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gipity_runtime::Client;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::{wasm_bindgen_test as test, wasm_bindgen_test_configure};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test_configure!(run_in_browser);

/// The emulator's address, the one origin besides Gipity's pages a loopback client may return
/// to.
const EMULATOR: &str = "http://127.0.0.1:8787";

/// Return URLs a client must refuse, whatever its base URL: `(what, input)`.
const HOSTILE_RETURN_URLS: &[(&str, &str)] = &[
    ("plain http", "http://app.gipity.ai/"),
    ("uppercase http", "HTTP://APP.GIPITY.AI/"),
    ("javascript", "javascript:alert(document.cookie)"),
    ("mixed-case javascript", "JaVaScRiPt:alert(1)"),
    (
        "javascript with a gipity authority",
        "javascript://app.gipity.ai/%0aalert(1)",
    ),
    ("data", "data:text/html,<script>alert(1)</script>"),
    ("file", "file:///etc/passwd"),
    ("websocket", "wss://app.gipity.ai/"),
    ("blob", "blob:https://app.gipity.ai/0b1c"),
    ("ftp", "ftp://gipity.ai/"),
    ("scheme-relative", "//evil.com/"),
    ("scheme-relative to gipity", "//app.gipity.ai/"),
    ("relative path", "/account/project/"),
    ("bare relative", "account/project"),
    ("query only", "?return=https://evil.com"),
    ("no slashes", "https:gipity.ai"),
    ("one slash", "https:/gipity.ai"),
    ("three slashes", "https:///gipity.ai"),
    ("missing colon", "https//gipity.ai"),
    ("no host", "https://"),
    ("suffix trick", "https://gipity.ai.evil.com/"),
    ("prefix trick", "https://evilgipity.ai/"),
    ("app suffix trick", "https://app.gipity.ai.evil.com/"),
    ("hyphen look-alike", "https://app-gipity.ai/"),
    ("other tld", "https://gipity.com/"),
    ("api host is not an app host", "https://a.gipity.ai/"),
    ("www", "https://www.gipity.ai/"),
    ("empty label", "https://app..gipity.ai/"),
    ("leading dot", "https://.gipity.ai/"),
    ("trailing dot", "https://gipity.ai./"),
    ("trailing dot on app", "https://APP.GIPITY.AI./x"),
    ("path names gipity", "https://evil.com/app.gipity.ai"),
    ("fragment names gipity", "https://evil.com#@app.gipity.ai"),
    (
        "query names gipity",
        "https://evil.com?https://app.gipity.ai",
    ),
    ("wildcard", "https://*.gipity.ai/"),
    ("userinfo host trick", "https://gipity.ai@evil.com/"),
    ("user and password", "https://user:pw@app.gipity.ai/"),
    ("empty userinfo", "https://@app.gipity.ai/"),
    (
        "port-looking userinfo",
        "https://app.gipity.ai:443@evil.com/",
    ),
    ("gipity in both", "https://app.gipity.ai@app.gipity.ai/"),
    (
        "encoded slash then userinfo",
        "https://app.gipity.ai%2F@evil.com",
    ),
    ("encoded dots", "https://gipity%2eai/"),
    ("encoded letter", "https://%67ipity.ai/"),
    ("encoded nul", "https://app.gipity.ai%00.evil.com/"),
    ("encoded at", "https://app.gipity.ai%40evil.com/"),
    ("explicit default port", "https://gipity.ai:443/"),
    ("http port", "https://gipity.ai:80/"),
    ("other port", "https://app.gipity.ai:8443/"),
    ("empty port", "https://dev.gipity.ai:/"),
    ("port zero", "https://gipity.ai:0/"),
    ("port out of range", "https://gipity.ai:65536/"),
    ("ipv6 loopback", "https://[::1]/"),
    ("ipv4 loopback", "https://127.0.0.1/"),
    ("integer ip", "https://2130706433/"),
    ("hex ip", "https://0x7f000001/"),
    ("short ip", "https://127.1/"),
    ("mapped ipv6", "https://[::ffff:7f00:1]/"),
    ("localhost", "https://localhost/"),
    ("tab inside host", "https://gip\tity.ai/"),
    ("newline inside host", "https://app.gipity.ai\n.evil.com/"),
    ("carriage return", "https://app.gipity.ai/\r"),
    ("leading space", " https://app.gipity.ai/"),
    ("trailing space", "https://app.gipity.ai/ "),
    ("space in path", "https://app.gipity.ai/a b"),
    ("nul byte", "https://app.gipity.ai\0.evil.com/"),
    ("delete char", "https://app.gipity.ai/\u{7f}"),
    ("backslash userinfo", "https://app.gipity.ai\\@evil.com/"),
    ("backslash slashes", "https:\\\\app.gipity.ai\\"),
    ("backslash scheme-relative", "\\\\evil.com"),
    ("ideographic full stop", "https://gipity\u{3002}ai/"),
    ("fullwidth letter", "https://\u{FF47}ipity.ai/"),
    ("fullwidth dot", "https://gipity\u{FF0E}ai/"),
    ("zero-width space", "https://app.gipity.ai\u{200B}/"),
    ("soft hyphen (idna drops it)", "https://gip\u{AD}ity.ai/"),
    ("dotless i look-alike", "https://g\u{131}pity.ai/"),
    ("cyrillic a", "https://\u{430}pp.gipity.ai/"),
    ("no-break space", "https://app.gipity.ai/\u{A0}"),
    ("right-to-left override", "https://app.gipity.ai/\u{202E}"),
    ("punycode", "https://xn--gipity-9ua.ai/"),
    ("punycode label", "https://xn--app-0na.gipity.ai/"),
];

/// Return URLs a client takes: `(input, on a loopback client only)`.
const RETURN_URLS: &[(&str, bool)] = &[
    ("https://app.gipity.ai", false),
    ("https://dev.gipity.ai/acme/shop/", false),
    ("https://gipity.ai/", false),
    ("https://app.gipity.ai/acme/shop/?tab=cart&x=1#top", false),
    ("HTTPS://GIPITY.AI", false),
    ("HtTpS://App.Gipity.Ai/Acme/Shop", false),
    ("https://gipity.ai#@evil.com", false),
    ("https://gipity.ai?@evil.com", false),
    ("https://app.gipity.ai/@evil.com", false),
    ("https://app.gipity.ai/a%20b?q=%2F", false),
    ("http://127.0.0.1:8787/acme/shop/?x=1#y", true),
    ("http://127.0.0.1:8787", true),
    ("https://app.gipity.ai/a", false),
    ("https://dev.gipity.ai/z", false),
];

/// Base URLs a client takes, and what it makes of them: `(input, base_url())`.
const BASE_URLS: &[(&str, &str)] = &[
    ("https://a.gipity.ai", "https://a.gipity.ai/"),
    ("https://a.gipity.ai/", "https://a.gipity.ai/"),
    ("https://a.gipity.ai//", "https://a.gipity.ai/"),
    ("https://a.gipity.ai:443/", "https://a.gipity.ai/"),
    ("HTTPS://A.GIPITY.AI", "https://a.gipity.ai/"),
    ("https://host/prefix", "https://host/prefix"),
    ("https://host/prefix/", "https://host/prefix"),
    ("https://host:8443/a/b//", "https://host:8443/a/b"),
    ("http://localhost:8787", "http://localhost:8787/"),
    ("http://LOCALHOST:8787/", "http://localhost:8787/"),
    ("http://127.0.0.1:9/", "http://127.0.0.1:9/"),
    ("http://127.1.2.3", "http://127.1.2.3/"),
    ("http://[::1]:8080/api-root/", "http://[::1]:8080/api-root"),
];

/// Base URLs a client refuses.
const BAD_BASE_URLS: &[&str] = &[
    "",
    " ",
    "a.gipity.ai",
    "/api",
    "//a.gipity.ai",
    "https:a.gipity.ai",
    "https://",
    "http://a.gipity.ai",
    "http://localhost.evil.com",
    "http://127.0.0.1.evil.com",
    "http://localhost./",
    "http://[::2]/",
    "http://10.0.0.1/",
    "http://sub.localhost/",
    "ftp://a.gipity.ai",
    "ws://localhost:8787",
    "javascript:alert(1)",
    "data:,x",
    "file:///etc",
    "https://user:pw@a.gipity.ai",
    "https://@a.gipity.ai",
    "https://a.gipity.ai?x=1",
    "https://a.gipity.ai/?",
    "https://a.gipity.ai#f",
    "https://a.gipity.ai/#",
    "https:// a.gipity.ai",
    "https://a.gipity.ai\n",
    "https://a.gipity.ai\\x",
    "https://a%2egipity.ai",
    "https://a.gipity.ai:99999",
    "https://a.g\u{131}pity.ai",
];

fn client(base: &str, return_url: Option<&str>) -> gipity_runtime::Result<Client> {
    let builder = Client::builder("p_demo").base_url(base);
    match return_url {
        Some(url) => builder.return_url(url),
        None => builder,
    }
    .build()
}

#[test]
fn hostile_return_urls_are_refused() {
    let long_path = format!("https://app.gipity.ai/{}", "a".repeat(2048));
    let long = [("over 2048 bytes", long_path.as_str())];
    for (what, input) in HOSTILE_RETURN_URLS.iter().chain(&long) {
        for base in ["https://a.gipity.ai", EMULATOR] {
            assert!(
                client(base, Some(input)).is_err(),
                "{what}: {input:?} accepted with base {base}"
            );
        }
    }
}

#[test]
fn gipity_pages_and_the_loopback_origin_are_taken_as_return_urls() {
    for (input, loopback_only) in RETURN_URLS {
        assert!(
            client(EMULATOR, Some(input)).is_ok(),
            "{input:?} refused with base {EMULATOR}"
        );
        assert_eq!(
            client("https://a.gipity.ai", Some(input)).is_ok(),
            !loopback_only,
            "{input:?} with base https://a.gipity.ai"
        );
    }
}

#[test]
fn base_urls_are_normalized_alike() {
    for (input, expected) in BASE_URLS {
        let client = client(input, None).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(client.base_url().as_str(), *expected, "{input:?}");
    }
}

#[test]
fn bad_base_urls_are_refused() {
    for input in BAD_BASE_URLS {
        assert!(client(input, None).is_err(), "{input:?} accepted");
    }
}
