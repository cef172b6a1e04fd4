//! The request JSON the plugin accepts, and the signature checks common to every request.

use mpcw_plugin_sdk::keccak::keccak256;
pub use mpcw_plugin_sdk::message::MessageRequest;
pub use mpcw_plugin_sdk::secp256k1::CheckedSignature;
use mpcw_plugin_sdk::{
    request_kind, secp256k1, MessageHash, Payload, PluginError, PublicKey, Result, Scheme,
    Signature,
};
use serde::Deserialize;

/// A request: a transaction, a personal message or typed data, by its `kind`.
#[derive(Debug)]
pub enum Request {
    /// An EVM transaction (legacy, EIP-2930 or EIP-1559).
    Transaction(Box<TxRequest>),
    /// `personal_sign` (EIP-191 version 0x45).
    PersonalSign(MessageRequest),
    /// `eth_signTypedData_v4` (EIP-712).
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

/// Transaction fields, named as in Ethereum's JSON-RPC. Quantities are JSON numbers, decimal
/// strings or 0x-hex strings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TxRequest {
    /// "legacy", "eip2930", "eip1559" or 0x0 / 0x1 / 0x2. Inferred from the fee fields when
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
    /// Call data (hex). `input` is accepted as its other name.
    #[serde(alias = "input")]
    pub data: Option<String>,
    /// Gas limit. `gasLimit` is accepted as its other name.
    #[serde(alias = "gasLimit")]
    pub gas: serde_json::Value,
    pub gas_price: Option<serde_json::Value>,
    pub max_fee_per_gas: Option<serde_json::Value>,
    pub max_priority_fee_per_gas: Option<serde_json::Value>,
    pub access_list: Option<Vec<mpcw_plugin_sdk::evmtx::AccessListItem>>,
}

/// Typed data as `eth_signTypedData_v4` takes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypedDataRequest {
    pub typed_data: serde_json::Value,
}

/// The one payload of every EVM request: ECDSA over keccak-256 of the preimage.
pub fn payload(preimage: Vec<u8>, request: &Request) -> Payload {
    let label = match request {
        Request::Transaction(_) => "transaction",
        Request::PersonalSign(_) => "personal message (EIP-191)",
        Request::TypedData(_) => "typed data (EIP-712)",
    };
    Payload {
        scheme: Scheme::EcdsaSecp256k1,
        hash: MessageHash::Keccak256,
        bytes: preimage,
        label: label.into(),
    }
}

/// Check that exactly one ECDSA signature over keccak-256 of `preimage` by `key` was given.
pub fn check_signature(
    preimage: &[u8],
    key: &PublicKey,
    signatures: &[Signature],
) -> Result<CheckedSignature> {
    secp256k1::check_single(&keccak256(preimage), key, signatures)
}
