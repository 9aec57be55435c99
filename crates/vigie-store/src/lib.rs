//! Storage for Vigie behind one [`Store`] trait, with two real backends:
//! SQLite (the default: one file, WAL) and PostgreSQL (scale-out).
//!
//! Both backends run the same versioned migrations (kept apart in `migrations/sqlite` and
//! `migrations/postgres`) and pass the same conformance suite (`conformance.rs`).
//! Mentions are idempotent on `(workspace, source, external_id)`: storing the same mention
//! twice keeps one row, and [`Store::insert_mentions`] says which ones were new so that
//! detectors never count a replayed mention twice.

mod error;
mod types;

pub use error::StoreError;
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

    /// Applies pending migrations (idempotent).
    async fn migrate(&self) -> StoreResult<()>;

    /// Records the workspace and its watches as configured (insert or update; watches that are
    /// no longer configured are kept, marked inactive, so their history stays readable).
    async fn sync_watches(&self, workspace: &WorkspaceId, watches: &[WatchRecord])
    -> StoreResult<()>;

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

    /// Signals of a workspace (optionally one watch), oldest first, at most `limit`.
    async fn list_signals(
        &self,
        workspace: &WorkspaceId,
        watch: Option<&WatchId>,
        limit: u32,
    ) -> StoreResult<Vec<Signal>>;

    /// Records a level change and makes its `to` level the watch's current level.
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
