//! Distributed key generation: a wallet key born as `t`-of-`n` shares, with no dealer.
//!
//! Every scheme's key comes from the same UC-secure threshold DKG (`cggmp21-keygen`, through
//! `givre`), over secp256k1 or ed25519. An ECDSA key also gets, in the same session, the DKLs23
//! pairwise setup among all its parties ([`crate::ecdsa`]): OT-based multiplication and
//! zero-sharing seeds for every pair.
//!
//! Every key is HD-capable: the parties agree on a random chain code during key generation.

use generic_ec::Curve;
use rand_core::OsRng;

use crate::driver::Driver;
use crate::ecdsa::{EcdsaShare, PairwiseSetup, SETUP};
use crate::error::{Error, PartyIndex, Result};
use crate::scheme::{check_threshold, Scheme};
use crate::session::{execution_id, Status};
use crate::share::{CoreShare, Ed25519, KeyShare, Secp256k1};
use crate::transport::{Envelope, Incoming, SessionContext};

/// What to generate: the scheme and `t`-of-`n`. Parties are the wallet indices `0..n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeygenConfig {
    /// Signature scheme of the key.
    pub scheme: Scheme,
    /// Parties needed to sign.
    pub threshold: u16,
    /// Parties holding shares.
    pub parties: u16,
}

const KEYGEN: &str = "keygen";

enum State {
    Ecdsa {
        keygen: Driver<CoreShare<Secp256k1>>,
        setup: Box<PairwiseSetup>,
        core: Option<Box<CoreShare<Secp256k1>>>,
    },
    Ed25519(Driver<CoreShare<Ed25519>>),
    Bip340(Driver<CoreShare<Secp256k1>>),
}

/// One party's side of a distributed key generation.
pub struct KeygenSession {
    ctx: SessionContext,
    state: State,
    status: Status,
    output: Option<KeyShare>,
}

impl KeygenSession {
    /// Start key generation for party `ctx.me()`. The roster must hold exactly the parties
    /// `0..n`.
    pub fn new(ctx: SessionContext, config: KeygenConfig) -> Result<Self> {
        check_threshold(config.threshold, config.parties)?;
        let members: Vec<PartyIndex> = (0..config.parties).collect();
        if ctx.roster().keys().copied().collect::<Vec<_>>() != members {
            return Err(Error::InvalidParameters(format!(
                "roster must hold exactly the parties 0..{}",
                config.parties
            )));
        }
        let (i, t) = (ctx.me(), config.threshold);
        let eid = execution_id(ctx.session_id(), KEYGEN);
        let state = match config.scheme {
            Scheme::EcdsaSecp256k1 => State::Ecdsa {
                setup: Box::new(PairwiseSetup::new(&ctx, members.clone())?),
                keygen: core_keygen::<Secp256k1>(eid, members, i, t),
                core: None,
            },
            Scheme::Ed25519 => State::Ed25519(core_keygen::<Ed25519>(eid, members, i, t)),
            Scheme::SchnorrBip340 => State::Bip340(core_keygen::<Secp256k1>(eid, members, i, t)),
        };
        Ok(Self {
            ctx,
            state,
            status: Status::default(),
            output: None,
        })
    }

    fn advance(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        let ctx = &self.ctx;
        match &mut self.state {
            State::Ecdsa {
                keygen,
                setup,
                core,
            } => {
                keygen.pump(ctx, out)?;
                if let Some(c) = keygen.take_output() {
                    *core = Some(Box::new(c));
                }
                if core.is_some() && setup.is_done() {
                    let pairwise = setup.take().expect("checked");
                    let core = core.take().expect("checked");
                    let share = EcdsaShare::new(*core, pairwise)?;
                    self.output = Some(KeyShare::EcdsaSecp256k1(Box::new(share)));
                }
            }
            State::Ed25519(d) => {
                d.pump(ctx, out)?;
                if let Some(share) = d.take_output() {
                    self.output = Some(KeyShare::Ed25519(Box::new(share)));
                }
            }
            State::Bip340(d) => {
                d.pump(ctx, out)?;
                if let Some(share) = d.take_output() {
                    self.output = Some(KeyShare::SchnorrBip340(Box::new(share)));
                }
            }
        }
        Ok(())
    }
}

impl KeygenSession {
    fn begin(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        if let State::Ecdsa { setup, .. } = &mut self.state {
            setup.start(&self.ctx, out)?;
        }
        self.advance(out)
    }

    fn deliver(&mut self, message: &Incoming<'_>, out: &mut Vec<Envelope>) -> Result<()> {
        let body = self.ctx.open_incoming(message)?;
        match &mut self.state {
            State::Ecdsa { keygen, setup, .. } => {
                if message.channel == SETUP {
                    setup.handle(&self.ctx, message, &zeroize::Zeroizing::new(body), out)
                } else {
                    deliver_on(keygen, message, body)
                }
            }
            State::Ed25519(d) => deliver_on(d, message, body),
            State::Bip340(d) => deliver_on(d, message, body),
        }
    }
}

/// The threshold DKG of `cggmp21-keygen` on curve `E`, with a chain code for HD derivation.
fn core_keygen<E: Curve>(
    eid: [u8; 32],
    members: Vec<PartyIndex>,
    i: PartyIndex,
    t: u16,
) -> Driver<CoreShare<E>> {
    let n = members.len() as u16;
    let machine = round_based::state_machine::wrap_protocol(move |party| async move {
        givre::keygen::<E>(givre::keygen::ExecutionId::new(&eid), i, n)
            .set_threshold(t)
            .hd_wallet(true)
            .start(&mut OsRng, party)
            .await
    });
    Driver::new(KEYGEN, members, machine)
}

crate::session::protocol_session!(KeygenSession, KeyShare);

/// Deliver an opened envelope to a single-driver session, checking its channel.
pub(crate) fn deliver_on<T: 'static>(
    driver: &mut Driver<T>,
    message: &Envelope,
    body: Vec<u8>,
) -> Result<()> {
    if message.channel != driver.channel() {
        return Err(Error::Misrouted(format!(
            "unknown channel {:?}",
            message.channel
        )));
    }
    driver.deliver(message.from, message.is_broadcast(), body)
}
