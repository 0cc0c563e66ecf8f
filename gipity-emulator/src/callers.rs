//! Who is calling: the app token, and the caller resolved from the request's credentials.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use crate::http::ApiError;
use crate::model::{Caller, User};
use crate::state::{State as Inner, TokenCheck};

/// Name of the app token header.
pub(crate) const APP_TOKEN: &str = gipity_shared::header::APP_TOKEN;

/// Checks `X-App-Token` when present: `Ok(true)` for a live token of `app`,
/// `Ok(false)` when absent, `401 TOKEN_EXPIRED` / `401 INVALID_TOKEN` otherwise.
pub(crate) fn check_app_token(
    state: &Inner,
    headers: &HeaderMap,
    app: &str,
) -> Result<bool, ApiError> {
    let Some(value) = headers.get(APP_TOKEN) else {
        return Ok(false);
    };
    let check = match value.to_str() {
        Ok(token) => state.check_app_token(token.trim(), app),
        Err(_) => TokenCheck::Invalid,
    };
    match check {
        TokenCheck::Valid => Ok(true),
        TokenCheck::Expired => Err(ApiError::unauthorized(
            "TOKEN_EXPIRED",
            "the app token has expired",
        )),
        TokenCheck::Invalid => Err(ApiError::unauthorized(
            "INVALID_TOKEN",
            "the app token is not valid for this app",
        )),
    }
}

/// Who is calling, once credentials are resolved.
pub(crate) struct Resolved {
    pub(crate) caller: Caller,
    pub(crate) user: Option<User>,
    /// A live `X-App-Token` of this app was presented.
    pub(crate) app_token: bool,
}

/// Resolves the caller: `X-Api-Key`, else `Authorization: Bearer`, else
/// `X-App-Token` plus the session cookie.
pub(crate) fn resolve(state: &Inner, app: &str, headers: &HeaderMap) -> Result<Resolved, ApiError> {
    if let Some(key) = headers.get(gipity_shared::header::API_KEY) {
        let valid = state
            .apps
            .get(app)
            .and_then(|entry| entry.api_key.as_deref())
            .is_some_and(|expected| expected.as_bytes() == key.as_bytes());
        if !valid {
            return Err(ApiError::unauthorized(
                "INVALID_API_KEY",
                "the API key is not valid for this app",
            ));
        }
        return Ok(Resolved {
            caller: Caller::ApiKey,
            user: None,
            app_token: false,
        });
    }

    if let Some(value) = headers.get(AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty());
        let Some(token) = token else {
            return Err(ApiError::unauthorized(
                "INVALID_TOKEN",
                "the Authorization header must be `Bearer <token>`",
            ));
        };
        match state.check_player_token(token, app) {
            Ok(user) => {
                return Ok(Resolved {
                    caller: Caller::Player,
                    user: Some(user),
                    app_token: false,
                });
            }
            Err(TokenCheck::Expired) => {
                return Err(ApiError::unauthorized(
                    "TOKEN_EXPIRED",
                    "the player token has expired; sign in again",
                ));
            }
            Err(_) => {}
        }
        if let Some(user) = state
            .account_tokens
            .get(token)
            .and_then(|guid| state.user(guid))
        {
            return Ok(Resolved {
                caller: Caller::Account,
                user: Some(user.clone()),
                app_token: false,
            });
        }
        return Err(ApiError::unauthorized(
            "INVALID_TOKEN",
            "the bearer token is not valid for this app",
        ));
    }

    let app_token = check_app_token(state, headers, app)?;
    let user = state.signed_in_user(headers);
    Ok(Resolved {
        caller: if user.is_some() {
            Caller::Session
        } else {
            Caller::Anonymous
        },
        user,
        app_token,
    })
}
