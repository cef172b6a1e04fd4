//! The bridge opens the mini-programs: for a Dapp's request the host gets a WeChat
//! mini-program code (`wxacode.getUnlimited`), a WeChat URL scheme (`urlscheme.generate`) and
//! an Alipay mini-program code (`alipay.open.app.qrcode.create`) from stub platform servers
//! that check what the platforms check (WeChat: the access token from `stable_token`, the
//! scene's length and characters, the page; Alipay: the RSA2 request signature, with answers
//! signed by "Alipay's" key). Entries are cached per request; platform errors come back as 502
//! with the platform's code; a stale access token is replaced once.
//!
//! Then the mini-program's side: the scene read back from the code's image opens the request
//! (after `POST /v1/bridge/peek` says which Dapp to log in for, and a WeChat login for it), the
//! plugin's summary is shown, the user approves, and the Dapp's signed Solana transaction
//! verifies with Solana's SDK. The link's token opens nothing afterwards.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use mpcw_host::api::{BridgeCreated, BridgeView};
use mpcw_host::auth::alipay::AlipayConfig;
use mpcw_host::auth::wechat::WechatConfig;
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, Client, SignSpec};
use mpcw_tests::dapp::{ed25519_wallet, http, signer_post, Dapp};
use mpcw_tests::{temp_dir, Host};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use serde_json::{json, Value};
use sha2::Sha256;
use solana_transaction::versioned::VersionedTransaction;

const APP_ID: &str = "wx-entry-app";
const APP_SECRET: &str = "wx-entry-secret";
const ALIPAY_APP: &str = "2021000000000002";
const PAGE: &str = "pages/approve/approve";
const BLOCKHASH: &str = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
const TO: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

/// The stub WeChat server's state.
#[derive(Default)]
struct Wechat {
    /// Access tokens handed out; the last is the good one.
    generation: AtomicU32,
    /// Calls of each API.
    token_calls: AtomicU32,
    code_calls: AtomicU32,
    scheme_calls: AtomicU32,
    /// Make the next call with a good token answer "expired" once.
    expire_once: std::sync::atomic::AtomicBool,
    /// The scenes and scheme queries asked for.
    scenes: Mutex<Vec<String>>,
    queries: Mutex<Vec<Value>>,
}

impl Wechat {
    fn good(&self, q: &BTreeMap<String, String>) -> bool {
        let current = format!("ACCESS-{}", self.generation.load(Ordering::SeqCst));
        q.get("access_token") == Some(&current)
    }
}

fn errcode(code: i64, msg: &str) -> Response {
    Json(json!({"errcode": code, "errmsg": msg})).into_response()
}

/// `POST /cgi-bin/stable_token`.
async fn stable_token(State(w): State<Arc<Wechat>>, Json(body): Json<Value>) -> Response {
    w.token_calls.fetch_add(1, Ordering::SeqCst);
    if body["grant_type"] != "client_credential" {
        return errcode(40002, "invalid grant_type");
    }
    if body["appid"] != APP_ID || body["secret"] != APP_SECRET {
        return errcode(40125, "invalid appsecret");
    }
    let gen = if body["force_refresh"] == true || w.generation.load(Ordering::SeqCst) == 0 {
        w.generation.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        w.generation.load(Ordering::SeqCst)
    };
    Json(json!({"access_token": format!("ACCESS-{gen}"), "expires_in": 7200})).into_response()
}

/// Whether the token is good, and the "expired once" switch.
fn check_token(w: &Wechat, q: &BTreeMap<String, String>) -> Option<Response> {
    if !w.good(q) {
        return Some(errcode(
            40001,
            "invalid credential, access_token is invalid",
        ));
    }
    if w.expire_once.swap(false, Ordering::SeqCst) {
        return Some(errcode(42001, "access_token expired"));
    }
    None
}

/// `POST /wxa/getwxacodeunlimit`: a PNG (a QR code of the scene, standing in for WeChat's
/// round code) or an error as JSON.
async fn wxacode(
    State(w): State<Arc<Wechat>>,
    Query(q): Query<BTreeMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    w.code_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(refused) = check_token(&w, &q) {
        return refused;
    }
    let scene = body["scene"].as_str().unwrap_or_default();
    // WeChat's rule for scenes: at most 32 visible characters, digits, letters and
    // !#$&'()*+,/:;=?@-._~ only.
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
    w.scenes.lock().unwrap().push(scene.to_owned());
    let image = mpcw_host::bridge::qr::png(scene).unwrap();
    ([(header::CONTENT_TYPE, "image/png")], image).into_response()
}

/// `POST /wxa/generatescheme`.
async fn generatescheme(
    State(w): State<Arc<Wechat>>,
    Query(q): Query<BTreeMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    let n = w.scheme_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(refused) = check_token(&w, &q) {
        return refused;
    }
    let jump = &body["jump_wxa"];
    if jump["path"] != PAGE || jump["query"].as_str().is_none_or(|q| q.len() > 512) {
        return errcode(40165, "invalid weapp pagepath");
    }
    if body["is_expire"] != true || body["expire_type"] != 0 || !body["expire_time"].is_i64() {
        return errcode(40097, "invalid args");
    }
    w.queries.lock().unwrap().push(body.clone());
    Json(json!({"errcode": 0, "errmsg": "ok",
        "openlink": format!("weixin://dl/business/?t=StubScheme{n}")}))
    .into_response()
}

/// The stub Alipay gateway's keys: the app's public key (to check requests) and Alipay's
/// private key (to sign answers).
struct Gateway {
    app_key: VerifyingKey<Sha256>,
    alipay: SigningKey<Sha256>,
    calls: AtomicU32,
    asked: Mutex<Vec<Value>>,
}

/// The gateway's `alipay.open.app.qrcode.create`: the request's RSA2 signature checked, the
/// answer's member signed.
async fn gateway(
    State(g): State<Arc<Gateway>>,
    Form(params): Form<BTreeMap<String, String>>,
) -> String {
    g.calls.fetch_add(1, Ordering::SeqCst);
    let content = params
        .iter()
        .filter(|(k, v)| *k != "sign" && !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let signed = params
        .get("sign")
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .and_then(|s| Signature::try_from(s.as_slice()).ok())
        .is_some_and(|s| g.app_key.verify(content.as_bytes(), &s).is_ok());
    let sign = |member: &str, body: &Value| {
        let text = body.to_string();
        let sig = base64::engine::general_purpose::STANDARD
            .encode(g.alipay.sign(text.as_bytes()).to_bytes());
        format!("{{\"{member}\":{text},\"sign\":\"{sig}\"}}")
    };
    if !signed {
        return sign(
            "error_response",
            &json!({"code": "40002", "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"}),
        );
    }
    let member = "alipay_open_app_qrcode_create_response";
    if params.get("method").map(String::as_str) != Some("alipay.open.app.qrcode.create")
        || params.get("app_id").map(String::as_str) != Some(ALIPAY_APP)
    {
        return sign(
            member,
            &json!({"code": "40004", "msg": "Business Failed",
                "sub_code": "isv.invalid-method", "sub_msg": "方法不存在"}),
        );
    }
    let biz: Value = params
        .get("biz_content")
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_default();
    if biz["url_param"] != PAGE {
        return sign(
            member,
            &json!({"code": "40004", "msg": "Business Failed",
                "sub_code": "INVALID_PARAMETER", "sub_msg": "url_param 不合法"}),
        );
    }
    g.asked.lock().unwrap().push(biz.clone());
    let n = g.calls.load(Ordering::SeqCst);
    sign(
        member,
        &json!({"code": "10000", "msg": "Success",
            "qr_code_url": format!("https://mdn.alipayobjects.com/stub/qrcode-{n}.jpg")}),
    )
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// `code2Session` for the mini-program's login.
async fn code2session(Query(q): Query<BTreeMap<String, String>>) -> Response {
    if q.get("appid").map(String::as_str) != Some(APP_ID)
        || q.get("secret").map(String::as_str) != Some(APP_SECRET)
    {
        return errcode(40125, "invalid appsecret");
    }
    match q.get("js_code").map(String::as_str) {
        Some("code-alice") => {
            Json(json!({"openid": "oAlice", "session_key": "c2Vzc2lvbg=="})).into_response()
        }
        _ => errcode(40029, "invalid code"),
    }
}

/// What the QR code in a PNG says.
fn read_qr(bytes: &[u8]) -> String {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    image.detect_grids()[0].decode().unwrap().1
}

fn transfer() -> Value {
    json!({"kind": "transfer", "to": TO, "lamports": "1500000", "recentBlockhash": BLOCKHASH})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_opened_from_a_mini_program_code_is_signed() {
    let wechat = Arc::new(Wechat::default());
    let wechat_url = serve(
        Router::new()
            .route("/cgi-bin/stable_token", post(stable_token))
            .route("/wxa/getwxacodeunlimit", post(wxacode))
            .route("/wxa/generatescheme", post(generatescheme))
            .route("/sns/jscode2session", get(code2session))
            .with_state(wechat.clone()),
    )
    .await;
    let app = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let alipay = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let gw = Arc::new(Gateway {
        app_key: VerifyingKey::new(app.to_public_key()),
        alipay: SigningKey::new(alipay.clone()),
        calls: AtomicU32::new(0),
        asked: Mutex::new(Vec::new()),
    });
    let gateway_url = serve(
        Router::new()
            .route("/gateway.do", post(gateway))
            .with_state(gw.clone()),
    )
    .await;
    let (shop, shop_config) = Dapp::new("shop", None);
    let (other, other_config) = Dapp::new("other", None);
    let host = Host::start_with(mpcw_host::config::Config {
        dapps: vec![shop_config, other_config],
        wechat: Some(WechatConfig {
            base_url: wechat_url.clone(),
            ..WechatConfig::new(APP_ID, APP_SECRET)
        }),
        alipay: Some(AlipayConfig {
            app_id: ALIPAY_APP.into(),
            private_key: app.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            alipay_public_key: alipay
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
            gateway: format!("{gateway_url}/gateway.do"),
            approve_page: PAGE.into(),
        }),
        ..mpcw_tests::config(temp_dir("mp-entries"))
    })
    .await;
    let url = host.url.clone();

    // The Dapp asks, then asks for the mini-programs' entries.
    let (code, created) = shop
        .create(&url, json!({"network": "solana", "request": transfer()}))
        .await;
    assert_eq!(code, 201, "{created}");
    let created: BridgeCreated = serde_json::from_value(created).unwrap();
    let entry = |path: &str, dapp: &Dapp| {
        let req = http()
            .get(format!("{url}/v1/bridge/requests/{}/{path}", created.id))
            .basic_auth(dapp.id, Some(&dapp.secret));
        async move { req.send().await.unwrap() }
    };
    let r = entry("wechat/code", &shop).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let cache = r.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache.starts_with("private, max-age="), "{cache}");
    let image = r.bytes().await.unwrap();
    let scene = read_qr(&image);
    assert_eq!(scene.len(), 32, "a scene of 32 characters: {scene}");
    assert!(!created.token.contains(&scene) && !scene.contains(&created.token));
    // Asked again (and by many at once): the platform is asked once per request.
    let mut again = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let asked = entry("wechat/code", &shop);
        again.spawn(async move { asked.await.bytes().await.unwrap() });
    }
    while let Some(got) = again.join_next().await {
        assert_eq!(got.unwrap(), image, "the cached image");
    }
    assert_eq!(wechat.code_calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        wechat.token_calls.load(Ordering::SeqCst),
        1,
        "one access token"
    );

    // The URL scheme, after WeChat says the held access token expired: one refresh.
    wechat.expire_once.store(true, Ordering::SeqCst);
    let r = entry("wechat/link", &shop).await;
    assert_eq!(r.status(), 200);
    let link: Value = r.json().await.unwrap();
    assert!(link["openlink"]
        .as_str()
        .unwrap()
        .starts_with("weixin://dl/business/?t="));
    assert_eq!(link["expires_at"], created.expires_at);
    assert_eq!(
        wechat.token_calls.load(Ordering::SeqCst),
        2,
        "refreshed once"
    );
    let asked = wechat.queries.lock().unwrap()[0].clone();
    assert_eq!(asked["jump_wxa"]["query"], format!("t={scene}"));
    assert_eq!(asked["expire_time"], created.expires_at);
    let r = entry("wechat/link", &shop).await;
    assert_eq!(r.json::<Value>().await.unwrap(), link, "cached");
    assert_eq!(wechat.scheme_calls.load(Ordering::SeqCst), 2);

    // Alipay: the code's URL from the signed answer, and the documented scheme.
    let r = entry("alipay/code", &shop).await;
    assert_eq!(r.status(), 200);
    let code: Value = r.json().await.unwrap();
    assert!(code["qr_code_url"]
        .as_str()
        .unwrap()
        .starts_with("https://mdn.alipayobjects.com/"));
    assert_eq!(
        code["scheme"],
        format!(
            "alipays://platformapi/startapp?appId={ALIPAY_APP}&page=pages%2Fapprove%2Fapprove&query=t%3D{scene}"
        )
    );
    assert_eq!(
        gw.asked.lock().unwrap()[0]["query_param"],
        format!("t={scene}")
    );
    let _ = entry("alipay/code", &shop).await;
    assert_eq!(gw.calls.load(Ordering::SeqCst), 1, "cached");

    // Another Dapp cannot have them.
    assert_eq!(entry("wechat/code", &other).await.status(), 404);

    // The mini-program: the scene says which Dapp to log in for...
    let (code, peeked) = call(&url, None, "/v1/bridge/peek", json!({"token": scene})).await;
    assert_eq!(code, 200, "{peeked}");
    assert_eq!(peeked["dapp"], "shop");
    assert_eq!(peeked["network"], "solana");
    assert_eq!(peeked["action"], "sign");
    let (code, _) = call(
        &url,
        None,
        "/v1/bridge/peek",
        json!({"token": "x".repeat(32)}),
    )
    .await;
    assert_eq!(code, 410, "an unknown token");
    // ... the user logs in with wx.login's code for it and has a wallet ...
    let (code, login) = call(
        &url,
        None,
        "/v1/auth/wechat",
        json!({"code": "code-alice", "dapp": "shop"}),
    )
    .await;
    assert_eq!(code, 201, "{login}");
    let alice = login["access_token"].as_str().unwrap().to_owned();
    let client = Client::new(&url).with_token(&alice);
    let (wallet, device_share) = ed25519_wallet(&client).await;
    // ... opens the request with the scene and sees the plugin's summary.
    let open = json!({"token": scene, "wallet": wallet.id});
    let (code, opened) = signer_post(&url, &alice, "/v1/bridge/open", open.clone()).await;
    assert_eq!(code, 200, "{opened}");
    assert!(opened["summary"]["title"]
        .as_str()
        .unwrap()
        .contains("0.0015 SOL"));
    // Opened, the request's entries and its link's token open nothing more.
    assert_eq!(
        signer_post(&url, &alice, "/v1/bridge/open", open).await.0,
        410
    );
    let by_link = json!({"token": created.token, "wallet": wallet.id});
    assert_eq!(
        signer_post(&url, &alice, "/v1/bridge/open", by_link)
            .await
            .0,
        409
    );
    assert_eq!(entry("wechat/code", &shop).await.status(), 409);
    let (code, _) = call(
        &url,
        None,
        "/v1/bridge/peek",
        json!({"token": created.token}),
    )
    .await;
    assert_eq!(code, 410);

    // Approved: the Dapp's transaction verifies with Solana's SDK.
    let sign = SignSpec {
        network: Registry::builtin().unwrap().get("solana").unwrap().clone(),
        request: opened["request"].clone(),
        signers: vec![0, 1],
        bridge: Some(created.id.clone()),
    };
    device::sign(&client, &wallet, &device_share, &sign, None, |_| {})
        .await
        .unwrap();
    let (_, view) = shop.read(&url, &created.id, 10).await;
    let view: BridgeView = serde_json::from_value(view).unwrap();
    assert_eq!(view.status, "done");
    let tx: VersionedTransaction = bincode::deserialize(&view.result.unwrap().raw).unwrap();
    tx.verify_and_hash_message()
        .expect("Solana's SDK verifies the transaction");
    host.stop().await;
}

async fn call(url: &str, token: Option<&str>, path: &str, body: Value) -> (u16, Value) {
    let mut r = http().post(format!("{url}{path}")).json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn platform_refusals_are_reported_and_not_cached() {
    let wechat = Arc::new(Wechat::default());
    let wechat_url = serve(
        Router::new()
            .route("/cgi-bin/stable_token", post(stable_token))
            .route("/wxa/getwxacodeunlimit", post(wxacode))
            .route("/wxa/generatescheme", post(generatescheme))
            .with_state(wechat.clone()),
    )
    .await;
    let (shop, shop_config) = Dapp::new("shop", None);
    let start = |config: WechatConfig| {
        let dapps = vec![shop_config.clone()];
        async move {
            Host::start_with(mpcw_host::config::Config {
                dapps,
                wechat: Some(config),
                ..mpcw_tests::config(temp_dir("mp-refusals"))
            })
            .await
        }
    };
    let get_entry = |url: String, id: String, path: &'static str| {
        let req = http()
            .get(format!("{url}/v1/bridge/requests/{id}/{path}"))
            .basic_auth(shop.id, Some(&shop.secret));
        async move {
            let r = req.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    // A page the mini-program does not have: WeChat's code and message, as 502.
    let host = start(WechatConfig {
        base_url: wechat_url.clone(),
        approve_page: "pages/missing".into(),
        ..WechatConfig::new(APP_ID, APP_SECRET)
    })
    .await;
    let (_, created) = shop
        .create(
            &host.url,
            json!({"network": "solana", "request": transfer()}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (code, body) = get_entry(host.url.clone(), id.clone(), "wechat/code").await;
        assert_eq!(code, 502, "{body}");
        assert_eq!(body["error"]["code"], "platform_refused", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("41030"));
    }
    assert_eq!(
        wechat.code_calls.load(Ordering::SeqCst),
        2,
        "a refusal is not cached"
    );
    // Alipay is not configured on this host.
    let (code, body) = get_entry(host.url.clone(), id.clone(), "alipay/code").await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (422, Some("platform_not_configured"))
    );
    // An expired request has no entries.
    let (_, short) = shop
        .create(
            &host.url,
            json!({"network": "solana", "request": transfer(), "ttl_secs": 1}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let short_id = short["id"].as_str().unwrap().to_owned();
    let (code, _) = get_entry(host.url.clone(), short_id, "wechat/link").await;
    assert_eq!(code, 410);
    host.stop().await;

    // A wrong secret: WeChat gives no token; the server says WeChat is unavailable and does
    // not echo the secret.
    let host = start(WechatConfig {
        base_url: wechat_url.clone(),
        ..WechatConfig::new(APP_ID, "not-the-secret")
    })
    .await;
    let (_, created) = shop
        .create(
            &host.url,
            json!({"network": "solana", "request": transfer()}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let (code, body) = get_entry(host.url.clone(), id, "wechat/link").await;
    assert_eq!(code, 502, "{body}");
    assert_eq!(body["error"]["code"], "platform_unavailable");
    assert!(body.to_string().contains("40125"), "{body}");
    assert!(!body.to_string().contains("not-the-secret"));
    host.stop().await;
}
