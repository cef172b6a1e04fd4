//! The host's own access tokens: short-lived JWTs (EdDSA over Ed25519) whose `sub` is the
//! logged-in subject. The first configured key signs; every configured key verifies and is
//! published at `/.well-known/jwks.json`, so keys rotate by adding a new key first and dropping
//! the old one once the tokens it signed have expired.
//!
//! A client sends its token with every request (a signature takes six), and checking its
//! signature is an Ed25519 verification (about 40 µs on the 2-core machine). The claims of a token
//! whose signature, issuer and audience were checked are kept, keyed by the token's SHA-256, until
//! it could no longer be valid; its times are checked again at every use, so a kept token still
//! expires on time. Keys only change with a restart, which empties the cache.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The audience of every access token the host mints.
pub const AUDIENCE: &str = "mpcw-api";
/// Clock skew tolerated when checking `exp`, `nbf` and `iat`, seconds.
pub const LEEWAY_SECS: u64 = 30;
/// Verified tokens kept at most (an entry is about 300 bytes).
const VERIFIED_CAPACITY: u64 = 100_000;

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The host (`token_issuer`).
    pub iss: String,
    /// The subject: provider-scoped, e.g. `oidc:google:1234` or `wechat:wx123:o6_b...`.
    pub sub: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not before, Unix seconds.
    pub nbf: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// A random id of this token.
    pub jti: String,
    /// The Dapp the user logged in for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dapp: Option<String>,
}

impl AccessClaims {
    /// What the caller's wallets and sessions are filed under: the subject, scoped to the Dapp.
    pub fn owner(&self) -> String {
        crate::auth::dapps::owner(&self.sub, self.dapp.as_deref())
    }
}

/// A token that was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A configured key is unusable.
    #[error("token key {0}")]
    BadKey(String),
    /// The token is not one of ours, or is expired, forged or malformed.
    #[error("{0}")]
    Rejected(String),
}

/// The signing key and the verifying keys of access tokens.
pub struct TokenKeys {
    issuer: String,
    ttl_secs: u64,
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    jwks: serde_json::Value,
    /// Claims of tokens whose signature, issuer and audience were checked, by the token's SHA-256.
    verified: moka::sync::Cache<[u8; 32], AccessClaims>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("signing_kid", &self.signing_kid)
            .field("kids", &self.verifying.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Parse `kid:<64 hex digits>` (an Ed25519 seed) into its id and signing key.
fn parse_key(text: &str) -> Result<(String, ed25519_dalek::SigningKey), TokenError> {
    let (kid, seed_hex) = text
        .trim()
        .split_once(':')
        .ok_or_else(|| TokenError::BadKey("must be `kid:<64 hex digits>`".into()))?;
    let kid_ok = !kid.is_empty()
        && kid.len() <= 64
        && kid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !kid_ok {
        return Err(TokenError::BadKey(format!(
            "id {kid:?}: use 1 to 64 letters, digits and -_."
        )));
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(seed_hex.trim(), seed.as_mut())
        .map_err(|_| TokenError::BadKey(format!("{kid}: the seed must be 64 hex digits")))?;
    Ok((kid.to_owned(), ed25519_dalek::SigningKey::from_bytes(&seed)))
}

impl TokenKeys {
    /// From `kid:<seed hex>` keys, the first of which signs; tokens name `issuer` and live
    /// `ttl_secs`.
    pub fn new(
        keys: &[Zeroizing<String>],
        issuer: &str,
        ttl_secs: u64,
    ) -> Result<Self, TokenError> {
        let mut parsed = Vec::new();
        for k in keys {
            let (kid, key) = parse_key(k)?;
            if parsed.iter().any(|(other, _)| *other == kid) {
                return Err(TokenError::BadKey(format!("{kid}: the id is used twice")));
            }
            parsed.push((kid, key));
        }
        let (signing_kid, first) = parsed
            .first()
            .ok_or_else(|| TokenError::BadKey("none is configured".into()))?;
        let der = first
            .to_pkcs8_der()
            .map_err(|e| TokenError::BadKey(format!("{signing_kid}: {e}")))?;
        let signing = EncodingKey::from_ed_der(der.as_bytes());
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut verifying = HashMap::new();
        let mut published = Vec::new();
        for (kid, key) in &parsed {
            let public = key.verifying_key().to_bytes();
            verifying.insert(kid.clone(), DecodingKey::from_ed_der(&public));
            published.push(serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                "kid": kid, "x": b64.encode(public),
            }));
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            ttl_secs,
            signing_kid: signing_kid.clone(),
            signing,
            verifying,
            jwks: serde_json::json!({ "keys": published }),
            // No token outlives its lifetime and the leeway, so neither does its entry.
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .time_to_live(Duration::from_secs(ttl_secs.saturating_add(LEEWAY_SECS)))
                .build(),
        })
    }

    /// A fresh access token for `subject` (logged in for `dapp`, if any) at `now`, and when it
    /// expires.
    pub fn mint(
        &self,
        subject: &str,
        dapp: Option<&str>,
        now: i64,
    ) -> Result<(Zeroizing<String>, i64), TokenError> {
        let exp = now + self.ttl_secs as i64;
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: subject.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            nbf: now,
            exp,
            jti: crate::state::random_id("at"),
            dapp: dapp.map(str::to_owned),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.signing_kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.signing)
            .map_err(|e| TokenError::BadKey(format!("{}: signing: {e}", self.signing_kid)))?;
        Ok((Zeroizing::new(token), exp))
    }

    /// The claims of `token` if it is one of ours: signed by a configured key (by `kid`), for
    /// our audience and issuer, and within its validity.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify_at(token, crate::state::now())
    }

    /// [`TokenKeys::verify`] at `now` (Unix seconds).
    fn verify_at(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let claims = match self.verified.get(&digest) {
            Some(claims) => claims,
            None => {
                let claims = self.verify_signature(token)?;
                self.verified.insert(digest, claims.clone());
                claims
            }
        };
        let leeway = LEEWAY_SECS as i64;
        if claims.exp < now - leeway {
            return Err(TokenError::Rejected("the access token has expired".into()));
        }
        if claims.nbf > now + leeway {
            return Err(TokenError::Rejected(
                "the access token is not valid yet".into(),
            ));
        }
        Ok(claims)
    }

    /// The claims of `token` if a configured key signed it, for our audience and issuer; its
    /// times are left to the caller.
    fn verify_signature(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let reject = |m: &str| TokenError::Rejected(m.to_owned());
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| reject("the access token is not a JWT"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(reject("the access token is not signed with EdDSA"));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or_else(|| reject("the access token names no key"))?;
        let key = self
            .verifying
            .get(kid)
            .ok_or_else(|| reject("the access token's key is not one of this server's"))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        // Checked by the caller at every use, the token's first included.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
            .map_err(|e| TokenError::Rejected(format!("the access token is not valid: {e}")))?;
        Ok(data.claims)
    }

    /// The public keys, as a JWK set.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }
}

/// A new `kid:<seed hex>` key with a random seed, its id made from the date-free `prefix` and
/// the first bytes of the public key.
pub fn generate_key(prefix: &str) -> Zeroizing<String> {
    let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let kid = format!(
        "{prefix}-{}",
        hex::encode(&key.verifying_key().to_bytes()[..4])
    );
    Zeroizing::new(format!("{kid}:{}", hex::encode(key.to_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> TokenKeys {
        let list: Vec<_> = list.iter().map(|k| Zeroizing::new(k.to_string())).collect();
        TokenKeys::new(&list, "https://mpcw.test", 60).unwrap()
    }

    const A: &str = "a:0101010101010101010101010101010101010101010101010101010101010101";
    const B: &str = "b:0202020202020202020202020202020202020202020202020202020202020202";

    #[test]
    fn tokens_verify_across_a_rotation_and_only_then() {
        let old = keys(&[A]);
        let (token, _) = old.mint("dev:alice", None, crate::state::now()).unwrap();
        // The next key signs; the old one still verifies what it signed.
        let rotated = keys(&[B, A]);
        assert_eq!(rotated.verify(&token).unwrap().sub, "dev:alice");
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
        // Once the old key is dropped, its tokens are refused.
        let e = keys(&[B]).verify(&token).unwrap_err().to_string();
        assert!(e.contains("not one of this server's"), "{e}");
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let k = keys(&[A]);
        let (old, _) = k.mint("dev:bob", None, crate::state::now() - 3600).unwrap();
        assert!(k.verify(&old).unwrap_err().to_string().contains("expired"));
        let (token, _) = k.mint("dev:bob", None, crate::state::now()).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let forged = b64.encode(
            String::from_utf8(b64.decode(parts[1]).unwrap())
                .unwrap()
                .replace("dev:bob", "dev:eve"),
        );
        parts[1] = &forged;
        assert!(k.verify(&parts.join(".")).is_err());
        let other = TokenKeys::new(&[Zeroizing::new(A.into())], "https://elsewhere", 60).unwrap();
        let (theirs, _) = other.mint("dev:bob", None, crate::state::now()).unwrap();
        assert!(k.verify(&theirs).is_err());
        assert!(k.verify("not.a.jwt").is_err());
    }

    #[test]
    fn a_kept_token_still_expires_and_a_changed_one_is_checked_again() {
        let k = keys(&[A]);
        let now = crate::state::now();
        let (token, exp) = k.mint("dev:carol", None, now).unwrap();
        assert_eq!(k.verify_at(&token, now).unwrap().sub, "dev:carol");
        k.verified.run_pending_tasks();
        assert_eq!(k.verified.entry_count(), 1);
        // Kept, it is still good until its expiry and the leeway, and not after.
        let last = exp + LEEWAY_SECS as i64;
        assert_eq!(k.verify_at(&token, last).unwrap().sub, "dev:carol");
        let e = k.verify_at(&token, last + 1).unwrap_err().to_string();
        assert!(e.contains("expired"), "{e}");
        // Nor before its start (a clock set back).
        let e = k
            .verify_at(&token, now - LEEWAY_SECS as i64 - 1)
            .unwrap_err();
        assert!(e.to_string().contains("not valid yet"), "{e}");
        // A token that differs from the kept one in its signature's first character is verified
        // anew, and refused.
        let at = token.rfind('.').unwrap() + 1;
        let swapped = if token.as_bytes()[at] == b'A' {
            "B"
        } else {
            "A"
        };
        let forged = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert!(k.verify_at(&forged, now).is_err());
        // Refused tokens are not kept.
        assert!(k.verify_at("not.a.jwt", now).is_err());
        k.verified.run_pending_tasks();
        assert_eq!(k.verified.entry_count(), 1);
    }

    #[test]
    fn bad_keys_are_named() {
        let bad = |k: &str| {
            TokenKeys::new(&[Zeroizing::new(k.into())], "i", 60)
                .unwrap_err()
                .to_string()
        };
        assert!(bad("nocolon").contains("kid:"));
        assert!(bad("a:12").contains("64 hex digits"));
        assert!(bad("a b:0101").contains("letters"));
        let dup = [Zeroizing::new(A.to_string()), Zeroizing::new(A.to_string())];
        assert!(TokenKeys::new(&dup, "i", 60).is_err());
    }
}
