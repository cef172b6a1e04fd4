//! The request JSON the plugin accepts.

use mpcw_plugin_sdk::message::MessageRequest;
use mpcw_plugin_sdk::{request_kind, PluginError, Result};
use serde::Deserialize;

/// A request: a Core Space transaction, a CIP-23 byte-string message or CIP-23 typed data, by
/// its `kind`.
#[derive(Debug)]
pub enum Request {
    /// A native (Core Space) transaction.
    Transaction(Box<TxRequest>),
    /// `personal_sign`: "\x19Conflux Signed Message:\n" || len || message (CIP-23).
    PersonalSign(MessageRequest),
    /// `cfx_signTypedData_v4`: CIP-23 typed data.
    TypedData(TypedDataRequest),
}

impl Request {
    /// Parse request JSON.
    pub fn parse(json: &str) -> Result<Self> {
        let (kind, fields) = request_kind(json)?;
        Ok(match kind.as_str() {
            "transaction" => Request::Transaction(Box::new(fields.parse()?)),
            "personal_sign" => Request::PersonalSign(fields.parse()?),
            "typed_data" => Request::TypedData(fields.parse()?),
            other => {
                return Err(PluginError::unsupported_choice(
                    "kind",
                    other,
                    &["transaction", "personal_sign", "typed_data"],
                ))
            }
        })
    }
}

/// Transaction fields, named as in Conflux's `cfx_` JSON-RPC. Quantities are JSON numbers,
/// decimal strings or 0x-hex strings; addresses are CIP-37 base32 or hex.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TxRequest {
    /// "legacy", "cip2930", "cip1559" or 0x0 / 0x1 / 0x2. Inferred from the fee fields when
    /// absent.
    #[serde(rename = "type")]
    pub tx_type: Option<String>,
    /// Must equal the network's chain id when given.
    pub chain_id: Option<serde_json::Value>,
    /// The sender; must be the wallet's address when given.
    pub from: Option<String>,
    pub nonce: serde_json::Value,
    /// Recipient; absent or null for a contract creation.
    pub to: Option<String>,
    pub value: Option<serde_json::Value>,
    /// Call data (hex).
    pub data: Option<String>,
    /// Gas limit.
    pub gas: serde_json::Value,
    pub gas_price: Option<serde_json::Value>,
    pub max_fee_per_gas: Option<serde_json::Value>,
    pub max_priority_fee_per_gas: Option<serde_json::Value>,
    /// The most storage, in bytes, the transaction may occupy (collateral is charged for it).
    pub storage_limit: serde_json::Value,
    /// The epoch the transaction is built against; nodes accept it within 100 000 epochs of it.
    pub epoch_height: serde_json::Value,
    pub access_list: Option<Vec<mpcw_plugin_sdk::evmtx::AccessListItem>>,
}

/// Typed data as `cfx_signTypedData_v4` takes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypedDataRequest {
    pub typed_data: serde_json::Value,
}
