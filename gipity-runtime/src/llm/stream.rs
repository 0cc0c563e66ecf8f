//! A streamed answer: [`ChatStream`], the events of `POST /services/llm` with `stream: true`.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use serde::Deserialize;

use super::Usage;
use crate::error::{Error, Result};
use crate::platform::http::BodyStream;
use crate::platform::{self, BoxFuture};
use crate::redact;
use crate::sse::{self, Parser, Stop};

/// The largest event accepted, in bytes: a delta is a few words, a final event a few hundred
/// bytes; a server that sends more is broken or hostile.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// One event of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChatEvent {
    /// More of the answer's text.
    Delta {
        /// The text, to append to what came before.
        text: String,
    },
    /// The end: always the last event of a stream that ended well, and only once.
    Done {
        /// Why the answer ended (`stop`, `length`, ...), when the server said.
        finish_reason: Option<String>,
        /// Tokens counted, when the server said.
        usage: Option<Usage>,
        /// The credits the answer cost, when the server said.
        credits_used: Option<u64>,
    },
}

/// A streamed answer, from [`Llm::stream`](super::Llm::stream): text deltas, then exactly one
/// [`ChatEvent::Done`]; or [`Error::Stream`], never a silently short answer: for a body that
/// ends before `data: [DONE]`, a malformed event, an error event, an event over
/// [`MAX_EVENT_BYTES`], an answer over the client's
/// [`max_response_bytes`](crate::ClientBuilder::max_response_bytes), a connection that
/// breaks, and a wait past the first-event or idle timeout. The deltas before the error are
/// handed out first. After the last item the stream yields `None`.
///
/// Read it with [`next`](Self::next), or as a [`futures_core::Stream`]. Dropping it aborts the
/// request.
pub struct ChatStream {
    state: State,
    rate_limit: Option<crate::RateLimit>,
}

/// A read: the reader back, the chunk (`None`: the wait ran out), and how long it waited.
type Read = (Box<Reader>, Option<Result<Option<bytes::Bytes>>>, Duration);

enum State {
    /// Between reads.
    Idle(Box<Reader>),
    /// Waiting for the next chunk.
    Reading(BoxFuture<'static, Read>),
    /// Over: `None` from now on.
    Over,
}

struct Reader {
    body: BodyStream,
    parser: Parser,
    events: Events,
    first: Option<web_time::Instant>,
    first_event: Duration,
    idle: Duration,
    /// Bytes received so far, and the most the client accepts.
    received: u64,
    max_bytes: u64,
}

impl ChatStream {
    pub(crate) fn new(
        body: BodyStream,
        first_event: Duration,
        idle: Duration,
        max_bytes: u64,
    ) -> Self {
        Self {
            rate_limit: body.rate_limit,
            state: State::Idle(Box::new(Reader {
                body,
                parser: Parser::new(MAX_EVENT_BYTES),
                events: Events::default(),
                first: web_time::Instant::now().checked_add(first_event),
                first_event,
                idle,
                received: 0,
                max_bytes,
            })),
        }
    }

    /// The rate limit the answer's head reports (its `RateLimit-*` headers), when it does.
    #[must_use]
    pub fn rate_limit(&self) -> Option<crate::RateLimit> {
        self.rate_limit
    }

    /// The next event, or `None` once the stream is over.
    pub async fn next(&mut self) -> Option<Result<ChatEvent>> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The whole text, read to the end: the deltas joined, and the final event.
    ///
    /// # Errors
    /// The first error of the stream.
    pub async fn text(mut self) -> Result<(String, ChatEvent)> {
        let mut text = String::new();
        while let Some(event) = self.next().await {
            match event? {
                ChatEvent::Delta { text: delta } => text.push_str(&delta),
                done @ ChatEvent::Done { .. } => return Ok((text, done)),
            }
        }
        Err(stream_error("the stream was already over"))
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ChatEvent>>> {
        // The common case first, in place: an event parsed already, not the last.
        if let State::Idle(reader) = &mut self.state
            && let Some(item) = reader.events.ready.pop_front()
        {
            if matches!(item, Err(_) | Ok(ChatEvent::Done { .. })) {
                self.state = State::Over;
            }
            return Poll::Ready(Some(item));
        }
        loop {
            match std::mem::replace(&mut self.state, State::Over) {
                State::Over => return Poll::Ready(None),
                State::Idle(mut reader) => {
                    if let Some(item) = reader.events.ready.pop_front() {
                        let last = matches!(item, Err(_) | Ok(ChatEvent::Done { .. }));
                        if !last {
                            self.state = State::Idle(reader);
                        }
                        return Poll::Ready(Some(item));
                    }
                    // The timeout that applies, and how long is left of it.
                    let (timeout, wait) = if reader.events.started {
                        (reader.idle, reader.idle)
                    } else {
                        let left = reader.first.map_or(Duration::MAX, |first| {
                            first.saturating_duration_since(web_time::Instant::now())
                        });
                        (reader.first_event, left)
                    };
                    self.state = State::Reading(Box::pin(async move {
                        let chunk = platform::timeout(wait, reader.body.next()).await;
                        (reader, chunk, timeout)
                    }));
                }
                State::Reading(mut read) => match read.as_mut().poll(cx) {
                    Poll::Pending => {
                        self.state = State::Reading(read);
                        return Poll::Pending;
                    }
                    Poll::Ready((mut reader, chunk, timeout)) => {
                        let item = match chunk {
                            None => Err(stream_error(if reader.events.started {
                                format!("no event for {timeout:?}")
                            } else {
                                format!("no first event within {timeout:?}")
                            })),
                            // The answer has started (and may be billed): not a transport error a
                            // caller would retry.
                            Some(Err(error)) => {
                                Err(stream_error(format!("reading it failed: {error}")))
                            }
                            Some(Ok(None)) => {
                                Err(stream_error("the stream ended before `data: [DONE]`"))
                            }
                            Some(Ok(Some(chunk))) => match reader.feed(&chunk) {
                                Ok(()) => {
                                    self.state = State::Idle(reader);
                                    continue;
                                }
                                Err(error) => Err(error),
                            },
                        };
                        // Whatever came before the error first.
                        reader.events.ready.push_back(item);
                        self.state = State::Idle(reader);
                    }
                },
            }
        }
    }
}

impl futures_core::Stream for ChatStream {
    type Item = Result<ChatEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx)
    }
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream").finish_non_exhaustive()
    }
}

fn stream_error(detail: impl Into<String>) -> Error {
    Error::Stream {
        detail: detail.into(),
    }
}

/// One chunk of a streamed answer, as far as it is read.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Choices,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    credits_used: Option<super::Credits>,
    /// An error in place of a chunk.
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
}

/// A chunk's choices: nearly always one, kept without a `Vec` (an allocation an event).
#[derive(Default)]
struct Choices {
    first: Option<ChunkChoice>,
    rest: Vec<ChunkChoice>,
}

impl<'de> Deserialize<'de> for Choices {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Choices;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of choices")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Choices, A::Error> {
                let first = seq.next_element()?;
                let mut rest = Vec::new();
                if first.is_some() {
                    while let Some(choice) = seq.next_element()? {
                        rest.push(choice);
                    }
                }
                Ok(Choices { first, rest })
            }
        }

        deserializer.deserialize_seq(Visitor)
    }
}

impl IntoIterator for Choices {
    type Item = ChunkChoice;
    type IntoIter =
        std::iter::Chain<std::option::IntoIter<ChunkChoice>, std::vec::IntoIter<ChunkChoice>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

/// What the events said so far.
#[derive(Default)]
struct Events {
    /// The items ready to hand out.
    ready: VecDeque<Result<ChatEvent>>,
    /// What the final chunk said (`finish_reason`, `usage`, `credits_used`).
    finish: Option<String>,
    usage: Option<Usage>,
    credits_used: Option<u64>,
    /// `data: [DONE]` arrived.
    done: bool,
    /// An event arrived: the wait for the next one is `idle`, not the first one's.
    started: bool,
}

impl Reader {
    /// Parses `chunk`; its events become items, and an error ends the stream (after the
    /// events that came before it).
    fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        if self.events.done {
            // After `[DONE]` nothing more is read; the stream is over.
            return Ok(());
        }
        self.received = self.received.saturating_add(chunk.len() as u64);
        if self.received > self.max_bytes {
            return Err(stream_error(format!(
                "the answer is over the client's limit of {} bytes",
                self.max_bytes
            )));
        }
        let events = &mut self.events;
        self.parser
            .push(chunk, &mut |event| events.event(event))
            .map_err(|stop| match stop {
                Stop::TooLarge(limit) => {
                    stream_error(format!("an event is over the limit of {limit} bytes"))
                }
                Stop::Dispatch(error) => error,
            })
    }
}

impl Events {
    /// One event: a chunk of the answer, `[DONE]`, or an error. Events after `[DONE]` are
    /// ignored.
    fn event(&mut self, event: sse::Event<'_>) -> Result<()> {
        if self.done {
            return Ok(());
        }
        self.started = true;
        if event.name == "error" {
            return Err(stream_error(format!(
                "the server sent an error event: {}",
                redact::excerpt(event.data)
            )));
        }
        if event.name != "message" {
            // Named events are for listeners of that name; a chat answer has none.
            return Ok(());
        }
        if event.data == b"[DONE]" {
            self.done = true;
            self.ready.push_back(Ok(ChatEvent::Done {
                finish_reason: self.finish.take(),
                usage: self.usage.take(),
                credits_used: self.credits_used.take(),
            }));
            return Ok(());
        }
        // serde_json checks the strings' UTF-8 as it reads them; data that is not UTF-8 is
        // read again as the standard decodes it, bad bytes replaced.
        let chunk = serde_json::from_slice::<Chunk>(event.data)
            .or_else(|error| match std::str::from_utf8(event.data) {
                Ok(_) => Err(error),
                Err(_) => serde_json::from_str(&event.text()),
            })
            .map_err(|_| {
                stream_error(format!(
                    "an event is not a chunk of the answer: {}",
                    redact::excerpt(event.data)
                ))
            })?;
        if chunk.error.is_some() {
            return Err(stream_error(format!(
                "the server sent an error: {}",
                redact::excerpt(event.data)
            )));
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        if let Some(credits) = chunk.credits_used {
            self.credits_used = Some(credits.0);
        }
        for choice in chunk.choices {
            if let Some(reason) = choice.finish_reason {
                self.finish = Some(reason);
            }
            if let Some(text) = choice.delta.and_then(|delta| delta.content)
                && !text.is_empty()
            {
                self.ready.push_back(Ok(ChatEvent::Delta { text }));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{ChatEvent, Events, Parser, Stop};

    /// The items `stream` gives, fed as one chunk.
    fn read(stream: &[u8]) -> (Vec<Result<ChatEvent, String>>, Result<(), String>) {
        let mut events = Events::default();
        let mut parser = Parser::new(1024);
        let result = parser
            .push(stream, &mut |event| events.event(event))
            .map_err(|stop| match stop {
                Stop::TooLarge(limit) => format!("too large: {limit}"),
                Stop::Dispatch(error) => error.to_string(),
            });
        let items = events
            .ready
            .into_iter()
            .map(|item| item.map_err(|error| error.to_string()))
            .collect();
        (items, result)
    }

    #[test]
    fn nothing_after_done_counts() {
        let (items, result) = read(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n\
              data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"credits_used\":2}\n\n\
              data: [DONE]\n\n\
              event: error\ndata: boom\n\ndata: {not json\n\ndata: [DONE]\n\n",
        );
        assert_eq!(result, Ok(()));
        assert_eq!(
            items,
            [
                Ok(ChatEvent::Delta { text: "hi".into() }),
                Ok(ChatEvent::Done {
                    finish_reason: Some("stop".into()),
                    usage: None,
                    credits_used: Some(2),
                }),
            ]
        );
    }

    #[test]
    fn an_error_event_or_chunk_ends_the_stream_after_what_came_before() {
        let (items, result) = read(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\nevent: error\ndata: x\n\n",
        );
        assert_eq!(items, [Ok(ChatEvent::Delta { text: "a".into() })]);
        assert!(result.unwrap_err().contains("error event"));
        let (_, result) = read(b"data: {\"error\": {\"message\": \"no\"}}\n\n");
        assert!(result.unwrap_err().contains("sent an error"));
        let (_, result) = read(b"data: {\"choices\": 5}\n\n");
        assert!(result.unwrap_err().contains("not a chunk"));
    }
}
