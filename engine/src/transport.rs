//! Authenticated, end-to-end encrypted protocol messages.
//!
//! Every party has a long-term [`PartyKeys`] pair: an Ed25519 key that signs each message it sends
//! and an X25519 key that receives private (point-to-point) messages. Messages travel as
//! [`Envelope`]s through any relay (the signing server, a browser tab, a test harness): the relay
//! can neither read a private message nor alter any message without the change being detected.
//!
//! Authenticity is what makes aborts identifiable: a message that is correctly signed by party `j`
//! but breaks the protocol is proof that `j` cheated, whereas a message whose signature fails is
//! dropped without blaming anyone (it may have been altered on the way).

use std::collections::BTreeMap;

use base64::Engine as _;
use crypto_box::aead::{Aead, AeadCore};
use ed25519_dalek::{Signer as _, Verifier as _};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, PartyIndex, Result};

/// Domain separation for the bytes an envelope signature covers.
const ENVELOPE_CONTEXT: &[u8] = b"mpcw/envelope/v1";
/// Domain separation of a party's signed statements (see [`PartyKeys::sign_statement`]): their
/// signed bytes begin with this field, envelopes' with [`ENVELOPE_CONTEXT`], so neither can be
/// taken for the other.
const STATEMENT_CONTEXT: &[u8] = b"mpcw/statement/v1";

/// The bytes a statement `purpose`/`text` is signed as: length-prefixed fields, as envelopes.
fn statement_bytes(purpose: &str, text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + text.len());
    for field in [STATEMENT_CONTEXT, purpose.as_bytes(), text.as_bytes()] {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

/// A party's long-term secret keys: one to sign its messages, one to open private messages.
///
/// `Debug` never prints the secrets; the keys are zeroized on drop.
#[derive(Clone)]
pub struct PartyKeys {
    signing: ed25519_dalek::SigningKey,
    encryption: crypto_box::SecretKey,
}

impl PartyKeys {
    /// Fresh random keys.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let signing = ed25519_dalek::SigningKey::generate(rng);
        let encryption = crypto_box::SecretKey::generate(rng);
        Self {
            signing,
            encryption,
        }
    }

    /// The 64 secret bytes (signing seed, then encryption key), for storage in a sealed envelope.
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 64]> {
        let mut out = Zeroizing::new([0u8; 64]);
        out[..32].copy_from_slice(&self.signing.to_bytes());
        out[32..].copy_from_slice(&self.encryption.to_bytes());
        out
    }

    /// Keys back from [`to_secret_bytes`](Self::to_secret_bytes).
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 64 {
            return Err(Error::malformed("party keys must be 64 bytes"));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&bytes[..32]);
        let mut enc = Zeroizing::new([0u8; 32]);
        enc.copy_from_slice(&bytes[32..]);
        Ok(Self {
            signing: ed25519_dalek::SigningKey::from_bytes(&seed),
            encryption: crypto_box::SecretKey::from_bytes(*enc),
        })
    }

    /// Sign a statement outside any protocol session with the identity key, such as "cancel
    /// recovery r of wallet w" (`purpose` names the kind of statement, `text` says it): proof
    /// that the statement comes from whoever holds this party's secret. Base64, 64 bytes.
    pub fn sign_statement(&self, purpose: &str, text: &str) -> String {
        let sig = self.signing.sign(&statement_bytes(purpose, text));
        base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
    }

    /// The public half, to be given to the other parties.
    pub fn public(&self) -> PartyPublicKeys {
        PartyPublicKeys {
            verifying_key: self.signing.verifying_key().to_bytes(),
            encryption_key: *self.encryption.public_key().as_bytes(),
        }
    }
}

impl core::fmt::Debug for PartyKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PartyKeys")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

/// The public keys by which a party is known to the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyPublicKeys {
    /// Ed25519 key that verifies the party's messages.
    #[serde(with = "hex32")]
    pub verifying_key: [u8; 32],
    /// X25519 key to which private messages for the party are encrypted.
    #[serde(with = "hex32")]
    pub encryption_key: [u8; 32],
}

impl PartyPublicKeys {
    /// Check `signature` (base64, from [`PartyKeys::sign_statement`]) over statement
    /// `purpose`/`text` under this party's verifying key.
    pub fn verify_statement(&self, purpose: &str, text: &str, signature: &str) -> Result<()> {
        let bad = || Error::malformed("the statement's signature does not verify");
        let sig: [u8; 64] = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        ed25519_dalek::VerifyingKey::from_bytes(&self.verifying_key)
            .map_err(|_| Error::malformed("party verifying key"))?
            .verify_strict(
                &statement_bytes(purpose, text),
                &ed25519_dalek::Signature::from_bytes(&sig),
            )
            .map_err(|_| bad())
    }
}

/// The public keys of every party of a session, by wallet index.
pub type Roster = BTreeMap<PartyIndex, PartyPublicKeys>;

/// One protocol message on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Session the message belongs to.
    pub session: String,
    /// Sub-protocol within the session (e.g. `keygen`, `ot-setup`, `ecdsa-sign`).
    pub channel: String,
    /// Wallet index of the sender.
    pub from: PartyIndex,
    /// Wallet index of the recipient for a private message; `None` for a broadcast.
    pub to: Option<PartyIndex>,
    /// The message body: plain for a broadcast, encrypted for a private message.
    pub payload: Payload,
    /// Sender's Ed25519 signature over all of the above (base64).
    pub signature: String,
}

/// Body of an [`Envelope`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    /// A broadcast body, readable by everyone (base64).
    Plain {
        /// The serialized protocol message.
        data: String,
    },
    /// A private body, encrypted to the recipient with X25519 + XChaCha20-Poly1305 (crypto_box).
    Sealed {
        /// 24-byte nonce (base64).
        nonce: String,
        /// Ciphertext and tag (base64).
        data: String,
    },
}

impl Envelope {
    /// Whether this is a broadcast message.
    pub fn is_broadcast(&self) -> bool {
        self.to.is_none()
    }

    /// Check that the envelope carries `sender`'s signature over everything in it (a relay can
    /// refuse forged or altered messages without being able to read private ones).
    pub fn verify_sender(&self, sender: &PartyPublicKeys) -> Result<()> {
        let unauthenticated = || Error::Unauthenticated {
            claimed_sender: self.from,
        };
        let sig_bytes: [u8; 64] = base64::engine::general_purpose::STANDARD
            .decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(unauthenticated)?;
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&sender.verifying_key)
            .map_err(|_| Error::malformed("sender verifying key"))?;
        vk.verify(
            &self.signed_bytes(),
            &ed25519_dalek::Signature::from_bytes(&sig_bytes),
        )
        .map_err(|_| unauthenticated())
    }

    /// [`Envelope::verify_sender`], keeping the result: the envelope, marked as checked against
    /// `sender`'s key, for a session to take without checking it again
    /// ([`crate::Protocol::handle_authenticated`]).
    pub fn authenticate(self, sender: &PartyPublicKeys) -> Result<Authenticated> {
        self.verify_sender(sender)?;
        Ok(Authenticated {
            envelope: self,
            sender_key: sender.verifying_key,
        })
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        let mut field = |bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        field(ENVELOPE_CONTEXT);
        field(self.session.as_bytes());
        field(self.channel.as_bytes());
        field(&self.from.to_be_bytes());
        match self.to {
            Some(to) => field(&[&[1u8][..], &to.to_be_bytes()].concat()),
            None => field(&[0u8]),
        }
        match &self.payload {
            Payload::Plain { data } => {
                field(b"plain");
                field(data.as_bytes());
            }
            Payload::Sealed { nonce, data } => {
                field(b"sealed");
                field(nonce.as_bytes());
                field(data.as_bytes());
            }
        }
        out
    }
}

/// An envelope whose signature was checked against its sender's identity key. Only
/// [`Envelope::authenticate`] makes one and its envelope cannot be changed afterwards, so holding
/// one proves the check. A session takes it only if the key it was checked against is the one its
/// own roster has for the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    envelope: Envelope,
    sender_key: [u8; 32],
}

impl Authenticated {
    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The envelope, given back.
    pub fn into_envelope(self) -> Envelope {
        self.envelope
    }
}

/// A message as a session receives it: as it came, or already authenticated.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Incoming<'a> {
    /// Its signature is still to be checked.
    Unchecked(&'a Envelope),
    /// Its signature was checked, against the key it names.
    Checked(&'a Authenticated),
}

impl std::ops::Deref for Incoming<'_> {
    type Target = Envelope;

    fn deref(&self) -> &Envelope {
        match self {
            Incoming::Unchecked(env) => env,
            Incoming::Checked(checked) => &checked.envelope,
        }
    }
}

/// Who a party is within one session, and how it seals and opens messages.
#[derive(Clone, Debug)]
pub struct SessionContext {
    session_id: String,
    me: PartyIndex,
    keys: PartyKeys,
    roster: Roster,
}

impl SessionContext {
    /// A context for party `me` in session `session_id` among the parties of `roster`.
    pub fn new(
        session_id: impl Into<String>,
        me: PartyIndex,
        keys: PartyKeys,
        roster: Roster,
    ) -> Result<Self> {
        let session_id = session_id.into();
        if session_id.is_empty() || session_id.len() > 256 {
            return Err(Error::InvalidParameters(
                "session id must be 1 to 256 bytes".into(),
            ));
        }
        match roster.get(&me) {
            Some(pk) if *pk == keys.public() => {}
            Some(_) => {
                return Err(Error::InvalidParameters(format!(
                    "roster entry of party {me} does not match its own keys"
                )))
            }
            None => {
                return Err(Error::InvalidParameters(format!(
                    "party {me} is not in the roster"
                )))
            }
        }
        Ok(Self {
            session_id,
            me,
            keys,
            roster,
        })
    }

    /// The session id.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// This party's wallet index.
    pub fn me(&self) -> PartyIndex {
        self.me
    }

    /// Public keys of all parties in the session.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// Seal `data` from this party on `channel`, to one party or (with `to == None`) to all.
    pub fn seal(&self, channel: &str, to: Option<PartyIndex>, data: &[u8]) -> Result<Envelope> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let payload = match to {
            None => Payload::Plain {
                data: b64.encode(data),
            },
            Some(to) => {
                let recipient = self
                    .roster
                    .get(&to)
                    .ok_or_else(|| Error::InvalidParameters(format!("unknown recipient {to}")))?;
                let pk = crypto_box::PublicKey::from(recipient.encryption_key);
                let cbox = crypto_box::ChaChaBox::new(&pk, &self.keys.encryption);
                let nonce = crypto_box::ChaChaBox::generate_nonce(&mut rand_core::OsRng);
                let ct = cbox
                    .encrypt(&nonce, data)
                    .map_err(|_| Error::Protocol("encryption failed".into()))?;
                Payload::Sealed {
                    nonce: b64.encode(nonce),
                    data: b64.encode(ct),
                }
            }
        };
        let mut env = Envelope {
            session: self.session_id.clone(),
            channel: channel.to_owned(),
            from: self.me,
            to,
            payload,
            signature: String::new(),
        };
        let sig = self.keys.signing.sign(&env.signed_bytes());
        env.signature = b64.encode(sig.to_bytes());
        Ok(env)
    }

    /// Check that `env` is for this party in this session and comes from whom it claims; return
    /// the plain body.
    pub fn open(&self, env: &Envelope) -> Result<Vec<u8>> {
        self.open_incoming(&Incoming::Unchecked(env))
    }

    /// [`SessionContext::open`] for an envelope whose signature was already checked: it is not
    /// checked again, but the key it was checked against must be the one this session's roster
    /// has for its sender.
    pub fn open_authenticated(&self, env: &Authenticated) -> Result<Vec<u8>> {
        self.open_incoming(&Incoming::Checked(env))
    }

    /// [`SessionContext::open`] for a message as a session received it.
    pub(crate) fn open_incoming(&self, message: &Incoming<'_>) -> Result<Vec<u8>> {
        let env: &Envelope = message;
        let b64 = base64::engine::general_purpose::STANDARD;
        if env.session != self.session_id {
            return Err(Error::Misrouted(format!(
                "message for session {:?} reached session {:?}",
                env.session, self.session_id
            )));
        }
        if let Some(to) = env.to {
            if to != self.me {
                return Err(Error::Misrouted(format!(
                    "message for party {to} reached party {}",
                    self.me
                )));
            }
        }
        if env.from == self.me {
            return Err(Error::Misrouted("message from this party itself".into()));
        }
        let sender = self.roster.get(&env.from).ok_or_else(|| {
            Error::Misrouted(format!("sender {} is not in this session", env.from))
        })?;
        let unauthenticated = Error::Unauthenticated {
            claimed_sender: env.from,
        };
        match message {
            Incoming::Unchecked(env) => env.verify_sender(sender)?,
            Incoming::Checked(checked) if checked.sender_key == sender.verifying_key => {}
            // Checked against a key that is not this session's sender's.
            Incoming::Checked(_) => return Err(unauthenticated),
        }
        // From here on the sender provably wrote this message: anything wrong with it is its fault.
        match &env.payload {
            Payload::Plain { data } => {
                if env.to.is_some() {
                    return Err(Error::blame(env.from, "private message sent unencrypted"));
                }
                b64.decode(data)
                    .map_err(|_| Error::blame(env.from, "message body is not base64"))
            }
            Payload::Sealed { nonce, data } => {
                if env.to.is_none() {
                    return Err(unauthenticated);
                }
                let nonce: [u8; 24] = b64
                    .decode(nonce)
                    .ok()
                    .and_then(|n| n.try_into().ok())
                    .ok_or_else(|| Error::blame(env.from, "malformed nonce"))?;
                let ct = b64
                    .decode(data)
                    .map_err(|_| Error::blame(env.from, "message body is not base64"))?;
                let pk = crypto_box::PublicKey::from(sender.encryption_key);
                let cbox = crypto_box::ChaChaBox::new(&pk, &self.keys.encryption);
                cbox.decrypt(&nonce.into(), ct.as_slice())
                    .map_err(|_| Error::blame(env.from, "private message does not decrypt"))
            }
        }
    }
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let v = hex::decode(s.as_ref()).map_err(serde::de::Error::custom)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    fn pair() -> (SessionContext, SessionContext) {
        let a = PartyKeys::generate(&mut OsRng);
        let b = PartyKeys::generate(&mut OsRng);
        let roster: Roster = [(0, a.public()), (1, b.public())].into();
        (
            SessionContext::new("s", 0, a, roster.clone()).unwrap(),
            SessionContext::new("s", 1, b, roster).unwrap(),
        )
    }

    #[test]
    fn private_message_round_trips_and_is_encrypted() {
        let (a, b) = pair();
        let env = a.seal("ch", Some(1), b"secret share").unwrap();
        let text = serde_json::to_string(&env).unwrap();
        assert!(!text.contains(&base64::engine::general_purpose::STANDARD.encode(b"secret share")));
        assert_eq!(b.open(&env).unwrap(), b"secret share");
    }

    #[test]
    fn altered_message_is_rejected_without_blame() {
        let (a, b) = pair();
        let mut env = a.seal("ch", None, b"hello").unwrap();
        env.payload = Payload::Plain {
            data: base64::engine::general_purpose::STANDARD.encode(b"hellO"),
        };
        let err = b.open(&env).unwrap_err();
        assert!(matches!(err, Error::Unauthenticated { claimed_sender: 0 }));
        assert!(err.blamed().is_empty());
    }

    #[test]
    fn an_authenticated_envelope_opens_only_under_the_key_it_was_checked_with() {
        let (a, b) = pair();
        let a_key = a.roster()[&0];
        let env = a.seal("ch", Some(1), b"secret share").unwrap();
        let checked = env.clone().authenticate(&a_key).unwrap();
        assert_eq!(checked.envelope(), &env);
        assert_eq!(b.open_authenticated(&checked).unwrap(), b"secret share");
        // An altered envelope does not authenticate.
        let mut altered = env;
        altered.channel = "other".into();
        assert!(matches!(
            altered.authenticate(&a_key),
            Err(Error::Unauthenticated { claimed_sender: 0 })
        ));
        // Someone signing as party 0 with a key of its own: checked against that key, the
        // envelope is refused by a session whose roster has another key for party 0.
        let impostor = PartyKeys::generate(&mut OsRng);
        let roster: Roster = [(0, impostor.public()), (1, b.roster()[&1])].into();
        let forger = SessionContext::new("s", 0, impostor.clone(), roster).unwrap();
        let forged = forger.seal("ch", None, b"hello").unwrap();
        let checked = forged.clone().authenticate(&impostor.public()).unwrap();
        assert!(matches!(
            b.open_authenticated(&checked),
            Err(Error::Unauthenticated { claimed_sender: 0 })
        ));
        assert!(matches!(
            b.open(&forged),
            Err(Error::Unauthenticated { claimed_sender: 0 })
        ));
    }

    #[test]
    fn wrong_session_and_recipient_are_misrouted() {
        let (a, b) = pair();
        let mut env = a.seal("ch", Some(1), b"x").unwrap();
        env.session = "other".into();
        assert!(matches!(b.open(&env), Err(Error::Misrouted(_))));
        let env = a.seal("ch", Some(1), b"x").unwrap();
        assert!(matches!(a.open(&env), Err(Error::Misrouted(_))));
    }

    #[test]
    fn party_keys_round_trip_and_debug_hides_secrets() {
        let k = PartyKeys::generate(&mut OsRng);
        let back = PartyKeys::from_secret_bytes(&*k.to_secret_bytes()).unwrap();
        assert_eq!(back.public(), k.public());
        let dbg = format!("{k:?}");
        assert!(!dbg.contains(&hex::encode(&k.to_secret_bytes()[..32])));
    }

    #[test]
    fn a_statement_verifies_only_for_its_signer_purpose_and_text() {
        let k = PartyKeys::generate(&mut OsRng);
        let other = PartyKeys::generate(&mut OsRng);
        let sig = k.sign_statement("recovery-cancel", "w1/r1");
        assert!(k
            .public()
            .verify_statement("recovery-cancel", "w1/r1", &sig)
            .is_ok());
        assert!(other
            .public()
            .verify_statement("recovery-cancel", "w1/r1", &sig)
            .is_err());
        assert!(k
            .public()
            .verify_statement("recovery-cancel", "w1/r2", &sig)
            .is_err());
        assert!(k.public().verify_statement("other", "w1/r1", &sig).is_err());
        assert!(k
            .public()
            .verify_statement("recovery-cancel", "w1/r1", "AAAA")
            .is_err());
        // An envelope's signature is not a statement's, and the other way round.
        let (a, _) = pair();
        let env = a.seal("ch", None, b"w1/r1").unwrap();
        let keys = a.roster()[&0];
        assert!(keys
            .verify_statement("ch", "w1/r1", &env.signature)
            .is_err());
    }
}
