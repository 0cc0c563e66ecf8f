//! The `gipity-emulator` binary: its flags, and the test controls it serves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Binary, client, post_json, session_of};
use serde_json::json;

#[test]
fn binary_documents_the_flags() {
    let out = Command::new(Binary::PATH).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for text in [
        "--test-controls",
        "--serve DIR",
        "consented-ai",
        "slow",
        "/__emulator/",
    ] {
        assert!(help.contains(text), "{text}: {help}");
    }
    let out = Command::new(Binary::PATH)
        .arg("--test-controls=1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn binary_with_test_controls() {
    let mut binary = Binary::start(&["--port", "0", "--test-controls"]);
    let base = binary.base.clone();
    let _demo = binary.next_line();
    let third = binary.next_line();
    assert_eq!(third, format!("test controls: {base}/__emulator/"));

    let result = async {
        let r = post_json(
            format!("{base}/__emulator/auto"),
            &json!({"decision": "approve", "user": "Bin User"}),
        )
        .await;
        assert_eq!(r.body, json!({"data": {}}));
        let r = client()
            .get(format!(
                "{base}/api/auth/login?app=p_demo&permissions=5&mode=popup"
            ))
            .send()
            .await
            .unwrap();
        assert!(session_of(&r).is_some());
        let r = post_json(format!("{base}/api/p_demo/fn/slow"), &json!({"ms": 10})).await;
        assert_eq!(r.body, json!({"data": {"ms": 10}}));
        let r = common::get(format!("{base}/__emulator/counters")).await;
        assert_eq!(r.body["data"]["httpRequests"], 2);
    };
    let outcome = tokio::time::timeout(Duration::from_secs(10), result).await;
    drop(binary);
    outcome.unwrap();
}
