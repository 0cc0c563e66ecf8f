//! `application/x-www-form-urlencoded`: the pairs of a query, written and read as the URL
//! standard's serializer and parser do them (the same on both targets; the browser's `URL`
//! has no such helpers that work on a string).

/// `%XX`, uppercase, as URL serializers write it.
pub(crate) fn push_escaped(out: &mut String, byte: u8) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(DIGITS[usize::from(byte >> 4)]));
    out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
}

/// Appends `name=value` to a form-encoded query (`&` first unless it is empty).
pub(crate) fn append_pair(query: &mut String, name: &str, value: &str) {
    if !query.is_empty() {
        query.push('&');
    }
    encode(query, name);
    query.push('=');
    encode(query, value);
}

/// The form encoding of `text`: `[A-Za-z0-9*-._]` kept, a space as `+`, every other byte as
/// `%XX`.
fn encode(out: &mut String, text: &str) {
    for &byte in text.as_bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            byte => push_escaped(out, byte),
        }
    }
}

/// The value of one hexadecimal digit.
fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Whether the key of the form-encoded `pair` (`key=value`, or `key`) decodes to `name`
/// (`+` is a space; `%XX` a byte; a `%` not followed by two hexadecimal digits is itself).
pub(crate) fn key_is(pair: &str, name: &str) -> bool {
    let key = pair.split_once('=').map_or(pair, |(key, _)| key).as_bytes();
    let mut decoded = Vec::with_capacity(key.len());
    let mut index = 0;
    while let Some(&byte) = key.get(index) {
        let escaped = match key.get(index + 1..index + 3) {
            Some(&[high, low]) if byte == b'%' => hex(high).zip(hex(low)),
            _ => None,
        };
        if let Some((high, low)) = escaped {
            decoded.push(high << 4 | low);
            index += 3;
        } else {
            decoded.push(if byte == b'+' { b' ' } else { byte });
            index += 1;
        }
    }
    decoded == name.as_bytes()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use url::form_urlencoded;

    /// Keys and values that exercise every class of byte, checked against the `url` crate.
    const SAMPLES: [&str; 9] = [
        "",
        "mode",
        "a b",
        "x+y",
        "caf\u{e9}",
        "100%",
        "%zz%4",
        "a=b&c",
        "https://app.gipity.ai/acct/proj/?x=1#f",
    ];

    #[test]
    fn pairs_are_written_as_the_url_crate_writes_them() {
        for name in SAMPLES {
            for value in SAMPLES {
                let mut ours = String::from("k=v");
                super::append_pair(&mut ours, name, value);
                let mut theirs = String::from("k=v");
                form_urlencoded::Serializer::for_suffix(&mut theirs, 0).append_pair(name, value);
                assert_eq!(ours, theirs, "{name:?} = {value:?}");
                let mut first = String::new();
                super::append_pair(&mut first, name, value);
                assert!(!first.starts_with('&'));
            }
        }
    }

    #[test]
    fn keys_are_read_as_the_url_crate_reads_them() {
        let mut keys: Vec<String> = SAMPLES.iter().map(|s| (*s).to_owned()).collect();
        keys.extend(
            [
                "mod%65",
                "mode%3",
                "mo+de",
                "%6D%6f%64%65",
                "%+6d",
                "mode=1=2",
            ]
            .map(String::from),
        );
        for key in &keys {
            let parsed = form_urlencoded::parse(key.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned());
            for name in ["mode", "return", "mo de", "", "a b"] {
                let expected = parsed.as_deref().unwrap_or("") == name;
                assert_eq!(
                    super::key_is(key, name),
                    expected,
                    "{key:?} against {name:?}"
                );
            }
        }
    }
}
