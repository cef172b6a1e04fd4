//! The WeChat and Alipay mini-programs (`web/miniprogram`) against a real signing server, their
//! page logic run by `web/miniprogram/test/flows.test.mjs` through `wx` and `my` objects that
//! behave as the platforms document (requests, storage, `wx.login` / `my.getAuthCode`,
//! `getRandomValues`, WeChat's `WXWebAssembly` loading the package's `.wasm.br`, Alipay's
//! package file read): log in, make "my wallet", open a Dapp's request from a WeChat
//! mini-program code's scene or an Alipay link's query, approve it (a wrong password first),
//! and a new phone recovers the wallet with the recovery code. The platforms' servers are
//! stubs here: WeChat's `code2Session`, `stable_token` and `getwxacodeunlimit` (recording the
//! scenes it drew), Alipay's gateway (`alipay.system.oauth.token`, and
//! `alipay.open.app.qrcode.create`), both checking what the platforms check.

mod stub_platforms;

use std::path::PathBuf;
use std::process::Command;

use mpcw_host::auth::dapps::{new_secret, DappConfig};
use mpcw_tests::{temp_dir, Host};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mini_programs_log_in_make_a_wallet_approve_and_recover() {
    assert!(
        root().join("web/miniprogram/wechat/lib/wasm").is_dir(),
        "scripts/test builds the mini-programs' lib/ first (scripts/web.sh)"
    );
    let platforms = stub_platforms::StubPlatforms::start().await;
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
        ..mpcw_tests::config(temp_dir("miniprogram"))
    };
    let host = Host::start_with(config).await;
    let url = host.url.clone();
    let stub = platforms.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "test/"])
            .envs([
                ("MPCW_TEST_HOST", url),
                ("MPCW_TEST_DAPP", "shop".to_owned()),
                ("MPCW_TEST_DAPP_SECRET", secret.to_string()),
                ("MPCW_TEST_PLATFORMS", stub),
            ])
            .current_dir(root().join("web/miniprogram"))
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("# pass 3\n")
            && report.contains("# fail 0")
            && report.contains("# skipped 0"),
        "{report}"
    );
    for line in report.lines().filter(|l| l.contains("timing ")) {
        println!("{line}");
    }
    assert!(
        platforms.scenes_drawn() >= 1,
        "WeChat drew the request's code"
    );
    assert!(
        platforms.alipay_codes() >= 1,
        "Alipay made the request's code"
    );
    host.stop().await;
}
