//! The Conflux Core Space plugin. (Conflux eSpace is EVM and is served by the EVM plugin.)
//!
//! Requests (JSON, see `README.md`):
//! - `{"kind": "transaction", ...}`: native transactions, legacy and the typed CIP-2930 and
//!   CIP-1559 formats, with `storageLimit` and `epochHeight`;
//! - `{"kind": "personal_sign", "message": ...}`: CIP-23 byte-string messages;
//! - `{"kind": "typed_data", "typedData": {...}}`: CIP-23 typed data (`CIP23Domain`).
//!
//! Addresses are CIP-37 base32 on the network's prefix (`cfx:`, `cfxtest:`, `net<id>:`), also in
//! the verbose upper-case form, and the type-prefixed hex form. Every payload is threshold
//! ECDSA over keccak-256 of the bytes returned.

mod address;
mod request;
mod summary;
mod tx;

use mpcw_plugin_sdk::keccak::keccak256;
use mpcw_plugin_sdk::secp256k1::{self, CheckedSignature};
use mpcw_plugin_sdk::typed_data::{Dialect, TypedData};
use mpcw_plugin_sdk::{
    hexstr, Address, Finalized, MessageHash, Network, Payload, Plugin, PluginError, PluginInfo,
    Prepared, PublicKey, Result, Scheme, Signature,
};

use request::Request;

/// The plugin type exported to the host.
pub struct Conflux;

/// CIP-23: EIP-712 with the domain type `CIP23Domain`, whose chain id is required.
const CIP23: Dialect = Dialect {
    domain_type: "CIP23Domain",
    require_chain_id: true,
    parse_address: address::parse_any_network,
};

/// The network id (= chain id) of a Core Space network.
fn network_id(network: &Network) -> Result<u64> {
    let id = network.chain_id.ok_or_else(|| {
        PluginError::unknown_network(format!(
            "{}: a Conflux network needs a chain id",
            network.id
        ))
    })?;
    let prefix = address::prefix(id)?;
    if let Some(given) = &network.address_prefix {
        if *given != prefix {
            return Err(PluginError::unknown_network(format!(
                "{}: chain id {id} has the address prefix {prefix}, not {given}",
                network.id
            )));
        }
    }
    Ok(id)
}

/// The CIP-23 byte-string preimage: "\x19Conflux Signed Message:\n" || len || message.
fn personal_preimage(message: &[u8]) -> Vec<u8> {
    let mut out = format!("\x19Conflux Signed Message:\n{}", message.len()).into_bytes();
    out.extend_from_slice(message);
    out
}

/// A request, validated, with what keccak-256 is taken of.
struct Checked {
    preimage: Vec<u8>,
    summary: mpcw_plugin_sdk::Summary,
    tx: Option<tx::Tx>,
}

fn check(request: &str, key: &PublicKey, network: &Network) -> Result<Checked> {
    let id = network_id(network)?;
    let me = address::from_key(key)?;
    let me32 = address::encode(&me, id, false)?;
    Ok(match Request::parse(request)? {
        Request::Transaction(t) => {
            let tx = tx::Tx::from_request(&t, Some(key), id)?;
            Checked {
                preimage: tx.signing_preimage(),
                summary: summary::transaction(&tx, &me, id, network)?,
                tx: Some(tx),
            }
        }
        Request::PersonalSign(m) => {
            let bytes = m.bytes()?;
            Checked {
                preimage: personal_preimage(&bytes),
                summary: summary::personal(&bytes, me32, network),
                tx: None,
            }
        }
        Request::TypedData(d) => {
            let data = TypedData::parse(&d.typed_data, id, CIP23)?;
            Checked {
                preimage: data.signing_preimage()?,
                summary: summary::typed(&data, me32, network),
                tx: None,
            }
        }
    })
}

/// r || s || v with v the recovery id (0 or 1), as js-conflux-sdk's `Message.sign` writes it.
fn message_signature(sig: &CheckedSignature) -> Finalized {
    let mut raw = sig.rs.to_vec();
    raw.push(sig.recovery_id);
    Finalized {
        encoded: hexstr::encode_0x(&raw),
        raw,
        encoding: "hex".into(),
        id: String::new(),
    }
}

impl Plugin for Conflux {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "conflux".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            family: "conflux".into(),
            schemes: vec![Scheme::EcdsaSecp256k1],
            networks: ["conflux", "conflux-testnet"].map(String::from).to_vec(),
        }
    }

    fn validate(request: String, network: Network) -> Result<()> {
        let id = network_id(&network)?;
        match Request::parse(&request)? {
            Request::Transaction(t) => {
                tx::Tx::from_request(&t, None, id)?;
            }
            Request::PersonalSign(m) => {
                m.bytes()?;
            }
            Request::TypedData(d) => {
                TypedData::parse(&d.typed_data, id, CIP23)?.signing_preimage()?;
            }
        }
        Ok(())
    }

    fn addresses(key: PublicKey, network: Network) -> Result<Vec<Address>> {
        let id = network_id(&network)?;
        let addr = address::from_key(&key)?;
        Ok(vec![
            Address {
                kind: "base32".into(),
                value: address::encode(&addr, id, false)?,
            },
            Address {
                kind: "base32-verbose".into(),
                value: address::encode(&addr, id, true)?,
            },
            Address {
                kind: "hex".into(),
                value: hexstr::encode_0x(&addr),
            },
        ])
    }

    fn prepare(request: String, key: PublicKey, network: Network) -> Result<Prepared> {
        let checked = check(&request, &key, &network)?;
        let label = if checked.tx.is_some() {
            "transaction"
        } else {
            "message (CIP-23)"
        };
        Ok(Prepared {
            payloads: vec![Payload {
                scheme: Scheme::EcdsaSecp256k1,
                hash: MessageHash::Keccak256,
                bytes: checked.preimage,
                label: label.into(),
            }],
            summary: checked.summary,
        })
    }

    fn finalize(
        request: String,
        key: PublicKey,
        network: Network,
        signatures: Vec<Signature>,
    ) -> Result<Finalized> {
        let checked = check(&request, &key, &network)?;
        let sig = secp256k1::check_single(&keccak256(&checked.preimage), &key, &signatures)?;
        Ok(match &checked.tx {
            Some(tx) => tx.finalize(&sig),
            None => message_signature(&sig),
        })
    }
}

mpcw_plugin_sdk::export_plugin!(Conflux);
