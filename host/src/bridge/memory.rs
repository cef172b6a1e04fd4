//! The in-process bridge store (the default): requests and their single-use tokens in maps, for
//! a single host. Tokens are kept as SHA-256 hashes; a token is removed when it is used, so it
//! opens its request once. Records are forgotten by [`MemoryBridge::sweep`], run on a timer.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use super::store::{TokenError, UpdateError};
use super::{BridgeRequest, StepError, RESULT_TTL_SECS};

#[derive(Default)]
struct Inner {
    requests: HashMap<String, BridgeRequest>,
    tokens: HashMap<String, String>,
    /// `(expires_at, id)` of requests whose expiry is not yet claimed.
    expiring: BTreeSet<(i64, String)>,
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

    /// Store a new request, reachable by each of the tokens whose hashes are `token_hashes`.
    pub fn insert(&self, request: BridgeRequest, token_hashes: &[String]) {
        let mut inner = self.lock();
        for hash in token_hashes {
            inner.tokens.insert(hash.clone(), request.id.clone());
        }
        inner
            .expiring
            .insert((request.expires_at, request.id.clone()));
        inner.requests.insert(request.id.clone(), request);
    }

    /// The request `id`.
    pub fn get(&self, id: &str) -> Option<BridgeRequest> {
        self.lock().requests.get(id).cloned()
    }

    /// The request the token whose hash is `token_hash` opens, without using the token.
    pub fn peek_token(&self, token_hash: &str) -> Option<BridgeRequest> {
        let inner = self.lock();
        let id = inner.tokens.get(token_hash)?;
        inner.requests.get(id).cloned()
    }

    /// Use the token whose hash is `token_hash` for a caller `allowed` to open its request: it
    /// is gone afterwards. A caller not allowed leaves the token as it was.
    pub fn take_token_for(
        &self,
        token_hash: &str,
        now: i64,
        allowed: impl FnOnce(&BridgeRequest) -> Result<(), TokenError>,
    ) -> Result<BridgeRequest, TokenError> {
        let mut inner = self.lock();
        let id = inner
            .tokens
            .get(token_hash)
            .ok_or(TokenError::Used)?
            .clone();
        let request = inner.requests.get(&id).cloned().ok_or(TokenError::Used)?;
        allowed(&request)?;
        inner.tokens.remove(token_hash);
        if request.expires_at <= now {
            return Err(TokenError::Expired);
        }
        Ok(request)
    }

    /// Change the request `id` with `f`, atomically; nothing changes if `f` fails.
    pub fn update<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut BridgeRequest) -> Result<T, StepError>,
    ) -> Result<T, UpdateError> {
        let mut inner = self.lock();
        let request = inner.requests.get_mut(id).ok_or(UpdateError::NotFound)?;
        let mut changed = request.clone();
        let out = f(&mut changed).map_err(UpdateError::Step)?;
        *request = changed;
        Ok(out)
    }

    /// The ids of requests whose expiry has come by `now`, each given out once.
    pub fn take_expired(&self, now: i64) -> Vec<String> {
        let mut inner = self.lock();
        let later = inner.expiring.split_off(&(now + 1, String::new()));
        let due = std::mem::replace(&mut inner.expiring, later);
        due.into_iter().map(|(_, id)| id).collect()
    }

    /// Forget requests (and their tokens) whose result has outlived its time to live.
    pub fn sweep(&self, now: i64) -> usize {
        let mut inner = self.lock();
        let before = inner.requests.len();
        inner
            .requests
            .retain(|_, r| r.expires_at + RESULT_TTL_SECS > now);
        let Inner {
            requests, tokens, ..
        } = &mut *inner;
        tokens.retain(|_, id| requests.contains_key(id));
        before - requests.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::BridgeState;

    fn request(id: &str, expires_at: i64) -> BridgeRequest {
        BridgeRequest {
            id: id.into(),
            dapp: "shop".into(),
            network: "solana".into(),
            request: serde_json::json!({"kind": "message", "message": "hi"}),
            connect: None,
            connection: None,
            filled: Vec::new(),
            broadcast: None,
            callback_url: None,
            created_at: 0,
            expires_at,
            state: BridgeState::Pending,
        }
    }

    #[test]
    fn tokens_open_once_and_only_for_the_allowed() {
        let store = MemoryBridge::default();
        store.insert(request("br_1", 100), &["h1".into()]);
        assert_eq!(
            store.take_token_for("h1", 1, |_| Err(TokenError::OtherDapp)),
            Err(TokenError::OtherDapp)
        );
        assert_eq!(
            store.take_token_for("h1", 1, |_| Ok(())).unwrap().id,
            "br_1"
        );
        assert_eq!(
            store.take_token_for("h1", 1, |_| Ok(())),
            Err(TokenError::Used)
        );
        store.insert(request("br_2", 100), &["h2".into()]);
        assert_eq!(
            store.take_token_for("h2", 100, |_| Ok(())),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_failed_step_changes_nothing() {
        let store = MemoryBridge::default();
        store.insert(request("br_1", 100), &["h1".into()]);
        let r = store.update("br_1", |r| {
            r.open("alice")?;
            r.reject("bob", None, 1)
        });
        assert!(matches!(r, Err(UpdateError::Step(StepError::NotYours))));
        assert_eq!(store.get("br_1").unwrap().state, BridgeState::Pending);
        assert!(matches!(
            store.update("br_9", |_| Ok(())),
            Err(UpdateError::NotFound)
        ));
    }

    #[test]
    fn expiries_are_given_out_once_and_records_swept_after_their_ttl() {
        let store = MemoryBridge::default();
        store.insert(request("br_1", 10), &["h1".into()]);
        store.insert(request("br_2", 20), &["h2".into()]);
        assert!(store.take_expired(9).is_empty());
        assert_eq!(store.take_expired(10), ["br_1"]);
        assert!(store.take_expired(15).is_empty());
        assert_eq!(store.take_expired(30), ["br_2"]);
        assert_eq!(store.sweep(10 + RESULT_TTL_SECS), 1);
        assert!(store.get("br_1").is_none());
        assert_eq!(
            store.take_token_for("h1", 0, |_| Ok(())),
            Err(TokenError::Used)
        );
        assert!(store.get("br_2").is_some());
    }
}
