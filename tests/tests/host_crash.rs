//! The signing server killed between two rounds of signing (SIGKILL, no shutdown), and started
//! again on the same database: no share is lost, the interrupted signing request and key
//! generation are reported as failed, their sessions are gone, and the wallet signs again. And
//! killed the moment a signature is reported done: the signature is still there, the same.

use std::collections::BTreeMap;

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::TxEnvelope;
use alloy_eips::eip2718::Decodable2718;
use mpcw_engine::{PartyKeys, Protocol, Scheme};
use mpcw_host::api::{CreateWallet, StartSigning, WalletView};
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, signing_session, Client, DeviceError, LocalShare, SignSpec};
use mpcw_host::store::WalletStatus;
use mpcw_tests::process::HostProcess;
use mpcw_tests::{runtime, temp_dir};
use serde_json::json;

/// Start the test host in its own process on `dir`; the process and its URL.
fn spawn_host(dir: &std::path::Path) -> (HostProcess, String) {
    HostProcess::spawn(env!("CARGO_BIN_EXE_mpcw-test-host"), [dir])
}

/// `user` logs in at `url` and makes a 2-of-3 wallet of `scheme`: the access token, the wallet
/// and the device's share (party 0).
async fn wallet_of(url: &str, user: &str, scheme: Scheme) -> (String, WalletView, LocalShare) {
    let token = Client::new(url).dev_login(user).await.unwrap().access_token;
    let client = Client::new(url).with_token(token.clone());
    let (wallet, shares) =
        device::create_wallet(&client, &mpcw_tests::two_of_three(scheme), |_| {})
            .await
            .expect("key generation");
    let share = shares.into_iter().next().unwrap();
    let device = LocalShare {
        index: 0,
        keys: share.keys,
        share: share.share,
    };
    (token, wallet, device)
}

fn transfer(from: &str, nonce: u64) -> serde_json::Value {
    json!({
        "kind": "transaction", "from": from, "nonce": nonce,
        "to": "0x3535353535353535353535353535353535353535", "value": "1000",
        "gas": 21000, "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_signing_rounds_loses_nothing() {
    let dir = temp_dir("host-crash");
    let (mut child, url) = spawn_host(&dir);
    let (token, wallet, device) = wallet_of(&url, "carol", Scheme::EcdsaSecp256k1).await;
    let carol = Client::new(&url).with_token(token.clone());
    let address = mpcw_tests::first_address(&carol, &wallet.id, "ethereum").await;

    // A second wallet whose key generation has started but not finished.
    let k = PartyKeys::generate(&mut rand_core::OsRng);
    let pending = carol
        .create_wallet(
            &CreateWallet {
                scheme: "ed25519".into(),
                threshold: 2,
                parties: 3,
                server_index: Some(1),
                roster: BTreeMap::from([(0, k.public()), (2, k.public())]),
                label: None,
            },
            None,
        )
        .await
        .unwrap();

    // Signing starts; the device takes part until it has answered the server's first round.
    let view = carol
        .start_signing(
            &wallet.id,
            &StartSigning {
                network: "ethereum".into(),
                request: transfer(&address, 0),
                signers: vec![0, 1],
                bridge: None,
            },
            None,
        )
        .await
        .unwrap();
    let payload = &view.payloads[0];
    let mut party = signing_session(&device, &wallet, &view, payload).unwrap();
    carol
        .post_messages(&payload.session, &party.start().unwrap())
        .await
        .unwrap();
    let parties = [0].into_iter().collect();
    let mut answered = 0;
    let mut after = 0;
    while answered == 0 {
        let batch = carol
            .fetch_messages(&payload.session, &parties, after, 5_000)
            .await
            .unwrap();
        for m in batch.messages {
            after = m.seq;
            let out = party.handle(&m.envelope).unwrap();
            answered += out.len();
            carol.post_messages(&payload.session, &out).await.unwrap();
        }
    }
    assert!(party.take_output().is_none(), "signing is between rounds");

    // SIGKILL: no shutdown, no cleanup.
    child.kill();

    let (mut child, url) = spawn_host(&dir);
    let carol = Client::new(&url).with_token(token);
    // The interrupted request failed cleanly; its session is gone.
    let failed = carol.signing(&view.id).await.unwrap();
    assert_eq!(failed.status, "failed");
    assert!(failed.error.unwrap().contains("restart"));
    let gone = carol.session(&payload.session).await.unwrap_err();
    assert!(
        matches!(gone, DeviceError::Api { status: 404, .. }),
        "{gone}"
    );
    // The half-made wallet has no key and says why; nothing half-made was kept.
    let half = carol.wallet(&pending.wallet.id).await.unwrap();
    assert_eq!(half.status, WalletStatus::Failed);
    assert!(half.public_key.is_none());
    // The ready wallet kept its share: it signs again, and alloy recovers its address.
    let again = carol.wallet(&wallet.id).await.unwrap();
    assert_eq!(again.status, WalletStatus::Ready);
    let registry = Registry::builtin().unwrap();
    let plugins = runtime();
    let signed = device::sign(
        &carol,
        &again,
        &device,
        &SignSpec {
            network: registry.get("ethereum").unwrap().clone(),
            request: transfer(&address, 0),
            signers: vec![0, 1],
            bridge: None,
        },
        Some(&plugins),
        |_| {},
    )
    .await
    .expect("signing after the crash");
    let raw = hex::decode(signed.result.unwrap().encoded.trim_start_matches("0x")).unwrap();
    let tx = TxEnvelope::decode_2718(&mut raw.as_slice()).unwrap();
    assert_eq!(tx.recover_signer().unwrap().to_checksum(None), address);

    child.kill();
    std::fs::remove_dir_all(dir).ok();
}

/// A crash right after a signature is reported done loses nothing: each of a few Ed25519
/// signatures is killed (SIGKILL) the moment the client has read `done`, and after the restart
/// the signing request is still `done` with the same signed output, which verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_reported_done_survives_a_kill() {
    use ed25519_dalek::Verifier as _;
    let dir = temp_dir("host-crash-done");
    let (mut child, url) = spawn_host(&dir);
    let (token, wallet, device) = wallet_of(&url, "dave", Scheme::Ed25519).await;
    let solana = Registry::builtin().unwrap().get("solana").unwrap().clone();
    let mut url = url;
    for round in 0..3 {
        let dave = Client::new(&url).with_token(token.clone());
        let message = format!("reported done, then killed: {round}");
        let signed = device::sign(
            &dave,
            &wallet,
            &device,
            &SignSpec {
                network: solana.clone(),
                request: json!({"kind": "message", "message": message}),
                signers: vec![0, 1],
                bridge: None,
            },
            None,
            |_| {},
        )
        .await
        .expect("signing");
        assert_eq!(signed.status, "done");
        // Killed the moment "done" was read: no shutdown, no flush.
        child.kill();
        let (next, next_url) = spawn_host(&dir);
        (child, url) = (next, next_url);
        let after = Client::new(&url)
            .with_token(token.clone())
            .signing(&signed.id)
            .await
            .unwrap();
        assert_eq!(after.status, "done", "round {round}");
        let (before, kept) = (signed.result.unwrap(), after.result.unwrap());
        assert_eq!(
            kept.encoded, before.encoded,
            "round {round}: the same output"
        );
        // The kept signature verifies under the wallet's Solana key over what was signed.
        let addresses = Client::new(&url)
            .with_token(token.clone())
            .addresses(&wallet.id)
            .await
            .unwrap();
        let key = &addresses
            .iter()
            .find(|n| n.network == "solana")
            .unwrap()
            .public_key;
        let key: [u8; 32] = hex::decode(key).unwrap().try_into().unwrap();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&key).unwrap();
        let signed_bytes = hex::decode(&after.payloads[0].bytes).unwrap();
        let sig = ed25519_dalek::Signature::from_slice(&after.signatures[0].bytes).unwrap();
        vk.verify(&signed_bytes, &sig)
            .expect("the kept signature verifies");
    }
    child.kill();
    std::fs::remove_dir_all(dir).ok();
}
