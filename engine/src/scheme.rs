//! The signature schemes a wallet key can be for.

use serde::{Deserialize, Serialize};

/// Signature scheme of a wallet key. A key is generated for exactly one scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// ECDSA on secp256k1 (Ethereum, Bitcoin legacy/SegWit v0, Conflux, ...), via DKLs23.
    EcdsaSecp256k1,
    /// Ed25519 signatures per RFC 8032 (Solana, TON, ...), via FROST.
    Ed25519,
    /// Schnorr on secp256k1 per BIP-340 with the BIP-341 Taproot tweak, via FROST.
    SchnorrBip340,
}

impl Scheme {
    /// All schemes.
    pub const ALL: [Scheme; 3] = [
        Scheme::EcdsaSecp256k1,
        Scheme::Ed25519,
        Scheme::SchnorrBip340,
    ];

    /// The scheme's name as used in configuration and the API.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::EcdsaSecp256k1 => "ecdsa-secp256k1",
            Scheme::Ed25519 => "ed25519",
            Scheme::SchnorrBip340 => "schnorr-bip340",
        }
    }
}

impl core::fmt::Display for Scheme {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for Scheme {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ecdsa-secp256k1" | "ecdsa" | "secp256k1" => Ok(Scheme::EcdsaSecp256k1),
            "ed25519" | "eddsa" => Ok(Scheme::Ed25519),
            "schnorr-bip340" | "schnorr" | "bip340" | "taproot" => Ok(Scheme::SchnorrBip340),
            other => Err(crate::Error::InvalidParameters(format!(
                "unknown scheme {other:?} (expected ecdsa-secp256k1, ed25519 or schnorr-bip340)"
            ))),
        }
    }
}

/// Smallest and largest number of parties a wallet may have.
pub const MAX_PARTIES: u16 = 16;

/// Check a `t`-of-`n` threshold: `2 <= t <= n <= 16`.
pub fn check_threshold(t: u16, n: u16) -> crate::Result<()> {
    if t < 2 || t > n || n > MAX_PARTIES {
        return Err(crate::Error::InvalidParameters(format!(
            "threshold {t}-of-{n} is outside 2 <= t <= n <= {MAX_PARTIES}"
        )));
    }
    Ok(())
}
