//! Solana (the `solana` plugin's networks): the recent blockhash a transfer needs, and
//! `sendTransaction`.

use base64::Engine as _;
use serde_json::{json, Value};

use super::{missing, Filled, Node, NodeError};

/// Request kinds that are transactions, and so may be broadcast.
pub(super) const SENDABLE: &[&str] = &["transfer", "token_transfer", "transaction"];
/// Request kinds the plugin builds from fields, whose blockhash may be left out (a Dapp's own
/// `transaction` carries its blockhash inside).
const FILLABLE: &[&str] = &["transfer", "token_transfer"];

/// The reads a Dapp's page may make of the node (`POST /v1/bridge/rpc/{network}`).
pub(super) const READS: &[&str] = &[
    "getBalance",
    "getAccountInfo",
    "getMultipleAccounts",
    "getLatestBlockhash",
    "isBlockhashValid",
    "getFeeForMessage",
    "getMinimumBalanceForRentExemption",
    "getSignatureStatuses",
    "getSignaturesForAddress",
    "getTransaction",
    "getSlot",
    "getBlockHeight",
    "getTokenAccountBalance",
    "getTokenAccountsByOwner",
    "simulateTransaction",
];

/// Fill in the recent blockhash (and the sender) of a transfer.
pub(super) async fn fill(
    node: &Node<'_>,
    request: &Value,
    sender: Option<&str>,
) -> Result<Filled, NodeError> {
    let mut filled = Filled::unchanged(request);
    let kind = request.get("kind").and_then(Value::as_str).unwrap_or("");
    if !FILLABLE.contains(&kind) || !missing(request, "recentBlockhash") {
        return Ok(filled);
    }
    if let (true, Some(sender)) = (missing(request, "from"), sender) {
        filled.set("from", Value::String(sender.to_owned()));
    }
    let method = "getLatestBlockhash";
    let latest = node
        .call(method, json!([{ "commitment": "confirmed" }]))
        .await?;
    let blockhash = latest
        .pointer("/value/blockhash")
        .and_then(Value::as_str)
        .filter(|h| bs58_32(h))
        .ok_or_else(|| NodeError::Garbage(format!("{method}: no blockhash in {latest}")))?;
    filled.set("recentBlockhash", Value::String(blockhash.to_owned()));
    Ok(filled)
}

/// Whether `s` is the base58 form of 32 bytes.
fn bs58_32(s: &str) -> bool {
    bs58::decode(s).into_vec().is_ok_and(|b| b.len() == 32)
}

/// `sendTransaction` (base64, with the node's preflight check): the signature the node gives,
/// which is the transaction's id.
pub(super) async fn broadcast(node: &Node<'_>, raw: &[u8]) -> Result<String, NodeError> {
    let method = "sendTransaction";
    let wire = base64::engine::general_purpose::STANDARD.encode(raw);
    let id = node
        .call(method, json!([wire, { "encoding": "base64" }]))
        .await?;
    id.as_str()
        .filter(|s| bs58::decode(s).into_vec().is_ok_and(|b| b.len() == 64))
        .map(str::to_owned)
        .ok_or_else(|| NodeError::Garbage(format!("{method}: {id} is not a signature")))
}
