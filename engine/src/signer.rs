//! One signer's party of a signing session, the same on the server, on a device and in a
//! browser: ECDSA is one DKLs23 session (three rounds); Ed25519, BIP-340 and Monero are one FROST
//! session (two rounds).

use crate::compose::Map;
use crate::ecdsa::{EcdsaSignConfig, EcdsaSignSession};
use crate::schnorr::{SchnorrSignConfig, SchnorrSignSession, SchnorrVariant};
use crate::{EcdsaMessage, Error, KeyShare, PartyIndex, Protocol, Result, Scheme, SessionContext};

/// How a payload's bytes become what the key signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageHash {
    /// The bytes themselves (Ed25519 and BIP-340 sign messages, not digests).
    None,
    /// keccak-256 of the bytes (ECDSA).
    Keccak256,
    /// SHA-256 of the bytes (ECDSA).
    Sha256,
    /// SHA-256 of SHA-256 of the bytes (ECDSA).
    DoubleSha256,
    /// Monero's Schnorr signature over the 32 bytes, which are already a hash (Ed25519 keys).
    Monero,
}

impl MessageHash {
    /// Its name as the API shows it (`None` for Schnorr's bare bytes).
    pub fn name(self) -> Option<&'static str> {
        match self {
            MessageHash::None => None,
            MessageHash::Keccak256 => Some("keccak256"),
            MessageHash::Sha256 => Some("sha256"),
            MessageHash::DoubleSha256 => Some("double-sha256"),
            MessageHash::Monero => Some("monero"),
        }
    }

    /// The hash of a name from [`MessageHash::name`].
    pub fn from_name(name: Option<&str>) -> core::result::Result<Self, String> {
        match name {
            None => Ok(MessageHash::None),
            Some("keccak256") => Ok(MessageHash::Keccak256),
            Some("sha256") => Ok(MessageHash::Sha256),
            Some("double-sha256") => Ok(MessageHash::DoubleSha256),
            Some("monero") => Ok(MessageHash::Monero),
            Some(other) => Err(format!("unknown message hash {other:?}")),
        }
    }
}

/// What one payload asks to be signed, checked for the key's scheme.
#[derive(Clone, Debug)]
pub enum SignMessage {
    /// ECDSA over the hash of these bytes (never a bare digest).
    Ecdsa(EcdsaMessage),
    /// Ed25519 or BIP-340 over these bytes.
    Schnorr(Vec<u8>),
    /// Monero's Schnorr signature with an Ed25519 key over this 32-byte hash.
    Monero(Vec<u8>),
}

impl SignMessage {
    /// From a payload: the key's scheme, the hash and the bytes.
    pub fn new(
        scheme: Scheme,
        hash: MessageHash,
        bytes: Vec<u8>,
    ) -> core::result::Result<Self, String> {
        match (scheme, hash) {
            (Scheme::EcdsaSecp256k1, MessageHash::Keccak256) => {
                Ok(Self::Ecdsa(EcdsaMessage::Keccak256(bytes)))
            }
            (Scheme::EcdsaSecp256k1, MessageHash::Sha256) => {
                Ok(Self::Ecdsa(EcdsaMessage::Sha256(bytes)))
            }
            (Scheme::EcdsaSecp256k1, MessageHash::DoubleSha256) => {
                Ok(Self::Ecdsa(EcdsaMessage::DoubleSha256(bytes)))
            }
            (Scheme::EcdsaSecp256k1, MessageHash::None) => Err(
                "the payload is a bare ECDSA digest; parties sign only messages whose hash \
                 they compute themselves"
                    .into(),
            ),
            (Scheme::EcdsaSecp256k1, MessageHash::Monero) => {
                Err("a Monero hash is signed with an Ed25519 key".into())
            }
            (_, MessageHash::None) => Ok(Self::Schnorr(bytes)),
            (Scheme::Ed25519, MessageHash::Monero) => Ok(Self::Monero(bytes)),
            (_, _) => Err("a Schnorr payload names a hash; Schnorr signs the bytes".into()),
        }
    }
}

/// A signature as a chain takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The key's scheme.
    pub scheme: Scheme,
    /// r ‖ s for ECDSA, R ‖ s for Ed25519 and BIP-340, c ‖ r for Monero; 64 bytes.
    pub bytes: Vec<u8>,
    /// ECDSA's recovery id (0 or 1).
    pub recovery_id: Option<u8>,
}

/// One signer's party; its output is the signature.
pub type SigningParty = Box<dyn Protocol<Output = Signature>>;

/// Party `ctx.me()`'s side of signing `message` on session `ctx.session_id()`.
pub fn signing_party(
    ctx: SessionContext,
    share: &KeyShare,
    signers: &[PartyIndex],
    path: &[u32],
    message: SignMessage,
) -> Result<SigningParty> {
    let scheme = share.scheme();
    match message {
        SignMessage::Ecdsa(message) => {
            if scheme != Scheme::EcdsaSecp256k1 {
                return Err(Error::InvalidParameters(
                    "an ECDSA payload for a Schnorr key".into(),
                ));
            }
            let session = EcdsaSignSession::new(
                ctx,
                share,
                EcdsaSignConfig {
                    signers: signers.to_vec(),
                    path: path.to_vec(),
                },
                &message,
            )?;
            Ok(Box::new(Map::new(session, |sig: crate::EcdsaSignature| {
                Signature {
                    scheme: Scheme::EcdsaSecp256k1,
                    bytes: sig.to_bytes().to_vec(),
                    recovery_id: Some(sig.recovery_id),
                }
            })))
        }
        SignMessage::Schnorr(message) => {
            schnorr_party(ctx, share, signers, path, message, SchnorrVariant::Standard)
        }
        SignMessage::Monero(message) => {
            schnorr_party(ctx, share, signers, path, message, SchnorrVariant::Monero)
        }
    }
}

fn schnorr_party(
    ctx: SessionContext,
    share: &KeyShare,
    signers: &[PartyIndex],
    path: &[u32],
    message: Vec<u8>,
    variant: SchnorrVariant,
) -> Result<SigningParty> {
    let scheme = share.scheme();
    if scheme == Scheme::EcdsaSecp256k1 {
        return Err(Error::InvalidParameters(
            "a Schnorr payload for an ECDSA key".into(),
        ));
    }
    let session = SchnorrSignSession::new(
        ctx,
        share,
        SchnorrSignConfig {
            signers: signers.to_vec(),
            path: path.to_vec(),
            message,
            taproot_merkle_root: None,
            variant,
        },
    )?;
    Ok(Box::new(Map::new(
        session,
        move |sig: crate::schnorr::SchnorrSignature| Signature {
            scheme,
            bytes: sig.signature,
            recovery_id: None,
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_checked_against_the_key_scheme() {
        let ok = |s, h| SignMessage::new(s, h, vec![1; 32]).is_ok();
        assert!(ok(Scheme::EcdsaSecp256k1, MessageHash::Keccak256));
        assert!(!ok(Scheme::EcdsaSecp256k1, MessageHash::None));
        assert!(!ok(Scheme::EcdsaSecp256k1, MessageHash::Monero));
        assert!(ok(Scheme::Ed25519, MessageHash::None));
        assert!(ok(Scheme::Ed25519, MessageHash::Monero));
        assert!(!ok(Scheme::SchnorrBip340, MessageHash::Sha256));
        for hash in [
            MessageHash::None,
            MessageHash::Keccak256,
            MessageHash::Sha256,
            MessageHash::DoubleSha256,
            MessageHash::Monero,
        ] {
            assert_eq!(MessageHash::from_name(hash.name()), Ok(hash));
        }
        assert!(MessageHash::from_name(Some("md5")).is_err());
    }
}
