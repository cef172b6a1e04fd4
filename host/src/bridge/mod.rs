//! The signing bridge: a Dapp posts a request and gets a single-use token, a link and its QR
//! code; the user's signer opens the request with the token (logged in for the same Dapp), and
//! approves or rejects it; the Dapp reads the result. A request asks for one of two things:
//!
//! - **connect**: the user's accounts on named networks. The user picks the wallets; the Dapp
//!   gets the addresses and a [`connection`] it may name in later requests.
//! - **sign**: a chain request, as the network's plugin documents it. The user sees the plugin's
//!   summary and approves by co-signing with the server. A request that names a connection is
//!   for that connection's wallet only.
//!
//! A request moves `pending` → `opened` (its token is used up) → `signing` → `done` or
//! `failed` (a connect request: `opened` → `done` once connected), or `opened` → `rejected`; a
//! request not approved by `expires_at` is `expired`. Results stay readable for
//! [`RESULT_TTL_SECS`] after the request's expiry.
//!
//! Requests live in a [`Bridge`] store, in process or in Redis for several hosts. Whoever waits
//! for a request is woken by its changes ([`changes`]); a request's final status is posted to
//! the Dapp as a signed [`callback`], delivered at least once by [`delivery`].

pub mod callback;
pub mod changes;
pub mod connection;
pub mod delivery;
pub mod entries;
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
    /// A connect request approved: the user's connection `connection_id` answers it.
    Connected {
        /// The user.
        owner: String,
        /// The connection made.
        connection_id: String,
    },
    /// Rejected by the user.
    Rejected {
        /// The user.
        owner: String,
        /// Why, in the user's words.
        reason: Option<String>,
    },
}

/// What a connect request asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectAsk {
    /// The registry's networks whose accounts the Dapp asks for (at least one, no repeats).
    pub networks: Vec<String>,
    /// How long the connection lasts once made, seconds.
    pub connection_ttl_secs: u64,
}

/// The connection a signing request names: only its owner may open the request, and only with
/// its wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRef {
    /// The connection's id (`cn_…`).
    pub id: String,
    /// Its user.
    pub owner: String,
    /// The wallet it connects on the request's network.
    pub wallet_id: String,
}

/// The broadcast a signing request asks for, once it is signed: the network's node gets the
/// signed transaction once, from one host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Broadcast {
    /// To be sent once signed.
    Asked,
    /// Being sent.
    Sending,
    /// The node took it.
    Sent {
        /// The transaction's id, as the node gave it.
        tx_id: String,
    },
    /// The node refused it, or could not be reached (it may then have it or not).
    NotSent {
        /// Why, in the node's words where it gave any.
        message: String,
    },
}

/// A Dapp's bridge request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeRequest {
    /// Its id (`br_…`).
    pub id: String,
    /// The Dapp that made it.
    pub dapp: String,
    /// The registry's network (of a connect request: the first one it asks for).
    pub network: String,
    /// The request, as the network's plugin documents it (of a connect request: its
    /// [`ConnectAsk`]).
    pub request: serde_json::Value,
    /// Set on a connect request: what it asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<ConnectAsk>,
    /// Set on a signing request that names a connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionRef>,
    /// The fields the host filled in from the network's node (already in `request`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filled: Vec<crate::nodes::FilledField>,
    /// Set when the signed transaction is to be broadcast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<Broadcast>,
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
            BridgeState::Connected { .. } => "done",
            BridgeState::Rejected { .. } => "rejected",
        }
    }

    /// `connect` or `sign`.
    pub fn action(&self) -> &'static str {
        if self.connect.is_some() {
            "connect"
        } else {
            "sign"
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

    /// `owner` approves it by signing `network` and `request` with wallet `wallet_id`: they must
    /// be the request's own, and the wallet its connection's if it names one. The signing id is
    /// filled in by [`BridgeRequest::signing_started`].
    pub fn approve(
        &mut self,
        owner: &str,
        wallet_id: &str,
        network: &str,
        request: &serde_json::Value,
        now: i64,
    ) -> Result<(), StepError> {
        self.opened_by(owner, now)?;
        if self.connect.is_some() {
            return Err(StepError::Mismatch(
                "a connect request is approved by connecting wallets, not by signing".into(),
            ));
        }
        if network != self.network || *request != self.request {
            return Err(StepError::Mismatch(
                "the signing request differs from the bridge request".into(),
            ));
        }
        if let Some(c) = self
            .connection
            .as_ref()
            .filter(|c| c.wallet_id != wallet_id)
        {
            return Err(StepError::Mismatch(format!(
                "the bridge request is for wallet {} of connection {}",
                c.wallet_id, c.id
            )));
        }
        self.state = BridgeState::Signing {
            owner: owner.to_owned(),
            signing_id: String::new(),
        };
        Ok(())
    }

    /// `owner` approves a connect request: connection `connection_id` answers it.
    pub fn connected(
        &mut self,
        owner: &str,
        connection_id: &str,
        now: i64,
    ) -> Result<(), StepError> {
        self.opened_by(owner, now)?;
        if self.connect.is_none() {
            return Err(StepError::Mismatch(
                "a signing request is approved by signing it, not by connecting".into(),
            ));
        }
        self.state = BridgeState::Connected {
            owner: owner.to_owned(),
            connection_id: connection_id.to_owned(),
        };
        Ok(())
    }

    /// Take the broadcast on: true if it was asked and not yet taken by anyone.
    pub fn claim_broadcast(&mut self) -> bool {
        if self.broadcast == Some(Broadcast::Asked) {
            self.broadcast = Some(Broadcast::Sending);
            true
        } else {
            false
        }
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
            connect: None,
            connection: None,
            filled: Vec::new(),
            broadcast: None,
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
            r.approve("a", "w_1", "solana", &other, 1),
            Err(StepError::Mismatch(_))
        ));
        assert_eq!(
            r.approve("a", "w_1", "solana", &request().request, 100),
            Err(StepError::Expired)
        );
        r.approve("a", "w_1", "solana", &request().request, 1)
            .unwrap();
        r.approval_failed();
        assert_eq!(r.state_name(), "opened");
        r.approve("a", "w_1", "solana", &request().request, 1)
            .unwrap();
        r.signing_started("s_1");
        r.approval_failed();
        assert_eq!(r.state_name(), "signing");
        assert_eq!(
            r.reject("a", None, 1),
            Err(StepError::WrongState("signing"))
        );
        assert!(matches!(
            r.connected("a", "cn_1", 1),
            Err(StepError::WrongState("signing"))
        ));
    }

    #[test]
    fn a_connect_request_is_answered_by_a_connection_only() {
        let mut r = BridgeRequest {
            connect: Some(ConnectAsk {
                networks: vec!["solana".into()],
                connection_ttl_secs: 60,
            }),
            ..request()
        };
        r.open("a").unwrap();
        assert!(matches!(
            r.approve("a", "w_1", "solana", &request().request, 1),
            Err(StepError::Mismatch(_))
        ));
        assert_eq!(r.connected("b", "cn_1", 1), Err(StepError::NotYours));
        assert_eq!(r.connected("a", "cn_1", 100), Err(StepError::Expired));
        r.connected("a", "cn_1", 1).unwrap();
        assert_eq!((r.state_name(), r.action()), ("done", "connect"));
        assert_eq!(r.reject("a", None, 1), Err(StepError::WrongState("done")));
        // A signing request is not answered by a connection.
        let mut s = request();
        s.open("a").unwrap();
        assert!(matches!(
            s.connected("a", "cn_1", 1),
            Err(StepError::Mismatch(_))
        ));
    }

    #[test]
    fn a_request_naming_a_connection_is_signed_with_its_wallet_only() {
        let mut r = BridgeRequest {
            connection: Some(ConnectionRef {
                id: "cn_1".into(),
                owner: "a".into(),
                wallet_id: "w_1".into(),
            }),
            ..request()
        };
        r.open("a").unwrap();
        assert!(matches!(
            r.approve("a", "w_2", "solana", &request().request, 1),
            Err(StepError::Mismatch(m)) if m.contains("w_1")
        ));
        r.approve("a", "w_1", "solana", &request().request, 1)
            .unwrap();
    }
}
