//! The ambient client that free function stubs call through.
//!
//! Two ways to provide it: [`Client::install`] sets one process-wide client (an app with one
//! API), and [`Client::scope`] sets one for the duration of a future (tests, programs with
//! several clients). A scope wins over the installed client. A scope is carried by the future
//! it wraps, like a task-local: tasks spawned inside it do not inherit it.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::{Client, Error, Result};

// Native clients are `Send + Sync`, so one installed client serves every thread. In the
// browser there is one thread and clients hold JS values, so the slot is thread-local there.
#[cfg(not(target_arch = "wasm32"))]
static INSTALLED: std::sync::OnceLock<Client> = std::sync::OnceLock::new();

#[cfg(target_arch = "wasm32")]
thread_local! {
    static INSTALLED: std::cell::OnceCell<Client> = const { std::cell::OnceCell::new() };
}

thread_local! {
    static SCOPED: RefCell<Option<Client>> = const { RefCell::new(None) };
}

fn install(client: Client) -> Result<(), Client> {
    #[cfg(not(target_arch = "wasm32"))]
    return INSTALLED.set(client);
    #[cfg(target_arch = "wasm32")]
    return INSTALLED.with(|installed| installed.set(client));
}

fn installed() -> Option<Client> {
    #[cfg(not(target_arch = "wasm32"))]
    return INSTALLED.get().cloned();
    #[cfg(target_arch = "wasm32")]
    return INSTALLED.with(|installed| installed.get().cloned());
}

impl Client {
    /// Makes this client the process-wide ambient client of free function stubs.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if a client is already installed (it stays installed).
    pub fn install(self) -> Result<()> {
        install(self)
            .map_err(|_| Error::InvalidConfig("a gipity client is already installed".into()))
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
            .or_else(installed)
            .ok_or(Error::NoClient)
    }
}

/// The future returned by [`Client::scope`].
#[must_use = "futures do nothing unless polled"]
pub struct Scope<F> {
    client: Option<Client>,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for Scope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        // Swap our client in for the duration of the poll, and back out even if the poll
        // panics, so that the thread-local never leaks into another task.
        struct Restore<'a> {
            slot: &'a mut Option<Client>,
        }
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                SCOPED.with(|scoped| std::mem::swap(&mut *scoped.borrow_mut(), self.slot));
            }
        }
        SCOPED.with(|scoped| std::mem::swap(&mut *scoped.borrow_mut(), &mut this.client));
        let _restore = Restore {
            slot: &mut this.client,
        };
        this.future.as_mut().poll(cx)
    }
}

impl<F> std::fmt::Debug for Scope<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}
