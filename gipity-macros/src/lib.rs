//! Attribute macros for `gipity-runtime`. Depend on `gipity-runtime`, which re-exports them.

use proc_macro::TokenStream;

/// Binds a bodyless `async fn` to a Gipity serverless function.
#[proc_macro_attribute]
pub fn function(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Binds every bodyless `async fn` of a trait to a Gipity serverless function.
#[proc_macro_attribute]
pub fn functions(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
