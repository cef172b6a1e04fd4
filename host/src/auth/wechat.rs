//! WeChat mini-program login: the mini-program calls `wx.login()` and sends the `code` it gets;
//! the host exchanges it with `code2Session` (`GET /sns/jscode2session` with the app id and
//! secret) for the user's `openid` (and `unionid`, when the app belongs to an open-platform
//! account). The `session_key` WeChat returns never leaves this module: it is neither logged
//! nor returned.
//!
//! The subject is `wechat:<app id>:<openid>`: stable for a user of this mini-program.

use serde::Deserialize;

/// The mini-program, as the configuration names it (`[wechat]`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatConfig {
    /// The mini-program's AppID.
    pub app_id: String,
    /// Its AppSecret.
    pub app_secret: String,
    /// The API's base URL (a stub server's in tests).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The mini-program page that opens a bridge request (mini-program codes and links lead
    /// there, with the request's entry token as scene or `t` query).
    #[serde(default = "default_approve_page")]
    pub approve_page: String,
    /// Which version codes and links open: `release`, `trial` or `develop`.
    #[serde(default = "default_env_version")]
    pub env_version: String,
}

fn default_base_url() -> String {
    "https://api.weixin.qq.com".into()
}

/// The mini-programs' page for a bridge request.
pub fn default_approve_page() -> String {
    "pages/approve/approve".into()
}

fn default_env_version() -> String {
    "release".into()
}

impl WechatConfig {
    /// The mini-program `app_id` with `app_secret`, at WeChat's own API, opening its release
    /// version's approval page.
    pub fn new(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            app_secret: app_secret.into(),
            base_url: default_base_url(),
            approve_page: default_approve_page(),
            env_version: default_env_version(),
        }
    }
}

impl std::fmt::Debug for WechatConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatConfig")
            .field("app_id", &self.app_id)
            .field("base_url", &self.base_url)
            .field("approve_page", &self.approve_page)
            .field("env_version", &self.env_version)
            .finish_non_exhaustive()
    }
}

/// Why a WeChat login failed.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    /// WeChat refused the code (invalid, used or expired) or the user.
    #[error("WeChat refused the login code: {errmsg} ({errcode})")]
    Refused {
        /// WeChat's error code, e.g. 40029 (invalid code), 40163 (code already used), 40226
        /// (high-risk user).
        errcode: i64,
        /// WeChat's message.
        errmsg: String,
    },
    /// WeChat is busy or limits this app (-1, 45011), or refuses this server's app id or
    /// secret (40013, 40125).
    #[error("WeChat is unavailable: {0}")]
    Unavailable(String),
}

/// What `code2Session` answers (its documented fields; `errcode` 0 or absent is success). The
/// `session_key` is deliberately not read.
#[derive(Deserialize)]
struct Code2Session {
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// A logged-in WeChat user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatUser {
    /// The user's id in this mini-program.
    pub openid: String,
    /// The user's id across the open-platform account's apps, when there is one.
    pub unionid: Option<String>,
}

/// Logs WeChat users in.
pub struct Wechat {
    config: WechatConfig,
    http: reqwest::Client,
}

impl Wechat {
    /// A client for the mini-program `config`.
    pub fn new(config: WechatConfig) -> anyhow::Result<Self> {
        if !crate::auth::oidc::allowed_url(&config.base_url) {
            anyhow::bail!("wechat.base_url must be https (http only on loopback)");
        }
        if !["release", "trial", "develop"].contains(&config.env_version.as_str()) {
            anyhow::bail!("wechat.env_version must be release, trial or develop");
        }
        let http = crate::tls::provider_client()?;
        Ok(Self { config, http })
    }

    /// The subject of a user.
    pub fn subject(&self, user: &WechatUser) -> String {
        format!("wechat:{}:{}", self.config.app_id, user.openid)
    }

    /// Exchange the `code` from `wx.login()` for the user.
    pub async fn login(&self, code: &str) -> Result<WechatUser, WechatError> {
        if !super::login_code_ok(code) {
            return Err(WechatError::Refused {
                errcode: 40029,
                errmsg: "the code is empty or malformed".into(),
            });
        }
        let url = format!(
            "{}/sns/jscode2session",
            self.config.base_url.trim_end_matches('/')
        );
        let response = self
            .http
            .get(&url)
            .query(&[
                ("appid", self.config.app_id.as_str()),
                ("secret", self.config.app_secret.as_str()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            .map_err(|e| WechatError::Unavailable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(WechatError::Unavailable(format!(
                "HTTP {}",
                response.status()
            )));
        }
        // WeChat sends JSON, sometimes labelled text/plain: parse the body whatever its type.
        let body = response
            .bytes()
            .await
            .map_err(|e| WechatError::Unavailable(e.without_url().to_string()))?;
        let answer: Code2Session = serde_json::from_slice(&body)
            .map_err(|e| WechatError::Unavailable(format!("unreadable answer: {e}")))?;
        match answer.errcode {
            0 => {}
            // Busy, over quota, or this server's app id or secret refused: not the user's fault.
            -1 | 45011 | 40013 | 40125 => {
                return Err(WechatError::Unavailable(format!(
                    "{} ({})",
                    answer.errmsg, answer.errcode
                )))
            }
            errcode => {
                return Err(WechatError::Refused {
                    errcode,
                    errmsg: answer.errmsg,
                })
            }
        }
        let openid = answer
            .openid
            .filter(|o| !o.is_empty() && o.len() <= 128)
            .ok_or_else(|| WechatError::Unavailable("the answer has no openid".into()))?;
        Ok(WechatUser {
            openid,
            unionid: answer.unionid,
        })
    }
}
