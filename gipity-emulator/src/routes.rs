//! The HTTP API: routing, credentials, auth levels and the JSON endpoints.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::callers::{APP_TOKEN, Resolved, check_app_token, resolve};
use crate::faults::{self, Fault, Target};
use crate::http::{
    ApiError, MAX_BODY, SESSION_COOKIE, allow, answer, data, excerpt, json, parse_json_body,
    read_body, session_cookies,
};
use crate::model::{Auth, AuthMode, Call, Caller, FORWARDED_HEADERS, RequestRecord};
use crate::state::{HandlerFuture, Shared, State as Inner};
use crate::{controls, pages, services, statics};

/// Smallest and largest accepted device secret, in characters.
const DEVICE_SECRET_CHARS: std::ops::RangeInclusive<usize> = 32..=256;
/// Longest accepted player display name, in characters.
const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// The middleware that counts and records every request but the test controls'.
pub(crate) async fn observe(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if controls::is_control_path(request.uri().path()) {
        return next.run(request).await;
    }
    let record = RequestRecord {
        method: request.method().as_str().to_owned(),
        path: request.uri().path_and_query().map_or_else(
            || request.uri().path().to_owned(),
            |pq| pq.as_str().to_owned(),
        ),
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    tracing::debug!(method = %record.method, path = %record.path, "request");
    {
        let mut state = shared.lock();
        state.counters.http_requests += 1;
        state.requests.push(record);
    }
    next.run(request).await
}

/// Routes every request (the router's fallback).
pub(crate) async fn dispatch(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    answer(route(&shared, request).await)
}

async fn route(shared: &Shared, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let segments = decode_segments(parts.uri.path())?;
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = &parts.method;
    match segs.as_slice() {
        ["api", "token"] => {
            allow(method, &[Method::POST])?;
            mint_token(shared, &parts, body).await
        }
        ["api", "auth", "me"] => {
            allow(method, &[Method::GET])?;
            Ok(me(shared, &parts.headers))
        }
        ["api", "auth", "logout"] => {
            allow(method, &[Method::POST])?;
            Ok(logout(shared, &parts.headers))
        }
        ["api", "auth", page @ ("login" | "consent")] => {
            let page = pages::Page::from_segment(page);
            allow(method, &[Method::GET, Method::POST])?;
            if method == Method::POST {
                pages::post(shared, &parts, body).await
            } else {
                pages::get(shared, page, &parts)
            }
        }
        ["api", app, "auth", "status"] => {
            allow(method, &[Method::GET])?;
            auth_status(shared, app, &parts)
        }
        ["api", app, "auth", "guest"] => {
            allow(method, &[Method::POST])?;
            guest(shared, app, &parts, body).await
        }
        ["api", app, "fn", name] => {
            allow(method, &[Method::POST])?;
            call_function(shared, app, name, &parts, body).await
        }
        ["api", app, "services", rest @ ..] if !rest.is_empty() => {
            services::route(shared, app, rest, &parts, body).await
        }
        ["__media", ..] => {
            allow(method, &[Method::GET])?;
            Ok(crate::http::respond(
                StatusCode::OK,
                "application/octet-stream",
                "emulated media",
            ))
        }
        ["api", ..] => Err(ApiError::not_found("no such route")),
        [controls::PREFIX, rest @ ..] => controls::route(shared, rest, &parts, body).await,
        _ => match &shared.serve_dir {
            Some(root) => {
                allow(method, &[Method::GET])?;
                statics::serve(root, &segments).await
            }
            None => Err(ApiError::not_found("no such route")),
        },
    }
}

/// The path's segments after the leading `/`, percent-decoded.
fn decode_segments(path: &str) -> Result<Vec<String>, ApiError> {
    path.strip_prefix('/')
        .unwrap_or(path)
        .split('/')
        .map(|segment| {
            percent_decode_str(segment)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| {
                    ApiError::bad_request("the path is not valid UTF-8 once percent-decoded")
                })
        })
        .collect()
}

// ---- POST /api/token ----

async fn mint_token(shared: &Shared, parts: &Parts, body: Body) -> Result<Response, ApiError> {
    let fault = shared.lock().take_fault(&Target::Token);
    if let Some(response) = faults::apply(&shared.body_bytes_sent, fault).await {
        return Ok(response);
    }
    let body = parse_json_body(&read_body(&parts.headers, body, MAX_BODY).await?)?;
    let Some(app) = body.get("app").and_then(Value::as_str) else {
        return Err(ApiError::bad_request(
            "the body must be {\"app\": \"<project GUID>\"}",
        ));
    };
    let mut state = shared.lock();
    if !state.apps.contains_key(app) {
        return Err(ApiError::app_not_found(app));
    }
    let (token, expires_in) = state.mint_app_token(app);
    Ok(data(json!({ "token": token, "expiresIn": expires_in })))
}

// ---- GET /api/auth/me ----

fn me(shared: &Shared, headers: &HeaderMap) -> Response {
    let state = shared.lock();
    let user = state.signed_in_user(headers);
    json(StatusCode::OK, &json!({ "user": user }))
}

// ---- POST /api/auth/logout ----

/// Ends every session the request's cookies name; idempotent.
fn logout(shared: &Shared, headers: &HeaderMap) -> Response {
    {
        let mut state = shared.lock();
        for value in session_cookies(headers) {
            state.sessions.remove(&value);
        }
    }
    let mut response = data(json!({}));
    let cleared = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cleared) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

// ---- GET /api/<app>/auth/status ----

fn auth_status(shared: &Shared, app: &str, parts: &Parts) -> Result<Response, ApiError> {
    let permissions = query_permissions(parts.uri.query())?;
    let state = shared.lock();
    if !state.apps.contains_key(app) {
        return Err(ApiError::app_not_found(app));
    }
    if !parts.headers.contains_key(APP_TOKEN) {
        return Err(ApiError::unauthorized(
            "APP_TOKEN_REQUIRED",
            "send an app token in X-App-Token",
        ));
    }
    check_app_token(&state, &parts.headers, app)?;
    let user = state.signed_in_user(&parts.headers);
    let consented = user
        .as_ref()
        .is_some_and(|u| state.has_consent(&u.guid, app, permissions));
    let mut body = Map::new();
    body.insert("authenticated".to_owned(), Value::from(user.is_some()));
    body.insert("consented".to_owned(), Value::from(consented));
    // The documented answer names the user only once they have consented:
    // `{"authenticated": true, "consented": false, "user": null, "consentUrl": ..}`.
    body.insert(
        "user".to_owned(),
        if consented { json!(user) } else { Value::Null },
    );
    if user.is_none() {
        body.insert(
            "loginUrl".to_owned(),
            Value::from(shared.challenge_url("login", app, permissions)),
        );
    } else if !consented {
        body.insert(
            "consentUrl".to_owned(),
            Value::from(shared.challenge_url("consent", app, permissions)),
        );
    }
    Ok(json(StatusCode::OK, &Value::Object(body)))
}

/// `permissions` from a query string; 1 (IDENTITY) when absent.
fn query_permissions(query: Option<&str>) -> Result<u32, ApiError> {
    let value = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(name, _)| name == "permissions")
        .map(|(_, value)| value.into_owned());
    match value {
        None => Ok(crate::permissions::IDENTITY),
        Some(value) => value.trim().parse().map_err(|_| {
            ApiError::bad_request(format!(
                "`permissions={}` is not a permission bit set",
                excerpt(&value)
            ))
        }),
    }
}

// ---- POST /api/<app>/auth/guest ----

async fn guest(
    shared: &Shared,
    app: &str,
    parts: &Parts,
    body: Body,
) -> Result<Response, ApiError> {
    let fault = shared.lock().take_fault(&Target::Guest);
    if let Some(response) = faults::apply(&shared.body_bytes_sent, fault).await {
        return Ok(response);
    }
    let body = parse_json_body(&read_body(&parts.headers, body, MAX_BODY).await?)?;
    let secret = match body.get("deviceSecret") {
        Some(Value::String(secret)) if DEVICE_SECRET_CHARS.contains(&secret.chars().count()) => {
            secret.clone()
        }
        _ => {
            return Err(ApiError::bad_request(
                "`deviceSecret` must be a string of 32 to 256 characters",
            ));
        }
    };
    let display_name = match body.get("displayName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name))
            if !name.trim().is_empty() && name.chars().count() <= MAX_DISPLAY_NAME_CHARS =>
        {
            Some(name.trim().to_owned())
        }
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "`displayName` must be a non-empty string of at most {MAX_DISPLAY_NAME_CHARS} characters"
            )));
        }
    };
    let mut state = shared.lock();
    let Some(entry) = state.apps.get(app) else {
        return Err(ApiError::app_not_found(app));
    };
    if entry.auth_mode == AuthMode::Gipity {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "GUEST_DISABLED",
            "this app only accepts Gipity accounts",
        ));
    }
    let device = (app.to_owned(), secret);
    let known = state
        .devices
        .get(&device)
        .and_then(|guid| state.user(guid))
        .cloned();
    let user = match known {
        Some(mut user) => {
            if let Some(name) = display_name {
                user.display_name = name;
                state.remember_user(&user);
            }
            user
        }
        None => {
            let user = state.create_user(display_name.as_deref().unwrap_or("Guest"));
            state.devices.insert(device, user.guid.clone());
            user
        }
    };
    let (token, expires_in) = state.mint_player_token(app, &user.guid);
    state.counters.guest_sign_ins += 1;
    Ok(data(
        json!({ "token": token, "expiresIn": expires_in, "user": user }),
    ))
}

// ---- POST /api/<app>/fn/<name> ----

fn function_not_found(app: &str, name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "FUNCTION_NOT_FOUND",
        format!("app `{}` has no function `{}`", excerpt(app), excerpt(name)),
    )
}

async fn call_function(
    shared: &Shared,
    app: &str,
    name: &str,
    parts: &Parts,
    body: Body,
) -> Result<Response, ApiError> {
    let target = Target::function(app, name);
    // A fault that lets the function run waits for a call that is allowed to run.
    let fault = {
        let mut state = shared.lock();
        state.record_call(app, name);
        state.take_fault_if(&target, |fault| !fault.runs_function())
    };
    // One fault a call: one taken already (a delay, say) leaves the next for the next call.
    let took_one = fault.is_some();
    if let Some(response) = faults::apply(&shared.body_bytes_sent, fault).await {
        return Ok(response);
    }

    {
        let state = shared.lock();
        let entry = state
            .apps
            .get(app)
            .ok_or_else(|| ApiError::app_not_found(app))?;
        if !entry.functions.contains_key(name) {
            return Err(function_not_found(app, name));
        }
    }

    let body = parse_json_body(&read_body(&parts.headers, body, MAX_BODY).await?)?;

    let (call, handler, after_run) = {
        let mut state = shared.lock();
        // Looked up again: the app or function may have changed while the body arrived.
        let def = state
            .apps
            .get(app)
            .ok_or_else(|| ApiError::app_not_found(app))?
            .functions
            .get(name)
            .cloned()
            .ok_or_else(|| function_not_found(app, name))?;
        let resolved = resolve(&state, app, &parts.headers)?;
        authorize(shared, &state, app, def.auth, def.permissions, &resolved)?;
        let after_run = if took_one {
            None
        } else {
            state.take_fault_if(&target, Fault::runs_function)
        };
        state.record_execution(app, name, &body);
        let call = Call {
            app: app.to_owned(),
            body,
            user: resolved.user,
            caller: resolved.caller,
            request_id: parts
                .headers
                .get(gipity_shared::header::REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            method: parts.method.as_str().to_ascii_uppercase(),
            query: url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
            headers: FORWARDED_HEADERS
                .iter()
                .filter_map(|&name| {
                    let value = parts.headers.get(name)?.to_str().ok()?;
                    Some((name.to_owned(), value.to_owned()))
                })
                .collect(),
        };
        (call, def.handler, after_run.map(Fault::split_run))
    };
    let after_run = match after_run {
        Some((wait, then)) => {
            tokio::time::sleep(wait).await;
            Some(then)
        }
        None => None,
    };

    // The function runs outside the lock, so it may use the emulator's controls.
    let outcome = match catch_unwind(AssertUnwindSafe(|| handler(call))) {
        Ok(future) => CatchUnwind(future).await,
        Err(_) => Err(Panicked),
    };
    if let Some(response) = faults::apply(&shared.body_bytes_sent, after_run).await {
        return Ok(response);
    }
    match outcome {
        Ok(Ok(value)) => Ok(data(value)),
        Ok(Err(error)) => Err(error),
        Err(Panicked) => {
            tracing::warn!(app, function = name, "function panicked");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "FUNCTION_ERROR",
                "the function panicked",
            ))
        }
    }
}

/// A function panicked.
struct Panicked;

/// Awaits a function's future, turning a panic while polling into [`Panicked`].
struct CatchUnwind(HandlerFuture);

impl Future for CatchUnwind {
    type Output = Result<Result<Value, ApiError>, Panicked>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Err(_) => Poll::Ready(Err(Panicked)),
        }
    }
}

/// Checks the function's auth level against the resolved caller.
fn authorize(
    shared: &Shared,
    state: &Inner,
    app: &str,
    auth: Auth,
    permissions: u32,
    resolved: &Resolved,
) -> Result<(), ApiError> {
    if auth == Auth::Public || resolved.caller == Caller::ApiKey {
        return Ok(());
    }
    let Some(user) = &resolved.user else {
        return Err(ApiError::unauthorized(
            "LOGIN_REQUIRED",
            "sign in with Gipity to use this function",
        )
        .with("loginUrl", shared.challenge_url("login", app, permissions)));
    };
    if resolved.caller == Caller::Session {
        if !resolved.app_token {
            return Err(ApiError::unauthorized(
                "APP_TOKEN_REQUIRED",
                "send an app token in X-App-Token with the session cookie",
            ));
        }
        if !state.has_consent(&user.guid, app, permissions) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "CONSENT_REQUIRED",
                "the user has not granted this app the permissions it needs",
            )
            .with(
                "consentUrl",
                shared.challenge_url("consent", app, permissions),
            ));
        }
    }
    if auth == Auth::Member {
        let member = state
            .apps
            .get(app)
            .is_some_and(|entry| entry.members.contains(&user.guid));
        if !member {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "only members of this project may call this function",
            ));
        }
    }
    Ok(())
}
