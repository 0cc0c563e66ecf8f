//! Calls per second of the generated stub and of the hand-written baseline, in alternating
//! rounds, and the exact counts: mints on a cold start, requests per warm call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gipity_runtime::Client;
use tokio::task::JoinSet;

use crate::calls::{Baseline, Item, get_items, stub_client};
use crate::server::{Server, Snapshot};

/// How much work one run does.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Rounds; each round measures both callers at every concurrency.
    pub rounds: usize,
    /// Calls per caller per round with one caller.
    pub calls_c1: u64,
    /// Calls per caller per round with [`WIDE`] concurrent callers.
    pub calls_wide: u64,
    /// Calls per caller before the first round (connections, caches, branch predictors).
    pub warmup: u64,
    /// Concurrent first calls on a fresh client.
    pub cold_callers: usize,
}

/// The concurrency of the wide measurements.
pub const WIDE: usize = 64;

/// The concurrencies measured, in order.
pub const CONCURRENCY: [usize; 2] = [1, WIDE];

/// Which caller a measurement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The `#[gipity_runtime::function]` stub.
    Stub,
    /// The hand-written reqwest call.
    Baseline,
}

/// Calls per second of both callers at one concurrency, one sample per round.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// The stub's calls per second.
    pub stub: Vec<f64>,
    /// The baseline's calls per second.
    pub baseline: Vec<f64>,
    /// Stub divided by baseline, per round.
    pub ratio: Vec<f64>,
    /// CPU time of the whole process (both callers' runtime, the server) per stub call, in
    /// microseconds: what a call costs, whatever else the machine is doing.
    pub stub_cpu: Vec<f64>,
    /// The same for the baseline.
    pub baseline_cpu: Vec<f64>,
}

/// Everything one throughput run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One series per entry of [`CONCURRENCY`].
    pub series: Vec<Series>,
    /// What the server saw during the stub's measurements.
    pub stub_seen: Snapshot,
    /// Calls the stub made during its measurements.
    pub stub_calls: u64,
    /// What the server saw during the baseline's measurements.
    pub baseline_seen: Snapshot,
    /// Calls the baseline made during its measurements.
    pub baseline_calls: u64,
    /// What the server saw during the cold start.
    pub cold_seen: Snapshot,
    /// Concurrent first calls of the cold start.
    pub cold_callers: usize,
    /// Wall time of the cold start.
    pub cold_elapsed: Duration,
}

impl Report {
    /// App-token mints caused by the concurrent first calls on a fresh client.
    #[must_use]
    pub fn cold_mints(&self) -> u64 {
        self.cold_seen.mints
    }

    /// Requests the server saw per stub call on the warm path.
    #[must_use]
    pub fn requests_per_call(&self) -> f64 {
        if self.stub_calls == 0 {
            return f64::NAN;
        }
        self.stub_seen.requests as f64 / self.stub_calls as f64
    }
}

/// Runs the plan against `server`.
///
/// # Errors
/// If a call fails, or a client cannot be built.
pub async fn run(server: &Server, plan: &Plan) -> Result<Report, String> {
    install(server)?;
    let baseline = Baseline::connect(&server.base_url)
        .await
        .map_err(|error| format!("baseline: {error}"))?;
    for caller in [Caller::Stub, Caller::Baseline] {
        measure(caller, &baseline, WIDE, plan.warmup * WIDE as u64).await?;
        measure(caller, &baseline, 1, plan.warmup).await?;
    }
    let mut report = Report {
        series: vec![Series::default(); CONCURRENCY.len()],
        ..Report::default()
    };
    for round in 0..plan.rounds {
        for (index, &concurrency) in CONCURRENCY.iter().enumerate() {
            let calls = if concurrency == 1 {
                plan.calls_c1
            } else {
                plan.calls_wide
            };
            // Alternate which caller goes first, so that drift (other load on the machine)
            // does not favour one of them.
            let order = if round % 2 == 0 {
                [Caller::Stub, Caller::Baseline]
            } else {
                [Caller::Baseline, Caller::Stub]
            };
            let mut rates = [0.0; 2];
            let mut cpu = [0.0; 2];
            for caller in order {
                let before = server.counters.snapshot();
                let cpu_before = cpu_time();
                let took = measure(caller, &baseline, concurrency, calls).await?;
                let cpu_used = cpu_time().saturating_sub(cpu_before);
                let seen = server.counters.snapshot().since(before);
                let slot = usize::from(caller == Caller::Baseline);
                rates[slot] = calls as f64 / took.as_secs_f64();
                cpu[slot] = cpu_used.as_secs_f64() * 1e6 / calls as f64;
                match caller {
                    Caller::Stub => {
                        report.stub_seen = add(report.stub_seen, seen);
                        report.stub_calls += calls;
                    }
                    Caller::Baseline => {
                        report.baseline_seen = add(report.baseline_seen, seen);
                        report.baseline_calls += calls;
                    }
                }
            }
            let series = &mut report.series[index];
            series.stub.push(rates[0]);
            series.baseline.push(rates[1]);
            series.ratio.push(rates[0] / rates[1]);
            series.stub_cpu.push(cpu[0]);
            series.baseline_cpu.push(cpu[1]);
        }
    }
    let started = Instant::now();
    report.cold_seen = cold_start(server, plan.cold_callers).await?;
    report.cold_elapsed = started.elapsed();
    report.cold_callers = plan.cold_callers;
    Ok(report)
}

/// Makes `calls` calls with one caller kind at `concurrency`, after a warm-up, and returns the
/// calls per second: a steady load to profile.
///
/// # Errors
/// If a call fails, or a client cannot be built.
pub async fn profile(
    server: &Server,
    caller: Caller,
    concurrency: usize,
    calls: u64,
) -> Result<f64, String> {
    install(server)?;
    let baseline = Baseline::connect(&server.base_url)
        .await
        .map_err(|error| format!("baseline: {error}"))?;
    measure(caller, &baseline, concurrency, concurrency as u64 * 10).await?;
    let elapsed = measure(caller, &baseline, concurrency, calls).await?;
    Ok(calls as f64 / elapsed.as_secs_f64())
}

/// CPU time used so far by every thread of this process, from `/proc/self/task/*/schedstat`
/// (nanosecond resolution; zero where that is not available).
fn cpu_time() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

fn add(a: Snapshot, b: Snapshot) -> Snapshot {
    Snapshot {
        requests: a.requests + b.requests,
        mints: a.mints + b.mints,
        calls: a.calls + b.calls,
        rejected: a.rejected + b.rejected,
    }
}

/// Installs the stub's client as the process's ambient client, which free stubs call through
/// (what an app does once at start-up). Does nothing if one is installed already.
fn install(server: &Server) -> Result<(), String> {
    if Client::current().is_ok() {
        return Ok(());
    }
    stub_client(&server.base_url)
        .and_then(Client::install)
        .map_err(|error| error.to_string())
}

/// Makes `calls` calls with `concurrency` callers, each calling in a loop, and returns the
/// wall time from the first spawn to the last completion.
async fn measure(
    caller: Caller,
    baseline: &Baseline,
    concurrency: usize,
    calls: u64,
) -> Result<Duration, String> {
    let per_caller = calls / concurrency as u64;
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        match caller {
            Caller::Stub => {
                tasks.spawn(async move {
                    for _ in 0..per_caller {
                        let items = get_items("books", 3)
                            .await
                            .map_err(|error| format!("stub: {error}"))?;
                        check(&items)?;
                    }
                    Ok::<(), String>(())
                });
            }
            Caller::Baseline => {
                let baseline = baseline.clone();
                tasks.spawn(async move {
                    for _ in 0..per_caller {
                        let items = baseline
                            .get_items("books", 3)
                            .await
                            .map_err(|error| format!("baseline: {error}"))?;
                        check(&items)?;
                    }
                    Ok::<(), String>(())
                });
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|error| error.to_string())??;
    }
    Ok(started.elapsed())
}

fn check(items: &[Item]) -> Result<(), String> {
    if items.len() == 3 && items[0].id == 1 {
        Ok(())
    } else {
        Err(format!("unexpected items: {items:?}"))
    }
}

/// `callers` concurrent first calls on a fresh client (its own connection pool, an empty token
/// cache), released together by a barrier. Returns what the server saw.
async fn cold_start(server: &Server, callers: usize) -> Result<Snapshot, String> {
    let fresh = stub_client(&server.base_url).map_err(|error| error.to_string())?;
    let barrier = Arc::new(tokio::sync::Barrier::new(callers));
    let before = server.counters.snapshot();
    let mut tasks = JoinSet::new();
    for _ in 0..callers {
        let barrier = Arc::clone(&barrier);
        tasks.spawn(fresh.scope(async move {
            barrier.wait().await;
            get_items("books", 3).await
        }));
    }
    while let Some(joined) = tasks.join_next().await {
        let items = joined
            .map_err(|error| error.to_string())?
            .map_err(|error| format!("cold call: {error}"))?;
        check(&items)?;
    }
    Ok(server.counters.snapshot().since(before))
}
