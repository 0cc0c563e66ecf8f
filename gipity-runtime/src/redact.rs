//! Excerpts of response bodies for error messages, with secrets redacted.
//!
//! Total like the validators: no input makes it panic.

#![deny(
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

// Excerpt of an unexpected body
// ---------------------------------------------------------------------------------------------

/// Longest excerpt, in characters, `…` included.
const EXCERPT_CHARS: usize = 160;
/// Only this many bytes of a body are read for an excerpt.
const EXCERPT_SCAN_BYTES: usize = 16 * 1024;
/// A run of this many token characters is taken for a secret.
const SECRET_RUN: usize = 20;
const REDACTED: &str = "[redacted]";
/// Names whose values are redacted whatever their length (matched case-insensitively as
/// substrings, so `access_token`, `Set-Cookie`, `Authorization`, `apiKey` all count).
const SENSITIVE_NAMES: [&str; 10] = [
    "token",
    "session",
    "cookie",
    "key",
    "secret",
    "auth",
    "password",
    "passwd",
    "credential",
    "signature",
];

/// A short, secret-free excerpt of an unexpected response body, for error messages.
///
/// - An empty body gives `(empty body)`; a body of only whitespace and controls `(blank body)`.
/// - Only the first 16 KiB are read, decoded as lossy UTF-8.
/// - Control characters, whitespace and invisible formatting characters (zero-width, bidi
///   overrides, BOM) become spaces; runs of them collapse to one space; the ends are trimmed.
/// - Every run of 20 or more characters from `[A-Za-z0-9_\-.+/=~]` (tokens, JWTs, keys, cookie
///   values, also long paths) becomes `[redacted]`; so does a shorter run at the very end of a
///   body that was cut at 16 KiB, since it may be the start of a token.
/// - Values of `name=value`, `name: value`, `"name": "value"` and `name = value` pairs whose name
///   contains (case-insensitively) `token`, `session`, `cookie`, `key`, `secret`, `auth`,
///   `password`, `passwd`, `credential` or `signature` become `[redacted]` whatever their length
///   (a quoted value up to its closing quote; after `Bearer`/`Basic`, the word after it too).
///   The word after a standalone `Bearer` or `Basic` is redacted as well.
/// - The result has at most 160 characters: when longer (or when the body was cut at 16 KiB) it
///   is cut on a character boundary to at most 159 characters and `…` is appended.
pub(crate) fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty body)".to_owned();
    }
    let body_cut = body.len() > EXCERPT_SCAN_BYTES;
    let scanned = body.get(..EXCERPT_SCAN_BYTES).unwrap_or(body);
    let text = String::from_utf8_lossy(scanned);
    let tokens = tokenize(&text);
    let redacted = redact(&tokens, body_cut);
    if redacted.is_empty() {
        return "(blank body)".to_owned();
    }
    let chars = redacted.chars().count();
    if chars <= EXCERPT_CHARS && !body_cut {
        return redacted;
    }
    let mut cut: String = redacted
        .chars()
        .take(chars.min(EXCERPT_CHARS.saturating_sub(1)))
        .collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// A piece of a normalized body: a maximal run of token characters, or one other character
/// (a collapsed blank is `Other(' ')`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Run(String),
    Other(char),
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '/' | '=' | '~')
}

/// Characters shown as a space: controls, whitespace, and invisible formatting characters that
/// could hide or reorder text in a terminal or log (zero-width, bidi controls, BOM).
fn is_blank(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Splits normalized text into pieces, collapsing blanks to one `Other(' ')` and trimming both
/// ends.
fn tokenize(text: &str) -> Vec<Piece> {
    fn flush(run: &mut String, pieces: &mut Vec<Piece>) {
        if !run.is_empty() {
            pieces.push(Piece::Run(std::mem::take(run)));
        }
    }
    let mut pieces = Vec::new();
    let mut run = String::new();
    let mut blank_pending = false;
    for c in text.chars() {
        if is_blank(c) {
            blank_pending = true;
            continue;
        }
        if blank_pending {
            flush(&mut run, &mut pieces);
            if !pieces.is_empty() {
                pieces.push(Piece::Other(' '));
            }
            blank_pending = false;
        }
        if is_token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut pieces);
            pieces.push(Piece::Other(c));
        }
    }
    flush(&mut run, &mut pieces);
    pieces
}

fn is_sensitive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SENSITIVE_NAMES.iter().any(|word| lower.contains(word))
}

fn is_auth_scheme(word: &str) -> bool {
    word.eq_ignore_ascii_case("bearer") || word.eq_ignore_ascii_case("basic")
}

/// In a run like `session=abc` or `a=1+access_token=xyz`: the text before the first `=` whose
/// prefix names a secret, and the value after it. Linear in the run's length: the first such
/// `=` is the first one after the earliest end of a sensitive word.
fn sensitive_pair(run: &str) -> Option<(&str, &str)> {
    let lower = run.to_ascii_lowercase();
    let name_end = SENSITIVE_NAMES
        .iter()
        .filter_map(|word| lower.find(word).map(|at| at.saturating_add(word.len())))
        .min()?;
    let at = run
        .get(name_end..)?
        .find('=')
        .map(|offset| offset.saturating_add(name_end))?;
    Some((run.get(..at)?, run.get(at.saturating_add(1)..)?))
}

/// After a sensitive name ending at `at`: the index where its value starts, when a separator
/// follows (`"name": value`, `name: value`, `name = value`).
fn value_after_separator(pieces: &[Piece], at: usize) -> Option<usize> {
    let mut at = at;
    if matches!(pieces.get(at), Some(Piece::Other('"' | '\''))) {
        at = at.saturating_add(1);
    }
    if matches!(pieces.get(at), Some(Piece::Other(' '))) {
        at = at.saturating_add(1);
    }
    match pieces.get(at) {
        Some(Piece::Other(':')) => {}
        Some(Piece::Run(run)) if run == "=" => {}
        _ => return None,
    }
    at = at.saturating_add(1);
    if matches!(pieces.get(at), Some(Piece::Other(' '))) {
        at = at.saturating_add(1);
    }
    Some(at)
}

fn push_piece(piece: &Piece, out: &mut String) {
    match piece {
        Piece::Run(run) => out.push_str(run),
        Piece::Other(c) => out.push(*c),
    }
}

/// After `Bearer`/`Basic` ending at `at`: redacts the following word; returns where to go on.
fn redact_after_scheme(pieces: &[Piece], at: usize, out: &mut String) -> usize {
    match (pieces.get(at), pieces.get(at.saturating_add(1))) {
        (Some(Piece::Other(' ')), Some(Piece::Run(_))) => {
            out.push(' ');
            out.push_str(REDACTED);
            at.saturating_add(2)
        }
        _ => at,
    }
}

/// Redacts the value starting at `at` (a quoted string, or one word); returns where to go on.
fn redact_value(pieces: &[Piece], at: usize, out: &mut String) -> usize {
    match pieces.get(at) {
        Some(Piece::Other(quote @ ('"' | '\''))) => {
            out.push(*quote);
            out.push_str(REDACTED);
            let mut next = at.saturating_add(1);
            while let Some(piece) = pieces.get(next) {
                next = next.saturating_add(1);
                match piece {
                    Piece::Other('\\') => next = next.saturating_add(1),
                    Piece::Other(c) if c == quote => {
                        out.push(*quote);
                        return next;
                    }
                    _ => {}
                }
            }
            pieces.len()
        }
        Some(Piece::Run(word)) if is_auth_scheme(word) => {
            out.push_str(word);
            redact_after_scheme(pieces, at.saturating_add(1), out)
        }
        Some(Piece::Run(_)) => {
            out.push_str(REDACTED);
            at.saturating_add(1)
        }
        _ => at,
    }
}

/// Renders the pieces with secrets replaced by `[redacted]` (see [`excerpt`]).
fn redact(pieces: &[Piece], body_cut: bool) -> String {
    let mut out = String::new();
    let mut at = 0usize;
    while let Some(piece) = pieces.get(at) {
        at = at.saturating_add(1);
        let run = match piece {
            Piece::Other(c) => {
                out.push(*c);
                continue;
            }
            Piece::Run(run) => run,
        };
        // The last run of a cut body may be the start of a longer token.
        let long = run.chars().count() >= SECRET_RUN || (body_cut && at >= pieces.len());
        if let Some((name, value)) = sensitive_pair(run) {
            if long {
                out.push_str(REDACTED);
            } else {
                out.push_str(name);
                out.push('=');
                if !value.is_empty() {
                    out.push_str(REDACTED);
                }
            }
            if value.is_empty() {
                at = redact_value(pieces, at, &mut out);
            }
            continue;
        }
        out.push_str(if long { REDACTED } else { run });
        if is_auth_scheme(run) {
            at = redact_after_scheme(pieces, at, &mut out);
        } else if is_sensitive_name(run)
            && let Some(value_at) = value_after_separator(pieces, at)
        {
            for separator in pieces.get(at..value_at).unwrap_or_default() {
                push_piece(separator, &mut out);
            }
            at = redact_value(pieces, value_at, &mut out);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests;
