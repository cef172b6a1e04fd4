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

use crate::stub_platforms;

use std::time::Duration;

use mpcw_host::api::{BridgeCreated, BridgeView};
use mpcw_host::auth::wechat::WechatConfig;
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, Client, SignSpec};
use mpcw_tests::dapp::{ed25519_wallet, http, signer_post, Dapp};
use mpcw_tests::{read_qr, temp_dir, Host};
use serde_json::{json, Value};
use solana_transaction::versioned::VersionedTransaction;
use stub_platforms::{StubPlatforms, ALIPAY_APP};

const BLOCKHASH: &str = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
const TO: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

/// Calls of the platforms, by name: `stable_token`, `getwxacodeunlimit`, `generatescheme`,
/// Alipay's code.
const TOKEN: usize = 0;
const CODE: usize = 1;
const SCHEME: usize = 2;
const ALIPAY: usize = 3;

fn transfer() -> Value {
    json!({"kind": "transfer", "to": TO, "lamports": "1500000", "recentBlockhash": BLOCKHASH})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_opened_from_a_mini_program_code_is_signed() {
    let platforms = StubPlatforms::start().await;
    let (shop, shop_config) = Dapp::new("shop", None);
    let (other, other_config) = Dapp::new("other", None);
    let host = Host::start_with(mpcw_host::config::Config {
        dapps: vec![shop_config, other_config],
        wechat: Some(platforms.wechat_config()),
        alipay: Some(platforms.alipay_config()),
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
    assert_eq!(platforms.calls()[CODE], 1);
    assert_eq!(platforms.calls()[TOKEN], 1, "one access token");

    // The URL scheme, after WeChat says the held access token expired: one refresh.
    platforms.expire_token_once();
    let r = entry("wechat/link", &shop).await;
    assert_eq!(r.status(), 200);
    let link: Value = r.json().await.unwrap();
    assert!(link["openlink"]
        .as_str()
        .unwrap()
        .starts_with("weixin://dl/business/?t="));
    assert_eq!(link["expires_at"], created.expires_at);
    assert_eq!(platforms.calls()[TOKEN], 2, "refreshed once");
    let asked = platforms.schemes()[0].clone();
    assert_eq!(asked["jump_wxa"]["query"], format!("t={scene}"));
    assert_eq!(asked["expire_time"], created.expires_at);
    let r = entry("wechat/link", &shop).await;
    assert_eq!(r.json::<Value>().await.unwrap(), link, "cached");
    assert_eq!(platforms.calls()[SCHEME], 2);

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
        platforms.alipay_asked()[0]["query_param"],
        format!("t={scene}")
    );
    let _ = entry("alipay/code", &shop).await;
    assert_eq!(platforms.calls()[ALIPAY], 1, "cached");

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
    let platforms = StubPlatforms::start().await;
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
        approve_page: "pages/missing".into(),
        ..platforms.wechat_config()
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
    assert_eq!(platforms.calls()[CODE], 2, "a refusal is not cached");
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
        app_secret: "not-the-secret".into(),
        ..platforms.wechat_config()
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
