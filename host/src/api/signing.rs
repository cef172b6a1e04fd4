//! Signing a chain request: the network's plugin prepares the payloads and the summary, one
//! threshold session per payload signs it (the client's parties co-sign through the relay), and
//! the plugin turns the signatures into the signed output.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use mpcw_engine::vault::SealedBox;
use mpcw_engine::{KeyShare, PartyIndex, PartyKeys, Roster, SessionContext};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, IdempotencyKey, Subject};
use super::idempotency;
use super::views::{PayloadView, Relayed, SigningView, StartSigning, WalletView};
use super::wallets::{
    derived_key, owned_wallet, owned_wallet_with_share, ready_key, seal_server_share, wallet_view,
};
use crate::chains::Network;
use crate::mpc::{
    hash_name, sign_message, signing_party, spawn_party, LiveSession, PartyFailure, SessionState,
};
use crate::plugin::wit;
use crate::state::{now, random_id, AppState, Metrics};
use crate::store::{Remembered, SigningRow, WalletRow};

/// What is kept of a prepared request besides the request itself.
#[derive(serde::Serialize, serde::Deserialize)]
struct Prepared {
    summary: wit::Summary,
    payloads: Vec<PayloadView>,
    signers: Vec<PartyIndex>,
    path: Vec<u32>,
}

/// What a finished signing request keeps: the plugin's output and the signatures it was made
/// from (one per payload).
#[derive(serde::Serialize, serde::Deserialize)]
struct SignedResult {
    finalized: wit::Finalized,
    signatures: Vec<wit::Signature>,
}

/// How long the answer that starts a signing waits for the server's first messages (it goes
/// without them after that: the client then fetches them from the relay).
const FIRST_MESSAGES_WAIT: Duration = Duration::from_secs(2);

/// Longest wait of `GET /v1/signatures/{id}?wait_ms=…`, kept below the request deadline.
const MAX_WAIT_MS: u64 = 20_000;

type SignatureFuture = Pin<Box<dyn Future<Output = Result<wit::Signature, PartyFailure>> + Send>>;

/// `POST /v1/wallets/{id}/signatures`.
pub async fn start(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    IdempotencyKey(key): IdempotencyKey,
    Path(wallet_id): Path<String>,
    ApiJson(body): ApiJson<StartSigning>,
) -> Result<Response, ApiError> {
    // Approving a bridge request changes it before the signing starts and again after: the
    // work runs in a task of its own, so a client that goes away (or the request deadline)
    // cannot leave the request half-approved, stuck in `signing` with nothing signing it.
    let work = tokio::spawn(async move {
        let fingerprint = serde_json::json!({ "wallet": wallet_id, "body": body });
        idempotency::once_recorded(&state, &owner.clone(), key, &fingerprint, |record| async {
            if let Some(bridge) = &body.bridge {
                super::bridge::approve(
                    &state,
                    bridge,
                    &owner,
                    &wallet_id,
                    &body.network,
                    &body.request,
                )
                .await?;
            }
            let started = start_signing(&state, owner, wallet_id.clone(), &body, record).await;
            if let Some(bridge) = &body.bridge {
                let id = started.as_ref().ok().map(|v| v.id.as_str());
                super::bridge::approval_done(&state, bridge, id).await;
            }
            Ok((StatusCode::CREATED, started?))
        })
        .await
    });
    work.await
        .map_err(|e| ApiError::internal("starting a signing", e))?
}

/// The status of signing request `id` of `owner`, its signed output once done, and its error
/// once failed.
pub(super) async fn outcome(
    state: &AppState,
    id: &str,
    owner: &str,
) -> Result<(String, Option<wit::Finalized>, Option<String>), ApiError> {
    let row = state
        .store
        .signing(id, owner)
        .await?
        .ok_or_else(|| ApiError::internal("reading a bridge request's signing", "not found"))?;
    let signed: Option<SignedResult> = row
        .result
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| ApiError::internal("reading a signing request", e))?;
    Ok((row.status, signed.map(|s| s.finalized), row.error))
}

/// One of a caller's wallets, with a ready key, and its key on a network of the key's scheme.
pub(super) struct WalletOnNetwork {
    /// The stored wallet.
    pub row: WalletRow,
    /// Its view.
    pub wallet: WalletView,
    /// The network.
    pub network: Network,
    /// The wallet's key at the network's path, as the plugin receives it.
    pub key: wit::PublicKey,
}

/// `owner`'s wallet `wallet_id` on network `network_id`: unknown networks and networks of
/// another scheme than the wallet's key are refused.
pub(super) async fn wallet_on_network(
    state: &AppState,
    owner: &str,
    wallet_id: &str,
    network_id: &str,
) -> Result<WalletOnNetwork, ApiError> {
    let row = owned_wallet(state, wallet_id, owner).await?;
    on_network(state, row, network_id)
}

/// Wallet `row` on network `network_id`, as [`wallet_on_network`] takes it.
fn on_network(
    state: &AppState,
    row: WalletRow,
    network_id: &str,
) -> Result<WalletOnNetwork, ApiError> {
    let wallet = wallet_view(&row)?;
    let info = ready_key(&wallet)?.clone();
    let network = state.registry.get(network_id).cloned().ok_or_else(|| {
        ApiError::unprocessable("unknown_network", format!("no network {network_id:?}"))
    })?;
    if network.scheme.name() != wallet.scheme {
        return Err(ApiError::unprocessable(
            "wrong_chain",
            format!(
                "network {} signs with {}, this wallet's key is {}",
                network.id,
                network.scheme.name(),
                wallet.scheme
            ),
        ));
    }
    let key = derived_key(&state.derived_keys, &info, &network)?;
    Ok(WalletOnNetwork {
        row,
        wallet,
        network,
        key,
    })
}

/// A request as the plugin takes it: a JSON string's text, or any other JSON value's.
pub(super) fn request_text(request: &serde_json::Value) -> String {
    match request {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The payloads and summary of `request` for `key`, from the network's plugin (run off the
/// async threads: a plugin call may take its whole fuel budget).
pub(super) async fn prepare(
    state: &AppState,
    network: &Network,
    request: &str,
    key: &wit::PublicKey,
) -> Result<wit::Prepared, ApiError> {
    let (runtime, network, request, key) = (
        state.runtime.clone(),
        network.clone(),
        request.to_owned(),
        key.clone(),
    );
    tokio::task::spawn_blocking(move || {
        runtime.prepare(&network.plugin, &request, &key, &network.to_wit())
    })
    .await
    .map_err(|e| ApiError::internal("preparing", e))?
    .map_err(ApiError::from)
}

/// Start signing `body` with `owner`'s wallet; `record` is the answer's idempotency record,
/// written with the signing request.
async fn start_signing(
    state: &Arc<AppState>,
    owner: String,
    wallet_id: String,
    body: &StartSigning,
    record: Option<idempotency::Record>,
) -> Result<SigningView, ApiError> {
    let (row, sealed_share) = owned_wallet_with_share(state, &wallet_id, &owner).await?;
    let WalletOnNetwork {
        row,
        wallet,
        network,
        key,
    } = on_network(state, row, &body.network)?;
    let signers = check_signers(
        &body.signers,
        wallet.threshold,
        wallet.parties,
        wallet.server_index,
    )?;
    let path = network
        .path()
        .map_err(|e| ApiError::internal("reading the registry", e))?;
    let request = request_text(&body.request);
    let prepared = prepare(state, &network, &request, &key).await?;
    super::sessions::check_room(state, &owner, prepared.payloads.len())?;
    if prepared.payloads.is_empty() {
        return Err(ApiError::unprocessable(
            "request_rejected",
            "the plugin prepared nothing to sign",
        ));
    }

    let share = open_share(state, &wallet_id, sealed_share).await?;
    refuse_suspended(&share, &signers)?;
    let keys = open_party_keys(state, &row.party_keys, &wallet_id)?;
    let roster = wallet.roster.clone();
    let signing_id = random_id("sig");
    let ttl = Duration::from_secs(state.config.session_ttl_secs);
    let mut payloads = Vec::new();
    let mut futures: Vec<SignatureFuture> = Vec::new();
    let mut sessions = Vec::new();
    for (k, payload) in prepared.payloads.iter().enumerate() {
        if payload.scheme != key.scheme {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "plugin_failed",
                format!("payload {k} is for another scheme than the wallet's key"),
            ));
        }
        let session_id = payload_session(&signing_id, k);
        let (tx, rx) = std::sync::mpsc::channel();
        let session = state.sessions.insert(LiveSession::new(
            session_id.clone(),
            owner.clone(),
            "sign",
            wallet.server_index,
            signers.iter().map(|i| (*i, roster[i])).collect(),
            ttl,
            tx,
        ));
        sessions.push(session.clone());
        let job = PartyJob {
            session_id: session_id.clone(),
            me: wallet.server_index,
            keys: keys.clone(),
            roster: roster.clone(),
            share: share.clone(),
            signers: signers.clone(),
            path: path.clone(),
        };
        futures.push(job.spawn(session, rx, payload)?);
        payloads.push(PayloadView {
            scheme: payload.scheme.name().into(),
            hash: hash_name(payload.hash).map(str::to_owned),
            bytes: hex::encode(&payload.bytes),
            label: payload.label.clone(),
            session: session_id,
            messages: Vec::new(),
        });
    }

    let kept = Prepared {
        summary: prepared.summary.clone(),
        payloads: payloads.clone(),
        signers: signers.clone(),
        path: path.clone(),
    };
    let t0 = now();
    let signing = SigningRow {
        id: signing_id.clone(),
        wallet_id: wallet_id.clone(),
        owner,
        network: network.id.clone(),
        request: request.clone(),
        prepared: serde_json::to_string(&kept).expect("prepared requests serialize"),
        status: "running".into(),
        result: None,
        error: None,
        bridge: body.bridge.clone(),
        created_at: t0,
        updated_at: t0,
    };
    let mut view = SigningView {
        id: signing_id.clone(),
        wallet_id: wallet_id.clone(),
        network: body.network.clone(),
        status: "running".into(),
        summary: prepared.summary,
        payloads,
        signers: signers.clone(),
        path,
        result: None,
        signatures: Vec::new(),
        error: None,
    };
    // A retry gets the answer without the first messages; it fetches them from the relay.
    let answer = record
        .as_ref()
        .map(|r| r.answer(StatusCode::CREATED, &view))
        .transpose()?;
    let remembered = record
        .as_ref()
        .zip(answer.as_ref())
        .map(|(r, a)| Remembered {
            owner: &r.owner,
            key: &r.key,
            response: a,
        });
    state.store.insert_signing(&signing, remembered).await?;
    // Spawned first: it ends the sessions if a party fails, which also ends the wait below.
    tokio::spawn(finish_signing(
        state.clone(),
        Finishing {
            signing_id,
            wallet_id,
            bridge: body.bridge.clone(),
            network,
            request,
            key,
        },
        futures,
        sessions.clone(),
    ));
    // The server's parties started while the request was written: their first messages go out
    // with the answer, which saves the client a round trip to fetch them.
    let clients: BTreeSet<PartyIndex> = signers
        .iter()
        .copied()
        .filter(|i| *i != wallet.server_index)
        .collect();
    for (payload, session) in view.payloads.iter_mut().zip(&sessions) {
        payload.messages = session
            .first_messages(&clients, FIRST_MESSAGES_WAIT)
            .await
            .messages
            .into_iter()
            .map(|(seq, envelope)| Relayed { seq, envelope })
            .collect();
    }
    Ok(view)
}

/// The relay session that signs payload `k` of signing request `signing_id`.
fn payload_session(signing_id: &str, k: usize) -> String {
    format!("{signing_id}.{k}")
}

/// The session of a signing request's first payload (every request has one).
fn first_session(signing_id: &str) -> String {
    payload_session(signing_id, 0)
}

fn check_signers(
    signers: &[PartyIndex],
    t: u16,
    n: u16,
    server: PartyIndex,
) -> Result<Vec<PartyIndex>, ApiError> {
    let set: BTreeSet<PartyIndex> = signers.iter().copied().collect();
    if set.len() != signers.len() || set.len() != t as usize || set.iter().any(|i| *i >= n) {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("signers must be {t} distinct party indices below {n}"),
        ));
    }
    if !set.contains(&server) {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("the server (party {server}) must be one of the signers"),
        ));
    }
    Ok(set.into_iter().collect())
}

/// Refuse a signature with a co-signer whose pair the server's share suspended (a past signature
/// with it failed an oblivious-transfer check), before any session starts.
fn refuse_suspended(share: &KeyShare, signers: &[PartyIndex]) -> Result<(), ApiError> {
    let suspended = share.suspended();
    match suspended.iter().find(|(p, _)| signers.contains(p)) {
        Some((party, reason)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "signing_suspended",
            format!(
                "signing with party {party} is suspended ({reason}); refresh the wallet's shares \
                 (POST /v1/wallets/{{id}}/reshare) before signing with it again"
            ),
        )),
        None => Ok(()),
    }
}

/// A server share of wallet `wallet_id` as stored (sealed under the KEK; `None` if none is),
/// opened, or taken from the opened shares kept in memory.
pub(super) async fn open_share(
    state: &AppState,
    wallet_id: &str,
    sealed: Option<String>,
) -> Result<KeyShare, ApiError> {
    let sealed =
        sealed.ok_or_else(|| ApiError::internal("opening the server share", "no share stored"))?;
    state
        .opened_shares
        .get_or_open(wallet_id, &sealed, |sealed| {
            open_sealed_share(state, wallet_id, sealed)
        })
        .await
        .map_err(|e| ApiError::internal("opening the server share", e))
}

/// The label a wallet's server share is sealed under.
pub(super) fn server_share_label(wallet_id: &str) -> String {
    format!("mpcw/server-share/{wallet_id}")
}

/// The label a wallet's server party keys are sealed under.
pub(super) fn party_keys_label(wallet_id: &str) -> String {
    format!("mpcw/party-keys/{wallet_id}")
}

/// Open a secret sealed under the KEK (JSON, as stored) that must carry `label`. The label is
/// bound to the ciphertext, so checking it refuses a sealed secret of another wallet copied
/// into this wallet's row.
fn open_labelled(
    state: &AppState,
    sealed: &str,
    label: &str,
) -> Result<Zeroizing<Vec<u8>>, String> {
    let sealed: SealedBox = serde_json::from_str(sealed).map_err(|e| e.to_string())?;
    if sealed.label != label {
        return Err(format!(
            "the stored secret is sealed as {:?}, not {label:?}",
            sealed.label
        ));
    }
    sealed.open_with_kek(&state.kek).map_err(|e| e.to_string())
}

/// A wallet's server share sealed under the KEK (JSON, as stored), opened.
fn open_sealed_share(state: &AppState, wallet_id: &str, sealed: &str) -> Result<KeyShare, String> {
    let bytes = open_labelled(state, sealed, &server_share_label(wallet_id))?;
    KeyShare::from_bytes(&bytes).map_err(|e| e.to_string())
}

pub(super) fn open_party_keys(
    state: &AppState,
    sealed: &str,
    wallet_id: &str,
) -> Result<PartyKeys, ApiError> {
    let bytes = open_labelled(state, sealed, &party_keys_label(wallet_id))
        .map_err(|e| ApiError::internal("opening party keys", e))?;
    PartyKeys::from_secret_bytes(&bytes)
        .map_err(|e| ApiError::internal("opening party keys", format!("wallet {wallet_id}: {e}")))
}

/// Everything the server's party of one signing session needs.
struct PartyJob {
    session_id: String,
    me: PartyIndex,
    keys: PartyKeys,
    roster: Roster,
    share: KeyShare,
    signers: Vec<PartyIndex>,
    path: Vec<u32>,
}

impl PartyJob {
    fn ctx(&self) -> mpcw_engine::Result<SessionContext> {
        SessionContext::new(
            &self.session_id,
            self.me,
            self.keys.clone(),
            self.roster.clone(),
        )
    }

    /// Start the party for `payload`; the future gives its signature.
    fn spawn(
        self,
        session: Arc<LiveSession>,
        inbox: std::sync::mpsc::Receiver<mpcw_engine::Authenticated>,
        payload: &wit::Payload,
    ) -> Result<SignatureFuture, ApiError> {
        let message = sign_message(payload.scheme, payload.hash, payload.bytes.clone())
            .map_err(|e| ApiError::unprocessable("request_rejected", e))?;
        let (done, rx) = oneshot::channel::<Result<wit::Signature, PartyFailure>>();
        spawn_party(
            session,
            move || signing_party(self.ctx()?, &self.share, &self.signers, &self.path, message),
            inbox,
            done,
        );
        Ok(Box::pin(async move {
            rx.await
                .map_err(|_| PartyFailure::Ended("the server's party stopped"))?
        }))
    }
}

/// What a running signing request ends with.
struct Finishing {
    signing_id: String,
    wallet_id: String,
    /// The bridge request it approves, if any.
    bridge: Option<String>,
    network: Network,
    request: String,
    key: wit::PublicKey,
}

/// Wait for every payload's signature, finalize with the plugin, store the result, end the
/// sessions, and settle the bridge request it approves.
async fn finish_signing(
    state: Arc<AppState>,
    job: Finishing,
    futures: Vec<SignatureFuture>,
    sessions: Vec<Arc<LiveSession>>,
) {
    let Finishing {
        signing_id,
        wallet_id,
        bridge,
        network,
        request,
        key,
    } = job;
    let mut signatures = Vec::new();
    let mut failure = None;
    for f in futures {
        match f.await {
            Ok(s) => signatures.push(s),
            Err(e) => {
                if let PartyFailure::Engine(mpcw_engine::Error::OtAbort { party, reason }) = &e {
                    suspend_pair(&state, &wallet_id, *party, reason).await;
                }
                failure = Some(e.to_string());
                break;
            }
        }
    }
    let outcome = match failure {
        Some(e) => Err(e),
        None => {
            let runtime = state.runtime.clone();
            let (n, r) = (network.clone(), request.clone());
            let sigs = signatures.clone();
            match tokio::task::spawn_blocking(move || {
                runtime.finalize(&n.plugin, &r, &key, &n.to_wit(), &sigs)
            })
            .await
            {
                Ok(Ok(finalized)) => Ok(serde_json::to_string(&SignedResult {
                    finalized,
                    signatures,
                })
                .expect("serializes")),
                Ok(Err(e)) => Err(format!("finalizing: {e}")),
                Err(e) => Err(format!("finalizing: {e}")),
            }
        }
    };
    let stored = match &outcome {
        Ok(result) => {
            state
                .store
                .finish_signing(&signing_id, Ok(result), now())
                .await
        }
        Err(e) => state.store.finish_signing(&signing_id, Err(e), now()).await,
    };
    if let Err(e) = stored {
        tracing::error!(signing = %signing_id, error = %e, "cannot record a signing result");
    }
    match &outcome {
        Ok(_) => Metrics::inc(&state.metrics.signatures),
        Err(e) => {
            Metrics::inc(&state.metrics.signing_failures);
            tracing::warn!(signing = %signing_id, error = %e, "signing failed");
        }
    }
    for s in sessions {
        s.finish(match &outcome {
            Ok(_) => SessionState::Done,
            Err(e) => SessionState::Failed(e.clone()),
        });
    }
    if let Some(bridge) = bridge {
        super::bridge::signing_finished(&state, &bridge).await;
    }
}

/// A co-signer failed an oblivious-transfer check: record in the server's share that signing
/// with it is suspended until the next refresh (DKLs23 requires this: going on would let it learn
/// the server's secret bit by bit). A refresh that replaced the share meanwhile wins.
async fn suspend_pair(state: &AppState, wallet_id: &str, party: PartyIndex, reason: &str) {
    let result: Result<bool, String> = async {
        let Some((generation, sealed)) = state
            .store
            .server_share_generation(wallet_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(false);
        };
        let mut share = open_sealed_share(state, wallet_id, &sealed)?;
        if !share.suspend(party, reason) {
            return Ok(false);
        }
        let (_, resealed) = seal_server_share(state, wallet_id, &share)?;
        state
            .store
            .replace_server_share(wallet_id, generation, &resealed)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    match result {
        Ok(true) => {
            tracing::warn!(wallet = %wallet_id, party, "signing with a party suspended after a failed oblivious-transfer check")
        }
        Ok(false) => {}
        Err(e) => {
            tracing::error!(wallet = %wallet_id, party, error = %e, "cannot record a suspended party")
        }
    }
}

/// Query of `GET /v1/signatures/{id}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowQuery {
    /// While the request is running, how long to wait for it to end, milliseconds (at most
    /// 20 000; 0, the default, answers at once). The wait ends early only on the server that
    /// started the signing; elsewhere the answer comes at once.
    #[serde(default)]
    wait_ms: u64,
}

/// `GET /v1/signatures/{id}?wait_ms=M`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ShowQuery>,
) -> Result<Json<SigningView>, ApiError> {
    if query.wait_ms > 0 {
        // The wait comes before the read, which then needs no second one. The request's
        // sessions (`{id}.0`, `{id}.1`, …) all end in `finish_signing`, only after the outcome
        // is stored: the first ending is enough. Its owner only sees a session, and one that
        // has ended answers at once.
        let wait = Duration::from_millis(query.wait_ms.min(MAX_WAIT_MS));
        if let Some(session) = state.sessions.get(&first_session(&id), &owner) {
            session.wait_ended(wait).await;
        }
    }
    let row = state
        .store
        .signing(&id, &owner)
        .await?
        .ok_or_else(|| ApiError::not_found("signing request"))?;
    let corrupt = |e: serde_json::Error| ApiError::internal("reading a signing request", e);
    let prepared: Prepared = serde_json::from_str(&row.prepared).map_err(corrupt)?;
    if row.status != "running" {
        // Its owner has the outcome: the relay need not keep what the sessions exchanged until
        // every client party has fetched the last of it.
        for payload in &prepared.payloads {
            if let Some(session) = state.sessions.get(&payload.session, &owner) {
                session.release_if_ended();
            }
        }
    }
    let signed: Option<SignedResult> = row
        .result
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(corrupt)?;
    let (result, signatures) = match signed {
        Some(s) => (Some(s.finalized), s.signatures),
        None => (None, Vec::new()),
    };
    Ok(Json(SigningView {
        id: row.id,
        wallet_id: row.wallet_id,
        network: row.network,
        status: row.status,
        summary: prepared.summary,
        payloads: prepared.payloads,
        signers: prepared.signers,
        path: prepared.path,
        result,
        signatures,
        error: row.error,
    }))
}
