//! URLs in the browser, parsed by the browser's own WHATWG URL parser (`new URL(..)`).
//!
//! Natively the crate uses the `url` crate, which implements the same standard. In a page, its
//! parser and its IDNA tables would add about 190 kB to the wasm file for what the browser
//! already does; this type keeps the serialization the browser gives and the positions of its
//! parts, and offers the part of `url::Url`'s API the crate uses, with the same meaning.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An absolute URL, as the browser's `URL` parser serializes it.
///
/// In the browser this is the crate's own type over the browser's parser; natively it is
/// `url::Url`. The methods here behave as `url::Url`'s of the same name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Url {
    serialization: String,
    parts: Parts,
}

/// Where the parts of a serialization are (byte offsets).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Parts {
    /// The `:` after the scheme.
    scheme_end: usize,
    username: (usize, usize),
    password: Option<(usize, usize)>,
    host: Option<(usize, usize)>,
    port: Option<u16>,
    path_start: usize,
    /// The `?`, if there is a query.
    query_start: Option<usize>,
    /// The `#`, if there is a fragment.
    fragment_start: Option<usize>,
}

/// Why a URL did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError;

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the browser's URL parser rejected it")
    }
}

impl std::error::Error for ParseError {}

/// The host of a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host<S> {
    /// A domain name.
    Domain(S),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
}

/// The origin of a URL: a scheme, host and port for `http`, `https`, `ws`, `wss` and `ftp`
/// URLs, else an opaque origin, which equals no other.
#[derive(Debug, Clone)]
pub struct Origin(Option<String>);

impl Origin {
    /// `scheme://host[:port]`, or `null` for an opaque origin.
    #[must_use]
    pub fn ascii_serialization(&self) -> String {
        self.0.clone().unwrap_or_else(|| "null".to_owned())
    }
}

impl PartialEq for Origin {
    fn eq(&self, other: &Self) -> bool {
        matches!((&self.0, &other.0), (Some(a), Some(b)) if a == b)
    }
}

/// The default port of a special scheme.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

impl Url {
    /// Parses an absolute URL.
    ///
    /// # Errors
    /// If the browser's parser rejects it.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let parsed = web_sys::Url::new(input).map_err(|_| ParseError)?;
        Self::from_browser(&parsed)
    }

    /// Reads the parts of a parsed URL off its serialization, checking each against the
    /// parser's own accessors.
    fn from_browser(parsed: &web_sys::Url) -> Result<Self, ParseError> {
        let serialization = parsed.href();
        let protocol = parsed.protocol();
        let text = serialization.as_str();
        let expect = |at: usize, part: &str| -> Result<usize, ParseError> {
            match text.get(at..at + part.len()) {
                Some(found) if found == part => Ok(at + part.len()),
                _ => Err(ParseError),
            }
        };
        let mut at = expect(0, &protocol)?;
        let scheme_end = at.checked_sub(1).ok_or(ParseError)?;
        let mut parts = Parts {
            scheme_end,
            username: (at, at),
            password: None,
            host: None,
            port: None,
            path_start: at,
            query_start: None,
            fragment_start: None,
        };
        if text.get(at..at + 2) == Some("//") {
            at += 2;
            let (username, password) = (parsed.username(), parsed.password());
            if !username.is_empty() || !password.is_empty() {
                let start = at;
                at = expect(at, &username)?;
                parts.username = (start, at);
                if !password.is_empty() {
                    let start = expect(at, ":")?;
                    at = expect(start, &password)?;
                    parts.password = Some((start, at));
                }
                at = expect(at, "@")?;
            }
            let start = at;
            at = expect(at, &parsed.hostname())?;
            parts.host = Some((start, at));
            let port = parsed.port();
            if !port.is_empty() {
                at = expect(expect(at, ":")?, &port)?;
                parts.port = Some(port.parse().map_err(|_| ParseError)?);
            }
        }
        parts.path_start = at;
        at = expect(at, &parsed.pathname())?;
        if text.get(at..=at) == Some("?") {
            parts.query_start = Some(at);
        }
        parts.fragment_start = text
            .get(at..)
            .and_then(|rest| rest.find('#'))
            .map(|found| at + found);
        Ok(Self {
            serialization,
            parts,
        })
    }

    /// The serialization.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.serialization
    }

    fn slice(&self, (start, end): (usize, usize)) -> &str {
        self.serialization.get(start..end).unwrap_or("")
    }

    /// The scheme, lowercase, without the `:`.
    #[must_use]
    pub fn scheme(&self) -> &str {
        self.slice((0, self.parts.scheme_end))
    }

    /// The user name (percent-encoded), or `""`.
    #[must_use]
    pub fn username(&self) -> &str {
        self.slice(self.parts.username)
    }

    /// The password (percent-encoded), if any.
    #[must_use]
    pub fn password(&self) -> Option<&str> {
        self.parts.password.map(|range| self.slice(range))
    }

    /// The host as written in the serialization (an IPv6 address in brackets), if any.
    #[must_use]
    pub fn host_str(&self) -> Option<&str> {
        self.parts.host.map(|range| self.slice(range))
    }

    /// The host, parsed: the browser has already written an IPv4 address in dotted decimal.
    pub(crate) fn host(&self) -> Option<Host<&str>> {
        let host = self.host_str().filter(|host| !host.is_empty())?;
        if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return ip.parse().ok().map(Host::Ipv6);
        }
        Some(match host.parse() {
            Ok(ip) => Host::Ipv4(ip),
            Err(_) => Host::Domain(host),
        })
    }

    /// The port, unless it is the scheme's default or absent.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        self.parts.port
    }

    /// The port, or the scheme's default.
    #[must_use]
    pub fn port_or_known_default(&self) -> Option<u16> {
        self.parts.port.or_else(|| default_port(self.scheme()))
    }

    fn path_end(&self) -> usize {
        self.parts
            .query_start
            .or(self.parts.fragment_start)
            .unwrap_or(self.serialization.len())
    }

    /// The path (percent-encoded).
    #[must_use]
    pub fn path(&self) -> &str {
        self.slice((self.parts.path_start, self.path_end()))
    }

    /// The query without its `?`, if there is one (`Some("")` for a bare `?`).
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        let end = self
            .parts
            .fragment_start
            .unwrap_or(self.serialization.len());
        self.parts
            .query_start
            .map(|start| self.slice((start + 1, end)))
    }

    /// The fragment without its `#`, if there is one.
    #[must_use]
    pub fn fragment(&self) -> Option<&str> {
        self.parts
            .fragment_start
            .map(|start| self.slice((start + 1, self.serialization.len())))
    }

    /// The origin.
    #[must_use]
    pub fn origin(&self) -> Origin {
        let scheme = self.scheme();
        let (Some(default), Some(host)) = (default_port(scheme), self.host_str()) else {
            return Origin(None);
        };
        Origin(Some(
            match self.parts.port.filter(|port| *port != default) {
                Some(port) => format!("{scheme}://{host}:{port}"),
                None => format!("{scheme}://{host}"),
            },
        ))
    }

    /// Replaces the serialization with `text` (this URL with one part changed), parsed again.
    fn reparse(&mut self, text: &str) {
        // A change made of this URL's own parts always parses; were it not to, the URL is left
        // as it was rather than half-changed.
        if let Ok(url) = Self::parse(text) {
            *self = url;
        }
    }

    /// Replaces the path (`?` and `#` in it are percent-encoded, as `url::Url` does).
    pub fn set_path(&mut self, path: &str) {
        let mut text = String::with_capacity(self.serialization.len() + path.len() + 1);
        text.push_str(
            self.serialization
                .get(..self.parts.path_start)
                .unwrap_or(""),
        );
        if !path.starts_with('/') && self.parts.host.is_some() {
            text.push('/');
        }
        for c in path.chars() {
            match c {
                '?' => text.push_str("%3F"),
                '#' => text.push_str("%23"),
                c => text.push(c),
            }
        }
        text.push_str(self.serialization.get(self.path_end()..).unwrap_or(""));
        self.reparse(&text);
    }

    /// Replaces the query (`#` in it is percent-encoded), or removes it.
    pub fn set_query(&mut self, query: Option<&str>) {
        let end = self.path_end();
        let fragment = self
            .parts
            .fragment_start
            .and_then(|start| self.serialization.get(start..))
            .unwrap_or("");
        let mut text = String::with_capacity(self.serialization.len() + query.map_or(0, str::len));
        text.push_str(self.serialization.get(..end).unwrap_or(""));
        if let Some(query) = query {
            text.push('?');
            text.push_str(&query.replace('#', "%23"));
        }
        text.push_str(fragment);
        self.reparse(&text);
    }

    /// The path's segments, to change; an error for a URL whose path is not a list of segments
    /// (no host, no leading `/`).
    #[expect(
        clippy::result_unit_err,
        reason = "the signature of `url::Url::path_segments_mut`"
    )]
    pub fn path_segments_mut(&mut self) -> Result<PathSegmentsMut<'_>, ()> {
        if self.parts.host.is_none() || !self.path().starts_with('/') {
            return Err(());
        }
        let path = self.path().to_owned();
        Ok(PathSegmentsMut { url: self, path })
    }

    /// The query, to append `application/x-www-form-urlencoded` pairs to.
    pub fn query_pairs_mut(&mut self) -> QueryPairsMut<'_> {
        let query = self.query().unwrap_or("").to_owned();
        QueryPairsMut { url: self, query }
    }
}

/// Changes a URL's path segment by segment; the URL is updated when this is dropped.
#[derive(Debug)]
pub struct PathSegmentsMut<'a> {
    url: &'a mut Url,
    path: String,
}

impl PathSegmentsMut<'_> {
    /// Removes the last segment if it is empty (a trailing `/`).
    pub fn pop_if_empty(&mut self) -> &mut Self {
        if self.path.len() > 1 && self.path.ends_with('/') {
            self.path.pop();
        }
        self
    }

    /// Appends `segment`, percent-encoded (a `/` or `%` in it too); `.` and `..` are skipped.
    pub fn push(&mut self, segment: &str) -> &mut Self {
        // The URL parser drops tabs and newlines before it looks for dot segments.
        let stripped;
        let segment = if segment.contains(['\t', '\n', '\r']) {
            stripped = segment.replace(['\t', '\n', '\r'], "");
            stripped.as_str()
        } else {
            segment
        };
        if matches!(segment, "." | "..") {
            return self;
        }
        if self.path != "/" {
            self.path.push('/');
        }
        // The path-segment set of special URLs: the path set, `/`, `%` and `\`.
        for &byte in segment.as_bytes() {
            let keep = byte.is_ascii_graphic()
                && !matches!(
                    byte,
                    b'"' | b'#' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}' | b'/' | b'%' | b'\\'
                );
            if keep {
                self.path.push(char::from(byte));
            } else {
                crate::form::push_escaped(&mut self.path, byte);
            }
        }
        self
    }

    /// Appends each of `segments`, as [`push`](Self::push).
    pub fn extend<I>(&mut self, segments: I) -> &mut Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for segment in segments {
            self.push(segment.as_ref());
        }
        self
    }
}

impl Drop for PathSegmentsMut<'_> {
    fn drop(&mut self) {
        let path = std::mem::take(&mut self.path);
        self.url.set_path(&path);
    }
}

/// Appends pairs to a URL's query; the URL is updated when this is dropped.
#[derive(Debug)]
pub struct QueryPairsMut<'a> {
    url: &'a mut Url,
    query: String,
}

impl QueryPairsMut<'_> {
    /// Appends `name=value`, form-encoded.
    pub fn append_pair(&mut self, name: &str, value: &str) -> &mut Self {
        crate::form::append_pair(&mut self.query, name, value);
        self
    }

    /// Appends each pair, as [`append_pair`](Self::append_pair).
    pub fn extend_pairs<I, K, V>(&mut self, pairs: I) -> &mut Self
    where
        I: IntoIterator,
        I::Item: std::borrow::Borrow<(K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        for pair in pairs {
            let (name, value) = std::borrow::Borrow::borrow(&pair);
            self.append_pair(name.as_ref(), value.as_ref());
        }
        self
    }
}

impl Drop for QueryPairsMut<'_> {
    fn drop(&mut self) {
        let query = std::mem::take(&mut self.query);
        self.url.set_query(Some(&query));
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialization)
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Url").field(&self.serialization).finish()
    }
}

impl AsRef<str> for Url {
    fn as_ref(&self) -> &str {
        &self.serialization
    }
}

impl std::str::FromStr for Url {
    type Err = ParseError;

    fn from_str(input: &str) -> Result<Self, ParseError> {
        Self::parse(input)
    }
}

impl From<Url> for String {
    fn from(url: Url) -> Self {
        url.serialization
    }
}
