//! Rules that span several parts of the model (the arguments, the name, the parameters).

use crate::ctxt::Ctxt;
use crate::model::{ApiTrait, Function, Key};

/// Every rule, on every function of the trait.
pub(crate) fn api_trait(cx: &Ctxt, api: &ApiTrait) {
    for method in &api.methods {
        function(cx, method);
    }
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
