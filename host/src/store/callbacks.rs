//! The outbox of bridge callbacks. Every host's delivery worker takes due callbacks from here;
//! a callback is *claimed* by moving its next attempt past a lease, which only one host can do
//! for the attempt it read, so two hosts do not post the same attempt at once. A host that
//! stops mid-delivery leaves the lease to run out, and another host delivers: at least once.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Result, Store};

/// A callback as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackRow {
    /// The event id (`evt_…`), sent as the idempotency id.
    pub id: String,
    /// The bridge request it tells about; one callback per request.
    pub request_id: String,
    /// The Dapp it goes to.
    pub dapp: String,
    /// Where it is posted.
    pub url: String,
    /// The JSON body, the same at every attempt.
    pub body: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When it is due next, Unix milliseconds.
    pub next_attempt_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

impl CallbackRow {
    /// A callback to post `body` to `url` for `dapp` now, not tried yet; one per `request_id`.
    pub fn pending(
        id: String,
        request_id: String,
        dapp: String,
        url: String,
        body: String,
    ) -> Self {
        let at = crate::bridge::delivery::now_ms();
        Self {
            id,
            request_id,
            dapp,
            url,
            body,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: at,
            last_error: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: r.try_get("id")?,
            request_id: r.try_get("request_id")?,
            dapp: r.try_get("dapp")?,
            url: r.try_get("url")?,
            body: r.try_get("body")?,
            status: r.try_get("status")?,
            attempts: r.try_get("attempts")?,
            next_attempt_at: r.try_get("next_attempt_at")?,
            last_error: r.try_get("last_error")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

impl Store {
    /// Add a callback, unless its request has one already; whether it was added.
    pub async fn insert_callback(&self, row: &CallbackRow) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO bridge_callbacks (id, request_id, dapp, url, body, status, attempts, \
             next_attempt_at, last_error, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.request_id)
        .bind(&row.dapp)
        .bind(&row.url)
        .bind(&row.body)
        .bind(&row.status)
        .bind(row.attempts)
        .bind(row.next_attempt_at)
        .bind(&row.last_error)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Up to `limit` pending callbacks due by `now_ms`, at most `per_dapp` of each Dapp, taken
    /// in turns: every Dapp's longest due first, then every Dapp's second, and so on. A Dapp
    /// with a long backlog cannot fill the batch and hold the others back.
    pub async fn due_callbacks(
        &self,
        now_ms: i64,
        per_dapp: i64,
        limit: i64,
    ) -> Result<Vec<CallbackRow>> {
        let rows = sqlx::query(
            "SELECT * FROM (SELECT *, ROW_NUMBER() OVER \
             (PARTITION BY dapp ORDER BY next_attempt_at, id) AS turn \
             FROM bridge_callbacks WHERE status = 'pending' AND next_attempt_at <= $1) AS due \
             WHERE turn <= $2 ORDER BY turn, next_attempt_at LIMIT $3",
        )
        .bind(now_ms)
        .bind(per_dapp)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(CallbackRow::from_row).collect()
    }

    /// When the next pending callback is due, if any is pending.
    pub async fn next_callback_due(&self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM bridge_callbacks WHERE status = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("due")?)
    }

    /// Claim the attempt of callback `id` that was due at `due`, holding it until
    /// `lease_until`; false if another host claimed it first.
    pub async fn claim_callback(&self, id: &str, due: i64, lease_until: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE bridge_callbacks SET next_attempt_at = $1 \
             WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3",
        )
        .bind(lease_until)
        .bind(id)
        .bind(due)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Record an attempt of callback `id`: delivered (`Ok`), or failed with the error and the
    /// time of the next attempt (`None`: no attempt is left).
    pub async fn callback_attempted(
        &self,
        id: &str,
        outcome: std::result::Result<(), (&str, Option<i64>)>,
        now_ms: i64,
    ) -> Result<()> {
        let (status, error, next) = match outcome {
            Ok(()) => ("delivered", None, now_ms),
            Err((e, Some(at))) => ("pending", Some(e), at),
            Err((e, None)) => ("failed", Some(e), now_ms),
        };
        sqlx::query(
            "UPDATE bridge_callbacks SET status = $1, attempts = attempts + 1, \
             last_error = $2, next_attempt_at = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(error)
        .bind(next)
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forget callbacks delivered or given up before `before_ms`; how many.
    pub async fn purge_callbacks(&self, before_ms: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM bridge_callbacks WHERE status <> 'pending' AND updated_at < $1",
        )
        .bind(before_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The callback of bridge request `request_id`, if one was made.
    pub async fn callback_of(&self, request_id: &str) -> Result<Option<CallbackRow>> {
        let row = sqlx::query("SELECT * FROM bridge_callbacks WHERE request_id = $1")
            .bind(request_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(CallbackRow::from_row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callback(id: &str, request: &str, due: i64) -> CallbackRow {
        callback_of("shop", id, request, due)
    }

    fn callback_of(dapp: &str, id: &str, request: &str, due: i64) -> CallbackRow {
        CallbackRow {
            id: id.into(),
            request_id: request.into(),
            dapp: dapp.into(),
            url: "https://shop.example/cb".into(),
            body: "{}".into(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: due,
            last_error: None,
            created_at: due,
            updated_at: due,
        }
    }

    #[tokio::test]
    async fn one_callback_per_request_claimed_once_per_attempt() {
        let s = Store::connect("sqlite::memory:").await.unwrap();
        assert!(s
            .insert_callback(&callback("evt_1", "br_1", 10))
            .await
            .unwrap());
        assert!(!s
            .insert_callback(&callback("evt_2", "br_1", 10))
            .await
            .unwrap());
        assert!(s
            .insert_callback(&callback("evt_3", "br_2", 50))
            .await
            .unwrap());
        assert_eq!(s.next_callback_due().await.unwrap(), Some(10));
        let due = s.due_callbacks(20, 10, 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert!(s.claim_callback("evt_1", 10, 1000).await.unwrap());
        assert!(!s.claim_callback("evt_1", 10, 1000).await.unwrap());
        assert!(s.due_callbacks(20, 10, 10).await.unwrap().is_empty());
        s.callback_attempted("evt_1", Err(("503", Some(30))), 20)
            .await
            .unwrap();
        let row = s.callback_of("br_1").await.unwrap().unwrap();
        assert_eq!((row.attempts, row.next_attempt_at), (1, 30));
        assert_eq!(row.last_error.as_deref(), Some("503"));
        s.callback_attempted("evt_1", Ok(()), 31).await.unwrap();
        let row = s.callback_of("br_1").await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.attempts), ("delivered", 2));
        s.callback_attempted("evt_3", Err(("refused", None)), 60)
            .await
            .unwrap();
        assert_eq!(
            s.callback_of("br_2").await.unwrap().unwrap().status,
            "failed"
        );
        assert_eq!(s.next_callback_due().await.unwrap(), None);
    }

    #[tokio::test]
    async fn due_callbacks_take_turns_between_dapps() {
        let s = Store::connect("sqlite::memory:").await.unwrap();
        // The slow Dapp's backlog is older than the others' callbacks.
        for i in 0..10 {
            let row = callback_of("slow", &format!("evt_s{i}"), &format!("br_s{i}"), i);
            s.insert_callback(&row).await.unwrap();
        }
        for (dapp, due) in [("shop", 20), ("game", 30), ("shop", 40)] {
            let id = format!("{dapp}{due}");
            s.insert_callback(&callback_of(dapp, &id, &id, due))
                .await
                .unwrap();
        }
        let order =
            |rows: Vec<CallbackRow>| -> Vec<String> { rows.into_iter().map(|r| r.id).collect() };
        assert_eq!(
            order(s.due_callbacks(100, 2, 5).await.unwrap()),
            ["evt_s0", "shop20", "game30", "evt_s1", "shop40"]
        );
        // Only what is due, and never more than `per_dapp` of one Dapp.
        assert_eq!(
            order(s.due_callbacks(25, 3, 10).await.unwrap()),
            ["evt_s0", "shop20", "evt_s1", "evt_s2"]
        );
    }
}
