//! Self-custody: a BIP-39 wallet's key at one path, signing alone (no shares, no server), for
//! users who want no threshold wallet. The key stays in WebAssembly memory; it signs the same
//! payloads as the threshold party and gives the same signature JSON.

use mpcw_engine::local::LocalKey as Key;
use mpcw_engine::EcdsaMessage;
use zeroize::Zeroizing;

use crate::party::SignatureOut;
use crate::secret::{scheme, sign_message};
use crate::{input, Result};

/// A fresh English BIP-39 mnemonic of `words` words (12 to 24).
pub fn generate_mnemonic(words: usize) -> Result<Zeroizing<String>> {
    Ok(mpcw_engine::local::generate_mnemonic(words)?)
}

/// Keccak-256 of hex bytes, hex (Ethereum addresses are its last 20 bytes of the public key's).
pub fn keccak256(bytes_hex: &str) -> Result<String> {
    let bytes = hex::decode(bytes_hex.trim_start_matches("0x")).map_err(|e| input("bytes", e))?;
    Ok(hex::encode(EcdsaMessage::Keccak256(bytes).digest()))
}

/// SHA-256 of hex bytes, hex (for platforms without Web Crypto, such as mini-programs).
pub fn sha256(bytes_hex: &str) -> Result<String> {
    let bytes = hex::decode(bytes_hex).map_err(|e| input("bytes", e))?;
    Ok(hex::encode(EcdsaMessage::Sha256(bytes).digest()))
}

/// The key of scheme `scheme` at `path` of a BIP-39 wallet.
pub struct LocalKey(Key);

impl LocalKey {
    /// The key at `path` (e.g. `m/44'/60'/0'/0/0`) of `phrase` with `passphrase`.
    pub fn new(phrase: &str, passphrase: &str, path: &str, scheme_name: &str) -> Result<Self> {
        Ok(Self(Key::from_mnemonic(
            phrase,
            passphrase,
            path,
            scheme(scheme_name)?,
        )?))
    }

    /// The public key, hex (see [`mpcw_engine::local::LocalKey::public_key`]).
    pub fn public_key(&self, uncompressed: bool) -> String {
        hex::encode(self.0.public_key(uncompressed))
    }

    /// Sign one payload: `hash` by name (`keccak256`, `sha256`, `double-sha256`, or none for
    /// Schnorr's bare bytes) over `bytes_hex`. The signature, JSON.
    pub fn sign(&self, hash: Option<&str>, bytes_hex: &str) -> Result<String> {
        let message = sign_message(self.0.scheme(), hash, bytes_hex)?;
        let signature = SignatureOut::from(self.0.sign(&message)?);
        Ok(serde_json::to_string(&signature).expect("serializes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn signs_json_and_refuses_what_does_not_fit() {
        let key = LocalKey::new(ABANDON, "", "m/44'/60'/0'/0/0", "ecdsa-secp256k1").unwrap();
        let sig: serde_json::Value =
            serde_json::from_str(&key.sign(Some("keccak256"), "abcd").unwrap()).unwrap();
        assert_eq!(sig["scheme"], "ecdsa-secp256k1");
        assert_eq!(sig["bytes"].as_str().unwrap().len(), 128);
        assert!(sig["recovery_id"].as_u64().unwrap() <= 1);
        // A bare digest is never signed, and a Schnorr payload is not ECDSA's.
        assert!(key.sign(None, "abcd").is_err());
        assert!(LocalKey::new(ABANDON, "", "m/0", "rsa").is_err());
        // Ethereum's address of the all-"abandon" wallet (MetaMask, ethers).
        let point = key.public_key(true);
        assert_eq!(
            &keccak256(&point[2..]).unwrap()[24..],
            "9858effd232b4033e47d90003d41ec34ecaeda94"
        );
    }
}
