//! Storage for "responding together" (issue #7): scenarios edited through the API, crisis
//! rooms, tasks, drafts, inbox items, and the append-only audit log.
//!
//! Rooms, tasks, drafts and inbox items are JSON documents owned by `vigie-respond`, kept in
//! one table (`respond_records`) with the columns the queries need (kind, room, status, an
//! optional unique key). Every change goes into the same transaction as its audit line, so
//! the log never misses a step. The audit table refuses `UPDATE` and `DELETE` in the database
//! itself (triggers in migration 0006, on both backends): nothing in Vigie, not even a bug,
//! can rewrite history.

use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigie_model::{Timestamp, WorkspaceId};

/// What a [`RespondRecord`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A crisis room (opened when a scenario is activated).
    Room,
    /// A checklist task of a room.
    Task,
    /// A draft reply or statement.
    Draft,
    /// A mention that needs an answer.
    InboxItem,
}

impl RecordKind {
    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Room => "room",
            Self::Task => "task",
            Self::Draft => "draft",
            Self::InboxItem => "inbox_item",
        }
    }
}

/// One stored room, task, draft or inbox item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RespondRecord {
    /// Store-assigned id (unique across kinds).
    pub id: i64,
    /// Workspace.
    pub workspace: WorkspaceId,
    /// What it is.
    pub kind: RecordKind,
    /// The crisis room it belongs to, if any.
    pub room: Option<i64>,
    /// A caller key unique per workspace and kind (an inbox item's mention), if any.
    pub key: Option<String>,
    /// Status (the document's own status, copied for filtering).
    pub status: String,
    /// The document.
    pub doc: Value,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A scenario stored through the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRecord {
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Scenario id (slug).
    pub id: String,
    /// The scenario document.
    pub doc: Value,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// One line of the audit log, before it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// Workspace.
    pub workspace: WorkspaceId,
    /// The crisis room concerned, if any.
    pub room: Option<i64>,
    /// When.
    pub at: Timestamp,
    /// Who (a user name, or `vigie` for automatic steps).
    pub actor: String,
    /// What (`room.opened`, `draft.approved`, …).
    pub action: String,
    /// The kind of thing changed (`room`, `draft`, `scenario`, …).
    pub subject_kind: String,
    /// Its id; for an insert, filled in with the new id when `None`.
    pub subject_id: Option<String>,
    /// The document before the change (`None` for a creation).
    pub before: Option<Value>,
    /// The document after the change (`None` for a deletion).
    pub after: Option<Value>,
}

/// One stored line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log (increasing).
    pub id: i64,
    /// What was recorded.
    #[serde(flatten)]
    pub entry: NewAuditEntry,
}

/// Persistence of scenarios, rooms, tasks, drafts, inbox items and the audit log. Every
/// method is scoped by workspace; every change is written with its audit line in one
/// transaction.
#[async_trait]
pub trait RespondStore: Send + Sync {
    /// Inserts or replaces a scenario.
    async fn put_scenario(
        &self,
        workspace: &WorkspaceId,
        id: &str,
        doc: &Value,
        audit: &NewAuditEntry,
    ) -> StoreResult<()>;

    /// Deletes a scenario; `false` when there was none.
    async fn delete_scenario(
        &self,
        workspace: &WorkspaceId,
        id: &str,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool>;

    /// Scenarios of a workspace, by id.
    async fn list_scenarios(&self, workspace: &WorkspaceId) -> StoreResult<Vec<ScenarioRecord>>;

    /// Inserts a record. With a `key`, a second insert of the same key (same workspace and
    /// kind) stores nothing and returns `None`.
    #[allow(clippy::too_many_arguments)]
    async fn insert_record(
        &self,
        kind: RecordKind,
        workspace: &WorkspaceId,
        room: Option<i64>,
        key: Option<&str>,
        status: &str,
        doc: &Value,
        audit: &NewAuditEntry,
    ) -> StoreResult<Option<i64>>;

    /// Replaces the status and document of a record. An unknown id (in this workspace and
    /// kind) is [`StoreError::Invalid`] and writes nothing.
    async fn update_record(
        &self,
        kind: RecordKind,
        workspace: &WorkspaceId,
        id: i64,
        status: &str,
        doc: &Value,
        audit: &NewAuditEntry,
    ) -> StoreResult<()>;

    /// One record.
    async fn get_record(
        &self,
        kind: RecordKind,
        workspace: &WorkspaceId,
        id: i64,
    ) -> StoreResult<Option<RespondRecord>>;

    /// Records of a kind (optionally of one room), oldest first.
    async fn list_records(
        &self,
        kind: RecordKind,
        workspace: &WorkspaceId,
        room: Option<i64>,
    ) -> StoreResult<Vec<RespondRecord>>;

    /// Appends a line to the audit log; returns its id.
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<i64>;

    /// The audit log of a workspace (optionally one room), oldest first, at most `limit`
    /// lines after `after_id` (exclusive).
    async fn list_audit(
        &self,
        workspace: &WorkspaceId,
        room: Option<i64>,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;

    /// The end of the last period sent for a workspace's digest (`daily`, `weekly`), if any.
    async fn last_digest_sent(
        &self,
        workspace: &WorkspaceId,
        digest: &str,
    ) -> StoreResult<Option<Timestamp>>;

    /// Records that the period ending at `period_end` was sent. Only moves forward: an older
    /// or equal period changes nothing and returns `false`.
    async fn record_digest_sent(
        &self,
        workspace: &WorkspaceId,
        digest: &str,
        period_end: Timestamp,
        sent_at: Timestamp,
    ) -> StoreResult<bool>;

    /// Gives back a period claimed with [`RespondStore::record_digest_sent`] whose sending
    /// failed: the record returns to `previous` (removed when `None`), only if it still holds
    /// `claimed`. Returns whether it changed.
    async fn release_digest(
        &self,
        workspace: &WorkspaceId,
        digest: &str,
        claimed: Timestamp,
        previous: Option<Timestamp>,
    ) -> StoreResult<bool>;
}

const LAST_DIGEST: &str =
    "SELECT period_end FROM digest_sends WHERE workspace = $1 AND digest = $2";
const RECORD_DIGEST: &str = "INSERT INTO digest_sends (workspace, digest, period_end, sent_at) \
    VALUES ($1, $2, $3, $4) ON CONFLICT (workspace, digest) DO UPDATE \
    SET period_end = excluded.period_end, sent_at = excluded.sent_at \
    WHERE digest_sends.period_end < excluded.period_end";
const RELEASE_DIGEST: &str = "UPDATE digest_sends SET period_end = $4 \
    WHERE workspace = $1 AND digest = $2 AND period_end = $3";
const FORGET_DIGEST: &str =
    "DELETE FROM digest_sends WHERE workspace = $1 AND digest = $2 AND period_end = $3";

/// `id, workspace, kind, room_id, key, status, doc, created_at, updated_at`.
type RecordRow = (
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
    String,
    crate::rows::JsonDoc,
    i64,
    i64,
);

/// `id, workspace, room_id, at, actor, action, subject_kind, subject_id, before, after`.
type AuditRow = (
    i64,
    String,
    Option<i64>,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<crate::rows::JsonDoc>,
    Option<crate::rows::JsonDoc>,
);

const RECORD_COLUMNS: &str = "SELECT id, workspace, kind, room_id, key, status, doc, created_at, updated_at FROM respond_records";
const AUDIT_COLUMNS: &str = "SELECT id, workspace, room_id, at, actor, action, subject_kind, subject_id, before_doc, after_doc FROM respond_audit";
const INSERT_AUDIT: &str = "INSERT INTO respond_audit (workspace, room_id, at, actor, action, subject_kind, subject_id, before_doc, after_doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";

fn parse_kind(s: &str) -> StoreResult<RecordKind> {
    Ok(match s {
        "room" => RecordKind::Room,
        "task" => RecordKind::Task,
        "draft" => RecordKind::Draft,
        "inbox_item" => RecordKind::InboxItem,
        other => {
            return Err(StoreError::Corrupt {
                what: "respond record kind",
                detail: format!("unknown kind {other:?}"),
            });
        }
    })
}

fn workspace_of(raw: String) -> StoreResult<WorkspaceId> {
    WorkspaceId::new(raw.clone()).map_err(|e| StoreError::Corrupt {
        what: "workspace id",
        detail: format!("{raw:?}: {e}"),
    })
}

fn record_from_row(row: RecordRow) -> StoreResult<RespondRecord> {
    let (id, ws, kind, room, key, status, doc, created, updated) = row;
    Ok(RespondRecord {
        id,
        workspace: workspace_of(ws)?,
        kind: parse_kind(&kind)?,
        room,
        key,
        status,
        doc: doc.0,
        created_at: Timestamp::from_millis(created),
        updated_at: Timestamp::from_millis(updated),
    })
}

fn audit_from_row(row: AuditRow) -> StoreResult<AuditEntry> {
    let (id, ws, room, at, actor, action, subject_kind, subject_id, before, after) = row;
    Ok(AuditEntry {
        id,
        entry: NewAuditEntry {
            workspace: workspace_of(ws)?,
            room,
            at: Timestamp::from_millis(at),
            actor,
            action,
            subject_kind,
            subject_id,
            before: before.map(|d| d.0),
            after: after.map(|d| d.0),
        },
    })
}

/// Expands into `impl RespondStore for $store`, using `self.pool` of type `sqlx::Pool<$db>`.
macro_rules! impl_respond_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn write_audit(
                conn: &mut <$db as ::sqlx::Database>::Connection,
                entry: &NewAuditEntry,
                subject_id: Option<String>,
                room: Option<i64>,
            ) -> Result<i64, ::sqlx::Error> {
                use ::sqlx::types::Json;
                let (id,): (i64,) = ::sqlx::query_as(INSERT_AUDIT)
                    .bind(entry.workspace.as_str())
                    .bind(entry.room.or(room))
                    .bind(entry.at.as_millis())
                    .bind(&entry.actor)
                    .bind(&entry.action)
                    .bind(&entry.subject_kind)
                    .bind(subject_id.or_else(|| entry.subject_id.clone()))
                    .bind(entry.before.as_ref().map(Json))
                    .bind(entry.after.as_ref().map(Json))
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(id)
            }
        }

        #[async_trait]
        impl RespondStore for $store {
            async fn put_scenario(
                &self,
                workspace: &WorkspaceId,
                id: &str,
                doc: &Value,
                audit: &NewAuditEntry,
            ) -> StoreResult<()> {
                let op = StoreError::query("put scenario");
                let mut tx = self.pool.begin().await.map_err(op)?;
                ::sqlx::query(
                    "INSERT INTO respond_scenarios (workspace, id, doc, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (workspace, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
                )
                .bind(workspace.as_str())
                .bind(id)
                .bind(::sqlx::types::Json(doc))
                .bind(audit.at.as_millis())
                .execute(&mut *tx)
                .await
                .map_err(op)?;
                Self::write_audit(&mut tx, audit, None, None).await.map_err(op)?;
                tx.commit().await.map_err(op)
            }

            async fn delete_scenario(
                &self,
                workspace: &WorkspaceId,
                id: &str,
                audit: &NewAuditEntry,
            ) -> StoreResult<bool> {
                let op = StoreError::query("delete scenario");
                let mut tx = self.pool.begin().await.map_err(op)?;
                let done = ::sqlx::query("DELETE FROM respond_scenarios WHERE workspace = $1 AND id = $2")
                    .bind(workspace.as_str())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(op)?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                Self::write_audit(&mut tx, audit, None, None).await.map_err(op)?;
                tx.commit().await.map_err(op)?;
                Ok(true)
            }

            async fn list_scenarios(
                &self,
                workspace: &WorkspaceId,
            ) -> StoreResult<Vec<ScenarioRecord>> {
                let rows: Vec<(String, crate::rows::JsonDoc, i64)> = ::sqlx::query_as(
                    "SELECT id, doc, updated_at FROM respond_scenarios WHERE workspace = $1 ORDER BY id",
                )
                .bind(workspace.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::query("list scenarios"))?;
                Ok(rows
                    .into_iter()
                    .map(|(id, doc, updated)| ScenarioRecord {
                        workspace: workspace.clone(),
                        id,
                        doc: doc.0,
                        updated_at: Timestamp::from_millis(updated),
                    })
                    .collect())
            }

            async fn insert_record(
                &self,
                kind: RecordKind,
                workspace: &WorkspaceId,
                room: Option<i64>,
                key: Option<&str>,
                status: &str,
                doc: &Value,
                audit: &NewAuditEntry,
            ) -> StoreResult<Option<i64>> {
                let op = StoreError::query("insert respond record");
                let mut tx = self.pool.begin().await.map_err(op)?;
                let row: Option<(i64,)> = ::sqlx::query_as(
                    "INSERT INTO respond_records (workspace, kind, room_id, key, status, doc, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING RETURNING id",
                )
                .bind(workspace.as_str())
                .bind(kind.as_str())
                .bind(room)
                .bind(key)
                .bind(status)
                .bind(::sqlx::types::Json(doc))
                .bind(audit.at.as_millis())
                .fetch_optional(&mut *tx)
                .await
                .map_err(op)?;
                let Some((id,)) = row else {
                    return Ok(None);
                };
                // A new room's own audit line belongs to the room.
                let room_of_line = (kind == RecordKind::Room).then_some(id);
                Self::write_audit(&mut tx, audit, Some(id.to_string()), room_of_line)
                    .await
                    .map_err(op)?;
                tx.commit().await.map_err(op)?;
                Ok(Some(id))
            }

            async fn update_record(
                &self,
                kind: RecordKind,
                workspace: &WorkspaceId,
                id: i64,
                status: &str,
                doc: &Value,
                audit: &NewAuditEntry,
            ) -> StoreResult<()> {
                let op = StoreError::query("update respond record");
                let mut tx = self.pool.begin().await.map_err(op)?;
                let done = ::sqlx::query(
                    "UPDATE respond_records SET status = $1, doc = $2, updated_at = $3 \
                     WHERE id = $4 AND workspace = $5 AND kind = $6",
                )
                .bind(status)
                .bind(::sqlx::types::Json(doc))
                .bind(audit.at.as_millis())
                .bind(id)
                .bind(workspace.as_str())
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await
                .map_err(op)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Invalid {
                        what: "respond record",
                        detail: format!("no {} {id} in workspace {workspace}", kind.as_str()),
                    });
                }
                let room_of_line = (kind == RecordKind::Room).then_some(id);
                Self::write_audit(&mut tx, audit, Some(id.to_string()), room_of_line)
                    .await
                    .map_err(op)?;
                tx.commit().await.map_err(op)
            }

            async fn get_record(
                &self,
                kind: RecordKind,
                workspace: &WorkspaceId,
                id: i64,
            ) -> StoreResult<Option<RespondRecord>> {
                let mut qb = ::sqlx::QueryBuilder::<$db>::new(RECORD_COLUMNS);
                qb.push(" WHERE workspace = ")
                    .push_bind(workspace.as_str())
                    .push(" AND kind = ")
                    .push_bind(kind.as_str())
                    .push(" AND id = ")
                    .push_bind(id);
                let row: Option<RecordRow> = qb
                    .build_query_as()
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::query("get respond record"))?;
                row.map(record_from_row).transpose()
            }

            async fn list_records(
                &self,
                kind: RecordKind,
                workspace: &WorkspaceId,
                room: Option<i64>,
            ) -> StoreResult<Vec<RespondRecord>> {
                let mut qb = ::sqlx::QueryBuilder::<$db>::new(RECORD_COLUMNS);
                qb.push(" WHERE workspace = ")
                    .push_bind(workspace.as_str())
                    .push(" AND kind = ")
                    .push_bind(kind.as_str());
                if let Some(room) = room {
                    qb.push(" AND room_id = ").push_bind(room);
                }
                qb.push(" ORDER BY id");
                let rows: Vec<RecordRow> = qb
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::query("list respond records"))?;
                rows.into_iter().map(record_from_row).collect()
            }

            async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<i64> {
                let op = StoreError::query("append audit");
                let mut conn = self.pool.acquire().await.map_err(op)?;
                Self::write_audit(&mut conn, entry, None, None).await.map_err(op)
            }

            async fn list_audit(
                &self,
                workspace: &WorkspaceId,
                room: Option<i64>,
                after_id: i64,
                limit: u32,
            ) -> StoreResult<Vec<AuditEntry>> {
                let mut qb = ::sqlx::QueryBuilder::<$db>::new(AUDIT_COLUMNS);
                qb.push(" WHERE workspace = ")
                    .push_bind(workspace.as_str())
                    .push(" AND id > ")
                    .push_bind(after_id);
                if let Some(room) = room {
                    qb.push(" AND room_id = ").push_bind(room);
                }
                qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit.min(10_000)));
                let rows: Vec<AuditRow> = qb
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::query("list audit"))?;
                rows.into_iter().map(audit_from_row).collect()
            }

            async fn last_digest_sent(
                &self,
                workspace: &WorkspaceId,
                digest: &str,
            ) -> StoreResult<Option<Timestamp>> {
                let row: Option<(i64,)> = ::sqlx::query_as(LAST_DIGEST)
                    .bind(workspace.as_str())
                    .bind(digest)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::query("last digest sent"))?;
                Ok(row.map(|(t,)| Timestamp::from_millis(t)))
            }

            async fn record_digest_sent(
                &self,
                workspace: &WorkspaceId,
                digest: &str,
                period_end: Timestamp,
                sent_at: Timestamp,
            ) -> StoreResult<bool> {
                let done = ::sqlx::query(RECORD_DIGEST)
                    .bind(workspace.as_str())
                    .bind(digest)
                    .bind(period_end.as_millis())
                    .bind(sent_at.as_millis())
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::query("record digest sent"))?;
                Ok(done.rows_affected() == 1)
            }

            async fn release_digest(
                &self,
                workspace: &WorkspaceId,
                digest: &str,
                claimed: Timestamp,
                previous: Option<Timestamp>,
            ) -> StoreResult<bool> {
                let q = match previous {
                    Some(p) => ::sqlx::query(RELEASE_DIGEST)
                        .bind(workspace.as_str())
                        .bind(digest)
                        .bind(claimed.as_millis())
                        .bind(p.as_millis()),
                    None => ::sqlx::query(FORGET_DIGEST)
                        .bind(workspace.as_str())
                        .bind(digest)
                        .bind(claimed.as_millis()),
                };
                let done = q
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::query("release digest"))?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

impl_respond_store!(crate::SqliteStore, ::sqlx::Sqlite);
impl_respond_store!(crate::PostgresStore, ::sqlx::Postgres);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::{PostgresStore, SqliteStore, Store};

    fn ws() -> WorkspaceId {
        WorkspaceId::new("acme").unwrap()
    }

    fn audit(action: &str, at: i64) -> NewAuditEntry {
        NewAuditEntry {
            workspace: ws(),
            room: None,
            at: Timestamp::from_millis(at),
            actor: "alice".into(),
            action: action.into(),
            subject_kind: "draft".into(),
            subject_id: None,
            before: None,
            after: Some(serde_json::json!({"text": "hello"})),
        }
    }

    /// The behaviour both backends must share.
    async fn suite(store: &dyn RespondStore) {
        let doc = serde_json::json!({"text": "hello"});
        let id = store
            .insert_record(
                RecordKind::Draft,
                &ws(),
                Some(7),
                None,
                "draft",
                &doc,
                &audit("draft.created", 1),
            )
            .await
            .unwrap()
            .unwrap();
        let got = store
            .get_record(RecordKind::Draft, &ws(), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.doc, doc);
        assert_eq!(got.room, Some(7));
        assert_eq!(got.status, "draft");
        // Wrong kind or workspace: nothing.
        assert!(
            store
                .get_record(RecordKind::Task, &ws(), id)
                .await
                .unwrap()
                .is_none()
        );
        let other = WorkspaceId::new("globex").unwrap();
        assert!(
            store
                .get_record(RecordKind::Draft, &other, id)
                .await
                .unwrap()
                .is_none()
        );

        let doc2 = serde_json::json!({"text": "hello, sorry"});
        store
            .update_record(
                RecordKind::Draft,
                &ws(),
                id,
                "approved",
                &doc2,
                &audit("draft.approved", 2),
            )
            .await
            .unwrap();
        let got = store
            .get_record(RecordKind::Draft, &ws(), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((got.status.as_str(), &got.doc), ("approved", &doc2));
        assert_eq!(got.updated_at, Timestamp::from_millis(2));
        // Unknown id: a client error, and no audit line.
        let err = store
            .update_record(
                RecordKind::Draft,
                &ws(),
                id + 100,
                "x",
                &doc2,
                &audit("nope", 3),
            )
            .await
            .unwrap_err();
        assert!(err.is_client_error());

        // Keys are unique per workspace and kind.
        let k1 = store
            .insert_record(
                RecordKind::InboxItem,
                &ws(),
                None,
                Some("m:1"),
                "new",
                &doc,
                &audit("inbox.added", 4),
            )
            .await
            .unwrap();
        assert!(k1.is_some());
        let k2 = store
            .insert_record(
                RecordKind::InboxItem,
                &ws(),
                None,
                Some("m:1"),
                "new",
                &doc,
                &audit("inbox.added", 5),
            )
            .await
            .unwrap();
        assert_eq!(k2, None);
        assert_eq!(
            store
                .list_records(RecordKind::InboxItem, &ws(), None)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .list_records(RecordKind::Draft, &ws(), Some(7))
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .list_records(RecordKind::Draft, &ws(), Some(8))
                .await
                .unwrap()
                .len(),
            0
        );

        // Scenarios.
        let s = serde_json::json!({"id": "outage"});
        store
            .put_scenario(&ws(), "outage", &s, &audit("scenario.saved", 6))
            .await
            .unwrap();
        store
            .put_scenario(&ws(), "outage", &s, &audit("scenario.saved", 7))
            .await
            .unwrap();
        assert_eq!(store.list_scenarios(&ws()).await.unwrap().len(), 1);
        assert!(
            store
                .delete_scenario(&ws(), "outage", &audit("scenario.deleted", 8))
                .await
                .unwrap()
        );
        assert!(
            !store
                .delete_scenario(&ws(), "outage", &audit("scenario.deleted", 9))
                .await
                .unwrap()
        );

        // The audit log has one line per successful change, in order, with ids filled in.
        let log = store.list_audit(&ws(), None, 0, 100).await.unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.entry.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "draft.created",
                "draft.approved",
                "inbox.added",
                "scenario.saved",
                "scenario.saved",
                "scenario.deleted"
            ]
        );
        assert_eq!(
            log[0].entry.subject_id.as_deref(),
            Some(id.to_string().as_str())
        );
        assert_eq!(
            log[1].entry.after,
            Some(serde_json::json!({"text": "hello"}))
        );
        // Digest periods only move forward, per workspace and digest.
        let t = |ms| Timestamp::from_millis(ms);
        assert_eq!(store.last_digest_sent(&ws(), "daily").await.unwrap(), None);
        assert!(
            store
                .record_digest_sent(&ws(), "daily", t(2000), t(2100))
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_digest_sent(&ws(), "daily", t(1000), t(2200))
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_digest_sent(&ws(), "daily", t(2000), t(2300))
                .await
                .unwrap()
        );
        assert_eq!(
            store.last_digest_sent(&ws(), "daily").await.unwrap(),
            Some(t(2000))
        );
        assert!(
            store
                .record_digest_sent(&ws(), "daily", t(3000), t(3100))
                .await
                .unwrap()
        );
        assert_eq!(
            store.last_digest_sent(&ws(), "daily").await.unwrap(),
            Some(t(3000))
        );
        // A claim whose e-mail failed is given back, only by the one that holds it.
        assert!(
            !store
                .release_digest(&ws(), "daily", t(2000), Some(t(1000)))
                .await
                .unwrap()
        );
        assert!(
            store
                .release_digest(&ws(), "daily", t(3000), Some(t(2000)))
                .await
                .unwrap()
        );
        assert_eq!(
            store.last_digest_sent(&ws(), "daily").await.unwrap(),
            Some(t(2000))
        );
        assert!(
            store
                .record_digest_sent(&ws(), "weekly", t(5000), t(5100))
                .await
                .unwrap()
        );
        assert!(
            store
                .release_digest(&ws(), "weekly", t(5000), None)
                .await
                .unwrap()
        );
        assert_eq!(store.last_digest_sent(&ws(), "weekly").await.unwrap(), None);
        assert_eq!(store.last_digest_sent(&other, "daily").await.unwrap(), None);
        let tail = store.list_audit(&ws(), None, log[3].id, 100).await.unwrap();
        assert_eq!(tail.len(), 2);
        assert!(
            store
                .list_audit(&other, None, 0, 100)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn sqlite_respond_store_and_append_only_audit() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        store.migrate().await.unwrap();
        suite(&store).await;
        assert!(store.respond().is_some());
        // The database itself refuses to rewrite or remove audit lines.
        let err = sqlx::query("UPDATE respond_audit SET actor = 'mallory'")
            .execute(&store.pool)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        let err = sqlx::query("DELETE FROM respond_audit")
            .execute(&store.pool)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        let log = store.list_audit(&ws(), None, 0, 100).await.unwrap();
        assert_eq!(log.len(), 6);
        assert!(log.iter().all(|e| e.entry.actor == "alice"));
    }

    #[tokio::test]
    async fn postgres_respond_store_and_append_only_audit() {
        let Ok(url) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
            eprintln!("skipped: set VIGIE_TEST_POSTGRES_URL to run the PostgreSQL respond tests");
            return;
        };
        let schema = format!("respond_{}", std::process::id());
        let store = PostgresStore::connect_temporary(&url, &schema)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        suite(&store).await;
        for sql in [
            "UPDATE respond_audit SET actor = 'mallory'",
            "DELETE FROM respond_audit",
            "TRUNCATE respond_audit",
        ] {
            let err = sqlx::query(sql).execute(&store.pool).await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        assert_eq!(
            store.list_audit(&ws(), None, 0, 100).await.unwrap().len(),
            6
        );
    }
}
