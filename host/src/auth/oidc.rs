//! OpenID Connect ID tokens from configured issuers, checked against the issuer's published
//! keys (JWKS), following RFC 8725: only RS256, ES256 and EdDSA (never `none`, never an HMAC
//! secret, so an RSA public key cannot be turned into one), the key picked by `kid` and its
//! type matched to the algorithm, and `iss`, `aud`, `exp`, `nbf` and `iat` checked with a small
//! leeway.
//!
//! The key set is fetched over HTTPS (plain HTTP is allowed on loopback only, for local
//! development and tests), from `jwks_uri` or the issuer's discovery document, kept for an
//! hour, and fetched again when a token names a key it does not have (the issuer rotated), at
//! most once every [`REFETCH_INTERVAL`] so that made-up key ids cannot make us hammer the issuer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

pub mod code;

/// How long a fetched key set is used before it is fetched again.
pub const JWKS_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches of one issuer's keys, unless the provider sets its own.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// Clock skew tolerated on `exp`, `nbf` and `iat`, seconds.
pub const LEEWAY_SECS: u64 = 60;
/// The largest discovery document or key set read, bytes.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// One identity provider, as the configuration names it (`[[oidc]]`).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    /// Short name used in the API and in subjects (`oidc:<name>:<sub>`).
    pub name: String,
    /// The issuer, exactly as its tokens' `iss` says.
    pub issuer: String,
    /// Accepted audiences (our client ids at the issuer).
    pub audiences: Vec<String>,
    /// The key set's URL; by default the `jwks_uri` of `<issuer>/.well-known/openid-configuration`.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// The least time between two fetches of the key set, seconds (default 30).
    #[serde(default)]
    pub refetch_interval_secs: Option<u64>,
    /// The web signer's client id at the issuer: with it, the signer offers a button that logs
    /// in with the authorization code flow and PKCE (see [`code`]). One of `audiences`.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The client's secret, for issuers that require one at their token endpoint (it stays on
    /// the server, which redeems the code).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The button's text (default: the name).
    #[serde(default)]
    pub label: Option<String>,
    /// The authorization endpoint; by default the discovery document's.
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// The token endpoint; by default the discovery document's.
    #[serde(default)]
    pub token_endpoint: Option<String>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<set>"),
            )
            .finish_non_exhaustive()
    }
}

impl OidcProvider {
    fn refetch_interval(&self) -> Duration {
        self.refetch_interval_secs
            .map_or(REFETCH_INTERVAL, Duration::from_secs)
    }
}

/// Why an ID token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// No provider of that name is configured.
    #[error("no identity provider named {0:?} is configured")]
    UnknownProvider(String),
    /// The token is malformed, forged, expired, or for someone else.
    #[error("{0}")]
    Rejected(String),
    /// The issuer's keys could not be fetched.
    #[error("the identity provider's keys are unavailable: {0}")]
    Unavailable(String),
}

/// The claims of an accepted ID token that the host uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdClaims {
    /// The issuer.
    pub iss: String,
    /// The user's stable id at the issuer.
    pub sub: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// The nonce the login page passed to the provider (see [`crate::auth::nonce`]).
    #[serde(default)]
    pub nonce: Option<String>,
}

struct KeyCache {
    jwks_uri: Option<String>,
    keys: Vec<(Option<String>, Algorithm, DecodingKey)>,
    fetched: Option<Instant>,
}

struct Provider {
    config: OidcProvider,
    cache: tokio::sync::Mutex<KeyCache>,
    /// The code flow's endpoints, once known.
    endpoints: tokio::sync::OnceCell<code::Endpoints>,
}

/// Verifies ID tokens of the configured providers.
pub struct OidcVerifier {
    providers: HashMap<String, Provider>,
    http: reqwest::Client,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Whether `url` may be fetched: HTTPS, or HTTP to a loopback host.
pub fn allowed_url(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    match u.scheme() {
        "https" => true,
        "http" => match u.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        },
        _ => false,
    }
}

/// The algorithms an ID token may use, and the key type each needs.
fn accepted(alg: Algorithm, key: &AlgorithmParameters) -> bool {
    matches!(
        (alg, key),
        (Algorithm::RS256, AlgorithmParameters::RSA(_))
            | (Algorithm::ES256, AlgorithmParameters::EllipticCurve(_))
            | (Algorithm::EdDSA, AlgorithmParameters::OctetKeyPair(_))
    )
}

fn algorithm_of(alg: &KeyAlgorithm) -> Option<Algorithm> {
    match alg {
        KeyAlgorithm::RS256 => Some(Algorithm::RS256),
        KeyAlgorithm::ES256 => Some(Algorithm::ES256),
        KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
        _ => None,
    }
}

/// The usable signing keys of a key set: RSA, P-256 and Ed25519 keys for signatures, each with
/// the one algorithm it may verify.
fn usable_keys(set: &JwkSet) -> Vec<(Option<String>, Algorithm, DecodingKey)> {
    let mut out = Vec::new();
    for jwk in &set.keys {
        if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
            continue;
        }
        let alg = match (&jwk.common.key_algorithm, &jwk.algorithm) {
            (Some(a), _) => algorithm_of(a),
            (None, AlgorithmParameters::RSA(_)) => Some(Algorithm::RS256),
            (None, AlgorithmParameters::EllipticCurve(p)) => {
                (p.curve == jsonwebtoken::jwk::EllipticCurve::P256).then_some(Algorithm::ES256)
            }
            (None, AlgorithmParameters::OctetKeyPair(p)) => {
                (p.curve == jsonwebtoken::jwk::EllipticCurve::Ed25519).then_some(Algorithm::EdDSA)
            }
            (None, _) => None,
        };
        let Some(alg) = alg.filter(|a| accepted(*a, &jwk.algorithm)) else {
            continue;
        };
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            out.push((jwk.common.key_id.clone(), alg, key));
        }
    }
    out
}

impl OidcVerifier {
    /// A verifier for `providers`; their URLs must be HTTPS (or HTTP on loopback).
    pub fn new(providers: &[OidcProvider]) -> anyhow::Result<Self> {
        let mut map = HashMap::new();
        for p in providers {
            let urls = [
                Some(&p.issuer),
                p.jwks_uri.as_ref(),
                p.authorization_endpoint.as_ref(),
                p.token_endpoint.as_ref(),
            ];
            if let Some(bad) = urls.into_iter().flatten().find(|u| !allowed_url(u)) {
                anyhow::bail!(
                    "identity provider {}: {bad:?} must be an https URL (http only on loopback)",
                    p.name
                );
            }
            if p.audiences.is_empty() {
                anyhow::bail!("identity provider {}: no audience is configured", p.name);
            }
            if let Some(id) = p.client_id.as_ref().filter(|id| !p.audiences.contains(id)) {
                anyhow::bail!(
                    "identity provider {}: client_id {id:?} is not among its audiences",
                    p.name
                );
            }
            let cache = KeyCache {
                jwks_uri: p.jwks_uri.clone(),
                keys: Vec::new(),
                fetched: None,
            };
            let provider = Provider {
                config: p.clone(),
                cache: tokio::sync::Mutex::new(cache),
                endpoints: tokio::sync::OnceCell::new(),
            };
            if map.insert(p.name.clone(), provider).is_some() {
                anyhow::bail!("identity provider {} is configured twice", p.name);
            }
        }
        let http = crate::tls::provider_client()?;
        Ok(Self {
            providers: map,
            http,
        })
    }

    /// Whether any provider is configured.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The claims of `id_token` if `provider` issued it for one of our audiences and it is
    /// valid now.
    pub async fn verify(&self, provider: &str, id_token: &str) -> Result<IdClaims, OidcError> {
        let p = self
            .providers
            .get(provider)
            .ok_or_else(|| OidcError::UnknownProvider(provider.to_owned()))?;
        let reject = |m: String| OidcError::Rejected(m);
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|e| reject(format!("the ID token is not a JWT: {e}")))?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA
        ) {
            return Err(reject(format!(
                "the ID token is signed with {:?}; only RS256, ES256 and EdDSA are accepted",
                header.alg
            )));
        }
        let key = self.key_for(p, header.kid.as_deref(), header.alg).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&p.config.issuer]);
        validation.set_audience(&p.config.audiences);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let data = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map_err(|e| reject(format!("the ID token is not valid: {e}")))?;
        let claims = data.claims;
        if claims.iat > crate::state::now() + LEEWAY_SECS as i64 {
            return Err(reject("the ID token was issued in the future".into()));
        }
        if claims.sub.is_empty() || claims.sub.len() > 255 {
            return Err(reject("the ID token's subject is empty or too long".into()));
        }
        Ok(claims)
    }

    /// The key `kid` (or the only key, when the token names none) for `alg`, fetching the key
    /// set when it is stale or lacks the key.
    async fn key_for(
        &self,
        p: &Provider,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, OidcError> {
        let mut cache = p.cache.lock().await;
        let stale = cache.fetched.is_none_or(|t| t.elapsed() > JWKS_TTL);
        if stale {
            self.refresh(p, &mut cache).await?;
        }
        if let Some(key) = find(&cache.keys, kid, alg)? {
            return Ok(key);
        }
        let interval = p.config.refetch_interval();
        if cache.fetched.is_some_and(|t| t.elapsed() >= interval) {
            self.refresh(p, &mut cache).await?;
            if let Some(key) = find(&cache.keys, kid, alg)? {
                return Ok(key);
            }
        }
        Err(OidcError::Rejected(format!(
            "the ID token's key {kid:?} is not among the issuer's {alg:?} keys"
        )))
    }

    async fn refresh(&self, p: &Provider, cache: &mut KeyCache) -> Result<(), OidcError> {
        let jwks_uri = match &cache.jwks_uri {
            Some(u) => u.clone(),
            None => {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    p.config.issuer.trim_end_matches('/')
                );
                #[derive(Deserialize)]
                struct Discovery {
                    issuer: String,
                    jwks_uri: String,
                }
                let d: Discovery = self.fetch_json(&url).await?;
                if d.issuer != p.config.issuer {
                    return Err(OidcError::Unavailable(format!(
                        "the discovery document names issuer {:?}",
                        d.issuer
                    )));
                }
                if !allowed_url(&d.jwks_uri) {
                    return Err(OidcError::Unavailable(format!(
                        "jwks_uri {:?} is not https",
                        d.jwks_uri
                    )));
                }
                cache.jwks_uri = Some(d.jwks_uri.clone());
                d.jwks_uri
            }
        };
        let set: JwkSet = self.fetch_json(&jwks_uri).await?;
        cache.keys = usable_keys(&set);
        cache.fetched = Some(Instant::now());
        tracing::info!(
            provider = %p.config.name,
            keys = cache.keys.len(),
            "fetched the identity provider's keys"
        );
        Ok(())
    }

    async fn fetch_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let unavailable = |e: String| OidcError::Unavailable(format!("{url}: {e}"));
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("HTTP {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unavailable(e.to_string()))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT_BYTES {
                return Err(unavailable("the document is too large".into()));
            }
        }
        serde_json::from_slice(&body).map_err(|e| unavailable(e.to_string()))
    }
}

/// The key `kid` for `alg`; with no `kid`, the only key for `alg`.
fn find(
    keys: &[(Option<String>, Algorithm, DecodingKey)],
    kid: Option<&str>,
    alg: Algorithm,
) -> Result<Option<DecodingKey>, OidcError> {
    match kid {
        Some(kid) => Ok(keys
            .iter()
            .find(|(k, a, _)| k.as_deref() == Some(kid) && *a == alg)
            .map(|(_, _, key)| key.clone())),
        None => {
            let mut matching = keys.iter().filter(|(_, a, _)| *a == alg);
            match (matching.next(), matching.next()) {
                (Some((_, _, key)), None) => Ok(Some(key.clone())),
                (None, _) => Ok(None),
                (Some(_), Some(_)) => Err(OidcError::Rejected(
                    "the ID token names no key and the issuer has several".into(),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(allowed_url("https://accounts.example.com"));
        assert!(allowed_url("http://127.0.0.1:8080/jwks"));
        assert!(allowed_url("http://localhost/x"));
        assert!(allowed_url("http://[::1]:9/x"));
        assert!(!allowed_url("http://accounts.example.com"));
        assert!(!allowed_url("http://10.0.0.1/jwks"));
        assert!(!allowed_url("file:///etc/passwd"));
        assert!(!allowed_url("not a url"));
    }

    #[test]
    fn hmac_and_unknown_keys_are_never_usable() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "h"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "e"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "enc", "use": "enc"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "rs", "alg": "RS256"},
        ]}))
        .unwrap();
        let keys = usable_keys(&set);
        let kids: Vec<_> = keys.iter().map(|(k, _, _)| k.clone().unwrap()).collect();
        assert_eq!(kids, ["e"]);
        assert_eq!(keys[0].1, Algorithm::EdDSA);
    }
}
