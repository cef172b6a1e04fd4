//! Durable state behind one interface, on SQLite (default, embedded, WAL) or PostgreSQL, chosen by
//! the database URL. The schema lives in `host/migrations` and runs unchanged on both.
//!
//! Nothing secret is stored in the clear: shares and party keys arrive here already sealed under
//! the key-encryption key. Access tokens are not stored: they are JWTs the host signs.

mod callbacks;
mod connections;
mod migrations;
mod recovery;
mod rows;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

pub use callbacks::CallbackRow;
pub use recovery::{EscrowRow, RecoveryEventRow};
pub use rows::{SigningRow, WalletRow, WalletStatus};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value did not parse.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, refusing connections, or
    /// every connection busy past the wait): the request may succeed shortly, unlike a refused
    /// statement or corrupt data.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL's connection exceptions (class 08) and its shutting down or starting
            // up (57P01, 57P02, 57P03); SQLite's busy and locked (primary codes 5 and 6, in
            // any extended code) past the busy timeout.
            sqlx::Error::Database(d) => d.code().is_some_and(|c| {
                let sqlite_busy = c
                    .parse::<u32>()
                    .is_ok_and(|n| n < 10_000 && matches!(n & 0xff, 5 | 6));
                c.starts_with("08")
                    || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
                    || sqlite_busy
            }),
            _ => false,
        }
    }
}

/// Result of a storage operation.
pub type Result<T> = std::result::Result<T, StoreError>;

/// What an idempotency key has recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    /// Hash of the request that first used the key.
    pub request_hash: String,
    /// HTTP status of the first answer.
    pub status: u16,
    /// JSON body of the first answer.
    pub body: String,
}

/// An idempotency key's answer, to record with the change it answers for.
#[derive(Clone, Copy, Debug)]
pub struct Remembered<'a> {
    /// The subject whose key it is.
    pub owner: &'a str,
    /// The key.
    pub key: &'a str,
    /// The answer.
    pub response: &'a StoredResponse,
}

/// A wallet's new parties after resharing.
#[derive(Clone, Copy, Debug)]
pub struct Reshared<'a> {
    /// JSON roster of the new parties.
    pub roster: &'a str,
    /// New threshold.
    pub threshold: i64,
    /// New number of parties.
    pub parties: i64,
    /// JSON public key information (same key, new public shares).
    pub public_info: &'a str,
    /// The server's new share, sealed.
    pub sealed_share: &'a str,
}

/// Work in progress failed because its host stopped, or ran out of time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interrupted {
    /// Wallets and signing requests marked failed.
    pub count: u64,
    /// Bridge requests whose approving signing was among them, to settle.
    pub bridges: Vec<String>,
}

/// Which unfinished work to fail; its argument is the statement's `$1`.
enum Unfinished {
    /// Started by this host (or before hosts had ids).
    OfRunner(String),
    /// Started before this Unix time.
    StartedBefore(i64),
}

/// The statements that find and fail unfinished work chosen by `$1` (`where`).
macro_rules! unfinished_sql {
    ($where:literal) => {
        [
            concat!(
                "SELECT bridge_id FROM signing_requests WHERE status = 'running' ",
                "AND bridge_id IS NOT NULL AND ",
                $where
            ),
            concat!(
                "UPDATE wallets SET status = 'failed', error = $2, updated_at = $3 ",
                "WHERE status = 'pending' AND ",
                $where
            ),
            concat!(
                "UPDATE signing_requests SET status = 'failed', error = $2, updated_at = $3 ",
                "WHERE status = 'running' AND ",
                $where
            ),
        ]
    };
}

impl Unfinished {
    /// Select the bridge ids, fail wallets, fail signing requests.
    fn statements(&self) -> [&'static str; 3] {
        match self {
            Unfinished::OfRunner(_) => unfinished_sql!("(runner = $1 OR runner IS NULL)"),
            Unfinished::StartedBefore(_) => unfinished_sql!("created_at < $1"),
        }
    }

    fn bind<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        match self {
            Unfinished::OfRunner(r) => query.bind(r.clone()),
            Unfinished::StartedBefore(t) => query.bind(*t),
        }
    }
}

/// The database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    kind: &'static str,
    runner: String,
}

impl Store {
    /// Connect to `url` (`sqlite://…` or `postgres://…`) and bring the schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            // A database that is down fails requests within seconds (503, retried by the
            // client), instead of holding them until their deadline.
            .acquire_timeout(std::time::Duration::from_secs(3))
            // A connection to a SQLite file does not drop, so checking it before each use (a
            // round trip to its worker thread) buys nothing; a PostgreSQL connection can be cut
            // by the server or the network, and is checked.
            .test_before_acquire(!sqlite)
            // An in-memory SQLite database exists per connection, so it gets exactly one.
            .max_connections(match (sqlite, url.contains(":memory:")) {
                (true, true) => 1,
                (true, false) => 4,
                _ => 16,
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL lets readers go on while one writer commits; waiting out a busy
                        // writer beats failing the request.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = FULL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        migrations::migrator().run(&pool).await?;
        Ok(Self {
            pool,
            kind: if sqlite { "sqlite" } else { "postgres" },
            runner: "local".into(),
        })
    }

    /// The same database, recording `runner` (this host's stable id) on the work it starts.
    pub fn with_runner(mut self, runner: &str) -> Self {
        self.runner = runner.to_owned();
        self
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Sessions cannot outlive the process that ran them: mark this host's wallets and signing
    /// requests that were in progress at its last stop (and those recorded before hosts had
    /// ids) as failed.
    pub async fn fail_interrupted(&self, now: i64) -> Result<Interrupted> {
        let this_host = Unfinished::OfRunner(self.runner.clone());
        self.fail_unfinished(this_host, "interrupted by a server restart", now)
            .await
    }

    /// Mark work started before `cutoff` (Unix seconds) and still in progress as failed, on
    /// whichever host: no session lives that long, so its host has stopped.
    pub async fn fail_stale(&self, cutoff: i64, now: i64) -> Result<Interrupted> {
        let stale = Unfinished::StartedBefore(cutoff);
        self.fail_unfinished(stale, "its server stopped before it finished", now)
            .await
    }

    async fn fail_unfinished(&self, which: Unfinished, why: &str, now: i64) -> Result<Interrupted> {
        let [select, wallets, signings] = which.statements();
        let rows = which
            .bind(sqlx::query(select))
            .fetch_all(&self.pool)
            .await?;
        let bridges = rows
            .iter()
            .map(|r| r.try_get::<String, _>("bridge_id"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut count = 0;
        for statement in [wallets, signings] {
            let done = which
                .bind(sqlx::query(statement))
                .bind(why)
                .bind(now)
                .execute(&self.pool)
                .await?;
            count += done.rows_affected();
        }
        Ok(Interrupted { count, bridges })
    }

    // ---- wallets

    /// Record a wallet whose key generation is starting.
    pub async fn insert_wallet(&self, w: &WalletRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO wallets (id, owner, label, scheme, threshold, parties, server_index, \
             roster, party_keys, status, public_info, error, created_at, updated_at, runner) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&w.id)
        .bind(&w.owner)
        .bind(&w.label)
        .bind(&w.scheme)
        .bind(w.threshold)
        .bind(w.parties)
        .bind(w.server_index)
        .bind(&w.roster)
        .bind(&w.party_keys)
        .bind(w.status.as_str())
        .bind(&w.public_info)
        .bind(&w.error)
        .bind(w.created_at)
        .bind(w.updated_at)
        .bind(&self.runner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The wallet `id` if `owner` owns it.
    pub async fn wallet(&self, id: &str, owner: &str) -> Result<Option<WalletRow>> {
        self.owned_row(
            "SELECT * FROM wallets WHERE id = $1 AND owner = $2",
            id,
            owner,
        )
        .await?
        .map(|r| WalletRow::from_row(&r))
        .transpose()
    }

    /// The wallet `id` if `owner` owns it, with its newest sealed server share (none while its
    /// key is being made). One statement, so the two are of the same moment: a reshare between
    /// two reads could otherwise pair the wallet's old roster with the new share.
    pub async fn wallet_with_share(
        &self,
        id: &str,
        owner: &str,
    ) -> Result<Option<(WalletRow, Option<String>)>> {
        let Some(row) = self
            .owned_row(
                "SELECT w.*, (SELECT s.sealed FROM server_shares s WHERE s.wallet_id = w.id \
                 ORDER BY s.generation DESC LIMIT 1) AS newest_share \
                 FROM wallets w WHERE w.id = $1 AND w.owner = $2",
                id,
                owner,
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((
            WalletRow::from_row(&row)?,
            row.try_get("newest_share")?,
        )))
    }

    /// The wallets of `owner`, oldest first.
    pub async fn wallets(&self, owner: &str) -> Result<Vec<WalletRow>> {
        let rows = sqlx::query("SELECT * FROM wallets WHERE owner = $1 ORDER BY created_at, id")
            .bind(owner)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(WalletRow::from_row).collect()
    }

    /// Key generation finished: store the sealed server share and mark the wallet ready, in one
    /// transaction, so that a crash leaves either both or neither.
    pub async fn complete_wallet(
        &self,
        id: &str,
        public_info: &str,
        sealed_share: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO server_shares (wallet_id, generation, sealed, created_at) \
             VALUES ($1, 0, $2, $3)",
        )
        .bind(id)
        .bind(sealed_share)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE wallets SET status = 'ready', public_info = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(public_info)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(StoreError::Corrupt(format!(
                "wallet {id} is no longer waiting for its key"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Resharing finished: store the server's new share as the next generation, delete the
    /// older ones (old shares must not outlive a refresh), and record the new parties, in one
    /// transaction.
    pub async fn reshare_wallet(&self, id: &str, change: &Reshared<'_>, now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // The transaction's first statement writes: SQLite then takes the write lock at once,
        // waiting out another writer (busy_timeout). A read first would make a later write fail
        // at once (SQLITE_BUSY) whenever another connection committed in between.
        sqlx::query(
            "INSERT INTO server_shares (wallet_id, generation, sealed, created_at) \
             SELECT $1, COALESCE(MAX(generation), -1) + 1, $2, $3 FROM server_shares \
             WHERE wallet_id = $1",
        )
        .bind(id)
        .bind(change.sealed_share)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM server_shares WHERE wallet_id = $1 AND generation < \
             (SELECT MAX(generation) FROM server_shares WHERE wallet_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE wallets SET roster = $1, threshold = $2, parties = $3, public_info = $4, \
             updated_at = $5 WHERE id = $6 AND status = 'ready'",
        )
        .bind(change.roster)
        .bind(change.threshold)
        .bind(change.parties)
        .bind(change.public_info)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(StoreError::Corrupt(format!("wallet {id} is not ready")));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Key generation failed.
    pub async fn fail_wallet(&self, id: &str, error: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE wallets SET status = 'failed', error = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest sealed server share of a wallet (the server reads it with its wallet, through
    /// [`Store::wallet_with_share`]; the tests read it alone).
    #[cfg(test)]
    pub async fn server_share(&self, wallet_id: &str) -> Result<Option<String>> {
        Ok(self
            .server_share_generation(wallet_id)
            .await?
            .map(|(_, sealed)| sealed))
    }

    /// The newest sealed server share of a wallet with its generation, for a change that must
    /// not overwrite a newer share (see [`Store::replace_server_share`]).
    pub async fn server_share_generation(&self, wallet_id: &str) -> Result<Option<(i64, String)>> {
        let row = sqlx::query(
            "SELECT generation, sealed FROM server_shares WHERE wallet_id = $1 \
             ORDER BY generation DESC LIMIT 1",
        )
        .bind(wallet_id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some((row.try_get("generation")?, row.try_get("sealed")?))),
            None => Ok(None),
        }
    }

    /// Replace the sealed server share of one generation in place (a share that changed state
    /// without a new key, such as a suspended pair). Returns `false` if that generation is gone,
    /// because a refresh replaced it meanwhile: the newer share wins.
    pub async fn replace_server_share(
        &self,
        wallet_id: &str,
        generation: i64,
        sealed: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE server_shares SET sealed = $1 WHERE wallet_id = $2 AND generation = $3",
        )
        .bind(sealed)
        .bind(wallet_id)
        .bind(generation)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    // ---- signing requests

    /// Write a new signing request, and with it (in one transaction) the answer recorded under
    /// the idempotency key of the request that started it, if any.
    pub async fn insert_signing(
        &self,
        s: &SigningRow,
        answer: Option<Remembered<'_>>,
    ) -> Result<()> {
        let insert = sqlx::query(
            "INSERT INTO signing_requests (id, wallet_id, owner, network, request, prepared, \
             status, result, error, created_at, updated_at, runner, bridge_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&s.id)
        .bind(&s.wallet_id)
        .bind(&s.owner)
        .bind(&s.network)
        .bind(&s.request)
        .bind(&s.prepared)
        .bind(&s.status)
        .bind(&s.result)
        .bind(&s.error)
        .bind(s.created_at)
        .bind(s.updated_at)
        .bind(&self.runner)
        .bind(&s.bridge);
        let Some(answer) = answer else {
            insert.execute(&self.pool).await?;
            return Ok(());
        };
        let mut tx = self.pool.begin().await?;
        insert.execute(&mut *tx).await?;
        remember_query(answer, s.created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Finish a signing request with its result or its error.
    pub async fn finish_signing(
        &self,
        id: &str,
        outcome: std::result::Result<&str, &str>,
        now: i64,
    ) -> Result<()> {
        let (status, result, error) = match outcome {
            Ok(r) => ("done", Some(r), None),
            Err(e) => ("failed", None, Some(e)),
        };
        sqlx::query(
            "UPDATE signing_requests SET status = $1, result = $2, error = $3, updated_at = $4 \
             WHERE id = $5 AND status = 'running'",
        )
        .bind(status)
        .bind(result)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The signing request `id` if `owner` owns it.
    pub async fn signing(&self, id: &str, owner: &str) -> Result<Option<SigningRow>> {
        self.owned_row(
            "SELECT * FROM signing_requests WHERE id = $1 AND owner = $2",
            id,
            owner,
        )
        .await?
        .map(|r| SigningRow::from_row(&r))
        .transpose()
    }

    /// The row `sql` selects by id (`$1`) and owner (`$2`).
    async fn owned_row(&self, sql: &'static str, id: &str, owner: &str) -> Result<Option<AnyRow>> {
        Ok(sqlx::query(sql)
            .bind(id)
            .bind(owner)
            .fetch_optional(&self.pool)
            .await?)
    }

    // ---- idempotency

    /// The answer recorded for `owner`'s idempotency key, if any.
    pub async fn idempotent(&self, owner: &str, key: &str) -> Result<Option<StoredResponse>> {
        let row = sqlx::query(
            "SELECT request_hash, status, response FROM idempotency_keys \
             WHERE owner = $1 AND idem_key = $2",
        )
        .bind(owner)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r: AnyRow| {
            Ok(StoredResponse {
                request_hash: r.try_get("request_hash")?,
                status: u16::try_from(r.try_get::<i64, _>("status")?)
                    .map_err(|_| StoreError::Corrupt("status".into()))?,
                body: r.try_get("response")?,
            })
        })
        .transpose()
    }

    /// Record the answer to a request made with an idempotency key. A concurrent first use of
    /// the same key loses quietly: the stored answer stands.
    pub async fn remember(
        &self,
        owner: &str,
        key: &str,
        response: &StoredResponse,
        now: i64,
    ) -> Result<()> {
        let answer = Remembered {
            owner,
            key,
            response,
        };
        remember_query(answer, now).execute(&self.pool).await?;
        Ok(())
    }
}

/// The statement that records `answer` (a first use of its key wins).
fn remember_query<'q>(
    answer: Remembered<'q>,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "INSERT INTO idempotency_keys (owner, idem_key, request_hash, status, response, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(answer.owner)
    .bind(answer.key)
    .bind(&answer.response.request_hash)
    .bind(i64::from(answer.response.status))
    .bind(&answer.response.body)
    .bind(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wallet(id: &str, owner: &str) -> WalletRow {
        WalletRow {
            id: id.into(),
            owner: owner.into(),
            label: "test".into(),
            scheme: "ed25519".into(),
            threshold: 2,
            parties: 3,
            server_index: 1,
            roster: "{}".into(),
            party_keys: "sealed".into(),
            status: WalletStatus::Pending,
            public_info: None,
            error: None,
            created_at: 1,
            updated_at: 1,
        }
    }

    async fn store() -> Store {
        Store::connect("sqlite::memory:").await.unwrap()
    }

    #[tokio::test]
    async fn a_wallet_is_seen_only_by_its_owner_and_completes_once() {
        let s = store().await;
        s.insert_wallet(&wallet("w1", "alice")).await.unwrap();
        assert!(s.wallet("w1", "bob").await.unwrap().is_none());
        assert_eq!(s.wallets("alice").await.unwrap().len(), 1);
        s.complete_wallet("w1", "{\"k\":1}", "sealed-share", 2)
            .await
            .unwrap();
        let w = s.wallet("w1", "alice").await.unwrap().unwrap();
        assert_eq!(w.status, WalletStatus::Ready);
        assert_eq!(s.server_share("w1").await.unwrap().unwrap(), "sealed-share");
        // A second completion is refused and changes nothing.
        assert!(s.complete_wallet("w1", "{}", "other", 3).await.is_err());
        assert_eq!(s.server_share("w1").await.unwrap().unwrap(), "sealed-share");
    }

    #[tokio::test]
    async fn a_wallet_is_read_with_its_newest_share() {
        let s = store().await;
        s.insert_wallet(&wallet("w1", "alice")).await.unwrap();
        let (w, share) = s.wallet_with_share("w1", "alice").await.unwrap().unwrap();
        assert_eq!((w.id.as_str(), share), ("w1", None));
        assert!(s.wallet_with_share("w1", "bob").await.unwrap().is_none());
        s.complete_wallet("w1", "{}", "sealed-0", 2).await.unwrap();
        let change = Reshared {
            roster: "{}",
            threshold: 2,
            parties: 3,
            public_info: "{}",
            sealed_share: "sealed-1",
        };
        s.reshare_wallet("w1", &change, 3).await.unwrap();
        let (w, share) = s.wallet_with_share("w1", "alice").await.unwrap().unwrap();
        assert_eq!(w.status, WalletStatus::Ready);
        assert_eq!(share.as_deref(), Some("sealed-1"));
    }

    /// Resharing commits while other connections write (an outbox, a record, another wallet):
    /// with SQLite's WAL, a transaction that reads before it writes would fail with
    /// SQLITE_BUSY whenever another write committed in between; resharing writes first, so it
    /// waits for the lock instead. Every generation ends with exactly one share.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn resharing_commits_while_others_write() {
        let path = std::env::temp_dir().join(format!("mpcw-reshare-{}.db", std::process::id()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let s = Store::connect(&url).await.unwrap();
        s.insert_wallet(&wallet("w1", "alice")).await.unwrap();
        s.complete_wallet("w1", "{}", "sealed-0", 2).await.unwrap();
        let writer = {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..400 {
                    s.insert_wallet(&wallet(&format!("x{i}"), "bob"))
                        .await
                        .unwrap();
                }
            })
        };
        for g in 1..=40 {
            let sealed = format!("sealed-{g}");
            let change = Reshared {
                roster: "{}",
                threshold: 2,
                parties: 3,
                public_info: "{}",
                sealed_share: &sealed,
            };
            s.reshare_wallet("w1", &change, 3).await.unwrap();
            assert_eq!(s.server_share("w1").await.unwrap().unwrap(), sealed);
        }
        writer.await.unwrap();
        std::fs::remove_file(&path).ok();
    }

    #[tokio::test]
    async fn interrupted_work_is_failed_at_start() {
        let s = store().await;
        s.insert_wallet(&wallet("w1", "alice")).await.unwrap();
        assert_eq!(s.fail_interrupted(5).await.unwrap().count, 1);
        let w = s.wallet("w1", "alice").await.unwrap().unwrap();
        assert_eq!(w.status, WalletStatus::Failed);
        assert!(s.complete_wallet("w1", "{}", "x", 6).await.is_err());
        assert!(s.server_share("w1").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_host_fails_its_own_interrupted_work_and_anyone_fails_stale_work() {
        let path = std::env::temp_dir().join(format!("mpcw-runners-{}.db", std::process::id()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let a = Store::connect(&url).await.unwrap().with_runner("host_a");
        let b = Store::connect(&url).await.unwrap().with_runner("host_b");
        a.insert_wallet(&wallet("w1", "alice")).await.unwrap();
        b.insert_wallet(&wallet("w2", "bob")).await.unwrap();
        a.complete_wallet("w1", "{}", "sealed", 2).await.unwrap();
        let signing = |id: &str, bridge: Option<&str>| SigningRow {
            id: id.into(),
            wallet_id: "w1".into(),
            owner: "alice".into(),
            network: "solana".into(),
            request: "{}".into(),
            prepared: "{}".into(),
            status: "running".into(),
            result: None,
            error: None,
            bridge: bridge.map(str::to_owned),
            created_at: 10,
            updated_at: 10,
        };
        a.insert_signing(&signing("s1", Some("br_1")), None)
            .await
            .unwrap();
        b.insert_signing(&signing("s2", Some("br_2")), None)
            .await
            .unwrap();
        // Host A restarts: its signing fails, host B's wallet and signing go on.
        let mine = a.fail_interrupted(20).await.unwrap();
        assert_eq!((mine.count, mine.bridges), (1, vec!["br_1".to_owned()]));
        assert_eq!(
            a.signing("s1", "alice").await.unwrap().unwrap().status,
            "failed"
        );
        assert_eq!(
            b.signing("s2", "alice").await.unwrap().unwrap().status,
            "running"
        );
        assert_eq!(
            b.wallet("w2", "bob").await.unwrap().unwrap().status,
            WalletStatus::Pending
        );
        // Host B never comes back: once its work is older than any session, anyone fails it.
        // (The wallet was started at 1, the signing at 10.)
        let stale = a.fail_stale(5, 30).await.unwrap();
        assert_eq!((stale.count, stale.bridges.len()), (1, 0));
        assert_eq!(
            b.wallet("w2", "bob").await.unwrap().unwrap().status,
            WalletStatus::Failed
        );
        assert_eq!(
            b.signing("s2", "alice").await.unwrap().unwrap().status,
            "running"
        );
        let stale = a.fail_stale(15, 30).await.unwrap();
        assert_eq!((stale.count, stale.bridges), (1, vec!["br_2".to_owned()]));
        assert_eq!(
            b.signing("s2", "alice").await.unwrap().unwrap().status,
            "failed"
        );
        drop((a, b));
        for suffix in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
        }
    }

    #[tokio::test]
    async fn idempotency_keys_keep_the_first_answer() {
        let s = store().await;
        let first = StoredResponse {
            request_hash: "r1".into(),
            status: 201,
            body: "{}".into(),
        };
        s.remember("alice", "k", &first, 1).await.unwrap();
        let second = StoredResponse {
            body: "{\"other\":1}".into(),
            ..first.clone()
        };
        s.remember("alice", "k", &second, 2).await.unwrap();
        assert_eq!(s.idempotent("alice", "k").await.unwrap(), Some(first));
        assert!(s.idempotent("bob", "k").await.unwrap().is_none());
    }
}
