//! Load with token churn: 100 concurrent callers against the emulator with 1-second app
//! tokens. Every call must succeed and run exactly once, and the client must mint about one
//! token per lifetime, not one per caller.
//!
//! `GIPITY_CHURN_CALLS` sets the number of calls (default 5 000, a few seconds);
//! the full run is
//! `GIPITY_CHURN_CALLS=20000 cargo test -p gipity-runtime --test churn -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{APP, signed_in_client};
use gipity_emulator::Auth;
use serde_json::{Value, json};

const DEFAULT_CALLS: usize = 5_000;
const CALLERS: usize = 100;
const TTL: Duration = Duration::from_secs(1);

fn calls_to_make() -> usize {
    match std::env::var("GIPITY_CHURN_CALLS") {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("GIPITY_CHURN_CALLS={value:?} is not a whole number")),
        Err(_) => DEFAULT_CALLS,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_under_token_churn() {
    let calls = calls_to_make();
    let emu = common::emulator().await;
    emu.app(APP)
        .function("tick", Auth::User, |call| Ok(call.body));
    emu.set_token_ttl(TTL);
    let (client, _) = signed_in_client(&emu);

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let client = client.clone();
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut failures = Vec::new();
                let mut slowest = Duration::ZERO;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        break;
                    }
                    let sent = Instant::now();
                    match client.call::<Value>("tick", &json!(i)).await {
                        Ok(value) if value == json!(i) => {}
                        Ok(value) => failures.push(format!("call {i} answered {value}")),
                        Err(error) => failures.push(format!("call {i}: {error}")),
                    }
                    slowest = slowest.max(sent.elapsed());
                }
                (failures, slowest)
            })
        })
        .collect();
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    for worker in workers {
        let (worker_failures, worker_slowest) = worker.await.unwrap();
        failures.extend(worker_failures);
        slowest = slowest.max(worker_slowest);
    }
    let elapsed = started.elapsed();

    let executions = emu.executions(APP, "tick");
    let requests = emu.calls(APP, "tick");
    let mints = emu.counters().token_mints;
    let lifetimes = elapsed.as_secs_f64() / TTL.as_secs_f64();
    println!(
        "token churn: {calls} calls, {CALLERS} callers, token TTL {TTL:?}\n  \
         elapsed {elapsed:.2?} ({:.0} calls/s, slowest call {slowest:.0?})\n  \
         failures {}\n  \
         executions {executions}, requests to the function {requests} \
         ({} refused with an expired token and retried)\n  \
         token mints {mints}; elapsed/TTL = {lifetimes:.1}, refreshed at 3/4 of each \
         lifetime: ~{:.0} expected",
        calls as f64 / elapsed.as_secs_f64(),
        failures.len(),
        requests.saturating_sub(executions),
        (lifetimes / 0.75).floor() + 1.0,
    );
    assert!(
        failures.is_empty(),
        "failures: {:#?}",
        &failures[..failures.len().min(10)]
    );
    assert_eq!(executions, calls as u64, "every call ran exactly once");
    // A server token lives one TTL, so covering the run takes at least elapsed/TTL mints;
    // single-flight refreshes keep it near that, whatever the number of callers.
    assert!(
        mints as f64 >= lifetimes.floor() && mints >= 1,
        "{mints} mints for {lifetimes:.1} token lifetimes"
    );
    assert!(
        mints as f64 <= 3.0 * lifetimes + 2.0,
        "{mints} mints for {lifetimes:.1} token lifetimes"
    );
}
