//! WeChat's server API for mini-program entries: a mini-program code
//! (`POST /wxa/getwxacodeunlimit`, an image whose scene is the entry token) and a URL scheme
//! (`POST /wxa/generatescheme`, a `weixin://dl/business/?t=…` link that opens the approval
//! page with `t=<entry token>`), both called with the app's access token.
//!
//! The access token comes from `POST /cgi-bin/stable_token` (the stable token: asking for it
//! again does not invalidate the one other hosts hold) and is kept until five minutes before
//! it expires. A call refused for its token (40001, 40014, 42001) is made once more with a
//! token fetched with `force_refresh`. The token travels only in the query WeChat requires and
//! never reaches a log: request errors are reported without their URL.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use super::PlatformError;
use crate::auth::wechat::WechatConfig;

const PLATFORM: &str = "WeChat";
/// The largest image read from WeChat.
const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// Codes that mean the access token is no longer good.
const STALE_TOKEN: [i64; 3] = [40001, 40014, 42001];
/// The width of the codes asked for, pixels (WeChat's default).
const CODE_WIDTH: u32 = 430;

/// A mini-program code: the image WeChat drew.
#[derive(Debug)]
pub struct WechatCode {
    /// `image/jpeg` or `image/png`, as WeChat said.
    pub content_type: String,
    /// The image.
    pub image: Vec<u8>,
}

/// A URL scheme that opens the mini-program's approval page.
#[derive(Debug)]
pub struct WechatLink {
    /// `weixin://dl/business/?t=…`.
    pub openlink: String,
}

/// An access token and when to stop using it.
struct AccessToken {
    value: Zeroizing<String>,
    good_until: Instant,
}

/// WeChat's usual answer: `errcode` 0 or absent is success.
#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(flatten)]
    status: Status,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct SchemeAnswer {
    #[serde(flatten)]
    status: Status,
    #[serde(default)]
    openlink: Option<String>,
}

fn unavailable(reason: impl Into<String>) -> PlatformError {
    PlatformError::Unavailable {
        platform: PLATFORM,
        reason: reason.into(),
    }
}

/// What a call gave: a result, or a stale token to replace.
enum Outcome<T> {
    Done(Result<T, PlatformError>),
    StaleToken,
}

/// What an answer's `errcode` says.
enum Verdict {
    Good,
    StaleToken,
    Failed(PlatformError),
}

fn judge(status: &Status) -> Verdict {
    match status.errcode {
        0 => Verdict::Good,
        c if STALE_TOKEN.contains(&c) => Verdict::StaleToken,
        // Busy, or over the minute's quota: not the request's fault.
        -1 | 45009 | 45011 => Verdict::Failed(unavailable(format!(
            "{} ({})",
            status.errmsg, status.errcode
        ))),
        c => Verdict::Failed(PlatformError::Refused {
            platform: PLATFORM,
            code: c.to_string(),
            message: status.errmsg.clone(),
        }),
    }
}

/// Send `request`: the answer if its status is a success (the URL, which carries the access
/// token, is left out of errors).
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, PlatformError> {
    let response = request
        .send()
        .await
        .map_err(|e| unavailable(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(unavailable(format!("HTTP {}", response.status())));
    }
    Ok(response)
}

/// Makes WeChat entries for the configured mini-program.
pub struct WechatEntries {
    config: WechatConfig,
    http: reqwest::Client,
    token: Mutex<Option<AccessToken>>,
}

impl WechatEntries {
    /// A client for the mini-program `config`.
    pub fn new(config: WechatConfig) -> anyhow::Result<Self> {
        if !crate::auth::oidc::allowed_url(&config.base_url) {
            anyhow::bail!("wechat.base_url must be https (http only on loopback)");
        }
        Ok(Self {
            config,
            http: crate::tls::provider_client()?,
            token: Mutex::new(None),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    /// The access token: the one held, or a new one (`force`: even if the held one looks good,
    /// because WeChat said it is not). One caller fetches while the others wait for it.
    async fn access_token(&self, force: bool) -> Result<Zeroizing<String>, PlatformError> {
        let mut held = self.token.lock().await;
        if let Some(t) = held.as_ref() {
            if !force && t.good_until > Instant::now() {
                return Ok(t.value.clone());
            }
        }
        let answer: TokenAnswer = self
            .http
            .post(self.url("/cgi-bin/stable_token"))
            .json(&json!({
                "grant_type": "client_credential",
                "appid": self.config.app_id,
                "secret": self.config.app_secret,
                "force_refresh": force,
            }))
            .send()
            .await
            .map_err(|e| unavailable(e.without_url().to_string()))?
            .json()
            .await
            .map_err(|e| unavailable(format!("unreadable token answer: {}", e.without_url())))?;
        if answer.status.errcode != 0 {
            // Whatever WeChat says about our app id or secret is the server's problem.
            return Err(unavailable(format!(
                "no access token: {} ({})",
                answer.status.errmsg, answer.status.errcode
            )));
        }
        let value = Zeroizing::new(
            answer
                .access_token
                .filter(|t| !t.is_empty())
                .ok_or_else(|| unavailable("the token answer has no access_token"))?,
        );
        let life = answer.expires_in.unwrap_or(7200);
        *held = Some(AccessToken {
            value: value.clone(),
            good_until: Instant::now() + Duration::from_secs(life.saturating_sub(300).max(60)),
        });
        Ok(value)
    }

    /// `call` with the access token; once more with a fresh token if WeChat says it is stale.
    async fn with_token<T, F, Fut>(&self, call: F) -> Result<T, PlatformError>
    where
        F: Fn(Zeroizing<String>) -> Fut,
        Fut: std::future::Future<Output = Result<Outcome<T>, PlatformError>>,
    {
        let token = self.access_token(false).await?;
        match call(token).await? {
            Outcome::Done(r) => return r,
            Outcome::StaleToken => {}
        }
        tracing::info!("WeChat access token refused; fetching a new one");
        let token = self.access_token(true).await?;
        match call(token).await? {
            Outcome::Done(r) => r,
            Outcome::StaleToken => Err(unavailable("WeChat refuses a fresh access token")),
        }
    }

    /// The mini-program code whose scene is `scene` (an entry token).
    pub async fn code(&self, scene: &str) -> Result<WechatCode, PlatformError> {
        let body = json!({
            "scene": scene,
            "page": self.config.approve_page,
            // A page of a trial or development version is not in the published one.
            "check_path": self.config.env_version == "release",
            "env_version": self.config.env_version,
            "width": CODE_WIDTH,
        });
        self.with_token(|token| {
            let request = self
                .http
                .post(self.url("/wxa/getwxacodeunlimit"))
                .query(&[("access_token", token.as_str())])
                .json(&body);
            async move {
                let response = send(request).await?;
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| unavailable(e.without_url().to_string()))?;
                // An image on success; JSON with `errcode` otherwise.
                if content_type.starts_with("image/") {
                    if bytes.is_empty() || bytes.len() > MAX_IMAGE_BYTES {
                        return Err(unavailable(format!("an image of {} bytes", bytes.len())));
                    }
                    return Ok(Outcome::Done(Ok(WechatCode {
                        content_type,
                        image: bytes.to_vec(),
                    })));
                }
                let status: Status = serde_json::from_slice(&bytes)
                    .map_err(|_| unavailable("neither an image nor an error"))?;
                Ok(match judge(&status) {
                    Verdict::StaleToken => Outcome::StaleToken,
                    Verdict::Failed(e) => Outcome::Done(Err(e)),
                    Verdict::Good => {
                        Outcome::Done(Err(unavailable("neither an image nor an error")))
                    }
                })
            }
        })
        .await
    }

    /// A URL scheme opening the approval page with `t=<token>`, expiring with the request
    /// (`expires_at`, Unix seconds).
    pub async fn link(&self, token: &str, expires_at: i64) -> Result<WechatLink, PlatformError> {
        let body = json!({
            "jump_wxa": {
                "path": self.config.approve_page,
                "query": format!("t={token}"),
                "env_version": self.config.env_version,
            },
            "is_expire": true,
            "expire_type": 0,
            "expire_time": expires_at,
        });
        self.with_token(|access| {
            let request = self
                .http
                .post(self.url("/wxa/generatescheme"))
                .query(&[("access_token", access.as_str())])
                .json(&body);
            async move {
                let response = send(request).await?;
                let answer: SchemeAnswer = response
                    .json()
                    .await
                    .map_err(|e| unavailable(format!("unreadable answer: {}", e.without_url())))?;
                match judge(&answer.status) {
                    Verdict::Good => {}
                    Verdict::StaleToken => return Ok(Outcome::StaleToken),
                    Verdict::Failed(e) => return Ok(Outcome::Done(Err(e))),
                }
                let openlink = answer
                    .openlink
                    .filter(|l| l.starts_with("weixin://"))
                    .ok_or_else(|| unavailable("the answer has no weixin:// openlink"))?;
                Ok(Outcome::Done(Ok(WechatLink { openlink })))
            }
        })
        .await
    }
}
