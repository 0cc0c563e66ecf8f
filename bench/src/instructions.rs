//! Instructions per call, counted by valgrind's callgrind: a figure that does not move with
//! the load on the machine.
//!
//! This binary runs itself under callgrind in `--profile` mode (one caller kind, one
//! concurrency, a given number of calls after a warm-up), twice per caller and concurrency:
//! with `short` and with `long` calls. callgrind counts each thread on its own
//! (`--separate-threads=yes`); the callers, their connections and their timers run on the main
//! thread (a current-thread runtime), the server on its own. The main thread's count of the
//! long run less that of the short run, over the difference in calls, is what one call costs
//! the caller: start-up, the token mint, the warm-up and the exit cancel out.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::throughput::{CONCURRENCY, Caller};

/// Instructions per call of both callers at one concurrency.
#[derive(Debug, Clone, Copy)]
pub struct PerCall {
    /// Callers at once.
    pub concurrency: usize,
    /// The stub's instructions per call.
    pub stub: f64,
    /// The baseline's instructions per call.
    pub baseline: f64,
}

impl PerCall {
    /// Stub over baseline.
    pub fn ratio(&self) -> f64 {
        self.stub / self.baseline
    }
}

/// Calls of the short and the long run, per concurrency: multiples of every concurrency, and
/// a difference large enough that one stray wake-up is far below a part in ten thousand.
const CALLS: [(u64, u64); 2] = [(256, 2_304), (1_024, 5_120)];

/// Whether valgrind can run here.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Counts both callers at every concurrency of [`CONCURRENCY`]; `dir` keeps callgrind's files.
///
/// # Errors
/// If valgrind fails or its output cannot be read.
pub fn run(dir: &Path) -> Result<Vec<PerCall>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut results = Vec::new();
    for (concurrency, (short, long)) in CONCURRENCY.into_iter().zip(CALLS) {
        let per_call = |caller| -> Result<f64, String> {
            let short_count = count(&exe, dir, caller, concurrency, short)?;
            let long_count = count(&exe, dir, caller, concurrency, long)?;
            let extra = long_count.checked_sub(short_count).ok_or_else(|| {
                format!("{caller:?}: {long} calls counted fewer instructions than {short}")
            })?;
            Ok(extra as f64 / (long - short) as f64)
        };
        let stub = per_call(Caller::Stub)?;
        let baseline = per_call(Caller::Baseline)?;
        println!(
            "instructions per call, {concurrency} caller(s): stub {stub:.0}, baseline \
             {baseline:.0}, ratio {:.4}",
            stub / baseline
        );
        results.push(PerCall {
            concurrency,
            stub,
            baseline,
        });
    }
    Ok(results)
}

/// The main thread's instruction count of one `--profile` run under callgrind.
fn count(
    exe: &Path,
    dir: &Path,
    caller: Caller,
    concurrency: usize,
    calls: u64,
) -> Result<u64, String> {
    let name = match caller {
        Caller::Stub => "stub",
        Caller::Baseline => "baseline",
    };
    let stem = format!("callgrind.{name}.c{concurrency}.n{calls}");
    clear(dir, &stem)?;
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--separate-threads=yes")
        .arg("--fair-sched=yes")
        .arg(format!(
            "--callgrind-out-file={}",
            dir.join(&stem).display()
        ))
        .arg(exe)
        .args(["--profile", name])
        .arg(concurrency.to_string())
        .arg(calls.to_string())
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "valgrind {name} {concurrency} {calls} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // `--separate-threads=yes` appends `-<thread>`; the main thread is `-01`. The run has two
    // threads, the callers' and the server's: a third (a blocking pool, a resolver) would do
    // caller work that the main thread's count misses.
    let threads = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.starts_with(&format!("{stem}-")))
        })
        .count();
    if threads != 2 {
        return Err(format!(
            "{stem}: callgrind saw {threads} threads, not the callers' and the server's"
        ));
    }
    let main = dir.join(format!("{stem}-01"));
    let text = std::fs::read_to_string(&main)
        .map_err(|e| format!("cannot read {}: {e}", main.display()))?;
    total(&text).ok_or_else(|| format!("no instruction total in {}", main.display()))
}

/// The `summary:` (or `totals:`) line of a callgrind file: its first event is `Ir`.
fn total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or_else(|| line.strip_prefix("totals:"))
        })
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Removes the files of an earlier run of `stem`, so that a stale one is never read.
fn clear(dir: &Path, stem: &str) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path: PathBuf = entry.path();
        if path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with(stem))
        {
            std::fs::remove_file(&path)
                .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_total_is_the_first_event_of_the_summary_line() {
        let text = "version: 1\nevents: Ir\nsummary: 123456 7\nfn=main\n";
        assert_eq!(super::total(text), Some(123_456));
        assert_eq!(super::total("totals: 42\n"), Some(42));
        assert_eq!(super::total("events: Ir\n"), None);
    }
}
