//! Alipay login: the mini-program or web page gets an `auth_code` from `my.getAuthCode` (or the
//! OAuth redirect), and the host exchanges it with `alipay.system.oauth.token` at the Alipay
//! gateway. The request is signed RSA2 (SHA256withRSA over the sorted `key=value` parameters)
//! with the app's private key; the answer's signature, over the exact text of its
//! `alipay_system_oauth_token_response` (or `error_response`) member, is verified with Alipay's
//! public key before anything in it is believed.
//!
//! The subject is `alipay:<app id>:<open_id>` (or `<user_id>` for apps that still get one).

use std::collections::BTreeMap;

use base64::Engine as _;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::Sha256;

/// The app, as the configuration names it (`[alipay]`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlipayConfig {
    /// The app's APPID.
    pub app_id: String,
    /// The app's RSA private key: PEM (PKCS#8 or PKCS#1), or the bare base64 PKCS#8 the
    /// Alipay key tool writes.
    pub private_key: String,
    /// Alipay's public key: PEM, or bare base64 (SubjectPublicKeyInfo).
    pub alipay_public_key: String,
    /// The gateway (the sandbox's, or a stub's in tests).
    #[serde(default = "default_gateway")]
    pub gateway: String,
    /// The mini-program page that opens a bridge request.
    #[serde(default = "crate::auth::wechat::default_approve_page")]
    pub approve_page: String,
}

fn default_gateway() -> String {
    "https://openapi.alipay.com/gateway.do".into()
}

impl std::fmt::Debug for AlipayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlipayConfig")
            .field("app_id", &self.app_id)
            .field("gateway", &self.gateway)
            .field("approve_page", &self.approve_page)
            .finish_non_exhaustive()
    }
}

/// Why an Alipay call (a login, a mini-program code) failed.
#[derive(Debug, thiserror::Error)]
pub enum AlipayError {
    /// Alipay refused the call (e.g. `isv.code-invalid` for a login code).
    #[error("Alipay refused: {sub_msg} ({code} {sub_code})")]
    Refused {
        /// Alipay's code, e.g. 40002.
        code: String,
        /// Alipay's sub-code, e.g. `isv.code-invalid`.
        sub_code: String,
        /// Alipay's message.
        sub_msg: String,
    },
    /// The answer is not signed by Alipay's key, or does not parse.
    #[error("the answer from Alipay cannot be trusted: {0}")]
    Untrusted(String),
    /// The gateway could not be reached or failed.
    #[error("Alipay is unavailable: {0}")]
    Unavailable(String),
}

/// A logged-in Alipay user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlipayUser {
    /// The user's id: `open_id`, or `user_id` where the app gets that.
    pub id: String,
}

/// The success member of the answer (its documented fields; the tokens are not kept).
#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    open_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
}

/// The status fields of an answer's member.
#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    sub_code: String,
    #[serde(default)]
    sub_msg: String,
    #[serde(default)]
    msg: String,
}

/// Logs Alipay users in.
pub struct Alipay {
    config: AlipayConfig,
    signing: SigningKey<Sha256>,
    alipay_key: VerifyingKey<Sha256>,
    http: reqwest::Client,
}

/// Read a PEM or bare-base64 key with `from_pem` / `from_der`.
fn read_key<K>(
    text: &str,
    from_pem: impl Fn(&str) -> Option<K>,
    from_der: impl Fn(&[u8]) -> Option<K>,
) -> Option<K> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return from_pem(text);
    }
    let compact: String = text.split_whitespace().collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    from_der(&der)
}

/// The RSA2 signature of `params` (without `sign`): SHA256withRSA over `k=v` pairs with
/// non-empty values, sorted by key and joined with `&`, in base64.
pub fn sign_params(key: &SigningKey<Sha256>, params: &BTreeMap<&str, String>) -> String {
    let content = params
        .iter()
        .filter(|(k, v)| **k != "sign" && !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    base64::engine::general_purpose::STANDARD.encode(key.sign(content.as_bytes()).to_bytes())
}

impl Alipay {
    /// A client for the app `config`; its keys must parse.
    pub fn new(config: AlipayConfig) -> anyhow::Result<Self> {
        use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
        use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
        if !crate::auth::oidc::allowed_url(&config.gateway) {
            anyhow::bail!("alipay.gateway must be https (http only on loopback)");
        }
        let private = read_key(
            &config.private_key,
            |p| {
                RsaPrivateKey::from_pkcs8_pem(p)
                    .ok()
                    .or_else(|| RsaPrivateKey::from_pkcs1_pem(p).ok())
            },
            |d| {
                RsaPrivateKey::from_pkcs8_der(d)
                    .ok()
                    .or_else(|| RsaPrivateKey::from_pkcs1_der(d).ok())
            },
        )
        .ok_or_else(|| anyhow::anyhow!("alipay.private_key is not an RSA private key"))?;
        let public = read_key(
            &config.alipay_public_key,
            |p| {
                RsaPublicKey::from_public_key_pem(p)
                    .ok()
                    .or_else(|| RsaPublicKey::from_pkcs1_pem(p).ok())
            },
            |d| RsaPublicKey::from_public_key_der(d).ok(),
        )
        .ok_or_else(|| anyhow::anyhow!("alipay.alipay_public_key is not an RSA public key"))?;
        let http = crate::tls::provider_client()?;
        Ok(Self {
            config,
            signing: SigningKey::new(private),
            alipay_key: VerifyingKey::new(public),
            http,
        })
    }

    /// The subject of a user.
    pub fn subject(&self, user: &AlipayUser) -> String {
        format!("alipay:{}:{}", self.config.app_id, user.id)
    }

    /// The app's id.
    pub fn app_id(&self) -> &str {
        &self.config.app_id
    }

    /// Exchange `auth_code` for the user.
    pub async fn login(&self, auth_code: &str) -> Result<AlipayUser, AlipayError> {
        if !super::login_code_ok(auth_code) {
            return Err(AlipayError::Refused {
                code: "40002".into(),
                sub_code: "isv.code-invalid".into(),
                sub_msg: "the auth code is empty or malformed".into(),
            });
        }
        let member = self
            .call(
                "alipay.system.oauth.token",
                &[
                    ("grant_type", "authorization_code".into()),
                    ("code", auth_code.into()),
                ],
            )
            .await?;
        let ok: TokenResponse =
            serde_json::from_str(&member).map_err(|e| AlipayError::Untrusted(e.to_string()))?;
        let id = ok
            .open_id
            .or(ok.user_id)
            .filter(|id| !id.is_empty() && id.len() <= 128)
            .ok_or_else(|| AlipayError::Untrusted("the answer names no user".into()))?;
        Ok(AlipayUser { id })
    }

    /// Call `method` at the gateway with the common parameters and `extra` (for most methods
    /// a `biz_content` JSON text), signed RSA2. The answer is believed only once its signature
    /// verifies under Alipay's key; then its `<method>_response` member is returned as JSON
    /// text. The gateway's `error_response`, and a member whose `code` is not `10000`, are
    /// [`AlipayError::Refused`].
    pub async fn call(
        &self,
        method: &str,
        extra: &[(&'static str, String)],
    ) -> Result<String, AlipayError> {
        let shanghai = time::UtcOffset::from_hms(8, 0, 0).expect("a valid offset");
        let timestamp = time::OffsetDateTime::now_utc()
            .to_offset(shanghai)
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .map_err(|e| AlipayError::Unavailable(format!("formatting the time: {e}")))?;
        let mut params: BTreeMap<&str, String> = BTreeMap::new();
        params.insert("app_id", self.config.app_id.clone());
        params.insert("method", method.into());
        params.insert("format", "JSON".into());
        params.insert("charset", "utf-8".into());
        params.insert("sign_type", "RSA2".into());
        params.insert("timestamp", timestamp);
        params.insert("version", "1.0".into());
        for (k, v) in extra {
            params.insert(k, v.clone());
        }
        let sign = sign_params(&self.signing, &params);
        params.insert("sign", sign);
        let response = self
            .http
            .post(&self.config.gateway)
            .form(&params)
            .send()
            .await
            .map_err(|e| AlipayError::Unavailable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(AlipayError::Unavailable(format!(
                "HTTP {}",
                response.status()
            )));
        }
        let body = response
            .text()
            .await
            .map_err(|e| AlipayError::Unavailable(e.without_url().to_string()))?;
        self.read_answer(method, &body)
    }

    /// Check the signature of a gateway answer to `method` and return its response member, or
    /// the refusal it carries.
    fn read_answer(&self, method: &str, body: &str) -> Result<String, AlipayError> {
        let envelope: BTreeMap<String, &RawValue> = serde_json::from_str(body)
            .map_err(|e| AlipayError::Untrusted(format!("not the gateway's JSON: {e}")))?;
        let name = format!("{}_response", method.replace('.', "_"));
        let (member, is_error) = match (envelope.get(&name), envelope.get("error_response")) {
            (Some(m), _) => (*m, false),
            (None, Some(m)) => (*m, true),
            (None, None) => return Err(AlipayError::Untrusted("no response member".into())),
        };
        let sign: String = envelope
            .get("sign")
            .and_then(|s| serde_json::from_str(s.get()).ok())
            .ok_or_else(|| AlipayError::Untrusted("the answer is not signed".into()))?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(sign.trim())
            .ok()
            .and_then(|s| Signature::try_from(s.as_slice()).ok())
            .ok_or_else(|| AlipayError::Untrusted("the signature is malformed".into()))?;
        self.alipay_key
            .verify(member.get().as_bytes(), &signature)
            .map_err(|_| AlipayError::Untrusted("the signature is not Alipay's".into()))?;
        let status: Status = serde_json::from_str(member.get())
            .map_err(|e| AlipayError::Untrusted(e.to_string()))?;
        // The login's member has no `code` on success; other methods answer `10000`.
        if is_error || status.code.as_deref().is_some_and(|c| c != "10000") {
            return Err(AlipayError::Refused {
                code: status.code.unwrap_or_default(),
                sub_code: status.sub_code,
                sub_msg: if status.sub_msg.is_empty() {
                    status.msg
                } else {
                    status.sub_msg
                },
            });
        }
        Ok(member.get().to_owned())
    }
}
