//! The TypeScript SDKs run by Node.js against a real signing server on loopback, with the
//! device party in WebAssembly (`web/device`). `scripts/test` builds the SDKs and the wasm
//! bindings first (scripts/web.sh).
//!
//! - `web/sdk/test/device.test.mjs`: a 2-of-3 wallet is made, a Solana transfer co-signed (the
//!   signature checked by Node's own Ed25519), a wrong password refused, and the wallet signs
//!   again after a reload.
//! - `web/sdk/test/oidc.test.mjs`: the PKCE challenge of RFC 7636's example, and a login's
//!   authorization URL, state check and refusal.
//! - `web/sdk/test/miniprogram.test.mjs` (also recovery with a code on a new phone, hashing with
//!   the wasm module as mini-programs must): the same SDK over WeChat's `wx.request` and
//!   Alipay's `my.request` and their storage (objects that behave as documented, over `fetch`).
//! - `web/dapp/test/dapp.test.mjs`: a Dapp asks through the bridge, the device approves, the
//!   Dapp follows the events, reads a transaction whose signature Node verifies, and verifies
//!   the signed callback (and refuses it altered, stale or under another secret); a rejection
//!   reaches the Dapp with its reason; the Dapp connects to the user's Solana account, names
//!   the connection in a request (another sender is refused), and disconnects it. The link's QR
//!   code, drawn by the SDK, reads back as the link in an independent reader (jsQR).
//! - `web/dapp/test/provider.test.mjs`: the EIP-1193 provider under viem's wallet client:
//!   connect, a personal message and EIP-712 typed data that viem verifies, 4001 for a
//!   rejection, 4100 for another account, and the Dapp's disconnect.
//! - `web/dapp/test/local.test.mjs`: self-custody, a BIP-39 wallet signing with no server: the
//!   known addresses of the all-"abandon" wallet, a SOL transfer Node verifies, and an EVM
//!   transaction and message whose signer alloy recovers here.
//! - `web/signer/test/signer.test.mjs`: the web signer page and the example shop's page
//!   (`web/dapp/example`) in a real headless Chromium (Playwright): Ed25519 and ECDSA wallets
//!   made in the page; the shop finds the wallet's EIP-1193 provider by EIP-6963 and, through
//!   ethers, connects (approved in the signer page; it shows the addresses the signer shows and
//!   the balance from a stub node), signs in and signs an order (verified by ethers), and pays
//!   0.01 ETH (nonce and fees from the stub node, which receives the broadcast: this test checks
//!   there with alloy that its sender is the address shown); a rejection is 4001; the shop pays
//!   in SOL through the Wallet Standard wallet (a transfer it built with @solana/web3.js, which
//!   the stub node verifies with Solana's SDK) and by a QR-code order through its server (Node
//!   verifies the signature); a
//!   wrong password, a rejected order, a reload, both languages; the user revokes the
//!   connection and the shop's next order is refused. Screenshots of each step are kept in
//!   `target/screenshots/signer`.
//! - `web/signer/test/recovery.test.mjs`: lose the phone, get the wallet back in a new browser
//!   context with the printed recovery code (a wrong code refused), the downloaded file, or a
//!   synced passkey; same addresses, the new phone co-signs (Node verifies), the old phone's
//!   share is refused; repeated wrong codes are held back; screenshots of the recovery screens
//!   in Chinese and English.
//! - `web/signer/test/recovery-delay.test.mjs`: with a recovery delay configured, the new
//!   phone's recovery waits, the old phone cancels it from its record, and after the delay the
//!   recovery runs.
//! - `web/signer/test/passkey.test.mjs`: a passkey (WebAuthn PRF, a virtual authenticator)
//!   in place of the password: the page seals the share under its secret and approves with it
//!   alone; without it nothing signs.
//! - `web/signer/test/mywallet.test.mjs`: "Create my wallet" makes keys for every scheme in
//!   one flow; one card per network family shows an address (checked here with each chain's
//!   own library), the balance and recent transactions from the stub node (the user logged in
//!   through the stub OpenID Connect provider); SOL and Sepolia ETH
//!   are sent from the send screen after the plugin's summary, and the stub node verifies them
//!   (Solana's SDK, alloy) from the addresses shown.
//! - `web/signer/test/login.test.mjs`: log in with OpenID Connect (authorization code with
//!   PKCE) through a stub provider (`stub_oidc`), on a server without the development login;
//!   a user who cancels at the provider sees why.

use crate::stub_node;
use crate::stub_oidc;

use std::process::Command;

use mpcw_host::auth::dapps::new_secret;
use mpcw_host::auth::dapps::DappConfig;
use mpcw_tests::node::{node_test, root};
use mpcw_tests::{free_port, temp_dir, Host};

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

/// A server's configuration with the Dapp `shop` ("Shop") registered under the API secret
/// whose hash is `secret_hash`, sending callbacks to `callback_url`.
fn with_shop(
    data_dir: &str,
    secret_hash: String,
    callback_url: Option<String>,
) -> mpcw_host::config::Config {
    mpcw_host::config::Config {
        dapps: vec![DappConfig {
            id: "shop".into(),
            name: "Shop".into(),
            allowed_origins: vec![],
            callback_url,
            api_secret_sha256: secret_hash,
        }],
        ..mpcw_tests::config(temp_dir(data_dir))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_sdk_makes_a_wallet_and_co_signs() {
    built();
    let host = Host::start(&temp_dir("web-sdk"), None).await;
    node_test(
        &root().join("web/sdk"),
        "test/",
        6,
        vec![("MPCW_TEST_HOST", host.url.clone())],
    )
    .await;
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dapp_sdk_asks_waits_and_verifies_the_callback() {
    built();
    // A free port for the Dapp's callback endpoint, which the Node test opens.
    let port = free_port();
    let (secret, hash) = new_secret();
    let config = with_shop(
        "web-dapp",
        hash,
        Some(format!("http://127.0.0.1:{port}/cb")),
    );
    let host = Host::start_with(config).await;
    let results = temp_dir("web-dapp-results").join("local.json");
    node_test(
        &root().join("web/dapp"),
        "test/",
        4,
        vec![
            ("MPCW_TEST_HOST", host.url.clone()),
            ("MPCW_TEST_DAPP", "shop".into()),
            ("MPCW_TEST_DAPP_SECRET", secret.to_string()),
            ("MPCW_TEST_CALLBACK_PORT", port.to_string()),
            ("MPCW_RESULTS", results.display().to_string()),
        ],
    )
    .await;
    check_self_custody(&serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap());
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_signer_approves_a_shops_eth_and_sol_payments_in_chromium() {
    built();
    // The shop's server (web/dapp/example, started by the Node test) takes callbacks here.
    let port = free_port();
    let (secret, hash) = new_secret();
    // Sepolia's node: the stub, which decodes what it receives with alloy.
    let node = stub_node::StubNode::start().await;
    let config = mpcw_host::config::Config {
        signer_dir: Some(root().join("web/signer/dist")),
        rpc_urls: [
            ("sepolia".to_owned(), node.url.clone()),
            ("solana".to_owned(), node.url.clone()),
        ]
        .into(),
        ..with_shop(
            "web-signer",
            hash,
            Some(format!("http://127.0.0.1:{port}/callback")),
        )
    };
    let host = Host::start_with(config).await;
    let screenshots = root().join("target/screenshots/signer");
    let results = temp_dir("web-signer-results").join("results.json");
    node_test(
        &root().join("web/signer"),
        "test/signer.test.mjs",
        1,
        vec![
            ("MPCW_TEST_HOST", host.url.clone()),
            ("MPCW_TEST_DAPP", "shop".into()),
            ("MPCW_TEST_DAPP_SECRET", secret.to_string()),
            ("MPCW_TEST_CALLBACK_PORT", port.to_string()),
            ("MPCW_SCREENSHOTS", screenshots.display().to_string()),
            ("MPCW_RESULTS", results.display().to_string()),
        ],
    )
    .await;
    for step in [
        "1-login",
        "2-wallets",
        "3-shop-connect",
        "3-connect",
        "3-shop-connected",
        "3-shop-eth",
        "4-eth-request",
        "5-eth-signed",
        "6-shop-eth-paid",
        "6-shop-sol-sent",
        "7-shop-sol-paid",
        "8-rejected",
        "9-english",
        "10-revoked",
    ] {
        assert!(screenshots.join(format!("{step}.png")).is_file(), "{step}");
    }
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&results).expect("the Node test wrote its results"))
            .unwrap();
    check_evm_payment(&results["evm"], &node.evm_sent());
    // The browser benchmark runs (one round) and prints its tables.
    let bench = tokio::task::spawn_blocking({
        let url = host.url.clone();
        move || {
            Command::new("node")
                .args(["bench/browser.mjs", &url, "1"])
                .current_dir(root().join("web/signer"))
                .output()
                .expect("node runs")
        }
    })
    .await
    .unwrap();
    let table = String::from_utf8_lossy(&bench.stdout);
    assert!(
        bench.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&bench.stderr)
    );
    for row in [
        "device party, WebAssembly",
        "key generation",
        "co-signing a Solana transfer",
    ] {
        assert!(table.contains(row), "{row}: {table}");
    }
    println!("{table}");
    // The Solana transaction's fee payer (whose signature Node verified) is the address the
    // page showed.
    let payer = hex::decode(results["solana"]["payer"].as_str().unwrap()).unwrap();
    let shown: solana_address::Address = results["solana"]["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(shown.to_bytes().as_slice(), payer.as_slice());
    // The transfer the shop built and the Wallet Standard wallet sent: Solana's SDK verified it
    // in the stub node; its payer is the address shown, its blockhash the node's.
    let sent = node.solana_sent();
    let sent: Vec<_> = sent
        .iter()
        .filter(|t| t.signature == results["solana"]["sent"].as_str().unwrap())
        .collect();
    assert_eq!(sent.len(), 1, "the node got the SOL payment once");
    assert_eq!(
        sent[0].payer,
        results["solana"]["address"].as_str().unwrap()
    );
    assert_eq!(sent[0].blockhash, stub_node::BLOCKHASH);
    host.stop().await;
}

/// What the Dapp SDK's self-custody wallet signed in Node (`web/dapp/test/local.test.mjs`):
/// alloy decodes the EIP-1559 transaction and recovers its signer, and recovers the
/// `personal_sign` message's signer; both are the wallet's address.
fn check_self_custody(local: &serde_json::Value) {
    use alloy_consensus::transaction::SignerRecoverable;
    use alloy_consensus::{Transaction, TxEnvelope};
    use alloy_eips::eip2718::Decodable2718;

    let address = local["address"].as_str().unwrap();
    let raw = hex::decode(local["raw"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    let tx = TxEnvelope::decode_2718(&mut raw.as_slice()).expect("alloy decodes it");
    assert!(tx.is_eip1559());
    assert_eq!(tx.chain_id(), Some(11_155_111));
    assert_eq!(tx.nonce(), 3);
    assert_eq!(tx.gas_limit(), 21_000);
    assert_eq!(
        tx.value().to_string(),
        local["tx"]["value"].as_str().unwrap()
    );
    assert_eq!(tx.max_fee_per_gas(), 40_000_000_000);
    assert_eq!(tx.max_priority_fee_per_gas(), Some(1_500_000_000));
    assert_eq!(
        tx.recover_signer().unwrap().to_checksum(None),
        address,
        "the transaction's signer"
    );
    let sig = hex::decode(
        local["signature"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
    )
    .unwrap();
    let sig = alloy_primitives::Signature::from_raw(&sig).unwrap();
    let signer = sig
        .recover_address_from_msg(local["text"].as_str().unwrap())
        .unwrap();
    assert_eq!(signer.to_checksum(None), address, "the message's signer");
}

/// The shop's ETH payment as Sepolia's (stub) node received it: alloy decoded it and
/// recovered its signer, which must be the address the signer page showed for the wallet made
/// in the browser; the recipient and amount are the shop's, and the nonce and fees the node's.
fn check_evm_payment(evm: &serde_json::Value, sent: &[stub_node::EvmSent]) {
    let hash = evm["tx_hash"].as_str().unwrap();
    let sent: Vec<_> = sent.iter().filter(|t| t.hash == hash).collect();
    assert_eq!(sent.len(), 1, "the node got the payment once");
    let tx = sent[0];
    // Sepolia's chain id (chains/sepolia.toml; chainid.network).
    assert_eq!(tx.chain_id, Some(11_155_111));
    assert_eq!(
        tx.sender,
        evm["address"].as_str().unwrap(),
        "alloy recovers the address shown"
    );
    assert_eq!(
        tx.rpc["to"].as_str().unwrap().to_lowercase(),
        evm["to"].as_str().unwrap()
    );
    let value = u128::from_str_radix(
        tx.rpc["value"].as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap();
    assert_eq!(
        value.to_string(),
        evm["value"].as_str().unwrap(),
        "the amount the shop asked for"
    );
    assert_eq!((tx.nonce, tx.gas), (stub_node::NONCE, 21_000));
    assert_eq!(tx.max_fee, 2 * stub_node::BASE_FEE + stub_node::TIP);
}

/// Run the signer page's browser test `file` (expecting `tests` tests) against a host with the
/// example shop, at http://localhost (a passkey's relying party must be a domain: the server
/// listens on loopback at a port chosen here and names that origin as its public URL), with
/// `recovery_delay_secs`; then check that it took the screenshots `shots`.
async fn signer_page_test(
    data_dir: &str,
    file: &'static str,
    tests: usize,
    recovery_delay_secs: u64,
    shots: &[&str],
) {
    built();
    let port = free_port();
    let (secret, hash) = new_secret();
    let config = mpcw_host::config::Config {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        public_url: Some(format!("http://localhost:{port}")),
        signer_dir: Some(root().join("web/signer/dist")),
        recovery_delay_secs,
        ..with_shop(data_dir, hash, None)
    };
    let host = Host::start_with(config).await;
    let screenshots = root().join("target/screenshots/signer");
    node_test(
        &root().join("web/signer"),
        file,
        tests,
        vec![
            ("MPCW_TEST_HOST", format!("http://localhost:{port}")),
            ("MPCW_TEST_DAPP", "shop".into()),
            ("MPCW_TEST_DAPP_SECRET", secret.to_string()),
            ("MPCW_TEST_RECOVERY_DELAY", recovery_delay_secs.to_string()),
            ("MPCW_SCREENSHOTS", screenshots.display().to_string()),
        ],
    )
    .await;
    for step in shots {
        assert!(screenshots.join(format!("{step}.png")).is_file(), "{step}");
    }
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_wallet_has_every_chain_and_sends_in_chromium() {
    built();
    let node = stub_node::StubNode::start().await;
    let provider = stub_oidc::StubOidc::start().await;
    let port = free_port();
    let (_, hash) = new_secret();
    let config = mpcw_host::config::Config {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        public_url: Some(format!("http://localhost:{port}")),
        signer_dir: Some(root().join("web/signer/dist")),
        dev_login: Some(false),
        oidc: vec![stub_provider(&provider)],
        rpc_urls: [
            ("sepolia".to_owned(), node.url.clone()),
            ("solana".to_owned(), node.url.clone()),
        ]
        .into(),
        ..with_shop("web-mywallet", hash, None)
    };
    let host = Host::start_with(config).await;
    let screenshots = root().join("target/screenshots/signer");
    let results = temp_dir("web-mywallet-results").join("results.json");
    node_test(
        &root().join("web/signer"),
        "test/mywallet.test.mjs",
        1,
        vec![
            ("MPCW_TEST_HOST", format!("http://localhost:{port}")),
            ("MPCW_RESULTS", results.display().to_string()),
            ("MPCW_SCREENSHOTS", screenshots.display().to_string()),
        ],
    )
    .await;
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    println!("my wallet made in {} s", results["seconds"]);
    check_family_addresses(&results["families"]);
    // The SOL transfer: verified by Solana's SDK in the stub node, paid by the address shown,
    // with the node's blockhash.
    let sent = node.solana_sent();
    let sol = &results["solana"];
    let sol_sent: Vec<_> = sent
        .iter()
        .filter(|t| t.signature == sol["sent"].as_str().unwrap())
        .collect();
    assert_eq!(sol_sent.len(), 1, "the node got the SOL transfer once");
    assert_eq!(sol_sent[0].payer, sol["address"].as_str().unwrap());
    assert_eq!(sol_sent[0].blockhash, stub_node::BLOCKHASH);
    // The ETH transfer: alloy recovered its sender, the Sepolia address shown; nonce and chain
    // from the node and the network file.
    let evm: Vec<_> = node
        .evm_sent()
        .into_iter()
        .filter(|t| t.hash == results["evm"]["sent"].as_str().unwrap())
        .collect();
    assert_eq!(evm.len(), 1, "the node got the ETH transfer once");
    assert_eq!(evm[0].sender, results["evm"]["address"].as_str().unwrap());
    assert_eq!(evm[0].chain_id, Some(11155111));
    assert_eq!(evm[0].nonce, stub_node::NONCE);
    for name in [
        "my-1-new-zh",
        "my-1-new-en",
        "my-2-home-en",
        "my-2-home-zh",
        "my-3-send-review-zh",
        "my-3-send-review-en",
        "my-4-sent-en",
        "my-4-sent-zh",
    ] {
        assert!(screenshots.join(format!("{name}.png")).is_file(), "{name}");
    }
    host.stop().await;
}

/// The stub OpenID Connect provider as the server's `[[oidc]]`, with the signer's client id.
fn stub_provider(provider: &stub_oidc::StubOidc) -> mpcw_host::auth::oidc::OidcProvider {
    mpcw_host::auth::oidc::OidcProvider {
        name: "stub".into(),
        issuer: provider.issuer.clone(),
        audiences: vec![stub_oidc::CLIENT_ID.into()],
        client_id: Some(stub_oidc::CLIENT_ID.into()),
        label: Some("Stub ID".into()),
        ..Default::default()
    }
}

/// Every network family's card shows an address its chain's own library reads as a
/// well-formed mainnet address of the right kind.
fn check_family_addresses(families: &serde_json::Value) {
    use std::str::FromStr as _;
    let families = families.as_array().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for f in families {
        let (plugin, scheme) = (f["plugin"].as_str().unwrap(), f["scheme"].as_str().unwrap());
        let (network, a) = (
            f["network"].as_str().unwrap(),
            f["address"].as_str().unwrap(),
        );
        match (plugin, scheme) {
            ("ethereum", _) => {
                let parsed = alloy_primitives::Address::from_str(a).unwrap();
                assert_eq!(parsed.to_checksum(None), a, "EIP-55");
                assert_eq!(network, "ethereum");
            }
            ("conflux", _) => {
                let decoded = cfx_addr::cfx_addr_decode(a).unwrap();
                assert_eq!(decoded.network, cfx_addr::Network::Main);
            }
            ("bitcoin", s) => {
                let address = bitcoin::Address::from_str(a)
                    .unwrap()
                    .require_network(bitcoin::Network::Bitcoin)
                    .unwrap();
                let kind = if s == "schnorr-bip340" {
                    bitcoin::AddressType::P2tr
                } else {
                    bitcoin::AddressType::P2wpkh
                };
                assert_eq!(address.address_type(), Some(kind), "{a}");
            }
            ("solana", _) => {
                let _: solana_address::Address = a.parse().unwrap();
            }
            ("ton", _) => {
                tonlib_core::TonAddress::from_str(a).unwrap();
            }
            ("monero", _) => {
                let address = monero::Address::from_str(a).unwrap();
                assert_eq!(address.network, monero::Network::Mainnet);
            }
            other => panic!("an unexpected family {other:?}"),
        }
        seen.insert((plugin, scheme));
    }
    assert_eq!(seen.len(), 7, "every family, once: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_signer_logs_in_with_openid_connect_in_chromium() {
    built();
    let provider = stub_oidc::StubOidc::start().await;
    let port = free_port();
    let (_, hash) = new_secret();
    let config = mpcw_host::config::Config {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        public_url: Some(format!("http://localhost:{port}")),
        signer_dir: Some(root().join("web/signer/dist")),
        dev_login: Some(false),
        oidc: vec![stub_provider(&provider)],
        ..with_shop("web-login", hash, None)
    };
    let host = Host::start_with(config).await;
    let screenshots = root().join("target/screenshots/signer");
    node_test(
        &root().join("web/signer"),
        "test/login.test.mjs",
        1,
        vec![
            ("MPCW_TEST_HOST", format!("http://localhost:{port}")),
            ("MPCW_TEST_DAPP", "shop".into()),
            ("MPCW_TEST_OIDC", provider.issuer.clone()),
            ("MPCW_SCREENSHOTS", screenshots.display().to_string()),
        ],
    )
    .await;
    assert_eq!(
        (provider.redeemed(), provider.refused()),
        (1, 0),
        "one code redeemed, none refused"
    );
    for step in [
        "login-1-zh",
        "login-1-en",
        "login-2-provider",
        "login-3-logged-in-en",
    ] {
        assert!(screenshots.join(format!("{step}.png")).is_file(), "{step}");
    }
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_protects_the_device_share_in_chromium() {
    signer_page_test(
        "web-passkey",
        "test/passkey.test.mjs",
        1,
        0,
        &["passkey-1-wallet", "passkey-2-signed"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_phone_is_recovered_in_chromium() {
    signer_page_test(
        "web-recovery",
        "test/recovery.test.mjs",
        4,
        0,
        &[
            "recovery-1-sheet-zh",
            "recovery-2-sheet-print",
            "recovery-3-lost-en",
            "recovery-4-wrong-code-en",
            "recovery-5-recovered-en",
            "recovery-6-record-zh",
            "recovery-7-lost-zh",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_recovery_is_cancelled_by_the_old_phone_in_chromium() {
    signer_page_test(
        "web-recovery-delay",
        "test/recovery-delay.test.mjs",
        1,
        3,
        &["recovery-8-waiting-en", "recovery-9-cancel-zh"],
    )
    .await;
}
