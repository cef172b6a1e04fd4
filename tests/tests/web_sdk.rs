//! The TypeScript device SDK (`web/sdk`) with the device party in WebAssembly (`web/device`),
//! run by Node.js against a real signing server on loopback: `web/sdk/test/device.test.mjs`
//! makes a 2-of-3 wallet, co-signs a Solana transfer (checked by Node's own Ed25519), refuses a
//! wrong password, and signs again after a reload. `scripts/test` builds the SDK and the wasm
//! bindings first (scripts/web.sh).

use std::path::PathBuf;
use std::process::Command;

use mpcw_tests::{temp_dir, Host};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_makes_a_wallet_and_co_signs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for built in [
        "web/sdk/dist/index.js",
        "web/device/pkg-node/mpcw_device_wasm.js",
    ] {
        assert!(
            root.join(built).exists(),
            "{built} is missing: run the tests with scripts/test, which builds the SDK (scripts/web.sh)"
        );
    }
    let host = Host::start(&temp_dir("web-sdk"), None, vec![]).await;
    let url = host.url.clone();
    let sdk = root.join("web/sdk");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "test/"])
            .env("MPCW_TEST_HOST", url)
            .current_dir(sdk)
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
        report.contains("# pass 1") && report.contains("# fail 0"),
        "{report}"
    );
    host.stop().await;
}
