//! What to do with an answer, and the loop that does it.
//!
//! [`decide`] is the whole policy, as a pure function of the answer (status, platform code,
//! `Retry-After`), what this call already tried, and what the client can do:
//!
//! | answer | not tried yet | already tried |
//! |---|---|---|
//! | 2xx | accept | accept |
//! | 401 `LOGIN_REQUIRED`, 403 `CONSENT_REQUIRED` | ask the auth handler (if any), send again if it completes; once per kind, so a sign-in then a consent both complete | give up with the challenge |
//! | other 401, with a token credential | drop the token, get a fresh one, send again | fail with the 401 |
//! | 429 with `Retry-After` within the client's bound (a zero bound never waits) | wait, send again | rate limited |
//! | anything else | fail with the platform's error | fail |
//!
//! A function declared `resend_after_auth(false)` is not sent again after a completed
//! challenge: the error carries the challenge, completed, and the app decides.
//!
//! Each kind of retry happens at most once per call, so the loop never loops forever: a call
//! sends at most five requests (the first, one after a refresh, one after a completed sign-in,
//! one after a completed consent, one after a wait).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::auth::{AuthHandler, AuthOutcome, ChallengeKind, Permissions};
use crate::challenge::Challenges;
use crate::credentials::{Attach, Attached, Identity};
use crate::error::{Error, Result};
use crate::flight::{Flight, Outcome};
use crate::platform::{self, BoxFuture};
use crate::transport::{Deadline, Request, Sent, Transport};
use crate::wire::{self, Reply};

/// What the call has already tried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tried {
    /// A rejected token was dropped and a fresh one obtained.
    pub(crate) refreshed: bool,
    /// The auth handler completed a sign-in (`LOGIN_REQUIRED`).
    pub(crate) signed_in: bool,
    /// The auth handler completed a consent (`CONSENT_REQUIRED`).
    pub(crate) consented: bool,
    /// The call waited for `Retry-After`.
    pub(crate) waited: bool,
}

impl Tried {
    /// Whether the handler already completed a challenge of `kind` in this call.
    pub(crate) fn completed(&self, kind: ChallengeKind) -> bool {
        match kind {
            ChallengeKind::Login => self.signed_in,
            ChallengeKind::Consent => self.consented,
        }
    }

    fn complete(&mut self, kind: ChallengeKind) {
        match kind {
            ChallengeKind::Login => self.signed_in = true,
            ChallengeKind::Consent => self.consented = true,
        }
    }
}

/// The answer, as far as the decision needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer<'a> {
    pub(crate) status: u16,
    pub(crate) code: Option<&'a str>,
    pub(crate) retry_after: Option<Duration>,
}

/// What the client can do about an answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Abilities {
    /// The client has an auth handler.
    pub(crate) handler: bool,
    /// The credential sent is a token the client can obtain again (app token, player token).
    pub(crate) renewable: bool,
    /// The longest `Retry-After` the client waits for.
    pub(crate) max_retry_after: Duration,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// A success: the answer is the call's.
    Accept,
    /// Drop the rejected token, get a fresh one, send again.
    Refresh,
    /// Ask the auth handler; send again if it completes.
    Ask(ChallengeKind),
    /// Give up with the challenge (no handler, or it already completed one).
    Challenge(ChallengeKind),
    /// Wait this long, then send again.
    Wait(Duration),
    /// Give up: rate limited.
    RateLimited,
    /// Give up with the platform's error.
    Fail,
}

/// The policy of the module's table.
pub(crate) fn decide(answer: Answer<'_>, tried: Tried, can: Abilities) -> Decision {
    if (200..300).contains(&answer.status) {
        return Decision::Accept;
    }
    let challenge = match (answer.status, answer.code) {
        (401, Some("LOGIN_REQUIRED")) => Some(ChallengeKind::Login),
        (403, Some("CONSENT_REQUIRED")) => Some(ChallengeKind::Consent),
        _ => None,
    };
    if let Some(kind) = challenge {
        return if can.handler && !tried.completed(kind) {
            Decision::Ask(kind)
        } else {
            Decision::Challenge(kind)
        };
    }
    match answer.status {
        401 if can.renewable && !tried.refreshed => Decision::Refresh,
        429 => match answer.retry_after {
            // A zero bound means: never wait, not even for `Retry-After: 0`.
            Some(wait)
                if !tried.waited
                    && !can.max_retry_after.is_zero()
                    && wait <= can.max_retry_after =>
            {
                Decision::Wait(wait)
            }
            _ => Decision::RateLimited,
        },
        _ => Decision::Fail,
    }
}

/// One logical exchange: the request, the credential it wants, and the permissions a login
/// or consent URL built for it asks for.
pub(crate) struct Exchange<'a> {
    pub(crate) request: Request<'a>,
    pub(crate) attach: Attach,
    pub(crate) permissions: Permissions,
    /// Whether to send again after the auth handler completes a challenge.
    pub(crate) resend_after_auth: bool,
    /// Whether the call may ask the auth handler ([`CallOptions::ask_auth_handler`]).
    ///
    /// [`CallOptions::ask_auth_handler`]: crate::CallOptions::ask_auth_handler
    pub(crate) ask_auth_handler: bool,
    /// When the whole call must be done by.
    pub(crate) deadline: Deadline,
    /// The app service called, for the challenges it meets (`None` for a function).
    pub(crate) service: Option<&'a str>,
    /// Whether a success comes back as a stream ([`Recovery::open`]); a request whose stream
    /// has started is never sent again.
    pub(crate) stream: bool,
}

/// A client's recovery: its auth handler, the gate that makes concurrent calls share one
/// interaction, how challenges are built, and the bound on `Retry-After`.
pub(crate) struct Recovery {
    handler: Option<Arc<dyn AuthHandler>>,
    gate: Flight<AuthOutcome>,
    challenges: Challenges,
    max_retry_after: Duration,
}

impl Recovery {
    pub(crate) fn new(
        handler: Option<Arc<dyn AuthHandler>>,
        challenges: Challenges,
        max_retry_after: Duration,
    ) -> Self {
        Self {
            handler,
            gate: Flight::new(),
            challenges,
            max_retry_after,
        }
    }

    pub(crate) fn has_handler(&self) -> bool {
        self.handler.is_some()
    }

    /// How challenges are built.
    pub(crate) fn challenges(&self) -> &Challenges {
        &self.challenges
    }

    /// Sends `exchange` and applies [`decide`] to each answer until it accepts or gives up.
    pub(crate) async fn execute(
        &self,
        transport: &Transport,
        identity: &Identity,
        exchange: &Exchange<'_>,
        span: &tracing::Span,
    ) -> Result<Reply> {
        match self.open(transport, identity, exchange, span).await? {
            Sent::Reply(reply) => Ok(reply),
            Sent::Stream(_) => Err(Error::InvalidRequest(
                "a stream came back where none was asked for".into(),
            )),
        }
    }

    /// As [`execute`](Self::execute), also for an exchange whose success is a stream:
    /// challenges and refreshes are recovered before the stream starts, never after.
    pub(crate) async fn open(
        &self,
        transport: &Transport,
        identity: &Identity,
        exchange: &Exchange<'_>,
        span: &tracing::Span,
    ) -> Result<Sent> {
        let mut tried = Tried::default();
        let mut attempt = 0_u32;
        let mut deadline = exchange.deadline;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            if deadline.remaining().is_none() {
                return Err(Error::Timeout(deadline.total()));
            }
            let credential = identity
                .attach(transport, exchange.attach, &deadline)
                .await?;
            let limit = deadline.limit(exchange.request.timeout);
            let reply = if exchange.stream {
                // Boxed: a stream's exchange is three times the size of a send's, and every
                // call's future would carry it.
                match Box::pin(transport.open(&exchange.request, credential.headers(), limit))
                    .await?
                {
                    Sent::Stream(body) => return Ok(Sent::Stream(body)),
                    Sent::Reply(reply) => reply,
                }
            } else {
                transport
                    .send(&exchange.request, credential.headers(), limit)
                    .await?
            };
            span.record("status", reply.status);
            let failure = (!reply.is_success()).then(|| wire::failure(&reply));
            let code = failure.as_ref().and_then(|failure| failure.code.as_deref());
            let answer = Answer {
                status: reply.status,
                code,
                retry_after: reply.retry_after,
            };
            let can = Abilities {
                handler: self.handler.is_some() && exchange.ask_auth_handler,
                renewable: matches!(
                    credential,
                    Attached::AppToken(..) | Attached::Player(..) | Attached::Service(..)
                ),
                max_retry_after: self.max_retry_after,
            };
            match decide(answer, tried, can) {
                Decision::Accept => return Ok(Sent::Reply(reply)),
                Decision::Refresh => {
                    // Not the code: a server may echo a token there.
                    tracing::debug!("credential rejected (401); refreshing once");
                    identity.invalidate(&credential);
                    tried.refreshed = true;
                }
                Decision::Wait(wait) if deadline.remaining().is_none_or(|left| left <= wait) => {
                    // The wait would outlast the call: give up now, not after it.
                    return Err(Error::RateLimited {
                        retry_after: reply.retry_after,
                    });
                }
                Decision::Wait(wait) => {
                    tracing::debug!(?wait, "rate limited; waiting once");
                    // Boxed, like every cold path here: the future of a call stays small.
                    Box::pin(platform::sleep(wait)).await;
                    tried.waited = true;
                }
                Decision::RateLimited => {
                    return Err(Error::RateLimited {
                        retry_after: reply.retry_after,
                    });
                }
                decision @ (Decision::Ask(kind) | Decision::Challenge(kind)) => {
                    let failure = failure.unwrap_or_default();
                    let given = match kind {
                        ChallengeKind::Login => failure.login_url.as_deref(),
                        ChallengeKind::Consent => failure.consent_url.as_deref(),
                    };
                    let mut challenge = self.challenges.make(kind, given, exchange.permissions);
                    challenge.service = exchange.service.map(Box::from);
                    challenge.outcome = tried.completed(kind).then_some(AuthOutcome::Completed);
                    if let (Decision::Ask(_), Some(handler)) = (decision, &self.handler) {
                        // The user's time with the handler does not count against the call.
                        let asked = web_time::Instant::now();
                        let outcome = Box::pin(self.resolve(handler, challenge.clone())).await;
                        deadline.extend(asked.elapsed());
                        tracing::debug!(?kind, ?outcome, "auth handler finished");
                        challenge.outcome = Some(outcome);
                        if outcome == AuthOutcome::Completed && exchange.resend_after_auth {
                            tried.complete(kind);
                            continue;
                        }
                    }
                    return Err(match kind {
                        ChallengeKind::Login => Error::LoginRequired(Box::new(challenge)),
                        ChallengeKind::Consent => Error::ConsentRequired(Box::new(challenge)),
                    });
                }
                Decision::Fail => {
                    return Err(wire::error_from(&reply, failure.unwrap_or_default()));
                }
            }
        }
    }

    /// Runs the auth handler once for all the calls that meet a challenge at the same time.
    async fn resolve(
        &self,
        handler: &Arc<dyn AuthHandler>,
        challenge: crate::auth::Challenge,
    ) -> AuthOutcome {
        let me = self.id();
        // A call from inside this client's handler: the gate is held by the interaction that
        // runs the handler, so asking again would wait for itself.
        if HANDLING.with(|handling| handling.borrow().contains(&me)) {
            return AuthOutcome::InHandler;
        }
        let seen = self.gate.generation();
        let (outcome, _) = self
            .gate
            .run(
                seen,
                |_, newer| newer,
                None,
                || async {
                    Outcome::Stored(Ok(InHandler {
                        recovery: me,
                        future: handler.authenticate(challenge),
                    }
                    .await))
                },
            )
            .await;
        outcome.unwrap_or(AuthOutcome::Cancelled)
    }

    /// Who this recovery is, for [`HANDLING`]: its address, stable while a client holds it.
    fn id(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }
}

thread_local! {
    /// The recoveries whose auth handlers are being polled on this thread, innermost last: a
    /// handler of one client may call another client, whose handler calls the first.
    static HANDLING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// The handler's future, marking [`HANDLING`] while it is polled (so that calls the handler
/// makes through the same client know), and restoring it after, even on a panic.
///
/// What the handler's future polls is the handler's: its calls, directly or through `join!`
/// and `select!`. A task it spawns is polled elsewhere, and its calls are like any other
/// (which is why [`CallOptions::ask_auth_handler`] exists).
///
/// [`CallOptions::ask_auth_handler`]: crate::CallOptions::ask_auth_handler
struct InHandler {
    recovery: usize,
    future: BoxFuture<'static, AuthOutcome>,
}

impl Future for InHandler {
    type Output = AuthOutcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<AuthOutcome> {
        struct Restore(usize);
        impl Drop for Restore {
            fn drop(&mut self) {
                HANDLING.with(|handling| handling.borrow_mut().truncate(self.0));
            }
        }
        let depth = HANDLING.with(|handling| {
            let mut handling = handling.borrow_mut();
            handling.push(self.recovery);
            handling.len() - 1
        });
        let _restore = Restore(depth);
        self.future.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests;
