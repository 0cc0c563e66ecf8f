//! The doc comments generated for stubs, arguments structs and traits.
//!
//! Links go through the runtime path of `crate = ".."`, so that they resolve from the user's
//! module whatever the runtime is called there.

use syn::{Attribute, Ident};

use crate::args::{Auth, link_base};
use crate::model::{ApiTrait, Function, Key, Param};

/// Intra-doc links to runtime items, through the runtime path of `crate = ".."`.
struct Links {
    base: String,
}

impl Links {
    fn new(function: &Function) -> Self {
        Self {
            base: link_base(&function.krate),
        }
    }

    fn to(&self, item: &str) -> String {
        format!("[`{item}`]({}::{item})", self.base)
    }
}

/// `" line"`, as `/// line` gives, so that rustdoc unindents user and generated lines alike.
fn indent(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .map(|line| {
            if line.is_empty() {
                line
            } else {
                format!(" {line}")
            }
        })
        .collect()
}

fn has_docs(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| attr.path().is_ident("doc"))
}

fn endpoint(function: &Function) -> String {
    format!("`POST /api/{{app}}/fn/{}`", function.remote.value)
}

/// The lines after the user's docs on a free stub (with the name of its arguments struct) or
/// on a trait method.
pub(crate) fn stub(function: &Function, args_ident: Option<&Ident>) -> Vec<String> {
    let links = Links::new(function);
    let mut lines = Vec::new();
    if has_docs(&function.attrs) {
        lines.push(String::new());
    }
    lines.push(format!(
        "Calls the Gipity function `{}`: {}.",
        function.remote.value,
        endpoint(function)
    ));
    for paragraph in options(function, &links) {
        lines.push(String::new());
        lines.push(paragraph);
    }
    if let Some(args_ident) = args_ident {
        lines.push(String::new());
        lines.push(format!(
            "Calls through the ambient client ({} or {}); to pass a client explicitly, use \
             [`{args_ident}::call`].",
            links.to("Client::scope"),
            links.to("Client::install"),
        ));
    }
    lines.extend(errors(&links, args_ident.is_some()));
    indent(lines)
}

/// What the arguments change, one paragraph each: auth, permissions, timeout, soft errors.
fn options(function: &Function, links: &Links) -> Vec<String> {
    let fails_closed = format!(
        "without a credential the call fails closed with {} (nothing is sent), or with {} when \
         the user must sign in",
        links.to("Error::CredentialUnavailable"),
        links.to("Error::LoginRequired"),
    );
    let options = &function.options;
    let auth = match options.auth {
        None => "Auth: as declared in `gipity.yaml`. The client attaches its credential, and the \
                 call fails closed (is not sent) if it cannot obtain it."
            .to_owned(),
        Some(auth) => {
            let meaning = match auth {
                Auth::Public => "anyone may call it; the client attaches its credential when it \
                                 has one"
                    .to_owned(),
                Auth::User => format!("needs a signed-in user; {fails_closed}"),
                Auth::Member => {
                    format!("only members of the project may call it; {fails_closed}")
                }
            };
            match &function.auth_source {
                Some(source) => format!("Auth `{}` ({source}): {meaning}.", auth.name()),
                None => format!("Auth `{}`: {meaning}.", auth.name()),
            }
        }
    };
    let mut paragraphs = vec![auth];
    if let Some(permissions) = &options.permissions {
        paragraphs.push(format!(
            "Permissions asked of the user: `{}` (`{}`).",
            permissions.names, permissions.bits
        ));
    }
    if let Some(timeout) = &options.timeout {
        paragraphs.push(format!(
            "Timeout: `{}`, instead of the client's.",
            timeout.text
        ));
    }
    if options.resend_after_auth == Some(false) {
        paragraphs.push(format!(
            "Not re-sent after a sign-in or consent the auth handler completes (the function may \
             have run before it asked): the call fails with {} or {}, whose challenge's \
             `outcome()` is `Completed`; call again if the function is safe to repeat.",
            links.to("Error::LoginRequired"),
            links.to("Error::ConsentRequired")
        ));
    }
    if options.soft_errors == Some(true) {
        paragraphs.push(format!(
            "A soft failure, `{{\"data\": {{\"error\": \"..\"}}}}`, is returned as {}.",
            links.to("Error::Function")
        ));
    }
    paragraphs
}

const CAUSES: &str = "transport, timeout, HTTP status, credential, sign-in or consent, or a \
                      `data` that does not decode into the return type";

/// The `# Errors` section of a stub.
fn errors(links: &Links, ambient: bool) -> Vec<String> {
    errors_section(if ambient {
        format!(
            "Fails with {} when there is no ambient client, and otherwise with the {} of the \
             call: {CAUSES}.",
            links.to("Error::NoClient"),
            links.to("Error"),
        )
    } else {
        format!(
            "Fails with the {} of the call: {CAUSES}.",
            links.to("Error")
        )
    })
}

fn errors_section(text: String) -> Vec<String> {
    vec![String::new(), "# Errors".to_owned(), String::new(), text]
}

/// The doc of the public arguments struct of a free stub.
pub(crate) fn args_struct(function: &Function) -> Vec<String> {
    indent(vec![format!(
        "Arguments of [`{}`]: the JSON body of {}.",
        function.sig.ident,
        endpoint(function)
    )])
}

/// The doc of `FooArgs::call`.
pub(crate) fn call_method(function: &Function) -> Vec<String> {
    let links = Links::new(function);
    let mut lines = vec![format!(
        "Calls [`{}`] with these arguments through `client`: no ambient client, no global state.",
        function.sig.ident
    )];
    lines.extend(errors_section(format!(
        "Fails with the {} of the call: {CAUSES}.",
        links.to("Error")
    )));
    indent(lines)
}

/// The doc of the generated `call_with` method.
pub(crate) fn call_with_method(function: &Function) -> Vec<String> {
    let links = Links::new(function);
    let mut lines = vec![format!(
        "Calls [`{}`] with these arguments through `client`, with `options` for this one \
             call (a timeout, a request id); they win over options scoped with `CallOptions::scope`.",
        function.sig.ident
    )];
    lines.extend(errors_section(format!(
        "Fails with the {} of the call: {CAUSES}.",
        links.to("Error")
    )));
    indent(lines)
}

/// The doc of one field of the arguments struct.
pub(crate) fn field(param: &Param) -> String {
    let ident = &param.ident;
    match &param.key {
        Key::Named { name, .. } if param.skip_if_none => {
            format!(" The `{ident}` argument, sent as `\"{name}\"` (left out when `None`).")
        }
        Key::Named { name, .. } => format!(" The `{ident}` argument, sent as `\"{name}\"`."),
        Key::Skipped => format!(" The `{ident}` argument (not sent)."),
        Key::Flattened => format!(" The `{ident}` argument, flattened into the body."),
    }
}

/// The lines after the user's docs on a `#[functions]` trait.
pub(crate) fn api_trait(api: &ApiTrait) -> Vec<String> {
    let mut lines = Vec::new();
    if has_docs(&api.attrs) {
        lines.push(String::new());
    }
    let client = format!("[`Client`]({}::Client)", link_base(&api.krate));
    lines.push(match api.methods.first() {
        Some(method) => format!(
            "Implemented for {client}: with this trait in scope, call its methods on a client, \
             as in `client.{}(..).await`.",
            method.sig.ident
        ),
        None => format!("Implemented for {client}."),
    });
    indent(lines)
}

#[cfg(test)]
mod tests {
    use crate::model::tests::model;
    use quote::quote;

    #[test]
    fn stub_docs_follow_the_user_docs() {
        let (stub, errors) = model(
            quote!(
                name = "save",
                auth = "user",
                permissions = 5,
                timeout = "10s",
                soft_errors,
                crate = "rt"
            ),
            quote!(
                /// Saves.
                pub async fn save_progress(level: u32) -> Result<()>;
            ),
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Some(model) = stub else {
            panic!("the stub has a model")
        };
        let lines = super::stub(&model.function, Some(&model.args_ident));
        assert_eq!(
            lines,
            [
                "",
                " Calls the Gipity function `save`: `POST /api/{app}/fn/save`.",
                "",
                " Auth `user`: needs a signed-in user; without a credential the call fails closed \
                 with [`Error::CredentialUnavailable`](rt::Error::CredentialUnavailable) (nothing \
                 is sent), or with [`Error::LoginRequired`](rt::Error::LoginRequired) when the \
                 user must sign in.",
                "",
                " Permissions asked of the user: `identity | ai` (`5`).",
                "",
                " Timeout: `10s`, instead of the client's.",
                "",
                " A soft failure, `{\"data\": {\"error\": \"..\"}}`, is returned as \
                 [`Error::Function`](rt::Error::Function).",
                "",
                " Calls through the ambient client ([`Client::scope`](rt::Client::scope) or \
                 [`Client::install`](rt::Client::install)); to pass a client explicitly, use \
                 [`SaveProgressArgs::call`].",
                "",
                " # Errors",
                "",
                " Fails with [`Error::NoClient`](rt::Error::NoClient) when there is no ambient \
                 client, and otherwise with the [`Error`](rt::Error) of the call: transport, \
                 timeout, HTTP status, credential, sign-in or consent, or a `data` that does not \
                 decode into the return type.",
            ]
        );
    }

    #[test]
    fn undocumented_stub_starts_with_the_generated_line() {
        let (stub, _) = model(
            quote!(),
            quote!(
                async fn ping() -> Result<()>;
            ),
        );
        let first = stub.map(|model| super::stub(&model.function, None).remove(0));
        assert_eq!(
            first.as_deref(),
            Some(" Calls the Gipity function `ping`: `POST /api/{app}/fn/ping`.")
        );
    }
}
