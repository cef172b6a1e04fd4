//! One protocol session of the device's party, driven with JSON envelopes.

use mpcw_engine::keygen::KeygenSession;
use mpcw_engine::reshare::ReshareSession;
use mpcw_engine::signer::SigningParty;
use mpcw_engine::{Envelope, Error, KeyShare, PartyIndex, Protocol};
use serde::Serialize;

use crate::{input, Result};

enum Session {
    Keygen(Box<KeygenSession>, Option<KeyShare>),
    /// A resharing: its output is a new share, or none for a party that only deals.
    Reshare(Box<ReshareSession>, Option<Option<KeyShare>>),
    Sign(SigningParty, Option<SignatureOut>),
}

/// A finished signature, as JavaScript receives it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SignatureOut {
    scheme: String,
    /// Hex.
    bytes: String,
    recovery_id: Option<u8>,
}

impl From<mpcw_engine::signer::Signature> for SignatureOut {
    fn from(s: mpcw_engine::signer::Signature) -> Self {
        Self {
            scheme: s.scheme.name().into(),
            bytes: hex::encode(&s.bytes),
            recovery_id: s.recovery_id,
        }
    }
}

/// One running session: [`Party::start`], then [`Party::handle`] every envelope the relay
/// delivers, posting what each returns, until [`Party::is_done`].
pub struct Party {
    session: Session,
    /// The co-signer that failed an oblivious-transfer check in this session, and why.
    cheater: Option<(PartyIndex, String)>,
}

fn envelopes(list: Vec<Envelope>) -> String {
    serde_json::to_string(&list).expect("envelopes serialize")
}

impl Party {
    pub(crate) fn keygen(session: KeygenSession) -> Self {
        Self {
            session: Session::Keygen(Box::new(session), None),
            cheater: None,
        }
    }

    pub(crate) fn reshare(session: ReshareSession) -> Self {
        Self {
            session: Session::Reshare(Box::new(session), None),
            cheater: None,
        }
    }

    pub(crate) fn sign(party: SigningParty) -> Self {
        Self {
            session: Session::Sign(party, None),
            cheater: None,
        }
    }

    /// The first envelopes to post, JSON.
    pub fn start(&mut self) -> Result<String> {
        let out = match &mut self.session {
            Session::Keygen(p, _) => p.start()?,
            Session::Reshare(p, _) => p.start()?,
            Session::Sign(p, _) => p.start()?,
        };
        self.collect();
        Ok(envelopes(out))
    }

    /// Take one envelope (JSON) from the relay; the envelopes to post in answer, JSON. An
    /// envelope for another party is ignored.
    pub fn handle(&mut self, envelope_json: &str) -> Result<String> {
        let envelope: Envelope =
            serde_json::from_str(envelope_json).map_err(|e| input("envelope", e))?;
        let me = match &self.session {
            Session::Keygen(p, _) => p.party(),
            Session::Reshare(p, _) => p.party(),
            Session::Sign(p, _) => p.party(),
        };
        let addressed = match envelope.to {
            Some(to) => to == me,
            None => envelope.from != me,
        };
        if !addressed {
            return Ok("[]".into());
        }
        let out = match &mut self.session {
            Session::Keygen(p, _) => p.handle(&envelope),
            Session::Reshare(p, _) => p.handle(&envelope),
            Session::Sign(p, _) => p.handle(&envelope),
        };
        let out = match out {
            Ok(out) => out,
            // A message that is not fatal (a late duplicate, say) is dropped.
            Err(e) if !e.is_fatal() => Vec::new(),
            Err(e) => {
                if let Error::OtAbort { party, reason } = &e {
                    self.cheater = Some((*party, reason.clone()));
                }
                return Err(e.into());
            }
        };
        self.collect();
        Ok(envelopes(out))
    }

    fn collect(&mut self) {
        match &mut self.session {
            Session::Keygen(p, out) if out.is_none() => *out = p.take_output(),
            Session::Reshare(p, out) if out.is_none() => *out = p.take_output(),
            Session::Sign(p, out) if out.is_none() => {
                *out = p.take_output().map(SignatureOut::from)
            }
            _ => {}
        }
    }

    /// Whether the session has its output.
    pub fn is_done(&self) -> bool {
        match &self.session {
            Session::Keygen(_, out) => out.is_some(),
            Session::Reshare(_, out) => out.is_some(),
            Session::Sign(_, out) => out.is_some(),
        }
    }

    /// The share a finished key generation or resharing gave this party: `Some(None)` for a
    /// resharing party that only dealt, `None` if the session has not finished.
    pub(crate) fn take_share(&mut self) -> Option<Option<KeyShare>> {
        match &mut self.session {
            Session::Keygen(_, out) => out.take().map(Some),
            Session::Reshare(_, out) => out.take(),
            Session::Sign(..) => None,
        }
    }

    /// The co-signer that failed an oblivious-transfer check in this (ECDSA signing) session,
    /// if one did: DKLs23 requires that this party does not sign with it again before a refresh
    /// (`DeviceSecret::suspend`).
    pub fn cheater(&self) -> Option<(PartyIndex, String)> {
        self.cheater.clone()
    }

    /// The signature of a finished signing session, JSON `{scheme, bytes, recovery_id}`.
    pub fn signature(&self) -> Option<String> {
        match &self.session {
            Session::Sign(_, Some(s)) => Some(serde_json::to_string(s).expect("serializes")),
            _ => None,
        }
    }
}
