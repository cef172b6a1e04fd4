//! The WeChat and Alipay mini-programs (`web/miniprogram`) against a real signing server, their
//! page logic run by `web/miniprogram/test/flows.test.mjs` through `wx` and `my` objects that
//! behave as the platforms document (requests, storage, `wx.login` / `my.getAuthCode`,
//! `getRandomValues`, WeChat's `WXWebAssembly` loading the package's `.wasm.br`, Alipay's
//! package file read): log in, make "my wallet", open a Dapp's request from a WeChat
//! mini-program code's scene or an Alipay link's query, approve it (a wrong password first),
//! a SOL transfer sent from the send page (the stub node verifies it with Solana's SDK), and a
//! new phone recovers the wallet with the recovery code and refreshes its shares. The platforms' servers are
//! stubs here: WeChat's `code2Session`, `stable_token` and `getwxacodeunlimit` (recording the
//! scenes it drew), Alipay's gateway (`alipay.system.oauth.token`, and
//! `alipay.open.app.qrcode.create`), both checking what the platforms check.

use crate::stub_node;
use crate::stub_platforms;

use mpcw_host::auth::dapps::{new_secret, DappConfig};
use mpcw_tests::node::{node_test, root};
use mpcw_tests::{temp_dir, Host};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mini_programs_log_in_make_a_wallet_approve_and_recover() {
    assert!(
        root().join("web/miniprogram/wechat/lib/wasm").is_dir(),
        "scripts/test builds the mini-programs' lib/ first (scripts/web.sh)"
    );
    let platforms = stub_platforms::StubPlatforms::start().await;
    let node = stub_node::StubNode::start().await;
    let results = temp_dir("miniprogram-results").join("results.json");
    let (secret, hash) = new_secret();
    let config = mpcw_host::config::Config {
        dapps: vec![DappConfig {
            id: "shop".into(),
            name: "Shop".into(),
            allowed_origins: vec![],
            callback_url: None,
            api_secret_sha256: hash,
        }],
        wechat: Some(platforms.wechat_config()),
        alipay: Some(platforms.alipay_config()),
        rpc_urls: [("solana".to_owned(), node.url.clone())].into(),
        // Both platforms' phones come from loopback: recovery and refresh open each escrow.
        escrow_opens_per_hour: 100,
        ..mpcw_tests::config(temp_dir("miniprogram"))
    };
    let host = Host::start_with(config).await;
    let report = node_test(
        &root().join("web/miniprogram"),
        "test/",
        3,
        vec![
            ("MPCW_TEST_HOST", host.url.clone()),
            ("MPCW_TEST_DAPP", "shop".to_owned()),
            ("MPCW_TEST_DAPP_SECRET", secret.to_string()),
            ("MPCW_TEST_PLATFORMS", platforms.url.clone()),
            ("MPCW_RESULTS", results.display().to_string()),
        ],
    )
    .await;
    for line in report.lines().filter(|l| l.contains("timing ")) {
        println!("{line}");
    }
    assert!(
        !platforms.scenes().is_empty(),
        "WeChat drew the requests' codes"
    );
    assert!(
        !platforms.alipay_asked().is_empty(),
        "Alipay made the requests' codes"
    );
    // Each platform's SOL transfer reached the node once, verified there by Solana's SDK, paid
    // by the address the wallet screen showed, with the node's blockhash.
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    let sent = node.solana_sent();
    for platform in ["wechat", "alipay"] {
        let r = &results[platform];
        let got: Vec<_> = sent
            .iter()
            .filter(|t| t.signature == r["sent"].as_str().unwrap())
            .collect();
        assert_eq!(got.len(), 1, "{platform}: the node got the transfer once");
        assert_eq!(got[0].payer, r["address"].as_str().unwrap(), "{platform}");
        assert_eq!(got[0].blockhash, stub_node::BLOCKHASH, "{platform}");
    }
    host.stop().await;
}
