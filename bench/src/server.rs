//! A minimal loopback stand-in for the Gipity API: fixed answers, atomic counters.
//!
//! It is deliberately much lighter than `gipity-emulator` (no routing table, no JSON parsing,
//! no per-request allocation beyond hyper's own), so that the client side dominates every
//! measurement. It runs on its own thread with its own single-threaded runtime.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, COOKIE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The project GUID the benchmark calls.
pub const APP: &str = "p_bench";

/// The app token every mint returns.
pub const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJhcHAiOiJwX2JlbmNoIn0.bench-signature";

/// The session cookie both clients carry (`name=value`).
pub const SESSION_COOKIE: &str = "gipity_session=bench-session-0123456789";

/// What every function call returns.
pub const FUNCTION_REPLY: &str = r#"{"data":[{"id":1,"name":"Dune","price":9.5,"tags":["sf","classic"]},{"id":2,"name":"Solaris","price":7.25,"tags":["sf"]},{"id":3,"name":"Ubik","price":6.0,"tags":[]}]}"#;

const REJECTED_REPLY: &str = r#"{"error":{"code":"INVALID_TOKEN","message":"bad credentials"}}"#;

/// What the server has seen.
#[derive(Debug, Default)]
pub struct Counters {
    /// Every HTTP request.
    pub requests: AtomicU64,
    /// `POST /api/token`.
    pub mints: AtomicU64,
    /// `POST /api/<app>/fn/<name>` with the right token and cookie.
    pub calls: AtomicU64,
    /// Anything else: a function call without the token or the cookie, or an unknown path.
    pub rejected: AtomicU64,
}

/// A point-in-time copy of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Every HTTP request.
    pub requests: u64,
    /// App-token mints.
    pub mints: u64,
    /// Accepted function calls.
    pub calls: u64,
    /// Rejected requests.
    pub rejected: u64,
}

impl Snapshot {
    /// What happened between `earlier` and `self`.
    #[must_use]
    pub fn since(self, earlier: Self) -> Self {
        Self {
            requests: self.requests - earlier.requests,
            mints: self.mints - earlier.mints,
            calls: self.calls - earlier.calls,
            rejected: self.rejected - earlier.rejected,
        }
    }
}

impl Counters {
    /// The current counts.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            requests: self.requests.load(Ordering::SeqCst),
            mints: self.mints.load(Ordering::SeqCst),
            calls: self.calls.load(Ordering::SeqCst),
            rejected: self.rejected.load(Ordering::SeqCst),
        }
    }
}

/// A running server. It stops with the process.
#[derive(Debug)]
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// What it has seen.
    pub counters: Arc<Counters>,
    /// The body of every streamed answer (`POST /api/<app>/services/llm`), and how many were
    /// served.
    stream: Arc<Stream>,
}

/// The streamed answer the server sends.
#[derive(Debug, Default)]
struct Stream {
    body: Mutex<Bytes>,
    served: AtomicU64,
}

impl Server {
    /// Sets the body of the streamed answers from now on.
    pub fn set_stream(&self, body: Bytes) {
        *self
            .stream
            .body
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = body;
    }

    /// How many streamed answers were served.
    pub fn streams_served(&self) -> u64 {
        self.stream.served.load(Ordering::SeqCst)
    }
}

impl Server {
    /// Starts the server on a random loopback port, on a thread of its own.
    ///
    /// # Errors
    /// If the port cannot be bound or the thread cannot start.
    pub fn start() -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let shared = Arc::clone(&counters);
        let stream = Arc::new(Stream::default());
        let streams = Arc::clone(&stream);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        thread::Builder::new()
            .name("bench-server".into())
            .spawn(move || runtime.block_on(serve(listener, shared, streams)))?;
        Ok(Self {
            base_url: format!("http://{address}"),
            counters,
            stream,
        })
    }
}

async fn serve(listener: std::net::TcpListener, counters: Arc<Counters>, stream: Arc<Stream>) {
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    let routes = Arc::new(Routes::new(stream));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let counters = Arc::clone(&counters);
        let routes = Arc::clone(&routes);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let response = routes.answer(&request, &counters);
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The fixed answers, and what a function call must carry.
struct Routes {
    stream: Arc<Stream>,
    stream_path: String,
    event_stream: HeaderValue,
    token_path: String,
    function_prefix: String,
    token_header: HeaderValue,
    json: HeaderValue,
    mint_reply: Bytes,
}

impl Routes {
    fn new(stream: Arc<Stream>) -> Self {
        Self {
            stream,
            stream_path: format!("/api/{APP}/services/llm"),
            event_stream: HeaderValue::from_static("text/event-stream"),
            token_path: "/api/token".to_owned(),
            function_prefix: format!("/api/{APP}/fn/"),
            token_header: HeaderValue::from_static(TOKEN),
            json: HeaderValue::from_static("application/json"),
            mint_reply: Bytes::from(format!(
                r#"{{"data":{{"token":"{TOKEN}","expiresIn":3600}}}}"#
            )),
        }
    }

    fn answer(&self, request: &Request<Incoming>, counters: &Counters) -> Response<Answer> {
        counters.requests.fetch_add(1, Ordering::Relaxed);
        let path = request.uri().path();
        if path == self.token_path {
            counters.mints.fetch_add(1, Ordering::Relaxed);
            return self.reply(StatusCode::OK, self.mint_reply.clone());
        }
        let headers = request.headers();
        if path == self.stream_path && headers.get("x-app-token") == Some(&self.token_header) {
            self.stream.served.fetch_add(1, Ordering::Relaxed);
            let body = self
                .stream
                .body
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            let mut response = Response::new(Either::Right(Frames { body }));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, self.event_stream.clone());
            return response;
        }
        let authorized = headers.get("x-app-token") == Some(&self.token_header)
            && headers
                .get(COOKIE)
                .and_then(|cookie| cookie.to_str().ok())
                .is_some_and(|cookie| cookie.contains(SESSION_COOKIE));
        if path.starts_with(&self.function_prefix) && authorized {
            counters.calls.fetch_add(1, Ordering::Relaxed);
            return self.reply(
                StatusCode::OK,
                Bytes::from_static(FUNCTION_REPLY.as_bytes()),
            );
        }
        counters.rejected.fetch_add(1, Ordering::Relaxed);
        self.reply(
            StatusCode::UNAUTHORIZED,
            Bytes::from_static(REJECTED_REPLY.as_bytes()),
        )
    }

    fn reply(&self, status: StatusCode, body: Bytes) -> Response<Answer> {
        let mut response = Response::new(Either::Left(Full::new(body)));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, self.json.clone());
        response
    }
}

/// A response body: whole, or a streamed answer in frames.
type Answer = Either<Full<Bytes>, Frames>;

/// The most bytes of one frame of a streamed answer: about thirty events, as a server that
/// writes events as they come sends them to a reader that keeps up.
const FRAME: usize = 4 * 1024;

/// A streamed answer, sent [`FRAME`] bytes at a time.
struct Frames {
    body: Bytes,
}

impl hyper::body::Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        if self.body.is_empty() {
            return std::task::Poll::Ready(None);
        }
        let size = self.body.len().min(FRAME);
        let frame = self.body.split_to(size);
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_empty()
    }
}
