//! The cookies of a native session: the subset of RFC 6265 a client of one API needs
//! (`Domain`, `Path`, `Max-Age`, `Expires`, `Secure`), written here rather than taken from a
//! general cookie store so that no value is ever logged (general stores log cookies they insert
//! at `DEBUG`) and every value is held as a [`Secret`].
//!
//! Rules (RFC 6265 section 5): a cookie without `Domain` goes back to its host only; with one,
//! to that domain and its subdomains, and only if the answering host is within it and the
//! domain is not a top-level domain (the jar carries no public suffix list beyond that: a
//! `Domain=co.uk` is kept, though it can only ever go back to the client's API host, the one
//! host the jar is consulted for); its path defaults to the directory of the URL that set it
//! (as does a `Path` without a leading `/`); `Max-Age` (digits, an optional `-`) wins over
//! `Expires`, and an expired cookie deletes the one it names; `Secure` cookies go over `https`
//! only. A cookie is named by its name, domain and path: a new one replaces the old. A full
//! jar drops its expired cookies, then its oldest.

use std::time::{Duration, SystemTime};

use url::Url;

use crate::secret::Secret;

/// The most cookies one jar holds; past that, the expired go first, then the oldest.
const MAX_COOKIES: usize = 64;
/// The longest `name=value` kept, in bytes (browsers keep 4096).
const MAX_COOKIE_BYTES: usize = 4096;

/// The cookies of one jar.
#[derive(Default)]
pub(crate) struct Cookies {
    cookies: Vec<Cookie>,
}

struct Cookie {
    name: String,
    value: Secret,
    /// The host it came from (host-only) or its `Domain`, lowercase, without a leading dot.
    domain: String,
    host_only: bool,
    path: String,
    secure: bool,
    expires: Option<SystemTime>,
}

impl Cookie {
    fn expired(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|expires| expires <= now)
    }
}

impl Cookies {
    /// Stores the cookie of one `Set-Cookie` value that `url` answered with. Malformed or
    /// foreign cookies (a `Domain` the host is not within) are dropped.
    pub(crate) fn set(&mut self, set_cookie: &str, url: &Url, now: SystemTime) {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return;
        };
        let Some(cookie) = parse(set_cookie, url, &host, now) else {
            return;
        };
        self.cookies.retain(|old| {
            !(old.name == cookie.name && old.domain == cookie.domain && old.path == cookie.path)
        });
        if !cookie.expired(now) {
            if self.cookies.len() >= MAX_COOKIES {
                // Expired cookies go first; only a jar full of live ones loses its oldest.
                self.cookies.retain(|old| !old.expired(now));
            }
            if self.cookies.len() >= MAX_COOKIES {
                self.cookies.remove(0);
            }
            self.cookies.push(cookie);
        }
    }

    /// The `Cookie` header value for a request to `url`: `a=1; b=2`, longer paths first, in
    /// one allocation of exactly its length (a header value takes it without a copy).
    pub(crate) fn header(&self, url: &Url, now: SystemTime) -> Option<String> {
        // The URL parser lowercases a domain host already.
        let host = url.host_str()?;
        let is_ip = url
            .host()
            .is_some_and(|host| !matches!(host, url::Host::Domain(_)));
        let https = url.scheme() == "https";
        let path = url.path();
        let mut matching = self.cookies.iter().filter(|cookie| {
            cookie.expires.is_none_or(|expires| expires > now)
                && (!cookie.secure || https)
                && domain_matches(host, is_ip, cookie)
                && path_matches(path, &cookie.path)
        });
        let first = matching.next()?;
        let Some(second) = matching.next() else {
            // One cookie, the usual session: no list to sort.
            return Some(join(&[first]));
        };
        let mut all: Vec<&Cookie> = [first, second].into_iter().chain(matching).collect();
        // Stable: equal paths keep the order they were set in.
        all.sort_by_key(|cookie| std::cmp::Reverse(cookie.path.len()));
        Some(join(&all))
    }
}

/// `a=1; b=2`, allocated once at its exact length.
fn join(cookies: &[&Cookie]) -> String {
    let length = cookies
        .iter()
        .map(|cookie| cookie.name.len() + 1 + cookie.value.expose().len())
        .sum::<usize>()
        + 2 * (cookies.len() - 1);
    let mut header = String::with_capacity(length);
    for (index, cookie) in cookies.iter().enumerate() {
        if index > 0 {
            header.push_str("; ");
        }
        header.push_str(&cookie.name);
        header.push('=');
        header.push_str(cookie.value.expose());
    }
    header
}

/// The cookie of `set_cookie` from `url` (whose host is `host`), if it is one to keep.
fn parse(set_cookie: &str, url: &Url, host: &str, now: SystemTime) -> Option<Cookie> {
    let mut parts = set_cookie.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty()
        || name.len() + value.len() > MAX_COOKIE_BYTES
        || !name.bytes().all(|b| b.is_ascii_graphic() && b != b'=')
        || !value.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        return None;
    }
    let mut domain = None;
    let mut path = None;
    let mut secure = false;
    let mut max_age = None;
    let mut expires = None;
    for attribute in parts {
        let (key, value) = attribute
            .split_once('=')
            .map_or((attribute.trim(), ""), |(k, v)| (k.trim(), v.trim()));
        match key.to_ascii_lowercase().as_str() {
            "domain" => {
                let value = value.trim_start_matches('.').to_ascii_lowercase();
                if !value.is_empty() {
                    domain = Some(value);
                }
            }
            // RFC 6265 5.2.4: a path that does not start with `/` is the default path.
            "path" => path = value.starts_with('/').then(|| value.to_owned()),
            "secure" => secure = true,
            // RFC 6265 5.2.2: digits, with an optional leading `-`; anything else is ignored.
            "max-age" => {
                let digits = value.strip_prefix('-').unwrap_or(value);
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    // Too many digits: as far as the sign says.
                    let overflow = if value.starts_with('-') {
                        i64::MIN
                    } else {
                        i64::MAX
                    };
                    max_age = Some(value.parse::<i64>().unwrap_or(overflow));
                }
            }
            "expires" => {
                if let Ok(at) = httpdate::parse_http_date(value) {
                    expires = Some(at);
                }
            }
            _ => {}
        }
    }
    let is_ip = url
        .host()
        .is_some_and(|host| !matches!(host, url::Host::Domain(_)));
    let (domain, host_only) = match domain {
        // An IP address has no subdomains; a domain must contain the host.
        Some(domain) if is_ip && domain != host => return None,
        Some(domain) if !within(host, &domain) => return None,
        // RFC 6265 5.3 step 5, for the suffixes every public suffix list starts with (a
        // top-level domain: `ai`, `com`): a cookie for all of one is refused, and one for a
        // host that is itself such a name is host-only.
        Some(domain) if !domain.contains('.') && domain != host => return None,
        Some(domain) if !domain.contains('.') => (domain, true),
        Some(domain) => (domain, false),
        None => (host.to_owned(), true),
    };
    let expires = match max_age {
        Some(seconds) if seconds <= 0 => Some(SystemTime::UNIX_EPOCH),
        // Further than the clock can say: no expiry.
        Some(seconds) => now.checked_add(Duration::from_secs(seconds.unsigned_abs())),
        None => expires,
    };
    Some(Cookie {
        name: name.to_owned(),
        value: Secret::new(value.to_owned()),
        domain,
        host_only,
        path: path.unwrap_or_else(|| default_path(url.path())),
        secure,
        expires,
    })
}

/// Whether `host` is `domain` or one of its subdomains.
fn within(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

fn domain_matches(host: &str, is_ip: bool, cookie: &Cookie) -> bool {
    if cookie.host_only || is_ip {
        host == cookie.domain
    } else {
        within(host, &cookie.domain)
    }
}

/// RFC 6265 5.1.4: the cookie path is the request path, or a prefix of it ending at a `/`.
fn path_matches(request: &str, cookie: &str) -> bool {
    request == cookie
        || request
            .strip_prefix(cookie)
            .is_some_and(|rest| cookie.ends_with('/') || rest.starts_with('/'))
}

/// RFC 6265 5.1.4: the directory of the request path (`/` for `/x` or an odd path).
fn default_path(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(last) => path.get(..last).unwrap_or("/").to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn jar(set: &[(&str, &str)]) -> Cookies {
        let mut cookies = Cookies::default();
        for (cookie, from) in set {
            cookies.set(cookie, &url(from), SystemTime::now());
        }
        cookies
    }

    fn header(cookies: &Cookies, to: &str) -> Option<String> {
        cookies.header(&url(to), SystemTime::now())
    }

    #[test]
    fn host_only_cookies_go_back_to_their_host_only() {
        let cookies = jar(&[("s=1; Path=/; HttpOnly", "http://127.0.0.1:8787/api/x")]);
        assert_eq!(
            header(&cookies, "http://127.0.0.1:8787/api/fn/a").as_deref(),
            Some("s=1")
        );
        // Cookies ignore ports (RFC 6265 8.5), but not hosts.
        assert_eq!(
            header(&cookies, "http://127.0.0.1:9999/").as_deref(),
            Some("s=1")
        );
        assert_eq!(header(&cookies, "http://localhost:8787/"), None);
        let cookies = jar(&[("s=1", "https://a.gipity.ai/")]);
        assert_eq!(header(&cookies, "https://x.a.gipity.ai/"), None);
    }

    #[test]
    fn domain_cookies_reach_subdomains_of_a_domain_the_host_is_within() {
        let cookies = jar(&[("s=1; Domain=.gipity.ai", "https://a.gipity.ai/")]);
        assert_eq!(
            header(&cookies, "https://app.gipity.ai/").as_deref(),
            Some("s=1")
        );
        assert_eq!(
            header(&cookies, "https://gipity.ai/").as_deref(),
            Some("s=1")
        );
        assert_eq!(header(&cookies, "https://evilgipity.ai/"), None);
        // A domain the host is not within is refused, as is one on an IP address.
        assert!(
            jar(&[("s=1; Domain=evil.com", "https://a.gipity.ai/")])
                .cookies
                .is_empty()
        );
        assert!(
            jar(&[("s=1; Domain=0.0.1", "http://127.0.0.1/")])
                .cookies
                .is_empty()
        );
    }

    #[test]
    fn paths_default_to_the_directory_and_match_on_segments() {
        let cookies = jar(&[
            ("a=1", "https://h/api/auth/login"),
            ("b=2; Path=/api", "https://h/"),
        ]);
        assert_eq!(
            header(&cookies, "https://h/api/auth/me").as_deref(),
            Some("a=1; b=2")
        );
        assert_eq!(
            header(&cookies, "https://h/api/fn/x").as_deref(),
            Some("b=2")
        );
        assert_eq!(header(&cookies, "https://h/apix"), None);
        assert_eq!(header(&cookies, "https://h/"), None);
    }

    #[test]
    fn expiry_replacement_and_deletion() {
        let mut cookies = jar(&[("s=1; Max-Age=60", "https://h/")]);
        cookies.set("s=2; Max-Age=60", &url("https://h/"), SystemTime::now());
        assert_eq!(header(&cookies, "https://h/").as_deref(), Some("s=2"));
        cookies.set("s=; Max-Age=0", &url("https://h/"), SystemTime::now());
        assert_eq!(header(&cookies, "https://h/"), None);
        let cookies = jar(&[("old=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "https://h/")]);
        assert_eq!(header(&cookies, "https://h/"), None);
        let cookies = jar(&[("s=1; Max-Age=1", "https://h/")]);
        let later = SystemTime::now() + Duration::from_secs(2);
        assert_eq!(cookies.header(&url("https://h/"), later), None);
        // Max-Age wins over Expires.
        let cookies = jar(&[(
            "s=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=60",
            "https://h/",
        )]);
        assert_eq!(header(&cookies, "https://h/").as_deref(), Some("s=1"));
    }

    #[test]
    fn secure_cookies_go_over_https_only() {
        let cookies = jar(&[("s=1; Secure", "https://h/")]);
        assert_eq!(header(&cookies, "https://h/").as_deref(), Some("s=1"));
        assert_eq!(header(&cookies, "http://h/"), None);
    }

    #[test]
    fn malformed_cookies_are_dropped() {
        for bad in [
            "",
            "novalue",
            "=1",
            "a b=1",
            "a=1\u{7f}",
            "a=1\u{0}2",
            "a=x\ny",
        ] {
            assert!(jar(&[(bad, "https://h/")]).cookies.is_empty(), "{bad:?}");
        }
        let long = format!("a={}", "x".repeat(MAX_COOKIE_BYTES));
        assert!(jar(&[(&long, "https://h/")]).cookies.is_empty());
    }

    #[test]
    fn the_jar_is_bounded() {
        let mut cookies = Cookies::default();
        for i in 0..(MAX_COOKIES + 10) {
            cookies.set(&format!("c{i}=v"), &url("https://h/"), SystemTime::now());
        }
        assert_eq!(cookies.cookies.len(), MAX_COOKIES);
        let header = header(&cookies, "https://h/").unwrap();
        assert!(!header.contains("c0=") && header.contains(&format!("c{}=", MAX_COOKIES + 9)));
    }

    #[test]
    fn a_domain_that_is_a_top_level_domain_is_refused() {
        // `Domain=ai` from a.gipity.ai would reach every host under `.ai`.
        for set in ["s=1; Domain=ai", "s=1; Domain=.ai", "s=1; Domain=AI"] {
            assert!(
                jar(&[(set, "https://a.gipity.ai/")]).cookies.is_empty(),
                "{set}"
            );
        }
        // A host that is itself a single label keeps the cookie, host-only.
        let cookies = jar(&[("s=1; Domain=localhost", "http://localhost/")]);
        assert_eq!(
            header(&cookies, "http://localhost/").as_deref(),
            Some("s=1")
        );
        assert!(cookies.cookies.iter().all(|c| c.host_only));
        // A registrable domain is fine.
        let cookies = jar(&[("s=1; Domain=gipity.ai", "https://a.gipity.ai/")]);
        assert_eq!(
            header(&cookies, "https://b.gipity.ai/").as_deref(),
            Some("s=1")
        );
    }

    #[test]
    fn an_invalid_path_is_the_default_path() {
        // The last `Path` wins, and one without a leading `/` means the default path.
        let cookies = jar(&[("s=1; Path=/; Path=nope", "https://h/app/page")]);
        assert_eq!(
            header(&cookies, "https://h/app/other").as_deref(),
            Some("s=1")
        );
        assert_eq!(header(&cookies, "https://h/elsewhere"), None);
    }

    #[test]
    fn max_age_is_digits_with_an_optional_minus() {
        // `+60` and `6O` are ignored: no expiry, a session cookie.
        for set in ["s=1; Max-Age=+60", "s=1; Max-Age=6O", "s=1; Max-Age= "] {
            let cookies = jar(&[(set, "https://h/")]);
            assert!(cookies.cookies[0].expires.is_none(), "{set}");
        }
        let cookies = jar(&[("s=1; Max-Age=-1", "https://h/")]);
        assert!(cookies.cookies.is_empty());
        let cookies = jar(&[("s=1; Max-Age=99999999999999999999999", "https://h/")]);
        assert_eq!(header(&cookies, "https://h/").as_deref(), Some("s=1"));
        let mut cookies = jar(&[("s=1", "https://h/")]);
        cookies.set(
            "s=; Max-Age=-99999999999999999999999",
            &url("https://h/"),
            SystemTime::now(),
        );
        assert!(
            cookies.cookies.is_empty(),
            "a huge negative Max-Age deletes"
        );
    }

    #[test]
    fn expired_cookies_go_before_live_ones_are_evicted() {
        let mut cookies = Cookies::default();
        let now = SystemTime::now();
        cookies.set("keep=1", &url("https://h/"), now);
        for i in 1..MAX_COOKIES {
            cookies.set(&format!("c{i}=v; Max-Age=1"), &url("https://h/"), now);
        }
        let later = now + Duration::from_secs(5);
        cookies.set("new=1", &url("https://h/"), later);
        let header = cookies.header(&url("https://h/"), later).unwrap();
        assert_eq!(header, "keep=1; new=1");
        assert_eq!(cookies.cookies.len(), 2);
    }
}
