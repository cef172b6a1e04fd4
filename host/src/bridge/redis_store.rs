//! The Redis bridge store, for several hosts behind a load balancer: a Dapp may create a request
//! on one host, the signer open it on another and the Dapp read it on a third.
//!
//! Keys, under a configurable prefix `P`:
//! - `P req:<id>`: the request as JSON, expiring [`RESULT_TTL_SECS`] after the request does;
//! - `P tok:<sha256 of the token>`: the request id, deleted when the token is used (`DEL`
//!   answers 1 to one caller only, so a token opens its request once across all hosts);
//! - `P expiring`: a sorted set of request ids by expiry, from which one host claims each expiry
//!   (to tell the Dapp);
//! - channel `P changes`: the id of every request that changed, so that each host wakes its own
//!   waiters.
//!
//! A change is a compare-and-set: read the JSON, apply the step in Rust, write the new JSON only
//! if the stored one is still what was read (a Lua script, atomic in Redis), else try again.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::changes::Changes;
use super::store::{TokenError, Unavailable, UpdateError};
use super::{BridgeRequest, StepError, RESULT_TTL_SECS};

/// How often a change is retried when other hosts keep changing the same request.
const MAX_CAS_TRIES: usize = 32;
/// How many expiries one claim takes at most.
const EXPIRY_BATCH: usize = 256;

/// Set `KEYS[1]` to `ARGV[2]` (keeping its time to live) only if it is still `ARGV[1]`.
const COMPARE_AND_SET: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
";

/// Remove and return up to `ARGV[2]` members of the sorted set `KEYS[1]` scored at most
/// `ARGV[1]`.
const TAKE_DUE: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then
  redis.call('ZREM', KEYS[1], unpack(due))
end
return due
";

impl From<redis::RedisError> for Unavailable {
    fn from(e: redis::RedisError) -> Self {
        Unavailable(format!("redis: {e}"))
    }
}

/// The Redis bridge store.
pub struct RedisBridge {
    conn: ConnectionManager,
    prefix: String,
    compare_and_set: redis::Script,
    take_due: redis::Script,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for RedisBridge {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl RedisBridge {
    /// Connect to `url` (`redis://host:port/db`; TLS, `rediss://`, is not built in), keep
    /// keys under `prefix`, and send changes announced by any host to `changes`.
    pub async fn connect(
        url: &str,
        prefix: &str,
        changes: Arc<Changes>,
    ) -> Result<Self, Unavailable> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let mut conn = client.get_connection_manager_with_config(config).await?;
        // Fail at start, not at the first request, if the server does not answer.
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        let channel = format!("{prefix}changes");
        let listener = tokio::spawn(listen(client, channel, changes));
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            compare_and_set: redis::Script::new(COMPARE_AND_SET),
            take_due: redis::Script::new(TAKE_DUE),
            listener,
        })
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// Store a new request, reachable by each of the tokens whose hashes are `token_hashes`.
    pub async fn insert(
        &self,
        request: &BridgeRequest,
        token_hashes: &[String],
    ) -> Result<(), Unavailable> {
        let forget_at = request.expires_at + RESULT_TTL_SECS;
        let json = serde_json::to_string(request).expect("requests serialize");
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(self.key("req", &request.id))
            .arg(json)
            .arg("EXAT")
            .arg(forget_at)
            .ignore();
        for hash in token_hashes {
            pipe.cmd("SET")
                .arg(self.key("tok", hash))
                .arg(&request.id)
                .arg("EXAT")
                .arg(forget_at)
                .ignore();
        }
        pipe.cmd("ZADD")
            .arg(format!("{}expiring", self.prefix))
            .arg(request.expires_at)
            .arg(&request.id)
            .ignore()
            .exec_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn get_raw(&self, id: &str) -> Result<Option<String>, Unavailable> {
        Ok(redis::cmd("GET")
            .arg(self.key("req", id))
            .query_async(&mut self.conn.clone())
            .await?)
    }

    /// The request `id`.
    pub async fn get(&self, id: &str) -> Result<Option<BridgeRequest>, Unavailable> {
        self.get_raw(id).await?.map(|t| parse(&t)).transpose()
    }

    /// The request the token whose hash is `token_hash` opens, without using the token.
    pub async fn peek_token(&self, token_hash: &str) -> Result<Option<BridgeRequest>, Unavailable> {
        let id: Option<String> = redis::cmd("GET")
            .arg(self.key("tok", token_hash))
            .query_async(&mut self.conn.clone())
            .await?;
        match id {
            None => Ok(None),
            Some(id) => self.get(&id).await,
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
        let mut conn = self.conn.clone();
        let token_key = self.key("tok", token_hash);
        let id: Option<String> = redis::cmd("GET")
            .arg(&token_key)
            .query_async(&mut conn)
            .await
            .map_err(|e| TokenError::Store(e.into()))?;
        let id = id.ok_or(TokenError::Used)?;
        let request = self
            .get(&id)
            .await
            .map_err(TokenError::Store)?
            .ok_or(TokenError::Used)?;
        allowed(&request)?;
        let deleted: i64 = redis::cmd("DEL")
            .arg(&token_key)
            .query_async(&mut conn)
            .await
            .map_err(|e| TokenError::Store(e.into()))?;
        if deleted != 1 {
            return Err(TokenError::Used);
        }
        if request.expires_at <= now {
            return Err(TokenError::Expired);
        }
        Ok(request)
    }

    /// Change the request `id` with `f` (called again if another host changed it meanwhile);
    /// nothing changes if `f` fails.
    pub async fn update<T>(
        &self,
        id: &str,
        mut f: impl FnMut(&mut BridgeRequest) -> Result<T, StepError>,
    ) -> Result<T, UpdateError> {
        let key = self.key("req", id);
        for _ in 0..MAX_CAS_TRIES {
            let old = self.get_raw(id).await?.ok_or(UpdateError::NotFound)?;
            let mut request = parse(&old)?;
            let out = f(&mut request).map_err(UpdateError::Step)?;
            let new = serde_json::to_string(&request).expect("requests serialize");
            let set: i64 = self
                .compare_and_set
                .key(&key)
                .arg(&old)
                .arg(&new)
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(Unavailable::from)?;
            if set == 1 {
                return Ok(out);
            }
        }
        Err(UpdateError::Store(Unavailable(format!(
            "request {id} kept changing under {MAX_CAS_TRIES} tries"
        ))))
    }

    /// Claim the ids of requests whose expiry has come by `now`: each goes to one host.
    pub async fn take_expired(&self, now: i64) -> Result<Vec<String>, Unavailable> {
        Ok(self
            .take_due
            .key(format!("{}expiring", self.prefix))
            .arg(now)
            .arg(EXPIRY_BATCH)
            .invoke_async(&mut self.conn.clone())
            .await?)
    }

    /// Tell every host that request `id` changed.
    pub async fn publish(&self, id: &str) -> Result<(), Unavailable> {
        redis::cmd("PUBLISH")
            .arg(format!("{}changes", self.prefix))
            .arg(id)
            .query_async::<i64>(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}

fn parse(text: &str) -> Result<BridgeRequest, Unavailable> {
    serde_json::from_str(text).map_err(|e| Unavailable(format!("a stored request is corrupt: {e}")))
}

/// Pass every change announced on `channel` to `changes`; reconnect after a second if the
/// subscription breaks. Waiters also look again on their own every few seconds, so a notice
/// lost while reconnecting only delays them.
async fn listen(client: redis::Client, channel: String, changes: Arc<Changes>) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        if let Ok(id) = message.get_payload::<String>() {
                            changes.notify(&id);
                        }
                    }
                    tracing::warn!("the bridge's Redis subscription ended; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "subscribing to bridge changes"),
            },
            Err(e) => tracing::warn!(error = %e, "connecting to Redis for bridge changes"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
