//! The demo app, static files, the binary and the server's lifetime.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{
    Binary, Creds, assert_error, call, call_anonymously, client, get, post_json, reply, send,
    session_from, token,
};
use gipity_emulator::{DEMO_APP, DEMO_USER, Emulator};
use serde_json::json;

#[tokio::test]
async fn demo_functions() {
    let emulator = Emulator::builder().demo(true).start().await.unwrap();
    let none = Creds::default();
    assert_eq!(DEMO_APP, "p_demo");
    let r = call(&emulator, DEMO_APP, "echo", json!({"x": [1, 2]}), &none).await;
    assert_eq!(r.body, json!({"data": {"x": [1, 2]}}));
    let r = call(&emulator, DEMO_APP, "add", json!({"a": 2, "b": 40}), &none).await;
    assert_eq!(r.body, json!({"data": 42}));
    let r = call(&emulator, DEMO_APP, "add", json!({"a": 2}), &none).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    let r = call(&emulator, DEMO_APP, "boom", json!({}), &none).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    let r = call(&emulator, DEMO_APP, "whoami", json!({}), &none).await;
    assert_error(&r, 401, "LOGIN_REQUIRED");
    let r = call(&emulator, DEMO_APP, "secret", json!({}), &none).await;
    assert_error(&r, 401, "LOGIN_REQUIRED");

    // Signing in as the demo user through the page makes a member.
    let login = format!(
        "{}/api/auth/login?app={DEMO_APP}&auto=approve&user={}",
        emulator.base_url(),
        DEMO_USER.replace(' ', "%20")
    );
    let page = client().get(login).send().await.unwrap();
    let creds = Creds::session(token(&emulator, DEMO_APP).await, session_from(&page));
    let r = call(&emulator, DEMO_APP, "whoami", json!({}), &creds).await;
    assert_eq!(r.body["data"]["displayName"], DEMO_USER);
    let r = call(&emulator, DEMO_APP, "secret", json!({}), &creds).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // Anyone else is not a member.
    let stranger = emulator.create_user("Stranger");
    emulator.grant_consent(&stranger, DEMO_APP, 1);
    let creds = creds.with_cookie(emulator.sign_in(&stranger));
    assert_error(
        &call(&emulator, DEMO_APP, "secret", json!({}), &creds).await,
        403,
        "FORBIDDEN",
    );
}

/// A fresh directory under the system temp dir.
fn temp_dir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "gipity-emulator-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn serves_static_files() {
    let root = temp_dir("static");
    let site = root.join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>hello</h1>").unwrap();
    std::fs::write(site.join("pkg/app.js"), "export {}").unwrap();
    std::fs::write(site.join("pkg/app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(site.join("style.css"), "body{}").unwrap();
    std::fs::write(root.join("secret.txt"), "outside").unwrap();

    let emulator = Emulator::builder()
        .serve_dir(&site)
        .demo(true)
        .start()
        .await
        .unwrap();
    let base = emulator.base_url();
    let get = |path: &str| client().get(format!("{base}{path}")).send();

    let r = get("/").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(r.text().await.unwrap(), "<h1>hello</h1>");
    for (path, content_type) in [
        ("/index.html", "text/html; charset=utf-8"),
        ("/pkg/app.js", "text/javascript; charset=utf-8"),
        ("/pkg/app_bg.wasm", "application/wasm"),
        ("/style.css", "text/css; charset=utf-8"),
    ] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], content_type, "{path}");
    }
    let wasm = get("/pkg/app_bg.wasm")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&wasm[..], b"\0asm\x01\0\0\0");

    assert_error(
        &reply(get("/missing.js").await.unwrap()).await,
        404,
        "NOT_FOUND",
    );
    // URL parsers resolve dot segments, so traversal attempts go out raw.
    for path in [
        "/pkg/%2e%2e/%2e%2e/secret.txt",
        "/../secret.txt",
        "/pkg/..%5c..%5csecret.txt",
    ] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let raw = common::raw(emulator.addr(), request.as_bytes()).await;
        assert!(raw.starts_with("HTTP/1.1 400"), "{path}: {raw}");
        assert!(!raw.contains("outside"), "{path}: {raw}");
    }
    assert_error(
        &reply(get("/..%2fsecret.txt").await.unwrap()).await,
        400,
        "BAD_REQUEST",
    );
    let r = send(client().post(format!("{base}/index.html"))).await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");

    // /api stays the API.
    let r = call_anonymously(&emulator, DEMO_APP, "echo", json!(1)).await;
    assert_eq!(r.body, json!({"data": 1}));
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn without_serve_dir_other_paths_are_not_found() {
    let emulator = Emulator::start().await.unwrap();
    let r = get(format!("{}/index.html", emulator.base_url())).await;
    assert_error(&r, 404, "NOT_FOUND");
}

/// Whether connections to `addr` are refused within half a second.
async fn stops_listening(addr: std::net::SocketAddr) -> bool {
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn server_stops_with_the_last_handle() {
    let emulator = Emulator::start().await.unwrap();
    let addr = emulator.addr();
    assert_eq!(emulator.base_url(), format!("http://{addr}"));
    let clone = emulator.clone();
    drop(emulator);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_ok(),
        "a clone keeps it running"
    );
    drop(clone);
    assert!(stops_listening(addr).await, "the server is still listening");
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let emulator = Emulator::builder().port(0).start().await.unwrap();
    let addr = emulator.addr();
    emulator.shutdown();
    assert!(stops_listening(addr).await);
    // Controls still work on the stored state.
    assert_eq!(emulator.counters().token_mints, 0);
}

#[test]
fn binary_help_and_bad_arguments() {
    let out = Command::new(Binary::PATH).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--port PORT"));

    for args in [
        &["--port", "nope"][..],
        &["--bogus"],
        &["--token-ttl"],
        &["--host", "example.com"],
    ] {
        let out = Command::new(Binary::PATH).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains("Usage:"), "{err}");
    }
}

#[tokio::test]
async fn binary_serves_the_demo_app() {
    let mut binary = Binary::start(&["--port", "0", "--token-ttl", "120"]);
    let base = binary.base.clone();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let second = binary.next_line();
    assert!(second.contains("p_demo"), "{second}");

    let result = async {
        let r = post_json(format!("{base}/api/token"), &json!({"app": "p_demo"})).await;
        assert_eq!(r.body["data"]["expiresIn"], 120);
        let r = post_json(
            format!("{base}/api/p_demo/fn/add"),
            &json!({"a": 1, "b": 2}),
        )
        .await;
        assert_eq!(r.body, json!({"data": 3}));
    };
    let outcome = tokio::time::timeout(Duration::from_secs(10), result).await;
    drop(binary);
    outcome.unwrap();
}
