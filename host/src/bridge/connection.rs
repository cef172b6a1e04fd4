//! A Dapp's connection to a user's accounts: made when the user approves a connect request,
//! it names one wallet (and its address) per network the Dapp asked for. The Dapp may name it
//! in later requests, which are then for that wallet only; it ends at its expiry, or when the
//! user or the Dapp revokes it. Connections live in the database ([`crate::store`]).

use serde::{Deserialize, Serialize};

/// A connection's default life, seconds (7 days).
pub const DEFAULT_CONNECTION_TTL_SECS: u64 = 7 * 24 * 3600;
/// The longest life a Dapp may ask for, seconds (30 days).
pub const MAX_CONNECTION_TTL_SECS: u64 = 30 * 24 * 3600;
/// The most networks one connect request may ask for.
pub const MAX_CONNECT_NETWORKS: usize = 16;

/// One connected account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The registry's network.
    pub network: String,
    /// The user's wallet.
    pub wallet_id: String,
    /// The wallet's address on the network, as its plugin writes it first.
    pub address: String,
}

/// A connection as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// Its id (`cn_…`).
    pub id: String,
    /// The Dapp it was made for.
    pub dapp: String,
    /// The user (scoped to the Dapp).
    pub owner: String,
    /// One account per network asked for.
    pub accounts: Vec<Account>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which it may no longer be used.
    pub expires_at: i64,
    /// Unix seconds when it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// Why a connection may not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// The user or the Dapp revoked it.
    #[error("connection {0} was revoked")]
    Revoked(String),
    /// Its time ran out.
    #[error("connection {0} has expired")]
    Expired(String),
    /// It has no account on the network.
    #[error("connection {0} has no account on network {1}")]
    NotConnected(String, String),
}

impl Connection {
    /// `active`, `revoked` or `expired` at `now`.
    pub fn status(&self, now: i64) -> &'static str {
        match self.usable(now) {
            Ok(()) => "active",
            Err(ConnectionError::Revoked(_)) => "revoked",
            Err(_) => "expired",
        }
    }

    /// Whether it may be used at `now`.
    pub fn usable(&self, now: i64) -> Result<(), ConnectionError> {
        if self.revoked_at.is_some() {
            Err(ConnectionError::Revoked(self.id.clone()))
        } else if self.expires_at <= now {
            Err(ConnectionError::Expired(self.id.clone()))
        } else {
            Ok(())
        }
    }

    /// Its account on `network`, if it may be used at `now`.
    pub fn account(&self, network: &str, now: i64) -> Result<&Account, ConnectionError> {
        self.usable(now)?;
        self.accounts
            .iter()
            .find(|a| a.network == network)
            .ok_or_else(|| ConnectionError::NotConnected(self.id.clone(), network.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        Connection {
            id: "cn_1".into(),
            dapp: "shop".into(),
            owner: "dapp/shop/alice".into(),
            accounts: vec![Account {
                network: "solana".into(),
                wallet_id: "w_1".into(),
                address: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T".into(),
            }],
            created_at: 0,
            expires_at: 100,
            revoked_at: None,
        }
    }

    #[test]
    fn a_connection_serves_its_networks_until_it_expires_or_is_revoked() {
        let mut c = connection();
        assert_eq!(c.account("solana", 99).unwrap().wallet_id, "w_1");
        assert_eq!(c.status(99), "active");
        assert_eq!(
            c.account("ethereum", 99),
            Err(ConnectionError::NotConnected(
                "cn_1".into(),
                "ethereum".into()
            ))
        );
        assert_eq!(
            c.account("solana", 100),
            Err(ConnectionError::Expired("cn_1".into()))
        );
        assert_eq!(c.status(100), "expired");
        c.revoked_at = Some(50);
        assert_eq!(
            c.account("solana", 60),
            Err(ConnectionError::Revoked("cn_1".into()))
        );
        assert_eq!(c.status(200), "revoked");
    }
}
