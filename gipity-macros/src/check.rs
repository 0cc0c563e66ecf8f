//! Every rule, one `check_*` fn each, opening with the rule it enforces: those on the syntax of
//! the item (applied while the model is built, so that the model never holds what they reject)
//! and those on the model (the remote name, the JSON keys, reserved and shadowed names).

use proc_macro2::Span;
use syn::spanned::Spanned as _;
use syn::{Lifetime, Signature, TraitItem};

use crate::ctxt::Ctxt;
use crate::model::{ApiTrait, FUNCTIONS, Function, Key};

/// Every rule, on every function of the trait.
pub(crate) fn api_trait(cx: &Ctxt, api: &ApiTrait) {
    for method in &api.methods {
        function(cx, method);
        check_not_shadowed(cx, method);
    }
}

/// Rule: a trait method is not named like a method of `Client` itself, which method-call
/// syntax would pick instead (`client.me()` is `GET /api/auth/me`, never this function).
fn check_not_shadowed(cx: &Ctxt, method: &Function) {
    let ident = &method.sig.ident;
    let name = ident.to_string();
    if !gipity_shared::CLIENT_METHODS.contains(&name.as_str()) {
        return;
    }
    let remote = &method.remote.value;
    cx.error_spanned_by(
        ident,
        format!(
            "`{name}` is a method of `Client` itself, so `client.{name}()` would call that and \
             never this function; rename the method and keep the remote name: \
             `#[gipity(name = \"{remote}\")] async fn <another name>(&self ..)`"
        ),
    );
}

/// Every rule on one function.
pub(crate) fn function(cx: &Ctxt, function: &Function) {
    check_remote_name(cx, function);
    check_json_keys(cx, function);
    check_reserved_names(cx, function);
}

/// Rule: the remote name (given, or the fn's own) is a safe URL path segment: 1 to 128 ASCII
/// letters, digits, `_`, `.` and `-`, starting with a letter or digit, without `..` (the rule of
/// `gipity-shared`, which the runtime applies at run time too).
fn check_remote_name(cx: &Ctxt, function: &Function) {
    let name = &function.remote.value;
    let Err(problem) = gipity_shared::check_function_name(name) else {
        return;
    };
    let message = if function.remote.explicit {
        format!("invalid function name `{name}`: {problem}")
    } else {
        format!(
            "`{name}` cannot be the remote function name: {problem}; give the remote name \
             with `name = \"..\"`"
        )
    };
    cx.error_at(function.remote.span, message);
}

/// Rule: no two parameters map to the same JSON key (after `rename_all` and `rename`).
fn check_json_keys(cx: &Ctxt, function: &Function) {
    let mut seen: Vec<(&str, &syn::Ident)> = Vec::new();
    for param in &function.params {
        let Key::Named { name, span } = &param.key else {
            continue;
        };
        match seen.iter().find(|(key, _)| key == name) {
            Some((_, first)) => cx.error_at(
                *span,
                format!(
                    "parameters `{first}` and `{}` are both sent as the JSON key `{name}`",
                    param.ident
                ),
            ),
            None => seen.push((name, &param.ident)),
        }
    }
}

/// Rule: parameter names do not start with `__gipity`, the prefix of generated names.
fn check_reserved_names(cx: &Ctxt, function: &Function) {
    for param in &function.params {
        let name = param.ident.to_string();
        if name
            .trim_start_matches("r#")
            .to_ascii_lowercase()
            .starts_with("__gipity")
        {
            cx.error_spanned_by(
                &param.ident,
                format!(
                    "`{name}` is reserved: names starting with `__gipity` are for generated code"
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rules on the syntax, applied while the model is built
// ---------------------------------------------------------------------------------------------

/// Rule: a stub is a plain bodyless `async fn`: not `const`, `unsafe`, `extern` or variadic.
pub(crate) fn check_modifiers(cx: &Ctxt, sig: &Signature, body: Option<Span>, macro_name: &str) {
    if let Some(constness) = &sig.constness {
        cx.error_spanned_by(constness, "a stub cannot be `const`: it calls over HTTP");
    }
    if sig.asyncness.is_none() {
        cx.error_spanned_by(
            sig.fn_token,
            format!(
                "{macro_name} requires an `async fn`: `async fn {}(..)`",
                sig.ident
            ),
        );
    }
    if let syn::Safety::Unsafe(unsafety) = &sig.safety {
        cx.error_spanned_by(unsafety, "a stub cannot be `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, "a stub cannot be `extern`: it is a Rust `async fn`");
    }
    if let Some(variadic) = &sig.variadic {
        cx.error_spanned_by(
            variadic.dots,
            "a stub cannot be variadic: each parameter is a key of the JSON body",
        );
    }
    if let Some(body) = body {
        cx.error_at(
            body,
            format!("{macro_name} writes the body of the stub: replace `{{ .. }}` with `;`"),
        );
    }
}

/// Rule: no generic parameters or `where` clause; returns the declared lifetimes, already
/// reported, so that their uses are not reported again.
pub(crate) fn check_generics(cx: &Ctxt, sig: &Signature) -> Vec<Lifetime> {
    let mut declared = Vec::new();
    for param in &sig.generics.params {
        match param {
            syn::GenericParam::Lifetime(param) => {
                cx.error_spanned_by(&param.lifetime, NAMED_LIFETIME);
                declared.push(param.lifetime.clone());
            }
            syn::GenericParam::Type(param) => cx.error_spanned_by(
                &param.ident,
                "a stub cannot be generic: its parameters are sent as JSON, so their types \
                 must be concrete",
            ),
            syn::GenericParam::Const(param) => cx.error_spanned_by(
                &param.ident,
                "a stub cannot have const parameters: its parameters are sent as JSON",
            ),
        }
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        cx.error_spanned_by(
            where_clause,
            "a stub cannot have a `where` clause: its parameter types are concrete",
        );
    }
    declared
}

pub(crate) const NAMED_LIFETIME: &str = "a stub cannot name lifetimes; elide them instead \
                              (`&str`, `&T`, `Cow<'_, str>`)";

/// Rule: a method takes `&self` (it runs on a borrowed `Client`).
pub(crate) fn check_receiver(cx: &Ctxt, sig: &Signature) {
    const NEEDS_REF_SELF: &str = "the methods of a `#[gipity_runtime::functions]` trait take \
                                  `&self`: they are called on a `Client`";
    let Some(receiver) = sig.receiver() else {
        cx.error_at(sig.paren_token.span.join(), NEEDS_REF_SELF);
        return;
    };
    match &receiver.kind {
        syn::ReceiverKind::Reference(_, lifetime, mutability) => {
            if let Some(mutability) = mutability {
                cx.error_spanned_by(mutability, format!("{NEEDS_REF_SELF}, not `&mut self`"));
            }
            if let Some(lifetime) = lifetime.as_ref().filter(|l| l.ident != "_") {
                cx.error_spanned_by(lifetime, NAMED_LIFETIME);
            }
        }
        syn::ReceiverKind::Typed(_, ty) => cx.error_spanned_by(ty, NEEDS_REF_SELF),
        _ => cx.error_spanned_by(receiver, format!("{NEEDS_REF_SELF}, not `self`")),
    }
}

/// Rule: a trait is a plain, non-generic trait of `async fn` methods: not `unsafe` or `auto`,
/// no generics, `where` clause or supertraits, no consts, types or macros.
pub(crate) fn check_trait_shape(cx: &Ctxt, item: &syn::ItemTrait) {
    if let Some(unsafety) = &item.unsafety {
        cx.error_spanned_by(unsafety, format!("a {FUNCTIONS} trait cannot be `unsafe`"));
    }
    if let Some(auto) = &item.modifiers.auto_token {
        cx.error_spanned_by(auto, format!("a {FUNCTIONS} trait cannot be `auto`"));
    }
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            format!("a {FUNCTIONS} trait cannot be generic: it is implemented once, for `Client`"),
        );
    }
    if let Some(where_clause) = &item.generics.where_clause {
        cx.error_spanned_by(
            where_clause,
            format!("a {FUNCTIONS} trait cannot have a `where` clause"),
        );
    }
    if let Some(colon) = &item.colon_token {
        let supertraits = &item.supertraits;
        cx.error_spanned_by(
            quote::quote!(#colon #supertraits),
            format!(
                "a {FUNCTIONS} trait cannot have supertraits: it is implemented for \
                 `Client`, which implements only its methods"
            ),
        );
    }
    for trait_item in &item.items {
        let other = match trait_item {
            TraitItem::Fn(_) => continue,
            TraitItem::Const(item) => item.const_token.span(),
            TraitItem::Type(item) => item.type_token.span(),
            TraitItem::Macro(item) => item.mac.path.span(),
            TraitItem::Verbatim(tokens) => tokens.span(),
            _ => item.ident.span(),
        };
        cx.error_at(
            other,
            format!("a {FUNCTIONS} trait holds only `async fn` methods"),
        );
    }
}

/// Rule: a free stub has no receiver.
pub(crate) fn check_free_receiver(cx: &Ctxt, sig: &Signature) {
    if let Some(receiver) = sig.receiver() {
        cx.error_spanned_by(
            receiver,
            format!(
                "a free stub has no `self`; to call functions as methods of `Client`, \
             declare them in a trait with {FUNCTIONS}"
            ),
        );
    }
}

/// Rule: a method is not `default` (specialization has nothing to specialize here).
pub(crate) fn check_not_default(cx: &Ctxt, defaultness: Option<&syn::Token![default]>) {
    if let Some(default) = defaultness {
        cx.error_spanned_by(default, "a stub cannot be `default`");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{messages, model};
    use proc_macro2::TokenStream;
    use quote::quote;

    fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
        let (stub, mut errors) = model(args, item);
        if let Some(stub) = stub {
            let cx = Ctxt::new();
            super::function(&cx, &stub.function);
            errors.extend(messages(cx));
        }
        errors
    }

    #[test]
    fn name_errors_point_at_their_source() {
        assert_eq!(
            errors(
                quote!(name = "a..b"),
                quote!(
                    async fn f() -> Result<()>;
                )
            ),
            ["invalid function name `a..b`: it must not contain `..`"]
        );
        assert_eq!(
            errors(
                quote!(),
                quote!(
                    async fn _private() -> Result<()>;
                )
            ),
            [
                "`_private` cannot be the remote function name: it must start with an ASCII \
              letter or digit; give the remote name with `name = \"..\"`"
            ]
        );
        assert!(
            errors(
                quote!(name = "ok"),
                quote!(
                    async fn _private() -> Result<()>;
                )
            )
            .is_empty()
        );
    }

    #[test]
    fn duplicate_keys() {
        assert_eq!(
            errors(
                quote!(rename_all = "camelCase"),
                quote!(
                    async fn f(high_score: u8, highScore: u8) -> Result<()>;
                )
            ),
            ["parameters `high_score` and `highScore` are both sent as the JSON key `highScore`"]
        );
        assert_eq!(
            errors(
                quote!(),
                quote!(
                    async fn f(a: u8, #[serde(rename = "a")] b: u8) -> Result<()>;
                )
            ),
            ["parameters `a` and `b` are both sent as the JSON key `a`"]
        );
        assert!(
            errors(
                quote!(),
                quote!(
                    async fn f(
                        a: u8,
                        #[serde(skip)] b: u8,
                        #[serde(rename = "b")] c: u8,
                    ) -> Result<()>;
                )
            )
            .is_empty()
        );
    }

    #[test]
    fn reserved_names() {
        assert_eq!(
            errors(
                quote!(),
                quote!(
                    async fn f(__gipity_client: u8) -> Result<()>;
                )
            ),
            [
                "`__gipity_client` is reserved: names starting with `__gipity` are for generated code"
            ]
        );
    }
}
