//! The login and consent pages (`/api/auth/login`, `/api/auth/consent`).
//!
//! `GET` shows a form with a display-name field and Approve / Deny buttons that
//! post back to the same path. `GET ...&auto=approve|deny|close[&user=<name>]`
//! decides at once, for headless browser tests; without `auto`, the decision
//! set by [`Emulator::set_auto_decision`](crate::Emulator::set_auto_decision)
//! (or the `auto` test control) applies, after its delay. The decision answers,
//! by `mode` and `return`: a popup page that posts
//! `{type: "gipity_auth", status}` to its opener and closes, a `303` to the
//! return URL, or a plain "signed in" page. `close` answers a popup page that
//! closes without posting anything, or a page saying the window was closed.
//!
//! The popup posts with the opener's origin as `targetOrigin` when it is known
//! (the `opener` parameter, else the `Referer` of the page's `GET`, which a
//! browser sets to the opener's origin for a popup), and `"*"` otherwise.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::REFERER;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use crate::http::SESSION_COOKIE;
use crate::http::{ApiError, HTML, escape_html, excerpt, html, read_body, respond};
use crate::model::{AUTO_USER, AutoDecision, User};
use crate::state::{Auto, Shared};

/// Largest form body accepted.
const MAX_FORM: usize = 64 * 1024;
/// Longest accepted display name, in characters.
const MAX_DISPLAY_NAME_CHARS: usize = 100;
/// The name used when the form leaves it empty and nobody is signed in.
const DEFAULT_DISPLAY_NAME: &str = "Test User";
/// Hosts a `return` URL may point at.
const RETURN_HOSTS: [&str; 5] = [
    "app.gipity.ai",
    "dev.gipity.ai",
    "gipity.ai",
    "127.0.0.1",
    "localhost",
];

/// Which page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Login,
    Consent,
}

impl Page {
    /// `login` or `consent` (anything else is treated as `login`).
    pub(crate) fn from_segment(segment: &str) -> Self {
        if segment == "consent" {
            Self::Consent
        } else {
            Self::Login
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Login => gipity_shared::path::LOGIN,
            Self::Consent => gipity_shared::path::CONSENT,
        }
    }
}

/// The person's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Approve,
    Deny,
    /// Closing the window without choosing (only automatic decisions do this).
    Close,
}

impl Decision {
    /// A button of the form.
    fn from_form(value: &str) -> Option<Self> {
        match value {
            "approve" => Some(Self::Approve),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }

    /// The `auto` query parameter.
    fn from_query(value: &str) -> Option<Self> {
        match value {
            "close" => Some(Self::Close),
            other => Self::from_form(other),
        }
    }
}

/// The parameters both the page and its form carry.
struct Params {
    app: String,
    permissions: u32,
    /// `mode` as given (`popup` selects the popup answer).
    mode: Option<String>,
    /// A validated return URL.
    return_url: Option<String>,
    /// The opener's origin, when known: where the popup posts its message.
    opener: Option<String>,
}

impl Params {
    fn popup(&self) -> bool {
        self.mode.as_deref() == Some("popup")
    }
}

/// Name-value pairs of a query string or form body; the first value of a name wins.
fn pairs(input: &[u8]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(input) {
        map.entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    map
}

/// Validates `app`, `permissions`, `mode`, `return` and `opener`; `referer` is
/// the origin of the page's `Referer`, used when `opener` is absent.
fn params(
    shared: &Shared,
    fields: &HashMap<String, String>,
    referer: Option<String>,
) -> Result<Params, ApiError> {
    let app = match fields.get("app").map(|a| a.trim()) {
        Some(app) if !app.is_empty() => app.to_owned(),
        _ => return Err(ApiError::bad_request("the `app` parameter is required")),
    };
    if !shared.lock().apps.contains_key(&app) {
        return Err(ApiError::app_not_found(&app));
    }
    let permissions = match fields.get("permissions").map(|p| p.trim()) {
        None | Some("") => crate::permissions::IDENTITY,
        Some(value) => value.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "`permissions={}` is not a permission bit set",
                excerpt(value)
            ))
        })?,
    };
    let mode = fields
        .get("mode")
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty());
    let return_url = match fields.get("return").map(|r| r.trim()) {
        None | Some("") => None,
        Some(url) => Some(check_return_url(url)?),
    };
    let opener = match fields.get("opener").map(|o| o.trim()) {
        None | Some("") => referer,
        Some(value) => Some(origin_of(value).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`opener={}` is not an http(s) origin",
                excerpt(value)
            ))
        })?),
    };
    Ok(Params {
        app,
        permissions,
        mode,
        return_url,
        opener,
    })
}

/// The origin (`scheme://host[:port]`) of an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// A return URL must be http(s) on a Gipity host (or loopback, for local tests).
fn check_return_url(raw: &str) -> Result<String, ApiError> {
    let rejected = || {
        ApiError::bad_request(format!(
            "the return URL `{}` must be on app.gipity.ai, dev.gipity.ai, gipity.ai, 127.0.0.1 or localhost",
            excerpt(raw)
        ))
    };
    let url = url::Url::parse(raw).map_err(|_| rejected())?;
    let scheme_ok = matches!(url.scheme(), "http" | "https");
    let host_ok = url.host_str().is_some_and(|h| RETURN_HOSTS.contains(&h));
    let no_credentials = url.username().is_empty() && url.password().is_none();
    if scheme_ok && host_ok && no_credentials {
        Ok(url.to_string())
    } else {
        Err(rejected())
    }
}

/// `GET`: an immediate decision with `auto=approve|deny|close`, else the
/// automatic decision when one is set, else the form.
pub(crate) fn get(shared: &Shared, page: Page, parts: &Parts) -> Result<Response, ApiError> {
    let query = pairs(parts.uri.query().unwrap_or("").as_bytes());
    let referer = parts
        .headers
        .get(REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(origin_of);
    let params = params(shared, &query, referer)?;
    let (session_user, auto) = {
        let state = shared.lock();
        (state.signed_in_user(&parts.headers), state.auto.clone())
    };
    if let Some(value) = query.get("auto") {
        let Some(decision) = Decision::from_query(value) else {
            return Err(ApiError::bad_request(
                "`auto` must be `approve`, `deny` or `close`",
            ));
        };
        let chosen = Chosen {
            decision,
            display_name: query.get("user").map(String::as_str),
            default_name: DEFAULT_DISPLAY_NAME,
            delay: Duration::ZERO,
        };
        return decide(shared, &params, chosen, session_user);
    }
    let Some(Auto { decision, delay }) = auto else {
        return Ok(form(page, &params, session_user.as_ref()));
    };
    let (decision, display_name) = match &decision {
        AutoDecision::Approve { user } => (Decision::Approve, user.as_deref()),
        AutoDecision::Deny => (Decision::Deny, None),
        AutoDecision::Close => (Decision::Close, None),
    };
    let chosen = Chosen {
        decision,
        display_name,
        default_name: AUTO_USER,
        delay,
    };
    decide(shared, &params, chosen, session_user)
}

/// `POST`: the form's submission (the same for both pages).
pub(crate) async fn post(shared: &Shared, parts: &Parts, body: Body) -> Result<Response, ApiError> {
    let form = pairs(&read_body(&parts.headers, body, MAX_FORM).await?);
    // The form carries the opener found when the page was shown.
    let params = params(shared, &form, None)?;
    let Some(decision) = form.get("decision").and_then(|d| Decision::from_form(d)) else {
        return Err(ApiError::bad_request(
            "`decision` must be `approve` or `deny`",
        ));
    };
    let session_user = shared.lock().signed_in_user(&parts.headers);
    let chosen = Chosen {
        decision,
        display_name: form.get("display_name").map(String::as_str),
        default_name: DEFAULT_DISPLAY_NAME,
        delay: Duration::ZERO,
    };
    decide(shared, &params, chosen, session_user)
}

/// A decision and how to carry it out.
struct Chosen<'a> {
    decision: Decision,
    /// Who to sign in as, when approving.
    display_name: Option<&'a str>,
    /// Who to sign in as when no name is given and nobody is signed in.
    default_name: &'a str,
    /// How long the answer page waits before acting.
    delay: Duration,
}

/// Carries out a decision and answers as the mode asks.
fn decide(
    shared: &Shared,
    params: &Params,
    chosen: Chosen<'_>,
    session_user: Option<User>,
) -> Result<Response, ApiError> {
    let Chosen {
        decision,
        display_name,
        default_name,
        delay,
    } = chosen;
    match decision {
        Decision::Deny => return finish(params, "denied", None, delay),
        Decision::Close => return Ok(closed(params, delay)),
        Decision::Approve => {}
    }
    let name = display_name.map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > MAX_DISPLAY_NAME_CHARS) {
        return Err(ApiError::bad_request(format!(
            "the display name must be at most {MAX_DISPLAY_NAME_CHARS} characters"
        )));
    }
    let (user, session) = {
        let mut state = shared.lock();
        let user = match (name, session_user) {
            (Some(name), _) => state
                .user_by_display_name(name)
                .cloned()
                .unwrap_or_else(|| state.create_user(name)),
            (None, Some(user)) => user,
            (None, None) => state
                .user_by_display_name(default_name)
                .cloned()
                .unwrap_or_else(|| state.create_user(default_name)),
        };
        let session = state.new_session(&user.guid);
        state.grant(&user.guid, &params.app, params.permissions);
        (user, session)
    };
    let cookie = format!("{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax");
    finish(params, "success", Some((&user, cookie)), delay)
}

/// The answer to a decision: popup page, redirect, or plain page. The popup's
/// script, and a redirect, wait `delay` first.
fn finish(
    params: &Params,
    status: &'static str,
    signed_in: Option<(&User, String)>,
    delay: Duration,
) -> Result<Response, ApiError> {
    let mut response = if params.popup() {
        html(
            StatusCode::OK,
            popup_page(status, params.opener.as_deref(), delay),
        )
    } else if let Some(url) = params.return_url.as_ref().filter(|_| !delay.is_zero()) {
        html(StatusCode::OK, delayed_redirect(status, url, delay))
    } else if let Some(url) = &params.return_url {
        let mut response = respond(StatusCode::SEE_OTHER, HTML, Body::empty());
        match HeaderValue::from_str(url) {
            Ok(location) => {
                response.headers_mut().insert(LOCATION, location);
            }
            Err(_) => {
                return Err(ApiError::bad_request(
                    "the return URL cannot be used as a redirect",
                ));
            }
        }
        response
    } else {
        let message = match signed_in {
            Some((user, _)) => format!(
                "Signed in as {}. You can close this page.",
                escape_html(&user.display_name)
            ),
            None => "Sign-in cancelled. You can close this page.".to_owned(),
        };
        html(
            StatusCode::OK,
            document("Gipity", &format!("<p id=\"result\">{message}</p>")),
        )
    };
    if let Some(value) = signed_in.and_then(|(_, cookie)| HeaderValue::from_str(&cookie).ok()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

/// The popup's answer: tell the opener (at `opener`, else any origin), then close.
fn popup_page(status: &'static str, opener: Option<&str>, delay: Duration) -> String {
    let status = if status == "success" {
        "success"
    } else {
        "denied"
    };
    let target = js_string(opener.unwrap_or("*"));
    let script = script(
        &format!(
            "if (window.opener) {{\n  \
             window.opener.postMessage({{type:\"gipity_auth\", status:\"{status}\"}}, {target});\n\
             }}\n\
             window.close();"
        ),
        delay,
    );
    document(
        "Gipity",
        &format!(
            "<p id=\"result\" data-status=\"{status}\">You can close this window.</p>\n{script}"
        ),
    )
}

/// The answer to `close`: a popup closes without telling its opener; any
/// other page just says so.
fn closed(params: &Params, delay: Duration) -> Response {
    let body = if params.popup() {
        format!(
            "<p id=\"result\" data-status=\"closed\">This window closes without an answer.</p>\n{}",
            script("window.close();", delay)
        )
    } else {
        "<p id=\"result\" data-status=\"closed\">The sign-in window was closed without an answer.</p>"
            .to_owned()
    };
    html(StatusCode::OK, document("Gipity", &body))
}

/// A page that goes to `url` after `delay` (a `303` cannot wait).
fn delayed_redirect(status: &'static str, url: &str, delay: Duration) -> String {
    let script = script(
        &format!("window.location.replace({});", js_string(url)),
        delay,
    );
    document(
        "Gipity",
        &format!(
            "<p id=\"result\" data-status=\"{status}\">Returning to <a href=\"{href}\">the app</a>.</p>\n{script}",
            href = escape_html(url)
        ),
    )
}

/// A `<script>` running `code` at once, or after `delay`.
fn script(code: &str, delay: Duration) -> String {
    if delay.is_zero() {
        format!("<script>\n{code}\n</script>")
    } else {
        format!(
            "<script>\nsetTimeout(function () {{\n{code}\n}}, {});\n</script>",
            delay.as_millis()
        )
    }
}

/// A JavaScript string literal, safe inside a `<script>` element.
fn js_string(text: &str) -> String {
    serde_json::to_string(text)
        .unwrap_or_else(|_| "\"\"".to_owned())
        .replace('<', "\\u003c")
}

/// The sign-in or consent form.
fn form(page: Page, params: &Params, session_user: Option<&User>) -> Response {
    let app = escape_html(&params.app);
    let (title, intro) = match page {
        Page::Login => (
            "Sign in with Gipity",
            format!("<p><b>{app}</b> wants you to sign in.</p>"),
        ),
        Page::Consent => (
            "Allow access",
            format!("<p><b>{app}</b> asks for your permission.</p>"),
        ),
    };
    let wanted: Vec<String> = describe_permissions(params.permissions);
    let name_value = session_user
        .map(|u| escape_html(&u.display_name))
        .unwrap_or_default();
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape_html(value)
        )
    };
    let body = format!(
        "<h1>{title}</h1>\n{intro}\n<p>It will be able to see: {wanted}.</p>\n\
         <form method=\"post\" action=\"{action}\">\n\
         {app_field}\n{permissions_field}\n{mode_field}\n{return_field}\n{opener_field}\n\
         <label>Display name <input type=\"text\" name=\"display_name\" value=\"{name_value}\" placeholder=\"{DEFAULT_DISPLAY_NAME}\" maxlength=\"{MAX_DISPLAY_NAME_CHARS}\"></label>\n\
         <p><button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\">Approve</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button></p>\n\
         </form>",
        wanted = wanted.join(", "),
        action = page.path(),
        app_field = hidden("app", &params.app),
        permissions_field = hidden("permissions", &params.permissions.to_string()),
        mode_field = hidden("mode", params.mode.as_deref().unwrap_or("")),
        return_field = hidden("return", params.return_url.as_deref().unwrap_or("")),
        opener_field = hidden("opener", params.opener.as_deref().unwrap_or("")),
    );
    html(StatusCode::OK, document(title, &body))
}

/// Names of the permission bits in `bits`.
fn describe_permissions(bits: u32) -> Vec<String> {
    let mut names = Vec::new();
    for bit in 0..32 {
        let mask = 1u32 << bit;
        if bits & mask == 0 {
            continue;
        }
        names.push(match mask {
            crate::permissions::IDENTITY => "your identity".to_owned(),
            crate::permissions::AI => "AI features".to_owned(),
            crate::permissions::ACCOUNT => "your account".to_owned(),
            _ => format!("permission {mask}"),
        });
    }
    if names.is_empty() {
        names.push("nothing".to_owned());
    }
    names
}

/// A minimal HTML document.
fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem}}\
         label{{display:block;margin:1rem 0}}button{{padding:.4rem 1rem;margin-right:.5rem}}</style>\n\
         </head>\n<body>\n{body}\n</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls() {
        for ok in [
            "https://app.gipity.ai/alice/shop/",
            "https://dev.gipity.ai/a/b/?x=1",
            "https://gipity.ai/",
            "http://127.0.0.1:8000/index.html",
            "http://localhost:3000/",
        ] {
            assert!(check_return_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://evil.com/",
            "https://app.gipity.ai.evil.com/",
            "https://user:pw@app.gipity.ai/",
            "javascript:alert(1)",
            "/relative",
            "ftp://gipity.ai/",
        ] {
            assert!(check_return_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn opener_origins() {
        assert_eq!(
            origin_of("http://127.0.0.1:8000/index.html?x=1").as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(
            origin_of("https://app.gipity.ai:443/a/").as_deref(),
            Some("https://app.gipity.ai")
        );
        assert_eq!(origin_of("file:///tmp/x.html"), None);
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("not a url"), None);
    }

    #[test]
    fn script_strings_cannot_end_the_script() {
        assert_eq!(js_string("*"), "\"*\"");
        assert_eq!(
            js_string("a\"</script><script>x"),
            "\"a\\\"\\u003c/script>\\u003cscript>x\""
        );
        assert!(script("go();", Duration::from_millis(250)).contains("}, 250);"));
        assert_eq!(
            script("go();", Duration::ZERO),
            "<script>\ngo();\n</script>"
        );
    }

    #[test]
    fn permissions_are_described() {
        assert_eq!(describe_permissions(5), ["your identity", "AI features"]);
        assert_eq!(describe_permissions(2), ["permission 2"]);
        assert_eq!(describe_permissions(0), ["nothing"]);
    }
}
