//! Recovery custody and its record (migration `0006_recovery.sql`): escrowed recovery shares,
//! which the host keeps but cannot open, and the events a user sees about their wallets'
//! recoveries and refreshes.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Result, Store};

/// The most events a user's list shows, newest first.
const MAX_LISTED: i64 = 200;

/// A wallet's escrowed recovery share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscrowRow {
    /// The wallet.
    pub wallet_id: String,
    /// The wallet's owner.
    pub owner: String,
    /// What the share is sealed under: `passkey` or `code`.
    pub method: String,
    /// The passkey's credential id (public), for `passkey`.
    pub credential_id: Option<String>,
    /// SHA-256 (hex) of the proof a device derives from the sealing secret.
    pub verifier: String,
    /// The sealed share, as the device sealed it.
    pub sealed: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// One thing that happened to a user's wallet's custody (see the migration for the kinds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryEventRow {
    /// `rev_…`.
    pub id: String,
    /// The wallet's owner.
    pub owner: String,
    /// The wallet.
    pub wallet_id: String,
    /// `escrow_saved`, `escrow_opened`, `escrow_refused`, `recovery` or `refresh`.
    pub kind: String,
    /// `done`, `refused`, `waiting`, `started`, `failed` or `cancelled`.
    pub status: String,
    /// The client address the request came from, if known.
    pub client: Option<String>,
    /// A recovery: the earliest time it may start.
    pub not_before: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

fn escrow_from(r: &AnyRow) -> Result<EscrowRow> {
    Ok(EscrowRow {
        wallet_id: r.try_get("wallet_id")?,
        owner: r.try_get("owner")?,
        method: r.try_get("method")?,
        credential_id: r.try_get("credential_id")?,
        verifier: r.try_get("verifier")?,
        sealed: r.try_get("sealed")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn event_from(r: &AnyRow) -> Result<RecoveryEventRow> {
    Ok(RecoveryEventRow {
        id: r.try_get("id")?,
        owner: r.try_get("owner")?,
        wallet_id: r.try_get("wallet_id")?,
        kind: r.try_get("kind")?,
        status: r.try_get("status")?,
        client: r.try_get("client")?,
        not_before: r.try_get("not_before")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl Store {
    /// Escrow `row`, in place of the wallet's earlier escrow if it had one.
    pub async fn put_escrow(&self, row: &EscrowRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO recovery_escrow (wallet_id, owner, method, credential_id, verifier, \
             sealed, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (wallet_id) DO UPDATE SET method = excluded.method, \
             credential_id = excluded.credential_id, verifier = excluded.verifier, \
             sealed = excluded.sealed, updated_at = excluded.updated_at",
        )
        .bind(&row.wallet_id)
        .bind(&row.owner)
        .bind(&row.method)
        .bind(&row.credential_id)
        .bind(&row.verifier)
        .bind(&row.sealed)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The escrow of wallet `wallet_id` of `owner`, if it has one.
    pub async fn escrow(&self, wallet_id: &str, owner: &str) -> Result<Option<EscrowRow>> {
        sqlx::query("SELECT * FROM recovery_escrow WHERE wallet_id = $1 AND owner = $2")
            .bind(wallet_id)
            .bind(owner)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(escrow_from)
            .transpose()
    }

    /// Delete the escrow of wallet `wallet_id` of `owner`; whether there was one.
    pub async fn delete_escrow(&self, wallet_id: &str, owner: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM recovery_escrow WHERE wallet_id = $1 AND owner = $2")
            .bind(wallet_id)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Record event `e`.
    pub async fn insert_recovery_event(&self, e: &RecoveryEventRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO recovery_events (id, owner, wallet_id, kind, status, client, \
             not_before, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&e.id)
        .bind(&e.owner)
        .bind(&e.wallet_id)
        .bind(&e.kind)
        .bind(&e.status)
        .bind(&e.client)
        .bind(e.not_before)
        .bind(e.created_at)
        .bind(e.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Event `id` of wallet `wallet_id`.
    pub async fn recovery_event(
        &self,
        id: &str,
        wallet_id: &str,
    ) -> Result<Option<RecoveryEventRow>> {
        sqlx::query("SELECT * FROM recovery_events WHERE id = $1 AND wallet_id = $2")
            .bind(id)
            .bind(wallet_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(event_from)
            .transpose()
    }

    /// The events of user `owner`'s wallets, newest first (at most 200).
    pub async fn recovery_events(&self, owner: &str) -> Result<Vec<RecoveryEventRow>> {
        let rows = sqlx::query(
            "SELECT * FROM recovery_events WHERE owner = $1 \
             ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(owner)
        .bind(MAX_LISTED)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from).collect()
    }

    /// Move event `id` of wallet `wallet_id` from status `from` to `to` at `now`, if it is a
    /// recovery in status `from` whose `not_before` is at most `due` (pass `i64::MAX` for any
    /// time); whether it moved. One caller wins a race: the status is checked in the update.
    pub async fn move_recovery(
        &self,
        id: &str,
        wallet_id: &str,
        (from, to): (&str, &str),
        due: i64,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recovery_events SET status = $1, updated_at = $2 WHERE id = $3 \
             AND wallet_id = $4 AND kind = 'recovery' AND status = $5 \
             AND COALESCE(not_before, 0) <= $6",
        )
        .bind(to)
        .bind(now)
        .bind(id)
        .bind(wallet_id)
        .bind(from)
        .bind(due)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Set the status of event `id` (a started recovery or refresh ending) at `now`.
    pub async fn set_recovery_status(&self, id: &str, status: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE recovery_events SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
