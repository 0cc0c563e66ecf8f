//! The items the macros are put on, as syntax: a bodyless fn, or a trait.
//!
//! Parsing accepts more than the macros support (a body, `const`, generics, ...) so that the
//! model can point at exactly what is wrong instead of failing on the first unexpected token.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Signature, Token, Visibility, braced};

/// `#[attrs] vis sig;`, or `#[attrs] vis sig { .. }` (which the model rejects).
#[derive(Clone)]
pub(crate) struct StubFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: Option<Span>,
}

impl Parse for StubFn {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let starts_fn = input.peek(Token![fn])
            || input.peek(Token![async])
            || input.peek(Token![const])
            || input.peek(Token![unsafe])
            || input.peek(Token![extern]);
        if !starts_fn {
            return Err(input.error(
                "`#[gipity_runtime::function]` goes on a bodyless `async fn`, such as \
                 `pub async fn get_items(category: &str) -> Result<Vec<Item>>;`",
            ));
        }
        let sig: Signature = input.parse()?;
        let body = if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
            None
        } else if input.peek(syn::token::Brace) {
            let content;
            let brace = braced!(content in input);
            content.parse::<TokenStream>()?;
            Some(brace.span.open())
        } else {
            return Err(input.error("expected `;` after the stub's signature"));
        };
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the stub"));
        }
        Ok(Self {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// The trait of `#[functions]`, as syn parses it.
pub(crate) struct ApiTraitItem {
    pub(crate) item: syn::ItemTrait,
}

impl Parse for ApiTraitItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let fork = input.fork();
        fork.call(Attribute::parse_outer)?;
        fork.parse::<Visibility>()?;
        let starts_trait = fork.peek(Token![trait])
            || (fork.peek(Token![unsafe]) && fork.peek2(Token![trait]))
            || fork.peek(Token![auto])
            || fork.peek2(Token![auto]);
        if !starts_trait {
            return Err(fork.error(
                "`#[gipity_runtime::functions]` goes on a trait of bodyless `async fn` methods, \
                 such as `pub trait Shop { async fn checkout(&self, cart: &Cart) -> Result<Receipt>; }`",
            ));
        }
        Ok(Self {
            item: input.parse()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse_fn(tokens: TokenStream) -> syn::Result<StubFn> {
        syn::parse2(tokens)
    }

    #[test]
    fn bodyless_fn() {
        let stub = parse_fn(quote! {
            /// Docs.
            #[cfg(test)]
            pub async fn get_items(category: &str) -> Result<Vec<Item>>;
        });
        let stub = stub.ok();
        assert_eq!(stub.as_ref().map(|s| s.attrs.len()), Some(2));
        assert!(stub.is_some_and(|s| s.body.is_none() && s.sig.asyncness.is_some()));
    }

    #[test]
    fn fn_with_body_is_syntax() {
        let stub = parse_fn(quote!(
            async fn f() -> Result<()> {
                todo!()
            }
        ));
        assert!(stub.is_ok_and(|s| s.body.is_some()));
    }

    #[test]
    fn modifiers_are_syntax() {
        let stub = parse_fn(quote!(
            pub const unsafe extern "C" fn f<T>(x: T, ...)
            where
                T: Copy;
        ));
        assert!(stub.is_ok_and(|s| s.sig.constness.is_some() && s.sig.variadic.is_some()));
    }

    #[test]
    fn not_a_fn() {
        let error = parse_fn(quote!(
            pub struct Item;
        ))
        .err()
        .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.starts_with("`#[gipity_runtime::function]` goes on")));
        let error = parse_fn(quote!(async fn f() -> Result<()>))
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.ends_with("expected `;` after the stub's signature")));
        let error = parse_fn(quote!(
            async fn f();
            fn g();
        ))
        .err()
        .map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("unexpected tokens after the stub"));
    }

    #[test]
    fn traits() {
        let item: syn::Result<ApiTraitItem> = syn::parse2(quote! {
            pub trait Shop { async fn checkout(&self) -> Result<()>; }
        });
        assert!(item.is_ok());
        let item: syn::Result<ApiTraitItem> = syn::parse2(quote!(
            pub async fn f() -> Result<()>;
        ));
        let error = item.err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.starts_with("`#[gipity_runtime::functions]` goes on")));
    }
}
