//! The SQLite backend: the default, one file next to the binary, nothing to install.

use crate::{StoreError, StoreResult};
use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::time::Duration;

/// Connections in the pool of a file database. SQLite has one writer at a time (WAL lets
/// readers go on meanwhile); a few connections serve concurrent readers.
const POOL_SIZE: u32 = 4;

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Store`](crate::Store) in one SQLite file (WAL journal, `synchronous=NORMAL`, foreign
/// keys on), or in memory for tests.
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    target: String,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it and its parent folder if needed) the database file at `path`.
    /// Call [`Store::migrate`](crate::Store::migrate) before use.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let target = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| StoreError::Connect {
                    target: target.clone(),
                    source: sqlx::Error::Io(e),
                })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(POOL_SIZE)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Connect {
                target: target.clone(),
                source,
            })?;
        Ok(Self { pool, target })
    }

    /// A private in-memory database (for tests and dry runs): gone when the store is dropped.
    /// The pool holds exactly one connection that never expires, because every SQLite
    /// connection to `:memory:` would otherwise see its own empty database.
    pub async fn open_in_memory() -> StoreResult<Self> {
        let target = ":memory:".to_owned();
        let options = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Connect {
                target: target.clone(),
                source,
            })?;
        Ok(Self { pool, target })
    }

    /// The path it was opened with (`:memory:` for an in-memory store).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Closes every connection (checkpointing the WAL). Later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

crate::backend::impl_store!(SqliteStore, Sqlite, "sqlite", crate::migrations::sqlite);
crate::accounts::impl_account_store!(SqliteStore);
crate::edits::impl_edit_store!(SqliteStore);
crate::notify::impl_notify_store!(SqliteStore);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::conformance::sample_mention;
    use vigie_model::WorkspaceId;

    #[tokio::test]
    async fn in_memory_store_keeps_its_data_across_calls() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        store.migrate().await.unwrap();
        let ws = WorkspaceId::new("acme").unwrap();
        let batch: Vec<_> = (0..10).map(|i| sample_mention(&ws, i)).collect();
        assert_eq!(store.insert_mentions(&batch).await.unwrap(), vec![true; 10]);
        assert_eq!(store.count_mentions(&ws).await.unwrap(), 10);
        assert_eq!(store.backend(), "sqlite");
        assert_eq!(store.target(), ":memory:");
    }

    #[tokio::test]
    async fn file_is_created_in_wal_mode_and_reopens_with_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/vigie.db");
        let ws = WorkspaceId::new("acme").unwrap();
        {
            let store = SqliteStore::open(&path).await.unwrap();
            store.migrate().await.unwrap();
            let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
                .fetch_one(&store.pool)
                .await
                .unwrap();
            assert_eq!(mode, "wal");
            let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
                .fetch_one(&store.pool)
                .await
                .unwrap();
            assert_eq!(fk, 1);
            store
                .insert_mentions(&[sample_mention(&ws, 1)])
                .await
                .unwrap();
            store.close().await;
        }
        let store = SqliteStore::open(&path).await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(store.count_mentions(&ws).await.unwrap(), 1);
        assert!(format!("{store:?}").contains("vigie.db"));
    }

    #[tokio::test]
    async fn open_fails_with_the_path_in_the_message() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        // A path below a regular file cannot be created.
        let err = SqliteStore::open(&file.join("db.sqlite"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Connect { .. }), "{err}");
        assert!(err.to_string().contains("db.sqlite"), "{err}");
    }

    /// Insert throughput on a temporary file, batches of 256. Run with
    /// `cargo test -p vigie-store --release -- --ignored --nocapture sqlite_insert_throughput`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "measurement, not a check"]
    async fn sqlite_insert_throughput() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("bench.db"))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let ws = WorkspaceId::new("bench").unwrap();
        let total: u64 = 100_000;
        let all: Vec<_> = (0..total).map(|i| sample_mention(&ws, i)).collect();
        let start = std::time::Instant::now();
        for batch in all.chunks(256) {
            store.insert_mentions(batch).await.unwrap();
        }
        let new_secs = start.elapsed().as_secs_f64();
        let start = std::time::Instant::now();
        for batch in all.chunks(256) {
            store.insert_mentions(batch).await.unwrap();
        }
        let dup_secs = start.elapsed().as_secs_f64();
        assert_eq!(store.count_mentions(&ws).await.unwrap(), total);
        println!(
            "sqlite insert_mentions, batches of 256: {:.0} new mentions/s, {:.0} duplicates/s",
            total as f64 / new_secs,
            total as f64 / dup_secs
        );
    }
}
