//! `gipity-bench`: the generated bindings against a hand-written reqwest caller and against
//! Leptos `#[server]`. Run it through `cargo xtask bench` (see BENCHMARKS.md).
//!
//! ```text
//! gipity-bench [--smoke] [--out DIR] [--no-compile] [--wasm-sizes FILE] [--stream-only]
//!              [--compile-only] [--project-only] [--instructions-only]
//!              [--profile stub|baseline CONCURRENCY CALLS] [--client-threads N]
//! ```
//!
//! - full (the default): throughput in alternating rounds, the exact counts, the compile
//!   benchmarks; writes `DIR/summary.json` and `DIR/details.json` (`DIR` defaults to
//!   `target/bench`).
//! - `--smoke`: a second or two of the throughput harness and the exact counts, nothing else,
//!   no files; fails if a count is wrong (timings are never asserted).

mod alloc;
mod calls;
mod compile;
mod cpu;
mod instructions;
mod project;
mod server;
mod stream;
mod throughput;

/// Counts heap bytes while the streaming benchmark measures memory; otherwise one relaxed load
/// per allocation, for every caller alike.
#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde_json::{Value, json};

use crate::compile::Flavor;
use crate::throughput::{CONCURRENCY, Plan};

/// The full run: about a minute of throughput measurements on 2 cores.
const FULL: Plan = Plan {
    rounds: 40,
    calls_c1: 2_000,
    calls_wide: 4_096,
    warmup: 500,
    cold_callers: 1000,
};

/// The smoke run: a second or two, even in a debug build.
const SMOKE: Plan = Plan {
    rounds: 5,
    calls_c1: 40,
    calls_wide: 640,
    warmup: 5,
    cold_callers: 1000,
};

/// The streaming benchmark of the full run.
const FULL_STREAM: stream::Plan = stream::Plan {
    rounds: 21,
    events: 10_000,
    memory_events: &[1_000, 10_000, 100_000],
};

/// The streaming benchmark of the smoke run.
const SMOKE_STREAM: stream::Plan = stream::Plan {
    rounds: 2,
    events: 200,
    memory_events: &[100, 1_000],
};

/// Interleaved incremental rebuilds per compile crate.
const COMPILE_ROUNDS: usize = 7;

struct Args {
    smoke: bool,
    /// `--compile-only`: skip the throughput measurements.
    compile_only: bool,
    /// `--stream-only`: the streaming benchmark alone, for a profiler.
    stream_only: bool,
    /// `--project-only`: the offline twin's start-up and warm calls alone.
    project_only: bool,
    /// `--instructions-only`: the callgrind counts alone.
    instructions_only: bool,
    /// Worker threads of the callers' runtime; 0 for a single-threaded runtime (the default:
    /// one core for the callers, one for the server).
    client_threads: usize,
    /// `--profile stub|baseline CONCURRENCY CALLS`: one caller kind only, for a profiler.
    profile: Option<(throughput::Caller, usize, u64)>,
    compile: bool,
    out: PathBuf,
    wasm_sizes: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let workspace = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    let mut args = Args {
        smoke: false,
        compile_only: false,
        stream_only: false,
        project_only: false,
        instructions_only: false,
        client_threads: 0,
        profile: None,
        compile: true,
        out: target.join("bench"),
        wasm_sizes: target.join("browser-example").join("sizes.json"),
    };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--smoke" => args.smoke = true,
            "--no-compile" => args.compile = false,
            "--compile-only" => args.compile_only = true,
            "--stream-only" => args.stream_only = true,
            "--project-only" => args.project_only = true,
            "--instructions-only" => args.instructions_only = true,
            "--client-threads" => {
                args.client_threads = given
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--client-threads needs a number")?;
            }
            "--profile" => {
                let usage = "--profile needs `stub|baseline CONCURRENCY CALLS`";
                let caller = match given.next().as_deref() {
                    Some("stub") => throughput::Caller::Stub,
                    Some("baseline") => throughput::Caller::Baseline,
                    _ => return Err(usage.into()),
                };
                let mut number = || given.next().and_then(|n| n.parse().ok()).ok_or(usage);
                let concurrency = number()?;
                let calls = number()?;
                args.profile = Some((
                    caller,
                    usize::try_from(concurrency).map_err(|_| usage)?,
                    calls,
                ));
            }
            "--out" => args.out = given.next().ok_or("--out needs a directory")?.into(),
            "--wasm-sizes" => {
                args.wasm_sizes = given.next().ok_or("--wasm-sizes needs a file")?.into();
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    match parse_args().and_then(|args| run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gipity-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let plan = if args.smoke { SMOKE } else { FULL };
    let server = server::Server::start().map_err(|e| format!("server: {e}"))?;
    let runtime = match args.client_threads {
        0 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        threads => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build(),
    }
    .map_err(|e| e.to_string())?;
    println!(
        "throughput: {} rounds; per round and caller kind, {} calls (1 caller) and {} calls \
         ({} callers)",
        plan.rounds,
        plan.calls_c1,
        plan.calls_wide,
        throughput::WIDE
    );
    if let Some((caller, concurrency, calls)) = args.profile {
        let rate = runtime.block_on(throughput::profile(&server, caller, concurrency, calls))?;
        println!("{caller:?}: {rate:.0} calls/s with {concurrency} callers");
        return Ok(());
    }
    if args.instructions_only {
        let counted = instructions::run(&args.out.join("callgrind"))?;
        let mut rows = Vec::new();
        instruction_rows(&mut rows, &counted);
        print_table(&rows);
        return Ok(());
    }
    if args.compile_only {
        let compile = compile::run(&args.out, &workspace_root(), COMPILE_ROUNDS)?;
        let mut rows = Vec::new();
        compile_rows(&mut rows, &compile);
        print_table(&rows);
        return Ok(());
    }
    let stream_plan = if args.smoke {
        SMOKE_STREAM
    } else {
        FULL_STREAM
    };
    if args.project_only {
        let project = project::run(&workspace_root(), PROJECT_STARTUPS, 50, PROJECT_CALLS)?;
        let mut rows = Vec::new();
        project_rows(&mut rows, &project);
        print_table(&rows);
        return Ok(());
    }
    if args.stream_only {
        let streamed = stream::run(&server, &stream_plan)?;
        let mut rows = Vec::new();
        stream_rows(&mut rows, &streamed);
        print_table(&rows);
        return Ok(());
    }
    let report = runtime.block_on(throughput::run(&server, &plan))?;
    let streamed = stream::run(&server, &stream_plan)?;
    let compile = if args.compile && !args.smoke {
        Some(compile::run(&args.out, &workspace_root(), COMPILE_ROUNDS)?)
    } else {
        None
    };
    // The twin needs Node.js and PostgreSQL; without them its keys are null.
    let project = if args.smoke {
        None
    } else {
        project::run(&workspace_root(), PROJECT_STARTUPS, 50, PROJECT_CALLS)
            .map_err(|e| println!("project: not measured: {e}"))
            .ok()
    };
    // Instruction counts need valgrind; without it their keys are null.
    let counted = if args.smoke {
        None
    } else if instructions::available() {
        Some(instructions::run(&args.out.join("callgrind"))?)
    } else {
        println!("instructions: not measured: valgrind is not installed");
        None
    };
    let wasm = wasm_sizes(&args.wasm_sizes);
    let mut rows = rows(&report, compile.as_ref(), wasm.as_ref());
    if let Some(counted) = &counted {
        instruction_rows(&mut rows, counted);
    }
    stream_rows(&mut rows, &streamed);
    if let Some(project) = &project {
        project_rows(&mut rows, project);
    }
    print_table(&rows);
    let streams_ok = streamed.exact == streamed.served && streamed.served == stream_plan.streams();
    let counts_ok = streams_ok
        && report.cold_mints() == 1
        && report.requests_per_call() == 1.0
        && report.stub_seen.rejected == 0
        && report.baseline_seen.rejected == 0
        && report.baseline_seen.requests == report.baseline_calls;
    if !args.smoke {
        let summary = summary(
            &report,
            &streamed,
            compile.as_ref(),
            wasm.as_ref(),
            project.as_ref(),
            counted.as_deref(),
        );
        let details = details(&plan, &report, compile.as_ref(), &rows, &summary);
        write_json(&args.out.join("summary.json"), &summary)?;
        write_json(&args.out.join("details.json"), &details)?;
        println!("\nwrote {}", args.out.join("summary.json").display());
        if wasm.is_none() {
            println!(
                "wasm sizes: {} does not exist (the browser example has not written it): \
                 wasm_bytes_* are null",
                args.wasm_sizes.display()
            );
        }
    }
    if args.smoke {
        println!(
            "\nsmoke run: a few calls in whatever profile this was built in; the timings above \
             mean nothing, only the exact counts are checked"
        );
    }
    println!("{} in {:.1?}", mode(args), started.elapsed());
    if counts_ok {
        Ok(())
    } else {
        Err(format!(
            "exact counts missed: token_mints_{}_cold = {} (want 1), requests_per_call_warm = {} \
             (want 1.0), rejected = {}/{}, baseline requests = {} for {} calls, streams exact \
             {} of {} served (want {})",
            report.cold_callers,
            report.cold_mints(),
            report.requests_per_call(),
            report.stub_seen.rejected,
            report.baseline_seen.rejected,
            report.baseline_seen.requests,
            report.baseline_calls,
            streamed.exact,
            streamed.served,
            stream_plan.streams(),
        ))
    }
}

fn mode(args: &Args) -> &'static str {
    if args.smoke { "smoke run" } else { "full run" }
}

/// The workspace root (this crate's parent directory).
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or(manifest.clone(), Path::to_path_buf)
}

/// The keys of the browser pages' sizes file (`cargo xtask browser` or `cargo xtask bench`
/// writes it), with their targets.
const WASM_KEYS: [(&str, Option<Target>); 4] = [
    ("wasm_bytes_example", None),
    ("wasm_bytes_bare_reqwest", None),
    ("wasm_bytes_min", None),
    ("wasm_ratio_min", Some(Target::AtMost(1.10))),
];

/// The browser pages' sizes file, if there is one.
fn wasm_sizes(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// The rows of the instruction counts.
fn instruction_rows(rows: &mut Vec<Row>, counted: &[instructions::PerCall]) {
    for per_call in counted {
        let concurrency = per_call.concurrency;
        for (who, value) in [("stub", per_call.stub), ("baseline", per_call.baseline)] {
            rows.push(Row {
                metric: format!("{who} instructions/call, {concurrency} caller(s)"),
                samples: vec![value],
                target: None,
                summary_key: None,
            });
        }
        let key = if concurrency == 1 {
            "instructions_ratio_c1"
        } else {
            "instructions_ratio_c64"
        };
        rows.push(Row {
            metric: key.to_owned(),
            samples: vec![per_call.ratio()],
            target: Some(Target::AtMost(1.01)),
            summary_key: Some(key),
        });
    }
}

/// One line of the table: samples, and the target when there is one.
struct Row {
    metric: String,
    samples: Vec<f64>,
    target: Option<Target>,
    /// The value that goes into the summary (the median unless said otherwise).
    summary_key: Option<&'static str>,
}

#[derive(Clone, Copy)]
enum Target {
    AtLeast(f64),
    AtMost(f64),
    Below(f64),
    Exactly(f64),
}

impl Target {
    fn met(self, value: f64) -> bool {
        match self {
            Self::AtLeast(bound) => value >= bound,
            Self::AtMost(bound) => value <= bound,
            Self::Below(bound) => value < bound,
            Self::Exactly(bound) => value == bound,
        }
    }

    fn describe(self) -> String {
        match self {
            Self::AtLeast(bound) => format!(">= {bound}"),
            Self::AtMost(bound) => format!("<= {bound}"),
            Self::Below(bound) => format!("< {bound}"),
            Self::Exactly(bound) => format!("== {bound}"),
        }
    }
}

fn rows(
    report: &throughput::Report,
    compile: Option<&compile::Report>,
    wasm: Option<&Value>,
) -> Vec<Row> {
    let mut rows = Vec::new();
    let row = |metric: String, samples: Vec<f64>, target, summary_key| Row {
        metric,
        samples,
        target,
        summary_key,
    };
    for (index, concurrency) in CONCURRENCY.iter().enumerate() {
        let series = &report.series[index];
        rows.push(row(
            format!("stub calls/s, {concurrency} caller(s)"),
            series.stub.clone(),
            None,
            None,
        ));
        rows.push(row(
            format!("baseline calls/s, {concurrency} caller(s)"),
            series.baseline.clone(),
            None,
            None,
        ));
        rows.push(row(
            format!("stub CPU us/call, {concurrency} caller(s)"),
            series.stub_cpu.clone(),
            None,
            None,
        ));
        rows.push(row(
            format!("baseline CPU us/call, {concurrency} caller(s)"),
            series.baseline_cpu.clone(),
            None,
            None,
        ));
        let key = if *concurrency == 1 {
            "throughput_ratio_c1"
        } else {
            "throughput_ratio_c64"
        };
        rows.push(row(
            key.to_owned(),
            series.ratio.clone(),
            Some(Target::AtLeast(0.97)),
            Some(key),
        ));
    }
    rows.push(row(
        format!("token_mints_{}_cold", report.cold_callers),
        vec![report.cold_mints() as f64],
        Some(Target::Exactly(1.0)),
        Some("token_mints_1000_cold"),
    ));
    rows.push(row(
        "requests_per_call_warm".to_owned(),
        vec![report.requests_per_call()],
        Some(Target::Exactly(1.0)),
        Some("requests_per_call_warm"),
    ));
    if let Some(compile) = compile {
        compile_rows(&mut rows, compile);
    }
    for (name, target) in WASM_KEYS {
        if let Some(value) = wasm.and_then(|sizes| sizes.get(name)?.as_f64()) {
            rows.push(row(name.to_owned(), vec![value], target, Some(name)));
        }
    }
    rows
}

/// The streaming rows: CPU per event of both callers and their ratio, and the peak heap a
/// stream adds at each length, with its growth from 10,000 to 100,000 events.
/// Start-ups of the sample project measured, and warm calls timed.
const PROJECT_STARTUPS: usize = 3;
const PROJECT_CALLS: usize = 1000;

fn project_rows(rows: &mut Vec<Row>, project: &project::Report) {
    rows.push(Row {
        metric: "project_startup_ms (initdb included)".to_owned(),
        samples: project.startups_ms.clone(),
        target: None,
        summary_key: Some("project_startup_ms"),
    });
    rows.push(Row {
        metric: "project_call_p50_ms (one SELECT)".to_owned(),
        samples: project.calls_ms.clone(),
        target: Some(Target::AtMost(3.0)),
        summary_key: Some("project_call_p50_ms"),
    });
    rows.push(Row {
        metric: "project_call_p99_ms".to_owned(),
        samples: project::quantile(&project.calls_ms, 0.99)
            .into_iter()
            .collect(),
        target: None,
        summary_key: Some("project_call_p99_ms"),
    });
}

fn stream_rows(rows: &mut Vec<Row>, streamed: &stream::Report) {
    let row = |metric: String, samples: Vec<f64>, target, summary_key| Row {
        metric,
        samples,
        target,
        summary_key,
    };
    let events = streamed.events;
    rows.push(row(
        format!("stream CPU ns/event, {events} events"),
        streamed.stub_ns.clone(),
        None,
        None,
    ));
    rows.push(row(
        format!("baseline CPU ns/event, {events} ev."),
        streamed.baseline_ns.clone(),
        None,
        None,
    ));
    rows.push(row(
        "stream_cpu_ratio".to_owned(),
        streamed.ratio.clone(),
        Some(Target::AtMost(1.05)),
        Some("stream_cpu_ratio"),
    ));
    for &(events, stub, baseline) in &streamed.memory {
        rows.push(row(
            format!("stream_peak_heap_bytes_{}", stream::label(events)),
            vec![stub],
            None,
            stream::summary_key(events),
        ));
        rows.push(row(
            format!("baseline peak heap bytes, {}", stream::label(events)),
            vec![baseline],
            None,
            None,
        ));
    }
    rows.push(row(
        "least live heap in a memory run".to_owned(),
        vec![streamed.least as f64],
        None,
        None,
    ));
    rows.push(row(
        "stream_heap_growth".to_owned(),
        streamed.growth().into_iter().collect(),
        Some(Target::AtMost(2.0)),
        Some("stream_heap_growth"),
    ));
    rows.push(row(
        "stream_heap_ratio_100k".to_owned(),
        streamed.over_baseline().into_iter().collect(),
        Some(Target::AtMost(1.05)),
        Some("stream_heap_ratio_100k"),
    ));
}

/// Per-round ratios of the gipity crate's rebuild time to `other`'s.
fn compile_ratios(compile: &compile::Report, other: Flavor) -> Vec<f64> {
    compile_ratios_of(compile, Flavor::Gipity, other)
}

/// Per-round ratios of `ours`' rebuild time to `other`'s.
fn compile_ratios_of(compile: &compile::Report, ours: Flavor, other: Flavor) -> Vec<f64> {
    compile
        .get(ours)
        .rebuilds
        .iter()
        .zip(&compile.get(other).rebuilds)
        .map(|(ours, theirs)| ours / theirs)
        .collect()
}

fn compile_rows(rows: &mut Vec<Row>, compile: &compile::Report) {
    let row = |metric: String, samples: Vec<f64>, target, summary_key| Row {
        metric,
        samples,
        target,
        summary_key,
    };
    for flavor in Flavor::ALL {
        let times = compile.get(flavor);
        rows.push(row(
            format!("rebuild s, 200 {} fns", flavor.name()),
            times.rebuilds.clone(),
            None,
            None,
        ));
    }
    for flavor in Flavor::ALL {
        if let Some(cold) = compile.get(flavor).cold {
            rows.push(row(
                format!("cold build s, {} crate", flavor.name()),
                vec![cold],
                None,
                None,
            ));
        }
    }
    for (other, key, target) in [
        (Flavor::Hand, "compile_ratio_200", Target::AtMost(1.15)),
        (
            Flavor::Leptos,
            "compile_ratio_vs_leptos_200",
            Target::Below(1.0),
        ),
    ] {
        let ratios = compile_ratios(compile, other);
        rows.push(row(key.to_owned(), ratios, Some(target), Some(key)));
    }
    let key = "compile_manifest_ratio_200";
    rows.push(row(
        key.to_owned(),
        compile_ratios_of(compile, Flavor::Manifest, Flavor::Gipity),
        Some(Target::AtMost(1.1)),
        Some(key),
    ));
    for flavor in compile::EXPANDED {
        rows.push(row(
            format!("non-incremental rebuild s, 200 {} fns", flavor.name()),
            compile.get(flavor).full_rebuilds.clone(),
            None,
            None,
        ));
    }
    let key = "compile_ratio_200_nonincremental";
    rows.push(row(key.to_owned(), full_ratios(compile), None, Some(key)));
    for (flavor, key) in [
        (Flavor::Gipity, "macro_expand_ms_per_stub"),
        (Flavor::Hand, "macro_expand_ms_per_hand_fn"),
    ] {
        let per_function = expand_ms_per_function(compile, flavor);
        if !per_function.is_empty() {
            rows.push(row(key.to_owned(), per_function, None, Some(key)));
        }
    }
}

/// rustc's macro expansion of `flavor`'s crate per function, in milliseconds, one per run.
fn expand_ms_per_function(compile: &compile::Report, flavor: Flavor) -> Vec<f64> {
    compile
        .get(flavor)
        .expansions
        .iter()
        .map(|seconds| seconds * 1e3 / compile::FUNCTIONS as f64)
        .collect()
}

/// Per-round ratios of the non-incremental rebuilds, gipity over hand.
fn full_ratios(compile: &compile::Report) -> Vec<f64> {
    compile
        .get(Flavor::Gipity)
        .full_rebuilds
        .iter()
        .zip(&compile.get(Flavor::Hand).full_rebuilds)
        .map(|(ours, theirs)| ours / theirs)
        .collect()
}

/// Min, median, max (the median of an even count is the mean of the middle two).
fn stats(samples: &[f64]) -> Option<(f64, f64, f64)> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|s| !s.is_nan()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    let median = if sorted.len().is_multiple_of(2) {
        f64::midpoint(sorted[middle - 1], sorted[middle])
    } else {
        sorted[middle]
    };
    Some((sorted[0], median, sorted[sorted.len() - 1]))
}

fn format_value(value: f64) -> String {
    if (value.fract() == 0.0 && value.abs() < 1e15) || value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<34} {:>10} {:>10} {:>10}  {:<8} met",
        "metric", "min", "median", "max", "target"
    );
    for row in rows {
        let (min, median, max) = stats(&row.samples)
            .map(|(a, b, c)| (format_value(a), format_value(b), format_value(c)))
            .unwrap_or_else(|| ("-".into(), "-".into(), "-".into()));
        let (target, met) = match (row.target, stats(&row.samples)) {
            (Some(target), Some((_, median, _))) => (
                target.describe(),
                if target.met(median) { "yes" } else { "NO" },
            ),
            (Some(target), None) => (target.describe(), "NO"),
            (None, _) => (String::new(), ""),
        };
        println!(
            "{:<34} {min:>10} {median:>10} {max:>10}  {target:<8} {met}",
            row.metric
        );
    }
}

fn median(samples: &[f64]) -> Value {
    stats(samples).map_or(Value::Null, |(_, median, _)| json!(median))
}

/// The summary: exactly the documented keys, each a number (or null when not measured).
fn summary(
    report: &throughput::Report,
    streamed: &stream::Report,
    compile: Option<&compile::Report>,
    wasm: Option<&Value>,
    project: Option<&project::Report>,
    counted: Option<&[instructions::PerCall]>,
) -> Value {
    let per_call = |concurrency: usize, pick: fn(&instructions::PerCall) -> f64| {
        counted
            .and_then(|counted| counted.iter().find(|c| c.concurrency == concurrency))
            .map_or(Value::Null, |c| json!(pick(c)))
    };
    let twin = |pick: fn(&project::Report) -> Option<f64>| {
        project
            .and_then(pick)
            .map_or(Value::Null, |value| json!(value))
    };
    let ratio = |index: usize| median(&report.series[index].ratio);
    let compile_ratio = |other: Flavor| {
        compile.map_or(Value::Null, |compile| {
            median(&compile_ratios(compile, other))
        })
    };
    let expand_ms = |flavor: Flavor| {
        compile.map_or(Value::Null, |compile| {
            median(&expand_ms_per_function(compile, flavor))
        })
    };
    let mut summary = json!({
        "throughput_ratio_c1": ratio(0),
        "throughput_ratio_c64": ratio(1),
        "instructions_ratio_c1": per_call(1, instructions::PerCall::ratio),
        "instructions_ratio_c64": per_call(throughput::WIDE, instructions::PerCall::ratio),
        "instructions_per_call_stub_c1": per_call(1, |c| c.stub),
        "instructions_per_call_baseline_c1": per_call(1, |c| c.baseline),
        "instructions_per_call_stub_c64": per_call(throughput::WIDE, |c| c.stub),
        "instructions_per_call_baseline_c64": per_call(throughput::WIDE, |c| c.baseline),
        "token_mints_1000_cold": report.cold_mints(),
        "requests_per_call_warm": report.requests_per_call(),
        "compile_ratio_200": compile_ratio(Flavor::Hand),
        "compile_ratio_vs_leptos_200": compile_ratio(Flavor::Leptos),
        "compile_manifest_ratio_200": compile.map_or(Value::Null, |compile| {
            median(&compile_ratios_of(compile, Flavor::Manifest, Flavor::Gipity))
        }),
        "compile_ratio_200_nonincremental": compile
            .map_or(Value::Null, |compile| median(&full_ratios(compile))),
        "macro_expand_ms_per_stub": expand_ms(Flavor::Gipity),
        "macro_expand_ms_per_hand_fn": expand_ms(Flavor::Hand),
        "stream_cpu_ratio": median(&streamed.ratio),
        "stream_peak_heap_bytes_1k": streamed.peak(1_000),
        "stream_peak_heap_bytes_10k": streamed.peak(10_000),
        "stream_peak_heap_bytes_100k": streamed.peak(100_000),
        "stream_heap_growth": streamed.growth(),
        "stream_heap_ratio_100k": streamed.over_baseline(),
        "project_startup_ms": twin(|p| project::quantile(&p.startups_ms, 0.5)),
        "project_call_p50_ms": twin(|p| project::quantile(&p.calls_ms, 0.5)),
        "project_call_p99_ms": twin(|p| project::quantile(&p.calls_ms, 0.99)),
    });
    for (key, _) in WASM_KEYS {
        summary[key] = wasm
            .and_then(|sizes| sizes.get(key))
            .cloned()
            .unwrap_or(Value::Null);
    }
    summary
}

/// Everything measured, with the machine, for BENCHMARKS.md.
fn details(
    plan: &Plan,
    report: &throughput::Report,
    compile: Option<&compile::Report>,
    rows: &[Row],
    summary: &Value,
) -> Value {
    let table: Vec<Value> = rows
        .iter()
        .map(|row| {
            let (min, median, max) = stats(&row.samples).unwrap_or((f64::NAN, f64::NAN, f64::NAN));
            json!({
                "metric": row.metric,
                "samples": row.samples,
                "min": min,
                "median": median,
                "max": max,
                "target": row.target.map(Target::describe),
                "summary_key": row.summary_key,
            })
        })
        .collect();
    let cold_builds: Value = compile.map_or(Value::Null, |compile| {
        Flavor::ALL
            .iter()
            .map(|flavor| {
                let times = compile.get(*flavor);
                (
                    flavor.name().to_owned(),
                    json!({ "seconds": times.cold, "measured_this_run": times.cold_this_run }),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    });
    json!({
        "summary": summary,
        "machine": machine(),
        "plan": {
            "rounds": plan.rounds,
            "calls_per_round_c1": plan.calls_c1,
            "calls_per_round_c64": plan.calls_wide,
            "warmup_calls_per_caller": plan.warmup,
            "cold_callers": plan.cold_callers,
            "compile_rounds": COMPILE_ROUNDS,
            "compile_functions": compile::FUNCTIONS,
        },
        "table": table,
        "server_seen": {
            "stub": { "requests": report.stub_seen.requests, "mints": report.stub_seen.mints,
                      "calls": report.stub_calls },
            "baseline": { "requests": report.baseline_seen.requests,
                          "mints": report.baseline_seen.mints, "calls": report.baseline_calls },
            "cold": { "requests": report.cold_seen.requests, "mints": report.cold_seen.mints,
                      "callers": report.cold_callers,
                      "seconds": report.cold_elapsed.as_secs_f64() },
        },
        "cold_builds": cold_builds,
    })
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        });
    let rustc = std::process::Command::new("rustc")
        .arg("-V")
        .current_dir(workspace_root())
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(usize::from).ok(),
        "os": std::env::consts::OS,
        "rustc": rustc,
    })
}

fn write_json(path: &Path, value: &Value) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}
