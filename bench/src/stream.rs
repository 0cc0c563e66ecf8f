//! A streamed LLM answer through `ChatStream` against a hand-written reqwest loop that splits
//! the same bytes on blank lines and parses each event with serde_json: CPU per event (of the
//! thread that runs both, in alternating rounds), and the peak heap a stream adds as it grows.

use std::time::Duration;

use bytes::Bytes;
use gipity_runtime::Client;
use gipity_runtime::llm::{ChatEvent, ChatRequest};
use serde::Deserialize;

use crate::alloc;
use crate::server::{APP, Server, TOKEN};

/// How much work one run does.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Alternating rounds of the CPU measurement.
    pub rounds: usize,
    /// Events of each stream in the CPU measurement.
    pub events: usize,
    /// Stream lengths of the memory measurement.
    pub memory_events: &'static [usize],
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Events per stream of the CPU rounds.
    pub events: usize,
    /// CPU nanoseconds per event through `ChatStream`, one sample per round.
    pub stub_ns: Vec<f64>,
    /// The same for the hand-written loop.
    pub baseline_ns: Vec<f64>,
    /// Stub over baseline, per round.
    pub ratio: Vec<f64>,
    /// Per stream length: (events, the stub's peak added heap bytes, the baseline's), each the
    /// median of [`MEMORY_RUNS`] runs.
    pub memory: Vec<(usize, f64, f64)>,
    /// The least the live heap went below its start in any memory run (0 when never: no
    /// earlier memory freed during a run hid part of a peak).
    pub least: isize,
    /// Streams served, and streams that came back complete and exact.
    pub served: u64,
    pub exact: u64,
}

/// Runs of each caller at each length of the memory measurement.
const MEMORY_RUNS: usize = 5;

impl Plan {
    /// The streams a run asks for: two warm-up pairs, a pair per round, [`MEMORY_RUNS`] pairs
    /// per length.
    pub fn streams(&self) -> u64 {
        2 * (2 + self.rounds + MEMORY_RUNS * self.memory_events.len()) as u64
    }
}

impl Report {
    /// The stub's peak added heap bytes at `events` events, when measured.
    pub fn peak(&self, events: usize) -> Option<f64> {
        self.memory
            .iter()
            .find(|(measured, _, _)| *measured == events)
            .map(|(_, stub, _)| *stub)
    }

    /// The stub's peak at the longest stream over its peak at the one before, ten times
    /// shorter. (The shortest, 1,000 events or 130 kB, often ends before the transport's read
    /// buffer has grown to its ceiling, for the hand-written loop too, so it is reported but
    /// not compared.)
    pub fn growth(&self) -> Option<f64> {
        let [.., before, last] = self.memory.as_slice() else {
            return None;
        };
        (before.1 > 0.0).then(|| last.1 / before.1)
    }

    /// The stub's peak at the longest stream over the hand-written loop's.
    pub fn over_baseline(&self) -> Option<f64> {
        let (_, stub, baseline) = self.memory.last()?;
        (*baseline > 0.0).then(|| stub / baseline)
    }
}

/// The median of `samples` (the upper middle one of an even count).
fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `1k`, `10k`, `100k`: a stream length as the summary keys name it.
pub fn label(events: usize) -> String {
    if events >= 1_000 && events.is_multiple_of(1_000) {
        format!("{}k", events / 1_000)
    } else {
        events.to_string()
    }
}

/// The summary key of the peak heap at `events` events, for the lengths the summary lists.
pub fn summary_key(events: usize) -> Option<&'static str> {
    match events {
        1_000 => Some("stream_peak_heap_bytes_1k"),
        10_000 => Some("stream_peak_heap_bytes_10k"),
        100_000 => Some("stream_peak_heap_bytes_100k"),
        _ => None,
    }
}

/// The content of event `n`.
fn word(n: usize) -> &'static str {
    const WORDS: [&str; 8] = [
        "The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "dog. ",
    ];
    WORDS[n % WORDS.len()]
}

/// What a caller makes of a streamed answer.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    text: String,
    finish_reason: Option<String>,
    total_tokens: Option<u64>,
    credits_used: Option<u64>,
}

/// What a stream of `events` deltas ([`sse_body`]) must come to.
fn expected_answer(events: usize) -> Answer {
    Answer {
        text: (0..events).map(word).collect(),
        finish_reason: Some("stop".to_owned()),
        total_tokens: Some(11),
        credits_used: Some(3),
    }
}

/// An answer of `events` text deltas, then the final chunk and `[DONE]`, as the platform
/// streams it.
pub fn sse_body(events: usize) -> Bytes {
    let mut body = String::with_capacity(events * 140 + 256);
    for n in 0..events {
        body.push_str(r#"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"bench","choices":[{"index":0,"delta":{"content":""#);
        body.push_str(word(n));
        body.push_str("\"},\"finish_reason\":null}]}\n\n");
    }
    body.push_str(r#"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"bench","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":9,"total_tokens":11},"credits_used":3}"#);
    body.push_str("\n\ndata: [DONE]\n\n");
    Bytes::from(body)
}

/// Runs the streaming benchmark.
///
/// # Errors
/// If a stream fails or assembles the wrong text.
pub fn run(server: &Server, plan: &Plan) -> Result<Report, String> {
    // One thread runs the callers, their connections and timers: its CPU time is theirs.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    runtime.block_on(measure(server, plan))
}

async fn measure(server: &Server, plan: &Plan) -> Result<Report, String> {
    // A session client, as in the browser; the longest stream (100,000 events) is 13 MB.
    let client = Client::builder(APP)
        .base_url(&server.base_url)
        .max_response_bytes(1 << 30)
        .build()
        .map_err(|error| error.to_string())?;
    let baseline = Hand::new(&server.base_url)?;
    let mut report = Report {
        events: plan.events,
        ..Report::default()
    };
    let served_before = server.streams_served();

    server.set_stream(sse_body(plan.events));
    let expected = expected_answer(plan.events);
    // Warm up both: connections, the app token, caches.
    for _ in 0..2 {
        report.exact += u64::from(stub(&client).await? == expected);
        report.exact += u64::from(baseline.stream().await? == expected);
    }
    for round in 0..plan.rounds {
        let mut ns = [0.0; 2];
        // Alternate which goes first, so that neither always runs on a warmer cache.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for slot in order {
            let before = crate::cpu::thread();
            let answer = if slot == 0 {
                stub(&client).await?
            } else {
                baseline.stream().await?
            };
            let used = crate::cpu::thread().saturating_sub(before);
            report.exact += u64::from(answer == expected);
            ns[slot] = used.as_nanos() as f64 / plan.events as f64;
        }
        report.stub_ns.push(ns[0]);
        report.baseline_ns.push(ns[1]);
        report.ratio.push(ns[0] / ns[1]);
    }

    for &events in plan.memory_events {
        server.set_stream(sse_body(events));
        let expected = expected_answer(events);
        // The median of a few runs: now and then the transport holds a second read buffer
        // while the first is still referenced (hyper's buffers reach about 417 KiB), whatever
        // the stream's length.
        let mut peaks: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..MEMORY_RUNS {
            for (slot, peak) in peaks.iter_mut().enumerate() {
                // Let the previous stream's connection settle (its buffers freed or back in
                // the pool) before counting.
                tokio::time::sleep(Duration::from_millis(5)).await;
                alloc::start();
                let answer = if slot == 0 {
                    stub(&client).await?
                } else {
                    baseline.stream().await?
                };
                // The assembled text is the caller's, not the stream's: it is not counted.
                let (peak_bytes, least) = alloc::stop();
                let added = peak_bytes.saturating_sub(answer.text.capacity());
                report.least = report.least.min(least);
                report.exact += u64::from(answer == expected);
                peak.push(added as f64);
            }
        }
        let [stub_peaks, baseline_peaks] = peaks;
        report
            .memory
            .push((events, median(stub_peaks), median(baseline_peaks)));
    }
    report.served = server.streams_served() - served_before;
    Ok(report)
}

/// The request both callers send.
fn request() -> ChatRequest {
    ChatRequest::new().prompt("Tell me about the fox.")
}

/// One streamed answer through `ChatStream`, its text assembled.
async fn stub(client: &Client) -> Result<Answer, String> {
    let mut stream = client
        .llm()
        .idle_timeout(Duration::from_secs(30))
        .stream(&request())
        .await
        .map_err(|error| format!("stub: {error}"))?;
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        match event.map_err(|error| format!("stub: {error}"))? {
            ChatEvent::Delta { text: delta } => text.push_str(&delta),
            ChatEvent::Done {
                finish_reason,
                usage,
                credits_used,
                ..
            } => {
                return Ok(Answer {
                    text,
                    finish_reason,
                    total_tokens: usage.map(|usage| usage.total_tokens),
                    credits_used,
                });
            }
            _ => {}
        }
    }
    Err("stub: the stream ended without its final event".into())
}

/// The hand-written loop: reqwest, the body split on blank lines (memchr's `memmem`), each
/// event parsed with serde_json into the chunk's shape.
struct Hand {
    http: reqwest::Client,
    url: String,
    body: Bytes,
}

#[derive(Deserialize)]
struct Chunk {
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    credits_used: Option<f64>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    total_tokens: u64,
}

impl Hand {
    fn new(base_url: &str) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|error| error.to_string())?;
        let body = serde_json::to_vec(&serde_json::json!({
            "prompt": "Tell me about the fox.",
            "stream": true,
        }))
        .map_err(|error| error.to_string())?;
        Ok(Self {
            http,
            url: format!("{base_url}/api/{APP}/services/llm"),
            body: Bytes::from(body),
        })
    }

    async fn stream(&self) -> Result<Answer, String> {
        let fail = |error: reqwest::Error| format!("baseline: {error}");
        let mut response = self
            .http
            .post(&self.url)
            .header("x-app-token", TOKEN)
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(self.body.clone())
            .send()
            .await
            .map_err(fail)?;
        if !response.status().is_success() {
            return Err(format!("baseline: status {}", response.status()));
        }
        let mut answer = Answer {
            text: String::new(),
            finish_reason: None,
            total_tokens: None,
            credits_used: None,
        };
        let mut buffer: Vec<u8> = Vec::new();
        let blank_line = memchr::memmem::Finder::new(b"\n\n");
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            buffer.extend_from_slice(&chunk);
            let mut start = 0;
            while let Some(end) = blank_line.find(&buffer[start..]) {
                let event = &buffer[start..start + end];
                start += end + 2;
                let Some(data) = event.strip_prefix(b"data: ") else {
                    continue;
                };
                if data == b"[DONE]" {
                    return Ok(answer);
                }
                let chunk: Chunk =
                    serde_json::from_slice(data).map_err(|error| format!("baseline: {error}"))?;
                for choice in chunk.choices {
                    if let Some(content) = &choice.delta.content {
                        answer.text.push_str(content);
                    }
                    if choice.finish_reason.is_some() {
                        answer.finish_reason = choice.finish_reason;
                    }
                }
                if let Some(usage) = chunk.usage {
                    answer.total_tokens = Some(usage.total_tokens);
                }
                if let Some(credits) = chunk.credits_used {
                    answer.credits_used = Some(credits as u64);
                }
            }
            // Only the unfinished event's bytes move.
            buffer.drain(..start);
        }
        Err("baseline: the stream ended before [DONE]".into())
    }
}
