//! `multipart/form-data` request bodies (RFC 7578), as browsers' `FormData` and other clients
//! send them: the parts between boundary lines, each with its headers.

use axum::body::Bytes;

use crate::http::ApiError;

/// The most parts a form may have.
const MAX_PARTS: usize = 32;
/// The most bytes of one part's headers.
const MAX_PART_HEADERS: usize = 8 * 1024;

/// One part of a form.
#[derive(Debug)]
pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) file_name: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) data: Bytes,
}

impl Part {
    /// The part as text, when it is UTF-8.
    pub(crate) fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// The boundary of a `multipart/form-data` content type, or `None` for another type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|boundary| !boundary.is_empty() && boundary.len() <= 70)
    })
}

/// The parts of `body`, whose boundary is `boundary`.
pub(crate) fn parse(boundary: &str, body: &Bytes) -> Result<Vec<Part>, ApiError> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // The first boundary line: at the start, or after a preamble's line break.
    let mut line_start = Vec::with_capacity(delimiter.len() + 2);
    line_start.extend_from_slice(b"\r\n");
    line_start.extend_from_slice(delimiter);
    let mut at = if body.starts_with(delimiter) {
        0
    } else {
        find(body, &line_start, 0)
            .map(|at| at + 2)
            .ok_or_else(|| bad("the form has no part: its boundary never starts a line"))?
    };
    let mut parts = Vec::new();
    loop {
        at += delimiter.len();
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding, then the line break that ends the boundary line.
        let line_end =
            find(body, b"\r\n", at).ok_or_else(|| bad("the form ends inside a boundary line"))?;
        if body[at..line_end]
            .iter()
            .any(|b| !matches!(b, b' ' | b'\t'))
        {
            return Err(bad(
                "a boundary line of the form has text after the boundary",
            ));
        }
        let headers_start = line_end + 2;
        let window_end = body.len().min(headers_start + MAX_PART_HEADERS + 4);
        let headers_end = find(
            body.get(..window_end).unwrap_or_default(),
            b"\r\n\r\n",
            headers_start,
        )
        .ok_or_else(|| bad("a part of the form has no end to its headers (within 8 KiB)"))?;
        let content_start = headers_end + 4;
        let content_end = find(body, &line_start, content_start)
            .ok_or_else(|| bad("the form ends inside a part: its closing boundary is missing"))?;
        let headers = std::str::from_utf8(&body[headers_start..headers_end])
            .map_err(|_| bad("a part's headers are not UTF-8"))?;
        parts.push(part(headers, body.slice(content_start..content_end))?);
        if parts.len() > MAX_PARTS {
            return Err(bad(format!("the form has more than {MAX_PARTS} parts")));
        }
        at = content_end + 2;
    }
}

/// A part from its headers and content.
fn part(headers: &str, data: Bytes) -> Result<Part, ApiError> {
    let mut disposition = None;
    let mut content_type = None;
    for line in headers.split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("a part's header line has no `:`"))?;
        if name.trim().eq_ignore_ascii_case("content-disposition") {
            disposition = Some(value.trim());
        } else if name.trim().eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        }
    }
    let disposition =
        disposition.ok_or_else(|| bad("a part of the form has no Content-Disposition"))?;
    let mut params = params(disposition);
    match params.next() {
        Some((kind, None)) if kind.eq_ignore_ascii_case("form-data") => {}
        _ => return Err(bad("a part's Content-Disposition is not `form-data`")),
    }
    let (mut name, mut file_name) = (None, None);
    for (key, value) in params {
        match (key.to_ascii_lowercase().as_str(), value) {
            ("name", Some(value)) => name = Some(value),
            ("filename", Some(value)) => file_name = Some(value),
            _ => {}
        }
    }
    Ok(Part {
        name: name.ok_or_else(|| bad("a part of the form has no name"))?,
        file_name,
        content_type,
        data,
    })
}

/// The `;`-separated parameters of a header value, quoted values unquoted (a `;` inside
/// quotes is part of the value). Browsers percent-encode a quote in a name (`%22`) rather than
/// escape it, so a backslash is an ordinary character (`C:\a.wav`).
fn params(value: &str) -> impl Iterator<Item = (String, Option<String>)> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' if !quoted => items.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    items.push(current);
    items.into_iter().filter_map(|item| {
        let item = item.trim();
        if item.is_empty() {
            return None;
        }
        Some(match item.split_once('=') {
            Some((key, value)) => {
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                (key.trim().to_owned(), Some(value.to_owned()))
            }
            None => (item.to_owned(), None),
        })
    })
}

/// Where `needle` first occurs in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = from;
    while at + needle.len() <= haystack.len() {
        let offset = haystack[at..].iter().position(|&b| b == first)?;
        at += offset;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{boundary, parse};
    use axum::body::Bytes;

    #[test]
    fn boundaries() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;charset=utf-8; Boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("application/json"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn a_browser_form_is_read() {
        // As Chromium's FormData writes it.
        let body = Bytes::from_static(
            b"------WebKitFormBoundaryx\r\n\
              Content-Disposition: form-data; name=\"language\"\r\n\r\n\
              en\r\n\
              ------WebKitFormBoundaryx\r\n\
              Content-Disposition: form-data; name=\"audio\"; filename=\"a;b.wav\"\r\n\
              Content-Type: audio/wav\r\n\r\n\
              RIFF\r\n----WebKitFormBoundary\r\n\
              ------WebKitFormBoundaryx--\r\n",
        );
        let parts = parse("----WebKitFormBoundaryx", &body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "language");
        assert_eq!(parts[0].text(), Some("en"));
        assert_eq!(parts[1].file_name.as_deref(), Some("a;b.wav"));
        assert_eq!(parts[1].content_type.as_deref(), Some("audio/wav"));
        assert_eq!(&parts[1].data[..], b"RIFF\r\n----WebKitFormBoundary");
    }

    #[test]
    fn a_preamble_and_a_backslash_in_a_file_name() {
        let body = Bytes::from_static(
            b"preamble with --bx inside\r\n--b\r\n\
              Content-Disposition: form-data; name=\"audio\"; filename=\"C:\\a.wav\"\r\n\r\n\
              x\r\n--b--",
        );
        let parts = parse("b", &body).unwrap();
        assert_eq!(parts[0].file_name.as_deref(), Some("C:\\a.wav"));
        assert_eq!(&parts[0].data[..], b"x");
        // A boundary that does not start a line is not one: all of this is preamble.
        let body = Bytes::from_static(
            b"x--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--",
        );
        assert!(parse("b", &body).unwrap().is_empty());
    }

    #[test]
    fn broken_forms_are_refused() {
        for body in [
            &b"no boundary here"[..],
            b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue with no end",
            b"--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--",
            b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--",
            b"--b junk\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--",
            b"--b\r\nno colon\r\n\r\nx\r\n--b--",
        ] {
            let body = Bytes::copy_from_slice(body);
            assert!(parse("b", &body).is_err(), "{body:?}");
        }
    }
}
