//! Server-sent events, as the HTML standard parses them (§9.2.6): lines end with CRLF, LF or
//! CR (also split across chunks), `:` starts a comment (keep-alives), `data:` lines of one
//! event are joined with `\n`, `event:` names it, a blank line dispatches it, a leading BOM is
//! skipped, bytes that are not UTF-8 become U+FFFD, and an event left unfinished at the end of
//! the stream is dropped. Written here
//! rather than taken from a crate: the ones that exist parse a `Stream` of their own and have
//! no bound on an event's size, which a client of a hostile server needs.

/// One event, borrowed from the parser while it is dispatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event<'a> {
    /// The `event:` field, `message` when there was none.
    pub(crate) name: &'a str,
    /// The `data:` lines, joined with `\n`, as sent: UTF-8 as the standard decodes it once
    /// [`text`](Self::text) is asked for.
    pub(crate) data: &'a [u8],
}

impl Event<'_> {
    /// The data as the standard decodes it: UTF-8, bytes that are not replaced by U+FFFD.
    pub(crate) fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.data)
    }
}

/// Why parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop<E> {
    /// An event (or a line) over the parser's limit, in bytes.
    TooLarge(usize),
    /// The dispatch of an event failed.
    Dispatch(E),
}

/// The parser: bytes in, events out. It copies only what an event keeps (its data and name,
/// into buffers it reuses) and a line left unfinished at the end of a chunk; each byte is
/// scanned once.
pub(crate) struct Parser {
    /// Bytes of a line not yet ended.
    pending: Vec<u8>,
    data: Vec<u8>,
    name: String,
    has_data: bool,
    /// The first line is still to come (it may start with a BOM).
    first: bool,
    /// The last chunk ended with a CR: an LF starting the next one belongs to it.
    after_cr: bool,
    max_event: usize,
}

impl Parser {
    /// A parser that refuses events (and lines) over `max_event` bytes.
    pub(crate) fn new(max_event: usize) -> Self {
        Self {
            pending: Vec::new(),
            data: Vec::new(),
            name: String::new(),
            has_data: false,
            first: true,
            after_cr: false,
            max_event,
        }
    }

    /// Parses `chunk`, handing each event it completes to `dispatch`. Parsing stops at the
    /// first error; the events before it were dispatched.
    pub(crate) fn push<E>(
        &mut self,
        chunk: &[u8],
        dispatch: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), Stop<E>> {
        if chunk.is_empty() {
            return Ok(());
        }
        let chunk = match (std::mem::take(&mut self.after_cr), chunk) {
            (true, [b'\n', rest @ ..]) => rest,
            _ => chunk,
        };
        let mut start = 0;
        while let Some(offset) = chunk
            .get(start..)
            .and_then(|rest| memchr::memchr2(b'\n', b'\r', rest))
        {
            let end = start + offset;
            let step = match (chunk.get(end), chunk.get(end + 1)) {
                (Some(b'\r'), Some(b'\n')) => 2,
                (Some(b'\r'), None) => {
                    // A CR at the end of what arrived: an LF may follow in the next chunk.
                    self.after_cr = true;
                    1
                }
                _ => 1,
            };
            let line = chunk.get(start..end).unwrap_or_default();
            if self.pending.is_empty() {
                // The common event, one `data:` line and a blank line both in this chunk, is
                // dispatched from the chunk itself, without a copy.
                if let Some(after) = self.single_data_line(chunk, line, end + step, dispatch)? {
                    start = after;
                    continue;
                }
                self.line(line, dispatch)?;
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                let result = self.line(&whole, dispatch);
                whole.clear();
                self.pending = whole;
                result?;
            }
            start = end + step;
        }
        let rest = chunk.get(start..).unwrap_or_default();
        if self.pending.len() + rest.len() > self.max_event {
            return Err(Stop::TooLarge(self.max_event));
        }
        self.pending.extend_from_slice(rest);
        Ok(())
    }

    /// When `line` is the only `data:` line of an event and a blank line starts at `next` in
    /// `chunk`, dispatches the event and returns where the line after the blank one starts.
    fn single_data_line<E>(
        &mut self,
        chunk: &[u8],
        line: &[u8],
        next: usize,
        dispatch: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<Option<usize>, Stop<E>> {
        if self.has_data || self.first {
            return Ok(None);
        }
        let Some(value) = line.strip_prefix(b"data:") else {
            return Ok(None);
        };
        let after = match chunk.get(next) {
            Some(b'\n') => next + 1,
            Some(b'\r') => match chunk.get(next + 1) {
                Some(b'\n') => next + 2,
                Some(_) => next + 1,
                // A CR ending the chunk: an LF starting the next one may belong to it.
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if value.len() > self.max_event {
            return Err(Stop::TooLarge(self.max_event));
        }
        let name = if self.name.is_empty() {
            "message"
        } else {
            &self.name
        };
        let result = dispatch(Event { name, data: value });
        self.name.clear();
        result.map_err(Stop::Dispatch)?;
        Ok(Some(after))
    }

    fn line<E>(
        &mut self,
        line: &[u8],
        dispatch: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), Stop<E>> {
        let line = if std::mem::take(&mut self.first) {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
        } else {
            line
        };
        if line.is_empty() {
            let result = if std::mem::take(&mut self.has_data) {
                if self.data.last() == Some(&b'\n') {
                    self.data.pop();
                }
                let name = if self.name.is_empty() {
                    "message"
                } else {
                    &self.name
                };
                dispatch(Event {
                    name,
                    data: &self.data,
                })
            } else {
                Ok(())
            };
            self.data.clear();
            self.name.clear();
            return result.map_err(Stop::Dispatch);
        }
        if line.first() == Some(&b':') {
            return Ok(());
        }
        // Bytes throughout: a line that is not UTF-8 is decoded (lossily) only where its text
        // is needed, which is the same text the standard's decoding first would give (a line
        // end is never part of a UTF-8 sequence).
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let (field, value) = line.split_at(colon);
                let value = value.get(1..).unwrap_or_default();
                (field, value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                // The event's data is what is kept, joined with `\n` (the last one dropped).
                if self.data.len() + value.len() > self.max_event {
                    return Err(Stop::TooLarge(self.max_event));
                }
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
                self.has_data = true;
            }
            b"event" => {
                if value.len() > self.max_event {
                    return Err(Stop::TooLarge(self.max_event));
                }
                self.name.clear();
                self.name.push_str(&String::from_utf8_lossy(value));
            }
            // `id` and `retry` are for reconnecting, which a chat answer never does.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::convert::Infallible;

    use super::{Parser, Stop};

    /// An event, owned.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Event {
        name: String,
        data: String,
    }

    type Problem = Stop<Infallible>;

    fn parse_with(parser: &mut Parser, chunks: &[&[u8]]) -> Result<Vec<Event>, Problem> {
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, &mut |event: super::Event<'_>| {
                out.push(Event {
                    name: event.name.to_owned(),
                    data: event.text().into_owned(),
                });
                Ok::<(), Infallible>(())
            })?;
        }
        Ok(out)
    }

    fn parse(chunks: &[&[u8]]) -> Result<Vec<Event>, Problem> {
        parse_with(&mut Parser::new(64), chunks)
    }

    fn message(data: &str) -> Event {
        Event {
            name: "message".into(),
            data: data.into(),
        }
    }

    #[test]
    fn line_endings_comments_and_multi_line_data() {
        let events =
            parse(&[b"\xEF\xBB\xBF: keep-alive\r\n\r\ndata: a\r\ndata:b\n\ndata: c\rdata: d\r\r"])
                .unwrap();
        assert_eq!(events, [message("a\nb"), message("c\nd")]);
    }

    #[test]
    fn events_split_anywhere_across_chunks() {
        let whole: &[u8] = b"event: delta\ndata: {\"x\": 1}\r\n\r\ndata: [DONE]\n\n";
        let expected = parse(&[whole]).unwrap();
        assert_eq!(expected.len(), 2);
        assert_eq!(expected[0].name, "delta");
        for at in 0..whole.len() {
            let (a, b) = whole.split_at(at);
            assert_eq!(parse(&[a, b]).unwrap(), expected, "split at {at}");
        }
        // A CR at the end of one chunk and its LF at the start of the next are one line end.
        assert_eq!(
            parse(&[b"data: x\r", b"\n\r", b"\n"]).unwrap(),
            [message("x")]
        );
    }

    #[test]
    fn fields_without_data_dispatch_nothing_and_an_unfinished_event_is_dropped() {
        assert_eq!(
            parse(&[b"event: ping\n\nid: 3\nretry: 10\n\n"]).unwrap(),
            []
        );
        assert_eq!(parse(&[b"data: unfinished\n"]).unwrap(), []);
        assert_eq!(parse(&[b"data\n\n"]).unwrap(), [message("")]);
    }

    #[test]
    fn limits_and_encoding() {
        let long = format!("data: {}\n\n", "x".repeat(100));
        assert_eq!(parse(&[long.as_bytes()]), Err(Stop::TooLarge(64)));
        // Exactly the limit is fine; a name over it is not, even inside one chunk.
        let exact = format!("data: {}\n\n", "x".repeat(64));
        assert_eq!(parse(&[exact.as_bytes()]).unwrap()[0].data.len(), 64);
        let name = format!("event: {}\ndata: x\n\n", "n".repeat(65));
        assert_eq!(parse(&[name.as_bytes()]), Err(Stop::TooLarge(64)));
        // A line that never ends is refused at the limit too.
        assert_eq!(parse(&[&[b'x'; 100]]), Err(Stop::TooLarge(64)));
        assert_eq!(parse(&[&[b'x'; 40], &[b'x'; 40]]), Err(Stop::TooLarge(64)));
        assert_eq!(parse(&[b"data: \xff\n\n"]).unwrap(), [message("\u{fffd}")]);
        // An empty chunk between a CR and its LF changes nothing.
        assert_eq!(
            parse(&[b"data: x\r", b"", b"\ndata: y\n\n"]).unwrap(),
            [message("x\ny")]
        );
        // A long line, a byte a chunk, is scanned once.
        let mut parser = Parser::new(1 << 20);
        let mut chunks: Vec<&[u8]> = vec![b"data: "];
        chunks.extend(std::iter::repeat_n(&b"x"[..], 100_000));
        chunks.push(b"\n\n");
        let events = parse_with(&mut parser, &chunks).unwrap();
        assert_eq!(events[0].data.len(), 100_000);
        // The event's buffers are reused, and named events stay named.
        let events = parse_with(&mut parser, &[b"event: a\ndata: 1\n\ndata: 2\n\n"]).unwrap();
        assert_eq!(
            events,
            [
                Event {
                    name: "a".into(),
                    data: "1".into()
                },
                message("2")
            ]
        );
    }

    /// The standard's algorithm on a whole stream, written plainly: decode, split into lines,
    /// process each.
    fn reference(stream: &[u8]) -> Vec<Event> {
        let text = String::from_utf8_lossy(stream);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    lines.push(std::mem::take(&mut line));
                }
                '\n' => lines.push(std::mem::take(&mut line)),
                c => line.push(c),
            }
        }
        let (mut events, mut data, mut name) = (Vec::new(), String::new(), String::new());
        let mut has_data = false;
        for line in lines {
            if line.is_empty() {
                if has_data {
                    let mut value = std::mem::take(&mut data);
                    value.pop();
                    events.push(Event {
                        name: if name.is_empty() {
                            "message".into()
                        } else {
                            name.clone()
                        },
                        data: value,
                    });
                }
                has_data = false;
                data.clear();
                name.clear();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line.as_str(), ""),
            };
            match field {
                "data" => {
                    data.push_str(value);
                    data.push('\n');
                    has_data = true;
                }
                "event" => name = value.to_owned(),
                _ => {}
            }
        }
        events
    }

    #[test]
    fn any_stream_split_anywhere_parses_as_the_standard_says() {
        const PIECES: [&[u8]; 16] = [
            b"data:",
            b"data: ",
            b"event: e",
            b"event:",
            b":c",
            b"id: 1",
            b"\r",
            b"\n",
            b"\r\n",
            b"x",
            b" ",
            b"\xc3\xa9",
            b"\xc3",
            b"\xff",
            b"\xEF\xBB\xBF",
            b"retry",
        ];
        // A fixed xorshift: the same cases on every run.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3_000 {
            let mut stream = Vec::new();
            for _ in 0..(next() % 40) {
                stream.extend_from_slice(PIECES[(next() % 16) as usize]);
            }
            let expected = reference(&stream);
            let mut chunks = Vec::new();
            let mut rest = stream.as_slice();
            while !rest.is_empty() {
                let (chunk, tail) = rest.split_at((next() as usize % 7).min(rest.len()));
                chunks.push(chunk);
                rest = tail;
            }
            let parsed = parse_with(&mut Parser::new(1 << 20), &chunks).unwrap();
            assert_eq!(
                parsed,
                expected,
                "{:?} in {chunks:?}",
                String::from_utf8_lossy(&stream)
            );
        }
    }
}
