//! Dapp connections (see [`crate::bridge::connection`]): made, read, listed per user, revoked.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::bridge::connection::Connection;

/// The most connections a user's list shows, newest first.
const MAX_LISTED: i64 = 200;

fn from_row(r: &AnyRow) -> Result<Connection> {
    let accounts: String = r.try_get("accounts")?;
    Ok(Connection {
        id: r.try_get("id")?,
        dapp: r.try_get("dapp")?,
        owner: r.try_get("owner")?,
        accounts: serde_json::from_str(&accounts)
            .map_err(|e| StoreError::Corrupt(format!("connection accounts: {e}")))?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

impl Store {
    /// Add connection `c`.
    pub async fn insert_connection(&self, c: &Connection) -> Result<()> {
        let accounts = serde_json::to_string(&c.accounts).expect("accounts serialize");
        sqlx::query(
            "INSERT INTO connections (id, dapp, owner, accounts, created_at, expires_at, \
             revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.id)
        .bind(&c.dapp)
        .bind(&c.owner)
        .bind(accounts)
        .bind(c.created_at)
        .bind(c.expires_at)
        .bind(c.revoked_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Connection `id` of Dapp `dapp`, if there is one.
    pub async fn connection(&self, id: &str, dapp: &str) -> Result<Option<Connection>> {
        sqlx::query("SELECT * FROM connections WHERE id = $1 AND dapp = $2")
            .bind(id)
            .bind(dapp)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    /// The connections of user `owner`, newest first (at most 200).
    pub async fn connections(&self, owner: &str) -> Result<Vec<Connection>> {
        let rows = sqlx::query(
            "SELECT * FROM connections WHERE owner = $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(owner)
        .bind(MAX_LISTED)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Revoke connection `id` of Dapp `dapp` (and of user `owner`, if given) at `now`, unless it
    /// was revoked before; the connection as it is afterwards, if it exists.
    pub async fn revoke_connection(
        &self,
        id: &str,
        dapp: &str,
        owner: Option<&str>,
        now: i64,
    ) -> Result<Option<Connection>> {
        let found = self
            .connection(id, dapp)
            .await?
            .filter(|c| owner.is_none_or(|o| o == c.owner));
        if found.as_ref().is_some_and(|c| c.revoked_at.is_none()) {
            sqlx::query(
                "UPDATE connections SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
            return self.connection(id, dapp).await;
        }
        Ok(found)
    }

    /// Forget connection `id` (made for a connect request that could not be answered).
    pub async fn delete_connection(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
