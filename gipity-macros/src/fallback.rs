//! Output on error: every error, plus the user's item as a stub that compiles, so that the
//! errors are all the user sees (not "cannot find function `get_items`" at every call).

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned as _;
use syn::visit_mut::VisitMut;
use syn::{Attribute, FnArg, GenericParam, Lifetime, Pat, Signature, Token};

use crate::parse::StubFn;

/// The item is not what the macro expects: the error, and the item as it was (a bodyless fn
/// gets a body, since rustc rejects one outside a trait).
pub(crate) fn unparsed(error: &syn::Error, item: TokenStream, krate: &syn::Path) -> TokenStream {
    if let Ok(stub) = syn::parse2::<StubFn>(item.clone()) {
        return function(error, stub, krate);
    }
    let mut tokens = error.to_compile_error();
    tokens.extend(item);
    tokens
}

/// The errors, the stub with a body that compiles (`{ ::core::unimplemented!() }`), and its
/// arguments struct, so that a call site that uses `FooArgs { .. }.call(&client)` gets no second,
/// misleading error.
pub(crate) fn function(errors: &syn::Error, stub: StubFn, krate: &syn::Path) -> TokenStream {
    let errors = errors.to_compile_error();
    let attrs = without_helpers(stub.attrs);
    let vis = stub.vis;
    let mut sig = stub.sig;
    let args_struct = args_struct(&attrs, &vis, &sig, krate);
    sanitize(&mut sig);
    sig.inputs = sig
        .inputs
        .into_iter()
        .filter(|arg| matches!(arg, FnArg::Typed(_)))
        .collect();
    quote! {
        #errors
        #args_struct
        #(#attrs)*
        #vis #sig {
            ::core::unimplemented!()
        }
    }
}

// Input:  pub async fn get_items(category: &str, page: u32) -> Result<Vec<Item>>;  (with errors)
// Output: pub struct GetItemsArgs<__GipityT0 = (), __GipityT1 = ()> {
//             pub category: __GipityT0, pub page: __GipityT1,
//         }
//         impl<__GipityT0, __GipityT1> GetItemsArgs<__GipityT0, __GipityT1> {
//             pub fn call(&self, _: &Client) -> impl Future<Output = Result<Vec<Item>>> { pending() }
//             pub fn call_with(&self, _: &Client, _: &CallOptions) -> impl Future<..> { pending() }
//         }
// Every field takes any type, so that the call site type-checks whatever the stub's mistake.
// Nothing when the fn's name gives no struct name.
fn args_struct(
    attrs: &[Attribute],
    vis: &syn::Visibility,
    sig: &Signature,
    krate: &syn::Path,
) -> TokenStream {
    let name = format!(
        "{}Args",
        crate::case::pascal_case(&syn::ext::IdentExt::unraw(&sig.ident).to_string())
    );
    let Ok(mut ident) = syn::parse_str::<syn::Ident>(&name) else {
        return TokenStream::new();
    };
    ident.set_span(sig.ident.span());
    let fields: Vec<&syn::Ident> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(pat) => Some(&pat.ident),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    let params: Vec<syn::Ident> = (0..fields.len())
        .map(|i| syn::Ident::new(&format!("__GipityT{i}"), proc_macro2::Span::mixed_site()))
        .collect();
    let output = match &sig.output {
        syn::ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            ElideLifetimes.visit_type_mut(&mut ty);
            quote!(#ty)
        }
        syn::ReturnType::Default => quote!(()),
    };
    let cfgs = attrs.iter().filter(|attr| attr.path().is_ident("cfg"));
    let cfgs = quote!(#(#cfgs)*);
    let generics = (!params.is_empty()).then(|| quote!(<#(#params = ()),*>));
    let impl_generics = (!params.is_empty()).then(|| quote!(<#(#params),*>));
    let type_args = (!params.is_empty()).then(|| quote!(<#(#params),*>));
    quote! {
        #cfgs
        #[doc(hidden)]
        #vis struct #ident #generics {
            #(pub #fields: #params,)*
        }

        #cfgs
        impl #impl_generics #ident #type_args {
            /// Not generated: the stub has errors.
            pub fn call(
                &self,
                _: &#krate::__private::Client,
            ) -> impl ::core::future::Future<Output = #output> + '_ {
                ::core::future::pending()
            }

            /// Not generated: the stub has errors.
            pub fn call_with(
                &self,
                _: &#krate::__private::Client,
                _: &#krate::__private::CallOptions,
            ) -> impl ::core::future::Future<Output = #output> + '_ {
                ::core::future::pending()
            }
        }
    }
}

/// The errors, the trait minus our helper attributes, and (when the trait's shape allows it)
/// an impl for `Client` whose methods are `unimplemented!()`.
pub(crate) fn api_trait(
    errors: &syn::Error,
    mut item: syn::ItemTrait,
    krate: &syn::Path,
) -> TokenStream {
    let errors = errors.to_compile_error();
    item.attrs = without_helpers(std::mem::take(&mut item.attrs));
    let mut bodies = Vec::new();
    let mut implementable = item.generics.params.is_empty()
        && item.generics.where_clause.is_none()
        && item.supertraits.is_empty()
        && item.unsafety.is_none()
        && item.modifiers.auto_token.is_none();
    for trait_item in &mut item.items {
        let syn::TraitItem::Fn(method) = trait_item else {
            implementable = false;
            continue;
        };
        method.attrs = without_helpers(std::mem::take(&mut method.attrs));
        sanitize(&mut method.sig);
        if method.default.is_none() {
            let sig = &method.sig;
            let cfgs = method
                .attrs
                .iter()
                .filter(|attr| attr.path().is_ident("cfg"));
            bodies.push(quote! {
                #(#cfgs)*
                #sig {
                    ::core::unimplemented!()
                }
            });
        }
    }
    let ident = &item.ident;
    let implementation = implementable.then(|| {
        let cfgs = item.attrs.iter().filter(|attr| attr.path().is_ident("cfg"));
        quote! {
            #(#cfgs)*
            impl #ident for #krate::__private::Client {
                #(#bodies)*
            }
        }
    });
    quote! {
        #errors
        #[allow(async_fn_in_trait)]
        #item
        #implementation
    }
}

/// Removes what rustc would reject or warn about in a fn with a body (or in a trait), on top of
/// our errors: `const` with `async`, an ABI, variadics, attributes on parameters (`#[serde]`),
/// named lifetimes (maybe undeclared), and parameter names (unused in the stub's body).
fn sanitize(sig: &mut Signature) {
    sig.constness = None;
    sig.abi = None;
    sig.variadic = None;
    sig.generics.params = std::mem::take(&mut sig.generics.params)
        .into_iter()
        .filter(|param| !matches!(param, GenericParam::Lifetime(_)))
        .collect();
    if sig.generics.params.is_empty() {
        sig.generics.lt_token = None;
        sig.generics.gt_token = None;
    }
    for arg in &mut sig.inputs {
        match arg {
            FnArg::Typed(typed) => {
                typed.attrs.clear();
                *typed.pat = Pat::Wild(syn::PatWild {
                    attrs: Vec::new(),
                    underscore_token: Token![_](typed.pat.span()),
                });
            }
            FnArg::Receiver(receiver) => receiver.attrs.clear(),
        }
    }
    ElideLifetimes.visit_signature_mut(sig);
}

/// `'a` -> `'_` (`'static` stays).
struct ElideLifetimes;

impl VisitMut for ElideLifetimes {
    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if lifetime.ident != "static" {
            *lifetime = Lifetime::new("'_", lifetime.span());
        }
    }
}

fn without_helpers(attrs: Vec<Attribute>) -> Vec<Attribute> {
    attrs
        .into_iter()
        .filter(|attr| !attr.path().is_ident("gipity"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn stub_keeps_its_signature() {
        let stub: syn::Result<StubFn> = syn::parse2(quote!(
            /// Docs.
            pub const async extern "C" fn f(&self, #[serde(rename = "x")] a: u8, ...) -> u8 {
                1
            }
        ));
        let Ok(stub) = stub else {
            panic!("the stub parses")
        };
        let error = syn::Error::new(proc_macro2::Span::call_site(), "oops");
        let output = function(&error, stub, &syn::parse_quote!(::gipity_runtime)).to_string();
        assert!(output.contains("compile_error"), "{output}");
        assert!(
            output.ends_with(
                "# [doc = r\" Docs.\"] pub async fn f (_ : u8) -> u8 { :: core :: unimplemented ! () }"
            ),
            "{output}"
        );
    }

    #[test]
    fn trait_gets_an_impl() {
        let item: syn::Result<syn::ItemTrait> = syn::parse2(quote!(
            #[gipity(x)]
            pub trait Shop {
                #[gipity(name = "x")]
                async fn m(&self, #[serde(skip)] a: u8) -> u8;
                async fn n(&self) -> u8 {}
            }
        ));
        let Ok(item) = item else {
            panic!("the trait parses")
        };
        let error = syn::Error::new(proc_macro2::Span::call_site(), "oops");
        let krate: syn::Path = syn::parse_quote!(::gipity_runtime);
        let output = api_trait(&error, item, &krate).to_string();
        assert!(!output.contains("gipity ("), "{output}");
        assert!(!output.contains("serde"), "{output}");
        assert!(
            output.contains(
                "impl Shop for :: gipity_runtime :: __private :: Client { async fn m (& self , _ : u8) -> u8 { :: core :: unimplemented ! () } }"
            ),
            "{output}"
        );
    }
}
