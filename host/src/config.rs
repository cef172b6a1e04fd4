//! The server's configuration: a TOML file, then `MPCW_*` environment variables over it.
//!
//! Every key, its default and its variable:
//!
//! | key | default | environment | meaning |
//! | --- | --- | --- | --- |
//! | `listen` | `127.0.0.1:8420` | `MPCW_LISTEN` | address the HTTP API binds |
//! | `data_dir` | `./mpcw-data` | `MPCW_DATA_DIR` | database, key-encryption key, plugin cache |
//! | `database_url` | `sqlite://<data_dir>/mpcw.db` | `MPCW_DATABASE_URL` | `sqlite://…` or `postgres://…` |
//! | `kek` | from `<data_dir>/kek`, made on first start | `MPCW_KEK` | 64 hex digits: the key that seals server shares |
//! | `kek_id` | `local` | `MPCW_KEK_ID` | name recorded with each sealed share, for rotation |
//! | `plugin_dir` | none | `MPCW_PLUGIN_DIR` | extra plugin components (`*.wasm`), over the built-in ones |
//! | `plugin_cache_dir` | `<data_dir>/plugin-cache` | `MPCW_PLUGIN_CACHE_DIR` | compiled plugin code, reused across starts (trusted like the binary: it holds native code); several hosts of one version may share it |
//! | `chains_dir` | none | `MPCW_CHAINS_DIR` | extra network files (`*.toml`), over the built-in ones |
//! | `dev_login` | on when `listen` is a loopback address | `MPCW_DEV_LOGIN` | allow `POST /v1/auth/dev` (log in as any subject; for local use only: on with any other address, the server refuses to start) |
//! | `session_ttl_secs` | `900` | `MPCW_SESSION_TTL_SECS` | how long a protocol session may run |
//! | `token_ttl_secs` | `900` | `MPCW_TOKEN_TTL_SECS` | lifetime of an access token |
//! | `token_keys` | from `<data_dir>/token-key`, made on first start | `MPCW_TOKEN_KEYS` (comma-separated) | access-token keys, `kid:<64 hex digits>` (Ed25519 seeds): the first signs, all verify and are published at `/.well-known/jwks.json` |
//! | `token_issuer` | `mpcw` | `MPCW_TOKEN_ISSUER` | the `iss` of access tokens |
//! | `[[oidc]]` | none | | identity providers: `name`, `issuer`, `audiences`, optional `jwks_uri`, `refetch_interval_secs`; for the web signer's login button `client_id` (one of the audiences), optional `client_secret`, `label`, `authorization_endpoint`, `token_endpoint` |
//! | `[wechat]` | none | | WeChat mini-program login and bridge entries: `app_id`, `app_secret`, optional `base_url`, `approve_page`, `env_version` |
//! | `[alipay]` | none | | Alipay login and bridge entries: `app_id`, `private_key`, `alipay_public_key`, optional `gateway`, `approve_page` |
//! | `public_url` | `http://<listen>` | `MPCW_PUBLIC_URL` | the server's address as users reach it (bridge links) |
//! | `[[dapps]]` | none | | registered Dapps: `id`, `name`, `allowed_origins`, `callback_url`, `api_secret_sha256` (`mpcw dapp new` makes one) |
//! | `signer_dir` | `web/signer/dist` if it exists | `MPCW_SIGNER_DIR` | the web signer's built files, served at `/signer/` (and `/bridge` opens it) |
//! | `bridge_url` | `memory` | `MPCW_BRIDGE_URL` | where bridge requests live: `memory` (this process) or `redis://host:port/db`, shared by several hosts |
//! | `bridge_key_prefix` | `mpcw:bridge:` | `MPCW_BRIDGE_KEY_PREFIX` | prefix of the bridge's Redis keys and channel |
//! | `callback_first_retry_ms` | `2000` | `MPCW_CALLBACK_FIRST_RETRY_MS` | wait after a bridge callback's first failed attempt; doubles (with jitter) after each |
//! | `callback_max_retry_ms` | `600000` | `MPCW_CALLBACK_MAX_RETRY_MS` | the longest wait between callback attempts |
//! | `callback_max_attempts` | `12` | `MPCW_CALLBACK_MAX_ATTEMPTS` | attempts at a callback before it is given up |
//! | `request_timeout_secs` | `30` | `MPCW_REQUEST_TIMEOUT_SECS` | limit on one HTTP request (long-polls stay below it) |
//! | `max_connections` | `4096` | `MPCW_MAX_CONNECTIONS` | HTTP connections open at once (at most what the file-descriptor limit leaves room for); more wait to be accepted |
//! | `header_read_timeout_secs` | `10` | `MPCW_HEADER_READ_TIMEOUT_SECS` | time a client has to send a request's head, and the longest a connection may be idle between requests |
//! | `max_event_streams_per_dapp` | `256` | `MPCW_MAX_EVENT_STREAMS_PER_DAPP` | bridge event streams (`/events`) one Dapp may hold open at once (0: no limit) |
//! | `max_body_bytes` | `8388608` | `MPCW_MAX_BODY_BYTES` | largest request body (protocol messages of ECDSA key generation are large) |
//! | `client_rate_limit_per_minute` | `300` | `MPCW_CLIENT_RATE_LIMIT_PER_MINUTE` | requests one client address may make per minute to the routes that need no login (logins, `bridge/open`, the QR code, the public documents), in bursts of up to a tenth of it (0: no limit) |
//! | `trusted_proxies` | none | `MPCW_TRUSTED_PROXIES` (comma-separated) | addresses of reverse proxies whose `X-Forwarded-For` names the client; from anyone else the header is ignored |
//! | `max_live_sessions` | `32` | `MPCW_MAX_LIVE_SESSIONS` | protocol sessions one subject may have running at once (0: no limit) |
//! | `max_live_sessions_total` | `1024` | `MPCW_MAX_LIVE_SESSIONS_TOTAL` | protocol sessions every subject may have running together; each holds a thread (0: no limit) |
//! | `protocol_cores` | `0` | `MPCW_PROTOCOL_CORES` | protocol steps computed at once, whatever the number of sessions; 0 is one fewer than the machine's cores (at least one), so request threads always have a core |
//! | `relay_session_max_bytes` | `67108864` | `MPCW_RELAY_SESSION_MAX_BYTES` | bytes of protocol messages one session may hold in the relay (a 16-party ECDSA key generation logs about 46 MB; 0: no limit) |
//! | `relay_subject_max_bytes` | `134217728` | `MPCW_RELAY_SUBJECT_MAX_BYTES` | bytes the sessions of one subject may hold together, until they end (0: no limit) |
//! | `relay_max_bytes` | `1073741824` | `MPCW_RELAY_MAX_BYTES` | bytes every session may hold together (0: no limit) |
//! | `[rpc_urls]` | none | | network id = node URL: the JSON-RPC endpoint the host asks for chain data and broadcasts to, over the network file's `rpc_url` |
//! | `public_rpc` | `true` | `MPCW_PUBLIC_RPC` | use the network files' public `rpc_url`s (off: only `[rpc_urls]`) |
//! | `rpc_timeout_secs` | `10` | `MPCW_RPC_TIMEOUT_SECS` | how long a node has to answer one call |
//! | `recovery_delay_secs` | `0` | `MPCW_RECOVERY_DELAY_SECS` | how long an announced recovery (a new device) waits before it may start; meanwhile a device that still holds a share can cancel it (0: no wait) |
//! | `escrow_opens_per_hour` | `10` | `MPCW_ESCROW_OPENS_PER_HOUR` | attempts to open an escrowed recovery share, per user and per client address, per hour (0: no limit) |
//! | `security_webhook_url` | none | `MPCW_SECURITY_WEBHOOK_URL` | where recovery, refresh and escrow events are posted, signed as bridge callbacks are |
//! | `security_webhook_key` | none | `MPCW_SECURITY_WEBHOOK_KEY` | 64 hex digits: the HMAC key of those posts (needed with the URL) |
//! | `rate_limit_per_minute` | `1200` | `MPCW_RATE_LIMIT_PER_MINUTE` | requests one subject may make per minute, in bursts of up to a tenth of it (0: no limit) |

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::auth::alipay::AlipayConfig;
use crate::auth::dapps::DappConfig;
use crate::auth::oidc::OidcProvider;
use crate::auth::wechat::WechatConfig;
use crate::mpc::RelayLimits;
use serde::Deserialize;
use zeroize::Zeroizing;

/// The server's settings, after the file and the environment are applied.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP API binds.
    pub listen: SocketAddr,
    /// Directory for the embedded database, the generated KEK and the plugin cache.
    pub data_dir: PathBuf,
    /// Database URL; `None` means SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Key-encryption key as 64 hex digits; `None` means the file `data_dir/kek`.
    pub kek: Option<String>,
    /// Name of the KEK, stored with every share it seals.
    pub kek_id: String,
    /// Extra plugin directory.
    pub plugin_dir: Option<PathBuf>,
    /// Directory of compiled plugin code; `None` means `data_dir/plugin-cache`.
    pub plugin_cache_dir: Option<PathBuf>,
    /// Extra network directory.
    pub chains_dir: Option<PathBuf>,
    /// Whether `POST /v1/auth/dev` logs anyone in by subject alone; `None` means on exactly
    /// when `listen` is a loopback address (see [`Config::dev_login_enabled`]).
    pub dev_login: Option<bool>,
    /// Lifetime of a protocol session, seconds.
    pub session_ttl_secs: u64,
    /// Lifetime of an access token, seconds.
    pub token_ttl_secs: u64,
    /// Access-token keys, `kid:<64 hex digits>`; empty means the file `data_dir/token-key`.
    pub token_keys: Vec<String>,
    /// The `iss` of access tokens.
    pub token_issuer: String,
    /// OpenID Connect identity providers.
    pub oidc: Vec<OidcProvider>,
    /// The WeChat mini-program users log in from.
    pub wechat: Option<WechatConfig>,
    /// The Alipay app users log in from.
    pub alipay: Option<AlipayConfig>,
    /// Registered Dapps.
    pub dapps: Vec<DappConfig>,
    /// The server's address as users reach it (bridge links); by default `http://<listen>`.
    pub public_url: Option<String>,
    /// The web signer's built files; `None`: `web/signer/dist` if it exists.
    pub signer_dir: Option<PathBuf>,
    /// Where bridge requests live: `memory`, or a `redis://` URL.
    pub bridge_url: String,
    /// Prefix of the bridge's Redis keys.
    pub bridge_key_prefix: String,
    /// Wait after a callback's first failed attempt, milliseconds.
    pub callback_first_retry_ms: u64,
    /// Longest wait between callback attempts, milliseconds.
    pub callback_max_retry_ms: u64,
    /// Attempts at a callback in all.
    pub callback_max_attempts: u32,
    /// Limit on one HTTP request, seconds.
    pub request_timeout_secs: u64,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// HTTP connections open at once.
    pub max_connections: usize,
    /// Time to send a request's head, and the longest idle time between requests, seconds.
    pub header_read_timeout_secs: u64,
    /// Bridge event streams one Dapp may hold open at once (0: unlimited).
    pub max_event_streams_per_dapp: usize,
    /// Requests per minute per subject (0: unlimited).
    pub rate_limit_per_minute: u32,
    /// Requests per minute per client address to the routes that need no login (0: unlimited).
    pub client_rate_limit_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` header is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Protocol sessions one subject may have running at once (0: unlimited).
    pub max_live_sessions: usize,
    /// Protocol sessions every subject may have running together (0: unlimited).
    pub max_live_sessions_total: usize,
    /// Protocol steps computed at once (0: one fewer than the cores, at least one).
    pub protocol_cores: usize,
    /// Bytes of messages one session may hold in the relay (0: unlimited).
    pub relay_session_max_bytes: usize,
    /// Bytes of messages the sessions of one subject may hold together (0: unlimited).
    pub relay_subject_max_bytes: usize,
    /// Bytes of messages every session may hold together (0: unlimited).
    pub relay_max_bytes: usize,
    /// Node endpoints by network id, over the network files' `rpc_url`s.
    pub rpc_urls: std::collections::BTreeMap<String, String>,
    /// Whether the network files' public `rpc_url`s are used.
    pub public_rpc: bool,
    /// How long a node has to answer one call, seconds.
    pub rpc_timeout_secs: u64,
    /// How long an announced recovery waits before it may start, seconds (0: no wait).
    pub recovery_delay_secs: u64,
    /// Attempts to open an escrowed recovery share per user and per client per hour (0: no
    /// limit).
    pub escrow_opens_per_hour: u32,
    /// Where security events (recoveries, refreshes, escrow) are posted.
    pub security_webhook_url: Option<String>,
    /// The HMAC key of security events, 64 hex digits.
    pub security_webhook_key: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8420".parse().expect("valid address"),
            data_dir: PathBuf::from("mpcw-data"),
            database_url: None,
            kek: None,
            kek_id: "local".into(),
            plugin_dir: None,
            plugin_cache_dir: None,
            chains_dir: None,
            dev_login: None,
            session_ttl_secs: 900,
            token_ttl_secs: 900,
            token_keys: Vec::new(),
            token_issuer: "mpcw".into(),
            oidc: Vec::new(),
            wechat: None,
            alipay: None,
            dapps: Vec::new(),
            public_url: None,
            signer_dir: None,
            bridge_url: "memory".into(),
            bridge_key_prefix: "mpcw:bridge:".into(),
            callback_first_retry_ms: 2000,
            callback_max_retry_ms: 600_000,
            callback_max_attempts: 12,
            request_timeout_secs: 30,
            max_body_bytes: 8 << 20,
            max_connections: 4096,
            header_read_timeout_secs: 10,
            max_event_streams_per_dapp: 256,
            rate_limit_per_minute: 1200,
            client_rate_limit_per_minute: 300,
            trusted_proxies: Vec::new(),
            max_live_sessions: 32,
            max_live_sessions_total: 1024,
            protocol_cores: 0,
            relay_session_max_bytes: RelayLimits::default().session_bytes,
            relay_subject_max_bytes: RelayLimits::default().subject_bytes,
            relay_max_bytes: RelayLimits::default().total_bytes,
            rpc_urls: Default::default(),
            public_rpc: true,
            rpc_timeout_secs: 10,
            recovery_delay_secs: 0,
            escrow_opens_per_hour: 10,
            security_webhook_url: None,
            security_webhook_key: None,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database_kind())
            .field("kek", &self.kek.as_ref().map(|_| "<set>"))
            .field("kek_id", &self.kek_id)
            .field("dev_login", &self.dev_login_enabled())
            .field("token_keys", &format!("<{} set>", self.token_keys.len()))
            .field("token_issuer", &self.token_issuer)
            .field(
                "oidc",
                &self.oidc.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .field("wechat", &self.wechat)
            .field("alipay", &self.alipay)
            .field(
                "dapps",
                &self.dapps.iter().map(|d| &d.id).collect::<Vec<_>>(),
            )
            .field("bridge", &self.bridge_kind())
            // Node URLs may carry API keys: only the networks are shown.
            .field("rpc_urls", &self.rpc_urls.keys().collect::<Vec<_>>())
            .field("public_rpc", &self.public_rpc)
            .field("recovery_delay_secs", &self.recovery_delay_secs)
            .field("security_webhook", &self.security_webhook_url.is_some())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Read `file` (if given) and apply the `MPCW_*` environment variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    /// Apply environment overrides read through `var`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(key: &str, v: String) -> anyhow::Result<T>
        where
            T::Err: std::fmt::Display,
        {
            v.parse()
                .map_err(|e| anyhow::anyhow!("{key}: cannot parse {v:?}: {e}"))
        }
        if let Some(v) = var("MPCW_LISTEN") {
            self.listen = parse("MPCW_LISTEN", v)?;
        }
        if let Some(v) = var("MPCW_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = var("MPCW_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = var("MPCW_KEK") {
            self.kek = Some(v);
        }
        if let Some(v) = var("MPCW_KEK_ID") {
            self.kek_id = v;
        }
        if let Some(v) = var("MPCW_PLUGIN_DIR") {
            self.plugin_dir = Some(v.into());
        }
        if let Some(v) = var("MPCW_PLUGIN_CACHE_DIR") {
            self.plugin_cache_dir = Some(v.into());
        }
        if let Some(v) = var("MPCW_CHAINS_DIR") {
            self.chains_dir = Some(v.into());
        }
        if let Some(v) = var("MPCW_DEV_LOGIN") {
            self.dev_login = Some(parse("MPCW_DEV_LOGIN", v)?);
        }
        if let Some(v) = var("MPCW_SESSION_TTL_SECS") {
            self.session_ttl_secs = parse("MPCW_SESSION_TTL_SECS", v)?;
        }
        if let Some(v) = var("MPCW_TOKEN_TTL_SECS") {
            self.token_ttl_secs = parse("MPCW_TOKEN_TTL_SECS", v)?;
        }
        if let Some(v) = var("MPCW_TOKEN_KEYS") {
            self.token_keys = v
                .split(',')
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect();
        }
        if let Some(v) = var("MPCW_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = var("MPCW_TOKEN_ISSUER") {
            self.token_issuer = v;
        }
        if let Some(v) = var("MPCW_SIGNER_DIR") {
            self.signer_dir = Some(v.into());
        }
        if let Some(v) = var("MPCW_BRIDGE_URL") {
            self.bridge_url = v;
        }
        if let Some(v) = var("MPCW_BRIDGE_KEY_PREFIX") {
            self.bridge_key_prefix = v;
        }
        if let Some(v) = var("MPCW_CALLBACK_FIRST_RETRY_MS") {
            self.callback_first_retry_ms = parse("MPCW_CALLBACK_FIRST_RETRY_MS", v)?;
        }
        if let Some(v) = var("MPCW_CALLBACK_MAX_RETRY_MS") {
            self.callback_max_retry_ms = parse("MPCW_CALLBACK_MAX_RETRY_MS", v)?;
        }
        if let Some(v) = var("MPCW_CALLBACK_MAX_ATTEMPTS") {
            self.callback_max_attempts = parse("MPCW_CALLBACK_MAX_ATTEMPTS", v)?;
        }
        if let Some(v) = var("MPCW_REQUEST_TIMEOUT_SECS") {
            self.request_timeout_secs = parse("MPCW_REQUEST_TIMEOUT_SECS", v)?;
        }
        if let Some(v) = var("MPCW_MAX_BODY_BYTES") {
            self.max_body_bytes = parse("MPCW_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = var("MPCW_MAX_CONNECTIONS") {
            self.max_connections = parse("MPCW_MAX_CONNECTIONS", v)?;
        }
        if let Some(v) = var("MPCW_HEADER_READ_TIMEOUT_SECS") {
            self.header_read_timeout_secs = parse("MPCW_HEADER_READ_TIMEOUT_SECS", v)?;
        }
        if let Some(v) = var("MPCW_MAX_EVENT_STREAMS_PER_DAPP") {
            self.max_event_streams_per_dapp = parse("MPCW_MAX_EVENT_STREAMS_PER_DAPP", v)?;
        }
        if let Some(v) = var("MPCW_MAX_LIVE_SESSIONS") {
            self.max_live_sessions = parse("MPCW_MAX_LIVE_SESSIONS", v)?;
        }
        if let Some(v) = var("MPCW_MAX_LIVE_SESSIONS_TOTAL") {
            self.max_live_sessions_total = parse("MPCW_MAX_LIVE_SESSIONS_TOTAL", v)?;
        }
        if let Some(v) = var("MPCW_PUBLIC_RPC") {
            self.public_rpc = parse("MPCW_PUBLIC_RPC", v)?;
        }
        if let Some(v) = var("MPCW_RECOVERY_DELAY_SECS") {
            self.recovery_delay_secs = parse("MPCW_RECOVERY_DELAY_SECS", v)?;
        }
        if let Some(v) = var("MPCW_ESCROW_OPENS_PER_HOUR") {
            self.escrow_opens_per_hour = parse("MPCW_ESCROW_OPENS_PER_HOUR", v)?;
        }
        if let Some(v) = var("MPCW_SECURITY_WEBHOOK_URL") {
            self.security_webhook_url = Some(v);
        }
        if let Some(v) = var("MPCW_SECURITY_WEBHOOK_KEY") {
            self.security_webhook_key = Some(v);
        }
        if let Some(v) = var("MPCW_RPC_TIMEOUT_SECS") {
            self.rpc_timeout_secs = parse("MPCW_RPC_TIMEOUT_SECS", v)?;
        }
        if let Some(v) = var("MPCW_PROTOCOL_CORES") {
            self.protocol_cores = parse("MPCW_PROTOCOL_CORES", v)?;
        }
        if let Some(v) = var("MPCW_RELAY_SESSION_MAX_BYTES") {
            self.relay_session_max_bytes = parse("MPCW_RELAY_SESSION_MAX_BYTES", v)?;
        }
        if let Some(v) = var("MPCW_RELAY_SUBJECT_MAX_BYTES") {
            self.relay_subject_max_bytes = parse("MPCW_RELAY_SUBJECT_MAX_BYTES", v)?;
        }
        if let Some(v) = var("MPCW_RELAY_MAX_BYTES") {
            self.relay_max_bytes = parse("MPCW_RELAY_MAX_BYTES", v)?;
        }
        if let Some(v) = var("MPCW_RATE_LIMIT_PER_MINUTE") {
            self.rate_limit_per_minute = parse("MPCW_RATE_LIMIT_PER_MINUTE", v)?;
        }
        if let Some(v) = var("MPCW_CLIENT_RATE_LIMIT_PER_MINUTE") {
            self.client_rate_limit_per_minute = parse("MPCW_CLIENT_RATE_LIMIT_PER_MINUTE", v)?;
        }
        if let Some(v) = var("MPCW_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| parse("MPCW_TRUSTED_PROXIES", a.to_string()))
                .collect::<anyhow::Result<_>>()?;
        }
        Ok(())
    }

    /// The relay's byte limits.
    pub fn relay_limits(&self) -> RelayLimits {
        RelayLimits {
            session_bytes: self.relay_session_max_bytes,
            subject_bytes: self.relay_subject_max_bytes,
            total_bytes: self.relay_max_bytes,
        }
    }

    /// The server's address as users reach it.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The web signer's directory in effect, if there is one.
    pub fn signer_dir(&self) -> Option<PathBuf> {
        match &self.signer_dir {
            Some(dir) => Some(dir.clone()),
            None => {
                Some(PathBuf::from("web/signer/dist")).filter(|d| d.join("index.html").is_file())
            }
        }
    }

    /// `memory` or `redis`, from the bridge URL (which may hold a password, so is not shown).
    pub fn bridge_kind(&self) -> &'static str {
        if self.bridge_url.starts_with("redis") {
            "redis"
        } else {
            "memory"
        }
    }

    /// The retry policy of bridge callbacks.
    pub fn callback_retry(&self) -> crate::bridge::callback::RetryPolicy {
        crate::bridge::callback::RetryPolicy {
            first_delay: std::time::Duration::from_millis(self.callback_first_retry_ms),
            max_delay: std::time::Duration::from_millis(self.callback_max_retry_ms),
            max_attempts: self.callback_max_attempts.max(1),
        }
    }

    /// The security webhook's HMAC key, when a URL is configured: the URL needs a key of 64 hex
    /// digits, and a key needs a URL.
    pub fn security_webhook_key(&self) -> anyhow::Result<Option<[u8; 32]>> {
        match (&self.security_webhook_url, &self.security_webhook_key) {
            (None, None) => Ok(None),
            (Some(_), Some(key)) => crate::bridge::callback::key_from_hex(key)
                .map(Some)
                .context("security_webhook_key must be 64 hex digits"),
            (Some(_), None) => bail!("security_webhook_url needs security_webhook_key"),
            (None, Some(_)) => bail!("security_webhook_key is set without security_webhook_url"),
        }
    }

    /// Whether development login is on: as set, else on exactly when the server listens on a
    /// loopback address.
    pub fn dev_login_enabled(&self) -> bool {
        self.dev_login
            .unwrap_or_else(|| self.listen.ip().is_loopback())
    }

    /// Refuse settings that would expose the server: development login (anyone logs in as
    /// anyone) on an address other machines can reach.
    pub fn check_exposure(&self) -> anyhow::Result<()> {
        if self.dev_login_enabled() && !self.listen.ip().is_loopback() {
            bail!(
                "development login (dev_login) is on and the server would listen on {}, which \
                 is not a loopback address: anyone who reaches it could log in as any user. Set \
                 dev_login = false (MPCW_DEV_LOGIN=false) and configure a real login, or listen \
                 on 127.0.0.1 / [::1]",
                self.listen
            );
        }
        Ok(())
    }

    /// The directory of compiled plugin code in effect.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.plugin_cache_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("plugin-cache"))
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("mpcw.db").display()
            ),
        }
    }

    /// `sqlite` or `postgres`, from the URL.
    pub fn database_kind(&self) -> &'static str {
        if self.database_url().starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// The key-encryption key: from the setting, else from `data_dir/kek`, which is created
    /// (owner-only) with a fresh random key on first use.
    pub fn load_kek(&self) -> anyhow::Result<Zeroizing<[u8; 32]>> {
        let hex_text = match &self.kek {
            Some(k) => Zeroizing::new(k.trim().to_owned()),
            None => {
                if !self.listen.ip().is_loopback() {
                    tracing::warn!(
                        data_dir = %self.data_dir.display(),
                        "the key-encryption key is a file in the data directory, beside the \
                         database: a copy of the directory holds both. In production set `kek` \
                         (MPCW_KEK) from a secret store, and back up the database alone"
                    );
                }
                self.secret_file("kek", || {
                    use rand_core::RngCore;
                    let mut key = Zeroizing::new([0u8; 32]);
                    rand_core::OsRng.fill_bytes(key.as_mut());
                    Zeroizing::new(hex::encode(key.as_ref()))
                })?
            }
        };
        let mut kek = Zeroizing::new([0u8; 32]);
        if hex::decode_to_slice(hex_text.as_bytes(), kek.as_mut()).is_err() {
            bail!("the key-encryption key must be 64 hex digits");
        }
        Ok(kek)
    }

    /// The access-token keys: from the setting, else from `data_dir/token-key`, created
    /// (owner-only) with a fresh key on first use.
    pub fn load_token_keys(&self) -> anyhow::Result<Vec<Zeroizing<String>>> {
        if !self.token_keys.is_empty() {
            return Ok(self
                .token_keys
                .iter()
                .map(|k| Zeroizing::new(k.clone()))
                .collect());
        }
        let text = self.secret_file("token-key", || crate::auth::tokens::generate_key("local"))?;
        Ok(vec![text])
    }

    /// Create `data_dir` if needed, readable by this user only: it holds the database and,
    /// unless `kek` is set, the key-encryption key. An existing directory that others may read
    /// is narrowed to the owner, with a warning.
    pub fn prepare_data_dir(&self) -> anyhow::Result<()> {
        let dir = &self.data_dir;
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the data directory was open to other users; narrowing it to 700"
                );
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .with_context(|| format!("narrowing {}", dir.display()))?;
            }
        }
        Ok(())
    }

    /// This host's stable id, recorded on the work it starts: from `data_dir/host-id`, made on
    /// first start.
    pub fn load_host_id(&self) -> anyhow::Result<String> {
        Ok(self
            .secret_file("host-id", || {
                Zeroizing::new(crate::state::random_id("host"))
            })?
            .to_string())
    }

    /// The trimmed text of the secret file `name` in `data_dir`, written with `make()` first if
    /// it does not exist.
    fn secret_file(
        &self,
        name: &str,
        make: impl FnOnce() -> Zeroizing<String>,
    ) -> anyhow::Result<Zeroizing<String>> {
        let path = self.data_dir.join(name);
        if !path.exists() {
            write_secret_file(&path, &make())?;
        }
        Ok(Zeroizing::new(
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .trim()
                .to_owned(),
        ))
    }
}

/// Create `path` readable by its owner only and write `text` to it.
fn write_secret_file(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file() {
        let mut c: Config =
            toml::from_str("listen = \"127.0.0.1:9000\"\ndev_login = false").unwrap();
        c.apply_env(|k| match k {
            "MPCW_DEV_LOGIN" => Some("true".into()),
            "MPCW_DATABASE_URL" => Some("postgres://localhost/mpcw".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.dev_login, Some(true));
        assert_eq!(c.database_kind(), "postgres");
    }

    #[cfg(unix)]
    #[test]
    fn the_data_directory_is_for_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::temp_dir().join(format!("mpcw-data-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let fresh = Config {
            data_dir: base.join("fresh"),
            ..Config::default()
        };
        fresh.prepare_data_dir().unwrap();
        assert_eq!(mode(&fresh.data_dir), 0o700);
        // One made open to everyone before is narrowed.
        let open = base.join("open");
        std::fs::create_dir_all(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        Config {
            data_dir: open.clone(),
            ..Config::default()
        }
        .prepare_data_dir()
        .unwrap();
        assert_eq!(mode(&open), 0o700);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn development_login_is_on_by_default_only_on_loopback() {
        let at = |listen: &str, dev_login: Option<bool>| Config {
            listen: listen.parse().unwrap(),
            dev_login,
            ..Config::default()
        };
        assert!(at("127.0.0.1:8420", None).dev_login_enabled());
        assert!(at("[::1]:8420", None).dev_login_enabled());
        assert!(!at("0.0.0.0:8420", None).dev_login_enabled());
        assert!(!at("10.1.2.3:8420", None).dev_login_enabled());
        assert!(!at("127.0.0.1:8420", Some(false)).dev_login_enabled());
        // Unset on a public address: off, and the server may start.
        at("0.0.0.0:8420", None).check_exposure().unwrap();
        at("127.0.0.1:8420", Some(true)).check_exposure().unwrap();
    }

    #[test]
    fn development_login_on_a_reachable_address_refuses_to_start() {
        let mut c: Config = toml::from_str("listen = \"0.0.0.0:8420\"").unwrap();
        c.apply_env(|k| (k == "MPCW_DEV_LOGIN").then(|| "true".into()))
            .unwrap();
        let err = c.check_exposure().unwrap_err().to_string();
        assert!(
            err.contains("dev_login") && err.contains("0.0.0.0:8420"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(toml::from_str::<Config>("lisen = \"x\"").is_err());
        let mut c = Config::default();
        let err = c
            .apply_env(|k| (k == "MPCW_LISTEN").then(|| "nowhere".into()))
            .unwrap_err();
        assert!(err.to_string().contains("MPCW_LISTEN"), "{err}");
    }

    #[test]
    fn kek_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("mpcw-kek-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let c = Config {
            data_dir: dir.clone(),
            ..Config::default()
        };
        let a = c.load_kek().unwrap();
        let b = c.load_kek().unwrap();
        assert_eq!(*a, *b);
        let bad = Config {
            kek: Some("zz".into()),
            ..Config::default()
        };
        assert!(bad.load_kek().is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
