//! Errors of the engine: values with a stable code and a readable message.

use serde::{Deserialize, Serialize};

/// Index of a party in a wallet: its position among the `n` share holders, fixed at key generation.
pub type PartyIndex = u16;

/// Everything that can go wrong in the engine.
///
/// Each variant has a stable [`code`](Error::code) that callers (the host's HTTP API, the device
/// SDK) pass on unchanged. A protocol failure that a specific party caused names it in
/// [`Error::Blame`]; the session that failed keeps nothing it half made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Parameters that cannot describe a valid session (threshold, party set, path, ...).
    #[error("invalid parameters: {0}")]
    InvalidParameters(String),
    /// One or more parties sent authenticated messages that break the protocol.
    #[error("parties {parties:?} misbehaved: {reason}")]
    Blame {
        /// Wallet indices of the parties at fault.
        parties: Vec<PartyIndex>,
        /// What the protocol found wrong.
        reason: String,
    },
    /// A co-signer's messages failed a check of the OT-based multiplication of ECDSA signing.
    ///
    /// That party has attacked the pairwise state that every signature of the two reuses, so
    /// the state must not be used with it again: record it on the share
    /// ([`crate::KeyShare::suspend`]) and refresh the wallet before the two sign together again.
    #[error("party {party} failed a check of the pairwise multiplication ({reason}); do not sign with it again before the wallet is refreshed")]
    OtAbort {
        /// Wallet index of the party at fault.
        party: PartyIndex,
        /// What the check found.
        reason: String,
    },
    /// Signing with a party is suspended on this share: it failed a check of the pairwise state
    /// before ([`Error::OtAbort`]). A refresh makes new shares without the suspension.
    #[error("signing with party {party} is suspended until the wallet is refreshed: it failed a check before ({reason})")]
    Suspended {
        /// Wallet index of the suspended co-signer.
        party: PartyIndex,
        /// Why it was suspended.
        reason: String,
    },
    /// A message whose signature does not verify under the claimed sender's identity key.
    ///
    /// Such a message may have been forged or altered in transit, so the claimed sender is not
    /// blamed; the message is dropped and the session can continue with the genuine one.
    #[error("message claiming to come from party {claimed_sender} failed authentication")]
    Unauthenticated {
        /// The sender the message claims.
        claimed_sender: PartyIndex,
    },
    /// A message that does not belong to this session or party (wrong session id, recipient or
    /// sender outside the session). It is dropped; nobody is blamed.
    #[error("message rejected: {0}")]
    Misrouted(String),
    /// The protocol failed without a party to blame (should not happen with honest inputs).
    #[error("protocol failed: {0}")]
    Protocol(String),
    /// The session has already produced its output or failed; it accepts nothing more.
    #[error("session is finished")]
    Finished,
    /// The produced signature did not verify under the group key.
    #[error("signature does not verify under the group key")]
    InvalidSignature,
    /// Decryption of a sealed envelope failed: wrong password or key, or tampered data.
    #[error("decryption failed: wrong password or key, or the data was altered")]
    Decryption,
    /// Bytes that do not decode to what was expected.
    #[error("malformed data: {0}")]
    Malformed(String),
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidParameters(_) => "invalid_parameters",
            Error::Blame { .. } => "party_misbehaved",
            Error::OtAbort { .. } => "ot_check_failed",
            Error::Suspended { .. } => "signing_suspended",
            Error::Unauthenticated { .. } => "unauthenticated_message",
            Error::Misrouted(_) => "misrouted_message",
            Error::Protocol(_) => "protocol_failed",
            Error::Finished => "session_finished",
            Error::InvalidSignature => "invalid_signature",
            Error::Decryption => "decryption_failed",
            Error::Malformed(_) => "malformed",
        }
    }

    /// The parties this error blames, if any.
    pub fn blamed(&self) -> &[PartyIndex] {
        match self {
            Error::Blame { parties, .. } => parties,
            Error::OtAbort { party, .. } => core::slice::from_ref(party),
            _ => &[],
        }
    }

    /// A serializable summary (code, message, blamed parties) to send across a process boundary.
    pub fn report(&self) -> ErrorReport {
        ErrorReport {
            code: self.code().to_owned(),
            message: self.to_string(),
            blamed: self.blamed().to_vec(),
        }
    }

    /// Whether this error ends a session, as opposed to one message being dropped (a message
    /// that fails authentication or is addressed elsewhere).
    pub fn is_fatal(&self) -> bool {
        crate::session::is_fatal(self)
    }

    pub(crate) fn blame(party: PartyIndex, reason: impl Into<String>) -> Self {
        Error::Blame {
            parties: vec![party],
            reason: reason.into(),
        }
    }

    pub(crate) fn malformed(what: impl core::fmt::Display) -> Self {
        Error::Malformed(what.to_string())
    }
}

/// Serializable form of an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// Stable code, as [`Error::code`].
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Wallet indices of blamed parties (empty if none).
    pub blamed: Vec<PartyIndex>,
}

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
