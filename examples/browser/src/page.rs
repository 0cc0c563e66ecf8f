//! The page's logic: the stubs, the clients, and the DOM rendering.

use std::cell::RefCell;

use gipity_runtime::browser::PopupHandler;
use gipity_runtime::llm::{ChatEvent, ChatRequest};
use gipity_runtime::{AuthOutcome, Challenge, Client, Error, Result, User};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

/// The emulator's demo app.
const APP: &str = "p_demo";

/// `a + b`, computed by the app's public function `add`.
#[gipity_runtime::function(auth = "public")]
pub async fn add(a: f64, b: f64) -> Result<f64>;

/// The signed-in user, from the app's function `whoami` (it needs a signed-in user).
#[gipity_runtime::function(auth = "user")]
pub async fn whoami() -> Result<User>;

thread_local! {
    /// The challenge of a sign-in the browser blocked, waiting for a click on `#resume`.
    static PENDING: RefCell<Option<Challenge>> = const { RefCell::new(None) };
}

/// Runs when the module is loaded: sets up the clients and the buttons, then calls `add`.
#[wasm_bindgen(start)]
pub fn start() {
    let Some(origin) = web_sys::window().and_then(|window| window.location().origin().ok()) else {
        set_text("sum", "This page needs a browser window.");
        return;
    };
    // The page and the API share an origin here (the emulator serves both); a real app would
    // leave the base URL at its default, https://a.gipity.ai.
    let popup_client = Client::builder(APP)
        .base_url(&origin)
        .auth_handler(PopupHandler::new())
        .build();
    // The redirect flow uses a client without a handler: its calls fail with the challenge,
    // and the click handler navigates to the login page, which comes back to this page.
    let redirect_client = Client::builder(APP)
        .base_url(&origin)
        .return_url(page_url(&origin))
        .build();
    let (popup_client, redirect_client) = match (popup_client, redirect_client) {
        (Ok(popup), Ok(redirect)) => (popup, redirect),
        (Err(error), _) | (_, Err(error)) => {
            set_text("sum", &format!("Cannot set up the Gipity client: {error}"));
            return;
        }
    };
    // The free stubs (`add()`, `whoami()`) call through the installed client.
    if let Err(error) = popup_client.install() {
        set_text("sum", &format!("Cannot set up the Gipity client: {error}"));
        return;
    }

    on_click("sign-in", || spawn_local(sign_in()));
    on_click("ask", || spawn_local(ask()));
    on_click("resume", resume);
    on_click("sign-in-redirect", move || {
        spawn_local(sign_in_with_redirect(redirect_client.clone()));
    });

    spawn_local(async {
        show_sum().await;
        if sign_in_requested() {
            // Started without a click: the browser would block the popup, so this ends with
            // the `#resume` button.
            sign_in().await;
        } else if matches!(current_client_me().await, Ok(Some(_))) {
            // Back from the redirect flow, or signed in earlier.
            sign_in().await;
        }
    });
}

/// Calls `add` and shows the result in `#sum`.
async fn show_sum() {
    let (a, b) = (2.0, 3.0);
    match add(a, b).await {
        Ok(sum) => set_text("sum", &format!("{a} + {b} = {sum}")),
        Err(error) => set_text("sum", &format!("add failed: {error}")),
    }
}

/// Who the session belongs to, through the installed client.
async fn current_client_me() -> Result<Option<User>> {
    Client::current()?.me().await
}

/// Calls `whoami`; the popup handler signs the user in if needed.
async fn sign_in() {
    set_hidden("resume", true);
    set_text("user", "Signing in\u{2026}");
    match whoami().await {
        Ok(user) => show_user(&user),
        Err(error) => show_error(error),
    }
}

/// `#ask`'s click: streams the LLM's answer to `#prompt` into `#answer` as it arrives. The
/// demo app bills the LLM to its users (`user_pays`), so an anonymous user meets
/// `LOGIN_REQUIRED` first: the popup handler signs them in (with AI permission) from the
/// click, and the request goes again before the stream starts.
async fn ask() {
    let prompt = element("prompt")
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|input| input.value())
        .unwrap_or_default();
    if prompt.trim().is_empty() {
        set_text("chat-status", "Type a question first.");
        return;
    }
    // One answer at a time: a second click would mix two streams in `#answer`.
    set_disabled("ask", true);
    set_text("answer", "");
    set_text("chat-status", "Asking\u{2026}");
    stream_answer(prompt).await;
    set_disabled("ask", false);
}

/// Streams the answer to `prompt` into `#answer`.
async fn stream_answer(prompt: String) {
    let stream = match Client::current() {
        Ok(client) => {
            client
                .llm()
                .stream(&ChatRequest::new().prompt(prompt))
                .await
        }
        Err(error) => Err(error),
    };
    let mut stream = match stream {
        Ok(stream) => stream,
        Err(error) => {
            set_text("chat-status", &chat_error(&error));
            return;
        }
    };
    set_text("chat-status", "Streaming\u{2026}");
    let mut answer = String::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(ChatEvent::Delta { text }) => {
                answer.push_str(&text);
                set_text("answer", &answer);
            }
            Ok(ChatEvent::Done { credits_used, .. }) => {
                let credits = credits_used.map_or_else(String::new, |c| format!(" ({c} credits)"));
                set_text("chat-status", &format!("Done{credits}"));
            }
            Ok(_) => {}
            Err(error) => set_text("chat-status", &chat_error(&error)),
        }
    }
}

/// What the chat box says about an error.
fn chat_error(error: &Error) -> String {
    match error {
        Error::LoginRequired(_) | Error::ConsentRequired(_) => {
            "Sign in with Gipity (and allow AI use) to ask: the app's LLM is billed to its users."
                .to_owned()
        }
        Error::InsufficientCredits { .. } => "You are out of Gipity credits.".to_owned(),
        other => format!("The answer failed: {other}"),
    }
}

/// `#resume`'s click: opens the blocked sign-in's popup now, while the click allows it, then
/// calls `whoami` again.
fn resume() {
    let Some(challenge) = PENDING.with(|pending| pending.borrow_mut().take()) else {
        return;
    };
    set_hidden("resume", true);
    set_text("user", "Signing in\u{2026}");
    // Synchronously, inside the click handler: the window opens before this returns.
    let flow = challenge.open_popup();
    spawn_local(async move {
        match flow.await {
            AuthOutcome::Completed => sign_in().await,
            outcome => show_challenge(challenge, Some(outcome)),
        }
    });
}

/// `#sign-in-redirect`'s click: calls `whoami` without an auth handler, and on
/// `LOGIN_REQUIRED` (or `CONSENT_REQUIRED`) navigates to the page the challenge names.
async fn sign_in_with_redirect(client: Client) {
    set_hidden("resume", true);
    set_text("user", "Signing in\u{2026}");
    match client.scope(whoami()).await {
        Ok(user) => show_user(&user),
        Err(error) => match error.challenge() {
            Some(challenge) => match challenge.redirect() {
                Ok(()) => set_text("user", "Going to the sign-in page\u{2026}"),
                Err(error) => set_text("user", &format!("Cannot go to the sign-in page: {error}")),
            },
            None => show_error(error),
        },
    }
}

/// Shows the signed-in user in `#user`.
fn show_user(user: &User) {
    set_text("user", &format!("Signed in as {}", user.display_name));
}

/// Shows why a sign-in did not complete.
fn show_error(error: Error) {
    match error {
        Error::LoginRequired(challenge) | Error::ConsentRequired(challenge) => {
            let outcome = challenge.outcome();
            show_challenge(*challenge, outcome);
        }
        other => set_text("user", &format!("Sign-in failed: {other}")),
    }
}

/// Shows how a challenge ended; a blocked one waits for a click on `#resume`.
fn show_challenge(challenge: Challenge, outcome: Option<AuthOutcome>) {
    let message = match outcome {
        Some(AuthOutcome::Blocked) => {
            PENDING.with(|pending| *pending.borrow_mut() = Some(challenge));
            set_hidden("resume", false);
            "The browser blocked the sign-in window: continue below."
        }
        Some(AuthOutcome::Denied) => "Sign-in denied.",
        Some(AuthOutcome::Cancelled) => "Sign-in cancelled: the window was closed.",
        Some(AuthOutcome::TimedOut) => "Sign-in timed out.",
        _ => "Sign-in is needed.",
    };
    set_text("user", message);
}

/// Whether the page was opened with `?sign-in`, asking to sign in at once.
fn sign_in_requested() -> bool {
    web_sys::window()
        .and_then(|window| window.location().search().ok())
        .is_some_and(|search| {
            search
                .trim_start_matches('?')
                .split('&')
                .any(|pair| pair.split('=').next() == Some("sign-in"))
        })
}

/// This page's URL without query or fragment: where the redirect flow comes back to.
fn page_url(origin: &str) -> String {
    let path = web_sys::window()
        .and_then(|window| window.location().pathname().ok())
        .unwrap_or_else(|| "/".to_owned());
    format!("{origin}{path}")
}

/// The element with this id, if the page has it.
fn element(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

/// Replaces the text of element `id` (nothing happens if it is missing).
fn set_text(id: &str, text: &str) {
    if let Some(element) = element(id) {
        element.set_text_content(Some(text));
    }
}

/// Hides or shows element `id` (nothing happens if it is missing).
fn set_hidden(id: &str, hidden: bool) {
    if let Some(element) = element(id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        element.set_hidden(hidden);
    }
}

/// Disables or enables button `id` (nothing happens if it is missing).
fn set_disabled(id: &str, disabled: bool) {
    if let Some(button) = element(id).and_then(|e| e.dyn_into::<web_sys::HtmlButtonElement>().ok())
    {
        button.set_disabled(disabled);
    }
}

/// Runs `handler` on every click on element `id` (nothing happens if it is missing). The
/// listener lives as long as the page.
fn on_click(id: &str, handler: impl FnMut() + 'static) {
    let Some(element) = element(id) else {
        return;
    };
    let callback = Closure::<dyn FnMut()>::new(handler);
    if element
        .add_event_listener_with_callback("click", callback.as_ref().unchecked_ref())
        .is_ok()
    {
        callback.forget();
    }
}
