//! What ECDSA signs and what it produces: messages given as the bytes that are hashed, and
//! standard low-s signatures with a recovery id.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A message to sign with ECDSA, given as the bytes that are hashed (never a bare hash), so that
/// each signer knows what it signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "hash", content = "data", rename_all = "kebab-case")]
pub enum EcdsaMessage {
    /// Keccak-256 of the bytes (Ethereum, Conflux).
    Keccak256(#[serde(with = "hex_bytes")] Vec<u8>),
    /// SHA-256 of the bytes.
    Sha256(#[serde(with = "hex_bytes")] Vec<u8>),
    /// SHA-256 of SHA-256 of the bytes (Bitcoin sighashes: the bytes are the sighash preimage).
    DoubleSha256(#[serde(with = "hex_bytes")] Vec<u8>),
}

impl EcdsaMessage {
    /// The 32-byte digest that the signature is over.
    pub fn digest(&self) -> [u8; 32] {
        match self {
            EcdsaMessage::Keccak256(b) => sha3::Keccak256::digest(b).into(),
            EcdsaMessage::Sha256(b) => Sha256::digest(b).into(),
            EcdsaMessage::DoubleSha256(b) => Sha256::digest(Sha256::digest(b)).into(),
        }
    }
}

/// A standard ECDSA signature over secp256k1: low-s, with its recovery id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcdsaSignature {
    /// `r`, big-endian.
    #[serde(with = "hex_array")]
    pub r: [u8; 32],
    /// `s`, big-endian, in the lower half of the group order.
    #[serde(with = "hex_array")]
    pub s: [u8; 32],
    /// Recovery id: bit 0 is the parity of `R`'s y coordinate, bit 1 is set when `R`'s x
    /// coordinate exceeded the group order (practically never).
    pub recovery_id: u8,
}

impl EcdsaSignature {
    /// `r || s`, 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.r);
        out[32..].copy_from_slice(&self.s);
        out
    }

    /// Check the signature with `k256` (an implementation independent of the protocol's) under
    /// the compressed `public_key`, require low `s`, and find the recovery id that gives the key
    /// back.
    pub(crate) fn checked(
        public_key: &[u8],
        digest: &[u8; 32],
        r: [u8; 32],
        s: [u8; 32],
    ) -> Result<Self> {
        use k256::ecdsa::{
            signature::hazmat::PrehashVerifier, RecoveryId, Signature, VerifyingKey,
        };
        let vk = VerifyingKey::from_sec1_bytes(public_key).map_err(|_| Error::InvalidSignature)?;
        let sig = Signature::from_scalars(r, s).map_err(|_| Error::InvalidSignature)?;
        if sig.normalize_s().is_some() {
            return Err(Error::InvalidSignature);
        }
        vk.verify_prehash(digest, &sig)
            .map_err(|_| Error::InvalidSignature)?;
        let id = RecoveryId::trial_recovery_from_prehash(&vk, digest, &sig)
            .map_err(|_| Error::InvalidSignature)?;
        Ok(Self {
            r,
            s,
            recovery_id: id.to_byte(),
        })
    }
}

/// Bytes as a hex string in JSON.
pub(crate) mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        hex::decode(s.as_ref()).map_err(serde::de::Error::custom)
    }
}

/// A fixed-size byte array as a hex string in JSON.
pub(crate) mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let v = hex::decode(s.as_ref()).map_err(serde::de::Error::custom)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom(format!("expected {N} bytes")))
    }
}
