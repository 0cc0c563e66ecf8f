//! Attribute arguments: `#[function(..)]`, `#[functions(..)]` and `#[gipity(..)]`.
//!
//! [`Args`] is the syntax (`key` or `key = value`, comma separated); [`Options`] is what the
//! arguments mean, built with every misuse recorded in the [`Ctxt`].

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream, Parser as _};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, LitStr, Token};

use crate::case::RenameRule;
use crate::ctxt::Ctxt;
use crate::duration;

/// `key`, `key = value`, ...
pub(crate) struct Args {
    pub(crate) args: Punctuated<Arg, Token![,]>,
}

/// One argument: `soft_errors`, `auth = "user"`.
pub(crate) struct Arg {
    pub(crate) key: Ident,
    pub(crate) value: Option<Expr>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        Ok(Self {
            args: Punctuated::parse_terminated(input)?,
        })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // `parse_any` so that the keyword `crate` is accepted as a key.
        let key = input.call(Ident::parse_any).map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected an argument, such as `name = \"get-items\"`",
            )
        })?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Self { key, value })
    }
}

impl Args {
    /// Parses the contents of a `#[gipity(..)]` helper attribute (`#[gipity]` alone is empty).
    pub(crate) fn from_attribute(attr: &syn::Attribute) -> syn::Result<Self> {
        match &attr.meta {
            syn::Meta::Path(_) => Ok(Self {
                args: Punctuated::new(),
            }),
            syn::Meta::List(list) => Self::parse.parse2(list.tokens.clone()),
            syn::Meta::NameValue(meta) => Err(syn::Error::new_spanned(
                meta.eq_token,
                "expected `#[gipity(..)]`, such as `#[gipity(name = \"get-items\")]`",
            )),
        }
    }
}

/// Where the arguments are written; each place accepts a different set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Site {
    /// `#[function(..)]` on a free stub.
    Function,
    /// `#[functions(..)]` on a trait: defaults for every method.
    Functions,
    /// `#[gipity(..)]` on a method of such a trait.
    Method,
}

const NAME: &str = "name";
const AUTH: &str = "auth";
const PERMISSIONS: &str = "permissions";
const RENAME_ALL: &str = "rename_all";
const TIMEOUT: &str = "timeout";
const SOFT_ERRORS: &str = "soft_errors";
const RESEND_AFTER_AUTH: &str = "resend_after_auth";
const CRATE: &str = "crate";
const MANIFEST: &str = "manifest";

impl Site {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Self::Function => &[
                NAME,
                AUTH,
                PERMISSIONS,
                RENAME_ALL,
                TIMEOUT,
                SOFT_ERRORS,
                RESEND_AFTER_AUTH,
                CRATE,
                MANIFEST,
            ],
            Self::Functions => &[
                AUTH,
                PERMISSIONS,
                RENAME_ALL,
                TIMEOUT,
                SOFT_ERRORS,
                RESEND_AFTER_AUTH,
                CRATE,
                MANIFEST,
            ],
            Self::Method => &[
                NAME,
                AUTH,
                PERMISSIONS,
                RENAME_ALL,
                TIMEOUT,
                SOFT_ERRORS,
                RESEND_AFTER_AUTH,
            ],
        }
    }
}

/// Who may call a function, as `gipity.yaml` declares it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Auth {
    Public,
    User,
    Member,
}

impl Auth {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "public" => Some(Self::Public),
            "user" => Some(Self::User),
            "member" => Some(Self::Member),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::User => "user",
            Self::Member => "member",
        }
    }

    /// The runtime's `Auth` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Self::Public => "Public",
            Self::User => "User",
            Self::Member => "Member",
        }
    }
}

/// The `?permissions=N` bits a function asks of the user.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Permissions {
    pub(crate) bits: u32,
    /// The names of the bits, for the generated docs: `identity | ai`.
    pub(crate) names: String,
}

const PERMISSION_NAMES: [(&str, u32); 3] = [("identity", 1), ("ai", 4), ("account", 128)];

impl Permissions {
    fn from_bits(bits: u32) -> Self {
        let mut names: Vec<String> = PERMISSION_NAMES
            .iter()
            .filter(|&&(_, bit)| bits & bit == bit)
            .map(|&(name, _)| name.to_owned())
            .collect();
        let named = PERMISSION_NAMES.iter().fold(0, |all, &(_, bit)| all | bit);
        let rest = bits & !named;
        if rest != 0 {
            names.push(format!("{rest:#x}"));
        }
        Self {
            bits,
            names: names.join(" | "),
        }
    }
}

/// A per-function timeout.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Timeout {
    pub(crate) millis: u64,
    /// As written: `10s`.
    pub(crate) text: String,
}

/// What the arguments say. `None` is "not given": a method falls back to the trait's value.
#[derive(Clone, Default)]
pub(crate) struct Options {
    /// The remote name, validated with the function's own name in `check`.
    pub(crate) name: Option<LitStr>,
    pub(crate) auth: Option<Auth>,
    /// Where `auth` is written (the trait's literal when a method inherits it).
    pub(crate) auth_span: Option<Span>,
    pub(crate) permissions: Option<Permissions>,
    /// The rule, and the literal that is forwarded to serde.
    pub(crate) rename_all: Option<(RenameRule, LitStr)>,
    pub(crate) timeout: Option<Timeout>,
    pub(crate) soft_errors: Option<bool>,
    /// `false`: a call that meets a login or consent the handler completes is not re-sent.
    pub(crate) resend_after_auth: Option<bool>,
    pub(crate) krate: Option<syn::Path>,
    /// `manifest = "path/to/gipity.yaml"`, relative to `CARGO_MANIFEST_DIR`.
    pub(crate) manifest: Option<LitStr>,
}

impl Options {
    /// Interprets `args` written at `site`, recording every misuse in `cx`.
    pub(crate) fn from_args(cx: &Ctxt, args: &Args, site: Site) -> Self {
        let mut options = Self::default();
        let mut seen: Vec<String> = Vec::new();
        for arg in &args.args {
            let key = arg.key.unraw().to_string();
            if site == Site::Functions && key == NAME {
                cx.error_spanned_by(
                    &arg.key,
                    "`name` names a single function: give a method its own with \
                     `#[gipity(name = \"..\")]`",
                );
                continue;
            }
            if site == Site::Method && (key == CRATE || key == MANIFEST) {
                cx.error_spanned_by(
                    &arg.key,
                    format!(
                        "`{key}` applies to the whole trait: set it in \
                         `#[gipity_runtime::functions({key} = \"..\")]`"
                    ),
                );
                continue;
            }
            let keys = site.keys();
            if !keys.contains(&key.as_str()) {
                cx.error_spanned_by(&arg.key, unknown_message("argument", &key, keys));
                continue;
            }
            if seen.contains(&key) {
                cx.error_spanned_by(&arg.key, format!("duplicate argument `{key}`"));
                continue;
            }
            seen.push(key.clone());
            options.set(cx, &key, arg);
        }
        options
    }

    fn set(&mut self, cx: &Ctxt, key: &str, arg: &Arg) {
        match key {
            NAME => self.name = string_value(cx, arg, "\"get-items\""),
            AUTH => {
                self.auth = string_value(cx, arg, "\"user\"").and_then(|lit| {
                    self.auth_span = Some(lit.span());
                    let auth = Auth::from_name(&lit.value());
                    if auth.is_none() {
                        cx.error_spanned_by(
                            &lit,
                            format!(
                                "unknown auth level `{}`; expected `public`, `user` or `member`",
                                lit.value()
                            ),
                        );
                    }
                    auth
                });
            }
            PERMISSIONS => self.permissions = permissions_value(cx, arg),
            RENAME_ALL => {
                self.rename_all = string_value(cx, arg, "\"camelCase\"").and_then(|lit| {
                    let rule = RenameRule::from_name(&lit.value());
                    if rule.is_none() {
                        let names: Vec<&str> =
                            RenameRule::ALL.iter().map(|&(name, _)| name).collect();
                        cx.error_spanned_by(
                            &lit,
                            unknown_message("`rename_all` rule", &lit.value(), &names),
                        );
                    }
                    rule.map(|rule| (rule, lit))
                });
            }
            TIMEOUT => {
                self.timeout = string_value(cx, arg, "\"10s\"").and_then(|lit| {
                    let text = lit.value();
                    match duration::parse_millis(&text) {
                        Ok(millis) => Some(Timeout { millis, text }),
                        Err(why) => {
                            cx.error_spanned_by(&lit, format!("invalid timeout `{text}`: {why}"));
                            None
                        }
                    }
                });
            }
            SOFT_ERRORS => self.soft_errors = bool_value(cx, arg),
            MANIFEST => {
                self.manifest = string_value(cx, arg, "\"../gipity.yaml\"").filter(|lit| {
                    let empty = lit.value().is_empty();
                    if empty {
                        cx.error_spanned_by(
                            lit,
                            "`manifest` needs a path: `manifest = \"../gipity.yaml\"`, \
                             relative to the crate's directory",
                        );
                    }
                    !empty
                });
            }
            RESEND_AFTER_AUTH => self.resend_after_auth = bool_value(cx, arg),
            CRATE => {
                self.krate =
                    string_value(cx, arg, "\"::gipity_runtime\"").and_then(|lit| {
                        match lit.parse_with(syn::Path::parse_mod_style) {
                            Ok(path) => Some(path),
                            Err(_) => {
                                cx.error_spanned_by(
                                    &lit,
                                    format!(
                                        "`{}` is not a path; expected the path of the runtime \
                                     crate, such as `\"::gipity_runtime\"`",
                                        lit.value()
                                    ),
                                );
                                None
                            }
                        }
                    });
            }
            _ => {}
        }
    }

    /// These options, with `defaults` filling what they leave unset.
    pub(crate) fn or(self, defaults: &Self) -> Self {
        Self {
            name: self.name.or_else(|| defaults.name.clone()),
            auth: self.auth.or(defaults.auth),
            auth_span: if self.auth.is_some() {
                self.auth_span
            } else {
                defaults.auth_span
            },
            permissions: self.permissions.or_else(|| defaults.permissions.clone()),
            rename_all: self.rename_all.or_else(|| defaults.rename_all.clone()),
            timeout: self.timeout.or_else(|| defaults.timeout.clone()),
            soft_errors: self.soft_errors.or(defaults.soft_errors),
            resend_after_auth: self.resend_after_auth.or(defaults.resend_after_auth),
            krate: self.krate.or_else(|| defaults.krate.clone()),
            manifest: self.manifest.or_else(|| defaults.manifest.clone()),
        }
    }

    /// The runtime's path: `crate = ".."`, or `::gipity_runtime`.
    pub(crate) fn krate(&self) -> syn::Path {
        match &self.krate {
            Some(path) => path.clone(),
            None => {
                let name = Ident::new("gipity_runtime", Span::call_site());
                syn::Path {
                    leading_colon: Some(Token![::](Span::call_site())),
                    segments: Punctuated::from_iter([syn::PathSegment::from(name)]),
                }
            }
        }
    }
}

/// The string literal of `key = "..."`, or an error on what is there instead.
fn string_value(cx: &Ctxt, arg: &Arg, example: &str) -> Option<LitStr> {
    let key = arg.key.unraw();
    match &arg.value {
        Some(Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        })) => Some(lit.clone()),
        Some(other) => {
            cx.error_spanned_by(
                other,
                format!("expected a string literal: `{key} = {example}`"),
            );
            None
        }
        None => {
            cx.error_spanned_by(
                &arg.key,
                format!("`{key}` needs a value: `{key} = {example}`"),
            );
            None
        }
    }
}

/// `soft_errors` alone, or `soft_errors = true|false`.
fn bool_value(cx: &Ctxt, arg: &Arg) -> Option<bool> {
    match &arg.value {
        None => Some(true),
        Some(Expr::Lit(syn::ExprLit {
            lit: Lit::Bool(lit),
            ..
        })) => Some(lit.value()),
        Some(other) => {
            cx.error_spanned_by(other, "expected `true` or `false`");
            None
        }
    }
}

/// `permissions = 5` or `permissions = "identity | ai"`.
fn permissions_value(cx: &Ctxt, arg: &Arg) -> Option<Permissions> {
    const EXPECTED: &str = "expected an integer or permission names: \
                            `permissions = 5` or `permissions = \"identity | ai\"`";
    let bits = match &arg.value {
        Some(Expr::Lit(syn::ExprLit {
            lit: Lit::Int(lit), ..
        })) => match lit.base10_parse::<u32>() {
            Ok(bits) => bits,
            Err(_) => {
                cx.error_spanned_by(lit, "`permissions` must fit in a `u32`");
                return None;
            }
        },
        Some(Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        })) => permission_names(cx, lit)?,
        Some(other) => {
            cx.error_spanned_by(other, EXPECTED);
            return None;
        }
        None => {
            cx.error_spanned_by(&arg.key, EXPECTED);
            return None;
        }
    };
    if bits == 0 {
        cx.error_spanned_by(
            &arg.value,
            "`permissions` must ask for at least one permission, such as `\"identity\"`",
        );
        return None;
    }
    Some(Permissions::from_bits(bits))
}

fn permission_names(cx: &Ctxt, lit: &LitStr) -> Option<u32> {
    let text = lit.value();
    let known: Vec<&str> = PERMISSION_NAMES.iter().map(|&(name, _)| name).collect();
    let mut bits = 0;
    for name in text.split('|').map(str::trim) {
        match PERMISSION_NAMES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
        {
            Some((_, bit)) => bits |= bit,
            None if name.is_empty() => {
                cx.error_spanned_by(
                    lit,
                    format!(
                        "expected permission names separated by `|`, such as \
                         `\"identity | ai\"`, found `\"{text}\"`"
                    ),
                );
                return None;
            }
            None => {
                cx.error_spanned_by(lit, unknown_message("permission", name, &known));
                return None;
            }
        }
    }
    Some(bits)
}

/// "unknown argument `nmae`; did you mean `name`? expected one of `name`, `auth`, ..."
pub(crate) fn unknown_message(what: &str, found: &str, expected: &[&str]) -> String {
    let list = expected
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match did_you_mean(found, expected) {
        Some(best) => {
            format!("unknown {what} `{found}`; did you mean `{best}`? expected one of {list}")
        }
        None => format!("unknown {what} `{found}`; expected one of {list}"),
    }
}

/// The closest of `candidates` to `found`, if it is a plausible typo of it.
pub(crate) fn did_you_mean<'a>(found: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let found = found.to_ascii_lowercase();
    candidates
        .iter()
        .map(|&candidate| {
            (
                edit_distance(&found, &candidate.to_ascii_lowercase()),
                candidate,
            )
        })
        .filter(|&(distance, candidate)| distance <= (candidate.len() / 3).max(1) + 1)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// neighbours each cost one (so `nmae` is one edit from `name`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between the first i chars of `a` and the first j chars of `b`.
    let mut rows: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for (i, ca) in a.iter().enumerate() {
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let get = |rows: &Vec<Vec<usize>>, i: usize, j: usize| {
                rows.get(i)
                    .and_then(|row| row.get(j))
                    .copied()
                    .unwrap_or(usize::MAX - 1)
            };
            let mut best = (get(&rows, i, j + 1) + 1)
                .min(get(&rows, i + 1, j) + 1)
                .min(get(&rows, i, j) + cost);
            if i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca) {
                best = best.min(get(&rows, i - 1, j - 1) + 1);
            }
            if let Some(cell) = rows.get_mut(i + 1).and_then(|row| row.get_mut(j + 1)) {
                *cell = best;
            }
        }
    }
    rows.last()
        .and_then(|row| row.last())
        .copied()
        .unwrap_or_default()
}

/// A path as source text, for `#[serde(crate = "..")]`: `::gipity_runtime`.
pub(crate) fn path_string(path: &syn::Path) -> String {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    let joined = segments.join("::");
    if path.leading_colon.is_some() {
        format!("::{joined}")
    } else {
        joined
    }
}

/// The runtime path as the start of an intra-doc link target: without a leading `::`, which
/// rustdoc resolves from the user's module.
pub(crate) fn link_base(path: &syn::Path) -> String {
    path_string(path).trim_start_matches("::").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn options(tokens: TokenStream, site: Site) -> (Options, Vec<String>) {
        let args: Args = match syn::parse2(tokens) {
            Ok(args) => args,
            Err(error) => return (Options::default(), vec![error.to_string()]),
        };
        let cx = Ctxt::new();
        let options = Options::from_args(&cx, &args, site);
        let errors = match cx.check() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        };
        (options, errors)
    }

    fn errors(tokens: TokenStream, site: Site) -> Vec<String> {
        options(tokens, site).1
    }

    #[test]
    fn every_argument() {
        let (options, errors) = options(
            quote!(
                name = "get-items",
                auth = "member",
                permissions = "identity | ai",
                rename_all = "camelCase",
                timeout = "500ms",
                soft_errors,
                crate = "rt"
            ),
            Site::Function,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            options.name.map(|n| n.value()).as_deref(),
            Some("get-items")
        );
        assert_eq!(options.auth, Some(Auth::Member));
        assert_eq!(options.permissions.as_ref().map(|p| p.bits), Some(5));
        assert_eq!(
            options.permissions.map(|p| p.names).as_deref(),
            Some("identity | ai")
        );
        assert_eq!(options.rename_all.map(|r| r.0), Some(RenameRule::Camel));
        assert_eq!(options.timeout.map(|t| t.millis), Some(500));
        assert_eq!(options.soft_errors, Some(true));
        assert_eq!(
            options.krate.map(|k| path_string(&k)).as_deref(),
            Some("rt")
        );
    }

    #[test]
    fn empty() {
        let (options, errors) = options(quote!(), Site::Functions);
        assert!(errors.is_empty());
        assert!(options.auth.is_none() && options.krate.is_none());
        assert_eq!(path_string(&options.krate()), "::gipity_runtime");
    }

    #[test]
    fn unknown_argument_suggests() {
        assert_eq!(
            errors(quote!(nmae = "x"), Site::Function),
            [
                "unknown argument `nmae`; did you mean `name`? expected one of `name`, `auth`, \
              `permissions`, `rename_all`, `timeout`, `soft_errors`, `resend_after_auth`, `crate`, \
              `manifest`"
            ]
        );
        assert_eq!(
            errors(quote!(timout = "1s"), Site::Functions),
            [
                "unknown argument `timout`; did you mean `timeout`? expected one of `auth`, \
              `permissions`, `rename_all`, `timeout`, `soft_errors`, `resend_after_auth`, `crate`, \
              `manifest`"
            ]
        );
        assert_eq!(
            errors(quote!(renameAll = "x"), Site::Method)
                .first()
                .map(|e| e.contains("did you mean `rename_all`?")),
            Some(true)
        );
        assert_eq!(
            errors(quote!(method = "POST"), Site::Method),
            [
                "unknown argument `method`; expected one of `name`, `auth`, `permissions`, \
              `rename_all`, `timeout`, `soft_errors`, `resend_after_auth`"
            ]
        );
    }

    #[test]
    fn duplicates_and_sites() {
        assert_eq!(
            errors(quote!(auth = "user", auth = "public"), Site::Function),
            ["duplicate argument `auth`"]
        );
        assert!(errors(quote!(name = "x"), Site::Functions)[0].starts_with("`name` names"));
        assert!(errors(quote!(crate = "x"), Site::Method)[0].starts_with("`crate` applies"));
    }

    #[test]
    fn bad_values() {
        let cases = [
            (
                quote!(auth = user),
                "expected a string literal: `auth = \"user\"`",
            ),
            (quote!(auth), "`auth` needs a value: `auth = \"user\"`"),
            (
                quote!(timeout = 10s),
                "expected a string literal: `timeout = \"10s\"`",
            ),
            (
                quote!(permissions = 99999999999),
                "`permissions` must fit in a `u32`",
            ),
            (
                quote!(permissions = "identity |"),
                "expected permission names separated by `|`, such as `\"identity | ai\"`, found `\"identity |\"`",
            ),
            (
                quote!(crate = "not a path"),
                "`not a path` is not a path; expected the path of the runtime crate, such as `\"::gipity_runtime\"`",
            ),
        ];
        for (tokens, message) in cases {
            assert_eq!(errors(tokens, Site::Function), [message]);
        }
    }

    #[test]
    fn every_error_is_reported() {
        let errors = errors(
            quote!(auth = "admin", timeout = "1y", nmae = "x", soft_errors = 1),
            Site::Function,
        );
        assert_eq!(errors.len(), 4, "{errors:?}");
    }

    #[test]
    fn permissions_by_number_are_named() {
        let (all, _) = options(quote!(permissions = 133), Site::Function);
        assert_eq!(
            all.permissions.map(|p| p.names).as_deref(),
            Some("identity | ai | account")
        );
        let (unnamed, _) = options(quote!(permissions = 3), Site::Function);
        assert_eq!(
            unnamed.permissions.map(|p| p.names).as_deref(),
            Some("identity | 0x2")
        );
    }

    #[test]
    fn method_options_fall_back_to_the_trait() {
        let (defaults, _) = options(quote!(auth = "user", timeout = "1s"), Site::Functions);
        let (method, _) = options(quote!(auth = "public"), Site::Method);
        let merged = method.or(&defaults);
        assert_eq!(merged.auth, Some(Auth::Public));
        assert_eq!(merged.timeout.map(|t| t.millis), Some(1000));
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            errors(quote!("get-items"), Site::Function),
            ["expected an argument, such as `name = \"get-items\"`"]
        );
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(did_you_mean("xyz", &["name", "auth"]), None);
    }
}
