//! Dapps registered with the host. A user logs in *for* a Dapp (or for none, the host's own
//! signer); the access token carries the Dapp's id, and everything the user makes with it is
//! filed under the Dapp and the subject together, so one Dapp can never see or use another's
//! wallets. Each Dapp has allowed browser origins, a callback URL for the bridge, and an API
//! secret that the configuration keeps only as its SHA-256.

use std::collections::HashMap;

use rand_core::RngCore as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// One Dapp, as the configuration names it (`[[dapps]]`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DappConfig {
    /// Short id: lower-case letters, digits and `-`.
    pub id: String,
    /// Display name, shown to users.
    pub name: String,
    /// Browser origins (`https://app.example.com`) allowed to log users in for this Dapp; empty
    /// means requests from browsers are refused, servers and apps may still log in.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Where the bridge posts results.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// SHA-256 of the Dapp's API secret, 64 hex digits (`mpcw dapp new` makes both).
    pub api_secret_sha256: String,
}

/// Why a Dapp was refused.
#[derive(Debug, thiserror::Error)]
pub enum DappError {
    /// No Dapp has this id.
    #[error("no Dapp {0:?} is registered")]
    Unknown(String),
    /// The browser origin is not one of the Dapp's.
    #[error("origin {origin:?} is not allowed for Dapp {dapp:?}")]
    Origin {
        /// The Dapp.
        dapp: String,
        /// The request's origin.
        origin: String,
    },
    /// A configuration entry is invalid.
    #[error("dapp {0}")]
    Invalid(String),
}

/// The registered Dapps.
#[derive(Debug, Default)]
pub struct Dapps {
    by_id: HashMap<String, DappConfig>,
}

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The SHA-256 of an API secret, as the configuration keeps it.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new API secret (256 random bits, hex) and its hash.
pub fn new_secret() -> (Zeroizing<String>, String) {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand_core::OsRng.fill_bytes(bytes.as_mut());
    let secret = Zeroizing::new(format!("mpcw_sk_{}", hex::encode(bytes.as_ref())));
    let hash = secret_hash(&secret);
    (secret, hash)
}

impl Dapps {
    /// The registry of `list`, each entry checked.
    pub fn new(list: &[DappConfig]) -> Result<Self, DappError> {
        let mut by_id = HashMap::new();
        for d in list {
            if !id_ok(&d.id) {
                return Err(DappError::Invalid(format!(
                    "id {:?}: use 1 to 64 lower-case letters, digits and '-'",
                    d.id
                )));
            }
            if d.api_secret_sha256.len() != 64 || hex::decode(&d.api_secret_sha256).is_err() {
                return Err(DappError::Invalid(format!(
                    "{}: api_secret_sha256 must be 64 hex digits",
                    d.id
                )));
            }
            let urls = d.allowed_origins.iter().chain(d.callback_url.as_ref());
            if let Some(bad) = urls
                .into_iter()
                .find(|u| !crate::auth::oidc::allowed_url(u))
            {
                return Err(DappError::Invalid(format!(
                    "{}: {bad:?} must be an https URL (http only on loopback)",
                    d.id
                )));
            }
            if by_id.insert(d.id.clone(), d.clone()).is_some() {
                return Err(DappError::Invalid(format!("{}: registered twice", d.id)));
            }
        }
        Ok(Self { by_id })
    }

    /// The Dapp `id`.
    pub fn get(&self, id: &str) -> Result<&DappConfig, DappError> {
        self.by_id
            .get(id)
            .ok_or_else(|| DappError::Unknown(id.chars().take(64).collect()))
    }

    /// Check that a login for Dapp `id` may come from `origin` (the request's `Origin` header,
    /// present on browser requests).
    pub fn check_login(&self, id: &str, origin: Option<&str>) -> Result<&DappConfig, DappError> {
        let dapp = self.get(id)?;
        if let Some(origin) = origin {
            let origin = origin.trim_end_matches('/');
            if !dapp
                .allowed_origins
                .iter()
                .any(|o| o.trim_end_matches('/') == origin)
            {
                return Err(DappError::Origin {
                    dapp: dapp.id.clone(),
                    origin: origin.chars().take(256).collect(),
                });
            }
        }
        Ok(dapp)
    }

    /// Whether `secret` is Dapp `id`'s API secret (compared in constant time).
    pub fn check_secret(&self, id: &str, secret: &str) -> bool {
        let Ok(dapp) = self.get(id) else {
            return false;
        };
        let given = Sha256::digest(secret.as_bytes());
        let Ok(stored) = hex::decode(&dapp.api_secret_sha256) else {
            return false;
        };
        given.len() == stored.len()
            && given
                .iter()
                .zip(&stored)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// What wallets and sessions are filed under: the subject, scoped to the Dapp the token is for.
pub fn owner(subject: &str, dapp: Option<&str>) -> String {
    match dapp {
        Some(d) => format!("dapp/{d}/{subject}"),
        None => subject.to_owned(),
    }
}

/// The Dapp of an owner made by [`owner`], if any.
pub fn owner_dapp(owner: &str) -> Option<&str> {
    owner.strip_prefix("dapp/")?.split_once('/').map(|(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dapp(id: &str) -> (DappConfig, Zeroizing<String>) {
        let (secret, hash) = new_secret();
        let config = DappConfig {
            id: id.into(),
            name: "Test".into(),
            allowed_origins: vec!["https://app.example.com".into()],
            callback_url: Some("https://api.example.com/cb".into()),
            api_secret_sha256: hash,
        };
        (config, secret)
    }

    #[test]
    fn origins_secrets_and_owners() {
        let (a, secret) = dapp("shop");
        let dapps = Dapps::new(&[a]).unwrap();
        assert!(dapps.check_login("shop", None).is_ok());
        assert!(dapps
            .check_login("shop", Some("https://app.example.com"))
            .is_ok());
        let e = dapps
            .check_login("shop", Some("https://evil.example"))
            .unwrap_err();
        assert!(e.to_string().contains("not allowed"));
        assert!(matches!(
            dapps.check_login("other", None),
            Err(DappError::Unknown(_))
        ));
        assert!(dapps.check_secret("shop", &secret));
        assert!(!dapps.check_secret("shop", "mpcw_sk_wrong"));
        assert!(!dapps.check_secret("other", &secret));
        assert_eq!(owner("dev:alice", Some("shop")), "dapp/shop/dev:alice");
        assert_eq!(owner("dev:alice", None), "dev:alice");
        assert_eq!(owner_dapp(&owner("oidc:g:1/2", Some("shop"))), Some("shop"));
        assert_eq!(owner_dapp("dev:alice"), None);
    }

    #[test]
    fn bad_entries_are_refused() {
        let (mut a, _) = dapp("Shop");
        assert!(Dapps::new(&[a.clone()]).is_err());
        a.id = "shop".into();
        a.callback_url = Some("http://api.example.com/cb".into());
        assert!(Dapps::new(&[a.clone()]).is_err());
        a.callback_url = None;
        a.api_secret_sha256 = "00".into();
        assert!(Dapps::new(&[a.clone()]).is_err());
        let (b, _) = dapp("shop");
        assert!(Dapps::new(&[b.clone(), b]).is_err());
    }
}
