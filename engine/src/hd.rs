//! HD derivation on the group key: non-hardened BIP-32 for secp256k1, and its ed25519
//! counterpart.
//!
//! The parties agree on a chain code during key generation, which makes the group key an
//! extended public key. Any non-hardened child of it can be derived by anyone from the public key
//! and chain code alone, and signed for by the same `t` parties through the threshold protocols
//! (the path is a parameter of signing). Hardened derivation needs the whole secret key and
//! therefore does not exist for threshold keys.
//!
//! - secp256k1 (ECDSA and BIP-340 keys): BIP-32 public derivation (SLIP-10 on secp256k1 is the
//!   same function).
//! - ed25519: the "Edwards" scheme of the `hd-wallet` crate: the same HMAC-SHA512 construction as
//!   BIP-32 applied to the ed25519 group, since SLIP-10's ed25519 mode only has hardened children.

use generic_ec::{Curve, NonZero, Point};
use hd_wallet::{HdWallet, NonHardenedIndex};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::scheme::Scheme;
use crate::share::{Ed25519, KeyShare, Secp256k1};

/// A public key with its chain code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendedPublicKey {
    /// Compressed public key (33 bytes for secp256k1, 32 for ed25519).
    #[serde(with = "crate::ecdsa::hex_bytes")]
    pub public_key: Vec<u8>,
    /// Chain code.
    #[serde(with = "crate::ecdsa::hex_array")]
    pub chain_code: [u8; 32],
}

/// Parse a path like `m/0/1` or `0/1` (non-hardened steps only).
pub fn parse_path(path: &str) -> Result<Vec<u32>> {
    let path = path.trim();
    let rest = path.strip_prefix('m').unwrap_or(path);
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    rest.split('/')
        .map(|step| {
            if step.ends_with('\'') || step.ends_with('h') || step.ends_with('H') {
                return Err(Error::InvalidParameters(format!(
                    "hardened step {step:?}: threshold keys derive non-hardened children only"
                )));
            }
            let v: u32 = step
                .parse()
                .map_err(|_| Error::InvalidParameters(format!("bad path step {step:?}")))?;
            check_index(v)?;
            Ok(v)
        })
        .collect()
}

fn check_index(v: u32) -> Result<NonHardenedIndex> {
    NonHardenedIndex::try_from(v).map_err(|_| {
        Error::InvalidParameters(format!(
            "path index {v} is hardened: threshold keys derive non-hardened children only"
        ))
    })
}

fn derive_point<E: Curve, H: HdWallet<E>>(
    public_key: Point<E>,
    chain_code: [u8; 32],
    path: &[u32],
) -> Result<hd_wallet::ExtendedPublicKey<E>> {
    let parent = hd_wallet::ExtendedPublicKey {
        public_key,
        chain_code,
    };
    let path = path
        .iter()
        .map(|i| check_index(*i))
        .collect::<Result<Vec<_>>>()?;
    Ok(H::derive_child_public_key_with_path(&parent, path))
}

/// Derive the child at `path` of an extended public key of `scheme`.
pub fn derive(
    scheme: Scheme,
    parent: &ExtendedPublicKey,
    path: &[u32],
) -> Result<ExtendedPublicKey> {
    match scheme {
        Scheme::EcdsaSecp256k1 | Scheme::SchnorrBip340 => {
            let pk = Point::<Secp256k1>::from_bytes(&parent.public_key)
                .map_err(|_| Error::malformed("secp256k1 public key"))?;
            let child = derive_point::<Secp256k1, hd_wallet::Slip10>(pk, parent.chain_code, path)?;
            Ok(ExtendedPublicKey {
                public_key: child.public_key.to_bytes(true).to_vec(),
                chain_code: child.chain_code,
            })
        }
        Scheme::Ed25519 => {
            let pk = Point::<Ed25519>::from_bytes(&parent.public_key)
                .map_err(|_| Error::malformed("ed25519 public key"))?;
            let child = derive_point::<Ed25519, hd_wallet::Edwards>(pk, parent.chain_code, path)?;
            Ok(ExtendedPublicKey {
                public_key: child.public_key.to_bytes(true).to_vec(),
                chain_code: child.chain_code,
            })
        }
    }
}

impl KeyShare {
    /// The group key as an extended public key.
    pub fn extended_public_key(&self) -> Result<ExtendedPublicKey> {
        let chain_code = self
            .chain_code()
            .ok_or_else(|| Error::InvalidParameters("key has no chain code".into()))?;
        Ok(ExtendedPublicKey {
            public_key: self.public_key(),
            chain_code,
        })
    }

    /// The extended public key of the child at `path` (empty: the group key itself).
    pub fn derive(&self, path: &[u32]) -> Result<ExtendedPublicKey> {
        derive(self.scheme(), &self.extended_public_key()?, path)
    }
}

/// A BIP-32 tweak with the child's public key and chain code.
pub(crate) type Secp256k1Shift = (
    generic_ec::Scalar<Secp256k1>,
    NonZero<Point<Secp256k1>>,
    [u8; 32],
);

/// The BIP-32 tweak of the secp256k1 child at `path` of a key (the sum of every step's shift:
/// the child's secret key is the parent's plus it), with the child's public key and chain code.
pub(crate) fn secp256k1_shift(
    info: &key_share::DirtyKeyInfo<Secp256k1>,
    path: &[u32],
) -> Result<Secp256k1Shift> {
    use hd_wallet::DeriveShift;
    let chain_code = info
        .chain_code
        .ok_or_else(|| Error::InvalidParameters("key has no chain code".into()))?;
    let mut key = hd_wallet::ExtendedPublicKey {
        public_key: *info.shared_public_key,
        chain_code,
    };
    let mut shift = generic_ec::Scalar::<Secp256k1>::zero();
    for step in path {
        let derived = hd_wallet::Slip10::derive_public_shift(&key, check_index(*step)?);
        shift += derived.shift;
        key = derived.child_public_key;
    }
    let child = NonZero::from_point(key.public_key)
        .ok_or_else(|| Error::Protocol("derived key is zero".into()))?;
    Ok((shift, child, key.chain_code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_hardened_steps_are_refused() {
        assert_eq!(parse_path("m/0/1/2").unwrap(), vec![0, 1, 2]);
        assert_eq!(parse_path("m").unwrap(), Vec::<u32>::new());
        assert_eq!(parse_path("7").unwrap(), vec![7]);
        assert!(parse_path("m/44'/0").is_err());
        assert!(parse_path("m/2147483648").is_err());
        assert!(parse_path("m/x").is_err());
    }
}
