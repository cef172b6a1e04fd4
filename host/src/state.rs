//! What every request handler shares: configuration, database, key-encryption key, plugins,
//! network registry, live sessions, the pool of Paillier primes and the metrics.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use mpcw_engine::PaillierPrimes;
use zeroize::Zeroizing;

use crate::auth::alipay::Alipay;
use crate::auth::dapps::Dapps;
use crate::auth::oidc::OidcVerifier;
use crate::auth::tokens::TokenKeys;
use crate::auth::wechat::Wechat;
use crate::bridge::delivery::Outbox;
use crate::bridge::Bridge;
use crate::chains::Registry;
use crate::config::Config;
use crate::mpc::Sessions;
use crate::plugin::Runtime;
use crate::store::Store;

/// Shared server state.
pub struct AppState {
    /// Settings.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// Key that seals server shares and party keys.
    pub kek: Zeroizing<[u8; 32]>,
    /// Chain plugins.
    pub runtime: Arc<Runtime>,
    /// Networks.
    pub registry: Registry,
    /// Live protocol sessions.
    pub sessions: Sessions,
    /// Paillier primes made ahead of ECDSA key generation.
    pub primes: Arc<PrimePool>,
    /// Counters for `/v1/metrics`.
    pub metrics: Metrics,
    /// Idempotency keys whose first request is still being answered.
    pub in_flight: Mutex<HashSet<(String, String)>>,
    /// Requests per subject, if limited.
    pub limiter: Option<SubjectLimiter>,
    /// The keys of the host's access tokens.
    pub tokens: TokenKeys,
    /// The OpenID Connect providers users log in with.
    pub oidc: OidcVerifier,
    /// WeChat mini-program login, if configured.
    pub wechat: Option<Wechat>,
    /// Alipay login, if configured.
    pub alipay: Option<Alipay>,
    /// Registered Dapps.
    pub dapps: Dapps,
    /// Bridge requests.
    pub bridge: Bridge,
    /// Bridge callbacks to deliver.
    pub outbox: Outbox,
}

/// A rate limiter keyed by subject.
pub type SubjectLimiter = governor::DefaultKeyedRateLimiter<String>;

/// The limiter for `per_minute` requests per subject, in bursts of up to a tenth of it
/// (`None` for 0: unlimited).
pub fn subject_limiter(per_minute: u32) -> Option<SubjectLimiter> {
    let rate = std::num::NonZeroU32::new(per_minute)?;
    let burst = std::num::NonZeroU32::new((per_minute / 10).max(1)).expect("at least one");
    Some(governor::RateLimiter::keyed(
        governor::Quota::per_minute(rate).allow_burst(burst),
    ))
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A fresh random identifier: 128 bits as 32 hex digits, with a readable prefix.
pub fn random_id(prefix: &str) -> String {
    use rand_core::RngCore;
    let mut b = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut b);
    format!("{prefix}_{}", hex::encode(b))
}

/// A bearer token: 256 random bits, URL-safe.
pub fn random_token() -> Zeroizing<String> {
    use rand_core::RngCore;
    let mut b = Zeroizing::new([0u8; 32]);
    rand_core::OsRng.fill_bytes(b.as_mut());
    Zeroizing::new(format!("mpcw_{}", hex::encode(b.as_ref())))
}

/// Paillier primes for the server's part of ECDSA key generation, made ahead of time by a
/// background thread (about a minute each) so that creating a wallet does not wait for them.
/// Primes are used once and never stored.
pub struct PrimePool {
    ready: Mutex<Vec<PaillierPrimes>>,
    wanted: Condvar,
    target: usize,
}

impl PrimePool {
    /// A pool that keeps `target` primes ready once [`start`](Self::start)ed.
    pub fn new(target: usize) -> Arc<Self> {
        Arc::new(Self {
            ready: Mutex::new(Vec::new()),
            wanted: Condvar::new(),
            target,
        })
    }

    /// Start the background thread that fills the pool (nothing if the target is zero).
    pub fn start(self: &Arc<Self>) {
        if self.target == 0 {
            return;
        }
        let pool = Arc::clone(self);
        let _ = std::thread::Builder::new()
            .name("paillier-primes".into())
            .spawn(move || loop {
                {
                    let mut ready = pool.ready.lock().expect("pool lock");
                    while ready.len() >= pool.target {
                        ready = pool.wanted.wait(ready).expect("pool lock");
                    }
                }
                let primes = PaillierPrimes::generate(&mut rand_core::OsRng);
                pool.ready.lock().expect("pool lock").push(primes);
                tracing::debug!("Paillier primes ready");
            });
    }

    /// Add primes made elsewhere (a pool shared between processes, or test fixtures).
    pub fn add(&self, primes: PaillierPrimes) {
        self.ready.lock().expect("pool lock").push(primes);
    }

    /// Take primes if some are ready; `None` means key generation makes its own.
    pub fn take(&self) -> Option<PaillierPrimes> {
        let p = self.ready.lock().expect("pool lock").pop();
        self.wanted.notify_one();
        p
    }

    /// How many are ready.
    pub fn len(&self) -> usize {
        self.ready.lock().expect("pool lock").len()
    }

    /// Whether none are ready.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Counters exported in the Prometheus text format.
#[derive(Default)]
pub struct Metrics {
    /// HTTP requests answered.
    pub http_requests: AtomicU64,
    /// HTTP answers with a 4xx status.
    pub http_client_errors: AtomicU64,
    /// HTTP answers with a 5xx status.
    pub http_server_errors: AtomicU64,
    /// Wallets whose key generation finished.
    pub wallets_created: AtomicU64,
    /// Key generations that failed.
    pub keygen_failures: AtomicU64,
    /// Signing requests finished with a signed output.
    pub signatures: AtomicU64,
    /// Signing requests that failed.
    pub signing_failures: AtomicU64,
}

impl Metrics {
    /// Add one to `counter`.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4) of the counters and the given gauges.
    pub fn render(&self, gauges: &[(&str, &str, u64)]) -> String {
        let counters: [(&str, &str, &AtomicU64); 7] = [
            (
                "mpcw_http_requests_total",
                "HTTP requests answered",
                &self.http_requests,
            ),
            (
                "mpcw_http_client_errors_total",
                "HTTP answers with a 4xx status",
                &self.http_client_errors,
            ),
            (
                "mpcw_http_server_errors_total",
                "HTTP answers with a 5xx status",
                &self.http_server_errors,
            ),
            (
                "mpcw_wallets_created_total",
                "Wallets whose key generation finished",
                &self.wallets_created,
            ),
            (
                "mpcw_keygen_failures_total",
                "Key generations that failed",
                &self.keygen_failures,
            ),
            (
                "mpcw_signatures_total",
                "Signing requests finished with a signed output",
                &self.signatures,
            ),
            (
                "mpcw_signing_failures_total",
                "Signing requests that failed",
                &self.signing_failures,
            ),
        ];
        let mut out = String::new();
        for (name, help, value) in counters {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        for (name, help, value) in gauges {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
            ));
        }
        out
    }
}
