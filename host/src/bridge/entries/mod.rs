//! Ways into a bridge request other than its web link: the WeChat and Alipay mini-programs.
//!
//! A Dapp that shows a request inside WeChat or Alipay (or wants the user to scan it with one)
//! asks the host for the platform's own entries: a WeChat mini-program code whose scene is the
//! request's entry token (`wxacode.getUnlimited`), a WeChat URL scheme that opens the
//! mini-program's approval page with it (`urlscheme.generate`), and an Alipay mini-program code
//! (`alipay.open.app.qrcode.create`) and `alipays://` link. The mini-program reads the token
//! from the scene or the query, and opens the request with it exactly as the web signer does
//! with the link's token.
//!
//! The entry token is a second single-use token of the request, short enough for a WeChat
//! scene (32 characters): 192 bits of an HMAC under the KEK over the request's id, so the host
//! keeps no secret for it and every host sharing the KEK can make the same entries. Its hash is
//! stored with the request when the request is made, as the link token's is; the first of the
//! two to be used opens the request, after which the other opens nothing.
//!
//! What the platforms answer is cached per request until the request expires (the platforms
//! limit how often their servers may be asked); each host keeps its own cache.

pub mod alipay;
pub mod wechat;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

pub use alipay::{AlipayCode, AlipayEntries};
pub use wechat::{WechatCode, WechatEntries, WechatLink};

/// The length of an entry token: the most a WeChat mini-program code's scene may hold.
pub const ENTRY_TOKEN_LEN: usize = 32;

/// The most entries cached at once on a host (they are forgotten when their request expires).
const MAX_CACHED: u64 = 10_000;

/// The entry token of request `id`: the first 24 bytes of HMAC-SHA256 under the KEK (named
/// `kek_id`) of a label and the id, in unpadded base64url: 32 characters a WeChat scene and a
/// URL query both take as they are.
pub fn entry_token(kek: &[u8; 32], kek_id: &str, id: &str) -> Zeroizing<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(kek).expect("HMAC takes any key length");
    mac.update(b"mpcw bridge entry token v1\0");
    mac.update(kek_id.as_bytes());
    mac.update(b"\0");
    mac.update(id.as_bytes());
    let tag = Zeroizing::new(mac.finalize().into_bytes());
    Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag[..24]))
}

/// Why a platform did not give an entry.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlatformError {
    /// The platform refused the call: its code and message (a page the mini-program does not
    /// have, an app not allowed to make codes, a quota used up).
    #[error("{platform} refused: {message} ({code})")]
    Refused {
        /// `WeChat` or `Alipay`.
        platform: &'static str,
        /// The platform's error code.
        code: String,
        /// The platform's message.
        message: String,
    },
    /// The platform could not be reached, or its answer cannot be read or trusted.
    #[error("{platform} is unavailable: {reason}")]
    Unavailable {
        /// `WeChat` or `Alipay`.
        platform: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// A made entry and when its request expires.
struct Cached<T> {
    entry: Arc<T>,
    until: Instant,
}

impl<T> Clone for Cached<T> {
    fn clone(&self) -> Self {
        Self {
            entry: self.entry.clone(),
            until: self.until,
        }
    }
}

/// Entries live until their request's expiry.
struct UntilExpiry;

impl<T> moka::Expiry<String, Cached<T>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Cached<T>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.until.saturating_duration_since(created_at))
    }
}

/// Made entries of one kind, by request id.
type EntryCache<T> = moka::future::Cache<String, Cached<T>>;

fn entry_cache<T: Send + Sync + 'static>() -> EntryCache<T> {
    moka::future::Cache::builder()
        .max_capacity(MAX_CACHED)
        .expire_after(UntilExpiry)
        .build()
}

/// The platforms' clients that make entries, and what they made.
pub struct Entries {
    wechat: Option<WechatEntries>,
    alipay: Option<AlipayEntries>,
    wechat_codes: EntryCache<WechatCode>,
    wechat_links: EntryCache<WechatLink>,
    alipay_codes: EntryCache<AlipayCode>,
}

/// A request whose entries are asked for: its id, its entry token and its expiry.
pub struct EntryRequest {
    /// The request's id.
    pub id: String,
    /// Its entry token (see [`entry_token`]).
    pub token: Zeroizing<String>,
    /// Its expiry, Unix seconds.
    pub expires_at: i64,
}

/// The cached entry of request `r` in `cache`, or the one `make` gives (cached only if made).
/// Callers asking at once share one call to the platform.
async fn cached<T, F>(
    cache: &EntryCache<T>,
    r: &EntryRequest,
    make: F,
) -> Result<Arc<T>, PlatformError>
where
    T: Send + Sync + 'static,
    F: std::future::Future<Output = Result<T, PlatformError>>,
{
    let left = (r.expires_at - crate::state::now()).max(0) as u64;
    let until = Instant::now() + Duration::from_secs(left);
    cache
        .try_get_with(r.id.clone(), async move {
            make.await.map(|entry| Cached {
                entry: Arc::new(entry),
                until,
            })
        })
        .await
        .map(|c| c.entry)
        .map_err(|e| (*e).clone())
}

impl Entries {
    /// Entries through the configured platforms (either may be missing).
    pub fn new(wechat: Option<WechatEntries>, alipay: Option<AlipayEntries>) -> Self {
        Self {
            wechat,
            alipay,
            wechat_codes: entry_cache(),
            wechat_links: entry_cache(),
            alipay_codes: entry_cache(),
        }
    }

    /// The WeChat mini-program code of request `r`, if WeChat is configured.
    pub async fn wechat_code(
        &self,
        r: &EntryRequest,
    ) -> Option<Result<Arc<WechatCode>, PlatformError>> {
        let wechat = self.wechat.as_ref()?;
        Some(cached(&self.wechat_codes, r, wechat.code(&r.token)).await)
    }

    /// The WeChat URL scheme of request `r`, if WeChat is configured.
    pub async fn wechat_link(
        &self,
        r: &EntryRequest,
    ) -> Option<Result<Arc<WechatLink>, PlatformError>> {
        let wechat = self.wechat.as_ref()?;
        Some(cached(&self.wechat_links, r, wechat.link(&r.token, r.expires_at)).await)
    }

    /// The Alipay mini-program code and link of request `r`, if Alipay is configured.
    pub async fn alipay_code(
        &self,
        r: &EntryRequest,
    ) -> Option<Result<Arc<AlipayCode>, PlatformError>> {
        let alipay = self.alipay.as_ref()?;
        Some(cached(&self.alipay_codes, r, alipay.code(&r.token)).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_tokens_fit_a_scene_and_differ_by_request_and_key() {
        let kek = [7u8; 32];
        let a = entry_token(&kek, "k1", "br_a");
        assert_eq!(a.len(), ENTRY_TOKEN_LEN);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(
            a,
            entry_token(&kek, "k1", "br_a"),
            "the same for every host"
        );
        assert_ne!(a, entry_token(&kek, "k1", "br_b"));
        assert_ne!(a, entry_token(&kek, "k2", "br_a"));
        assert_ne!(a, entry_token(&[8u8; 32], "k1", "br_a"));
    }
}
