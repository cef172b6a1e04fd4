//! The Bitcoin chain plugin: signs PSBTs (BIP-174 version 0, with BIP-371's Taproot key
//! signature) for the wallet's inputs.
//!
//! - An ECDSA wallet has a P2WPKH address (bech32, BIP-84 shape) and a P2PKH address
//!   (Base58Check); its inputs are signed over the BIP-143 preimage (P2WPKH) or the original
//!   one (P2PKH, SIGHASH_ALL only), ECDSA over SHA-256d.
//! - A BIP-340 wallet has a Taproot address (bech32m) whose output key is the wallet's key with
//!   the BIP-86 tweak; its inputs are signed on the key path over the BIP-341 signature hash.
//!
//! Requests: `{"kind": "psbt", "psbt": "<base64>"}`, where every input needs its UTXO (witness
//! or non-witness) so the summary can show the fee; `finalize` returns the network transaction
//! (hex, with its txid) when every input is then complete, otherwise the PSBT (base64) with the
//! wallet's signatures added for the other signers. `{"kind": "message", "message": "..."}`
//! signs a message with the wallet's SegWit address per BIP-322 "simple".

mod address;
mod bip322;
mod encode;
mod hash;
mod key;
mod psbt;
mod sighash;
mod sign;
mod summary;
mod tx;

use mpcw_plugin_sdk::{
    request_kind, Address, Finalized, Network, Plugin, PluginError, PluginInfo, Prepared,
    PublicKey, Result, Scheme, Signature,
};
use serde::Deserialize;

use bip322::MessagePlan;
use key::WalletKey;
use mpcw_plugin_sdk::message::MessageRequest;
use sign::Plan;

/// The plugin type exported to the host.
pub struct Bitcoin;

/// `{"kind": "psbt"}`: sign the wallet's inputs of a PSBT.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PsbtRequest {
    /// The PSBT, base64.
    psbt: String,
}

/// What a request asks the wallet to sign.
enum Work {
    Psbt(Box<Plan>),
    Message(MessagePlan),
}

fn work(request: &str, key: &PublicKey) -> Result<Work> {
    let wallet = WalletKey::from_public_key(key)?;
    let (kind, fields) = request_kind(request)?;
    Ok(match kind.as_str() {
        "psbt" => {
            let r: PsbtRequest = fields.parse()?;
            Work::Psbt(Box::new(Plan::new(sign::decode(&r.psbt)?, wallet)?))
        }
        "message" => {
            let m: MessageRequest = fields.parse()?;
            Work::Message(MessagePlan::new(wallet, m.bytes()?)?)
        }
        other => {
            return Err(PluginError::unsupported_choice(
                "kind",
                other,
                &["psbt", "message"],
            ))
        }
    })
}

impl Plugin for Bitcoin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "bitcoin".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            family: "bitcoin".into(),
            schemes: vec![Scheme::EcdsaSecp256k1, Scheme::SchnorrBip340],
            networks: [
                "bitcoin",
                "bitcoin-testnet",
                "bitcoin-regtest",
                "bitcoin-taproot",
                "bitcoin-testnet-taproot",
                "bitcoin-regtest-taproot",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    fn addresses(key: PublicKey, network: Network) -> Result<Vec<Address>> {
        let params = address::params(&network)?;
        Ok(WalletKey::from_public_key(&key)?
            .addresses(params)
            .into_iter()
            .map(|(kind, value)| Address {
                kind: kind.into(),
                value,
            })
            .collect())
    }

    fn validate(request: String, network: Network) -> Result<()> {
        address::params(&network)?;
        let (kind, fields) = request_kind(&request)?;
        match kind.as_str() {
            // Which inputs are the wallet's is known once the wallet is: here, the PSBT decodes.
            "psbt" => {
                sign::decode(&fields.parse::<PsbtRequest>()?.psbt)?;
            }
            "message" => {
                fields.parse::<MessageRequest>()?.bytes()?;
            }
            other => {
                return Err(PluginError::unsupported_choice(
                    "kind",
                    other,
                    &["psbt", "message"],
                ))
            }
        }
        Ok(())
    }

    fn prepare(request: String, key: PublicKey, network: Network) -> Result<Prepared> {
        let params = address::params(&network)?;
        Ok(match work(&request, &key)? {
            Work::Psbt(plan) => Prepared {
                summary: summary::summarize(&plan, params, &network)?,
                payloads: plan.signing.iter().map(|s| s.payload.clone()).collect(),
            },
            Work::Message(m) => Prepared {
                summary: m.summary(params, &network.name),
                payloads: vec![m.payload.clone()],
            },
        })
    }

    fn finalize(
        request: String,
        key: PublicKey,
        network: Network,
        signatures: Vec<Signature>,
    ) -> Result<Finalized> {
        let params = address::params(&network)?;
        match work(&request, &key)? {
            Work::Psbt(plan) => {
                summary::summarize(&plan, params, &network)?;
                plan.finalize(&key, &signatures)
            }
            Work::Message(m) => m.finalize(&key, &signatures),
        }
    }
}

mpcw_plugin_sdk::export_plugin!(Bitcoin);
