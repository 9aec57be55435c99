//! Storage for Vigie behind one [`Store`] trait, with two real backends:
//! SQLite (the default: one file, WAL) and PostgreSQL (scale-out).
//!
//! Both backends run the same versioned migrations (kept apart in `migrations/sqlite` and
//! `migrations/postgres`) and pass the same conformance suite (`conformance.rs`).
//! Mentions are idempotent on `(workspace, source, external_id)`: storing the same mention
//! twice keeps one row, and [`Store::insert_mentions`] says which ones were new so that
//! detectors never count a replayed mention twice.
//!
//! [`open_store`] picks the backend from a URL or path and migrates. The schema, the
//! idempotency key and the pagination cursor are described in `docs/design/storage.md`.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use vigie_model::{EnrichedMention, Mention, Author, Enrichment, Timestamp, WorkspaceId};
//! use vigie_store::{open_store, MentionFilter};
//!
//! let store = open_store("sqlite::memory:").await?;
//! let ws = WorkspaceId::new("acme").unwrap();
//! let mention = EnrichedMention {
//!     workspace: ws.clone(),
//!     mention: Mention {
//!         source: "mastodon".into(),
//!         external_id: "109".into(),
//!         url: None,
//!         author: Author { handle: "marie".into(), ..Author::default() },
//!         published_at: Timestamp::parse_rfc3339("2026-03-01T10:00:00Z").unwrap(),
//!         received_at: None,
//!         title: None,
//!         text: "Colis jamais arrivé 😡".into(),
//!         lang: Some("fr".into()),
//!         engagement: Default::default(),
//!         reply_to: None,
//!         quote_of: None,
//!         repost_of: None,
//!         country: None,
//!     },
//!     enrichment: Enrichment::default(),
//! };
//! // New the first time, a duplicate the second time.
//! assert_eq!(store.insert_mentions(&[mention.clone()]).await?, vec![true]);
//! assert_eq!(store.insert_mentions(&[mention.clone()]).await?, vec![false]);
//! let page = store.list_mentions(&MentionFilter::workspace(ws)).await?;
//! assert_eq!(page.items.len(), 1);
//! assert_eq!(page.items[0].mention, mention);
//! # Ok::<(), vigie_store::StoreError>(())
//! # }).unwrap();
//! ```

mod accounts;
mod backend;
mod codec;
#[cfg(test)]
mod conformance;
mod edits;
mod error;
mod migrations;
mod notify;
mod postgres;
mod respond;
mod rows;
mod scale;
mod sql;
mod sqlite;
mod types;

pub use accounts::{
    AccountStore, ApiTokenRecord, NewUser, Role, SessionRecord, ThrottleState, TokenScope,
    UserRecord,
};
pub use edits::{ChangeOutcome, ChangeRecord, EditStore, MentionState};
pub use error::StoreError;
pub use notify::{DeadLetter, MobilizationRecord, NotifyStore};
pub use postgres::{PostgresStore, redact_url};
pub use respond::{
    AuditEntry, NewAuditEntry, RecordKind, RespondRecord, RespondStore, ScenarioRecord,
};
pub use scale::{ScaleHandles, ScaleStore, WatchState, open_scale_store};
pub use sqlite::SqliteStore;
pub use types::{MentionFilter, MentionPage, StoredMention, WatchLevel, WatchRecord};

use async_trait::async_trait;
use vigie_model::{EnrichedMention, Incident, LevelChange, Signal, WatchId, WorkspaceId};

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything Vigie persists. Every method is scoped by workspace: no call returns data of
/// another workspace than the one it names.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Scenarios, crisis rooms, tasks, drafts, inbox items and the append-only audit log
    /// (issue #7). `None` for stores that do not keep them (test doubles); both real
    /// backends return `Some`.
    fn respond(&self) -> Option<&dyn RespondStore> {
        None
    }

    /// Mobilization incidents, dead letters and used acknowledgement links (issue #6).
    /// `None` for test doubles; both real backends return `Some`.
    fn notify(&self) -> Option<&dyn NotifyStore> {
        None
    }

    /// Applies pending migrations (idempotent).
    async fn migrate(&self) -> StoreResult<()>;

    /// Users, roles, sessions and API tokens (see [`AccountStore`]).
    fn accounts(&self) -> &dyn AccountStore;

    /// Edits and deletions of stored mentions (see [`EditStore`]).
    fn edits(&self) -> &dyn EditStore;

    /// Records the workspace and its watches as configured (insert or update; watches that are
    /// no longer configured are kept, marked inactive, so their history stays readable).
    async fn sync_watches(
        &self,
        workspace: &WorkspaceId,
        watches: &[WatchRecord],
    ) -> StoreResult<()>;

    /// Known workspaces, sorted.
    async fn list_workspaces(&self) -> StoreResult<Vec<WorkspaceId>>;

    /// Watches of a workspace (active and inactive), in configuration order.
    async fn list_watches(&self, workspace: &WorkspaceId) -> StoreResult<Vec<WatchRecord>>;

    /// Stores a batch in one transaction. Returns, for each mention in order, `true` if it was
    /// new and `false` if `(workspace, source, external_id)` was already stored (the stored row
    /// is left unchanged). All or nothing: on error nothing of the batch is stored.
    async fn insert_mentions(&self, batch: &[EnrichedMention]) -> StoreResult<Vec<bool>>;

    /// Mentions matching a filter, newest first, paginated by an opaque cursor.
    async fn list_mentions(&self, filter: &MentionFilter) -> StoreResult<MentionPage>;

    /// Number of mentions stored for a workspace.
    async fn count_mentions(&self, workspace: &WorkspaceId) -> StoreResult<u64>;

    /// Stores detector signals.
    async fn insert_signals(&self, signals: &[Signal]) -> StoreResult<()>;

    /// Signals of a workspace (optionally one watch), oldest first, at most `limit`: the
    /// `limit` most recent ones (capped at 10 000), returned in time order. Storing the same
    /// signal again (same watch, time, kind and detail) keeps one copy.
    async fn list_signals(
        &self,
        workspace: &WorkspaceId,
        watch: Option<&WatchId>,
        limit: u32,
    ) -> StoreResult<Vec<Signal>>;

    /// Records a level change and makes its `to` level the watch's current level (unless a
    /// later change is already recorded). Recording the same change again keeps one copy.
    async fn record_level_change(&self, change: &LevelChange) -> StoreResult<()>;

    /// Current level of each watch of a workspace that ever changed level (others are calm).
    async fn current_levels(&self, workspace: &WorkspaceId) -> StoreResult<Vec<WatchLevel>>;

    /// Level changes of a workspace (optionally one watch), oldest first.
    async fn level_history(
        &self,
        workspace: &WorkspaceId,
        watch: Option<&WatchId>,
    ) -> StoreResult<Vec<LevelChange>>;

    /// Inserts an incident (when `incident.id == 0`) or replaces it; returns its id.
    /// Replacing an id that does not exist in the incident's workspace is
    /// [`StoreError::Invalid`].
    async fn save_incident(&self, incident: &Incident) -> StoreResult<i64>;

    /// Incidents of a workspace, most recently opened first.
    async fn list_incidents(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Incident>>;

    /// The last cursor saved for a source of a workspace.
    async fn load_checkpoint(
        &self,
        workspace: &WorkspaceId,
        source: &str,
    ) -> StoreResult<Option<String>>;

    /// Saves a source's cursor (after the mentions before it were stored).
    async fn save_checkpoint(
        &self,
        workspace: &WorkspaceId,
        source: &str,
        cursor: &str,
    ) -> StoreResult<()>;

    /// Saves the serialized detector state of a watch (for restarts).
    async fn save_detector_state(
        &self,
        workspace: &WorkspaceId,
        watch: &WatchId,
        state: &serde_json::Value,
    ) -> StoreResult<()>;

    /// Loads the detector state saved for a watch.
    async fn load_detector_state(
        &self,
        workspace: &WorkspaceId,
        watch: &WatchId,
    ) -> StoreResult<Option<serde_json::Value>>;
}

/// Opens the store named by `url_or_path` and applies pending migrations.
///
/// - `postgres://…` or `postgresql://…`: [`PostgresStore`];
/// - `sqlite::memory:`: a private in-memory [`SqliteStore`];
/// - `sqlite://PATH`, `sqlite:PATH` or a plain path: a [`SqliteStore`] file (created if
///   missing, with its folder).
pub async fn open_store(url_or_path: &str) -> StoreResult<std::sync::Arc<dyn Store>> {
    let store: std::sync::Arc<dyn Store> =
        if url_or_path.starts_with("postgres://") || url_or_path.starts_with("postgresql://") {
            std::sync::Arc::new(PostgresStore::connect(url_or_path).await?)
        } else if url_or_path == "sqlite::memory:" || url_or_path == "sqlite://:memory:" {
            std::sync::Arc::new(SqliteStore::open_in_memory().await?)
        } else {
            let path = url_or_path
                .strip_prefix("sqlite://")
                .or_else(|| url_or_path.strip_prefix("sqlite:"))
                .unwrap_or(url_or_path);
            if path.is_empty() {
                return Err(StoreError::Invalid {
                    what: "database url",
                    detail: format!("{url_or_path:?} names no file"),
                });
            }
            std::sync::Arc::new(SqliteStore::open(std::path::Path::new(path)).await?)
        };
    store.migrate().await?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_store_picks_the_backend_from_the_url() {
        let dir = tempfile::tempdir().unwrap();
        let ws = WorkspaceId::new("acme").unwrap();
        let url = format!("sqlite://{}", dir.path().join("a/vigie.db").display());
        let plain = dir.path().join("plain.db").display().to_string();
        for target in [url.as_str(), plain.as_str(), "sqlite::memory:"] {
            let store = open_store(target).await.unwrap();
            assert_eq!(store.backend(), "sqlite", "{target}");
            // Migrated: the tables exist.
            assert_eq!(store.count_mentions(&ws).await.unwrap(), 0, "{target}");
        }
        assert!(dir.path().join("a/vigie.db").exists());
        assert!(dir.path().join("plain.db").exists());
    }

    #[tokio::test]
    async fn open_store_reports_bad_targets() {
        let err = open_store("sqlite://").await.unwrap_err();
        assert!(err.is_client_error(), "{err}");
        // A postgres URL goes to the PostgreSQL backend (nothing listens on port 1).
        let err = open_store("postgresql://vigie:pw@127.0.0.1:1/vigie")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Connect { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("postgresql://vigie:***@127.0.0.1:1/vigie"),
            "{err}"
        );
    }
}
