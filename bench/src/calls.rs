//! The two callers under test: a generated stub, and the best hand-written reqwest call
//! doing the same work.

use std::sync::Arc;
use std::time::Duration;

use gipity_runtime::{Client, Credentials, Result};
use reqwest::header::HeaderValue;
use serde::{Deserialize, Serialize};

use crate::server::{APP, SESSION_COOKIE};

/// One item of the catalogue the benchmarked function returns.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Item {
    /// Its id.
    pub id: u64,
    /// Its title.
    pub name: String,
    /// Its price.
    pub price: f64,
    /// Its tags.
    pub tags: Vec<String>,
}

/// Items of one category, one page at a time: the generated stub under test.
#[gipity_runtime::function(name = "get-items", auth = "user")]
pub async fn get_items(category: &str, page: u32) -> Result<Vec<Item>>;

/// A session client of the benchmark app, with the session cookie in its jar.
///
/// # Errors
/// If the client cannot be built.
pub fn stub_client(base_url: &str) -> Result<Client> {
    Client::builder(APP)
        .base_url(base_url)
        .credentials(Credentials::session().with_cookies(SESSION_COOKIE))
        .build()
}

/// Why a baseline call failed.
#[derive(Debug)]
pub enum BaselineError {
    /// reqwest failed (connect, send, read, decode).
    Http(reqwest::Error),
    /// The server answered with a non-success status.
    Status(u16),
    /// A URL or header could not be built.
    Config(String),
}

impl std::fmt::Display for BaselineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(error) => write!(f, "{error}"),
            Self::Status(status) => write!(f, "status {status}"),
            Self::Config(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for BaselineError {}

impl From<reqwest::Error> for BaselineError {
    fn from(error: reqwest::Error) -> Self {
        Self::Http(error)
    }
}

/// `{"data": T}`.
#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

/// What `/api/token` puts inside `data`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Minted {
    token: String,
}

/// The body the stub sends: what its generated `GetItemsArgs` serializes to.
#[derive(Serialize)]
struct GetItemsBody<'a> {
    category: &'a str,
    page: u32,
}

/// The hand-written reqwest caller: what a careful user writes without the bindings.
///
/// One shared `reqwest::Client` with a cookie jar holding the session cookie, the app token
/// minted once up front and kept as a ready-made sensitive header value, the function URL
/// parsed once, the same JSON body, and `{"data": T}` decoding.
#[derive(Debug, Clone)]
pub struct Baseline {
    http: reqwest::Client,
    url: reqwest::Url,
    token: HeaderValue,
}

impl Baseline {
    /// Builds the client and mints the app token.
    ///
    /// # Errors
    /// If the client cannot be built or the mint fails.
    pub async fn connect(base_url: &str) -> std::result::Result<Self, BaselineError> {
        let config = |error: &dyn std::fmt::Display| BaselineError::Config(error.to_string());
        let base = reqwest::Url::parse(base_url).map_err(|e| config(&e))?;
        let jar = Arc::new(reqwest::cookie::Jar::default());
        jar.add_cookie_str(SESSION_COOKIE, &base);
        let http = reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()?;
        let token_url = base.join("/api/token").map_err(|e| config(&e))?;
        let minted: Data<Minted> = http
            .post(token_url)
            .json(&serde_json::json!({ "app": APP }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut token = HeaderValue::from_str(&minted.data.token).map_err(|e| config(&e))?;
        token.set_sensitive(true);
        let url = base
            .join(&format!("/api/{APP}/fn/get-items"))
            .map_err(|e| config(&e))?;
        Ok(Self { http, url, token })
    }

    /// The same call as [`get_items`].
    ///
    /// # Errors
    /// If the call fails.
    pub async fn get_items(
        &self,
        category: &str,
        page: u32,
    ) -> std::result::Result<Vec<Item>, BaselineError> {
        let response = self
            .http
            .post(self.url.clone())
            .header("x-app-token", self.token.clone())
            .json(&GetItemsBody { category, page })
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(BaselineError::Status(response.status().as_u16()));
        }
        let envelope: Data<Vec<Item>> = response.json().await?;
        Ok(envelope.data)
    }
}
