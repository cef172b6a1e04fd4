//! Login nonces: what binds an OpenID Connect login to the Dapp it is for.
//!
//! Before sending the user to the identity provider, the page asks the host for a nonce for its
//! Dapp (or for none, the host's own signer) and passes it to the provider, which copies it into
//! the ID token it signs. The host then accepts the ID token only for that Dapp. An ID token
//! that one Dapp has seen cannot be replayed to log the user in for another, whatever `Origin`
//! the replay claims: the nonce inside it names the first Dapp, and the provider's signature
//! covers it.
//!
//! A nonce is `n1.<dapp>.<expiry>.<random>.<mac>`: the Dapp's id (empty for none), its expiry
//! in Unix seconds, 128 random bits, and an HMAC-SHA256 over them under a key derived from the
//! host's key-encryption key, so the host keeps no state and every host sharing the KEK accepts
//! it.

use hmac::{Hmac, Mac};
use rand_core::RngCore as _;
use sha2::Sha256;

/// How long a nonce may be used, seconds: long enough for a user at the provider's login page.
pub const NONCE_TTL_SECS: i64 = 600;

type HmacSha256 = Hmac<Sha256>;

/// Why an ID token's nonce does not allow the login.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// The ID token carries no nonce.
    #[error(
        "the ID token carries no login nonce: get one from POST /v1/auth/oidc/nonce for the \
         Dapp and pass it to the identity provider"
    )]
    Missing,
    /// The nonce is not one this host made.
    #[error("the ID token's nonce was not made by this server")]
    Forged,
    /// The nonce's time is up.
    #[error("the ID token's login nonce has expired")]
    Expired,
    /// The nonce is for another Dapp.
    #[error("the ID token was obtained for {issued_for}, not for {login_for}")]
    OtherDapp {
        /// What the nonce names.
        issued_for: String,
        /// What the login names.
        login_for: String,
    },
}

/// Makes and checks login nonces.
pub struct LoginNonces {
    key: [u8; 32],
}

fn describe(dapp: Option<&str>) -> String {
    match dapp {
        Some(d) => format!("Dapp {d:?}"),
        None => "the server's own signer".into(),
    }
}

impl LoginNonces {
    /// Nonces keyed from the host's key-encryption key.
    pub fn new(kek: &[u8; 32]) -> Self {
        let mut mac = HmacSha256::new_from_slice(kek).expect("HMAC takes any key length");
        mac.update(b"mpcw login nonce key v1");
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    fn mac(&self, dapp: &str, expiry: i64, random: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(dapp.as_bytes());
        mac.update(b"\0");
        mac.update(expiry.to_string().as_bytes());
        mac.update(b"\0");
        mac.update(random.as_bytes());
        mac
    }

    /// A nonce for logins for `dapp` (`None`: the server's own signer), and when it expires.
    pub fn issue(&self, dapp: Option<&str>, now: i64) -> (String, i64) {
        let mut random = [0u8; 16];
        rand_core::OsRng.fill_bytes(&mut random);
        let random = hex::encode(random);
        let dapp = dapp.unwrap_or("");
        let expiry = now + NONCE_TTL_SECS;
        let mac = hex::encode(self.mac(dapp, expiry, &random).finalize().into_bytes());
        (format!("n1.{dapp}.{expiry}.{random}.{mac}"), expiry)
    }

    /// Whether `nonce` (the ID token's claim) allows a login for `dapp` at `now`.
    pub fn check(
        &self,
        nonce: Option<&str>,
        dapp: Option<&str>,
        now: i64,
    ) -> Result<(), NonceError> {
        let nonce = nonce.ok_or(NonceError::Missing)?;
        let parts: Vec<&str> = nonce.split('.').collect();
        let [version, issued_for, expiry, random, mac] = parts[..] else {
            return Err(NonceError::Forged);
        };
        let expiry: i64 = expiry.parse().map_err(|_| NonceError::Forged)?;
        let given = hex::decode(mac).map_err(|_| NonceError::Forged)?;
        // Compared in constant time.
        let ours = self.mac(issued_for, expiry, random).verify_slice(&given);
        if version != "n1" || ours.is_err() {
            return Err(NonceError::Forged);
        }
        if now > expiry {
            return Err(NonceError::Expired);
        }
        let issued_for = (!issued_for.is_empty()).then_some(issued_for);
        if issued_for != dapp {
            return Err(NonceError::OtherDapp {
                issued_for: describe(issued_for),
                login_for: describe(dapp),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_allows_logins_for_its_dapp_only_and_until_it_expires() {
        let nonces = LoginNonces::new(&[3u8; 32]);
        let (shop, expiry) = nonces.issue(Some("shop"), 1_000);
        assert_eq!(expiry, 1_000 + NONCE_TTL_SECS);
        assert_eq!(nonces.check(Some(&shop), Some("shop"), 1_100), Ok(()));
        assert!(matches!(
            nonces.check(Some(&shop), Some("game"), 1_100),
            Err(NonceError::OtherDapp { .. })
        ));
        assert!(matches!(
            nonces.check(Some(&shop), None, 1_100),
            Err(NonceError::OtherDapp { .. })
        ));
        assert_eq!(
            nonces.check(Some(&shop), Some("shop"), expiry + 1),
            Err(NonceError::Expired)
        );
        let (own, _) = nonces.issue(None, 1_000);
        assert_eq!(nonces.check(Some(&own), None, 1_000), Ok(()));
        assert_eq!(nonces.check(None, None, 1_000), Err(NonceError::Missing));
        // Renaming the Dapp, stretching the expiry, or another host's key: not ours.
        let renamed = shop.replacen(".shop.", ".game.", 1);
        let stretched = shop.replacen(&expiry.to_string(), &(expiry + 9_000).to_string(), 1);
        for forged in [renamed.as_str(), stretched.as_str(), "n1.shop.1.2.3", "x"] {
            assert_eq!(
                nonces.check(Some(forged), Some("shop"), 1_100),
                Err(NonceError::Forged),
                "{forged}"
            );
        }
        let elsewhere = LoginNonces::new(&[4u8; 32]);
        assert_eq!(
            elsewhere.check(Some(&shop), Some("shop"), 1_100),
            Err(NonceError::Forged)
        );
    }
}
