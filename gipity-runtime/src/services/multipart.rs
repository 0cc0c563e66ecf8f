//! `multipart/form-data` bodies (RFC 7578), as a browser's `FormData` sends them: text fields
//! and one file, each part between boundary lines.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{Error, Result};

/// A multipart body being written.
pub(crate) struct Form {
    boundary: String,
    body: BytesMut,
}

impl Form {
    /// An empty form whose boundary is unlike any of `contents` (the parts it will hold).
    pub(crate) fn new(contents: &[&[u8]]) -> Self {
        let boundary = loop {
            let boundary = format!(
                "gipity-{:016x}{:016x}",
                crate::platform::random_u64(),
                crate::platform::random_u64()
            );
            if !contents
                .iter()
                .any(|content| contains(content, boundary.as_bytes()))
            {
                break boundary;
            }
        };
        let size = contents.iter().map(|content| content.len()).sum::<usize>();
        Self {
            boundary,
            body: BytesMut::with_capacity(size + 512),
        }
    }

    /// Adds a text field.
    pub(crate) fn text(&mut self, name: &str, value: &str) {
        self.open(name);
        self.body.put_slice(b"\r\n\r\n");
        self.body.put_slice(value.as_bytes());
        self.body.put_slice(b"\r\n");
    }

    /// Adds a file.
    pub(crate) fn file(
        &mut self,
        name: &str,
        file_name: &str,
        media_type: &str,
        content: &[u8],
    ) -> Result<()> {
        if media_type.is_empty()
            || !media_type
                .bytes()
                .all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return Err(Error::InvalidRequest(
                "a media type is visible ASCII (`audio/mpeg`)".into(),
            ));
        }
        self.open(name);
        self.body.put_slice(b"; filename=\"");
        self.quoted(file_name);
        self.body.put_slice(b"\"\r\nContent-Type: ");
        self.body.put_slice(media_type.as_bytes());
        self.body.put_slice(b"\r\n\r\n");
        self.body.put_slice(content);
        self.body.put_slice(b"\r\n");
        Ok(())
    }

    /// The body, closed, and its `Content-Type`.
    pub(crate) fn finish(mut self) -> (Bytes, String) {
        self.body.put_slice(b"--");
        self.body.put_slice(self.boundary.as_bytes());
        self.body.put_slice(b"--\r\n");
        let content_type = format!("multipart/form-data; boundary={}", self.boundary);
        (self.body.freeze(), content_type)
    }

    fn open(&mut self, name: &str) {
        self.body.put_slice(b"--");
        self.body.put_slice(self.boundary.as_bytes());
        self.body
            .put_slice(b"\r\nContent-Disposition: form-data; name=\"");
        self.quoted(name);
        self.body.put_slice(b"\"");
    }

    /// A name inside quotes, escaped as the HTML standard's `FormData` does: `"` and line
    /// breaks percent-encoded.
    fn quoted(&mut self, value: &str) {
        for b in value.bytes() {
            match b {
                b'"' => self.body.put_slice(b"%22"),
                b'\r' => self.body.put_slice(b"%0D"),
                b'\n' => self.body.put_slice(b"%0A"),
                _ => self.body.put_u8(b),
            }
        }
    }
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, _)) = needle.split_first() else {
        return true;
    };
    // The boundary's first byte is rare in audio; compare only where it occurs.
    haystack
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == first)
        .any(|(at, _)| haystack[at..].starts_with(needle))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::Form;

    #[test]
    fn a_form_is_laid_out_as_rfc_7578_says() {
        let audio = b"RIFF\r\n--not-a-boundary\r\n";
        let mut form = Form::new(&[audio]);
        form.text("language", "en");
        form.file("audio", "a \"b\"\r\n.wav", "audio/wav", audio)
            .unwrap();
        let boundary = form.boundary.clone();
        let (body, content_type) = form.finish();
        assert_eq!(
            content_type,
            format!("multipart/form-data; boundary={boundary}")
        );
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"audio\"; \
             filename=\"a %22b%22%0D%0A.wav\"\r\nContent-Type: audio/wav\r\n\r\n\
             RIFF\r\n--not-a-boundary\r\n\r\n--{boundary}--\r\n"
        );
        assert_eq!(std::str::from_utf8(&body).unwrap(), expected);
    }

    #[test]
    fn a_media_type_with_a_line_break_is_refused() {
        let mut form = Form::new(&[]);
        assert!(form.file("audio", "a", "audio/wav\r\nX: y", b"").is_err());
        assert!(form.file("audio", "a", "", b"").is_err());
    }
}
