//! [`App`]: one app of the emulator, and the functions registered on it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::model::{Auth, AuthMode, Billing, Call, FnError, User, permissions};
use crate::state::{self, FunctionDef, Handler, HandlerFuture, Shared};

/// A registered app, from [`Emulator::app`](crate::Emulator::app).
#[derive(Clone)]
pub struct App {
    pub(crate) guid: String,
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("guid", &self.guid)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The app's GUID.
    pub fn guid(&self) -> &str {
        &self.guid
    }

    /// Registers (or replaces) function `name`, requiring the IDENTITY permission
    /// from session users.
    ///
    /// When the emulator was started with a [manifest](crate::EmulatorBuilder::manifest) that
    /// declares `name`, the manifest's auth level is used instead of `auth` (`public` when its
    /// entry gives none), as on the platform.
    ///
    /// `f` runs for each authorised call; `Ok(value)` answers `{"data": value}`,
    /// `Err` answers `500 FUNCTION_ERROR`. A panic in `f` also answers
    /// `500 FUNCTION_ERROR`.
    ///
    /// `f` runs on the server's task, outside the emulator's lock: it may call
    /// the emulator's controls, and should return quickly (use
    /// [`Fault::Delay`](crate::Fault::Delay) or [`App::async_function`] for a slow function). A closure that holds an
    /// [`Emulator`](crate::Emulator) keeps its server alive until
    /// [`Emulator::shutdown`](crate::Emulator::shutdown);
    /// capture an [`App`] or plain data instead where that matters.
    pub fn function<F>(&self, name: &str, auth: Auth, f: F) -> &Self
    where
        F: Fn(Call) -> Result<Value, FnError> + Send + Sync + 'static,
    {
        self.function_with_permissions(name, auth, permissions::IDENTITY, f)
    }

    /// As [`App::function`], requiring the `permissions` bits from session users.
    pub fn function_with_permissions<F>(
        &self,
        name: &str,
        auth: Auth,
        permissions: u32,
        f: F,
    ) -> &Self
    where
        F: Fn(Call) -> Result<Value, FnError> + Send + Sync + 'static,
    {
        let handler: Handler = Arc::new(move |call| -> HandlerFuture {
            Box::pin(std::future::ready(f(call).map_err(FnError::into_api)))
        });
        self.register(name, auth, permissions, handler)
    }

    /// As [`App::function`], for a function that awaits: `f` returns a future,
    /// which the server awaits without blocking other requests (it may sleep
    /// with `tokio::time::sleep`). A panic while creating or polling the
    /// future answers `500 FUNCTION_ERROR`.
    pub fn async_function<F, Fut>(&self, name: &str, auth: Auth, f: F) -> &Self
    where
        F: Fn(Call) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, FnError>> + Send + 'static,
    {
        self.async_function_with_permissions(name, auth, permissions::IDENTITY, f)
    }

    /// As [`App::async_function`], requiring the `permissions` bits from session users.
    pub fn async_function_with_permissions<F, Fut>(
        &self,
        name: &str,
        auth: Auth,
        permissions: u32,
        f: F,
    ) -> &Self
    where
        F: Fn(Call) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, FnError>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |call| -> HandlerFuture {
            let future = f(call);
            Box::pin(async move { future.await.map_err(FnError::into_api) })
        });
        self.register(name, auth, permissions, handler)
    }

    pub(crate) fn register(
        &self,
        name: &str,
        auth: Auth,
        permissions: u32,
        handler: Handler,
    ) -> &Self {
        // The manifest is what the platform deploys: its auth level wins.
        let auth = match self
            .shared
            .manifest
            .as_deref()
            .and_then(|m| m.function(name))
        {
            Some(declared) => Auth::from_manifest(declared.effective_auth()),
            None => auth,
        };
        let def = FunctionDef {
            auth,
            permissions,
            handler,
        };
        self.shared
            .lock()
            .apps
            .entry(self.guid.clone())
            .or_default()
            .functions
            .insert(name.to_owned(), def);
        self
    }

    /// The project API key (`gip_pk_...`), created on first use.
    pub fn api_key(&self) -> String {
        let mut state = self.shared.lock();
        let entry = state.apps.entry(self.guid.clone()).or_default();
        entry
            .api_key
            .get_or_insert_with(|| format!("gip_pk_{}", state::random_string(40, state::ALNUM)))
            .clone()
    }

    /// Makes `user` a member of the project.
    pub fn add_member(&self, user: &User) {
        let mut state = self.shared.lock();
        state.remember_user(user);
        state
            .apps
            .entry(self.guid.clone())
            .or_default()
            .members
            .insert(user.guid.clone());
    }

    /// Removes `user` from the project's members.
    pub fn remove_member(&self, user: &User) {
        if let Some(entry) = self.shared.lock().apps.get_mut(&self.guid) {
            entry.members.remove(&user.guid);
        }
    }

    /// Which sign-in methods the project allows ([`AuthMode::Both`] by default).
    pub fn set_auth_mode(&self, mode: AuthMode) {
        self.shared
            .lock()
            .apps
            .entry(self.guid.clone())
            .or_default()
            .auth_mode = mode;
    }

    /// Who pays for the app's use of `service` (`llm`, `tts`, ...): as the
    /// [manifest](crate::EmulatorBuilder::manifest) declares, else [`Billing::UserPays`], like
    /// the platform. Set here, it wins over the manifest.
    pub fn set_billing(&self, service: &str, billing: Billing) -> &Self {
        self.shared
            .lock()
            .apps
            .entry(self.guid.clone())
            .or_default()
            .billing
            .insert(service.to_owned(), billing);
        self
    }

    /// How the app's streamed LLM answers arrive: `chars` characters an event (4 by default),
    /// `pause` between events (none by default).
    pub fn set_llm_stream(&self, chars: usize, pause: Duration) -> &Self {
        self.shared
            .lock()
            .apps
            .entry(self.guid.clone())
            .or_default()
            .llm_stream = Some((chars.max(1), pause));
        self
    }

    /// Sets the credits of the app's owner, who pays under [`Billing::OwnerPays`] (and for
    /// API-key calls). Every owner starts with 1,000.
    pub fn set_owner_credits(&self, credits: u64) {
        self.shared
            .lock()
            .owner_credits
            .insert(self.guid.clone(), credits);
    }

    /// The credits the app's owner has left.
    pub fn owner_credits(&self) -> u64 {
        self.shared
            .lock()
            .owner_credits
            .get(&self.guid)
            .copied()
            .unwrap_or(state::DEFAULT_CREDITS)
    }
}
