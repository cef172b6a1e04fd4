//! Signature hashes: the original algorithm (P2PKH, SIGHASH_ALL only), BIP-143 (SegWit v0) and
//! BIP-341 (Taproot key path).

use mpcw_plugin_sdk::{PluginError, Result};

use crate::encode;
use crate::hash::{sha256, sha256d, tagged};
use crate::tx::{Tx, TxOut};

/// SIGHASH_DEFAULT (Taproot only): like ALL, and the signature stays 64 bytes.
pub const DEFAULT: u32 = 0x00;
/// SIGHASH_ALL.
pub const ALL: u32 = 0x01;
const NONE: u32 = 0x02;
const SINGLE: u32 = 0x03;
const ANYONECANPAY: u32 = 0x80;

/// Whether `t` is a standard hash type; `taproot` also allows DEFAULT.
pub fn is_valid(t: u32, taproot: bool) -> bool {
    (matches!(t & !ANYONECANPAY, ALL | NONE | SINGLE) && (t & !0x83) == 0)
        || (taproot && t == DEFAULT)
}

/// What a signature with hash type `t` leaves open, for the summary; `None` for ALL and DEFAULT.
pub fn describe(t: u32) -> Option<&'static str> {
    Some(match t {
        DEFAULT | ALL => return None,
        NONE => "SIGHASH_NONE: the outputs are not signed; anyone can redirect the funds",
        SINGLE => "SIGHASH_SINGLE: only the output with this input's index is signed",
        0x81 => "SIGHASH_ALL|ANYONECANPAY: other inputs can be added",
        0x82 => "SIGHASH_NONE|ANYONECANPAY: neither the outputs nor the other inputs are signed",
        0x83 => "SIGHASH_SINGLE|ANYONECANPAY: only this input and its matching output are signed",
        _ => "a non-standard signature hash type",
    })
}

fn single_output(tx: &Tx, index: usize) -> Result<&TxOut> {
    tx.outputs.get(index).ok_or_else(|| {
        PluginError::invalid_request(format!(
            "input {index} signs with SIGHASH_SINGLE but the transaction has no output {index}"
        ))
    })
}

/// The original preimage for P2PKH (`script_code` is the spent scriptPubKey), SIGHASH_ALL only:
/// the transaction with every scriptSig empty but this input's, then the hash type. ECDSA signs
/// SHA-256d of it.
pub fn legacy_preimage(tx: &Tx, index: usize, script_code: &[u8]) -> Vec<u8> {
    let mut copy = tx.clone();
    for (i, input) in copy.inputs.iter_mut().enumerate() {
        input.script_sig = if i == index {
            script_code.to_vec()
        } else {
            Vec::new()
        };
        input.witness.clear();
    }
    let mut out = copy.serialize(false);
    out.extend(ALL.to_le_bytes());
    out
}

/// The BIP-143 preimage of input `index` spending `amount` with `script_code`. ECDSA signs
/// SHA-256d of it.
pub fn segwit_v0_preimage(
    tx: &Tx,
    index: usize,
    script_code: &[u8],
    amount: u64,
    hash_type: u32,
) -> Result<Vec<u8>> {
    let acp = hash_type & ANYONECANPAY != 0;
    let base = hash_type & 0x1f;
    let zero = [0u8; 32];
    let hash_prevouts = if acp {
        zero
    } else {
        let mut b = Vec::new();
        for i in &tx.inputs {
            i.prevout.write(&mut b);
        }
        sha256d(&b)
    };
    let hash_sequence = if acp || base == SINGLE || base == NONE {
        zero
    } else {
        let b: Vec<u8> = tx
            .inputs
            .iter()
            .flat_map(|i| i.sequence.to_le_bytes())
            .collect();
        sha256d(&b)
    };
    let hash_outputs = if base != SINGLE && base != NONE {
        let mut b = Vec::new();
        for o in &tx.outputs {
            o.write(&mut b);
        }
        sha256d(&b)
    } else if base == SINGLE && index < tx.outputs.len() {
        let mut b = Vec::new();
        tx.outputs[index].write(&mut b);
        sha256d(&b)
    } else {
        zero
    };
    let input = &tx.inputs[index];
    let mut out = tx.version.to_le_bytes().to_vec();
    out.extend(hash_prevouts);
    out.extend(hash_sequence);
    input.prevout.write(&mut out);
    encode::var_bytes(&mut out, script_code);
    out.extend(amount.to_le_bytes());
    out.extend(input.sequence.to_le_bytes());
    out.extend(hash_outputs);
    out.extend(tx.lock_time.to_le_bytes());
    out.extend(hash_type.to_le_bytes());
    Ok(out)
}

/// The BIP-341 signature hash of input `index` for a key-path spend (no annex), given every
/// spent output in input order. BIP-340 signs it as it is.
pub fn taproot_key_path(
    tx: &Tx,
    index: usize,
    spent: &[TxOut],
    hash_type: u32,
) -> Result<[u8; 32]> {
    let acp = hash_type & ANYONECANPAY != 0;
    let base = hash_type & 0x03;
    // Epoch 0, then SigMsg.
    let mut m = vec![0x00, hash_type as u8];
    m.extend(tx.version.to_le_bytes());
    m.extend(tx.lock_time.to_le_bytes());
    if !acp {
        let mut prevouts = Vec::new();
        let mut amounts = Vec::new();
        let mut scripts = Vec::new();
        let mut sequences = Vec::new();
        for (i, o) in tx.inputs.iter().zip(spent) {
            i.prevout.write(&mut prevouts);
            amounts.extend(o.value.to_le_bytes());
            encode::var_bytes(&mut scripts, &o.script_pubkey);
            sequences.extend(i.sequence.to_le_bytes());
        }
        m.extend(sha256(&prevouts));
        m.extend(sha256(&amounts));
        m.extend(sha256(&scripts));
        m.extend(sha256(&sequences));
    }
    if base != NONE && base != SINGLE {
        let mut outputs = Vec::new();
        for o in &tx.outputs {
            o.write(&mut outputs);
        }
        m.extend(sha256(&outputs));
    }
    // spend_type: no extension (key path), no annex.
    m.push(0);
    if acp {
        let input = &tx.inputs[index];
        input.prevout.write(&mut m);
        m.extend(spent[index].value.to_le_bytes());
        encode::var_bytes(&mut m, &spent[index].script_pubkey);
        m.extend(input.sequence.to_le_bytes());
    } else {
        m.extend((index as u32).to_le_bytes());
    }
    if base == SINGLE {
        let mut o = Vec::new();
        single_output(tx, index)?.write(&mut o);
        m.extend(sha256(&o));
    }
    Ok(tagged("TapSighash", &m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_types() {
        for t in [1, 2, 3, 0x81, 0x82, 0x83] {
            assert!(is_valid(t, false) && is_valid(t, true), "{t:#x}");
        }
        assert!(is_valid(0, true) && !is_valid(0, false));
        for t in [4, 0x40, 0x84, 0x101] {
            assert!(!is_valid(t, true), "{t:#x}");
        }
    }
}
