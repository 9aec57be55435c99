//! Storage for mobilizing (issue #6): mobilization incidents, dead letters and used
//! acknowledgement links.
//!
//! A mobilization incident (timeline, acknowledgements, escalation and SLA state) is a JSON
//! document owned by `vigie-notify`, stored with the columns the queries need (workspace,
//! watch, times, status). Dead letters keep the message that could not be delivered and the
//! last error. A used link's nonce is inserted once: the primary key makes acknowledgement
//! links single-use even with several Vigie processes on one PostgreSQL database.

use crate::StoreResult;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigie_model::{Timestamp, WatchId, WorkspaceId};

/// One stored mobilization incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MobilizationRecord {
    /// Store-assigned id (0 before the first save).
    pub id: i64,
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Watch.
    pub watch: WatchId,
    /// When it opened.
    pub opened_at: Timestamp,
    /// When it was resolved.
    pub closed_at: Option<Timestamp>,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
    /// The document (owned by `vigie-notify`).
    pub doc: Value,
}

/// A notification that could not be delivered after its retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Store-assigned id (0 before it is stored).
    pub id: i64,
    /// When it was given up.
    pub at: Timestamp,
    /// Workspace.
    pub workspace: WorkspaceId,
    /// The incident it was about.
    pub incident_id: Option<i64>,
    /// Channel id.
    pub channel: String,
    /// Person id, when it was for one.
    pub recipient: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub error: String,
    /// The message (JSON).
    pub message: Value,
}

/// What mobilizing persists. Implemented by both backends; reach it with
/// [`Store::notify`](crate::Store::notify).
#[async_trait]
pub trait NotifyStore: Send + Sync {
    /// Inserts (`id == 0`) or replaces a mobilization; returns its id. Replacing an id that
    /// does not exist in the record's workspace is [`StoreError::Invalid`](crate::StoreError).
    async fn save_mobilization(&self, record: &MobilizationRecord) -> StoreResult<i64>;
    /// One mobilization by id (any workspace: the caller checks access).
    async fn get_mobilization(&self, id: i64) -> StoreResult<Option<MobilizationRecord>>;
    /// Mobilizations not resolved yet, oldest first (all workspaces: restart recovery).
    async fn open_mobilizations(&self) -> StoreResult<Vec<MobilizationRecord>>;
    /// Mobilizations of a workspace, most recently opened first, at most `limit`.
    async fn list_mobilizations(
        &self,
        workspace: &WorkspaceId,
        limit: u32,
    ) -> StoreResult<Vec<MobilizationRecord>>;
    /// Records a dead letter; returns its id.
    async fn insert_dead_letter(&self, letter: &DeadLetter) -> StoreResult<i64>;
    /// Dead letters of a workspace, newest first, at most `limit`.
    async fn list_dead_letters(
        &self,
        workspace: &WorkspaceId,
        limit: u32,
    ) -> StoreResult<Vec<DeadLetter>>;
    /// Marks an acknowledgement link's nonce as used. `true` the first time, `false` if it was
    /// already used.
    async fn use_link(
        &self,
        nonce: &str,
        incident_id: i64,
        used_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<bool>;
}

pub(crate) const INSERT_MOBILIZATION: &str = "INSERT INTO mobilizations \
    (workspace, watch, opened_at, closed_at, status, doc) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
pub(crate) const UPDATE_MOBILIZATION: &str = "UPDATE mobilizations SET watch = $3, opened_at = $4, \
    closed_at = $5, status = $6, doc = $7 WHERE id = $1 AND workspace = $2";
pub(crate) const GET_MOBILIZATION: &str = "SELECT id, workspace, watch, opened_at, closed_at, status, doc FROM mobilizations WHERE id = $1";
pub(crate) const OPEN_MOBILIZATIONS: &str = "SELECT id, workspace, watch, opened_at, closed_at, status, doc \
    FROM mobilizations WHERE status <> 'resolved' ORDER BY opened_at, id";
pub(crate) const LIST_MOBILIZATIONS: &str = "SELECT id, workspace, watch, opened_at, closed_at, status, doc \
    FROM mobilizations WHERE workspace = $1 ORDER BY opened_at DESC, id DESC LIMIT $2";
pub(crate) const INSERT_DEAD_LETTER: &str = "INSERT INTO notify_dead_letters \
    (at, workspace, incident_id, channel, recipient, attempts, error, message) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
pub(crate) const LIST_DEAD_LETTERS: &str = "SELECT id, at, workspace, incident_id, channel, recipient, \
    attempts, error, message FROM notify_dead_letters WHERE workspace = $1 ORDER BY at DESC, id DESC LIMIT $2";
pub(crate) const USE_LINK: &str = "INSERT INTO notify_used_links (nonce, incident_id, used_at, expires_at) \
    VALUES ($1, $2, $3, $4) ON CONFLICT (nonce) DO NOTHING";

/// `id, workspace, watch, opened_at, closed_at, status, doc`.
pub(crate) type MobilizationRow = (
    i64,
    String,
    String,
    i64,
    Option<i64>,
    String,
    crate::rows::JsonDoc,
);

/// `id, at, workspace, incident_id, channel, recipient, attempts, error, message`.
pub(crate) type DeadLetterRow = (
    i64,
    i64,
    String,
    Option<i64>,
    String,
    Option<String>,
    i64,
    String,
    crate::rows::JsonDoc,
);

pub(crate) fn mobilization_from_row(row: MobilizationRow) -> StoreResult<MobilizationRecord> {
    let (id, workspace, watch, opened_at, closed_at, status, doc) = row;
    Ok(MobilizationRecord {
        id,
        workspace: crate::codec::parse_id("workspace id", workspace)?,
        watch: crate::codec::parse_id("watch id", watch)?,
        opened_at: Timestamp::from_millis(opened_at),
        closed_at: closed_at.map(Timestamp::from_millis),
        status,
        doc: doc.0,
    })
}

pub(crate) fn dead_letter_from_row(row: DeadLetterRow) -> StoreResult<DeadLetter> {
    let (id, at, workspace, incident_id, channel, recipient, attempts, error, message) = row;
    Ok(DeadLetter {
        id,
        at: Timestamp::from_millis(at),
        workspace: crate::codec::parse_id("workspace id", workspace)?,
        incident_id,
        channel,
        recipient,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        error,
        message: message.0,
    })
}

/// Expands into `impl NotifyStore for $store` (field `pool: sqlx::Pool<_>`).
macro_rules! impl_notify_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::notify::NotifyStore for $store {
            async fn save_mobilization(
                &self,
                r: &$crate::notify::MobilizationRecord,
            ) -> $crate::StoreResult<i64> {
                use ::sqlx::types::Json;
                let op = $crate::StoreError::query("save mobilization");
                if r.id == 0 {
                    let (id,): (i64,) = ::sqlx::query_as($crate::notify::INSERT_MOBILIZATION)
                        .bind(r.workspace.as_str())
                        .bind(r.watch.as_str())
                        .bind(r.opened_at.as_millis())
                        .bind(r.closed_at.map(|t| t.as_millis()))
                        .bind(&r.status)
                        .bind(Json(&r.doc))
                        .fetch_one(&self.pool)
                        .await
                        .map_err(op)?;
                    return Ok(id);
                }
                let done = ::sqlx::query($crate::notify::UPDATE_MOBILIZATION)
                    .bind(r.id)
                    .bind(r.workspace.as_str())
                    .bind(r.watch.as_str())
                    .bind(r.opened_at.as_millis())
                    .bind(r.closed_at.map(|t| t.as_millis()))
                    .bind(&r.status)
                    .bind(Json(&r.doc))
                    .execute(&self.pool)
                    .await
                    .map_err(op)?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::Invalid {
                        what: "mobilization",
                        detail: format!("no mobilization {} in workspace {}", r.id, r.workspace),
                    });
                }
                Ok(r.id)
            }

            async fn get_mobilization(
                &self,
                id: i64,
            ) -> $crate::StoreResult<Option<$crate::notify::MobilizationRecord>> {
                let row: Option<$crate::notify::MobilizationRow> =
                    ::sqlx::query_as($crate::notify::GET_MOBILIZATION)
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err($crate::StoreError::query("get mobilization"))?;
                row.map($crate::notify::mobilization_from_row).transpose()
            }

            async fn open_mobilizations(
                &self,
            ) -> $crate::StoreResult<Vec<$crate::notify::MobilizationRecord>> {
                let rows: Vec<$crate::notify::MobilizationRow> =
                    ::sqlx::query_as($crate::notify::OPEN_MOBILIZATIONS)
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::StoreError::query("open mobilizations"))?;
                rows.into_iter()
                    .map($crate::notify::mobilization_from_row)
                    .collect()
            }

            async fn list_mobilizations(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                limit: u32,
            ) -> $crate::StoreResult<Vec<$crate::notify::MobilizationRecord>> {
                let rows: Vec<$crate::notify::MobilizationRow> =
                    ::sqlx::query_as($crate::notify::LIST_MOBILIZATIONS)
                        .bind(workspace.as_str())
                        .bind(i64::from(limit.min(10_000)))
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::StoreError::query("list mobilizations"))?;
                rows.into_iter()
                    .map($crate::notify::mobilization_from_row)
                    .collect()
            }

            async fn insert_dead_letter(
                &self,
                l: &$crate::notify::DeadLetter,
            ) -> $crate::StoreResult<i64> {
                let (id,): (i64,) = ::sqlx::query_as($crate::notify::INSERT_DEAD_LETTER)
                    .bind(l.at.as_millis())
                    .bind(l.workspace.as_str())
                    .bind(l.incident_id)
                    .bind(&l.channel)
                    .bind(l.recipient.as_deref())
                    .bind(i64::from(l.attempts))
                    .bind(&l.error)
                    .bind(::sqlx::types::Json(&l.message))
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("insert dead letter"))?;
                Ok(id)
            }

            async fn list_dead_letters(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                limit: u32,
            ) -> $crate::StoreResult<Vec<$crate::notify::DeadLetter>> {
                let rows: Vec<$crate::notify::DeadLetterRow> =
                    ::sqlx::query_as($crate::notify::LIST_DEAD_LETTERS)
                        .bind(workspace.as_str())
                        .bind(i64::from(limit.min(10_000)))
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::StoreError::query("list dead letters"))?;
                rows.into_iter()
                    .map($crate::notify::dead_letter_from_row)
                    .collect()
            }

            async fn use_link(
                &self,
                nonce: &str,
                incident_id: i64,
                used_at: ::vigie_model::Timestamp,
                expires_at: ::vigie_model::Timestamp,
            ) -> $crate::StoreResult<bool> {
                let done = ::sqlx::query($crate::notify::USE_LINK)
                    .bind(nonce)
                    .bind(incident_id)
                    .bind(used_at.as_millis())
                    .bind(expires_at.as_millis())
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("use acknowledgement link"))?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use impl_notify_store;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{PostgresStore, SqliteStore, Store};
    use serde_json::json;

    async fn check(store: &dyn Store) {
        let n = store.notify().unwrap();
        let ws = WorkspaceId::new("acme").unwrap();
        let other = WorkspaceId::new("other").unwrap();
        let mut rec = MobilizationRecord {
            id: 0,
            workspace: ws.clone(),
            watch: WatchId::new("brand").unwrap(),
            opened_at: Timestamp::from_millis(1000),
            closed_at: None,
            status: "open".into(),
            doc: json!({"timeline": [1, 2]}),
        };
        rec.id = n.save_mobilization(&rec).await.unwrap();
        assert!(rec.id > 0);
        assert_eq!(n.get_mobilization(rec.id).await.unwrap().unwrap(), rec);
        assert_eq!(n.open_mobilizations().await.unwrap(), vec![rec.clone()]);
        rec.status = "resolved".into();
        rec.closed_at = Some(Timestamp::from_millis(5000));
        n.save_mobilization(&rec).await.unwrap();
        assert!(n.open_mobilizations().await.unwrap().is_empty());
        assert_eq!(
            n.list_mobilizations(&ws, 10).await.unwrap(),
            vec![rec.clone()]
        );
        assert!(n.list_mobilizations(&other, 10).await.unwrap().is_empty());
        // Replacing in another workspace is refused and changes nothing.
        let mut wrong = rec.clone();
        wrong.workspace = other.clone();
        assert!(
            n.save_mobilization(&wrong)
                .await
                .unwrap_err()
                .is_client_error()
        );
        assert_eq!(n.get_mobilization(rec.id).await.unwrap().unwrap(), rec);
        assert_eq!(n.get_mobilization(999_999).await.unwrap(), None);

        let letter = DeadLetter {
            id: 0,
            at: Timestamp::from_millis(2000),
            workspace: ws.clone(),
            incident_id: Some(rec.id),
            channel: "hook".into(),
            recipient: Some("alice".into()),
            attempts: 4,
            error: "HTTP 500".into(),
            message: json!({"title": "x"}),
        };
        let id = n.insert_dead_letter(&letter).await.unwrap();
        let listed = n.list_dead_letters(&ws, 10).await.unwrap();
        assert_eq!(listed, vec![DeadLetter { id, ..letter }]);
        assert!(n.list_dead_letters(&other, 10).await.unwrap().is_empty());

        let t = Timestamp::from_millis(3000);
        assert!(
            n.use_link("abc", rec.id, t, t.plus_minutes(5))
                .await
                .unwrap()
        );
        assert!(
            !n.use_link("abc", rec.id, t, t.plus_minutes(5))
                .await
                .unwrap()
        );
        assert!(
            n.use_link("def", rec.id, t, t.plus_minutes(5))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn notify_store_on_sqlite() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        store.migrate().await.unwrap();
        check(&store).await;
    }

    #[tokio::test]
    async fn notify_store_on_postgres() {
        let Ok(url) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
            eprintln!("skipped: VIGIE_TEST_POSTGRES_URL is not set");
            return;
        };
        let schema = format!("notify_{}", std::process::id());
        let store = PostgresStore::connect_temporary(&url, &schema)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        check(&store).await;
    }
}
