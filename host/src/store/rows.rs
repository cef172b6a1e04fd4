//! Rows as the store reads and writes them.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Result, StoreError};

/// Where a wallet's key generation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WalletStatus {
    /// Key generation is running.
    Pending,
    /// The key exists and the server holds its share.
    Ready,
    /// Key generation failed; the wallet has no key.
    Failed,
}

impl WalletStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            WalletStatus::Pending => "pending",
            WalletStatus::Ready => "ready",
            WalletStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(Self::Pending),
            "ready" => Ok(Self::Ready),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Corrupt(format!("wallet status {other:?}"))),
        }
    }
}

/// A wallet as stored.
#[derive(Clone, Debug)]
pub struct WalletRow {
    /// Wallet id.
    pub id: String,
    /// Subject that owns it.
    pub owner: String,
    /// The owner's name for it.
    pub label: String,
    /// Signature scheme name.
    pub scheme: String,
    /// Parties needed to sign.
    pub threshold: i64,
    /// Parties holding shares.
    pub parties: i64,
    /// The server's party index.
    pub server_index: i64,
    /// JSON roster: every party's public identity keys.
    pub roster: String,
    /// The server's party keys for this wallet, sealed under the KEK.
    pub party_keys: String,
    /// Key generation status.
    pub status: WalletStatus,
    /// JSON public key information, once ready.
    pub public_info: Option<String>,
    /// Why key generation failed.
    pub error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl WalletRow {
    pub(super) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: r.try_get("id")?,
            owner: r.try_get("owner")?,
            label: r.try_get("label")?,
            scheme: r.try_get("scheme")?,
            threshold: r.try_get("threshold")?,
            parties: r.try_get("parties")?,
            server_index: r.try_get("server_index")?,
            roster: r.try_get("roster")?,
            party_keys: r.try_get("party_keys")?,
            status: WalletStatus::parse(&r.try_get::<String, _>("status")?)?,
            public_info: r.try_get("public_info")?,
            error: r.try_get("error")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

/// A signing request as stored.
#[derive(Clone, Debug)]
pub struct SigningRow {
    /// Request id.
    pub id: String,
    /// Wallet that signs.
    pub wallet_id: String,
    /// Subject that owns the wallet.
    pub owner: String,
    /// Network id from the registry.
    pub network: String,
    /// The chain request, JSON as the plugin documents it.
    pub request: String,
    /// JSON: the payloads and summary the plugin prepared, and the signers.
    pub prepared: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// JSON: the plugin's finalized output, once done.
    pub result: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The bridge request it approves, if any.
    pub bridge: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl SigningRow {
    pub(super) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: r.try_get("id")?,
            wallet_id: r.try_get("wallet_id")?,
            owner: r.try_get("owner")?,
            network: r.try_get("network")?,
            request: r.try_get("request")?,
            prepared: r.try_get("prepared")?,
            status: r.try_get("status")?,
            result: r.try_get("result")?,
            error: r.try_get("error")?,
            bridge: r.try_get("bridge_id")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}
