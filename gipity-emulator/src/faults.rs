//! Fault injection: what can go wrong, where, how often, and the responses that show it.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::header::{CONTENT_LENGTH, LOCATION, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use http_body::Frame;
use tokio::time::Sleep;

use crate::http::{HTML, JSON, error, respond};

/// Where a fault applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// `POST /api/token`: the fault replaces the mint.
    Token,
    /// `POST /api/<guid>/auth/guest`: the fault replaces the sign-in.
    Guest,
    /// `/api/<app>/services/<name>` (`llm`, `tts`, `llm/models`, ...): the fault replaces
    /// the service's answer; the `Stream*` faults act inside a streamed LLM answer.
    Service {
        /// The app (project GUID).
        app: String,
        /// The service, with its list (`llm/models`) for the GET endpoints.
        name: String,
    },
    /// `POST /api/<app>/fn/<name>` (`name` decoded): the fault replaces the call.
    Function {
        /// The app (project GUID).
        app: String,
        /// The function's name, as registered (not percent-encoded).
        name: String,
    },
}

impl Target {
    /// [`Target::Service`] for service `name` of `app`.
    pub fn service(app: impl Into<String>, name: impl Into<String>) -> Self {
        Self::Service {
            app: app.into(),
            name: name.into(),
        }
    }

    /// [`Target::Function`] for function `name` of `app`.
    pub fn function(app: impl Into<String>, name: impl Into<String>) -> Self {
        Self::Function {
            app: app.into(),
            name: name.into(),
        }
    }
}

/// How many matching requests a fault applies to.
///
/// Several faults armed for one target apply in the order they were injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Times {
    /// The next matching request only.
    Once,
    /// The next `n` matching requests (`N(0)` arms nothing).
    N(u32),
    /// Every matching request until [`Emulator::clear_faults`](crate::Emulator::clear_faults).
    Always,
}

/// What goes wrong.
///
/// Every fault except [`Fault::Delay`] replaces the normal answer: a faulted
/// function call counts in [`Emulator::calls`](crate::Emulator::calls) but not in
/// [`Emulator::executions`](crate::Emulator::executions), and a faulted token
/// request is not a mint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The error envelope `{"error":{"code","message"}}` with this status.
    Status {
        /// The HTTP status (an invalid one becomes 500).
        status: u16,
        /// `error.code`.
        code: String,
        /// `error.message`.
        message: String,
    },
    /// Waits this long, then answers normally.
    Delay(Duration),
    /// Waits `delay`, then answers with the fault `then` (a slow failure: callers pile up
    /// behind it before it fails).
    Slow {
        /// How long to wait first.
        delay: Duration,
        /// The fault to answer with after the wait.
        then: Box<Fault>,
    },
    /// `502` with an HTML page, as a proxy in front of the platform would send.
    HtmlBadGateway,
    /// `200 application/json` with the invalid body `{"data": [1, 2`.
    MalformedJson,
    /// `200` whose `Content-Length` is larger than the bytes sent; then the
    /// connection closes.
    Truncated,
    /// Starts a `200` response, sends part of the body, then aborts the connection.
    ResetConnection,
    /// `429 RATE_LIMITED`, with a `Retry-After` header (seconds) when `Some`.
    RateLimited {
        /// The `Retry-After` value in seconds.
        retry_after: Option<u64>,
    },
    /// `401 TOKEN_EXPIRED`, as if the presented token had expired.
    ExpiredToken,
    /// `200 {"data":"xxxx..."}` of about this many bytes, streamed in chunks,
    /// with a `Content-Length` announcing the size.
    LargeBody(usize),
    /// As [`Fault::LargeBody`], without a `Content-Length` (a chunked body): the
    /// client learns the size only by reading it.
    /// [`Counters::body_bytes_sent`](crate::Counters::body_bytes_sent) shows how
    /// much of it the server got to send.
    StreamedBody(usize),
    /// This status with `body` sent verbatim as `application/json`: envelopes
    /// the other faults cannot make, such as a `LOGIN_REQUIRED` whose
    /// `loginUrl` points at another host.
    Json {
        /// The HTTP status (an invalid one becomes 500).
        status: u16,
        /// The body, sent as is.
        body: String,
    },
    /// `200 {"data":{"error": message}}`: the function "fails softly".
    SoftError(String),
    /// In a streamed LLM answer: the connection is reset after `after` text events.
    StreamReset {
        /// The text events sent first.
        after: usize,
    },
    /// In a streamed LLM answer: the body ends cleanly after `after` text events, before the
    /// final event and `data: [DONE]` (a server that gave up).
    StreamCut {
        /// The text events sent first.
        after: usize,
    },
    /// In a streamed LLM answer: nothing more after `after` text events, and no end.
    StreamStall {
        /// The text events sent first.
        after: usize,
    },
    /// In a streamed LLM answer: after `after` text events, one that is not JSON.
    StreamMalformed {
        /// The text events sent first.
        after: usize,
    },
    /// `200 {"data":"xxxx...` that never ends, streamed in chunks without a `Content-Length`,
    /// until the client goes away: a client must stop reading at its limit.
    /// [`Counters::body_bytes_sent`](crate::Counters::body_bytes_sent) shows when it did.
    EndlessBody,
    /// A redirect: this status (`301`, `302`, `303`, `307`, `308`) with this `Location`, as a
    /// misconfigured proxy or a hostile server in front of the platform would answer. A client
    /// must not follow it: the credentials of the request would go with it.
    Redirect {
        /// The HTTP status (a non-3xx one becomes 307).
        status: u16,
        /// The `Location` header, sent as is.
        location: String,
    },
    /// On a function: runs it (its side effects happen, it counts in
    /// [`Emulator::executions`](crate::Emulator::executions)), then answers with the inner
    /// fault instead of its result: a function that, say, wrote a record and then met
    /// `CONSENT_REQUIRED` calling the LLM service. Elsewhere, the inner fault alone.
    ///
    /// It waits for a call that is allowed to run: a call that authorization refuses does not
    /// use it up. Inside a [`Fault::Slow`], the function runs after the wait.
    AfterRun(Box<Fault>),
}

impl Fault {
    /// Whether the fault acts inside a streamed answer rather than replacing it.
    pub(crate) fn in_stream(&self) -> bool {
        matches!(
            self,
            Self::StreamCut { .. }
                | Self::StreamReset { .. }
                | Self::StreamStall { .. }
                | Self::StreamMalformed { .. }
        )
    }

    /// Whether the function runs before the fault answers: [`Fault::AfterRun`], also after
    /// the wait of a [`Fault::Slow`]. Such a fault applies to a call that is allowed to run,
    /// so it is not used up by a call that authorization refuses.
    pub(crate) fn runs_function(&self) -> bool {
        match self {
            Self::AfterRun(_) => true,
            Self::Slow { then, .. } => then.runs_function(),
            _ => false,
        }
    }

    /// The wait before the run and the answer after it, of a fault that
    /// [runs the function](Self::runs_function).
    pub(crate) fn split_run(self) -> (Duration, Self) {
        match self {
            Self::AfterRun(then) => (Duration::ZERO, *then),
            Self::Slow { delay, then } => {
                let (wait, then) = then.split_run();
                (delay.saturating_add(wait), then)
            }
            other => (Duration::ZERO, other),
        }
    }
}

/// Answers `fault`, or waits and returns `None` for a delay. Scripted bodies add the bytes
/// they hand to the connection to `sent`.
pub(crate) async fn apply(sent: &Arc<AtomicU64>, fault: Option<Fault>) -> Option<Response> {
    match fault? {
        Fault::Delay(duration) => {
            tokio::time::sleep(duration).await;
            None
        }
        Fault::Slow { delay, then } => {
            tokio::time::sleep(delay).await;
            Box::pin(apply(sent, Some(*then))).await
        }
        other => Some(respond_with(&other, sent)),
    }
}

/// How long a scripted body waits so the bytes before a failure reach the client.
const FLUSH_PAUSE: Duration = Duration::from_millis(25);
/// Chunk size of [`Fault::LargeBody`] and [`Fault::StreamedBody`].
const CHUNK: usize = 64 * 1024;

/// The response a fault gives (every kind but [`Fault::Delay`], which the
/// caller handles by waiting). Scripted bodies add the bytes they hand to the
/// connection to `sent`.
pub(crate) fn respond_with(fault: &Fault, sent: &Arc<AtomicU64>) -> Response {
    let scripted = |steps: Vec<Step>| ScriptedBody::new(steps, Arc::clone(sent));
    match fault {
        Fault::Status {
            status,
            code,
            message,
        } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error(status, code, message)
        }
        Fault::Slow { then, .. } | Fault::AfterRun(then) => respond_with(then, sent),
        Fault::Delay(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "a delay has no response of its own",
        ),
        Fault::StreamCut { .. }
        | Fault::StreamReset { .. }
        | Fault::StreamStall { .. }
        | Fault::StreamMalformed { .. } => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "a stream fault acts inside a streamed answer only",
        ),
        Fault::HtmlBadGateway => respond(
            StatusCode::BAD_GATEWAY,
            HTML,
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
             <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
             </body>\r\n</html>\r\n",
        ),
        Fault::MalformedJson => respond(StatusCode::OK, JSON, "{\"data\": [1, 2"),
        Fault::Truncated => {
            let full =
                br#"{"data":{"message":"this body was cut short","items":[1,2,3,4,5,6,7,8]}}"#;
            let (head, _) = full.split_at(full.len() / 2);
            let body = scripted(vec![
                Step::Data(Bytes::from_static(head)),
                Step::Pause(FLUSH_PAUSE),
            ]);
            let mut response = respond(StatusCode::OK, JSON, Body::new(body));
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(full.len()));
            response
        }
        Fault::ResetConnection => {
            let body = scripted(vec![
                Step::Data(Bytes::from_static(b"{\"data\":{\"items\":[1,2,3")),
                Step::Pause(FLUSH_PAUSE),
                Step::Abort,
            ]);
            respond(StatusCode::OK, JSON, Body::new(body))
        }
        Fault::RateLimited { retry_after } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "too many requests; slow down",
            );
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(*secs));
            }
            response
        }
        Fault::ExpiredToken => error(
            StatusCode::UNAUTHORIZED,
            "TOKEN_EXPIRED",
            "the token has expired",
        ),
        Fault::LargeBody(size) => {
            let (steps, total) = large_body(*size);
            let mut response = respond(StatusCode::OK, JSON, Body::new(scripted(steps)));
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(total));
            response
        }
        Fault::StreamedBody(size) => {
            let (steps, _) = large_body(*size);
            respond(StatusCode::OK, JSON, Body::new(scripted(steps)))
        }
        Fault::Json { status, body } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            respond(status, JSON, body.clone())
        }
        Fault::SoftError(message) => crate::http::data(serde_json::json!({ "error": message })),
        Fault::EndlessBody => {
            let steps = vec![
                Step::Data(Bytes::from_static(b"{\"data\":\"")),
                Step::Fill {
                    byte: b'x',
                    remaining: usize::MAX,
                },
            ];
            respond(StatusCode::OK, JSON, Body::new(scripted(steps)))
        }
        Fault::Redirect { status, location } => {
            let status = StatusCode::from_u16(*status)
                .ok()
                .filter(StatusCode::is_redirection)
                .unwrap_or(StatusCode::TEMPORARY_REDIRECT);
            let mut response = respond(status, JSON, "");
            if let Ok(location) = HeaderValue::from_str(location) {
                response.headers_mut().insert(LOCATION, location);
            }
            response
        }
    }
}

/// The steps of `{"data":"xxxx..."}` of about `size` bytes, and its exact size.
fn large_body(size: usize) -> (Vec<Step>, usize) {
    const HEAD: &[u8] = b"{\"data\":\"";
    const TAIL: &[u8] = b"\"}";
    let fill = size.saturating_sub(HEAD.len() + TAIL.len());
    let steps = vec![
        Step::Data(Bytes::from_static(HEAD)),
        Step::Fill {
            byte: b'x',
            remaining: fill,
        },
        Step::Data(Bytes::from_static(TAIL)),
    ];
    (steps, fill.saturating_add(HEAD.len() + TAIL.len()))
}

/// One step of a [`ScriptedBody`].
pub(crate) enum Step {
    /// Send these bytes.
    Data(Bytes),
    /// Send `remaining` copies of `byte`, a chunk at a time.
    Fill { byte: u8, remaining: usize },
    /// Wait (the server flushes what it has meanwhile).
    Pause(Duration),
    /// Fail the body: the server aborts the connection.
    Abort,
    /// Send nothing more and never end (a stalled stream).
    Stall,
}

/// A response body that follows a script. Its size is unknown to the server,
/// so a `Content-Length` header set on the response is what the client sees.
pub(crate) struct ScriptedBody {
    steps: VecDeque<Step>,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Bytes handed to the connection, shared with the emulator's counters.
    sent: Option<Arc<AtomicU64>>,
    /// Counts a body dropped before its end (the client went away), when set.
    dropped_early: Option<Arc<AtomicU64>>,
}

impl ScriptedBody {
    fn new(steps: Vec<Step>, sent: Arc<AtomicU64>) -> Self {
        Self {
            steps: steps.into(),
            sleep: None,
            sent: Some(sent),
            dropped_early: None,
        }
    }

    /// A body of `steps` that counts in `dropped_early` when it is dropped before its end.
    pub(crate) fn watched(steps: Vec<Step>, dropped_early: Arc<AtomicU64>) -> Self {
        Self {
            steps: steps.into(),
            sleep: None,
            sent: None,
            dropped_early: Some(dropped_early),
        }
    }

    fn data(&self, bytes: Bytes) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(sent) = &self.sent {
            sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        Poll::Ready(Some(Ok(Frame::data(bytes))))
    }
}

impl Drop for ScriptedBody {
    fn drop(&mut self) {
        if let Some(dropped_early) = &self.dropped_early
            && !self.steps.is_empty()
        {
            dropped_early.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl HttpBody for ScriptedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        loop {
            if let Some(sleep) = this.sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.sleep = None;
            }
            if matches!(this.steps.front(), Some(Step::Stall)) {
                return Poll::Pending;
            }
            match this.steps.pop_front() {
                None | Some(Step::Stall) => return Poll::Ready(None),
                Some(Step::Data(bytes)) => return this.data(bytes),
                Some(Step::Fill { byte, remaining }) => {
                    if remaining == 0 {
                        continue;
                    }
                    let n = remaining.min(CHUNK);
                    if remaining > n {
                        this.steps.push_front(Step::Fill {
                            byte,
                            remaining: remaining - n,
                        });
                    }
                    return this.data(Bytes::from(vec![byte; n]));
                }
                Some(Step::Pause(duration)) => {
                    this.sleep = Some(Box::pin(tokio::time::sleep(duration)));
                }
                Some(Step::Abort) => {
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "connection reset by fault injection",
                    ))));
                }
            }
        }
    }
}
