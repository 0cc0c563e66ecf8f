//! App services: `/api/<app>/services/<name>`. The LLM service answers with a deterministic
//! fake model (the last user message, or the prompt, reversed), as one answer or as
//! server-sent events; the media services answer their documented shapes with URLs the
//! emulator serves itself. Every service needs an app token; who pays follows the app's
//! billing mode for the service (`user_pays` by default, like the platform).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use gipity_shared::SERVICES;
use serde_json::{Value, json};

use crate::callers::{self, Resolved};
use crate::faults::{Fault, ScriptedBody, Step, Target};
use crate::http::{ApiError, JSON, MAX_BODY, allow, data, parse_json_body, read_body, respond};
use crate::model::{Billing, Caller, permissions};
use crate::state::{Meter, Shared};

/// The permissions a service asks a paying user for: IDENTITY | AI.
pub(crate) const SERVICE_PERMISSIONS: u32 = permissions::IDENTITY | permissions::AI;

/// The model tiers, and the concrete model each stands for.
const TIERS: [(&str, &str); 5] = [
    ("small", "emulator-small"),
    ("fast", "emulator-fast"),
    ("medium", "emulator-medium"),
    ("large", "emulator-large"),
    ("thinking", "emulator-thinking"),
];
/// The project default model.
const DEFAULT_MODEL: &str = "emulator-medium";

/// The documented limits of a chat request.
const MAX_MESSAGES: usize = 20;
const MAX_PROMPT_CHARS: usize = 32_000;
const MAX_IMAGE_BYTES: usize = 5_000_000;
const MAX_TOKENS: u64 = 4096;

/// Routes `rest` (the segments after `services/`).
pub(crate) async fn route(
    shared: &Shared,
    app: &str,
    rest: &[&str],
    parts: &Parts,
    body: Body,
) -> Result<Response, ApiError> {
    let (service, list) = match rest {
        [service] => (*service, None),
        ["llm", "models"] | ["music", "models"] | ["image", "models"] | ["tts", "voices"] => {
            (rest[0], Some(rest[1]))
        }
        ["location", kind @ ("ip" | "geocode")] => ("location", Some(*kind)),
        _ => return Err(unknown_service(&rest.join("/"))),
    };
    if !SERVICES.contains(&service) {
        return Err(unknown_service(service));
    }
    {
        let state = shared.lock();
        if !state.apps.contains_key(app) {
            return Err(ApiError::app_not_found(app));
        }
    }
    allow(
        &parts.method,
        &[if is_get(list) {
            Method::GET
        } else {
            Method::POST
        }],
    )?;
    let name = match list {
        Some(kind) => format!("{service}/{kind}"),
        None => service.to_owned(),
    };
    let target = Target::service(app, &name);
    let fault = shared
        .lock()
        .take_fault_if(&target, |fault| !fault.in_stream());
    if let Some(response) = crate::faults::apply(&shared.body_bytes_sent, fault).await {
        return Ok(response);
    }
    // One window for every service, counted before who pays is known, as a per-IP limit is.
    let meter = shared
        .lock()
        .service_rate
        .take(std::time::Instant::now())
        .map_err(|meter| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!(
                    "too many service requests: {} a window of {} s",
                    meter.limit, meter.window_secs
                ),
            )
            .header(RETRY_AFTER, &meter.reset_secs.to_string())
            .headers(rate_limit_headers(&meter))
        })?;
    let answer = serve(shared, app, (service, list, &name), &target, parts, body).await;
    let headers = rate_limit_headers(&meter);
    match answer {
        Ok(mut response) => {
            for (name, value) in headers {
                response.headers_mut().insert(name, value);
            }
            Ok(response)
        }
        // A refused call used up its place in the window too.
        Err(error) => Err(error.headers(headers)),
    }
}

/// Serves a service call the rate limit let through.
async fn serve(
    shared: &Shared,
    app: &str,
    (service, list, name): (&str, Option<&str>, &str),
    target: &Target,
    parts: &Parts,
    body: Body,
) -> Result<Response, ApiError> {
    let payer = pay(shared, app, service, parts)?;
    let response = if is_get(list) {
        listing(name, parts.uri.query())
    } else if name == "transcribe" {
        let body = read_body(&parts.headers, body, MAX_UPLOAD).await?;
        transcribe(shared, &payer, &parts.headers, &body)?
    } else {
        let body = parse_json_body(&read_body(&parts.headers, body, MAX_BODY).await?)?;
        match (service, list) {
            ("llm", None) => llm(shared, app, target, &payer, &body).await?,
            (_, _) => media(shared, &payer, name, &body)?,
        }
    };
    Ok(response)
}

/// Whether a list is asked for (`GET`).
fn is_get(list: Option<&str>) -> bool {
    matches!(list, Some("models" | "voices"))
}

/// The largest upload (`transcribe`): the platform's 100 MB of audio, and room for the form.
const MAX_UPLOAD: usize = 100_000_000 + 64 * 1024;

fn unknown_service(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "SERVICE_NOT_FOUND",
        format!("no service `{}`", crate::http::excerpt(name)),
    )
}

/// Who pays for a call of `service`: the app's owner or the identified user. Fails with the
/// platform's challenges under `user_pays`.
fn pay(shared: &Shared, app: &str, service: &str, parts: &Parts) -> Result<Payer, ApiError> {
    let state = shared.lock();
    // Every service call needs an app token, whatever else it carries.
    if !callers::check_app_token(&state, &parts.headers, app)? {
        return Err(ApiError::unauthorized(
            "APP_TOKEN_REQUIRED",
            "a service call needs an app token in X-App-Token",
        ));
    }
    // Set on the app, else declared in the manifest, else the platform's default.
    let billing = state
        .apps
        .get(app)
        .and_then(|entry| entry.billing.get(service).copied())
        .or_else(|| {
            let declared = shared.manifest.as_deref()?.billing(service)?;
            Some(Billing::from_manifest(declared))
        })
        .unwrap_or_default();
    if billing == Billing::OwnerPays {
        return Ok(Payer::Owner(app.to_owned()));
    }
    let resolved: Resolved = callers::resolve(&state, app, &parts.headers)?;
    match (resolved.caller, resolved.user) {
        (Caller::ApiKey, _) => Ok(Payer::Owner(app.to_owned())),
        (Caller::Session, Some(user)) => {
            if state.has_consent(&user.guid, app, SERVICE_PERMISSIONS) {
                Ok(Payer::User(user.guid))
            } else {
                Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "CONSENT_REQUIRED",
                    format!(
                        "the app's `{service}` service is billed to its users: allow it to use AI on your behalf"
                    ),
                )
                .with(
                    "consentUrl",
                    shared.challenge_url("consent", app, SERVICE_PERMISSIONS),
                ))
            }
        }
        // An account token is a Gipity user paying for themselves. An app player is not a
        // Gipity user: `user_pays` needs Sign in with Gipity, so a player is asked to sign in.
        (Caller::Account, Some(user)) => Ok(Payer::User(user.guid)),
        _ => Err(ApiError::unauthorized(
            "LOGIN_REQUIRED",
            format!("the app's `{service}` service is billed to its users: sign in with Gipity"),
        )
        .with(
            "loginUrl",
            shared.challenge_url("login", app, SERVICE_PERMISSIONS),
        )),
    }
}

/// Who a call is billed to.
pub(crate) enum Payer {
    /// The app's owner (by app GUID).
    Owner(String),
    /// A user (by guid).
    User(String),
}

/// Takes `cost` credits from `payer`, or answers 402 `INSUFFICIENT_CREDITS`.
fn charge(shared: &Shared, payer: &Payer, cost: u64) -> Result<(), ApiError> {
    let mut state = shared.lock();
    let balance = match payer {
        Payer::Owner(app) => state.owner_credits.entry(app.clone()),
        Payer::User(guid) => state.user_credits.entry(guid.clone()),
    }
    .or_insert(crate::state::DEFAULT_CREDITS);
    if *balance < cost {
        return Err(ApiError::new(
            StatusCode::PAYMENT_REQUIRED,
            "INSUFFICIENT_CREDITS",
            format!("Insufficient credits: this call costs {cost}, the balance is {balance}"),
        ));
    }
    *balance -= cost;
    state.counters.credits_charged += cost;
    Ok(())
}

/// `GET` lists, wrapped in `data`.
fn listing(name: &str, query: Option<&str>) -> Response {
    let provider = query
        .into_iter()
        .flat_map(|query| url::form_urlencoded::parse(query.as_bytes()))
        .find_map(|(key, value)| (key == "provider").then(|| value.into_owned()))
        .unwrap_or_else(|| "elevenlabs".to_owned());
    let body = match name {
        "llm/models" => json!({
            "models": TIERS
                .iter()
                .map(|(tier, id)| json!({"id": id, "tier": tier, "provider": "emulator"}))
                .collect::<Vec<_>>(),
            "default_model": DEFAULT_MODEL,
        }),
        "music/models" => {
            json!({"models": [{"id": "emulator-music"}], "default_model": "emulator-music"})
        }
        "image/models" => json!({"models": [{"id": "emulator-image"}]}),
        _ => json!({"voices": [
            {"id": format!("{provider}-voice"), "name": "Emulator", "language": "en",
             "provider": provider},
        ]}),
    };
    data(body)
}

/// The media services: their documented answers, with a URL under `/__media/`.
fn media(shared: &Shared, payer: &Payer, name: &str, body: &Value) -> Result<Response, ApiError> {
    let text = |field: &str| body.get(field).and_then(Value::as_str).unwrap_or("");
    let need = |field: &str| -> Result<(), ApiError> {
        if text(field).is_empty() {
            return Err(ApiError::bad_request(format!("`{field}` is required")));
        }
        Ok(())
    };
    // `duration_seconds` as asked, else `default`.
    let duration = |default: f64| -> Result<f64, ApiError> {
        match body.get("duration_seconds") {
            None | Some(Value::Null) => Ok(default),
            Some(value) => value
                .as_f64()
                .filter(|seconds| *seconds > 0.0)
                .ok_or_else(|| ApiError::bad_request("`duration_seconds` is a positive number")),
        }
    };
    let cost = 5;
    let url = format!(
        "{}/__media/{name}/{}.bin",
        shared.base_url,
        shared.next_id()
    );
    let answer = match name {
        "tts" => {
            need("text")?;
            json!({"url": url, "credits_used": cost})
        }
        "image" | "video" => {
            need("prompt")?;
            json!({"url": url, "credits_used": cost})
        }
        "sound" => {
            need("text")?;
            json!({"url": url, "duration_seconds": duration(5.0)?, "credits_used": cost})
        }
        "music" => {
            need("prompt")?;
            let instrumental = body.get("instrumental").and_then(Value::as_bool) == Some(true);
            if instrumental && !text("lyrics").is_empty() {
                return Err(ApiError::bad_request(
                    "`lyrics` conflicts with `instrumental: true`",
                ));
            }
            json!({"url": url, "duration_seconds": duration(30.0)?, "model": "emulator-music",
                   "credits_used": cost})
        }
        "location/ip" => {
            json!({"ip": text("ip"), "country": "ZZ", "city": "Loopback", "credits_used": cost})
        }
        "location/geocode" => {
            let (Some(lat), Some(lon)) = (
                body.get("lat").and_then(Value::as_f64),
                body.get("lon").and_then(Value::as_f64),
            ) else {
                return Err(ApiError::bad_request(
                    "`lat` and `lon` are required numbers",
                ));
            };
            json!({"lat": lat, "lon": lon, "address": "1 Loopback Way", "credits_used": cost})
        }
        _ => return Err(unknown_service(name)),
    };
    charge(shared, payer, cost)?;
    Ok(respond(StatusCode::OK, JSON, answer.to_string()))
}

/// `POST /services/transcribe`: a `multipart/form-data` upload with an `audio` file. The
/// emulator "hears" text: audio whose bytes are UTF-8 is transcribed as that text, a word
/// each half second; any other audio as a note of its size and type.
fn transcribe(
    shared: &Shared,
    payer: &Payer,
    headers: &axum::http::HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let boundary = crate::multipart::boundary(content_type).ok_or_else(|| {
        ApiError::bad_request("transcribe takes a multipart/form-data upload with an `audio` file")
    })?;
    let parts = crate::multipart::parse(&boundary, body)?;
    let field = |name: &str| parts.iter().find(|part| part.name == name);
    let text_field = |name: &str| -> Result<Option<&str>, ApiError> {
        field(name)
            .map(|part| {
                part.text()
                    .ok_or_else(|| ApiError::bad_request(format!("`{name}` is not text")))
            })
            .transpose()
    };
    let audio = field("audio")
        .filter(|part| part.file_name.is_some())
        .ok_or_else(|| ApiError::bad_request("`audio` is required: a file part of the form"))?;
    if audio.data.is_empty() {
        return Err(ApiError::bad_request("`audio` is empty"));
    }
    if let Some(provider) = text_field("provider")?
        && !matches!(provider, "elevenlabs" | "openai")
    {
        return Err(ApiError::bad_request(format!(
            "`provider` is elevenlabs or openai, not `{}`",
            crate::http::excerpt(provider)
        )));
    }
    let diarize = match text_field("diarize")? {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`diarize` is true or false, not `{}`",
                crate::http::excerpt(other)
            )));
        }
    };
    let language = text_field("language")?.unwrap_or("en");
    let text = match audio.text() {
        Some(text) => text.trim().to_owned(),
        None => format!(
            "({} bytes of {})",
            audio.data.len(),
            audio.content_type.as_deref().unwrap_or("audio")
        ),
    };
    let mut words = Vec::new();
    for (n, word) in text.split_whitespace().enumerate() {
        let start = n as f64 * 0.5;
        let mut entry = json!({"text": word, "start": start, "end": start + 0.5});
        if diarize {
            entry["speaker"] = json!("speaker_0");
        }
        words.push(entry);
    }
    let cost = 5;
    charge(shared, payer, cost)?;
    let answer = json!({
        "text": text,
        "words": words,
        "language": language,
        "duration_seconds": words.len() as f64 * 0.5,
        "credits_used": cost,
    });
    Ok(respond(StatusCode::OK, JSON, answer.to_string()))
}

/// `RateLimit-*` headers as the IETF draft's separate fields (draft 6; the platform's names are
/// not documented, and the client reads every form).
fn rate_limit_headers(meter: &Meter) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (
            HeaderName::from_static("ratelimit-policy"),
            // Digits, `;` and `=`: always a header value.
            HeaderValue::from_str(&format!("{};w={}", meter.limit, meter.window_secs))
                .unwrap_or(HeaderValue::from_static("0")),
        ),
        (
            HeaderName::from_static("ratelimit-limit"),
            HeaderValue::from(meter.limit),
        ),
        (
            HeaderName::from_static("ratelimit-remaining"),
            HeaderValue::from(meter.remaining),
        ),
        (
            HeaderName::from_static("ratelimit-reset"),
            HeaderValue::from(meter.reset_secs),
        ),
    ]
}

/// What a chat request asks for, checked against the documented limits.
struct Chat {
    model: String,
    answer: String,
    prompt_chars: usize,
    stream: bool,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// Reads and checks a chat request; the answer is the last user message (or the prompt),
/// reversed.
fn chat_request(body: &Value) -> Result<Chat, ApiError> {
    let Some(object) = body.as_object() else {
        return Err(bad("the body must be a JSON object"));
    };
    let mut last_user = None;
    let mut prompt_chars = 0;
    if let Some(messages) = object.get("messages") {
        let Some(messages) = messages.as_array() else {
            return Err(bad("`messages` must be an array"));
        };
        if messages.len() > MAX_MESSAGES {
            return Err(bad(format!("at most {MAX_MESSAGES} messages")));
        }
        for message in messages {
            let role = message.get("role").and_then(Value::as_str).unwrap_or("");
            if !matches!(role, "system" | "user" | "assistant") {
                return Err(bad("a message's `role` is system, user or assistant"));
            }
            let text = message_text(message.get("content"))?;
            prompt_chars += text.chars().count();
            if role == "user" {
                last_user = Some(text);
            }
        }
    }
    if let Some(prompt) = object.get("prompt") {
        let Some(prompt) = prompt.as_str() else {
            return Err(bad("`prompt` must be a string"));
        };
        // As the platform's JavaScript counts: UTF-16 units.
        let chars = prompt.encode_utf16().count();
        if chars > MAX_PROMPT_CHARS {
            return Err(bad(format!(
                "`prompt` is at most {MAX_PROMPT_CHARS} characters"
            )));
        }
        prompt_chars += chars;
        last_user = Some(prompt.to_owned());
    }
    if let Some(image) = object.get("image") {
        check_image(image)?;
    }
    let Some(text) = last_user else {
        return Err(bad("give `messages` with a user message, or `prompt`"));
    };
    if let Some(temperature) = object.get("temperature") {
        let valid = temperature
            .as_f64()
            .is_some_and(|t| (0.0..=2.0).contains(&t));
        if !valid {
            return Err(bad("`temperature` is a number from 0 to 2"));
        }
    }
    // `max_tokens` over 4096 is capped, as the docs say; only a value that is not a count is
    // refused.
    if let Some(max) = object.get("max_tokens")
        && max.as_u64().is_none_or(|max| max < 1)
    {
        return Err(bad(format!(
            "`max_tokens` is a count from 1 (capped at {MAX_TOKENS})"
        )));
    }
    let model = match object.get("model") {
        None | Some(Value::Null) => DEFAULT_MODEL.to_owned(),
        Some(Value::String(model)) if model == "default" => {
            return Err(bad(
                "there is no `default` model alias: leave `model` out for the project default",
            ));
        }
        Some(Value::String(model)) => TIERS
            .iter()
            .find(|(tier, id)| tier == model || id == model)
            .map(|(_, id)| (*id).to_owned())
            .ok_or_else(|| bad(format!("unknown model `{}`", crate::http::excerpt(model))))?,
        Some(_) => return Err(bad("`model` must be a string")),
    };
    let stream = object.get("stream").and_then(Value::as_bool) == Some(true);
    Ok(Chat {
        model,
        answer: text.chars().rev().collect(),
        prompt_chars,
        stream,
    })
}

/// The text of a message's `content`: a string, or the text of its parts (images checked).
fn message_text(content: Option<&Value>) -> Result<String, ApiError> {
    match content {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        text.push_str(part.get("text").and_then(Value::as_str).unwrap_or(""))
                    }
                    Some("image_url") => {
                        let url = part
                            .pointer("/image_url/url")
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        check_data_uri(url)?;
                    }
                    Some("image") => check_image(part)?,
                    _ => return Err(bad("a content part is `text`, `image_url` or `image`")),
                }
            }
            Ok(text)
        }
        _ => Err(bad(
            "a message's `content` is a string or an array of parts",
        )),
    }
}

fn check_image(image: &Value) -> Result<(), ApiError> {
    let data = image.get("data").and_then(Value::as_str).unwrap_or("");
    let media_type = image
        .get("media_type")
        .and_then(Value::as_str)
        .unwrap_or("");
    if data.is_empty() || !media_type.starts_with("image/") {
        return Err(bad("an image has `data` and an `image/...` `media_type`"));
    }
    if data.starts_with("http://") || data.starts_with("https://") {
        return Err(bad(
            "an image is a data URI or base64 data, not an external URL",
        ));
    }
    if data.len() / 4 * 3 > MAX_IMAGE_BYTES {
        return Err(bad("an image is at most 5 MB"));
    }
    Ok(())
}

fn check_data_uri(url: &str) -> Result<(), ApiError> {
    if !url.starts_with("data:image/") {
        return Err(bad(
            "an image URL must be a `data:image/...` URI; external URLs are refused",
        ));
    }
    if url.len() / 4 * 3 > MAX_IMAGE_BYTES {
        return Err(bad("an image is at most 5 MB"));
    }
    Ok(())
}

/// `POST /services/llm`.
async fn llm(
    shared: &Shared,
    app: &str,
    target: &Target,
    payer: &Payer,
    body: &Value,
) -> Result<Response, ApiError> {
    let chat = chat_request(body)?;
    let completion_chars = chat.answer.chars().count();
    let cost = 1 + (chat.prompt_chars + completion_chars) as u64 / 100;
    charge(shared, payer, cost)?;
    let usage = json!({
        "prompt_tokens": chat.prompt_chars.div_ceil(4),
        "completion_tokens": completion_chars.div_ceil(4),
        "total_tokens": chat.prompt_chars.div_ceil(4) + completion_chars.div_ceil(4),
    });
    let id = format!("chatcmpl-emu-{}", shared.next_id());
    {
        let mut state = shared.lock();
        state.counters.llm_requests += 1;
    }
    if !chat.stream {
        let answer = json!({
            "id": id,
            "object": "chat.completion",
            "model": chat.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": chat.answer},
                "finish_reason": "stop",
            }],
            "usage": usage,
            "provider": "emulator",
            "credits_used": cost,
        });
        return Ok(respond(StatusCode::OK, JSON, answer.to_string()));
    }
    let (chunk_chars, delay) = shared.lock().llm_stream(app);
    let stream_fault = shared.lock().take_fault_if(target, Fault::in_stream);
    let mut events: Vec<Step> = Vec::new();
    // A comment first, as servers send to keep a connection open: a client must skip it.
    events.push(Step::Data(Bytes::from_static(b": keep-alive\n\n")));
    let chars: Vec<char> = chat.answer.chars().collect();
    let mut deltas: Vec<String> = chars
        .chunks(chunk_chars.max(1))
        .map(|chunk| chunk.iter().collect())
        .collect();
    if deltas.is_empty() {
        deltas.push(String::new());
    }
    let event = |value: Value| Bytes::from(format!("data: {value}\n\n"));
    // Whether the stream ends before its final event (a cut, a reset or a stall). A stream
    // fault past the last text event acts after it, before the final event.
    let mut cut = false;
    let acts_at = |after: usize| after.min(deltas.len());
    for n in 0..=deltas.len() {
        match &stream_fault {
            Some(Fault::StreamCut { after }) if acts_at(*after) == n => {
                cut = true;
                break;
            }
            Some(Fault::StreamStall { after }) if acts_at(*after) == n => {
                events.push(Step::Stall);
                cut = true;
                break;
            }
            Some(Fault::StreamReset { after }) if acts_at(*after) == n => {
                // Time for the events before to reach the client, then the reset.
                events.push(Step::Pause(std::time::Duration::from_millis(25)));
                events.push(Step::Abort);
                cut = true;
                break;
            }
            Some(Fault::StreamMalformed { after }) if acts_at(*after) == n => {
                events.push(Step::Data(Bytes::from_static(
                    b"data: {\"choices\": [{\"delta\"\n\n",
                )));
                break;
            }
            _ => {}
        }
        let Some(delta) = deltas.get(n) else {
            break;
        };
        if n > 0 && !delay.is_zero() {
            events.push(Step::Pause(delay));
        }
        events.push(Step::Data(event(json!({
            "id": id,
            "object": "chat.completion.chunk",
            "model": chat.model,
            "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": null}],
        }))));
    }
    if !cut {
        events.push(Step::Data(event(json!({
            "id": id,
            "object": "chat.completion.chunk",
            "model": chat.model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": usage,
            "credits_used": cost,
        }))));
        events.push(Step::Data(Bytes::from_static(b"data: [DONE]\n\n")));
    }
    let body = ScriptedBody::watched(events, Arc::clone(&shared.streams_aborted));
    let mut response = respond(StatusCode::OK, "text/event-stream", Body::new(body));
    response
        .headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-cache"));
    Ok(response)
}
