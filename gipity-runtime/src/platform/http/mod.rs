//! The HTTP side of each platform: the client a builder makes, and one exchange with it (the
//! request out with the session's cookies, the cookies a response sets kept, the body read
//! within a limit). Apart from the rest of `platform`, so that what knows nothing of HTTP (and
//! of [`Error`]) can be used by every module.
//!
//! Natively that is reqwest over hyper. In the browser it is the page's own `fetch`, called
//! directly: with `redirect: "manual"` (a redirect is never followed, so credential headers
//! never reach another origin), an `AbortController` (a call that times out or is dropped
//! stops its request), and the body read from its stream chunk by chunk (a body over the limit
//! is cancelled at the limit, never buffered whole).
//!
//! [`Error`]: crate::Error

use std::time::Duration;

use crate::Url;
use bytes::Bytes;
use http::HeaderMap;

use crate::rate_limit::RateLimit;

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::*;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::*;

/// One request, as the platform sends it.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: &'a http::Method,
    pub(crate) url: &'a Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<&'a Bytes>,
    /// How long the whole exchange (the body included) may take; `None` when the HTTP client
    /// enforces that limit by itself.
    pub(crate) limit: Option<Duration>,
    /// The timeout [`Error::Timeout`](crate::Error::Timeout) reports when the limit is hit.
    pub(crate) timeout: Duration,
    /// The most body bytes read.
    pub(crate) max_body: u64,
    /// Whether the answer's rate limit (`RateLimit-*`) is read.
    pub(crate) metered: bool,
}

/// One response, read in full.
pub(crate) struct Incoming {
    pub(crate) status: u16,
    /// `Retry-After` in seconds, as sent.
    pub(crate) retry_after: Option<Duration>,
    /// The rate limit the answer reports, when it was asked for and sent.
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) body: Bytes,
}

/// What [`open`] gives: a success whose body is still to read, or any other answer read in
/// full.
pub(crate) enum Opened {
    /// A 2xx; its body is read chunk by chunk from the stream.
    Stream(BodyStream),
    /// Any other answer, read in full (within the body limit).
    Done(Incoming),
}

/// `Retry-After` as delay-seconds (the only form the platform sends).
fn retry_after(value: Option<&str>) -> Option<Duration> {
    value
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Whether `status` is a redirect (`301`, `302`, `303`, `307`, `308`: those with a `Location`
/// to follow; `300` and `304` are answers): never followed, its body never read.
pub(crate) fn is_redirect(status: u16) -> bool {
    matches!(status, 301..=303 | 307 | 308)
}

#[cfg(test)]
mod tests {
    #[test]
    fn redirects_are_the_statuses_with_a_location_to_follow() {
        let redirects: Vec<u16> = (100..600).filter(|s| super::is_redirect(*s)).collect();
        assert_eq!(redirects, [301, 302, 303, 307, 308]);
    }
}
