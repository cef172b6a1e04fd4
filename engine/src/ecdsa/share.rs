//! An ECDSA key share: the Shamir share of the key (the same core share every scheme has) and
//! the pairwise state DKLs23 signs with: for every other party, an OT-based multiplication in
//! each direction and a seed for shares of zero.

use std::collections::BTreeMap;

use base64::Engine as _;
use dkls23_core::protocols::derivation::DerivData;
use dkls23_core::protocols::{Parameters, Party};
use dkls23_core::utilities::multiplication::{MulReceiver, MulSender};
use dkls23_core::utilities::zero_shares::ZeroShare;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::curve::{self, Curve, DklsIndex};
use crate::error::{Error, PartyIndex, Result};
use crate::share::{CoreShare, Secp256k1};

/// What a party keeps with every other party of the wallet for signing: the OT-based
/// multiplication as receiver and as sender, and the zero-sharing seeds. Secret; made by
/// [`super::setup::PairwiseSetup`] at key generation and at every refresh or resharing, and
/// reused by every signature until then.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Pairwise {
    /// The id of the setup that made this state (the same for every party): signing sessions
    /// are bound to it.
    pub session_id: Vec<u8>,
    pub zero_share: ZeroShare,
    pub senders: BTreeMap<DklsIndex, MulSender<Curve>>,
    pub receivers: BTreeMap<DklsIndex, MulReceiver<Curve>>,
}

/// One party's threshold ECDSA share (DKLs23). Secret: seal it before storing it.
///
/// Besides the Shamir share of the key it holds state shared pairwise with every other party,
/// which signatures reuse. A party that fails a check of that state's use is an attacker on it:
/// the share then records that signing with it is suspended ([`EcdsaShare::suspend`]) until a
/// refresh replaces the state.
#[derive(Clone, Serialize, Deserialize)]
pub struct EcdsaShare {
    pub(crate) core: CoreShare<Secp256k1>,
    #[serde(with = "compact")]
    pub(crate) pairwise: Pairwise,
    /// Parties this share no longer signs with, and why.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) suspended: BTreeMap<PartyIndex, String>,
}

impl EcdsaShare {
    /// Join a core share and the pairwise state made for it, checking that they fit.
    pub(crate) fn new(core: CoreShare<Secp256k1>, pairwise: Pairwise) -> Result<Self> {
        let share = Self {
            core,
            pairwise,
            suspended: BTreeMap::new(),
        };
        share.check()?;
        Ok(share)
    }

    /// The Shamir share of the key (index, secret share, public key information).
    pub fn core(&self) -> &CoreShare<Secp256k1> {
        &self.core
    }

    /// The parties this share refuses to sign with, and why.
    pub fn suspended(&self) -> &BTreeMap<PartyIndex, String> {
        &self.suspended
    }

    /// Stop signing with `party`: it failed a check of the pairwise OT state, which must not be
    /// used with it again. Only a refresh (new pairwise state) lifts this.
    pub fn suspend(&mut self, party: PartyIndex, reason: impl Into<String>) {
        self.suspended.entry(party).or_insert_with(|| reason.into());
    }

    /// Check that the share is whole: its parties are numbered `1..=n` in the sharing, and it
    /// holds a well-formed state with every other party.
    pub(crate) fn check(&self) -> Result<()> {
        let n = self.core.n();
        let me = self.core.i;
        let ids = self
            .core
            .key_info
            .vss_setup
            .as_ref()
            .ok_or_else(|| Error::malformed("an ECDSA share needs a threshold sharing"))?;
        for (j, id) in ids.I.iter().enumerate() {
            if **id != generic_ec::Scalar::<Secp256k1>::from(j as u64 + 1) {
                return Err(Error::malformed(
                    "an ECDSA share must evaluate party j's share at j + 1",
                ));
            }
        }
        let others: Vec<DklsIndex> = (0..n)
            .filter(|j| *j != me)
            .map(curve::dkls_index)
            .collect::<Result<_>>()?;
        let p = &self.pairwise;
        let keys_match =
            |keys: Vec<&DklsIndex>| keys.into_iter().copied().eq(others.iter().copied());
        if !keys_match(p.senders.keys().collect()) || !keys_match(p.receivers.keys().collect()) {
            return Err(Error::malformed(
                "the pairwise state does not cover exactly the other parties",
            ));
        }
        let mut seeded: Vec<DklsIndex> = p
            .zero_share
            .seeds
            .iter()
            .map(|s| s.index_counterparty)
            .collect();
        seeded.sort_unstable();
        if seeded != others {
            return Err(Error::malformed(
                "the zero-sharing seeds do not cover exactly the other parties",
            ));
        }
        for s in p.senders.values() {
            s.check_state()
                .map_err(|e| Error::malformed(format!("pairwise state: {}", e.description)))?;
        }
        for r in p.receivers.values() {
            r.check_state(None)
                .map_err(|e| Error::malformed(format!("pairwise state: {}", e.description)))?;
        }
        Ok(())
    }

    /// The DKLs23 party that signs for the child key at `path` (the group key for an empty
    /// path): the share shifted by the path's BIP-32 tweak, with the pairwise state.
    pub(crate) fn party(&self, path: &[u32]) -> Result<(Party<Curve>, Vec<u8>)> {
        let (shift, child_key, chain_code) = crate::hd::secp256k1_shift(&self.core.key_info, path)?;
        let x: &generic_ec::Scalar<Secp256k1> = self.core.x.as_ref();
        let mut shifted = *x + shift;
        let poly_point = curve::scalar(&shifted);
        zeroize::Zeroize::zeroize(&mut shifted);
        let poly_point = poly_point?;
        let pk = curve::point(&child_key)?;
        let t = u8::try_from(self.core.min_signers()).expect("at most 16 parties");
        let n = u8::try_from(self.core.n()).expect("at most 16 parties");
        let parameters = Parameters::new(t, n)
            .map_err(|e| Error::InvalidParameters(format!("threshold {t}-of-{n}: {e}")))?;
        let party = Party {
            parameters,
            party_index: curve::dkls_index(self.core.i)?,
            session_id: self.pairwise.session_id.clone(),
            poly_point,
            pk,
            zero_share: self.pairwise.zero_share.clone(),
            mul_senders: self.pairwise.senders.clone(),
            mul_receivers: self.pairwise.receivers.clone(),
            derivation_data: DerivData {
                depth: u8::try_from(path.len()).unwrap_or(u8::MAX),
                child_number: path.last().copied().unwrap_or(0),
                parent_fingerprint: [0; 4],
                poly_point,
                pk,
                chain_code,
            },
            address: String::new(),
        };
        Ok((party, child_key.to_bytes(true).to_vec()))
    }
}

/// The pairwise state in JSON as base64 of its compact binary encoding (postcard), about a
/// third of its size as plain JSON.
mod compact {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Pairwise, s: S) -> core::result::Result<S::Ok, S::Error> {
        let bytes = Zeroizing::new(postcard::to_allocvec(p).map_err(serde::ser::Error::custom)?);
        let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*bytes));
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> core::result::Result<Pairwise, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(serde::de::Error::custom)?,
        );
        postcard::from_bytes(&bytes).map_err(serde::de::Error::custom)
    }
}
