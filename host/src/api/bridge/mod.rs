//! The signing bridge's HTTP side. Dapps authenticate with their id and API secret (HTTP Basic);
//! signers with their access token, which must be for the same Dapp as the request.
//!
//! - `POST /v1/bridge/requests` (Dapp): a request is checked (by the network's plugin, as far as
//!   it can be without a wallet) and stored; the answer carries its
//!   single-use token and the link that opens it (its QR code is drawn where it is shown, or by
//!   `GET /v1/qr.svg` / `qr.png`).
//! - `GET /v1/bridge/requests/{id}` (Dapp): its status and, once signed, the result;
//!   `?wait=<seconds>` holds the answer until the status changes (long poll, up to 25 s); a
//!   final status (`done`, `failed`, `rejected`, `expired`) is answered at once.
//! - `GET /v1/bridge/requests/{id}/events` (Dapp): the same status as server-sent events, one
//!   `status` event per change, the stream ending after a final status.
//! - `POST /v1/bridge/open` (signer): use the token; the request is now the caller's to approve
//!   (`POST /v1/wallets/{id}/signatures` with `bridge` set) or reject.
//! - `POST /v1/bridge/requests/{id}/reject` (signer).
//! - `GET /v1/bridge/requests/{id}/wechat/code`, `…/wechat/link`, `…/alipay/code` (Dapp), and
//!   `POST /v1/bridge/peek` (anyone holding a token): the mini-programs' ways in, see
//!   [`entries`].
//! - `GET /v1/bridge/callback-key` (Dapp): the key its callbacks are signed with.
//! - `POST /v1/bridge/rpc/{network}` (Dapp): a read of the network's chain through the server's
//!   node (see [`crate::nodes`]), for the Dapp's page.
//!
//! Once a request's status is final, its Dapp's callback URL (the registered one, or the
//! request's own on the same origin) gets one signed event, delivered at least once: see
//! [`crate::bridge::callback`].

pub mod connect;
pub mod entries;
mod send;
mod settle;
mod status;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::error::ApiError;
use super::extract::{token_hash, ApiJson, DappCaller, Subject};
use super::signing::{prepare, request_text, wallet_on_network};
use super::views::{
    BridgeCreated, BridgeView, CallbackKey, ChainRead, CreateBridgeRequest, OpenBridge,
    OpenedBridge, RejectBridge,
};
use crate::bridge::{
    BridgeRequest, BridgeState, Broadcast, ConnectAsk, ConnectionRef, StepError, TokenError,
    Unavailable, UpdateError, DEFAULT_TTL_SECS, MAX_TTL_SECS,
};
use crate::state::{now, random_id, random_token, AppState};

pub(crate) use settle::settle;
pub use settle::sweep_expiries;
pub use status::{events, show};

/// The largest request a Dapp may post, bytes of JSON.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

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

impl From<Unavailable> for ApiError {
    fn from(e: Unavailable) -> Self {
        tracing::error!(error = %e, "bridge store");
        ApiError {
            retry_after: Some(2),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the bridge store is unavailable; try again",
            )
        }
    }
}

impl From<UpdateError> for ApiError {
    fn from(e: UpdateError) -> Self {
        match e {
            UpdateError::NotFound => ApiError::not_found("bridge request"),
            UpdateError::Step(s) => s.into(),
            UpdateError::Store(u) => u.into(),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Used | TokenError::Expired => ApiError::gone(e.to_string()),
            TokenError::OtherDapp | TokenError::OtherUser => ApiError::forbidden(e.to_string()),
            TokenError::Store(u) => u.into(),
        }
    }
}

/// The callback URL of a new request: the Dapp's registered one, or the request's own if it has
/// the same origin (so a leaked API secret cannot make the host post to other hosts).
fn callback_url(
    registered: Option<&str>,
    asked: Option<String>,
) -> Result<Option<String>, ApiError> {
    let Some(asked) = asked else {
        return Ok(registered.map(str::to_owned));
    };
    let refuse = |why: &str| Err(ApiError::unprocessable("invalid_request", why.to_owned()));
    let Some(registered) = registered else {
        return refuse("callback_url needs a callback URL registered for the Dapp");
    };
    if !crate::auth::oidc::allowed_url(&asked) {
        return refuse("callback_url must be an https URL (http only on loopback)");
    }
    let origin = |u: &str| url::Url::parse(u).map(|u| u.origin());
    match (origin(&asked), origin(registered)) {
        (Ok(a), Ok(r)) if a == r => Ok(Some(asked)),
        _ => refuse("callback_url must have the origin of the Dapp's registered callback URL"),
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
    // A connection names the sender (and the wallet that signs).
    let connected = match &body.connection {
        None => None,
        Some(id) => Some(connect::usable_account(&state, &dapp, id, &network.id).await?),
    };
    // What the Dapp left out, from the network's node; the rest is checked as given.
    let sender = connected.as_ref().map(|(_, a)| a.address.as_str());
    let filled = state.nodes.fill(network, &body.request, sender).await?;
    if body.broadcast {
        state
            .nodes
            .check_broadcast(network, &filled.request)
            .map_err(|m| ApiError::unprocessable("invalid_request", m))?;
    }
    let text = request_text(&filled.request);
    let connection = match connected {
        // The network's plugin checks the request as far as it can before a wallet is chosen.
        None => {
            let (runtime, plugin, on) = (
                state.runtime.clone(),
                network.plugin.clone(),
                network.to_wit(),
            );
            tokio::task::spawn_blocking(move || runtime.validate(&plugin, &text, &on))
                .await
                .map_err(|e| ApiError::internal("checking the request", e))??;
            None
        }
        // A connection names the wallet: the plugin checks the request for it, sender and fee
        // payer included.
        Some((c, account)) => {
            let w = wallet_on_network(&state, &c.owner, &account.wallet_id, &network.id).await?;
            prepare(&state, &w.network, &text, &w.key).await?;
            Some(ConnectionRef {
                id: c.id,
                owner: c.owner,
                wallet_id: account.wallet_id,
            })
        }
    };
    let created = issue(
        &state,
        Issue {
            dapp,
            network: network.id.clone(),
            request: filled.request,
            connect: None,
            connection,
            filled: filled.fields,
            broadcast: body.broadcast,
            ttl_secs: body.ttl_secs,
            callback_url: body.callback_url,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A new bridge request, checked for what it asks.
struct Issue {
    dapp: String,
    network: String,
    request: serde_json::Value,
    connect: Option<ConnectAsk>,
    connection: Option<ConnectionRef>,
    filled: Vec<crate::nodes::FilledField>,
    broadcast: bool,
    ttl_secs: Option<u64>,
    callback_url: Option<String>,
}

/// Store a new request, with its time to live and callback URL checked, and give its token
/// and link.
async fn issue(state: &AppState, new: Issue) -> Result<BridgeCreated, ApiError> {
    let ttl = new.ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
    if !(1..=MAX_TTL_SECS).contains(&ttl) {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("ttl_secs must be 1 to {MAX_TTL_SECS}"),
        ));
    }
    let registered = state
        .dapps
        .get(&new.dapp)
        .map_err(|e| ApiError::internal("reading the Dapp registry", e))?
        .callback_url
        .clone();
    let callback_url = callback_url(registered.as_deref(), new.callback_url)?;
    let now = now();
    let request = BridgeRequest {
        id: random_id("br"),
        dapp: new.dapp,
        network: new.network,
        request: new.request,
        connect: new.connect,
        connection: new.connection,
        filled: new.filled,
        broadcast: new.broadcast.then_some(Broadcast::Asked),
        callback_url,
        created_at: now,
        expires_at: now + ttl as i64,
        state: BridgeState::Pending,
    };
    let token = random_token();
    // The Dapp's id tells the signer which Dapp to log in for, and the network which of the
    // user's wallets to open it with (a connect request: which to offer), before it uses the
    // token.
    let mut deep_link = format!(
        "{}/bridge?token={}&dapp={}&network={}",
        state.config.public_url().trim_end_matches('/'),
        token.as_str(),
        request.dapp,
        request.network
    );
    if request.connect.is_some() {
        deep_link.push_str("&action=connect");
    }
    let created = BridgeCreated {
        id: request.id.clone(),
        token: token.to_string(),
        deep_link,
        expires_at: request.expires_at,
    };
    tracing::info!(id = %request.id, dapp = %request.dapp, network = %request.network, action = request.action(), "bridge request");
    // The mini-programs' entries carry a second, shorter token (see crate::bridge::entries).
    let entry = crate::bridge::entries::entry_token(&state.kek, &state.config.kek_id, &request.id);
    state
        .bridge
        .insert(request, &[token_hash(&token), token_hash(&entry)])
        .await?;
    Ok(created)
}

/// `POST /v1/bridge/open`.
pub async fn open(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    ApiJson(body): ApiJson<OpenBridge>,
) -> Result<Json<OpenedBridge>, ApiError> {
    let caller_dapp = crate::auth::dapps::owner_dapp(&owner);
    let hash = token_hash(&body.token);
    // Peek before using the token: a user of another Dapp (or, for a request naming a
    // connection, another user) must not burn it.
    let request = state
        .bridge
        .take_token_for(&hash, now(), |r| {
            if caller_dapp != Some(r.dapp.as_str()) {
                Err(TokenError::OtherDapp)
            } else if r.connection.as_ref().is_some_and(|c| c.owner != owner) {
                Err(TokenError::OtherUser)
            } else {
                Ok(())
            }
        })
        .await?;
    state
        .bridge
        .update(&request.id, |r| r.open(&owner))
        .await
        .map_err(|e| match e {
            UpdateError::NotFound => ApiError::gone("the bridge request has expired"),
            other => other.into(),
        })?;
    let dapp = state
        .dapps
        .get(&request.dapp)
        .map_err(|e| ApiError::internal("reading the Dapp registry", e))?;
    // A request naming a connection is shown for the connection's wallet; a connect request
    // has no summary (the signer shows the networks asked for).
    let wallet = match (&request.connect, &request.connection) {
        (Some(_), _) => None,
        (None, Some(c)) => Some(c.wallet_id.clone()),
        (None, None) => body.wallet,
    };
    let summary = match &wallet {
        None => None,
        Some(wallet_id) => {
            let w = wallet_on_network(&state, &owner, wallet_id, &request.network).await?;
            let text = request_text(&request.request);
            Some(prepare(&state, &w.network, &text, &w.key).await?.summary)
        }
    };
    tracing::info!(id = %request.id, action = request.action(), "bridge request opened");
    Ok(Json(OpenedBridge {
        action: request.action().to_owned(),
        networks: request
            .connect
            .as_ref()
            .map(|c| c.networks.clone())
            .unwrap_or_default(),
        connection: request.connection.as_ref().map(|c| c.id.clone()),
        filled: request.filled.clone(),
        broadcast: request.broadcast.is_some(),
        id: request.id,
        dapp: dapp.id.clone(),
        dapp_name: dapp.name.clone(),
        network: request.network,
        request: request.request,
        expires_at: request.expires_at,
        wallet,
        summary,
    }))
}

/// `GET /v1/bridge/callback-key`: the calling Dapp's callback key (derived from the KEK, so
/// the configuration alone does not give it). Not cached by anyone on the way.
pub async fn callback_key(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
) -> (
    [(axum::http::HeaderName, &'static str); 1],
    Json<CallbackKey>,
) {
    let key = crate::bridge::callback::dapp_key(&state.kek, &state.config.kek_id, &dapp);
    (
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(CallbackKey {
            key: hex::encode(key),
            algorithm: "HMAC-SHA256".into(),
        }),
    )
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
            r.reject(&owner, reason.clone(), now())?;
            Ok(r.clone())
        })
        .await?;
    tracing::info!(%id, "bridge request rejected");
    settle(&state, &id).await;
    Ok(Json(status::view_of(&state, &request).await?))
}

/// Before a signing that approves bridge request `id` starts: the caller must have opened it,
/// and sign exactly its network and request, with the wallet of its connection (still in use)
/// if it names one.
pub async fn approve(
    state: &AppState,
    id: &str,
    owner: &str,
    wallet_id: &str,
    network: &str,
    request: &serde_json::Value,
) -> Result<(), ApiError> {
    let found = state
        .bridge
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found("bridge request"))?;
    if let Some(c) = &found.connection {
        state
            .store
            .connection(&c.id, &found.dapp)
            .await?
            .ok_or_else(|| ApiError::gone(format!("connection {} no longer exists", c.id)))?
            .account(&found.network, now())?;
    }
    state
        .bridge
        .update(id, |r| r.approve(owner, wallet_id, network, request, now()))
        .await?;
    Ok(())
}

/// After the approving signing started (`Some` id) or failed to start (`None`). The signing
/// may even have finished already, so the request is settled here as well as when it ends.
pub async fn approval_done(state: &AppState, id: &str, signing_id: Option<&str>) {
    let recorded = state
        .bridge
        .update(id, |r| {
            match signing_id {
                Some(s) => r.signing_started(s),
                None => r.approval_failed(),
            }
            Ok(())
        })
        .await;
    if let Err(e) = recorded {
        tracing::error!(%id, error = %e, "recording a bridge approval");
    }
    send::broadcast_if_asked(state, id).await;
    settle(state, id).await;
}

/// The signings approving `ids` were failed because their host stopped: wake whoever waits, and
/// settle them.
pub async fn settle_failed_bridges(state: &AppState, ids: &[String]) {
    for id in ids {
        signing_finished(state, id).await;
    }
}

/// The signing that approved request `id` ended: wake whoever waits, broadcast the signed
/// transaction if the request asks, and settle it.
pub async fn signing_finished(state: &AppState, id: &str) {
    state.bridge.announce(id).await;
    send::broadcast_if_asked(state, id).await;
    settle(state, id).await;
}

/// `POST /v1/bridge/rpc/{network}` (Dapp): a read of the network's chain through the server's
/// node, for the Dapp's page (balances, calls, receipts). The node's own error comes back as a
/// JSON-RPC error; a node that cannot be reached is 502.
pub async fn rpc(
    State(state): State<Arc<AppState>>,
    DappCaller(_dapp): DappCaller,
    Path(network): Path<String>,
    ApiJson(body): ApiJson<ChainRead>,
) -> Result<Json<serde_json::Value>, ApiError> {
    crate::api::transfers::chain_read(&state, &network, body).await
}
