//! A single-key (self-custody) signer: the key of a BIP-39 wallet at one derivation path, for
//! users who want no threshold wallet and no server. It signs the same payloads as a threshold
//! wallet ([`SignMessage`]) and gives the same [`Signature`]s, with the audited single-party
//! implementations: RFC 6979 ECDSA and BIP-340 Schnorr from `k256`, Ed25519 from
//! `ed25519-dalek`. Keys come from [`import::single_key_at`] (BIP-32 for secp256k1, SLIP-10
//! for Ed25519), as a wallet app derives them.

use ed25519_dalek::Signer as _;
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::import::single_key_at;
use crate::signer::{SignMessage, Signature};
use crate::Scheme;

/// A fresh English BIP-39 mnemonic of `words` words (12, 15, 18, 21 or 24).
pub fn generate_mnemonic(words: usize) -> Result<Zeroizing<String>> {
    if ![12, 15, 18, 21, 24].contains(&words) {
        return Err(Error::InvalidParameters(
            "a mnemonic has 12, 15, 18, 21 or 24 words".into(),
        ));
    }
    let mut entropy = Zeroizing::new([0u8; 32]);
    let len = words / 3 * 4;
    OsRng.fill_bytes(&mut entropy[..len]);
    let mnemonic = bip39::Mnemonic::from_entropy(&entropy[..len])
        .map_err(|e| Error::InvalidParameters(format!("mnemonic: {e}")))?;
    Ok(Zeroizing::new(mnemonic.to_string()))
}

/// The private key at one path of a BIP-39 wallet. `Debug` does not show it.
pub struct LocalKey {
    scheme: Scheme,
    secret: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "LocalKey({:?}, ..)", self.scheme)
    }
}

impl LocalKey {
    /// The key for `scheme` at `path` (e.g. `m/44'/60'/0'/0/0` for Ethereum's first address,
    /// `m/44'/501'/0'/0'` for Solana's) of the wallet of `phrase` and `passphrase`.
    pub fn from_mnemonic(
        phrase: &str,
        passphrase: &str,
        path: &str,
        scheme: Scheme,
    ) -> Result<Self> {
        let secret = single_key_at(phrase, passphrase, path, scheme)?;
        // A BIP-32 key is a valid scalar by construction; check anyway before use.
        if scheme != Scheme::Ed25519 {
            k256::SecretKey::from_slice(secret.as_ref())
                .map_err(|_| Error::Protocol("BIP-32 key out of range".into()))?;
        }
        Ok(Self { scheme, secret })
    }

    /// The key's scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The public key: SEC1 for ECDSA (33 bytes compressed, or 65 uncompressed), x-only for
    /// BIP-340 (32 bytes), the Ed25519 point (32 bytes).
    pub fn public_key(&self, uncompressed: bool) -> Vec<u8> {
        match self.scheme {
            Scheme::Ed25519 => ed25519_dalek::SigningKey::from_bytes(&self.secret)
                .verifying_key()
                .to_bytes()
                .to_vec(),
            Scheme::SchnorrBip340 => self.bip340().verifying_key().to_bytes().to_vec(),
            Scheme::EcdsaSecp256k1 => {
                use k256::elliptic_curve::sec1::ToEncodedPoint;
                self.ecdsa()
                    .verifying_key()
                    .as_affine()
                    .to_encoded_point(!uncompressed)
                    .as_bytes()
                    .to_vec()
            }
        }
    }

    /// Sign one payload (checked against the key's scheme by [`SignMessage::new`]).
    pub fn sign(&self, message: &SignMessage) -> Result<Signature> {
        let (bytes, recovery_id) = match (self.scheme, message) {
            (Scheme::EcdsaSecp256k1, SignMessage::Ecdsa(m)) => {
                // k256 gives low-s signatures (as chains take them), the recovery id adjusted.
                let (sig, id) = self
                    .ecdsa()
                    .sign_prehash_recoverable(&m.digest())
                    .map_err(|e| Error::Protocol(format!("ECDSA: {e}")))?;
                (sig.to_bytes().to_vec(), Some(id.to_byte()))
            }
            (Scheme::SchnorrBip340, SignMessage::Schnorr(msg)) => {
                let mut aux = Zeroizing::new([0u8; 32]);
                OsRng.fill_bytes(aux.as_mut());
                let sig = self
                    .bip340()
                    .sign_raw(msg, &aux)
                    .map_err(|e| Error::Protocol(format!("BIP-340: {e}")))?;
                (sig.to_bytes().to_vec(), None)
            }
            (Scheme::Ed25519, SignMessage::Schnorr(msg)) => {
                let key = ed25519_dalek::SigningKey::from_bytes(&self.secret);
                (key.sign(msg).to_bytes().to_vec(), None)
            }
            _ => {
                return Err(Error::InvalidParameters(format!(
                    "a {} key cannot sign this payload",
                    self.scheme.name()
                )))
            }
        };
        Ok(Signature {
            scheme: self.scheme,
            bytes,
            recovery_id,
        })
    }

    fn ecdsa(&self) -> k256::ecdsa::SigningKey {
        k256::ecdsa::SigningKey::from_slice(self.secret.as_ref()).expect("checked when made")
    }

    fn bip340(&self) -> k256::schnorr::SigningKey {
        k256::schnorr::SigningKey::from_bytes(self.secret.as_ref()).expect("checked when made")
    }
}
