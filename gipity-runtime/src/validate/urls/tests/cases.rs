//! The URL tables of these unit tests, shared with `browser-tests/tests/url_rules.rs`, which
//! runs them through the client's builder in the browser (where `Url` is the crate's own type
//! over the browser's parser) and natively: one list, checked on both targets.

/// Return URLs refused whatever the client's base: `(what, input)`. (Each test adds one over
/// the size limit.)
pub const HOSTILE_RETURN_URLS: &[(&str, &str)] = &[
    // Wrong schemes and shapes.
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
    ("empty", ""),
    // Look-alike hosts.
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
    // User info.
    ("userinfo host trick", "https://gipity.ai@evil.com/"),
    ("user and password", "https://user:pw@app.gipity.ai/"),
    ("empty userinfo", "https://@app.gipity.ai/"),
    (
        "port-looking userinfo",
        "https://app.gipity.ai:443@evil.com/",
    ),
    ("gipity in both", "https://app.gipity.ai@app.gipity.ai/"),
    // Percent-encoding in the authority.
    (
        "encoded slash then userinfo",
        "https://app.gipity.ai%2F@evil.com",
    ),
    ("encoded dots", "https://gipity%2eai/"),
    ("encoded letter", "https://%67ipity.ai/"),
    ("encoded nul", "https://app.gipity.ai%00.evil.com/"),
    ("encoded at", "https://app.gipity.ai%40evil.com/"),
    // Ports.
    ("explicit default port", "https://gipity.ai:443/"),
    ("http port", "https://gipity.ai:80/"),
    ("other port", "https://app.gipity.ai:8443/"),
    ("empty port", "https://dev.gipity.ai:/"),
    ("port zero", "https://gipity.ai:0/"),
    ("port out of range", "https://gipity.ai:65536/"),
    // IP hosts.
    ("ipv6 loopback", "https://[::1]/"),
    ("ipv4 loopback", "https://127.0.0.1/"),
    ("integer ip", "https://2130706433/"),
    ("hex ip", "https://0x7f000001/"),
    ("short ip", "https://127.1/"),
    ("mapped ipv6", "https://[::ffff:7f00:1]/"),
    ("localhost", "https://localhost/"),
    // Whitespace, controls and backslashes.
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
    // Unicode.
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

/// Return URLs taken: `(input, checked with the emulator's origin as the extra origin, the
/// canonical form)`. Those not on `https` are taken on a loopback client only.
pub const RETURN_URLS: &[(&str, bool, &str)] = &[
    ("https://app.gipity.ai", false, "https://app.gipity.ai/"),
    (
        "https://dev.gipity.ai/acme/shop/",
        false,
        "https://dev.gipity.ai/acme/shop/",
    ),
    ("https://gipity.ai/", false, "https://gipity.ai/"),
    (
        "https://app.gipity.ai/acme/shop/?tab=cart&x=1#top",
        false,
        "https://app.gipity.ai/acme/shop/?tab=cart&x=1#top",
    ),
    // Scheme and host are case-insensitive; the canonical form comes back.
    ("HTTPS://GIPITY.AI", false, "https://gipity.ai/"),
    (
        "HtTpS://App.Gipity.Ai/Acme/Shop",
        false,
        "https://app.gipity.ai/Acme/Shop",
    ),
    // `@`, `?`, `#` after the authority do not change the host.
    (
        "https://gipity.ai#@evil.com",
        false,
        "https://gipity.ai/#@evil.com",
    ),
    (
        "https://gipity.ai?@evil.com",
        false,
        "https://gipity.ai/?@evil.com",
    ),
    (
        "https://app.gipity.ai/@evil.com",
        false,
        "https://app.gipity.ai/@evil.com",
    ),
    // Percent-encoding outside the authority is kept as is.
    (
        "https://app.gipity.ai/a%20b?q=%2F",
        false,
        "https://app.gipity.ai/a%20b?q=%2F",
    ),
    // The extra origin, with its explicit port.
    (
        "http://127.0.0.1:8787/acme/shop/?x=1#y",
        true,
        "http://127.0.0.1:8787/acme/shop/?x=1#y",
    ),
    ("http://127.0.0.1:8787", true, "http://127.0.0.1:8787/"),
    // Gipity pages stay allowed when an extra origin is given.
    ("https://app.gipity.ai/a", true, "https://app.gipity.ai/a"),
    // The gipity hosts also pass as extra origin (a no-op), still without a port.
    ("https://dev.gipity.ai/z", true, "https://dev.gipity.ai/z"),
];

/// Base URLs taken: `(input, with insecure http allowed, the normal form)`.
pub const BASE_URLS: &[(&str, bool, &str)] = &[
    ("https://a.gipity.ai", false, "https://a.gipity.ai/"),
    ("https://a.gipity.ai/", false, "https://a.gipity.ai/"),
    ("https://a.gipity.ai//", false, "https://a.gipity.ai/"),
    ("https://a.gipity.ai:443/", false, "https://a.gipity.ai/"),
    ("HTTPS://A.GIPITY.AI", false, "https://a.gipity.ai/"),
    ("https://host/prefix", false, "https://host/prefix"),
    ("https://host/prefix/", false, "https://host/prefix"),
    ("https://host:8443/a/b//", false, "https://host:8443/a/b"),
    ("http://localhost:8787", false, "http://localhost:8787/"),
    ("http://LOCALHOST:8787/", false, "http://localhost:8787/"),
    ("http://127.0.0.1:9/", false, "http://127.0.0.1:9/"),
    ("http://127.1.2.3", false, "http://127.1.2.3/"),
    (
        "http://[::1]:8080/api-root/",
        false,
        "http://[::1]:8080/api-root",
    ),
    (
        "http://staging.internal:8080",
        true,
        "http://staging.internal:8080/",
    ),
];

/// Base URLs refused (insecure http not allowed).
pub const BAD_BASE_URLS: &[&str] = &[
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
