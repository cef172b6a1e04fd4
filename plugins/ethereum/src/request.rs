//! The request JSON the plugin accepts, and the signature checks common to every request.

use mpcw_plugin_sdk::keccak::keccak256;
use mpcw_plugin_sdk::{
    hexstr, parse_request, secp256k1, MessageHash, Payload, PluginError, PublicKey, Result, Scheme,
    Signature,
};
use serde::Deserialize;

/// A request: a transaction, a personal message or typed data.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
        parse_request(json)
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
    pub access_list: Option<Vec<AccessListItem>>,
}

/// One entry of an EIP-2930 access list.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessListItem {
    pub address: String,
    pub storage_keys: Vec<String>,
}

/// A message for `personal_sign`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// The message. 0x-prefixed hex is taken as bytes (as wallets do) unless `encoding` is
    /// "utf8".
    pub message: String,
    /// "utf8" or "hex"; guessed from the message when absent.
    pub encoding: Option<String>,
}

impl MessageRequest {
    /// The message bytes.
    pub fn bytes(&self) -> Result<Vec<u8>> {
        match self.encoding.as_deref() {
            Some("utf8") => Ok(self.message.as_bytes().to_vec()),
            Some("hex") => hexstr::decode(&self.message, "message"),
            None => {
                let m = &self.message;
                if m.starts_with("0x") && m.len().is_multiple_of(2) && hex::decode(&m[2..]).is_ok()
                {
                    hexstr::decode(m, "message")
                } else {
                    Ok(m.as_bytes().to_vec())
                }
            }
            Some(other) => Err(PluginError::invalid_request(format!(
                "encoding: expected \"utf8\" or \"hex\", got {other:?}"
            ))),
        }
    }
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

/// A checked signature: r || s (low-s) and the recovery id under which it recovers to the key.
pub struct CheckedSignature {
    pub rs: [u8; 64],
    pub recovery_id: u8,
}

/// Check that exactly one ECDSA signature was given and that it recovers to `key` over
/// keccak-256 of `preimage` with a low `s` (EIP-2). A missing recovery id is found by trying both.
pub fn check_signature(
    preimage: &[u8],
    key: &PublicKey,
    signatures: &[Signature],
) -> Result<CheckedSignature> {
    let [sig] = signatures else {
        return Err(PluginError::invalid_signature(format!(
            "expected 1 signature, got {}",
            signatures.len()
        )));
    };
    if sig.scheme != Scheme::EcdsaSecp256k1 {
        return Err(PluginError::invalid_signature(
            "EVM signatures are ecdsa-secp256k1",
        ));
    }
    let rs: [u8; 64] = sig.bytes.as_slice().try_into().map_err(|_| {
        PluginError::invalid_signature(format!(
            "ECDSA signature must be 64 bytes (r || s), got {}",
            sig.bytes.len()
        ))
    })?;
    if !secp256k1::is_low_s(&rs) {
        return Err(PluginError::invalid_signature(
            "s is in the upper half of the group order (EIP-2 rejects it)",
        ));
    }
    let expected = secp256k1::parse_key(&key.bytes)?;
    let digest = keccak256(preimage);
    let candidates: &[u8] = match sig.recovery_id {
        Some(0) => &[0],
        Some(1) => &[1],
        Some(v) => {
            return Err(PluginError::invalid_signature(format!(
                "recovery id must be 0 or 1, got {v}"
            )))
        }
        None => &[0, 1],
    };
    for &v in candidates {
        if let Ok(found) = secp256k1::recover(&digest, &rs, v) {
            if found == expected {
                return Ok(CheckedSignature { rs, recovery_id: v });
            }
        }
    }
    Err(PluginError::invalid_signature(
        "the signature does not recover to the wallet's key for this request",
    ))
}
