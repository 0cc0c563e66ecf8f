//! `Emulator::builder().manifest(..)` and `--manifest`: the auth levels and billing modes of
//! the app's `gipity.yaml` are what the emulator enforces.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Binary, assert_error, call, call_anonymously, client, send, token};
use gipity_emulator::{Auth, Billing, Emulator};
use serde_json::{Value, json};

const APP: &str = "p_manifest";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gipity.yaml")
}

async fn start() -> Emulator {
    let emulator = Emulator::builder()
        .manifest(fixture())
        .start()
        .await
        .unwrap();
    // Registered as public and as user: the manifest says otherwise.
    emulator
        .app(APP)
        .function("whoami", Auth::Public, |call| Ok(json!(call.user)))
        .function("open", Auth::User, |call| Ok(call.body))
        .function("undeclared", Auth::User, |call| Ok(call.body));
    emulator
}

#[tokio::test]
async fn functions_get_the_auth_levels_the_manifest_declares() {
    let emulator = start().await;
    // `whoami` is `auth: user` in the manifest: an anonymous call must sign in.
    let r = call_anonymously(&emulator, APP, "whoami", json!({})).await;
    assert_error(&r, 401, "LOGIN_REQUIRED");
    assert_eq!(emulator.executions(APP, "whoami"), 0);
    // A signed-in user gets through.
    let (_, creds) = common::signed_in(&emulator, APP, "Manifest User").await;
    let r = call(&emulator, APP, "whoami", json!({}), &creds).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["displayName"], "Manifest User");
    // Declared without `auth`: the platform's default, public.
    let r = call_anonymously(&emulator, APP, "open", json!({"a": 1})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"data": {"a": 1}}));
    // Not in the manifest: as registered.
    let r = call_anonymously(&emulator, APP, "undeclared", json!({})).await;
    assert_error(&r, 401, "LOGIN_REQUIRED");
}

#[tokio::test]
async fn services_are_billed_as_the_manifest_declares() {
    let emulator = start().await;
    let app_token = token(&emulator, APP).await;
    let post = |service: &str, body: Value| {
        client()
            .post(format!(
                "{}/api/{APP}/services/{service}",
                emulator.base_url()
            ))
            .header("X-App-Token", &app_token)
            .json(&body)
    };
    // `llm` is owner_pays: an anonymous caller with an app token is answered.
    let r = send(post("llm", json!({"prompt": "olleh"}))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["choices"][0]["message"]["content"], "hello");
    // `tts` is user_pays: the anonymous caller must sign in.
    let r = send(post("tts", json!({"text": "hi"}))).await;
    assert_error(&r, 401, "LOGIN_REQUIRED");
    // The app's own setting wins over the manifest.
    emulator.app(APP).set_billing("llm", Billing::UserPays);
    let r = send(post("llm", json!({"prompt": "olleh"}))).await;
    assert_error(&r, 401, "LOGIN_REQUIRED");
}

#[tokio::test]
async fn a_bad_manifest_stops_the_start_with_its_line_and_column() {
    let dir = std::env::temp_dir().join(format!("gipity-emulator-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("gipity.yaml");
    std::fs::write(
        &bad,
        "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: a\n          auth: admin\n",
    )
    .unwrap();
    let error = Emulator::builder()
        .manifest(&bad)
        .start()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidData);
    let message = error.to_string();
    assert!(
        message.contains("gipity.yaml:6:17: unknown `auth` value `admin`"),
        "{message}"
    );
    let error = Emulator::builder()
        .manifest(dir.join("missing.yaml"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(error.to_string().contains("missing.yaml"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_binary_reads_a_manifest() {
    let manifest = fixture();
    let mut binary = Binary::start(&["--port", "0", "--manifest", manifest.to_str().unwrap()]);
    let base = binary.base.clone();
    let _demo = binary.next_line();
    assert_eq!(
        binary.next_line(),
        format!("manifest: {}", manifest.display())
    );
    // The demo app's public `echo` is `auth: member` in the manifest.
    let r = send(
        client()
            .post(format!("{base}/api/p_demo/fn/echo"))
            .json(&json!({})),
    )
    .await;
    assert_error(&r, 401, "LOGIN_REQUIRED");
    let out = Command::new(Binary::PATH)
        .args(["--manifest", "/definitely/not/gipity.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`--manifest /definitely/not/gipity.yaml`: not a file")
    );
    let dir = std::env::temp_dir().join(format!("gipity-emulator-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("gipity.yaml");
    std::fs::write(&bad, "deploy:\n  phases: 3\n").unwrap();
    let out = Command::new(Binary::PATH)
        .args(["--port", "0", "--manifest", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: the manifest: ")
            && stderr.contains("gipity.yaml:2:11: `phases` must be a list, found a scalar"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
