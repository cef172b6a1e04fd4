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
