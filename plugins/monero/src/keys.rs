//! A Monero wallet's keys: the spend key `B` (the threshold Ed25519 key) and the private view
//! key `a`, its addresses' public keys, and subaddresses (`m = H_s("SubAddr\0" ‖ a ‖ major ‖
//! minor)`, `D = B + m·G`, `C = a·D`), as Monero's `get_subaddress_spend_public_key` does it.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use mpcw_plugin_sdk::{PluginError, PublicKey, Result, Scheme};
use sha3::{Digest, Keccak256};

/// Monero's `hash_to_scalar`: Keccak-256 reduced modulo ℓ.
pub fn hash_to_scalar(parts: &[&[u8]]) -> Scalar {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    Scalar::from_bytes_mod_order(h.finalize().into())
}

/// The pair of public keys an address carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressKeys {
    /// The public spend key (`B`, or `D` of a subaddress).
    pub spend: [u8; 32],
    /// The public view key (`A = a·G`, or `C = a·D` of a subaddress).
    pub view: [u8; 32],
}

/// A wallet's spend key and private view key.
pub struct WalletKeys {
    spend: EdwardsPoint,
    spend_bytes: [u8; 32],
    view_secret: Scalar,
}

impl WalletKeys {
    /// From the host's key: a 32-byte Ed25519 point in the prime-order subgroup, and a canonical
    /// private view key.
    pub fn from_public_key(key: &PublicKey) -> Result<Self> {
        if key.scheme != Scheme::Ed25519 {
            return Err(PluginError::invalid_public_key(
                "a Monero spend key is an Ed25519 key",
            ));
        }
        let spend_bytes: [u8; 32] = key
            .bytes
            .as_slice()
            .try_into()
            .map_err(|_| PluginError::invalid_public_key("an Ed25519 key is 32 bytes"))?;
        let spend = CompressedEdwardsY(spend_bytes)
            .decompress()
            .filter(|p| p.is_torsion_free() && !p.is_small_order())
            .ok_or_else(|| {
                PluginError::invalid_public_key("not a point of Ed25519's prime-order subgroup")
            })?;
        let view = key.view_key.as_deref().ok_or_else(|| {
            PluginError::invalid_public_key(
                "a Monero address needs the wallet's view key; the network's registry file must \
                 set view_key = true",
            )
        })?;
        let view: [u8; 32] = view
            .try_into()
            .map_err(|_| PluginError::invalid_public_key("a view key is 32 bytes"))?;
        let view_secret = Option::<Scalar>::from(Scalar::from_canonical_bytes(view))
            .filter(|a| *a != Scalar::ZERO)
            .ok_or_else(|| {
                PluginError::invalid_public_key("the view key is not a canonical non-zero scalar")
            })?;
        Ok(Self {
            spend,
            spend_bytes,
            view_secret,
        })
    }

    /// The keys of the standard (primary) address: `(B, a·G)`.
    pub fn primary(&self) -> AddressKeys {
        AddressKeys {
            spend: self.spend_bytes,
            view: EdwardsPoint::mul_base(&self.view_secret)
                .compress()
                .to_bytes(),
        }
    }

    /// The keys of subaddress `(major, minor)`; `(0, 0)` is the primary address.
    pub fn subaddress(&self, major: u32, minor: u32) -> AddressKeys {
        if major == 0 && minor == 0 {
            return self.primary();
        }
        let m = hash_to_scalar(&[
            b"SubAddr\0",
            self.view_secret.as_bytes(),
            &major.to_le_bytes(),
            &minor.to_le_bytes(),
        ]);
        let d = self.spend + EdwardsPoint::mul_base(&m);
        AddressKeys {
            spend: d.compress().to_bytes(),
            view: (self.view_secret * d).compress().to_bytes(),
        }
    }
}
