//! Bridge requests and their single-use tokens, kept in memory with a time to live. Tokens are
//! kept as SHA-256 hashes; a token is removed when it is used, so it opens its request once.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{BridgeRequest, RESULT_TTL_SECS};

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
}

#[derive(Default)]
struct Inner {
    requests: HashMap<String, BridgeRequest>,
    tokens: HashMap<String, String>,
}

/// The in-process bridge store.
#[derive(Default)]
pub struct MemoryBridge {
    inner: Mutex<Inner>,
}

impl MemoryBridge {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Store a new request, reachable by the token whose hash is `token_hash`; forget what has
    /// outlived its result's time to live.
    pub fn insert(&self, request: BridgeRequest, token_hash: String, now: i64) {
        let mut inner = self.lock();
        inner
            .requests
            .retain(|_, r| r.expires_at + RESULT_TTL_SECS > now);
        let Inner { requests, tokens } = &mut *inner;
        tokens.retain(|_, id| requests.contains_key(id));
        tokens.insert(token_hash, request.id.clone());
        requests.insert(request.id.clone(), request);
    }

    /// The request `id`.
    pub fn get(&self, id: &str) -> Option<BridgeRequest> {
        self.lock().requests.get(id).cloned()
    }

    /// Use the token whose hash is `token_hash` for a caller `allowed` to open its request: it
    /// is gone afterwards. A caller not allowed leaves the token as it was.
    pub fn take_token_for(
        &self,
        token_hash: &str,
        now: i64,
        allowed: impl FnOnce(&BridgeRequest) -> bool,
    ) -> Result<BridgeRequest, TokenError> {
        let mut inner = self.lock();
        let id = inner
            .tokens
            .get(token_hash)
            .ok_or(TokenError::Used)?
            .clone();
        let request = inner.requests.get(&id).cloned().ok_or(TokenError::Used)?;
        if !allowed(&request) {
            return Err(TokenError::OtherDapp);
        }
        inner.tokens.remove(token_hash);
        if request.expires_at <= now {
            return Err(TokenError::Expired);
        }
        Ok(request)
    }

    /// Change the request `id` with `f`, atomically; `None` if there is no such request.
    pub fn update<T>(&self, id: &str, f: impl FnOnce(&mut BridgeRequest) -> T) -> Option<T> {
        self.lock().requests.get_mut(id).map(f)
    }
}
