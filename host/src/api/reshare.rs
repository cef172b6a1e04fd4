//! Refresh and resharing: new shares of the same key (same addresses), for the same parties or
//! a new set, such as a new device in place of a lost one.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mpcw_engine::reshare::{ReshareConfig, ReshareSession};
use mpcw_engine::{KeyShare, PartyIndex, Roster, SessionContext};
use tokio::sync::oneshot;

use super::error::ApiError;
use super::extract::{ApiJson, IdempotencyKey, Subject};
use super::idempotency;
use super::signing::{open_party_keys, open_share};
use super::views::{SessionView, StartReshare, StartedReshare};
use super::wallets::{owned_wallet_with_share, ready_key, seal_server_share, wallet_view};
use crate::mpc::{spawn_party, LiveSession, PartyFailure, SessionState};
use crate::state::{now, random_id, AppState};
use crate::store::{RecoveryEventRow, Reshared};

/// `POST /v1/wallets/{id}/reshare`.
pub async fn start(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    IdempotencyKey(key): IdempotencyKey,
    Path(wallet_id): Path<String>,
    ApiJson(body): ApiJson<StartReshare>,
) -> Result<Response, ApiError> {
    let fingerprint = serde_json::json!({ "wallet": wallet_id, "body": body });
    idempotency::once(&state, &owner.clone(), key, &fingerprint, async {
        let started = start_reshare(&state, owner, wallet_id.clone(), &body).await?;
        Ok((StatusCode::CREATED, started))
    })
    .await
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::unprocessable("invalid_request", message)
}

async fn start_reshare(
    state: &Arc<AppState>,
    owner: String,
    wallet_id: String,
    body: &StartReshare,
) -> Result<StartedReshare, ApiError> {
    let (row, sealed_share) = owned_wallet_with_share(state, &wallet_id, &owner).await?;
    let wallet = wallet_view(&row)?;
    let key = ready_key(&wallet)?.clone();
    let server = wallet.server_index;
    if server >= body.new_parties {
        return Err(invalid(format!(
            "the server (party {server}) must stay among the new parties"
        )));
    }
    let members: BTreeSet<PartyIndex> = body
        .old_signers
        .iter()
        .copied()
        .chain(0..body.new_parties)
        .collect();
    let expected: BTreeSet<PartyIndex> = members.iter().copied().filter(|i| *i != server).collect();
    let given: BTreeSet<PartyIndex> = body.roster.keys().copied().collect();
    if given != expected {
        return Err(invalid(format!(
            "roster must hold the identity keys of parties {expected:?}, every party of the session but the server"
        )));
    }
    for i in &body.old_signers {
        if *i != server && wallet.roster.get(i) != body.roster.get(i) {
            return Err(invalid(format!(
                "old signer {i} must use the identity key it has in this wallet"
            )));
        }
    }
    let config = ReshareConfig {
        key: key.clone(),
        old_signers: body.old_signers.clone(),
        new_threshold: body.new_threshold,
        new_parties: body.new_parties,
    };
    // The engine checks the rest (threshold, signer count) when the session is built; check it
    // here too so the client gets a 422 rather than a failed session.
    mpcw_engine::scheme::check_threshold(body.new_threshold, body.new_parties)
        .map_err(|e| invalid(e.to_string()))?;
    let distinct: BTreeSet<_> = body.old_signers.iter().collect();
    if distinct.len() != body.old_signers.len()
        || distinct.len() != usize::from(wallet.threshold)
        || distinct.iter().any(|i| **i >= wallet.parties)
    {
        return Err(invalid(format!(
            "old_signers must be {} distinct current parties",
            wallet.threshold
        )));
    }

    super::sessions::check_room(state, &owner, 1)?;
    let share = open_share(state, &wallet_id, sealed_share).await?;
    let keys = open_party_keys(state, &row.party_keys, &wallet_id)?;
    let mut roster: Roster = body.roster.clone();
    roster.insert(server, keys.public());
    let session_id = random_id("s");
    let ctx = SessionContext::new(session_id.clone(), server, keys, roster.clone())
        .map_err(|e| ApiError::internal("starting resharing", e))?;
    // Recorded (and an announced recovery used up) only once nothing can fail before the
    // session runs; from here its end is recorded by `finish_reshare`.
    let event = super::recovery::begin_reshare(
        state,
        &owner,
        &wallet,
        &body.roster,
        body.recovery.as_deref(),
    )
    .await?;
    let (tx, rx) = std::sync::mpsc::channel();
    let session = state.sessions.insert(LiveSession::new(
        session_id.clone(),
        owner,
        "reshare",
        server,
        roster.clone(),
        Duration::from_secs(state.config.session_ttl_secs),
        tx,
    ));
    let (done_tx, done_rx) = oneshot::channel();
    let cfg = config.clone();
    spawn_party(
        session.clone(),
        move || Ok(Box::new(ReshareSession::new(ctx, cfg, Some(&share))?) as _),
        rx,
        done_tx,
    );
    tokio::spawn(finish_reshare(
        state.clone(),
        session,
        wallet_id,
        roster.clone(),
        config,
        (event, done_rx),
    ));
    Ok(StartedReshare {
        wallet,
        session: SessionView {
            id: session_id,
            server_index: server,
            parties: members.into_iter().collect(),
        },
        roster,
        key,
    })
}

/// Store the server's new share and the new parties when the server's party finishes.
async fn finish_reshare(
    state: Arc<AppState>,
    session: Arc<LiveSession>,
    wallet_id: String,
    roster: Roster,
    config: ReshareConfig,
    (event, done): (
        RecoveryEventRow,
        oneshot::Receiver<Result<Option<KeyShare>, PartyFailure>>,
    ),
) {
    let outcome = match done.await {
        Ok(Ok(Some(share))) => store(&state, &wallet_id, &roster, &config, &share).await,
        Ok(Ok(None)) => Err("the server received no new share".to_owned()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the server's party stopped".to_owned()),
    };
    match outcome {
        Ok(()) => {
            tracing::info!(wallet = %wallet_id, kind = %event.kind, "wallet reshared");
            super::recovery::finish(&state, &event, "done").await;
            session.finish(SessionState::Done);
        }
        Err(e) => {
            tracing::warn!(wallet = %wallet_id, error = %e, "resharing failed; the old shares stay");
            super::recovery::finish(&state, &event, "failed").await;
            session.finish(SessionState::Failed(e));
        }
    }
}

async fn store(
    state: &AppState,
    wallet_id: &str,
    roster: &Roster,
    config: &ReshareConfig,
    share: &KeyShare,
) -> Result<(), String> {
    let new_roster: Roster = roster
        .iter()
        .filter(|(i, _)| **i < config.new_parties)
        .map(|(i, k)| (*i, *k))
        .collect();
    let (info, sealed) = seal_server_share(state, wallet_id, share)?;
    let roster_json = serde_json::to_string(&new_roster).map_err(|e| e.to_string())?;
    state
        .store
        .reshare_wallet(
            wallet_id,
            &Reshared {
                roster: &roster_json,
                threshold: config.new_threshold.into(),
                parties: config.new_parties.into(),
                public_info: &info,
                sealed_share: &sealed,
            },
            now(),
        )
        .await
        .map_err(|e| {
            tracing::error!(wallet = %wallet_id, error = %e, "cannot store a reshared server share");
            "the server could not store its new share".to_owned()
        })
}
