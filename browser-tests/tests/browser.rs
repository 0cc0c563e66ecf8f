//! gipity-runtime in a real browser: headless Chromium, the page on http://127.0.0.1:8000,
//! the emulator binary on http://127.0.0.1:8787 (started with `--test-controls`).
//!
//! Run with `cargo xtask ci`, or by hand:
//! `gipity-emulator --port 8787 --test-controls &` then
//! `CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_ADDRESS=127.0.0.1:8000
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! cargo test -p gipity-browser-tests --target wasm32-unknown-unknown`.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use gipity_runtime::browser::PopupHandler;
use gipity_runtime::llm::{ChatEvent, ChatRequest};
use gipity_runtime::services::{TranscribeRequest, TtsRequest};
use gipity_runtime::{
    Auth, AuthOutcome, ChallengeKind, Client, Credentials, Error, RemoteFunction, User,
};
use serde_json::{Value, json};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const API: &str = match option_env!("GIPITY_TEST_API") {
    Some(api) => api,
    None => "http://127.0.0.1:8787",
};
const APP: &str = "p_demo";
/// A second emulator, another origin: where redirects point.
const ELSEWHERE: &str = match option_env!("GIPITY_TEST_ELSEWHERE") {
    Some(elsewhere) => elsewhere,
    None => "http://127.0.0.1:8788",
};

/// Calls an emulator test control.
async fn control(path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{API}/__emulator/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "control {path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Reads an emulator test view.
async fn view(path: &str) -> Value {
    view_of(API, path).await
}

/// Reads a test view of the emulator at `base`.
async fn view_of(base: &str, path: &str) -> Value {
    let response = reqwest::get(format!("{base}/__emulator/{path}"))
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "view {path}: {}",
        response.status()
    );
    response.json::<Value>().await.unwrap()["data"].clone()
}

/// A clean emulator: no sessions, faults, counters; login pages decide `decision`.
async fn fresh(decision: &str) {
    control("reset", json!({})).await;
    // A reset keeps billing modes: put back the platform's default, whatever a failed test
    // left.
    for service in ["llm", "tts", "transcribe"] {
        billing(service, "user_pays").await;
    }
    control(
        "auto",
        json!({ "decision": decision, "user": "Browser User" }),
    )
    .await;
}

fn client(handler: Option<PopupHandler>) -> Client {
    let builder = Client::builder(APP).base_url(API);
    match handler {
        Some(handler) => builder.auth_handler(handler),
        None => builder,
    }
    .build()
    .unwrap()
}

/// Popups are allowed without a gesture in this browser (the test flag): skip the up-front
/// user-activation check so the popup really opens.
fn popup() -> PopupHandler {
    PopupHandler::new()
        .require_user_activation(false)
        .timeout(Duration::from_secs(10))
}

async fn requests(path: &str) -> Vec<Value> {
    view(&format!("requests?path={path}"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// The sample app's own functions (`examples/gipity-app`, served by the same emulator with
/// `--project` as `p_local`), checked against its manifest.
#[gipity_runtime::functions(manifest = "../examples/gipity-app/gipity.yaml")]
trait Twin {
    #[gipity(name = "list-items")]
    async fn list_items(&self, category: &str) -> gipity_runtime::Result<Vec<Value>>;
    #[gipity(name = "add-todo")]
    async fn add_todo(&self, title: &str) -> gipity_runtime::Result<Value>;
    #[gipity(name = "my-todos")]
    async fn my_todos(&self) -> gipity_runtime::Result<Value>;
    async fn boom(&self, id: u32) -> gipity_runtime::Result<()>;
}

#[wasm_bindgen_test]
async fn the_apps_own_functions_and_database_from_the_browser() {
    fresh("approve").await;
    let client = Client::builder("p_local")
        .base_url(API)
        .auth_handler(popup())
        .build()
        .unwrap();
    let books = client.list_items("books").await.unwrap();
    assert_eq!(books[0]["name"], json!("Dune"));
    assert_eq!(
        books[0]["price"],
        json!("12.99"),
        "numeric arrives as a string"
    );
    // `auth: user` in the manifest: the first call signs in through the popup.
    let before = client.my_todos().await.unwrap()["count"].as_u64().unwrap();
    let added = client.add_todo("from the browser").await.unwrap();
    assert_eq!(added["title"], json!("from the browser"));
    let after = client.my_todos().await.unwrap();
    assert_eq!(after["count"].as_u64(), Some(before + 1), "{after}");
    let err = client.boom(7).await.unwrap_err();
    assert!(
        matches!(&err, gipity_runtime::Error::Http { status: 500, message: Some(m), .. } if m == "no item 7"),
        "{err:?}"
    );
}

#[wasm_bindgen_test]
async fn public_call() {
    fresh("none").await;
    let echoed: Value = client(None)
        .call("echo", &json!({"from": "wasm"}))
        .await
        .unwrap();
    assert_eq!(echoed, json!({"from": "wasm"}));
    let calls = view(&format!("calls?app={APP}&function=echo")).await;
    assert_eq!(calls["executions"], json!(1));
}

#[wasm_bindgen_test]
async fn login_required_popup_success_then_retried() {
    fresh("approve").await;
    let me: User = client(Some(popup()))
        .call("whoami", &json!({}))
        .await
        .unwrap();
    assert_eq!(me.display_name, "Browser User");
    let calls = view(&format!("calls?app={APP}&function=whoami")).await;
    assert_eq!(calls["calls"], json!(2), "one LOGIN_REQUIRED, one retry");
    assert_eq!(calls["executions"], json!(1));
    // The session cookie (HttpOnly, set by the popup) rides on the retried call.
    let sent = requests(&format!("/api/{APP}/fn/whoami")).await;
    assert_eq!(sent.last().unwrap()["hasCookie"], json!(true));
}

#[wasm_bindgen_test]
async fn consent_popup_success() {
    fresh("approve").await;
    let client = client(Some(popup()));
    let _: User = client.call("whoami", &json!({})).await.unwrap();
    // `consented-ai` needs IDENTITY | AI; the login granted IDENTITY only.
    let ai: Value = client.call("consented-ai", &json!({})).await.unwrap();
    assert_eq!(ai, json!({"ok": true}));
    let consent_pages = requests("/api/auth/consent").await;
    assert_eq!(consent_pages.len(), 1, "one consent popup");
}

#[wasm_bindgen_test]
async fn denied_popup_is_a_typed_error() {
    fresh("deny").await;
    let err = client(Some(popup()))
        .call::<Value>("whoami", &json!({}))
        .await
        .unwrap_err();
    let Error::LoginRequired(challenge) = err else {
        panic!("expected LoginRequired, got {err:?}");
    };
    assert_eq!(challenge.outcome(), Some(AuthOutcome::Denied));
}

#[wasm_bindgen_test]
async fn closed_popup_is_cancelled() {
    fresh("close").await;
    let err = client(Some(popup()))
        .call::<Value>("whoami", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        err.challenge().and_then(|c| c.outcome()),
        Some(AuthOutcome::Cancelled),
        "{err:?}"
    );
}

#[wasm_bindgen_test]
async fn blocked_popup_then_resumed_from_the_challenge() {
    fresh("approve").await;
    // The default handler requires a user gesture; a test has none, so it reports Blocked
    // without opening anything.
    let client = client(Some(PopupHandler::new()));
    let err = client.call::<User>("whoami", &json!({})).await.unwrap_err();
    let Error::LoginRequired(challenge) = err else {
        panic!("expected LoginRequired, got {err:?}");
    };
    assert_eq!(challenge.kind(), ChallengeKind::Login);
    assert_eq!(challenge.outcome(), Some(AuthOutcome::Blocked));
    assert!(
        requests("/api/auth/login").await.is_empty(),
        "no popup was opened"
    );
    // What a click handler does: open the popup from the challenge, then call again.
    assert_eq!(challenge.open_popup().await, AuthOutcome::Completed);
    let me: User = client.call("whoami", &json!({})).await.unwrap();
    assert_eq!(me.display_name, "Browser User");
}

#[wasm_bindgen_test]
async fn concurrent_calls_share_one_popup() {
    fresh("approve").await;
    let client = client(Some(popup()));
    let body = json!({});
    let (a, b, c) = tokio::join!(
        client.call::<User>("whoami", &body),
        client.call::<User>("whoami", &body),
        client.call::<User>("whoami", &body),
    );
    assert!(a.is_ok() && b.is_ok() && c.is_ok());
    assert_eq!(
        requests("/api/auth/login").await.len(),
        1,
        "one popup for three calls"
    );
}

#[wasm_bindgen_test]
async fn cookie_only_on_session_clients() {
    fresh("approve").await;
    let session = client(Some(popup()));
    let _: User = session.call("whoami", &json!({})).await.unwrap();
    let anonymous = Client::builder(APP)
        .base_url(API)
        .credentials(Credentials::anonymous())
        .build()
        .unwrap();
    let _: Value = anonymous
        .call_function(&RemoteFunction::new("echo").auth(Auth::Public), &json!(1))
        .await
        .unwrap();
    let _: Value = session.call("echo", &json!(2)).await.unwrap();
    let sent: Vec<Value> = requests(&format!("/api/{APP}/fn/echo"))
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST")
        .collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0]["hasCookie"],
        json!(false),
        "anonymous: no credentials: include"
    );
    assert_eq!(sent[0]["hasAppToken"], json!(false));
    assert_eq!(
        sent[1]["hasCookie"],
        json!(true),
        "session: credentials: include"
    );
    assert_eq!(sent[1]["hasAppToken"], json!(true));
}

#[wasm_bindgen_test]
async fn token_is_refreshed_after_expiry() {
    fresh("none").await;
    let client = client(None);
    let _: Value = client.call("echo", &json!(1)).await.unwrap();
    control("expire-tokens", json!({})).await;
    let _: Value = client.call("echo", &json!(2)).await.unwrap();
    assert_eq!(view("counters").await["tokenMints"], json!(2));
    let calls = view(&format!("calls?app={APP}&function=echo")).await;
    assert_eq!(calls["calls"], json!(3), "one rejected call, one retry");
    assert_eq!(calls["executions"], json!(2));
}

#[wasm_bindgen_test]
async fn timeout_aborts_the_fetch() {
    fresh("none").await;
    let slow = RemoteFunction::new("slow").timeout(Duration::from_millis(300));
    let started = web_time::Instant::now();
    let err = client(None)
        .call_function::<Value>(&slow, &json!({"ms": 3000}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "the fetch was aborted"
    );
}

#[wasm_bindgen_test]
async fn redirect_url_returns_only_to_allowed_hosts() {
    fresh("none").await;
    let err = client(None)
        .call::<Value>("whoami", &json!({}))
        .await
        .unwrap_err();
    let challenge = err.challenge().unwrap();
    let url = challenge
        .redirect_url_to("https://app.gipity.ai/alice/shop/")
        .unwrap();
    assert!(
        url.as_str()
            .contains("return=https%3A%2F%2Fapp.gipity.ai%2Falice%2Fshop%2F")
    );
    assert!(challenge.redirect_url_to("https://evil.example/").is_err());
    assert!(
        challenge
            .redirect_url_to("https://gipity.ai@evil.example/")
            .is_err()
    );
}

/// `add` as a free stub (the ambient client).
#[gipity_runtime::function(auth = "public")]
async fn add(a: f64, b: f64) -> gipity_runtime::Result<f64>;

/// `echo` as a free stub; `EchoArgs` is its explicit-client form.
#[gipity_runtime::function(auth = "public")]
async fn echo(message: &str, tags: Option<Vec<String>>) -> gipity_runtime::Result<Value>;

/// The demo functions as methods of `Client`.
#[gipity_runtime::functions(auth = "public", rename_all = "camelCase")]
trait Demo {
    /// `add`, under another Rust name.
    #[gipity(name = "add")]
    async fn sum(&self, a: f64, b: f64) -> gipity_runtime::Result<f64>;

    /// `echo`, with `camelCase` keys.
    #[gipity(name = "echo")]
    async fn echo_back(&self, first_word: &str) -> gipity_runtime::Result<Value>;
}

#[wasm_bindgen_test]
async fn macro_stubs_on_wasm32() {
    fresh("none").await;
    let client = client(None);
    // A free stub through a scope.
    let sum = client.scope(add(2.0, 3.0)).await.unwrap();
    assert_eq!(sum, 5.0);
    // The generated args struct, through an explicit client; `None` is left out.
    let echoed = EchoArgs {
        message: "hi",
        tags: None,
    }
    .call(&client)
    .await
    .unwrap();
    assert_eq!(echoed, json!({"message": "hi"}));
    // Outside a scope a free stub has no client (this suite installs none).
    assert!(matches!(add(1.0, 1.0).await, Err(Error::NoClient)));
    // The grouped form: methods of `Client`.
    assert_eq!(client.sum(0.5, 0.25).await.unwrap(), 0.75);
    assert_eq!(
        client.echo_back("hello").await.unwrap(),
        json!({"firstWord": "hello"})
    );
    let calls = view(&format!("calls?app={APP}&function=add")).await;
    assert_eq!(calls["executions"], json!(2));
    assert_eq!(
        view(&format!("calls?app={APP}&function=echo")).await["bodies"],
        json!([{"message": "hi"}, {"firstWord": "hello"}])
    );
}

/// Waits `ms` milliseconds.
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Arms `fault` on `echo` of the main emulator, `times`.
async fn fault_on_echo(fault: Value, times: &str) {
    control(
        "fault",
        json!({"target": {"app": APP, "function": "echo"}, "fault": fault, "times": times}),
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_redirect_is_not_followed() {
    fresh("none").await;
    let reset = reqwest::Client::new()
        .post(format!("{ELSEWHERE}/__emulator/reset"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success());
    for status in [307, 308, 302] {
        fault_on_echo(
            json!({"kind": "redirect", "status": status, "location": format!("{ELSEWHERE}/api/{APP}/fn/echo")}),
            "once",
        )
        .await;
        let err = client(None)
            .call::<Value>("echo", &json!({"n": 1}))
            .await
            .unwrap_err();
        // The browser hides a redirect's status from the page.
        assert!(
            matches!(err, Error::Redirected { status: None, .. }),
            "{status}: {err:?}"
        );
    }
    let calls = view(&format!("calls?app={APP}&function=echo")).await;
    assert_eq!(calls["calls"], json!(3), "each call sent once");
    let other = view_of(ELSEWHERE, "counters").await;
    assert_eq!(
        other["httpRequests"],
        json!(0),
        "the other origin received nothing: {other}"
    );
}

#[wasm_bindgen_test]
async fn an_endless_body_is_cut_at_the_limit() {
    fresh("none").await;
    fault_on_echo(json!({"kind": "endlessBody"}), "once").await;
    let client = Client::builder(APP)
        .base_url(API)
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    let err = client
        .call::<Value>("echo", &json!({"n": 1}))
        .await
        .unwrap_err();
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
    // Settled: the same on two reads 300 ms apart, within 15 s.
    let sent = || async { view("counters").await["bodyBytesSent"].as_u64().unwrap() };
    let mut stopped = sent().await;
    for _ in 0..50 {
        sleep(300).await;
        let now = sent().await;
        if now == stopped {
            break;
        }
        stopped = now;
    }
    sleep(300).await;
    assert_eq!(sent().await, stopped, "the browser stopped receiving");
    wasm_bindgen_test::console_log!(
        "endless body, 64 KiB limit: {stopped} bytes sent before the browser hung up"
    );
    assert!(stopped < 32 * 1024 * 1024, "{stopped} bytes sent");
    // The client is still usable.
    let echoed: Value = client.call("echo", &json!({"after": true})).await.unwrap();
    assert_eq!(echoed, json!({"after": true}));
}

/// Who pays for the demo app's LLM service.
async fn llm_billing(mode: &str) {
    billing("llm", mode).await;
}

async fn billing(service: &str, mode: &str) {
    control(
        "billing",
        json!({"app": APP, "service": service, "mode": mode}),
    )
    .await;
}

#[wasm_bindgen_test]
async fn media_services_upload_and_read_the_rate_limit_cross_origin() {
    fresh("none").await;
    for service in ["tts", "transcribe", "llm"] {
        billing(service, "owner_pays").await;
    }
    control("rate-limit", json!({"limit": 50, "windowSeconds": 60})).await;
    let client = client(None);
    let speech = client.services().tts(&TtsRequest::new("hi")).await.unwrap();
    assert!(speech.url.contains("/__media/tts/"), "{}", speech.url);
    // The page is on another origin: the headers are readable because the API exposes them.
    let rate = speech
        .rate_limit
        .expect("the rate limit is exposed to the page");
    assert_eq!((rate.limit, rate.remaining), (Some(50), Some(49)));
    // A multipart upload made by the runtime itself, through fetch.
    let audio = TranscribeRequest::new(&b"hello from chromium"[..], "audio/wav")
        .file_name("memo.wav")
        .language("en");
    let transcript = client.services().transcribe(&audio).await.unwrap();
    assert_eq!(transcript.text, "hello from chromium");
    assert_eq!(transcript.words.len(), 3);
    assert_eq!(transcript.rate_limit.unwrap().remaining, Some(48));
    let stream = client
        .llm()
        .stream(&ChatRequest::new().prompt("ab"))
        .await
        .unwrap();
    assert_eq!(stream.rate_limit().unwrap().remaining, Some(47));
    assert_eq!(stream.text().await.unwrap().0, "ba");
    for service in ["tts", "transcribe", "llm"] {
        billing(service, "user_pays").await;
    }
}

#[wasm_bindgen_test]
async fn llm_chat_and_stream() {
    fresh("none").await;
    llm_billing("owner_pays").await;
    let client = client(None);
    let request = ChatRequest::new().prompt("hello browser");
    let whole = client.llm().chat(&request).await.unwrap();
    assert_eq!(whole.text(), "resworb olleh");
    let (text, done) = client
        .llm()
        .stream(&request)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, whole.text());
    assert!(
        matches!(&done, ChatEvent::Done { finish_reason: Some(reason), .. } if reason == "stop"),
        "{done:?}"
    );
    // A stream cut short is an error, not a short answer.
    fault_on_llm(json!({"kind": "streamCut", "after": 1})).await;
    let err = client
        .llm()
        .stream(&request)
        .await
        .unwrap()
        .text()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Stream { .. }), "{err:?}");
    llm_billing("user_pays").await;
}

#[wasm_bindgen_test]
async fn llm_under_user_pays_signs_in_through_the_popup_then_streams() {
    fresh("approve").await;
    llm_billing("user_pays").await;
    let client = client(Some(popup()));
    let (text, _) = client
        .llm()
        .stream(&ChatRequest::new().prompt("abc"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "cba");
    assert_eq!(requests("/api/auth/login").await.len(), 1, "one popup");
}

/// Arms `fault` once on the demo app's LLM service.
async fn fault_on_llm(fault: Value) {
    control(
        "fault",
        json!({"target": {"app": APP, "service": "llm"}, "fault": fault, "times": "once"}),
    )
    .await;
}

#[wasm_bindgen_test]
async fn llm_after_a_sign_in_asks_for_ai_consent_then_streams() {
    fresh("approve").await;
    llm_billing("user_pays").await;
    let client = client(Some(popup()));
    // Signed in for IDENTITY only, through a function.
    let me: User = client.call("whoami", &json!({})).await.unwrap();
    let (text, _) = client
        .llm()
        .stream(&ChatRequest::new().prompt("consent"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "tnesnoc");
    let consents = requests("/api/auth/consent").await;
    assert_eq!(consents.len(), 1, "one consent popup");
    assert!(
        consents[0]["path"]
            .as_str()
            .unwrap()
            .contains("permissions=5"),
        "{consents:?}"
    );
    // The user paid: out of credits, the next answer is its own error, sent once.
    control("credits", json!({"user": me.guid, "credits": 0})).await;
    let before = requests(&format!("/api/{APP}/services/llm")).await.len();
    let err = client
        .llm()
        .chat(&ChatRequest::new().prompt("more"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InsufficientCredits { .. }), "{err:?}");
    let after = requests(&format!("/api/{APP}/services/llm")).await.len();
    assert_eq!(after - before, 1, "never retried");
}

#[wasm_bindgen_test]
async fn llm_stream_faults_and_a_dropped_stream_in_the_browser() {
    fresh("none").await;
    llm_billing("owner_pays").await;
    let client = client(None);
    let request = ChatRequest::new().prompt("a longer answer to stream");
    // Malformed: the deltas before it, then the error.
    fault_on_llm(json!({"kind": "streamMalformed", "after": 1})).await;
    let mut stream = client.llm().stream(&request).await.unwrap();
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Delta { .. }))
    ));
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Stream { .. }), "{err:?}");
    // Stalled: the idle timeout ends it.
    fault_on_llm(json!({"kind": "streamStall", "after": 1})).await;
    let err = client
        .llm()
        .idle_timeout(Duration::from_millis(300))
        .stream(&request)
        .await
        .unwrap()
        .text()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Stream { detail, .. } if detail.contains("no event")),
        "{err:?}"
    );
    // The stream that timed out was dropped, so its fetch was aborted: the server sees it.
    let aborted = aborted_streams_above(0).await;
    // Dropped after its first event: the fetch is aborted too.
    fault_on_llm(json!({"kind": "streamStall", "after": 1})).await;
    let mut stream = client.llm().stream(&request).await.unwrap();
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Delta { .. }))
    ));
    drop(stream);
    aborted_streams_above(aborted).await;
    // The owner is out of credits: a typed error.
    control("credits", json!({"app": APP, "credits": 0})).await;
    let err = client.llm().stream(&request).await.unwrap_err();
    assert!(matches!(err, Error::InsufficientCredits { .. }), "{err:?}");
    llm_billing("user_pays").await;
}

/// Waits (up to a second) until the emulator has seen more than `count` streams aborted, and
/// returns how many.
async fn aborted_streams_above(count: u64) -> u64 {
    for _ in 0..50 {
        let seen = view("counters").await["streamsAborted"].as_u64().unwrap();
        if seen > count {
            return seen;
        }
        sleep(20).await;
    }
    panic!("the server saw no more than {count} streams aborted");
}
