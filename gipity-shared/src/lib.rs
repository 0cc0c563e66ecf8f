//! The rules and names that more than one gipity crate needs, written once.
//!
//! `gipity-macros` checks a remote function name at compile time with the same rule that
//! `gipity-runtime` applies at run time; the runtime and `gipity-emulator` agree on header names
//! and paths through the constants here. No dependencies, no `std`: every crate of the family
//! can depend on it. Not meant for direct use; it follows the version of `gipity-runtime`.

#![no_std]
#![deny(missing_docs)]
// Total on every input, like the runtime's validators.
#![deny(
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use core::fmt;

/// The longest remote function name, in characters.
pub const MAX_FUNCTION_NAME: usize = 128;

/// Why a string is not a remote function name (the file name under `functions/`, without `.js`).
///
/// `Display` says what is wrong and what is expected, in rustc's style (lowercase, no trailing
/// period), without repeating the name: callers quote it as their context allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FunctionNameProblem {
    /// The name is empty.
    Empty,
    /// The name has a character that is not an ASCII letter, digit, `_`, `.` or `-`.
    Character(char),
    /// The name is longer than [`MAX_FUNCTION_NAME`] characters; the count is given.
    TooLong(usize),
    /// The name starts with something other than an ASCII letter or digit (`.`, `-`, `_`).
    Start,
    /// The name contains `..`.
    DotDot,
}

impl fmt::Display for FunctionNameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty"),
            Self::Character(c) => write!(
                f,
                "{c:?} is not allowed; use ASCII letters, digits, `_`, `.` and `-`"
            ),
            Self::TooLong(count) => write!(
                f,
                "it is {count} characters long; the limit is {MAX_FUNCTION_NAME}"
            ),
            Self::Start => f.write_str("it must start with an ASCII letter or digit"),
            Self::DotDot => f.write_str("it must not contain `..`"),
        }
    }
}

/// Checks a remote function name: 1 to [`MAX_FUNCTION_NAME`] characters, each an ASCII
/// letter, digit, `_`, `.` or `-`; the first an ASCII letter or digit (which rules out `.`,
/// `..` and `-x`); no `..` anywhere. A name that passes is a safe URL path segment; callers
/// still percent-encode it as one.
///
/// # Errors
/// The first problem found, in the order of [`FunctionNameProblem`]'s variants.
pub fn check_function_name(name: &str) -> Result<(), FunctionNameProblem> {
    if name.is_empty() {
        return Err(FunctionNameProblem::Empty);
    }
    if let Some(bad) = name.chars().find(|&c| !is_name_byte(c as u32)) {
        return Err(FunctionNameProblem::Character(bad));
    }
    // Every character is ASCII from here on: the byte length is the character count.
    if name.len() > MAX_FUNCTION_NAME {
        return Err(FunctionNameProblem::TooLong(name.len()));
    }
    if !name
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphanumeric)
    {
        return Err(FunctionNameProblem::Start);
    }
    if name.contains("..") {
        return Err(FunctionNameProblem::DotDot);
    }
    Ok(())
}

/// Whether [`check_function_name`] accepts `name`, as a `const fn`: a descriptor in a
/// `static` (every generated stub has one) is checked at compile time.
#[must_use]
pub const fn is_function_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let [first, ..] = bytes else {
        return false;
    };
    if bytes.len() > MAX_FUNCTION_NAME || !first.is_ascii_alphanumeric() {
        return false;
    }
    let mut rest = bytes;
    let mut previous = 0_u8;
    while let [byte, tail @ ..] = rest {
        if !is_name_byte(*byte as u32) || (*byte == b'.' && previous == b'.') {
            return false;
        }
        previous = *byte;
        rest = tail;
    }
    true
}

/// An ASCII letter, digit, `_`, `.` or `-` (as a code point, so that bytes and chars share it).
const fn is_name_byte(c: u32) -> bool {
    matches!(c, 0x30..=0x39 | 0x41..=0x5A | 0x61..=0x7A)
        || c == b'_' as u32
        || c == b'.' as u32
        || c == b'-' as u32
}

/// The app services GIPITY-API.md documents, as named in `/api/<GUID>/services/<name>` and in
/// a `gipity.yaml` services phase.
pub const SERVICES: [&str; 8] = [
    "llm",
    "tts",
    "image",
    "sound",
    "music",
    "transcribe",
    "video",
    "location",
];

/// The methods of `gipity_runtime::Client` (every inherent method with a receiver). A
/// `#[functions]` trait method of one of these names would be shadowed by it: `client.me()`
/// calls `Client::me`, never the trait's method, so the macro refuses such names. The runtime's
/// tests keep this list equal to `Client`'s methods.
pub const CLIENT_METHODS: &[&str] = &[
    "app",
    "auth_status",
    "base_url",
    "call",
    "call_function",
    "call_function_with",
    "clear_tokens",
    "cookie_jar",
    "install",
    "llm",
    "me",
    "scope",
    "service",
    "service_list",
    "services",
];

/// Header names of the protocol, lowercase (as HTTP/2 and the `http` crate spell them).
pub mod header {
    /// The app token minted by `POST /api/token`.
    pub const APP_TOKEN: &str = "x-app-token";
    /// A project API key.
    pub const API_KEY: &str = "x-api-key";
    /// The id of one logical call, the same on each of its attempts; Gipity forwards it to the
    /// function (`ctx.headers['x-request-id']`).
    pub const REQUEST_ID: &str = "x-request-id";
}

/// Paths of the protocol, relative to the API base.
pub mod path {
    /// `POST`: mints an app token, `{"app": "<guid>"}` -> `{"data": {"token", "expiresIn"}}`.
    pub const TOKEN: &str = "/api/token";
    /// `GET`: who the session cookie belongs to.
    pub const ME: &str = "/api/auth/me";
    /// The login page (`?app=<guid>&permissions=<bits>`).
    pub const LOGIN: &str = "/api/auth/login";
    /// The consent page (`?app=<guid>&permissions=<bits>`).
    pub const CONSENT: &str = "/api/auth/consent";
    /// What comes after `/api/<guid>` for a function: `/fn/<name>`.
    pub const FUNCTION: &str = "fn";
    /// What comes after `/api/<guid>` for an app service: `/services/<name>`.
    pub const SERVICES: &str = "services";
    /// What comes after `/api/<guid>` for an app player's sign-in: `/auth/guest`.
    pub const GUEST: &[&str] = &["auth", "guest"];
    /// What comes after `/api/<guid>` for the auth status: `/auth/status`.
    pub const STATUS: &[&str] = &["auth", "status"];
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use std::string::{String, ToString};

    use super::*;

    #[test]
    fn accepted_names() {
        let max = "a".repeat(MAX_FUNCTION_NAME);
        for name in [
            "get-items",
            "a",
            "9",
            "x.y",
            "A_b-c.d",
            "v2.get_items",
            &max,
        ] {
            assert_eq!(check_function_name(name), Ok(()), "{name:?}");
            assert!(is_function_name(name), "{name:?}");
        }
    }

    #[test]
    fn refused_names_say_why() {
        let too_long = "a".repeat(MAX_FUNCTION_NAME + 1);
        let cases: [(&str, &str); 9] = [
            ("", "it is empty"),
            ("a..b", "it must not contain `..`"),
            ("-a", "it must start with an ASCII letter or digit"),
            (".hidden", "it must start with an ASCII letter or digit"),
            ("_x", "it must start with an ASCII letter or digit"),
            (
                "a b",
                "' ' is not allowed; use ASCII letters, digits, `_`, `.` and `-`",
            ),
            (
                "a/b",
                "'/' is not allowed; use ASCII letters, digits, `_`, `.` and `-`",
            ),
            (
                "café",
                "'é' is not allowed; use ASCII letters, digits, `_`, `.` and `-`",
            ),
            (&too_long, "it is 129 characters long; the limit is 128"),
        ];
        for (name, why) in cases {
            let problem = check_function_name(name).expect_err(name);
            assert_eq!(problem.to_string(), why, "{name:?}");
        }
    }

    /// The `const fn` and the explaining one are the same rule, on every short name over a
    /// alphabet of the interesting characters, and on hostile ones.
    #[test]
    fn const_and_checked_rules_agree() {
        let alphabet = [
            'a', 'Z', '0', '_', '.', '-', '/', ' ', 'é', '\0', '\u{200B}',
        ];
        let mut names: std::vec::Vec<String> = std::vec![String::new()];
        for _ in 0..4 {
            let longer: std::vec::Vec<String> = names
                .iter()
                .flat_map(|name| alphabet.iter().map(move |c| std::format!("{name}{c}")))
                .collect();
            names.extend(longer);
        }
        for hostile in [
            "../x", "x/../y", "%2e%2e", "a..", "\u{FF41}", "a\\b", "a?b", "a#b", "a\nb", "a:b",
        ] {
            names.push(hostile.to_string());
        }
        names.push("a".repeat(MAX_FUNCTION_NAME + 1));
        for name in &names {
            assert_eq!(
                is_function_name(name),
                check_function_name(name).is_ok(),
                "{name:?}"
            );
        }
        assert!(names.len() > 10_000);
    }
}
