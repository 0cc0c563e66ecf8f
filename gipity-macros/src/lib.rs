//! Attribute macros for `gipity-runtime`: typed callers for Gipity serverless functions.
//!
//! Do not depend on this crate: depend on `gipity-runtime`, which re-exports
//! [`function`] and [`functions`] and provides everything the generated code needs.

mod args;
mod case;
mod check;
mod ctxt;
mod docs;
mod duration;
mod expand;
mod fallback;
mod manifest;
mod model;
mod parse;

use proc_macro::TokenStream;

/// Binds a bodyless `async fn` to a Gipity serverless function.
///
/// ```ignore
/// use gipity_runtime::{Client, Result};
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize)]
/// pub struct Item {
///     pub id: u64,
///     pub name: String,
/// }
///
/// /// Items of one category.
/// #[gipity_runtime::function(name = "get-items", auth = "public")]
/// pub async fn get_items(category: &str) -> Result<Vec<Item>>;
///
/// /// Saves the signed-in user's progress.
/// #[gipity_runtime::function(auth = "user", rename_all = "camelCase", timeout = "10s")]
/// pub async fn save_progress(level: u32, high_score: u64, note: Option<String>) -> Result<()>;
///
/// async fn demo(client: Client) -> Result<()> {
///     // Through the ambient client: `Client::scope` here, or `Client::install` once.
///     let books = client.scope(get_items("books")).await?;
///     // With an explicit client, and no global state.
///     let books = GetItemsArgs { category: "books" }.call(&client).await?;
///     // Sends `{"level":3,"highScore":1200}`: `note` is left out when `None`.
///     client.scope(save_progress(3, 1200, None)).await?;
///     Ok(())
/// }
/// ```
///
/// The stub calls `POST /api/{app}/fn/<name>` with its parameters as the JSON body (the
/// function's `ctx.body`), and decodes what the function returns inside `{"data": ...}`.
///
/// # What it generates
///
/// For `pub async fn get_items(category: &str) -> Result<Vec<Item>>;`:
///
/// - `pub struct GetItemsArgs<'a> { pub category: &'a str }`: the JSON body, deriving
///   `serde::Serialize` (its name is the fn's in `PascalCase` + `Args`, its visibility the fn's).
///   `GetItemsArgs::call(&self, client: &Client)` calls the function through an explicit
///   client.
/// - `pub async fn get_items(category: &str) -> Result<Vec<Item>>`, with your attributes and
///   docs, followed by generated docs (the remote name, the endpoint, what the auth level
///   means, an `# Errors` section). It calls through the *ambient* client: the client of the
///   innermost `Client::scope`, else the one set with `Client::install`, else it fails with
///   `Error::NoClient`.
///
/// Its future is `Send` on native targets, so it can be given to `tokio::spawn`.
///
/// # Arguments
///
/// All are optional.
///
/// | argument | meaning |
/// |---|---|
/// | `name = "get-items"` | The remote name: the file name of `functions/get-items.js`. Default: the fn's name as written. Checked at compile time: 1 to 128 ASCII letters, digits, `_`, `.` or `-`, starting with a letter or digit, without `..`. |
/// | `auth = "public"` / `"user"` / `"member"` | The function's auth level in `gipity.yaml`. `public`: anyone; the client attaches its credential when it has one. `user`: a signed-in user; without a credential the call fails closed (`Error::CredentialUnavailable`, `Error::LoginRequired`) and nothing is sent. `member`: members of the project; fails closed like `user`. Default: the level the manifest declares (see below); without a manifest, not declared: the client attaches its credential and fails closed if it cannot obtain it. |
/// | `permissions = 5` or `permissions = "identity \| ai"` | The permissions the function needs, used to build the login URL: `identity` (1, the default), `ai` (4), `account` (128). |
/// | `rename_all = "camelCase"` | Renames every key, as serde does: `lowercase`, `UPPERCASE`, `PascalCase`, `camelCase`, `snake_case`, `SCREAMING_SNAKE_CASE`, `kebab-case`, `SCREAMING-KEBAB-CASE`. |
/// | `timeout = "10s"` | This function's timeout instead of the client's: a whole number of `ms`, `s`, `m` or `h`, above zero and under a day. |
/// | `soft_errors` or `soft_errors = true` | Treat a soft failure, `{"data": {"error": ".."}}`, as `Error::Function` instead of a success. |
/// | `crate = "path"` | The path of `gipity_runtime` (default `::gipity_runtime`), for a renamed or re-exported runtime. |
/// | `manifest = "../gipity.yaml"` | The app's manifest to check the stub against, relative to the crate's directory (`CARGO_MANIFEST_DIR`); a missing file is an error. Default: found as described below. |
///
/// # Checked against `gipity.yaml`
///
/// The stub is checked against the app's deploy manifest when there is one: the file named by
/// `manifest = ".."`, else by the `GIPITY_MANIFEST` environment variable (a path relative to
/// the crate's directory, or `off` to turn the check off), else the nearest `gipity.yaml` in
/// the crate's directory or one above it. Without any, nothing is checked.
///
/// - The remote name must be a function of a `functions` phase's `function_definitions`, or a
///   file the platform deploys as a `public` function (`functions/<name>.js` or
///   `functions/<name>/index.js` in the phase's `source`). Otherwise it is an error on the
///   name, with a suggestion; a name that is a records table, a job or a realtime room says so.
/// - A function with `hooks:` is called by the platform only: binding it is an error.
/// - `auth` must agree with the manifest (an entry without `auth` is `public`). Without
///   `auth`, the stub takes the manifest's level, and its docs say where it came from.
///
/// The generated code makes the manifest a dependency of the crate, so editing it re-runs the
/// check; so does changing `GIPITY_MANIFEST`.
///
/// # Parameters
///
/// Each parameter is a key of the JSON body: its name (`r#type` is `type`), renamed by
/// `rename_all` or by its own `#[serde(rename = "..")]`. Any serializable type works: owned
/// (`String`, `u32`, your `#[derive(Serialize)]` types), borrowed (`&str`, `&T`), and with
/// elided lifetimes (`Cow<'_, str>`; write the `'_`). An `Option` that is `None` is left out
/// of the body, unless the parameter has its own `skip_serializing_if`. Other
/// `#[serde(..)]` attributes (`skip`, `flatten`, `serialize_with`, ...) are applied to the
/// parameter's field as written.
///
/// # Return type
///
/// `Result<T>` (`gipity_runtime::Result<T>`, or any path ending in `Result` whose error is
/// `gipity_runtime::Error`), where `T: serde::de::DeserializeOwned + 'static` is what the
/// function returns inside `data`. `Result<()>` accepts any `data`.
///
/// # Compile errors
///
/// Every misuse is reported at once, on the offending tokens: an argument that does not
/// exist (with a suggestion) or is repeated, a bad value, a fn that is not a bodyless
/// `async fn`, `const`, `unsafe`, `extern` or variadic fns, generics, named lifetimes,
/// `where` clauses, `self`, `impl Trait` or pattern parameters, a return type that is not
/// `Result<T>`, two parameters sent as the same key, and parameter or return types that
/// cannot be serialized or deserialized.
#[proc_macro_attribute]
pub fn function(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::run_function(args.into(), item.into()).into()
}

/// Binds every method of a trait to a Gipity serverless function, and implements the trait
/// for `Client`.
///
/// ```ignore
/// use gipity_runtime::{Client, Result};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Deserialize)] pub struct Item;
/// # #[derive(Serialize)] pub struct Cart;
/// # #[derive(Deserialize)] pub struct Receipt;
///
/// /// The shop's functions.
/// #[gipity_runtime::functions(auth = "user")]
/// pub trait Shop {
///     /// Items of one category.
///     #[gipity(name = "get-items", auth = "public")]
///     async fn get_items(&self, category: &str) -> Result<Vec<Item>>;
///
///     /// Pays for the cart.
///     async fn checkout(&self, cart: &Cart) -> Result<Receipt>;
/// }
///
/// async fn demo(client: &Client, cart: &Cart) -> Result<()> {
///     let items = client.get_items("books").await?; // needs `Shop` in scope
///     let receipt = client.checkout(cart).await?;
///     Ok(())
/// }
/// ```
///
/// The trait's arguments are the defaults of every method: `auth`, `permissions`,
/// `rename_all`, `timeout`, `soft_errors` and `crate`, as for [`macro@function`]; `manifest`
/// names the `gipity.yaml` every method is checked against (see [`macro@function`]). A
/// `#[gipity(..)]` attribute on a method overrides them for that method and may give its
/// remote `name` (default: the method's name). Parameters and return types follow the rules of
/// [`macro@function`].
///
/// Each method must be a bodyless `async fn` taking `&self`. The generated trait declares it
/// as `fn get_items(&self, category: &str) -> impl Future<Output = Result<Vec<Item>>> + MaybeSend`
/// (`Send` on native targets, so calls can be spawned), with your docs followed by generated
/// ones, and `impl Shop for Client` makes the calls through that client: no ambient client, no
/// global state. The trait cannot be generic, have supertraits, or hold anything but such methods.
#[proc_macro_attribute]
pub fn functions(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::run_functions(args.into(), item.into()).into()
}
