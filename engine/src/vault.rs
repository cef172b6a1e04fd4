//! Shares encrypted at rest, in a versioned envelope.
//!
//! - With a password or a passkey-derived secret: Argon2id derives a 256-bit key from the secret
//!   and a random salt; XChaCha20-Poly1305 encrypts the share under it with a random nonce.
//! - With a key-encryption key (the server's shares): XChaCha20-Poly1305 directly under the KEK.
//!
//! The envelope's header (version, KDF and its parameters, label) is authenticated as associated
//! data, so it cannot be altered to weaken the KDF. A wrong password or key, or any change to the
//! envelope, fails with [`Error::Decryption`].

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Current envelope version.
pub const VAULT_VERSION: u32 = 1;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Parallelism.
    pub p_cost: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: above the OWASP minimum for Argon2id, and a fraction of a second
    /// on a phone.
    fn default() -> Self {
        Self {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

impl KdfParams {
    fn check(&self) -> Result<()> {
        if self.m_cost_kib < 8 * 1024
            || self.t_cost < 1
            || self.p_cost < 1
            || self.m_cost_kib > 4 * 1024 * 1024
        {
            return Err(Error::InvalidParameters(
                "Argon2id parameters out of range (at least 8 MiB, at most 4 GiB, t >= 1, p >= 1)"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// How the envelope's key is obtained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kdf", rename_all = "snake_case")]
pub enum KeySource {
    /// Argon2id over a password or passkey secret.
    Argon2id {
        /// Cost parameters.
        params: KdfParams,
        /// 16-byte salt (base64).
        salt: String,
    },
    /// A 32-byte key-encryption key, identified by name (for rotation).
    Kek {
        /// Which KEK encrypted this envelope.
        key_id: String,
    },
}

/// An encrypted secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedBox {
    /// Format version.
    pub version: u32,
    /// What the secret is (e.g. `key-share`), bound to the ciphertext.
    pub label: String,
    /// Where the key comes from.
    pub key: KeySource,
    /// AEAD algorithm.
    pub aead: String,
    /// 24-byte nonce (base64).
    pub nonce: String,
    /// Ciphertext with tag (base64).
    pub ciphertext: String,
}

const AEAD: &str = "xchacha20poly1305";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn derive_key(secret: &[u8], params: &KdfParams, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    params.check()?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
            .map_err(|e| Error::InvalidParameters(format!("Argon2id parameters: {e}")))?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(secret, salt, key.as_mut())
        .map_err(|e| Error::InvalidParameters(format!("Argon2id: {e}")))?;
    Ok(key)
}

impl SealedBox {
    fn header(&self) -> Vec<u8> {
        serde_json::to_vec(&(self.version, &self.label, &self.key, &self.aead))
            .expect("headers serialize")
    }

    fn encrypt(
        label: &str,
        key_source: KeySource,
        key: &[u8; 32],
        plaintext: &[u8],
    ) -> Result<Self> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let mut sealed = SealedBox {
            version: VAULT_VERSION,
            label: label.to_owned(),
            key: key_source,
            aead: AEAD.into(),
            nonce: b64().encode(nonce),
            ciphertext: String::new(),
        };
        let aad = sealed.header();
        let ct = XChaCha20Poly1305::new(key.into())
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Protocol("encryption failed".into()))?;
        sealed.ciphertext = b64().encode(ct);
        Ok(sealed)
    }

    fn decrypt(&self, key: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>> {
        if self.version != VAULT_VERSION || self.aead != AEAD {
            return Err(Error::malformed(format!(
                "unsupported envelope version {} / {}",
                self.version, self.aead
            )));
        }
        let nonce: [u8; 24] = b64()
            .decode(&self.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| Error::malformed("envelope nonce"))?;
        let ct = b64()
            .decode(&self.ciphertext)
            .map_err(|_| Error::malformed("envelope ciphertext"))?;
        let aad = self.header();
        XChaCha20Poly1305::new(key.into())
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ct,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Error::Decryption)
    }

    /// Encrypt `plaintext` under a password or passkey secret.
    pub fn seal_with_password(
        label: &str,
        plaintext: &[u8],
        secret: &[u8],
        params: KdfParams,
    ) -> Result<Self> {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let key = derive_key(secret, &params, &salt)?;
        Self::encrypt(
            label,
            KeySource::Argon2id {
                params,
                salt: b64().encode(salt),
            },
            &key,
            plaintext,
        )
    }

    /// Decrypt with the password or passkey secret.
    pub fn open_with_password(&self, secret: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let KeySource::Argon2id { params, salt } = &self.key else {
            return Err(Error::InvalidParameters(
                "envelope is sealed with a KEK, not a password".into(),
            ));
        };
        let salt = b64()
            .decode(salt)
            .map_err(|_| Error::malformed("envelope salt"))?;
        let key = derive_key(secret, params, &salt)?;
        self.decrypt(&key)
    }

    /// Encrypt `plaintext` under the key-encryption key `kek` named `key_id`.
    pub fn seal_with_kek(
        label: &str,
        plaintext: &[u8],
        key_id: &str,
        kek: &[u8; 32],
    ) -> Result<Self> {
        Self::encrypt(
            label,
            KeySource::Kek {
                key_id: key_id.to_owned(),
            },
            kek,
            plaintext,
        )
    }

    /// Decrypt with the key-encryption key.
    pub fn open_with_kek(&self, kek: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>> {
        if !matches!(self.key, KeySource::Kek { .. }) {
            return Err(Error::InvalidParameters(
                "envelope is sealed with a password, not a KEK".into(),
            ));
        }
        self.decrypt(kek)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> KdfParams {
        KdfParams {
            m_cost_kib: 8 * 1024,
            t_cost: 1,
            p_cost: 1,
        }
    }

    #[test]
    fn password_round_trip_and_wrong_password_fails() {
        let sealed =
            SealedBox::seal_with_password("key-share", b"share bytes", b"correct horse", fast())
                .unwrap();
        assert_eq!(
            &**sealed.open_with_password(b"correct horse").unwrap(),
            b"share bytes"
        );
        assert!(matches!(
            sealed.open_with_password(b"wrong horse"),
            Err(Error::Decryption)
        ));
        assert!(!serde_json::to_string(&sealed)
            .unwrap()
            .contains("share bytes"));
    }

    #[test]
    fn weakening_the_kdf_in_the_header_is_detected() {
        let mut sealed = SealedBox::seal_with_password("key-share", b"s", b"pw", fast()).unwrap();
        if let KeySource::Argon2id { params, .. } = &mut sealed.key {
            params.m_cost_kib = 9 * 1024;
        }
        assert!(matches!(
            sealed.open_with_password(b"pw"),
            Err(Error::Decryption)
        ));
    }

    #[test]
    fn kek_round_trip_wrong_kek_and_tampering_fail() {
        let kek = [7u8; 32];
        let mut sealed =
            SealedBox::seal_with_kek("key-share", b"server share", "kek-1", &kek).unwrap();
        assert_eq!(&**sealed.open_with_kek(&kek).unwrap(), b"server share");
        assert!(matches!(
            sealed.open_with_kek(&[8u8; 32]),
            Err(Error::Decryption)
        ));
        sealed.label = "other".into();
        assert!(matches!(sealed.open_with_kek(&kek), Err(Error::Decryption)));
    }

    #[test]
    fn too_weak_parameters_are_refused() {
        let weak = KdfParams {
            m_cost_kib: 16,
            t_cost: 1,
            p_cost: 1,
        };
        assert!(SealedBox::seal_with_password("x", b"s", b"pw", weak).is_err());
    }
}
