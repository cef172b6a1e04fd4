//! Bitcoin (the `bitcoin` plugin's networks): broadcast through an Esplora-compatible API
//! (`POST {rpc_url}/tx` with the raw transaction in hex; the answer is its txid), as Blockstream's
//! and mempool.space's servers and a self-hosted electrs offer it. A PSBT is complete in itself:
//! nothing is filled in, and a PSBT still waiting for other signers is not sent.

use super::jsonrpc::{read_limited, unreachable};
use super::{Node, NodeError};
use crate::plugin::wit;

/// Request kinds that may be broadcast (once every input is signed).
pub(super) const SENDABLE: &[&str] = &["psbt"];

/// `POST /tx`: the txid the server gives.
pub(super) async fn broadcast(
    node: &Node<'_>,
    signed: &wit::Finalized,
) -> Result<String, NodeError> {
    let method = "POST /tx";
    if signed.encoding != "hex" {
        return Err(NodeError::NotSendable(
            "the PSBT still waits for other signers: there is no transaction to send yet".into(),
        ));
    }
    let answer = node
        .http
        .post(format!("{}/tx", node.url.trim_end_matches('/')))
        .header(reqwest::header::CONTENT_TYPE, "text/plain")
        .body(hex::encode(&signed.raw))
        .send()
        .await
        .map_err(|e| unreachable(method, e))?;
    let (status, bytes) = read_limited(answer, method).await?;
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    if !status.is_success() {
        return Err(NodeError::Refused {
            method: method.into(),
            code: status.as_u16().into(),
            message: text.chars().take(500).collect(),
        });
    }
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text)
    } else {
        Err(NodeError::Garbage(format!(
            "{method}: {text:?} is not a txid"
        )))
    }
}
