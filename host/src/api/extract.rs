//! Request extractors whose failures are [`ApiError`]s: JSON bodies, query strings and the
//! caller's identity.

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::Json;
use serde::de::DeserializeOwned;
use std::sync::Arc;

use super::error::ApiError;
use crate::state::AppState;

/// A JSON body; a malformed one is a 400 (422 if well-formed but of the wrong shape).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(v) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(v))
    }
}

/// A query string; a malformed one is a 400.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(v) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(v))
    }
}

/// The caller, from `Authorization: Bearer <token>`: the logged-in subject scoped to the Dapp
/// the token is for (`dapp/<id>/<subject>`), which is what wallets and sessions are filed under.
pub struct Subject(pub String);

/// How a secret token is kept and looked up: its SHA-256, never the token.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// A Dapp calling with its API secret: `Authorization: Basic base64(<dapp id>:<api secret>)`.
/// Requests are rate-limited per Dapp.
pub struct DappCaller(pub String);

impl FromRequestParts<Arc<AppState>> for DappCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        use base64::Engine as _;
        let credentials = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Basic "))
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                ApiError::unauthorized("expected `Authorization: Basic <dapp id:api secret>`")
            })?;
        let (id, secret) = credentials
            .split_once(':')
            .ok_or_else(|| ApiError::unauthorized("expected <dapp id>:<api secret>"))?;
        if !state.dapps.check_secret(id, secret) {
            return Err(ApiError::unauthorized(
                "the Dapp id or API secret is not right",
            ));
        }
        rate_limit(state, &format!("dapp/{id}"))?;
        Ok(DappCaller(id.to_owned()))
    }
}

/// Count a request of `key` against the per-subject rate limit, if there is one.
fn rate_limit(state: &AppState, key: &str) -> Result<(), ApiError> {
    match &state.limiter {
        Some(limiter) => count(limiter, &key.to_owned()),
        None => Ok(()),
    }
}

/// Count a request of `key` against `limiter`: a 429 with the time to wait when it is spent.
pub fn count<K: std::hash::Hash + Eq + Clone>(
    limiter: &governor::DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), ApiError> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        ApiError::rate_limited(wait.as_secs().max(1))
    })
}

impl FromRequestParts<Arc<AppState>> for Subject {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("an access token is required"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("expected `Authorization: Bearer <token>`"))?;
        let subject = state
            .tokens
            .verify(token)
            .map_err(|e| ApiError::unauthorized(e.to_string()))?
            .owner();
        rate_limit(state, &subject)?;
        Ok(Subject(subject))
    }
}

/// The optional `Idempotency-Key` header.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => {
                let key = v
                    .to_str()
                    .ok()
                    .filter(|k| !k.is_empty() && k.len() <= 200)
                    .ok_or_else(|| {
                        ApiError::bad_request("Idempotency-Key must be 1 to 200 visible characters")
                    })?;
                Ok(IdempotencyKey(Some(key.to_owned())))
            }
        }
    }
}
