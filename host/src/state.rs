//! What every request handler shares: configuration, database, key-encryption key, plugins,
//! network registry, live sessions and the metrics.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
    /// The networks' nodes: chain data and broadcast.
    pub nodes: crate::nodes::Nodes,
    /// Live protocol sessions.
    pub sessions: Sessions,
    /// Server shares opened recently.
    pub opened_shares: crate::mpc::OpenedShares,
    /// Wallet keys at the networks' derivation paths, kept once derived.
    pub derived_keys: crate::chains::DerivedKeys,
    /// Counters for `/v1/metrics`.
    pub metrics: Metrics,
    /// Idempotency keys whose first request is still being answered.
    pub in_flight: Mutex<HashSet<(String, String)>>,
    /// Requests per subject, if limited.
    pub limiter: Option<SubjectLimiter>,
    /// Requests per client address to the routes that need no login, if limited.
    pub client_limiter: Option<ClientLimiter>,
    /// Attempts to open an escrowed recovery share, per user (`user:<subject>`) and per client
    /// (`client:<address>`), if limited.
    pub escrow_limiter: Option<SubjectLimiter>,
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
    /// Bridge requests' mini-program codes and links.
    pub entries: crate::bridge::entries::Entries,
    /// Bridge callbacks to deliver.
    pub outbox: Outbox,
    /// Bridge event streams open, by Dapp.
    pub event_streams: Arc<Slots>,
    /// Turns `true` when the server begins to stop: open event streams end.
    pub stopping: tokio::sync::watch::Sender<bool>,
}

/// Counted places per key (a Dapp's open event streams): taken while a guard lives.
#[derive(Debug, Default)]
pub struct Slots {
    taken: Mutex<HashMap<String, usize>>,
}

/// One place taken in [`Slots`], given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    key: String,
}

impl Slots {
    /// Take a place for `key` if fewer than `limit` are taken (0: no limit).
    pub fn take(self: &Arc<Self>, key: &str, limit: usize) -> Option<Slot> {
        let mut taken = self.taken.lock().expect("slots lock");
        let n = taken.entry(key.to_owned()).or_insert(0);
        if limit > 0 && *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: self.clone(),
            key: key.to_owned(),
        })
    }

    /// Places taken for `key`.
    pub fn taken(&self, key: &str) -> usize {
        self.taken
            .lock()
            .expect("slots lock")
            .get(key)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = self.slots.taken.lock().expect("slots lock");
        if let Some(n) = taken.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                taken.remove(&self.key);
            }
        }
    }
}

/// A rate limiter keyed by subject.
pub type SubjectLimiter = governor::DefaultKeyedRateLimiter<String>;

/// A rate limiter keyed by client address.
pub type ClientLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

/// A keyed limiter for `per_minute` requests per key, in bursts of up to a tenth of it (`None`
/// for 0: unlimited). Serves both [`SubjectLimiter`] and [`ClientLimiter`].
pub fn keyed_limiter<K: std::hash::Hash + Eq + Clone>(
    per_minute: u32,
) -> Option<governor::DefaultKeyedRateLimiter<K>> {
    let rate = std::num::NonZeroU32::new(per_minute)?;
    let burst = std::num::NonZeroU32::new((per_minute / 10).max(1)).expect("at least one");
    Some(governor::RateLimiter::keyed(
        governor::Quota::per_minute(rate).allow_burst(burst),
    ))
}

/// A keyed limiter for `per_hour` attempts per key, all of which may come at once (`None` for
/// 0: unlimited).
pub fn hourly_limiter<K: std::hash::Hash + Eq + Clone>(
    per_hour: u32,
) -> Option<governor::DefaultKeyedRateLimiter<K>> {
    let rate = std::num::NonZeroU32::new(per_hour)?;
    Some(governor::RateLimiter::keyed(
        governor::Quota::per_hour(rate).allow_burst(rate),
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
