//! TON (the `ton` plugin's networks), through a toncenter-compatible JSON-RPC API
//! (`/api/v2/jsonRPC`): the wallet's `seqno` (its get method) and `validUntil` filled in, and
//! `sendBoc`.

use serde_json::{json, Value};

use super::{missing, Filled, Node, NodeError};
use crate::plugin::wit;

/// Request kinds that are transactions, and so may be broadcast.
pub(super) const SENDABLE: &[&str] = &["transfer", "jetton_transfer"];

/// The reads a Dapp's page may make of the node (`POST /v1/bridge/rpc/{network}`).
pub(super) const READS: &[&str] = &[
    "getAddressBalance",
    "getAddressInformation",
    "getWalletInformation",
    "getAddressState",
    "runGetMethod",
    "getTransactions",
    "estimateFee",
];

/// How long a message the host completes stays valid, seconds: longer than a bridge request
/// may wait for its approval.
const VALID_FOR_SECS: i64 = 1200;

/// Fill in `validUntil` (the host's clock) and `seqno` (the connected wallet's).
pub(super) async fn fill(
    node: &Node<'_>,
    request: &Value,
    sender: Option<&str>,
    now: i64,
) -> Result<Filled, NodeError> {
    let mut filled = Filled::unchanged(request);
    let kind = request.get("kind").and_then(Value::as_str).unwrap_or("");
    if !SENDABLE.contains(&kind) {
        return Ok(filled);
    }
    if missing(request, "validUntil") {
        filled.set("validUntil", json!(now + VALID_FOR_SECS));
    }
    if missing(request, "seqno") {
        // The connection's account is the v5r1 wallet's address.
        if request.get("wallet").and_then(Value::as_str) == Some("v4r2") {
            return Err(NodeError::NeedsSender("the seqno of a v4r2 wallet".into()));
        }
        let address = sender.ok_or_else(|| NodeError::NeedsSender("seqno".into()))?;
        let method = "runGetMethod";
        let answer = node
            .call(
                method,
                json!({"address": address, "method": "seqno", "stack": []}),
            )
            .await?;
        filled.set("seqno", json!(seqno(&answer)?));
    }
    Ok(filled)
}

/// The seqno a `runGetMethod` answer gives: a wallet not deployed yet (the method fails) is at
/// 0, and its first transfer deploys it.
fn seqno(answer: &Value) -> Result<u64, NodeError> {
    let garbage = || NodeError::Garbage(format!("runGetMethod: no seqno in {answer}"));
    if answer.get("exit_code").and_then(Value::as_i64) != Some(0) {
        return Ok(0);
    }
    let top = answer
        .pointer("/stack/0/1")
        .and_then(Value::as_str)
        .ok_or_else(garbage)?;
    u64::from_str_radix(top.trim_start_matches("0x"), 16).map_err(|_| garbage())
}

/// `sendBoc`: the node gives no id; the message's hash (the plugin's id) names it.
pub(super) async fn broadcast(
    node: &Node<'_>,
    signed: &wit::Finalized,
) -> Result<String, NodeError> {
    let method = "sendBoc";
    node.call(method, json!({ "boc": signed.encoded })).await?;
    Ok(signed.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wallet_that_is_not_deployed_is_at_seqno_zero() {
        let deployed = json!({"exit_code": 0, "stack": [["num", "0x1c"]]});
        assert_eq!(seqno(&deployed), Ok(28));
        assert_eq!(seqno(&json!({"exit_code": -13, "stack": []})), Ok(0));
        assert!(seqno(&json!({"exit_code": 0, "stack": []})).is_err());
    }
}
