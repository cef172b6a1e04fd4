//! Where bridge requests live: in this process ([`MemoryBridge`], the default) or in Redis
//! ([`RedisBridge`], chosen by a `redis://` URL, shared by several hosts), behind one
//! interface, [`Bridge`], that also wakes whoever waits for a request when it changes.

use std::sync::Arc;

use tokio::sync::watch;

use super::changes::Changes;
use super::memory::MemoryBridge;
use super::redis_store::RedisBridge;
use super::{BridgeRequest, StepError};

/// The bridge store could not be reached or answered nonsense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bridge store is unavailable: {0}")]
pub struct Unavailable(pub String);

/// Why a token opened nothing.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Never issued, or already used.
    #[error("the bridge token is unknown or was already used")]
    Used,
    /// Its request expired.
    #[error("the bridge request has expired")]
    Expired,
    /// The request is another Dapp's: the token is left unused.
    #[error("the bridge request belongs to another Dapp than the one you logged in for")]
    OtherDapp,
    /// The request names another user's connection: the token is left unused.
    #[error("the bridge request is for another user's connection")]
    OtherUser,
    /// The store failed.
    #[error(transparent)]
    Store(Unavailable),
}

/// Why a change of a request did not happen.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// No such request (or it was forgotten after its time to live).
    #[error("no such bridge request")]
    NotFound,
    /// The step is not allowed now.
    #[error(transparent)]
    Step(StepError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] Unavailable),
}

enum Backend {
    Memory(MemoryBridge),
    Redis(RedisBridge),
}

/// The bridge store and its change notices.
pub struct Bridge {
    backend: Backend,
    changes: Arc<Changes>,
}

impl Default for Bridge {
    fn default() -> Self {
        Self::memory()
    }
}

impl Bridge {
    /// The in-process store.
    pub fn memory() -> Self {
        Self {
            backend: Backend::Memory(MemoryBridge::default()),
            changes: Arc::default(),
        }
    }

    /// The store `url` names: `memory` for the in-process store, `redis://…` for
    /// Redis, with keys under `prefix`.
    pub async fn open(url: &str, prefix: &str) -> Result<Self, Unavailable> {
        match url {
            "memory" => Ok(Self::memory()),
            url if url.starts_with("redis://") || url.starts_with("redis+unix://") => {
                let changes = Arc::<Changes>::default();
                let redis = RedisBridge::connect(url, prefix, changes.clone()).await?;
                Ok(Self {
                    backend: Backend::Redis(redis),
                    changes,
                })
            }
            _ => Err(Unavailable(
                "bridge_url must be `memory` or a redis:// URL".into(),
            )),
        }
    }

    /// `memory` or `redis`.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }

    /// Store a new request, reachable by each of the tokens whose hashes are `token_hashes`
    /// (the link's, and the one mini-program entries carry); the first used opens it.
    pub async fn insert(
        &self,
        request: BridgeRequest,
        token_hashes: &[String],
    ) -> Result<(), Unavailable> {
        match &self.backend {
            Backend::Memory(m) => {
                m.insert(request, token_hashes);
                Ok(())
            }
            Backend::Redis(r) => r.insert(&request, token_hashes).await,
        }
    }

    /// The request the token whose hash is `token_hash` opens, without using the token.
    pub async fn peek_token(&self, token_hash: &str) -> Result<Option<BridgeRequest>, Unavailable> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.peek_token(token_hash)),
            Backend::Redis(r) => r.peek_token(token_hash).await,
        }
    }

    /// The request `id`.
    pub async fn get(&self, id: &str) -> Result<Option<BridgeRequest>, Unavailable> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.get(id)),
            Backend::Redis(r) => r.get(id).await,
        }
    }

    /// Use the token whose hash is `token_hash` for a caller `allowed` to open its request: it
    /// is gone afterwards. A caller not allowed leaves the token as it was.
    pub async fn take_token_for(
        &self,
        token_hash: &str,
        now: i64,
        allowed: impl FnOnce(&BridgeRequest) -> Result<(), TokenError>,
    ) -> Result<BridgeRequest, TokenError> {
        match &self.backend {
            Backend::Memory(m) => m.take_token_for(token_hash, now, allowed),
            Backend::Redis(r) => r.take_token_for(token_hash, now, allowed).await,
        }
    }

    /// Change the request `id` with the step `f`, atomically, and tell whoever waits for it.
    /// `f` may run more than once (with a fresh copy each time) when hosts race; nothing
    /// changes if it fails.
    pub async fn update<T>(
        &self,
        id: &str,
        f: impl FnMut(&mut BridgeRequest) -> Result<T, StepError>,
    ) -> Result<T, UpdateError> {
        let out = match &self.backend {
            Backend::Memory(m) => m.update(id, f)?,
            Backend::Redis(r) => r.update(id, f).await?,
        };
        self.announce(id).await;
        Ok(out)
    }

    /// Tell whoever waits for request `id`, on every host, that it changed (its signing
    /// finished, say).
    pub async fn announce(&self, id: &str) {
        self.changes.notify(id);
        if let Backend::Redis(r) = &self.backend {
            if let Err(e) = r.publish(id).await {
                // Waiters on other hosts look again on their own within seconds.
                tracing::warn!(error = %e, "announcing a bridge change");
            }
        }
    }

    /// A receiver woken by every later change of request `id` (see [`Changes::subscribe`]).
    pub fn subscribe(&self, id: &str) -> watch::Receiver<()> {
        self.changes.subscribe(id)
    }

    /// Claim the ids of requests whose expiry has come by `now`; with several hosts, each id
    /// goes to one of them.
    pub async fn take_expired(&self, now: i64) -> Result<Vec<String>, Unavailable> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.take_expired(now)),
            Backend::Redis(r) => r.take_expired(now).await,
        }
    }

    /// Forget what has outlived its time to live (Redis expires its keys itself).
    pub fn sweep(&self, now: i64) -> usize {
        match &self.backend {
            Backend::Memory(m) => m.sweep(now),
            Backend::Redis(_) => 0,
        }
    }
}
