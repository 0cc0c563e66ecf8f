//! The test controls over HTTP (`/__emulator/...`), for tests that cannot hold
//! an [`Emulator`](crate::Emulator): wasm tests in a browser, WebDriver tests
//! driving the binary.
//!
//! Off unless [`EmulatorBuilder::test_controls`](crate::EmulatorBuilder::test_controls)
//! turned them on; while off, every path under the prefix answers `404 NOT_FOUND`.
//! The observing middleware skips these paths, so using the controls never
//! shows up in the counters or the recorded requests.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::Response;
use serde_json::{Map, Value, json};

use gipity_shared::header;

use crate::faults::{Fault, Target, Times};
use crate::http::SESSION_COOKIE;
use crate::http::{ApiError, MAX_BODY, allow, data, excerpt, parse_json_body, read_body};
use crate::model::{AutoDecision, RequestRecord};
use crate::state::{Auto, Shared};

/// The first path segment of every control.
pub(crate) const PREFIX: &str = "__emulator";

/// Longest `delay` (and `slow`) fault, in milliseconds.
const MAX_FAULT_DELAY_MS: u64 = 600_000;
/// Longest `delayMs` of an auto decision.
const MAX_AUTO_DELAY_MS: u64 = 60_000;
/// Largest `largeBody` and `streamedBody` fault, in bytes.
const MAX_LARGE_BODY: u64 = 256 * 1024 * 1024;
/// Longest display name of an auto approval, in characters.
const MAX_USER_CHARS: usize = 100;
/// How deeply `slow` faults may nest.
const MAX_FAULT_DEPTH: usize = 4;

/// The controls, for the `404` of an unknown one.
const CONTROLS: &str = "POST reset, POST expire-tokens, POST expire-player-tokens, \
    POST token-ttl, POST auto, POST fault, POST clear-faults, GET counters, GET calls, GET requests";

/// Whether `path` (as sent) is under `/__emulator`.
pub(crate) fn is_control_path(path: &str) -> bool {
    path.strip_prefix('/')
        .and_then(|p| p.strip_prefix(PREFIX))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Routes `/__emulator/<rest...>` (`rest` percent-decoded).
pub(crate) async fn route(
    shared: &Shared,
    rest: &[&str],
    parts: &Parts,
    body: Body,
) -> Result<Response, ApiError> {
    if !shared.test_controls {
        return Err(ApiError::not_found(
            "the test controls are off; start the emulator with --test-controls \
             (EmulatorBuilder::test_controls(true))",
        ));
    }
    let method = &parts.method;
    match rest {
        ["reset"] => {
            allow(method, &[Method::POST])?;
            shared.reset();
            Ok(done())
        }
        ["expire-tokens"] => {
            allow(method, &[Method::POST])?;
            shared.lock().expire_app_tokens();
            Ok(done())
        }
        ["expire-player-tokens"] => {
            allow(method, &[Method::POST])?;
            shared.lock().expire_player_tokens();
            Ok(done())
        }
        ["clear-faults"] => {
            allow(method, &[Method::POST])?;
            shared.lock().clear_faults();
            Ok(done())
        }
        ["token-ttl"] => {
            allow(method, &[Method::POST])?;
            let body = object_body(parts, body, r#"{"seconds": 60}"#).await?;
            let ttl = token_ttl(&body)?;
            shared.lock().token_ttl = ttl;
            Ok(done())
        }
        ["auto"] => {
            allow(method, &[Method::POST])?;
            let body = object_body(
                parts,
                body,
                r#"{"decision": "approve", "user": "Browser User", "delayMs": 0}"#,
            )
            .await?;
            let auto = auto(&body)?;
            shared.lock().auto = auto;
            Ok(done())
        }
        ["fault"] => {
            allow(method, &[Method::POST])?;
            let body = object_body(
                parts,
                body,
                r#"{"target": "token", "fault": {"kind": "htmlBadGateway"}, "times": "once"}"#,
            )
            .await?;
            let (target, fault, times) = armed_fault(&body)?;
            shared.lock().arm(target, fault, times);
            Ok(done())
        }
        ["counters"] => {
            allow(method, &[Method::GET])?;
            let counters = shared.counters();
            Ok(data(json!({
                "tokenMints": counters.token_mints,
                "guestSignIns": counters.guest_sign_ins,
                "httpRequests": counters.http_requests,
                "bodyBytesSent": counters.body_bytes_sent,
            })))
        }
        ["calls"] => {
            allow(method, &[Method::GET])?;
            let query = query_pairs(parts);
            let app = required_param(&query, "app")?;
            let function = required_param(&query, "function")?;
            let key = (app.to_owned(), function.to_owned());
            let state = shared.lock();
            Ok(data(json!({
                "calls": state.calls.get(&key).copied().unwrap_or(0),
                "executions": state.executions.get(&key).copied().unwrap_or(0),
                "bodies": state.bodies.get(&key).cloned().unwrap_or_default(),
            })))
        }
        ["requests"] => {
            allow(method, &[Method::GET])?;
            let query = query_pairs(parts);
            let prefix = query.get("path").map(String::as_str).unwrap_or("");
            let state = shared.lock();
            let records: Vec<Value> = state
                .requests
                .iter()
                .filter(|r| r.path.starts_with(prefix))
                .map(describe)
                .collect();
            Ok(data(Value::Array(records)))
        }
        _ => Err(ApiError::not_found(format!(
            "no such test control; the controls under /{PREFIX}/ are: {CONTROLS}"
        ))),
    }
}

/// `{"data":{}}`.
fn done() -> Response {
    data(json!({}))
}

/// The request body, which must be a JSON object.
async fn object_body(
    parts: &Parts,
    body: Body,
    example: &str,
) -> Result<Map<String, Value>, ApiError> {
    match parse_json_body(&read_body(&parts.headers, body, MAX_BODY).await?)? {
        Value::Object(object) => Ok(object),
        _ => Err(ApiError::bad_request(format!(
            "the body must be a JSON object such as {example}"
        ))),
    }
}

/// Refuses fields other than `allowed`, so a misspelt one is not silently ignored.
fn only_fields(object: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), ApiError> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(ApiError::bad_request(format!(
            "{what} has no field `{}`; its fields are: {}",
            excerpt(unknown),
            allowed.join(", ")
        ))),
    }
}

/// A whole number of at most `max`; `None` when the field is absent or null.
fn whole_number(
    object: &Map<String, Value>,
    name: &str,
    max: u64,
    what: &str,
) -> Result<Option<u64>, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_u64() {
            Some(n) if n <= max => Ok(Some(n)),
            _ => Err(ApiError::bad_request(format!(
                "{what}: `{name}` must be a whole number from 0 to {max}, not {}",
                excerpt(&value.to_string())
            ))),
        },
    }
}

/// A string field; `None` when absent or null.
fn string_field<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<Option<&'a str>, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::bad_request(format!(
            "{what}: `{name}` must be a string, not {}",
            excerpt(&other.to_string())
        ))),
    }
}

/// `{"seconds": N}` -> the new app token lifetime.
fn token_ttl(body: &Map<String, Value>) -> Result<Duration, ApiError> {
    only_fields(body, &["seconds"], "token-ttl")?;
    let bad = || {
        ApiError::bad_request(
            "token-ttl: `seconds` must be a number of seconds, 0 or more, such as {\"seconds\": 60}",
        )
    };
    let seconds = body.get("seconds").ok_or_else(bad)?;
    if let Some(whole) = seconds.as_u64() {
        return Ok(Duration::from_secs(whole));
    }
    seconds
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(bad)
}

/// `{"decision", "user"?, "delayMs"?}` -> the auto decision (`None` for `none`).
fn auto(body: &Map<String, Value>) -> Result<Option<Auto>, ApiError> {
    only_fields(body, &["decision", "user", "delayMs"], "auto")?;
    let user = match string_field(body, "user", "auto")?.map(str::trim) {
        None => None,
        Some(name) if !name.is_empty() && name.chars().count() <= MAX_USER_CHARS => {
            Some(name.to_owned())
        }
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "auto: `user` must be a display name of 1 to {MAX_USER_CHARS} characters"
            )));
        }
    };
    let delay = whole_number(body, "delayMs", MAX_AUTO_DELAY_MS, "auto")?.unwrap_or(0);
    let decision = match string_field(body, "decision", "auto")? {
        Some("approve") => AutoDecision::Approve { user },
        Some("deny") => AutoDecision::Deny,
        Some("close") => AutoDecision::Close,
        Some("none") => return Ok(None),
        _ => {
            return Err(ApiError::bad_request(
                "auto: `decision` must be \"approve\", \"deny\", \"close\" or \"none\"",
            ));
        }
    };
    Ok(Some(Auto {
        decision,
        delay: Duration::from_millis(delay),
    }))
}

/// `{"target", "fault", "times"?}`.
fn armed_fault(body: &Map<String, Value>) -> Result<(Target, Fault, Times), ApiError> {
    only_fields(body, &["target", "fault", "times"], "fault")?;
    let target = target(body.get("target"))?;
    let fault = match body.get("fault") {
        Some(value) => fault(value, 0)?,
        None => {
            return Err(ApiError::bad_request(
                "fault: `fault` is required, such as {\"kind\": \"status\", \"status\": 503, \
                 \"code\": \"UNAVAILABLE\", \"message\": \"down\"}",
            ));
        }
    };
    let times = times(body.get("times"))?;
    Ok((target, fault, times))
}

fn target(value: Option<&Value>) -> Result<Target, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "fault: `target` must be \"token\", \"guest\" or {\"app\": \"<GUID>\", \"function\": \"<name>\"}",
        )
    };
    match value {
        Some(Value::String(s)) if s == "token" => Ok(Target::Token),
        Some(Value::String(s)) if s == "guest" => Ok(Target::Guest),
        Some(Value::Object(object)) => {
            only_fields(object, &["app", "function"], "the fault's target")?;
            let app = string_field(object, "app", "the fault's target")?;
            let function = string_field(object, "function", "the fault's target")?;
            match (app, function) {
                (Some(app), Some(function)) if !app.is_empty() && !function.is_empty() => {
                    Ok(Target::function(app, function))
                }
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

fn times(value: Option<&Value>) -> Result<Times, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(Times::Once),
        Some(Value::String(s)) if s == "once" => Ok(Times::Once),
        Some(Value::String(s)) if s == "always" => Ok(Times::Always),
        Some(value) => match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n > 0 => Ok(Times::N(n)),
            _ => Err(ApiError::bad_request(format!(
                "fault: `times` must be \"once\", \"always\" or a whole number from 1 to {}",
                u32::MAX
            ))),
        },
    }
}

/// The fault kinds, for messages.
const FAULT_KINDS: &str = "status, delay, slow, expiredToken, rateLimited, htmlBadGateway, \
    malformedJson, truncated, resetConnection, softError, largeBody, streamedBody, json";

fn fault(value: &Value, depth: usize) -> Result<Fault, ApiError> {
    let Value::Object(object) = value else {
        return Err(ApiError::bad_request(format!(
            "fault: `fault` must be an object with a `kind` ({FAULT_KINDS})"
        )));
    };
    let Some(kind) = string_field(object, "kind", "fault")? else {
        return Err(ApiError::bad_request(format!(
            "fault: the fault needs a `kind` ({FAULT_KINDS})"
        )));
    };
    let what = format!("the {} fault", excerpt(kind));
    let required = |name: &str, max: u64| -> Result<u64, ApiError> {
        whole_number(object, name, max, &what)?.ok_or_else(|| {
            ApiError::bad_request(format!("{what}: `{name}` is required (0 to {max})"))
        })
    };
    let status = || {
        object
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{what}: `status` (an HTTP status from 100 to 599) is required"
                ))
            })
    };
    let fault = match kind {
        "status" => {
            only_fields(object, &["kind", "status", "code", "message"], &what)?;
            let status = status()?;
            Fault::Status {
                status,
                code: string_field(object, "code", &what)?
                    .unwrap_or("INJECTED_FAULT")
                    .to_owned(),
                message: string_field(object, "message", &what)?
                    .unwrap_or("an injected fault")
                    .to_owned(),
            }
        }
        "delay" => {
            only_fields(object, &["kind", "ms"], &what)?;
            Fault::Delay(Duration::from_millis(required("ms", MAX_FAULT_DELAY_MS)?))
        }
        "slow" => {
            only_fields(object, &["kind", "ms", "then"], &what)?;
            let delay = Duration::from_millis(required("ms", MAX_FAULT_DELAY_MS)?);
            if depth >= MAX_FAULT_DEPTH {
                return Err(ApiError::bad_request(format!(
                    "{what}: `slow` faults nest at most {MAX_FAULT_DEPTH} deep"
                )));
            }
            let Some(then) = object.get("then") else {
                return Err(ApiError::bad_request(format!(
                    "{what}: `then` (the fault to answer with after the wait) is required"
                )));
            };
            Fault::Slow {
                delay,
                then: Box::new(fault(then, depth + 1)?),
            }
        }
        "expiredToken" => {
            only_fields(object, &["kind"], &what)?;
            Fault::ExpiredToken
        }
        "rateLimited" => {
            only_fields(object, &["kind", "retryAfter"], &what)?;
            Fault::RateLimited {
                retry_after: whole_number(object, "retryAfter", u64::from(u32::MAX), &what)?,
            }
        }
        "htmlBadGateway" => {
            only_fields(object, &["kind"], &what)?;
            Fault::HtmlBadGateway
        }
        "malformedJson" => {
            only_fields(object, &["kind"], &what)?;
            Fault::MalformedJson
        }
        "truncated" => {
            only_fields(object, &["kind"], &what)?;
            Fault::Truncated
        }
        "resetConnection" => {
            only_fields(object, &["kind"], &what)?;
            Fault::ResetConnection
        }
        "softError" => {
            only_fields(object, &["kind", "message"], &what)?;
            let Some(message) = string_field(object, "message", &what)? else {
                return Err(ApiError::bad_request(format!(
                    "{what}: `message` (a string) is required"
                )));
            };
            Fault::SoftError(message.to_owned())
        }
        "largeBody" => {
            only_fields(object, &["kind", "bytes"], &what)?;
            let bytes = required("bytes", MAX_LARGE_BODY)?;
            Fault::LargeBody(usize::try_from(bytes).unwrap_or(usize::MAX))
        }
        "streamedBody" => {
            only_fields(object, &["kind", "bytes"], &what)?;
            let bytes = required("bytes", MAX_LARGE_BODY)?;
            Fault::StreamedBody(usize::try_from(bytes).unwrap_or(usize::MAX))
        }
        "json" => {
            only_fields(object, &["kind", "status", "body"], &what)?;
            let status = status()?;
            let Some(body) = string_field(object, "body", &what)? else {
                return Err(ApiError::bad_request(format!(
                    "{what}: `body` (a string, sent verbatim) is required"
                )));
            };
            Fault::Json {
                status,
                body: body.to_owned(),
            }
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "fault: unknown kind `{}`; the kinds are: {FAULT_KINDS}",
                excerpt(other)
            )));
        }
    };
    Ok(fault)
}

/// The query's name-value pairs; the first value of a name wins.
fn query_pairs(parts: &Parts) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
        map.entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    map
}

fn required_param<'a>(query: &'a HashMap<String, String>, name: &str) -> Result<&'a str, ApiError> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "the `{name}` query parameter is required, as in ?app=p_demo&function=echo"
            ))
        })
}

/// A recorded request as the `requests` control shows it: which credentials
/// it carried, never their values.
fn describe(record: &RequestRecord) -> Value {
    let has = |name: &str| record.header(name).is_some();
    let has_session_cookie = record
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, value)| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, _)| name == SESSION_COOKIE);
    json!({
        "method": record.method,
        "path": record.path,
        "hasCookie": has_session_cookie,
        "hasAppToken": has(header::APP_TOKEN),
        "hasAuthorization": has("authorization"),
        "hasApiKey": has(header::API_KEY),
        "origin": record.header("origin"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => Map::new(),
        }
    }

    #[test]
    fn control_paths() {
        assert!(is_control_path("/__emulator"));
        assert!(is_control_path("/__emulator/reset"));
        assert!(!is_control_path("/__emulatorx"));
        assert!(!is_control_path("/api/__emulator"));
    }

    #[test]
    fn faults_parse() {
        let parsed = armed_fault(&object(json!({
            "target": {"app": "p_a", "function": "f"},
            "fault": {"kind": "slow", "ms": 5, "then": {"kind": "rateLimited", "retryAfter": 2}},
            "times": 3,
        })))
        .ok();
        assert_eq!(
            parsed,
            Some((
                Target::function("p_a", "f"),
                Fault::Slow {
                    delay: Duration::from_millis(5),
                    then: Box::new(Fault::RateLimited {
                        retry_after: Some(2)
                    }),
                },
                Times::N(3),
            ))
        );
        for bad in [
            json!({"target": "tokens", "fault": {"kind": "malformedJson"}}),
            json!({"target": "token", "fault": {"kind": "nope"}}),
            json!({"target": "token", "fault": {"kind": "status", "status": 99}}),
            json!({"target": "token", "fault": {"kind": "delay"}}),
            json!({"target": "token", "fault": {"kind": "delay", "ms": -1}}),
            json!({"target": "token", "fault": {"kind": "softError"}}),
            json!({"target": "token", "fault": {"kind": "malformedJson", "x": 1}}),
            json!({"target": "token", "fault": {"kind": "malformedJson"}, "times": 0}),
            json!({"target": "token", "fault": {"kind": "malformedJson"}, "time": 1}),
            json!({"target": "token"}),
        ] {
            assert!(armed_fault(&object(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn ttl_and_auto_parse() {
        assert_eq!(
            token_ttl(&object(json!({"seconds": 1.5}))).ok(),
            Some(Duration::from_millis(1500))
        );
        assert!(token_ttl(&object(json!({"seconds": -1}))).is_err());
        assert!(token_ttl(&object(json!({"seconds": "5"}))).is_err());
        assert!(token_ttl(&object(json!({}))).is_err());
        assert_eq!(auto(&object(json!({"decision": "none"}))).ok(), Some(None));
        assert_eq!(
            auto(&object(
                json!({"decision": "approve", "user": " Ann ", "delayMs": 5})
            ))
            .ok(),
            Some(Some(Auto {
                decision: AutoDecision::Approve {
                    user: Some("Ann".to_owned())
                },
                delay: Duration::from_millis(5),
            }))
        );
        assert!(auto(&object(json!({"decision": "maybe"}))).is_err());
        assert!(auto(&object(json!({"decision": "approve", "user": ""}))).is_err());
        assert!(auto(&object(json!({"decision": "deny", "delayMs": 1e9}))).is_err());
    }
}
