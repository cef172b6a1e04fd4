//! DKLs23 signing: three rounds among exactly `t` signers, the message known from the start.
//!
//! 1. Each signer commits to its nonce share and starts one OT-based multiplication with every
//!    other signer (as receiver), privately.
//! 2. It answers every other signer's multiplication (as sender), opens its commitment, and
//!    sends the values the other checks the multiplication with, privately.
//! 3. It checks what it received and broadcasts its share of the signature.
//!
//! Every signer then adds the shares up into a standard low-s signature, checks it with `k256`
//! under the (derived) public key, and outputs it.

use std::collections::BTreeMap;

use dkls23_core::protocols::signing::{
    Broadcast3to4, KeepPhase1to2, KeepPhase2to3, SignData, TransmitPhase1to2, TransmitPhase2to3,
    UniqueKeep1to2, UniqueKeep2to3,
};
use dkls23_core::protocols::{Party, PartyIndex as DklsIndex};
use serde::{Deserialize, Serialize};

use super::curve::{self, abort_error, Curve};
use super::message::{EcdsaMessage, EcdsaSignature};
use crate::error::{Error, PartyIndex, Result};
use crate::session::{execution_id, Status};
use crate::share::KeyShare;
use crate::transport::{Envelope, Incoming, SessionContext};

/// Channel of the signing messages.
const SIGN: &str = "ecdsa-sign";

/// One signing message on the wire (postcard inside the envelope). Public so that tests can
/// play a cheating signer; nothing else needs it.
#[derive(Serialize, Deserialize)]
pub enum SignRound {
    /// Round 1, to one other signer: a commitment and the receiver's OT-extension message.
    One(Box<TransmitPhase1to2>),
    /// Round 2, to one other signer: the opening, the sender's multiplication message and the
    /// values it is checked with.
    Two(Box<TransmitPhase2to3<Curve>>),
    /// Round 3, to everyone: this signer's share of `s`.
    Three(Broadcast3to4<Curve>),
}

impl SignRound {
    /// Decode an envelope's body.
    pub fn from_bytes(body: &[u8]) -> Result<Self> {
        postcard::from_bytes(body).map_err(|e| Error::malformed(format!("signing message: {e}")))
    }

    /// Encode as an envelope's body.
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("signing messages encode")
    }
}

/// Who signs and for which derived key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcdsaSignConfig {
    /// Wallet indices of exactly `t` signers.
    pub signers: Vec<PartyIndex>,
    /// Non-hardened HD path (empty for the group key).
    pub path: Vec<u32>,
}

enum Stage {
    /// Round 1 sent; waiting for the others' round 1.
    One(
        UniqueKeep1to2<Curve>,
        BTreeMap<DklsIndex, KeepPhase1to2<Curve>>,
    ),
    /// Round 2 sent.
    Two(
        UniqueKeep2to3<Curve>,
        BTreeMap<DklsIndex, KeepPhase2to3<Curve>>,
    ),
    /// Round 3 broadcast: `r` (hex) and this signer's own share.
    Three(String, Broadcast3to4<Curve>),
    /// Not started, or finished.
    Idle,
}

/// One signer's side of a DKLs23 signature.
pub struct EcdsaSignSession {
    ctx: SessionContext,
    party: Party<Curve>,
    data: SignData,
    signers: Vec<PartyIndex>,
    public_key: Vec<u8>,
    digest: [u8; 32],
    stage: Stage,
    ones: BTreeMap<PartyIndex, TransmitPhase1to2>,
    twos: BTreeMap<PartyIndex, TransmitPhase2to3<Curve>>,
    threes: BTreeMap<PartyIndex, Broadcast3to4<Curve>>,
    status: Status,
    output: Option<EcdsaSignature>,
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

impl EcdsaSignSession {
    /// Party `ctx.me()`'s side of signing `message` with its ECDSA `share`.
    ///
    /// Refused with [`Error::Suspended`] if a co-signer failed a check of the pairwise state
    /// before (the share records it): only a refresh lets the two sign together again.
    pub fn new(
        ctx: SessionContext,
        share: &KeyShare,
        config: EcdsaSignConfig,
        message: &EcdsaMessage,
    ) -> Result<Self> {
        let KeyShare::EcdsaSecp256k1(ecdsa) = share else {
            return Err(Error::InvalidParameters(format!(
                "ECDSA signing needs an ECDSA key, not {}",
                share.scheme()
            )));
        };
        let me = ctx.me();
        if share.index() != me {
            return Err(Error::InvalidParameters(
                "the share is not this party's".into(),
            ));
        }
        check_signers(share, &config.signers, me)?;
        for s in &config.signers {
            if let Some(reason) = ecdsa.suspended().get(s) {
                return Err(Error::Suspended {
                    party: *s,
                    reason: reason.clone(),
                });
            }
        }
        for s in &config.signers {
            if !ctx.roster().contains_key(s) {
                return Err(Error::InvalidParameters(format!(
                    "signer {s} is not in the roster"
                )));
            }
        }
        let (party, public_key) = ecdsa.party(&config.path)?;
        let digest = message.digest();
        let counterparties = config
            .signers
            .iter()
            .filter(|s| **s != me)
            .map(|s| curve::dkls_index(*s))
            .collect::<Result<Vec<_>>>()?;
        let data = SignData {
            sign_id: execution_id(ctx.session_id(), SIGN).to_vec(),
            counterparties,
            message_hash: digest,
        };
        Ok(Self {
            ctx,
            party,
            data,
            signers: config.signers,
            public_key,
            digest,
            stage: Stage::Idle,
            ones: BTreeMap::new(),
            twos: BTreeMap::new(),
            threes: BTreeMap::new(),
            status: Status::default(),
            output: None,
        })
    }

    fn others(&self) -> usize {
        self.signers.len() - 1
    }

    fn send(
        &self,
        to: Option<PartyIndex>,
        round: &SignRound,
        out: &mut Vec<Envelope>,
    ) -> Result<()> {
        let body = zeroize::Zeroizing::new(round.to_bytes());
        out.push(self.ctx.seal(SIGN, to, &body)?);
        Ok(())
    }

    fn begin(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        if !matches!(self.stage, Stage::Idle) || self.output.is_some() {
            return Ok(());
        }
        let (unique, kept, transmit) = self
            .party
            .sign_phase1(&self.data)
            .map_err(|a| abort_error("signing round 1", a))?;
        for m in transmit {
            let to = curve::wallet_index(m.parties.receiver);
            self.send(Some(to), &SignRound::One(Box::new(m)), out)?;
        }
        self.stage = Stage::One(unique, kept);
        self.advance(out)
    }

    fn deliver(&mut self, message: &Incoming<'_>, _out: &mut Vec<Envelope>) -> Result<()> {
        let body = self.ctx.open_incoming(message)?;
        let from = message.from;
        if message.channel != SIGN {
            return Err(Error::Misrouted(format!(
                "unknown channel {:?}",
                message.channel
            )));
        }
        if !self.signers.contains(&from) {
            return Err(Error::Misrouted(format!("party {from} is not a signer")));
        }
        let round = SignRound::from_bytes(&body)
            .map_err(|e| Error::blame(from, format!("undecodable signing message: {e}")))?;
        let (sender, me) = (curve::dkls_index(from)?, curve::dkls_index(self.ctx.me())?);
        let addressed = |parties: &dkls23_core::protocols::PartiesMessage| {
            if parties.sender != sender || parties.receiver != me {
                Err(Error::blame(
                    from,
                    "a signing message names other parties than its envelope",
                ))
            } else {
                Ok(())
            }
        };
        let duplicate = || Error::blame(from, "sent a signing round twice");
        match round {
            SignRound::One(m) => {
                addressed(&m.parties)?;
                if message.is_broadcast() || self.ones.insert(from, *m).is_some() {
                    return Err(duplicate());
                }
            }
            SignRound::Two(m) => {
                addressed(&m.parties)?;
                if message.is_broadcast() || self.twos.insert(from, *m).is_some() {
                    return Err(duplicate());
                }
            }
            SignRound::Three(m) => {
                if !message.is_broadcast() {
                    return Err(Error::blame(from, "sent its signature share privately"));
                }
                if self.threes.insert(from, m).is_some() {
                    return Err(duplicate());
                }
            }
        }
        Ok(())
    }

    /// Run every round whose messages are all in.
    fn advance(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        loop {
            match std::mem::replace(&mut self.stage, Stage::Idle) {
                Stage::One(unique, kept) if self.ones.len() == self.others() => {
                    let received: Vec<_> = std::mem::take(&mut self.ones).into_values().collect();
                    let (unique, kept, transmit) = self
                        .party
                        .sign_phase2(&self.data, unique, kept, &received)
                        .map_err(|a| abort_error("signing round 2", a))?;
                    for m in transmit {
                        let to = curve::wallet_index(m.parties.receiver);
                        self.send(Some(to), &SignRound::Two(Box::new(m)), out)?;
                    }
                    self.stage = Stage::Two(unique, kept);
                }
                Stage::Two(unique, kept) if self.twos.len() == self.others() => {
                    let received: Vec<_> = std::mem::take(&mut self.twos).into_values().collect();
                    let (r, share) = self
                        .party
                        .sign_phase3(&self.data, unique, kept, &received)
                        .map_err(|a| abort_error("signing round 3", a))?;
                    self.send(None, &SignRound::Three(share.clone()), out)?;
                    self.stage = Stage::Three(r, share);
                }
                Stage::Three(r, own) if self.threes.len() == self.others() => {
                    let mut shares: Vec<_> =
                        std::mem::take(&mut self.threes).into_values().collect();
                    shares.push(own);
                    let (s, _) = self
                        .party
                        .sign_phase4(&self.data, &r, &shares, true)
                        .map_err(|a| abort_error("combining the signature", a))?;
                    let decode = |h: &str| -> Result<[u8; 32]> {
                        let mut b = [0u8; 32];
                        hex::decode_to_slice(h, &mut b).map_err(|_| {
                            Error::Protocol("the signature is not 32-byte hex".into())
                        })?;
                        Ok(b)
                    };
                    let signature = EcdsaSignature::checked(
                        &self.public_key,
                        &self.digest,
                        decode(&r)?,
                        decode(&s)?,
                    )?;
                    self.output = Some(signature);
                    return Ok(());
                }
                other => {
                    self.stage = other;
                    return Ok(());
                }
            }
        }
    }
}

crate::session::protocol_session!(EcdsaSignSession, EcdsaSignature);
