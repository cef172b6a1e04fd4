//! Which inputs of a PSBT the wallet signs, what each signature covers, and putting the
//! signatures in place.

use base64::Engine as _;
use mpcw_plugin_sdk::{
    secp256k1, Finalized, MessageHash, Payload, PluginError, PublicKey, Result, Scheme, Signature,
};

use crate::address;
use crate::hash::sha256d;
use crate::key::WalletKey;
use crate::psbt::Psbt;
use crate::sighash;
use crate::tx::{txid_hex, TxOut};

/// How one of the wallet's inputs is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Pay to public key hash: scriptSig <sig> <key>.
    P2pkh,
    /// SegWit v0 key hash: witness <sig> <key>.
    P2wpkh,
    /// Taproot key path: witness <sig>.
    P2tr,
}

/// One input the wallet signs.
#[derive(Debug, Clone)]
pub struct Signing {
    /// The input's index.
    pub index: usize,
    /// How it is spent.
    pub spend: Spend,
    /// The signature hash type.
    pub hash_type: u32,
    /// What the threshold key signs.
    pub payload: Payload,
}

/// A PSBT with everything needed to sign it.
pub struct Plan {
    /// The PSBT.
    pub psbt: Psbt,
    /// The wallet's key.
    pub key: WalletKey,
    /// Every input's spent output, in input order.
    pub spent: Vec<TxOut>,
    /// The inputs the wallet signs.
    pub signing: Vec<Signing>,
}

/// The largest PSBT accepted, decoded.
const MAX_PSBT_BYTES: usize = 512 * 1024;

/// Decode the PSBT of a request (base64, as `walletprocesspsbt` and most wallets write it).
pub fn decode(psbt_base64: &str) -> Result<Psbt> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(psbt_base64.trim())
        .map_err(|e| PluginError::invalid_request(format!("psbt: not base64: {e}")))?;
    if bytes.len() > MAX_PSBT_BYTES {
        return Err(PluginError::invalid_request(format!(
            "psbt: {} bytes; at most {MAX_PSBT_BYTES} are accepted",
            bytes.len()
        )));
    }
    Psbt::parse(&bytes)
}

impl Plan {
    /// Find the wallet's inputs and what each signature covers.
    pub fn new(psbt: Psbt, key: WalletKey) -> Result<Self> {
        let spent = (0..psbt.inputs.len())
            .map(|i| psbt.spent_output(i))
            .collect::<Result<Vec<_>>>()?;
        let mut signing = Vec::new();
        for (index, out) in spent.iter().enumerate() {
            let input = &psbt.inputs[index];
            if input.is_final() {
                continue;
            }
            let Some((kind, _)) = key
                .scripts()
                .into_iter()
                .find(|(_, s)| *s == out.script_pubkey)
            else {
                continue;
            };
            let taproot = kind == "p2tr";
            let hash_type = input.sighash_type.unwrap_or(if taproot {
                sighash::DEFAULT
            } else {
                sighash::ALL
            });
            if !sighash::is_valid(hash_type, taproot) {
                return Err(PluginError::invalid_request(format!(
                    "input {index}: signature hash type {hash_type:#x} is not a standard one"
                )));
            }
            let (spend, payload) = match (&key, kind) {
                (WalletKey::Ecdsa { pkh, .. }, "p2wpkh") => {
                    let preimage = sighash::segwit_v0_preimage(
                        &psbt.tx,
                        index,
                        &address::p2pkh_script(pkh),
                        out.value,
                        hash_type,
                    )?;
                    (Spend::P2wpkh, ecdsa_payload(preimage, index, "P2WPKH"))
                }
                (WalletKey::Ecdsa { .. }, _) => {
                    if input.non_witness_utxo.is_none() {
                        return Err(PluginError::invalid_request(format!(
                            "input {index}: a P2PKH input needs its non-witness UTXO (its amount is not signed otherwise)"
                        )));
                    }
                    if hash_type != sighash::ALL {
                        return Err(PluginError::unsupported(format!(
                            "input {index}: P2PKH inputs are signed with SIGHASH_ALL only"
                        )));
                    }
                    let preimage = sighash::legacy_preimage(&psbt.tx, index, &out.script_pubkey);
                    (Spend::P2pkh, ecdsa_payload(preimage, index, "P2PKH"))
                }
                (WalletKey::Taproot { .. }, _) => {
                    let hash = sighash::taproot_key_path(&psbt.tx, index, &spent, hash_type)?;
                    (
                        Spend::P2tr,
                        Payload {
                            scheme: Scheme::SchnorrBip340,
                            hash: MessageHash::None,
                            bytes: hash.to_vec(),
                            label: format!("input {index} (P2TR key path, BIP-341 sighash)"),
                        },
                    )
                }
            };
            signing.push(Signing {
                index,
                spend,
                hash_type,
                payload,
            });
        }
        if signing.is_empty() {
            return Err(PluginError::invalid_request(
                "no unsigned input of this PSBT spends from this wallet's address",
            ));
        }
        Ok(Plan {
            psbt,
            key,
            spent,
            signing,
        })
    }

    /// Check the signatures, one per payload, and put them in: the final transaction when
    /// every input is then complete, otherwise the PSBT with the wallet's signatures added.
    pub fn finalize(mut self, key: &PublicKey, signatures: &[Signature]) -> Result<Finalized> {
        if signatures.len() != self.signing.len() {
            return Err(PluginError::invalid_signature(format!(
                "{} signatures for {} inputs",
                signatures.len(),
                self.signing.len()
            )));
        }
        let all_final = self
            .psbt
            .inputs
            .iter()
            .enumerate()
            .all(|(i, input)| input.is_final() || self.signing.iter().any(|s| s.index == i));
        for (s, sig) in self.signing.iter().zip(signatures) {
            let input = &mut self.psbt.inputs[s.index];
            match (&self.key, s.spend) {
                (WalletKey::Ecdsa { compressed, .. }, spend) => {
                    let digest = sha256d(&s.payload.bytes);
                    let checked = secp256k1::check_single(&digest, key, std::slice::from_ref(sig))
                        .map_err(|e| {
                            PluginError::invalid_signature(format!(
                                "input {}: {}",
                                s.index, e.message
                            ))
                        })?;
                    let mut der = der(&checked.rs);
                    der.push(s.hash_type as u8);
                    if !all_final {
                        input.partial_sigs.retain(|(k, _)| k != compressed);
                        input.partial_sigs.push((compressed.to_vec(), der));
                    } else if spend == Spend::P2wpkh {
                        input.final_script_witness = Some(vec![der, compressed.to_vec()]);
                    } else {
                        let mut script = vec![der.len() as u8];
                        script.extend(der);
                        script.push(33);
                        script.extend_from_slice(compressed);
                        input.final_script_sig = Some(script);
                    }
                }
                (WalletKey::Taproot { output_key }, _) => {
                    let mut bytes = schnorr(output_key, &s.payload.bytes, sig, s.index)?;
                    if s.hash_type != sighash::DEFAULT {
                        bytes.push(s.hash_type as u8);
                    }
                    if all_final {
                        input.final_script_witness = Some(vec![bytes]);
                    } else {
                        input.tap_key_sig = Some(bytes);
                    }
                }
            }
        }
        if !all_final {
            let raw = self.psbt.serialize();
            return Ok(Finalized {
                encoded: base64::engine::general_purpose::STANDARD.encode(&raw),
                raw,
                encoding: "base64".into(),
                id: String::new(),
            });
        }
        let mut tx = self.psbt.tx.clone();
        for (txin, input) in tx.inputs.iter_mut().zip(&self.psbt.inputs) {
            txin.script_sig = input.final_script_sig.clone().unwrap_or_default();
            txin.witness = input.final_script_witness.clone().unwrap_or_default();
        }
        let raw = tx.serialize(true);
        Ok(Finalized {
            encoded: hex::encode(&raw),
            id: txid_hex(&tx.txid()),
            raw,
            encoding: "hex".into(),
        })
    }
}

fn ecdsa_payload(preimage: Vec<u8>, index: usize, kind: &str) -> Payload {
    Payload {
        scheme: Scheme::EcdsaSecp256k1,
        hash: MessageHash::DoubleSha256,
        bytes: preimage,
        label: format!("input {index} ({kind})"),
    }
}

/// Check a BIP-340 signature over `message` under the x-only `output_key`.
pub(crate) fn schnorr(
    output_key: &[u8; 32],
    message: &[u8],
    sig: &Signature,
    index: usize,
) -> Result<Vec<u8>> {
    if sig.scheme != Scheme::SchnorrBip340 {
        return Err(PluginError::invalid_signature(format!(
            "input {index}: a Taproot input takes a schnorr-bip340 signature"
        )));
    }
    let vk = k256::schnorr::VerifyingKey::from_bytes(output_key)
        .map_err(|_| PluginError::invalid_public_key("the Taproot output key is not valid"))?;
    let parsed = k256::schnorr::Signature::try_from(sig.bytes.as_slice()).map_err(|_| {
        PluginError::invalid_signature(format!("input {index}: a BIP-340 signature is 64 bytes"))
    })?;
    vk.verify_raw(message, &parsed).map_err(|_| {
        PluginError::invalid_signature(format!(
            "input {index}: the signature does not verify under the wallet's Taproot output key"
        ))
    })?;
    Ok(sig.bytes.clone())
}

/// The strict DER encoding of an ECDSA signature (BIP-66).
pub(crate) fn der(rs: &[u8; 64]) -> Vec<u8> {
    fn int(b: &[u8]) -> Vec<u8> {
        let start = b.iter().position(|x| *x != 0).unwrap_or(b.len() - 1);
        let mut v = b[start..].to_vec();
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        v
    }
    let (r, s) = (int(&rs[..32]), int(&rs[32..]));
    let mut out = vec![0x30, (r.len() + s.len() + 4) as u8, 0x02, r.len() as u8];
    out.extend(r);
    out.push(0x02);
    out.push(s.len() as u8);
    out.extend(s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_is_minimal_and_positive() {
        let mut rs = [0u8; 64];
        rs[31] = 1;
        rs[32] = 0x80;
        // r = 1: one byte; s has its top bit set: a zero byte first.
        let d = der(&rs);
        assert_eq!(&d[..5], &[0x30, 0x26, 0x02, 0x01, 0x01]);
        assert_eq!(&d[5..8], &[0x02, 0x21, 0x00]);
        assert_eq!(d.len(), 2 + 3 + 3 + 32);
    }
}
