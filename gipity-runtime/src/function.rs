//! [`RemoteFunction`]: how to call one remote function (name, auth level, permissions,
//! timeout, soft errors). Generated stubs keep one in a `static`.

use std::time::Duration;

use crate::auth::{Auth, Permissions};

/// How to call one remote function. Generated stubs describe their function with a `static`
/// of this type; [`Client::call_function`](crate::Client::call_function) takes one for hand-written calls.
///
/// ```
/// use std::time::Duration;
/// use gipity_runtime::{Auth, RemoteFunction};
///
/// static SAVE: RemoteFunction = RemoteFunction::new("save-progress")
///     .auth(Auth::User)
///     .timeout(Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RemoteFunction<'a> {
    name: &'a str,
    /// Whether `name` is a valid function name: decided in [`new`](Self::new), at compile time
    /// for a `static`, so that calls through a static descriptor skip the check.
    valid_name: bool,
    auth: Option<Auth>,
    permissions: Permissions,
    timeout: Option<Duration>,
    soft_errors: bool,
    resend_after_auth: bool,
}

impl<'a> RemoteFunction<'a> {
    /// The function `functions/<name>.js`. Its auth level is unknown: the client attaches its
    /// credential and fails closed if it cannot.
    #[must_use]
    pub const fn new(name: &'a str) -> Self {
        Self {
            name,
            valid_name: gipity_shared::is_function_name(name),
            auth: None,
            permissions: Permissions::IDENTITY,
            timeout: None,
            soft_errors: false,
            resend_after_auth: true,
        }
    }

    /// The auth level declared for the function in `gipity.yaml`.
    #[must_use]
    pub const fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The permissions the function needs (used to build the login URL when the API gives none).
    #[must_use]
    pub const fn permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = permissions;
        self
    }

    /// A timeout for this function instead of the client's.
    #[must_use]
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Treat `{"data": {"error": "..."}}` (a function that "fails softly") as
    /// [`Error::Function`](crate::Error::Function) instead of a success.
    #[must_use]
    pub const fn soft_errors(mut self, soft_errors: bool) -> Self {
        self.soft_errors = soft_errors;
        self
    }

    /// Whether a call that meets `LOGIN_REQUIRED` or `CONSENT_REQUIRED`, which the auth handler
    /// then completes, is sent again (the default). A function that can answer such a challenge
    /// after a side effect (it writes, then calls the LLM service for the user) is not safe to
    /// re-send: with `false` the call fails with [`Error::LoginRequired`] or
    /// [`Error::ConsentRequired`], whose challenge's [`outcome`](crate::Challenge::outcome) is
    /// [`AuthOutcome::Completed`](crate::AuthOutcome::Completed), and the app decides.
    ///
    /// [`Error::LoginRequired`]: crate::Error::LoginRequired
    /// [`Error::ConsentRequired`]: crate::Error::ConsentRequired
    #[must_use]
    pub const fn resend_after_auth(mut self, resend: bool) -> Self {
        self.resend_after_auth = resend;
        self
    }

    /// The remote name.
    #[must_use]
    pub const fn name(&self) -> &'a str {
        self.name
    }

    /// The declared auth level, if any.
    #[must_use]
    pub const fn auth_level(&self) -> Option<Auth> {
        self.auth
    }

    pub(crate) const fn soft_errors_enabled(&self) -> bool {
        self.soft_errors
    }

    pub(crate) const fn resends_after_auth(&self) -> bool {
        self.resend_after_auth
    }

    pub(crate) const fn name_checked(&self) -> bool {
        self.valid_name
    }

    pub(crate) const fn permissions_needed(&self) -> Permissions {
        self.permissions
    }

    pub(crate) const fn timeout_override(&self) -> Option<Duration> {
        self.timeout
    }
}
