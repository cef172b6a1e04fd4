//! Threshold ECDSA on secp256k1 (CGGMP24): presignatures, then one-round signing.
//!
//! Signing has two stages. A [`PresignSession`] among exactly `t` signers runs the expensive
//! interactive part before the message is known and leaves each signer an [`EcdsaPresignature`].
//! When a message arrives, each signer turns its presignature into a partial signature (no
//! interaction), and any party [`combine`]s the `t` partials into a standard, low-s ECDSA
//! signature with a recovery id.
//!
//! A presignature must never sign twice: two signatures from one presignature reveal the key.
//! [`EcdsaPresignature`] is not `Clone`, [`EcdsaPresignature::issue_partial`] consumes it, and the
//! only way to store one is [`EcdsaPresignature::into_bytes`], which consumes it too; a store must
//! hand each stored presignature out once (see [`PresignatureStore`]).

use std::collections::BTreeMap;

use generic_ec::{NonZero, Point};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::driver::Driver;
use crate::error::{Error, PartyIndex, Result};
use crate::keygen::deliver_on;
use crate::session::{execution_id, Status};
use crate::share::{EcdsaShare, KeyShare, Secp256k1};
use crate::transport::{Envelope, SessionContext};

type Presig = cggmp24::signing::Presignature<Secp256k1>;
type PresigPublic = cggmp24::signing::PresignaturePublicData<Secp256k1>;

const PRESIGN: &str = "presign";
const SIGN: &str = "ecdsa-sign";

/// A message to sign with ECDSA, given as the bytes that are hashed (never a bare hash), so that
/// each signer knows what it signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "hash", content = "data", rename_all = "kebab-case")]
pub enum EcdsaMessage {
    /// Keccak-256 of the bytes (Ethereum, Conflux).
    Keccak256(#[serde(with = "hex_bytes")] Vec<u8>),
    /// SHA-256 of the bytes.
    Sha256(#[serde(with = "hex_bytes")] Vec<u8>),
    /// SHA-256 of SHA-256 of the bytes (Bitcoin sighashes: the bytes are the sighash preimage).
    DoubleSha256(#[serde(with = "hex_bytes")] Vec<u8>),
}

impl EcdsaMessage {
    /// The 32-byte digest that the signature is over.
    pub fn digest(&self) -> [u8; 32] {
        match self {
            EcdsaMessage::Keccak256(b) => sha3::Keccak256::digest(b).into(),
            EcdsaMessage::Sha256(b) => Sha256::digest(b).into(),
            EcdsaMessage::DoubleSha256(b) => Sha256::digest(Sha256::digest(b)).into(),
        }
    }

    fn data(&self) -> cggmp24::DataToSign<Secp256k1> {
        match self {
            EcdsaMessage::Keccak256(b) => cggmp24::DataToSign::digest::<sha3::Keccak256>(b),
            EcdsaMessage::Sha256(b) => cggmp24::DataToSign::digest::<Sha256>(b),
            EcdsaMessage::DoubleSha256(b) => {
                cggmp24::DataToSign::digest::<Sha256>(&Sha256::digest(b))
            }
        }
    }
}

/// A standard ECDSA signature over secp256k1: low-s, with its recovery id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcdsaSignature {
    /// `r`, big-endian.
    #[serde(with = "hex_array")]
    pub r: [u8; 32],
    /// `s`, big-endian, in the lower half of the group order.
    #[serde(with = "hex_array")]
    pub s: [u8; 32],
    /// Recovery id (0 or 1): the parity of `R`'s y coordinate.
    pub recovery_id: u8,
}

impl EcdsaSignature {
    /// `r || s`, 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.r);
        out[32..].copy_from_slice(&self.s);
        out
    }
}

/// Public facts of a presignature, the same for all its signers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignatureInfo {
    /// The session that made it; also its id in a store.
    pub id: String,
    /// Wallet indices of its signers, in protocol order.
    pub signers: Vec<PartyIndex>,
    /// Non-hardened HD path of the key it signs for (empty: the group key itself).
    pub path: Vec<u32>,
    /// Compressed public key it signs for (the derived child, if `path` is not empty).
    #[serde(with = "hex_bytes")]
    pub public_key: Vec<u8>,
    gamma: NonZero<Point<Secp256k1>>,
    commitments: Vec<(Point<Secp256k1>, Point<Secp256k1>)>,
}

impl PresignatureInfo {
    fn public_data(&self) -> PresigPublic {
        PresigPublic {
            Gamma: self.gamma,
            commitments: self
                .commitments
                .iter()
                .map(|(d, s)| cggmp24::signing::PresignatureCommitment {
                    tilde_Delta: *d,
                    tilde_S: *s,
                })
                .collect(),
        }
    }
}

/// One signer's presignature. Not `Clone`; every use consumes it.
pub struct EcdsaPresignature {
    info: PresignatureInfo,
    secret: Presig,
}

#[derive(Serialize, Deserialize)]
struct StoredPresignature {
    info: PresignatureInfo,
    secret: Presig,
}

impl EcdsaPresignature {
    /// Its public facts.
    pub fn info(&self) -> &PresignatureInfo {
        &self.info
    }

    /// Turn the presignature into this signer's partial signature on `message`.
    pub fn issue_partial(self, message: &EcdsaMessage) -> PartialSignature {
        let sigma = self.secret.issue_partial_signature(message.data());
        PartialSignature(sigma)
    }

    /// Serialize for storage, consuming the presignature (secret: seal before writing).
    pub fn into_bytes(self) -> Zeroizing<Vec<u8>> {
        let stored = StoredPresignature {
            info: self.info,
            secret: self.secret,
        };
        Zeroizing::new(serde_json::to_vec(&stored).expect("presignatures serialize"))
    }

    /// Parse bytes from [`into_bytes`](Self::into_bytes). The caller must make sure the stored
    /// copy is gone: a [`PresignatureStore`] deletes it in the same step that returns it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let stored: StoredPresignature = serde_json::from_slice(bytes)
            .map_err(|e| Error::malformed(format!("presignature: {e}")))?;
        Ok(Self {
            info: stored.info,
            secret: stored.secret,
        })
    }
}

impl core::fmt::Debug for EcdsaPresignature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EcdsaPresignature")
            .field("id", &self.info.id)
            .field("signers", &self.info.signers)
            .finish_non_exhaustive()
    }
}

/// Where a party keeps its presignatures. `take` must remove the presignature in the same atomic
/// step that returns it, so that no presignature is ever handed out twice.
pub trait PresignatureStore {
    /// Keep a presignature.
    fn put(&mut self, presignature: EcdsaPresignature) -> Result<()>;
    /// Remove and return the presignature with this id, if it is still there.
    fn take(&mut self, id: &str) -> Result<Option<EcdsaPresignature>>;
}

/// An in-memory [`PresignatureStore`].
#[derive(Default)]
pub struct MemoryPresignatureStore {
    items: BTreeMap<String, EcdsaPresignature>,
}

impl MemoryPresignatureStore {
    /// Number of presignatures held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl PresignatureStore for MemoryPresignatureStore {
    fn put(&mut self, presignature: EcdsaPresignature) -> Result<()> {
        let id = presignature.info.id.clone();
        if self.items.contains_key(&id) {
            return Err(Error::AlreadyUsed);
        }
        self.items.insert(id, presignature);
        Ok(())
    }

    fn take(&mut self, id: &str) -> Result<Option<EcdsaPresignature>> {
        Ok(self.items.remove(id))
    }
}

/// One signer's partial signature (public).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartialSignature(cggmp24::signing::PartialSignature<Secp256k1>);

/// Check each signer's partial signature, combine them, and verify the result under the key.
///
/// `partials` holds one partial signature from each signer of the presignature. A signer whose
/// partial does not match its presignature commitment is blamed.
pub fn combine(
    info: &PresignatureInfo,
    partials: &BTreeMap<PartyIndex, PartialSignature>,
    message: &EcdsaMessage,
) -> Result<EcdsaSignature> {
    let public = info.public_data();
    let data = message.data();
    let mut ordered = Vec::with_capacity(info.signers.len());
    let mut missing = Vec::new();
    for (k, signer) in info.signers.iter().enumerate() {
        let Some(partial) = partials.get(signer) else {
            missing.push(*signer);
            continue;
        };
        let single = PresigPublic {
            Gamma: public.Gamma,
            commitments: vec![public.commitments[k].clone()],
        };
        if cggmp24::signing::PartialSignature::combine(&[partial.0], &single, data).is_none() {
            return Err(Error::blame(
                *signer,
                "partial signature does not match its presignature commitment",
            ));
        }
        ordered.push(partial.0);
    }
    if !missing.is_empty() {
        return Err(Error::InvalidParameters(format!(
            "missing partial signatures from {missing:?}"
        )));
    }
    let sig = cggmp24::signing::PartialSignature::combine(&ordered, &public, data)
        .ok_or(Error::InvalidSignature)?;
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&sig.r.to_be_bytes());
    s.copy_from_slice(&sig.s.to_be_bytes());
    let recovery_id = recovery_id(&info.public_key, &message.digest(), &r, &s)?;
    Ok(EcdsaSignature { r, s, recovery_id })
}

/// Verify `(r, s)` with k256 and find the recovery id that gives back `public_key`.
fn recovery_id(public_key: &[u8], digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> Result<u8> {
    use k256::ecdsa::{signature::hazmat::PrehashVerifier, RecoveryId, Signature, VerifyingKey};
    let vk = VerifyingKey::from_sec1_bytes(public_key).map_err(|_| Error::InvalidSignature)?;
    let sig = Signature::from_scalars(*r, *s).map_err(|_| Error::InvalidSignature)?;
    vk.verify_prehash(digest, &sig)
        .map_err(|_| Error::InvalidSignature)?;
    let id = RecoveryId::trial_recovery_from_prehash(&vk, digest, &sig)
        .map_err(|_| Error::InvalidSignature)?;
    Ok(id.to_byte())
}

/// Who signs and for which derived key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignConfig {
    /// Wallet indices of exactly `t` signers.
    pub signers: Vec<PartyIndex>,
    /// Non-hardened HD path (empty for the group key).
    pub path: Vec<u32>,
}

/// One signer's side of presignature generation.
pub struct PresignSession {
    ctx: SessionContext,
    driver: Driver<(Presig, PresigPublic)>,
    status: Status,
    signers: Vec<PartyIndex>,
    path: Vec<u32>,
    public_key: Vec<u8>,
    output: Option<EcdsaPresignature>,
}

/// Check that `signers` is a valid set of exactly `t` distinct parties of `share` including `me`.
pub(crate) fn check_signers(
    share: &KeyShare,
    signers: &[PartyIndex],
    me: PartyIndex,
) -> Result<()> {
    let t = usize::from(share.threshold());
    let mut sorted = signers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != signers.len() {
        return Err(Error::InvalidParameters("a signer is listed twice".into()));
    }
    if signers.len() != t {
        return Err(Error::InvalidParameters(format!(
            "exactly {t} signers are needed, {} given",
            signers.len()
        )));
    }
    if let Some(bad) = signers.iter().find(|s| **s >= share.parties()) {
        return Err(Error::InvalidParameters(format!(
            "no party {bad} in this wallet"
        )));
    }
    if !signers.contains(&me) {
        return Err(Error::InvalidParameters(format!(
            "party {me} is not among the signers"
        )));
    }
    Ok(())
}

impl PresignSession {
    /// Start presignature generation for party `ctx.me()` with its ECDSA `share`.
    pub fn new(ctx: SessionContext, share: &KeyShare, config: PresignConfig) -> Result<Self> {
        let KeyShare::EcdsaSecp256k1(share) = share else {
            return Err(Error::InvalidParameters(format!(
                "presignatures are for ECDSA keys, not {}",
                share.scheme()
            )));
        };
        let share: EcdsaShare = (**share).clone();
        check_signers(
            &KeyShare::EcdsaSecp256k1(Box::new(share.clone())),
            &config.signers,
            ctx.me(),
        )?;
        let public_key = crate::hd::derive_secp256k1(&share.core.key_info, &config.path)?
            .to_bytes(true)
            .to_vec();
        let i = config
            .signers
            .iter()
            .position(|s| *s == ctx.me())
            .expect("checked") as u16;
        let eid = execution_id(ctx.session_id(), PRESIGN);
        let signers = config.signers.clone();
        let path = config.path.clone();
        let machine = round_based::state_machine::wrap_protocol(move |party| async move {
            let builder = cggmp24::signing(cggmp24::ExecutionId::new(&eid), i, &signers, &share);
            let builder = builder
                .set_derivation_path(path)
                .map_err(|e| PresignError(format!("derivation path: {e}")))?;
            builder
                .generate_presignature(&mut OsRng, party)
                .await
                .map_err(|e| PresignError(format!("{e} ({e:?})")))
        });
        Ok(Self {
            driver: Driver::new(PRESIGN, config.signers.clone(), machine),
            ctx,
            status: Status::default(),
            signers: config.signers,
            path: config.path,
            public_key,
            output: None,
        })
    }

    fn begin(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        self.advance(out)
    }

    fn deliver(&mut self, message: &Envelope, _out: &mut Vec<Envelope>) -> Result<()> {
        let body = self.ctx.open(message)?;
        deliver_on(&mut self.driver, message, body)
    }

    fn advance(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        self.driver.pump(&self.ctx, out)?;
        if let Some((secret, public)) = self.driver.take_output() {
            let info = PresignatureInfo {
                id: self.ctx.session_id().to_owned(),
                signers: self.signers.clone(),
                path: self.path.clone(),
                public_key: self.public_key.clone(),
                gamma: public.Gamma,
                commitments: public
                    .commitments
                    .iter()
                    .map(|c| (c.tilde_Delta, c.tilde_S))
                    .collect(),
            };
            self.output = Some(EcdsaPresignature { info, secret });
        }
        Ok(())
    }
}

crate::session::protocol_session!(PresignSession, EcdsaPresignature);

/// Error of the presignature protocol, with the protocol crate's full report (which names the
/// parties at fault).
#[derive(Debug)]
struct PresignError(String);

impl core::fmt::Display for PresignError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One signer's side of the online signing round: it broadcasts its partial signature, collects
/// the others', and outputs the combined, verified signature.
pub struct EcdsaSignSession {
    ctx: SessionContext,
    info: PresignatureInfo,
    message: EcdsaMessage,
    own: Option<PartialSignature>,
    partials: BTreeMap<PartyIndex, PartialSignature>,
    status: Status,
    output: Option<EcdsaSignature>,
}

impl EcdsaSignSession {
    /// Sign `message` with `presignature`, which this consumes.
    pub fn new(
        ctx: SessionContext,
        presignature: EcdsaPresignature,
        message: EcdsaMessage,
    ) -> Result<Self> {
        if !presignature.info.signers.contains(&ctx.me()) {
            return Err(Error::InvalidParameters(format!(
                "party {} is not a signer of this presignature",
                ctx.me()
            )));
        }
        let info = presignature.info.clone();
        let own = presignature.issue_partial(&message);
        Ok(Self {
            ctx,
            info,
            message,
            own: Some(own),
            partials: BTreeMap::new(),
            status: Status::default(),
            output: None,
        })
    }

    /// Broadcast this signer's partial signature.
    fn begin(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        let Some(own) = self.own.take() else {
            return Ok(());
        };
        self.partials.insert(self.ctx.me(), own);
        let body = serde_json::to_vec(&own).expect("partials serialize");
        out.push(self.ctx.seal(SIGN, None, &body)?);
        self.advance(out)
    }

    fn deliver(&mut self, message: &Envelope, _out: &mut Vec<Envelope>) -> Result<()> {
        let body = self.ctx.open(message)?;
        if message.channel != SIGN {
            return Err(Error::Misrouted(format!(
                "unknown channel {:?}",
                message.channel
            )));
        }
        if !self.info.signers.contains(&message.from) {
            return Err(Error::Misrouted(format!(
                "party {} is not a signer",
                message.from
            )));
        }
        let partial: PartialSignature = serde_json::from_slice(&body)
            .map_err(|e| Error::blame(message.from, format!("undecodable partial: {e}")))?;
        if self.partials.insert(message.from, partial).is_some() {
            return Err(Error::blame(message.from, "sent two partial signatures"));
        }
        Ok(())
    }

    /// Combine once every signer's partial is in.
    fn advance(&mut self, _out: &mut Vec<Envelope>) -> Result<()> {
        if self.output.is_none() && self.partials.len() == self.info.signers.len() {
            self.output = Some(combine(&self.info, &self.partials, &self.message)?);
        }
        Ok(())
    }
}

crate::session::protocol_session!(EcdsaSignSession, EcdsaSignature);

pub(crate) mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        hex::decode(s.as_ref()).map_err(serde::de::Error::custom)
    }
}

pub(crate) mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let v = hex::decode(s.as_ref()).map_err(serde::de::Error::custom)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom(format!("expected {N} bytes")))
    }
}
