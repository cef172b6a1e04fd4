//! Broadcasting a signed bridge request that asks for it: once its signing is done, one host
//! takes the broadcast on and sends the transaction to the network's node once; the node's
//! answer (its transaction id, or its refusal) is kept with the request. Never retried: a send
//! that timed out may have reached the network, and only the Dapp can tell whether to send
//! again (the signed transaction is in the request's result).

use super::status::view_of;
use crate::bridge::{BridgeState, Broadcast};
use crate::state::AppState;

/// If request `id` asks for a broadcast, is signed and nobody has sent it: send it.
pub(super) async fn broadcast_if_asked(state: &AppState, id: &str) {
    let request = match state.bridge.get(id).await {
        Ok(Some(r)) if r.broadcast == Some(Broadcast::Asked) => r,
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(%id, error = %e, "reading a bridge request to broadcast");
            return;
        }
    };
    if !matches!(&request.state, BridgeState::Signing { signing_id, .. } if !signing_id.is_empty())
    {
        return;
    }
    let signed = match view_of(state, &request).await {
        Ok(view) => view.result.filter(|_| view.status == "sending"),
        Err(e) => {
            tracing::warn!(%id, error = e.message, "reading a signed bridge request");
            return;
        }
    };
    let (Some(signed), Some(network)) = (signed, state.registry.get(&request.network)) else {
        return;
    };
    match state.bridge.update(id, |r| Ok(r.claim_broadcast())).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(%id, error = %e, "taking a broadcast on");
            return;
        }
    }
    let outcome = match state.nodes.broadcast(network, &signed).await {
        Ok(tx_id) => {
            tracing::info!(%id, network = %network.id, %tx_id, "broadcast");
            Broadcast::Sent { tx_id }
        }
        Err(e) => {
            tracing::warn!(%id, network = %network.id, error = %e, "broadcast not taken");
            Broadcast::NotSent {
                message: e.to_string(),
            }
        }
    };
    let recorded = state
        .bridge
        .update(id, |r| {
            r.broadcast = Some(outcome.clone());
            Ok(())
        })
        .await;
    if let Err(e) = recorded {
        tracing::error!(%id, error = %e, "recording a broadcast");
    }
}
