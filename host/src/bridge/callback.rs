//! Signed bridge callbacks, as a Dapp receives them.
//!
//! When a bridge request reaches its final status (`done`, `failed`, `rejected` or `expired`),
//! the host POSTs one JSON event to the Dapp's callback URL:
//!
//! ```text
//! POST <callback_url>
//! Content-Type: application/json
//! X-Mpcw-Event-Id: evt_…            the idempotency id: the same at every attempt
//! X-Mpcw-Timestamp: 1764000000      Unix seconds of this attempt
//! X-Mpcw-Signature: v1=<64 hex>     HMAC-SHA256(key, "<timestamp>.<body>")
//!
//! {"id":"evt_…","type":"bridge.request.done","created_at":…,"data":{…the request's status…}}
//! ```
//!
//! The HMAC key is the Dapp's callback key: 32 bytes derived from the host's key-encryption key
//! (KEK) and the Dapp's id, so nothing in the configuration (which keeps only a hash of the
//! Dapp's API secret) lets its reader sign a callback. The Dapp fetches its key once with its
//! API secret (`GET /v1/bridge/callback-key`); a new KEK gives every Dapp a new key. A Dapp
//! checks the signature over the exact bytes it received, refuses timestamps more than a few
//! minutes from its clock (replays), answers any 2xx once it has the event, and ignores an event
//! id it has seen (deliveries are at least once). Any other answer, or none within the timeout,
//! is retried with exponential backoff.

use std::time::Duration;

use backon::BackoffBuilder as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header with the event's idempotency id.
pub const EVENT_ID_HEADER: &str = "x-mpcw-event-id";
/// The header with the attempt's Unix time, seconds.
pub const TIMESTAMP_HEADER: &str = "x-mpcw-timestamp";
/// The header with the signature, `v1=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-mpcw-signature";
/// How far a callback's timestamp may be from the receiver's clock by default, seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// The callback key of Dapp `dapp`: HMAC-SHA256 under the KEK (named `kek_id`) of a label, the
/// KEK's id and the Dapp's id.
pub fn dapp_key(kek: &[u8; 32], kek_id: &str, dapp: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(kek).expect("HMAC takes any key length");
    mac.update(b"mpcw bridge callback key v1\0");
    mac.update(kek_id.as_bytes());
    mac.update(b"\0");
    mac.update(dapp.as_bytes());
    mac.finalize().into_bytes().into()
}

/// A callback key from its 64 hex digits (as `GET /v1/bridge/callback-key` gives it).
pub fn key_from_hex(key: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(key.trim(), &mut bytes).ok()?;
    Some(bytes)
}

fn mac(key: &[u8; 32], timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Mpcw-Signature` value of `body` sent at `timestamp`.
pub fn sign(key: &[u8; 32], timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(mac(key, timestamp, body).finalize().into_bytes())
    )
}

/// Why a received callback is not to be trusted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A header is missing or not in its format.
    #[error("malformed callback header: {0}")]
    Malformed(&'static str),
    /// The timestamp is too far from now: a replay, or a clock far off.
    #[error("the callback's timestamp is {0} s from now")]
    Stale(i64),
    /// The signature does not match the body and timestamp under the key.
    #[error("the callback's signature does not match")]
    BadSignature,
}

/// Check a callback as the Dapp received it: the `X-Mpcw-Timestamp` and `X-Mpcw-Signature`
/// header values, the exact body bytes, the Dapp's callback key, the receiver's clock `now`
/// (Unix seconds) and the accepted clock difference. The comparison is constant-time.
pub fn verify(
    key: &[u8; 32],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::Malformed("timestamp"))?;
    if (now - ts).abs() > tolerance_secs {
        return Err(VerifyError::Stale(now - ts));
    }
    let given = signature
        .trim()
        .strip_prefix("v1=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(VerifyError::Malformed("signature"))?;
    mac(key, ts, body)
        .verify_slice(&given)
        .map_err(|_| VerifyError::BadSignature)
}

/// When failed deliveries are tried again: exponential backoff from `first_delay` doubling up
/// to `max_delay`, each delay lengthened by a random part of up to itself (so that callbacks
/// failed together do not come back together), and at most `max_attempts` attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The delay after the first failure.
    pub first_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            max_attempts: 12,
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `failed` attempts have failed; `None` once no
    /// attempt is left.
    pub fn delay_after(&self, failed: u32) -> Option<Duration> {
        if failed == 0 || failed >= self.max_attempts {
            return None;
        }
        backon::ExponentialBuilder::new()
            .with_min_delay(self.first_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(failed as usize - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_key_body_and_time() {
        let kek = [7u8; 32];
        let key = dapp_key(&kek, "local", "shop");
        assert_eq!(key_from_hex(&hex::encode(key)), Some(key));
        let other = dapp_key(&kek, "local", "game");
        let rotated = dapp_key(&kek, "2027", "shop");
        assert!(key != other && key != rotated);
        let body = br#"{"id":"evt_1"}"#;
        let sig = sign(&key, 1_000, body);
        assert_eq!(verify(&key, "1000", &sig, body, 1_100, 300), Ok(()));
        for wrong in [other, rotated] {
            assert_eq!(
                verify(&wrong, "1000", &sig, body, 1_100, 300),
                Err(VerifyError::BadSignature)
            );
        }
        assert_eq!(
            verify(&key, "1000", &sig, br#"{"id":"evt_2"}"#, 1_100, 300),
            Err(VerifyError::BadSignature)
        );
        // The timestamp is signed: moving it forward breaks the signature.
        assert_eq!(
            verify(&key, "1001", &sig, body, 1_100, 300),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(&key, "1000", &sig, body, 1_400, 300),
            Err(VerifyError::Stale(400))
        );
        assert_eq!(
            verify(&key, "soon", &sig, body, 1_100, 300),
            Err(VerifyError::Malformed("timestamp"))
        );
        assert_eq!(
            verify(&key, "1000", "deadbeef", body, 1_100, 300),
            Err(VerifyError::Malformed("signature"))
        );
    }

    #[test]
    fn retries_back_off_up_to_the_cap_and_stop() {
        let policy = RetryPolicy {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            max_attempts: 6,
        };
        assert_eq!(policy.delay_after(0), None);
        for (failed, base) in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8)] {
            let d = policy.delay_after(failed).unwrap();
            let base = Duration::from_secs(base);
            assert!(d >= base && d <= 2 * base, "after {failed}: {d:?}");
        }
        assert_eq!(policy.delay_after(6), None);
    }
}
