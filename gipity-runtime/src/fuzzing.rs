//! Entry points of the fuzz targets in `fuzz/` and of their corpus regression test (the unit
//! tests in `fuzzing/corpus.rs`). Built only under `cfg(fuzzing)` (which cargo-fuzz sets) and
//! for the crate's own tests, hidden from the docs, and not part of the API: no semver
//! guarantees, and no Cargo feature a downstream crate could switch on.
//!
//! Each entry point takes arbitrary bytes, runs them through the code a hostile server or a
//! careless caller can reach, and checks what must hold for every input. A broken rule panics
//! with a message naming it: that panic is what the fuzzer reports.

use std::sync::OnceLock;

use url::Url;

use crate::auth::ChallengeKind;
use crate::client::Client;
use crate::credentials::Token;
use crate::error::Error;
use crate::function::RemoteFunction;
use crate::secret::{self, Secret};
use crate::wire::{self as transport, Reply};
use crate::{Permissions, redact, validate};

/// The longest `Display` of an error made from a response, in characters (soft errors, whose
/// message is the function's own data, excepted): whatever the server sends, the error stays
/// short enough for one log line.
const MAX_ERROR_DISPLAY: usize = 512;
/// The same bound for `Debug`, which escapes what it shows.
const MAX_ERROR_DEBUG: usize = 4096;
/// The longest validation message, in characters.
const MAX_MESSAGE: usize = 1024;
/// The longest excerpt, in characters.
const MAX_EXCERPT: usize = 160;
/// A run of this many token characters in an excerpt would be an unredacted secret.
const SECRET_RUN: usize = 20;
/// Put around inputs given as secrets: a message that quotes the input shows it.
const CANARY: &str = "Zq7Xcanary";
/// The return URL every fuzzing client has.
const RETURN_URL: &str = "https://app.gipity.ai/fuzz/app/";

/// The API bases the checks run against: the platform, and an emulator-like loopback base
/// mounted under a prefix.
const BASES: [&str; 2] = ["https://a.gipity.ai", "http://127.0.0.1:8787/platform"];

/// One client per base in [`BASES`] (built once: the challenge rules are `Client` methods).
fn clients() -> &'static [Client] {
    static CLIENTS: OnceLock<Vec<Client>> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        BASES
            .iter()
            .map(|base| {
                Client::builder("p_fuzz")
                    .base_url(*base)
                    .return_url(RETURN_URL)
                    .build()
                    .unwrap_or_else(|error| panic!("no fuzzing client for {base}: {error}"))
            })
            .collect()
    })
}

/// A response body, with an optional first line holding the status (`"502\n<html>..."`);
/// without one the status is 200.
fn split_status(input: &[u8]) -> (u16, &[u8]) {
    if let [a, b, c, b'\n', rest @ ..] = input
        && [a, b, c].iter().all(|d| d.is_ascii_digit())
    {
        let status = [a, b, c]
            .iter()
            .fold(0_u16, |n, d| n * 10 + u16::from(**d - b'0'));
        if (100..=599).contains(&status) {
            return (status, rest);
        }
    }
    (200, input)
}

/// Feeds `input` (a body, optionally after a `"<status>\n"` line such as `"502\n"`; 200
/// without one) to every decoder a response body meets: a function's `{"data": ...}` (as JSON,
/// as `()`, as a typed value, with soft errors on and off), a token mint, `auth/status`,
/// `auth/me`, the error envelope with its login and consent URLs, the excerpt of an
/// unexpected body, and the `RateLimit-*` headers (the body's first five lines taken as their
/// values).
///
/// Checks: nothing panics; every error is bounded in `Display` and `Debug` and keeps the
/// response's status; every challenge URL stays on the API origin under `/api/auth/`; an
/// excerpt is at most 160 characters with no control character and no unredacted 20-character
/// token run.
pub fn decode_response(input: &[u8]) {
    let (status, body) = split_status(input);
    let reply = Reply {
        status,
        retry_after: None,
        rate_limit: rate_limit(body),
        body: bytes::Bytes::copy_from_slice(body),
    };

    let plain = RemoteFunction::new("fuzz");
    let soft = RemoteFunction::new("fuzz").soft_errors(true);
    check_result(
        &reply,
        transport::decode_data::<serde_json::Value>(
            &reply,
            plain.name(),
            plain.soft_errors_enabled(),
        ),
    );
    check_result(
        &reply,
        transport::decode_data::<Vec<(u64, String)>>(
            &reply,
            soft.name(),
            soft.soft_errors_enabled(),
        ),
    );
    check_result(
        &reply,
        transport::decode_data::<()>(&reply, soft.name(), soft.soft_errors_enabled()),
    );

    match Token::from_reply(&reply, "app token") {
        Ok(token) => {
            let _ = token.fresh();
        }
        Err(error) => check_error(&reply, &error),
    }

    match transport::decode::<transport::StatusBody>(&reply) {
        Ok(status) => {
            check_challenge(ChallengeKind::Login, status.login_url.as_deref());
            check_challenge(ChallengeKind::Consent, status.consent_url.as_deref());
        }
        Err(error) => check_error(&reply, &error),
    }
    check_result(&reply, transport::decode::<transport::MeBody>(&reply));

    let failure = transport::failure(&reply);
    check_challenge(ChallengeKind::Login, failure.login_url.as_deref());
    check_challenge(ChallengeKind::Consent, failure.consent_url.as_deref());
    let error = transport::error_from(&reply, failure);
    check_error(&reply, &error);

    check_excerpt(body);
}

fn check_result<T>(reply: &Reply, result: crate::Result<T>) {
    if let Err(error) = result {
        check_error(reply, &error);
    }
}

fn check_error(reply: &Reply, error: &Error) {
    let display = error.to_string();
    let debug = format!("{error:?}");
    if !matches!(error, Error::Function { .. }) {
        assert!(
            display.chars().count() <= MAX_ERROR_DISPLAY,
            "error Display longer than {MAX_ERROR_DISPLAY} characters: {} characters",
            display.chars().count()
        );
        assert!(
            debug.chars().count() <= MAX_ERROR_DEBUG,
            "error Debug longer than {MAX_ERROR_DEBUG} characters: {} characters",
            debug.chars().count()
        );
    }
    if matches!(
        error,
        Error::Http { .. } | Error::Decode { .. } | Error::BodyTooLarge { .. }
    ) {
        assert_eq!(
            error.status(),
            Some(reply.status),
            "the error lost the status"
        );
    }
    let _ = (error.is_retryable(), error.code(), error.challenge());
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let _ = cause.to_string();
        source = cause.source();
    }
}

/// What the client makes of a `loginUrl`/`consentUrl` it was given: always a URL on the API
/// origin under `<base path>/api/auth/`, whatever was given. (Without one, the URL is built
/// from the base alone: the same for every input, checked by the corpus tests.)
fn check_challenge(kind: ChallengeKind, given: Option<&str>) {
    if given.is_none() {
        return;
    }
    for client in clients() {
        let challenge = client.challenges().make(kind, given, Permissions::IDENTITY);
        let base = client.base_url();
        let url = challenge.url();
        assert_eq!(
            url.origin(),
            base.origin(),
            "challenge URL left the API origin"
        );
        let prefix = format!("{}/api/auth/", base.path().trim_end_matches('/'));
        assert!(
            url.path().starts_with(&prefix),
            "challenge URL outside {prefix}: {}",
            url.path()
        );
        assert!(url.username().is_empty() && url.password().is_none());
        let popup = challenge.popup_url();
        assert_eq!(popup.origin(), base.origin());
        let redirect = challenge.redirect_url();
        assert!(
            redirect.is_some_and(|redirect| redirect.origin() == base.origin()),
            "redirect URL missing or off the API origin"
        );
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '/' | '=' | '~')
}

fn check_excerpt(body: &[u8]) {
    let excerpt = redact::excerpt(body);
    assert!(
        excerpt.chars().count() <= MAX_EXCERPT,
        "excerpt longer than {MAX_EXCERPT} characters"
    );
    assert!(
        !excerpt.chars().any(char::is_control),
        "control character in an excerpt"
    );
    let mut run = 0_usize;
    for c in excerpt.chars() {
        run = if is_token_char(c) { run + 1 } else { 0 };
        assert!(run < SECRET_RUN, "unredacted token run in an excerpt");
    }
}

/// Feeds `input` (lossy UTF-8) to every URL, name, GUID and secret rule: the return URL (with
/// and without the loopback extra origin, and through [`Challenge::redirect_url_to`]), the API
/// base URL, login and consent URLs from the server, function names, app GUIDs, tokens and keys,
/// and device secrets.
///
/// Checks: nothing panics; an accepted return URL is `https` on `app.gipity.ai`,
/// `dev.gipity.ai` or `gipity.ai` without a port or user info (or exactly the extra origin); an
/// accepted base URL is `https` (or `http` on loopback or when insecure http is allowed) with
/// no user info, query or fragment, and normalizing it again changes nothing; an accepted login
/// URL is on the API origin under `/api/auth/`; an accepted function name or GUID stays exactly
/// one path segment; an accepted token or key is a valid HTTP header value, bare and as a
/// bearer; a message starts lowercase, has no trailing period, is at most 1024 characters, and
/// never quotes an input given as a secret.
///
/// [`Challenge::redirect_url_to`]: crate::Challenge::redirect_url_to
pub fn urls(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let text: &str = &text;
    check_return_url(text);
    check_base_url(text);
    check_challenge_url(text);
    check_segments(text);
    check_secrets(text);
}

fn check_message(message: &str) {
    assert!(
        message.starts_with(|c: char| c.is_lowercase()),
        "message does not start lowercase: {message:?}"
    );
    assert!(
        !message.ends_with('.'),
        "message ends with a period: {message:?}"
    );
    assert!(
        message.chars().count() <= MAX_MESSAGE,
        "message longer than {MAX_MESSAGE} characters"
    );
}

const RETURN_HOSTS: [&str; 3] = ["app.gipity.ai", "dev.gipity.ai", "gipity.ai"];

fn check_return_url(text: &str) {
    let Ok(loopback) = Url::parse("http://127.0.0.1:8787") else {
        return;
    };
    for extra in [None, Some(&loopback)] {
        match validate::return_url(text, extra) {
            Ok(url) => {
                let gipity = url.scheme() == "https"
                    && url
                        .host_str()
                        .is_some_and(|host| RETURN_HOSTS.contains(&host))
                    && url.port().is_none();
                let extra_origin = extra.is_some_and(|extra| url.origin() == extra.origin());
                assert!(gipity || extra_origin, "return URL accepted: {url}");
                assert!(url.username().is_empty() && url.password().is_none());
            }
            Err(error) => check_message(&error.0),
        }
    }
    for client in clients() {
        let challenge = client
            .challenges()
            .make(ChallengeKind::Login, None, Permissions::IDENTITY);
        let extra = validate::is_loopback(challenge.url()).then_some(challenge.url());
        match challenge.redirect_url_to(text) {
            Ok(redirect) => {
                assert_eq!(redirect.origin(), challenge.url().origin());
                let back = redirect
                    .query_pairs()
                    .filter(|(name, _)| name == "return")
                    .map(|(_, value)| value.into_owned())
                    .last();
                let expected = validate::return_url(text, extra).ok();
                assert_eq!(
                    back.as_deref(),
                    expected.as_ref().map(Url::as_str),
                    "the redirect returns somewhere else than the validated URL"
                );
            }
            Err(Error::InvalidConfig { message, .. }) => check_message(&message),
            Err(other) => panic!("redirect_url_to failed with {other:?}"),
        }
    }
}

fn check_base_url(text: &str) {
    for insecure in [false, true] {
        match validate::base_url(text, insecure) {
            Ok(url) => {
                let secure = url.scheme() == "https";
                let plain = url.scheme() == "http" && (insecure || validate::is_loopback(&url));
                assert!(secure || plain, "base URL accepted: {url}");
                assert!(url.username().is_empty() && url.password().is_none());
                assert!(url.query().is_none() && url.fragment().is_none());
                assert!(url.path() == "/" || !url.path().ends_with('/'));
                assert_eq!(
                    validate::base_url(url.as_str(), insecure).as_ref(),
                    Ok(&url),
                    "normalizing the base URL twice changed it"
                );
            }
            Err(error) => check_message(&error.0),
        }
    }
}

fn check_challenge_url(text: &str) {
    for client in clients() {
        let base = client.base_url();
        if let Some(url) = validate::challenge_url(text, base) {
            assert_eq!(url.origin(), base.origin(), "login URL off the API origin");
            let prefix = format!("{}/api/auth/", base.path().trim_end_matches('/'));
            assert!(
                url.path().starts_with(&prefix),
                "login URL outside {prefix}"
            );
            assert!(url.username().is_empty() && url.password().is_none());
        }
    }
}

/// An accepted function name or app GUID is one path segment, sent as written.
fn check_segments(text: &str) {
    let Ok(base) = Url::parse("https://a.gipity.ai/api") else {
        return;
    };
    let checks: [(&str, Result<(), validate::Invalid>); 2] = [
        ("function name", validate::function_name(text)),
        ("app GUID", validate::app_guid(text)),
    ];
    for (what, result) in checks {
        match result {
            Ok(()) => {
                let mut url = base.clone();
                if let Ok(mut segments) = url.path_segments_mut() {
                    segments.push(text);
                }
                assert_eq!(
                    url.path(),
                    format!("/api/{text}"),
                    "{what} changed as a path segment"
                );
                assert_eq!(url.origin(), base.origin());
            }
            Err(error) => check_message(&error.0),
        }
    }
}

fn check_secrets(text: &str) {
    for candidate in [
        text.to_owned(),
        format!("{CANARY}{text}"),
        format!("{text}{CANARY}"),
    ] {
        let results = [
            validate::credential("api key", &candidate),
            validate::device_secret(&candidate),
            validate::app_guid(&candidate),
        ];
        for result in &results {
            if let Err(error) = result {
                check_message(&error.0);
                assert!(!error.0.contains(CANARY), "a message quotes a secret");
            }
        }
        if validate::credential("api key", &candidate).is_ok() {
            let secret = Secret::new(candidate.as_str());
            assert!(
                secret::header_value(&secret).is_some(),
                "an accepted credential is not a header value"
            );
            assert!(
                secret::bearer_value(&secret).is_some(),
                "an accepted credential is not a bearer header value"
            );
        }
        if validate::device_secret(&candidate).is_ok() {
            assert!((32..=256).contains(&candidate.chars().count()));
        }
    }
}

#[cfg(test)]
#[path = "fuzzing/corpus.rs"]
mod corpus;

/// The rate limit of the `RateLimit-*` header values in the first five lines of `body`.
fn rate_limit(body: &[u8]) -> Option<crate::RateLimit> {
    let text = String::from_utf8_lossy(body);
    let mut lines = text.lines().map(Some).chain(std::iter::repeat(None));
    let values = std::array::from_fn(|_| lines.next().flatten());
    crate::RateLimit::from_headers(crate::rate_limit::Headers::from_values(values))
}
