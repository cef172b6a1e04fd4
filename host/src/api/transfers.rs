//! What a user's own signer needs to send from the wallet, besides signing itself:
//!
//! - `POST /v1/wallets/{id}/preview`: a request (a native transfer, say) with what the
//!   network's node fills in (nonce, fees, recent blockhash: the sender is the wallet's own
//!   address on the network), and the plugin's summary of it, before anything is signed. The
//!   signer shows the summary, and signs the completed request as usual.
//! - `POST /v1/signatures/{id}/broadcast`: the signed output of one of the user's finished
//!   signings sent to the network's node; the transaction id the node gives. Sending the same
//!   signed transaction again is harmless to the chain (the same id), so this is not guarded
//!   beyond the signing being the caller's and done.
//! - `POST /v1/networks/{network}/rpc`: a read of the network's chain through the server's
//!   node (balances, recent transactions), from the same allow-list as the Dapps' reads.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{ApiJson, Subject};
use super::signing::{outcome, prepare, request_text, wallet_on_network};
use super::views::{Broadcasted, ChainRead, PreviewRequest, Previewed};
use crate::state::AppState;

/// `POST /v1/wallets/{id}/preview`.
pub async fn preview(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(wallet_id): Path<String>,
    ApiJson(body): ApiJson<PreviewRequest>,
) -> Result<Json<Previewed>, ApiError> {
    if !body.request.is_object() {
        return Err(ApiError::unprocessable(
            "invalid_request",
            "request must be a JSON object, as the network's plugin documents it",
        ));
    }
    let w = wallet_on_network(&state, &owner, &wallet_id, &body.network).await?;
    // The sender: the wallet's own (first) address on the network.
    let (runtime, plugin, key, on) = (
        state.runtime.clone(),
        w.network.plugin.clone(),
        w.key.clone(),
        w.network.to_wit(),
    );
    let addresses = tokio::task::spawn_blocking(move || runtime.addresses(&plugin, &key, &on))
        .await
        .map_err(|e| ApiError::internal("deriving the sender", e))??;
    let sender = addresses.first().map(|a| a.value.as_str());
    let filled = state.nodes.fill(&w.network, &body.request, sender).await?;
    let prepared = prepare(&state, &w.network, &request_text(&filled.request), &w.key).await?;
    Ok(Json(Previewed {
        request: filled.request,
        filled: filled.fields,
        summary: prepared.summary,
        broadcastable: state
            .nodes
            .check_broadcast(&w.network, &body.request)
            .is_ok(),
    }))
}

/// `POST /v1/signatures/{id}/broadcast`.
pub async fn broadcast(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(id): Path<String>,
) -> Result<Json<Broadcasted>, ApiError> {
    let row = state
        .store
        .signing(&id, &owner)
        .await?
        .ok_or_else(|| ApiError::not_found("signing request"))?;
    let network = state.registry.get(&row.network).ok_or_else(|| {
        ApiError::unprocessable("unknown_network", format!("no network {:?}", row.network))
    })?;
    let request: Value = serde_json::from_str(&row.request).unwrap_or(Value::Null);
    state
        .nodes
        .check_broadcast(network, &request)
        .map_err(|m| ApiError::unprocessable("not_sendable", m))?;
    let (status, signed, _) = outcome(&state, &id, &owner).await?;
    let signed = signed.filter(|_| status == "done").ok_or_else(|| {
        ApiError::conflict(format!("the signing is {status}: nothing to send yet"))
    })?;
    let tx_id = state.nodes.broadcast(network, &signed).await?;
    tracing::info!(%id, network = %network.id, %tx_id, "broadcast for the wallet's owner");
    Ok(Json(Broadcasted {
        network: network.id.clone(),
        tx_id,
    }))
}

/// A read of `network`'s chain through its node: the node's JSON-RPC answer, its own errors
/// as JSON-RPC errors; a node that cannot be reached is 502.
pub(super) async fn chain_read(
    state: &AppState,
    network: &str,
    body: ChainRead,
) -> Result<Json<Value>, ApiError> {
    let network = state.registry.get(network).ok_or_else(|| {
        ApiError::unprocessable("unknown_network", format!("no network {network:?}"))
    })?;
    let params = match body.params {
        Value::Null => json!([]),
        p => p,
    };
    match state.nodes.read(network, &body.method, params).await {
        Ok(result) => Ok(Json(json!({ "jsonrpc": "2.0", "id": 1, "result": result }))),
        Err(crate::nodes::NodeError::Refused { code, message, .. }) => Ok(Json(json!({
            "jsonrpc": "2.0", "id": 1, "error": { "code": code, "message": message }
        }))),
        Err(e) => Err(e.into()),
    }
}

/// `POST /v1/networks/{network}/rpc`.
pub async fn rpc(
    State(state): State<Arc<AppState>>,
    Subject(_owner): Subject,
    Path(network): Path<String>,
    ApiJson(body): ApiJson<ChainRead>,
) -> Result<Json<Value>, ApiError> {
    chain_read(&state, &network, body).await
}
