//! Message signing per BIP-322 "simple": the wallet proves control of its SegWit address by
//! signing the virtual transaction `to_sign`, which spends `to_spend`, whose only input commits
//! to the message; the signature is the witness of `to_sign`'s input, base64.

use base64::Engine as _;
use mpcw_plugin_sdk::{
    only_signature, secp256k1, Detail, Finalized, MessageHash, Payload, PluginError, PublicKey,
    Result, Scheme, Signature, Summary,
};

use crate::address::{self, Params};
use crate::encode;
use crate::hash::{sha256d, tagged};
use crate::key::WalletKey;
use crate::sighash;
use crate::sign::{der, schnorr};
use crate::tx::{OutPoint, Tx, TxIn, TxOut};

/// The longest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// BIP-322's message hash: the BIP-340 tagged hash with tag "BIP0322-signed-message".
pub fn message_hash(message: &[u8]) -> [u8; 32] {
    tagged("BIP0322-signed-message", message)
}

/// `to_spend`: version 0, one input from 000…000:FFFFFFFF with scriptSig OP_0 <message hash>,
/// sequence 0, and one output of 0 to `challenge`, the address's scriptPubKey.
pub fn to_spend(challenge: &[u8], message: &[u8]) -> Tx {
    let mut script_sig = vec![0x00, 0x20];
    script_sig.extend(message_hash(message));
    Tx {
        version: 0,
        inputs: vec![TxIn {
            prevout: OutPoint {
                txid: [0; 32],
                vout: 0xffff_ffff,
            },
            script_sig,
            sequence: 0,
            witness: Vec::new(),
        }],
        outputs: vec![TxOut {
            value: 0,
            script_pubkey: challenge.to_vec(),
        }],
        lock_time: 0,
    }
}

/// `to_sign`: version 0, spending `to_spend`'s output with sequence 0, one OP_RETURN output.
pub fn to_sign(to_spend: &Tx) -> Tx {
    Tx {
        version: 0,
        inputs: vec![TxIn {
            prevout: OutPoint {
                txid: to_spend.txid(),
                vout: 0,
            },
            script_sig: Vec::new(),
            sequence: 0,
            witness: Vec::new(),
        }],
        outputs: vec![TxOut {
            value: 0,
            script_pubkey: vec![0x6a],
        }],
        lock_time: 0,
    }
}

/// A message to sign for one of the wallet's SegWit addresses.
pub struct MessagePlan {
    key: WalletKey,
    message: Vec<u8>,
    /// What the threshold key signs.
    pub payload: Payload,
}

impl MessagePlan {
    /// Sign `message` with the wallet's P2WPKH (ECDSA wallet) or P2TR (BIP-340 wallet) address.
    pub fn new(key: WalletKey, message: Vec<u8>) -> Result<Self> {
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(PluginError::invalid_request(format!(
                "message: {} bytes; at most {MAX_MESSAGE_BYTES}",
                message.len()
            )));
        }
        let (_, challenge) = key.scripts().remove(0);
        let spend = to_spend(&challenge, &message);
        let sign = to_sign(&spend);
        let payload = match &key {
            WalletKey::Ecdsa { pkh, .. } => Payload {
                scheme: Scheme::EcdsaSecp256k1,
                hash: MessageHash::DoubleSha256,
                bytes: sighash::segwit_v0_preimage(
                    &sign,
                    0,
                    &address::p2pkh_script(pkh),
                    0,
                    sighash::ALL,
                )?,
                label: "message (BIP-322, P2WPKH)".into(),
            },
            WalletKey::Taproot { .. } => Payload {
                scheme: Scheme::SchnorrBip340,
                hash: MessageHash::None,
                bytes: sighash::taproot_key_path(&sign, 0, &spend.outputs, sighash::DEFAULT)?
                    .to_vec(),
                label: "message (BIP-322, P2TR)".into(),
            },
        };
        Ok(MessagePlan {
            key,
            message,
            payload,
        })
    }

    /// What the user confirms.
    pub fn summary(&self, params: Params, network_name: &str) -> Summary {
        let text = match std::str::from_utf8(&self.message) {
            Ok(t) if !t.chars().any(|c| c.is_control() && !c.is_whitespace()) => {
                t.chars().take(500).collect()
            }
            _ => format!("0x{}", hex::encode(&self.message)),
        };
        let mut warnings = Vec::new();
        if self.message.len() == 32 {
            warnings.push(
                "The message is 32 bytes: it may be a hash of something you cannot see".into(),
            );
        }
        Summary {
            title: format!("Sign a message on {network_name}"),
            sender: self
                .key
                .addresses(params)
                .into_iter()
                .next()
                .map(|(_, a)| a),
            recipient: None,
            amount: None,
            fee: None,
            contract_call: None,
            details: vec![
                Detail::new("Message", text),
                Detail::new("Format", "BIP-322 simple signature"),
            ],
            warnings,
        }
    }

    /// Check the signature and return the witness of `to_sign`, base64.
    pub fn finalize(&self, key: &PublicKey, signatures: &[Signature]) -> Result<Finalized> {
        let sig = only_signature(signatures)?;
        let witness = match &self.key {
            WalletKey::Ecdsa { compressed, .. } => {
                let digest = sha256d(&self.payload.bytes);
                let checked = secp256k1::check_single(&digest, key, std::slice::from_ref(sig))?;
                let mut d = der(&checked.rs);
                d.push(sighash::ALL as u8);
                vec![d, compressed.to_vec()]
            }
            WalletKey::Taproot { output_key } => {
                vec![schnorr(output_key, &self.payload.bytes, sig, 0)?]
            }
        };
        let mut raw = Vec::new();
        encode::compact(&mut raw, witness.len() as u64);
        for item in &witness {
            encode::var_bytes(&mut raw, item);
        }
        Ok(Finalized {
            encoded: base64::engine::general_purpose::STANDARD.encode(&raw),
            raw,
            encoding: "base64".into(),
            id: String::new(),
        })
    }
}
