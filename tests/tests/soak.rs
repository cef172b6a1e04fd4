//! The soak test: mixed traffic from many clients against a server in its own process, with the
//! production limits except the per-subject request rate (eight clients share a subject here).
//! Each client goes round logins, wallet creation, signing with every scheme (Ed25519 on Solana,
//! ECDSA on Ethereum, BIP-340 on Bitcoin Taproot, each co-signed by the client's own party over
//! the relay), bridge requests (made by a Dapp, opened and rejected by the signer, read back by
//! the Dapp) and reads. It must end with no 5xx answer and no failed operation, the server's
//! memory flat after the warm-up (the first quarter), and every operation's p99 bounded; it
//! prints a table.
//!
//! `MPCW_SOAK_SECS` (default 20) and `MPCW_SOAK_CLIENTS` (default 64) set its length and width:
//! `MPCW_SOAK_SECS=600 cargo test -p mpcw-tests --test e2e soak:: -- --nocapture` is the ten-minute
//! run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mpcw_engine::Scheme;
use mpcw_host::api::WalletView;
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, Client, DeviceError, LocalShare, SignSpec};
use mpcw_tests::dapp::Dapp;
use mpcw_tests::process::HostProcess;
use mpcw_tests::temp_dir;
use serde_json::json;

const BLOCKHASH: &str = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
const TO: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";
/// Clients per subject.
const PER_SUBJECT: usize = 8;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What happened to one kind of operation.
#[derive(Default)]
struct Stats {
    latencies: Vec<Duration>,
    server_errors: usize,
    failures: usize,
    /// The first few failures' messages.
    first_failures: Vec<String>,
}

type Record = Arc<Mutex<BTreeMap<&'static str, Stats>>>;

fn note(record: &Record, op: &'static str, took: Duration, result: Result<(), DeviceError>) {
    let mut all = record.lock().unwrap();
    let stats = all.entry(op).or_default();
    match result {
        Ok(()) => stats.latencies.push(took),
        Err(DeviceError::Api { status, .. }) if status >= 500 => stats.server_errors += 1,
        Err(e) => {
            stats.failures += 1;
            if stats.first_failures.len() < 5 {
                stats.first_failures.push(e.to_string());
            }
        }
    }
}

/// One subject's wallets of every scheme, with the device's share of each.
struct Wallets {
    token: String,
    by_scheme: BTreeMap<&'static str, (WalletView, LocalShare)>,
}

async fn login(url: &str, subject: &str) -> Result<String, DeviceError> {
    let r = mpcw_tests::dapp::http()
        .post(format!("{url}/v1/auth/dev"))
        .json(&json!({"subject": subject, "dapp": "soak"}))
        .send()
        .await?;
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await?;
    if status != 201 {
        return Err(api_error(status, &body));
    }
    Ok(body["access_token"].as_str().unwrap_or_default().to_owned())
}

fn api_error(status: u16, body: &serde_json::Value) -> DeviceError {
    DeviceError::Api {
        status,
        code: body["error"]["code"].as_str().unwrap_or("?").into(),
        message: body["error"]["message"].as_str().unwrap_or("?").into(),
    }
}

async fn make_wallet(
    client: &Client,
    scheme: Scheme,
) -> Result<(WalletView, LocalShare), DeviceError> {
    let (wallet, shares) =
        device::create_wallet(client, &mpcw_tests::two_of_three(scheme), |_| {}).await?;
    let share = shares.into_iter().next().expect("the device's share");
    let local = LocalShare {
        index: share.index,
        keys: share.keys,
        share: share.share,
    };
    Ok((wallet, local))
}

async fn sign(
    client: &Client,
    wallets: &Wallets,
    scheme: &'static str,
    n: usize,
) -> Result<(), DeviceError> {
    let (network, request) = match scheme {
        "ed25519" => (
            "solana",
            json!({"kind": "transfer", "to": TO, "lamports": "1500000", "recentBlockhash": BLOCKHASH}),
        ),
        "ecdsa" => (
            "ethereum",
            json!({"kind": "personal_sign", "message": format!("soak {n}")}),
        ),
        _ => (
            "bitcoin-taproot",
            json!({"kind": "message", "message": format!("soak {n}")}),
        ),
    };
    let (wallet, local) = &wallets.by_scheme[scheme];
    let spec = SignSpec {
        network: Registry::builtin().unwrap().get(network).unwrap().clone(),
        request,
        signers: vec![0, 1],
        bridge: None,
    };
    let view = device::sign(client, wallet, local, &spec, None, |_| {}).await?;
    if view.status != "done" {
        return Err(DeviceError::Protocol(format!(
            "signing ended {}",
            view.status
        )));
    }
    Ok(())
}

/// A bridge request made by the Dapp, opened and rejected by the signer, read by the Dapp.
async fn bridge(url: &str, dapp: &Dapp, wallets: &Wallets) -> Result<(), DeviceError> {
    let http = mpcw_tests::dapp::http();
    let check = |status: u16, want: u16, body: &serde_json::Value| {
        if status == want {
            Ok(())
        } else {
            Err(api_error(status, body))
        }
    };
    let transfer =
        json!({"kind": "transfer", "to": TO, "lamports": "1000", "recentBlockhash": BLOCKHASH});
    let (status, created) = dapp
        .try_create(url, json!({"network": "solana", "request": transfer}))
        .await?;
    check(status, 201, &created)?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let wallet = &wallets.by_scheme["ed25519"].0;
    let r = http
        .post(format!("{url}/v1/bridge/open"))
        .bearer_auth(&wallets.token)
        .json(&json!({"token": created["token"], "wallet": wallet.id}))
        .send()
        .await?;
    let status = r.status().as_u16();
    check(status, 200, &r.json().await?)?;
    let r = http
        .post(format!("{url}/v1/bridge/requests/{id}/reject"))
        .bearer_auth(&wallets.token)
        .json(&json!({"reason": "soak"}))
        .send()
        .await?;
    let status = r.status().as_u16();
    check(status, 200, &r.json().await?)?;
    let (status, view) = dapp.try_read(url, &id, 0).await?;
    check(status, 200, &view)?;
    if view["status"] != "rejected" {
        return Err(DeviceError::Protocol(format!(
            "bridge request {}",
            view["status"]
        )));
    }
    Ok(())
}

/// Reads a client makes: its wallets, the networks, the server's health.
async fn reads(url: &str, client: &Client) -> Result<(), DeviceError> {
    client.wallets().await?;
    client.health().await?;
    let r = mpcw_tests::dapp::http()
        .get(format!("{url}/v1/chains"))
        .send()
        .await?;
    let status = r.status().as_u16();
    if status != 200 {
        return Err(api_error(status, &serde_json::Value::Null));
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_traffic_from_many_clients_for_a_while() {
    let secs = env_or("MPCW_SOAK_SECS", 20);
    let clients = env_or("MPCW_SOAK_CLIENTS", 64).max(1) as usize;
    let subjects = clients.div_ceil(PER_SUBJECT);

    let dir = temp_dir("soak");
    let (dapp, dapp_config) = Dapp::new("soak", None);
    let config_file = dir.join("soak.toml");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        &config_file,
        format!(
            "rate_limit_per_minute = 0\n\n[[dapps]]\nid = \"soak\"\nname = \"Soak\"\n\
             api_secret_sha256 = \"{}\"\n",
            dapp_config.api_secret_sha256
        ),
    )
    .unwrap();
    let (server, url) = HostProcess::spawn(
        env!("CARGO_BIN_EXE_mpcw-test-host"),
        [dir.join("data"), config_file.clone()],
    );

    // The device parties' futures stay on one thread (their protocol state is not `Send`): the
    // clients share this one, while the server has its own process.
    let local = tokio::task::LocalSet::new();
    local
        .run_until(traffic(url, server, dapp, clients, subjects, secs))
        .await;
    std::fs::remove_dir_all(dir).ok();
}

async fn traffic(
    url: String,
    server: HostProcess,
    dapp: Dapp,
    clients: usize,
    subjects: usize,
    secs: u64,
) {
    // Every subject's wallets of every scheme, made before the clock starts.
    let made = Instant::now();
    let mut setups = Vec::new();
    for s in 0..subjects {
        let url = url.clone();
        setups.push(tokio::task::spawn_local(async move {
            let token = login(&url, &format!("soak{s}")).await.unwrap();
            let client = Client::new(&url).with_token(&token);
            let mut by_scheme = BTreeMap::new();
            for (name, scheme) in [
                ("ed25519", Scheme::Ed25519),
                ("ecdsa", Scheme::EcdsaSecp256k1),
                ("bip340", Scheme::SchnorrBip340),
            ] {
                by_scheme.insert(name, make_wallet(&client, scheme).await.unwrap());
            }
            Arc::new(Wallets { token, by_scheme })
        }));
    }
    let mut wallets = Vec::new();
    for s in setups {
        wallets.push(s.await.unwrap());
    }
    let setup = made.elapsed();

    let record: Record = Arc::default();
    let dapp = Arc::new(dapp);
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let warm_until = start + Duration::from_secs(secs) / 4;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (url, record, dapp) = (url.clone(), record.clone(), dapp.clone());
        let mine = wallets[c / PER_SUBJECT].clone();
        tasks.push(tokio::task::spawn_local(async move {
            let mut client = Client::new(&url).with_token(&mine.token);
            let mut n = c;
            while Instant::now() < until {
                let t = Instant::now();
                let (op, result): (&'static str, Result<(), DeviceError>) = match n % 10 {
                    0..=2 => (
                        "sign Ed25519 (Solana)",
                        sign(&client, &mine, "ed25519", n).await,
                    ),
                    3 | 4 => (
                        "sign ECDSA (Ethereum)",
                        sign(&client, &mine, "ecdsa", n).await,
                    ),
                    5 => (
                        "sign BIP-340 (Taproot)",
                        sign(&client, &mine, "bip340", n).await,
                    ),
                    6 => match login(&url, &format!("soak{}", c / PER_SUBJECT)).await {
                        Ok(token) => {
                            client = Client::new(&url).with_token(&token);
                            ("log in", Ok(()))
                        }
                        Err(e) => ("log in", Err(e)),
                    },
                    7 => (
                        "create an Ed25519 wallet",
                        make_wallet(&client, Scheme::Ed25519).await.map(|_| ()),
                    ),
                    8 => ("bridge request", bridge(&url, &dapp, &mine).await),
                    _ => ("reads", reads(&url, &client).await),
                };
                note(&record, op, t.elapsed(), result);
                n += 1;
            }
        }));
    }
    // The server's memory, once a second.
    let mut samples = Vec::new();
    let mut warm_rss = 0;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = server.rss();
        if Instant::now() >= warm_until && warm_rss == 0 {
            warm_rss = rss;
        }
        samples.push(rss);
    }
    for t in tasks {
        t.await.unwrap();
    }
    let end_rss = server.rss();
    let peak_rss = samples.iter().copied().max().unwrap_or(end_rss);

    let mib = |b: u64| format!("{:.0} MiB", b as f64 / (1 << 20) as f64);
    println!(
        "\nsoak: {clients} clients ({subjects} subjects), {secs} s after {:.1} s making \
         {} wallets; server memory after warm-up {}, peak {}, at the end {}\n",
        setup.as_secs_f64(),
        subjects * 3,
        mib(warm_rss),
        mib(peak_rss),
        mib(end_rss)
    );
    println!("| operation | done | per s | p50 | p99 | max | 5xx | failed |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let all = record.lock().unwrap();
    let mut problems = Vec::new();
    for (op, stats) in all.iter() {
        let mut sorted = stats.latencies.clone();
        sorted.sort();
        let failed = stats.failures;
        println!(
            "| {op} | {} | {:.1} | {} | {} | {} | {} | {failed} |",
            sorted.len(),
            sorted.len() as f64 / secs as f64,
            ms(percentile(&sorted, 0.5)),
            ms(percentile(&sorted, 0.99)),
            ms(sorted.last().copied().unwrap_or_default()),
            stats.server_errors,
        );
        if stats.server_errors > 0 || failed > 0 {
            problems.push(format!(
                "{op}: {} 5xx, {failed} failed {:?}",
                stats.server_errors, stats.first_failures
            ));
        }
        // Bounded: no operation's p99 past 15 s even on two loaded cores.
        let p99 = percentile(&sorted, 0.99);
        if p99 > Duration::from_secs(15) {
            problems.push(format!("{op}: p99 {}", ms(p99)));
        }
        if sorted.is_empty() {
            problems.push(format!("{op}: never completed"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // Flat after warm-up: growth stays within a quarter of the warm figure plus 64 MiB (the
    // database's cache and the allocator's pools settle within that).
    assert!(
        end_rss <= warm_rss + warm_rss / 4 + (64 << 20),
        "server memory grew from {} to {}",
        mib(warm_rss),
        mib(end_rss)
    );
    drop(server);
}
