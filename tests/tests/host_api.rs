//! The signing server over HTTP on a loopback port, with the device party in Rust: a 2-of-3
//! ECDSA wallet is born by key generation between the device, its recovery share and the
//! server; its Ethereum address is checked against an independent derivation; an EIP-1559
//! transfer is co-signed and the sender recovered by alloy; the server restarts on the same
//! database and the wallet signs again, this time with the recovery share.

use std::collections::{BTreeMap, BTreeSet};

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::TxEnvelope;
use alloy_eips::eip2718::Decodable2718;
use mpcw_engine::ecdsa::SignRound;
use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
use mpcw_engine::{Envelope, PartyIndex, PartyKeys, Protocol, Scheme, SessionContext};
use mpcw_host::api::{CreateWallet, StartSigning};
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, Client, DeviceError, LocalShare, SignSpec, WalletSpec};
use mpcw_tests::{first_address, runtime, temp_dir, two_of_three, Host};
use serde_json::json;

fn api_code(e: &DeviceError) -> (u16, String) {
    match e {
        DeviceError::Api { status, code, .. } => (*status, code.clone()),
        other => panic!("expected an API error, got {other}"),
    }
}

async fn login(url: &str, subject: &str) -> Client {
    Client::new(url).with_token(token(url, subject).await)
}

async fn token(url: &str, subject: &str) -> String {
    Client::new(url)
        .dev_login(subject)
        .await
        .expect("dev login")
        .access_token
}

fn transfer(from: &str, nonce: u64) -> serde_json::Value {
    json!({
        "kind": "transaction",
        "from": from,
        "nonce": nonce,
        "to": "0x3535353535353535353535353535353535353535",
        "value": "1000000000000000",
        "gas": 21000,
        "maxFeePerGas": "30000000000",
        "maxPriorityFeePerGas": "1000000000",
    })
}

fn recovered_sender(raw_hex: &str) -> String {
    let raw = hex::decode(raw_hex.trim_start_matches("0x")).expect("hex");
    let tx = TxEnvelope::decode_2718(&mut raw.as_slice()).expect("alloy decodes the transaction");
    assert!(tx.is_eip1559());
    tx.recover_signer()
        .expect("signature recovers")
        .to_checksum(None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecdsa_wallet_lifecycle_on_sqlite() {
    wallet_lifecycle(None).await;
}

/// The same on PostgreSQL: `scripts/test` (the test command) starts a server on loopback and
/// sets `MPCW_TEST_POSTGRES_URL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecdsa_wallet_lifecycle_on_postgres() {
    let url = std::env::var("MPCW_TEST_POSTGRES_URL").expect(
        "MPCW_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts PostgreSQL",
    );
    wallet_lifecycle(Some(url)).await;
}

/// Create, sign, restart, sign with the recovery share, recover a lost device by resharing,
/// sign with the new device, see the lost device's share refused, refresh, sign again, and see
/// the share from before the refresh refused.
async fn wallet_lifecycle(database_url: Option<String>) {
    let dir = temp_dir("host-api");
    let host = Host::start(&dir, database_url.clone()).await;
    let alice_token = token(&host.url, "alice").await;
    let alice = Client::new(&host.url).with_token(alice_token.clone());

    let spec = WalletSpec {
        label: Some("main".into()),
        ..two_of_three(Scheme::EcdsaSecp256k1)
    };
    let (wallet, shares) = device::create_wallet(&alice, &spec, |_| {})
        .await
        .expect("key generation over HTTP");
    assert_eq!(wallet.server_index, 1);
    let mut shares = shares.into_iter();
    let device_share = shares.next().unwrap();
    let recovery_share = shares.next().unwrap();
    assert_eq!((device_share.index, recovery_share.index), (0, 2));

    // The server's address for Ethereum equals one derived independently from the device's
    // own copy of the group key.
    let registry = Registry::builtin().unwrap();
    let ethereum = registry.get("ethereum").unwrap().clone();
    let path = ethereum.path().unwrap();
    let derived = device_share.share.derive(&path).unwrap().public_key;
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&derived).unwrap();
    let expected = alloy_primitives::Address::from_public_key(&vk).to_checksum(None);
    let listed = alice.addresses(&wallet.id).await.unwrap();
    let on_ethereum = listed.iter().find(|n| n.network == "ethereum").unwrap();
    assert_eq!(on_ethereum.addresses[0].value, expected);
    // The same address on every EVM network of the registry.
    let evm: Vec<_> = listed
        .iter()
        .filter(|n| registry.get(&n.network).unwrap().plugin == "ethereum")
        .collect();
    assert!(evm.len() >= 4);
    assert!(evm.iter().all(|n| n.addresses[0].value == expected));

    // Signers must include the server.
    let err = alice
        .start_signing(
            &wallet.id,
            &StartSigning {
                network: "ethereum".into(),
                request: transfer(&expected, 0),
                signers: vec![0, 2],
                bridge: None,
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (422, "invalid_request".into()));

    let plugins = runtime();
    let device = LocalShare {
        index: 0,
        keys: device_share.keys,
        share: device_share.share,
    };
    let view = device::sign(
        &alice,
        &wallet,
        &device,
        &SignSpec {
            network: ethereum.clone(),
            request: transfer(&expected, 0),
            signers: vec![0, 1],
            bridge: None,
        },
        Some(&plugins),
        |_| {},
    )
    .await
    .expect("co-signing over HTTP");
    assert_eq!(view.status, "done");
    let result = view.result.expect("signed transaction");
    assert_eq!(recovered_sender(&result.encoded), expected);

    // Another subject sees nothing of Alice's.
    let bob = login(&host.url, "bob").await;
    assert!(bob.wallets().await.unwrap().is_empty());
    assert_eq!(api_code(&bob.wallet(&wallet.id).await.unwrap_err()).0, 404);
    assert_eq!(api_code(&bob.signing(&view.id).await.unwrap_err()).0, 404);

    // Restart on the same data directory: the login, the wallet and its server share are still
    // there, and the recovery share now co-signs with the server.
    host.stop().await;
    let host = Host::start(&dir, database_url).await;
    let alice = Client::new(&host.url).with_token(alice_token);
    let again = alice.wallet(&wallet.id).await.unwrap();
    assert_eq!(
        again.public_key.as_ref().unwrap().public_key,
        wallet.public_key.as_ref().unwrap().public_key
    );
    let recovery = LocalShare {
        index: 2,
        keys: recovery_share.keys,
        share: recovery_share.share,
    };
    let view = device::sign(
        &alice,
        &wallet,
        &recovery,
        &SignSpec {
            network: ethereum.clone(),
            request: transfer(&expected, 1),
            signers: vec![1, 2],
            bridge: None,
        },
        Some(&plugins),
        |_| {},
    )
    .await
    .expect("co-signing after a restart");
    assert_eq!(recovered_sender(&view.result.unwrap().encoded), expected);

    // The device is lost. The recovery share and the server reshare the key to a new device
    // (new identity keys at index 0), with a new pairwise oblivious-transfer setup for every pair.
    let (reshared, new_shares) = device::recover(&alice, &again, 0, &recovery, |_| {})
        .await
        .expect("recovery by resharing");
    assert_eq!(
        reshared.public_key.as_ref().unwrap().public_key,
        wallet.public_key.as_ref().unwrap().public_key,
        "same key"
    );
    assert_ne!(
        reshared.roster[&0], wallet.roster[&0],
        "new device identity"
    );
    let mut new_shares = new_shares.into_iter();
    let fresh = new_shares.next().unwrap();
    let new_recovery = new_shares.next().unwrap();
    assert_eq!((fresh.index, new_recovery.index), (0, 2));
    let new_device = LocalShare {
        index: 0,
        keys: fresh.keys,
        share: fresh.share,
    };
    let spec = |nonce| SignSpec {
        network: ethereum.clone(),
        request: transfer(&expected, nonce),
        signers: vec![0, 1],
        bridge: None,
    };
    let view = device::sign(
        &alice,
        &reshared,
        &new_device,
        &spec(2),
        Some(&plugins),
        |_| {},
    )
    .await
    .expect("the new device signs");
    assert_eq!(
        recovered_sender(&view.result.unwrap().encoded),
        expected,
        "same address"
    );

    // The lost device's old share no longer signs with the server's new share.
    let lost = LocalShare {
        index: 0,
        keys: device.keys.clone(),
        share: device.share.clone(),
    };
    let stale = device::sign(&alice, &wallet, &lost, &spec(3), Some(&plugins), |_| {}).await;
    assert!(stale.is_err(), "an old share must not sign after resharing");

    // A refresh among the same parties: new shares, same key; the
    // refreshed device share signs, the one from before the refresh does not.
    let recovery_now = LocalShare {
        index: 2,
        keys: new_recovery.keys,
        share: new_recovery.share,
    };
    let (refreshed, shares) =
        device::refresh(&alice, &reshared, &[&new_device, &recovery_now], |_| {})
            .await
            .expect("refresh");
    let group = |w: &mpcw_host::api::WalletView| w.public_key.as_ref().unwrap().public_key.clone();
    assert_eq!(group(&refreshed), group(&reshared), "same key");
    assert_ne!(
        refreshed.public_key.as_ref().unwrap().public_shares,
        reshared.public_key.as_ref().unwrap().public_shares,
        "new shares"
    );
    let device_now = shares.into_iter().find(|s| s.index == 0).unwrap();
    let device_now = LocalShare {
        index: 0,
        keys: device_now.keys,
        share: device_now.share,
    };
    let view = device::sign(
        &alice,
        &refreshed,
        &device_now,
        &spec(4),
        Some(&plugins),
        |_| {},
    )
    .await
    .expect("the refreshed share signs");
    assert_eq!(recovered_sender(&view.result.unwrap().encoded), expected);
    let before_refresh = device::sign(
        &alice,
        &refreshed,
        &new_device,
        &spec(5),
        Some(&plugins),
        |_| {},
    )
    .await;
    assert!(
        before_refresh.is_err(),
        "a share from before the refresh must not sign"
    );
    host.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

/// A device party that cheats in the oblivious-transfer multiplication of DKLs23: its round-two
/// message is altered and signed again with its own keys, as a real cheater would do.
struct TamperingDevice<P> {
    inner: P,
    keys: PartyKeys,
    roster: mpcw_engine::Roster,
}

impl<P: Protocol> TamperingDevice<P> {
    fn tamper(&self, out: Vec<Envelope>) -> Vec<Envelope> {
        out.into_iter().map(|env| self.tamper_one(env)).collect()
    }

    fn tamper_one(&self, env: Envelope) -> Envelope {
        // The multiplication travels in private messages; broadcasts go as they are.
        let Some(to) = env.to else { return env };
        let me = env.from;
        // The sender can open its own box (crypto_box is symmetric in the two key pairs): read it
        // as the recipient would, with a roster in which the roles are swapped.
        let mut swapped = self.roster.clone();
        swapped.insert(to, self.keys.public());
        swapped.insert(
            me,
            mpcw_engine::PartyPublicKeys {
                verifying_key: self.keys.public().verifying_key,
                encryption_key: self.roster[&to].encryption_key,
            },
        );
        let reader = SessionContext::new(env.session.clone(), to, self.keys.clone(), swapped)
            .expect("a reading context");
        let body = reader.open(&env).expect("the device reads its own message");
        let body = match SignRound::from_bytes(&body).expect("a DKLs23 round") {
            SignRound::Two(mut m) => {
                m.mul_transmit.verify_r[0] ^= 1;
                SignRound::Two(m).to_bytes()
            }
            _ => return env,
        };
        SessionContext::new(
            env.session.clone(),
            me,
            self.keys.clone(),
            self.roster.clone(),
        )
        .expect("the device's context")
        .seal(&env.channel, env.to, &body)
        .expect("sealed again")
    }
}

impl<P: Protocol> Protocol for TamperingDevice<P> {
    type Output = P::Output;

    fn party(&self) -> PartyIndex {
        self.inner.party()
    }

    fn start(&mut self) -> mpcw_engine::Result<Vec<Envelope>> {
        let out = self.inner.start()?;
        Ok(self.tamper(out))
    }

    fn handle(&mut self, message: &Envelope) -> mpcw_engine::Result<Vec<Envelope>> {
        let out = self.inner.handle(message)?;
        Ok(self.tamper(out))
    }

    fn take_output(&mut self) -> Option<Self::Output> {
        self.inner.take_output()
    }
}

/// DKLs23 requires that a party which fails the oblivious-transfer check is not signed with
/// again (each attempt could leak a bit of the honest party's secret): the server records it on
/// its share and refuses the pair with a clear error until a refresh, while the recovery share
/// still signs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cheating_device_is_suspended_until_a_refresh() {
    let dir = temp_dir("host-ot-abort");
    let host = Host::start(&dir, None).await;
    let alice = login(&host.url, "alice").await;
    let spec = two_of_three(Scheme::EcdsaSecp256k1);
    let (wallet, shares) = device::create_wallet(&alice, &spec, |_| {})
        .await
        .expect("key generation over HTTP");
    let mut shares = shares.into_iter().map(|s| LocalShare {
        index: s.index,
        keys: s.keys,
        share: s.share,
    });
    let (device, recovery) = (shares.next().unwrap(), shares.next().unwrap());
    let ethereum = Registry::builtin()
        .unwrap()
        .get("ethereum")
        .unwrap()
        .clone();
    let address = first_address(&alice, &wallet.id, "ethereum").await;
    let spec = |nonce, signers: Vec<PartyIndex>| SignSpec {
        network: ethereum.clone(),
        request: transfer(&address, nonce),
        signers,
        bridge: None,
    };

    // The device cheats: the server's party catches it and the signing fails, naming the check.
    let started = alice
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
    let payload = &started.payloads[0];
    let cheater = TamperingDevice {
        inner: device::signing_session(&device, &wallet, &started, payload).unwrap(),
        keys: device.keys.clone(),
        roster: wallet.roster.clone(),
    };
    let err = device::run_parties(&alice, &payload.session, vec![cheater], &[], &mut |_| {})
        .await
        .expect_err("the server refuses a tampered multiplication");
    assert!(err.to_string().contains("pairwise multiplication"), "{err}");
    let mut failed = alice.signing(&started.id).await.unwrap();
    for _ in 0..50 {
        if failed.status != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        failed = alice.signing(&started.id).await.unwrap();
    }
    assert_eq!(failed.status, "failed");
    assert!(failed.error.unwrap().contains("party 0"));

    // From now on the server refuses to sign with the device, before any session starts...
    let refused = device::sign(&alice, &wallet, &device, &spec(0, vec![0, 1]), None, |_| {})
        .await
        .unwrap_err();
    assert_eq!(api_code(&refused), (409, "signing_suspended".into()));
    assert!(refused.to_string().contains("refresh"), "{refused}");
    // ...while the recovery share still co-signs with the server.
    let view = device::sign(
        &alice,
        &wallet,
        &recovery,
        &spec(0, vec![1, 2]),
        None,
        |_| {},
    )
    .await
    .expect("the recovery share signs");
    assert_eq!(recovered_sender(&view.result.unwrap().encoded), address);

    // A refresh makes new shares (with a new pairwise setup) and lifts the suspension.
    let (refreshed, fresh) = device::refresh(&alice, &wallet, &[&device, &recovery], |_| {})
        .await
        .expect("refresh");
    let fresh = fresh.into_iter().find(|s| s.index == 0).unwrap();
    let device = LocalShare {
        index: 0,
        keys: fresh.keys,
        share: fresh.share,
    };
    let view = device::sign(
        &alice,
        &refreshed,
        &device,
        &spec(1, vec![0, 1]),
        None,
        |_| {},
    )
    .await
    .expect("the refreshed device signs again");
    assert_eq!(recovered_sender(&view.result.unwrap().encoded), address);
    host.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_and_change_nothing() {
    let dir = temp_dir("host-errors");
    let host = Host::start(&dir, None).await;
    let http = mpcw_tests::dapp::http();
    let url = |p: &str| format!("{}{p}", host.url);

    // No token, a made-up token.
    let r = http.get(url("/v1/wallets")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(url("/v1/wallets"))
        .bearer_auth("mpcw_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    let token = token(&host.url, "alice").await;
    let alice = Client::new(&host.url).with_token(token.clone());

    // Malformed JSON, wrong shape, impossible threshold, missing roster entries, oversized body.
    let r = http
        .post(url("/v1/wallets"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"scheme\":")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .post(url("/v1/wallets"))
        .bearer_auth(&token)
        .json(&json!({"scheme": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let keys = PartyKeys::generate(&mut rand_core::OsRng);
    let bad = CreateWallet {
        scheme: "ed25519".into(),
        threshold: 4,
        parties: 3,
        server_index: None,
        roster: BTreeMap::from([(0, keys.public()), (2, keys.public())]),
        label: None,
    };
    assert_eq!(
        api_code(&alice.create_wallet(&bad, None).await.unwrap_err()),
        (422, "invalid_request".into())
    );
    let missing = CreateWallet {
        threshold: 2,
        roster: BTreeMap::from([(0, keys.public())]),
        ..bad
    };
    assert_eq!(
        api_code(&alice.create_wallet(&missing, None).await.unwrap_err()).0,
        422
    );
    let r = http
        .post(url("/v1/wallets"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(vec![b' '; 9 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(
        alice.wallets().await.unwrap().is_empty(),
        "nothing was created"
    );

    // A retried creation with the same idempotency key gets the same wallet; the key with
    // another body is refused.
    let other = PartyKeys::generate(&mut rand_core::OsRng);
    let body = CreateWallet {
        scheme: "ed25519".into(),
        threshold: 2,
        parties: 3,
        server_index: Some(1),
        roster: BTreeMap::from([(0, keys.public()), (2, other.public())]),
        label: Some("retried".into()),
    };
    let first = alice.create_wallet(&body, Some("key-1")).await.unwrap();
    let second = alice.create_wallet(&body, Some("key-1")).await.unwrap();
    assert_eq!(first.wallet.id, second.wallet.id);
    assert_eq!(first.session.id, second.session.id);
    assert_eq!(alice.wallets().await.unwrap().len(), 1);
    let changed = CreateWallet {
        label: Some("another".into()),
        ..body
    };
    assert_eq!(
        api_code(
            &alice
                .create_wallet(&changed, Some("key-1"))
                .await
                .unwrap_err()
        ),
        (422, "idempotency_key_reused".into())
    );

    // The relay refuses an envelope that claims to come from the server's party.
    let roster = first.wallet.roster.clone();
    let ctx = SessionContext::new(first.session.id.clone(), 0, keys.clone(), roster).unwrap();
    let mut party = KeygenSession::new(
        ctx,
        KeygenConfig {
            scheme: Scheme::Ed25519,
            threshold: 2,
            parties: 3,
        },
    )
    .unwrap();
    let mut envelopes = party.start().unwrap();
    envelopes[0].from = 1;
    let err = alice
        .post_messages(&first.session.id, &envelopes)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (422, "invalid_message".into()));
    // The relay checks each sender's signature: an altered envelope is refused.
    let mut altered = envelopes.clone();
    altered[0].from = 0;
    altered[0].channel = "altered".into();
    let err = alice
        .post_messages(&first.session.id, &altered)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (422, "invalid_message".into()));
    // Bob cannot use Alice's session.
    let bob = login(&host.url, "bob").await;
    envelopes[0].from = 0;
    assert_eq!(
        api_code(
            &bob.post_messages(&first.session.id, &envelopes)
                .await
                .unwrap_err()
        )
        .0,
        404
    );

    // An Ed25519 wallet cannot sign for an ECDSA network; unknown networks are named.
    let (ed, _) = device::create_wallet(&alice, &two_of_three(Scheme::Ed25519), |_| {})
        .await
        .expect("ed25519 key generation over HTTP");
    let req = |network: &str| StartSigning {
        network: network.into(),
        request: json!({}),
        signers: vec![0, 1],
        bridge: None,
    };
    assert_eq!(
        api_code(
            &alice
                .start_signing(&ed.id, &req("ethereum"), None)
                .await
                .unwrap_err()
        ),
        (422, "wrong_chain".into())
    );
    assert_eq!(
        api_code(
            &alice
                .start_signing(&ed.id, &req("atlantis"), None)
                .await
                .unwrap_err()
        ),
        (422, "unknown_network".into())
    );

    // The server counted the errors and none of them was a server error.
    let metrics = http
        .get(url("/v1/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("mpcw_http_server_errors_total 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("mpcw_wallets_created_total 1"),
        "{metrics}"
    );
    host.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

/// Every path and method of the checked-in OpenAPI document reaches a handler (nothing falls
/// through to the "no such route" answer), and the server serves the document itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_the_routes() {
    let dir = temp_dir("host-openapi");
    let host = Host::start(&dir, None).await;
    let http = mpcw_tests::dapp::http();
    let doc: serde_json::Value = http
        .get(format!("{}/v1/openapi.json", host.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 12);
    let mut checked = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let url = format!(
                "{}{}",
                host.url,
                path.replace("{id}", "x").replace("{rid}", "y")
            );
            let req = match method.as_str() {
                "get" => http.get(&url),
                "post" => http.post(&url).json(&json!({})),
                "put" => http.put(&url).json(&json!({})),
                "delete" => http.delete(&url),
                other => panic!("unexpected method {other}"),
            };
            let r = req.send().await.unwrap();
            assert_ne!(r.status(), 405, "{method} {path}");
            let text = r.text().await.unwrap();
            assert!(
                !text.contains("no such route"),
                "{method} {path} is not routed"
            );
            checked += 1;
        }
    }
    assert!(checked >= 14);
    host.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

/// A subject that makes too many requests gets 429 with `Retry-After`; another subject is not
/// held back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_are_refused_per_subject() {
    let dir = temp_dir("host-limit");
    let config = mpcw_host::config::Config {
        rate_limit_per_minute: 60,
        ..mpcw_tests::config(dir.clone())
    };
    let host = Host::start_with(config).await;
    let http = mpcw_tests::dapp::http();
    let dave = token(&host.url, "dave").await;
    let erin = token(&host.url, "erin").await;
    let get = |t: &str| {
        http.get(format!("{}/v1/wallets", host.url))
            .bearer_auth(t.to_owned())
            .send()
    };
    // A burst of a tenth of the per-minute rate passes; the next request is refused.
    for _ in 0..6 {
        assert_eq!(get(&dave).await.unwrap().status(), 200);
    }
    let r = get(&dave).await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(get(&erin).await.unwrap().status(), 200);
    host.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

/// A 2-of-3 Ed25519 key generation whose client parties (0 and 2, made-up keys) never come: its
/// session stays live until its deadline.
fn unattended_keygen() -> CreateWallet {
    let (a, b) = (
        PartyKeys::generate(&mut rand_core::OsRng),
        PartyKeys::generate(&mut rand_core::OsRng),
    );
    CreateWallet {
        scheme: "ed25519".into(),
        threshold: 2,
        parties: 3,
        server_index: Some(1),
        roster: BTreeMap::from([(0, a.public()), (2, b.public())]),
        label: None,
    }
}

/// A subject cannot hold more live protocol sessions than the limit: the next one gets 429
/// `too_many_sessions`, and nothing is created for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sessions_are_capped_per_subject() {
    let dir = temp_dir("host-sessions");
    let config = mpcw_host::config::Config {
        max_live_sessions: 2,
        ..mpcw_tests::config(dir.clone())
    };
    let host = Host::start_with(config).await;
    let frank = login(&host.url, "frank").await;
    // Two key generations start and wait for parties that never come.
    frank
        .create_wallet(&unattended_keygen(), None)
        .await
        .unwrap();
    frank
        .create_wallet(&unattended_keygen(), None)
        .await
        .unwrap();
    let err = frank
        .create_wallet(&unattended_keygen(), None)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (429, "too_many_sessions".into()));
    assert_eq!(frank.wallets().await.unwrap().len(), 2);
    // Another subject is not held back.
    let grace = login(&host.url, "grace").await;
    grace
        .create_wallet(&unattended_keygen(), None)
        .await
        .unwrap();
    host.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

/// A host that believes `X-Forwarded-For` from `trusted` and lets a client make 20 requests a
/// minute to the routes that need no login (bursts of 2).
async fn limited_host(name: &str, trusted: Vec<std::net::IpAddr>) -> Host {
    Host::start_with(mpcw_host::config::Config {
        client_rate_limit_per_minute: 20,
        trusted_proxies: trusted,
        ..mpcw_tests::config(temp_dir(name))
    })
    .await
}

async fn dev_login_from(host: &Host, client: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/v1/auth/dev", host.url))
        .header("x-forwarded-for", client)
        .json(&json!({"subject": "alice"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_client_over_its_limit_gets_429_on_logins_and_bridge_open_while_another_is_served() {
    let host = limited_host("client-limits", vec!["127.0.0.1".parse().unwrap()]).await;
    for _ in 0..2 {
        assert_eq!(dev_login_from(&host, "203.0.113.7").await.status(), 201);
    }
    let refused = dev_login_from(&host, "203.0.113.7").await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&retry), "one request per 3 s: {retry}");
    // The same client's bridge/open is refused before its token is even read.
    let open = reqwest::Client::new()
        .post(format!("{}/v1/bridge/open", host.url))
        .header("x-forwarded-for", "203.0.113.7")
        .bearer_auth("not-a-token")
        .json(&json!({"token": "not-a-token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 429);
    // Another client behind the same proxy is served.
    assert_eq!(dev_login_from(&host, "203.0.113.8").await.status(), 201);
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_does_not_escape_the_limit() {
    let host = limited_host("client-limits-untrusted", Vec::new()).await;
    for i in 0..2 {
        let status = dev_login_from(&host, &format!("198.51.100.{i}"))
            .await
            .status();
        assert_eq!(status, 201);
    }
    // A new made-up address is still the same loopback client.
    assert_eq!(dev_login_from(&host, "198.51.100.9").await.status(), 429);
}

#[tokio::test]
async fn login_routes_refuse_large_bodies() {
    let host = Host::start(&temp_dir("login-body"), None).await;
    let big = "x".repeat(mpcw_host::api::LOGIN_BODY_BYTES + 1);
    for route in ["dev", "oidc", "wechat", "alipay"] {
        let status = reqwest::Client::new()
            .post(format!("{}/v1/auth/{route}", host.url))
            .json(&json!({"subject": big, "id_token": big, "code": big}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 413, "{route}");
    }
    // A small login still works.
    token(&host.url, "alice").await;
}

/// A sealed server share is bound to its wallet: copied into another wallet's row (as anyone
/// who can write to the database could do), it is refused, not used.
#[tokio::test]
async fn a_server_share_copied_into_another_wallet_is_refused() {
    let host = Host::start(&temp_dir("share-swap"), None).await;
    let alice = login(&host.url, "alice").await;
    let spec = two_of_three(Scheme::EcdsaSecp256k1);
    let (a, _) = device::create_wallet(&alice, &spec, |_| {}).await.unwrap();
    let (b, _) = device::create_wallet(&alice, &spec, |_| {}).await.unwrap();
    let address = first_address(&alice, &b.id, "ethereum").await;
    let request = StartSigning {
        network: "ethereum".into(),
        request: transfer(&address, 0),
        signers: vec![0, 1],
        bridge: None,
    };
    let start = || alice.start_signing(&b.id, &request, None);
    let store = &host.state.store;
    let (_, sealed_a) = store.server_share_generation(&a.id).await.unwrap().unwrap();
    let (generation, sealed_b) = store.server_share_generation(&b.id).await.unwrap().unwrap();
    assert!(store
        .replace_server_share(&b.id, generation, &sealed_a)
        .await
        .unwrap());
    let err = start().await.unwrap_err();
    assert_eq!(api_code(&err), (500, "internal".to_string()));
    // Its own share back, the wallet signs again.
    let (generation, _) = store.server_share_generation(&b.id).await.unwrap().unwrap();
    assert!(store
        .replace_server_share(&b.id, generation, &sealed_b)
        .await
        .unwrap());
    start().await.expect("the wallet's own share opens");
}

/// A request whose client goes away half-way frees its `Idempotency-Key`: the retry runs and
/// is answered, rather than refused with 409 for ever; a retry after that gets the recorded
/// answer without running again.
#[tokio::test]
async fn an_abandoned_request_frees_its_idempotency_key() {
    use axum::http::StatusCode;
    use mpcw_host::api::error::ApiError;
    use mpcw_host::api::idempotency::once;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let host = Host::start(&temp_dir("idempotency-abandoned"), None).await;
    let body = json!({"amount": 1});
    let key = || Some("retry-1".to_string());
    let never = std::future::pending::<Result<(StatusCode, serde_json::Value), ApiError>>();
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        once(&host.state, "alice", key(), &body, never),
    )
    .await;
    assert!(abandoned.is_err(), "still running when its client left");

    let runs = AtomicUsize::new(0);
    let handler = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok((StatusCode::CREATED, json!({"done": true})))
    };
    let retried = once(&host.state, "alice", key(), &body, handler())
        .await
        .expect("the retry is answered");
    assert_eq!(retried.status(), StatusCode::CREATED);
    let replayed = once(&host.state, "alice", key(), &body, handler())
        .await
        .expect("the recorded answer");
    assert_eq!(replayed.status(), StatusCode::CREATED);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// Review finding 2 (relay memory): a session's log, and all of one subject's logs, are held to
/// their byte limits (413, then 429 `relay_quota`, with nothing partly kept); a repeated post is
/// dropped rather than stored twice; a fetch comes in pages of about 1 MiB; and the memory of a
/// session that failed is given back at once, not kept until it is forgotten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_memory_is_bounded_deduplicated_paged_and_freed() {
    let dir = temp_dir("relay-quota");
    let config = mpcw_host::config::Config {
        relay_session_max_bytes: 1_310_720,
        relay_subject_max_bytes: 2 << 20,
        session_ttl_secs: 6,
        ..mpcw_tests::config(dir.clone())
    };
    let host = Host::start_with(config).await;
    let frank = login(&host.url, "frank").await;
    let (a, b) = (
        PartyKeys::generate(&mut rand_core::OsRng),
        PartyKeys::generate(&mut rand_core::OsRng),
    );
    let roster = BTreeMap::from([(0, a.public()), (2, b.public())]);
    let create = CreateWallet {
        scheme: "ed25519".into(),
        threshold: 2,
        parties: 3,
        server_index: Some(1),
        roster: roster.clone(),
        label: None,
    };
    // Two key generations whose server party waits for messages that never come.
    let first = frank.create_wallet(&create, None).await.unwrap().session.id;
    let second = frank.create_wallet(&create, None).await.unwrap().session.id;
    // Envelopes from party 0 to party 2 of about 400 kB each, which the server never reads.
    let big = |session: &str, n: u8| -> Envelope {
        let ctx = SessionContext::new(session, 0, a.clone(), roster.clone()).unwrap();
        ctx.seal("filler", Some(2), &vec![n; 300_000]).unwrap()
    };
    let sessions = &host.state.sessions;
    let one = big(&first, 1);
    // The server parties' own first messages, once both have sent them (they then wait for
    // messages that never come).
    let party2 = BTreeSet::from([2]);
    for session in [&first, &second] {
        let sent = frank
            .fetch_messages(session, &party2, 0, 10_000)
            .await
            .unwrap();
        assert!(!sent.messages.is_empty());
    }
    let own = sessions.bytes_of("dev:frank");
    frank
        .post_messages(&first, std::slice::from_ref(&one))
        .await
        .unwrap();
    let held = sessions.bytes_of("dev:frank") - own;
    assert!(held > 400_000, "{held}");
    frank
        .post_messages(&first, &[one.clone(), one.clone()])
        .await
        .unwrap();
    assert_eq!(
        sessions.bytes_of("dev:frank"),
        own + held,
        "a repeated post is dropped"
    );
    let mut posted = vec![one.signature];
    for n in 2..=3 {
        let env = big(&first, n);
        posted.push(env.signature.clone());
        frank.post_messages(&first, &[env]).await.unwrap();
    }
    let err = frank
        .post_messages(&first, &[big(&first, 4)])
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (413, "too_large".into()));
    assert_eq!(sessions.bytes_of("dev:frank"), own + 3 * held);

    // The subject's limit spans sessions: two more fit in the second, the third does not.
    for n in 1..=2 {
        frank
            .post_messages(&second, &[big(&second, n)])
            .await
            .unwrap();
    }
    let err = frank
        .post_messages(&second, &[big(&second, 3)])
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (429, "relay_quota".into()));
    // Another subject is not held back by frank's bytes.
    let grace = login(&host.url, "grace").await;
    let other = grace.create_wallet(&create, None).await.unwrap().session.id;
    grace
        .post_messages(&other, &[big(&other, 1)])
        .await
        .unwrap();

    // Party 2 reads the first session's three envelopes (and the server's own) in two pages.
    let filler = |m: &mpcw_host::api::Messages| -> Vec<String> {
        m.messages
            .iter()
            .filter(|m| m.envelope.channel == "filler")
            .map(|m| m.envelope.signature.clone())
            .collect()
    };
    let page = frank.fetch_messages(&first, &party2, 0, 0).await.unwrap();
    assert!(page.more);
    let last = page.messages.last().unwrap().seq;
    let rest = frank
        .fetch_messages(&first, &party2, last, 0)
        .await
        .unwrap();
    assert!(!rest.more);
    let (page, rest) = (filler(&page), filler(&rest));
    assert_eq!((page.len(), rest.len()), (2, 1));
    assert!(
        [page, rest].concat() == posted,
        "every envelope once, in order"
    );

    // The sessions expire: their server parties fail them and their bytes are given back well
    // before they are forgotten.
    let freed = async {
        while sessions.bytes() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), freed)
        .await
        .expect("failed sessions free their messages");
    let err = frank
        .post_messages(&first, &[big(&first, 5)])
        .await
        .unwrap_err();
    assert_eq!(api_code(&err).0, 410);
    assert_eq!(frank.session(&first).await.unwrap().state, "failed");
    host.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

/// Whether the server closes `stream` within `within`, while `trickle` (if any) sends one more
/// header line every second.
async fn closed_within(
    stream: &mut tokio::net::TcpStream,
    within: std::time::Duration,
    trickle: bool,
) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let until = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 4096];
    let mut n = 0;
    while tokio::time::Instant::now() < until {
        if trickle {
            let line = format!("x-slow-{n}: 1\r\n");
            if stream.write_all(line.as_bytes()).await.is_err() {
                return true;
            }
            n += 1;
        }
        let step = std::time::Duration::from_secs(1).min(until - tokio::time::Instant::now());
        match tokio::time::timeout(step, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {} // An answer (408 or the response itself): keep reading.
            Err(_) => {}
        }
    }
    false
}

/// Review finding 3 (connections): a client that trickles its headers a line a second, and a
/// kept-alive connection left idle, are closed once the header-read time is up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_idle_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = Host::start_with(mpcw_host::config::Config {
        header_read_timeout_secs: 2,
        ..mpcw_tests::config(temp_dir("conn-timeouts"))
    })
    .await;
    let addr = host.url.trim_start_matches("http://").to_string();
    let secs = std::time::Duration::from_secs;

    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /v1/health HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, secs(6), true).await,
        "trickled headers"
    );

    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    assert!(
        closed_within(&mut idle, secs(6), false).await,
        "idle keep-alive"
    );
    host.stop().await;
}

/// Review finding 3 (connections): past `max_connections` a new connection waits to be
/// accepted, and is served as soon as another closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_wait_for_one_to_close() {
    let host = Host::start_with(mpcw_host::config::Config {
        max_connections: 3,
        ..mpcw_tests::config(temp_dir("conn-limit"))
    })
    .await;
    let addr = host.url.trim_start_matches("http://").to_string();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let health = format!("{}/v1/health", host.url);
    let waiting = tokio::spawn(async move { reqwest::get(health).await.map(|r| r.status()) });
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert!(!waiting.is_finished(), "a fourth connection is not served");
    held.pop();
    let status = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .expect("served once a connection closed")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    host.stop().await;
}

/// However many subjects there are, the server holds no more live protocol sessions than its
/// limit (each holds a thread): past it a session start gets 503 `server_busy` with
/// `Retry-After`, nothing is created for it, and once a session ends there is room again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sessions_are_capped_server_wide() {
    let dir = temp_dir("host-sessions-total");
    let config = mpcw_host::config::Config {
        max_live_sessions: 2,
        max_live_sessions_total: 3,
        session_ttl_secs: 3,
        ..mpcw_tests::config(dir.clone())
    };
    let host = Host::start_with(config).await;
    // Three key generations of two subjects start and wait for parties that never come.
    let (ivan, judy) = (
        login(&host.url, "ivan").await,
        login(&host.url, "judy").await,
    );
    ivan.create_wallet(&unattended_keygen(), None)
        .await
        .unwrap();
    ivan.create_wallet(&unattended_keygen(), None)
        .await
        .unwrap();
    judy.create_wallet(&unattended_keygen(), None)
        .await
        .unwrap();
    // A third subject, well under its own limit, finds the server full.
    let karl = login(&host.url, "karl").await;
    let err = karl
        .create_wallet(&unattended_keygen(), None)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (503, "server_busy".into()));
    assert!(karl.wallets().await.unwrap().is_empty());
    let r = reqwest::Client::new()
        .post(format!("{}/v1/wallets", host.url))
        .bearer_auth(token(&host.url, "karl").await)
        .json(&unattended_keygen())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some());
    // The sessions reach their deadline; then there is room again.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    karl.create_wallet(&unattended_keygen(), None)
        .await
        .unwrap();
    host.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

/// A signing in three round trips: the answer that starts it carries the server's first
/// messages (a retry with the same `Idempotency-Key` gets the same request, recorded without
/// them); posts that also fetch bring the server's next ones; the read waits for the outcome,
/// whose signature verifies under the wallet's Solana key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_takes_three_round_trips_and_a_retried_start_is_the_same_request() {
    let host = Host::start(&temp_dir("host-round-trips"), None).await;
    let alice = login(&host.url, "alice").await;
    let (wallet, shares) = device::create_wallet(&alice, &two_of_three(Scheme::Ed25519), |_| {})
        .await
        .expect("key generation over HTTP");
    let s = shares.into_iter().next().unwrap();
    let local = LocalShare {
        index: s.index,
        keys: s.keys,
        share: s.share,
    };
    let address = first_address(&alice, &wallet.id, "solana").await;
    let body = StartSigning {
        network: "solana".into(),
        request: json!({
            "kind": "transfer", "from": address, "lamports": 1000,
            "to": "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
            "recentBlockhash": "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
        }),
        signers: vec![local.index, wallet.server_index],
        bridge: None,
    };
    let started = alice
        .start_signing(&wallet.id, &body, Some("idem-round-trips"))
        .await
        .unwrap();
    let payload = &started.payloads[0];
    assert!(!payload.messages.is_empty(), "the server's first messages");
    assert!(payload
        .messages
        .iter()
        .all(|m| m.envelope.from == wallet.server_index && m.seq > 0));
    let retried = alice
        .start_signing(&wallet.id, &body, Some("idem-round-trips"))
        .await
        .unwrap();
    assert_eq!(retried.id, started.id, "the same request, not a second one");
    assert!(retried.payloads[0].messages.is_empty());

    let party = device::signing_session(&local, &wallet, &started, payload).unwrap();
    device::run_parties(
        &alice,
        &payload.session,
        vec![party],
        &payload.messages,
        &mut |_| {},
    )
    .await
    .expect("the protocol");
    let view = device::signing_outcome(&alice, &started.id).await.unwrap();
    assert_eq!(view.status, "done", "{:?}", view.error);
    let key = address
        .parse::<solana_address::Address>()
        .unwrap()
        .to_bytes();
    let signature = ed25519_dalek::Signature::from_slice(&view.signatures[0].bytes).unwrap();
    ed25519_dalek::VerifyingKey::from_bytes(&key)
        .unwrap()
        .verify_strict(&hex::decode(&payload.bytes).unwrap(), &signature)
        .expect("the signature verifies under the wallet's key");

    // Once its owner has read the outcome, the relay keeps nothing of the session.
    let gone = alice
        .fetch_messages(&payload.session, &BTreeSet::from([local.index]), 0, 0)
        .await
        .unwrap();
    assert!(gone.messages.is_empty() && gone.status.state == "done");
}
