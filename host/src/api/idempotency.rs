//! Retried requests: a request sent again with the same `Idempotency-Key` gets the first answer
//! and does nothing twice.

use std::future::Future;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::state::{now, AppState};
use crate::store::StoredResponse;

/// Answer `body` once per `(owner, key)`: run `handler` the first time and record a successful
/// answer; give the recorded answer to a retry with the same body; refuse the key with another
/// body (422) or while the first request is still being answered (409).
pub async fn once<T, F>(
    state: &Arc<AppState>,
    owner: &str,
    key: Option<String>,
    body: &impl serde::Serialize,
    handler: F,
) -> Result<Response, ApiError>
where
    T: serde::Serialize,
    F: Future<Output = Result<(StatusCode, T), ApiError>>,
{
    let Some(key) = key else {
        let (status, value) = handler.await?;
        return Ok((status, axum::Json(value)).into_response());
    };
    let request_hash = hex::encode(Sha256::digest(
        serde_json::to_vec(body).map_err(|e| ApiError::internal("hashing a request", e))?,
    ));
    if let Some(stored) = state.store.idempotent(owner, &key).await? {
        return replay(stored, &request_hash);
    }
    let Some(_held) = InFlight::take(state, owner, &key) else {
        return Err(ApiError::conflict(
            "a request with this Idempotency-Key is still being answered",
        ));
    };
    async {
        // Checked again now that this request holds the key.
        if let Some(stored) = state.store.idempotent(owner, &key).await? {
            return replay(stored, &request_hash);
        }
        let (status, value) = handler.await?;
        let body = serde_json::to_string(&value).map_err(|e| ApiError::internal("encoding", e))?;
        state
            .store
            .remember(
                owner,
                &key,
                &StoredResponse {
                    request_hash,
                    status: status.as_u16(),
                    body: body.clone(),
                },
                now(),
            )
            .await?;
        Ok(json_response(status, body))
    }
    .await
}

/// A key held by the request being answered. Released when dropped, also when the request is
/// dropped half-way (its client went away): the key is then free for the retry, which runs the
/// request again.
struct InFlight<'a> {
    state: &'a AppState,
    slot: (String, String),
}

impl<'a> InFlight<'a> {
    /// Hold `(owner, key)`, unless another request holds it.
    fn take(state: &'a AppState, owner: &str, key: &str) -> Option<Self> {
        let slot = (owner.to_owned(), key.to_owned());
        let free = state.in_flight.lock().expect("lock").insert(slot.clone());
        free.then_some(InFlight { state, slot })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.state
            .in_flight
            .lock()
            .expect("lock")
            .remove(&self.slot);
    }
}

fn replay(stored: StoredResponse, request_hash: &str) -> Result<Response, ApiError> {
    if stored.request_hash != request_hash {
        return Err(ApiError::unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
        ));
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    Ok(json_response(status, stored.body))
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
