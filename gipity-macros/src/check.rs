//! Every rule, one `check_*` fn each, opening with the rule it enforces: those on the syntax of
//! the item (applied while the model is built, so that the model never holds what they reject)
//! and those on the model (the remote name, the JSON keys, reserved and shadowed names).

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::visit::Visit;
use syn::{
    Attribute, GenericArgument, Ident, Lifetime, Pat, PathArguments, ReturnType, Signature,
    TraitItem, Type,
};

use crate::case;

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

/// Rule: a parameter carries only `#[serde(..)]` attributes (`others` are the rest).
pub(crate) fn check_param_attrs(cx: &Ctxt, others: &[syn::Attribute]) {
    for attr in others {
        cx.error_spanned_by(
            attr,
            "only `#[serde(..)]` attributes are supported on the parameters of a stub",
        );
    }
}

/// Rule: the arguments struct of a free stub has a name: `GetItemsArgs` for `get_items`, with
/// the fn's span (a placeholder when the fn's name gives none).
pub(crate) fn check_args_struct_name(cx: &Ctxt, fn_ident: &Ident) -> Ident {
    let name = format!("{}Args", case::pascal_case(&fn_ident.unraw().to_string()));
    match syn::parse_str::<Ident>(&name) {
        Ok(mut ident) => {
            ident.set_span(fn_ident.span());
            ident
        }
        Err(_) => {
            cx.error_spanned_by(
                fn_ident,
                format!(
                    "cannot name the arguments struct of `{fn_ident}` (`{name}` is not an \
                     identifier); rename the function"
                ),
            );
            Ident::new("Args", fn_ident.span())
        }
    }
}

/// Rule: `#[gipity(..)]` goes on trait methods only; returns the other attributes.
pub(crate) fn check_no_helpers(
    cx: &Ctxt,
    attrs: Vec<Attribute>,
    macro_name: &str,
) -> Vec<Attribute> {
    attrs
        .into_iter()
        .filter(|attr| {
            let helper = attr.path().is_ident("gipity");
            if helper {
                cx.error_spanned_by(
                    attr,
                    format!(
                        "`#[gipity(..)]` goes on the methods of a {FUNCTIONS} trait; put these \
                         arguments in {macro_name}"
                    ),
                );
            }
            !helper
        })
        .collect()
}

/// Rule: a parameter is a plain name (no `ref`, `mut`, `_` or pattern); returns the name.
pub(crate) fn check_param_name(cx: &Ctxt, pat: &Pat) -> Option<Ident> {
    match pat {
        Pat::Ident(pat) => {
            if let Some(by_ref) = &pat.by_ref {
                cx.error_spanned_by(by_ref, "remove `ref`: a stub's parameters are only sent");
            }
            if let Some(mutability) = &pat.mutability {
                cx.error_spanned_by(
                    mutability,
                    "remove `mut`: a stub's parameters are only sent",
                );
            }
            if let Some((at, _)) = &pat.subpat {
                cx.error_spanned_by(at, PATTERN);
            }
            Some(pat.ident.clone())
        }
        Pat::Wild(wild) => {
            cx.error_spanned_by(
                wild,
                "a `_` parameter has no name to use as its JSON key; name it",
            );
            None
        }
        other => {
            cx.error_spanned_by(other, PATTERN);
            None
        }
    }
}

pub(crate) const PATTERN: &str =
    "a stub's parameters are plain names: each name is a key of the JSON body";

/// Rule: a parameter type holds no `impl Trait` and names no lifetime (but `'static` and those
/// already reported where they were declared); returns whether it has elided lifetimes.
pub(crate) fn check_param_type(cx: &Ctxt, declared: &[Lifetime], ty: &Type) -> bool {
    let mut types = TypeCheck {
        cx,
        declared,
        elided: false,
    };
    types.visit_type(ty);
    types.elided
}

/// The visitor of [`check_param_type`].
struct TypeCheck<'a> {
    cx: &'a Ctxt,
    declared: &'a [Lifetime],
    elided: bool,
}

impl<'ast> Visit<'ast> for TypeCheck<'_> {
    fn visit_type_impl_trait(&mut self, ty: &'ast syn::TypeImplTrait) {
        self.cx.error_spanned_by(
            ty,
            "a stub cannot take `impl Trait`: its parameter types must be concrete",
        );
    }

    fn visit_type_reference(&mut self, ty: &'ast syn::TypeReference) {
        if ty.lifetime.is_none() {
            self.elided = true;
        }
        syn::visit::visit_type_reference(self, ty);
    }

    fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
        if lifetime.ident == "_" {
            self.elided = true;
        } else if lifetime.ident != "static" && !self.declared.contains(lifetime) {
            self.cx.error_spanned_by(lifetime, NAMED_LIFETIME);
        }
    }

    // Function pointers and `Fn(..)` bounds have lifetimes of their own.
    fn visit_type_fn_ptr(&mut self, _: &'ast syn::TypeFnPtr) {}
    fn visit_parenthesized_generic_arguments(
        &mut self,
        _: &'ast syn::ParenthesizedGenericArguments,
    ) {
    }
}

/// The first generic type argument: `T` in `Result<T, E>`.
pub(crate) fn generic_type(arguments: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(arguments) = arguments else {
        return None;
    };
    arguments.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

/// Rule: the return type is `Result<T>` (any path ending in `Result`); returns it and `T`.
pub(crate) fn check_return_type(cx: &Ctxt, sig: &Signature) -> (Type, Type) {
    const EXPECTED: &str = "a stub returns `Result<T>` (`gipity_runtime::Result`), where `T` is \
                            what the function returns, such as `Result<Vec<Item>>` or `Result<()>`";
    let unit = || {
        Type::Tuple(syn::TypeTuple {
            attrs: Vec::new(),
            paren_token: syn::token::Paren::default(),
            elems: Punctuated::new(),
        })
    };
    let ReturnType::Type(_, output) = &sig.output else {
        cx.error_spanned_by(sig, format!("missing return type: {EXPECTED}"));
        return (unit(), unit());
    };
    let mut ty: &Type = output;
    while let Type::Group(syn::TypeGroup { elem, .. }) | Type::Paren(syn::TypeParen { elem, .. }) =
        ty
    {
        ty = elem;
    }
    let data = match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .filter(|last| last.ident == "Result")
            .and_then(|last| generic_type(&last.arguments)),
        _ => None,
    };
    match data {
        Some(data) => ((**output).clone(), data.clone()),
        None => {
            cx.error_spanned_by(output, EXPECTED);
            ((**output).clone(), unit())
        }
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
