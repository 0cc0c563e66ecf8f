//! The decision table, row by row, without HTTP.

use std::time::Duration;

use super::{Abilities, Answer, Decision, Tried, decide};
use crate::auth::ChallengeKind::{Consent, Login};

const NOTHING: Tried = Tried {
    refreshed: false,
    signed_in: false,
    consented: false,
    waited: false,
};
const ALL: Tried = Tried {
    refreshed: true,
    signed_in: true,
    consented: true,
    waited: true,
};
const TOKEN_AND_HANDLER: Abilities = Abilities {
    handler: true,
    renewable: true,
    max_retry_after: Duration::from_secs(10),
};
const KEY_NO_HANDLER: Abilities = Abilities {
    handler: false,
    renewable: false,
    max_retry_after: Duration::from_secs(10),
};

fn answer(status: u16, code: Option<&str>, retry_after: Option<u64>) -> Answer<'_> {
    Answer {
        status,
        code,
        retry_after: retry_after.map(Duration::from_secs),
    }
}

#[test]
fn the_table() {
    let secs = Duration::from_secs;
    #[rustfmt::skip]
    let rows: &[(Answer<'_>, Tried, Abilities, Decision)] = &[
        // Successes are accepted, whatever was tried.
        (answer(200, None, None), NOTHING, TOKEN_AND_HANDLER, Decision::Accept),
        (answer(204, None, None), ALL, KEY_NO_HANDLER, Decision::Accept),
        (answer(299, Some("LOGIN_REQUIRED"), None), NOTHING, TOKEN_AND_HANDLER, Decision::Accept),
        // Login and consent: the handler once, then the challenge.
        (answer(401, Some("LOGIN_REQUIRED"), None), NOTHING, TOKEN_AND_HANDLER, Decision::Ask(Login)),
        (answer(403, Some("CONSENT_REQUIRED"), None), NOTHING, TOKEN_AND_HANDLER, Decision::Ask(Consent)),
        (answer(401, Some("LOGIN_REQUIRED"), None), Tried { signed_in: true, ..NOTHING }, TOKEN_AND_HANDLER, Decision::Challenge(Login)),
        (answer(403, Some("CONSENT_REQUIRED"), None), Tried { consented: true, ..NOTHING }, TOKEN_AND_HANDLER, Decision::Challenge(Consent)),
        // One round per kind: a sign-in, then a consent, in one call.
        (answer(403, Some("CONSENT_REQUIRED"), None), Tried { signed_in: true, ..NOTHING }, TOKEN_AND_HANDLER, Decision::Ask(Consent)),
        (answer(401, Some("LOGIN_REQUIRED"), None), Tried { consented: true, ..NOTHING }, TOKEN_AND_HANDLER, Decision::Ask(Login)),
        (answer(401, Some("LOGIN_REQUIRED"), None), NOTHING, KEY_NO_HANDLER, Decision::Challenge(Login)),
        (answer(403, Some("CONSENT_REQUIRED"), None), NOTHING, KEY_NO_HANDLER, Decision::Challenge(Consent)),
        // A login challenge never turns into a token refresh, even when one is possible.
        (answer(401, Some("LOGIN_REQUIRED"), None), ALL, TOKEN_AND_HANDLER, Decision::Challenge(Login)),
        // The codes count only with their own status.
        (answer(403, Some("LOGIN_REQUIRED"), None), NOTHING, TOKEN_AND_HANDLER, Decision::Fail),
        (answer(401, Some("CONSENT_REQUIRED"), None), NOTHING, TOKEN_AND_HANDLER, Decision::Refresh),
        (answer(401, Some("login_required"), None), NOTHING, TOKEN_AND_HANDLER, Decision::Refresh),
        // Other 401s: refresh a token once.
        (answer(401, Some("TOKEN_EXPIRED"), None), NOTHING, TOKEN_AND_HANDLER, Decision::Refresh),
        (answer(401, None, None), NOTHING, TOKEN_AND_HANDLER, Decision::Refresh),
        (answer(401, Some("TOKEN_EXPIRED"), None), Tried { refreshed: true, ..NOTHING }, TOKEN_AND_HANDLER, Decision::Fail),
        (answer(401, Some("TOKEN_EXPIRED"), None), NOTHING, KEY_NO_HANDLER, Decision::Fail),
        // 429: wait once, within the bound.
        (answer(429, None, Some(1)), NOTHING, TOKEN_AND_HANDLER, Decision::Wait(secs(1))),
        (answer(429, None, Some(10)), NOTHING, KEY_NO_HANDLER, Decision::Wait(secs(10))),
        (answer(429, None, Some(11)), NOTHING, TOKEN_AND_HANDLER, Decision::RateLimited),
        (answer(429, None, None), NOTHING, TOKEN_AND_HANDLER, Decision::RateLimited),
        (answer(429, None, Some(1)), Tried { waited: true, ..NOTHING }, TOKEN_AND_HANDLER, Decision::RateLimited),
        // A zero bound never waits, not even for `Retry-After: 0`.
        (answer(429, None, Some(0)), NOTHING, Abilities { max_retry_after: Duration::ZERO, ..TOKEN_AND_HANDLER }, Decision::RateLimited),
        (answer(429, None, Some(0)), NOTHING, TOKEN_AND_HANDLER, Decision::Wait(Duration::ZERO)),
        (answer(429, None, Some(1)), NOTHING, Abilities { max_retry_after: Duration::ZERO, ..TOKEN_AND_HANDLER }, Decision::RateLimited),
        // Everything else fails with the platform's error.
        (answer(500, Some("FUNCTION_ERROR"), None), NOTHING, TOKEN_AND_HANDLER, Decision::Fail),
        (answer(403, Some("FORBIDDEN"), None), NOTHING, TOKEN_AND_HANDLER, Decision::Fail),
        (answer(404, None, None), NOTHING, TOKEN_AND_HANDLER, Decision::Fail),
        (answer(302, None, None), NOTHING, TOKEN_AND_HANDLER, Decision::Fail),
        (answer(503, None, Some(1)), NOTHING, TOKEN_AND_HANDLER, Decision::Fail),
    ];
    for (i, (answer, tried, can, expected)) in rows.iter().enumerate() {
        assert_eq!(
            decide(*answer, *tried, *can),
            *expected,
            "row {i}: {answer:?} after {tried:?} with {can:?}"
        );
    }
}

/// Every retry kind is taken at most once: applying the decisions to a server that always
/// answers the same way ends within five sends, for every answer.
#[test]
fn a_call_never_loops() {
    for status in [200, 401, 403, 429, 500] {
        for code in [
            None,
            Some("LOGIN_REQUIRED"),
            Some("CONSENT_REQUIRED"),
            Some("X"),
        ] {
            for can in [TOKEN_AND_HANDLER, KEY_NO_HANDLER] {
                let mut tried = Tried::default();
                let mut sends = 0;
                loop {
                    sends += 1;
                    assert!(sends <= 5, "{status} {code:?} loops");
                    match decide(answer(status, code, Some(1)), tried, can) {
                        Decision::Refresh => tried.refreshed = true,
                        Decision::Ask(kind) => tried.complete(kind),
                        Decision::Wait(_) => tried.waited = true,
                        _ => break,
                    }
                }
            }
        }
    }
}
