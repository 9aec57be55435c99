//! What the scaled-out roles need from the store beyond [`Store`](crate::Store): claims that
//! make "new mention" answers stable under redelivery, detector checkpoints saved with
//! their bus position in one transaction, and retention (see `docs/operations/scaling.md`).

use crate::{StoreError, StoreResult};
use std::sync::Arc;
use vigie_model::{EnrichedMention, WatchId, WorkspaceId};

/// Rows per multi-row insert of claims (4 parameters each).
const CLAIM_CHUNK: usize = 1024;

/// One watch's saved detector state.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchState {
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Watch.
    pub watch: WatchId,
    /// The serialized monitor and incident tracker.
    pub state: serde_json::Value,
}

/// Store operations of the scale-out roles, implemented by both backends.
#[async_trait::async_trait]
pub trait ScaleStore: Send + Sync + std::fmt::Debug {
    /// Claims the mentions of the bus message `seq`: for each mention, whether this message
    /// is the first that carried its `(workspace, source, external_id)`. Asking again for
    /// the same `seq` (a redelivery) gives the same answers; within a batch, only the first
    /// occurrence of a key is new.
    async fn claim_mentions(&self, seq: u64, batch: &[EnrichedMention]) -> StoreResult<Vec<bool>>;

    /// Saves the states of a detector partition's watches and the next bus sequence it
    /// expects, in one transaction: a restart resumes exactly where the states were.
    async fn save_detector_checkpoint(
        &self,
        consumer: &str,
        next_seq: u64,
        states: &[WatchState],
    ) -> StoreResult<()>;

    /// The next bus sequence saved for `consumer`, if any.
    async fn load_detector_offset(&self, consumer: &str) -> StoreResult<Option<u64>>;

    /// Retention: deletes the mentions (and their watch links and claims) of `workspace`
    /// published before `before_ms`, at most `limit` at a time; returns how many went.
    async fn purge_mentions_before(
        &self,
        workspace: &WorkspaceId,
        before_ms: i64,
        limit: u32,
    ) -> StoreResult<u64>;
}

const CLAIM_HEAD: &str = "INSERT INTO bus_claims (workspace, source, external_id, seq) ";
const CLAIM_TAIL: &str = " ON CONFLICT (workspace, source, external_id) \
     DO UPDATE SET seq = bus_claims.seq RETURNING workspace, source, external_id, seq";
const SAVE_OFFSET: &str = "INSERT INTO bus_offsets (consumer, next_seq) VALUES ($1, $2) \
     ON CONFLICT (consumer) DO UPDATE SET next_seq = excluded.next_seq";
const LOAD_OFFSET: &str = "SELECT next_seq FROM bus_offsets WHERE consumer = $1";
const SAVE_STATE: &str = "INSERT INTO detector_states (workspace, watch, state) \
     VALUES ($1, $2, $3) ON CONFLICT (workspace, watch) DO UPDATE SET state = excluded.state";
const PURGE_MENTIONS: &str = "DELETE FROM mentions WHERE id IN (SELECT id FROM mentions \
     WHERE workspace = $1 AND published_at < $2 ORDER BY published_at LIMIT $3) \
     RETURNING source, external_id";
const PURGE_LINKS: &str = "DELETE FROM mention_watches WHERE mention_id IN (SELECT id FROM \
     mentions WHERE workspace = $1 AND published_at < $2 ORDER BY published_at LIMIT $3)";

type Key<'a> = (&'a str, &'a str, &'a str);

/// The distinct keys of a batch, in order, and for each mention whether it is the first
/// occurrence of its key.
fn distinct_keys(batch: &[EnrichedMention]) -> (Vec<Key<'_>>, Vec<bool>) {
    let mut seen = std::collections::HashSet::new();
    let mut keys = Vec::new();
    let first = batch
        .iter()
        .map(|em| {
            let key = (
                em.workspace.as_str(),
                em.mention.source.as_str(),
                em.mention.external_id.as_str(),
            );
            let new = seen.insert(key);
            if new {
                keys.push(key);
            }
            new
        })
        .collect();
    (keys, first)
}

fn to_seq(seq: u64) -> StoreResult<i64> {
    i64::try_from(seq).map_err(|_| StoreError::Invalid {
        what: "bus sequence",
        detail: format!("{seq} is too large"),
    })
}

macro_rules! impl_scale_store {
    ($store:ty, $db:ty) => {
        #[::async_trait::async_trait]
        impl ScaleStore for $store {
            async fn claim_mentions(
                &self,
                seq: u64,
                batch: &[EnrichedMention],
            ) -> StoreResult<Vec<bool>> {
                let op = StoreError::query("claim mentions");
                let seq = to_seq(seq)?;
                let (keys, first) = distinct_keys(batch);
                let mut owner = std::collections::HashMap::new();
                for chunk in keys.chunks(CLAIM_CHUNK) {
                    let mut qb = ::sqlx::QueryBuilder::<$db>::new(CLAIM_HEAD);
                    qb.push_values(chunk, |mut b, &(ws, source, id)| {
                        b.push_bind(ws)
                            .push_bind(source)
                            .push_bind(id)
                            .push_bind(seq);
                    });
                    qb.push(CLAIM_TAIL);
                    let rows: Vec<(String, String, String, i64)> = qb
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(op)?;
                    for (ws, source, id, claimed) in rows {
                        owner.insert((ws, source, id), claimed);
                    }
                }
                Ok(batch
                    .iter()
                    .zip(first)
                    .map(|(em, first)| {
                        let key = (
                            em.workspace.as_str().to_owned(),
                            em.mention.source.clone(),
                            em.mention.external_id.clone(),
                        );
                        first && owner.get(&key) == Some(&seq)
                    })
                    .collect())
            }

            async fn save_detector_checkpoint(
                &self,
                consumer: &str,
                next_seq: u64,
                states: &[WatchState],
            ) -> StoreResult<()> {
                let op = StoreError::query("save detector checkpoint");
                let next = to_seq(next_seq)?;
                let mut tx = self.pool.begin().await.map_err(op)?;
                for s in states {
                    ::sqlx::query(SAVE_STATE)
                        .bind(s.workspace.as_str())
                        .bind(s.watch.as_str())
                        .bind(::sqlx::types::Json(&s.state))
                        .execute(&mut *tx)
                        .await
                        .map_err(op)?;
                }
                ::sqlx::query(SAVE_OFFSET)
                    .bind(consumer)
                    .bind(next)
                    .execute(&mut *tx)
                    .await
                    .map_err(op)?;
                tx.commit().await.map_err(op)
            }

            async fn load_detector_offset(&self, consumer: &str) -> StoreResult<Option<u64>> {
                let row: Option<(i64,)> = ::sqlx::query_as(LOAD_OFFSET)
                    .bind(consumer)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::query("load detector offset"))?;
                Ok(row.map(|(n,)| u64::try_from(n).unwrap_or(0)))
            }

            async fn purge_mentions_before(
                &self,
                workspace: &WorkspaceId,
                before_ms: i64,
                limit: u32,
            ) -> StoreResult<u64> {
                let op = StoreError::query("purge mentions");
                let ws = workspace.as_str();
                let mut tx = self.pool.begin().await.map_err(op)?;
                ::sqlx::query(PURGE_LINKS)
                    .bind(ws)
                    .bind(before_ms)
                    .bind(i64::from(limit))
                    .execute(&mut *tx)
                    .await
                    .map_err(op)?;
                let gone: Vec<(String, String)> = ::sqlx::query_as(PURGE_MENTIONS)
                    .bind(ws)
                    .bind(before_ms)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(op)?;
                for chunk in gone.chunks(CLAIM_CHUNK) {
                    let mut qb = ::sqlx::QueryBuilder::<$db>::new(
                        "DELETE FROM bus_claims WHERE (workspace, source, external_id) IN (",
                    );
                    let mut sep = qb.separated(", ");
                    for (source, id) in chunk {
                        sep.push("(")
                            .push_bind_unseparated(ws)
                            .push_unseparated(", ")
                            .push_bind_unseparated(source.as_str())
                            .push_unseparated(", ")
                            .push_bind_unseparated(id.as_str())
                            .push_unseparated(")");
                    }
                    qb.push(")");
                    qb.build().execute(&mut *tx).await.map_err(op)?;
                }
                tx.commit().await.map_err(op)?;
                Ok(gone.len() as u64)
            }
        }
    };
}

impl_scale_store!(crate::SqliteStore, ::sqlx::Sqlite);
impl_scale_store!(crate::PostgresStore, ::sqlx::Postgres);

/// A store opened for the scale-out roles: the same object seen as [`Store`](crate::Store)
/// and as [`ScaleStore`].
#[derive(Debug, Clone)]
pub struct ScaleHandles {
    /// The ordinary store.
    pub store: Arc<dyn crate::Store>,
    /// Its scale-out operations.
    pub scale: Arc<dyn ScaleStore>,
}

/// Opens (and migrates) the store at `url_or_path` like [`open_store`](crate::open_store),
/// keeping both views of it.
pub async fn open_scale_store(url_or_path: &str) -> StoreResult<ScaleHandles> {
    use crate::{PostgresStore, SqliteStore, Store};
    if url_or_path.starts_with("postgres://") || url_or_path.starts_with("postgresql://") {
        let s = Arc::new(PostgresStore::connect(url_or_path).await?);
        s.migrate().await?;
        Ok(ScaleHandles {
            store: s.clone(),
            scale: s,
        })
    } else if url_or_path == "sqlite::memory:" || url_or_path == "sqlite://:memory:" {
        let s = Arc::new(SqliteStore::open_in_memory().await?);
        s.migrate().await?;
        Ok(ScaleHandles {
            store: s.clone(),
            scale: s,
        })
    } else {
        let path = url_or_path
            .strip_prefix("sqlite://")
            .or_else(|| url_or_path.strip_prefix("sqlite:"))
            .unwrap_or(url_or_path);
        let s = Arc::new(SqliteStore::open(std::path::Path::new(path)).await?);
        s.migrate().await?;
        Ok(ScaleHandles {
            store: s.clone(),
            scale: s,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::Store;

    fn mention(ws: &str, id: &str, published_ms: i64) -> EnrichedMention {
        let json = serde_json::json!({
            "source": "t", "external_id": id,
            "author": {"handle": "h"},
            "published_at": vigie_model::Timestamp::from_millis(published_ms).to_rfc3339(),
            "text": "grève à la gare"
        });
        let m: vigie_model::Mention = serde_json::from_value(json).unwrap();
        EnrichedMention {
            workspace: WorkspaceId::new(ws).unwrap(),
            mention: m,
            enrichment: vigie_model::Enrichment::default(),
        }
    }

    async fn exercise(h: ScaleHandles) {
        let batch = vec![
            mention("a", "1", 1000),
            mention("a", "2", 2000),
            mention("a", "1", 1000),
        ];
        // First delivery of message 7, then a redelivery: the same answers.
        assert_eq!(
            h.scale.claim_mentions(7, &batch).await.unwrap(),
            [true, true, false]
        );
        assert_eq!(
            h.scale.claim_mentions(7, &batch).await.unwrap(),
            [true, true, false]
        );
        // Another message carrying the same mentions (a replay upstream): nothing new.
        assert_eq!(
            h.scale.claim_mentions(9, &batch[..2]).await.unwrap(),
            [false, false]
        );

        let ws = WorkspaceId::new("a").unwrap();
        let watch = WatchId::new("brand").unwrap();
        assert_eq!(h.scale.load_detector_offset("p0").await.unwrap(), None);
        let states = [WatchState {
            workspace: ws.clone(),
            watch: watch.clone(),
            state: serde_json::json!({"n": 1}),
        }];
        h.scale
            .save_detector_checkpoint("p0", 42, &states)
            .await
            .unwrap();
        h.scale
            .save_detector_checkpoint("p0", 43, &states)
            .await
            .unwrap();
        assert_eq!(h.scale.load_detector_offset("p0").await.unwrap(), Some(43));
        assert_eq!(
            h.store.load_detector_state(&ws, &watch).await.unwrap(),
            Some(serde_json::json!({"n": 1}))
        );

        h.store.insert_mentions(&batch[..2]).await.unwrap();
        assert_eq!(
            h.scale.purge_mentions_before(&ws, 1500, 100).await.unwrap(),
            1
        );
        assert_eq!(h.store.count_mentions(&ws).await.unwrap(), 1);
        // The purged mention's claim went with it: it would be new again.
        assert_eq!(
            h.scale.claim_mentions(11, &batch[..1]).await.unwrap(),
            [true]
        );
    }

    #[tokio::test]
    async fn sqlite_scale_operations() {
        exercise(open_scale_store("sqlite::memory:").await.unwrap()).await;
    }

    #[tokio::test]
    async fn postgres_scale_operations() {
        let Ok(url) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
            eprintln!("skipped: VIGIE_TEST_POSTGRES_URL is not set");
            return;
        };
        let schema = format!("vigie_scale_unit_{}", std::process::id());
        let s = Arc::new(
            crate::PostgresStore::connect_temporary(&url, &schema)
                .await
                .unwrap(),
        );
        s.migrate().await.unwrap();
        exercise(ScaleHandles {
            store: s.clone(),
            scale: s,
        })
        .await;
    }
}
