//! WeChat and Alipay logins against stub servers on loopback that speak the providers'
//! documented formats: WeChat's `code2Session` (`GET /sns/jscode2session`, JSON answers with
//! `openid`/`session_key`/`unionid` or `errcode`/`errmsg`), and Alipay's gateway with
//! `alipay.system.oauth.token` (form parameters signed RSA2, JSON answers whose response
//! member is signed with Alipay's key). Good logins, each provider's error codes, and answers
//! that are forged or unsigned.

use crate::stub_platforms;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use mpcw_host::auth::alipay::AlipayConfig;
use mpcw_host::auth::wechat::WechatConfig;
use mpcw_tests::{temp_dir, Host};
use rsa::pkcs1v15::{SigningKey, VerifyingKey};
use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use serde_json::{json, Value};
use sha2::Sha256;
use stub_platforms::{request_signed, signed_answer};

const APP_ID: &str = "wx-test-app";
const APP_SECRET: &str = "wx-test-secret";
const SESSION_KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";

/// `code2Session` as WeChat documents it, for a few codes.
async fn code2session(Query(q): Query<BTreeMap<String, String>>) -> impl IntoResponse {
    let body = if q.get("appid").map(String::as_str) != Some(APP_ID) {
        json!({"errcode": 40013, "errmsg": "invalid appid"})
    } else if q.get("secret").map(String::as_str) != Some(APP_SECRET) {
        json!({"errcode": 40125, "errmsg": "invalid appsecret"})
    } else if q.get("grant_type").map(String::as_str) != Some("authorization_code") {
        json!({"errcode": 40002, "errmsg": "invalid grant_type"})
    } else {
        match q.get("js_code").map(String::as_str) {
            Some("code-alice") => json!({"openid": "oAlice-openid", "session_key": SESSION_KEY,
                "unionid": "uAlice-unionid"}),
            Some("code-used") => json!({"errcode": 40163, "errmsg": "code been used"}),
            Some("code-risky") => json!({"errcode": 40226, "errmsg": "user is high risk"}),
            Some("code-busy") => json!({"errcode": -1, "errmsg": "system error"}),
            Some("code-limited") => {
                json!({"errcode": 45011, "errmsg": "api minute-quota reach limit"})
            }
            _ => json!({"errcode": 40029, "errmsg": "invalid code"}),
        }
    };
    // WeChat labels its JSON text/plain.
    ([("content-type", "text/plain")], body.to_string())
}

async fn login(url: &str, path: &str, body: Value) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn wechat_logins_and_refusals() {
    let stub =
        mpcw_tests::serve(Router::new().route("/sns/jscode2session", get(code2session))).await;
    let config = |secret: &str| mpcw_host::config::Config {
        wechat: Some(WechatConfig {
            base_url: stub.clone(),
            ..WechatConfig::new(APP_ID, secret)
        }),
        ..mpcw_tests::config(temp_dir("wechat"))
    };
    let host = Host::start_with(config(APP_SECRET)).await;

    let (status, text) = login(&host.url, "/v1/auth/wechat", json!({"code": "code-alice"})).await;
    assert_eq!(status, 201, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["subject"], format!("wechat:{APP_ID}:oAlice-openid"));
    assert!(
        !text.contains(SESSION_KEY),
        "the session key is never returned"
    );
    let wallets = reqwest::Client::new()
        .get(format!("{}/v1/wallets", host.url))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(wallets.status().as_u16(), 200);

    for (code, status, needle) in [
        ("code-used", 401, "40163"),
        ("code-risky", 401, "40226"),
        ("nonsense", 401, "40029"),
        ("", 401, "malformed"),
        ("code-busy", 502, "system error"),
        ("code-limited", 502, "45011"),
    ] {
        let (got, text) = login(&host.url, "/v1/auth/wechat", json!({"code": code})).await;
        assert_eq!(got, status, "{code}: {text}");
        assert!(text.contains(needle), "{code}: {text}");
    }
    let (got, _) = login(&host.url, "/v1/auth/wechat", json!({"js_code": "x"})).await;
    assert_eq!(got, 422, "unknown fields are refused");
    host.stop().await;

    // A wrong secret in the configuration is the server's problem, not the user's.
    let misconfigured = Host::start_with(config("wrong")).await;
    let (got, text) = login(
        &misconfigured.url,
        "/v1/auth/wechat",
        json!({"code": "code-alice"}),
    )
    .await;
    assert_eq!(got, 502, "{text}");
    assert!(!text.contains("wrong"), "the secret is not echoed: {text}");
    // And a server without WeChat configured says so.
    let (got, _) = login(
        &misconfigured.url,
        "/v1/auth/alipay",
        json!({"auth_code": "x"}),
    )
    .await;
    assert_eq!(got, 422);
    misconfigured.stop().await;
}

/// The stub gateway's keys: the app's public key (to check requests) and Alipay's private key
/// (to sign answers), and a key that is not Alipay's (to forge answers).
struct Gateway {
    app_key: VerifyingKey<Sha256>,
    alipay: SigningKey<Sha256>,
    impostor: SigningKey<Sha256>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn gateway(
    State(g): State<Arc<Gateway>>,
    Form(params): Form<BTreeMap<String, String>>,
) -> String {
    let signed = request_signed(&g.app_key, &params);
    let timestamp_ok = params
        .get("timestamp")
        .is_some_and(|t| t.len() == 19 && t.as_bytes()[4] == b'-' && t.as_bytes()[10] == b' ');
    let error = |sub_code: &str, sub_msg: &str, key: Option<&SigningKey<Sha256>>| {
        signed_answer(
            "error_response",
            &json!({"code": "40002", "msg": "Invalid Arguments",
                "sub_code": sub_code, "sub_msg": sub_msg}),
            key,
        )
    };
    if !signed {
        return error("isv.invalid-signature", "验签出错", Some(&g.alipay));
    }
    let expected = [
        ("method", "alipay.system.oauth.token"),
        ("sign_type", "RSA2"),
        ("charset", "utf-8"),
        ("version", "1.0"),
        ("grant_type", "authorization_code"),
        ("app_id", "2021000000000001"),
    ];
    if !timestamp_ok
        || expected
            .iter()
            .any(|(k, v)| params.get(*k).map(String::as_str) != Some(*v))
    {
        return error("isv.missing-method", "参数错误", Some(&g.alipay));
    }
    let ok = json!({"access_token": "authusrB9b0d3e2b", "alipay_user_id": "20880012939123234423",
        "expires_in": 1296000, "re_expires_in": 2592000, "refresh_token": "authusrB1f0e4c1",
        "open_id": "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"});
    let member = "alipay_system_oauth_token_response";
    match params.get("code").map(String::as_str) {
        Some("auth-alice") => signed_answer(member, &ok, Some(&g.alipay)),
        Some("auth-forged") => signed_answer(member, &ok, Some(&g.impostor)),
        Some("auth-unsigned") => signed_answer(member, &ok, None),
        _ => error("isv.code-invalid", "授权码code无效", Some(&g.alipay)),
    }
}

fn rsa_key() -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn alipay_logins_and_refusals() {
    let app = rsa_key();
    let alipay = rsa_key();
    let g = Arc::new(Gateway {
        app_key: VerifyingKey::new(app.to_public_key()),
        alipay: SigningKey::new(alipay.clone()),
        impostor: SigningKey::new(rsa_key()),
    });
    let stub = mpcw_tests::serve(
        Router::new()
            .route("/gateway.do", post(gateway))
            .with_state(g),
    )
    .await;
    let config = mpcw_host::config::Config {
        alipay: Some(AlipayConfig {
            app_id: "2021000000000001".into(),
            private_key: app.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            // Alipay's console gives its public key as bare base64.
            alipay_public_key: b64(alipay
                .to_public_key()
                .to_public_key_der()
                .unwrap()
                .as_bytes()),
            gateway: format!("{stub}/gateway.do"),
            approve_page: "pages/approve/approve".into(),
        }),
        ..mpcw_tests::config(temp_dir("alipay"))
    };
    let host = Host::start_with(config).await;
    let (status, text) = login(
        &host.url,
        "/v1/auth/alipay",
        json!({"auth_code": "auth-alice"}),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["subject"],
        "alipay:2021000000000001:074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"
    );
    assert!(
        !text.contains("authusrB"),
        "Alipay's tokens are not returned"
    );
    for (code, status, needle) in [
        ("auth-expired", 401, "isv.code-invalid"),
        ("auth-forged", 502, "not Alipay's"),
        ("auth-unsigned", 502, "not signed"),
    ] {
        let (got, text) = login(&host.url, "/v1/auth/alipay", json!({"auth_code": code})).await;
        assert_eq!(got, status, "{code}: {text}");
        assert!(text.contains(needle), "{code}: {text}");
    }
    host.stop().await;
}

/// A client hammering the WeChat login cannot make the server call WeChat as fast as it likes:
/// past its per-client burst it gets 429s, and WeChat sees only the calls the limit let through.
#[tokio::test(flavor = "multi_thread")]
async fn one_client_cannot_make_the_server_flood_wechat() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = calls.clone();
    let stub = mpcw_tests::serve(Router::new().route(
        "/sns/jscode2session",
        get(move |q: Query<BTreeMap<String, String>>| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            code2session(q)
        }),
    ))
    .await;
    let host = Host::start_with(mpcw_host::config::Config {
        // Bursts of 5, then one every 2 s.
        client_rate_limit_per_minute: 30,
        wechat: Some(WechatConfig {
            base_url: stub,
            ..WechatConfig::new(APP_ID, APP_SECRET)
        }),
        ..mpcw_tests::config(temp_dir("wechat-flood"))
    })
    .await;
    let mut statuses = BTreeMap::new();
    let started = std::time::Instant::now();
    for _ in 0..60 {
        let (status, _) = login(&host.url, "/v1/auth/wechat", json!({"code": "code-alice"})).await;
        *statuses.entry(status).or_insert(0) += 1;
    }
    let through = calls.load(std::sync::atomic::Ordering::SeqCst);
    // The burst, and one more for every 2 s the loop took.
    let allowed = 5 + started.elapsed().as_secs() as usize / 2 + 1;
    assert!(
        through <= allowed,
        "{through} calls reached WeChat: {statuses:?}"
    );
    assert_eq!(statuses.get(&201).copied().unwrap_or(0), through);
    assert_eq!(statuses.get(&429).copied().unwrap_or(0), 60 - through);
    host.stop().await;
}
