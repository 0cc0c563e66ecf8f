//! App services (`/api/<app>/services/<name>`): a generic typed call for any of them
//! ([`Client::service`], [`Client::service_list`]), typed calls of the media and location
//! services ([`Services`], from [`Client::services`]) and of the LLM service
//! ([`Llm`], from [`Client::llm`]).
//!
//! Services go through the same credentials, token cache and login/consent recovery as
//! functions, with two differences the protocol makes: every call carries the app token (a
//! service is never callable without one), and a POST answer is not wrapped in `data` (a GET
//! list is). Each typed answer carries the rate limit its reply reports ([`RateLimit`](crate::RateLimit)).
//!
//! ```no_run
//! # async fn demo(client: gipity_runtime::Client) -> gipity_runtime::Result<()> {
//! use gipity_runtime::services::{ImageRequest, TtsRequest};
//!
//! let speech = client.services().tts(&TtsRequest::new("Welcome!")).await?;
//! let image = client
//!     .services()
//!     .image(&ImageRequest::new("A cat in a top hat").size("1024x1024"))
//!     .await?;
//! println!("{} {} ({:?} left)", speech.url, image.url, image.rate_limit.and_then(|r| r.remaining));
//! # Ok(()) }
//! ```

use std::net::IpAddr;
use std::time::Duration;

use crate::Url;
use http::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::Permissions;
use crate::client::Client;
use crate::credentials::Attach;
use crate::error::{Error, Result};
use crate::llm::Llm;
use crate::recovery::Exchange;
use crate::transport::{Deadline, Request, Sent};
use crate::wire::{self, Reply};

mod media;
mod multipart;

pub use media::{
    ImageRequest, Location, MAX_AUDIO_BYTES, MediaFile, MediaModel, MediaModels, MusicRequest,
    SoundRequest, TranscribeRequest, Transcript, TtsRequest, VideoRequest, Voice,
};

use media::Metered;

/// The default timeout of a media service call (`tts`, `image`, `music`, ...): the platform
/// lets them run up to 300 s. The LLM service and the location services use the client's.
pub const DEFAULT_MEDIA_TIMEOUT: Duration = Duration::from_secs(300);

/// The longest service name, in characters.
const MAX_SERVICE_NAME: usize = 64;

/// The services that render media, whose calls get [`DEFAULT_MEDIA_TIMEOUT`].
const MEDIA: [&str; 6] = ["tts", "image", "sound", "music", "transcribe", "video"];

/// A body to send: its bytes, and its type when it is not JSON.
struct Body {
    bytes: bytes::Bytes,
    content_type: Option<HeaderValue>,
}

impl Body {
    fn json<B: Serialize + ?Sized>(body: &B) -> Result<Self> {
        Ok(Self {
            bytes: bytes::Bytes::from(serde_json::to_vec(body).map_err(Error::Encode)?),
            content_type: None,
        })
    }
}

impl Client {
    /// Calls app service `name` (`"tts"`, `"image"`, `"location/geocode"`, ...) with `body`
    /// (`POST /api/<app>/services/<name>`) and decodes its answer, which the platform does not
    /// wrap in `data`. The call carries the app token and the client's credential; a service
    /// the app bills to its users (`user_pays`) meets the same login and consent challenges as
    /// a function, and the auth handler answers them (IDENTITY | AI).
    ///
    /// # Errors
    /// As [`call`](Self::call), and [`Error::InsufficientCredits`] when the payer has too few
    /// credits. A name that is not one or two lowercase segments fails before sending.
    pub async fn service<T, B>(&self, name: &str, body: &B) -> Result<T>
    where
        T: DeserializeOwned,
        B: Serialize + ?Sized,
    {
        let reply = self
            .service_post(name, Body::json(body)?, self.service_timeout(name))
            .await?;
        wire::decode(&reply)
    }

    /// The default timeout of service `name`: [`DEFAULT_MEDIA_TIMEOUT`] (or the client's, when
    /// longer) for a media service, the client's for any other.
    fn service_timeout(&self, name: &str) -> Duration {
        if MEDIA.contains(&name.split('/').next().unwrap_or(name)) {
            DEFAULT_MEDIA_TIMEOUT.max(self.timeout())
        } else {
            self.timeout()
        }
    }

    /// [`service`](Self::service) within `timeout`, for an answer that carries its reply's
    /// rate limit.
    pub(crate) async fn service_metered<T, B>(
        &self,
        name: &str,
        body: &B,
        timeout: Duration,
    ) -> Result<T>
    where
        T: DeserializeOwned + Metered,
        B: Serialize + ?Sized,
    {
        let reply = self.service_post(name, Body::json(body)?, timeout).await?;
        metered(&reply)
    }

    /// A `POST` of `body` to service `name`.
    async fn service_post(&self, name: &str, body: Body, timeout: Duration) -> Result<Reply> {
        let url = self.service_url(name, &[])?;
        self.service_exchange(name, http::Method::POST, &url, Some(body), timeout)
            .await
    }

    /// Reads a service's list (`GET /api/<app>/services/<path>`: `"llm/models"`,
    /// `"tts/voices"`, `"music/models"`), whose answer the platform wraps in `data`; this
    /// returns what is inside.
    ///
    /// # Errors
    /// As [`service`](Self::service).
    pub async fn service_list<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.service_list_with(path, &[]).await
    }

    /// [`service_list`](Self::service_list) with a query (`?provider=openai`).
    async fn service_list_with<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        let url = self.service_url(path, query)?;
        let reply = self
            .service_exchange(path, http::Method::GET, &url, None, self.timeout())
            .await?;
        let data: wire::Data<T> = wire::decode(&reply)?;
        Ok(data.data)
    }

    /// The LLM service (`/api/<app>/services/llm`): chat, models.
    #[must_use]
    pub fn llm(&self) -> Llm<'_> {
        Llm::new(self)
    }

    /// The media and location services: speech, images, sounds, music, transcription, video,
    /// places.
    #[must_use]
    pub fn services(&self) -> Services<'_> {
        Services {
            client: self,
            timeout: None,
        }
    }

    /// `<base>/api/<app>/services/<name>?<query>`, for a checked name.
    fn service_url(&self, name: &str, query: &[(&str, &str)]) -> Result<Url> {
        check_service_name(name)?;
        let mut url = self.services_base().clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(name.split('/'));
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// One service request through the client's recovery.
    async fn service_exchange(
        &self,
        name: &str,
        method: http::Method,
        url: &Url,
        body: Option<Body>,
        timeout: Duration,
    ) -> Result<Reply> {
        match self
            .service_send(name, method, url, body, timeout, false)
            .await?
        {
            Sent::Reply(reply) => Ok(reply),
            Sent::Stream(_) => Err(Error::InvalidRequest(
                "a stream came back where none was asked for".into(),
            )),
        }
    }

    /// A `POST` to service `name` whose success is a stream; `head` bounds the wait for the
    /// answer's head (auth recovery included, the user's time with the handler excluded).
    pub(crate) async fn service_open(
        &self,
        name: &str,
        body: bytes::Bytes,
        head: Duration,
    ) -> Result<Sent> {
        let url = self.service_url(name, &[])?;
        let body = Body {
            bytes: body,
            content_type: None,
        };
        self.service_send(name, http::Method::POST, &url, Some(body), head, true)
            .await
    }

    async fn service_send(
        &self,
        name: &str,
        method: http::Method,
        url: &Url,
        body: Option<Body>,
        timeout: Duration,
        stream: bool,
    ) -> Result<Sent> {
        let (body, content_type) = match body {
            Some(body) => (Some(body.bytes), body.content_type),
            None => (None, None),
        };
        let request_id = crate::options::generated_request_id();
        let service = name.split('/').next().unwrap_or(name);
        let exchange = Exchange {
            request: Request {
                method,
                url,
                body,
                timeout,
                request_id: Some(&request_id),
                content_type: content_type.as_ref(),
                metered: true,
            },
            attach: Attach::Service,
            permissions: Permissions::IDENTITY | Permissions::AI,
            resend_after_auth: true,
            ask_auth_handler: true,
            deadline: Deadline::after(timeout),
            service: Some(service),
            stream,
        };
        let span = tracing::Span::current();
        if stream {
            self.open(&exchange, &span).await
        } else {
            self.execute(&exchange, &span).await.map(Sent::Reply)
        }
    }
}

/// An answer decoded, with the rate limit its reply reports.
fn metered<T: DeserializeOwned + Metered>(reply: &Reply) -> Result<T> {
    let mut answer: T = wire::decode(reply)?;
    answer.set_rate_limit(reply.rate_limit);
    Ok(answer)
}

/// The media and location services of a client's app (from [`Client::services`]): each call
/// checks its request before sending, carries the app token and the client's credential, and
/// answers with a typed value that carries the reply's rate limit.
///
/// Media calls get [`DEFAULT_MEDIA_TIMEOUT`] (or the client's timeout, when longer) unless
/// [`timeout`](Self::timeout) says otherwise; location calls get the client's. Under
/// `user_pays` a service meets the same login and consent challenges as a function.
#[derive(Debug, Clone, Copy)]
pub struct Services<'c> {
    client: &'c Client,
    timeout: Option<Duration>,
}

impl Services<'_> {
    /// The media and location calls made through this handle time out after `timeout` (the
    /// lists, `voices` and the models, keep the client's).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    async fn post<T: DeserializeOwned + Metered>(&self, name: &str, body: Body) -> Result<T> {
        let timeout = self
            .timeout
            .unwrap_or_else(|| self.client.service_timeout(name));
        let reply = self.client.service_post(name, body, timeout).await?;
        metered(&reply)
    }

    /// Speech of a text (`POST /services/tts`): an MP3's URL.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when [`TtsRequest::check`] fails (nothing is sent); as
    /// [`Client::service`] otherwise.
    pub async fn tts(&self, request: &TtsRequest) -> Result<MediaFile> {
        request.check()?;
        self.post("tts", Body::json(request)?).await
    }

    /// The voices of the speech service (`GET /services/tts/voices`), of one provider's
    /// (`elevenlabs`, `openai`, `gemini`; `?provider=`) or of the default's. The query and the
    /// image models' list are in Gipity's agent guide (`GIPITY-SKILLS.md` of `GipityAI/cli`),
    /// not in the API docs.
    ///
    /// # Errors
    /// As [`Client::service_list`].
    pub async fn voices(&self, provider: Option<&str>) -> Result<Vec<Voice>> {
        #[derive(serde::Deserialize)]
        struct Voices {
            voices: Vec<Voice>,
        }
        let query: &[(&str, &str)] = match &provider {
            Some(provider) => &[("provider", provider)],
            None => &[],
        };
        let voices: Voices = self.client.service_list_with("tts/voices", query).await?;
        Ok(voices.voices)
    }

    /// An image of a prompt (`POST /services/image`).
    ///
    /// # Errors
    /// As [`tts`](Self::tts), with [`ImageRequest::check`].
    pub async fn image(&self, request: &ImageRequest) -> Result<MediaFile> {
        request.check()?;
        self.post("image", Body::json(request)?).await
    }

    /// The image models (`GET /services/image/models`).
    ///
    /// # Errors
    /// As [`Client::service_list`].
    pub async fn image_models(&self) -> Result<MediaModels> {
        self.client.service_list("image/models").await
    }

    /// A sound effect (`POST /services/sound`).
    ///
    /// # Errors
    /// As [`tts`](Self::tts), with [`SoundRequest::check`].
    pub async fn sound(&self, request: &SoundRequest) -> Result<MediaFile> {
        request.check()?;
        self.post("sound", Body::json(request)?).await
    }

    /// Music (`POST /services/music`).
    ///
    /// # Errors
    /// As [`tts`](Self::tts), with [`MusicRequest::check`]; lyrics for instrumental music are
    /// refused before sending.
    pub async fn music(&self, request: &MusicRequest) -> Result<MediaFile> {
        request.check()?;
        self.post("music", Body::json(request)?).await
    }

    /// The music models and the default one (`GET /services/music/models`).
    ///
    /// # Errors
    /// As [`Client::service_list`].
    pub async fn music_models(&self) -> Result<MediaModels> {
        self.client.service_list("music/models").await
    }

    /// The text of a recording (`POST /services/transcribe`), uploaded as
    /// `multipart/form-data` as a browser's `FormData` would.
    ///
    /// # Errors
    /// As [`tts`](Self::tts), with [`TranscribeRequest::check`].
    pub async fn transcribe(&self, request: &TranscribeRequest) -> Result<Transcript> {
        request.check()?;
        let texts = [&request.provider, &request.language]
            .map(|text| text.as_deref().unwrap_or_default().as_bytes());
        let mut form = multipart::Form::new(&[
            &request.audio,
            request.file_name.as_bytes(),
            request.media_type.as_bytes(),
            texts[0],
            texts[1],
        ]);
        if let Some(provider) = &request.provider {
            form.text("provider", provider);
        }
        if let Some(diarize) = request.diarize {
            form.text("diarize", if diarize { "true" } else { "false" });
        }
        if let Some(language) = &request.language {
            form.text("language", language);
        }
        form.file(
            "audio",
            &request.file_name,
            &request.media_type,
            &request.audio,
        )?;
        let (bytes, content_type) = form.finish();
        let content_type = HeaderValue::from_str(&content_type)
            .map_err(|_| Error::InvalidRequest("the form's type is not a header value".into()))?;
        let body = Body {
            bytes,
            content_type: Some(content_type),
        };
        self.post("transcribe", body).await
    }

    /// A video of a prompt (`POST /services/video`); the platform takes 30 to 120 s.
    ///
    /// # Errors
    /// As [`tts`](Self::tts), with [`VideoRequest::check`].
    pub async fn video(&self, request: &VideoRequest) -> Result<MediaFile> {
        request.check()?;
        self.post("video", Body::json(request)?).await
    }

    /// Where an IP address is (`POST /services/location/ip`); none = the caller's.
    ///
    /// # Errors
    /// As [`Client::service`].
    pub async fn locate_ip(&self, ip: Option<IpAddr>) -> Result<Location> {
        #[derive(Serialize)]
        struct Ip {
            #[serde(skip_serializing_if = "Option::is_none")]
            ip: Option<IpAddr>,
        }
        self.post("location/ip", Body::json(&Ip { ip })?).await
    }

    /// What is at a latitude and longitude, in degrees (`POST /services/location/geocode`).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a latitude outside -90..=90 or a longitude outside
    /// -180..=180 (nothing is sent); as [`Client::service`] otherwise.
    pub async fn geocode(&self, lat: f64, lon: f64) -> Result<Location> {
        #[derive(Serialize)]
        struct Point {
            lat: f64,
            lon: f64,
        }
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(Error::InvalidRequest(
                "a latitude is within -90..=90 and a longitude within -180..=180 degrees".into(),
            ));
        }
        self.post("location/geocode", Body::json(&Point { lat, lon })?)
            .await
    }
}

/// One or two segments of `[a-z0-9-]`, each 1 or more long, 64 characters in all.
fn check_service_name(name: &str) -> Result<()> {
    let segments: Vec<&str> = name.split('/').collect();
    let valid = !name.is_empty()
        && name.len() <= MAX_SERVICE_NAME
        && segments.len() <= 2
        && segments.iter().all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidRequest(
            "a service name is one or two segments of lowercase letters, digits and `-` \
             (`llm`, `location/geocode`)"
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check_service_name;

    #[test]
    fn service_names() {
        for good in ["llm", "tts", "location/geocode", "llm/models", "a-1"] {
            assert!(check_service_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "LLM", "../x", "a/b/c", "a//b", "/llm", "llm/", "tts?x", "a b", "é",
        ] {
            assert!(check_service_name(bad).is_err(), "{bad}");
        }
    }
}
