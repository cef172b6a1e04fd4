//! The signing bridge's HTTP side. Dapps authenticate with their id and API secret (HTTP Basic);
//! signers with their access token, which must be for the same Dapp as the request.
//!
//! - `POST /v1/bridge/requests` (Dapp): a request is checked and stored; the answer carries its
//!   single-use token, the link that opens it and the link's QR code.
//! - `GET /v1/bridge/requests/{id}` (Dapp): its status and, once signed, the result;
//!   `?wait=<seconds>` holds the answer until the status changes (long poll, up to 25 s); a
//!   final status (`done`, `failed`, `rejected`, `expired`) is answered at once.
//! - `GET /v1/bridge/requests/{id}/events` (Dapp): the same status as server-sent events, one
//!   `status` event per change, the stream ending after a final status.
//! - `POST /v1/bridge/open` (signer): use the token; the request is now the caller's to approve
//!   (`POST /v1/wallets/{id}/signatures` with `bridge` set) or reject.
//! - `POST /v1/bridge/requests/{id}/reject` (signer).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use base64::Engine as _;
use futures_util::Stream;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{token_hash, ApiJson, ApiQuery, DappCaller, Subject};
use super::views::{
    BridgeCreated, BridgeView, CreateBridgeRequest, OpenBridge, OpenedBridge, QrView, RejectBridge,
};
use super::wallets::{derived_key, owned_wallet, ready_key, wallet_view};
use crate::bridge::{
    qr, BridgeRequest, BridgeState, StepError, TokenError, DEFAULT_TTL_SECS, MAX_TTL_SECS,
};
use crate::state::{now, random_id, random_token, AppState};

/// The largest request a Dapp may post, bytes of JSON.
const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The longest long poll, seconds.
const MAX_WAIT_SECS: u64 = 25;

impl From<StepError> for ApiError {
    fn from(e: StepError) -> Self {
        match e {
            StepError::NotYours => ApiError::forbidden(e.to_string()),
            StepError::Expired => ApiError::gone(e.to_string()),
            StepError::WrongState(_) => ApiError::conflict(e.to_string()),
            StepError::Mismatch(m) => ApiError::unprocessable("bridge_mismatch", m),
        }
    }
}

/// `POST /v1/bridge/requests`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
    ApiJson(body): ApiJson<CreateBridgeRequest>,
) -> Result<(StatusCode, Json<BridgeCreated>), ApiError> {
    let network = state.registry.get(&body.network).ok_or_else(|| {
        ApiError::unprocessable("unknown_network", format!("no network {:?}", body.network))
    })?;
    if !body.request.is_object() {
        return Err(ApiError::unprocessable(
            "invalid_request",
            "request must be a JSON object, as the network's plugin documents it",
        ));
    }
    if body.request.to_string().len() > MAX_REQUEST_BYTES {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("request is larger than {MAX_REQUEST_BYTES} bytes"),
        ));
    }
    if !state
        .runtime
        .plugins()
        .iter()
        .any(|p| p.name == network.plugin)
    {
        return Err(ApiError::unprocessable(
            "unknown_network",
            format!("network {} has no loaded plugin", network.id),
        ));
    }
    let ttl = body.ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
    if !(1..=MAX_TTL_SECS).contains(&ttl) {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("ttl_secs must be 1 to {MAX_TTL_SECS}"),
        ));
    }
    let now = now();
    let request = BridgeRequest {
        id: random_id("br"),
        dapp,
        network: network.id.clone(),
        request: body.request,
        created_at: now,
        expires_at: now + ttl as i64,
        state: BridgeState::Pending,
    };
    let token = random_token();
    let deep_link = format!(
        "{}/bridge?token={}",
        state.config.public_url().trim_end_matches('/'),
        token.as_str()
    );
    let qr = QrView {
        svg: qr::svg(&deep_link).map_err(|e| ApiError::internal("drawing a QR code", e))?,
        png_base64: base64::engine::general_purpose::STANDARD
            .encode(qr::png(&deep_link).map_err(|e| ApiError::internal("drawing a QR code", e))?),
    };
    let created = BridgeCreated {
        id: request.id.clone(),
        token: token.to_string(),
        deep_link,
        qr,
        expires_at: request.expires_at,
    };
    tracing::info!(id = %request.id, dapp = %request.dapp, network = %request.network, "bridge request");
    state.bridge.insert(request, token_hash(&token), now);
    Ok((StatusCode::CREATED, Json(created)))
}

/// The Dapp's view of `request` now: its signing's outcome once approved.
async fn view_of(state: &AppState, request: &BridgeRequest) -> Result<BridgeView, ApiError> {
    let mut view = BridgeView {
        id: request.id.clone(),
        network: request.network.clone(),
        status: request.state_name().to_owned(),
        expires_at: request.expires_at,
        result: None,
        reason: None,
    };
    match &request.state {
        BridgeState::Pending | BridgeState::Opened { .. } if request.expires_at <= now() => {
            view.status = "expired".into();
        }
        BridgeState::Rejected { reason, .. } => view.reason = reason.clone(),
        BridgeState::Signing { owner, signing_id } if !signing_id.is_empty() => {
            let (status, result, error) = super::signing::outcome(state, signing_id, owner).await?;
            if status != "running" {
                view.status = status;
            }
            view.result = result;
            view.reason = error;
        }
        _ => {}
    }
    Ok(view)
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
    let read = || read_view(&state, &dapp, &id);
    let first = read().await?;
    let wait = q.wait.unwrap_or(0).min(MAX_WAIT_SECS);
    let until = tokio::time::Instant::now() + Duration::from_secs(wait);
    let mut view = first;
    let initial = view.status.clone();
    while view.status == initial && !is_final(&view.status) && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
        view = read().await?;
    }
    Ok(Json(view))
}

/// Whether `status` is final: the request will not change any more.
fn is_final(status: &str) -> bool {
    matches!(status, "done" | "failed" | "rejected" | "expired")
}

/// The Dapp's view of its request `id` now.
async fn read_view(state: &AppState, dapp: &str, id: &str) -> Result<BridgeView, ApiError> {
    let request = state
        .bridge
        .get(id)
        .filter(|r| r.dapp == dapp)
        .ok_or_else(|| ApiError::not_found("bridge request"))?;
    view_of(state, &request).await
}

/// `GET /v1/bridge/requests/{id}/events`.
pub async fn events(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    read_view(&state, &dapp, &id).await?;
    let stream = futures_util::stream::unfold(
        (state, dapp, id, None::<String>),
        |(state, dapp, id, last)| async move {
            if last.as_deref().is_some_and(is_final) {
                return None;
            }
            loop {
                let view = read_view(&state, &dapp, &id).await.ok()?;
                if last.as_deref() != Some(view.status.as_str()) {
                    let event = Event::default().event("status").json_data(&view).ok()?;
                    return Some((Ok(event), (state, dapp, id, Some(view.status))));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// `POST /v1/bridge/open`.
pub async fn open(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    ApiJson(body): ApiJson<OpenBridge>,
) -> Result<Json<OpenedBridge>, ApiError> {
    let caller_dapp = crate::auth::dapps::owner_dapp(&owner);
    let hash = token_hash(&body.token);
    // Peek before using the token: a user of another Dapp must not burn it.
    let request = state
        .bridge
        .take_token_for(&hash, now(), |r| caller_dapp == Some(r.dapp.as_str()))
        .map_err(|e| match e {
            TokenError::Used => ApiError::gone(e.to_string()),
            TokenError::Expired => ApiError::gone(e.to_string()),
            TokenError::OtherDapp => ApiError::forbidden(e.to_string()),
        })?;
    state
        .bridge
        .update(&request.id, |r| r.open(&owner))
        .ok_or_else(|| ApiError::gone("the bridge request has expired"))??;
    let dapp = state
        .dapps
        .get(&request.dapp)
        .map_err(|e| ApiError::internal("reading the Dapp registry", e))?;
    let summary = match &body.wallet {
        None => None,
        Some(wallet_id) => {
            let row = owned_wallet(&state, wallet_id, &owner).await?;
            let info = ready_key(&wallet_view(&row)?)?.clone();
            let network = state
                .registry
                .get(&request.network)
                .cloned()
                .ok_or_else(|| ApiError::internal("reading the registry", "network gone"))?;
            let key = derived_key(&info, &network)?;
            let runtime = state.runtime.clone();
            let text = request.request.to_string();
            let prepared = tokio::task::spawn_blocking(move || {
                runtime.prepare(&network.plugin, &text, &key, &network.to_wit())
            })
            .await
            .map_err(|e| ApiError::internal("preparing the request", e))??;
            Some(prepared.summary)
        }
    };
    tracing::info!(id = %request.id, "bridge request opened");
    Ok(Json(OpenedBridge {
        id: request.id,
        dapp: dapp.id.clone(),
        dapp_name: dapp.name.clone(),
        network: request.network,
        request: request.request,
        expires_at: request.expires_at,
        summary,
    }))
}

/// `POST /v1/bridge/requests/{id}/reject`.
pub async fn reject(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RejectBridge>,
) -> Result<Json<BridgeView>, ApiError> {
    let reason = body.reason.map(|r| r.chars().take(500).collect::<String>());
    let request = state
        .bridge
        .update(&id, |r| {
            r.reject(&owner, reason, now())?;
            Ok::<_, StepError>(r.clone())
        })
        .ok_or_else(|| ApiError::not_found("bridge request"))??;
    tracing::info!(%id, "bridge request rejected");
    Ok(Json(view_of(&state, &request).await?))
}

/// Before a signing that approves bridge request `id` starts: the caller must have opened it,
/// and sign exactly its network and request.
pub fn approve(
    state: &AppState,
    id: &str,
    owner: &str,
    network: &str,
    request: &serde_json::Value,
) -> Result<(), ApiError> {
    state
        .bridge
        .update(id, |r| r.approve(owner, network, request, now()))
        .ok_or_else(|| ApiError::not_found("bridge request"))??;
    Ok(())
}

/// After the approving signing started (`Some` id) or failed to start (`None`).
pub fn approval_done(state: &AppState, id: &str, signing_id: Option<&str>) {
    state.bridge.update(id, |r| match signing_id {
        Some(s) => r.signing_started(s),
        None => r.approval_failed(),
    });
}
