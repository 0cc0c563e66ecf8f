//! Every shape of stub expands without a warning under strict lints (clippy's pedantic group
//! is checked by `cargo clippy --all-targets -- -D warnings`).

#![deny(warnings, missing_docs, unused_qualifications)]
#![deny(clippy::pedantic)]

/// Stubs of every shape.
pub mod stubs {
    use std::borrow::Cow;

    use gipity_runtime::{Client, Result};
    use serde::{Deserialize, Serialize};

    /// An item.
    #[derive(Debug, Deserialize)]
    pub struct Item {
        /// Its id.
        pub id: u64,
    }

    /// A cart.
    #[derive(Debug, Serialize)]
    pub struct Cart {
        /// Item ids.
        pub ids: Vec<u64>,
    }

    /// Borrowed parameters.
    #[gipity_runtime::function(name = "get-items", auth = "public")]
    pub async fn get_items(category: &str, cart: &Cart, tags: &[&str]) -> Result<Vec<Item>>;

    #[gipity_runtime::function]
    pub async fn undocumented() -> Result<()>;

    /// Owned and optional parameters, renamed keys, every argument.
    #[gipity_runtime::function(
        auth = "user",
        permissions = "identity | ai",
        rename_all = "camelCase",
        timeout = "10s",
        soft_errors
    )]
    #[must_use = "the progress is saved only when awaited"]
    pub async fn save_progress(
        level: u32,
        high_score: u64,
        note: Option<String>,
        #[serde(rename = "t")] tags: Vec<String>,
        label: Cow<'_, str>,
        r#type: &'static str,
    ) -> Result<()>;

    /// A path to `Result`, a member function.
    #[gipity_runtime::function(auth = "member", permissions = 129)]
    pub async fn members(cart: Cart)
    -> ::core::result::Result<Option<Item>, gipity_runtime::Error>;

    /// Crate-visible.
    #[gipity_runtime::function]
    pub(crate) async fn crate_visible(value: serde_json::Value) -> Result<serde_json::Value>;

    #[gipity_runtime::function]
    async fn private(flag: bool) -> Result<bool>;

    /// Deprecated, as the caller must see (not the generated code).
    #[deprecated(note = "use `get_items`")]
    #[gipity_runtime::function(name = "get-items")]
    pub async fn old_items(category: &str) -> Result<Vec<Item>>;

    // `cfg` reaches every generated item: none of them names the missing type.
    #[gipity_runtime::function]
    #[cfg(any())]
    pub async fn compiled_out(value: DoesNotExist) -> Result<()>;

    /// Calls the private stub, so that it is used.
    ///
    /// # Errors
    ///
    /// Those of the call.
    pub async fn use_private(client: &Client) -> Result<bool> {
        PrivateArgs { flag: true }.call(client).await?;
        client.scope(private(false)).await
    }

    /// The shop.
    #[gipity_runtime::functions(auth = "user", rename_all = "kebab-case")]
    pub trait Shop {
        /// Items.
        #[gipity(name = "get-items", auth = "public", timeout = "500ms")]
        async fn get_items(&self, category: &str, limit: Option<u32>) -> Result<Vec<Item>>;

        async fn checkout(&self, cart: &Cart, gift_note: Option<&str>) -> Result<()>;

        /// Without parameters.
        #[gipity(soft_errors, permissions = 5)]
        async fn ping(&self) -> Result<()>;

        /// A skipped parameter.
        async fn skipping(&self, #[serde(skip)] local: u8, sent: u8) -> Result<u8>;

        #[cfg(any())]
        async fn compiled_out(&self, value: DoesNotExist) -> Result<()>;
    }

    /// Undocumented trait.
    #[gipity_runtime::functions]
    pub trait Empty {}
}

fn assert_send<T: Send>(_: T) {}

#[test]
fn every_stub_is_send() {
    use stubs::Shop as _;

    let cart = stubs::Cart { ids: vec![1] };
    assert_send(stubs::get_items("books", &cart, &["new"]));
    assert_send(stubs::undocumented());
    assert_send(stubs::save_progress(
        1,
        2,
        None,
        Vec::new(),
        "label".into(),
        "kind",
    ));
    assert_send(stubs::members(stubs::Cart { ids: Vec::new() }));
    #[allow(deprecated)]
    assert_send(stubs::old_items("books"));
    assert_send(stubs::crate_visible(serde_json::Value::Null));
    let client = gipity_runtime::Client::builder("p_lints")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_send(stubs::use_private(&client));
    assert_send(client.get_items("books", Some(3)));
    assert_send(client.checkout(&cart, None));
    assert_send(client.ping());
    assert_send(client.skipping(1, 2));
    assert_send(
        stubs::GetItemsArgs {
            category: "books",
            cart: &cart,
            tags: &[],
        }
        .call(&client),
    );
}
