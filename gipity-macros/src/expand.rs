//! The pipeline of each macro (parse -> model -> check -> expand), and the tokens generated
//! from a checked model.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Ident, Lifetime, LitStr};

use crate::args::{Args, Options, Site, path_string};
use crate::check;
use crate::ctxt::Ctxt;
use crate::docs;
use crate::fallback;
use crate::manifest;
use crate::model::{ARGS_LIFETIME, ApiTrait, Function, Key, Param, Stub};
use crate::parse::{ApiTraitItem, StubFn};

/// `#[function(args)] item`.
pub(crate) fn run_function(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let options = parse_options(&cx, args, Site::Function);
    let krate = options.krate();
    let stub = match syn::parse2::<StubFn>(item.clone()) {
        Ok(stub) => stub,
        Err(error) => return fallback::unparsed(&with_args_errors(cx, error), item, &krate),
    };
    let manifest = options.manifest.clone();
    let mut model = Stub::from_syn(&cx, options, stub.clone());
    check::function(&cx, &model.function);
    let tracking = match manifest::load(&cx, manifest.as_ref()) {
        Some(mut loaded) => {
            loaded.check(&cx, &mut model.function);
            loaded.tracking()
        }
        None => manifest::tracking_without_manifest(),
    };
    match cx.check() {
        Ok(()) => {
            let mut tokens = expand_free(&model);
            tokens.extend(manifest::once(tracking));
            tokens
        }
        Err(errors) => fallback::function(&errors, stub, &krate),
    }
}

/// `#[functions(args)] trait`.
pub(crate) fn run_functions(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let options = parse_options(&cx, args, Site::Functions);
    let krate = options.krate();
    let item = match syn::parse2::<ApiTraitItem>(item.clone()) {
        Ok(parsed) => parsed.item,
        Err(error) => return fallback::unparsed(&with_args_errors(cx, error), item, &krate),
    };
    let mut api = ApiTrait::from_syn(&cx, &options, item.clone());
    check::api_trait(&cx, &api);
    let tracking = match manifest::load(&cx, options.manifest.as_ref()) {
        Some(mut loaded) => {
            for method in &mut api.methods {
                loaded.check(&cx, method);
            }
            loaded.tracking()
        }
        None => manifest::tracking_without_manifest(),
    };
    match cx.check() {
        Ok(()) => {
            let mut tokens = expand_trait(&api);
            tokens.extend(manifest::once(tracking));
            tokens
        }
        Err(errors) => fallback::api_trait(&errors, item, &krate),
    }
}

/// The errors of the attribute's arguments, if any, then `error` (the item's).
fn with_args_errors(cx: Ctxt, error: syn::Error) -> syn::Error {
    match cx.check() {
        Ok(()) => error,
        Err(mut errors) => {
            errors.combine(error);
            errors
        }
    }
}

fn parse_options(cx: &Ctxt, args: TokenStream, site: Site) -> Options {
    match syn::parse2::<Args>(args) {
        Ok(args) => Options::from_args(cx, &args, site),
        Err(error) => {
            cx.syn_error(error);
            Options::default()
        }
    }
}

// Input:  #[function(name = "get-items")]
//         pub async fn get_items(category: &str) -> Result<Vec<Item>>;
// Output: pub struct GetItemsArgs<'a> { pub category: &'a str }  (Serialize)
//         impl GetItemsArgs<'_> {
//             pub fn call(&self, client: &Client) -> impl Future<Output = Result<Vec<Item>>>
//             pub fn call_with(&self, client: &Client, options: &CallOptions) -> impl Future<..>
//         }
//         impl Debug for GetItemsArgs<'_>
//         pub async fn get_items(category: &str) -> Result<Vec<Item>> {
//             GetItemsArgs { category }.call(&ambient()?).await
//         }
fn expand_free(stub: &Stub) -> TokenStream {
    let Stub {
        function,
        args_ident,
    } = stub;
    let krate = &function.krate;
    let vis = &function.vis;
    let data = &function.data;
    let cfgs: Vec<_> = function
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect();
    let lifetime = Lifetime::new(ARGS_LIFETIME, Span::call_site());
    let (generics, anonymous) = if function.borrows {
        (quote!(<#lifetime>), quote!(<'_>))
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    // What the future of `call` captures, named, so that the output means the same in every
    // edition: the struct's lifetime, if any, and the borrows of `self` and the client.
    let call_lifetime = Lifetime::new("'__gipity", Span::mixed_site());
    let captures = if function.borrows {
        quote!(use<#lifetime, #call_lifetime>)
    } else {
        quote!(use<#call_lifetime>)
    };
    let struct_docs = doc_attr(&docs::args_struct(function));
    let (derive, serialize) = expand_serialize(function, args_ident, &generics);
    let fields = function
        .params
        .iter()
        .map(|param| expand_field(param, &quote!(pub), true, derive.is_some()));
    let call_docs = doc_attr(&docs::call_method(function));
    let call_with_docs = doc_attr(&docs::call_with_method(function));
    let client = Ident::new("client", Span::mixed_site());
    let options = Ident::new("options", Span::mixed_site());
    let descriptor = expand_descriptor(function);
    let call_future = expand_call_with_future(function, &client, &quote!(self), &options);
    let name = LitStr::new(args_ident.to_string().as_str(), args_ident.span());
    let attrs = &function.attrs;
    let stub_docs = doc_attr(&docs::stub(function, Some(args_ident)));
    let sig = &function.sig;
    let idents = function.params.iter().map(|param| &param.ident);
    // The body is located at the return type, so that a `Result` with another error type is
    // reported there rather than on the attribute.
    let body_span = located(function.output.span());
    let ambient_fn = respan(quote!(#krate::__private::ambient), body_span);
    let body_args = Ident::new(&args_ident.to_string(), body_span);
    let ambient = Ident::new("__gipity_client", Span::mixed_site());
    let formatter = Ident::new("__gipity_formatter", Span::mixed_site());
    let body = quote_spanned! {body_span=>
        let #ambient = #ambient_fn()?;
        #body_args { #(#idents),* }.call(&#ambient).await
    };
    quote! {
        #struct_docs
        #(#cfgs)*
        #derive
        #vis struct #args_ident #generics {
            #(#fields)*
        }

        #(#cfgs)*
        #serialize

        // `call` is a plain `fn` returning the call's future: an `async fn` here would add a
        // state machine per stub, to compile and to poll, that only forwards.
        #(#cfgs)*
        impl #generics #args_ident #generics {
            #call_docs
            pub fn call<#call_lifetime>(
                &#call_lifetime self,
                #client: &#call_lifetime #krate::__private::Client,
            ) -> impl ::core::future::Future<Output = #krate::__private::Result<#data>> + #captures
            {
                self.call_with(#client, &#krate::__private::NO_OPTIONS)
            }

            #call_with_docs
            pub fn call_with<#call_lifetime>(
                &#call_lifetime self,
                #client: &#call_lifetime #krate::__private::Client,
                #options: &#call_lifetime #krate::__private::CallOptions,
            ) -> impl ::core::future::Future<Output = #krate::__private::Result<#data>> + #captures
            {
                #descriptor
                #call_future
            }
        }

        #(#cfgs)*
        #[automatically_derived]
        impl ::core::fmt::Debug for #args_ident #anonymous {
            fn fmt(&self, #formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #formatter.debug_struct(#name).finish_non_exhaustive()
            }
        }

        #(#attrs)*
        #stub_docs
        #vis #sig {
            #body
        }
    }
}

// Input:  #[functions(auth = "user")]
//         pub trait Shop { async fn checkout(&self, cart: &Cart) -> Result<Receipt>; }
// Output: pub trait Shop {
//             fn checkout(&self, cart: &Cart) -> impl Future<Output = Result<Receipt>> + MaybeSend;
//         }
//         impl Shop for Client {
//             fn checkout(&self, cart: &Cart) -> impl Future<..> + MaybeSend {
//                 struct __GipityArgs<'a> { cart: &'a Cart }  (Serialize)
//                 let __gipity_args = __GipityArgs { cart };
//                 async move { call(self, &FUNCTION, &__gipity_args).await }
//             }
//         }
fn expand_trait(api: &ApiTrait) -> TokenStream {
    let krate = &api.krate;
    let attrs = &api.attrs;
    let trait_docs = doc_attr(&docs::api_trait(api));
    let vis = &api.vis;
    let trait_token = &api.trait_token;
    let ident = &api.ident;
    let cfgs = api.attrs.iter().filter(|attr| attr.path().is_ident("cfg"));
    let declarations = api.methods.iter().map(|method| {
        let attrs = &method.attrs;
        let method_docs = doc_attr(&docs::stub(method, None));
        let signature = method_signature(method);
        quote! {
            #(#attrs)*
            #method_docs
            #signature;
        }
    });
    let implementations = api.methods.iter().map(expand_method);
    quote! {
        #(#attrs)*
        #trait_docs
        #vis #trait_token #ident {
            #(#declarations)*
        }

        #(#cfgs)*
        #[automatically_derived]
        impl #ident for #krate::__private::Client {
            #(#implementations)*
        }
    }
}

/// `fn checkout(&self, cart: &Cart) -> impl Future<Output = Result<Receipt>> + MaybeSend`
fn method_signature(method: &Function) -> TokenStream {
    let krate = &method.krate;
    let fn_token = &method.sig.fn_token;
    let ident = &method.sig.ident;
    let inputs = &method.sig.inputs;
    let output = &method.output;
    quote! {
        #fn_token #ident(#inputs)
            -> impl ::core::future::Future<Output = #output> + #krate::__private::MaybeSend
    }
}

// Input:  async fn checkout(&self, cart: &Cart) -> Result<Receipt>;   (a checked trait method)
// Output: fn checkout(&self, cart: &Cart) -> impl Future<..> + MaybeSend {
//             struct __GipityArgs<'a> { cart: &'a Cart }  (Serialize, see `expand_serialize`)
//             static __GIPITY_FUNCTION: RemoteFunction<'static> = ..;
//             async move {
//                 let __gipity_args = __GipityArgs { cart };
//                 call(self, &__GIPITY_FUNCTION, &__gipity_args).await
//             }
//         }
fn expand_method(method: &Function) -> TokenStream {
    let cfgs = method
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"));
    let signature = method_signature(method);
    let generics = method.borrows.then(|| {
        let lifetime = Lifetime::new(ARGS_LIFETIME, Span::call_site());
        quote!(<#lifetime>)
    });
    let args_ty = Ident::new("__GipityArgs", Span::mixed_site());
    let (derive, serialize) =
        expand_serialize(method, &args_ty, &generics.clone().unwrap_or_default());
    let fields = method
        .params
        .iter()
        .map(|param| expand_field(param, &TokenStream::new(), false, derive.is_some()));
    let args = Ident::new("__gipity_args", Span::mixed_site());
    let idents = method.params.iter().map(|param| &param.ident);
    let descriptor = expand_descriptor(method);
    let call = expand_call(
        method,
        &Ident::new("self", Span::call_site()),
        &quote!(&#args),
    );
    // The struct is built inside the future: built outside, its one lifetime would have to be
    // the intersection of the parameters' lifetimes, which the returned `impl Future` cannot
    // name (E0700).
    quote! {
        #(#cfgs)*
        #signature {
            #derive
            struct #args_ty #generics {
                #(#fields)*
            }
            #serialize
            #descriptor
            async move {
                let #args = #args_ty { #(#idents),* };
                #call
            }
        }
    }
}

// Input:  a checked function
// Output: static __GIPITY_FUNCTION: RemoteFunction<'static> =
//             RemoteFunction::new("get-items").auth(Auth::User).timeout(..);
//         const { assert_arg::<str>(); assert_return::<Vec<Item>>(); };
fn expand_descriptor(function: &Function) -> TokenStream {
    let krate = &function.krate;
    let private = quote!(#krate::__private);
    let remote = LitStr::new(&function.remote.value, function.remote.span);
    let options = &function.options;
    let auth = options.auth.map(|auth| {
        let variant = Ident::new(auth.variant(), Span::call_site());
        quote!(.auth(#private::Auth::#variant))
    });
    let permissions = options.permissions.as_ref().map(|permissions| {
        let bits = permissions.bits;
        quote!(.permissions(#private::Permissions::from_bits(#bits)))
    });
    let timeout = options.timeout.as_ref().map(|timeout| {
        let millis = timeout.millis;
        quote!(.timeout(::core::time::Duration::from_millis(#millis)))
    });
    let soft_errors = (options.soft_errors == Some(true)).then(|| quote!(.soft_errors(true)));
    let resend =
        (options.resend_after_auth == Some(false)).then(|| quote!(.resend_after_auth(false)));
    let function_static = function_static();
    // Spanned at the user's types, so that an unsupported type is reported on it with the
    // `on_unimplemented` message of `Arg` / `Return`.
    let arg_asserts = function.params.iter().map(|param| {
        // `&T` is serializable exactly when `T` is: name `T` in the message.
        let mut ty = &param.ty;
        while let syn::Type::Reference(reference) = ty {
            ty = &reference.elem;
        }
        let assert = respan(quote!(#private::assert_arg), located(ty.span()));
        quote_spanned!(ty.span()=> #assert::<#ty>();)
    });
    let data = &function.data;
    let assert = respan(quote!(#private::assert_return), located(data.span()));
    let return_assert = quote_spanned!(data.span()=> #assert::<#data>(););
    quote! {
        static #function_static: #private::RemoteFunction<'static> =
            #private::RemoteFunction::new(#remote) #auth #permissions #timeout #soft_errors #resend;
        // One const block for all of them: evaluated by the compiler, nothing to codegen.
        const {
            #(#arg_asserts)*
            #return_assert
        };
    }
}

fn function_static() -> Ident {
    Ident::new("__GIPITY_FUNCTION", Span::mixed_site())
}

/// `call(client, &__GIPITY_FUNCTION, args).await`, spanned at the return type so that a
/// mismatch with the declared `Result` is reported there.
fn expand_call(function: &Function, client: &Ident, args: &TokenStream) -> TokenStream {
    let call = expand_call_future(function, client, args);
    let span = located(function.data.span());
    quote_spanned! {span=>
        #call.await
    }
}

/// `call(client, &__GIPITY_FUNCTION, args)`: the future of the call, spanned like
/// [`expand_call`].
fn expand_call_future(function: &Function, client: &Ident, args: &TokenStream) -> TokenStream {
    let krate = &function.krate;
    let function_static = function_static();
    let span = located(function.data.span());
    let call = respan(quote!(#krate::__private::call), span);
    quote_spanned! {span=>
        #call(#client, &#function_static, #args)
    }
}

/// `call_with(client, &__GIPITY_FUNCTION, args, options)`: the future of a call with options,
/// spanned like [`expand_call`].
fn expand_call_with_future(
    function: &Function,
    client: &Ident,
    args: &TokenStream,
    options: &Ident,
) -> TokenStream {
    let krate = &function.krate;
    let function_static = function_static();
    let span = located(function.data.span());
    let call = respan(quote!(#krate::__private::call_with), span);
    quote_spanned! {span=>
        #call(#client, &#function_static, #args, #options)
    }
}

/// Generated doc lines as one `#[doc = ".."]` attribute, which rustdoc reads exactly as one
/// attribute per line: fewer tokens for the macro to build and the compiler to take in.
fn doc_attr(lines: &[String]) -> TokenStream {
    if lines.is_empty() {
        return TokenStream::new();
    }
    let text = lines.join("\n");
    quote!(#[doc = #text])
}

/// Call-site hygiene, at the location of `span` (a user's token).
fn located(span: Span) -> Span {
    Span::call_site().located_at(span)
}

/// `tokens`, every one of them at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Group(group) => {
                let mut respanned = Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                TokenTree::Group(respanned)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

// Input:  a checked function, the arguments struct's name and generics
// Output: when no parameter has `#[serde(..)]` attributes of its own (the usual case):
//             impl<'a> Serialize for GetItemsArgs<'a> {
//                 fn serialize<S>(&self, s: S) -> Result<S::Ok, S::Error> {
//                     let mut state = s.serialize_struct("GetItemsArgs", 0 + 1)?;
//                     state.serialize_field("category", &self.category)?;   // each key as renamed
//                     if self.note.is_some() { state.serialize_field("note", &self.note)?; }
//                     else { state.skip_field("note")?; }                    // `None` left out
//                     state.end()
//                 }
//             }
//         and no derive; otherwise `#[derive(Serialize)] #[serde(crate = .., rename_all = ..)]`
//         for the struct, so that serde applies the parameters' attributes.
/// Returns (the derive attributes, the impl): exactly one of them is empty. Writing the impl
/// here spares the compiler a second macro (serde's derive, which parses the struct again) per
/// stub, most of the time a stub costs to build.
fn expand_serialize(
    function: &Function,
    ty: &Ident,
    generics: &TokenStream,
) -> (Option<TokenStream>, TokenStream) {
    let krate = &function.krate;
    let serde = quote!(#krate::__private::serde);
    let plain = function
        .params
        .iter()
        .all(|param| param.serde.is_empty() && matches!(param.key, Key::Named { .. }));
    if !plain {
        let serde_attr = serde_container_attr(function);
        return (
            Some(quote! {
                #[derive(#serde::Serialize)]
                #serde_attr
            }),
            TokenStream::new(),
        );
    }
    let serializer = Ident::new("__gipity_serializer", Span::mixed_site());
    let state = Ident::new("__gipity_state", Span::mixed_site());
    let generic = Ident::new("__GipityS", Span::mixed_site());
    let name = LitStr::new(&ty.to_string(), Span::call_site());
    let is_none = quote!(::core::option::Option::is_none);
    let mut len = quote!(0);
    let mut fields = TokenStream::new();
    for param in &function.params {
        let Key::Named { name: key, .. } = &param.key else {
            continue;
        };
        let ident = &param.ident;
        let key = LitStr::new(key, Span::call_site());
        // Spanned at the parameter's type (`T` in `&T`), where a type that is not `Serialize`
        // is reported.
        let mut ty = &param.ty;
        while let syn::Type::Reference(reference) = ty {
            ty = &reference.elem;
        }
        let value = quote_spanned!(located(ty.span())=> &self.#ident);
        let serialize_field = quote! {
            #state.serialize_field(#key, #value)?;
        };
        if param.skip_if_none {
            len.extend(quote!(+ if #is_none(&self.#ident) { 0 } else { 1 }));
            fields.extend(quote! {
                if #is_none(&self.#ident) {
                    #state.skip_field(#key)?;
                } else {
                    #serialize_field
                }
            });
        } else {
            len.extend(quote!(+ 1));
            fields.extend(serialize_field);
        }
    }
    let serialize = quote! {
        #[automatically_derived]
        impl #generics #serde::Serialize for #ty #generics {
            fn serialize<#generic>(
                &self,
                #serializer: #generic,
            ) -> ::core::result::Result<#generic::Ok, #generic::Error>
            where
                #generic: #serde::Serializer,
            {
                // Method calls, with the trait in scope: a few tokens per field, not a path.
                use #serde::ser::SerializeStruct as _;
                let mut #state = #serializer.serialize_struct(#name, #len)?;
                #fields
                #state.end()
            }
        }
    };
    (None, serialize)
}

/// `#[serde(crate = "::gipity_runtime::__private::serde", rename_all = "..")]`
fn serde_container_attr(function: &Function) -> TokenStream {
    let serde_path = format!("{}::__private::serde", path_string(&function.krate));
    let rename_all = function
        .options
        .rename_all
        .as_ref()
        .map(|(_, literal)| quote!(, rename_all = #literal));
    quote!(#[serde(crate = #serde_path #rename_all)])
}

/// One field of an arguments struct, with the parameter's serde attributes.
fn expand_field(param: &Param, vis: &TokenStream, documented: bool, derived: bool) -> TokenStream {
    let doc = documented.then(|| doc_attr(&[docs::field(param)]));
    let serde = &param.serde;
    let skip_none = (derived && param.skip_if_none)
        .then(|| quote!(#[serde(skip_serializing_if = "::core::option::Option::is_none")]));
    // A skipped field is never read by the derived impl; it is still part of the stub's
    // signature, so it stays in the struct.
    let unread = matches!(param.key, Key::Skipped).then(|| quote!(#[allow(dead_code)]));
    let ident = &param.ident;
    let ty = &param.field_ty;
    quote! {
        #doc
        #(#serde)*
        #skip_none
        #unread
        #vis #ident: #ty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squeeze(tokens: &TokenStream) -> String {
        tokens
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn free_stub() {
        let output = squeeze(&run_function(
            quote!(
                name = "get-items",
                auth = "user",
                timeout = "2m",
                crate = "rt"
            ),
            quote!(
                pub async fn get_items(category: &str) -> Result<Vec<Item>>;
            ),
        ));
        for piece in [
            "pub struct GetItemsArgs < 'a > {",
            "pub category : & 'a str ,",
            "impl < 'a > rt :: __private :: serde :: Serialize for GetItemsArgs < 'a > {",
            "__gipity_state . serialize_field (\"category\" , & self . category) ?",
            "impl < 'a > GetItemsArgs < 'a > {",
            "pub fn call < '__gipity > (& '__gipity self , client : & '__gipity rt :: __private :: Client ,) -> impl :: core :: future :: Future < Output = rt :: __private :: Result < Vec < Item > >> + use < 'a , '__gipity > { self . call_with (client , & rt :: __private :: NO_OPTIONS) }",
            "pub fn call_with < '__gipity > (& '__gipity self , client : & '__gipity rt :: __private :: Client , options : & '__gipity rt :: __private :: CallOptions ,) -> impl :: core :: future :: Future < Output = rt :: __private :: Result < Vec < Item > >> + use < 'a , '__gipity >",
            "rt :: __private :: call_with (client , & __GIPITY_FUNCTION , self , options)",
            "rt :: __private :: RemoteFunction :: new (\"get-items\") . auth (rt :: __private :: Auth :: User) . timeout (:: core :: time :: Duration :: from_millis (120000u64))",
            "rt :: __private :: assert_arg :: < str > ()",
            "pub async fn get_items (category : & str) -> Result < Vec < Item > > {",
            "let __gipity_client = rt :: __private :: ambient () ? ; GetItemsArgs { category } . call (& __gipity_client) . await",
        ] {
            assert!(output.contains(piece), "missing `{piece}` in {output}");
        }
        assert!(!output.contains("compile_error"), "{output}");
    }

    #[test]
    fn owned_parameters_need_no_lifetime() {
        let output = squeeze(&run_function(
            quote!(),
            quote!(
                async fn save(level: u32, note: Option<String>) -> Result<()>;
            ),
        ));
        assert!(output.contains("struct SaveArgs {"), "{output}");
        assert!(output.contains("impl SaveArgs {"), "{output}");
        assert!(
            output.contains(
                "if :: core :: option :: Option :: is_none (& self . note) { __gipity_state . skip_field (\"note\") ? ; }"
            ),
            "{output}"
        );
        assert!(!output.contains("# [derive"), "{output}");
    }

    #[test]
    fn serde_attributes_go_to_serde_derive() {
        let output = squeeze(&run_function(
            quote!(rename_all = "camelCase"),
            quote!(
                async fn save(
                    level: u32,
                    #[serde(rename = "note-text")] note: Option<String>,
                ) -> Result<()>;
            ),
        ));
        for piece in [
            "# [derive (:: gipity_runtime :: __private :: serde :: Serialize)]",
            "# [serde (crate = \"::gipity_runtime::__private::serde\" , rename_all = \"camelCase\")]",
            "# [serde (rename = \"note-text\")] # [serde (skip_serializing_if = \"::core::option::Option::is_none\")] pub note",
        ] {
            assert!(output.contains(piece), "missing `{piece}` in {output}");
        }
        assert!(!output.contains("SerializeStruct"), "{output}");
    }

    #[test]
    fn trait_form() {
        let output = squeeze(&run_functions(
            quote!(auth = "user"),
            quote!(
                pub trait Shop {
                    #[gipity(name = "get-items", auth = "public")]
                    async fn get_items(&self, category: &str) -> Result<Vec<Item>>;
                }
            ),
        ));
        for piece in [
            "pub trait Shop {",
            "fn get_items (& self , category : & str) -> impl :: core :: future :: Future < Output = Result < Vec < Item > > > + :: gipity_runtime :: __private :: MaybeSend ;",
            "impl Shop for :: gipity_runtime :: __private :: Client {",
            "struct __GipityArgs < 'a > { category : & 'a str ,",
            "RemoteFunction :: new (\"get-items\") . auth (:: gipity_runtime :: __private :: Auth :: Public)",
            "async move { let __gipity_args = __GipityArgs { category } ;",
        ] {
            assert!(output.contains(piece), "missing `{piece}` in {output}");
        }
        assert!(
            !output.contains("gipity ("),
            "helper attribute left in {output}"
        );
    }

    #[test]
    fn errors_come_with_a_stub() {
        let output = squeeze(&run_function(
            quote!(auth = "admin"),
            quote!(
                pub async fn get_items(category: &str) -> Result<Vec<Item>>;
            ),
        ));
        assert!(
            output.contains("compile_error ! { \"unknown auth level `admin`"),
            "{output}"
        );
        assert!(
            output.ends_with(
                "pub async fn get_items (_ : & str) -> Result < Vec < Item > > { :: core :: unimplemented ! () }"
            ),
            "{output}"
        );
        let output = squeeze(&run_functions(
            quote!(),
            quote!(
                pub struct Shop;
            ),
        ));
        assert!(output.contains("compile_error"), "{output}");
        assert!(output.ends_with("pub struct Shop ;"), "{output}");
    }
}
