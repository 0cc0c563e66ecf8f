//! The rate limit a service answer reports in its `RateLimit-*` headers.
//!
//! The platform's header names are not documented; it shares one per-IP window among all
//! services. The IETF draft has changed form over its versions, and servers send each of them,
//! so all are read:
//!
//! | form | headers |
//! |---|---|
//! | separate fields (draft 6 and before) | `RateLimit-Limit: 100`, `RateLimit-Remaining: 99`, `RateLimit-Reset: 60`, `RateLimit-Policy: 100;w=60` |
//! | one dictionary (draft 7) | `RateLimit: limit=100, remaining=99, reset=60`, `RateLimit-Policy: 100;w=60` |
//! | named items (draft 8 and after) | `RateLimit: "default";r=99;t=60`, `RateLimit-Policy: "default";q=100;w=60` |

use std::time::Duration;

/// How much of its rate limit the caller has left, as the answer's `RateLimit-*` headers say
/// (each field `None` when the server did not say it).
///
/// Read from a service's typed answers (for example
/// [`ChatCompletion::rate_limit`](crate::llm::ChatCompletion::rate_limit)). A call over the
/// limit is a 429, which the client waits out once when its `Retry-After` is short enough, and
/// otherwise fails with [`Error::RateLimited`](crate::Error::RateLimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimit {
    /// The requests the window allows.
    pub limit: Option<u64>,
    /// The requests left in the window.
    pub remaining: Option<u64>,
    /// Until the window resets.
    pub reset: Option<Duration>,
    /// The window's length.
    pub window: Option<Duration>,
}

/// The header values the rate limit is read from, by name; any may be missing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Headers<'a> {
    /// `RateLimit` (drafts 7 and later).
    pub(crate) combined: Option<&'a str>,
    /// `RateLimit-Policy`.
    pub(crate) policy: Option<&'a str>,
    /// `RateLimit-Limit`.
    pub(crate) limit: Option<&'a str>,
    /// `RateLimit-Remaining`.
    pub(crate) remaining: Option<&'a str>,
    /// `RateLimit-Reset`.
    pub(crate) reset: Option<&'a str>,
}

/// The header names, lowercase, in the order of [`Headers`]'s fields.
pub(crate) const NAMES: [&str; 5] = [
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
];

impl<'a> Headers<'a> {
    /// The values of the headers [`NAMES`] lists, in its order.
    pub(crate) fn from_values(values: [Option<&'a str>; 5]) -> Self {
        let [combined, policy, limit, remaining, reset] = values;
        Self {
            combined,
            policy,
            limit,
            remaining,
            reset,
        }
    }
}

impl RateLimit {
    /// The rate limit `headers` describe, or `None` when they describe nothing. Values that do
    /// not parse are ignored, never an error: the limit is advice, and the answer stands.
    ///
    /// Of several named items (drafts 8 and later), the one with the fewest requests left
    /// binds; its policy is the one of the same name (else the first).
    pub(crate) fn from_headers(headers: Headers<'_>) -> Option<Self> {
        let mut rate = Self {
            limit: headers.limit.and_then(leading_number),
            remaining: headers.remaining.and_then(leading_number),
            reset: headers
                .reset
                .and_then(leading_number)
                .map(Duration::from_secs),
            window: None,
        };
        let mut name = None;
        if let Some(combined) = headers.combined {
            let binding = if is_dictionary(combined) {
                // Draft 7: one dictionary, `limit=1, remaining=2, reset=3`.
                Some(Item::parse(combined, true))
            } else {
                items(combined).min_by_key(|item| item.number(&["r"]).unwrap_or(u64::MAX))
            };
            if let Some(item) = binding {
                rate.limit = rate.limit.or(item.number(&["limit"]));
                rate.remaining = rate.remaining.or(item.number(&["remaining", "r"]));
                rate.reset = rate
                    .reset
                    .or(item.number(&["reset", "t"]).map(Duration::from_secs));
                name = item.name;
            }
        }
        if let Some(policy) = headers.policy {
            let mut policies = items(policy);
            let first = items(policy).next();
            let item = match name {
                Some(name) => policies.find(|item| item.name == Some(name)).or(first),
                None => first,
            };
            if let Some(item) = item {
                // `100;w=60` (drafts 6 and 7) or `"name";q=100;w=60` (8 and later).
                let quota = item
                    .name
                    .is_none()
                    .then_some(item.head)
                    .and_then(leading_number);
                rate.limit = rate.limit.or(quota).or(item.number(&["q"]));
                rate.window = rate.window.or(item.number(&["w"]).map(Duration::from_secs));
            }
        }
        (rate != Self::default()).then_some(rate)
    }
}

/// Whether a `RateLimit` value is draft 7's dictionary rather than a list of items.
fn is_dictionary(value: &str) -> bool {
    ["limit=", "remaining=", "reset="]
        .iter()
        .any(|key| value.contains(key))
}

/// The comma-separated items of a header value.
fn items(value: &str) -> impl Iterator<Item = Item<'_>> {
    value
        .split(',')
        .map(|item| Item::parse(item, false))
        .filter(|item| !item.head.is_empty() || !item.parameters.is_empty())
}

/// One item: its head (a quoted name, or a bare value), and its `key=value` parameters.
struct Item<'a> {
    head: &'a str,
    /// The head without its quotes, when it is a quoted name.
    name: Option<&'a str>,
    parameters: Vec<(&'a str, &'a str)>,
}

impl<'a> Item<'a> {
    /// `text` split at `;` (and at `,` too for draft 7's `dictionary`); a first member without
    /// `=` is the head.
    fn parse(text: &'a str, dictionary: bool) -> Self {
        let mut head = "";
        let mut parameters = Vec::new();
        let separator = |c: char| c == ';' || (dictionary && c == ',');
        for (index, member) in text.split(separator).enumerate() {
            match member.split_once('=') {
                Some((key, value)) => parameters.push((key.trim(), value.trim())),
                None if index == 0 => head = member.trim(),
                None => {}
            }
        }
        let name = head
            .strip_prefix('"')
            .and_then(|head| head.strip_suffix('"'));
        Self {
            head,
            name,
            parameters,
        }
    }

    /// The number of the first of `keys` the item has.
    fn number(&self, keys: &[&str]) -> Option<u64> {
        keys.iter().find_map(|key| {
            self.parameters
                .iter()
                .find(|(name, _)| name == key)
                .and_then(|(_, value)| leading_number(value))
        })
    }
}

/// The whole number a value starts with (`100`, `100;w=60`, `60 `), if it does.
fn leading_number(value: &str) -> Option<u64> {
    let value = value.trim();
    let end = value
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(value.len());
    value.get(..end)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{Headers, RateLimit};
    use std::time::Duration;

    fn rate(headers: Headers<'_>) -> Option<RateLimit> {
        RateLimit::from_headers(headers)
    }

    fn full(limit: u64, remaining: u64, reset: u64, window: Option<u64>) -> Option<RateLimit> {
        Some(RateLimit {
            limit: Some(limit),
            remaining: Some(remaining),
            reset: Some(Duration::from_secs(reset)),
            window: window.map(Duration::from_secs),
        })
    }

    #[test]
    fn separate_fields() {
        let headers = Headers {
            limit: Some("100"),
            remaining: Some("99"),
            reset: Some("60"),
            policy: Some("100;w=60"),
            ..Headers::default()
        };
        assert_eq!(rate(headers), full(100, 99, 60, Some(60)));
    }

    #[test]
    fn one_dictionary() {
        let headers = Headers {
            combined: Some("limit=100, remaining=99, reset=60"),
            policy: Some("100;w=60"),
            ..Headers::default()
        };
        assert_eq!(rate(headers), full(100, 99, 60, Some(60)));
    }

    #[test]
    fn named_items() {
        let headers = Headers {
            combined: Some("\"default\";r=99;t=60, \"daily\";r=5000;t=3600"),
            policy: Some("\"default\";q=100;w=60, \"daily\";q=9000;w=86400"),
            ..Headers::default()
        };
        assert_eq!(rate(headers), full(100, 99, 60, Some(60)));
    }

    #[test]
    fn the_item_with_the_fewest_requests_left_binds_with_its_own_policy() {
        let headers = Headers {
            combined: Some("\"burst\";r=40;t=10, \"daily\";r=5;t=3600"),
            policy: Some("\"burst\";q=100;w=60, \"daily\";q=9000;w=86400"),
            ..Headers::default()
        };
        assert_eq!(rate(headers), full(9000, 5, 3600, Some(86_400)));
        // A policy of another name: the first one's.
        let headers = Headers {
            combined: Some("\"x\";r=1;t=2"),
            policy: Some("\"y\";q=3;w=4"),
            ..Headers::default()
        };
        assert_eq!(rate(headers), full(3, 1, 2, Some(4)));
    }

    #[test]
    fn nothing_or_nonsense_is_none_and_never_fails() {
        assert_eq!(rate(Headers::default()), None);
        let nonsense = Headers {
            combined: Some("r=;t=-1;=;;,,"),
            policy: Some("q=x;w=e9"),
            limit: Some("-5"),
            remaining: Some("lots"),
            reset: Some("99999999999999999999999"),
        };
        assert_eq!(rate(nonsense), None);
    }

    #[test]
    fn a_partial_answer_keeps_what_it_has() {
        let headers = Headers {
            remaining: Some(" 7 "),
            ..Headers::default()
        };
        assert_eq!(
            rate(headers),
            Some(RateLimit {
                remaining: Some(7),
                ..RateLimit::default()
            })
        );
    }
}
