//! Ethereum-like networks (the `ethereum` plugin's): filling in a transaction as wallets do,
//! and `eth_sendRawTransaction`.

use serde_json::{json, Value};

use super::{missing, Filled, Node, NodeError};

/// Request kinds that are transactions, and so may be broadcast.
pub(super) const SENDABLE: &[&str] = &["transaction"];

/// The reads a Dapp's page may make of the node (`POST /v1/bridge/rpc/{network}`).
pub(super) const READS: &[&str] = &[
    "eth_chainId",
    "net_version",
    "eth_blockNumber",
    "eth_getBalance",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_getTransactionCount",
    "eth_call",
    "eth_estimateGas",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getTransactionByHash",
    "eth_getTransactionReceipt",
    "eth_getLogs",
];

/// Blocks of fee history the priority fee is the median of.
const FEE_HISTORY_BLOCKS: u64 = 5;

/// A JSON-RPC quantity (`0x`-hex), a decimal string or a JSON number.
pub(super) fn quantity(v: &Value) -> Option<u128> {
    match v {
        Value::Number(n) => n.as_u64().map(u128::from),
        Value::String(s) => match s.strip_prefix("0x") {
            Some(hex) if !hex.is_empty() => u128::from_str_radix(hex, 16).ok(),
            Some(_) => None,
            None => s.parse().ok(),
        },
        _ => None,
    }
}

/// `n` as a JSON-RPC quantity.
pub(super) fn hex(n: u128) -> Value {
    Value::String(format!("{n:#x}"))
}

/// The node's quantity answer to `method`.
pub(super) fn answered(method: &str, v: &Value) -> Result<u128, NodeError> {
    quantity(v).ok_or_else(|| NodeError::Garbage(format!("{method}: {v} is not a quantity")))
}

/// Whether the request is a legacy or EIP-2930 transaction (priced by `gasPrice`).
fn priced_by_gas_price(request: &Value) -> bool {
    let named = request.get("type").and_then(Value::as_str);
    matches!(named, Some("legacy" | "eip2930" | "0x0" | "0x1"))
        || (named.is_none() && !missing(request, "gasPrice"))
}

/// Fill in `from`, `nonce`, `gas` and the fees of a transaction request.
pub(super) async fn fill(
    node: &Node<'_>,
    request: &Value,
    sender: Option<&str>,
) -> Result<Filled, NodeError> {
    let mut filled = Filled::unchanged(request);
    if request.get("kind").and_then(Value::as_str) != Some("transaction") {
        return Ok(filled);
    }
    let legacy = priced_by_gas_price(request);
    let need_nonce = missing(request, "nonce");
    let need_gas = missing(request, "gas") && missing(request, "gasLimit");
    let need_fees = if legacy {
        missing(request, "gasPrice")
    } else {
        missing(request, "maxFeePerGas") || missing(request, "maxPriorityFeePerGas")
    };
    if !(need_nonce || need_gas || need_fees) {
        return Ok(filled);
    }
    let from = filled.sender(sender, "nonce, gas and fees")?;
    if need_nonce {
        let n = node
            .call("eth_getTransactionCount", json!([from, "pending"]))
            .await?;
        filled.set("nonce", hex(answered("eth_getTransactionCount", &n)?));
    }
    if need_gas {
        let call = estimated_call(request, &from);
        let estimate = node.call("eth_estimateGas", json!([call])).await?;
        let estimate = answered("eth_estimateGas", &estimate)?;
        // A plain transfer costs exactly its estimate; a call may cost more when it runs
        // than when it was estimated, so it gets a fifth more.
        let has_data = call
            .get("data")
            .and_then(Value::as_str)
            .is_some_and(|d| !d.trim_start_matches("0x").is_empty());
        filled.set(
            "gas",
            hex(if has_data {
                estimate + estimate / 5
            } else {
                estimate
            }),
        );
    }
    if need_fees {
        if legacy {
            let price = node.call("eth_gasPrice", json!([])).await?;
            filled.set("gasPrice", hex(answered("eth_gasPrice", &price)?));
        } else {
            let (base, tip) = fees(node).await?;
            let priority = match request.get("maxPriorityFeePerGas").and_then(quantity) {
                Some(given) => given,
                None => {
                    filled.set("maxPriorityFeePerGas", hex(tip));
                    tip
                }
            };
            if missing(request, "maxFeePerGas") {
                // Room for the base fee to double before the transaction is mined.
                filled.set("maxFeePerGas", hex(2 * base + priority));
            }
        }
    }
    Ok(filled)
}

/// The next block's base fee and the median priority fee of recent blocks.
async fn fees(node: &Node<'_>) -> Result<(u128, u128), NodeError> {
    let method = "eth_feeHistory";
    let history = node
        .call(
            method,
            json!([format!("{FEE_HISTORY_BLOCKS:#x}"), "latest", [50]]),
        )
        .await?;
    let garbage = |what: &str| NodeError::Garbage(format!("{method}: {what}"));
    let base = history
        .get("baseFeePerGas")
        .and_then(Value::as_array)
        .and_then(|b| b.last())
        .ok_or_else(|| garbage("no baseFeePerGas"))?;
    let base = answered(method, base)?;
    let mut tips = history
        .get("reward")
        .and_then(Value::as_array)
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b.get(0).map(|r| answered(method, r)))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    tips.sort_unstable();
    let tip = tips.get(tips.len() / 2).copied().unwrap_or(0);
    Ok((base, tip))
}

/// The call a gas estimate runs: `from` sending the request's `to`, `value` (as a
/// quantity) and `data` (or `input`), where given.
pub(super) fn estimated_call(request: &Value, from: &str) -> Value {
    let mut call = json!({ "from": from });
    if let Some(to) = request.get("to").filter(|v| !v.is_null()) {
        call["to"] = to.clone();
    }
    if let Some(value) = request.get("value").and_then(quantity) {
        call["value"] = hex(value);
    }
    let data = request.get("data").or_else(|| request.get("input"));
    if let Some(data) = data.filter(|v| !v.is_null()) {
        call["data"] = data.clone();
    }
    call
}

/// `eth_sendRawTransaction`: the transaction hash the node gives.
pub(super) async fn broadcast(node: &Node<'_>, raw: &[u8]) -> Result<String, NodeError> {
    send_raw(node, "eth_sendRawTransaction", raw).await
}

/// Send the raw transaction `raw` (0x-hex) with `method`: the transaction hash the node gives.
pub(super) async fn send_raw(
    node: &Node<'_>,
    method: &str,
    raw: &[u8],
) -> Result<String, NodeError> {
    let hash = node
        .call(method, json!([format!("0x{}", hex::encode(raw))]))
        .await?;
    hash.as_str()
        .filter(|h| h.len() == 66 && h.starts_with("0x"))
        .map(str::to_owned)
        .ok_or_else(|| NodeError::Garbage(format!("{method}: {hash} is not a transaction hash")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_read_in_every_form_the_api_takes() {
        assert_eq!(quantity(&json!("0x5208")), Some(21000));
        assert_eq!(quantity(&json!("21000")), Some(21000));
        assert_eq!(quantity(&json!(21000)), Some(21000));
        assert_eq!(quantity(&json!("0x")), None);
        assert_eq!(quantity(&json!("0xzz")), None);
        assert_eq!(quantity(&json!(null)), None);
        assert_eq!(hex(21000), json!("0x5208"));
    }

    #[test]
    fn the_fee_fields_say_how_a_transaction_is_priced() {
        assert!(priced_by_gas_price(&json!({"type": "legacy"})));
        assert!(priced_by_gas_price(&json!({"gasPrice": "1"})));
        assert!(!priced_by_gas_price(
            &json!({"type": "eip1559", "gasPrice": "1"})
        ));
        assert!(!priced_by_gas_price(&json!({})));
    }
}
