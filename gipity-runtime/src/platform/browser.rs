//! Sign-in in the browser: the popup and redirect flows (`wasm32` only).
//!
//! [`PopupHandler`] resolves a login or consent challenge in a popup and reports a distinct
//! [`AuthOutcome`] for each way it can end: completed, denied, closed (cancelled), blocked,
//! timed out. Browsers block popups that are not opened from a user gesture; the handler then
//! reports [`AuthOutcome::Blocked`] at once, the call fails with the challenge, and the app
//! resumes it from a click with [`Challenge::open_popup`]. [`RedirectHandler`] navigates the
//! page to the login page instead, with a validated `return` URL.
//!
//! In the browser, [`Url`](crate::Url) is the crate's own type over the browser's URL parser;
//! the types its methods return are here.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;

use crate::auth::{AuthHandler, AuthOutcome, Challenge};
use crate::error::Setting;
use crate::error::{Error, Result};
use crate::platform::{self, BoxFuture};

pub use super::web_url::{Origin, ParseError, PathSegmentsMut, QueryPairsMut};

/// The window name the popup flow uses.
pub const POPUP_NAME: &str = "gipity_auth";

/// The popup's size and position hints.
const POPUP_FEATURES: &str = "popup=yes,width=450,height=600";

/// How often the flow checks whether the popup was closed.
const POLL: Duration = Duration::from_millis(100);

/// Resolves challenges in a popup window (the flow Gipity recommends).
///
/// ```ignore
/// let client = Client::builder("p_abc123")
///     .auth_handler(PopupHandler::new())
///     .build()?;
/// ```
#[derive(Debug, Clone)]
pub struct PopupHandler {
    timeout: Duration,
    require_user_activation: bool,
}

impl Default for PopupHandler {
    fn default() -> Self {
        Self::new()
    }
}

impl PopupHandler {
    /// A handler that waits up to five minutes for the user, and reports
    /// [`AuthOutcome::Blocked`] without trying when the page has no user activation (the
    /// browser would block the popup).
    #[must_use]
    pub fn new() -> Self {
        Self {
            timeout: Duration::from_secs(300),
            require_user_activation: true,
        }
    }

    /// How long to wait for the user before closing the popup ([`AuthOutcome::TimedOut`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether to report [`AuthOutcome::Blocked`] up front when the page has no transient user
    /// activation (default `true`). Turn it off only where popups are allowed without a
    /// gesture (a browser started with popup blocking disabled, for tests).
    #[must_use]
    pub fn require_user_activation(mut self, require: bool) -> Self {
        self.require_user_activation = require;
        self
    }
}

impl AuthHandler for PopupHandler {
    fn authenticate(&self, challenge: Challenge) -> BoxFuture<'static, AuthOutcome> {
        if self.require_user_activation && !has_user_activation() {
            return Box::pin(async { AuthOutcome::Blocked });
        }
        Box::pin(open(&challenge, self.timeout))
    }
}

/// Resolves challenges by navigating the page to the login or consent page, which sends the
/// user back to the return URL afterwards. The call in flight fails with
/// [`AuthOutcome::Redirected`] as the page unloads.
#[derive(Debug, Clone, Default)]
pub struct RedirectHandler;

impl AuthHandler for RedirectHandler {
    fn authenticate(&self, challenge: Challenge) -> BoxFuture<'static, AuthOutcome> {
        let outcome = match challenge.redirect() {
            Ok(()) => AuthOutcome::Redirected,
            Err(error) => {
                tracing::warn!(%error, "cannot redirect to the login page");
                AuthOutcome::NotHandled
            }
        };
        Box::pin(async move { outcome })
    }
}

impl Challenge {
    /// Opens the popup flow for this challenge NOW, and resolves when it ends.
    ///
    /// Call it synchronously from a click (or other user gesture) handler: the window is
    /// opened before this returns, while the browser still allows popups. Then make the call
    /// again if the outcome is [`AuthOutcome::Completed`].
    ///
    /// ```ignore
    /// // in a click handler:
    /// let flow = challenge.open_popup();
    /// wasm_bindgen_futures::spawn_local(async move {
    ///     if flow.await == AuthOutcome::Completed {
    ///         let items = get_items("books").await;
    ///         // ...
    ///     }
    /// });
    /// ```
    pub fn open_popup(&self) -> impl Future<Output = AuthOutcome> + 'static {
        open(self, Duration::from_secs(300))
    }

    /// Navigates the page to this challenge's page, returning here afterwards: to the
    /// client's return URL if it has one, else to the current page (validated: only Gipity
    /// app hosts, or the emulator's origin when the API is on loopback).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if there is no window or the return URL is not allowed.
    pub fn redirect(&self) -> Result<()> {
        let window = web_sys::window()
            .ok_or_else(|| Error::config(Setting::Environment, "no window to navigate"))?;
        let url = match self.redirect_url() {
            Some(url) => url,
            None => {
                let here = window
                    .location()
                    .href()
                    .map_err(|_| Error::config(Setting::Environment, "cannot read the page URL"))?;
                self.redirect_url_to(&here)?
            }
        };
        window
            .location()
            .set_href(url.as_str())
            .map_err(|_| Error::config(Setting::Environment, "the browser refused to navigate"))
    }
}

/// Whether the page has transient user activation (a recent click or key press). Browsers
/// without the `navigator.userActivation` API are assumed to have it: the popup is tried, and
/// a blocked `window.open` still reports [`AuthOutcome::Blocked`].
fn has_user_activation() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let supported = js_sys::Reflect::get(&navigator, &"userActivation".into())
        .is_ok_and(|value| !value.is_undefined() && !value.is_null());
    !supported || navigator.user_activation().is_active()
}

/// Opens the popup synchronously; the returned future waits for its end.
fn open(challenge: &Challenge, timeout: Duration) -> impl Future<Output = AuthOutcome> + 'static {
    let opened = Popup::open(challenge);
    async move {
        match opened {
            Some(popup) => popup.wait(timeout).await,
            None => AuthOutcome::Blocked,
        }
    }
}

/// An open popup and the listener for its message.
struct Popup {
    /// The popup's `WindowProxy`. It is cross-origin once the login page loads, so it is only
    /// touched through plain property access: web-sys's `Window` accessors go through
    /// `Window.prototype`, which a cross-origin proxy does not expose.
    window: wasm_bindgen::JsValue,
    listener: Listener,
}

/// The page's `message` listener, removed when the flow ends.
struct Listener {
    host: web_sys::Window,
    status: Rc<RefCell<Option<String>>>,
    callback: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Popup {
    fn open(challenge: &Challenge) -> Option<Self> {
        let host = web_sys::window()?;
        let origin = challenge.url().origin().ascii_serialization();
        let status = Rc::new(RefCell::new(None));
        let sink = Rc::clone(&status);
        // Only the API's own pages may answer, and only with the documented message.
        let callback = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                if event.origin() != origin {
                    return;
                }
                if let Some(answer) = auth_message(&event.data()) {
                    *sink.borrow_mut() = Some(answer);
                }
            },
        );
        host.add_event_listener_with_callback("message", callback.as_ref().unchecked_ref())
            .ok()?;
        let listener = Listener {
            host,
            status,
            callback,
        };
        // `window.open` returns `null` when the browser blocked the popup.
        let window = listener
            .host
            .open_with_url_and_target_and_features(
                challenge.popup_url().as_str(),
                POPUP_NAME,
                POPUP_FEATURES,
            )
            .ok()
            .flatten()?;
        Some(Self {
            window: window.into(),
            listener,
        })
    }

    /// `popup.closed`; a proxy that cannot be read any more counts as closed.
    fn closed(&self) -> bool {
        js_sys::Reflect::get(&self.window, &"closed".into())
            .ok()
            .and_then(|closed| closed.as_bool())
            .unwrap_or(true)
    }

    /// `popup.close()`.
    fn close(&self) {
        if let Some(close) = js_sys::Reflect::get(&self.window, &"close".into())
            .ok()
            .and_then(|close| close.dyn_into::<js_sys::Function>().ok())
        {
            let _ = close.call0(&self.window);
        }
    }

    async fn wait(self, timeout: Duration) -> AuthOutcome {
        let started = web_time::Instant::now();
        loop {
            if let Some(outcome) = self.listener.answer() {
                self.close();
                return outcome;
            }
            if self.closed() {
                // The page posts its message and then closes itself: give a message that is
                // already queued one more turn before calling it cancelled.
                platform::sleep(POLL).await;
                return self.listener.answer().unwrap_or(AuthOutcome::Cancelled);
            }
            if started.elapsed() >= timeout {
                self.close();
                return AuthOutcome::TimedOut;
            }
            platform::sleep(POLL).await;
        }
    }
}

impl Listener {
    fn answer(&self) -> Option<AuthOutcome> {
        let status = self.status.borrow_mut().take()?;
        Some(if status == "success" {
            AuthOutcome::Completed
        } else {
            AuthOutcome::Denied
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .host
            .remove_event_listener_with_callback("message", self.callback.as_ref().unchecked_ref());
    }
}

/// The `status` of a `{type: "gipity_auth", status}` message, or `None` for anything else.
fn auth_message(data: &wasm_bindgen::JsValue) -> Option<String> {
    let field = |name: &str| {
        js_sys::Reflect::get(data, &name.into())
            .ok()
            .and_then(|value| value.as_string())
    };
    (field("type")? == "gipity_auth").then(|| field("status"))?
}
