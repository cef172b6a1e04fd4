//! Threshold ECDSA on secp256k1 with DKLs23 (Doerner, Kondi, Lee, shelat: "Threshold ECDSA in
//! Three Rounds", IEEE S&P 2024), as implemented by `dkls23-core`: multiplication by oblivious
//! transfer, no Paillier, no safe primes, no range proofs.
//!
//! - A key is made by the engine's distributed key generation ([`crate::keygen`]) with, beside
//!   it, the DKLs23 pairwise setup ([`setup`]): every pair of parties sets up OT-based
//!   multiplication both ways and a seed for shares of zero. The share ([`EcdsaShare`]) keeps
//!   both; refresh and resharing make new shares and a new pairwise state.
//! - Signing ([`EcdsaSignSession`]) is three rounds among exactly `t` signers and gives every
//!   signer a standard low-s signature with its recovery id, checked with `k256`.
//! - A signer whose multiplication messages fail their checks is an attacker on the pairwise
//!   state, which every signature reuses: the error ([`crate::Error::OtAbort`]) names it, and
//!   its holder records on its share that it no longer signs with that party
//!   ([`EcdsaShare::suspend`]) until a refresh.

mod curve;
mod message;
mod proofs_wire;
mod setup;
mod share;
mod sign;

pub(crate) use message::{hex_array, hex_bytes};
pub use message::{EcdsaMessage, EcdsaSignature};
pub(crate) use setup::{PairwiseSetup, SETUP};
pub use share::EcdsaShare;
pub(crate) use sign::check_signers;
pub use sign::{EcdsaSignConfig, EcdsaSignSession, SignRound};

use serde::{Deserialize, Serialize};

use crate::error::{Error, PartyIndex, Result};
use crate::session::Status;
use crate::share::{CoreShare, KeyShare, Secp256k1};
use crate::transport::{Envelope, Incoming, SessionContext};

/// An ECDSA share that has its Shamir share but not yet its pairwise state (a share made by
/// [`crate::import`]). Complete it with a [`PairwiseSetupSession`] among all its parties.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncompleteEcdsaShare(pub(crate) CoreShare<Secp256k1>);

impl IncompleteEcdsaShare {
    /// Wallet index of this share.
    pub fn index(&self) -> PartyIndex {
        self.0.i
    }

    /// Number of parties of the key.
    pub fn parties(&self) -> u16 {
        self.0.n()
    }
}

impl core::fmt::Debug for IncompleteEcdsaShare {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IncompleteEcdsaShare")
            .field("index", &self.0.i)
            .finish_non_exhaustive()
    }
}

/// Runs the pairwise setup among all `n` parties of an ECDSA key and completes this party's
/// share.
pub struct PairwiseSetupSession {
    ctx: SessionContext,
    core: Option<CoreShare<Secp256k1>>,
    setup: PairwiseSetup,
    status: Status,
    output: Option<KeyShare>,
}

impl PairwiseSetupSession {
    /// Start for party `ctx.me()`, which must be `share.index()`.
    pub fn new(ctx: SessionContext, share: IncompleteEcdsaShare) -> Result<Self> {
        if share.index() != ctx.me() {
            return Err(Error::InvalidParameters(
                "the share is not this party's".into(),
            ));
        }
        let members: Vec<PartyIndex> = (0..share.parties()).collect();
        if ctx.roster().keys().copied().collect::<Vec<_>>() != members {
            return Err(Error::InvalidParameters(
                "roster must hold exactly the key's parties".into(),
            ));
        }
        let setup = PairwiseSetup::new(&ctx, members)?;
        Ok(Self {
            ctx,
            core: Some(share.0),
            setup,
            status: Status::default(),
            output: None,
        })
    }

    fn begin(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        self.setup.start(&self.ctx, out)?;
        self.advance(out)
    }

    fn deliver(&mut self, message: &Incoming<'_>, out: &mut Vec<Envelope>) -> Result<()> {
        let body = zeroize::Zeroizing::new(self.ctx.open_incoming(message)?);
        if message.channel != SETUP {
            return Err(Error::Misrouted(format!(
                "unknown channel {:?}",
                message.channel
            )));
        }
        self.setup.handle(&self.ctx, message, &body, out)
    }

    fn advance(&mut self, _out: &mut Vec<Envelope>) -> Result<()> {
        if let Some(pairwise) = self.setup.take() {
            let core = self.core.take().expect("completed once");
            self.output = Some(KeyShare::EcdsaSecp256k1(Box::new(EcdsaShare::new(
                core, pairwise,
            )?)));
        }
        Ok(())
    }
}

crate::session::protocol_session!(PairwiseSetupSession, KeyShare);
