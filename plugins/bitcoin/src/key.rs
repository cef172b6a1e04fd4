//! The wallet's key on Bitcoin: an ECDSA key for P2WPKH and P2PKH outputs, or a BIP-340 key for
//! a Taproot output with the BIP-86 tweak (key path only, no script tree).

use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{ProjectivePoint, PublicKey as Point, Scalar, U256};
use mpcw_plugin_sdk::{PluginError, PublicKey, Result, Scheme};

use crate::address::{self, Params};
use crate::hash::{hash160, tagged};

/// What the wallet's key can spend.
#[derive(Debug, Clone)]
pub enum WalletKey {
    /// ECDSA: the compressed key and its hash.
    Ecdsa {
        /// SEC1 compressed.
        compressed: [u8; 33],
        /// HASH160 of it.
        pkh: [u8; 20],
    },
    /// BIP-340: the Taproot output key (x-only) after the BIP-86 tweak.
    Taproot {
        /// x(Q).
        output_key: [u8; 32],
    },
}

/// The BIP-86 output key of an internal key: Q = P + H_TapTweak(x(P))·G with P the even-y point
/// of x(P). `x_only` is x(P).
pub fn bip86_output_key(x_only: &[u8; 32]) -> Result<[u8; 32]> {
    let mut sec1 = [0u8; 33];
    sec1[0] = 0x02;
    sec1[1..].copy_from_slice(x_only);
    let p = Point::from_sec1_bytes(&sec1)
        .map_err(|_| PluginError::invalid_public_key("not an x coordinate of secp256k1"))?;
    let t = tagged("TapTweak", x_only);
    let t_scalar = <Scalar as Reduce<U256>>::reduce_bytes(&t.into());
    if t_scalar.to_bytes().as_slice() != t {
        return Err(PluginError::invalid_public_key(
            "the Taproot tweak is not below the group order",
        ));
    }
    let q = (p.to_projective() + ProjectivePoint::GENERATOR * t_scalar).to_affine();
    let encoded = q.to_encoded_point(true);
    let mut out = [0u8; 32];
    out.copy_from_slice(&encoded.as_bytes()[1..]);
    Ok(out)
}

impl WalletKey {
    /// The wallet key from what the host gives: a 33-byte compressed secp256k1 key for both
    /// schemes (for BIP-340, the untweaked internal key, of which only x counts).
    pub fn from_public_key(key: &PublicKey) -> Result<Self> {
        let compressed: [u8; 33] = key.bytes.as_slice().try_into().map_err(|_| {
            PluginError::invalid_public_key(format!(
                "a secp256k1 key is 33 bytes (SEC1 compressed), got {}",
                key.bytes.len()
            ))
        })?;
        Point::from_sec1_bytes(&compressed)
            .map_err(|_| PluginError::invalid_public_key("not a secp256k1 point"))?;
        match key.scheme {
            Scheme::EcdsaSecp256k1 => Ok(WalletKey::Ecdsa {
                compressed,
                pkh: hash160(&compressed),
            }),
            Scheme::SchnorrBip340 => {
                let mut x = [0u8; 32];
                x.copy_from_slice(&compressed[1..]);
                Ok(WalletKey::Taproot {
                    output_key: bip86_output_key(&x)?,
                })
            }
            Scheme::Ed25519 => Err(PluginError::invalid_public_key(
                "Bitcoin keys are secp256k1 (ECDSA or BIP-340), not Ed25519",
            )),
        }
    }

    /// The wallet's output scripts with their address kinds, the preferred one first.
    pub fn scripts(&self) -> Vec<(&'static str, Vec<u8>)> {
        match self {
            WalletKey::Ecdsa { pkh, .. } => vec![
                ("p2wpkh", address::p2wpkh_script(pkh)),
                ("p2pkh", address::p2pkh_script(pkh)),
            ],
            WalletKey::Taproot { output_key } => vec![("p2tr", address::p2tr_script(output_key))],
        }
    }

    /// The wallet's addresses on `params`' network.
    pub fn addresses(&self, params: Params) -> Vec<(&'static str, String)> {
        self.scripts()
            .into_iter()
            .filter_map(|(kind, s)| address::address(params, &s).map(|a| (kind, a)))
            .collect()
    }
}
