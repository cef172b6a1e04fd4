//! The engine's signing party ([`mpcw_engine::signer`]) as the host uses it: payloads come from
//! plugins, signatures go back to them.

use mpcw_engine::signer::{self, MessageHash};
use mpcw_engine::{KeyShare, PartyIndex, Protocol, SessionContext};

use super::Map;
use crate::plugin::wit;

pub use mpcw_engine::signer::SignMessage;

/// A signing party whose output is the signature as plugins take it.
pub type SigningParty = Box<dyn Protocol<Output = wit::Signature>>;

impl From<wit::MessageHash> for MessageHash {
    fn from(h: wit::MessageHash) -> Self {
        match h {
            wit::MessageHash::None => MessageHash::None,
            wit::MessageHash::Keccak256 => MessageHash::Keccak256,
            wit::MessageHash::Sha256 => MessageHash::Sha256,
            wit::MessageHash::DoubleSha256 => MessageHash::DoubleSha256,
            wit::MessageHash::Monero => MessageHash::Monero,
        }
    }
}

impl From<MessageHash> for wit::MessageHash {
    fn from(h: MessageHash) -> Self {
        match h {
            MessageHash::None => wit::MessageHash::None,
            MessageHash::Keccak256 => wit::MessageHash::Keccak256,
            MessageHash::Sha256 => wit::MessageHash::Sha256,
            MessageHash::DoubleSha256 => wit::MessageHash::DoubleSha256,
            MessageHash::Monero => wit::MessageHash::Monero,
        }
    }
}

/// What a plugin's payload asks the key (of `scheme`) to sign.
pub fn sign_message(
    scheme: wit::Scheme,
    hash: wit::MessageHash,
    bytes: Vec<u8>,
) -> Result<SignMessage, String> {
    let scheme = match scheme {
        wit::Scheme::EcdsaSecp256k1 => mpcw_engine::Scheme::EcdsaSecp256k1,
        wit::Scheme::Ed25519 => mpcw_engine::Scheme::Ed25519,
        wit::Scheme::SchnorrBip340 => mpcw_engine::Scheme::SchnorrBip340,
    };
    SignMessage::new(scheme, hash.into(), bytes)
}

/// The name of a message hash, as the API shows it (`None` for Schnorr's bare bytes).
pub fn hash_name(hash: wit::MessageHash) -> Option<&'static str> {
    MessageHash::from(hash).name()
}

/// The message hash of a name from [`hash_name`].
pub fn hash_from_name(name: Option<&str>) -> Result<wit::MessageHash, String> {
    MessageHash::from_name(name).map(Into::into)
}

/// Party `ctx.me()`'s side of signing `message` (see [`signer::signing_party`]), its signature
/// as plugins take it.
pub fn signing_party(
    ctx: SessionContext,
    share: &KeyShare,
    signers: &[PartyIndex],
    path: &[u32],
    message: SignMessage,
) -> mpcw_engine::Result<SigningParty> {
    let party = signer::signing_party(ctx, share, signers, path, message)?;
    Ok(Box::new(Map::new(party, |s: signer::Signature| {
        wit::Signature {
            scheme: s.scheme.into(),
            bytes: s.bytes,
            recovery_id: s.recovery_id,
        }
    })))
}
