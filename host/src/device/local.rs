//! A device's share on disk: sealed under the user's password (Argon2id, XChaCha20-Poly1305).

use std::path::Path;

use mpcw_engine::vault::{KdfParams, SealedBox};
use mpcw_engine::{KeyShare, PartyIndex, PartyKeys};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::DeviceError;
use crate::api::WalletView;

/// An opened share: what a party needs to sign.
pub struct LocalShare {
    /// Party index.
    pub index: PartyIndex,
    /// The party's identity keys for the wallet.
    pub keys: PartyKeys,
    /// The share.
    pub share: KeyShare,
}

#[derive(Serialize, Deserialize)]
struct Secret {
    party_keys: String,
    share: String,
}

/// The file: public facts in the clear, the share and keys sealed.
#[derive(Serialize, Deserialize)]
pub struct DeviceFile {
    /// Format version (1).
    pub version: u32,
    /// Server the wallet lives on.
    pub server: String,
    /// The wallet, as the server described it.
    pub wallet: WalletView,
    /// This party's index.
    pub index: PartyIndex,
    /// The sealed share and party keys.
    pub sealed: SealedBox,
}

impl DeviceFile {
    /// Seal `share` under `password`.
    pub fn seal(
        server: &str,
        wallet: &WalletView,
        share: &LocalShare,
        password: &[u8],
        kdf: KdfParams,
    ) -> Result<Self, DeviceError> {
        let secret = Secret {
            party_keys: hex::encode(share.keys.to_secret_bytes().as_ref()),
            share: hex::encode(share.share.to_bytes()),
        };
        let plain = Zeroizing::new(serde_json::to_vec(&secret).expect("serializes"));
        let label = format!("mpcw/device-share/{}/{}", wallet.id, share.index);
        Ok(Self {
            version: 1,
            server: server.into(),
            wallet: wallet.clone(),
            index: share.index,
            sealed: SealedBox::seal_with_password(&label, &plain, password, kdf)?,
        })
    }

    /// Open with `password`; a wrong one fails with the engine's decryption error.
    pub fn open(&self, password: &[u8]) -> Result<LocalShare, DeviceError> {
        let plain = self.sealed.open_with_password(password)?;
        let secret: Secret = serde_json::from_slice(&plain)
            .map_err(|e| DeviceError::Local(format!("sealed content: {e}")))?;
        let keys = Zeroizing::new(
            hex::decode(&secret.party_keys).map_err(|e| DeviceError::Local(e.to_string()))?,
        );
        let share = Zeroizing::new(
            hex::decode(&secret.share).map_err(|e| DeviceError::Local(e.to_string()))?,
        );
        let local = LocalShare {
            index: self.index,
            keys: PartyKeys::from_secret_bytes(&keys)?,
            share: KeyShare::from_bytes(&share)?,
        };
        if local.share.index() != self.index {
            return Err(DeviceError::Local(
                "the share is not this file's party".into(),
            ));
        }
        Ok(local)
    }

    /// Write to `path` (owner-only permissions), replacing it atomically.
    pub fn write(&self, path: &Path) -> Result<(), DeviceError> {
        let text = serde_json::to_vec_pretty(self).expect("serializes");
        let tmp = path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let io = |e: std::io::Error| DeviceError::Local(format!("{}: {e}", path.display()));
        {
            use std::io::Write;
            let mut f = options.open(&tmp).map_err(io)?;
            f.write_all(&text).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Read from `path`.
    pub fn read(path: &Path) -> Result<Self, DeviceError> {
        let text = std::fs::read(path)
            .map_err(|e| DeviceError::Local(format!("{}: {e}", path.display())))?;
        serde_json::from_slice(&text)
            .map_err(|e| DeviceError::Local(format!("{}: {e}", path.display())))
    }
}
