//! Distributed key generation: a wallet key born as `t`-of-`n` shares, with no dealer.
//!
//! - ECDSA: CGGMP24 threshold key generation together with the auxiliary-info protocol (each
//!   party's Paillier key and ring-Pedersen parameters, with their zero-knowledge proofs), run side
//!   by side in one session.
//! - Ed25519 and BIP-340: the same UC-secure DKG (cggmp21-keygen) over the FROST curves.
//!
//! Every key is HD-capable: the parties agree on a random chain code during key generation.

use generic_ec::Curve;
use rand_core::OsRng;

use crate::aux::{aux_driver, complete_ecdsa_share, PaillierPrimes};
use crate::driver::Driver;
use crate::error::{Error, PartyIndex, Result};
use crate::scheme::{check_threshold, Scheme};
use crate::session::{execution_id, Status};
use crate::share::{CoreShare, Ed25519, KeyShare, Secp256k1};
use crate::transport::{Envelope, SessionContext};

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
        aux: Driver<cggmp24::key_share::AuxInfo>,
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
    /// Start key generation for party `ctx.me()`.
    ///
    /// The roster must hold exactly the parties `0..n`. ECDSA needs this party's Paillier primes:
    /// pass them if generated ahead of time ([`PaillierPrimes::generate`] takes about a minute),
    /// or `None` to generate them now.
    pub fn new(
        ctx: SessionContext,
        config: KeygenConfig,
        primes: Option<PaillierPrimes>,
    ) -> Result<Self> {
        check_threshold(config.threshold, config.parties)?;
        let members: Vec<PartyIndex> = (0..config.parties).collect();
        if ctx.roster().keys().copied().collect::<Vec<_>>() != members {
            return Err(Error::InvalidParameters(format!(
                "roster must hold exactly the parties 0..{}",
                config.parties
            )));
        }
        let (i, n, t) = (ctx.me(), config.parties, config.threshold);
        let eid = execution_id(ctx.session_id(), KEYGEN);
        let state = match config.scheme {
            Scheme::EcdsaSecp256k1 => {
                let primes = primes.unwrap_or_else(|| PaillierPrimes::generate(&mut OsRng));
                let machine = round_based::state_machine::wrap_protocol(move |party| async move {
                    cggmp24::keygen::<Secp256k1>(cggmp24::ExecutionId::new(&eid), i, n)
                        .set_threshold(t)
                        .hd_wallet(true)
                        .start(&mut OsRng, party)
                        .await
                });
                State::Ecdsa {
                    keygen: Driver::new(KEYGEN, members.clone(), machine),
                    aux: aux_driver(&ctx, members, primes),
                }
            }
            Scheme::Ed25519 => State::Ed25519(schnorr_keygen::<Ed25519>(eid, members, i, t)),
            Scheme::SchnorrBip340 => State::Bip340(schnorr_keygen::<Secp256k1>(eid, members, i, t)),
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
            State::Ecdsa { keygen, aux } => {
                keygen.pump(ctx, out)?;
                aux.pump(ctx, out)?;
                if keygen.is_done() && aux.is_done() {
                    let core = keygen.take_output().expect("checked");
                    let aux = aux.take_output().expect("checked");
                    self.output = Some(complete_ecdsa_share(core, aux)?);
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
        self.advance(out)
    }

    fn deliver(&mut self, message: &Envelope, _out: &mut Vec<Envelope>) -> Result<()> {
        let body = self.ctx.open(message)?;
        match &mut self.state {
            State::Ecdsa { keygen, aux } => {
                if message.channel == keygen.channel() {
                    keygen.deliver(message.from, message.is_broadcast(), body)
                } else {
                    deliver_on(aux, message, body)
                }
            }
            State::Ed25519(d) => deliver_on(d, message, body),
            State::Bip340(d) => deliver_on(d, message, body),
        }
    }
}

fn schnorr_keygen<E: Curve>(
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
