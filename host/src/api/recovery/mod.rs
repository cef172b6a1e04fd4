//! Recovery a user can do: the recovery share escrowed under a secret the host cannot guess
//! ([`escrow`]), recoveries and refreshes recorded for the user, told to a configured webhook,
//! and, when a delay is configured, held back long enough for a device that still holds a
//! share to cancel them.
//!
//! - `GET /v1/recoveries`: the user's record, newest first.
//! - `POST /v1/wallets/{id}/recoveries`: announce a recovery (a resharing that gives a party a
//!   new identity: a new device). With `recovery_delay_secs` set it is `waiting` until its
//!   `not_before`; the resharing names it and may start only then.
//! - `POST /v1/wallets/{id}/recoveries/{rid}/cancel`: a party that still holds a share
//!   (proved by a statement signed with its identity key) cancels a recovery not yet started.

pub mod escrow;

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use mpcw_engine::PartyIndex;
use serde::{Deserialize, Serialize};

use super::client::ClientAddr;
use super::error::ApiError;
use super::extract::{ApiJson, Subject};
use super::views::WalletView;
use super::wallets::{owned_wallet, wallet_view};
use crate::state::{now, random_id, AppState};
use crate::store::{CallbackRow, RecoveryEventRow};

/// The outbox's sender name for security events: not a Dapp id (those have no `#`), so a Dapp
/// cannot be given them.
pub const SECURITY_SENDER: &str = "#security";

/// What a party signs to cancel a recovery: this purpose, and `<wallet>/<recovery>` as text.
pub const CANCEL_RECOVERY: &str = "mpcw/recovery-cancel/v1";

/// One entry of the user's record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecoveryView {
    /// `rev_…`.
    pub id: String,
    /// The wallet.
    pub wallet: String,
    /// `escrow_saved`, `escrow_opened`, `escrow_refused`, `recovery` or `refresh`.
    pub kind: String,
    /// `done`, `refused`, `waiting`, `started`, `failed` or `cancelled`.
    pub status: String,
    /// The client address the request came from, if known.
    pub client: Option<String>,
    /// A recovery: the earliest time (Unix seconds) its resharing may start.
    pub not_before: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl From<RecoveryEventRow> for RecoveryView {
    fn from(r: RecoveryEventRow) -> Self {
        Self {
            id: r.id,
            wallet: r.wallet_id,
            kind: r.kind,
            status: r.status,
            client: r.client,
            not_before: r.not_before,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Body of `POST /v1/wallets/{id}/recoveries/{rid}/cancel`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRecovery {
    /// A current party of the wallet other than the server (the device, or the recovery party).
    pub party: PartyIndex,
    /// The party's identity-key signature (base64) of statement [`CANCEL_RECOVERY`] with text
    /// `<wallet id>/<recovery id>`.
    pub signature: String,
}

/// The body of a security webhook event.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SecurityEvent {
    /// `evt_…`: the same at every delivery attempt.
    pub id: String,
    /// `recovery.<kind>.<status>`, e.g. `recovery.recovery.done`, `recovery.escrow_refused.refused`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The wallet's owner.
    pub user: String,
    /// The record entry.
    pub data: RecoveryView,
}

/// A new record entry of `owner`'s wallet, stored, and told to the webhook.
pub(crate) async fn record(
    state: &AppState,
    owner: &str,
    wallet: &str,
    (kind, status): (&str, &str),
    client: Option<IpAddr>,
    not_before: Option<i64>,
) -> Result<RecoveryEventRow, ApiError> {
    let at = now();
    let row = RecoveryEventRow {
        id: random_id("rev"),
        owner: owner.to_owned(),
        wallet_id: wallet.to_owned(),
        kind: kind.to_owned(),
        status: status.to_owned(),
        client: client.map(|c| c.to_string()),
        not_before,
        created_at: at,
        updated_at: at,
    };
    state.store.insert_recovery_event(&row).await?;
    notify(state, &row).await;
    Ok(row)
}

/// Move a started recovery or refresh `event` to its final `status`, and tell the webhook.
pub(crate) async fn finish(state: &AppState, event: &RecoveryEventRow, status: &str) {
    let mut row = event.clone();
    row.status = status.to_owned();
    row.updated_at = now();
    if let Err(e) = state
        .store
        .set_recovery_status(&row.id, status, row.updated_at)
        .await
    {
        tracing::error!(event = %row.id, error = %e, "recording the end of a resharing");
    }
    notify(state, &row).await;
}

/// Put `row` in the outbox for the security webhook, if one is configured. A failure is
/// logged: the record itself is stored already.
async fn notify(state: &AppState, row: &RecoveryEventRow) {
    let Some(url) = &state.config.security_webhook_url else {
        return;
    };
    let event = SecurityEvent {
        id: random_id("evt"),
        kind: format!("recovery.{}.{}", row.kind, row.status),
        created_at: now(),
        user: row.owner.clone(),
        data: row.clone().into(),
    };
    let callback = CallbackRow::pending(
        event.id.clone(),
        event.id.clone(),
        SECURITY_SENDER.to_owned(),
        url.clone(),
        serde_json::to_string(&event).expect("events serialize"),
    );
    match state.store.insert_callback(&callback).await {
        Ok(_) => state.outbox.wake(),
        Err(e) => tracing::error!(event = %row.id, error = %e, "queueing a security event"),
    }
}

/// `GET /v1/recoveries`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
) -> Result<Json<Vec<RecoveryView>>, ApiError> {
    let rows = state.store.recovery_events(&owner).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// `POST /v1/wallets/{id}/recoveries`.
pub async fn ask(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    ClientAddr(client): ClientAddr,
    Path(wallet_id): Path<String>,
) -> Result<(StatusCode, Json<RecoveryView>), ApiError> {
    let row = owned_wallet(&state, &wallet_id, &owner).await?;
    super::wallets::ready_key(&wallet_view(&row)?)?;
    let not_before = now() + state.config.recovery_delay_secs as i64;
    let event = record(
        &state,
        &owner,
        &wallet_id,
        ("recovery", "waiting"),
        client,
        Some(not_before),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(event.into())))
}

/// `POST /v1/wallets/{id}/recoveries/{rid}/cancel`.
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path((wallet_id, recovery_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<CancelRecovery>,
) -> Result<Json<RecoveryView>, ApiError> {
    let row = owned_wallet(&state, &wallet_id, &owner).await?;
    let wallet = wallet_view(&row)?;
    let keys = wallet
        .roster
        .get(&body.party)
        .filter(|_| body.party != wallet.server_index)
        .ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_request",
                format!(
                    "party {} is not a current party of the wallet other than the server",
                    body.party
                ),
            )
        })?;
    keys.verify_statement(
        CANCEL_RECOVERY,
        &format!("{wallet_id}/{recovery_id}"),
        &body.signature,
    )
    .map_err(|_| {
        ApiError::forbidden(format!(
            "the signature is not party {}'s over this cancellation",
            body.party
        ))
    })?;
    let moved = state
        .store
        .move_recovery(
            &recovery_id,
            &wallet_id,
            ("waiting", "cancelled"),
            i64::MAX,
            now(),
        )
        .await?;
    let event = state
        .store
        .recovery_event(&recovery_id, &wallet_id)
        .await?
        .filter(|e| e.kind == "recovery")
        .ok_or_else(|| ApiError::not_found("recovery"))?;
    if !moved {
        return Err(ApiError::conflict(format!(
            "the recovery is {} and can no longer be cancelled",
            event.status
        )));
    }
    tracing::info!(wallet = %wallet_id, recovery = %recovery_id, party = body.party, "recovery cancelled");
    notify(&state, &event).await;
    Ok(Json(event.into()))
}

/// What a resharing of `wallet` is, for the record: a recovery when it gives some party a new
/// identity key (a new device), else a refresh. A recovery must name an announced recovery
/// whose delay has passed when a delay is configured (it is then `started`, and cannot be used
/// again); without a delay it may name one or not. Returns the `started` record entry.
pub(crate) async fn begin_reshare(
    state: &AppState,
    owner: &str,
    wallet: &WalletView,
    new_roster: &mpcw_engine::Roster,
    named: Option<&str>,
) -> Result<RecoveryEventRow, ApiError> {
    let replaces = new_roster.iter().any(|(i, k)| {
        *i != wallet.server_index && wallet.roster.get(i).is_some_and(|old| old != k)
    });
    if !replaces {
        return record(state, owner, &wallet.id, ("refresh", "started"), None, None).await;
    }
    let delay = state.config.recovery_delay_secs;
    let Some(id) = named else {
        if delay > 0 {
            return Err(ApiError::unprocessable(
                "recovery_not_announced",
                format!(
                    "a new device needs an announced recovery: POST /v1/wallets/{}/recoveries, \
                     then reshare with its id after the {delay} s delay",
                    wallet.id
                ),
            ));
        }
        return record(
            state,
            owner,
            &wallet.id,
            ("recovery", "started"),
            None,
            None,
        )
        .await;
    };
    let at = now();
    let started = state
        .store
        .move_recovery(id, &wallet.id, ("waiting", "started"), at, at)
        .await?;
    let event = state
        .store
        .recovery_event(id, &wallet.id)
        .await?
        .filter(|e| e.kind == "recovery")
        .ok_or_else(|| ApiError::not_found("recovery"))?;
    if started {
        notify(state, &event).await;
        return Ok(event);
    }
    match (event.status.as_str(), event.not_before) {
        ("waiting", Some(t)) => Err(ApiError {
            retry_after: Some((t - at).max(1) as u64),
            ..ApiError::new(
                StatusCode::CONFLICT,
                "recovery_waiting",
                format!(
                    "the recovery may start in {} s, unless a device of the wallet cancels it",
                    t - at
                ),
            )
        }),
        (status, _) => Err(ApiError::conflict(format!(
            "the recovery is {status} and cannot start"
        ))),
    }
}
