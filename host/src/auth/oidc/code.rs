//! The authorization code flow with PKCE (RFC 7636) for the web signer: the page sends the user
//! to the provider's authorization endpoint with a code challenge (S256) and a login nonce, the
//! provider sends the user back with a code, and the host redeems the code at the token
//! endpoint with the page's code verifier (and the client secret, for providers that want one,
//! which never leaves the server). The ID token that comes back is checked exactly as one
//! posted to `POST /v1/auth/oidc` is: by [`OidcVerifier::verify`], then for its nonce.
//!
//! Endpoints come from the configuration or, by default, from the issuer's discovery document
//! (its `issuer` must match), learned once.

use serde::{Deserialize, Serialize};

use super::{allowed_url, OidcError, OidcVerifier, Provider};

/// The largest token endpoint answer read, bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Where the code flow goes.
#[derive(Clone, Debug)]
pub struct Endpoints {
    authorization: String,
    token: String,
}

/// A provider the web signer can send the user to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CodeFlow {
    /// The provider's name (for `POST /v1/auth/oidc/code`).
    pub name: String,
    /// The button's text.
    pub label: String,
    /// Where to send the user.
    pub authorization_endpoint: String,
    /// The signer's client id there.
    pub client_id: String,
    /// The scopes to ask for.
    pub scope: String,
}

/// A code to redeem.
pub struct Redeem<'a> {
    /// The provider's name.
    pub provider: &'a str,
    /// The code the provider gave.
    pub code: &'a str,
    /// The page's PKCE code verifier.
    pub code_verifier: &'a str,
    /// The redirect URI the authorization request named.
    pub redirect_uri: &'a str,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// Whether `v` is a PKCE code verifier: 43 to 128 unreserved characters (RFC 7636, 4.1).
pub fn verifier_ok(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

impl OidcVerifier {
    /// The providers the web signer offers (those with a `client_id`), with their endpoints.
    /// A provider whose discovery document cannot be read now is left out, with a warning.
    pub async fn code_flows(&self) -> Vec<CodeFlow> {
        let mut out = Vec::new();
        let mut names: Vec<_> = self.providers.keys().collect();
        names.sort();
        for name in names {
            let p = &self.providers[name];
            let Some(client_id) = &p.config.client_id else {
                continue;
            };
            match self.endpoints(p).await {
                Ok(e) => out.push(CodeFlow {
                    name: name.clone(),
                    label: p.config.label.clone().unwrap_or_else(|| name.clone()),
                    authorization_endpoint: e.authorization.clone(),
                    client_id: client_id.clone(),
                    scope: "openid".into(),
                }),
                Err(e) => tracing::warn!(provider = %name, error = %e, "no login endpoints"),
            }
        }
        out
    }

    async fn endpoints<'p>(&self, p: &'p Provider) -> Result<&'p Endpoints, OidcError> {
        p.endpoints
            .get_or_try_init(|| async {
                let (authorization, token) =
                    match (&p.config.authorization_endpoint, &p.config.token_endpoint) {
                        (Some(a), Some(t)) => (a.clone(), t.clone()),
                        (a, t) => {
                            #[derive(Deserialize)]
                            struct Discovery {
                                issuer: String,
                                authorization_endpoint: String,
                                token_endpoint: String,
                            }
                            let url = format!(
                                "{}/.well-known/openid-configuration",
                                p.config.issuer.trim_end_matches('/')
                            );
                            let d: Discovery = self.fetch_json(&url).await?;
                            if d.issuer != p.config.issuer {
                                return Err(OidcError::Unavailable(format!(
                                    "the discovery document names issuer {:?}",
                                    d.issuer
                                )));
                            }
                            (
                                a.clone().unwrap_or(d.authorization_endpoint),
                                t.clone().unwrap_or(d.token_endpoint),
                            )
                        }
                    };
                if !allowed_url(&authorization) || !allowed_url(&token) {
                    return Err(OidcError::Unavailable(
                        "the provider's endpoints must be https (http only on loopback)".into(),
                    ));
                }
                Ok(Endpoints {
                    authorization,
                    token,
                })
            })
            .await
    }

    /// Redeem a code at the provider's token endpoint; the ID token it gives, verified.
    pub async fn redeem(&self, r: &Redeem<'_>) -> Result<super::IdClaims, OidcError> {
        let p = self
            .providers
            .get(r.provider)
            .ok_or_else(|| OidcError::UnknownProvider(r.provider.to_owned()))?;
        let client_id = p.config.client_id.as_ref().ok_or_else(|| {
            OidcError::UnknownProvider(format!("{} (no client_id for the code flow)", r.provider))
        })?;
        if !verifier_ok(r.code_verifier) {
            return Err(OidcError::Rejected(
                "code_verifier must be 43 to 128 unreserved characters (RFC 7636)".into(),
            ));
        }
        if r.code.is_empty() || r.code.len() > 2048 {
            return Err(OidcError::Rejected("the code is empty or too long".into()));
        }
        let endpoints = self.endpoints(p).await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", r.code),
            ("redirect_uri", r.redirect_uri),
            ("client_id", client_id.as_str()),
            ("code_verifier", r.code_verifier),
        ];
        if let Some(secret) = &p.config.client_secret {
            form.push(("client_secret", secret.as_str()));
        }
        let unavailable = |e: String| OidcError::Unavailable(format!("the token endpoint: {e}"));
        let mut response = self
            .http
            .post(&endpoints.token)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unavailable(e.without_url().to_string()))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_ANSWER_BYTES {
                return Err(unavailable("the answer is too large".into()));
            }
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| unavailable(format!("HTTP {status}, not a token answer")))?;
        if let Some(error) = answer.error {
            // invalid_grant and the like: the code, verifier or redirect URI is wrong.
            let message = match answer.error_description {
                Some(d) => format!("the provider refused the code: {error}: {d}"),
                None => format!("the provider refused the code: {error}"),
            };
            return Err(if status.is_server_error() {
                unavailable(message)
            } else {
                OidcError::Rejected(message)
            });
        }
        let id_token = answer.id_token.ok_or_else(|| {
            unavailable("the answer has no id_token (was the openid scope asked?)".into())
        })?;
        self.verify(r.provider, &id_token).await
    }
}

#[cfg(test)]
mod tests {
    use super::verifier_ok;

    #[test]
    fn code_verifiers_follow_rfc_7636() {
        // RFC 7636, Appendix B: the example verifier.
        assert!(verifier_ok("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!verifier_ok("short"));
        assert!(!verifier_ok(&"a".repeat(129)));
        assert!(!verifier_ok(&format!("{}+", "a".repeat(43))));
    }
}
