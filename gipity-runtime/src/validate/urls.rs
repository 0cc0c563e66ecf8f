//! URLs: the return URL, the API base URL, and the login/consent URLs a server sends.

use crate::Url;
use crate::platform::Host;

use super::{Invalid, invalid, invalid_owned, quoted};

/// Longest URL string accepted anywhere in this module, in bytes.
const MAX_URL_BYTES: usize = 2048;
/// The hosts a login or consent page may send the user back to (over https, default port).
const RETURN_HOSTS: [&str; 3] = ["app.gipity.ai", "dev.gipity.ai", "gipity.ai"];

// ---------------------------------------------------------------------------------------------
// Helpers shared by the URL rules
// ---------------------------------------------------------------------------------------------

/// [`quoted`] for a URL string: user info, query and fragment (where credentials travel) are
/// dropped before quoting.
fn quoted_url(input: &str) -> String {
    let (head, dropped) = match input.find(['?', '#']) {
        Some(end) => (input.get(..end).unwrap_or(""), true),
        None => (input, false),
    };
    let mut shown = match head.split_once("//") {
        Some((scheme, rest)) => {
            // Not at a backslash: `http://user:pass\\@host` has its user info after it.
            let end = rest.find('/').unwrap_or(rest.len());
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

// Return URL
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

// API base URL
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

// Login and consent URLs sent by the server
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
mod tests;
