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
    run_once(state, owner, key, body, |_| handler, Recording::After).await
}

/// Like [`once`], for a handler that records its answer itself, in the transaction that makes
/// its change (so that a crash leaves both or neither, and the request costs one commit less):
/// it gets the [`Record`] to write when the request has a key, and what it records is what a
/// retry gets. Its answer to this request may carry more than it records.
pub async fn once_recorded<T, F, Fut>(
    state: &Arc<AppState>,
    owner: &str,
    key: Option<String>,
    body: &impl serde::Serialize,
    handler: F,
) -> Result<Response, ApiError>
where
    T: serde::Serialize,
    F: FnOnce(Option<Record>) -> Fut,
    Fut: Future<Output = Result<(StatusCode, T), ApiError>>,
{
    run_once(state, owner, key, body, handler, Recording::ByHandler).await
}

/// An answer to record under an idempotency key, by a handler run through [`once_recorded`].
#[derive(Debug)]
pub struct Record {
    /// The subject whose key it is.
    pub owner: String,
    /// The key.
    pub key: String,
    request_hash: String,
}

impl Record {
    /// `value` as the answer recorded with `status`.
    pub fn answer(
        &self,
        status: StatusCode,
        value: &impl serde::Serialize,
    ) -> Result<StoredResponse, ApiError> {
        Ok(StoredResponse {
            request_hash: self.request_hash.clone(),
            status: status.as_u16(),
            body: serde_json::to_string(value).map_err(|e| ApiError::internal("encoding", e))?,
        })
    }
}

/// Who records a successful answer.
#[derive(PartialEq)]
enum Recording {
    /// [`run_once`], after the handler.
    After,
    /// The handler, with its change.
    ByHandler,
}

async fn run_once<T, F, Fut>(
    state: &Arc<AppState>,
    owner: &str,
    key: Option<String>,
    body: &impl serde::Serialize,
    handler: F,
    recording: Recording,
) -> Result<Response, ApiError>
where
    T: serde::Serialize,
    F: FnOnce(Option<Record>) -> Fut,
    Fut: Future<Output = Result<(StatusCode, T), ApiError>>,
{
    let Some(key) = key else {
        let (status, value) = handler(None).await?;
        return Ok((status, axum::Json(value)).into_response());
    };
    let request_hash = hex::encode(Sha256::digest(
        serde_json::to_vec(body).map_err(|e| ApiError::internal("hashing a request", e))?,
    ));
    // The key is held before the recorded answer is looked up: a first request still running
    // holds it (409), and one that has finished recorded its answer before letting it go.
    let Some(_held) = InFlight::take(state, owner, &key) else {
        return Err(ApiError::conflict(
            "a request with this Idempotency-Key is still being answered",
        ));
    };
    async {
        if let Some(stored) = state.store.idempotent(owner, &key).await? {
            return replay(stored, &request_hash);
        }
        if recording == Recording::ByHandler {
            let record = Record {
                owner: owner.to_owned(),
                key: key.clone(),
                request_hash,
            };
            let (status, value) = handler(Some(record)).await?;
            return Ok((status, axum::Json(value)).into_response());
        }
        let (status, value) = handler(None).await?;
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
