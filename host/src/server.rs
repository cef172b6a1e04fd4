//! Starting the signing server: open the database, load plugins and networks, bind, serve until
//! Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::alipay::Alipay;
use crate::auth::dapps::Dapps;
use crate::auth::oidc::OidcVerifier;
use crate::auth::tokens::TokenKeys;
use crate::auth::wechat::Wechat;
use crate::bridge::delivery::{self, Outbox};
use crate::bridge::Bridge;
use crate::chains::Registry;
use crate::config::Config;
use crate::listen::ConnectionLimits;
use crate::mpc::Sessions;
use crate::plugin::{Limits, Runtime};
use crate::state::{now, AppState, Metrics};
use crate::store::Store;

/// A server ready to accept connections.
pub struct Server {
    /// Shared state.
    pub state: Arc<AppState>,
    listener: TcpListener,
    /// Bridge requests whose signing the last stop interrupted, settled once serving.
    interrupted_bridges: Vec<String>,
}

impl Server {
    /// Open everything `config` names and bind its address.
    pub async fn bind(config: Config) -> anyhow::Result<Self> {
        config.check_exposure()?;
        config.security_webhook_key()?;
        config.prepare_data_dir()?;
        let kek = config.load_kek()?;
        let tokens = TokenKeys::new(
            &config.load_token_keys()?,
            &config.token_issuer,
            config.token_ttl_secs,
        )
        .context("access-token keys")?;
        let oidc = OidcVerifier::new(&config.oidc)?;
        let wechat = config.wechat.clone().map(Wechat::new).transpose()?;
        let alipay = config.alipay.clone().map(Alipay::new).transpose()?;
        let entries = crate::bridge::entries::Entries::new(
            config
                .wechat
                .clone()
                .map(crate::bridge::entries::WechatEntries::new)
                .transpose()?,
            config
                .alipay
                .clone()
                .map(crate::bridge::entries::AlipayEntries::new)
                .transpose()?,
        );
        let dapps = Dapps::new(&config.dapps)?;
        let store = Store::connect(&config.database_url())
            .await
            .with_context(|| format!("opening the {} database", config.database_kind()))?;
        let store = store.with_runner(&config.load_host_id()?);
        let interrupted = store.fail_interrupted(now()).await?;
        if interrupted.count > 0 {
            tracing::warn!(
                interrupted = interrupted.count,
                "marked work interrupted by the last stop as failed"
            );
        }
        let runtime = Runtime::new(Limits::default(), Some(config.plugin_cache_dir()))?;
        runtime.load_builtin()?;
        if let Some(dir) = &config.plugin_dir {
            runtime.load_dir(dir)?;
        }
        let mut registry = Registry::builtin()?;
        if let Some(dir) = &config.chains_dir {
            registry.load_dir(dir)?;
        }
        let nodes = crate::nodes::Nodes::new(
            &registry,
            &config.rpc_urls,
            config.public_rpc,
            std::time::Duration::from_secs(config.rpc_timeout_secs.max(1)),
        )
        .context("the networks' node endpoints")?;
        let bridge = Bridge::open(&config.bridge_url, &config.bridge_key_prefix)
            .await
            .with_context(|| format!("opening the {} bridge store", config.bridge_kind()))?;
        let outbox = Outbox::new(config.callback_retry()).context("the callback HTTP client")?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        // By default users reach the server where it listens (the port it got, if it asked
        // for any).
        let mut config = config;
        if config.public_url.is_none() {
            config.public_url = Some(format!("http://{}", listener.local_addr()?));
        }
        let sessions = Sessions::new(
            config.relay_limits(),
            crate::mpc::Cores::new(config.protocol_cores),
        );
        let limiter = crate::state::keyed_limiter(config.rate_limit_per_minute);
        let client_limiter = crate::state::keyed_limiter(config.client_rate_limit_per_minute);
        let escrow_limiter = crate::state::hourly_limiter(config.escrow_opens_per_hour);
        let state = Arc::new(AppState {
            limiter,
            client_limiter,
            escrow_limiter,
            config,
            store,
            kek,
            runtime: Arc::new(runtime),
            registry,
            nodes,
            sessions,
            metrics: Metrics::default(),
            entries,
            in_flight: Mutex::new(Default::default()),
            tokens,
            oidc,
            wechat,
            alipay,
            dapps,
            bridge,
            outbox,
            event_streams: Default::default(),
            opened_shares: Default::default(),
            derived_keys: Default::default(),
            stopping: tokio::sync::watch::channel(false).0,
        });
        Ok(Self {
            state,
            listener,
            interrupted_bridges: interrupted.bridges,
        })
    }

    /// The bound address (the port, when the configuration asked for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until `shutdown` completes.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        let ttl = Duration::from_secs(state.config.session_ttl_secs);
        let interrupted = self.interrupted_bridges;
        let reaper = tokio::spawn(async move {
            crate::api::settle_failed_bridges(&state, &interrupted).await;
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                let n = state.sessions.reap(ttl);
                if n > 0 {
                    tracing::debug!(n, "forgot ended sessions");
                }
                // Callbacks delivered or given up are kept a week, for support questions.
                let week_ago = crate::bridge::delivery::now_ms() - 7 * 24 * 3600 * 1000;
                if let Err(e) = state.store.purge_callbacks(week_ago).await {
                    tracing::warn!(error = %e, "forgetting old callbacks");
                }
                // Work of a host that stopped for good: no session lives past its TTL.
                let cutoff = now() - ttl.as_secs() as i64 - 60;
                match state.store.fail_stale(cutoff, now()).await {
                    Ok(stale) => {
                        if stale.count > 0 {
                            tracing::warn!(stale = stale.count, "failed work whose host stopped");
                        }
                        crate::api::settle_failed_bridges(&state, &stale.bridges).await;
                    }
                    Err(e) => tracing::warn!(error = %e, "looking for stale work"),
                }
                if let Some(limiter) = &state.limiter {
                    limiter.retain_recent();
                }
                if let Some(limiter) = &state.client_limiter {
                    limiter.retain_recent();
                }
                if let Some(limiter) = &state.escrow_limiter {
                    limiter.retain_recent();
                }
            }
        });
        let callbacks = tokio::spawn(delivery::run(self.state.clone()));
        let expiries = tokio::spawn(crate::api::sweep_bridge_expiries(self.state.clone()));
        let app = crate::api::router(self.state.clone());
        let config = &self.state.config;
        let limits = ConnectionLimits {
            max_connections: config.max_connections,
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs.max(1)),
        };
        let state = self.state.clone();
        let shutdown = async move {
            shutdown.await;
            state.stopping.send_replace(true);
        };
        let result = crate::listen::serve(self.listener, app, limits, shutdown).await;
        reaper.abort();
        callbacks.abort();
        expiries.abort();
        result.context("serving HTTP")
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
