//! The app services: the LLM's fake model, as one answer and as server-sent events (and the
//! faults inside a stream), billing modes and credits, the lists and the media shapes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{assert_error, client, send, token};
use gipity_emulator::{Billing, Emulator, Fault, Target, Times};
use serde_json::{Value, json};

const APP: &str = "p_svc";

async fn setup(billing: Billing) -> (Emulator, String) {
    let emulator = Emulator::start().await.unwrap();
    emulator.app(APP).set_billing("llm", billing);
    let token = token(&emulator, APP).await;
    (emulator, token)
}

fn llm(emulator: &Emulator, token: &str, body: &Value) -> reqwest::RequestBuilder {
    service(emulator, token, "llm", body)
}

/// `POST /api/p_svc/services/<name>` with an app token.
fn service(emulator: &Emulator, token: &str, name: &str, body: &Value) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/api/{APP}/services/{name}", emulator.base_url()))
        .header("X-App-Token", token)
        .json(body)
}

/// The `data:` payloads of an event stream, and whether it ended with `[DONE]`.
fn events(text: &str) -> (Vec<Value>, bool) {
    let mut values = Vec::new();
    let mut done = false;
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        for line in block.lines() {
            if let Some(data) = line.strip_prefix("data: ") {
                if data == "[DONE]" {
                    done = true;
                } else {
                    values.push(serde_json::from_str(data).unwrap_or(Value::Null));
                }
            }
        }
    }
    (values, done)
}

#[tokio::test]
async fn a_chat_answer_is_the_last_user_message_reversed_and_not_wrapped() {
    let (emulator, token) = setup(Billing::OwnerPays).await;
    let body = json!({"messages": [{"role": "user", "content": "abc"}, {"role": "assistant", "content": "x"}, {"role": "user", "content": "hello"}]});
    let r = send(llm(&emulator, &token, &body)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["object"], "chat.completion");
    assert_eq!(r.body["choices"][0]["message"]["content"], "olleh");
    assert_eq!(r.body["choices"][0]["finish_reason"], "stop");
    assert_eq!(r.body["model"], "emulator-medium");
    assert!(r.body.get("data").is_none(), "POST answers are not wrapped");
    let credits = r.body["credits_used"].as_u64().unwrap();
    assert_eq!(emulator.app(APP).owner_credits(), 1_000 - credits);
    assert_eq!(r.header("ratelimit-limit"), Some("600"));
    // The list is wrapped.
    let r = send(
        client()
            .get(format!(
                "{}/api/{APP}/services/llm/models",
                emulator.base_url()
            ))
            .header("X-App-Token", &token),
    )
    .await;
    assert_eq!(r.body["data"]["models"][0]["id"], "emulator-small");
}

#[tokio::test]
async fn a_stream_sends_deltas_then_the_final_event_then_done() {
    let (emulator, token) = setup(Billing::OwnerPays).await;
    emulator.app(APP).set_llm_stream(2, Duration::ZERO);
    let response = llm(
        &emulator,
        &token,
        &json!({"prompt": "abcde", "stream": true}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let text = response.text().await.unwrap();
    assert!(text.starts_with(": keep-alive\n\n"), "{text}");
    let (values, done) = events(&text);
    assert!(done);
    let deltas: Vec<&str> = values
        .iter()
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(deltas, ["ed", "cb", "a"]);
    let last = values.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert!(last["usage"]["total_tokens"].as_u64().is_some());
    assert!(last["credits_used"].as_u64().is_some());
}

#[tokio::test]
async fn stream_faults_cut_stall_and_break_a_stream() {
    let (emulator, token) = setup(Billing::OwnerPays).await;
    emulator.app(APP).set_llm_stream(1, Duration::ZERO);
    let target = Target::service(APP, "llm");
    let body = json!({"prompt": "abcdef", "stream": true});

    emulator.inject(target.clone(), Fault::StreamCut { after: 2 }, Times::Once);
    let text = llm(&emulator, &token, &body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (values, done) = events(&text);
    assert_eq!((values.len(), done), (2, false), "{text}");

    emulator.inject(
        target.clone(),
        Fault::StreamMalformed { after: 1 },
        Times::Once,
    );
    let text = llm(&emulator, &token, &body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (values, _) = events(&text);
    assert_eq!(
        values[1],
        Value::Null,
        "the second event is not JSON: {text}"
    );

    // Past the last text event: after it, before the final event.
    emulator.inject(target.clone(), Fault::StreamCut { after: 99 }, Times::Once);
    let text = llm(&emulator, &token, &body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (values, done) = events(&text);
    assert_eq!((values.len(), done), (6, false), "{text}");

    // A stream fault armed first does not hold up a fault for the answer itself.
    emulator.inject(target.clone(), Fault::StreamCut { after: 1 }, Times::Once);
    emulator.inject(
        target.clone(),
        Fault::RateLimited { retry_after: None },
        Times::Once,
    );
    let r = llm(&emulator, &token, &body).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let text = llm(&emulator, &token, &body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(events(&text).0.len(), 1, "{text}");

    emulator.inject(target, Fault::StreamStall { after: 3 }, Times::Once);
    let mut response = llm(&emulator, &token, &body).send().await.unwrap();
    let mut received = String::new();
    let stalled = tokio::time::timeout(Duration::from_millis(500), async {
        while let Some(chunk) = response.chunk().await.unwrap() {
            received.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(stalled.is_err(), "a stalled stream does not end");
    assert_eq!(events(&received).0.len(), 3, "{received}");
    drop(response);
    // The client went away mid-stream: the emulator saw it.
    let mut aborted = 0;
    for _ in 0..50 {
        aborted = emulator.counters().streams_aborted;
        if aborted > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(aborted, 1);
}

#[tokio::test]
async fn user_pays_challenges_and_charges_the_user() {
    let (emulator, token) = setup(Billing::UserPays).await;
    let body = json!({"prompt": "hi"});
    let r = send(llm(&emulator, &token, &body)).await;
    assert_error(&r, 401, "LOGIN_REQUIRED");
    assert!(
        r.body["error"]["loginUrl"]
            .as_str()
            .unwrap()
            .ends_with("permissions=5")
    );
    let user = emulator.create_user("Payer");
    let cookie = emulator.sign_in(&user);
    emulator.grant_consent(&user, APP, 1);
    let r = send(llm(&emulator, &token, &body).header("Cookie", &cookie)).await;
    assert_error(&r, 403, "CONSENT_REQUIRED");
    assert!(
        r.body["error"]["consentUrl"]
            .as_str()
            .unwrap()
            .ends_with("permissions=5")
    );
    emulator.grant_consent(&user, APP, 5);
    let r = send(llm(&emulator, &token, &body).header("Cookie", &cookie)).await;
    assert_eq!(r.status, 200);
    let credits = r.body["credits_used"].as_u64().unwrap();
    assert_eq!(emulator.credits(&user), 1_000 - credits);
    emulator.set_credits(&user, 0);
    let r = send(llm(&emulator, &token, &body).header("Cookie", &cookie)).await;
    assert_error(&r, 402, "INSUFFICIENT_CREDITS");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Insufficient credits")
    );
    // No app token at all: refused whoever calls.
    let r = send(
        client()
            .post(format!("{}/api/{APP}/services/llm", emulator.base_url()))
            .header("Cookie", &cookie)
            .json(&body),
    )
    .await;
    assert_error(&r, 401, "APP_TOKEN_REQUIRED");
}

#[tokio::test]
async fn bad_chat_requests_are_400s() {
    let (emulator, token) = setup(Billing::OwnerPays).await;
    let many: Vec<Value> = (0..21)
        .map(|_| json!({"role": "user", "content": "x"}))
        .collect();
    for body in [
        json!({"messages": many}),
        json!({"prompt": "x".repeat(32_001)}),
        json!({"prompt": "x", "model": "default"}),
        json!({"prompt": "x", "model": "no-such-model"}),
        json!({"prompt": "x", "temperature": 3}),
        json!({"prompt": "x", "max_tokens": 0}),
        json!({"prompt": "x", "image": {"data": "https://e.example/x.png", "media_type": "image/png"}}),
        json!({"messages": [{"role": "robot", "content": "x"}]}),
        json!({}),
    ] {
        let r = send(llm(&emulator, &token, &body)).await;
        assert_error(&r, 400, "BAD_REQUEST");
    }
    assert_eq!(emulator.counters().llm_requests, 0);
    // Over 4096 is capped, not refused.
    let r = send(llm(
        &emulator,
        &token,
        &json!({"prompt": "x", "max_tokens": 5000}),
    ))
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn media_services_answer_urls_the_emulator_serves() {
    let (emulator, token) = setup(Billing::OwnerPays).await;
    emulator.app(APP).set_billing("image", Billing::OwnerPays);
    let r = send(service(
        &emulator,
        &token,
        "image",
        &json!({"prompt": "a cat"}),
    ))
    .await;
    assert_eq!(r.status, 200);
    let url = r.body["url"].as_str().unwrap();
    let media = client().get(url).send().await.unwrap();
    assert_eq!(media.status(), 200);
    let r = send(service(&emulator, &token, "nope", &json!({}))).await;
    assert_error(&r, 404, "SERVICE_NOT_FOUND");
}

#[tokio::test]
async fn services_share_one_rate_window_set_over_http() {
    let emulator = Emulator::builder()
        .test_controls(true)
        .start()
        .await
        .unwrap();
    emulator.app(APP).set_billing("llm", Billing::OwnerPays);
    emulator.app(APP).set_billing("tts", Billing::OwnerPays);
    let token = token(&emulator, APP).await;
    let control = format!("{}/__emulator/rate-limit", emulator.base_url());
    let set = send(
        client()
            .post(&control)
            .json(&json!({"limit": 2, "windowSeconds": 30})),
    )
    .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let bad = send(
        client()
            .post(&control)
            .json(&json!({"limit": 2, "windowSeconds": 0})),
    )
    .await;
    assert_error(&bad, 400, "BAD_REQUEST");
    let first = send(llm(&emulator, &token, &json!({"prompt": "ab"}))).await;
    assert_eq!(first.header("ratelimit-limit"), Some("2"));
    assert_eq!(first.header("ratelimit-remaining"), Some("1"));
    assert_eq!(first.header("ratelimit-policy"), Some("2;w=30"));
    let reset: u64 = first.header("ratelimit-reset").unwrap().parse().unwrap();
    assert!((1..=30).contains(&reset), "{reset}");
    // Another service counts in the same window.
    let second = send(service(&emulator, &token, "tts", &json!({"text": "hi"}))).await;
    assert_eq!(second.header("ratelimit-remaining"), Some("0"));
    let over = send(service(&emulator, &token, "tts", &json!({"text": "hi"}))).await;
    assert_error(&over, 429, "RATE_LIMITED");
    let after: u64 = over.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&after), "{after}");
    assert_eq!(over.header("ratelimit-remaining"), Some("0"));
    // A refused call counts, and says so, too.
    let set = send(
        client()
            .post(&control)
            .json(&json!({"limit": 5, "windowSeconds": 30})),
    )
    .await;
    assert_eq!(set.status, 200);
    let refused = send(service(&emulator, &token, "tts", &json!({}))).await;
    assert_error(&refused, 400, "BAD_REQUEST");
    assert_eq!(refused.header("ratelimit-remaining"), Some("4"));
}

#[tokio::test]
async fn transcribe_reads_a_multipart_form_and_refuses_json() {
    let (emulator, token) = setup(Billing::OwnerPays).await;
    emulator
        .app(APP)
        .set_billing("transcribe", Billing::OwnerPays);
    let url = format!("{}/api/{APP}/services/transcribe", emulator.base_url());
    // As Chromium's FormData writes it.
    let form = |parts: &str| {
        client()
            .post(&url)
            .header("X-App-Token", &token)
            .header(
                "Content-Type",
                "multipart/form-data; boundary=----WebKitFormBoundaryQ3j",
            )
            .body(parts.replace('\n', "\r\n"))
    };
    let r = send(form(
        "------WebKitFormBoundaryQ3j\n\
         Content-Disposition: form-data; name=\"language\"\n\n\
         fr\n\
         ------WebKitFormBoundaryQ3j\n\
         Content-Disposition: form-data; name=\"audio\"; filename=\"a.wav\"\n\
         Content-Type: audio/wav\n\n\
         bonjour le monde\n\
         ------WebKitFormBoundaryQ3j--\n",
    ))
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["text"], "bonjour le monde");
    assert_eq!(r.body["language"], "fr");
    assert_eq!(r.body["words"].as_array().unwrap().len(), 3);
    let json = send(service(
        &emulator,
        &token,
        "transcribe",
        &json!({"audio": "x"}),
    ))
    .await;
    assert_error(&json, 400, "BAD_REQUEST");
    let no_audio = send(form(
        "------WebKitFormBoundaryQ3j\n\
         Content-Disposition: form-data; name=\"language\"\n\n\
         fr\n\
         ------WebKitFormBoundaryQ3j--\n",
    ))
    .await;
    assert_error(&no_audio, 400, "BAD_REQUEST");
    assert!(
        no_audio.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("audio")
    );
}
