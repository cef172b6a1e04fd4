//! PostgreSQL and Redis stopped and started again under load. Each test runs a private server
//! (its own PostgreSQL cluster or Redis process on a free port, Debian's binaries, as
//! scripts/postgres.sh and scripts/redis.sh install them) so that stopping it disturbs no other
//! test. Clients keep calling the API while the server is down: every answer is the usual
//! result or 503 with `Retry-After`, never a 500, a panic or a hung request; once the server is
//! back, the host serves again by itself, and a wallet signs.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mpcw_engine::Scheme;
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, Client, LocalShare, SignSpec};
use mpcw_tests::dapp::{http, Dapp};
use mpcw_tests::{free_port, temp_dir, two_of_three, Host};
use serde_json::json;

/// `command` run as the `postgres` user when this process is root (PostgreSQL refuses root).
fn as_postgres(program: &str) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

fn pg_bin(tool: &str) -> String {
    let dirs = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL (scripts/postgres.sh installs it)");
    let mut versions: Vec<_> = dirs.filter_map(|d| d.ok()).map(|d| d.path()).collect();
    versions.sort();
    versions
        .last()
        .unwrap()
        .join("bin")
        .join(tool)
        .display()
        .to_string()
}

/// A private PostgreSQL cluster on a free port.
struct Postgres {
    data: std::path::PathBuf,
    port: u16,
}

impl Postgres {
    fn new() -> Self {
        let data = std::path::PathBuf::from(format!("/tmp/mpcw-restart-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).unwrap();
        Command::new("chown")
            .args(["postgres:", &data.display().to_string()])
            .status()
            .ok();
        let ok = as_postgres(&pg_bin("initdb"))
            .args([
                "-D",
                &data.display().to_string(),
                "-U",
                "mpcw",
                "-A",
                "trust",
                "--no-sync",
            ])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "initdb");
        let pg = Self {
            data,
            port: free_port(),
        };
        pg.start();
        pg
    }

    fn ctl(&self, args: &[&str]) {
        let ok = as_postgres(&pg_bin("pg_ctl"))
            .args(["-D", &self.data.display().to_string()])
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "pg_ctl {args:?}");
    }

    fn start(&self) {
        let options = format!(
            "-h 127.0.0.1 -p {} -k {} -F",
            self.port,
            self.data.display()
        );
        let log = self.data.join("server.log").display().to_string();
        self.ctl(&["-l", &log, "-w", "-o", &options, "start"]);
    }

    /// Stop at once, as a crash would (no checkpoint).
    fn stop(&self) {
        self.ctl(&["-m", "immediate", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://mpcw@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&pg_bin("pg_ctl"))
            .args([
                "-D",
                &self.data.display().to_string(),
                "-m",
                "immediate",
                "stop",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// A private Redis on a free port.
struct Redis {
    port: u16,
    child: Mutex<Option<std::process::Child>>,
}

impl Redis {
    fn new() -> Self {
        let r = Self {
            port: free_port(),
            child: Mutex::new(None),
        };
        r.start();
        r
    }

    fn start(&self) {
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/redis.sh installs it)");
        *self.child.lock().unwrap() = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start");
    }

    fn stop(&self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            c.kill().ok();
            c.wait().ok();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Statuses seen by the load, and whether every 503 had `Retry-After`.
#[derive(Default)]
struct Seen {
    statuses: Vec<u16>,
    missing_retry_after: usize,
}

/// Keep calling the host at `url` until `stop` is set: `GET /v1/wallets` with `token`, or, with
/// `dapp` (id, secret, body), `POST /v1/bridge/requests` as that Dapp.
type DappCall = (&'static str, String, serde_json::Value);

fn load(
    url: String,
    token: String,
    dapp: Option<DappCall>,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = http();
        while !stop.load(Ordering::Relaxed) {
            let request = match &dapp {
                Some((id, secret, body)) => client
                    .post(format!("{url}/v1/bridge/requests"))
                    .basic_auth(id, Some(secret))
                    .json(body),
                None => client.get(format!("{url}/v1/wallets")).bearer_auth(&token),
            };
            let answer = request
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .expect("an answer, not a hang");
            let status = answer.status().as_u16();
            let missing = status == 503 && !answer.headers().contains_key("retry-after");
            {
                let mut s = seen.lock().unwrap();
                s.missing_retry_after += usize::from(missing);
                s.statuses.push(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

/// Four clients keep calling the host (`target`: URL, user token, or a Dapp's call) while
/// `down` stops the store for `length` and `up` starts it again; then until the host answers
/// `ok` again (at most 20 s). Every answer is `ok` or 503 with `Retry-After`, some 503, and the
/// last `ok`.
async fn outage(
    (url, token, dapp): (&str, &str, Option<DappCall>),
    ok: u16,
    down: impl FnOnce(),
    length: Duration,
    up: impl FnOnce(),
) {
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (url, token) = (url.to_owned(), token.to_owned());
            load(url, token, dapp.clone(), stop.clone(), seen.clone())
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(down);
    tokio::time::sleep(length).await;
    tokio::task::block_in_place(up);
    let until = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().statuses.last() != Some(&ok) && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let seen = seen.lock().unwrap();
    check(&seen, ok);
    assert_eq!(
        seen.statuses.last(),
        Some(&ok),
        "the host serves again by itself"
    );
}

fn check(seen: &Seen, ok: u16) {
    let down = seen.statuses.iter().filter(|s| **s == 503).count();
    assert!(down > 0, "the outage was seen: {:?}", seen.statuses.len());
    assert!(
        seen.statuses.iter().all(|s| *s == ok || *s == 503),
        "only {ok} or 503: {:?}",
        seen.statuses
            .iter()
            .filter(|s| **s != ok && **s != 503)
            .collect::<Vec<_>>()
    );
    assert_eq!(seen.missing_retry_after, 0, "every 503 says when to retry");
    println!(
        "{} requests: {} answered {ok}, {down} answered 503 with Retry-After",
        seen.statuses.len(),
        seen.statuses.len() - down
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load() {
    let pg = Postgres::new();
    let host = Host::start(&temp_dir("pg-restart"), Some(pg.url())).await;
    let token = Client::new(&host.url)
        .dev_login("rita")
        .await
        .unwrap()
        .access_token;
    let client = Client::new(&host.url).with_token(token.clone());
    let (wallet, shares) = device::create_wallet(&client, &two_of_three(Scheme::Ed25519), |_| {})
        .await
        .unwrap();
    let share = LocalShare {
        index: 0,
        keys: shares[0].keys.clone(),
        share: shares[0].share.clone(),
    };

    outage(
        (&host.url, &token, None),
        200,
        || pg.stop(),
        Duration::from_secs(4),
        || pg.start(),
    )
    .await;
    let spec = SignSpec {
        network: Registry::builtin().unwrap().get("solana").unwrap().clone(),
        request: json!({"kind": "transfer", "to": "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
                        "lamports": "1", "recentBlockhash": "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N"}),
        signers: vec![0, 1],
        bridge: None,
    };
    device::sign(&client, &wallet, &share, &spec, None, |_| {})
        .await
        .expect("signing after the restart");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_under_load() {
    let redis = Redis::new();
    let (shop, dapp_config) = Dapp::new("shop", None);
    let config = mpcw_host::config::Config {
        bridge_url: format!("redis://127.0.0.1:{}/0", redis.port),
        dapps: vec![dapp_config],
        rate_limit_per_minute: 0,
        ..mpcw_tests::config(temp_dir("redis-restart"))
    };
    let host = Host::start_with(config).await;
    let body = json!({"network": "solana", "request": {"kind": "transfer",
        "to": "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T", "lamports": "1",
        "recentBlockhash": "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N"}});
    let (code, created) = shop.create(&host.url, body.clone()).await;
    assert_eq!(code, 201, "{created}");

    let call = (shop.id, shop.secret.clone(), body.clone());
    outage(
        (&host.url, "", Some(call)),
        201,
        || redis.stop(),
        Duration::from_secs(3),
        || redis.start(),
    )
    .await;
    host.stop().await;
}
