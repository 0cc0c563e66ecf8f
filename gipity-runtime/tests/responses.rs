//! Responses that are not the happy path: rate limits, HTML pages, broken bodies, big bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{APP, builder, emulator, session_client};
use gipity_emulator::{Fault, Target, Times};
use gipity_runtime::Error;
use serde_json::{Value, json};

fn fault(emu: &gipity_emulator::Emulator, fault: Fault, times: Times) {
    emu.inject(Target::function(APP, "echo"), fault, times);
}

#[tokio::test]
async fn rate_limit_with_short_retry_after_is_retried_once() {
    let emu = emulator().await;
    fault(
        &emu,
        Fault::RateLimited {
            retry_after: Some(1),
        },
        Times::Once,
    );
    let started = Instant::now();
    let v: Value = session_client(&emu)
        .call("echo", &json!("later"))
        .await
        .unwrap();
    assert_eq!(v, json!("later"));
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited for Retry-After"
    );
    assert_eq!(emu.calls(APP, "echo"), 2);
    assert_eq!(emu.executions(APP, "echo"), 1);
}

#[tokio::test]
async fn rate_limit_beyond_the_bound_fails_at_once() {
    let emu = emulator().await;
    fault(
        &emu,
        Fault::RateLimited {
            retry_after: Some(120),
        },
        Times::Once,
    );
    let started = Instant::now();
    let err = session_client(&emu)
        .call::<Value, _>("echo", &json!({}))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match err {
        Error::RateLimited { retry_after } => {
            assert_eq!(retry_after, Some(Duration::from_secs(120)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.calls(APP, "echo"), 1);
}

#[tokio::test]
async fn rate_limit_twice_is_not_retried_twice() {
    let emu = emulator().await;
    fault(
        &emu,
        Fault::RateLimited {
            retry_after: Some(0),
        },
        Times::Always,
    );
    let err = session_client(&emu)
        .call::<Value, _>("echo", &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }));
    assert!(err.is_retryable());
    assert_eq!(emu.calls(APP, "echo"), 2);
}

#[tokio::test]
async fn rate_limit_without_retry_after_is_returned() {
    let emu = emulator().await;
    fault(&emu, Fault::RateLimited { retry_after: None }, Times::Once);
    let err = session_client(&emu)
        .call::<Value, _>("echo", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: None }),
        "{err:?}"
    );
    assert_eq!(emu.calls(APP, "echo"), 1);
}

#[tokio::test]
async fn html_bad_gateway_is_a_decode_error_with_status_and_excerpt() {
    let emu = emulator().await;
    fault(&emu, Fault::HtmlBadGateway, Times::Once);
    let err = session_client(&emu)
        .call::<Value, _>("echo", &json!({}))
        .await
        .unwrap_err();
    match &err {
        Error::Decode {
            status, excerpt, ..
        } => {
            assert_eq!(*status, 502);
            assert!(excerpt.to_lowercase().contains("bad gateway"), "{excerpt}");
            assert!(excerpt.chars().count() <= 161);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let emu = emulator().await;
    fault(&emu, Fault::MalformedJson, Times::Once);
    let err = session_client(&emu)
        .call::<Value, _>("echo", &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { status: 200, .. }), "{err:?}");
}

#[tokio::test]
async fn truncated_body_is_a_transport_error() {
    let emu = emulator().await;
    fault(&emu, Fault::Truncated, Times::Once);
    let err = session_client(&emu)
        .call::<Value, _>("echo", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport(_) | Error::Decode { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn body_over_the_limit_is_refused() {
    let emu = emulator().await;
    fault(&emu, Fault::LargeBody(256 * 1024), Times::Once);
    let client = builder(&emu).max_response_bytes(64 * 1024).build().unwrap();
    let err = client
        .call::<Value, _>("echo", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                status: 200,
                limit: 65536
            }
        ),
        "{err:?}"
    );
    // Under the limit the same body is fine.
    fault(&emu, Fault::LargeBody(32 * 1024), Times::Once);
    let v: String = client.call("echo", &json!({})).await.unwrap();
    assert!(v.len() >= 30 * 1024);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let emu = emulator().await;
    let base = emu.base_url();
    drop(emu);
    // Give the server a moment to close its listener.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let client = gipity_runtime::Client::builder(APP)
        .base_url(base)
        .credentials(gipity_runtime::Credentials::anonymous())
        .build()
        .unwrap();
    let err = client
        .call::<Value, _>("echo", &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
}
