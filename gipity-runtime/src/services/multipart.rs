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
    /// An empty form whose boundary (two random 64-bit values) occurs in none of `contents`: every
    /// value and file the form will hold.
    pub(crate) fn new(contents: &[&[u8]]) -> Self {
        Self::with_random(contents, crate::platform::random_u64)
    }

    /// As [`new`](Self::new), with the boundary's bits from `random`.
    fn with_random(contents: &[&[u8]], mut random: impl FnMut() -> u64) -> Self {
        let boundary = loop {
            let boundary = format!("gipity-{:016x}{:016x}", random(), random());
            let finder = memchr::memmem::Finder::new(boundary.as_bytes());
            if !contents
                .iter()
                .any(|content| finder.find(content).is_some())
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
    fn a_boundary_found_in_the_contents_is_drawn_again() {
        let taken = b"...gipity-00000000000000010000000000000002...";
        let mut bits = [1, 2, 3, 4].into_iter();
        let form = Form::with_random(&[b"x", taken], || bits.next().unwrap());
        assert_eq!(form.boundary, "gipity-00000000000000030000000000000004");
    }

    #[test]
    fn a_media_type_with_a_line_break_is_refused() {
        let mut form = Form::new(&[]);
        assert!(form.file("audio", "a", "audio/wav\r\nX: y", b"").is_err());
        assert!(form.file("audio", "a", "", b"").is_err());
    }
}
