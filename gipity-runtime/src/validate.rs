//! Validation of everything that crosses a trust boundary: URLs, names, GUIDs, secrets, excerpts.
//!
//! Every function here is total: no input makes it panic (the lints below keep indexing,
//! slicing, `unwrap` and `expect` out of this module). Rejections are [`Invalid`] values whose
//! text starts with a lowercase letter, has no trailing period and never repeats a secret.
//! Messages quote an input only when it is not a secret (URLs, function names), truncated to
//! 80 characters and escaped; quoted URLs lose their user info, query and fragment first.

#![deny(
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::borrow::Cow;

use url::{Host, Url};

/// Why an input was rejected; the text is lowercase, has no trailing period and never repeats a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid(pub(crate) std::borrow::Cow<'static, str>);

fn invalid(message: &'static str) -> Invalid {
    Invalid(Cow::Borrowed(message))
}

fn invalid_owned(message: String) -> Invalid {
    Invalid(Cow::Owned(message))
}

/// Longest URL string accepted anywhere in this module, in bytes.
const MAX_URL_BYTES: usize = 2048;
/// How many characters of a non-secret input a message may quote.
const QUOTE_CHARS: usize = 80;
/// The hosts a login or consent page may send the user back to (over https, default port).
const RETURN_HOSTS: [&str; 3] = ["app.gipity.ai", "dev.gipity.ai", "gipity.ai"];

// ---------------------------------------------------------------------------------------------
// Helpers shared by the URL rules
// ---------------------------------------------------------------------------------------------

/// The first 80 characters of a non-secret input, Debug-escaped (so control and invisible
/// characters show as escapes), with `…` when cut.
fn quoted(input: &str) -> String {
    let shown: String = input.chars().take(QUOTE_CHARS).collect();
    let mut quoted = format!("{shown:?}");
    if input.chars().nth(QUOTE_CHARS).is_some() {
        quoted.push('…');
    }
    quoted
}

/// [`quoted`] for a URL string: user info, query and fragment (where credentials travel) are
/// dropped before quoting.
fn quoted_url(input: &str) -> String {
    let (head, dropped) = match input.find(['?', '#']) {
        Some(end) => (input.get(..end).unwrap_or(""), true),
        None => (input, false),
    };
    let mut shown = match head.split_once("//") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '\\']).unwrap_or(rest.len());
            let (authority, path) = rest.split_at_checked(end).unwrap_or((rest, ""));
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}//…@{host}{path}"),
                None => head.to_owned(),
            }
        }
        None => head.to_owned(),
    };
    if dropped {
        shown.push('…');
    }
    quoted(&shown)
}

/// What is wrong with a URL string before any parser sees it: empty, too long, non-ASCII,
/// whitespace or control characters (the WHATWG parser silently strips tab and newline, and
/// trims leading and trailing spaces and controls), or a backslash (which it reads as `/`).
fn url_text_problem(input: &str) -> Option<&'static str> {
    if input.is_empty() {
        Some("is empty")
    } else if input.len() > MAX_URL_BYTES {
        Some("is longer than 2048 bytes")
    } else if !input.is_ascii() {
        Some("contains a non-ASCII character (serialized URLs are ASCII)")
    } else if input.bytes().any(|b| b <= b' ' || b == 0x7f) {
        Some("contains whitespace or a control character")
    } else if input.contains('\\') {
        Some("contains a backslash")
    } else {
        None
    }
}

/// `(scheme, authority)` of `scheme://authority[/?#...]` exactly as written, or `None` when the
/// input does not have that shape (`https:host`, `https:/host`, `//host`, relative paths, a
/// scheme that is not `ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")`, and opaque URLs such as
/// `javascript:` or `data:` do not).
fn split_scheme_authority(input: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = input.split_once(':')?;
    let mut scheme_chars = scheme.chars();
    let scheme_ok = scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    let rest = rest.strip_prefix("//")?;
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    Some((scheme, rest.get(..end)?))
}

/// `(host, port)` of an authority as written; the port is `Some("")` for a bare trailing colon.
fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        let Some(close) = authority.find(']') else {
            return (authority, None);
        };
        let Some((host, rest)) = authority.split_at_checked(close.saturating_add(1)) else {
            return (authority, None);
        };
        match rest.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            // Garbage after `]`: keep it in the host so that it cannot match anything.
            None if !rest.is_empty() => (authority, None),
            None => (host, None),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    }
}

fn has_userinfo(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// Same scheme (`http` or `https` only), same host and same port (after default ports).
fn same_origin(a: &Url, b: &Url) -> bool {
    matches!(a.scheme(), "http" | "https")
        && a.scheme() == b.scheme()
        && a.host().is_some()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

// ---------------------------------------------------------------------------------------------
// 1. Return URL
// ---------------------------------------------------------------------------------------------

/// The URL a login or consent page may send the user back to (the `return` parameter).
///
/// Accepted, and returned parsed with path, query and fragment kept as given:
/// - `https://` + exactly `app.gipity.ai`, `dev.gipity.ai` or `gipity.ai`, with no port written
///   at all (not even `:443` or a bare `:`), no user info; or
/// - when `extra_origin` is given (a client pointed at a local emulator), any URL whose scheme
///   (`http` or `https`), host and effective port equal those of `extra_origin`; an explicit port
///   is fine here (so `https://app.gipity.ai:8443` passes only if that is the extra origin).
///
/// Rejected before parsing: an empty input, more than 2048 bytes, any non-ASCII character
/// (fullwidth letters, `。`, zero-width characters, IDN hosts: a serialized URL is ASCII), any
/// ASCII whitespace or control character anywhere (tab and newline would be stripped silently by
/// the parser), any backslash, anything not of the form `scheme://authority...` (so
/// `https:gipity.ai`, `https:/gipity.ai`, `//evil.com`, relative paths, `javascript:`, `data:`),
/// an empty authority (`https:///gipity.ai`), `@` anywhere in the authority (user info, such as
/// `https://gipity.ai@evil.com`), `%` in the authority (`https://gipity%2eai`), a host ending in
/// a dot (`gipity.ai.`) and any `xn--` (punycode) label.
///
/// After parsing, the host as written must equal the parsed host up to ASCII letter case, so a
/// host the parser would rewrite (`127.1`, `0x7f.0.0.1`, `[0::1]`) is rejected. IP hosts are never
/// Gipity hosts, so they pass only as the extra origin.
///
/// Letter case: scheme and host are case-insensitive, so `HTTPS://GIPITY.AI` is accepted and
/// returned in canonical form (`https://gipity.ai/`). A `@` after the authority is harmless:
/// `https://gipity.ai#@evil.com` is `gipity.ai` with the fragment `@evil.com` and is accepted.
pub(crate) fn return_url(input: &str, extra_origin: Option<&Url>) -> Result<Url, Invalid> {
    if let Some(problem) = url_text_problem(input) {
        return Err(invalid_owned(format!(
            "return URL {problem}: {}",
            quoted_url(input)
        )));
    }
    let Some((scheme, authority)) = split_scheme_authority(input) else {
        return Err(invalid_owned(format!(
            "return URL must be absolute, like https://app.gipity.ai/<account>/<project>/: {}",
            quoted_url(input)
        )));
    };
    if authority.contains('@') {
        return Err(invalid(
            "return URL must not contain a user name or password",
        ));
    }
    if authority.contains('%') {
        return Err(invalid_owned(format!(
            "return URL must not percent-encode its host: {}",
            quoted_url(input)
        )));
    }
    let (raw_host, raw_port) = split_host_port(authority);
    if raw_host.is_empty() {
        return Err(invalid_owned(format!(
            "return URL has no host: {}",
            quoted_url(input)
        )));
    }
    if raw_host.ends_with('.') {
        return Err(invalid_owned(format!(
            "return URL host must not end with a dot: {}",
            quoted_url(input)
        )));
    }
    if raw_host.to_ascii_lowercase().contains("xn--") {
        return Err(invalid_owned(format!(
            "return URL host must not be an internationalized (punycode) name: {}",
            quoted_url(input)
        )));
    }
    let url = Url::parse(input).map_err(|error| {
        invalid_owned(format!(
            "return URL does not parse ({error}): {}",
            quoted_url(input)
        ))
    })?;
    if has_userinfo(&url) {
        return Err(invalid(
            "return URL must not contain a user name or password",
        ));
    }
    let canonical = url
        .host_str()
        .is_some_and(|host| raw_host.eq_ignore_ascii_case(host))
        && scheme.eq_ignore_ascii_case(url.scheme());
    if !canonical {
        return Err(invalid_owned(format!(
            "return URL host must be written in canonical form: {}",
            quoted_url(input)
        )));
    }
    let gipity_page = url.scheme() == "https"
        && matches!(url.host(), Some(Host::Domain(host)) if RETURN_HOSTS.contains(&host));
    if gipity_page && raw_port.is_none() {
        return Ok(url);
    }
    if let Some(extra) = extra_origin
        && same_origin(&url, extra)
    {
        return Ok(url);
    }
    if gipity_page {
        return Err(invalid_owned(format!(
            "return URL must not name a port on a Gipity host (not even :443): {}",
            quoted_url(input)
        )));
    }
    Err(invalid_owned(match extra_origin {
        Some(extra) => format!(
            "return URL must be on https://app.gipity.ai, https://dev.gipity.ai, https://gipity.ai or {}: {}",
            extra.origin().ascii_serialization(),
            quoted_url(input)
        ),
        None => format!(
            "return URL must be on https://app.gipity.ai, https://dev.gipity.ai or https://gipity.ai: {}",
            quoted_url(input)
        ),
    }))
}

// ---------------------------------------------------------------------------------------------
// 2. API base URL
// ---------------------------------------------------------------------------------------------

/// The API base URL (`https://a.gipity.ai`, a staging platform, or an emulator).
///
/// Rules: the same text checks as [`return_url`] (non-empty, at most 2048 bytes, ASCII, no
/// whitespace, control characters or backslashes); of the form `scheme://authority...`; scheme
/// `https`, or `http` only when the host is loopback (see [`is_loopback`]) or
/// `allow_insecure_http` is set; a non-empty host, written without `%`; no user info (no `@` in
/// the authority); no query and no fragment (not even an empty `?` or `#`). Any port is allowed;
/// the parser drops a default one (`:443` for https).
///
/// The parsed URL must also fit in 2048 bytes (the parser percent-encodes some characters).
///
/// The returned URL's path has no trailing slash unless it is the root, so `https://a.gipity.ai`,
/// `https://a.gipity.ai/` and `https://a.gipity.ai//` are the same base, and a platform mounted
/// under a prefix keeps it: `https://host/prefix/` becomes `https://host/prefix`.
pub(crate) fn base_url(input: &str, allow_insecure_http: bool) -> Result<Url, Invalid> {
    if let Some(problem) = url_text_problem(input) {
        return Err(invalid_owned(format!(
            "base URL {problem}: {}",
            quoted_url(input)
        )));
    }
    let Some((_, authority)) = split_scheme_authority(input) else {
        return Err(invalid_owned(format!(
            "base URL must be absolute, like https://a.gipity.ai: {}",
            quoted_url(input)
        )));
    };
    if authority.contains('@') {
        return Err(invalid("base URL must not contain a user name or password"));
    }
    if authority.contains('%') {
        return Err(invalid_owned(format!(
            "base URL must not percent-encode its host: {}",
            quoted_url(input)
        )));
    }
    let mut url = Url::parse(input).map_err(|error| {
        invalid_owned(format!(
            "base URL does not parse ({error}): {}",
            quoted_url(input)
        ))
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) || allow_insecure_http => {}
        "http" => {
            return Err(invalid_owned(format!(
                "base URL must use https (http only for localhost, 127.0.0.0/8 and [::1] unless insecure http is allowed): {}",
                quoted_url(input)
            )));
        }
        _ => {
            return Err(invalid_owned(format!(
                "base URL must use https: {}",
                quoted_url(input)
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid_owned(format!(
            "base URL has no host: {}",
            quoted_url(input)
        )));
    }
    if has_userinfo(&url) {
        return Err(invalid("base URL must not contain a user name or password"));
    }
    if url.query().is_some() {
        return Err(invalid_owned(format!(
            "base URL must not have a query: {}",
            quoted_url(input)
        )));
    }
    if url.fragment().is_some() {
        return Err(invalid_owned(format!(
            "base URL must not have a fragment: {}",
            quoted_url(input)
        )));
    }
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(if trimmed.is_empty() { "/" } else { &trimmed });
    // The parser percent-encodes some ASCII characters (`{` becomes `%7B`): the URL as used,
    // not only as written, stays within the limit, so that it is itself a valid base URL.
    if url.as_str().len() > MAX_URL_BYTES {
        return Err(invalid(
            "base URL is longer than 2048 bytes once percent-encoded",
        ));
    }
    Ok(url)
}

/// Whether the URL's host is loopback: the domain `localhost` (exactly, any letter case, no
/// trailing dot), an IPv4 address in 127.0.0.0/8, or the IPv6 address `::1`. Other names that
/// may resolve to loopback (`foo.localhost`, `::ffff:127.0.0.1`) do not count.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Function name
// ---------------------------------------------------------------------------------------------

/// The remote function name (the file name under `functions/`, without `.js`): 1 to 128
/// characters, each an ASCII letter, digit, `_`, `.` or `-`; the first an ASCII letter or digit
/// (which also rules out `.`, `..` and `-x`); and no `..` anywhere. The caller still
/// percent-encodes the name as one path segment; this rule rejects hostile names early.
pub(crate) fn function_name(name: &str) -> Result<(), Invalid> {
    if name.is_empty() {
        return Err(invalid("function name is empty"));
    }
    if name.chars().count() > 128 {
        return Err(invalid_owned(format!(
            "function name is longer than 128 characters: {}",
            quoted(name)
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(invalid_owned(format!(
            "function name may contain only ASCII letters, digits, '_', '.' and '-', not {bad:?}: {}",
            quoted(name)
        )));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(invalid_owned(format!(
            "function name must start with an ASCII letter or digit: {}",
            quoted(name)
        )));
    }
    if name.contains("..") {
        return Err(invalid_owned(format!(
            "function name must not contain '..': {}",
            quoted(name)
        )));
    }
    Ok(())
}

/// Whether [`function_name`] accepts `name`, as a `const fn`: a [`RemoteFunction`] in a
/// `static` (every generated stub has one) is checked at compile time, so a call through it
/// does not check its name again.
///
/// [`RemoteFunction`]: crate::RemoteFunction
pub(crate) const fn is_function_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    // Every accepted character is ASCII, so the byte length is the character count.
    let [first, ..] = bytes else {
        return false;
    };
    if bytes.len() > 128 || !first.is_ascii_alphanumeric() {
        return false;
    }
    let mut rest = bytes;
    let mut previous = 0_u8;
    while let [byte, tail @ ..] = rest {
        let byte = *byte;
        if !(byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'.' || byte == b'-') {
            return false;
        }
        if byte == b'.' && previous == b'.' {
            return false;
        }
        previous = byte;
        rest = tail;
    }
    true
}

// ---------------------------------------------------------------------------------------------
// 4. App GUID
// ---------------------------------------------------------------------------------------------

/// The project ("app") GUID: `p_` followed by 1 to 64 characters, each an ASCII letter, digit,
/// `_` or `-`. The messages never quote the input: a credential passed here by mistake must not
/// end up in an error message.
pub(crate) fn app_guid(guid: &str) -> Result<(), Invalid> {
    let Some(rest) = guid.strip_prefix("p_") else {
        return Err(invalid("app GUID must start with 'p_'"));
    };
    if rest.is_empty() {
        return Err(invalid("app GUID has nothing after 'p_'"));
    }
    if rest.len() > 64 {
        return Err(invalid("app GUID has more than 64 characters after 'p_'"));
    }
    if !rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(invalid(
            "app GUID may contain only ASCII letters, digits, '_' and '-' after 'p_'",
        ));
    }
    Ok(())
}

/// Whether `s`, once surrounding whitespace is trimmed, is a valid app GUID (see [`app_guid`]).
/// Used to refuse a GUID given where a token or key belongs.
pub(crate) fn looks_like_app_guid(s: &str) -> bool {
    app_guid(s.trim()).is_ok()
}

// ---------------------------------------------------------------------------------------------
// 5. Credentials
// ---------------------------------------------------------------------------------------------

/// A token or key (`kind` names it in messages, e.g. "app token", "api key"; start it with a
/// lowercase letter): non-empty; not an app GUID (see [`looks_like_app_guid`]); at most 8192
/// bytes; visible ASCII only (`!` to `~`, so a valid HTTP header value without spaces). A value
/// starting with `Bearer ` gets its own message (pass the bare token). The value never appears
/// in a message.
pub(crate) fn credential(kind: &'static str, value: &str) -> Result<(), Invalid> {
    if value.is_empty() {
        return Err(invalid_owned(format!("{kind} is empty")));
    }
    if looks_like_app_guid(value) {
        return Err(invalid_owned(format!(
            "{kind} looks like a project GUID; the GUID names the app and is not a credential"
        )));
    }
    if value.len() > 8192 {
        return Err(invalid_owned(format!("{kind} is longer than 8192 bytes")));
    }
    if value
        .get(..7)
        .is_some_and(|head| head.eq_ignore_ascii_case("bearer "))
    {
        return Err(invalid_owned(format!(
            "{kind} must be the bare token, without the 'Bearer ' prefix"
        )));
    }
    if !value.bytes().all(is_visible_ascii) {
        return Err(invalid_owned(format!(
            "{kind} may contain only visible ASCII characters (no spaces, control or non-ASCII characters)"
        )));
    }
    Ok(())
}

fn is_visible_ascii(b: u8) -> bool {
    (b'!'..=b'~').contains(&b)
}

// ---------------------------------------------------------------------------------------------
// 6. Device secret
// ---------------------------------------------------------------------------------------------

/// The app-player device secret sent to `/auth/guest`: 32 to 256 characters (counted as
/// characters, not bytes), each visible ASCII (`!` to `~`), and not an app GUID. The secret never
/// appears in a message.
pub(crate) fn device_secret(secret: &str) -> Result<(), Invalid> {
    let chars = secret.chars().count();
    if chars < 32 {
        return Err(invalid("device secret is shorter than 32 characters"));
    }
    if chars > 256 {
        return Err(invalid("device secret is longer than 256 characters"));
    }
    if !secret.bytes().all(is_visible_ascii) {
        return Err(invalid(
            "device secret may contain only visible ASCII characters (no spaces, control or non-ASCII characters)",
        ));
    }
    if looks_like_app_guid(secret) {
        return Err(invalid(
            "device secret looks like a project GUID; the GUID names the app and is not a credential",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 7. Excerpt of an unexpected body
// ---------------------------------------------------------------------------------------------

/// Longest excerpt, in characters, `…` included.
const EXCERPT_CHARS: usize = 160;
/// Only this many bytes of a body are read for an excerpt.
const EXCERPT_SCAN_BYTES: usize = 16 * 1024;
/// A run of this many token characters is taken for a secret.
const SECRET_RUN: usize = 20;
const REDACTED: &str = "[redacted]";
/// Names whose values are redacted whatever their length (matched case-insensitively as
/// substrings, so `access_token`, `Set-Cookie`, `Authorization`, `apiKey` all count).
const SENSITIVE_NAMES: [&str; 10] = [
    "token",
    "session",
    "cookie",
    "key",
    "secret",
    "auth",
    "password",
    "passwd",
    "credential",
    "signature",
];

/// A short, secret-free excerpt of an unexpected response body, for error messages.
///
/// - An empty body gives `(empty body)`; a body of only whitespace and controls `(blank body)`.
/// - Only the first 16 KiB are read, decoded as lossy UTF-8.
/// - Control characters, whitespace and invisible formatting characters (zero-width, bidi
///   overrides, BOM) become spaces; runs of them collapse to one space; the ends are trimmed.
/// - Every run of 20 or more characters from `[A-Za-z0-9_\-.+/=~]` (tokens, JWTs, keys, cookie
///   values, also long paths) becomes `[redacted]`; so does a shorter run at the very end of a
///   body that was cut at 16 KiB, since it may be the start of a token.
/// - Values of `name=value`, `name: value`, `"name": "value"` and `name = value` pairs whose name
///   contains (case-insensitively) `token`, `session`, `cookie`, `key`, `secret`, `auth`,
///   `password`, `passwd`, `credential` or `signature` become `[redacted]` whatever their length
///   (a quoted value up to its closing quote; after `Bearer`/`Basic`, the word after it too).
///   The word after a standalone `Bearer` or `Basic` is redacted as well.
/// - The result has at most 160 characters: when longer (or when the body was cut at 16 KiB) it
///   is cut on a character boundary to at most 159 characters and `…` is appended.
pub(crate) fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty body)".to_owned();
    }
    let body_cut = body.len() > EXCERPT_SCAN_BYTES;
    let scanned = body.get(..EXCERPT_SCAN_BYTES).unwrap_or(body);
    let text = String::from_utf8_lossy(scanned);
    let tokens = tokenize(&text);
    let redacted = redact(&tokens, body_cut);
    if redacted.is_empty() {
        return "(blank body)".to_owned();
    }
    let chars = redacted.chars().count();
    if chars <= EXCERPT_CHARS && !body_cut {
        return redacted;
    }
    let mut cut: String = redacted
        .chars()
        .take(chars.min(EXCERPT_CHARS.saturating_sub(1)))
        .collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// A piece of a normalized body: a maximal run of token characters, or one other character
/// (a collapsed blank is `Other(' ')`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Run(String),
    Other(char),
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '/' | '=' | '~')
}

/// Characters shown as a space: controls, whitespace, and invisible formatting characters that
/// could hide or reorder text in a terminal or log (zero-width, bidi controls, BOM).
fn is_blank(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Splits normalized text into pieces, collapsing blanks to one `Other(' ')` and trimming both
/// ends.
fn tokenize(text: &str) -> Vec<Piece> {
    fn flush(run: &mut String, pieces: &mut Vec<Piece>) {
        if !run.is_empty() {
            pieces.push(Piece::Run(std::mem::take(run)));
        }
    }
    let mut pieces = Vec::new();
    let mut run = String::new();
    let mut blank_pending = false;
    for c in text.chars() {
        if is_blank(c) {
            blank_pending = true;
            continue;
        }
        if blank_pending {
            flush(&mut run, &mut pieces);
            if !pieces.is_empty() {
                pieces.push(Piece::Other(' '));
            }
            blank_pending = false;
        }
        if is_token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut pieces);
            pieces.push(Piece::Other(c));
        }
    }
    flush(&mut run, &mut pieces);
    pieces
}

fn is_sensitive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SENSITIVE_NAMES.iter().any(|word| lower.contains(word))
}

fn is_auth_scheme(word: &str) -> bool {
    word.eq_ignore_ascii_case("bearer") || word.eq_ignore_ascii_case("basic")
}

/// In a run like `session=abc` or `a=1+access_token=xyz`: the text before the first `=` whose
/// prefix names a secret, and the value after it. Linear in the run's length: the first such
/// `=` is the first one after the earliest end of a sensitive word.
fn sensitive_pair(run: &str) -> Option<(&str, &str)> {
    let lower = run.to_ascii_lowercase();
    let name_end = SENSITIVE_NAMES
        .iter()
        .filter_map(|word| lower.find(word).map(|at| at.saturating_add(word.len())))
        .min()?;
    let at = run
        .get(name_end..)?
        .find('=')
        .map(|offset| offset.saturating_add(name_end))?;
    Some((run.get(..at)?, run.get(at.saturating_add(1)..)?))
}

/// After a sensitive name ending at `at`: the index where its value starts, when a separator
/// follows (`"name": value`, `name: value`, `name = value`).
fn value_after_separator(pieces: &[Piece], at: usize) -> Option<usize> {
    let mut at = at;
    if matches!(pieces.get(at), Some(Piece::Other('"' | '\''))) {
        at = at.saturating_add(1);
    }
    if matches!(pieces.get(at), Some(Piece::Other(' '))) {
        at = at.saturating_add(1);
    }
    match pieces.get(at) {
        Some(Piece::Other(':')) => {}
        Some(Piece::Run(run)) if run == "=" => {}
        _ => return None,
    }
    at = at.saturating_add(1);
    if matches!(pieces.get(at), Some(Piece::Other(' '))) {
        at = at.saturating_add(1);
    }
    Some(at)
}

fn push_piece(piece: &Piece, out: &mut String) {
    match piece {
        Piece::Run(run) => out.push_str(run),
        Piece::Other(c) => out.push(*c),
    }
}

/// After `Bearer`/`Basic` ending at `at`: redacts the following word; returns where to go on.
fn redact_after_scheme(pieces: &[Piece], at: usize, out: &mut String) -> usize {
    match (pieces.get(at), pieces.get(at.saturating_add(1))) {
        (Some(Piece::Other(' ')), Some(Piece::Run(_))) => {
            out.push(' ');
            out.push_str(REDACTED);
            at.saturating_add(2)
        }
        _ => at,
    }
}

/// Redacts the value starting at `at` (a quoted string, or one word); returns where to go on.
fn redact_value(pieces: &[Piece], at: usize, out: &mut String) -> usize {
    match pieces.get(at) {
        Some(Piece::Other(quote @ ('"' | '\''))) => {
            out.push(*quote);
            out.push_str(REDACTED);
            let mut next = at.saturating_add(1);
            while let Some(piece) = pieces.get(next) {
                next = next.saturating_add(1);
                match piece {
                    Piece::Other('\\') => next = next.saturating_add(1),
                    Piece::Other(c) if c == quote => {
                        out.push(*quote);
                        return next;
                    }
                    _ => {}
                }
            }
            pieces.len()
        }
        Some(Piece::Run(word)) if is_auth_scheme(word) => {
            out.push_str(word);
            redact_after_scheme(pieces, at.saturating_add(1), out)
        }
        Some(Piece::Run(_)) => {
            out.push_str(REDACTED);
            at.saturating_add(1)
        }
        _ => at,
    }
}

/// Renders the pieces with secrets replaced by `[redacted]` (see [`excerpt`]).
fn redact(pieces: &[Piece], body_cut: bool) -> String {
    let mut out = String::new();
    let mut at = 0usize;
    while let Some(piece) = pieces.get(at) {
        at = at.saturating_add(1);
        let run = match piece {
            Piece::Other(c) => {
                out.push(*c);
                continue;
            }
            Piece::Run(run) => run,
        };
        // The last run of a cut body may be the start of a longer token.
        let long = run.chars().count() >= SECRET_RUN || (body_cut && at >= pieces.len());
        if let Some((name, value)) = sensitive_pair(run) {
            if long {
                out.push_str(REDACTED);
            } else {
                out.push_str(name);
                out.push('=');
                if !value.is_empty() {
                    out.push_str(REDACTED);
                }
            }
            if value.is_empty() {
                at = redact_value(pieces, at, &mut out);
            }
            continue;
        }
        out.push_str(if long { REDACTED } else { run });
        if is_auth_scheme(run) {
            at = redact_after_scheme(pieces, at, &mut out);
        } else if is_sensitive_name(run)
            && let Some(value_at) = value_after_separator(pieces, at)
        {
            for separator in pieces.get(at..value_at).unwrap_or_default() {
                push_piece(separator, &mut out);
            }
            at = redact_value(pieces, value_at, &mut out);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 8. Login and consent URLs sent by the server
// ---------------------------------------------------------------------------------------------

/// A `loginUrl` or `consentUrl` received from the server, used only when it is safe: the same
/// text checks as [`return_url`] (non-empty, at most 2048 bytes, ASCII, no whitespace, control
/// characters or backslashes), of the form `scheme://authority...` with no `@` or `%` in the
/// authority; it parses; no user info; exactly the API base's scheme, host and port (after
/// default ports); and its parsed (dot-segment-free) path starts with the base path (without
/// its trailing slash) followed by `/api/auth/`, with no encoded `.`, `/` or `\` (`%2e`, `%2f`,
/// `%5c`) after that prefix. Query and fragment are kept. Anything else gives `None`, and the
/// caller builds the URL itself.
pub(crate) fn challenge_url(given: &str, api_base: &Url) -> Option<Url> {
    if url_text_problem(given).is_some() {
        return None;
    }
    let (_, authority) = split_scheme_authority(given)?;
    if authority.contains(['@', '%']) {
        return None;
    }
    let url = Url::parse(given).ok()?;
    if has_userinfo(&url) || !same_origin(&url, api_base) {
        return None;
    }
    let prefix = api_base.path().trim_end_matches('/');
    let rest = url
        .path()
        .strip_prefix(prefix)?
        .strip_prefix("/api/auth/")?;
    let lower = rest.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c"]
        .iter()
        .any(|encoded| lower.contains(encoded))
    {
        return None;
    }
    Some(url)
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests {
    use super::*;

    fn emulator() -> Url {
        Url::parse("http://127.0.0.1:8787").unwrap()
    }

    /// Every message starts lowercase and has no trailing period.
    fn assert_message_style(error: &Invalid, input: &str) {
        let text = &error.0;
        assert!(
            text.starts_with(|c: char| c.is_lowercase()),
            "{input:?}: message {text:?} does not start lowercase"
        );
        assert!(
            !text.ends_with('.'),
            "{input:?}: message {text:?} ends with a period"
        );
    }

    // ------------------------------------------------------------------ return_url

    #[test]
    fn return_url_rejects_hostile_inputs() {
        let long_path = format!("https://app.gipity.ai/{}", "a".repeat(MAX_URL_BYTES));
        let cases: Vec<(&str, String)> = vec![
            // Wrong schemes and shapes.
            ("plain http", "http://app.gipity.ai/".into()),
            ("uppercase http", "HTTP://APP.GIPITY.AI/".into()),
            ("javascript", "javascript:alert(document.cookie)".into()),
            ("mixed-case javascript", "JaVaScRiPt:alert(1)".into()),
            (
                "javascript with a gipity authority",
                "javascript://app.gipity.ai/%0aalert(1)".into(),
            ),
            ("data", "data:text/html,<script>alert(1)</script>".into()),
            ("file", "file:///etc/passwd".into()),
            ("websocket", "wss://app.gipity.ai/".into()),
            ("blob", "blob:https://app.gipity.ai/0b1c".into()),
            ("ftp", "ftp://gipity.ai/".into()),
            ("scheme-relative", "//evil.com/".into()),
            ("scheme-relative to gipity", "//app.gipity.ai/".into()),
            ("relative path", "/account/project/".into()),
            ("bare relative", "account/project".into()),
            ("query only", "?return=https://evil.com".into()),
            ("no slashes", "https:gipity.ai".into()),
            ("one slash", "https:/gipity.ai".into()),
            ("three slashes", "https:///gipity.ai".into()),
            ("missing colon", "https//gipity.ai".into()),
            ("no host", "https://".into()),
            ("empty", String::new()),
            // Look-alike hosts.
            ("suffix trick", "https://gipity.ai.evil.com/".into()),
            ("prefix trick", "https://evilgipity.ai/".into()),
            ("app suffix trick", "https://app.gipity.ai.evil.com/".into()),
            ("hyphen look-alike", "https://app-gipity.ai/".into()),
            ("other tld", "https://gipity.com/".into()),
            ("api host is not an app host", "https://a.gipity.ai/".into()),
            ("www", "https://www.gipity.ai/".into()),
            ("empty label", "https://app..gipity.ai/".into()),
            ("leading dot", "https://.gipity.ai/".into()),
            ("trailing dot", "https://gipity.ai./".into()),
            ("trailing dot on app", "https://APP.GIPITY.AI./x".into()),
            ("path names gipity", "https://evil.com/app.gipity.ai".into()),
            (
                "fragment names gipity",
                "https://evil.com#@app.gipity.ai".into(),
            ),
            (
                "query names gipity",
                "https://evil.com?https://app.gipity.ai".into(),
            ),
            ("wildcard", "https://*.gipity.ai/".into()),
            // User info.
            ("userinfo host trick", "https://gipity.ai@evil.com/".into()),
            ("user and password", "https://user:pw@app.gipity.ai/".into()),
            ("empty userinfo", "https://@app.gipity.ai/".into()),
            (
                "port-looking userinfo",
                "https://app.gipity.ai:443@evil.com/".into(),
            ),
            (
                "gipity in both",
                "https://app.gipity.ai@app.gipity.ai/".into(),
            ),
            // Percent-encoding in the authority.
            (
                "encoded slash then userinfo",
                "https://app.gipity.ai%2F@evil.com".into(),
            ),
            ("encoded dots", "https://gipity%2eai/".into()),
            ("encoded letter", "https://%67ipity.ai/".into()),
            ("encoded nul", "https://app.gipity.ai%00.evil.com/".into()),
            ("encoded at", "https://app.gipity.ai%40evil.com/".into()),
            // Ports.
            ("explicit default port", "https://gipity.ai:443/".into()),
            ("http port", "https://gipity.ai:80/".into()),
            ("other port", "https://app.gipity.ai:8443/".into()),
            ("empty port", "https://dev.gipity.ai:/".into()),
            ("port zero", "https://gipity.ai:0/".into()),
            ("port out of range", "https://gipity.ai:65536/".into()),
            // IP hosts.
            ("ipv6 loopback", "https://[::1]/".into()),
            ("ipv4 loopback", "https://127.0.0.1/".into()),
            ("integer ip", "https://2130706433/".into()),
            ("hex ip", "https://0x7f000001/".into()),
            ("short ip", "https://127.1/".into()),
            ("mapped ipv6", "https://[::ffff:7f00:1]/".into()),
            ("localhost", "https://localhost/".into()),
            // Whitespace, controls and backslashes.
            ("tab inside host", "https://gip\tity.ai/".into()),
            (
                "newline inside host",
                "https://app.gipity.ai\n.evil.com/".into(),
            ),
            ("carriage return", "https://app.gipity.ai/\r".into()),
            ("leading space", " https://app.gipity.ai/".into()),
            ("trailing space", "https://app.gipity.ai/ ".into()),
            ("space in path", "https://app.gipity.ai/a b".into()),
            ("nul byte", "https://app.gipity.ai\0.evil.com/".into()),
            ("delete char", "https://app.gipity.ai/\u{7f}".into()),
            (
                "backslash userinfo",
                "https://app.gipity.ai\\@evil.com/".into(),
            ),
            ("backslash slashes", "https:\\\\app.gipity.ai\\".into()),
            ("backslash scheme-relative", "\\\\evil.com".into()),
            // Unicode.
            ("ideographic full stop", "https://gipity\u{3002}ai/".into()),
            ("fullwidth letter", "https://\u{FF47}ipity.ai/".into()),
            ("fullwidth dot", "https://gipity\u{FF0E}ai/".into()),
            ("zero-width space", "https://app.gipity.ai\u{200B}/".into()),
            (
                "soft hyphen (idna drops it)",
                "https://gip\u{AD}ity.ai/".into(),
            ),
            ("dotless i look-alike", "https://g\u{131}pity.ai/".into()),
            ("cyrillic a", "https://\u{430}pp.gipity.ai/".into()),
            ("no-break space", "https://app.gipity.ai/\u{A0}".into()),
            (
                "right-to-left override",
                "https://app.gipity.ai/\u{202E}".into(),
            ),
            ("punycode", "https://xn--gipity-9ua.ai/".into()),
            ("punycode label", "https://xn--app-0na.gipity.ai/".into()),
            // Size.
            ("too long", long_path),
        ];
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
        let cases: [(&str, Option<&Url>, &str); 14] = [
            ("https://app.gipity.ai", None, "https://app.gipity.ai/"),
            (
                "https://dev.gipity.ai/acme/shop/",
                None,
                "https://dev.gipity.ai/acme/shop/",
            ),
            ("https://gipity.ai/", None, "https://gipity.ai/"),
            (
                "https://app.gipity.ai/acme/shop/?tab=cart&x=1#top",
                None,
                "https://app.gipity.ai/acme/shop/?tab=cart&x=1#top",
            ),
            // Scheme and host are case-insensitive; the canonical form comes back.
            ("HTTPS://GIPITY.AI", None, "https://gipity.ai/"),
            (
                "HtTpS://App.Gipity.Ai/Acme/Shop",
                None,
                "https://app.gipity.ai/Acme/Shop",
            ),
            // `@`, `?`, `#` after the authority do not change the host.
            (
                "https://gipity.ai#@evil.com",
                None,
                "https://gipity.ai/#@evil.com",
            ),
            (
                "https://gipity.ai?@evil.com",
                None,
                "https://gipity.ai/?@evil.com",
            ),
            (
                "https://app.gipity.ai/@evil.com",
                None,
                "https://app.gipity.ai/@evil.com",
            ),
            // Percent-encoding outside the authority is kept as is.
            (
                "https://app.gipity.ai/a%20b?q=%2F",
                None,
                "https://app.gipity.ai/a%20b?q=%2F",
            ),
            // The extra origin, with its explicit port.
            (
                "http://127.0.0.1:8787/acme/shop/?x=1#y",
                Some(&extra),
                "http://127.0.0.1:8787/acme/shop/?x=1#y",
            ),
            (
                "http://127.0.0.1:8787",
                Some(&extra),
                "http://127.0.0.1:8787/",
            ),
            // Gipity pages stay allowed when an extra origin is given.
            (
                "https://app.gipity.ai/a",
                Some(&extra),
                "https://app.gipity.ai/a",
            ),
            // The gipity hosts also pass as extra origin (a no-op), still without a port.
            (
                "https://dev.gipity.ai/z",
                Some(&extra),
                "https://dev.gipity.ai/z",
            ),
        ];
        for (input, origin, expected) in cases {
            match return_url(input, origin) {
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
        let cases: [(&str, bool, &str); 14] = [
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
        for (input, insecure, expected) in cases {
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
        let cases = [
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
        for input in cases {
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
            assert!(is_function_name(name), "{name:?}");
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
            assert!(!is_function_name(name), "{name:?}");
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
}
