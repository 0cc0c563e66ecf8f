//! The validated model: what a stub calls, with what, and what it returns.
//!
//! `from_syn` records every misuse in the [`Ctxt`] and keeps going with a placeholder, so that
//! one compile reports them all; nothing is expanded unless the [`Ctxt`] stays empty.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, FnArg, Ident, Lifetime, LitStr, Signature, Token, TraitItem, Type, Visibility,
};

use crate::args::{Args, Options, Site};
use crate::check;
use crate::ctxt::Ctxt;
use crate::parse::StubFn;

/// The lifetime the arguments struct borrows its fields for; no user lifetime can clash with
/// it, since a stub cannot name lifetimes of its own.
pub(crate) const ARGS_LIFETIME: &str = "'a";

/// A free stub (`#[function]`) or a method of a `#[functions]` trait.
pub(crate) struct Function {
    /// The user's attributes, minus our helper attributes.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// The signature as written, minus the attributes of its parameters.
    pub(crate) sig: Signature,
    pub(crate) remote: RemoteName,
    /// The arguments, with the trait's filling what a method leaves unset.
    pub(crate) options: Options,
    pub(crate) krate: syn::Path,
    pub(crate) params: Vec<Param>,
    /// The return type as written: `Result<Vec<Item>>`.
    pub(crate) output: Type,
    /// What the function's `data` decodes into: the `Vec<Item>` of `Result<Vec<Item>>`.
    pub(crate) data: Type,
    /// Whether some parameter borrows, so the arguments struct needs [`ARGS_LIFETIME`].
    pub(crate) borrows: bool,
    /// Where the auth level comes from when the manifest settled it: "declared in
    /// `gipity.yaml`, line 12".
    pub(crate) auth_source: Option<String>,
}

/// A free stub: called through the ambient client, or explicitly through its public
/// arguments struct.
pub(crate) struct Stub {
    pub(crate) function: Function,
    /// `GetItemsArgs` for `get_items`.
    pub(crate) args_ident: Ident,
}

/// The remote function's name: `get-items` in `POST /api/{app}/fn/get-items`.
pub(crate) struct RemoteName {
    pub(crate) value: String,
    /// The `name = ".."` literal, or the fn's name when the remote name defaults to it.
    pub(crate) span: Span,
    pub(crate) explicit: bool,
}

/// One parameter: a field of the arguments struct and a key of the JSON body.
pub(crate) struct Param {
    pub(crate) ident: Ident,
    /// As written: `&str`.
    pub(crate) ty: Type,
    /// As a field of the arguments struct: `&'a str`.
    pub(crate) field_ty: Type,
    /// Whether the type has elided lifetimes (which `field_ty` names).
    pub(crate) borrows: bool,
    /// The parameter's `#[serde(..)]` attributes, forwarded to the field.
    pub(crate) serde: Vec<Attribute>,
    pub(crate) key: Key,
    /// An `Option` without the user's own skip rule: `None` is left out of the body.
    pub(crate) skip_if_none: bool,
}

/// Where a parameter ends up in the JSON body.
pub(crate) enum Key {
    /// Under this key; `span` is the parameter, or its `rename = ".."` literal.
    Named { name: String, span: Span },
    /// Nowhere (`#[serde(skip)]`).
    Skipped,
    /// Its fields are merged into the body (`#[serde(flatten)]`).
    Flattened,
}

/// A `#[functions]` trait.
pub(crate) struct ApiTrait {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) trait_token: Token![trait],
    pub(crate) ident: Ident,
    pub(crate) krate: syn::Path,
    pub(crate) methods: Vec<Function>,
}

pub(crate) const FUNCTION: &str = "`#[gipity_runtime::function]`";
pub(crate) const FUNCTIONS: &str = "`#[gipity_runtime::functions]`";

impl Stub {
    pub(crate) fn from_syn(cx: &Ctxt, options: Options, stub: StubFn) -> Self {
        let attrs = check::check_no_helpers(cx, stub.attrs, FUNCTION);
        check::check_free_receiver(cx, &stub.sig);
        let args_ident = check::check_args_struct_name(cx, &stub.sig.ident);
        let function = Function::from_parts(
            cx,
            Parts {
                attrs,
                vis: stub.vis,
                sig: stub.sig,
                body: stub.body,
                options,
                macro_name: FUNCTION,
            },
        );
        Self {
            function,
            args_ident,
        }
    }
}

impl Function {
    /// The model of a trait method; `defaults` are the trait's arguments.
    fn from_method(cx: &Ctxt, defaults: &Options, method: syn::TraitItemFn) -> Self {
        let (helpers, attrs): (Vec<Attribute>, Vec<Attribute>) = method
            .attrs
            .into_iter()
            .partition(|attr| attr.path().is_ident("gipity"));
        let mut args = Args {
            args: Punctuated::new(),
        };
        for helper in &helpers {
            match Args::from_attribute(helper) {
                Ok(more) => args.args.extend(more.args),
                Err(error) => cx.syn_error(error),
            }
        }
        let options = Options::from_args(cx, &args, Site::Method).or(defaults);
        check::check_not_default(cx, method.modifiers.defaultness.as_ref());
        check::check_receiver(cx, &method.sig);
        Self::from_parts(
            cx,
            Parts {
                attrs,
                vis: Visibility::Inherited,
                sig: method.sig,
                body: method.default.map(|block| block.brace_token.span.open()),
                options,
                macro_name: FUNCTIONS,
            },
        )
    }

    fn from_parts(cx: &Ctxt, parts: Parts) -> Self {
        let Parts {
            attrs,
            vis,
            mut sig,
            body,
            options,
            macro_name,
        } = parts;
        check::check_modifiers(cx, &sig, body, macro_name);
        let declared = check::check_generics(cx, &sig);
        let params = sig
            .inputs
            .iter_mut()
            .filter_map(|arg| match arg {
                FnArg::Typed(typed) => Some(typed),
                FnArg::Receiver(_) => None,
            })
            .filter_map(|typed| Param::from_syn(cx, &options, &declared, typed))
            .collect::<Vec<_>>();
        let (output, data) = check::check_return_type(cx, &sig);
        let remote = match &options.name {
            Some(name) => RemoteName {
                value: name.value(),
                span: name.span(),
                explicit: true,
            },
            None => RemoteName {
                value: sig.ident.unraw().to_string(),
                span: sig.ident.span(),
                explicit: false,
            },
        };
        let borrows = params.iter().any(|param| param.borrows);
        let krate = options.krate();
        Self {
            attrs,
            vis,
            sig,
            remote,
            options,
            krate,
            params,
            output,
            data,
            borrows,
            auth_source: None,
        }
    }
}

struct Parts {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    body: Option<Span>,
    options: Options,
    /// The macro, as messages name it.
    macro_name: &'static str,
}

impl ApiTrait {
    pub(crate) fn from_syn(cx: &Ctxt, options: &Options, item: syn::ItemTrait) -> Self {
        check::check_trait_shape(cx, &item);
        let attrs = check::check_no_helpers(cx, item.attrs, FUNCTIONS);
        let methods = item
            .items
            .into_iter()
            .filter_map(|trait_item| match trait_item {
                TraitItem::Fn(method) => Some(Function::from_method(cx, options, method)),
                _ => None,
            })
            .collect();
        Self {
            attrs,
            vis: item.vis,
            trait_token: item.trait_token,
            ident: item.ident,
            krate: options.krate(),
            methods,
        }
    }
}

impl Param {
    fn from_syn(
        cx: &Ctxt,
        options: &Options,
        declared: &[Lifetime],
        typed: &mut syn::PatType,
    ) -> Option<Self> {
        let (serde, others): (Vec<Attribute>, Vec<Attribute>) = std::mem::take(&mut typed.attrs)
            .into_iter()
            .partition(|attr| attr.path().is_ident("serde"));
        check::check_param_attrs(cx, &others);
        let ident = check::check_param_name(cx, &typed.pat);
        let ty = (*typed.ty).clone();
        let elided = check::check_param_type(cx, declared, &ty);
        let mut field_ty = ty.clone();
        if elided {
            NameElided.visit_type_mut(&mut field_ty);
        }
        let ident = ident?;
        let facts = SerdeFacts::from_attrs(&serde);
        let key = if facts.skipped {
            Key::Skipped
        } else if facts.flattened {
            Key::Flattened
        } else if let Some(rename) = facts.rename {
            Key::Named {
                name: rename.value(),
                span: rename.span(),
            }
        } else {
            let name = ident.unraw().to_string();
            Key::Named {
                name: match &options.rename_all {
                    Some((rule, _)) => rule.apply_to_field(&name),
                    None => name,
                },
                span: ident.span(),
            }
        };
        let skip_if_none = matches!(key, Key::Named { .. }) && !facts.skip_if && is_option(&ty);
        Some(Self {
            ident,
            ty,
            field_ty,
            borrows: elided,
            serde,
            key,
            skip_if_none,
        })
    }
}

/// Gives elided lifetimes the arguments struct's lifetime: `&str` -> `&'a str`.
struct NameElided;

impl NameElided {
    fn lifetime() -> Lifetime {
        Lifetime::new(ARGS_LIFETIME, Span::call_site())
    }
}

impl VisitMut for NameElided {
    fn visit_type_reference_mut(&mut self, ty: &mut syn::TypeReference) {
        if ty.lifetime.is_none() {
            ty.lifetime = Some(Self::lifetime());
        }
        syn::visit_mut::visit_type_reference_mut(self, ty);
    }

    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if lifetime.ident == "_" {
            *lifetime = Self::lifetime();
        }
    }

    fn visit_type_fn_ptr_mut(&mut self, _: &mut syn::TypeFnPtr) {}
    fn visit_parenthesized_generic_arguments_mut(
        &mut self,
        _: &mut syn::ParenthesizedGenericArguments,
    ) {
    }
}

/// What the parameter's `#[serde(..)]` attributes change about its key. Attributes serde
/// rejects are left for serde to report on the generated field.
#[derive(Default)]
struct SerdeFacts {
    rename: Option<LitStr>,
    skipped: bool,
    flattened: bool,
    skip_if: bool,
}

impl SerdeFacts {
    fn from_attrs(attrs: &[Attribute]) -> Self {
        let mut facts = Self::default();
        for attr in attrs {
            let _serde_reports_it = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    if meta.input.peek(Token![=]) {
                        facts.rename = Some(meta.value()?.parse()?);
                    } else {
                        meta.parse_nested_meta(|inner| {
                            if inner.path.is_ident("serialize") {
                                facts.rename = Some(inner.value()?.parse()?);
                                Ok(())
                            } else {
                                skip_value(&inner)
                            }
                        })?;
                    }
                    return Ok(());
                }
                if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                    facts.skipped = true;
                } else if meta.path.is_ident("flatten") {
                    facts.flattened = true;
                } else if meta.path.is_ident("skip_serializing_if") {
                    facts.skip_if = true;
                }
                skip_value(&meta)
            });
        }
        facts
    }
}

/// Steps over `= value` or `(..)` after a serde key the model does not need.
fn skip_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<proc_macro2::TokenStream>()?;
    }
    Ok(())
}

/// `Option<T>` under any path (`Option`, `std::option::Option`).
fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Group(group) => is_option(&group.elem),
        Type::Paren(paren) => is_option(&paren.elem),
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().is_some_and(|last| {
            last.ident == "Option" && check::generic_type(&last.arguments).is_some()
        }),
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::args::Site;
    use crate::check::{NAMED_LIFETIME, PATTERN};
    use proc_macro2::TokenStream;
    use quote::quote;

    pub(crate) fn model(args: TokenStream, item: TokenStream) -> (Option<Stub>, Vec<String>) {
        let cx = Ctxt::new();
        let model = match (syn::parse2::<Args>(args), syn::parse2::<StubFn>(item)) {
            (Ok(args), Ok(stub)) => {
                let options = Options::from_args(&cx, &args, Site::Function);
                Some(Stub::from_syn(&cx, options, stub))
            }
            (Err(error), _) | (_, Err(error)) => {
                cx.syn_error(error);
                None
            }
        };
        (model, messages(cx))
    }

    pub(crate) fn messages(cx: Ctxt) -> Vec<String> {
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn errors(item: TokenStream) -> Vec<String> {
        model(quote!(), item).1
    }

    fn function(args: TokenStream, item: TokenStream) -> (Option<Function>, Vec<String>) {
        let (stub, errors) = model(args, item);
        (stub.map(|stub| stub.function), errors)
    }

    fn keys(function: &Function) -> Vec<String> {
        function
            .params
            .iter()
            .map(|param| match &param.key {
                Key::Named { name, .. } => name.clone(),
                Key::Skipped => "<skipped>".to_owned(),
                Key::Flattened => "<flattened>".to_owned(),
            })
            .collect()
    }

    fn text(tokens: impl quote::ToTokens) -> String {
        tokens.to_token_stream().to_string()
    }

    #[test]
    fn free_stub() {
        let (stub, errors) = model(
            quote!(name = "get-items", auth = "public"),
            quote!(
                /// Items.
                pub async fn get_items(category: &str, limit: Option<u32>) -> Result<Vec<Item>>;
            ),
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Some(Stub {
            function,
            args_ident,
        }) = stub
        else {
            panic!("the stub has a model")
        };
        assert_eq!(args_ident, "GetItemsArgs");
        assert_eq!(function.remote.value, "get-items");
        assert!(function.remote.explicit);
        assert_eq!(keys(&function), ["category", "limit"]);
        assert_eq!(text(&function.data), "Vec < Item >");
        assert_eq!(text(&function.output), "Result < Vec < Item > >");
        assert!(function.borrows);
        assert_eq!(text(&function.params[0].field_ty), "& 'a str");
        assert!(!function.params[0].skip_if_none && function.params[1].skip_if_none);
        assert_eq!(function.attrs.len(), 1);
    }

    #[test]
    fn default_name_is_the_fn_name() {
        let (function, _) = function(
            quote!(),
            quote!(
                async fn r#type() -> Result<()>;
            ),
        );
        assert_eq!(
            function.as_ref().map(|f| f.remote.value.as_str()),
            Some("type")
        );
        assert!(function.is_some_and(|f| !f.remote.explicit && !f.borrows));
    }

    #[test]
    fn keys_follow_renames() {
        let (function, errors) = function(
            quote!(rename_all = "camelCase"),
            quote!(
                async fn save(
                    high_score: u64,
                    #[serde(rename = "LVL")] level: u32,
                    #[serde(rename(serialize = "n", deserialize = "m"))] note: Option<String>,
                    #[serde(skip)] local: u8,
                    #[serde(flatten)] extra: Extra,
                    #[serde(skip_serializing_if = "Option::is_none")] maybe: Option<u8>,
                    r#type: &'static str,
                ) -> gipity_runtime::Result<()>;
            ),
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Some(function) = function else {
            panic!("the stub has a model")
        };
        assert_eq!(
            keys(&function),
            [
                "highScore",
                "LVL",
                "n",
                "<skipped>",
                "<flattened>",
                "maybe",
                "type"
            ]
        );
        let skips: Vec<bool> = function.params.iter().map(|p| p.skip_if_none).collect();
        assert_eq!(skips, [false, false, true, false, false, false, false]);
        assert!(!function.borrows, "'static is not elided");
    }

    #[test]
    fn elided_lifetimes_get_one_name() {
        let (function, errors) = function(
            quote!(),
            quote!(
                async fn f(a: &[&str], b: Cow<'_, str>, c: &mut Vec<u8>, d: fn(&str))
                -> Result<()>;
            ),
        );
        assert!(errors.is_empty(), "{errors:?}");
        let fields: Vec<String> = function
            .iter()
            .flat_map(|f| &f.params)
            .map(|p| text(&p.field_ty))
            .collect();
        assert_eq!(
            fields,
            [
                "& 'a [& 'a str]",
                "Cow < 'a , str >",
                "& 'a mut Vec < u8 >",
                "fn (& str)"
            ]
        );
    }

    #[test]
    fn result_paths() {
        for ty in [
            quote!(Result<u8>),
            quote!(gipity_runtime::Result<u8>),
            quote!(::core::result::Result<u8, gipity_runtime::Error>),
            quote!((Result<u8>)),
        ] {
            let (function, errors) = function(quote!(), quote!(async fn f() -> #ty;));
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(function.map(|f| text(&f.data)).as_deref(), Some("u8"));
        }
    }

    #[test]
    fn return_type_errors() {
        assert_eq!(
            errors(quote!(
                async fn f();
            )),
            [
                "missing return type: a stub returns `Result<T>` (`gipity_runtime::Result`), where \
              `T` is what the function returns, such as `Result<Vec<Item>>` or `Result<()>`"
            ]
        );
        for ty in [
            quote!(u8),
            quote!(Result),
            quote!(Option<u8>),
            quote!(impl Future),
        ] {
            let errors = errors(quote!(async fn f() -> #ty;));
            assert_eq!(errors.len(), 1, "{ty}: {errors:?}");
            assert!(errors[0].starts_with("a stub returns `Result<T>`"));
        }
    }

    #[test]
    fn signature_errors() {
        let cases = [
            (
                quote!(
                    fn f() -> Result<()>;
                ),
                "`#[gipity_runtime::function]` requires an `async fn`: `async fn f(..)`",
            ),
            (
                quote!(
                    async fn f<const N: usize>() -> Result<()>;
                ),
                "a stub cannot have const parameters: its parameters are sent as JSON",
            ),
            (
                quote!(
                    async fn f<'a>(a: &'a str) -> Result<()>;
                ),
                NAMED_LIFETIME,
            ),
            (
                quote!(
                    async fn f(a: &'a str) -> Result<()>;
                ),
                NAMED_LIFETIME,
            ),
            (
                quote!(
                    async fn f((a, b): (u8, u8)) -> Result<()>;
                ),
                PATTERN,
            ),
            (
                quote!(
                    async fn f(a @ 1: u8) -> Result<()>;
                ),
                PATTERN,
            ),
            (
                quote!(
                    async fn f(ref a: u8) -> Result<()>;
                ),
                "remove `ref`: a stub's parameters are only sent",
            ),
            (
                quote!(
                    async fn _1() -> Result<()>;
                ),
                "cannot name the arguments struct of `_1` (`1Args` is not an identifier); rename the function",
            ),
        ];
        for (item, message) in cases {
            assert_eq!(errors(item.clone()), [message], "{item}");
        }
    }

    #[test]
    fn every_signature_error_at_once() {
        let errors = errors(quote!(
            const fn f<T>(_: T, (a, b): u8) -> u8
            where
                T: Copy,
            {
                1
            }
        ));
        assert_eq!(errors.len(), 8, "{errors:?}");
    }

    fn trait_model(args: TokenStream, item: TokenStream) -> (Option<ApiTrait>, Vec<String>) {
        let cx = Ctxt::new();
        let model = match (
            syn::parse2::<Args>(args),
            syn::parse2::<syn::ItemTrait>(item),
        ) {
            (Ok(args), Ok(item)) => {
                let options = Options::from_args(&cx, &args, Site::Functions);
                Some(ApiTrait::from_syn(&cx, &options, item))
            }
            (Err(error), _) | (_, Err(error)) => {
                cx.syn_error(error);
                None
            }
        };
        (model, messages(cx))
    }

    #[test]
    fn trait_methods_merge_options() {
        let (api, errors) = trait_model(
            quote!(auth = "user", timeout = "5s"),
            quote! {
                /// The shop.
                pub trait Shop {
                    /// Items.
                    #[gipity(name = "get-items", auth = "public")]
                    async fn get_items(&self, category: &str) -> Result<Vec<Item>>;
                    async fn checkout(&self, cart: &Cart) -> Result<Receipt>;
                }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Some(api) = api else {
            panic!("the trait has a model")
        };
        let summary: Vec<(String, Option<&str>, Option<u64>, usize)> = api
            .methods
            .iter()
            .map(|m| {
                (
                    m.remote.value.clone(),
                    m.options.auth.map(crate::args::Auth::name),
                    m.options.timeout.as_ref().map(|t| t.millis),
                    m.attrs.len(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("get-items".to_owned(), Some("public"), Some(5000), 1),
                ("checkout".to_owned(), Some("user"), Some(5000), 0)
            ]
        );
    }

    #[test]
    fn trait_errors() {
        let cases = [
            (
                quote!(
                    trait T {
                        fn m(&self) -> Result<()>;
                    }
                ),
                "`#[gipity_runtime::functions]` requires an `async fn`: `async fn m(..)`",
            ),
            (
                quote!(
                    trait T where
                        Self: Sized,
                    {
                    }
                ),
                "a `#[gipity_runtime::functions]` trait cannot have a `where` clause",
            ),
            (
                quote!(
                    unsafe trait T {}
                ),
                "a `#[gipity_runtime::functions]` trait cannot be `unsafe`",
            ),
            (
                quote!(
                    #[gipity(auth = "user")]
                    trait T {}
                ),
                "`#[gipity(..)]` goes on the methods of a `#[gipity_runtime::functions]` trait; put these arguments in `#[gipity_runtime::functions]`",
            ),
            (
                quote!(
                    trait T {
                        #[gipity = "x"]
                        async fn m(&self) -> Result<()>;
                    }
                ),
                "expected `#[gipity(..)]`, such as `#[gipity(name = \"get-items\")]`",
            ),
        ];
        for (item, message) in cases {
            assert_eq!(trait_model(quote!(), item.clone()).1, [message], "{item}");
        }
    }

    #[test]
    fn helper_attributes_are_merged() {
        let (_, errors) = trait_model(
            quote!(),
            quote!(
                trait T {
                    #[gipity(auth = "user")]
                    #[gipity(auth = "public")]
                    async fn m(&self) -> Result<()>;
                }
            ),
        );
        assert_eq!(errors, ["duplicate argument `auth`"]);
    }
}
