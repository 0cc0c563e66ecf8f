//! Names and secrets: the function name, the app GUID, credentials, the device secret.

use super::{Invalid, invalid, invalid_owned, quoted};

// Function name
// ---------------------------------------------------------------------------------------------

/// The remote function name (the file name under `functions/`, without `.js`), by the rule of
/// [`gipity_shared::check_function_name`] (which the macros apply at compile time). The caller
/// still percent-encodes the name as one path segment; this rule rejects hostile names early.
pub(crate) fn function_name(name: &str) -> Result<(), Invalid> {
    gipity_shared::check_function_name(name).map_err(|problem| match problem {
        gipity_shared::FunctionNameProblem::Empty => invalid("invalid function name: it is empty"),
        problem => invalid_owned(format!("invalid function name {}: {problem}", quoted(name))),
    })
}

// ---------------------------------------------------------------------------------------------

// App GUID
// ---------------------------------------------------------------------------------------------

/// The project ("app") GUID: `p_` followed by 1 to 64 characters, each an ASCII letter, digit,
/// `_` or `-`. The messages never quote the input: a credential passed here by mistake must not
/// end up in an error message.
pub(crate) fn app_guid(guid: &str) -> Result<(), Invalid> {
    let Some(rest) = guid.strip_prefix("p_") else {
        return Err(invalid("app GUID must start with 'p_'"));
    };
    if rest.is_empty() {
        return Err(invalid("app GUID has nothing after 'p_'"));
    }
    if rest.len() > 64 {
        return Err(invalid("app GUID has more than 64 characters after 'p_'"));
    }
    if !rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(invalid(
            "app GUID may contain only ASCII letters, digits, '_' and '-' after 'p_'",
        ));
    }
    Ok(())
}

/// Whether `s`, once surrounding whitespace is trimmed, is a valid app GUID (see [`app_guid`]).
/// Used to refuse a GUID given where a token or key belongs.
pub(crate) fn looks_like_app_guid(s: &str) -> bool {
    app_guid(s.trim()).is_ok()
}

// ---------------------------------------------------------------------------------------------

// Credentials
// ---------------------------------------------------------------------------------------------

/// A token or key (`kind` names it in messages, e.g. "app token", "api key"; start it with a
/// lowercase letter): non-empty; not an app GUID (see [`looks_like_app_guid`]); at most 8192
/// bytes; visible ASCII only (`!` to `~`, so a valid HTTP header value without spaces). A value
/// starting with `Bearer ` gets its own message (pass the bare token). The value never appears
/// in a message.
pub(crate) fn credential(kind: &'static str, value: &str) -> Result<(), Invalid> {
    if value.is_empty() {
        return Err(invalid_owned(format!("{kind} is empty")));
    }
    if looks_like_app_guid(value) {
        return Err(invalid_owned(format!(
            "{kind} looks like a project GUID; the GUID names the app and is not a credential"
        )));
    }
    if value.len() > 8192 {
        return Err(invalid_owned(format!("{kind} is longer than 8192 bytes")));
    }
    if value
        .get(..7)
        .is_some_and(|head| head.eq_ignore_ascii_case("bearer "))
    {
        return Err(invalid_owned(format!(
            "{kind} must be the bare token, without the 'Bearer ' prefix"
        )));
    }
    if !value.bytes().all(is_visible_ascii) {
        return Err(invalid_owned(format!(
            "{kind} may contain only visible ASCII characters (no spaces, control or non-ASCII characters)"
        )));
    }
    Ok(())
}

fn is_visible_ascii(b: u8) -> bool {
    (b'!'..=b'~').contains(&b)
}

// ---------------------------------------------------------------------------------------------

// Device secret
// ---------------------------------------------------------------------------------------------

/// The app-player device secret sent to `/auth/guest`: 32 to 256 characters (counted as
/// characters, not bytes), each visible ASCII (`!` to `~`), and not an app GUID. The secret never
/// appears in a message.
pub(crate) fn device_secret(secret: &str) -> Result<(), Invalid> {
    let chars = secret.chars().count();
    if chars < 32 {
        return Err(invalid("device secret is shorter than 32 characters"));
    }
    if chars > 256 {
        return Err(invalid("device secret is longer than 256 characters"));
    }
    if !secret.bytes().all(is_visible_ascii) {
        return Err(invalid(
            "device secret may contain only visible ASCII characters (no spaces, control or non-ASCII characters)",
        ));
    }
    if looks_like_app_guid(secret) {
        return Err(invalid(
            "device secret looks like a project GUID; the GUID names the app and is not a credential",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests;
