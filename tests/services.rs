//! App services over HTTP against the emulator: the LLM service (chat, models, limits, streams),
//! billing modes and their errors, the typed media and location calls (a multipart upload
//! among them), rate limits, and the generic call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{APP, builder, emulator, login_client, session_client, signed_in_client};
use gipity_emulator::{Billing, Fault, Target, Times};
use gipity_runtime::llm::{ChatEvent, ChatRequest, Message, Part, Role, Tier};
use gipity_runtime::services::{
    ImageRequest, MusicRequest, SoundRequest, TranscribeRequest, TtsRequest, VideoRequest,
};
use gipity_runtime::{AuthOutcome, ChallengeKind, CookieJar, Credentials, Error};
use serde_json::{Value, json};

fn hello() -> ChatRequest {
    ChatRequest::new()
        .message(Message::system("Be brief."))
        .message(Message::user("hello there"))
}

#[tokio::test]
async fn owner_pays_lets_an_anonymous_session_chat() {
    let emu = emulator().await;
    emu.app(APP).set_billing("llm", Billing::OwnerPays);
    let client = session_client(&emu);
    let answer = client.llm().chat(&hello()).await.unwrap();
    assert_eq!(answer.text(), "ereht olleh");
    assert_eq!(answer.finish_reason(), Some("stop"));
    assert_eq!(answer.model, "emulator-medium");
    let credits = answer.credits_used.unwrap();
    assert!(credits >= 1);
    assert_eq!(emu.app(APP).owner_credits(), 1_000 - credits);
    assert!(answer.usage.unwrap().total_tokens > 0);
    // The call carried the app token, and only that.
    let sent = emu.requests();
    let call = sent
        .iter()
        .find(|r| r.path == format!("/api/{APP}/services/llm"))
        .unwrap();
    assert!(call.header("x-app-token").is_some());
    assert!(call.header("x-request-id").is_some());
    assert_eq!(call.header("authorization"), None);
}

#[tokio::test]
async fn user_pays_asks_an_anonymous_caller_to_sign_in_and_says_why() {
    let emu = emulator().await;
    let err = session_client(&emu).llm().chat(&hello()).await.unwrap_err();
    let Error::LoginRequired(challenge) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(challenge.service(), Some("llm"));
    let permissions: Vec<(String, String)> = challenge
        .url()
        .query_pairs()
        .filter(|(key, _)| key == "permissions")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(permissions, [("permissions".to_owned(), "5".to_owned())]);
    let message = err.to_string();
    assert!(
        message.contains("billed to its users (`user_pays`)"),
        "{message}"
    );
    assert!(message.contains("llm: owner_pays"), "{message}");
    assert_eq!(emu.counters().llm_requests, 0);
}

#[tokio::test]
async fn user_pays_signs_in_then_consents_then_answers_and_charges_the_user() {
    let emu = emulator().await;
    let user = emu.create_user("Payer");
    let jar = CookieJar::new();
    // The handler signs in (the login page grants what it asks for, IDENTITY | AI).
    let (client, runs) = login_client(&emu, jar, user.clone());
    let answer = client.llm().chat(&hello()).await.unwrap();
    assert_eq!(answer.text(), "ereht olleh");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(emu.credits(&user), 1_000 - answer.credits_used.unwrap());
    assert_eq!(emu.app(APP).owner_credits(), 1_000);

    // A signed-in user without AI permission meets a consent challenge.
    emu.revoke_consent(&user, APP);
    emu.grant_consent(&user, APP, 1);
    let asked = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&asked);
    let consenting = emu.clone();
    let granted = user.clone();
    let cookie = emu.sign_in(&user);
    let client = builder(&emu)
        .credentials(Credentials::session().with_cookies(cookie))
        .on_auth_required(move |challenge| {
            seen.fetch_add(1, Ordering::SeqCst);
            assert_eq!(challenge.kind(), ChallengeKind::Consent);
            assert_eq!(challenge.service(), Some("llm"));
            consenting.grant_consent(&granted, APP, 5);
            async { AuthOutcome::Completed }
        })
        .build()
        .unwrap();
    let answer = client.llm().chat(&hello()).await.unwrap();
    assert_eq!(answer.text(), "ereht olleh");
    assert_eq!(asked.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn insufficient_credits_is_its_own_error_and_is_not_retried() {
    let emu = emulator().await;
    let (client, user) = signed_in_client(&emu);
    emu.grant_consent(&user, APP, 5);
    emu.set_credits(&user, 0);
    let err = client.llm().chat(&hello()).await.unwrap_err();
    assert!(
        matches!(&err, Error::InsufficientCredits { status: 402, message: Some(m), .. } if m.contains("Insufficient credits")),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("INSUFFICIENT_CREDITS"));
    assert!(!err.is_retryable());
    let sent = emu
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/services/llm"))
        .count();
    assert_eq!(sent, 1);
}

#[tokio::test]
async fn api_key_and_bearer_clients_are_identified_payers() {
    let emu = emulator().await;
    let key = emu.app(APP).api_key();
    let client = builder(&emu)
        .credentials(Credentials::api_key(key))
        .build()
        .unwrap();
    let answer = client.llm().chat(&hello()).await.unwrap();
    // The key bills the app's owner; it went beside the app token.
    assert_eq!(
        emu.app(APP).owner_credits(),
        1_000 - answer.credits_used.unwrap()
    );
    let call = emu
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/services/llm"))
        .unwrap();
    assert!(call.header("x-app-token").is_some());
    assert!(call.header("x-api-key").is_some());

    let user = emu.create_user("Account");
    let token = emu.account_token(&user);
    let client = builder(&emu)
        .credentials(Credentials::bearer(token))
        .build()
        .unwrap();
    let answer = client.llm().chat(&hello()).await.unwrap();
    assert_eq!(emu.credits(&user), 1_000 - answer.credits_used.unwrap());
}

#[tokio::test]
async fn every_limit_is_checked_before_sending() {
    let emu = emulator().await;
    emu.app(APP).set_billing("llm", Billing::OwnerPays);
    let client = session_client(&emu);
    let many = (0..21).fold(ChatRequest::new(), |r, i| {
        r.message(Message::user(format!("{i}")))
    });
    let cases = [
        (ChatRequest::new(), "needs messages or a prompt"),
        (many, "at most 20 messages"),
        (
            ChatRequest::new().prompt("x".repeat(32_001)),
            "at most 32000 characters",
        ),
        (hello().temperature(2.5), "temperature is 0 to 2"),
        (hello().temperature(-0.1), "temperature is 0 to 2"),
        (hello().max_tokens(4097), "max_tokens is 1 to 4096"),
        (hello().max_tokens(0), "max_tokens is 1 to 4096"),
        (hello().model("default"), "no `default` model"),
        (
            hello().image("https://example.com/cat.png", "image/png"),
            "not as a URL",
        ),
        (
            hello().image("x".repeat(7 * 1024 * 1024), "image/png"),
            "at most 5 MB",
        ),
        (
            ChatRequest::new().message(Message::parts(
                Role::User,
                vec![Part::ImageUrl {
                    image_url: gipity_runtime::llm::ImageUrl {
                        url: "https://example.com/cat.png".into(),
                    },
                }],
            )),
            "not as a URL",
        ),
    ];
    for (request, expected) in cases {
        let err = client.llm().chat(&request).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(m) if m.contains(expected)),
            "{expected}: {err:?}"
        );
    }
    assert_eq!(emu.requests().len(), 0, "nothing was sent, not even a mint");
    // At the limits, it goes through.
    let most = (0..20).fold(ChatRequest::new(), |r, i| {
        r.message(Message::user(format!("m{i}")))
    });
    let answer = client
        .llm()
        .chat(&most.temperature(2.0).max_tokens(4096).tier(Tier::Fast))
        .await
        .unwrap();
    assert_eq!(answer.text(), "91m");
    assert_eq!(answer.model, "emulator-fast");
}

#[tokio::test]
async fn models_are_listed() {
    let emu = emulator().await;
    emu.app(APP).set_billing("llm", Billing::OwnerPays);
    let models = session_client(&emu).llm().models().await.unwrap();
    let tiers: Vec<&str> = models.iter().filter_map(|m| m.tier.as_deref()).collect();
    assert_eq!(tiers, ["small", "fast", "medium", "large", "thinking"]);
    assert!(models.iter().all(|m| m.id.starts_with("emulator-")));
}

#[tokio::test]
async fn other_services_answer_their_shapes() {
    let emu = emulator().await;
    for service in ["tts", "image", "music", "sound", "video", "location"] {
        emu.app(APP).set_billing(service, Billing::OwnerPays);
    }
    let client = session_client(&emu);
    let tts: Value = client.service("tts", &json!({"text": "hi"})).await.unwrap();
    let url = tts["url"].as_str().unwrap();
    assert!(url.starts_with(&emu.base_url()), "{url}");
    // The media URL is served, without auth.
    let media = reqwest::get(url).await.unwrap();
    assert!(media.status().is_success());
    let music: Value = client
        .service(
            "music",
            &json!({"prompt": "calm", "duration_seconds": 5, "instrumental": true}),
        )
        .await
        .unwrap();
    assert_eq!(music["model"], "emulator-music");
    assert!(music["credits_used"].as_u64().is_some());
    let err = client
        .service::<Value, _>(
            "music",
            &json!({"prompt": "x", "instrumental": true, "lyrics": "la"}),
        )
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Http { status: 400, .. }), "{err:?}");
    let place: Value = client
        .service("location/geocode", &json!({"lat": 1.5, "lon": 2.5}))
        .await
        .unwrap();
    assert_eq!(place["lat"], 1.5);
    let voices: Value = client.service_list("tts/voices").await.unwrap();
    assert!(voices["voices"].as_array().is_some_and(|v| !v.is_empty()));
    let err = client
        .service::<Value, _>("nope", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Http { status: 404, code: Some(c), .. } if c == "SERVICE_NOT_FOUND"),
        "{err:?}"
    );
    let err = client
        .service::<Value, _>("../fn/echo", &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
}

#[tokio::test]
async fn a_service_fault_and_a_rejected_token_follow_the_functions_rules() {
    let emu = emulator().await;
    emu.app(APP).set_billing("llm", Billing::OwnerPays);
    let client = session_client(&emu);
    client.llm().chat(&hello()).await.unwrap();
    emu.inject(
        Target::service(APP, "llm"),
        Fault::ExpiredToken,
        Times::Once,
    );
    let answer = client.llm().chat(&hello()).await.unwrap();
    assert_eq!(answer.text(), "ereht olleh");
    assert_eq!(emu.counters().token_mints, 2, "refreshed once");
    emu.inject(
        Target::service(APP, "llm"),
        Fault::RateLimited { retry_after: None },
        Times::Once,
    );
    let err = client.llm().chat(&hello()).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
}

/// The text of a streamed answer and its final event.
async fn streamed(
    client: &gipity_runtime::Client,
    request: &ChatRequest,
) -> gipity_runtime::Result<(String, ChatEvent)> {
    client.llm().stream(request).await?.text().await
}

#[tokio::test]
async fn a_stream_assembles_the_same_text_as_the_answer() {
    let emu = emulator().await;
    emu.app(APP).set_billing("llm", Billing::OwnerPays);
    emu.app(APP).set_llm_stream(3, Duration::ZERO);
    let client = session_client(&emu);
    let request = ChatRequest::new().prompt("the quick brown fox jumps over the lazy dog");
    let whole = client.llm().chat(&request).await.unwrap();
    let mut stream = client.llm().stream(&request).await.unwrap();
    let mut text = String::new();
    let mut deltas = 0;
    let last = loop {
        match stream.next().await.unwrap().unwrap() {
            ChatEvent::Delta { text: delta } => {
                deltas += 1;
                text.push_str(&delta);
            }
            done => break done,
        }
    };
    assert_eq!(text, whole.text());
    assert_eq!(deltas, 15, "43 characters, 3 an event");
    let ChatEvent::Done {
        finish_reason,
        usage,
        credits_used,
        ..
    } = last
    else {
        panic!("{last:?}");
    };
    assert_eq!(finish_reason.as_deref(), Some("stop"));
    assert!(usage.is_some());
    assert_eq!(credits_used, whole.credits_used);
    assert!(
        stream.next().await.is_none(),
        "nothing after the final event"
    );
    // Also as a `futures_core::Stream`.
    let stream = client.llm().stream(&request).await.unwrap();
    let mut stream = std::pin::pin!(stream);
    let first =
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx)).await;
    assert!(
        matches!(first, Some(Ok(ChatEvent::Delta { .. }))),
        "{first:?}"
    );
}

#[tokio::test]
async fn a_broken_stream_is_an_error_never_a_short_answer() {
    let emu = emulator().await;
    emu.app(APP).set_billing("llm", Billing::OwnerPays);
    emu.app(APP).set_llm_stream(1, Duration::ZERO);
    let client = session_client(&emu);
    let request = ChatRequest::new().prompt("abcdef");
    let target = Target::service(APP, "llm");

    emu.inject(target.clone(), Fault::StreamCut { after: 2 }, Times::Once);
    let mut stream = client.llm().stream(&request).await.unwrap();
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Delta { .. }))
    ));
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Delta { .. }))
    ));
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Stream { detail, .. } if detail.contains("before `data: [DONE]`")),
        "{err:?}"
    );
    assert!(stream.next().await.is_none());

    emu.inject(target.clone(), Fault::StreamReset { after: 2 }, Times::Once);
    let mut stream = client.llm().stream(&request).await.unwrap();
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Delta { .. }))
    ));
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Delta { .. }))
    ));
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Stream { detail, .. } if detail.contains("reading it failed")),
        "{err:?}"
    );
    assert!(!err.is_retryable(), "the answer had started");

    emu.inject(
        target.clone(),
        Fault::StreamMalformed { after: 1 },
        Times::Once,
    );
    let err = streamed(&client, &request).await.unwrap_err();
    assert!(
        matches!(&err, Error::Stream { detail, .. } if detail.contains("not a chunk")),
        "{err:?}"
    );

    emu.inject(target, Fault::StreamStall { after: 2 }, Times::Once);
    let started = std::time::Instant::now();
    let err = client
        .llm()
        .idle_timeout(Duration::from_millis(200))
        .stream(&request)
        .await
        .unwrap()
        .text()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Stream { detail, .. } if detail == "no event for 200ms"),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // Each was sent once: a stream that has started is never sent again.
    assert_eq!(emu.counters().llm_requests, 4);
}

#[tokio::test]
async fn dropping_a_stream_aborts_the_request() {
    let emu = emulator().await;
    emu.app(APP).set_billing("llm", Billing::OwnerPays);
    emu.app(APP).set_llm_stream(1, Duration::from_millis(50));
    let client = session_client(&emu);
    let mut stream = client
        .llm()
        .stream(&ChatRequest::new().prompt("a long answer, one letter at a time"))
        .await
        .unwrap();
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Delta { .. }))
    ));
    drop(stream);
    let mut aborted = 0;
    for _ in 0..100 {
        aborted = emu.counters().streams_aborted;
        if aborted > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(aborted, 1, "the emulator saw the client go");
}

#[tokio::test]
async fn under_user_pays_sign_in_and_consent_come_before_the_stream() {
    let emu = emulator().await;
    let user = emu.create_user("Streamer");
    let (client, runs) = login_client(&emu, CookieJar::new(), user.clone());
    let (text, done) = streamed(&client, &hello()).await.unwrap();
    assert_eq!(text, "ereht olleh");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let ChatEvent::Done { credits_used, .. } = done else {
        panic!("{done:?}");
    };
    assert_eq!(emu.credits(&user), 1_000 - credits_used.unwrap());
    // Anonymous, without a handler: the challenge, before any stream.
    let err = session_client(&emu)
        .llm()
        .stream(&hello())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::LoginRequired(_)), "{err:?}");
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_before_a_stream_and_players_must_sign_in() {
    let emu = emulator().await;
    emu.app(APP).set_billing("llm", Billing::OwnerPays);
    let client = session_client(&emu);
    client.llm().chat(&hello()).await.unwrap();
    emu.inject(
        Target::service(APP, "llm"),
        Fault::ExpiredToken,
        Times::Once,
    );
    let (text, _) = streamed(&client, &hello()).await.unwrap();
    assert_eq!(text, "ereht olleh");
    assert_eq!(
        emu.counters().token_mints,
        2,
        "refreshed once, before the stream"
    );

    // Under `user_pays` an app player is not a Gipity user: it is asked to sign in.
    emu.app(APP).set_billing("llm", Billing::UserPays);
    let player = builder(&emu)
        .credentials(Credentials::player("p".repeat(40)))
        .build()
        .unwrap();
    let err = player.llm().chat(&hello()).await.unwrap_err();
    assert!(matches!(err, Error::LoginRequired(_)), "{err:?}");
    let call = emu
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/services/llm"))
        .unwrap();
    assert!(call.header("x-app-token").is_some());
    assert!(
        call.header("authorization")
            .is_some_and(|v| v.starts_with("Bearer "))
    );
}

#[tokio::test]
async fn a_temperature_that_is_not_a_number_is_refused() {
    let emu = emulator().await;
    let client = session_client(&emu);
    for temperature in [f32::NAN, f32::INFINITY] {
        let err = client
            .llm()
            .chat(&hello().temperature(temperature))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    }
    // An emoji counts two, as the platform's JavaScript counts.
    let err = client
        .llm()
        .chat(&ChatRequest::new().prompt("\u{1f600}".repeat(16_001)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert_eq!(emu.requests().len(), 0);
}

#[tokio::test]
async fn a_service_401_refreshes_the_app_token_and_keeps_the_player_signed_in() {
    let emu = emulator().await;
    emu.app(APP).set_billing("llm", Billing::OwnerPays);
    let player = builder(&emu)
        .credentials(Credentials::player("q".repeat(40)))
        .build()
        .unwrap();
    player.llm().chat(&hello()).await.unwrap();
    emu.inject(
        Target::service(APP, "llm"),
        Fault::ExpiredToken,
        Times::Once,
    );
    let answer = player.llm().chat(&hello()).await.unwrap();
    assert_eq!(answer.text(), "ereht olleh");
    assert_eq!(emu.counters().token_mints, 2, "a fresh app token");
    assert_eq!(
        emu.counters().guest_sign_ins,
        1,
        "the player stayed signed in"
    );
}

/// The owner pays for every media and location service of [`APP`].
fn owner_pays_media(emu: &gipity_emulator::Emulator) {
    for service in [
        "tts",
        "image",
        "music",
        "sound",
        "video",
        "transcribe",
        "location",
    ] {
        emu.app(APP).set_billing(service, Billing::OwnerPays);
    }
}

#[tokio::test]
async fn typed_media_calls_answer_their_documented_shapes() {
    let emu = emulator().await;
    owner_pays_media(&emu);
    let client = session_client(&emu);
    let services = client.services();
    let speech = services
        .tts(
            &TtsRequest::new("Ann: hi\nBob: hello")
                .provider("gemini")
                .speaker("Ann", "Kore"),
        )
        .await
        .unwrap();
    assert!(speech.url.starts_with(&emu.base_url()), "{}", speech.url);
    // The media URL is public: fetched with no credentials.
    assert!(
        reqwest::get(&speech.url)
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let sent = emu.requests();
    let tts = sent
        .iter()
        .rfind(|r| r.path.ends_with("/services/tts"))
        .unwrap();
    assert_eq!(tts.header("content-type"), Some("application/json"));
    assert!(tts.header("x-app-token").is_some());

    let voices = services.voices(Some("openai")).await.unwrap();
    assert_eq!(voices[0].id, "openai-voice");
    assert_eq!(voices[0].provider.as_deref(), Some("openai"));
    let default_voices = services.voices(None).await.unwrap();
    assert_eq!(default_voices[0].id, "elevenlabs-voice");

    let image = services
        .image(&ImageRequest::new("a cat").size("1024x1024").quality("high"))
        .await
        .unwrap();
    assert!(image.url.contains("/__media/image/"), "{}", image.url);
    assert_eq!(
        services.image_models().await.unwrap().models[0].id,
        "emulator-image"
    );

    let sound = services
        .sound(
            &SoundRequest::new("thunder")
                .duration_seconds(2.5)
                .prompt_influence(0.5),
        )
        .await
        .unwrap();
    assert_eq!(sound.duration_seconds, Some(2.5));
    assert_eq!(sound.credits_used, Some(5));

    let music = services
        .music(
            &MusicRequest::new("lo-fi")
                .duration_seconds(30.0)
                .instrumental(true),
        )
        .await
        .unwrap();
    assert_eq!(music.model.as_deref(), Some("emulator-music"));
    let models = services.music_models().await.unwrap();
    assert_eq!(models.default_model.as_deref(), Some("emulator-music"));

    let video = services
        .video(
            &VideoRequest::new("coffee")
                .aspect_ratio("16:9")
                .resolution("720p"),
        )
        .await
        .unwrap();
    assert!(video.url.contains("/__media/video/"), "{}", video.url);

    let here = services
        .locate_ip(Some("203.0.113.9".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(here.text("ip"), Some("203.0.113.9"));
    let place = services.geocode(51.5, -0.12).await.unwrap();
    assert_eq!(place.fields["lat"], 51.5);
    assert!(place.text("address").is_some());

    // Seven charged calls of 5 credits each, to the owner (lists are free).
    assert_eq!(emu.app(APP).owner_credits(), 1_000 - 5 * 7);
}

#[tokio::test]
async fn a_media_service_under_user_pays_asks_for_sign_in_and_says_which() {
    let emu = emulator().await;
    let err = session_client(&emu)
        .services()
        .image(&ImageRequest::new("a cat"))
        .await
        .unwrap_err();
    let Error::LoginRequired(challenge) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(challenge.service(), Some("image"));
    assert!(err.to_string().contains("image: owner_pays"), "{err}");
}

#[tokio::test]
async fn transcribe_uploads_the_audio_as_a_multipart_form() {
    let emu = emulator().await;
    owner_pays_media(&emu);
    let client = session_client(&emu);
    let request = TranscribeRequest::new(&b"hello gipity world"[..], "audio/wav")
        .file_name("memo \"one\".wav")
        .provider("openai")
        .diarize(true)
        .language("en");
    let transcript = client.services().transcribe(&request).await.unwrap();
    assert_eq!(transcript.text, "hello gipity world");
    assert_eq!(transcript.words.len(), 3);
    assert_eq!(transcript.words[1]["text"], "gipity");
    assert_eq!(transcript.words[2]["speaker"], "speaker_0");
    assert_eq!(transcript.language.as_deref(), Some("en"));
    assert_eq!(transcript.duration_seconds, Some(1.5));
    assert!(transcript.rate_limit.is_some());
    let sent = emu.requests();
    let upload = sent
        .iter()
        .rfind(|r| r.path.ends_with("/services/transcribe"))
        .unwrap();
    let content_type = upload.header("content-type").unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    assert!(upload.header("x-app-token").is_some());

    // Audio that is not text, with a boundary-like line inside it.
    let mut audio = b"RIFF\r\n--gipity-0\r\n".to_vec();
    audio.extend([0xff, 0xfe, 0x00, 0x80]);
    let transcript = client
        .services()
        .transcribe(&TranscribeRequest::new(audio.clone(), "audio/x-wav"))
        .await
        .unwrap();
    assert_eq!(
        transcript.text,
        format!("({} bytes of audio/x-wav)", audio.len())
    );
    // The server refuses what the client cannot check: an unknown provider.
    let err = client
        .services()
        .transcribe(&TranscribeRequest::new(vec![1], "audio/wav").provider("nope"))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Http { status: 400, .. }), "{err:?}");
}

#[tokio::test]
async fn media_requests_over_a_limit_are_refused_before_sending() {
    let emu = emulator().await;
    owner_pays_media(&emu);
    let client = session_client(&emu);
    let services = client.services();
    let errors = [
        services.tts(&TtsRequest::new("  ")).await.unwrap_err(),
        services.image(&ImageRequest::new("")).await.unwrap_err(),
        services
            .sound(&SoundRequest::new("x").prompt_influence(2.0))
            .await
            .unwrap_err(),
        services
            .music(&MusicRequest::new("x").instrumental(true).lyrics("la"))
            .await
            .unwrap_err(),
        services.video(&VideoRequest::new("")).await.unwrap_err(),
        services
            .transcribe(&TranscribeRequest::new(Vec::new(), "audio/wav"))
            .await
            .unwrap_err(),
        services
            .transcribe(&TranscribeRequest::new(vec![1], "audio/wav\r\nX-Evil: 1"))
            .await
            .unwrap_err(),
        services.geocode(91.0, 0.0).await.unwrap_err(),
        services.geocode(0.0, f64::NAN).await.unwrap_err(),
    ];
    for err in &errors {
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    }
    assert!(
        !emu.requests().iter().any(|r| r.path.contains("/services/")),
        "nothing was sent"
    );
}

#[tokio::test]
async fn typed_answers_carry_the_rate_limit_and_a_429_follows_the_functions_rule() {
    let emu = emulator().await;
    owner_pays_media(&emu);
    emu.app(APP).set_billing("llm", Billing::OwnerPays);
    emu.set_service_rate_limit(3, Duration::from_secs(60));
    let client = session_client(&emu);
    let answer = client.llm().chat(&hello()).await.unwrap();
    let rate = answer.rate_limit.unwrap();
    assert_eq!(rate.limit, Some(3));
    assert_eq!(rate.remaining, Some(2));
    assert_eq!(rate.window, Some(Duration::from_secs(60)));
    assert!(
        rate.reset
            .is_some_and(|reset| reset <= Duration::from_secs(60))
    );
    let stream = client.llm().stream(&hello()).await.unwrap();
    assert_eq!(stream.rate_limit().unwrap().remaining, Some(1));
    stream.text().await.unwrap();
    let speech = client.services().tts(&TtsRequest::new("hi")).await.unwrap();
    assert_eq!(speech.rate_limit.unwrap().remaining, Some(0));
    // Over the limit: a Retry-After longer than the client waits is an error at once.
    let err = client
        .services()
        .tts(&TtsRequest::new("hi"))
        .await
        .unwrap_err();
    let Error::RateLimited { retry_after, .. } = err else {
        panic!("{err:?}");
    };
    assert!(retry_after.is_some_and(|after| after > Duration::from_secs(10)));

    // A short window: the 429's Retry-After is waited out once, and the call goes through.
    emu.set_service_rate_limit(1, Duration::from_secs(1));
    client.services().tts(&TtsRequest::new("hi")).await.unwrap();
    let tts = |emu: &gipity_emulator::Emulator| {
        emu.requests()
            .iter()
            .filter(|r| r.path.ends_with("/services/tts"))
            .count()
    };
    let before = tts(&emu);
    let speech = client
        .services()
        .tts(&TtsRequest::new("again"))
        .await
        .unwrap();
    assert_eq!(speech.rate_limit.unwrap().limit, Some(1));
    assert_eq!(
        tts(&emu) - before,
        2,
        "sent, refused with 429, sent once more"
    );
}
