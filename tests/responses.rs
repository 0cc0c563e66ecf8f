//! Unhappy responses beyond the fault matrix in `faults.rs`: repeated and bare rate limits, a
//! server that is gone, a redirect to another origin, and a body without end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{APP, call_err, emulator, session_client};
use gipity_emulator::{Fault, Target, Times};
use gipity_runtime::Error;

fn fault(emu: &gipity_emulator::Emulator, fault: Fault, times: Times) {
    emu.inject(Target::function(APP, "echo"), fault, times);
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
    let err = call_err(&session_client(&emu), "echo").await;
    assert!(matches!(err, Error::RateLimited { .. }));
    assert!(err.is_retryable());
    assert_eq!(emu.calls(APP, "echo"), 2);
}

#[tokio::test]
async fn rate_limit_without_retry_after_is_returned() {
    let emu = emulator().await;
    fault(&emu, Fault::RateLimited { retry_after: None }, Times::Once);
    let err = call_err(&session_client(&emu), "echo").await;
    assert!(
        matches!(
            err,
            Error::RateLimited {
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(emu.calls(APP, "echo"), 1);
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
    let err = call_err(&client, "echo").await;
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_zero_max_retry_after_never_waits() {
    let emu = emulator().await;
    let client = common::builder(&emu)
        .max_retry_after(Duration::ZERO)
        .build()
        .unwrap();
    fault(
        &emu,
        Fault::RateLimited {
            retry_after: Some(0),
        },
        Times::Once,
    );
    let err = call_err(&client, "echo").await;
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d.is_zero()),
        "{err:?}"
    );
    assert_eq!(emu.calls(APP, "echo"), 1, "not retried");
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_is_a_typed_error() {
    let emu = emulator().await;
    let elsewhere = emulator().await;
    fault(
        &emu,
        Fault::Redirect {
            status: 307,
            location: format!("{}/api/{APP}/fn/echo", elsewhere.base_url()),
        },
        Times::Always,
    );
    let client = common::builder(&emu)
        .credentials(gipity_runtime::Credentials::api_key(
            "gip_pk_redirected0123456789",
        ))
        .build()
        .unwrap();
    let err = call_err(&client, "echo").await;
    assert!(
        matches!(
            err,
            Error::Redirected {
                status: Some(307),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(307));
    assert!(!err.is_retryable());
    assert_eq!(emu.calls(APP, "echo"), 1, "sent once");
    assert_eq!(
        elsewhere.counters().http_requests,
        0,
        "the other origin got nothing"
    );
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_limit() {
    let emu = emulator().await;
    let client = common::builder(&emu)
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    fault(&emu, Fault::EndlessBody, Times::Once);
    let err = call_err(&client, "echo").await;
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                status: 200,
                limit: 65_536,
                ..
            }
        ),
        "{err:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = emu.counters().body_bytes_sent;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        emu.counters().body_bytes_sent,
        stopped,
        "the server stopped sending"
    );
    // What the server got to send before the client hung up: the limit plus what the
    // connection buffers, not an endless stream.
    eprintln!("endless body, 64 KiB limit: {stopped} bytes sent before the client hung up");
    assert!(stopped < 16 * 1024 * 1024, "{stopped} bytes sent");
}
