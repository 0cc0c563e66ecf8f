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
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use gipity_shared::header;

use crate::faults::{Fault, Target, Times};
use crate::http::SESSION_COOKIE;
use crate::http::{ApiError, MAX_BODY, allow, data, parse_json_body, read_body, truncated};
use crate::model::{AutoDecision, Billing, RequestRecord};
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
            let body: TokenTtlBody =
                json_body(parts, body, "token-ttl", r#"{"seconds": 60}"#).await?;
            shared.lock().token_ttl = Duration::try_from(body)?;
            Ok(done())
        }
        ["billing"] => {
            allow(method, &[Method::POST])?;
            let body: BillingBody = json_body(
                parts,
                body,
                "billing",
                r#"{"app": "p_demo", "service": "llm", "mode": "owner_pays"}"#,
            )
            .await?;
            let mode = match body.mode.as_str() {
                "owner_pays" => Billing::OwnerPays,
                "user_pays" => Billing::UserPays,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "billing: `mode` is owner_pays or user_pays, not `{}`",
                        crate::http::excerpt(other)
                    )));
                }
            };
            shared
                .lock()
                .apps
                .entry(body.app)
                .or_default()
                .billing
                .insert(body.service, mode);
            Ok(done())
        }
        ["credits"] => {
            allow(method, &[Method::POST])?;
            let body: CreditsBody = json_body(
                parts,
                body,
                "credits",
                r#"{"app": "p_demo", "credits": 0} or {"user": "<guid>", "credits": 0}"#,
            )
            .await?;
            let mut state = shared.lock();
            match (body.app, body.user) {
                (Some(app), None) => {
                    state.owner_credits.insert(app, body.credits);
                }
                (None, Some(user)) => {
                    state.user_credits.insert(user, body.credits);
                }
                _ => {
                    return Err(ApiError::bad_request(
                        "credits: give `app` (its owner's credits) or `user` (a user guid), \
                         not both",
                    ));
                }
            }
            Ok(done())
        }
        ["rate-limit"] => {
            allow(method, &[Method::POST])?;
            let body: RateLimitBody = json_body(
                parts,
                body,
                "rate-limit",
                r#"{"limit": 600, "windowSeconds": 60}"#,
            )
            .await?;
            if body.window_seconds == 0 {
                return Err(ApiError::bad_request(
                    "rate-limit: `windowSeconds` is 1 or more",
                ));
            }
            shared.lock().service_rate =
                crate::state::RateWindow::new(body.limit, Duration::from_secs(body.window_seconds));
            Ok(done())
        }
        ["auto"] => {
            allow(method, &[Method::POST])?;
            let body: AutoBody = json_body(
                parts,
                body,
                "auto",
                r#"{"decision": "approve", "user": "Browser User", "delayMs": 0}"#,
            )
            .await?;
            shared.lock().auto = Option::<Auto>::try_from(body)?;
            Ok(done())
        }
        ["fault"] => {
            allow(method, &[Method::POST])?;
            let body: FaultBody = json_body(
                parts,
                body,
                "fault",
                r#"{"target": "token", "fault": {"kind": "htmlBadGateway"}, "times": "once"}"#,
            )
            .await?;
            let (target, fault, times) = <(Target, Fault, Times)>::try_from(body)?;
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
                "llmRequests": counters.llm_requests,
                "streamsAborted": counters.streams_aborted,
                "creditsCharged": counters.credits_charged,
            })))
        }
        ["calls"] => {
            allow(method, &[Method::GET])?;
            let key = function_key(parts)?;
            let state = shared.lock();
            Ok(data(json!({
                "calls": state.calls.get(&key).copied().unwrap_or(0),
                "executions": state.executions.get(&key).copied().unwrap_or(0),
                "bodies": state.bodies.get(&key).cloned().unwrap_or_default(),
            })))
        }
        ["console"] => {
            allow(method, &[Method::GET])?;
            let key = function_key(parts)?;
            let state = shared.lock();
            Ok(data(json!({
                "lines": state.console.get(&key).cloned().unwrap_or_default(),
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

/// The request body as `T`: a JSON object of exactly `T`'s fields (an empty body reads as `{}`);
/// serde's message names the wrong field or value, after `what` and an example of a good body.
async fn json_body<T: DeserializeOwned>(
    parts: &Parts,
    body: Body,
    what: &str,
    example: &str,
) -> Result<T, ApiError> {
    let value = parse_json_body(&read_body(&parts.headers, body, MAX_BODY).await?)?;
    if !value.is_object() {
        return Err(ApiError::bad_request(format!(
            "{what}: the body must be a JSON object such as {example}"
        )));
    }
    decode(value, what)
}

/// `value` as `T`, or a `400` whose message is serde's (which quotes what the client sent, so
/// it is cut at 300 characters), after `what`.
fn decode<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, ApiError> {
    from_value(value)
        .map_err(|error| ApiError::bad_request(format!("{what}: {}", truncated(&error, 300))))
}

/// `value` as `T`; the error names the path of the field it is about (`at `fault.code`: ..`),
/// joined with the path of an error from a nested `from_value`.
fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.inner().to_string();
        if path == "." {
            inner
        } else if let Some(nested) = inner.strip_prefix("at `") {
            format!("at `{path}.{nested}")
        } else {
            format!("at `{path}`: {inner}")
        }
    })
}

/// `POST billing`: `{"app", "service", "mode": "owner_pays" | "user_pays"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BillingBody {
    app: String,
    service: String,
    mode: String,
}

/// `POST credits`: `{"app" | "user", "credits": N}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreditsBody {
    app: Option<String>,
    user: Option<String>,
    credits: u64,
}

/// `POST rate-limit`: `{"limit": N, "windowSeconds": N}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RateLimitBody {
    limit: u64,
    window_seconds: u64,
}

/// `POST token-ttl`: `{"seconds": N}`, the new app token lifetime (fractions allowed).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenTtlBody {
    seconds: f64,
}

impl TryFrom<TokenTtlBody> for Duration {
    type Error = ApiError;

    fn try_from(body: TokenTtlBody) -> Result<Self, ApiError> {
        Some(body.seconds)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "token-ttl: `seconds` must be a number of seconds, 0 or more, such as {\"seconds\": 60}",
                )
            })
    }
}

/// `POST auto`: `{"decision", "user"?, "delayMs"?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AutoBody {
    decision: DecisionName,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    delay_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum DecisionName {
    Approve,
    Deny,
    Close,
    None,
}

/// The auto decision, `None` for `"none"`.
impl TryFrom<AutoBody> for Option<Auto> {
    type Error = ApiError;

    fn try_from(body: AutoBody) -> Result<Self, ApiError> {
        let user = match body.user.as_deref().map(str::trim) {
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
        let delay = body.delay_ms.unwrap_or(0);
        if delay > MAX_AUTO_DELAY_MS {
            return Err(ApiError::bad_request(format!(
                "auto: `delayMs` must be a whole number from 0 to {MAX_AUTO_DELAY_MS}"
            )));
        }
        let decision = match body.decision {
            DecisionName::Approve => AutoDecision::Approve { user },
            DecisionName::Deny => AutoDecision::Deny,
            DecisionName::Close => AutoDecision::Close,
            DecisionName::None => return Ok(None),
        };
        Ok(Some(Auto {
            decision,
            delay: Duration::from_millis(delay),
        }))
    }
}

/// `POST fault`: `{"target", "fault", "times"?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultBody {
    target: TargetBody,
    fault: FaultSpec,
    #[serde(default)]
    times: Option<TimesBody>,
}

/// `"token"`, `"guest"` or `{"app", "function"}` (read through `Value`, so that a wrong one
/// gets our message rather than serde's "did not match any variant").
#[derive(Deserialize)]
#[serde(try_from = "Value")]
enum TargetBody {
    Token,
    Guest,
    Function(FunctionTarget),
    Service(ServiceTarget),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceTarget {
    app: String,
    service: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionTarget {
    app: String,
    function: String,
}

const TARGET_EXPECTED: &str = "`target` must be \"token\", \"guest\", {\"app\": \"<GUID>\", \"function\": \"<name>\"} \
     or {\"app\": \"<GUID>\", \"service\": \"<name>\"}";

impl TryFrom<Value> for TargetBody {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        match value {
            Value::String(name) if name == "token" => Ok(Self::Token),
            Value::String(name) if name == "guest" => Ok(Self::Guest),
            Value::Object(ref object) if object.contains_key("service") => {
                from_value::<ServiceTarget>(value)
                    .map(Self::Service)
                    .map_err(|error| format!("{TARGET_EXPECTED}: {error}"))
            }
            Value::Object(_) => from_value::<FunctionTarget>(value)
                .map(Self::Function)
                .map_err(|error| format!("{TARGET_EXPECTED}: {error}")),
            _ => Err(TARGET_EXPECTED.to_owned()),
        }
    }
}

/// `"once"`, `"always"` or a count from 1.
#[derive(Deserialize)]
#[serde(try_from = "Value")]
struct TimesBody(Times);

impl TryFrom<Value> for TimesBody {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        match &value {
            Value::String(word) if word == "once" => return Ok(Self(Times::Once)),
            Value::String(word) if word == "always" => return Ok(Self(Times::Always)),
            _ => {}
        }
        match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n > 0 => Ok(Self(Times::N(n))),
            _ => Err(format!(
                "`times` must be \"once\", \"always\" or a whole number from 1 to {}",
                u32::MAX
            )),
        }
    }
}

/// The fault kinds, for messages.
const FAULT_KINDS: &str = "status, delay, slow, afterRun, expiredToken, rateLimited, htmlBadGateway, \
    malformedJson, truncated, resetConnection, softError, largeBody, streamedBody, endlessBody, \
    redirect, streamCut, streamReset, streamStall, streamMalformed, json";

/// One fault: an object with a `kind` (checked first, for a clear message), then its fields.
#[derive(Deserialize)]
#[serde(try_from = "Value")]
struct FaultSpec(FaultKind);

impl TryFrom<Value> for FaultSpec {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        let Value::Object(mut fields) = value else {
            return Err(format!(
                "`fault` must be an object with a `kind` ({FAULT_KINDS})"
            ));
        };
        let Some(Value::String(kind)) = fields.remove("kind") else {
            return Err(format!("the fault needs a `kind` ({FAULT_KINDS})"));
        };
        // `{"kind": k, ..fields}` read as the externally tagged `{k: {..fields}}`, whose fields
        // serde can name in its errors (an internally tagged enum buffers them and cannot).
        let mut tagged = serde_json::Map::new();
        tagged.insert(kind.clone(), Value::Object(fields));
        let variant = format!("at `{kind}.");
        let whole = format!("at `{kind}`: ");
        from_value(Value::Object(tagged))
            .map(Self)
            .map_err(|error| error.replacen(&variant, "at `", 1).replacen(&whole, "", 1))
    }
}

/// One fault, by kind.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum FaultKind {
    Status {
        status: u16,
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
    Delay {
        ms: u64,
    },
    Slow {
        ms: u64,
        then: Box<FaultSpec>,
    },
    AfterRun {
        then: Box<FaultSpec>,
    },
    ExpiredToken {},
    RateLimited {
        #[serde(default, rename = "retryAfter")]
        retry_after: Option<u32>,
    },
    HtmlBadGateway {},
    MalformedJson {},
    Truncated {},
    ResetConnection {},
    SoftError {
        message: String,
    },
    LargeBody {
        bytes: u64,
    },
    StreamedBody {
        bytes: u64,
    },
    EndlessBody {},
    StreamCut {
        after: usize,
    },
    StreamReset {
        after: usize,
    },
    StreamStall {
        after: usize,
    },
    StreamMalformed {
        after: usize,
    },
    Redirect {
        #[serde(default = "temporary_redirect")]
        status: u16,
        location: String,
    },
    Json {
        status: u16,
        body: String,
    },
}

/// `307`, the redirect that keeps the method and body.
const fn temporary_redirect() -> u16 {
    307
}

impl TryFrom<FaultBody> for (Target, Fault, Times) {
    type Error = ApiError;

    fn try_from(body: FaultBody) -> Result<Self, ApiError> {
        let target = match body.target {
            TargetBody::Token => Target::Token,
            TargetBody::Guest => Target::Guest,
            TargetBody::Function(FunctionTarget { app, function })
                if !app.is_empty() && !function.is_empty() =>
            {
                Target::function(&app, &function)
            }
            TargetBody::Service(ServiceTarget { app, service })
                if !app.is_empty() && !service.is_empty() =>
            {
                Target::service(&app, &service)
            }
            TargetBody::Function(_) | TargetBody::Service(_) => {
                return Err(ApiError::bad_request(format!("fault: {TARGET_EXPECTED}")));
            }
        };
        let times = body.times.map_or(Times::Once, |times| times.0);
        Ok((target, body.fault.into_fault(0)?, times))
    }
}

impl FaultSpec {
    /// The fault, within the limits; `depth` is how deep in `slow` faults this one sits.
    fn into_fault(self, depth: usize) -> Result<Fault, ApiError> {
        self.0.into_fault(depth)
    }
}

impl FaultKind {
    fn into_fault(self, depth: usize) -> Result<Fault, ApiError> {
        let status = |status: u16| {
            if (100..=599).contains(&status) {
                Ok(status)
            } else {
                Err(ApiError::bad_request(format!(
                    "fault: `status` must be an HTTP status from 100 to 599, not {status}"
                )))
            }
        };
        let at_most = |name: &str, value: u64, max: u64| {
            if value <= max {
                Ok(value)
            } else {
                Err(ApiError::bad_request(format!(
                    "fault: `{name}` must be a whole number from 0 to {max}, not {value}"
                )))
            }
        };
        Ok(match self {
            Self::Status {
                status: code_status,
                code,
                message,
            } => Fault::Status {
                status: status(code_status)?,
                code: code.unwrap_or_else(|| "INJECTED_FAULT".to_owned()),
                message: message.unwrap_or_else(|| "an injected fault".to_owned()),
            },
            Self::Delay { ms } => Fault::Delay(Duration::from_millis(at_most(
                "ms",
                ms,
                MAX_FAULT_DELAY_MS,
            )?)),
            Self::Slow { ms, then } => {
                let delay = Duration::from_millis(at_most("ms", ms, MAX_FAULT_DELAY_MS)?);
                if depth >= MAX_FAULT_DEPTH {
                    return Err(ApiError::bad_request(format!(
                        "fault: `slow` faults nest at most {MAX_FAULT_DEPTH} deep"
                    )));
                }
                Fault::Slow {
                    delay,
                    then: Box::new(then.into_fault(depth + 1)?),
                }
            }
            Self::AfterRun { then } => {
                if depth >= MAX_FAULT_DEPTH {
                    return Err(ApiError::bad_request(format!(
                        "fault: nested faults go at most {MAX_FAULT_DEPTH} deep"
                    )));
                }
                Fault::AfterRun(Box::new(then.into_fault(depth + 1)?))
            }
            Self::ExpiredToken {} => Fault::ExpiredToken,
            Self::RateLimited { retry_after } => Fault::RateLimited {
                retry_after: retry_after.map(u64::from),
            },
            Self::HtmlBadGateway {} => Fault::HtmlBadGateway,
            Self::MalformedJson {} => Fault::MalformedJson,
            Self::Truncated {} => Fault::Truncated,
            Self::ResetConnection {} => Fault::ResetConnection,
            Self::SoftError { message } => Fault::SoftError(message),
            Self::LargeBody { bytes } => Fault::LargeBody(
                usize::try_from(at_most("bytes", bytes, MAX_LARGE_BODY)?).unwrap_or(usize::MAX),
            ),
            Self::StreamedBody { bytes } => Fault::StreamedBody(
                usize::try_from(at_most("bytes", bytes, MAX_LARGE_BODY)?).unwrap_or(usize::MAX),
            ),
            Self::EndlessBody {} => Fault::EndlessBody,
            Self::StreamCut { after } => Fault::StreamCut { after },
            Self::StreamReset { after } => Fault::StreamReset { after },
            Self::StreamStall { after } => Fault::StreamStall { after },
            Self::StreamMalformed { after } => Fault::StreamMalformed { after },
            Self::Redirect {
                status: redirect_status,
                location,
            } => {
                if !(300..400).contains(&redirect_status) {
                    return Err(ApiError::bad_request(format!(
                        "fault: a redirect's `status` is 3xx, not {redirect_status}"
                    )));
                }
                Fault::Redirect {
                    status: redirect_status,
                    location,
                }
            }
            Self::Json {
                status: json_status,
                body,
            } => Fault::Json {
                status: status(json_status)?,
                body,
            },
        })
    }
}

/// The query's name-value pairs; the first value of a name wins.
/// `?app=&function=`: which function a control reads.
fn function_key(parts: &Parts) -> Result<(String, String), ApiError> {
    let query = query_pairs(parts);
    let app = required_param(&query, "app")?;
    let function = required_param(&query, "function")?;
    Ok((app.to_owned(), function.to_owned()))
}

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

    fn armed_fault(value: Value) -> Result<(Target, Fault, Times), ApiError> {
        <(Target, Fault, Times)>::try_from(decode::<FaultBody>(value, "fault")?)
    }

    fn token_ttl(value: Value) -> Result<Duration, ApiError> {
        Duration::try_from(decode::<TokenTtlBody>(value, "token-ttl")?)
    }

    fn auto(value: Value) -> Result<Option<Auto>, ApiError> {
        Option::<Auto>::try_from(decode::<AutoBody>(value, "auto")?)
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
        let parsed = armed_fault(json!({
            "target": {"app": "p_a", "function": "f"},
            "fault": {"kind": "slow", "ms": 5, "then": {"kind": "rateLimited", "retryAfter": 2}},
            "times": 3,
        }))
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
            json!({"target": "token", "fault": {"kind": "delay", "ms": 600_001}}),
            json!({"target": "token", "fault": {"kind": "softError"}}),
            json!({"target": "token", "fault": {"kind": "malformedJson", "x": 1}}),
            json!({"target": "token", "fault": {"kind": "malformedJson"}, "times": 0}),
            json!({"target": "token", "fault": {"kind": "malformedJson"}, "times": "twice"}),
            json!({"target": "token", "fault": {"kind": "malformedJson"}, "time": 1}),
            json!({"target": {"app": "", "function": "f"}, "fault": {"kind": "truncated"}}),
            json!({"target": {"app": "p", "function": "f", "x": 1}, "fault": {"kind": "truncated"}}),
            json!({"target": "token"}),
        ] {
            assert!(armed_fault(bad.clone()).is_err(), "{bad}");
        }
        let deep = (0..=MAX_FAULT_DEPTH).fold(
            json!({"kind": "truncated"}),
            |then, _| json!({"kind": "slow", "ms": 1, "then": then}),
        );
        assert!(armed_fault(json!({"target": "token", "fault": deep})).is_err());
    }

    #[test]
    fn messages_name_the_field() {
        let message = |value: Value| match armed_fault(value) {
            Err(error) => error.message().to_owned(),
            Ok(_) => String::new(),
        };
        let unknown =
            message(json!({"target": "token", "fault": {"kind": "malformedJson"}, "time": 1}));
        assert!(unknown.contains("unknown field `time`"), "{unknown}");
        let code = message(
            json!({"target": "token", "fault": {"kind": "status", "status": 503, "code": 5}}),
        );
        assert!(
            code.starts_with("fault: at `fault.code`: invalid type"),
            "{code}"
        );
        let kind = message(json!({"target": "token", "fault": {"kind": "nope"}}));
        assert!(kind.contains("unknown variant `nope`"), "{kind}");
        assert!(kind.contains("htmlBadGateway"), "{kind}");
        let missing = message(json!({"target": "token", "fault": {"kind": "delay"}}));
        assert!(missing.contains("missing field `ms`"), "{missing}");
    }

    #[test]
    fn ttl_and_auto_parse() {
        assert_eq!(
            token_ttl(json!({"seconds": 1.5})).ok(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            token_ttl(json!({"seconds": 60})).ok(),
            Some(Duration::from_secs(60))
        );
        assert!(token_ttl(json!({"seconds": -1})).is_err());
        assert!(token_ttl(json!({"seconds": "5"})).is_err());
        assert!(token_ttl(json!({})).is_err());
        assert!(token_ttl(json!({"seconds": 1, "minutes": 1})).is_err());
        assert_eq!(auto(json!({"decision": "none"})).ok(), Some(None));
        assert_eq!(
            auto(json!({"decision": "approve", "user": " Ann ", "delayMs": 5})).ok(),
            Some(Some(Auto {
                decision: AutoDecision::Approve {
                    user: Some("Ann".to_owned())
                },
                delay: Duration::from_millis(5),
            }))
        );
        assert!(auto(json!({"decision": "maybe"})).is_err());
        assert!(auto(json!({"decision": "approve", "user": ""})).is_err());
        assert!(auto(json!({"decision": "deny", "delayMs": 1e9})).is_err());
        assert!(auto(json!({"decision": "deny", "delayMs": 60_001})).is_err());
    }
}
