//! Alipay's entries for a bridge request: a mini-program code made by
//! `alipay.open.app.qrcode.create` (signed RSA2 through the login's gateway client, answer
//! verified with Alipay's key), whose page is the approval page with `t=<entry token>`; and the
//! `alipays://platformapi/startapp` link Alipay documents for opening a mini-program page,
//! which needs no call.

use serde::Deserialize;
use serde_json::json;

use super::PlatformError;
use crate::auth::alipay::{Alipay, AlipayConfig, AlipayError};

const PLATFORM: &str = "Alipay";

/// An Alipay mini-program code and link.
#[derive(Debug)]
pub struct AlipayCode {
    /// Where Alipay keeps the code's image.
    pub qr_code_url: String,
    /// `alipays://platformapi/startapp?appId=…&page=…&query=t%3D…`.
    pub scheme: String,
}

/// The success member of `alipay.open.app.qrcode.create`.
#[derive(Deserialize)]
struct QrcodeCreated {
    #[serde(default)]
    qr_code_url: Option<String>,
}

/// Makes Alipay entries for the configured mini-program.
pub struct AlipayEntries {
    gateway: Alipay,
    approve_page: String,
}

impl AlipayEntries {
    /// A client for the app `config`; its keys must parse.
    pub fn new(config: AlipayConfig) -> anyhow::Result<Self> {
        let approve_page = config.approve_page.clone();
        Ok(Self {
            gateway: Alipay::new(config)?,
            approve_page,
        })
    }

    /// The link that opens the approval page with `t=<token>` in Alipay.
    pub fn scheme(&self, token: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "alipays://platformapi/startapp?appId={}&page={}&query={}",
            enc(self.gateway.app_id()),
            enc(&self.approve_page),
            enc(&format!("t={token}"))
        )
    }

    /// The mini-program code and link for the entry token `token`.
    pub async fn code(&self, token: &str) -> Result<AlipayCode, PlatformError> {
        let biz = json!({
            "url_param": self.approve_page,
            "query_param": format!("t={token}"),
            "describe": "mpcw bridge request",
        });
        let member = self
            .gateway
            .call(
                "alipay.open.app.qrcode.create",
                &[("biz_content", biz.to_string())],
            )
            .await
            .map_err(|e| match e {
                AlipayError::Refused {
                    code,
                    sub_code,
                    sub_msg,
                } => PlatformError::Refused {
                    platform: PLATFORM,
                    code: format!("{code} {sub_code}").trim().to_owned(),
                    message: sub_msg,
                },
                AlipayError::Untrusted(r) | AlipayError::Unavailable(r) => {
                    PlatformError::Unavailable {
                        platform: PLATFORM,
                        reason: r,
                    }
                }
            })?;
        let created: QrcodeCreated =
            serde_json::from_str(&member).map_err(|e| PlatformError::Unavailable {
                platform: PLATFORM,
                reason: e.to_string(),
            })?;
        let qr_code_url = created
            .qr_code_url
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .ok_or_else(|| PlatformError::Unavailable {
                platform: PLATFORM,
                reason: "the answer has no qr_code_url".into(),
            })?;
        Ok(AlipayCode {
            qr_code_url,
            scheme: self.scheme(token),
        })
    }
}
