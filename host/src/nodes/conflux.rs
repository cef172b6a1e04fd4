//! Conflux Core Space (the `conflux` plugin's networks): filling in a transaction as Fluent and
//! ConfluxPortal do, and `cfx_sendRawTransaction`. (eSpace networks are Ethereum-like: see
//! [`super::evm`].)

use serde_json::{json, Value};

use super::evm::{answered, estimated_call, hex, send_raw};
use super::{missing, Filled, Node, NodeError};

/// Request kinds that are transactions, and so may be broadcast.
pub(super) const SENDABLE: &[&str] = &["transaction"];

/// The reads a Dapp's page may make of the node (`POST /v1/bridge/rpc/{network}`).
pub(super) const READS: &[&str] = &[
    "cfx_getStatus",
    "cfx_epochNumber",
    "cfx_getBalance",
    "cfx_getNextNonce",
    "cfx_getCode",
    "cfx_call",
    "cfx_estimateGasAndCollateral",
    "cfx_gasPrice",
    "cfx_getBlockByEpochNumber",
    "cfx_getTransactionByHash",
    "cfx_getTransactionReceipt",
];

/// Fill in `from`, `nonce`, `gas`, `storageLimit`, `epochHeight` and (when no fee field is
/// given) `gasPrice`.
pub(super) async fn fill(
    node: &Node<'_>,
    request: &Value,
    sender: Option<&str>,
) -> Result<Filled, NodeError> {
    let mut filled = Filled::unchanged(request);
    if request.get("kind").and_then(Value::as_str) != Some("transaction") {
        return Ok(filled);
    }
    let need_nonce = missing(request, "nonce");
    let need_gas = missing(request, "gas") && missing(request, "gasLimit");
    let need_storage = missing(request, "storageLimit");
    let need_epoch = missing(request, "epochHeight");
    let need_fees = ["gasPrice", "maxFeePerGas", "maxPriorityFeePerGas"]
        .iter()
        .all(|f| missing(request, f));
    if !(need_nonce || need_gas || need_storage || need_epoch || need_fees) {
        return Ok(filled);
    }
    let from = if need_nonce || need_gas || need_storage {
        Some(filled.sender(sender, "nonce, gas and storage")?)
    } else {
        None
    };
    if let (true, Some(from)) = (need_nonce, &from) {
        let method = "cfx_getNextNonce";
        let n = node.call(method, json!([from])).await?;
        filled.set("nonce", hex(answered(method, &n)?));
    }
    if let (true, Some(from)) = (need_gas || need_storage, &from) {
        let method = "cfx_estimateGasAndCollateral";
        let call = estimated_call(request, from);
        let estimate = node.call(method, json!([call, "latest_state"])).await?;
        let field = |name: &str| {
            estimate
                .get(name)
                .ok_or_else(|| NodeError::Garbage(format!("{method}: no {name}")))
                .and_then(|v| answered(method, v))
        };
        if need_gas {
            // The node's gasLimit already has its margin over the gas used.
            filled.set("gas", hex(field("gasLimit")?));
        }
        if need_storage {
            filled.set("storageLimit", hex(field("storageCollateralized")?));
        }
    }
    if need_epoch {
        let method = "cfx_epochNumber";
        let epoch = node.call(method, json!(["latest_state"])).await?;
        filled.set("epochHeight", hex(answered(method, &epoch)?));
    }
    if need_fees {
        let method = "cfx_gasPrice";
        let price = node.call(method, json!([])).await?;
        filled.set("gasPrice", hex(answered(method, &price)?));
    }
    Ok(filled)
}

/// `cfx_sendRawTransaction`: the transaction hash the node gives.
pub(super) async fn broadcast(node: &Node<'_>, raw: &[u8]) -> Result<String, NodeError> {
    send_raw(node, "cfx_sendRawTransaction", raw).await
}
