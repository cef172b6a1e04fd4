//! Key shares: what one party keeps of a wallet key.

use generic_ec::{curves, NonZero, Point};
use serde::{Deserialize, Serialize};

use crate::error::{Error, PartyIndex, Result};
use crate::scheme::Scheme;

/// secp256k1 in the protocol crates' curve abstraction.
pub type Secp256k1 = curves::Secp256k1;
/// ed25519 in the protocol crates' curve abstraction.
pub type Ed25519 = curves::Ed25519;

/// The key material common to every scheme: index, secret share and public key info.
pub type CoreShare<E> = key_share::CoreKeyShare<E>;

pub use crate::ecdsa::EcdsaShare;

/// One party's share of a wallet key, for one [`Scheme`].
///
/// It holds secret material: serialize it only into a sealed envelope ([`crate::vault`]). `Debug`
/// prints public information only.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "scheme", content = "share", rename_all = "kebab-case")]
pub enum KeyShare {
    /// A DKLs23 threshold ECDSA share on secp256k1.
    EcdsaSecp256k1(Box<EcdsaShare>),
    /// A FROST share on ed25519.
    Ed25519(Box<CoreShare<Ed25519>>),
    /// A FROST share on secp256k1 used for BIP-340 Schnorr (Taproot) signatures.
    SchnorrBip340(Box<CoreShare<Secp256k1>>),
}

impl KeyShare {
    /// The scheme this share signs for.
    pub fn scheme(&self) -> Scheme {
        match self {
            KeyShare::EcdsaSecp256k1(_) => Scheme::EcdsaSecp256k1,
            KeyShare::Ed25519(_) => Scheme::Ed25519,
            KeyShare::SchnorrBip340(_) => Scheme::SchnorrBip340,
        }
    }

    /// This party's wallet index.
    pub fn index(&self) -> PartyIndex {
        match self {
            KeyShare::EcdsaSecp256k1(s) => s.core().i,
            KeyShare::Ed25519(s) => s.i,
            KeyShare::SchnorrBip340(s) => s.i,
        }
    }

    /// Number of parties holding shares (`n`).
    pub fn parties(&self) -> u16 {
        match self {
            KeyShare::EcdsaSecp256k1(s) => s.core().n(),
            KeyShare::Ed25519(s) => s.n(),
            KeyShare::SchnorrBip340(s) => s.n(),
        }
    }

    /// Number of parties needed to sign (`t`).
    pub fn threshold(&self) -> u16 {
        match self {
            KeyShare::EcdsaSecp256k1(s) => s.core().min_signers(),
            KeyShare::Ed25519(s) => s.min_signers(),
            KeyShare::SchnorrBip340(s) => s.min_signers(),
        }
    }

    /// The group public key, encoded as the curve's usual compressed form (33 bytes for
    /// secp256k1, 32 for ed25519). For BIP-340 this is the untweaked internal key.
    pub fn public_key(&self) -> Vec<u8> {
        match self {
            KeyShare::EcdsaSecp256k1(s) => {
                s.core().key_info.shared_public_key.to_bytes(true).to_vec()
            }
            KeyShare::Ed25519(s) => s.key_info.shared_public_key.to_bytes(true).to_vec(),
            KeyShare::SchnorrBip340(s) => s.key_info.shared_public_key.to_bytes(true).to_vec(),
        }
    }

    /// The chain code fixed at key generation, for HD derivation.
    pub fn chain_code(&self) -> Option<[u8; 32]> {
        match self {
            KeyShare::EcdsaSecp256k1(s) => s.core().key_info.chain_code,
            KeyShare::Ed25519(s) => s.key_info.chain_code,
            KeyShare::SchnorrBip340(s) => s.key_info.chain_code,
        }
    }

    /// Public information about the wallet key, safe to show and to log.
    pub fn public_info(&self) -> PublicKeyInfo {
        let ids: Vec<Vec<u8>> = match self {
            KeyShare::EcdsaSecp256k1(s) => encode_ids(&s.core().key_info.vss_setup),
            KeyShare::Ed25519(s) => encode_ids(&s.key_info.vss_setup),
            KeyShare::SchnorrBip340(s) => encode_ids(&s.key_info.vss_setup),
        };
        let shares: Vec<Vec<u8>> = match self {
            KeyShare::EcdsaSecp256k1(s) => encode_points(&s.core().key_info.public_shares),
            KeyShare::Ed25519(s) => encode_points(&s.key_info.public_shares),
            KeyShare::SchnorrBip340(s) => encode_points(&s.key_info.public_shares),
        };
        PublicKeyInfo {
            scheme: self.scheme(),
            threshold: self.threshold(),
            parties: self.parties(),
            public_key: hex::encode(self.public_key()),
            chain_code: self.chain_code().map(hex::encode),
            public_shares: shares.iter().map(hex::encode).collect(),
            share_ids: ids.iter().map(hex::encode).collect(),
        }
    }

    /// Serialize to JSON bytes (secret: seal before storing).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("key shares always serialize")
    }

    /// Parse and validate bytes from [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let share: Self = serde_json::from_slice(bytes)
            .map_err(|e| Error::malformed(format!("key share: {e}")))?;
        if let KeyShare::EcdsaSecp256k1(s) = &share {
            s.check()?;
        }
        Ok(share)
    }

    /// The parties this share refuses to sign with, and why: co-signers that failed a check of
    /// the ECDSA pairwise state (see [`KeyShare::suspend`]). Always empty for Schnorr keys.
    pub fn suspended(&self) -> Vec<(PartyIndex, String)> {
        match self {
            KeyShare::EcdsaSecp256k1(s) => {
                s.suspended().iter().map(|(p, r)| (*p, r.clone())).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Record that this share no longer signs with `party`, after it failed a check of the
    /// ECDSA pairwise state ([`Error::OtAbort`]); the holder stores the share again. Only a
    /// refresh (a new share) lifts it. Returns whether the share changed (never for Schnorr
    /// keys, whose signing reuses no pairwise state).
    pub fn suspend(&mut self, party: PartyIndex, reason: impl Into<String>) -> bool {
        match self {
            KeyShare::EcdsaSecp256k1(s) if s.suspended().get(&party).is_none() => {
                s.suspend(party, reason);
                true
            }
            _ => false,
        }
    }
}

fn encode_ids<E: generic_ec::Curve>(vss: &Option<key_share::VssSetup<E>>) -> Vec<Vec<u8>> {
    vss.as_ref()
        .map(|v| v.I.iter().map(|i| i.to_be_bytes().to_vec()).collect())
        .unwrap_or_default()
}

fn encode_points<E: generic_ec::Curve>(points: &[NonZero<Point<E>>]) -> Vec<Vec<u8>> {
    points.iter().map(|p| p.to_bytes(true).to_vec()).collect()
}

impl core::fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyShare")
            .field("scheme", &self.scheme())
            .field("index", &self.index())
            .field("threshold", &self.threshold())
            .field("parties", &self.parties())
            .field("public_key", &hex::encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

/// Public description of a wallet key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyInfo {
    /// Scheme of the key.
    pub scheme: Scheme,
    /// Parties needed to sign.
    pub threshold: u16,
    /// Parties holding shares.
    pub parties: u16,
    /// Group public key (hex, compressed).
    pub public_key: String,
    /// HD chain code (hex), if the key is HD-capable.
    pub chain_code: Option<String>,
    /// Public key of each party's share (hex, compressed), by wallet index.
    pub public_shares: Vec<String>,
    /// The point at which each party's share evaluates the sharing polynomial (hex scalar), by
    /// wallet index.
    pub share_ids: Vec<String>,
}
