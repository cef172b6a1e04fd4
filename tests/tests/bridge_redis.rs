//! Two hosts behind one bridge: both keep bridge requests in the same real Redis server and
//! their state in the same PostgreSQL database (both started on loopback by `scripts/test`), and
//! share their access-token keys and key-encryption key, as instances behind a load balancer
//! do.
//!
//! The Dapp talks to host A only; the user's signer to host B only. The Dapp's request made on
//! A is opened on B (one of many racing opens across both hosts wins the token), A's long poll
//! and event stream are woken by B's changes, the signing on B is read on A, the Dapp's endpoint
//! gets exactly one signed callback although both hosts deliver, and an expiry is announced
//! once although both hosts sweep.

use std::time::Duration;

use mpcw_host::chains::Registry;
use mpcw_host::config::Config;
use mpcw_host::device::{self, Client, SignSpec};
use mpcw_tests::callbacks::CallbackSink;
use mpcw_tests::dapp::{ed25519_wallet, signer_post, user_token, Dapp};
use mpcw_tests::{temp_dir, Host};
use serde_json::json;
use solana_transaction::versioned::VersionedTransaction;

const BLOCKHASH: &str = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
const TO: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the tests with scripts/test, which starts PostgreSQL and Redis"
        )
    })
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    hex::encode(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_share_one_bridge_through_redis() {
    let (redis, postgres) = (env("MPCW_TEST_REDIS_URL"), env("MPCW_TEST_POSTGRES_URL"));
    let sink = CallbackSink::start().await;
    let (shop, shop_config) = Dapp::new("shop", Some(format!("{}/cb", sink.url)));
    // What instances of one deployment share; the key prefix keeps this run's keys apart.
    let shared = Config {
        database_url: Some(postgres),
        kek: Some(random_hex(32)),
        token_keys: vec![format!("shared:{}", random_hex(32))],
        dapps: vec![shop_config],
        bridge_url: redis,
        bridge_key_prefix: format!("mpcw-test:{}:", random_hex(6)),
        public_url: Some("https://wallet.example.cn".into()),
        ..mpcw_tests::config(temp_dir("bridge-shared"))
    };
    let a = Host::start_with(Config {
        data_dir: temp_dir("bridge-a"),
        ..shared.clone()
    })
    .await;
    let b = Host::start_with(Config {
        data_dir: temp_dir("bridge-b"),
        ..shared.clone()
    })
    .await;
    assert_eq!(a.state.bridge.kind(), "redis");

    // The user's wallet, made through host B.
    let alice = user_token(&b.url, "alice", "shop").await;
    let client = Client::new(&b.url).with_token(&alice);
    let (wallet, device_share) = ed25519_wallet(&client).await;

    // The Dapp asks host A, and long-polls A while the user opens the request on B.
    let transfer =
        json!({"kind": "transfer", "to": TO, "lamports": "2500000", "recentBlockhash": BLOCKHASH});
    let (code, created) = shop
        .create(&a.url, json!({"network": "solana", "request": transfer}))
        .await;
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(shop.read(&b.url, &id, 0).await.1["status"], "pending");
    let poll = {
        let (url, id) = (a.url.clone(), id.clone());
        let shop = Dapp::with_secret("shop", &shop.secret);
        tokio::spawn(async move {
            let t0 = tokio::time::Instant::now();
            let (_, view) = shop.read(&url, &id, 20).await;
            (view, t0.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Eight opens race for the token, half on each host: exactly one wins.
    let opens: Vec<_> = (0..8)
        .map(|i| {
            let url = if i % 2 == 0 { &a.url } else { &b.url }.clone();
            let (alice, token) = (alice.clone(), token.clone());
            tokio::spawn(async move {
                signer_post(&url, &alice, "/v1/bridge/open", json!({"token": token}))
                    .await
                    .0
            })
        })
        .collect();
    let mut codes = Vec::new();
    for o in opens {
        codes.push(o.await.unwrap());
    }
    codes.sort();
    assert_eq!(codes, [200, 410, 410, 410, 410, 410, 410, 410]);

    // A's long poll was woken by B's change, well before its 20 s and before the 5 s recheck.
    let (view, waited) = poll.await.unwrap();
    assert_eq!(view["status"], "opened");
    assert!(waited < Duration::from_secs(4), "woken after {waited:?}");

    // A's event stream follows the signing done on B.
    let stream = {
        let (url, id) = (a.url.clone(), id.clone());
        let shop = Dapp::with_secret("shop", &shop.secret);
        tokio::spawn(async move { shop.events(&url, &id).await })
    };
    let sign = SignSpec {
        network: Registry::builtin().unwrap().get("solana").unwrap().clone(),
        request: transfer.clone(),
        signers: vec![0, 1],
        bridge: Some(id.clone()),
    };
    device::sign(&client, &wallet, &device_share, &sign, None, |_| {})
        .await
        .unwrap();
    let statuses = tokio::time::timeout(Duration::from_secs(20), stream)
        .await
        .expect("the event stream ends")
        .unwrap();
    assert_eq!(statuses.first().map(String::as_str), Some("opened"));
    assert_eq!(statuses.last().map(String::as_str), Some("done"));

    // A reads the result of B's signing; Solana's SDK verifies the transaction.
    let (_, view) = shop.read(&a.url, &id, 0).await;
    assert_eq!(view["status"], "done");
    let raw: Vec<u8> = serde_json::from_value(view["result"]["raw"].clone()).unwrap();
    let tx: VersionedTransaction = bincode::deserialize(&raw).unwrap();
    tx.verify_and_hash_message().expect("a valid transaction");

    // Both hosts deliver callbacks; the Dapp gets this one once, signed.
    let got = sink.wait_for(&id, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got_later = sink.about(&id);
    assert_eq!((got.len(), got_later.len()), (1, 1), "one delivery");
    // Both hosts sign with the same key (derived from the shared KEK).
    let key = shop.callback_key(&a.url).await;
    assert_eq!(key, shop.callback_key(&b.url).await);
    assert!(got[0].verifies(&key));
    assert_eq!(got[0].json()["type"], "bridge.request.done");

    // A request made on B that nobody opens expires; both hosts sweep, one announces it: A's
    // event stream ends with it and one callback comes.
    let (_, late) = shop
        .create(
            &b.url,
            json!({"network": "solana", "request": transfer, "ttl_secs": 2}),
        )
        .await;
    let late_id = late["id"].as_str().unwrap();
    assert_eq!(shop.events(&a.url, late_id).await, ["pending", "expired"]);
    let got = sink.wait_for(late_id, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!((got.len(), sink.about(late_id).len()), (1, 1));
    assert_eq!(got[0].json()["type"], "bridge.request.expired");

    // Host A goes away; B still has every request.
    a.stop().await;
    assert_eq!(shop.read(&b.url, &id, 0).await.1["status"], "done");
    b.stop().await;
}
