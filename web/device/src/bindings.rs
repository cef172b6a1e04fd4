//! The JavaScript face of the device party (`wasm-bindgen`). Errors become JavaScript `Error`s
//! with the message; JSON goes in and out as strings.

use mpcw_engine::vault::KdfParams;
use wasm_bindgen::prelude::*;

use crate::{DeviceError, DeviceSecret as Secret, KeygenSpec, Party as Session, ReshareSpec};

fn js(e: DeviceError) -> JsError {
    JsError::new(&e.to_string())
}

/// A party's identity keys and, after key generation, its share; sealed under a password to
/// be stored.
#[wasm_bindgen]
pub struct DeviceSecret(Secret);

#[wasm_bindgen]
impl DeviceSecret {
    /// Fresh identity keys.
    #[wasm_bindgen(constructor)]
    pub fn new() -> DeviceSecret {
        DeviceSecret(Secret::generate())
    }

    /// The public identity keys, JSON, for the wallet's roster.
    #[wasm_bindgen(js_name = publicKeys)]
    pub fn public_keys(&self) -> String {
        self.0.public_keys()
    }

    /// The share's party index, or undefined before key generation.
    pub fn index(&self) -> Option<u16> {
        self.0.index()
    }

    /// The wallet's group public key, hex.
    #[wasm_bindgen(js_name = groupKey)]
    pub fn group_key(&self) -> Result<String, JsError> {
        self.0.group_key().map_err(js)
    }

    /// The key's public information, JSON.
    #[wasm_bindgen(js_name = keyInfo)]
    pub fn key_info(&self) -> Result<String, JsError> {
        self.0.key_info().map_err(js)
    }

    /// The wallet's public key at `path`, hex.
    #[wasm_bindgen(js_name = childKey)]
    pub fn child_key(&self, path: Vec<u32>) -> Result<String, JsError> {
        self.0.child_key(&path).map_err(js)
    }

    /// Seal under `password` with Argon2id (`memory_kib` of memory, `passes` passes; 65536 and
    /// 3 are the defaults). JSON.
    pub fn seal(
        &self,
        label: &str,
        password: &str,
        memory_kib: Option<u32>,
        passes: Option<u32>,
    ) -> Result<String, JsError> {
        let d = KdfParams::default();
        let kdf = KdfParams {
            m_cost_kib: memory_kib.unwrap_or(d.m_cost_kib),
            t_cost: passes.unwrap_or(d.t_cost),
            p_cost: d.p_cost,
        };
        self.0.seal(label, password.as_bytes(), kdf).map_err(js)
    }

    /// Open a sealed secret; a wrong password throws.
    pub fn open(sealed: &str, password: &str) -> Result<DeviceSecret, JsError> {
        Secret::open(sealed, password.as_bytes())
            .map(DeviceSecret)
            .map_err(js)
    }

    /// Key generation session `session` as party `me` of `roster` (JSON).
    pub fn keygen(
        &self,
        session: &str,
        me: u16,
        roster: &str,
        scheme: &str,
        threshold: u16,
        parties: u16,
    ) -> Result<Party, JsError> {
        let spec = KeygenSpec {
            session,
            me,
            roster,
            scheme,
            threshold,
            parties,
        };
        self.0.keygen(&spec).map(Party).map_err(js)
    }

    /// This party's side of resharing session `session` (see the Rust `DeviceSecret::reshare`);
    /// `key` is the key's public information (JSON) as the server returned it.
    #[allow(clippy::too_many_arguments)]
    pub fn reshare(
        &self,
        session: &str,
        me: u16,
        roster: &str,
        key: &str,
        old_signers: Vec<u16>,
        new_threshold: u16,
        new_parties: u16,
    ) -> Result<Party, JsError> {
        let spec = ReshareSpec {
            session,
            me,
            roster,
            key,
            old_signers: &old_signers,
            new_threshold,
            new_parties,
        };
        self.0.reshare(&spec).map(Party).map_err(js)
    }

    /// Keep the share of a finished key generation or resharing.
    pub fn accept(&mut self, party: &mut Party) -> Result<(), JsError> {
        self.0.accept(&mut party.0).map_err(js)
    }

    /// Signing session `session` of one payload.
    pub fn sign(
        &self,
        session: &str,
        roster: &str,
        signers: Vec<u16>,
        path: Vec<u32>,
        hash: Option<String>,
        bytes_hex: &str,
    ) -> Result<Party, JsError> {
        self.0
            .sign(session, roster, &signers, &path, hash.as_deref(), bytes_hex)
            .map(Party)
            .map_err(js)
    }

    /// This party's signature on statement `purpose`/`text` with its identity key, base64:
    /// proof to the server that the statement comes from the holder of this share (for
    /// example, cancelling a recovery of its wallet).
    #[wasm_bindgen(js_name = signStatement)]
    pub fn sign_statement(&self, purpose: &str, text: &str) -> String {
        self.0.sign_statement(purpose, text)
    }

    /// ECDSA: record that signing with `party` is suspended until the wallet is refreshed (it
    /// failed an oblivious-transfer check, see [`Party::cheater`]); seal the secret again to
    /// keep it. `false` if it already was, or the share is not ECDSA.
    pub fn suspend(&mut self, party: u16, reason: &str) -> Result<bool, JsError> {
        self.0.suspend(party, reason).map_err(js)
    }

    /// The co-signers this share refuses to sign with until a refresh, JSON
    /// `[[party, reason], …]`.
    pub fn suspended(&self) -> Result<String, JsError> {
        self.0.suspended().map_err(js)
    }
}

impl Default for DeviceSecret {
    fn default() -> Self {
        Self::new()
    }
}

/// One running protocol session.
#[wasm_bindgen]
pub struct Party(Session);

#[wasm_bindgen]
impl Party {
    /// The first envelopes to post, JSON.
    pub fn start(&mut self) -> Result<String, JsError> {
        self.0.start().map_err(js)
    }

    /// Take one envelope (JSON); the envelopes to post, JSON.
    pub fn handle(&mut self, envelope: &str) -> Result<String, JsError> {
        self.0.handle(envelope).map_err(js)
    }

    /// Whether the session has its output.
    #[wasm_bindgen(js_name = isDone)]
    pub fn is_done(&self) -> bool {
        self.0.is_done()
    }

    /// The co-signer that failed an oblivious-transfer check in this session, JSON
    /// `{party, reason}`, or undefined: do not sign with it again before a refresh
    /// ([`DeviceSecret::suspend`]).
    pub fn cheater(&self) -> Option<String> {
        self.0.cheater().map(|(party, reason)| {
            serde_json::json!({ "party": party, "reason": reason }).to_string()
        })
    }

    /// A finished signing session's signature, JSON, or undefined.
    pub fn signature(&self) -> Option<String> {
        self.0.signature()
    }
}

/// Self-custody: a BIP-39 wallet's key at one path, signing alone (no server).
#[wasm_bindgen]
pub struct LocalKey(crate::LocalKey);

#[wasm_bindgen]
impl LocalKey {
    /// The key of `scheme` at `path` (e.g. `m/44'/60'/0'/0/0`) of `phrase` with `passphrase`.
    #[wasm_bindgen(js_name = fromMnemonic)]
    pub fn from_mnemonic(
        phrase: &str,
        passphrase: &str,
        path: &str,
        scheme: &str,
    ) -> Result<LocalKey, JsError> {
        crate::LocalKey::new(phrase, passphrase, path, scheme)
            .map(LocalKey)
            .map_err(js)
    }

    /// The public key, hex: SEC1 for ECDSA (compressed unless `uncompressed`), x-only for
    /// BIP-340, the point for Ed25519.
    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self, uncompressed: bool) -> String {
        self.0.public_key(uncompressed)
    }

    /// Sign one payload (`hash` by name, or undefined for Schnorr's bare bytes); JSON.
    pub fn sign(&self, hash: Option<String>, bytes_hex: &str) -> Result<String, JsError> {
        self.0.sign(hash.as_deref(), bytes_hex).map_err(js)
    }
}

/// A fresh English BIP-39 mnemonic of `words` words (12, 15, 18, 21 or 24).
#[wasm_bindgen(js_name = generateMnemonic)]
pub fn generate_mnemonic(words: usize) -> Result<String, JsError> {
    crate::generate_mnemonic(words)
        .map(|m| m.to_string())
        .map_err(js)
}

/// Keccak-256 of hex bytes, hex.
#[wasm_bindgen]
pub fn keccak256(bytes_hex: &str) -> Result<String, JsError> {
    crate::keccak256(bytes_hex).map_err(js)
}

/// SHA-256 of hex bytes, hex: the recovery proofs on platforms without Web Crypto.
#[wasm_bindgen]
pub fn sha256(bytes_hex: &str) -> Result<String, JsError> {
    crate::sha256(bytes_hex).map_err(js)
}
