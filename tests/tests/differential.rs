//! Differential property tests: generated requests go through the plugins in the host's
//! sandbox, and what the plugins would have the wallet sign is compared byte for byte with what
//! the chains' own crates build from the same fields.
//!
//! - Ethereum-like networks: legacy (EIP-155), EIP-2930 and EIP-1559 transactions, with or
//!   without a recipient, call data and access lists: the payload is alloy's signing preimage.
//! - Solana: SOL transfers with and without compute-budget instructions, legacy and v0: the
//!   payload is the message Solana's SDK compiles; and transactions the SDK built, which the
//!   plugin reads back (the payload is the SDK's message) and signs in the wallet's slot.
//!
//! - Bitcoin: PSBTs of one to four P2WPKH or Taproot (key path) inputs of the wallet, with any
//!   outputs, versions, lock times and sequences: each payload is rust-bitcoin's BIP-143
//!   preimage (its double SHA-256 is rust-bitcoin's signature hash) or BIP-341 signature hash.
//!
//! - Conflux Core Space: legacy, CIP-2930 and CIP-1559 transactions with the same generated
//!   fields plus storage limits and epochs: the payload is the RLP encoding (the `rlp` crate
//!   conflux-rust uses) of the fields in conflux-rust's order, behind `"cfx"` and the type for
//!   typed transactions.
//!
//! - Monero: any spend key and view key, on mainnet, stagenet and testnet: the standard address
//!   and the first subaddresses are monero-rs's (`monero` crate).
//!
//! `PROPTEST_CASES` sets the cases per property (2,048 by default) for a longer run.

use std::str::FromStr;
use std::sync::LazyLock;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxLegacy};
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{Address as EvmAddress, Bytes, TxKind, B256, U256};
use k256::ecdsa::SigningKey;
use mpcw_host::plugin::{wit, Runtime};
use mpcw_tests::{ecdsa_key, network, runtime};
use proptest::prelude::*;
use serde_json::{json, Value};
use solana_address::Address;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_message::{v0, Message, VersionedMessage};
use solana_system_interface::instruction::transfer;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(runtime);

/// Cases per property: `PROPTEST_CASES`, or 2,048 (a few seconds in all).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2048);
    ProptestConfig::with_cases(cases)
}
/// Sepolia's chain id (chains/sepolia.toml).
const CHAIN_ID: u64 = 11_155_111;

fn evm_key() -> wit::PublicKey {
    ecdsa_key(&SigningKey::from_slice(&[7; 32]).unwrap())
}

fn ed25519_key(seed: [u8; 32]) -> (wit::PublicKey, Address) {
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let key = wit::PublicKey {
        scheme: wit::Scheme::Ed25519,
        bytes: public.to_vec(),
        view_key: None,
    };
    (key, Address::from(public))
}

fn payload(plugin: &str, network_id: &str, request: &Value, key: &wit::PublicKey) -> Vec<u8> {
    let prepared = RUNTIME
        .prepare(plugin, &request.to_string(), key, &network(network_id))
        .unwrap_or_else(|e| panic!("{request}: {e}"));
    assert_eq!(prepared.payloads.len(), 1);
    prepared.payloads[0].bytes.clone()
}

/// An EVM transaction's fields, generated.
#[derive(Debug, Clone)]
struct EvmFields {
    kind: u8,
    nonce: u64,
    gas: u64,
    to: Option<[u8; 20]>,
    value: u128,
    data: Vec<u8>,
    fee: u128,
    tip: u128,
    access: Vec<([u8; 20], Vec<[u8; 32]>)>,
}

fn evm_fields() -> impl Strategy<Value = EvmFields> {
    (
        0u8..3,
        any::<u64>(),
        21_000u64..30_000_000,
        proptest::option::of(any::<[u8; 20]>()),
        any::<u128>(),
        proptest::collection::vec(any::<u8>(), 0..96),
        1u128..u128::from(u64::MAX),
        any::<u64>(),
        proptest::collection::vec(
            (
                any::<[u8; 20]>(),
                proptest::collection::vec(any::<[u8; 32]>(), 0..3),
            ),
            0..3,
        ),
    )
        .prop_map(
            |(kind, nonce, gas, to, value, mut data, fee, tip, access)| {
                // A contract creation carries its init code.
                if to.is_none() && data.is_empty() {
                    data.push(0x60);
                }
                (kind, nonce, gas, to, value, data, fee, tip, access)
            },
        )
        .prop_map(
            |(kind, nonce, gas, to, value, data, fee, tip, access)| EvmFields {
                kind,
                nonce,
                gas,
                to,
                value,
                data,
                fee,
                tip: u128::from(tip) % (fee + 1),
                access: if kind == 0 { vec![] } else { access },
            },
        )
}

impl EvmFields {
    fn request(&self) -> Value {
        let kind = ["legacy", "eip2930", "eip1559"][self.kind as usize];
        let mut r = json!({
            "kind": "transaction",
            "type": kind,
            "nonce": self.nonce,
            "gas": self.gas,
            "value": self.value.to_string(),
            "data": format!("0x{}", hex::encode(&self.data)),
        });
        if let Some(to) = self.to {
            r["to"] = json!(format!("0x{}", hex::encode(to)));
        }
        if self.kind == 2 {
            r["maxFeePerGas"] = json!(self.fee.to_string());
            r["maxPriorityFeePerGas"] = json!(format!("{:#x}", self.tip));
        } else {
            r["gasPrice"] = json!(format!("{:#x}", self.fee));
        }
        if self.kind > 0 {
            r["accessList"] = json!(self
                .access
                .iter()
                .map(|(a, keys)| json!({
                    "address": format!("0x{}", hex::encode(a)),
                    "storageKeys": keys.iter().map(|k| format!("0x{}", hex::encode(k))).collect::<Vec<_>>(),
                }))
                .collect::<Vec<_>>());
        }
        r
    }

    /// alloy's signing preimage of the same transaction.
    fn alloy_preimage(&self) -> Vec<u8> {
        let to = self
            .to
            .map(|a| TxKind::Call(EvmAddress::from(a)))
            .unwrap_or(TxKind::Create);
        let input = Bytes::from(self.data.clone());
        let access_list = AccessList(
            self.access
                .iter()
                .map(|(a, keys)| AccessListItem {
                    address: EvmAddress::from(*a),
                    storage_keys: keys.iter().map(|k| B256::from(*k)).collect(),
                })
                .collect(),
        );
        let value = U256::from(self.value);
        match self.kind {
            0 => TxLegacy {
                chain_id: Some(CHAIN_ID),
                nonce: self.nonce,
                gas_price: self.fee,
                gas_limit: self.gas,
                to,
                value,
                input,
            }
            .encoded_for_signing(),
            1 => TxEip2930 {
                chain_id: CHAIN_ID,
                nonce: self.nonce,
                gas_price: self.fee,
                gas_limit: self.gas,
                to,
                value,
                access_list,
                input,
            }
            .encoded_for_signing(),
            _ => TxEip1559 {
                chain_id: CHAIN_ID,
                nonce: self.nonce,
                gas_limit: self.gas,
                max_fee_per_gas: self.fee,
                max_priority_fee_per_gas: self.tip,
                to,
                value,
                access_list,
                input,
            }
            .encoded_for_signing(),
        }
    }
}

/// Conflux mainnet's chain id (chains/conflux.toml).
const CFX_CHAIN_ID: u64 = 1029;

impl EvmFields {
    /// The same fields as a Conflux Core Space request, with `storage` and `epoch`; the
    /// recipient and the access list's addresses are made user addresses (type nibble 1).
    fn conflux_request(&self, storage: u64, epoch: u64) -> Value {
        let mut r = self.conflux().request();
        r["type"] = json!(["legacy", "cip2930", "cip1559"][self.kind as usize]);
        r["storageLimit"] = json!(storage);
        r["epochHeight"] = json!(format!("{epoch:#x}"));
        r
    }

    /// These fields with every address made a Core Space user address.
    fn conflux(&self) -> Self {
        let user = |mut a: [u8; 20]| {
            a[0] = (a[0] & 0x0f) | 0x10;
            a
        };
        Self {
            to: self.to.map(user),
            access: self
                .access
                .iter()
                .map(|(a, k)| (user(*a), k.clone()))
                .collect(),
            ..self.clone()
        }
    }

    /// What conflux-rust hashes to sign the same transaction, encoded with the `rlp` crate:
    /// rlp([nonce, gasPrice | (maxPriorityFeePerGas, maxFeePerGas), gas, to, value,
    /// storageLimit, epochHeight, chainId, data (, accessList)]), behind "cfx" and the type
    /// byte for typed transactions.
    fn conflux_preimage(&self, storage: u64, epoch: u64) -> Vec<u8> {
        let f = self.conflux();
        let mut s = rlp::RlpStream::new_list([9, 10, 11][f.kind as usize]);
        s.append(&f.nonce);
        if f.kind == 2 {
            s.append(&f.tip);
        }
        s.append(&f.fee);
        s.append(&f.gas);
        match f.to {
            Some(to) => s.append(&to.to_vec()),
            None => s.append_empty_data(),
        };
        s.append(&f.value);
        s.append(&storage);
        s.append(&epoch);
        s.append(&CFX_CHAIN_ID);
        s.append(&f.data);
        if f.kind > 0 {
            s.begin_list(f.access.len());
            for (address, keys) in &f.access {
                s.begin_list(2);
                s.append(&address.to_vec());
                s.begin_list(keys.len());
                for k in keys {
                    s.append(&k.to_vec());
                }
            }
        }
        let body = s.out().to_vec();
        if f.kind == 0 {
            body
        } else {
            [b"cfx".as_slice(), &[f.kind], &body].concat()
        }
    }
}

/// A Bitcoin spend's fields, generated: inputs (previous txid, vout, value, sequence) and
/// outputs (value, a 20-byte program or the wallet's own script).
#[derive(Debug, Clone)]
struct BtcFields {
    taproot: bool,
    version: i32,
    lock_time: u32,
    inputs: Vec<([u8; 32], u32, u64, u32)>,
    outputs: Vec<(u64, Option<[u8; 20]>)>,
}

fn btc_fields() -> impl Strategy<Value = BtcFields> {
    (
        any::<bool>(),
        1i32..=2,
        0u32..500_000_000,
        proptest::collection::vec(
            (
                any::<[u8; 32]>(),
                0u32..8,
                1_000u64..1_000_000_000,
                any::<u32>(),
            ),
            1..5,
        ),
        proptest::collection::vec(
            (546u64..1_000_000, proptest::option::of(any::<[u8; 20]>())),
            1..4,
        ),
    )
        .prop_map(|(taproot, version, lock_time, inputs, outputs)| BtcFields {
            taproot,
            version,
            lock_time,
            inputs,
            outputs,
        })
}

proptest! {
    #![proptest_config(config())]
    #[test]
    fn monero_addresses_are_monero_rs_addresses(
        spend in any::<[u8; 32]>(),
        view in any::<[u8; 32]>(),
        net in 0usize..3,
    ) {
        use curve25519_dalek::scalar::Scalar;
        use monero::cryptonote::subaddress::{get_subaddress, Index};
        let (id, monero_net) = [
            ("monero", monero::Network::Mainnet),
            ("monero-stagenet", monero::Network::Stagenet),
            ("monero-testnet", monero::Network::Testnet),
        ][net];
        // A spend key is a point; a view key a canonical scalar.
        let spend = curve25519_dalek::constants::ED25519_BASEPOINT_POINT
            * Scalar::from_bytes_mod_order(spend);
        let view = Scalar::from_bytes_mod_order(view).to_bytes();
        let key = wit::PublicKey {
            scheme: wit::Scheme::Ed25519,
            bytes: spend.compress().to_bytes().to_vec(),
            view_key: Some(view.to_vec()),
        };
        let listed = RUNTIME.addresses("monero", &key, &network(id)).unwrap();
        let pair = monero::ViewPair {
            view: monero::PrivateKey::from_slice(&view).unwrap(),
            spend: monero::PublicKey::from_slice(&key.bytes).unwrap(),
        };
        let find = |kind: &str| listed.iter().find(|a| a.kind == kind).map(|a| a.value.clone());
        prop_assert_eq!(
            find("standard"),
            Some(monero::Address::from_viewpair(monero_net, &pair).to_string())
        );
        let mut subaddresses = 0;
        for minor in 1..=8 {
            if let Some(listed) = find(&format!("subaddress-0-{minor}")) {
                let expected = get_subaddress(&pair, Index { major: 0, minor }, Some(monero_net));
                prop_assert_eq!(listed, expected.to_string());
                subaddresses += 1;
            }
        }
        prop_assert!(subaddresses > 0, "no subaddress listed");
    }
}

proptest! {
    #![proptest_config(config())]
    #[test]
    fn conflux_payloads_are_the_rlp_crates_encoding(
        fields in evm_fields(),
        storage in any::<u64>(),
        epoch in any::<u64>(),
    ) {
        let request = fields.conflux_request(storage, epoch);
        prop_assert_eq!(
            payload("conflux", "conflux", &request, &evm_key()),
            fields.conflux_preimage(storage, epoch),
            "{}", request
        );
    }
}

proptest! {
    #![proptest_config(config())]
    #[test]
    fn bitcoin_payloads_are_rust_bitcoins_signature_hashes(fields in btc_fields()) {
        use bitcoin::hashes::Hash as _;
        use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
        use sha2::{Digest, Sha256};

        let spent_total: u64 = fields.inputs.iter().map(|i| i.2).sum();
        let paid_total: u64 = fields.outputs.iter().map(|o| o.0).sum();
        // A transaction paying more than it spends is refused (and is no transaction).
        prop_assume!(paid_total <= spent_total);
        let compressed = evm_key().bytes;
        let (network_id, key) = if fields.taproot {
            // The plugin takes the compressed key for both schemes (its x is the internal key).
            let schnorr = wit::PublicKey {
                scheme: wit::Scheme::SchnorrBip340,
                bytes: compressed,
                view_key: None,
            };
            ("bitcoin-taproot", schnorr)
        } else {
            ("bitcoin", evm_key())
        };
        let listed = RUNTIME.addresses("bitcoin", &key, &network(network_id)).unwrap();
        let mine = bitcoin::Address::from_str(&listed[0].value)
            .unwrap()
            .assume_checked()
            .script_pubkey();
        let spent: Vec<bitcoin::TxOut> = fields
            .inputs
            .iter()
            .map(|(_, _, value, _)| bitcoin::TxOut {
                value: bitcoin::Amount::from_sat(*value),
                script_pubkey: mine.clone(),
            })
            .collect();
        let tx = bitcoin::Transaction {
            version: bitcoin::transaction::Version(fields.version),
            lock_time: bitcoin::absolute::LockTime::from_consensus(fields.lock_time),
            input: fields
                .inputs
                .iter()
                .map(|(txid, vout, _, sequence)| bitcoin::TxIn {
                    previous_output: bitcoin::OutPoint::new(bitcoin::Txid::from_byte_array(*txid), *vout),
                    script_sig: bitcoin::ScriptBuf::new(),
                    sequence: bitcoin::Sequence(*sequence),
                    witness: bitcoin::Witness::new(),
                })
                .collect(),
            output: fields
                .outputs
                .iter()
                .map(|(value, program)| bitcoin::TxOut {
                    value: bitcoin::Amount::from_sat(*value),
                    script_pubkey: match program {
                        Some(p) => bitcoin::ScriptBuf::new_p2wsh(&bitcoin::WScriptHash::from_byte_array({
                            let mut h = [0u8; 32];
                            h[..20].copy_from_slice(p);
                            h
                        })),
                        None => mine.clone(),
                    },
                })
                .collect(),
        };
        let mut psbt = bitcoin::psbt::Psbt::from_unsigned_tx(tx.clone()).unwrap();
        for (input, utxo) in psbt.inputs.iter_mut().zip(&spent) {
            input.witness_utxo = Some(utxo.clone());
        }
        let request = json!({"kind": "psbt", "psbt": psbt.to_string()});
        let prepared = RUNTIME
            .prepare("bitcoin", &request.to_string(), &key, &network(network_id))
            .unwrap_or_else(|e| panic!("{fields:?}: {e}"));
        prop_assert_eq!(prepared.payloads.len(), tx.input.len());
        let mut cache = SighashCache::new(&tx);
        for (i, payload) in prepared.payloads.iter().enumerate() {
            if fields.taproot {
                let sighash = cache
                    .taproot_key_spend_signature_hash(i, &Prevouts::All(&spent), TapSighashType::Default)
                    .unwrap();
                prop_assert_eq!(&payload.bytes[..], sighash.as_byte_array(), "input {}", i);
            } else {
                let sighash = cache
                    .p2wpkh_signature_hash(i, &mine, spent[i].value, EcdsaSighashType::All)
                    .unwrap();
                let digest = Sha256::digest(Sha256::digest(&payload.bytes));
                prop_assert_eq!(&digest[..], sighash.as_byte_array(), "input {}", i);
            }
        }
    }

    #[test]
    fn evm_transactions_are_alloys_signing_preimages(fields in evm_fields()) {
        let ours = payload("ethereum", "sepolia", &fields.request(), &evm_key());
        prop_assert_eq!(ours, fields.alloy_preimage(), "{}", fields.request());
    }

    #[test]
    fn solana_transfers_are_the_sdks_messages(
        seed in any::<[u8; 32]>(),
        to in any::<[u8; 32]>(),
        lamports in any::<u64>(),
        limit in proptest::option::of(1u32..=1_400_000),
        price in proptest::option::of(any::<u64>()),
        blockhash in any::<[u8; 32]>(),
        v0 in any::<bool>(),
    ) {
        let (key, payer) = ed25519_key(seed);
        let to = Address::from(to);
        prop_assume!(to != payer);
        let hash = solana_hash::Hash::new_from_array(blockhash);
        let mut request = json!({
            "kind": "transfer", "to": to.to_string(), "lamports": lamports.to_string(),
            "recentBlockhash": hash.to_string(),
        });
        let mut ixs = Vec::new();
        if let Some(l) = limit {
            request["computeUnitLimit"] = json!(l);
            ixs.push(ComputeBudgetInstruction::set_compute_unit_limit(l));
        }
        if let Some(p) = price {
            request["computeUnitPrice"] = json!(p);
            ixs.push(ComputeBudgetInstruction::set_compute_unit_price(p));
        }
        ixs.push(transfer(&payer, &to, lamports));
        let sdk = if v0 {
            request["version"] = json!(0);
            VersionedMessage::V0(v0::Message::try_compile(&payer, &ixs, &[], hash).unwrap())
        } else {
            VersionedMessage::Legacy(Message::new_with_blockhash(&ixs, Some(&payer), &hash))
        };
        prop_assert_eq!(payload("solana", "solana", &request, &key), sdk.serialize());
    }

    #[test]
    fn solana_transactions_the_sdk_built_are_read_back(
        seed in any::<[u8; 32]>(),
        others in proptest::collection::vec((any::<[u8; 32]>(), any::<u64>()), 1..4),
        blockhash in any::<[u8; 32]>(),
        v0 in any::<bool>(),
        pays in any::<bool>(),
    ) {
        use base64::Engine as _;
        let (key, me) = ed25519_key(seed);
        let hash = solana_hash::Hash::new_from_array(blockhash);
        // The wallet sends to each other account; one of them pays the fee unless the wallet does.
        let accounts: Vec<Address> = others.iter().map(|(a, _)| Address::from(*a)).collect();
        prop_assume!(!accounts.contains(&me));
        let ixs: Vec<_> = others
            .iter()
            .map(|(a, lamports)| transfer(&me, &Address::from(*a), *lamports))
            .collect();
        let payer = if pays { me } else { accounts[0] };
        let message = if v0 {
            VersionedMessage::V0(v0::Message::try_compile(&payer, &ixs, &[], hash).unwrap())
        } else {
            VersionedMessage::Legacy(Message::new_with_blockhash(&ixs, Some(&payer), &hash))
        };
        let signers = usize::from(message.header().num_required_signatures);
        let tx = solana_transaction::versioned::VersionedTransaction {
            signatures: vec![solana_signature::Signature::default(); signers],
            message: message.clone(),
        };
        let request = json!({
            "kind": "transaction",
            "transaction": base64::engine::general_purpose::STANDARD.encode(bincode::serialize(&tx).unwrap()),
        });
        prop_assert_eq!(payload("solana", "solana", &request, &key), message.serialize());
        let summary = RUNTIME
            .prepare("solana", &request.to_string(), &key, &network("solana"))
            .unwrap()
            .summary;
        prop_assert_eq!(summary.fee.is_some(), pays, "the fee is shown when the wallet pays");
    }
}
