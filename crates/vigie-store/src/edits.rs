//! Edits and deletions of stored mentions ([`EditStore`], implemented by both backends;
//! schema in migration 0004).
//!
//! A source may report that a mention it delivered was edited or deleted
//! ([`MentionChange`]). An edit replaces the stored text (and title, engagement); a deletion
//! turns the mention into a tombstone: text and title blanked, `deleted_at` set. Changes are
//! applied in source order per mention: one older than the last applied change is recorded
//! but ignored, and nothing brings a tombstone back. Every change is kept in
//! `mention_changes` with its outcome, for the audit trail.

use crate::StoreResult;
use async_trait::async_trait;
use serde::Serialize;
use vigie_model::{MentionChange, Timestamp, WorkspaceId};

/// What applying a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOutcome {
    /// The stored mention was updated (edit) or tombstoned (deletion).
    Applied,
    /// No such mention is stored (it was never matched, or not stored yet): recorded only.
    Unknown,
    /// Older than a change already applied, or an edit of a deleted mention: recorded only.
    Stale,
}

impl ChangeOutcome {
    /// `applied`, `unknown` or `stale`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Unknown => "unknown",
            Self::Stale => "stale",
        }
    }
}

/// One recorded change, as listed by [`EditStore::list_changes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeRecord {
    /// When the source says it happened.
    pub changed_at: Timestamp,
    /// `edited` or `deleted`.
    pub kind: String,
    /// The new text (edits).
    pub text: Option<String>,
    /// What applying it did.
    pub outcome: ChangeOutcome,
}

/// The edit/tombstone state of a stored mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MentionState {
    /// Last applied edit.
    pub edited_at: Option<Timestamp>,
    /// Deletion time, for a tombstone.
    pub deleted_at: Option<Timestamp>,
}

/// Edits and deletions of stored mentions.
#[async_trait]
pub trait EditStore: Send + Sync {
    /// Applies a change to the stored mention `(workspace, change.source, change.external_id)`
    /// and records it. One transaction.
    async fn apply_change(
        &self,
        workspace: &WorkspaceId,
        change: &MentionChange,
    ) -> StoreResult<ChangeOutcome>;

    /// Whether the mention is stored, and its edit/tombstone state.
    async fn mention_state(
        &self,
        workspace: &WorkspaceId,
        source: &str,
        external_id: &str,
    ) -> StoreResult<Option<MentionState>>;

    /// Every change recorded for a mention, oldest first.
    async fn list_changes(
        &self,
        workspace: &WorkspaceId,
        source: &str,
        external_id: &str,
    ) -> StoreResult<Vec<ChangeRecord>>;
}

pub(crate) fn parse_outcome(s: &str) -> ChangeOutcome {
    match s {
        "applied" => ChangeOutcome::Applied,
        "stale" => ChangeOutcome::Stale,
        _ => ChangeOutcome::Unknown,
    }
}

/// Applies a change to the stored JSON document of an enriched mention.
pub(crate) fn patch_doc(doc: &mut serde_json::Value, change: &MentionChange) {
    use vigie_model::ChangeKind;
    let Some(mention) = doc.get_mut("mention").and_then(|m| m.as_object_mut()) else {
        return;
    };
    match &change.kind {
        ChangeKind::Edited {
            text,
            title,
            engagement,
        } => {
            mention.insert("text".into(), serde_json::Value::String(text.clone()));
            if let Some(title) = title {
                mention.insert("title".into(), serde_json::Value::String(title.clone()));
            }
            if let Some(e) = engagement
                && let Ok(v) = serde_json::to_value(e)
            {
                mention.insert("engagement".into(), v);
            }
        }
        ChangeKind::Deleted => {
            mention.insert("text".into(), serde_json::Value::String(String::new()));
            mention.remove("title");
            mention.remove("url");
        }
        ChangeKind::Engaged { reposts, likes } => {
            let mut e: vigie_model::Engagement = mention
                .get("engagement")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            e.reposts = e.reposts.saturating_add(*reposts);
            e.likes = e.likes.saturating_add(*likes);
            if let Ok(v) = serde_json::to_value(e) {
                mention.insert("engagement".into(), v);
            }
        }
    }
}

/// Expands into `impl EditStore for $store`, using `self.pool` (same SQL for both databases).
macro_rules! impl_edit_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::edits::EditStore for $store {
            async fn apply_change(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                change: &::vigie_model::MentionChange,
            ) -> $crate::StoreResult<$crate::edits::ChangeOutcome> {
                use ::sqlx::types::Json;
                use $crate::edits::ChangeOutcome;
                use ::vigie_model::ChangeKind;
                let op = $crate::StoreError::query("apply mention change");
                let ws = workspace.as_str();
                let at = change.at.as_millis();
                let mut tx = self.pool.begin().await.map_err(op)?;
                let row: Option<(i64, Option<i64>, Option<i64>, Json<::serde_json::Value>)> =
                    ::sqlx::query_as(
                        "SELECT id, edited_at, deleted_at, doc FROM mentions \
                         WHERE workspace = $1 AND source = $2 AND external_id = $3",
                    )
                    .bind(ws)
                    .bind(&change.source)
                    .bind(&change.external_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(op)?;
                let outcome = match row {
                    None => ChangeOutcome::Unknown,
                    Some((_, _, Some(_), _)) => ChangeOutcome::Stale,
                    Some((_, Some(edited), None, _))
                        if edited > at
                            && matches!(change.kind, ChangeKind::Edited { .. }) =>
                    {
                        ChangeOutcome::Stale
                    }
                    Some((id, _, None, Json(mut doc))) => {
                        $crate::edits::patch_doc(&mut doc, change);
                        match &change.kind {
                            ChangeKind::Edited { text, .. } => {
                                ::sqlx::query(
                                    "UPDATE mentions SET text = $1, doc = $2, edited_at = $3 WHERE id = $4",
                                )
                                .bind(text)
                                .bind(Json(&doc))
                                .bind(at)
                                .bind(id)
                                .execute(&mut *tx)
                                .await
                                .map_err(op)?;
                            }
                            ChangeKind::Deleted => {
                                ::sqlx::query(
                                    "UPDATE mentions SET text = '', url = NULL, doc = $1, deleted_at = $2 WHERE id = $3",
                                )
                                .bind(Json(&doc))
                                .bind(at)
                                .bind(id)
                                .execute(&mut *tx)
                                .await
                                .map_err(op)?;
                            }
                            ChangeKind::Engaged { .. } => {
                                ::sqlx::query("UPDATE mentions SET doc = $1 WHERE id = $2")
                                    .bind(Json(&doc))
                                    .bind(id)
                                    .execute(&mut *tx)
                                    .await
                                    .map_err(op)?;
                            }
                        }
                        ChangeOutcome::Applied
                    }
                };
                let (kind, text, title) = match &change.kind {
                    ChangeKind::Edited { text, title, .. } => {
                        ("edited", Some(text.as_str()), title.as_deref())
                    }
                    ChangeKind::Deleted => ("deleted", None, None),
                    ChangeKind::Engaged { .. } => {
                        // Likes and reposts are too many to keep one row each.
                        tx.commit().await.map_err(op)?;
                        return Ok(outcome);
                    }
                };
                ::sqlx::query(
                    "INSERT INTO mention_changes \
                     (workspace, source, external_id, changed_at, kind, text, title, outcome) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(ws)
                .bind(&change.source)
                .bind(&change.external_id)
                .bind(at)
                .bind(kind)
                .bind(text)
                .bind(title)
                .bind(outcome.as_str())
                .execute(&mut *tx)
                .await
                .map_err(op)?;
                tx.commit().await.map_err(op)?;
                Ok(outcome)
            }

            async fn mention_state(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                source: &str,
                external_id: &str,
            ) -> $crate::StoreResult<Option<$crate::edits::MentionState>> {
                let row: Option<(Option<i64>, Option<i64>)> = ::sqlx::query_as(
                    "SELECT edited_at, deleted_at FROM mentions \
                     WHERE workspace = $1 AND source = $2 AND external_id = $3",
                )
                .bind(workspace.as_str())
                .bind(source)
                .bind(external_id)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::StoreError::query("read mention state"))?;
                Ok(row.map(|(e, d)| $crate::edits::MentionState {
                    edited_at: e.map(::vigie_model::Timestamp::from_millis),
                    deleted_at: d.map(::vigie_model::Timestamp::from_millis),
                }))
            }

            async fn list_changes(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                source: &str,
                external_id: &str,
            ) -> $crate::StoreResult<Vec<$crate::edits::ChangeRecord>> {
                let rows: Vec<(i64, String, Option<String>, String)> = ::sqlx::query_as(
                    "SELECT changed_at, kind, text, outcome FROM mention_changes \
                     WHERE workspace = $1 AND source = $2 AND external_id = $3 \
                     ORDER BY changed_at, id",
                )
                .bind(workspace.as_str())
                .bind(source)
                .bind(external_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::StoreError::query("list mention changes"))?;
                Ok(rows
                    .into_iter()
                    .map(|(at, kind, text, outcome)| $crate::edits::ChangeRecord {
                        changed_at: ::vigie_model::Timestamp::from_millis(at),
                        kind,
                        text,
                        outcome: $crate::edits::parse_outcome(&outcome),
                    })
                    .collect())
            }
        }
    };
}

pub(crate) use impl_edit_store;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::conformance::sample_mention;
    use crate::{MentionFilter, PostgresStore, SqliteStore, Store};
    use vigie_model::{ChangeKind, Engagement};

    fn edit(id: &str, at: i64, text: &str) -> MentionChange {
        MentionChange {
            source: "mastodon".into(),
            external_id: id.into(),
            at: Timestamp::from_millis(at),
            kind: ChangeKind::Edited {
                text: text.into(),
                title: None,
                engagement: Some(Engagement {
                    likes: 7,
                    ..Engagement::default()
                }),
            },
        }
    }

    async fn edits_and_tombstones(store: &dyn Store) {
        let ws = WorkspaceId::new("acme").unwrap();
        let other = WorkspaceId::new("other").unwrap();
        let batch: Vec<_> = (1..=3).map(|i| sample_mention(&ws, i)).collect();
        store.insert_mentions(&batch).await.unwrap();
        let e = store.edits();

        // An edit replaces the text, in the column and in the document.
        assert_eq!(
            e.apply_change(&ws, &edit("m1", 5_000, "texte corrigé"))
                .await
                .unwrap(),
            ChangeOutcome::Applied
        );
        let page = store
            .list_mentions(&MentionFilter::workspace(ws.clone()))
            .await
            .unwrap();
        let m1 = page
            .items
            .iter()
            .find(|m| m.mention.mention.external_id == "m1")
            .unwrap();
        assert_eq!(m1.mention.mention.text, "texte corrigé");
        assert_eq!(m1.mention.mention.engagement.likes, 7);
        // An older edit arriving late is recorded but does not win.
        assert_eq!(
            e.apply_change(&ws, &edit("m1", 4_000, "ancien"))
                .await
                .unwrap(),
            ChangeOutcome::Stale
        );
        // Another workspace's mention of the same id is not touched.
        assert_eq!(
            e.apply_change(&other, &edit("m1", 6_000, "x"))
                .await
                .unwrap(),
            ChangeOutcome::Unknown
        );
        // A deletion tombstones; nothing edits it back.
        let del = MentionChange::deleted("mastodon", "m2", Timestamp::from_millis(9_000));
        assert_eq!(
            e.apply_change(&ws, &del).await.unwrap(),
            ChangeOutcome::Applied
        );
        assert_eq!(
            e.apply_change(&ws, &edit("m2", 10_000, "revenu"))
                .await
                .unwrap(),
            ChangeOutcome::Stale
        );
        let state = e
            .mention_state(&ws, "mastodon", "m2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(state.deleted_at, Some(Timestamp::from_millis(9_000)));
        let page = store
            .list_mentions(&MentionFilter::workspace(ws.clone()))
            .await
            .unwrap();
        let m2 = page
            .items
            .iter()
            .find(|m| m.mention.mention.external_id == "m2")
            .unwrap();
        assert_eq!(m2.mention.mention.text, "");
        assert_eq!(
            store.count_mentions(&ws).await.unwrap(),
            3,
            "a tombstone still counts"
        );
        // Likes and reposts add up.
        let like = MentionChange {
            source: "mastodon".into(),
            external_id: "m3".into(),
            at: Timestamp::from_millis(1),
            kind: ChangeKind::Engaged {
                reposts: 1,
                likes: 2,
            },
        };
        assert_eq!(
            e.apply_change(&ws, &like).await.unwrap(),
            ChangeOutcome::Applied
        );
        assert_eq!(
            e.apply_change(&ws, &like).await.unwrap(),
            ChangeOutcome::Applied
        );
        let page = store
            .list_mentions(&MentionFilter::workspace(ws.clone()))
            .await
            .unwrap();
        let m3 = page
            .items
            .iter()
            .find(|m| m.mention.mention.external_id == "m3")
            .unwrap();
        let base = sample_mention(&ws, 3).mention.engagement;
        assert_eq!(m3.mention.mention.engagement.likes, base.likes + 4);
        assert_eq!(m3.mention.mention.engagement.reposts, base.reposts + 2);
        assert!(
            e.list_changes(&ws, "mastodon", "m3")
                .await
                .unwrap()
                .is_empty()
        );
        // Unknown mentions: recorded only.
        let ghost = MentionChange::deleted("mastodon", "nope", Timestamp::from_millis(1));
        assert_eq!(
            e.apply_change(&ws, &ghost).await.unwrap(),
            ChangeOutcome::Unknown
        );
        let history = e.list_changes(&ws, "mastodon", "m1").await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].outcome, ChangeOutcome::Stale);
        assert_eq!(history[1].outcome, ChangeOutcome::Applied);
        assert_eq!(history[1].text.as_deref(), Some("texte corrigé"));
        assert!(
            e.mention_state(&ws, "mastodon", "nope")
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn sqlite_edits_and_tombstones() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        store.migrate().await.unwrap();
        edits_and_tombstones(&store).await;
    }

    #[tokio::test]
    async fn postgres_edits_and_tombstones() {
        let Ok(url) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
            eprintln!("skipped: VIGIE_TEST_POSTGRES_URL is not set");
            return;
        };
        let store = PostgresStore::connect_temporary(
            &url,
            &format!("vigie_test_edits_{}", std::process::id()),
        )
        .await
        .unwrap();
        store.migrate().await.unwrap();
        edits_and_tombstones(&store).await;
    }
}
