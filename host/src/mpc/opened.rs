//! Server shares opened recently, so that a wallet signing again does not decrypt, parse and
//! validate its sealed share each time (the validation alone is point arithmetic over every
//! public share, most of a millisecond for an Ed25519 key and far more for an ECDSA share with
//! its pairwise state).
//!
//! An entry is found by wallet and used only if the sealed share stored now is byte for byte
//! the one it was opened from (its SHA-256): a refresh, a resharing or a suspended pair seals a
//! new share, which the next signature opens afresh. Entries go after a few idle minutes, and
//! the cache holds a bounded number of sealed bytes' worth of shares. The shares' secrets are
//! wiped when an entry is dropped, as when an opened share was dropped after each signature.
//! Keeping them in memory adds no exposure to a server whose memory already holds the KEK that
//! opens every share.

use std::sync::Arc;
use std::time::Duration;

use mpcw_engine::KeyShare;
use sha2::{Digest, Sha256};

/// How long an opened share stays unused before it is dropped.
const IDLE: Duration = Duration::from_secs(300);

/// Sealed bytes' worth of opened shares kept at most (an ECDSA share seals to about 200 KiB,
/// an Ed25519 one to about 2 KiB).
const CAPACITY_BYTES: u64 = 256 * 1024 * 1024;

/// Opened server shares, by wallet.
#[derive(Clone)]
pub struct OpenedShares {
    cache: moka::future::Cache<String, Arc<Opened>>,
}

struct Opened {
    sealed_sha256: [u8; 32],
    /// The sealed share's length: what the entry weighs.
    sealed_len: u32,
    share: KeyShare,
}

impl Default for OpenedShares {
    fn default() -> Self {
        Self {
            cache: moka::future::Cache::builder()
                .time_to_idle(IDLE)
                .weigher(|_, opened: &Arc<Opened>| opened.sealed_len)
                .max_capacity(CAPACITY_BYTES)
                .build(),
        }
    }
}

impl OpenedShares {
    /// Wallet `wallet_id`'s share, sealed as `sealed`: the one opened before from exactly these
    /// bytes, or `open(sealed)`'s, which is then kept.
    pub async fn get_or_open<E>(
        &self,
        wallet_id: &str,
        sealed: &str,
        open: impl FnOnce(&str) -> Result<KeyShare, E>,
    ) -> Result<KeyShare, E> {
        let sealed_sha256: [u8; 32] = Sha256::digest(sealed.as_bytes()).into();
        if let Some(opened) = self.cache.get(wallet_id).await {
            if opened.sealed_sha256 == sealed_sha256 {
                return Ok(opened.share.clone());
            }
        }
        let share = open(sealed)?;
        let opened = Opened {
            sealed_sha256,
            sealed_len: u32::try_from(sealed.len()).unwrap_or(u32::MAX),
            share: share.clone(),
        };
        self.cache
            .insert(wallet_id.to_owned(), Arc::new(opened))
            .await;
        Ok(share)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use mpcw_engine::import::{import_seed, DealtShare};
    use mpcw_engine::Scheme;

    use super::*;

    fn shares() -> Vec<KeyShare> {
        import_seed(&[7; 32], "m/44'/501'/0'/0'", Scheme::Ed25519, 2, 3)
            .unwrap()
            .into_iter()
            .map(|s| match s {
                DealtShare::Complete(s) => s,
                DealtShare::NeedsPairwiseSetup(_) => unreachable!("Ed25519 shares are complete"),
            })
            .collect()
    }

    /// The same sealed bytes open once; other bytes (a refreshed share) open again and replace
    /// the entry; a failed opening keeps nothing.
    #[tokio::test]
    async fn a_share_is_opened_again_only_when_its_sealed_bytes_change() {
        let cache = OpenedShares::default();
        let shares = shares();
        let opened = Cell::new(0);
        let open = |share: &KeyShare| {
            let share = share.clone();
            let opened = &opened;
            move |_: &str| -> Result<KeyShare, String> {
                opened.set(opened.get() + 1);
                Ok(share)
            }
        };
        let first = cache
            .get_or_open("w1", "sealed-1", open(&shares[0]))
            .await
            .unwrap();
        let again = cache
            .get_or_open("w1", "sealed-1", open(&shares[1]))
            .await
            .unwrap();
        assert_eq!(opened.get(), 1, "the same sealed share is not opened twice");
        assert_eq!(again.to_bytes(), first.to_bytes());

        let refreshed = cache
            .get_or_open("w1", "sealed-2", open(&shares[1]))
            .await
            .unwrap();
        assert_eq!(opened.get(), 2, "a new sealed share is opened");
        assert_eq!(refreshed.to_bytes(), shares[1].to_bytes());
        let other = cache
            .get_or_open("w2", "sealed-2", open(&shares[2]))
            .await
            .unwrap();
        assert_eq!((opened.get(), other.index()), (3, shares[2].index()));

        let failed = cache
            .get_or_open("w3", "bad", |_| Err::<KeyShare, _>("refused".to_owned()))
            .await;
        assert_eq!(failed.unwrap_err(), "refused");
        let retried = cache
            .get_or_open("w3", "bad", open(&shares[0]))
            .await
            .unwrap();
        assert_eq!((opened.get(), retried.index()), (4, shares[0].index()));
    }
}
