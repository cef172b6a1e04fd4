//! Wallets: create one by distributed key generation between the client's parties and the
//! server's, list them, and show their addresses on every network.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
use mpcw_engine::vault::SealedBox;
use mpcw_engine::{KeyShare, PartyKeys, PublicKeyInfo, Roster, Scheme, SessionContext};
use tokio::sync::oneshot;

use super::error::ApiError;
use super::extract::{ApiJson, IdempotencyKey, Subject};
use super::idempotency;
use super::views::{CreateWallet, CreatedWallet, NetworkAddresses, SessionView, WalletView};
use crate::mpc::{spawn_party, LiveSession, PartyFailure, SessionState};
use crate::state::{now, random_id, AppState, Metrics};
use crate::store::{WalletRow, WalletStatus};

/// `POST /v1/wallets`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<CreateWallet>,
) -> Result<Response, ApiError> {
    idempotency::once(&state, &owner.clone(), key, &body, async {
        let created = start_keygen(&state, owner, &body).await?;
        Ok((StatusCode::CREATED, created))
    })
    .await
}

async fn start_keygen(
    state: &Arc<AppState>,
    owner: String,
    body: &CreateWallet,
) -> Result<CreatedWallet, ApiError> {
    let scheme: Scheme = body.scheme.parse().map_err(|e: mpcw_engine::Error| {
        ApiError::unprocessable("invalid_request", e.to_string())
    })?;
    let (t, n) = (body.threshold, body.parties);
    mpcw_engine::scheme::check_threshold(t, n)
        .map_err(|e| ApiError::unprocessable("invalid_request", e.to_string()))?;
    let server_index = body.server_index.unwrap_or(1);
    if server_index >= n {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("server_index {server_index} is not below parties {n}"),
        ));
    }
    let expected: BTreeSet<u16> = (0..n).filter(|i| *i != server_index).collect();
    let given: BTreeSet<u16> = body.roster.keys().copied().collect();
    if given != expected {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("roster must hold the identity keys of parties {expected:?}, every party but the server"),
        ));
    }
    let label = body.label.clone().unwrap_or_else(|| "wallet".into());
    if label.len() > 100 {
        return Err(ApiError::unprocessable(
            "invalid_request",
            "label is longer than 100 bytes",
        ));
    }

    super::sessions::check_room(state, &owner, 1)?;
    let keys = PartyKeys::generate(&mut rand_core::OsRng);
    let mut roster: Roster = body.roster.clone();
    roster.insert(server_index, keys.public());
    let wallet_id = random_id("w");
    let sealed_keys = SealedBox::seal_with_kek(
        &super::signing::party_keys_label(&wallet_id),
        keys.to_secret_bytes().as_ref(),
        &state.config.kek_id,
        &state.kek,
    )
    .map_err(|e| ApiError::internal("sealing party keys", e))?;
    let t0 = now();
    let row = WalletRow {
        id: wallet_id.clone(),
        owner: owner.clone(),
        label,
        scheme: scheme.name().into(),
        threshold: t.into(),
        parties: n.into(),
        server_index: server_index.into(),
        roster: serde_json::to_string(&roster).expect("rosters serialize"),
        party_keys: serde_json::to_string(&sealed_keys).expect("sealed boxes serialize"),
        status: WalletStatus::Pending,
        public_info: None,
        error: None,
        created_at: t0,
        updated_at: t0,
    };
    state.store.insert_wallet(&row).await?;

    let session_id = random_id("s");
    let (tx, rx) = std::sync::mpsc::channel();
    let session = state.sessions.insert(LiveSession::new(
        session_id.clone(),
        owner,
        "keygen",
        server_index,
        roster.clone(),
        Duration::from_secs(state.config.session_ttl_secs),
        tx,
    ));
    let ctx = SessionContext::new(session_id.clone(), server_index, keys, roster)
        .map_err(|e| ApiError::internal("starting key generation", e))?;
    let config = KeygenConfig {
        scheme,
        threshold: t,
        parties: n,
    };
    let (done_tx, done_rx) = oneshot::channel();
    spawn_party(
        session.clone(),
        move || Ok(Box::new(KeygenSession::new(ctx, config)?) as _),
        rx,
        done_tx,
    );
    tokio::spawn(finish_keygen(
        state.clone(),
        session.clone(),
        wallet_id,
        done_rx,
    ));

    Ok(CreatedWallet {
        wallet: wallet_view(&row)?,
        session: SessionView {
            id: session_id,
            server_index,
            parties: (0..n).collect(),
        },
    })
}

/// Store the share when the server's party finishes (share and status in one transaction),
/// then end the session.
async fn finish_keygen(
    state: Arc<AppState>,
    session: Arc<LiveSession>,
    wallet_id: String,
    done: oneshot::Receiver<Result<KeyShare, PartyFailure>>,
) {
    let outcome = match done.await {
        Ok(Ok(share)) => store_share(&state, &wallet_id, &share).await,
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the server's party stopped".to_owned()),
    };
    match outcome {
        Ok(()) => {
            Metrics::inc(&state.metrics.wallets_created);
            tracing::info!(wallet = %wallet_id, "wallet created");
            session.finish(SessionState::Done);
        }
        Err(e) => {
            Metrics::inc(&state.metrics.keygen_failures);
            if let Err(db) = state.store.fail_wallet(&wallet_id, &e, now()).await {
                tracing::error!(wallet = %wallet_id, error = %db, "cannot record a failed key generation");
            }
            session.finish(SessionState::Failed(e));
        }
    }
}

async fn store_share(state: &AppState, wallet_id: &str, share: &KeyShare) -> Result<(), String> {
    let (info, sealed) = seal_server_share(state, wallet_id, share)?;
    state
        .store
        .complete_wallet(wallet_id, &info, &sealed, now())
        .await
        .map_err(|e| {
            tracing::error!(wallet = %wallet_id, error = %e, "cannot store a server share");
            "the server could not store its share".to_owned()
        })
}

/// The public information (JSON) of a server share, and the share sealed under the KEK (JSON).
pub(super) fn seal_server_share(
    state: &AppState,
    wallet_id: &str,
    share: &KeyShare,
) -> Result<(String, String), String> {
    let info = serde_json::to_string(&share.public_info()).map_err(|e| e.to_string())?;
    let bytes = zeroize::Zeroizing::new(share.to_bytes());
    let sealed = SealedBox::seal_with_kek(
        &super::signing::server_share_label(wallet_id),
        &bytes,
        &state.config.kek_id,
        &state.kek,
    )
    .map_err(|e| e.to_string())?;
    Ok((
        info,
        serde_json::to_string(&sealed).map_err(|e| e.to_string())?,
    ))
}

/// `GET /v1/wallets`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = state.store.wallets(&owner).await?;
    let views = rows
        .iter()
        .map(wallet_view)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(serde_json::json!({ "wallets": views })))
}

/// `GET /v1/wallets/{id}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(id): Path<String>,
) -> Result<Json<WalletView>, ApiError> {
    let row = owned_wallet(&state, &id, &owner).await?;
    Ok(Json(wallet_view(&row)?))
}

/// `GET /v1/wallets/{id}/addresses`: the wallet's addresses on every network of its scheme.
pub async fn addresses(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let row = owned_wallet(&state, &id, &owner).await?;
    let view = wallet_view(&row)?;
    let info = ready_key(&view)?;
    let networks: Vec<_> = state
        .registry
        .iter()
        .filter(|n| n.scheme.name() == view.scheme)
        .cloned()
        .collect();
    let runtime = state.runtime.clone();
    let derived_keys = state.derived_keys.clone();
    let info = info.clone();
    let list = tokio::task::spawn_blocking(move || -> Result<Vec<NetworkAddresses>, ApiError> {
        let mut out = Vec::new();
        for n in networks {
            let key = derived_key(&derived_keys, &info, &n)?;
            let addresses = runtime.addresses(&n.plugin, &key, &n.to_wit())?;
            out.push(NetworkAddresses {
                network: n.id.clone(),
                name: n.name.clone(),
                path: n.derivation_path.clone(),
                public_key: hex::encode(&key.bytes),
                addresses,
            });
        }
        Ok(out)
    })
    .await
    .map_err(|e| ApiError::internal("deriving addresses", e))??;
    Ok(Json(
        serde_json::json!({ "wallet_id": id, "networks": list }),
    ))
}

/// The wallet `id` of `owner`, or 404 (another owner's wallet is not found either).
pub(super) async fn owned_wallet(
    state: &AppState,
    id: &str,
    owner: &str,
) -> Result<WalletRow, ApiError> {
    state
        .store
        .wallet(id, owner)
        .await?
        .ok_or_else(|| ApiError::not_found("wallet"))
}

/// The wallet `id` if `owner` owns it, with its newest sealed server share, read in one
/// statement ([`crate::store::Store::wallet_with_share`]), or 404.
pub(super) async fn owned_wallet_with_share(
    state: &AppState,
    id: &str,
    owner: &str,
) -> Result<(WalletRow, Option<String>), ApiError> {
    state
        .store
        .wallet_with_share(id, owner)
        .await?
        .ok_or_else(|| ApiError::not_found("wallet"))
}

/// The group key of a ready wallet, or 409.
pub(super) fn ready_key(view: &WalletView) -> Result<&PublicKeyInfo, ApiError> {
    match (&view.status, &view.public_key) {
        (WalletStatus::Ready, Some(info)) => Ok(info),
        (WalletStatus::Pending, _) => Err(ApiError::conflict(
            "the wallet's key generation is still running",
        )),
        _ => Err(ApiError::conflict(
            "the wallet has no key (its key generation failed)",
        )),
    }
}

/// The public key of a group key on `network` (at its path), as plugins take it.
pub(super) fn derived_key(
    keys: &crate::chains::DerivedKeys,
    info: &PublicKeyInfo,
    network: &crate::chains::Network,
) -> Result<crate::plugin::wit::PublicKey, ApiError> {
    let path = network
        .path()
        .map_err(|e| ApiError::internal("reading the registry", e))?;
    let parent = mpcw_engine::hd::ExtendedPublicKey {
        public_key: hex::decode(&info.public_key)
            .map_err(|e| ApiError::internal("reading a public key", e))?,
        chain_code: info
            .chain_code
            .as_deref()
            .and_then(|c| hex::decode(c).ok())
            .and_then(|c| c.try_into().ok())
            .ok_or_else(|| ApiError::internal("reading a public key", "no chain code"))?,
    };
    let child = keys
        .derive(info.scheme, &parent, &path)
        .map_err(|e| ApiError::internal("deriving a key", e))?;
    Ok(network.plugin_key(info.scheme, &child))
}

/// A stored wallet as the API shows it.
pub(super) fn wallet_view(row: &WalletRow) -> Result<WalletView, ApiError> {
    let corrupt = |e: serde_json::Error| ApiError::internal("reading a wallet", e);
    Ok(WalletView {
        id: row.id.clone(),
        label: row.label.clone(),
        scheme: row.scheme.clone(),
        threshold: row.threshold as u16,
        parties: row.parties as u16,
        server_index: row.server_index as u16,
        roster: serde_json::from_str(&row.roster).map_err(corrupt)?,
        status: row.status,
        public_key: row
            .public_info
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(corrupt)?,
        error: row.error.clone(),
        created_at: row.created_at,
    })
}
