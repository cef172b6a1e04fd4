//! One signer's party of a signing session, the same on the server and on the device: ECDSA is
//! a fresh presignature followed by the one-round signature over it (session `id`, then
//! `id/sign`); Ed25519 and BIP-340 are one FROST session.

use mpcw_engine::ecdsa::{EcdsaSignSession, PresignConfig, PresignSession};
use mpcw_engine::schnorr::{SchnorrSignConfig, SchnorrSignSession, SchnorrVariant};
use mpcw_engine::{EcdsaMessage, Error, KeyShare, PartyIndex, Protocol, SessionContext};

use super::{Map, Then};
use crate::plugin::wit;

/// A signing party whose output is the signature as plugins take it.
pub type SigningParty = Box<dyn Protocol<Output = wit::Signature>>;

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
    /// From a plugin's payload: its scheme, hash and bytes.
    pub fn new(
        scheme: wit::Scheme,
        hash: wit::MessageHash,
        bytes: Vec<u8>,
    ) -> Result<Self, String> {
        match (scheme, hash) {
            (wit::Scheme::EcdsaSecp256k1, wit::MessageHash::Keccak256) => {
                Ok(Self::Ecdsa(EcdsaMessage::Keccak256(bytes)))
            }
            (wit::Scheme::EcdsaSecp256k1, wit::MessageHash::Sha256) => {
                Ok(Self::Ecdsa(EcdsaMessage::Sha256(bytes)))
            }
            (wit::Scheme::EcdsaSecp256k1, wit::MessageHash::DoubleSha256) => {
                Ok(Self::Ecdsa(EcdsaMessage::DoubleSha256(bytes)))
            }
            (wit::Scheme::EcdsaSecp256k1, wit::MessageHash::None) => Err(
                "the payload is a bare ECDSA digest; parties sign only messages whose hash \
                 they compute themselves"
                    .into(),
            ),
            (_, wit::MessageHash::None) => Ok(Self::Schnorr(bytes)),
            (wit::Scheme::Ed25519, wit::MessageHash::Monero) => Ok(Self::Monero(bytes)),
            (_, _) => Err("a Schnorr payload names a hash; Schnorr signs the bytes".into()),
        }
    }
}

/// The name of a message hash, as the API shows it (`None` for Schnorr's bare bytes).
pub fn hash_name(hash: wit::MessageHash) -> Option<&'static str> {
    match hash {
        wit::MessageHash::None => None,
        wit::MessageHash::Keccak256 => Some("keccak256"),
        wit::MessageHash::Sha256 => Some("sha256"),
        wit::MessageHash::DoubleSha256 => Some("double-sha256"),
        wit::MessageHash::Monero => Some("monero"),
    }
}

/// The message hash of a name from [`hash_name`].
pub fn hash_from_name(name: Option<&str>) -> Result<wit::MessageHash, String> {
    match name {
        None => Ok(wit::MessageHash::None),
        Some("keccak256") => Ok(wit::MessageHash::Keccak256),
        Some("sha256") => Ok(wit::MessageHash::Sha256),
        Some("double-sha256") => Ok(wit::MessageHash::DoubleSha256),
        Some("monero") => Ok(wit::MessageHash::Monero),
        Some(other) => Err(format!("unknown message hash {other:?}")),
    }
}

/// Party `ctx.me()`'s side of signing `message` on session `ctx.session_id()`; `ctx_for` makes
/// the context of the ECDSA signing stage's session id.
pub fn signing_party(
    ctx: SessionContext,
    ctx_for: impl FnOnce(&str) -> mpcw_engine::Result<SessionContext>,
    share: &KeyShare,
    signers: &[PartyIndex],
    path: &[u32],
    message: SignMessage,
) -> mpcw_engine::Result<SigningParty> {
    let scheme: wit::Scheme = share.scheme().into();
    match message {
        SignMessage::Ecdsa(message) => {
            if scheme != wit::Scheme::EcdsaSecp256k1 {
                return Err(Error::InvalidParameters(
                    "an ECDSA payload for a Schnorr key".into(),
                ));
            }
            let second_id = format!("{}/sign", ctx.session_id());
            let ctx2 = ctx_for(&second_id)?;
            let first = PresignSession::new(
                ctx,
                share,
                PresignConfig {
                    signers: signers.to_vec(),
                    path: path.to_vec(),
                },
            )?;
            Ok(Box::new(Map::new(
                Then::new(first, second_id, move |p| {
                    EcdsaSignSession::new(ctx2, p, message)
                }),
                |sig: mpcw_engine::EcdsaSignature| wit::Signature {
                    scheme: wit::Scheme::EcdsaSecp256k1,
                    bytes: sig.to_bytes().to_vec(),
                    recovery_id: Some(sig.recovery_id),
                },
            )))
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
) -> mpcw_engine::Result<SigningParty> {
    let scheme: wit::Scheme = share.scheme().into();
    if scheme == wit::Scheme::EcdsaSecp256k1 {
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
        move |sig: mpcw_engine::schnorr::SchnorrSignature| wit::Signature {
            scheme,
            bytes: sig.signature,
            recovery_id: None,
        },
    )))
}
