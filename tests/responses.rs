//! Unhappy responses beyond the fault matrix in `faults.rs`: repeated and bare rate limits, and
//! a server that is gone.

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
