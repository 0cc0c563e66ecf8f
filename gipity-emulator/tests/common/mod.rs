//! Helpers shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use gipity_emulator::Emulator;
use reqwest::header::HeaderMap;
use reqwest::{Client, StatusCode};
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
    reply(
        client()
            .post(url)
            .json(&serde_json::json!({ "app": app }))
            .send()
            .await
            .expect("send"),
    )
    .await
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
    reply(request.send().await.expect("send")).await
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
