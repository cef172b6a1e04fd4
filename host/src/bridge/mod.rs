//! The signing bridge: a Dapp posts a signing request and gets a single-use token, a link and
//! its QR code; the user's signer opens the request with the token (logged in for the same
//! Dapp), sees the plugin's summary, and approves it by co-signing with the server, or rejects
//! it; the Dapp reads the result.
//!
//! A request moves `pending` → `opened` (its token is used up) → `signing` → `done` or
//! `failed`, or `opened` → `rejected`; a request not approved by `expires_at` is `expired`.
//! Results stay readable for [`RESULT_TTL_SECS`] after the request's expiry.
//!
//! Requests live in a [`Bridge`] store, in process or in Redis for several hosts. Whoever waits
//! for a request is woken by its changes ([`changes`]); a request's final status is posted to
//! the Dapp as a signed [`callback`], delivered at least once by [`delivery`].

pub mod callback;
pub mod changes;
pub mod delivery;
pub mod memory;
pub mod qr;
pub mod redis_store;
pub mod store;

use serde::{Deserialize, Serialize};

pub use store::{Bridge, TokenError, Unavailable, UpdateError};

/// How long a request's record (and result) is kept after it expires, seconds.
pub const RESULT_TTL_SECS: i64 = 3600;
/// A request's default and greatest time to live, seconds.
pub const DEFAULT_TTL_SECS: u64 = 300;
/// The greatest time to live a Dapp may ask for, seconds.
pub const MAX_TTL_SECS: u64 = 900;

/// Where a request is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BridgeState {
    /// Waiting for the signer to open it.
    Pending,
    /// Opened by `owner` (the user, scoped to the Dapp), who may approve or reject it.
    Opened {
        /// The user.
        owner: String,
    },
    /// Approved: the signing request `signing_id` of `owner`'s wallet carries it out.
    Signing {
        /// The user.
        owner: String,
        /// The signing request.
        signing_id: String,
    },
    /// Rejected by the user.
    Rejected {
        /// The user.
        owner: String,
        /// Why, in the user's words.
        reason: Option<String>,
    },
}

/// A Dapp's signing request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeRequest {
    /// Its id (`br_…`).
    pub id: String,
    /// The Dapp that made it.
    pub dapp: String,
    /// The registry's network.
    pub network: String,
    /// The request, as the network's plugin documents it.
    pub request: serde_json::Value,
    /// Where its result is posted, if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which it can no longer be opened or approved.
    pub expires_at: i64,
    /// Where it is.
    pub state: BridgeState,
}

/// Why a user's step was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The request is another user's.
    #[error("the bridge request was opened by another user")]
    NotYours,
    /// The request is not open for this step.
    #[error("the bridge request is {0}")]
    WrongState(&'static str),
    /// The request has expired.
    #[error("the bridge request has expired")]
    Expired,
    /// The signing does not match the request.
    #[error("{0}")]
    Mismatch(String),
}

impl BridgeRequest {
    /// The name of its state.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            BridgeState::Pending => "pending",
            BridgeState::Opened { .. } => "opened",
            BridgeState::Signing { .. } => "signing",
            BridgeState::Rejected { .. } => "rejected",
        }
    }

    fn opened_by(&self, owner: &str, now: i64) -> Result<(), StepError> {
        match &self.state {
            BridgeState::Opened { owner: o } if o == owner => {
                if self.expires_at <= now {
                    Err(StepError::Expired)
                } else {
                    Ok(())
                }
            }
            BridgeState::Opened { .. } => Err(StepError::NotYours),
            _ => Err(StepError::WrongState(self.state_name())),
        }
    }

    /// The signer `owner` opened it (its token was just used).
    pub fn open(&mut self, owner: &str) -> Result<(), StepError> {
        match self.state {
            BridgeState::Pending => {
                self.state = BridgeState::Opened {
                    owner: owner.to_owned(),
                };
                Ok(())
            }
            _ => Err(StepError::WrongState(self.state_name())),
        }
    }

    /// `owner` rejects it.
    pub fn reject(
        &mut self,
        owner: &str,
        reason: Option<String>,
        now: i64,
    ) -> Result<(), StepError> {
        self.opened_by(owner, now)?;
        self.state = BridgeState::Rejected {
            owner: owner.to_owned(),
            reason,
        };
        Ok(())
    }

    /// `owner` approves it by signing `network` and `request`, which must be the request's own.
    /// The signing id is filled in by [`BridgeRequest::signing_started`].
    pub fn approve(
        &mut self,
        owner: &str,
        network: &str,
        request: &serde_json::Value,
        now: i64,
    ) -> Result<(), StepError> {
        self.opened_by(owner, now)?;
        if network != self.network || *request != self.request {
            return Err(StepError::Mismatch(
                "the signing request differs from the bridge request".into(),
            ));
        }
        self.state = BridgeState::Signing {
            owner: owner.to_owned(),
            signing_id: String::new(),
        };
        Ok(())
    }

    /// The signing request of an approval exists.
    pub fn signing_started(&mut self, signing_id: &str) {
        if let BridgeState::Signing { signing_id: s, .. } = &mut self.state {
            *s = signing_id.to_owned();
        }
    }

    /// An approval whose signing could not start: back to opened.
    pub fn approval_failed(&mut self) {
        if let BridgeState::Signing { owner, signing_id } = &self.state {
            if signing_id.is_empty() {
                self.state = BridgeState::Opened {
                    owner: owner.clone(),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> BridgeRequest {
        BridgeRequest {
            id: "br_1".into(),
            dapp: "shop".into(),
            network: "solana".into(),
            request: serde_json::json!({"kind": "message", "message": "hi"}),
            callback_url: None,
            created_at: 0,
            expires_at: 100,
            state: BridgeState::Pending,
        }
    }

    #[test]
    fn steps_happen_in_order_and_only_for_the_opener() {
        let mut r = request();
        assert_eq!(
            r.reject("a", None, 1),
            Err(StepError::WrongState("pending"))
        );
        r.open("a").unwrap();
        assert!(r.open("b").is_err());
        assert_eq!(r.reject("b", None, 1), Err(StepError::NotYours));
        let other = serde_json::json!({"kind": "message", "message": "bye"});
        assert!(matches!(
            r.approve("a", "solana", &other, 1),
            Err(StepError::Mismatch(_))
        ));
        assert_eq!(
            r.approve("a", "solana", &request().request, 100),
            Err(StepError::Expired)
        );
        r.approve("a", "solana", &request().request, 1).unwrap();
        r.approval_failed();
        assert_eq!(r.state_name(), "opened");
        r.approve("a", "solana", &request().request, 1).unwrap();
        r.signing_started("s_1");
        r.approval_failed();
        assert_eq!(r.state_name(), "signing");
        assert_eq!(
            r.reject("a", None, 1),
            Err(StepError::WrongState("signing"))
        );
    }
}
