//! `Client::install`: the process-wide ambient client (its own test binary: it is global).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{emulator, session_client};
use gipity_runtime::{Client, Error, Setting};
use serde_json::{Value, json};

#[tokio::test]
async fn installed_client_is_the_fallback_and_installs_once() {
    let emu = emulator().await;
    let client = session_client(&emu);
    client.clone().install().unwrap();
    let err = session_client(&emu).install().unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidConfig {
            setting: Setting::AmbientClient,
            ..
        }
    ));
    let v: Value = Client::current()
        .unwrap()
        .call("echo", &json!(7))
        .await
        .unwrap();
    assert_eq!(v, json!(7));
    assert_eq!(emu.executions(common::APP, "echo"), 1);
}
