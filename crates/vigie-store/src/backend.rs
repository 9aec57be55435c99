//! The [`Store`](crate::Store) implementation shared by both backends.
//!
//! SQLite and PostgreSQL run the very same SQL here: `$N` placeholders, `ON CONFLICT … DO
//! NOTHING/UPDATE`, `RETURNING` and row-value comparisons mean the same in both. Only the
//! driver types differ (`Pool<Sqlite>` vs `Pool<Postgres>`), and sqlx without its `any`
//! driver has no runtime-polymorphic pool, while a generic function over `sqlx::Database`
//! needs a wall of higher-ranked bounds. So the implementation is written once, as a macro
//! expanded for each backend type; the DDL differences live in the migrations.
//!
//! The store type must have a field `pool: sqlx::Pool<$db>`.

/// Rows per multi-row `INSERT` of mentions (17 bind parameters each, well under the
/// 32 766 parameters SQLite accepts and the 65 535 of PostgreSQL). Measured on SQLite with
/// batches of 256 (debug build, shared 2-core host): 1 row per statement ≈ 4 900 mentions/s,
/// 64 ≈ 13 000, 128 ≈ 13 500, 256 ≈ 8 000–11 000.
pub(crate) const MENTION_CHUNK: usize = 128;

/// Rows per multi-row `INSERT` into `mention_watches` (4 parameters each).
pub(crate) const LINK_CHUNK: usize = 2048;

/// Expands into `impl Store for $store`, using `self.pool` of type `sqlx::Pool<$db>`.
macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:literal, $migrator:path) => {
        #[::async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            fn respond(&self) -> Option<&dyn $crate::RespondStore> {
                Some(self)
            }

            fn notify(&self) -> Option<&dyn $crate::NotifyStore> {
                Some(self)
            }

            fn accounts(&self) -> &dyn $crate::AccountStore {
                self
            }

            fn edits(&self) -> &dyn $crate::EditStore {
                self
            }

            async fn migrate(&self) -> $crate::StoreResult<()> {
                $migrator().run(&self.pool).await?;
                Ok(())
            }

            async fn sync_watches(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                watches: &[$crate::WatchRecord],
            ) -> $crate::StoreResult<()> {
                use ::sqlx::types::Json;
                use $crate::{StoreError, sql};
                let op = StoreError::query("sync watches");
                let ws = workspace.as_str();
                let mut tx = self.pool.begin().await.map_err(op)?;
                ::sqlx::query(sql::ENSURE_WORKSPACE)
                    .bind(ws)
                    .execute(&mut *tx)
                    .await
                    .map_err(op)?;
                ::sqlx::query(sql::DEACTIVATE_WATCHES)
                    .bind(ws)
                    .execute(&mut *tx)
                    .await
                    .map_err(op)?;
                for (position, w) in watches.iter().enumerate() {
                    ::sqlx::query(sql::UPSERT_WATCH)
                        .bind(ws)
                        .bind(w.id.as_str())
                        .bind(i32::try_from(position).unwrap_or(i32::MAX))
                        .bind(&w.name)
                        .bind(&w.query)
                        .bind(Json(&w.languages))
                        .bind(Json(&w.own_accounts))
                        .bind(w.active)
                        .execute(&mut *tx)
                        .await
                        .map_err(op)?;
                }
                tx.commit().await.map_err(op)
            }

            async fn list_workspaces(
                &self,
            ) -> $crate::StoreResult<Vec<::vigie_model::WorkspaceId>> {
                let rows: Vec<(String,)> = ::sqlx::query_as($crate::sql::LIST_WORKSPACES)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("list workspaces"))?;
                let mut out = rows
                    .into_iter()
                    .map(|(id,)| $crate::codec::parse_id("workspace id", id))
                    .collect::<$crate::StoreResult<Vec<::vigie_model::WorkspaceId>>>()?;
                out.sort();
                Ok(out)
            }

            async fn list_watches(
                &self,
                workspace: &::vigie_model::WorkspaceId,
            ) -> $crate::StoreResult<Vec<$crate::WatchRecord>> {
                let rows: Vec<$crate::rows::WatchRow> = ::sqlx::query_as($crate::sql::LIST_WATCHES)
                    .bind(workspace.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("list watches"))?;
                rows.into_iter().map($crate::rows::watch_from_row).collect()
            }

            async fn insert_mentions(
                &self,
                batch: &[::vigie_model::EnrichedMention],
            ) -> $crate::StoreResult<Vec<bool>> {
                use $crate::backend::{LINK_CHUNK, MENTION_CHUNK};
                use $crate::codec::to_i64;
                use $crate::rows::{BatchPlan, InsertedRow, language_of};
                use $crate::{StoreError, sql};
                if batch.is_empty() {
                    return Ok(Vec::new());
                }
                let op = StoreError::query("insert mentions");
                let mut plan = BatchPlan::new(batch);
                let mut tx = self.pool.begin().await.map_err(op)?;
                for ws in plan.workspaces() {
                    ::sqlx::query(sql::ENSURE_WORKSPACE)
                        .bind(ws)
                        .execute(&mut *tx)
                        .await
                        .map_err(op)?;
                }
                for chunk in plan.chunks(MENTION_CHUNK) {
                    let mut qb = ::sqlx::QueryBuilder::<$db>::new(sql::INSERT_MENTIONS_HEAD);
                    qb.push_values(chunk, |mut b, em| {
                        let (m, e) = (&em.mention, &em.enrichment);
                        b.push_bind(em.workspace.as_str())
                            .push_bind(m.source.as_str())
                            .push_bind(m.external_id.as_str())
                            .push_bind(m.published_at.as_millis())
                            .push_bind(m.received_at.map(|t| t.as_millis()))
                            .push_bind(m.author.handle.as_str())
                            .push_bind(m.author.followers.map(to_i64))
                            .push_bind(m.author.verified)
                            .push_bind(language_of(em))
                            .push_bind(e.sentiment.label.as_str())
                            .push_bind(f64::from(e.sentiment.score))
                            .push_bind(f64::from(e.sentiment.confidence))
                            .push_bind(to_i64(e.reach))
                            .push_bind(e.own_account)
                            .push_bind(m.text.as_str())
                            .push_bind(m.url.as_deref())
                            .push_bind(::sqlx::types::Json(em));
                    });
                    qb.push(sql::INSERT_MENTIONS_TAIL);
                    let rows: Vec<InsertedRow> =
                        qb.build_query_as().fetch_all(&mut *tx).await.map_err(op)?;
                    for row in rows {
                        plan.mark_inserted(row)?;
                    }
                }
                for chunk in plan.links().chunks(LINK_CHUNK) {
                    let mut qb = ::sqlx::QueryBuilder::<$db>::new(sql::INSERT_LINKS_HEAD);
                    qb.push_values(chunk, |mut b, &(ws, watch, id, published)| {
                        b.push_bind(ws)
                            .push_bind(watch)
                            .push_bind(id)
                            .push_bind(published);
                    });
                    qb.push(sql::INSERT_LINKS_TAIL);
                    qb.build().execute(&mut *tx).await.map_err(op)?;
                }
                tx.commit().await.map_err(op)?;
                Ok(plan.flags())
            }

            async fn list_mentions(
                &self,
                filter: &$crate::MentionFilter,
            ) -> $crate::StoreResult<$crate::MentionPage> {
                use $crate::codec::{MentionCursor, clamp_page_limit};
                let limit = clamp_page_limit(filter.limit);
                let cursor = filter
                    .cursor
                    .as_deref()
                    .map(MentionCursor::decode)
                    .transpose()?;
                let ws = filter.workspace.as_str();
                let mut qb = ::sqlx::QueryBuilder::<$db>::new("SELECT m.id, m.doc FROM ");
                // With a watch, walk the join table's (workspace, watch, time) index.
                let (time, id) = match &filter.watch {
                    Some(watch) => {
                        qb.push("mention_watches w JOIN mentions m ON m.id = w.mention_id")
                            .push(" WHERE w.workspace = ")
                            .push_bind(ws)
                            .push(" AND w.watch = ")
                            .push_bind(watch.as_str())
                            .push(" AND m.workspace = ")
                            .push_bind(ws);
                        ("w.published_at", "w.mention_id")
                    }
                    None => {
                        qb.push("mentions m WHERE m.workspace = ").push_bind(ws);
                        ("m.published_at", "m.id")
                    }
                };
                if let Some(since) = filter.since {
                    qb.push(format_args!(" AND {time} >= "))
                        .push_bind(since.as_millis());
                }
                if let Some(until) = filter.until {
                    qb.push(format_args!(" AND {time} < "))
                        .push_bind(until.as_millis());
                }
                if let Some(sentiment) = filter.sentiment {
                    qb.push(" AND m.sentiment = ").push_bind(sentiment.as_str());
                }
                if let Some(lang) = &filter.language {
                    qb.push(" AND m.lang = ").push_bind(lang.as_str());
                }
                if let Some(c) = cursor {
                    qb.push(format_args!(" AND ({time}, {id}) < ("))
                        .push_bind(c.published_ms)
                        .push(", ")
                        .push_bind(c.id)
                        .push(")");
                }
                qb.push(format_args!(" ORDER BY {time} DESC, {id} DESC LIMIT "))
                    .push_bind(i64::from(limit) + 1);
                let rows: Vec<(i64, $crate::rows::JsonDoc)> = qb
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("list mentions"))?;
                $crate::rows::page_from_rows(rows, limit)
            }

            async fn count_mentions(
                &self,
                workspace: &::vigie_model::WorkspaceId,
            ) -> $crate::StoreResult<u64> {
                let (n,): (i64,) = ::sqlx::query_as($crate::sql::COUNT_MENTIONS)
                    .bind(workspace.as_str())
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("count mentions"))?;
                Ok($crate::codec::to_u64(n))
            }

            async fn insert_signals(
                &self,
                signals: &[::vigie_model::Signal],
            ) -> $crate::StoreResult<()> {
                if signals.is_empty() {
                    return Ok(());
                }
                let op = $crate::StoreError::query("insert signals");
                let mut tx = self.pool.begin().await.map_err(op)?;
                for s in signals {
                    ::sqlx::query($crate::sql::INSERT_SIGNAL)
                        .bind(s.workspace.as_str())
                        .bind(s.watch.as_str())
                        .bind(s.at.as_millis())
                        .bind(s.kind.as_str())
                        .bind(s.score)
                        .bind(s.observed)
                        .bind(s.expected)
                        .bind(&s.detail)
                        .execute(&mut *tx)
                        .await
                        .map_err(op)?;
                }
                tx.commit().await.map_err(op)
            }

            async fn list_signals(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                watch: Option<&::vigie_model::WatchId>,
                limit: u32,
            ) -> $crate::StoreResult<Vec<::vigie_model::Signal>> {
                use $crate::sql;
                if limit == 0 {
                    return Ok(Vec::new());
                }
                let mut qb = ::sqlx::QueryBuilder::<$db>::new(sql::LIST_SIGNALS_HEAD);
                qb.push_bind(workspace.as_str());
                if let Some(w) = watch {
                    qb.push(" AND watch = ").push_bind(w.as_str());
                }
                qb.push(" ORDER BY occurred_at DESC, id DESC LIMIT ")
                    .push_bind(i64::from(limit.min($crate::codec::MAX_SIGNALS)))
                    .push(sql::LIST_SIGNALS_TAIL);
                let rows: Vec<$crate::rows::SignalRow> = qb
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("list signals"))?;
                rows.into_iter()
                    .map(|row| $crate::rows::signal_from_row(workspace, row))
                    .collect()
            }

            async fn record_level_change(
                &self,
                change: &::vigie_model::LevelChange,
            ) -> $crate::StoreResult<()> {
                use ::sqlx::types::Json;
                use $crate::codec::level_to_i16;
                use $crate::sql;
                let op = $crate::StoreError::query("record level change");
                let mut tx = self.pool.begin().await.map_err(op)?;
                ::sqlx::query(sql::INSERT_LEVEL_CHANGE)
                    .bind(change.workspace.as_str())
                    .bind(change.watch.as_str())
                    .bind(change.at.as_millis())
                    .bind(level_to_i16(change.from))
                    .bind(level_to_i16(change.to))
                    .bind(Json(&change.explanation))
                    .execute(&mut *tx)
                    .await
                    .map_err(op)?;
                ::sqlx::query(sql::UPSERT_WATCH_LEVEL)
                    .bind(change.workspace.as_str())
                    .bind(change.watch.as_str())
                    .bind(level_to_i16(change.to))
                    .bind(change.at.as_millis())
                    .bind(Json(&change.explanation))
                    .execute(&mut *tx)
                    .await
                    .map_err(op)?;
                tx.commit().await.map_err(op)
            }

            async fn current_levels(
                &self,
                workspace: &::vigie_model::WorkspaceId,
            ) -> $crate::StoreResult<Vec<$crate::WatchLevel>> {
                let rows: Vec<$crate::rows::LevelRow> =
                    ::sqlx::query_as($crate::sql::CURRENT_LEVELS)
                        .bind(workspace.as_str())
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::StoreError::query("current levels"))?;
                let mut out = rows
                    .into_iter()
                    .map($crate::rows::level_from_row)
                    .collect::<$crate::StoreResult<Vec<_>>>()?;
                out.sort_by(|a, b| a.watch.cmp(&b.watch));
                Ok(out)
            }

            async fn level_history(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                watch: Option<&::vigie_model::WatchId>,
            ) -> $crate::StoreResult<Vec<::vigie_model::LevelChange>> {
                let mut qb = ::sqlx::QueryBuilder::<$db>::new($crate::sql::LEVEL_HISTORY_HEAD);
                qb.push_bind(workspace.as_str());
                if let Some(w) = watch {
                    qb.push(" AND watch = ").push_bind(w.as_str());
                }
                qb.push(" ORDER BY occurred_at, id");
                let rows: Vec<$crate::rows::ChangeRow> = qb
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("level history"))?;
                rows.into_iter()
                    .map(|row| $crate::rows::change_from_row(workspace, row))
                    .collect()
            }

            async fn save_incident(
                &self,
                incident: &::vigie_model::Incident,
            ) -> $crate::StoreResult<i64> {
                use ::sqlx::types::Json;
                use $crate::codec::level_to_i16;
                use $crate::{StoreError, sql};
                let op = StoreError::query("save incident");
                if incident.id == 0 {
                    let (id,): (i64,) = ::sqlx::query_as(sql::INSERT_INCIDENT)
                        .bind(incident.workspace.as_str())
                        .bind(incident.watch.as_str())
                        .bind(incident.opened_at.as_millis())
                        .bind(incident.closed_at.map(|t| t.as_millis()))
                        .bind(level_to_i16(incident.peak_level))
                        .bind(level_to_i16(incident.level))
                        .bind(Json(&incident.timeline))
                        .fetch_one(&self.pool)
                        .await
                        .map_err(op)?;
                    return Ok(id);
                }
                let done = ::sqlx::query(sql::UPDATE_INCIDENT)
                    .bind(incident.id)
                    .bind(incident.workspace.as_str())
                    .bind(incident.watch.as_str())
                    .bind(incident.opened_at.as_millis())
                    .bind(incident.closed_at.map(|t| t.as_millis()))
                    .bind(level_to_i16(incident.peak_level))
                    .bind(level_to_i16(incident.level))
                    .bind(Json(&incident.timeline))
                    .execute(&self.pool)
                    .await
                    .map_err(op)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Invalid {
                        what: "incident",
                        detail: format!(
                            "no incident {} in workspace {}",
                            incident.id, incident.workspace
                        ),
                    });
                }
                Ok(incident.id)
            }

            async fn list_incidents(
                &self,
                workspace: &::vigie_model::WorkspaceId,
            ) -> $crate::StoreResult<Vec<::vigie_model::Incident>> {
                let rows: Vec<$crate::rows::IncidentRow> =
                    ::sqlx::query_as($crate::sql::LIST_INCIDENTS)
                        .bind(workspace.as_str())
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::StoreError::query("list incidents"))?;
                rows.into_iter()
                    .map(|row| $crate::rows::incident_from_row(workspace, row))
                    .collect()
            }

            async fn load_checkpoint(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                source: &str,
            ) -> $crate::StoreResult<Option<String>> {
                let row: Option<(String,)> = ::sqlx::query_as($crate::sql::LOAD_CHECKPOINT)
                    .bind(workspace.as_str())
                    .bind(source)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("load checkpoint"))?;
                Ok(row.map(|(c,)| c))
            }

            async fn save_checkpoint(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                source: &str,
                cursor: &str,
            ) -> $crate::StoreResult<()> {
                ::sqlx::query($crate::sql::SAVE_CHECKPOINT)
                    .bind(workspace.as_str())
                    .bind(source)
                    .bind(cursor)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("save checkpoint"))?;
                Ok(())
            }

            async fn save_detector_state(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                watch: &::vigie_model::WatchId,
                state: &::serde_json::Value,
            ) -> $crate::StoreResult<()> {
                ::sqlx::query($crate::sql::SAVE_DETECTOR_STATE)
                    .bind(workspace.as_str())
                    .bind(watch.as_str())
                    .bind(::sqlx::types::Json(state))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("save detector state"))?;
                Ok(())
            }

            async fn load_detector_state(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                watch: &::vigie_model::WatchId,
            ) -> $crate::StoreResult<Option<::serde_json::Value>> {
                let row: Option<($crate::rows::JsonDoc,)> =
                    ::sqlx::query_as($crate::sql::LOAD_DETECTOR_STATE)
                        .bind(workspace.as_str())
                        .bind(watch.as_str())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err($crate::StoreError::query("load detector state"))?;
                Ok(row.map(|(s,)| s.0))
            }
        }
    };
}

pub(crate) use impl_store;
