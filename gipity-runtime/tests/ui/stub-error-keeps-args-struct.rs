use gipity_runtime::{Client, Result};

// The stub has a mistake (an unknown argument): that is the only error, not also a missing
// `GetItemsArgs` at the call sites below.
#[gipity_runtime::function(nmae = "get-items")]
pub async fn get_items(category: &str, page: u32) -> Result<Vec<String>>;

async fn explicit(client: &Client) -> Result<Vec<String>> {
    GetItemsArgs { category: "books", page: 1 }.call(client).await
}

async fn with_options(client: &Client) -> Result<Vec<String>> {
    let options = gipity_runtime::CallOptions::new();
    GetItemsArgs { category: "books", page: 2 }
        .call_with(client, &options)
        .await
}

fn main() {
    let _ = (explicit, with_options);
}
