//! The ambient client that free function stubs call through, and scoped call options.
//!
//! Two ways to provide the client: [`Client::install`] sets one process-wide client (an app
//! with one API), and [`Client::scope`] sets one for the duration of a future (tests, programs
//! with several clients). A scope wins over the installed client. [`CallOptions::scope`] sets
//! options for every call made inside a future the same way. A scope is carried by the future
//! it wraps, like a task-local: tasks spawned inside it do not inherit it; the innermost scope
//! of each kind wins.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::client::Client;
use crate::error::{Error, Result, Setting};
use crate::options::{self, CallOptions};
use crate::platform::ambient_slot;

// A `static` natively (one installed client serves every thread); a thread-local in the
// browser, where clients hold JS values.
ambient_slot!(installed: Client);

thread_local! {
    static SCOPED: RefCell<Option<Client>> = const { RefCell::new(None) };
}

impl Client {
    /// Makes this client the process-wide ambient client of free function stubs.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for [`Setting::AmbientClient`] if a client is already installed
    /// (it stays installed).
    pub fn install(self) -> Result<()> {
        installed::set(self).map_err(|_| {
            Error::config(
                Setting::AmbientClient,
                "a gipity client is already installed",
            )
        })
    }

    /// Runs `future` with this client as the ambient client of free function stubs.
    ///
    /// ```no_run
    /// # async fn demo(client: gipity_runtime::Client) -> gipity_runtime::Result<()> {
    /// let sum: f64 = client
    ///     .scope(async { gipity_runtime::Client::current()?.call("add", &(1, 2)).await })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn scope<F: Future>(&self, future: F) -> Scope<F> {
        Scope {
            client: Some(self.clone()),
            options: None,
            future: Box::pin(future),
        }
    }

    /// The ambient client: the innermost [`scope`](Self::scope), else the
    /// [installed](Self::install) one.
    ///
    /// # Errors
    /// [`Error::NoClient`] if there is neither.
    pub fn current() -> Result<Client> {
        SCOPED
            .with(|scoped| scoped.borrow().clone())
            .or_else(installed::get)
            .ok_or(Error::NoClient)
    }
}

impl CallOptions {
    /// Runs `future` with these options on every call made inside it (free stubs, trait
    /// methods, [`Client::call`]); options given to one call win over them, field by field.
    pub fn scope<F: Future>(self, future: F) -> Scope<F> {
        Scope {
            client: None,
            options: Some(self),
            future: Box::pin(future),
        }
    }
}

/// The future returned by [`Client::scope`] and [`CallOptions::scope`].
#[must_use = "futures do nothing unless polled"]
pub struct Scope<F> {
    /// The client to make ambient while polling, if this is a client scope.
    client: Option<Client>,
    /// The options to make ambient while polling, if this is an options scope.
    options: Option<CallOptions>,
    future: Pin<Box<F>>,
}

fn swap_client(slot: &mut Option<Client>) {
    SCOPED.with(|scoped| std::mem::swap(&mut *scoped.borrow_mut(), slot));
}

impl<F: Future> Future for Scope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        // Swap our values in for the duration of the poll, and back out even if the poll
        // panics, so that the thread-locals never leak into another task.
        struct Restore<'a> {
            client: Option<&'a mut Option<Client>>,
            options: Option<&'a mut Option<CallOptions>>,
        }
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                if let Some(client) = self.client.as_deref_mut() {
                    swap_client(client);
                }
                if let Some(options) = self.options.as_deref_mut() {
                    options::swap_scoped(options);
                }
            }
        }
        let swaps_client = this.client.is_some();
        let swaps_options = this.options.is_some();
        if swaps_client {
            swap_client(&mut this.client);
        }
        if swaps_options {
            options::swap_scoped(&mut this.options);
        }
        let _restore = Restore {
            client: swaps_client.then_some(&mut this.client),
            options: swaps_options.then_some(&mut this.options),
        };
        this.future.as_mut().poll(cx)
    }
}

impl<F> std::fmt::Debug for Scope<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}
