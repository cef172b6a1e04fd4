//! The TypeScript SDKs run by Node.js against a real signing server on loopback, with the
//! device party in WebAssembly (`web/device`). `scripts/test` builds the SDKs and the wasm
//! bindings first (scripts/web.sh).
//!
//! - `web/sdk/test/device.test.mjs`: a 2-of-3 wallet is made, a Solana transfer co-signed (the
//!   signature checked by Node's own Ed25519), a wrong password refused, and the wallet signs
//!   again after a reload.
//! - `web/dapp/test/dapp.test.mjs`: a Dapp asks through the bridge, the device approves, the
//!   Dapp follows the events, reads a transaction whose signature Node verifies, and verifies
//!   the signed callback (and refuses it altered, stale or under another secret); a rejection
//!   reaches the Dapp with its reason.
//! - `web/signer/test/signer.test.mjs`: the web signer page in a real headless Chromium
//!   (Playwright): a wallet made in the page approves a Dapp's Solana transfer, whose signature
//!   Node verifies; a wrong password, a rejection, a reload, both languages. Screenshots of each
//!   step are kept in `target/screenshots/signer`.

use std::path::{Path, PathBuf};
use std::process::Command;

use mpcw_host::auth::dapps::new_secret;
use mpcw_host::auth::dapps::DappConfig;
use mpcw_tests::{temp_dir, Host};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn built() {
    for built in [
        "web/sdk/dist/index.js",
        "web/dapp/dist/index.js",
        "web/device/pkg-node/mpcw_device_wasm.js",
        "web/signer/dist/index.html",
        "web/signer/node_modules/playwright-core",
    ] {
        assert!(
            root().join(built).exists(),
            "{built} is missing: run the tests with scripts/test, which builds the SDKs (scripts/web.sh)"
        );
    }
}

/// Run `node --test test/` in `package` with `env`; its report.
async fn node_test(package: &Path, env: Vec<(&'static str, String)>) -> String {
    let dir = package.to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "test/"])
            .envs(env)
            .current_dir(dir)
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
        report.contains("# pass 1")
            && report.contains("# fail 0")
            && report.contains("# skipped 0"),
        "{report}"
    );
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_sdk_makes_a_wallet_and_co_signs() {
    built();
    let host = Host::start(&temp_dir("web-sdk"), None, vec![]).await;
    node_test(
        &root().join("web/sdk"),
        vec![("MPCW_TEST_HOST", host.url.clone())],
    )
    .await;
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dapp_sdk_asks_waits_and_verifies_the_callback() {
    built();
    // A free port for the Dapp's callback endpoint, which the Node test opens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (secret, hash) = new_secret();
    let config = mpcw_host::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: temp_dir("web-dapp"),
        dapps: vec![DappConfig {
            id: "shop".into(),
            name: "Shop".into(),
            allowed_origins: vec![],
            callback_url: Some(format!("http://127.0.0.1:{port}/cb")),
            api_secret_sha256: hash,
        }],
        ..Default::default()
    };
    let host = Host::start_with(config, vec![]).await;
    node_test(
        &root().join("web/dapp"),
        vec![
            ("MPCW_TEST_HOST", host.url.clone()),
            ("MPCW_TEST_DAPP", "shop".into()),
            ("MPCW_TEST_DAPP_SECRET", secret.to_string()),
            ("MPCW_TEST_CALLBACK_PORT", port.to_string()),
        ],
    )
    .await;
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_signer_approves_a_dapp_request_in_chromium() {
    built();
    let (secret, hash) = new_secret();
    let config = mpcw_host::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: temp_dir("web-signer"),
        signer_dir: Some(root().join("web/signer/dist")),
        dapps: vec![DappConfig {
            id: "shop".into(),
            name: "Shop".into(),
            allowed_origins: vec![],
            callback_url: None,
            api_secret_sha256: hash,
        }],
        ..Default::default()
    };
    let host = Host::start_with(config, vec![]).await;
    let screenshots = root().join("target/screenshots/signer");
    node_test(
        &root().join("web/signer"),
        vec![
            ("MPCW_TEST_HOST", host.url.clone()),
            ("MPCW_TEST_DAPP", "shop".into()),
            ("MPCW_TEST_DAPP_SECRET", secret.to_string()),
            ("MPCW_SCREENSHOTS", screenshots.display().to_string()),
        ],
    )
    .await;
    for step in [
        "1-login",
        "2-wallet",
        "3-request",
        "4-signed",
        "5-rejected",
        "6-english",
    ] {
        assert!(screenshots.join(format!("{step}.png")).is_file(), "{step}");
    }
    host.stop().await;
}
