//! App services (`/api/<app>/services/<name>`): a generic typed call for any of them, and the
//! LLM service's typed API ([`Llm`]). Services go through the same credentials, token cache
//! and login/consent recovery as functions, with two differences the protocol makes: every
//! call carries the app token (a service is never callable without one), and a POST answer
//! is not wrapped in `data` (a GET list is).

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::Permissions;
use crate::client::Client;
use crate::credentials::Attach;
use crate::error::{Error, Result};
use crate::llm::Llm;
use crate::recovery::Exchange;
use crate::transport::{Deadline, Request, Sent};
use crate::wire::{self, Reply};

/// The default timeout of a media service call (`tts`, `image`, `music`, ...): the platform
/// lets them run up to 300 s. The LLM service and the location services use the client's.
pub const DEFAULT_MEDIA_TIMEOUT: Duration = Duration::from_secs(300);

/// The longest service name, in characters.
const MAX_SERVICE_NAME: usize = 64;

/// The services that render media, whose calls get [`DEFAULT_MEDIA_TIMEOUT`].
const MEDIA: [&str; 6] = ["tts", "image", "sound", "music", "transcribe", "video"];

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
        let timeout = if MEDIA.contains(&name.split('/').next().unwrap_or(name)) {
            DEFAULT_MEDIA_TIMEOUT.max(self.timeout())
        } else {
            self.timeout()
        };
        self.service_with(name, body, timeout).await
    }

    /// [`service`](Self::service) within `timeout`.
    pub(crate) async fn service_with<T, B>(
        &self,
        name: &str,
        body: &B,
        timeout: Duration,
    ) -> Result<T>
    where
        T: DeserializeOwned,
        B: Serialize + ?Sized,
    {
        let url = self.service_url(name)?;
        let body = bytes::Bytes::from(serde_json::to_vec(body).map_err(Error::Encode)?);
        let reply = self
            .service_exchange(name, http::Method::POST, &url, Some(body), timeout)
            .await?;
        wire::decode(&reply)
    }

    /// Reads a service's list (`GET /api/<app>/services/<path>`: `"llm/models"`,
    /// `"tts/voices"`, `"music/models"`), whose answer the platform wraps in `data`; this
    /// returns what is inside.
    ///
    /// # Errors
    /// As [`service`](Self::service).
    pub async fn service_list<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let url = self.service_url(path)?;
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

    /// `<base>/api/<app>/services/<name>`, for a checked name.
    fn service_url(&self, name: &str) -> Result<Url> {
        check_service_name(name)?;
        let mut url = self.services_base().clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(name.split('/'));
        }
        Ok(url)
    }

    /// One service request through the client's recovery.
    pub(crate) async fn service_exchange(
        &self,
        name: &str,
        method: http::Method,
        url: &Url,
        body: Option<bytes::Bytes>,
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
        let url = self.service_url(name)?;
        self.service_send(name, http::Method::POST, &url, Some(body), head, true)
            .await
    }

    async fn service_send(
        &self,
        name: &str,
        method: http::Method,
        url: &Url,
        body: Option<bytes::Bytes>,
        timeout: Duration,
        stream: bool,
    ) -> Result<Sent> {
        let request_id = crate::options::generated_request_id();
        let service = name.split('/').next().unwrap_or(name);
        let exchange = Exchange {
            request: Request {
                method,
                url,
                body,
                timeout,
                request_id: Some(&request_id),
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
