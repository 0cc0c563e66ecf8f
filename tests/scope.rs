//! The ambient client of free stubs: scoped (task-local style) and installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{emulator, session_client};
use gipity_runtime::{Client, Error};
use serde_json::{Value, json};

async fn ambient_echo(v: i32) -> gipity_runtime::Result<Value> {
    Client::current()?.call("echo", &json!(v)).await
}

#[tokio::test]
async fn scope_provides_the_client_and_nests() {
    let a = emulator().await;
    let b = emulator().await;
    let client_a = session_client(&a);
    let client_b = session_client(&b);
    assert!(matches!(ambient_echo(0).await, Err(Error::NoClient)));
    client_a
        .scope(async {
            ambient_echo(1).await.unwrap();
            client_b
                .scope(async { ambient_echo(2).await.unwrap() })
                .await;
            ambient_echo(3).await.unwrap();
        })
        .await;
    assert_eq!(a.executions(common::APP, "echo"), 2);
    assert_eq!(b.executions(common::APP, "echo"), 1);
    assert!(
        matches!(ambient_echo(4).await, Err(Error::NoClient)),
        "the scope ended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_scopes_do_not_mix() {
    let a = emulator().await;
    let b = emulator().await;
    let ca = session_client(&a);
    let cb = session_client(&b);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (client, n) = if i % 2 == 0 {
            (ca.clone(), i)
        } else {
            (cb.clone(), i)
        };
        tasks.push(tokio::spawn(async move {
            client
                .scope(async move {
                    tokio::task::yield_now().await;
                    ambient_echo(n).await
                })
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(a.executions(common::APP, "echo"), 10);
    assert_eq!(b.executions(common::APP, "echo"), 10);
}
