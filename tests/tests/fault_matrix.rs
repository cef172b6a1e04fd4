//! Faults in every round. The client reaches the server through a proxy in this test that counts
//! the batches of protocol messages the server sends to the device; at each batch boundary of
//! key generation, signing and resharing (refresh), for each scheme, on SQLite and on
//! PostgreSQL, the server is killed with SIGKILL right after that batch, and started again on
//! the same database. Afterwards nothing is half-made or lost: an interrupted key generation
//! leaves a failed wallet without a key, an interrupted signing request is failed (never
//! completed later), an interrupted refresh leaves the old shares and roster in force; and the
//! wallet signs again. The same with the client dying instead (the proxy cuts it off): the
//! server's session ends at its deadline, and a retry works.
//!
//! Each run prints the matrix it passed
//! (`cargo test -p mpcw-tests --test e2e fault_matrix:: -- --nocapture`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mpcw_engine::Scheme;
use mpcw_host::api::WalletView;
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, Client, LocalShare, NewShare, SignSpec};
use mpcw_host::store::WalletStatus;
use mpcw_tests::process::HostProcess;
use mpcw_tests::{temp_dir, two_of_three};
use serde_json::{json, Value};

/// What the proxy does, and what it has seen.
#[derive(Default)]
struct Proxy {
    /// The server's URL.
    target: String,
    /// Non-empty message batches the device has been sent so far in this run.
    batches: usize,
    /// After this many batches: kill the server, or cut the client off.
    fault_at: Option<usize>,
    /// Cut the client off (every request answered 503) instead of killing the server.
    cut_client: bool,
    /// The fault happened.
    struck: bool,
    /// The server process.
    server: Option<HostProcess>,
    /// The id of the last signing request created.
    signing: Option<String>,
}

type Shared = Arc<Mutex<Proxy>>;

async fn forward(
    State(proxy): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (target, cut) = {
        let p = proxy.lock().unwrap();
        (p.target.clone(), p.struck && p.cut_client)
    };
    if cut {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = mpcw_tests::dapp::http().request(method.clone(), format!("{target}{path}"));
    for name in ["authorization", "content-type", "idempotency-key", "accept"] {
        if let Some(v) = headers.get(name) {
            request = request.header(name, v);
        }
    }
    let Ok(answer) = request.body(body).send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let bytes = answer.bytes().await.unwrap_or_default();
    let json: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let mut p = proxy.lock().unwrap();
    if method == Method::POST && uri.path().ends_with("/signatures") && status.is_success() {
        p.signing = json["id"].as_str().map(str::to_owned);
    }
    // A batch comes in a fetch (`GET`, or a `POST` that also fetches) or in the answer that
    // starts a signing (its payloads' first messages).
    let fetched = uri.path().starts_with("/v1/sessions/")
        && uri.path().ends_with("/messages")
        && json["messages"].as_array().is_some_and(|m| !m.is_empty());
    let first = method == Method::POST
        && uri.path().ends_with("/signatures")
        && json["payloads"].as_array().is_some_and(|payloads| {
            payloads
                .iter()
                .any(|p| p["messages"].as_array().is_some_and(|m| !m.is_empty()))
        });
    let batch = fetched || first;
    if batch {
        p.batches += 1;
        if p.fault_at == Some(p.batches) {
            p.struck = true;
            if !p.cut_client {
                // SIGKILL: no shutdown, no cleanup. The device gets this batch, and then no server.
                if let Some(mut server) = p.server.take() {
                    server.kill();
                }
            }
        }
    }
    (status, [("content-type", "application/json")], bytes).into_response()
}

/// The server in a process of its own, on `dir` with `config`.
fn spawn(dir: &std::path::Path, config: &std::path::Path) -> (HostProcess, String) {
    HostProcess::spawn(env!("CARGO_BIN_EXE_mpcw-test-host"), [dir, config])
}

/// A device (with its recovery party) of one wallet, talking through the proxy.
struct Case {
    proxy: Shared,
    client: Client,
    dir: std::path::PathBuf,
    config: std::path::PathBuf,
}

impl Case {
    /// Arm a fault after `batches` batches from now (`None`: no fault).
    fn arm(&self, batches: Option<usize>, cut_client: bool) {
        let mut p = self.proxy.lock().unwrap();
        p.batches = 0;
        p.fault_at = batches;
        p.cut_client = cut_client;
        p.struck = false;
    }

    /// Batches seen since the last `arm`, and whether the fault struck.
    fn seen(&self) -> (usize, bool) {
        let p = self.proxy.lock().unwrap();
        (p.batches, p.struck)
    }

    /// Start the server again if it was killed.
    fn restart(&self) {
        let mut p = self.proxy.lock().unwrap();
        if p.server.is_none() {
            let (server, url) = spawn(&self.dir, &self.config);
            p.server = Some(server);
            p.target = url;
        }
        p.struck = false;
        p.fault_at = None;
    }
}

/// Where each scheme signs in these tests, and a request for the wallet there.
async fn sign_spec(client: &Client, wallet: &WalletView, nonce: u64) -> SignSpec {
    let registry = Registry::builtin().unwrap();
    let (network, request) = match wallet.public_key.as_ref().unwrap().scheme {
        Scheme::Ed25519 => (
            "solana",
            json!({"kind": "transfer", "to": "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
                   "lamports": (1000 + nonce).to_string(),
                   "recentBlockhash": "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N"}),
        ),
        Scheme::EcdsaSecp256k1 => {
            let from = mpcw_tests::first_address(client, &wallet.id, "ethereum").await;
            (
                "ethereum",
                json!({"kind": "transaction", "from": from, "nonce": nonce,
                       "to": "0x3535353535353535353535353535353535353535", "value": "1000",
                       "gas": 21000, "maxFeePerGas": "30000000000",
                       "maxPriorityFeePerGas": "1000000000"}),
            )
        }
        Scheme::SchnorrBip340 => (
            "bitcoin-taproot",
            json!({"kind": "message", "message": format!("fault matrix {nonce}")}),
        ),
    };
    SignSpec {
        network: registry.get(network).unwrap().clone(),
        request,
        signers: vec![0, wallet.server_index],
        bridge: None,
    }
}

fn local(s: &NewShare) -> LocalShare {
    LocalShare {
        index: s.index,
        keys: s.keys.clone(),
        share: s.share.clone(),
    }
}

/// One line of the printed matrix.
struct Row {
    database: &'static str,
    scheme: &'static str,
    protocol: &'static str,
    fault: &'static str,
    boundaries: usize,
}

/// Every boundary of every protocol of `scheme`, with the server killed (or the client cut off
/// when `cut_client`); the rows passed.
async fn matrix(case: &Case, scheme: Scheme, cut_client: bool, database: &'static str) -> Vec<Row> {
    let fault = if cut_client {
        "client dies"
    } else {
        "server SIGKILL"
    };
    let client = &case.client;
    let spec = two_of_three(scheme);
    let mut rows = Vec::new();
    let row = |protocol, boundaries| Row {
        database,
        scheme: scheme.name(),
        protocol,
        fault,
        boundaries,
    };

    // Key generation: a clean run counts its batches, then a fault after each.
    case.arm(None, false);
    let (mut wallet, shares) = device::create_wallet(client, &spec, |_| {}).await.unwrap();
    let (keygen_batches, _) = case.seen();
    let (mut device_share, mut recovery) = (local(&shares[0]), local(&shares[1]));
    let mut faults = 0;
    for at in 1..=keygen_batches {
        case.arm(Some(at), cut_client);
        let before: Vec<String> = client
            .wallets()
            .await
            .unwrap()
            .iter()
            .map(|w| w.id.clone())
            .collect();
        let outcome = device::create_wallet(client, &spec, |_| {}).await;
        if !case.seen().1 {
            // The run took fewer batches this time (the device fetched two rounds at once).
            assert!(outcome.is_ok());
            continue;
        }
        assert!(
            outcome.is_err(),
            "key generation cut at batch {at} completed"
        );
        wait_out(case, cut_client).await;
        let half = client
            .wallets()
            .await
            .unwrap()
            .into_iter()
            .find(|w| !before.contains(&w.id));
        let half = half.expect("the interrupted wallet is listed");
        // Failed without a key, or (the server had stored its share before the fault) ready
        // with one: never in between.
        match half.status {
            WalletStatus::Failed => assert!(half.public_key.is_none()),
            WalletStatus::Ready => assert!(half.public_key.is_some()),
            other => panic!("{scheme:?} keygen at {at}: {other:?}"),
        }
        faults += 1;
    }
    rows.push(row("key generation", faults));

    // Signing.
    case.arm(None, false);
    let spec0 = sign_spec(client, &wallet, 0).await;
    device::sign(client, &wallet, &device_share, &spec0, None, |_| {})
        .await
        .unwrap();
    let (sign_batches, _) = case.seen();
    let mut faults = 0;
    for at in 1..=sign_batches {
        case.arm(Some(at), cut_client);
        let spec = sign_spec(client, &wallet, at as u64).await;
        let outcome = device::sign(client, &wallet, &device_share, &spec, None, |_| {}).await;
        if !case.seen().1 {
            assert!(outcome.is_ok());
            continue;
        }
        assert!(outcome.is_err(), "signing cut at batch {at} completed");
        wait_out(case, cut_client).await;
        let id = case.proxy.lock().unwrap().signing.clone().unwrap();
        let view = client.signing(&id).await.unwrap();
        // Failed without a result, or (finalized before the fault) done with one.
        match view.status.as_str() {
            "failed" => assert!(
                view.result.is_none(),
                "an interrupted request has no result"
            ),
            "done" => assert!(view.result.is_some()),
            other => panic!("{scheme:?} signing at {at}: {other}"),
        }
        // It signs again.
        device::sign(client, &wallet, &device_share, &spec, None, |_| {})
            .await
            .unwrap_or_else(|e| panic!("{scheme:?}: signing after a fault at {at}: {e}"));
        faults += 1;
    }
    rows.push(row("signing", faults));

    // Refresh (resharing among the same parties).
    case.arm(None, false);
    let (refreshed, shares) = device::refresh(client, &wallet, &[&device_share, &recovery], |_| {})
        .await
        .unwrap();
    let (reshare_batches, _) = case.seen();
    wallet = refreshed;
    (device_share, recovery) = (local(&shares[0]), local(&shares[1]));
    let mut faults = 0;
    // Faults after which the server had stored the new shares.
    let mut committed = 0;
    for at in 1..=reshare_batches {
        case.arm(Some(at), cut_client);
        let outcome = device::refresh(client, &wallet, &[&device_share, &recovery], |_| {}).await;
        if !case.seen().1 {
            let (w, s) = outcome.unwrap();
            wallet = w;
            (device_share, recovery) = (local(&s[0]), local(&s[1]));
            continue;
        }
        // The device keeps what its parties made if the server did not confirm it.
        let unconfirmed = match outcome {
            Ok(_) => panic!("refresh cut at batch {at} completed"),
            Err(device::DeviceError::Unconfirmed { shares, .. }) => Some(shares),
            Err(_) => None,
        };
        wait_out(case, cut_client).await;
        // Either the old shares or the new ones are in force, as the server's public shares
        // say, never neither: the device signs with the one in force.
        let now = client.wallet(&wallet.id).await.unwrap();
        assert_eq!(now.roster, wallet.roster);
        if !device::in_force(&now, &device_share.share) {
            let shares = unconfirmed.expect("the old shares lost force, and no new ones were kept");
            assert!(
                device::in_force(&now, &shares[0].share),
                "{scheme:?} refresh at {at}"
            );
            (device_share, recovery) = (local(&shares[0]), local(&shares[1]));
            committed += 1;
        }
        wallet = now;
        let spec = sign_spec(client, &wallet, 100 + at as u64).await;
        device::sign(client, &wallet, &device_share, &spec, None, |_| {})
            .await
            .unwrap_or_else(|e| panic!("{scheme:?}: signing after a refresh cut at {at}: {e}"));
        faults += 1;
    }
    rows.push(row("refresh", faults));
    println!("{scheme:?} refresh: the server had stored the new shares at {committed} of {faults} faults");
    rows
}

/// After a fault: start the server again (SIGKILL), or wait until the server's session has
/// ended at its deadline (client cut off); then the proxy passes requests again.
async fn wait_out(case: &Case, cut_client: bool) {
    if cut_client {
        // The session deadline of these tests' configuration, and a little more.
        tokio::time::sleep(Duration::from_millis(SESSION_TTL_SECS * 1000 + 500)).await;
    }
    case.restart();
}

/// The session deadline when the client is cut off: the server then waits it out, so short.
const SESSION_TTL_SECS: u64 = 2;
/// The session deadline when the server is killed (it fails what it was doing when it starts
/// again, and waits out nothing): long enough for an ECDSA key generation on a loaded machine.
const KILLED_SESSION_TTL_SECS: u64 = 30;

async fn run_matrix(
    name: &str,
    database_url: Option<String>,
    schemes: &[Scheme],
    cut_client: bool,
) -> Vec<Row> {
    let dir = temp_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    let ttl = if cut_client {
        SESSION_TTL_SECS
    } else {
        KILLED_SESSION_TTL_SECS
    };
    let mut text = format!("session_ttl_secs = {ttl}\nrate_limit_per_minute = 0\n");
    if let Some(url) = &database_url {
        text.push_str(&format!("database_url = {url:?}\n"));
    }
    std::fs::write(&config, text).unwrap();
    let (server, target) = spawn(&dir, &config);
    let proxy: Shared = Arc::new(Mutex::new(Proxy {
        target,
        server: Some(server),
        ..Default::default()
    }));
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    let url = mpcw_tests::serve(app).await;
    let token = Client::new(&url)
        .dev_login(name)
        .await
        .unwrap()
        .access_token;
    let case = Case {
        proxy,
        client: Client::new(&url).with_token(token),
        dir,
        config,
    };
    let database = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut rows = Vec::new();
    for scheme in schemes {
        rows.extend(matrix(&case, *scheme, cut_client, database).await);
    }
    rows
}

fn print(rows: &[Row]) {
    println!("| database | scheme | protocol | fault | boundaries | result |");
    println!("| --- | --- | --- | --- | ---: | --- |");
    for r in rows {
        assert!(
            r.boundaries > 0,
            "no fault struck for {} {}",
            r.scheme,
            r.protocol
        );
        println!(
            "| {} | {} | {} | {} | {} | passed |",
            r.database, r.scheme, r.protocol, r.fault, r.boundaries
        );
    }
}

const ALL: [Scheme; 3] = [
    Scheme::Ed25519,
    Scheme::SchnorrBip340,
    Scheme::EcdsaSecp256k1,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_killed_at_every_round_on_sqlite() {
    print(&run_matrix("faults-sqlite", None, &ALL, false).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_killed_at_every_round_on_postgres() {
    let url = std::env::var("MPCW_TEST_POSTGRES_URL")
        .expect("MPCW_TEST_POSTGRES_URL is not set: run the tests with scripts/test");
    print(&run_matrix("faults-postgres", Some(url), &ALL, false).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_dying_at_every_round_ends_cleanly() {
    print(&run_matrix("faults-client", None, &[Scheme::Ed25519], true).await);
}
