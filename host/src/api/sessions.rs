//! The relay: clients post their parties' envelopes and fetch those addressed to them.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use mpcw_engine::{Envelope, PartyIndex};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Subject};
use super::views::{Messages, Relayed, SessionStatus};
use crate::mpc::{Exceeded, LiveSession, RelayError, SessionState};
use crate::state::AppState;

/// Longest long-poll, kept below the request deadline.
const MAX_WAIT_MS: u64 = 20_000;
/// Most envelopes in one post.
const MAX_POST: usize = 256;

fn status_of(s: &LiveSession) -> SessionStatus {
    let (state, error) = match s.state() {
        SessionState::Running => ("running", None),
        SessionState::Done => ("done", None),
        SessionState::Failed(e) => ("failed", Some(e)),
    };
    SessionStatus {
        id: s.id.clone(),
        kind: s.kind.into(),
        state: state.into(),
        error,
    }
}

fn live(state: &AppState, id: &str, owner: &str) -> Result<Arc<LiveSession>, ApiError> {
    state.sessions.get(id, owner).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "session_not_found",
            "no such session: it never existed, belongs to someone else, expired, or was \
             interrupted by a server restart (start a new one)",
        )
    })
}

/// `GET /v1/sessions/{id}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(id): Path<String>,
) -> Result<Json<SessionStatus>, ApiError> {
    let session = live(&state, &id, &owner)?;
    Ok(Json(status_of(&session)))
}

/// Query of `POST /v1/sessions/{id}/messages`: with `parties`, the post is followed by a fetch
/// for them, as `GET` of the same with this query would do, in the same round trip.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostQuery {
    /// Comma-separated party indices the client runs; without it, the answer only counts what
    /// was accepted.
    parties: Option<String>,
    /// Last sequence number already seen (0 for none).
    #[serde(default)]
    after: u64,
    /// How long to wait for a message, milliseconds (at most 20 000).
    #[serde(default)]
    wait_ms: u64,
}

/// `POST /v1/sessions/{id}/messages[?parties=0,2&after=N&wait_ms=M]`: a JSON array of envelopes
/// from the client's parties. Answers `202 {"accepted": n}`, or with `parties`, `200` with the
/// fetch's [`Messages`] and `accepted`.
pub async fn post_messages(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PostQuery>,
    ApiJson(envelopes): ApiJson<Vec<Envelope>>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let session = live(&state, &id, &owner)?;
    // A bad fetch is refused before anything is posted.
    let fetch = query
        .parties
        .as_deref()
        .map(|p| client_parties(&session, p))
        .transpose()?;
    if envelopes.len() > MAX_POST {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {MAX_POST} envelopes per post"),
        ));
    }
    let accepted = session.post(envelopes).map_err(|e| match e {
        RelayError::Ended(_) => ApiError::gone(e.to_string()),
        RelayError::Full | RelayError::OverQuota(Exceeded::Session) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
        }
        RelayError::OverQuota(Exceeded::Subject) => ApiError {
            retry_after: Some(5),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "relay_quota", e.to_string())
        },
        RelayError::OverQuota(Exceeded::Total) => ApiError {
            retry_after: Some(5),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "relay_full", e.to_string())
        },
        _ => ApiError::unprocessable("invalid_message", e.to_string()),
    })?;
    let Some(parties) = fetch else {
        return Ok((
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "accepted": accepted })),
        ));
    };
    let found = wait_fetch(&session, &parties, query.after, query.wait_ms).await;
    let mut answer = serde_json::to_value(found).map_err(|e| ApiError::internal("answering", e))?;
    answer["accepted"] = accepted.into();
    Ok((StatusCode::OK, Json(answer)))
}

/// The client parties `list` names (comma-separated indices): every one a party of `session`,
/// none the server.
fn client_parties(session: &LiveSession, list: &str) -> Result<BTreeSet<PartyIndex>, ApiError> {
    let parties: BTreeSet<PartyIndex> = list
        .split(',')
        .map(|p| p.trim().parse::<PartyIndex>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::bad_request("parties must be comma-separated party indices"))?;
    if parties.is_empty()
        || parties.contains(&session.server_index)
        || !parties.is_subset(&session.parties)
    {
        return Err(ApiError::unprocessable(
            "invalid_request",
            "parties must be client parties of this session",
        ));
    }
    Ok(parties)
}

/// What the relay holds for `parties` after `after`, waiting up to `wait_ms` for it.
async fn wait_fetch(
    session: &LiveSession,
    parties: &BTreeSet<PartyIndex>,
    after: u64,
    wait_ms: u64,
) -> Messages {
    let wait = Duration::from_millis(wait_ms.min(MAX_WAIT_MS));
    let found = session.wait_fetch(parties, after, wait).await;
    Messages {
        messages: found
            .messages
            .into_iter()
            .map(|(seq, envelope)| Relayed { seq, envelope })
            .collect(),
        more: found.more,
        status: status_of(session),
    }
}

/// Query of `GET /v1/sessions/{id}/messages`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchQuery {
    /// Comma-separated party indices the client runs.
    parties: String,
    /// Last sequence number already seen (0 for none).
    #[serde(default)]
    after: u64,
    /// How long to wait for a message, milliseconds (at most 20 000).
    #[serde(default)]
    wait_ms: u64,
}

/// `GET /v1/sessions/{id}/messages?parties=0,2&after=N&wait_ms=M`.
pub async fn fetch_messages(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<FetchQuery>,
) -> Result<Json<Messages>, ApiError> {
    let session = live(&state, &id, &owner)?;
    let parties = client_parties(&session, &q.parties)?;
    Ok(Json(
        wait_fetch(&session, &parties, q.after, q.wait_ms).await,
    ))
}

/// Refuse if `owner` starting `more` sessions would exceed the configured limits: 429 over the
/// subject's own, 503 over the server's. Each live session holds a thread of the server until it
/// ends or reaches its deadline.
pub(super) fn check_room(state: &AppState, owner: &str, more: usize) -> Result<(), ApiError> {
    let limit = state.config.max_live_sessions;
    if limit > 0 && state.sessions.running_for(owner) + more > limit {
        return Err(ApiError::too_many_sessions(limit));
    }
    let total = state.config.max_live_sessions_total;
    if total > 0 && state.sessions.running() + more > total {
        return Err(ApiError::server_busy(
            "the server runs as many protocol sessions as it may; try again shortly",
        ));
    }
    Ok(())
}
