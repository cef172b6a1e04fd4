//! Bridge load on loopback, bounded in time. Workers each play a Dapp and its user in a loop:
//! the Dapp creates a request (a Solana transfer), the signer opens it and approves it by
//! co-signing with the server (a real two-party FROST signature), and the Dapp long-polls until
//! it is `done`. When the time is up no new request starts; every request started must finish,
//! and the Dapp's callback endpoint must receive a verified callback for each: nothing lost.
//!
//! It prints a table of requests per second created and completed, with the in-process store
//! and, when `MPCW_TEST_REDIS_URL` is set (the test command sets it), with Redis. Rate limits are
//! off: this measures the bridge, not the limiter.
//!
//! Longer or wider runs: `MPCW_LOAD_SECS=30 MPCW_LOAD_WORKERS=32 cargo test --release -p
//! mpcw-tests --test e2e bridge_load:: -- --nocapture`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mpcw_host::chains::Registry;
use mpcw_host::config::Config;
use mpcw_host::device::{self, Client, SignSpec};
use mpcw_tests::callbacks::CallbackSink;
use mpcw_tests::dapp::{ed25519_wallet, signer_post, user_token, Dapp};
use mpcw_tests::{temp_dir, Host};
use serde_json::json;
use tokio::time::Instant;

const BLOCKHASH: &str = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
const TO: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one run measured.
struct Run {
    store: &'static str,
    workers: u64,
    secs: f64,
    created: usize,
    completed: usize,
    callbacks: usize,
    repeats: usize,
    p50_ms: u128,
    p95_ms: u128,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_load_loses_nothing() {
    let secs = setting("MPCW_LOAD_SECS", 3);
    let workers = setting("MPCW_LOAD_WORKERS", 8);
    let mut runs = vec![run("memory", None, secs, workers).await];
    if let Ok(redis) = std::env::var("MPCW_TEST_REDIS_URL") {
        runs.push(run("redis", Some(redis), secs, workers).await);
    }
    println!();
    println!("| store | workers | seconds | created | completed | created/s | completed/s | callbacks | repeated | p50 ms | p95 ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &runs {
        println!(
            "| {} | {} | {:.1} | {} | {} | {:.1} | {:.1} | {} | {} | {} | {} |",
            r.store,
            r.workers,
            r.secs,
            r.created,
            r.completed,
            r.created as f64 / r.secs,
            r.completed as f64 / r.secs,
            r.callbacks,
            r.repeats,
            r.p50_ms,
            r.p95_ms
        );
    }
}

async fn run(store: &'static str, redis: Option<String>, secs: u64, workers: u64) -> Run {
    let sink = CallbackSink::start().await;
    let (shop, shop_config) = Dapp::new("shop", Some(format!("{}/cb", sink.url)));
    let mut prefix = [0u8; 6];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut prefix);
    let config = Config {
        dapps: vec![shop_config],
        bridge_url: redis.unwrap_or_else(|| "memory".into()),
        bridge_key_prefix: format!("mpcw-load:{}:", hex::encode(prefix)),
        rate_limit_per_minute: 0,
        max_live_sessions: 0,
        ..mpcw_tests::config(temp_dir("bridge-load"))
    };
    let host = Host::start_with(config).await;
    let url = host.url.clone();
    let alice = user_token(&url, "alice", "shop").await;
    let client = Client::new(&url).with_token(&alice);
    let (wallet, share) = ed25519_wallet(&client).await;
    let key = shop.callback_key(&url).await;
    let shared = Arc::new((client, wallet, share, shop, alice));
    let created_count = Arc::new(AtomicUsize::new(0));

    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(secs);
    // The device's signing future stays on one thread, so the workers share this one (a
    // `LocalSet`) while the host serves on the runtime's threads.
    let local = tokio::task::LocalSet::new();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (shared, url, created_count) = (shared.clone(), url.clone(), created_count.clone());
            local.spawn_local(async move {
                let (client, wallet, share, shop, alice) = &*shared;
                let network = Registry::builtin().unwrap().get("solana").unwrap().clone();
                let mut done = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let request = json!({"kind": "transfer", "to": TO, "lamports": "1000", "recentBlockhash": BLOCKHASH});
                    let (code, created) = shop
                        .create(&url, json!({"network": "solana", "request": request}))
                        .await;
                    assert_eq!(code, 201, "{created}");
                    created_count.fetch_add(1, Ordering::Relaxed);
                    let id = created["id"].as_str().unwrap().to_owned();
                    let (code, opened) =
                        signer_post(&url, alice, "/v1/bridge/open", json!({"token": created["token"]}))
                            .await;
                    assert_eq!(code, 200, "{opened}");
                    let spec = SignSpec {
                        network: network.clone(),
                        request: opened["request"].clone(),
                        signers: vec![0, 1],
                        bridge: Some(id.clone()),
                    };
                    device::sign(client, wallet, share, &spec, None, |_| {})
                        .await
                        .unwrap();
                    let (_, view) = shop.read(&url, &id, 20).await;
                    assert_eq!(view["status"], "done", "{view}");
                    done.push((id, started.elapsed()));
                }
                done
            })
        })
        .collect();
    let completed = local
        .run_until(async move {
            let mut completed = Vec::new();
            for t in tasks {
                completed.extend(t.await.unwrap());
            }
            completed
        })
        .await;
    let elapsed = t0.elapsed().as_secs_f64();
    let ids: HashSet<&str> = completed.iter().map(|(id, _)| id.as_str()).collect();
    let created = created_count.load(Ordering::Relaxed);
    assert!(!ids.is_empty(), "some requests completed");
    assert_eq!(ids.len(), completed.len(), "every request is its own");
    assert_eq!(created, ids.len(), "every request created completed");

    // Every completed request's callback arrives, signed, with its signed transaction.
    let until = Instant::now() + Duration::from_secs(60);
    let delivered = loop {
        let mut by_request: HashMap<String, Vec<_>> = HashMap::new();
        for r in sink.received() {
            by_request
                .entry(r.json()["data"]["id"].as_str().unwrap().to_owned())
                .or_default()
                .push(r);
        }
        if ids.iter().all(|id| by_request.contains_key(*id)) || Instant::now() > until {
            break by_request;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let lost: Vec<_> = ids
        .iter()
        .filter(|id| !delivered.contains_key(**id))
        .collect();
    assert!(
        lost.is_empty(),
        "callbacks lost for {} requests",
        lost.len()
    );
    let mut repeats = 0;
    for (id, got) in &delivered {
        assert!(
            ids.contains(id.as_str()),
            "a callback for an unknown request"
        );
        let events: HashSet<&str> = got.iter().map(|r| r.event_id.as_str()).collect();
        assert_eq!(events.len(), 1, "one event per request");
        for r in got {
            assert!(r.verifies(&key));
            assert_eq!(r.json()["type"], "bridge.request.done");
            assert!(r.json()["data"]["result"]["raw"].is_array());
        }
        repeats += got.len() - 1;
    }
    let mut latencies: Vec<u128> = completed.iter().map(|(_, d)| d.as_millis()).collect();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    host.stop().await;
    Run {
        store,
        workers,
        secs: elapsed,
        created,
        completed: ids.len(),
        callbacks: delivered.len(),
        repeats,
        p50_ms: at(0.5),
        p95_ms: at(0.95),
    }
}
