//! Where challenges lead: how a client builds a login or consent [`Challenge`] from what the API
//! sent (or from its base URL), and the redirect URL back to a validated return URL.

use crate::Url;

use crate::auth::{Challenge, ChallengeKind, Permissions, with_param};
use crate::error::{Error, Result, Setting};
use crate::platform::SessionStore;
use crate::validate;

impl Challenge {
    /// The URL for the redirect flow back to `return_url`, which must be a Gipity app URL
    /// (`https://app.gipity.ai/..`, `https://dev.gipity.ai/..`, `https://gipity.ai/..`), or on
    /// the API's own origin when the API is on loopback (the emulator).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if `return_url` is not allowed.
    pub fn redirect_url_to(&self, return_url: &str) -> Result<Url> {
        let extra = validate::is_loopback(&self.url).then_some(&self.url);
        let return_url = validate::return_url(return_url, extra)
            .map_err(|e| Error::config(Setting::ReturnUrl, e.0))?;
        Ok(with_param(&self.url, "return", return_url.as_str()))
    }
}

/// How a client builds its challenges: from the URL the API gave when it is on the API's own
/// origin, otherwise the documented login/consent URL built from the base URL.
pub(crate) struct Challenges {
    pub(crate) app: String,
    pub(crate) base: Url,
    pub(crate) return_url: Option<Url>,
    pub(crate) session: Option<SessionStore>,
}

impl Challenges {
    /// The challenge for `kind`, from `given` (a `loginUrl`/`consentUrl`) if it is safe.
    pub(crate) fn make(
        &self,
        kind: ChallengeKind,
        given: Option<&str>,
        permissions: Permissions,
    ) -> Challenge {
        let url = given
            .and_then(|given| {
                let url = validate::challenge_url(given, &self.base);
                if url.is_none() {
                    tracing::warn!(?kind, "ignoring an auth URL that is not on the api origin");
                }
                url
            })
            .unwrap_or_else(|| {
                let mut url = self.base.clone();
                if let Ok(mut segments) = url.path_segments_mut() {
                    let path = match kind {
                        ChallengeKind::Login => gipity_shared::path::LOGIN,
                        ChallengeKind::Consent => gipity_shared::path::CONSENT,
                    };
                    segments
                        .pop_if_empty()
                        .extend(path.split('/').filter(|s| !s.is_empty()));
                }
                url.query_pairs_mut()
                    .append_pair("app", &self.app)
                    .append_pair("permissions", &permissions.bits().to_string());
                url
            });
        Challenge {
            kind,
            url,
            return_url: self.return_url.clone(),
            outcome: None,
            session: self.session.clone(),
            service: None,
        }
    }
}
