//! secp256k1 points and ECDSA public-key recovery.

pub use k256::ecdsa::VerifyingKey;
use k256::ecdsa::{RecoveryId, Signature};

use crate::PluginError;

/// Parse a SEC1 public key (compressed or not).
pub fn parse_key(sec1: &[u8]) -> Result<VerifyingKey, PluginError> {
    VerifyingKey::from_sec1_bytes(sec1)
        .map_err(|_| PluginError::invalid_public_key("not a secp256k1 point in SEC1 form"))
}

/// The 64 bytes x || y of an uncompressed key.
pub fn uncompressed_xy(key: &VerifyingKey) -> [u8; 64] {
    let point = key.to_encoded_point(false);
    let mut out = [0u8; 64];
    out.copy_from_slice(&point.as_bytes()[1..]);
    out
}

/// The key that produced signature `rs` (r || s) with recovery id `v` over `prehash`.
pub fn recover(prehash: &[u8; 32], rs: &[u8], v: u8) -> Result<VerifyingKey, PluginError> {
    let sig = Signature::from_slice(rs)
        .map_err(|_| PluginError::invalid_signature("ECDSA signature must be r || s, 64 bytes"))?;
    let id = RecoveryId::from_byte(v)
        .ok_or_else(|| PluginError::invalid_signature("recovery id must be 0 or 1"))?;
    VerifyingKey::recover_from_prehash(prehash, &sig, id)
        .map_err(|_| PluginError::invalid_signature("no public key recovers from this signature"))
}

/// Whether `s` of signature `rs` is in the lower half of the group order, as Ethereum requires
/// since EIP-2.
pub fn is_low_s(rs: &[u8]) -> bool {
    Signature::from_slice(rs)
        .map(|s| s.normalize_s().is_none())
        .unwrap_or(false)
}

/// An ECDSA signature checked against a wallet key: r || s with a low `s`, and the recovery id
/// under which it recovers to the key.
#[derive(Debug, Clone, Copy)]
pub struct CheckedSignature {
    /// r || s.
    pub rs: [u8; 64],
    /// 0 or 1.
    pub recovery_id: u8,
}

/// Check that `signatures` is exactly one ECDSA signature over `digest` by `key`, with a low `s`
/// (as Ethereum since EIP-2 and Conflux require). A missing recovery id is found by trying both.
pub fn check_single(
    digest: &[u8; 32],
    key: &crate::PublicKey,
    signatures: &[crate::Signature],
) -> Result<CheckedSignature, PluginError> {
    let sig = crate::only_signature(signatures)?;
    if sig.scheme != crate::Scheme::EcdsaSecp256k1 {
        return Err(PluginError::invalid_signature(
            "this request takes an ecdsa-secp256k1 signature",
        ));
    }
    let rs: [u8; 64] = sig.bytes.as_slice().try_into().map_err(|_| {
        PluginError::invalid_signature(format!(
            "ECDSA signature must be 64 bytes (r || s), got {}",
            sig.bytes.len()
        ))
    })?;
    if !is_low_s(&rs) {
        return Err(PluginError::invalid_signature(
            "s is in the upper half of the group order (nodes reject it)",
        ));
    }
    let expected = parse_key(&key.bytes)?;
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
        if let Ok(found) = recover(digest, &rs, v) {
            if found == expected {
                return Ok(CheckedSignature { rs, recovery_id: v });
            }
        }
    }
    Err(PluginError::invalid_signature(
        "the signature does not recover to the wallet's key for this request",
    ))
}
