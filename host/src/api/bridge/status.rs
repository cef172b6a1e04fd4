//! What a Dapp reads of its bridge requests: the status now, the status once it changes (long
//! poll), and every change as server-sent events. Waiting is woken by the request's change
//! notices (this host's, or other hosts' through Redis), by its expiry, and, in case a notice
//! was lost, by a look every few seconds.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::Stream;
use serde::Deserialize;
use tokio::time::Instant;

use crate::api::error::ApiError;
use crate::api::extract::{ApiQuery, DappCaller};
use crate::api::views::BridgeView;
use crate::bridge::{BridgeRequest, BridgeState, Broadcast};
use crate::state::{now, AppState};

/// The longest long poll, seconds.
const MAX_WAIT_SECS: u64 = 25;
/// How often a waiter looks again without a notice.
const RECHECK: Duration = Duration::from_secs(5);
/// How long an event stream lasts at most: a request is final (done, failed, rejected or
/// expired) by the end of its longest life, and the stream ends with its final event.
const MAX_STREAM: Duration = Duration::from_secs(crate::bridge::MAX_TTL_SECS + 60);

/// Whether `status` is final: the request will not change any more.
pub(crate) fn is_final(status: &str) -> bool {
    matches!(status, "done" | "failed" | "rejected" | "expired")
}

/// The Dapp's view of `request` now: its signing's outcome once approved.
pub(crate) async fn view_of(
    state: &AppState,
    request: &BridgeRequest,
) -> Result<BridgeView, ApiError> {
    let mut view = BridgeView {
        id: request.id.clone(),
        action: request.action().to_owned(),
        network: request.network.clone(),
        status: request.state_name().to_owned(),
        expires_at: request.expires_at,
        result: None,
        connection: None,
        filled: request.filled.clone(),
        broadcast: request.broadcast.clone(),
        reason: None,
    };
    match &request.state {
        BridgeState::Pending | BridgeState::Opened { .. } if request.expires_at <= now() => {
            view.status = "expired".into();
        }
        BridgeState::Rejected { reason, .. } => view.reason = reason.clone(),
        BridgeState::Connected { connection_id, .. } => {
            let c = state
                .store
                .connection(connection_id, &request.dapp)
                .await?
                .ok_or_else(|| ApiError::internal("reading a connection", "not found"))?;
            view.connection = Some(super::connect::connection_view(&c, now()));
        }
        BridgeState::Signing { owner, signing_id } if !signing_id.is_empty() => {
            let (status, result, error) =
                crate::api::signing::outcome(state, signing_id, owner).await?;
            if status != "running" {
                view.status = status;
            }
            view.result = result;
            view.reason = error;
            // Signed, and to be broadcast: done once the node took it.
            if view.status == "done" {
                match &request.broadcast {
                    Some(Broadcast::Asked | Broadcast::Sending) => view.status = "sending".into(),
                    Some(Broadcast::NotSent { message }) => {
                        view.status = "failed".into();
                        view.reason = Some(format!(
                            "signed but not broadcast: {message} (the signed transaction is in result)"
                        ));
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    Ok(view)
}

/// Dapp `dapp`'s request `id` now, and its view.
async fn read(
    state: &AppState,
    dapp: &str,
    id: &str,
) -> Result<(BridgeRequest, BridgeView), ApiError> {
    let request = state
        .bridge
        .get(id)
        .await?
        .filter(|r| r.dapp == dapp)
        .ok_or_else(|| ApiError::not_found("bridge request"))?;
    let view = view_of(state, &request).await?;
    Ok((request, view))
}

/// The view of Dapp `dapp`'s request `id` once its status is other than `last` (at once if
/// `last` is `None`), or final, or at `until`, whichever comes first.
async fn next_view(
    state: &AppState,
    dapp: &str,
    id: &str,
    last: Option<&str>,
    until: Instant,
) -> Result<BridgeView, ApiError> {
    // Subscribed before reading, so that a change between the read and the wait wakes it.
    let mut changes = state.bridge.subscribe(id);
    loop {
        let (request, view) = read(state, dapp, id).await?;
        let now_instant = Instant::now();
        if last != Some(view.status.as_str()) || is_final(&view.status) || now_instant >= until {
            return Ok(view);
        }
        let mut wake = until.min(now_instant + RECHECK);
        if matches!(
            request.state,
            BridgeState::Pending | BridgeState::Opened { .. }
        ) {
            let left = (request.expires_at - now()).max(0) as u64;
            wake = wake.min(now_instant + Duration::from_secs(left) + Duration::from_millis(20));
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    changes = state.bridge.subscribe(id);
                }
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
    }
}

/// `?wait=` of a status read.
#[derive(Deserialize)]
pub struct WaitQuery {
    /// Seconds to hold the answer until the status changes.
    #[serde(default)]
    wait: Option<u64>,
}

/// `GET /v1/bridge/requests/{id}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Json<BridgeView>, ApiError> {
    let (_, first) = read(&state, &dapp, &id).await?;
    let wait = q.wait.unwrap_or(0).min(MAX_WAIT_SECS);
    if wait == 0 || is_final(&first.status) {
        return Ok(Json(first));
    }
    let until = Instant::now() + Duration::from_secs(wait);
    Ok(Json(
        next_view(&state, &dapp, &id, Some(&first.status), until).await?,
    ))
}

/// `GET /v1/bridge/requests/{id}/events`.
pub async fn events(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    read(&state, &dapp, &id).await?;
    let limit = state.config.max_event_streams_per_dapp;
    let Some(slot) = state.event_streams.take(&dapp, limit) else {
        return Err(ApiError {
            retry_after: Some(5),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                format!(
                    "at most {limit} event streams per Dapp at once: close one, or use \
                     callbacks or ?wait="
                ),
            )
        });
    };
    let until = Instant::now() + MAX_STREAM;
    let stopping = state.stopping.subscribe();
    // The slot lives as long as the stream: given back when it ends or its client leaves.
    let stream = futures_util::stream::unfold(
        (state, dapp, id, None::<String>, slot, stopping),
        move |(state, dapp, id, last, slot, mut stopping)| async move {
            if last.as_deref().is_some_and(is_final) || *stopping.borrow() {
                return None;
            }
            let view = tokio::select! {
                view = next_view(&state, &dapp, &id, last.as_deref(), until) => view.ok()?,
                // The server is stopping: end the stream, and the Dapp reconnects.
                _ = stopping.changed() => return None,
            };
            if last.as_deref() == Some(view.status.as_str()) {
                return None; // The stream's time is up.
            }
            let event = Event::default().event("status").json_data(&view).ok()?;
            Some((
                Ok(event),
                (state, dapp, id, Some(view.status), slot, stopping),
            ))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
