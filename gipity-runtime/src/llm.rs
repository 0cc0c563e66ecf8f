//! The LLM service: [`Llm`] (from [`Client::llm`]), its request [`ChatRequest`] with the
//! documented limits checked before anything is sent, and its answers.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod stream;

pub use stream::{ChatEvent, ChatStream, MAX_EVENT_BYTES};

use crate::client::Client;
use crate::error::{Error, Result};

/// At most this many messages in one request.
pub const MAX_MESSAGES: usize = 20;
/// The longest `prompt`, in characters as the platform's JavaScript counts them (UTF-16
/// units: an emoji counts two).
pub const MAX_PROMPT_CHARS: usize = 32_000;
/// The largest image, in bytes (decoded): 5 MB.
pub const MAX_IMAGE_BYTES: usize = 5_000_000;
/// The most tokens an answer may be asked for.
pub const MAX_TOKENS: u32 = 4096;
/// The least time a whole answer ([`Llm::chat`]) is given by default.
pub const DEFAULT_CHAT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a streamed answer may take to start by default: for its head, and again for its
/// first event (a cold model start can take a minute).
pub const DEFAULT_FIRST_EVENT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a streamed answer may go quiet between events by default (a keep-alive comment
/// counts as something).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The LLM service of a client's app (`/api/<app>/services/llm`).
///
/// ```no_run
/// # async fn demo(client: gipity_runtime::Client) -> gipity_runtime::Result<()> {
/// use gipity_runtime::llm::{ChatRequest, Message, Tier};
///
/// let request = ChatRequest::new()
///     .message(Message::system("Answer in one sentence."))
///     .message(Message::user("What is a haiku?"))
///     .tier(Tier::Fast);
/// let answer = client.llm().chat(&request).await?;
/// println!("{} ({:?} credits)", answer.text(), answer.credits_used);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Llm<'c> {
    client: &'c Client,
    timeout: Option<Duration>,
    first_event: Duration,
    idle: Duration,
}

impl<'c> Llm<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self {
            client,
            timeout: None,
            first_event: DEFAULT_FIRST_EVENT_TIMEOUT,
            idle: DEFAULT_IDLE_TIMEOUT,
        }
    }

    /// How long [`chat`](Self::chat) may take in all. Default: the client's timeout, and at
    /// least [`DEFAULT_CHAT_TIMEOUT`] (a cold model start takes a minute, a long answer more).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long a streamed answer may take to start: for its head (sign-in and consent
    /// recovery included, the user's time with the auth handler excluded), and again for its
    /// first event. Default [`DEFAULT_FIRST_EVENT_TIMEOUT`].
    #[must_use]
    pub fn first_event_timeout(mut self, timeout: Duration) -> Self {
        self.first_event = timeout;
        self
    }

    /// How long a streamed answer may go quiet between two events (keep-alive comments
    /// count). Default [`DEFAULT_IDLE_TIMEOUT`].
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle = timeout;
        self
    }

    /// A streamed answer to `request` (`POST /services/llm` with `stream: true`). Sign-in and
    /// consent are recovered (the auth handler, one retry) before the stream starts; a
    /// request whose stream has started is never sent again.
    ///
    /// ```no_run
    /// # async fn demo(client: gipity_runtime::Client) -> gipity_runtime::Result<()> {
    /// use gipity_runtime::llm::{ChatEvent, ChatRequest};
    ///
    /// let mut stream = client.llm().stream(&ChatRequest::new().prompt("Tell a story")).await?;
    /// while let Some(event) = stream.next().await {
    ///     match event? {
    ///         ChatEvent::Delta { text } => print!("{text}"),
    ///         ChatEvent::Done { credits_used, .. } => println!("\n({credits_used:?} credits)"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`chat`](Self::chat) until the stream starts; then the stream's items carry the
    /// errors ([`ChatStream`]).
    pub async fn stream(&self, request: &ChatRequest) -> Result<ChatStream> {
        #[derive(Serialize)]
        struct Streamed<'a> {
            #[serde(flatten)]
            request: &'a ChatRequest,
            stream: bool,
        }
        request.check()?;
        let body = serde_json::to_vec(&Streamed {
            request,
            stream: true,
        })
        .map_err(Error::Encode)?;
        match self
            .client
            .service_open("llm", bytes::Bytes::from(body), self.first_event)
            .await?
        {
            crate::transport::Sent::Stream(body) => Ok(ChatStream::new(
                body,
                self.first_event,
                self.idle,
                self.client.max_response_bytes(),
            )),
            crate::transport::Sent::Reply(reply) => Err(Error::Decode {
                status: reply.status,
                detail: "a success that is not a stream".into(),
                excerpt: crate::redact::excerpt(&reply.body),
            }),
        }
    }

    /// One answer to `request` (`POST /services/llm`).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a request over a documented limit (nothing is sent); as
    /// [`Client::service`] otherwise: under `user_pays` an anonymous caller meets
    /// `LOGIN_REQUIRED` and a user without AI permission `CONSENT_REQUIRED`, which the auth
    /// handler answers; [`Error::InsufficientCredits`] when the payer is out of credits.
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatCompletion> {
        request.check()?;
        let timeout = self
            .timeout
            .unwrap_or_else(|| self.client.timeout().max(DEFAULT_CHAT_TIMEOUT));
        self.client.service_metered("llm", request, timeout).await
    }

    /// The models the app may use (`GET /services/llm/models`).
    ///
    /// # Errors
    /// As [`chat`](Self::chat).
    pub async fn models(&self) -> Result<Vec<Model>> {
        #[derive(Deserialize)]
        struct Models {
            models: Vec<Model>,
        }
        let models: Models = self.client.service_list("llm/models").await?;
        Ok(models.models)
    }
}

/// A model tier: the platform picks the concrete model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Tier {
    /// The smallest, cheapest model.
    Small,
    /// A fast model.
    Fast,
    /// A middle-sized model.
    Medium,
    /// The largest model.
    Large,
    /// A model that reasons before it answers.
    Thinking,
}

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: Content,
}

impl Message {
    /// A system message.
    #[must_use]
    pub fn system(text: impl Into<String>) -> Self {
        Self::text(Role::System, text)
    }

    /// A user message.
    #[must_use]
    pub fn user(text: impl Into<String>) -> Self {
        Self::text(Role::User, text)
    }

    /// An assistant message (an earlier answer).
    #[must_use]
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::text(Role::Assistant, text)
    }

    /// A message of `role` made of `parts` (text and images).
    #[must_use]
    pub fn parts(role: Role, parts: Vec<Part>) -> Self {
        Self {
            role,
            content: Content::Parts(parts),
        }
    }

    fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: Content::Text(text.into()),
        }
    }
}

/// What a message says: text, or parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Text and images.
    Parts(Vec<Part>),
}

/// One part of a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image as a `data:image/...;base64,...` URI (an external URL is refused).
    ImageUrl {
        /// `{"url": "data:image/png;base64,..."}`.
        image_url: ImageUrl,
    },
    /// An image as base64 data and its media type.
    Image(Image),
}

/// An image URL (a data URI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageUrl {
    /// `data:image/<type>;base64,<data>`.
    pub url: String,
}

/// An image: base64 `data` (or a data URI) and its `media_type` (`image/png`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Image {
    /// Base64 data, or a `data:` URI.
    pub data: String,
    /// `image/png`, `image/jpeg`, ...
    pub media_type: String,
}

/// A chat request. Build it with the methods; [`Llm::chat`] checks the documented limits
/// (at most 20 messages, a prompt of at most 32,000 characters, images of at most 5 MB given
/// as data, `temperature` 0 to 2, `max_tokens` 1 to 4096, a model that is not `default`)
/// before anything is sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChatRequest {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<Image>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
}

impl ChatRequest {
    /// An empty request: give it messages or a prompt.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a message.
    #[must_use]
    pub fn message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    /// A single prompt, instead of (or after) the messages.
    #[must_use]
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }

    /// An image for the prompt.
    #[must_use]
    pub fn image(mut self, data: impl Into<String>, media_type: impl Into<String>) -> Self {
        self.image = Some(Image {
            data: data.into(),
            media_type: media_type.into(),
        });
        self
    }

    /// A concrete model id (from [`Llm::models`]). Without a model or a tier the project's
    /// default model answers; there is no `default` alias.
    #[must_use]
    pub fn model(mut self, id: impl Into<String>) -> Self {
        self.model = Some(id.into());
        self
    }

    /// A model tier.
    #[must_use]
    pub fn tier(mut self, tier: Tier) -> Self {
        let name = match tier {
            Tier::Small => "small",
            Tier::Fast => "fast",
            Tier::Medium => "medium",
            Tier::Large => "large",
            Tier::Thinking => "thinking",
        };
        self.model = Some(name.to_owned());
        self
    }

    /// A system prompt, which overrides the system messages.
    #[must_use]
    pub fn system_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.system_prompt = Some(prompt.into());
        self
    }

    /// The sampling temperature, 0 to 2.
    #[must_use]
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// The most tokens in the answer, 1 to 4096.
    #[must_use]
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Checks the documented limits.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] saying which limit.
    pub fn check(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::InvalidRequest(Cow::Owned(message)));
        if self.messages.is_empty() && self.prompt.is_none() {
            return invalid("a chat request needs messages or a prompt".into());
        }
        if self.messages.len() > MAX_MESSAGES {
            return invalid(format!(
                "a chat request has at most {MAX_MESSAGES} messages, not {}",
                self.messages.len()
            ));
        }
        if let Some(prompt) = &self.prompt {
            let chars = prompt.encode_utf16().count();
            if chars > MAX_PROMPT_CHARS {
                return invalid(format!(
                    "the prompt is at most {MAX_PROMPT_CHARS} characters, not {chars}"
                ));
            }
        }
        for message in &self.messages {
            if let Content::Parts(parts) = &message.content {
                for part in parts {
                    match part {
                        Part::Text { .. } => {}
                        Part::ImageUrl { image_url } => check_image(&image_url.url, None)?,
                        Part::Image(image) => check_image(&image.data, Some(&image.media_type))?,
                    }
                }
            }
        }
        if let Some(image) = &self.image {
            check_image(&image.data, Some(&image.media_type))?;
        }
        if let Some(temperature) = self.temperature
            && !(0.0..=2.0).contains(&temperature)
        {
            return invalid(format!("the temperature is 0 to 2, not {temperature}"));
        }
        if let Some(max) = self.max_tokens
            && !(1..=MAX_TOKENS).contains(&max)
        {
            return invalid(format!("max_tokens is 1 to {MAX_TOKENS}, not {max}"));
        }
        match self.model.as_deref() {
            Some("default") => invalid(
                "there is no `default` model: leave the model out for the project's default".into(),
            ),
            Some(model) if model.trim().is_empty() => invalid("the model is empty".into()),
            _ => Ok(()),
        }
    }
}

/// An image's data (a data URI, or base64 with `media_type`): never an external URL, at most
/// [`MAX_IMAGE_BYTES`] once decoded.
fn check_image(data: &str, media_type: Option<&str>) -> Result<()> {
    let invalid = |message: &'static str| Err(Error::InvalidRequest(Cow::Borrowed(message)));
    let lower = data.get(..8).unwrap_or(data).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("//") {
        return invalid("an image is sent as data (a data URI or base64), not as a URL");
    }
    if data.is_empty() {
        return invalid("an image has data");
    }
    let base64 = match data.strip_prefix("data:") {
        Some(uri) => {
            let Some((kind, payload)) = uri.split_once(',') else {
                return invalid("an image data URI has a `,` before its data");
            };
            if !kind.starts_with("image/") {
                return invalid("an image data URI starts `data:image/`");
            }
            payload
        }
        None if media_type.is_none() => {
            return invalid("an image URL is a `data:image/...` URI");
        }
        None => data,
    };
    if let Some(media_type) = media_type
        && !media_type.starts_with("image/")
    {
        return invalid("an image's media type is `image/...`");
    }
    if base64.len() / 4 * 3 > MAX_IMAGE_BYTES {
        return invalid("an image is at most 5 MB");
    }
    Ok(())
}

/// One answer of the LLM service.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletion {
    /// The answer's id (`chatcmpl-...`).
    #[serde(default)]
    pub id: String,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// The answers (one, usually).
    pub choices: Vec<Choice>,
    /// Tokens counted, when the server says.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// The provider behind the model, when the server says.
    #[serde(default)]
    pub provider: Option<String>,
    /// The credits the answer cost, when the server says (a fraction is cut).
    #[serde(default, deserialize_with = "credits")]
    pub credits_used: Option<u64>,
    /// The rate limit the answer reports (its `RateLimit-*` headers), when it does.
    #[serde(skip)]
    pub rate_limit: Option<crate::RateLimit>,
}

/// Credits as the server writes them: a whole number, or a fraction (cut).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Credits(pub(crate) u64);

impl<'de> Deserialize<'de> for Credits {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let credits = f64::deserialize(deserializer)?;
        if credits.is_finite() && credits >= 0.0 {
            // `as` saturates; the value is finite and not negative.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(Self(credits as u64))
        } else {
            Err(serde::de::Error::custom("credits are a number, 0 or more"))
        }
    }
}

pub(crate) fn credits<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    Ok(Option::<Credits>::deserialize(deserializer)?.map(|credits| credits.0))
}

impl ChatCompletion {
    /// The text of the first choice (empty without one).
    #[must_use]
    pub fn text(&self) -> &str {
        self.choices
            .first()
            .map_or("", |choice| choice.message.content.as_str())
    }

    /// Why the first choice ended (`stop`, `length`, ...), when the server says.
    #[must_use]
    pub fn finish_reason(&self) -> Option<&str> {
        self.choices
            .first()
            .and_then(|choice| choice.finish_reason.as_deref())
    }
}

/// One answer among [`ChatCompletion::choices`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Choice {
    /// Its place among the choices.
    #[serde(default)]
    pub index: u32,
    /// What the model said.
    pub message: Answer,
    /// Why it ended.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// What the model said.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Answer {
    /// `assistant`.
    #[serde(default = "assistant")]
    pub role: Role,
    /// The text.
    #[serde(default)]
    pub content: String,
}

fn assistant() -> Role {
    Role::Assistant
}

/// Tokens counted for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// In the request.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// In the answer.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Both.
    #[serde(default)]
    pub total_tokens: u64,
}

/// A model the app may use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Model {
    /// The id to give [`ChatRequest::model`].
    pub id: String,
    /// Its tier, when the server says.
    #[serde(default)]
    pub tier: Option<String>,
    /// Its provider, when the server says.
    #[serde(default)]
    pub provider: Option<String>,
}
