//! One JSON-RPC 2.0 call over HTTP, as Ethereum-like, Solana, Conflux and TON (toncenter) nodes
//! answer them, and the bounded read of any node's answer. Errors never carry the node's URL (it
//! may hold an API key).

use serde_json::{json, Value};

use super::NodeError;

/// The largest answer read from a node, bytes.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Call `method` with `params` on the node at `url`: its `result`, or why there is none.
pub async fn call(
    http: &reqwest::Client,
    url: &str,
    method: &str,
    params: Value,
) -> Result<Value, NodeError> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let answer = http
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| unreachable(method, e))?;
    let (status, bytes) = read_limited(answer, method).await?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
        NodeError::Garbage(format!(
            "{method}: the node's answer (HTTP {}) is not JSON",
            status.as_u16()
        ))
    })?;
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        // An error object (JSON-RPC), or a bare message (toncenter).
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .or(error.as_str())
            .unwrap_or("no message")
            .chars()
            .take(500)
            .collect();
        return Err(NodeError::Refused {
            method: method.to_owned(),
            code: error
                .get("code")
                .or(value.get("code"))
                .and_then(Value::as_i64)
                .unwrap_or(0),
            message,
        });
    }
    value.get("result").cloned().ok_or_else(|| {
        NodeError::Garbage(format!(
            "{method}: the node's answer (HTTP {}) has no result",
            status.as_u16()
        ))
    })
}

/// Why `method` could not reach the node (never its URL).
pub fn unreachable(method: &str, e: reqwest::Error) -> NodeError {
    let why = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        e.without_url().to_string()
    };
    NodeError::Unreachable(format!("{method}: {why}"))
}

/// The status and body of a node's answer, refusing bodies over [`MAX_ANSWER_BYTES`].
pub async fn read_limited(
    mut answer: reqwest::Response,
    method: &str,
) -> Result<(reqwest::StatusCode, Vec<u8>), NodeError> {
    let status = answer.status();
    let mut bytes = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(|e| unreachable(method, e))? {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(NodeError::Garbage(format!(
                "{method}: the node's answer is larger than {MAX_ANSWER_BYTES} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((status, bytes))
}
