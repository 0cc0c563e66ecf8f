//! Helpers shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod controls;

use gipity_emulator::Emulator;
use reqwest::header::HeaderMap;
use reqwest::{Client, IntoUrl, Method, RequestBuilder, StatusCode};
use serde_json::Value;

/// A client that never follows redirects and has no proxy.
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client")
}

/// A status, the headers and the parsed JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `error.code` of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
    }
}

/// Reads a response whose body must be JSON.
pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    Reply {
        status,
        headers,
        body,
    }
}

/// Sends `request`; the answer must be JSON.
pub async fn send(request: RequestBuilder) -> Reply {
    reply(request.send().await.expect("send")).await
}

/// `GET url`; the answer must be JSON.
pub async fn get(url: impl IntoUrl) -> Reply {
    send(client().get(url)).await
}

/// `GET url` with these headers; the answer must be JSON.
pub async fn get_with(url: impl IntoUrl, headers: &[(&str, &str)]) -> Reply {
    let mut request = client().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

/// `GET url` with an `X-App-Token`.
pub async fn get_with_token(url: impl IntoUrl, token: &str) -> Reply {
    get_with(url, &[("X-App-Token", token)]).await
}

/// `GET url` with a `Cookie` header.
pub async fn get_with_cookie(url: impl IntoUrl, cookie: &str) -> Reply {
    get_with(url, &[("Cookie", cookie)]).await
}

/// `POST url` with a JSON body.
pub async fn post_json(url: impl IntoUrl, body: &Value) -> Reply {
    send(client().post(url).json(body)).await
}

/// An `OPTIONS` preflight from `origin` for a `POST`; add request headers before sending.
pub fn preflight(url: impl IntoUrl, origin: &str) -> RequestBuilder {
    client()
        .request(Method::OPTIONS, url)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
}

/// `GET /api/auth/me` with `cookie`.
pub async fn me(emulator: &Emulator, cookie: &str) -> Reply {
    get_with_cookie(format!("{}/api/auth/me", emulator.base_url()), cookie).await
}

/// `POST /api/<app>/auth/guest` with `body`.
pub async fn guest(emulator: &Emulator, app: &str, body: Value) -> Reply {
    post_json(
        format!("{}/api/{app}/auth/guest", emulator.base_url()),
        &body,
    )
    .await
}

/// `gipity_session=<value>` from a `Set-Cookie` header, if the response sets one.
pub fn session_of(response: &reqwest::Response) -> Option<String> {
    let set_cookie = response.headers().get("set-cookie")?.to_str().ok()?;
    let pair = set_cookie.split(';').next()?.trim().to_owned();
    assert!(pair.starts_with("gipity_session="), "{set_cookie}");
    Some(pair)
}

/// `gipity_session=<value>` from a `Set-Cookie` header that must be there, after checking
/// its attributes.
pub fn session_from(response: &reqwest::Response) -> String {
    let pair = session_of(response).expect("a Set-Cookie header");
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    let attributes: Vec<&str> = set_cookie.split(';').skip(1).map(str::trim).collect();
    assert_eq!(
        attributes,
        ["Path=/", "HttpOnly", "SameSite=Lax"],
        "{set_cookie}"
    );
    pair
}

/// Asserts the platform error envelope with this status and code.
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{:?}", reply.body);
    assert_eq!(reply.code(), code, "{:?}", reply.body);
    assert!(
        reply.body["error"]["message"].is_string(),
        "{:?}",
        reply.body
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

/// `POST /api/token` for `app`.
pub async fn mint(emulator: &Emulator, app: &str) -> Reply {
    let url = format!("{}/api/token", emulator.base_url());
    post_json(url, &serde_json::json!({ "app": app })).await
}

/// A fresh app token for `app`.
pub async fn token(emulator: &Emulator, app: &str) -> String {
    let reply = mint(emulator, app).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// Headers for a call.
#[derive(Default, Clone)]
pub struct Creds {
    pub app_token: Option<String>,
    pub cookie: Option<String>,
    pub bearer: Option<String>,
    pub api_key: Option<String>,
}

impl Creds {
    pub fn with_app_token(self, token: impl Into<String>) -> Self {
        Self {
            app_token: Some(token.into()),
            ..self
        }
    }

    pub fn with_cookie(self, cookie: impl Into<String>) -> Self {
        Self {
            cookie: Some(cookie.into()),
            ..self
        }
    }

    pub fn with_bearer(self, bearer: impl Into<String>) -> Self {
        Self {
            bearer: Some(bearer.into()),
            ..self
        }
    }

    pub fn with_api_key(self, key: impl Into<String>) -> Self {
        Self {
            api_key: Some(key.into()),
            ..self
        }
    }

    /// A browser session: the app token and the session cookie.
    pub fn session(app_token: impl Into<String>, cookie: impl Into<String>) -> Self {
        Self::default()
            .with_app_token(app_token)
            .with_cookie(cookie)
    }
}

/// `POST /api/<app>/fn/<name>` (name used as given: encode it yourself).
pub async fn call(emulator: &Emulator, app: &str, name: &str, body: Value, creds: &Creds) -> Reply {
    let url = format!("{}/api/{app}/fn/{name}", emulator.base_url());
    let mut request = client().post(url).json(&body);
    if let Some(token) = &creds.app_token {
        request = request.header("X-App-Token", token);
    }
    if let Some(cookie) = &creds.cookie {
        request = request.header("Cookie", cookie);
    }
    if let Some(bearer) = &creds.bearer {
        request = request.header("Authorization", format!("Bearer {bearer}"));
    }
    if let Some(key) = &creds.api_key {
        request = request.header("X-Api-Key", key);
    }
    send(request).await
}

/// A new user `name` who consented to IDENTITY for `app`, signed in: the user and the
/// browser session's credentials.
pub async fn signed_in(
    emulator: &Emulator,
    app: &str,
    name: &str,
) -> (gipity_emulator::User, Creds) {
    let user = emulator.create_user(name);
    emulator.grant_consent(&user, app, 1);
    let cookie = emulator.sign_in(&user);
    let app_token = token(emulator, app).await;
    (user, Creds::session(app_token, cookie))
}

/// [`call`] with no credentials at all.
pub async fn call_anonymously(emulator: &Emulator, app: &str, name: &str, body: Value) -> Reply {
    call(emulator, app, name, body, &Creds::default()).await
}

/// The 64-character device secret used by player tests.
pub fn secret(tag: char) -> String {
    std::iter::repeat_n(tag, 64).collect()
}

/// Sends raw bytes and reads until the server closes (or 5 s pass); returns
/// what arrived as text.
pub async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // The server may answer (and close) before the whole request is written.
    let _ = stream.write_all(request).await;
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// The `gipity-emulator` binary, killed when dropped.
pub struct Binary {
    child: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    /// The base URL from the `listening on` line.
    pub base: String,
}

impl Binary {
    pub const PATH: &str = env!("CARGO_BIN_EXE_gipity-emulator");

    /// Starts the binary with `args` and reads its first line.
    pub fn start(args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(Self::PATH)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let first = lines.next().unwrap().unwrap();
        let base = first
            .strip_prefix("gipity-emulator listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_owned();
        Self { child, lines, base }
    }

    /// The next line the binary printed.
    pub fn next_line(&mut self) -> String {
        self.lines.next().unwrap().unwrap()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        // A test that fails half-way must not leave the server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
