//! Cold backup of a share by Shamir secret sharing, and the emergency exit.
//!
//! [`split`] cuts one party's serialized share into `m` parts of which any `k` restore it
//! (byte-wise Shamir over GF(256), `blahaj`); fewer than `k` parts reveal nothing about it.
//! Each part carries the public key and party index it belongs to, and [`combine`] checks the
//! restored share against them.
//!
//! [`reconstruct_secret_key`] is the **emergency exit**: it rebuilds the whole private key from
//! `t` shares in one place, which is exactly what threshold custody exists to avoid. It is for
//! leaving mpcw (moving funds to a single-key wallet when the service is gone), never for normal
//! operation; after it runs, the key must be treated as a single-key wallet.

use std::collections::BTreeMap;

use generic_ec::Curve;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, PartyIndex, Result};
use crate::scheme::Scheme;
use crate::share::KeyShare;

/// Format version of a backup part.
pub const BACKUP_VERSION: u32 = 1;

/// One of the `m` parts of a share's backup. Secret: any `k` of them restore the share.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPart {
    /// Format version.
    pub version: u32,
    /// Scheme of the backed-up share.
    pub scheme: Scheme,
    /// Group public key (hex) of the backed-up share.
    pub public_key: String,
    /// Wallet index of the backed-up share.
    pub party: PartyIndex,
    /// Parts needed to restore.
    pub threshold: u8,
    /// The Shamir share (hex): its x coordinate, then the bytes.
    pub data: String,
}

impl core::fmt::Debug for BackupPart {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BackupPart")
            .field("scheme", &self.scheme)
            .field("party", &self.party)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

/// Split `share` into `m` backup parts, any `k` of which restore it (`2 <= k <= m <= 255`).
pub fn split(share: &KeyShare, k: u8, m: u8) -> Result<Vec<BackupPart>> {
    if k < 2 || k > m {
        return Err(Error::InvalidParameters(format!(
            "backup threshold {k}-of-{m} is outside 2 <= k <= m <= 255"
        )));
    }
    let secret = Zeroizing::new(share.to_bytes());
    let info = share.public_info();
    let parts = blahaj::Sharks(k)
        .dealer_rng(&secret, &mut rand_core::OsRng)
        .take(usize::from(m))
        .map(|s| BackupPart {
            version: BACKUP_VERSION,
            scheme: info.scheme,
            public_key: info.public_key.clone(),
            party: share.index(),
            threshold: k,
            data: hex::encode(Zeroizing::new(Vec::from(&s)).as_slice()),
        })
        .collect();
    Ok(parts)
}

/// Restore a share from at least `k` distinct parts of one backup.
pub fn combine(parts: &[BackupPart]) -> Result<KeyShare> {
    let first = parts
        .first()
        .ok_or_else(|| Error::InvalidParameters("no backup parts given".into()))?;
    let mut distinct = BTreeMap::new();
    for p in parts {
        if p.version != BACKUP_VERSION {
            return Err(Error::malformed(format!(
                "unknown backup version {}",
                p.version
            )));
        }
        if (p.scheme, &p.public_key, p.party, p.threshold)
            != (
                first.scheme,
                &first.public_key,
                first.party,
                first.threshold,
            )
        {
            return Err(Error::InvalidParameters(
                "the parts belong to different backups".into(),
            ));
        }
        let bytes = Zeroizing::new(
            hex::decode(&p.data).map_err(|_| Error::malformed("backup part is not hex"))?,
        );
        let share = blahaj::Share::try_from(bytes.as_slice())
            .map_err(|e| Error::malformed(format!("backup part: {e}")))?;
        distinct.insert(bytes[0], share);
    }
    if distinct.len() < usize::from(first.threshold) {
        return Err(Error::InvalidParameters(format!(
            "{} distinct parts given, {} needed",
            distinct.len(),
            first.threshold
        )));
    }
    let secret = Zeroizing::new(
        blahaj::Sharks(first.threshold)
            .recover(distinct.values())
            .map_err(|e| Error::malformed(format!("backup: {e}")))?,
    );
    let share = KeyShare::from_bytes(&secret)
        .map_err(|_| Error::malformed("the parts do not restore a share (corrupted part?)"))?;
    if share.index() != first.party || share.public_info().public_key != first.public_key {
        return Err(Error::malformed(
            "restored share does not match the backup's key",
        ));
    }
    Ok(share)
}

/// **Emergency exit**: rebuild the whole private key from `t` shares of one wallet.
///
/// Returns the 32-byte secret scalar, big-endian for secp256k1 keys and little-endian (the
/// RFC 8032 scalar encoding) for ed25519 keys. For BIP-340 keys it is the untweaked internal key.
/// Never use this in normal operation: see the module documentation.
pub fn reconstruct_secret_key(shares: &[KeyShare]) -> Result<Zeroizing<[u8; 32]>> {
    let first = shares
        .first()
        .ok_or_else(|| Error::InvalidParameters("no shares given".into()))?;
    if shares.iter().any(|s| s.public_key() != first.public_key()) {
        return Err(Error::InvalidParameters("shares of different keys".into()));
    }
    match first {
        KeyShare::EcdsaSecp256k1(_) => reconstruct(shares.iter().map(|s| match s {
            KeyShare::EcdsaSecp256k1(s) => Some(s.core().clone()),
            _ => None,
        })),
        KeyShare::SchnorrBip340(_) => reconstruct(shares.iter().map(|s| match s {
            KeyShare::SchnorrBip340(s) => Some((**s).clone()),
            _ => None,
        })),
        KeyShare::Ed25519(_) => reconstruct(shares.iter().map(|s| match s {
            KeyShare::Ed25519(s) => Some((**s).clone()),
            _ => None,
        })),
    }
}

fn reconstruct<E: Curve>(
    shares: impl Iterator<Item = Option<key_share::CoreKeyShare<E>>>,
) -> Result<Zeroizing<[u8; 32]>> {
    let shares = shares
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Error::InvalidParameters("shares of different schemes".into()))?;
    let sk = key_share::reconstruct_secret_key(&shares)
        .map_err(|e| Error::InvalidParameters(format!("cannot reconstruct: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    let bytes = if E::CURVE_NAME == "ed25519" {
        sk.as_ref().to_le_bytes()
    } else {
        sk.as_ref().to_be_bytes()
    };
    out.copy_from_slice(bytes.as_bytes());
    Ok(out)
}
