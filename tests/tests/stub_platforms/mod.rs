//! WeChat's and Alipay's servers, as far as a mini-program wallet uses them, on loopback:
//!
//! - WeChat: `GET /sns/jscode2session` (app id and secret checked; `code-<name>` logs in the
//!   user `o-<name>`), `POST /cgi-bin/stable_token`, `POST /wxa/getwxacodeunlimit` (access
//!   token, scene length and characters, page checked; the image is a QR code of the scene,
//!   standing in for WeChat's round code, and the scene is recorded: `GET /stub/scenes` lists
//!   them, as a camera reading the code would).
//! - Alipay's gateway (`POST /gateway.do`): the request's RSA2 signature checked, answers
//!   signed with "Alipay's" key; `alipay.system.oauth.token` (`auth-<name>` logs in `a-<name>`)
//!   and `alipay.open.app.qrcode.create`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use mpcw_host::auth::alipay::AlipayConfig;
use mpcw_host::auth::wechat::WechatConfig;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use serde_json::{json, Value};
use sha2::Sha256;

const WECHAT_APP: &str = "wx-mini-app";
const WECHAT_SECRET: &str = "wx-mini-secret";
const ALIPAY_APP: &str = "2021000000000003";
const PAGE: &str = "pages/approve/approve";
const ACCESS_TOKEN: &str = "ACCESS-mini";

struct Inner {
    scenes: Mutex<Vec<String>>,
    alipay_codes: AtomicU32,
    app_key: VerifyingKey<Sha256>,
    alipay: SigningKey<Sha256>,
}

/// The running stubs.
pub struct StubPlatforms {
    /// Their base URL.
    pub url: String,
    inner: Arc<Inner>,
    app_private: rsa::RsaPrivateKey,
    alipay_public: rsa::RsaPublicKey,
}

impl StubPlatforms {
    /// Start both on a free loopback port.
    pub async fn start() -> Self {
        let app = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let alipay = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let inner = Arc::new(Inner {
            scenes: Mutex::new(Vec::new()),
            alipay_codes: AtomicU32::new(0),
            app_key: VerifyingKey::new(app.to_public_key()),
            alipay: SigningKey::new(alipay.clone()),
        });
        let router = Router::new()
            .route("/sns/jscode2session", get(code2session))
            .route("/cgi-bin/stable_token", post(stable_token))
            .route("/wxa/getwxacodeunlimit", post(wxacode))
            .route("/stub/scenes", get(scenes))
            .route("/gateway.do", post(gateway))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url,
            inner,
            alipay_public: alipay.to_public_key(),
            app_private: app,
        }
    }

    /// The host's `[wechat]` for the stub.
    pub fn wechat_config(&self) -> WechatConfig {
        WechatConfig {
            base_url: self.url.clone(),
            ..WechatConfig::new(WECHAT_APP, WECHAT_SECRET)
        }
    }

    /// The host's `[alipay]` for the stub.
    pub fn alipay_config(&self) -> AlipayConfig {
        AlipayConfig {
            app_id: ALIPAY_APP.into(),
            private_key: self
                .app_private
                .to_pkcs8_pem(LineEnding::LF)
                .unwrap()
                .to_string(),
            alipay_public_key: self
                .alipay_public
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
            gateway: format!("{}/gateway.do", self.url),
            approve_page: PAGE.into(),
        }
    }

    /// Mini-program codes WeChat drew.
    pub fn scenes_drawn(&self) -> usize {
        self.inner.scenes.lock().unwrap().len()
    }

    /// Mini-program codes Alipay made.
    pub fn alipay_codes(&self) -> u32 {
        self.inner.alipay_codes.load(Ordering::SeqCst)
    }
}

fn errcode(code: i64, msg: &str) -> Response {
    Json(json!({"errcode": code, "errmsg": msg})).into_response()
}

async fn code2session(Query(q): Query<BTreeMap<String, String>>) -> Response {
    if q.get("appid").map(String::as_str) != Some(WECHAT_APP)
        || q.get("secret").map(String::as_str) != Some(WECHAT_SECRET)
    {
        return errcode(40125, "invalid appsecret");
    }
    match q.get("js_code").and_then(|c| c.strip_prefix("code-")) {
        Some(name) if !name.is_empty() => Json(json!({"openid": format!("o-{name}"),
            "session_key": "c2Vzc2lvbi1rZXk="}))
        .into_response(),
        _ => errcode(40029, "invalid code"),
    }
}

async fn stable_token(Json(body): Json<Value>) -> Response {
    if body["appid"] != WECHAT_APP || body["secret"] != WECHAT_SECRET {
        return errcode(40125, "invalid appsecret");
    }
    Json(json!({"access_token": ACCESS_TOKEN, "expires_in": 7200})).into_response()
}

async fn wxacode(
    State(s): State<Arc<Inner>>,
    Query(q): Query<BTreeMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    if q.get("access_token").map(String::as_str) != Some(ACCESS_TOKEN) {
        return errcode(40001, "invalid credential");
    }
    let scene = body["scene"].as_str().unwrap_or_default();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$&'()*+,/:;=?@-._~".contains(c);
    if scene.is_empty() || scene.len() > 32 || !scene.chars().all(allowed) {
        return errcode(40169, "invalid length for scene");
    }
    if body["page"] != PAGE {
        return errcode(41030, "invalid page hint");
    }
    s.scenes.lock().unwrap().push(scene.to_owned());
    let image = mpcw_host::bridge::qr::png(scene).unwrap();
    ([(header::CONTENT_TYPE, "image/png")], image).into_response()
}

async fn scenes(State(s): State<Arc<Inner>>) -> Json<Value> {
    Json(json!(s.scenes.lock().unwrap().clone()))
}

async fn gateway(
    State(s): State<Arc<Inner>>,
    Form(params): Form<BTreeMap<String, String>>,
) -> String {
    let content = params
        .iter()
        .filter(|(k, v)| *k != "sign" && !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let signed = params
        .get("sign")
        .and_then(|x| base64::engine::general_purpose::STANDARD.decode(x).ok())
        .and_then(|x| Signature::try_from(x.as_slice()).ok())
        .is_some_and(|x| s.app_key.verify(content.as_bytes(), &x).is_ok());
    let sign = |member: &str, body: &Value| {
        let text = body.to_string();
        let sig = base64::engine::general_purpose::STANDARD
            .encode(s.alipay.sign(text.as_bytes()).to_bytes());
        format!("{{\"{member}\":{text},\"sign\":\"{sig}\"}}")
    };
    let refuse = |sub_code: &str, sub_msg: &str| {
        sign(
            "error_response",
            &json!({"code": "40002", "msg": "Invalid Arguments", "sub_code": sub_code, "sub_msg": sub_msg}),
        )
    };
    if !signed || params.get("app_id").map(String::as_str) != Some(ALIPAY_APP) {
        return refuse("isv.invalid-signature", "验签出错");
    }
    match params.get("method").map(String::as_str) {
        Some("alipay.system.oauth.token") => {
            match params.get("code").and_then(|c| c.strip_prefix("auth-")) {
                Some(name) if !name.is_empty() => sign(
                    "alipay_system_oauth_token_response",
                    &json!({"access_token": "authusr-stub", "open_id": format!("a-{name}"),
                        "expires_in": 1296000}),
                ),
                _ => refuse("isv.code-invalid", "授权码code无效"),
            }
        }
        Some("alipay.open.app.qrcode.create") => {
            let biz: Value = params
                .get("biz_content")
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or_default();
            let member = "alipay_open_app_qrcode_create_response";
            if biz["url_param"] != PAGE {
                return sign(
                    member,
                    &json!({"code": "40004", "msg": "Business Failed",
                        "sub_code": "INVALID_PARAMETER", "sub_msg": "url_param 不合法"}),
                );
            }
            let n = s.alipay_codes.fetch_add(1, Ordering::SeqCst);
            sign(
                member,
                &json!({"code": "10000", "msg": "Success",
                    "qr_code_url": format!("https://mdn.alipayobjects.com/stub/qrcode-{n}.jpg")}),
            )
        }
        _ => refuse("isv.invalid-method", "不存在的方法名"),
    }
}
