//! Key refresh and resharing: new shares of the same key, for the same or a new set of parties.
//!
//! `t` current holders (the *old signers*) re-deal the key to the *new parties* `0..n'` with a
//! new threshold `t'`, by Feldman-verified resharing of their Lagrange-weighted shares
//! (Desmedt–Jajodia redistribution):
//!
//! 1. Old signer `i` samples a random polynomial `f_i` of degree `t'-1` with
//!    `f_i(0) = λ_i·x_i`, broadcasts its coefficient commitments `C_i = [a_ik·G]` (and the chain
//!    code), and sends `f_i(j)` privately to each new party `j`.
//! 2. New party `j` checks `C_i0 = λ_i·Y_i` (the old public share of `i`) and
//!    `f_i(j)·G = Σ_k C_ik·j^k`, blaming `i` if either fails; its new share is `Σ_i f_i(j)`, and
//!    everyone's new public share follows from the commitments. It broadcasts a digest of each
//!    old signer's commitments.
//! 3. When all new parties' digests agree (an old signer that showed different commitments to
//!    different parties is blamed), each new party outputs its share.
//!
//! The group public key, and with the unchanged chain code every derived address, stays the
//! same. The new shares lie on a fresh random polynomial, so old shares do not combine with new
//! ones. Old signers keep their wallet index in the new set; a replaced party (a lost device)
//! takes its index with a new identity key. ECDSA shares also hold DKLs23 pairwise state: the new
//! parties make a fresh one among themselves in the same session ([`crate::ecdsa`]), so a refresh
//! also replaces the state that signatures reuse (and lifts any suspension it carried).

use std::collections::BTreeMap;

use generic_ec::{Curve, NonZero, Point, Scalar, SecretScalar};
use generic_ec_zkp::polynomial::{lagrange_coefficient_at_zero, Polynomial};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ecdsa::{EcdsaShare, PairwiseSetup, SETUP};
use crate::error::{Error, PartyIndex, Result};
use crate::scheme::{check_threshold, Scheme};
use crate::session::Status;
use crate::share::{CoreShare, Ed25519, KeyShare, PublicKeyInfo, Secp256k1};
use crate::transport::{Envelope, Incoming, SessionContext};

const DEAL: &str = "reshare-deal";
const SUBSHARE: &str = "reshare-share";
const CONFIRM: &str = "reshare-confirm";

/// What to reshare, and to whom. Public; every party of the session must be given the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReshareConfig {
    /// Public information of the key as it is now.
    pub key: PublicKeyInfo,
    /// Wallet indices of exactly `t` current holders who re-deal the key.
    pub old_signers: Vec<PartyIndex>,
    /// Threshold of the new shares.
    pub new_threshold: u16,
    /// Number of new parties; they are the wallet indices `0..new_parties`.
    pub new_parties: u16,
}

#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct Deal<E: Curve> {
    commitments: Vec<Point<E>>,
    chain_code: Option<[u8; 32]>,
}

#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct SubShare<E: Curve> {
    value: Scalar<E>,
}

#[derive(Serialize, Deserialize, PartialEq, Eq)]
struct Confirm {
    digests: BTreeMap<PartyIndex, String>,
}

/// The curve-generic part: dealing, verifying and confirming.
struct Core<E: Curve> {
    me: PartyIndex,
    old_signers: Vec<PartyIndex>,
    new_t: u16,
    new_n: u16,
    public_key: NonZero<Point<E>>,
    /// `λ_i·Y_i` for each old signer `i`: what its dealt constant term must commit to.
    expected_const: BTreeMap<PartyIndex, Point<E>>,
    chain_code: Option<[u8; 32]>,
    /// `λ_i·x_i` for this party, if it is an old signer; taken when dealing.
    weighted_secret: Option<SecretScalar<E>>,
    deals: BTreeMap<PartyIndex, Vec<Point<E>>>,
    subshares: BTreeMap<PartyIndex, Scalar<E>>,
    own_confirm: Option<Confirm>,
    confirms: BTreeMap<PartyIndex, Confirm>,
    pending: Option<CoreShare<E>>,
    result: Option<Option<CoreShare<E>>>,
}

fn new_id<E: Curve>(j: PartyIndex) -> NonZero<Scalar<E>> {
    NonZero::from_scalar(Scalar::from(u64::from(j) + 1)).expect("j + 1 is not zero")
}

fn parse_point<E: Curve>(hex_str: &str) -> Result<Point<E>> {
    let bytes = hex::decode(hex_str).map_err(|_| Error::malformed("point is not hex"))?;
    Point::from_bytes(&bytes).map_err(|_| Error::malformed("not a point of the curve"))
}

impl<E: Curve> Core<E> {
    fn new(
        me: PartyIndex,
        config: &ReshareConfig,
        own_share: Option<&NonZero<SecretScalar<E>>>,
    ) -> Result<Self> {
        let key = &config.key;
        let public_key = NonZero::from_point(parse_point::<E>(&key.public_key)?)
            .ok_or_else(|| Error::malformed("public key is zero"))?;
        let ids = key
            .share_ids
            .iter()
            .map(|h| {
                let b = hex::decode(h).map_err(|_| Error::malformed("share id is not hex"))?;
                let s = Scalar::<E>::from_be_bytes(&b).map_err(|_| Error::malformed("share id"))?;
                NonZero::from_scalar(s).ok_or_else(|| Error::malformed("share id is zero"))
            })
            .collect::<Result<Vec<_>>>()?;
        if ids.len() != usize::from(key.parties) || key.public_shares.len() != ids.len() {
            return Err(Error::malformed(
                "key info lists the wrong number of parties",
            ));
        }
        let signer_ids: Vec<NonZero<Scalar<E>>> = config
            .old_signers
            .iter()
            .map(|i| ids[usize::from(*i)])
            .collect();
        let mut expected_const = BTreeMap::new();
        let mut weighted_secret = None;
        let mut sum = Point::<E>::zero();
        for (pos, i) in config.old_signers.iter().enumerate() {
            let lambda = lagrange_coefficient_at_zero(pos, &signer_ids)
                .ok_or_else(|| Error::InvalidParameters("duplicate old signer".into()))?;
            let y_i = parse_point::<E>(&key.public_shares[usize::from(*i)])?;
            let c = y_i * lambda;
            sum += c;
            expected_const.insert(*i, c);
            if *i == me {
                let x = own_share.ok_or_else(|| {
                    Error::InvalidParameters(format!("old signer {me} needs its current share"))
                })?;
                if Point::generator() * x != y_i {
                    return Err(Error::InvalidParameters(
                        "this party's share does not match the key info".into(),
                    ));
                }
                let x_scalar: &Scalar<E> = x.as_ref();
                let mut w = *lambda * x_scalar;
                weighted_secret = Some(SecretScalar::new(&mut w));
            }
        }
        if sum != *public_key {
            return Err(Error::InvalidParameters(
                "the old public shares do not make up the public key".into(),
            ));
        }
        let chain_code = match &key.chain_code {
            Some(h) => Some(
                hex::decode(h)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| Error::malformed("chain code"))?,
            ),
            None => None,
        };
        Ok(Self {
            me,
            old_signers: config.old_signers.clone(),
            new_t: config.new_threshold,
            new_n: config.new_parties,
            public_key,
            expected_const,
            chain_code,
            weighted_secret,
            deals: BTreeMap::new(),
            subshares: BTreeMap::new(),
            own_confirm: None,
            confirms: BTreeMap::new(),
            pending: None,
            result: None,
        })
    }

    fn is_new(&self) -> bool {
        self.me < self.new_n
    }

    /// Round 1 for an old signer: deal. A party that is not new is done after dealing.
    fn start(&mut self, ctx: &SessionContext, out: &mut Vec<Envelope>) -> Result<()> {
        if let Some(weighted) = self.weighted_secret.take() {
            let f = Polynomial::sample_with_const_term(
                &mut OsRng,
                usize::from(self.new_t) - 1,
                *weighted.as_ref(),
            );
            let commitments: Vec<Point<E>> =
                f.coefs().iter().map(|a| Point::generator() * a).collect();
            let deal = Deal::<E> {
                commitments: commitments.clone(),
                chain_code: self.chain_code,
            };
            out.push(ctx.seal(DEAL, None, &to_json(&deal))?);
            for j in 0..self.new_n {
                let value: Scalar<E> = f.value(new_id::<E>(j).as_ref());
                if j == self.me {
                    self.subshares.insert(j, value);
                } else {
                    out.push(ctx.seal(SUBSHARE, Some(j), &to_json(&SubShare::<E> { value }))?);
                }
            }
            self.deals.insert(self.me, commitments);
        }
        if !self.is_new() {
            self.result = Some(None);
            return Ok(());
        }
        self.progress(ctx, out)
    }

    fn handle(
        &mut self,
        ctx: &SessionContext,
        env: &Envelope,
        body: Vec<u8>,
        out: &mut Vec<Envelope>,
    ) -> Result<()> {
        let from = env.from;
        match env.channel.as_str() {
            DEAL => {
                if !self.old_signers.contains(&from) {
                    return Err(Error::blame(from, "dealt without being an old signer"));
                }
                let deal: Deal<E> = from_json(&body, from)?;
                if !self.is_new() {
                    return Ok(());
                }
                if deal.commitments.len() != usize::from(self.new_t) {
                    return Err(Error::blame(from, "commitments of the wrong degree"));
                }
                if deal.commitments[0] != self.expected_const[&from] {
                    return Err(Error::blame(
                        from,
                        "dealt something other than its own share",
                    ));
                }
                if deal.chain_code != self.chain_code {
                    return Err(Error::blame(from, "dealt another chain code"));
                }
                if self.deals.insert(from, deal.commitments).is_some() {
                    return Err(Error::blame(from, "dealt twice"));
                }
            }
            SUBSHARE => {
                if !self.old_signers.contains(&from) {
                    return Err(Error::blame(
                        from,
                        "sent a share without being an old signer",
                    ));
                }
                let sub: SubShare<E> = from_json(&body, from)?;
                if self.subshares.insert(from, sub.value).is_some() {
                    return Err(Error::blame(from, "sent two shares"));
                }
            }
            CONFIRM => {
                if from >= self.new_n {
                    return Err(Error::blame(from, "confirmed without being a new party"));
                }
                let confirm: Confirm = from_json(&body, from)?;
                if self.confirms.insert(from, confirm).is_some() {
                    return Err(Error::blame(from, "confirmed twice"));
                }
            }
            other => return Err(Error::Misrouted(format!("unknown channel {other:?}"))),
        }
        self.progress(ctx, out)
    }

    fn digest(commitments: &[Point<E>]) -> String {
        let mut h = Sha256::new();
        for c in commitments {
            h.update(c.to_bytes(true));
        }
        hex::encode(h.finalize())
    }

    /// Verify and combine once everything of a round is in.
    fn progress(&mut self, ctx: &SessionContext, out: &mut Vec<Envelope>) -> Result<()> {
        if !self.is_new() || self.result.is_some() {
            return Ok(());
        }
        let all_dealt = self
            .old_signers
            .iter()
            .all(|i| self.deals.contains_key(i) && self.subshares.contains_key(i));
        if self.own_confirm.is_none() && all_dealt {
            let my_id = new_id::<E>(self.me);
            let mut x = Scalar::<E>::zero();
            for i in &self.old_signers {
                let c = Polynomial::from_coefs(self.deals[i].clone());
                let s = self.subshares[i];
                if Point::generator() * s != c.value::<_, Point<E>>(my_id.as_ref()) {
                    return Err(Error::blame(
                        *i,
                        "private share does not match its commitments",
                    ));
                }
                x += s;
            }
            let mut total =
                Polynomial::from_coefs(vec![Point::<E>::zero(); usize::from(self.new_t)]);
            for i in &self.old_signers {
                total += &Polynomial::from_coefs(self.deals[i].clone());
            }
            let public_shares = (0..self.new_n)
                .map(|j| {
                    NonZero::from_point(total.value::<_, Point<E>>(new_id::<E>(j).as_ref()))
                        .ok_or_else(|| Error::Protocol("a new public share is zero".into()))
                })
                .collect::<Result<Vec<_>>>()?;
            let x = NonZero::from_secret_scalar(SecretScalar::new(&mut x))
                .ok_or_else(|| Error::Protocol("new share is zero".into()))?;
            let dirty = key_share::DirtyCoreKeyShare {
                i: self.me,
                key_info: key_share::DirtyKeyInfo {
                    curve: Default::default(),
                    shared_public_key: self.public_key,
                    public_shares,
                    vss_setup: Some(key_share::VssSetup {
                        min_signers: self.new_t,
                        I: (0..self.new_n).map(new_id::<E>).collect(),
                    }),
                    chain_code: self.chain_code,
                },
                x,
            };
            let share = key_share::Validate::validate(dirty)
                .map_err(|e| Error::Protocol(format!("new share is invalid: {}", e.error())))?;
            self.pending = Some(share);
            let confirm = Confirm {
                digests: self
                    .deals
                    .iter()
                    .map(|(i, c)| (*i, Self::digest(c)))
                    .collect(),
            };
            out.push(ctx.seal(CONFIRM, None, &to_json(&confirm))?);
            self.own_confirm = Some(confirm);
        }
        let Some(own) = &self.own_confirm else {
            return Ok(());
        };
        let others_in = (0..self.new_n)
            .filter(|j| *j != self.me)
            .all(|j| self.confirms.contains_key(&j));
        if !others_in {
            return Ok(());
        }
        for confirm in self.confirms.values() {
            for (i, d) in &own.digests {
                if confirm.digests.get(i) != Some(d) {
                    return Err(Error::blame(
                        *i,
                        "showed different commitments to different parties",
                    ));
                }
            }
        }
        self.result = Some(self.pending.take());
        Ok(())
    }
}

enum Inner {
    Secp(Core<Secp256k1>),
    Ed(Core<Ed25519>),
}

/// One party's side of a refresh or reshare. Outputs `Some(new share)` for a new party, `None`
/// for an old signer that leaves the wallet.
pub struct ReshareSession {
    ctx: SessionContext,
    scheme: Scheme,
    inner: Inner,
    /// ECDSA, for a new party: the pairwise setup among the new parties.
    setup: Option<Box<PairwiseSetup>>,
    secp_result: Option<Option<CoreShare<Secp256k1>>>,
    status: Status,
    output: Option<Option<KeyShare>>,
}

impl ReshareSession {
    /// Start for party `ctx.me()`. `current` is this party's share if it has one (required for
    /// old signers). The roster must hold the old signers and the new parties.
    pub fn new(
        ctx: SessionContext,
        config: ReshareConfig,
        current: Option<&KeyShare>,
    ) -> Result<Self> {
        check_threshold(config.new_threshold, config.new_parties)?;
        let t_old = usize::from(config.key.threshold);
        let mut sorted = config.old_signers.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != config.old_signers.len() || sorted.len() != t_old {
            return Err(Error::InvalidParameters(format!(
                "exactly {t_old} distinct old signers are needed"
            )));
        }
        if let Some(bad) = sorted.iter().find(|i| **i >= config.key.parties) {
            return Err(Error::InvalidParameters(format!(
                "no party {bad} holds this key"
            )));
        }
        for p in sorted.iter().copied().chain(0..config.new_parties) {
            if !ctx.roster().contains_key(&p) {
                return Err(Error::InvalidParameters(format!(
                    "party {p} is not in the roster"
                )));
            }
        }
        let me = ctx.me();
        if let Some(share) = current {
            if share.public_info().public_key != config.key.public_key || share.index() != me {
                return Err(Error::InvalidParameters(
                    "the given share is not this party's share of this key".into(),
                ));
            }
        }
        let own = if config.old_signers.contains(&me) {
            current
        } else {
            None
        };
        let scheme = config.key.scheme;
        let inner = match (scheme, own) {
            (Scheme::Ed25519, Some(KeyShare::Ed25519(s))) => {
                Inner::Ed(Core::new(me, &config, Some(&s.x))?)
            }
            (Scheme::Ed25519, _) => Inner::Ed(Core::new(me, &config, None)?),
            (_, Some(KeyShare::EcdsaSecp256k1(s))) => {
                Inner::Secp(Core::new(me, &config, Some(&s.core().x))?)
            }
            (_, Some(KeyShare::SchnorrBip340(s))) => {
                Inner::Secp(Core::new(me, &config, Some(&s.x))?)
            }
            (_, _) => Inner::Secp(Core::new(me, &config, None)?),
        };
        let setup = if scheme == Scheme::EcdsaSecp256k1 && me < config.new_parties {
            Some(Box::new(PairwiseSetup::new(
                &ctx,
                (0..config.new_parties).collect(),
            )?))
        } else {
            None
        };
        Ok(Self {
            ctx,
            scheme,
            inner,
            setup,
            secp_result: None,
            status: Status::default(),
            output: None,
        })
    }

    fn advance(&mut self, _out: &mut Vec<Envelope>) -> Result<()> {
        match &mut self.inner {
            Inner::Secp(c) => {
                if let Some(r) = c.result.take() {
                    self.secp_result = Some(r);
                }
            }
            Inner::Ed(c) => {
                if let Some(r) = c.result.take() {
                    self.output = Some(r.map(|s| KeyShare::Ed25519(Box::new(s))));
                }
            }
        }
        match (self.secp_result.take(), self.scheme) {
            (None, _) => {}
            (Some(None), _) => self.output = Some(None),
            (Some(Some(s)), Scheme::SchnorrBip340) => {
                self.output = Some(Some(KeyShare::SchnorrBip340(Box::new(s))))
            }
            (Some(Some(s)), _) => {
                let setup = self.setup.as_mut().ok_or_else(|| {
                    Error::Protocol("a new ECDSA party runs the pairwise setup".into())
                })?;
                match setup.take() {
                    Some(pairwise) => {
                        let share = EcdsaShare::new(s, pairwise)?;
                        self.output = Some(Some(KeyShare::EcdsaSecp256k1(Box::new(share))));
                    }
                    // The new share waits for the pairwise setup to finish.
                    None => self.secp_result = Some(Some(s)),
                }
            }
        }
        Ok(())
    }

    /// Deal (old signers), then make what progress is possible.
    fn begin(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        if let Some(setup) = &mut self.setup {
            setup.start(&self.ctx, out)?;
        }
        match &mut self.inner {
            Inner::Secp(c) => c.start(&self.ctx, out),
            Inner::Ed(c) => c.start(&self.ctx, out),
        }?;
        self.advance(out)
    }

    fn deliver(&mut self, message: &Incoming<'_>, out: &mut Vec<Envelope>) -> Result<()> {
        let body = self.ctx.open_incoming(message)?;
        if message.channel == SETUP {
            return match &mut self.setup {
                Some(setup) => {
                    setup.handle(&self.ctx, message, &zeroize::Zeroizing::new(body), out)
                }
                None => Err(Error::Misrouted(format!(
                    "party {} takes no part in the pairwise setup",
                    self.ctx.me()
                ))),
            };
        }
        match &mut self.inner {
            Inner::Secp(c) => c.handle(&self.ctx, message, body, out),
            Inner::Ed(c) => c.handle(&self.ctx, message, body, out),
        }
    }
}

crate::session::protocol_session!(ReshareSession, Option<KeyShare>);

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("messages serialize")
}

fn from_json<T: for<'de> Deserialize<'de>>(body: &[u8], from: PartyIndex) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| Error::blame(from, format!("undecodable message: {e}")))
}
