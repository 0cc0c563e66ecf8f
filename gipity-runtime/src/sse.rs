//! Server-sent events, as the HTML standard parses them (§9.2.6): lines end with CRLF, LF or
//! CR (also split across chunks), `:` starts a comment (keep-alives), `data:` lines of one
//! event are joined with `\n`, `event:` names it, a blank line dispatches it, a leading BOM is
//! skipped, bytes that are not UTF-8 become U+FFFD, and an event left unfinished at the end of
//! the stream is dropped. Written here
//! rather than taken from a crate: the ones that exist parse a `Stream` of their own and have
//! no bound on an event's size, which a client of a hostile server needs.

use std::collections::VecDeque;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// The `event:` field, `message` when there was none.
    pub(crate) name: String,
    /// The `data:` lines, joined with `\n`.
    pub(crate) data: String,
}

/// Why a stream could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// An event (or a line) over the parser's limit, in bytes.
    TooLarge(usize),
}

/// The parser: bytes in, events out.
pub(crate) struct Parser {
    /// Bytes of a line not yet ended.
    pending: Vec<u8>,
    /// How far `pending` has been searched for a line end (each byte is looked at once).
    scanned: usize,
    data: String,
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
            scanned: 0,
            data: String::new(),
            name: String::new(),
            has_data: false,
            first: true,
            after_cr: false,
            max_event,
        }
    }

    /// Parses `chunk`, adding the events it completes to `out`. On an error the events
    /// completed before it are in `out` already.
    pub(crate) fn push(&mut self, chunk: &[u8], out: &mut VecDeque<Event>) -> Result<(), Problem> {
        if chunk.is_empty() {
            return Ok(());
        }
        let chunk = match (std::mem::take(&mut self.after_cr), chunk) {
            (true, [b'\n', rest @ ..]) => rest,
            _ => chunk,
        };
        self.pending.extend_from_slice(chunk);
        let pending = std::mem::take(&mut self.pending);
        let mut start = 0;
        let mut at = self.scanned;
        let result = loop {
            let Some(&byte) = pending.get(at) else {
                break Ok(());
            };
            let end = match byte {
                b'\n' => 1,
                b'\r' => match pending.get(at + 1) {
                    Some(b'\n') => 2,
                    Some(_) => 1,
                    // A CR at the end of what arrived: an LF may follow in the next chunk.
                    None => {
                        self.after_cr = true;
                        1
                    }
                },
                _ => {
                    at += 1;
                    continue;
                }
            };
            if let Err(problem) = self.line(pending.get(start..at).unwrap_or_default(), out) {
                break Err(problem);
            }
            at += end;
            start = at;
        };
        let mut pending = pending;
        pending.drain(..start.min(pending.len()));
        self.scanned = at.saturating_sub(start).min(pending.len());
        self.pending = pending;
        result?;
        if self.pending.len() > self.max_event {
            return Err(Problem::TooLarge(self.max_event));
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8], out: &mut VecDeque<Event>) -> Result<(), Problem> {
        // The standard decodes the stream as UTF-8 with replacement characters.
        let line = String::from_utf8_lossy(line);
        let line: &str = &line;
        let line = if std::mem::take(&mut self.first) {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        if line.is_empty() {
            if std::mem::take(&mut self.has_data) {
                let mut data = std::mem::take(&mut self.data);
                if data.ends_with('\n') {
                    data.pop();
                }
                let name = std::mem::take(&mut self.name);
                out.push_back(Event {
                    name: if name.is_empty() {
                        "message".to_owned()
                    } else {
                        name
                    },
                    data,
                });
            } else {
                self.data.clear();
                self.name.clear();
            }
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_event {
                    return Err(Problem::TooLarge(self.max_event));
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => value.clone_into(&mut self.name),
            // `id` and `retry` are for reconnecting, which a chat answer never does.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::collections::VecDeque;

    use super::{Event, Parser, Problem};

    fn parse(chunks: &[&[u8]]) -> Result<Vec<Event>, Problem> {
        let mut parser = Parser::new(64);
        let mut out = VecDeque::new();
        for chunk in chunks {
            parser.push(chunk, &mut out)?;
        }
        Ok(out.into_iter().collect())
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
        assert_eq!(parse(&[long.as_bytes()]), Err(Problem::TooLarge(64)));
        // A line that never ends is refused at the limit too.
        assert_eq!(parse(&[&[b'x'; 100]]), Err(Problem::TooLarge(64)));
        assert_eq!(parse(&[b"data: \xff\n\n"]).unwrap(), [message("\u{fffd}")]);
        // An empty chunk between a CR and its LF changes nothing.
        assert_eq!(
            parse(&[b"data: x\r", b"", b"\ndata: y\n\n"]).unwrap(),
            [message("x\ny")]
        );
        // A long line, a byte a chunk, is scanned once.
        let mut parser = Parser::new(1 << 20);
        let mut out = VecDeque::new();
        parser.push(b"data: ", &mut out).unwrap();
        for _ in 0..100_000 {
            parser.push(b"x", &mut out).unwrap();
        }
        parser.push(b"\n\n", &mut out).unwrap();
        assert_eq!(out[0].data.len(), 100_000);
    }
}
