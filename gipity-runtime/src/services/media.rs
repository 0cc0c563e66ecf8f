//! The requests and answers of the media and location services, each request checked before
//! it is sent.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::llm::credits;
use crate::rate_limit::RateLimit;

/// The largest audio file [`TranscribeRequest`] uploads: 100 MB.
pub const MAX_AUDIO_BYTES: usize = 100_000_000;

fn invalid(message: &'static str) -> Error {
    Error::InvalidRequest(Cow::Borrowed(message))
}

/// `Err` unless `text` holds something besides white space.
fn required(text: &str, message: &'static str) -> Result<()> {
    if text.trim().is_empty() {
        Err(invalid(message))
    } else {
        Ok(())
    }
}

/// `Err` unless `value`, when set, is a finite number within `range`.
fn within(
    value: Option<f64>,
    range: std::ops::RangeInclusive<f64>,
    message: &'static str,
) -> Result<()> {
    match value {
        Some(value) if !value.is_finite() || !range.contains(&value) => Err(invalid(message)),
        _ => Ok(()),
    }
}

/// A builder method that sets an optional text field of the same name.
macro_rules! text_setter {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, $name: impl Into<String>) -> Self {
            self.$name = Some($name.into());
            self
        }
    };
}

/// Speech from text (`POST /services/tts`).
///
/// ```
/// use gipity_runtime::services::TtsRequest;
///
/// let request = TtsRequest::new("Welcome!").provider("elevenlabs").voice("JBFqnCBsd6RMkjVDRZzb");
/// # let _ = request;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TtsRequest {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    voice_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    speakers: Vec<Speaker>,
}

/// One voice of a dialogue ([`TtsRequest::speaker`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Speaker {
    name: String,
    voice: String,
}

impl TtsRequest {
    /// Speech of `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            voice_id: None,
            provider: None,
            language: None,
            speakers: Vec::new(),
        }
    }

    /// The voice (an id from [`Services::voices`](super::Services::voices)); none = the
    /// provider's default.
    #[must_use]
    pub fn voice(mut self, voice_id: impl Into<String>) -> Self {
        self.voice_id = Some(voice_id.into());
        self
    }

    text_setter! {
        /// The provider: `elevenlabs` (the default), `openai` or `gemini`.
        provider
    }

    text_setter! {
        /// The language, as a BCP 47 tag (`ja-JP`; Gemini).
        language
    }

    /// A speaker of a dialogue whose text is written `Name: line` (Gemini, up to two).
    #[must_use]
    pub fn speaker(mut self, name: impl Into<String>, voice: impl Into<String>) -> Self {
        self.speakers.push(Speaker {
            name: name.into(),
            voice: voice.into(),
        });
        self
    }

    /// Checks the request as [`Services::tts`](super::Services::tts) does before sending.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty text.
    pub fn check(&self) -> Result<()> {
        required(&self.text, "speech needs a text")
    }
}

/// An image from a prompt (`POST /services/image`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageRequest {
    prompt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aspect_ratio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_size: Option<String>,
}

impl ImageRequest {
    /// An image of `prompt`.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            provider: None,
            size: None,
            quality: None,
            aspect_ratio: None,
            image_size: None,
        }
    }

    text_setter! {
        /// The provider: `bfl` (the default), `openai` or `gemini`.
        provider
    }

    text_setter! {
        /// The size in pixels (`1024x1024`; OpenAI).
        size
    }

    text_setter! {
        /// The quality (`low`, `medium`, `high`, `auto`; OpenAI).
        quality
    }

    text_setter! {
        /// The aspect ratio (`16:9`; Gemini).
        aspect_ratio
    }

    text_setter! {
        /// The size tier (`1K`, `2K`; Gemini).
        image_size
    }

    /// Checks the request as [`Services::image`](super::Services::image) does before sending.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty prompt.
    pub fn check(&self) -> Result<()> {
        required(&self.prompt, "an image needs a prompt")
    }
}

/// A sound effect from a description (`POST /services/sound`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoundRequest {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_influence: Option<f64>,
}

impl SoundRequest {
    /// A sound of `text` (`thunder rumbling in the distance`).
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            duration_seconds: None,
            prompt_influence: None,
        }
    }

    /// Its length in seconds (the platform takes about 0.5 to 22).
    #[must_use]
    pub fn duration_seconds(mut self, seconds: f64) -> Self {
        self.duration_seconds = Some(seconds);
        self
    }

    /// How closely it follows the text, 0 to 1.
    #[must_use]
    pub fn prompt_influence(mut self, influence: f64) -> Self {
        self.prompt_influence = Some(influence);
        self
    }

    /// Checks the request as [`Services::sound`](super::Services::sound) does before sending.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty text, a duration that is not a positive number
    /// or an influence outside 0..=1.
    pub fn check(&self) -> Result<()> {
        required(&self.text, "a sound needs a text")?;
        within(
            self.duration_seconds,
            f64::MIN_POSITIVE..=f64::MAX,
            "a sound's duration is a positive number of seconds",
        )?;
        within(
            self.prompt_influence,
            0.0..=1.0,
            "a sound's prompt influence is between 0 and 1",
        )
    }
}

/// Music from a prompt (`POST /services/music`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MusicRequest {
    prompt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instrumental: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lyrics: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
}

impl MusicRequest {
    /// Music of `prompt` (`upbeat lo-fi hip hop with piano`).
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            duration_seconds: None,
            instrumental: None,
            lyrics: None,
            model: None,
        }
    }

    /// Its length in seconds (the platform takes about 3 to 300).
    #[must_use]
    pub fn duration_seconds(mut self, seconds: f64) -> Self {
        self.duration_seconds = Some(seconds);
        self
    }

    /// Without vocals (conflicts with [`lyrics`](Self::lyrics)).
    #[must_use]
    pub fn instrumental(mut self, instrumental: bool) -> Self {
        self.instrumental = Some(instrumental);
        self
    }

    text_setter! {
        /// The words to sing (conflicts with [`instrumental(true)`](Self::instrumental)).
        lyrics
    }

    text_setter! {
        /// The model (an id from [`Services::music_models`](super::Services::music_models)).
        model
    }

    /// Checks the request as [`Services::music`](super::Services::music) does before sending.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty prompt, a duration that is not a positive
    /// number, or lyrics for instrumental music.
    pub fn check(&self) -> Result<()> {
        required(&self.prompt, "music needs a prompt")?;
        within(
            self.duration_seconds,
            f64::MIN_POSITIVE..=f64::MAX,
            "music's duration is a positive number of seconds",
        )?;
        if self.instrumental == Some(true) && self.lyrics.as_deref().is_some_and(|l| !l.is_empty())
        {
            return Err(invalid("lyrics conflict with instrumental music"));
        }
        Ok(())
    }
}

/// A video from a prompt (`POST /services/video`); the platform takes 30 to 120 s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoRequest {
    prompt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aspect_ratio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolution: Option<String>,
}

impl VideoRequest {
    /// A video of `prompt`.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            model: None,
            aspect_ratio: None,
            resolution: None,
        }
    }

    text_setter! {
        /// The model (`veo-3.1-fast-generate-preview`).
        model
    }

    text_setter! {
        /// The aspect ratio (`16:9`, `9:16`, `1:1`).
        aspect_ratio
    }

    text_setter! {
        /// The resolution (`720p`, `1080p`, `4k`).
        resolution
    }

    /// Checks the request as [`Services::video`](super::Services::video) does before sending.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty prompt.
    pub fn check(&self) -> Result<()> {
        required(&self.prompt, "a video needs a prompt")
    }
}

/// Text from recorded speech (`POST /services/transcribe`, a multipart upload).
///
/// ```
/// use gipity_runtime::services::TranscribeRequest;
///
/// let recording: Vec<u8> = std::fs::read("memo.mp3").unwrap_or_default();
/// let request = TranscribeRequest::new(recording, "audio/mpeg").file_name("memo.mp3").diarize(true);
/// # let _ = request;
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TranscribeRequest {
    pub(crate) audio: bytes::Bytes,
    pub(crate) media_type: String,
    pub(crate) file_name: String,
    pub(crate) provider: Option<String>,
    pub(crate) diarize: Option<bool>,
    pub(crate) language: Option<String>,
}

impl std::fmt::Debug for TranscribeRequest {
    /// The audio's length, not its bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscribeRequest")
            .field("audio_bytes", &self.audio.len())
            .field("media_type", &self.media_type)
            .field("file_name", &self.file_name)
            .field("provider", &self.provider)
            .field("diarize", &self.diarize)
            .field("language", &self.language)
            .finish()
    }
}

impl TranscribeRequest {
    /// The speech in `audio`, of type `media_type` (`audio/mpeg`, `audio/wav`, ...).
    pub fn new(audio: impl Into<bytes::Bytes>, media_type: impl Into<String>) -> Self {
        Self {
            audio: audio.into(),
            media_type: media_type.into(),
            file_name: "audio".to_owned(),
            provider: None,
            diarize: None,
            language: None,
        }
    }

    /// The file name the upload carries (`audio` by default).
    #[must_use]
    pub fn file_name(mut self, file_name: impl Into<String>) -> Self {
        self.file_name = file_name.into();
        self
    }

    text_setter! {
        /// The provider: `elevenlabs` or `openai`.
        provider
    }

    /// Whether words are labelled with their speaker.
    #[must_use]
    pub fn diarize(mut self, diarize: bool) -> Self {
        self.diarize = Some(diarize);
        self
    }

    text_setter! {
        /// The spoken language (`en`); none = detected.
        language
    }

    /// Checks the request as [`Services::transcribe`](super::Services::transcribe) does before
    /// sending.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for no audio, audio over [`MAX_AUDIO_BYTES`], or a media type
    /// that is not `type/subtype`.
    pub fn check(&self) -> Result<()> {
        if self.audio.is_empty() {
            return Err(invalid("a transcription needs audio"));
        }
        if self.audio.len() > MAX_AUDIO_BYTES {
            return Err(invalid("the audio is over 100 MB"));
        }
        let valid_type = self.media_type.split_once('/').is_some_and(|(kind, sub)| {
            !kind.is_empty()
                && !sub.is_empty()
                && self
                    .media_type
                    .bytes()
                    .all(|b| b.is_ascii_graphic() || b == b' ')
        });
        if !valid_type {
            return Err(invalid("a media type is `type/subtype` (`audio/mpeg`)"));
        }
        Ok(())
    }
}

/// A rendered file: speech, an image, a sound, music or a video. Its URL is public and needs
/// no credentials to fetch.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct MediaFile {
    /// Where the file is (`https://media.gipity.ai/...`).
    pub url: String,
    /// Its length in seconds, when the server says (sound and music answer it, as Gipity's
    /// agent guide shows them: `GIPITY-SKILLS.md` of `GipityAI/cli`).
    #[serde(default)]
    pub duration_seconds: Option<f64>,
    /// The model that made it, when the server says.
    #[serde(default)]
    pub model: Option<String>,
    /// The credits it cost, when the server says (a fraction is cut).
    #[serde(default, deserialize_with = "credits")]
    pub credits_used: Option<u64>,
    /// The rate limit the answer reports, when it does.
    #[serde(skip)]
    pub rate_limit: Option<RateLimit>,
}

/// What a recording says.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Transcript {
    /// The text.
    pub text: String,
    /// The words with their timing (and speaker, when diarized), as the provider gives them:
    /// their fields are not documented.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub words: Vec<serde_json::Value>,
    /// The spoken language, when the server says.
    #[serde(default)]
    pub language: Option<String>,
    /// The recording's length in seconds, when the server says.
    #[serde(default)]
    pub duration_seconds: Option<f64>,
    /// The credits it cost, when the server says (a fraction is cut).
    #[serde(default, deserialize_with = "credits")]
    pub credits_used: Option<u64>,
    /// The rate limit the answer reports, when it does.
    #[serde(skip)]
    pub rate_limit: Option<RateLimit>,
}

/// A list that may be sent as `null`: empty.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<serde_json::Value>, D::Error> {
    Ok(Option::<Vec<serde_json::Value>>::deserialize(deserializer)?.unwrap_or_default())
}

/// A place, as the location services answer it. Its fields are not documented, so they are
/// kept as sent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// Every field of the answer but `credits_used`.
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The credits it cost, when the server says (a fraction is cut).
    #[serde(default, deserialize_with = "credits")]
    pub credits_used: Option<u64>,
    /// The rate limit the answer reports, when it does.
    #[serde(skip)]
    pub rate_limit: Option<RateLimit>,
}

impl Location {
    /// Field `name`, as text, when it is text.
    #[must_use]
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(serde_json::Value::as_str)
    }
}

/// A voice of the speech service.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Voice {
    /// The id to give [`TtsRequest::voice`].
    #[serde(alias = "voice_id")]
    pub id: String,
    /// Its name, when the server says.
    #[serde(default)]
    pub name: Option<String>,
    /// Its language, when the server says.
    #[serde(default)]
    pub language: Option<String>,
    /// Its provider, when the server says.
    #[serde(default)]
    pub provider: Option<String>,
}

/// The models of a media service, and its default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct MediaModels {
    /// The models.
    pub models: Vec<MediaModel>,
    /// The one used when a request names none, when the server says.
    #[serde(default)]
    pub default_model: Option<String>,
}

/// A model of a media service.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct MediaModel {
    /// The id to give the request's `model`.
    pub id: String,
    /// Its name, when the server says.
    #[serde(default)]
    pub name: Option<String>,
    /// Its provider, when the server says.
    #[serde(default)]
    pub provider: Option<String>,
}

/// The answers that carry the rate limit their reply reports.
pub(crate) trait Metered {
    fn set_rate_limit(&mut self, rate_limit: Option<RateLimit>);
}

macro_rules! metered {
    ($($answer:ty),*) => {$(
        impl Metered for $answer {
            fn set_rate_limit(&mut self, rate_limit: Option<RateLimit>) {
                self.rate_limit = rate_limit;
            }
        }
    )*};
}

metered!(MediaFile, Transcript, Location, crate::llm::ChatCompletion);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn requests_are_checked() {
        assert!(TtsRequest::new(" ").check().is_err());
        assert!(TtsRequest::new("hi").speaker("A", "v1").check().is_ok());
        assert!(ImageRequest::new("").check().is_err());
        assert!(VideoRequest::new("\n").check().is_err());
        assert!(
            SoundRequest::new("boom")
                .duration_seconds(0.0)
                .check()
                .is_err()
        );
        assert!(
            SoundRequest::new("boom")
                .duration_seconds(f64::NAN)
                .check()
                .is_err()
        );
        assert!(
            SoundRequest::new("boom")
                .prompt_influence(1.5)
                .check()
                .is_err()
        );
        assert!(
            SoundRequest::new("boom")
                .duration_seconds(2.5)
                .prompt_influence(1.0)
                .check()
                .is_ok()
        );
        let conflict = MusicRequest::new("song").instrumental(true).lyrics("la");
        assert!(conflict.check().is_err());
        assert!(
            MusicRequest::new("song")
                .instrumental(false)
                .lyrics("la")
                .check()
                .is_ok()
        );
        assert!(
            MusicRequest::new("song")
                .duration_seconds(f64::INFINITY)
                .check()
                .is_err()
        );
        assert!(
            TranscribeRequest::new(Vec::new(), "audio/wav")
                .check()
                .is_err()
        );
        assert!(TranscribeRequest::new(vec![1], "wav").check().is_err());
        assert!(
            TranscribeRequest::new(vec![1], "audio/wav\n")
                .check()
                .is_err()
        );
        assert!(TranscribeRequest::new(vec![1], "audio/wav").check().is_ok());
    }

    #[test]
    fn requests_send_only_what_was_set() {
        let request = TtsRequest::new("hi")
            .provider("gemini")
            .speaker("Ann", "Kore");
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({"text": "hi", "provider": "gemini",
                               "speakers": [{"name": "Ann", "voice": "Kore"}]})
        );
        assert_eq!(
            serde_json::to_value(MusicRequest::new("song").instrumental(true)).unwrap(),
            serde_json::json!({"prompt": "song", "instrumental": true})
        );
    }

    #[test]
    fn the_audio_is_not_in_debug() {
        let debug = format!(
            "{:?}",
            TranscribeRequest::new(&b"SPOKEN SECRET"[..], "audio/wav")
        );
        assert!(debug.contains("audio_bytes: 13"), "{debug}");
        assert!(
            !debug.contains("SPOKEN") && !debug.contains("83, 80"),
            "{debug}"
        );
    }

    #[test]
    fn empty_lyrics_are_no_lyrics_and_null_words_are_none() {
        assert!(
            MusicRequest::new("x")
                .instrumental(true)
                .lyrics("")
                .check()
                .is_ok()
        );
        let transcript: Transcript =
            serde_json::from_value(serde_json::json!({"text": "hi", "words": null})).unwrap();
        assert!(transcript.words.is_empty());
    }
}
