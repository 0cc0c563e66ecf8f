//! Everything generated code needs. Not public API: no semver guarantees.

pub use ::core;
pub use ::serde;
pub use ::serde_json;

pub use crate::auth::{Auth, Permissions};
pub use crate::client::Client;
pub use crate::error::{Error, Result};
pub use crate::function::RemoteFunction;
pub use crate::options::CallOptions;
pub use crate::platform::public::MaybeSend;

/// The ambient client of a free stub.
#[inline]
pub fn ambient() -> Result<Client> {
    Client::current()
}

/// Calls `function` with `args` through `client`. A plain `fn` returning the call's future,
/// so that it adds no state machine of its own to every stub's future.
#[inline]
pub fn call<'a, A, T>(
    client: &'a Client,
    function: &'a RemoteFunction<'static>,
    args: &'a A,
) -> impl Future<Output = Result<T>> + 'a
where
    A: serde::Serialize + ?Sized,
    T: serde::de::DeserializeOwned + 'static,
{
    client.call_function(function, args)
}

/// The options of a call made without any (`FooArgs::call`).
pub static NO_OPTIONS: CallOptions = CallOptions::new();

/// Calls `function` with `args` and `options` through `client`; see [`call`].
#[inline]
pub fn call_with<'a, A, T>(
    client: &'a Client,
    function: &'a RemoteFunction<'static>,
    args: &'a A,
    options: &'a CallOptions,
) -> impl Future<Output = Result<T>> + 'a
where
    A: serde::Serialize + ?Sized,
    T: serde::de::DeserializeOwned + 'static,
{
    client.call_function_with(function, args, options)
}

/// Bound on every stub parameter; the message names the fix.
#[diagnostic::on_unimplemented(
    message = "the parameter type `{Self}` cannot be sent to a Gipity function",
    label = "`{Self}` does not implement `serde::Serialize`",
    note = "parameters become the JSON body of the call: derive or implement `serde::Serialize` for `{Self}`"
)]
pub trait Arg {}
impl<T: serde::Serialize + ?Sized> Arg for T {}

/// Bound on every stub's return type; the message names the fix.
#[diagnostic::on_unimplemented(
    message = "the return type `{Self}` cannot be read from a Gipity function's result",
    label = "`{Self}` does not implement `serde::de::DeserializeOwned`",
    note = "the function's `data` is decoded into it: derive or implement `serde::Deserialize` for `{Self}`"
)]
pub trait Return: 'static {}
impl<T: serde::de::DeserializeOwned + 'static> Return for T {}

/// Pins a parameter type to [`Arg`] (spanned at the parameter by the macro).
pub const fn assert_arg<T: Arg + ?Sized>() {}

/// Pins a return type to [`Return`] (spanned at the type by the macro).
pub const fn assert_return<T: Return>() {}
