//! WeChat's and Alipay's servers, as far as a mini-program wallet uses them, on loopback:
//!
//! - WeChat: `GET /sns/jscode2session` (app id and secret checked; `code-<name>` logs in the
//!   user `o-<name>`), `POST /cgi-bin/stable_token` (a new access token when asked to force a
//!   refresh), `POST /wxa/getwxacodeunlimit` (access token, scene length and characters, page
//!   and version checked; the image is a QR code of the scene, standing in for WeChat's round
//!   code, and the scene is recorded: `GET /stub/scenes` lists them, as a camera reading the
//!   code would) and `POST /wxa/generatescheme`; a switch makes the next call answer that the
//!   access token expired.
//! - Alipay's gateway (`POST /gateway.do`): the request's RSA2 signature checked, answers
//!   signed with "Alipay's" key; `alipay.system.oauth.token` (`auth-<name>` logs in `a-<name>`)
//!   and `alipay.open.app.qrcode.create`.

// Shared by several test binaries, each of which uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
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

/// The mini-program's WeChat app id.
pub const WECHAT_APP: &str = "wx-mini-app";
const WECHAT_SECRET: &str = "wx-mini-secret";
/// The Alipay app id.
pub const ALIPAY_APP: &str = "2021000000000003";
/// The approval page both platforms know.
pub const PAGE: &str = "pages/approve/approve";

#[derive(Default)]
struct Calls {
    token: AtomicU32,
    code: AtomicU32,
    scheme: AtomicU32,
    alipay: AtomicU32,
}

struct Inner {
    calls: Calls,
    /// Access tokens handed out; the last is the good one.
    generation: AtomicU32,
    expire_once: AtomicBool,
    scenes: Mutex<Vec<String>>,
    schemes: Mutex<Vec<Value>>,
    alipay_asked: Mutex<Vec<Value>>,
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
            calls: Calls::default(),
            generation: AtomicU32::new(0),
            expire_once: AtomicBool::new(false),
            scenes: Mutex::new(Vec::new()),
            schemes: Mutex::new(Vec::new()),
            alipay_asked: Mutex::new(Vec::new()),
            app_key: VerifyingKey::new(app.to_public_key()),
            alipay: SigningKey::new(alipay.clone()),
        });
        let router = Router::new()
            .route("/sns/jscode2session", get(code2session))
            .route("/cgi-bin/stable_token", post(stable_token))
            .route("/wxa/getwxacodeunlimit", post(wxacode))
            .route("/wxa/generatescheme", post(generatescheme))
            .route("/stub/scenes", get(scenes))
            .route("/gateway.do", post(gateway))
            .with_state(inner.clone());
        let url = mpcw_tests::serve(router).await;
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

    /// The scenes of the mini-program codes WeChat drew.
    pub fn scenes(&self) -> Vec<String> {
        self.inner.scenes.lock().unwrap().clone()
    }

    /// The bodies of the URL schemes WeChat made.
    pub fn schemes(&self) -> Vec<Value> {
        self.inner.schemes.lock().unwrap().clone()
    }

    /// The `biz_content` of the mini-program codes Alipay made.
    pub fn alipay_asked(&self) -> Vec<Value> {
        self.inner.alipay_asked.lock().unwrap().clone()
    }

    /// Calls of `stable_token`, `getwxacodeunlimit`, `generatescheme` and Alipay's
    /// `alipay.open.app.qrcode.create`.
    pub fn calls(&self) -> [u32; 4] {
        let c = &self.inner.calls;
        [&c.token, &c.code, &c.scheme, &c.alipay].map(|n| n.load(Ordering::SeqCst))
    }

    /// Make WeChat's next call with a good token answer that the token expired.
    pub fn expire_token_once(&self) {
        self.inner.expire_once.store(true, Ordering::SeqCst);
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

async fn stable_token(State(s): State<Arc<Inner>>, Json(body): Json<Value>) -> Response {
    s.calls.token.fetch_add(1, Ordering::SeqCst);
    if body["grant_type"] != "client_credential" {
        return errcode(40002, "invalid grant_type");
    }
    if body["appid"] != WECHAT_APP || body["secret"] != WECHAT_SECRET {
        return errcode(40125, "invalid appsecret");
    }
    let generation = if body["force_refresh"] == true || s.generation.load(Ordering::SeqCst) == 0 {
        s.generation.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        s.generation.load(Ordering::SeqCst)
    };
    Json(json!({"access_token": format!("ACCESS-{generation}"), "expires_in": 7200}))
        .into_response()
}

/// A refusal if the call's access token is not the last one handed out, or if the "expired"
/// switch is on.
fn refused_token(s: &Inner, q: &BTreeMap<String, String>) -> Option<Response> {
    let current = format!("ACCESS-{}", s.generation.load(Ordering::SeqCst));
    if q.get("access_token") != Some(&current) {
        return Some(errcode(
            40001,
            "invalid credential, access_token is invalid",
        ));
    }
    if s.expire_once.swap(false, Ordering::SeqCst) {
        return Some(errcode(42001, "access_token expired"));
    }
    None
}

async fn wxacode(
    State(s): State<Arc<Inner>>,
    Query(q): Query<BTreeMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    s.calls.code.fetch_add(1, Ordering::SeqCst);
    if let Some(refused) = refused_token(&s, &q) {
        return refused;
    }
    // WeChat's rule for scenes: at most 32 visible characters, digits, letters and
    // !#$&'()*+,/:;=?@-._~ only.
    let scene = body["scene"].as_str().unwrap_or_default();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$&'()*+,/:;=?@-._~".contains(c);
    if scene.is_empty() || scene.len() > 32 || !scene.chars().all(allowed) {
        return errcode(40169, "invalid length for scene");
    }
    if body["page"] != PAGE {
        return errcode(41030, "invalid page hint");
    }
    if body["env_version"] != "release" || body["check_path"] != true {
        return errcode(40097, "invalid args");
    }
    s.scenes.lock().unwrap().push(scene.to_owned());
    let image = mpcw_host::bridge::qr::png(scene).unwrap();
    ([(header::CONTENT_TYPE, "image/png")], image).into_response()
}

async fn generatescheme(
    State(s): State<Arc<Inner>>,
    Query(q): Query<BTreeMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    let n = s.calls.scheme.fetch_add(1, Ordering::SeqCst);
    if let Some(refused) = refused_token(&s, &q) {
        return refused;
    }
    let jump = &body["jump_wxa"];
    if jump["path"] != PAGE || jump["query"].as_str().is_none_or(|q| q.len() > 512) {
        return errcode(40165, "invalid weapp pagepath");
    }
    if body["is_expire"] != true || body["expire_type"] != 0 || !body["expire_time"].is_i64() {
        return errcode(40097, "invalid args");
    }
    s.schemes.lock().unwrap().push(body.clone());
    Json(json!({"errcode": 0, "errmsg": "ok",
        "openlink": format!("weixin://dl/business/?t=StubScheme{n}")}))
    .into_response()
}

async fn scenes(State(s): State<Arc<Inner>>) -> Json<Value> {
    Json(json!(s.scenes.lock().unwrap().clone()))
}

async fn gateway(
    State(s): State<Arc<Inner>>,
    Form(params): Form<BTreeMap<String, String>>,
) -> String {
    let signed = request_signed(&s.app_key, &params);
    let sign = |member: &str, body: &Value| signed_answer(member, body, Some(&s.alipay));
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
            s.alipay_asked.lock().unwrap().push(biz.clone());
            let n = s.calls.alipay.fetch_add(1, Ordering::SeqCst);
            sign(
                member,
                &json!({"code": "10000", "msg": "Success",
                    "qr_code_url": format!("https://mdn.alipayobjects.com/stub/qrcode-{n}.jpg")}),
            )
        }
        _ => refuse("isv.invalid-method", "不存在的方法名"),
    }
}

/// Whether an Alipay gateway request is signed by `key`: SHA256withRSA over the sorted
/// non-empty parameters but `sign`, joined `k=v` with `&`.
pub fn request_signed(key: &VerifyingKey<Sha256>, params: &BTreeMap<String, String>) -> bool {
    let content = params
        .iter()
        .filter(|(k, v)| *k != "sign" && !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    params
        .get("sign")
        .and_then(|x| base64::engine::general_purpose::STANDARD.decode(x).ok())
        .and_then(|x| Signature::try_from(x.as_slice()).ok())
        .is_some_and(|x| key.verify(content.as_bytes(), &x).is_ok())
}

/// A gateway answer as Alipay writes it: the response `member`'s text and, with a key, `sign`
/// over exactly that text.
pub fn signed_answer(member: &str, body: &Value, key: Option<&SigningKey<Sha256>>) -> String {
    let text = body.to_string();
    match key {
        Some(k) => {
            let sig = base64::engine::general_purpose::STANDARD
                .encode(k.sign(text.as_bytes()).to_bytes());
            format!("{{\"{member}\":{text},\"sign\":\"{sig}\"}}")
        }
        None => format!("{{\"{member}\":{text}}}"),
    }
}
