//! The party's secrets: identity keys, and the share once key generation has made it.

use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
use mpcw_engine::reshare::{ReshareConfig, ReshareSession};
use mpcw_engine::signer::{signing_party, MessageHash, SignMessage};
use mpcw_engine::vault::{KdfParams, SealedBox};
use mpcw_engine::{KeyShare, PartyIndex, PartyKeys, PublicKeyInfo, Roster, Scheme, SessionContext};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::party::Party;
use crate::{input, DeviceError, Result};

/// What is sealed: the same JSON as the command-line device's file keeps.
#[derive(Serialize, Deserialize)]
struct Sealed {
    party_keys: String,
    share: String,
}

/// A key generation as the server set it up.
#[derive(Clone, Copy, Debug)]
pub struct KeygenSpec<'a> {
    /// The session id.
    pub session: &'a str,
    /// This party's index.
    pub me: PartyIndex,
    /// The full roster, JSON, as the server returns it.
    pub roster: &'a str,
    /// `ecdsa-secp256k1`, `ed25519` or `schnorr-bip340`.
    pub scheme: &'a str,
    /// Parties needed to sign.
    pub threshold: u16,
    /// Parties holding shares.
    pub parties: u16,
}

/// A resharing as the server set it up.
#[derive(Clone, Copy, Debug)]
pub struct ReshareSpec<'a> {
    /// The session id.
    pub session: &'a str,
    /// This party's index.
    pub me: PartyIndex,
    /// The session's roster, JSON, as the server returns it.
    pub roster: &'a str,
    /// The key's public information, JSON, as the server returns it.
    pub key: &'a str,
    /// The current holders who deal.
    pub old_signers: &'a [PartyIndex],
    /// The new threshold.
    pub new_threshold: u16,
    /// The new number of parties.
    pub new_parties: u16,
}

/// A party's identity keys and, after key generation, its share.
pub struct DeviceSecret {
    keys: PartyKeys,
    share: Option<KeyShare>,
}

pub(crate) fn scheme(name: &str) -> Result<Scheme> {
    Scheme::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| input("scheme", format!("unknown scheme {name:?}")))
}

/// One payload as JavaScript gives it (`hash` by name, hex bytes), checked for `scheme`.
pub(crate) fn sign_message(
    scheme: Scheme,
    hash: Option<&str>,
    bytes_hex: &str,
) -> Result<SignMessage> {
    let hash = MessageHash::from_name(hash).map_err(DeviceError::Input)?;
    let bytes = hex::decode(bytes_hex).map_err(|e| input("payload bytes", e))?;
    SignMessage::new(scheme, hash, bytes).map_err(DeviceError::Input)
}

fn roster(json: &str) -> Result<Roster> {
    serde_json::from_str(json).map_err(|e| input("roster", e))
}

impl DeviceSecret {
    /// Fresh identity keys, before key generation.
    pub fn generate() -> Self {
        Self {
            keys: PartyKeys::generate(&mut rand_core::OsRng),
            share: None,
        }
    }

    /// The public identity keys, JSON, as a roster entry (what the server is told).
    pub fn public_keys(&self) -> String {
        serde_json::to_string(&self.keys.public()).expect("public keys serialize")
    }

    /// This party's signature on statement `purpose`/`text` with its identity key (see
    /// `PartyKeys::sign_statement`), base64.
    pub fn sign_statement(&self, purpose: &str, text: &str) -> String {
        self.keys.sign_statement(purpose, text)
    }

    /// The share's party index, once there is a share.
    pub fn index(&self) -> Option<PartyIndex> {
        self.share.as_ref().map(KeyShare::index)
    }

    fn share(&self) -> Result<&KeyShare> {
        self.share
            .as_ref()
            .ok_or_else(|| DeviceError::Input("there is no share yet: run key generation".into()))
    }

    /// The wallet's group public key, hex.
    pub fn group_key(&self) -> Result<String> {
        Ok(hex::encode(self.share()?.public_key()))
    }

    /// The key's public information (scheme, threshold, group key, chain code, every party's
    /// public share), JSON, as the server shows it.
    pub fn key_info(&self) -> Result<String> {
        Ok(serde_json::to_string(&self.share()?.public_info()).expect("serializes"))
    }

    /// The wallet's public key at `path` (non-hardened indices), hex.
    pub fn child_key(&self, path: &[u32]) -> Result<String> {
        Ok(hex::encode(self.share()?.derive(path)?.public_key))
    }

    /// Seal the keys and the share under `password`, labelled `label` (the label is bound to
    /// the ciphertext: a sealed secret opens only under its own label's checks). JSON.
    pub fn seal(&self, label: &str, password: &[u8], kdf: KdfParams) -> Result<String> {
        let sealed = Sealed {
            party_keys: hex::encode(self.keys.to_secret_bytes().as_ref()),
            share: hex::encode(self.share()?.to_bytes()),
        };
        let plain = Zeroizing::new(serde_json::to_vec(&sealed).expect("serializes"));
        let sealed = SealedBox::seal_with_password(label, &plain, password, kdf)?;
        Ok(serde_json::to_string(&sealed).expect("sealed boxes serialize"))
    }

    /// Open a secret sealed by [`DeviceSecret::seal`]; a wrong password fails.
    pub fn open(sealed: &str, password: &[u8]) -> Result<Self> {
        let sealed: SealedBox = serde_json::from_str(sealed).map_err(|e| input("sealed", e))?;
        let plain = sealed.open_with_password(password)?;
        let inner: Sealed =
            serde_json::from_slice(&plain).map_err(|e| input("sealed content", e))?;
        let keys = Zeroizing::new(hex::decode(&inner.party_keys).map_err(|e| input("keys", e))?);
        let share = Zeroizing::new(hex::decode(&inner.share).map_err(|e| input("share", e))?);
        Ok(Self {
            keys: PartyKeys::from_secret_bytes(&keys)?,
            share: Some(KeyShare::from_bytes(&share)?),
        })
    }

    /// This party's side of a key generation (ECDSA includes the pairwise oblivious-transfer
    /// setup with every other party).
    pub fn keygen(&self, spec: &KeygenSpec<'_>) -> Result<Party> {
        let ctx = SessionContext::new(
            spec.session,
            spec.me,
            self.keys.clone(),
            roster(spec.roster)?,
        )?;
        let config = KeygenConfig {
            scheme: scheme(spec.scheme)?,
            threshold: spec.threshold,
            parties: spec.parties,
        };
        Ok(Party::keygen(KeygenSession::new(ctx, config)?))
    }

    /// Keep the share a finished key generation or resharing made (a resharing party that
    /// only dealt keeps none: its old share no longer works).
    pub fn accept(&mut self, party: &mut Party) -> Result<()> {
        let share = party
            .take_share()
            .ok_or_else(|| DeviceError::Input("the session has not finished".into()))?;
        self.share = share;
        Ok(())
    }

    /// This party's side of a resharing the server set up: the same key dealt again to
    /// `new_parties` parties at `new_threshold` by the `old_signers` (this party deals if it has
    /// a share). A refresh keeps the parties; a recovery deals to a fresh party (a secret from
    /// [`DeviceSecret::generate`]) in place of a lost one. ECDSA's new parties also run a new
    /// pairwise oblivious-transfer setup.
    pub fn reshare(&self, spec: &ReshareSpec<'_>) -> Result<Party> {
        let ctx = SessionContext::new(
            spec.session,
            spec.me,
            self.keys.clone(),
            roster(spec.roster)?,
        )?;
        let key: PublicKeyInfo = serde_json::from_str(spec.key).map_err(|e| input("key", e))?;
        let config = ReshareConfig {
            key,
            old_signers: spec.old_signers.to_vec(),
            new_threshold: spec.new_threshold,
            new_parties: spec.new_parties,
        };
        Ok(Party::reshare(ReshareSession::new(
            ctx,
            config,
            self.share.as_ref(),
        )?))
    }

    /// This party's side of signing session `session` (one payload: `hash` by name, as the
    /// server's signing request lists it, and `bytes_hex`) with `signers` at `path`.
    pub fn sign(
        &self,
        session: &str,
        roster_json: &str,
        signers: &[PartyIndex],
        path: &[u32],
        hash: Option<&str>,
        bytes_hex: &str,
    ) -> Result<Party> {
        let share = self.share()?;
        let roster = roster(roster_json)?;
        let me = share.index();
        let ctx = SessionContext::new(session, me, self.keys.clone(), roster)?;
        let message = sign_message(share.scheme(), hash, bytes_hex)?;
        let party = signing_party(ctx, share, signers, path, message)?;
        Ok(Party::sign(party))
    }

    /// ECDSA: record that signing with `party` is suspended (it failed an oblivious-transfer
    /// check, [`Party::cheater`]); seal the secret again to keep it. `false` if it already was,
    /// or the share is not ECDSA.
    pub fn suspend(&mut self, party: PartyIndex, reason: &str) -> Result<bool> {
        let share = self.share.as_mut().ok_or_else(|| {
            DeviceError::Input("there is no share yet: run key generation".into())
        })?;
        Ok(share.suspend(party, reason))
    }

    /// The co-signers this share refuses to sign with until a refresh, with why, JSON
    /// `[[party, reason], …]`.
    pub fn suspended(&self) -> Result<String> {
        Ok(serde_json::to_string(&self.share()?.suspended()).expect("serializes"))
    }
}
