//! Multi-Dapp isolation: the same user logged in for two Dapps (and for none) has three separate
//! sets of wallets; a Dapp's token can neither list, read, address nor sign with a wallet made
//! under another Dapp. Logins name registered Dapps only, and from a browser only from the
//! Dapp's allowed origins.

use std::collections::BTreeMap;

use mpcw_engine::Scheme;
use mpcw_host::api::StartSigning;
use mpcw_host::auth::dapps::{new_secret, DappConfig};
use mpcw_host::device::{self, Client, DeviceError, WalletSpec};
use mpcw_tests::{temp_dir, Host};
use serde_json::{json, Value};

fn dapp(id: &str, origin: &str) -> DappConfig {
    DappConfig {
        id: id.into(),
        name: id.to_uppercase(),
        allowed_origins: vec![origin.into()],
        callback_url: None,
        api_secret_sha256: new_secret().1,
    }
}

async fn dev_login(url: &str, body: Value, origin: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{url}/v1/auth/dev"))
        .json(&body);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn status(e: &DeviceError) -> u16 {
    match e {
        DeviceError::Api { status, .. } => *status,
        other => panic!("expected an API error, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dapp_never_sees_another_dapps_wallets() {
    let config = mpcw_host::config::Config {
        dapps: vec![
            dapp("shop", "https://shop.example.cn"),
            dapp("game", "https://game.example.cn"),
        ],
        ..mpcw_tests::config(temp_dir("dapps"))
    };
    let host = Host::start_with(config).await;
    let mut clients = BTreeMap::new();
    for d in ["shop", "game", "none"] {
        let body = if d == "none" {
            json!({"subject": "alice"})
        } else {
            json!({"subject": "alice", "dapp": d})
        };
        let (code, token) = dev_login(&host.url, body, None).await;
        assert_eq!(code, 201, "{token}");
        assert_eq!(token["subject"], "dev:alice");
        assert_eq!(
            token["dapp"],
            if d == "none" { Value::Null } else { json!(d) }
        );
        let client = Client::new(&host.url).with_token(token["access_token"].as_str().unwrap());
        clients.insert(d, client);
    }

    let spec = WalletSpec {
        label: Some("shop wallet".into()),
        ..mpcw_tests::two_of_three(Scheme::Ed25519)
    };
    let (wallet, _shares) = device::create_wallet(&clients["shop"], &spec, |_| {})
        .await
        .expect("key generation for the shop");
    assert_eq!(clients["shop"].wallets().await.unwrap().len(), 1);
    assert!(!clients["shop"]
        .addresses(&wallet.id)
        .await
        .unwrap()
        .is_empty());

    for other in ["game", "none"] {
        let c = &clients[other];
        assert!(c.wallets().await.unwrap().is_empty(), "{other} lists none");
        assert_eq!(status(&c.wallet(&wallet.id).await.unwrap_err()), 404);
        assert_eq!(status(&c.addresses(&wallet.id).await.unwrap_err()), 404);
        let sign = StartSigning {
            network: "solana".into(),
            request: json!({"kind": "message", "message": "hi"}),
            signers: vec![0, 1],
            bridge: None,
        };
        let e = c.start_signing(&wallet.id, &sign, None).await.unwrap_err();
        assert_eq!(status(&e), 404, "{other} cannot sign with it");
    }

    // Only registered Dapps, and from a browser only their own origins.
    let (code, _) = dev_login(&host.url, json!({"subject": "a", "dapp": "nope"}), None).await;
    assert_eq!(code, 422);
    let body = json!({"subject": "alice", "dapp": "shop"});
    let (code, err) = dev_login(&host.url, body.clone(), Some("https://game.example.cn")).await;
    assert_eq!(code, 403, "{err}");
    let (code, _) = dev_login(&host.url, body, Some("https://shop.example.cn")).await;
    assert_eq!(code, 201);
    host.stop().await;
}
