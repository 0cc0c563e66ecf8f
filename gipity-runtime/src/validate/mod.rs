//! Validation of everything that crosses a trust boundary: URLs ([`urls`]), names, GUIDs and
//! secrets ([`names`]). Excerpts of response bodies live in [`crate::redact`].
//!
//! Every function here is total: no input makes it panic (the lints below keep indexing,
//! slicing, `unwrap` and `expect` out of these modules). Rejections are [`Invalid`] values whose
//! text starts with a lowercase letter, has no trailing period and never repeats a secret.
//! Messages quote an input only when it is not a secret (URLs, function names), truncated to
//! 80 characters and escaped; quoted URLs lose their user info, query and fragment first.

#![deny(
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::borrow::Cow;

mod names;
mod urls;

pub(crate) use names::{app_guid, credential, device_secret, function_name};
pub(crate) use urls::{base_url, challenge_url, is_loopback, return_url};

/// Why an input was rejected; the text is lowercase, has no trailing period and never repeats a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid(pub(crate) Cow<'static, str>);

fn invalid(message: &'static str) -> Invalid {
    Invalid(Cow::Borrowed(message))
}

fn invalid_owned(message: String) -> Invalid {
    Invalid(Cow::Owned(message))
}

/// How many characters of a non-secret input a message may quote.
const QUOTE_CHARS: usize = 80;

// ---------------------------------------------------------------------------------------------
// Helpers shared by the rules
// ---------------------------------------------------------------------------------------------

/// The first 80 characters of a non-secret input, Debug-escaped (so control and invisible
/// characters show as escapes), with `…` when cut.
fn quoted(input: &str) -> String {
    let shown: String = input.chars().take(QUOTE_CHARS).collect();
    let mut quoted = format!("{shown:?}");
    if input.chars().nth(QUOTE_CHARS).is_some() {
        quoted.push('…');
    }
    quoted
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod test_support {
    use url::Url;

    use super::Invalid;

    pub(crate) fn emulator() -> Url {
        Url::parse("http://127.0.0.1:8787").unwrap()
    }

    /// Every message starts lowercase and has no trailing period.
    pub(crate) fn assert_message_style(error: &Invalid, input: &str) {
        let text = &error.0;
        assert!(
            text.starts_with(|c: char| c.is_lowercase()),
            "{input:?}: message {text:?} does not start lowercase"
        );
        assert!(
            !text.ends_with('.'),
            "{input:?}: message {text:?} ends with a period"
        );
    }
}
