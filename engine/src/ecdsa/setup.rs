//! The pairwise setup of DKLs23: for every pair of parties, an OT-based multiplication in each
//! direction (base OTs and OT extension, from `dkls23-core`) and a shared seed for shares of
//! zero, agreed by commit and reveal.
//!
//! It runs beside key generation, and beside every refresh or resharing among the new parties,
//! so a share's pairwise state is always as new as the share. Two messages go each way per
//! pair: `Init` (the commitment to this party's zero-sharing seed, and the first message of both
//! multiplication set-ups) and, once the other party's `Init` is in, `Reveal` (the seed). The
//! heavy work is in the first message (256 base OTs, each with its proof) and in checking the
//! other's.

use std::collections::BTreeMap;

use dkls23_core::utilities::hashes::HashOutput;
use dkls23_core::utilities::multiplication::{MulReceiver, MulSender};
use dkls23_core::utilities::ot::base::{OTReceiver, OTSender};
use dkls23_core::utilities::proofs::{DLogProof, EncProof};
use dkls23_core::utilities::zero_shares::{Seed, SeedPair, ZeroShare};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::curve::{self, Curve, DklsIndex, DklsScalar};
use super::share::Pairwise;
use crate::error::{Error, PartyIndex, Result};
use crate::session::execution_id;
use crate::transport::{Envelope, SessionContext};

/// Channel of the setup's messages.
pub(crate) const SETUP: &str = "ot-setup";

/// A setup message, encoded with postcard.
#[derive(Serialize, Deserialize)]
enum SetupMessage {
    Init(Box<Init>),
    Reveal(Reveal),
}

/// The first message to one other party.
#[derive(Serialize, Deserialize)]
struct Init {
    /// Commitment to this party's zero-sharing seed for the pair.
    zero_commitment: HashOutput,
    /// As multiplication receiver: the base-OT sender's key and its proof, and the nonce of the
    /// public gadget.
    dlog_proof: DLogProof<Curve>,
    nonce: DklsScalar,
    /// As multiplication sender: the base-OT receiver's messages, with their proofs, and seed.
    #[serde(with = "super::proofs_wire")]
    enc_proofs: Vec<EncProof<Curve>>,
    ot_seed: [u8; 32],
}

/// The second message: the opening of the committed seed.
#[derive(Serialize, Deserialize, Zeroize)]
struct Reveal {
    seed: Seed,
    salt: Vec<u8>,
}

/// What this party keeps about one other party until both its messages are in.
struct Pair {
    zero_seed: Seed,
    zero_salt: Vec<u8>,
    ot_sender: Box<OTSender<Curve>>,
    nonce: DklsScalar,
    ot_receiver: OTReceiver,
    correlation: Vec<bool>,
    vec_r: Vec<DklsScalar>,
    init: Option<Box<Init>>,
    reveal: Option<Reveal>,
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.zero_seed.zeroize();
        self.zero_salt.zeroize();
        self.ot_sender.s.zeroize();
        self.nonce.zeroize();
        self.ot_receiver.seed.zeroize();
        self.correlation.zeroize();
        self.vec_r.zeroize();
    }
}

/// One party's side of the pairwise setup among `members` (wallet indices).
pub(crate) struct PairwiseSetup {
    me: PartyIndex,
    members: Vec<PartyIndex>,
    session_id: [u8; 32],
    pending: BTreeMap<PartyIndex, Pair>,
    seeds: Vec<SeedPair>,
    senders: BTreeMap<DklsIndex, MulSender<Curve>>,
    receivers: BTreeMap<DklsIndex, MulReceiver<Curve>>,
    started: bool,
    result: Option<Pairwise>,
}

/// Session id of the multiplication in which `receiver` receives and `sender` sends.
fn mul_session(session_id: &[u8; 32], receiver: DklsIndex, sender: DklsIndex) -> Vec<u8> {
    [
        b"mpcw/dkls23/multiplication".as_slice(),
        &[receiver.as_u8(), sender.as_u8()],
        session_id,
    ]
    .concat()
}

impl PairwiseSetup {
    /// Party `ctx.me()`'s side of the setup among `members`, which must include it.
    pub fn new(ctx: &SessionContext, members: Vec<PartyIndex>) -> Result<Self> {
        let me = ctx.me();
        if !members.contains(&me) {
            return Err(Error::InvalidParameters(format!(
                "party {me} takes no part in the pairwise setup"
            )));
        }
        for m in &members {
            curve::dkls_index(*m)?;
        }
        Ok(Self {
            me,
            members,
            session_id: execution_id(ctx.session_id(), SETUP),
            pending: BTreeMap::new(),
            seeds: Vec::new(),
            senders: BTreeMap::new(),
            receivers: BTreeMap::new(),
            started: false,
            result: None,
        })
    }

    fn others(&self) -> impl Iterator<Item = PartyIndex> + '_ {
        self.members.iter().copied().filter(move |m| *m != self.me)
    }

    fn seed_context(&self, sender: PartyIndex, receiver: PartyIndex) -> Result<HashOutput> {
        Ok(ZeroShare::seed_context(
            b"mpcw/ot-setup",
            &[&self.session_id],
            curve::dkls_index(sender)?,
            curve::dkls_index(receiver)?,
        ))
    }

    /// Send the first message to every other party.
    pub fn start(&mut self, ctx: &SessionContext, out: &mut Vec<Envelope>) -> Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        let me = curve::dkls_index(self.me)?;
        let others: Vec<PartyIndex> = self.others().collect();
        for q in others {
            let them = curve::dkls_index(q)?;
            let context = self.seed_context(self.me, q)?;
            let (zero_seed, zero_commitment, zero_salt) =
                ZeroShare::generate_seed_with_bound_commitment(&context);
            let (ot_sender, dlog_proof, nonce) =
                MulReceiver::<Curve>::init_phase1(&mul_session(&self.session_id, me, them));
            let (ot_receiver, correlation, vec_r, enc_proofs) =
                MulSender::<Curve>::init_phase1(&mul_session(&self.session_id, them, me));
            let init = Init {
                zero_commitment,
                dlog_proof,
                nonce,
                enc_proofs,
                ot_seed: ot_receiver.seed,
            };
            out.push(seal(ctx, q, &SetupMessage::Init(Box::new(init)))?);
            self.pending.insert(
                q,
                Pair {
                    zero_seed,
                    zero_salt,
                    ot_sender: Box::new(ot_sender),
                    nonce,
                    ot_receiver,
                    correlation,
                    vec_r,
                    init: None,
                    reveal: None,
                },
            );
        }
        self.finish_if_complete();
        Ok(())
    }

    /// Take one opened message of the setup from party `env.from`.
    pub fn handle(
        &mut self,
        ctx: &SessionContext,
        env: &Envelope,
        body: &[u8],
        out: &mut Vec<Envelope>,
    ) -> Result<()> {
        let q = env.from;
        if !self.members.contains(&q) || q == self.me {
            return Err(Error::Misrouted(format!(
                "party {q} takes no part in the pairwise setup"
            )));
        }
        if env.is_broadcast() {
            return Err(Error::blame(q, "broadcast a private setup message"));
        }
        let message: SetupMessage = postcard::from_bytes(body)
            .map_err(|e| Error::blame(q, format!("undecodable setup message: {e}")))?;
        let Some(pair) = self.pending.get_mut(&q) else {
            return Err(if self.started {
                Error::blame(q, "sent a setup message after its pair was set up")
            } else {
                Error::Protocol("a setup message arrived before the setup started".into())
            });
        };
        match message {
            SetupMessage::Init(init) => {
                if pair.init.is_some() {
                    return Err(Error::blame(q, "sent two setup messages"));
                }
                pair.init = Some(init);
                // The other party has committed to its seed: ours can be opened to it.
                let reveal = Reveal {
                    seed: pair.zero_seed,
                    salt: pair.zero_salt.clone(),
                };
                let sealed = seal(ctx, q, &SetupMessage::Reveal(reveal));
                out.push(sealed?);
            }
            SetupMessage::Reveal(reveal) => {
                if pair.reveal.is_some() {
                    return Err(Error::blame(q, "revealed its seed twice"));
                }
                pair.reveal = Some(reveal);
            }
        }
        if pair.init.is_some() && pair.reveal.is_some() {
            let pair = self.pending.remove(&q).expect("present");
            self.complete_pair(q, pair)?;
        }
        self.finish_if_complete();
        Ok(())
    }

    /// Check the other party's messages and make the pair's state.
    fn complete_pair(&mut self, q: PartyIndex, pair: Pair) -> Result<()> {
        let me = curve::dkls_index(self.me)?;
        let them = curve::dkls_index(q)?;
        let init = pair.init.as_ref().expect("checked");
        let reveal = pair.reveal.as_ref().expect("checked");
        let context = self.seed_context(q, self.me)?;
        if !ZeroShare::verify_bound_seed(
            &reveal.seed,
            &context,
            &init.zero_commitment,
            &reveal.salt,
        ) {
            return Err(Error::blame(
                q,
                "revealed a seed other than the one it committed to",
            ));
        }
        let receiver = MulReceiver::<Curve>::init_phase2(
            &pair.ot_sender,
            &mul_session(&self.session_id, me, them),
            &init.ot_seed,
            &init.enc_proofs,
            &pair.nonce,
        )
        .map_err(|e| {
            Error::blame(
                q,
                format!("base OT proofs do not verify: {}", e.description),
            )
        })?;
        let sender = MulSender::<Curve>::init_phase2(
            &pair.ot_receiver,
            &mul_session(&self.session_id, them, me),
            pair.correlation.clone(),
            &pair.vec_r,
            &init.dlog_proof,
            &init.nonce,
        )
        .map_err(|e| {
            Error::blame(
                q,
                format!("base OT key proof does not verify: {}", e.description),
            )
        })?;
        self.seeds.push(ZeroShare::generate_seed_pair(
            me,
            them,
            &pair.zero_seed,
            &reveal.seed,
        ));
        self.receivers.insert(them, receiver);
        self.senders.insert(them, sender);
        Ok(())
    }

    fn finish_if_complete(&mut self) {
        if self.result.is_some() || !self.started || !self.pending.is_empty() {
            return;
        }
        let mut seeds = std::mem::take(&mut self.seeds);
        seeds.sort_by_key(|s| s.index_counterparty);
        self.result = Some(Pairwise {
            session_id: self.session_id.to_vec(),
            zero_share: ZeroShare::initialize(seeds),
            senders: std::mem::take(&mut self.senders),
            receivers: std::mem::take(&mut self.receivers),
        });
    }

    /// Whether every pair is set up.
    pub fn is_done(&self) -> bool {
        self.result.is_some()
    }

    /// The pairwise state, once every pair is set up (taken once).
    pub fn take(&mut self) -> Option<Pairwise> {
        self.result.take()
    }
}

fn seal(ctx: &SessionContext, to: PartyIndex, message: &SetupMessage) -> Result<Envelope> {
    let body = zeroize::Zeroizing::new(
        postcard::to_allocvec(message).map_err(|e| Error::Protocol(format!("encoding: {e}")))?,
    );
    ctx.seal(SETUP, Some(to), &body)
}
