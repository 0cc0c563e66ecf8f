//! The offline twin (`--project`): how long `examples/gipity-app` takes to start (Node.js
//! checked, `initdb`, PostgreSQL started, migrations and seed applied, roles granted), and the
//! latency of a warm call to a function doing one `SELECT` (`count-items`), over loopback
//! HTTP with a plain reqwest client.

use std::path::Path;
use std::time::Instant;

use gipity_emulator::{DEFAULT_PROJECT_APP, Emulator};
use serde_json::json;

/// The measurements.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Each start-up, in milliseconds.
    pub startups_ms: Vec<f64>,
    /// Each warm call, in milliseconds.
    pub calls_ms: Vec<f64>,
}

/// The `q` quantile (0..=1) of `samples`.
#[must_use]
pub fn quantile(samples: &[f64], q: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let last = sorted.len().checked_sub(1)?;
    // Nearest rank.
    let rank = (q * last as f64).round() as usize;
    sorted.get(rank.min(last)).copied()
}

/// Starts the sample app `startups` times, then times `calls` warm calls after `warmup`.
///
/// # Errors
/// When the project cannot be served (no Node.js or PostgreSQL) or a call fails.
pub fn run(
    workspace: &Path,
    startups: usize,
    warmup: usize,
    calls: usize,
) -> Result<Report, String> {
    let dir = workspace.join("examples").join("gipity-app");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut report = Report::default();
        for _ in 0..startups {
            let started = Instant::now();
            let emulator = Emulator::builder()
                .project(&dir)
                .start()
                .await
                .map_err(|e| format!("the project does not start: {e}"))?;
            report
                .startups_ms
                .push(started.elapsed().as_secs_f64() * 1e3);
            emulator.shutdown();
        }
        let emulator = Emulator::builder()
            .project(&dir)
            .start()
            .await
            .map_err(|e| format!("the project does not start: {e}"))?;
        let url = format!(
            "{}/api/{DEFAULT_PROJECT_APP}/fn/count-items",
            emulator.base_url()
        );
        let client = reqwest::Client::new();
        let body = json!({"category": "books"});
        for round in 0..warmup + calls {
            let started = Instant::now();
            let response = client
                .post(&url)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let answer: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
            if !status.is_success() || answer["data"]["count"] != 2 {
                return Err(format!("count-items answered {status}: {answer}"));
            }
            if round >= warmup {
                report.calls_ms.push(started.elapsed().as_secs_f64() * 1e3);
            }
        }
        Ok(report)
    })
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_are_nearest_ranks() {
        let samples = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(quantile(&samples, 0.5), Some(3.0));
        assert_eq!(quantile(&samples, 0.0), Some(1.0));
        assert_eq!(quantile(&samples, 1.0), Some(5.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
