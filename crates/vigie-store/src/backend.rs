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

            async fn migrate(&self) -> $crate::StoreResult<()> {
                $migrator().run(&self.pool).await?;
                Ok(())
            }

            async fn sync_watches(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                watches: &[$crate::WatchRecord],
            ) -> $crate::StoreResult<()> {
                use $crate::StoreError;
                use ::sqlx::types::Json;
                let op = "sync watches";
                let ws = workspace.as_str();
                let mut tx = self.pool.begin().await.map_err(StoreError::query(op))?;
                ::sqlx::query("INSERT INTO workspaces (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
                    .bind(ws)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(op))?;
                ::sqlx::query("UPDATE watches SET active = FALSE WHERE workspace = $1")
                    .bind(ws)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(op))?;
                for (position, w) in watches.iter().enumerate() {
                    ::sqlx::query(
                        "INSERT INTO watches \
                         (workspace, id, position, name, query, languages, own_accounts, active) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (workspace, id) DO UPDATE SET \
                         position = excluded.position, name = excluded.name, \
                         query = excluded.query, languages = excluded.languages, \
                         own_accounts = excluded.own_accounts, active = excluded.active",
                    )
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
                    .map_err(StoreError::query(op))?;
                }
                tx.commit().await.map_err(StoreError::query(op))
            }

            async fn list_workspaces(&self) -> $crate::StoreResult<Vec<::vigie_model::WorkspaceId>> {
                let rows: Vec<(String,)> = ::sqlx::query_as("SELECT id FROM workspaces")
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("list workspaces"))?;
                let mut out = rows
                    .into_iter()
                    .map(|(id,)| $crate::codec::parse_id("workspace id", id))
                    .collect::<Result<Vec<::vigie_model::WorkspaceId>, _>>()?;
                out.sort();
                Ok(out)
            }

            async fn list_watches(
                &self,
                workspace: &::vigie_model::WorkspaceId,
            ) -> $crate::StoreResult<Vec<$crate::WatchRecord>> {
                use $crate::codec::{from_json, parse_id};
                use ::sqlx::types::Json;
                type Row = (String, String, String, Json<::serde_json::Value>, Json<::serde_json::Value>, bool);
                let rows: Vec<Row> = ::sqlx::query_as(
                    "SELECT id, name, query, languages, own_accounts, active FROM watches \
                     WHERE workspace = $1 ORDER BY active DESC, position, id",
                )
                .bind(workspace.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err($crate::StoreError::query("list watches"))?;
                rows.into_iter()
                    .map(|(id, name, query, languages, own_accounts, active)| {
                        Ok($crate::WatchRecord {
                            id: parse_id("watch id", id)?,
                            name,
                            query,
                            languages: from_json("watch languages", languages.0)?,
                            own_accounts: from_json("watch own accounts", own_accounts.0)?,
                            active,
                        })
                    })
                    .collect()
            }

            async fn insert_mentions(
                &self,
                batch: &[::vigie_model::EnrichedMention],
            ) -> $crate::StoreResult<Vec<bool>> {
                use $crate::StoreError;
                use $crate::backend::{LINK_CHUNK, MENTION_CHUNK};
                use $crate::codec::to_i64;
                use ::sqlx::types::Json;
                use std::collections::{BTreeSet, HashMap};
                let op = "insert mentions";
                let mut is_new = vec![false; batch.len()];
                if batch.is_empty() {
                    return Ok(is_new);
                }
                // The first occurrence of each key inside the batch; later ones are duplicates.
                let mut first: HashMap<(&str, &str, &str), usize> = HashMap::with_capacity(batch.len());
                let mut unique = Vec::with_capacity(batch.len());
                for (i, m) in batch.iter().enumerate() {
                    let key = (m.workspace.as_str(), m.mention.source.as_str(), m.mention.external_id.as_str());
                    first.entry(key).or_insert_with(|| {
                        unique.push(i);
                        i
                    });
                }
                let workspaces: BTreeSet<&str> = batch.iter().map(|m| m.workspace.as_str()).collect();

                let mut tx = self.pool.begin().await.map_err(StoreError::query(op))?;
                for ws in workspaces {
                    ::sqlx::query("INSERT INTO workspaces (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
                        .bind(ws)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::query(op))?;
                }
                // (batch index, store id) of the mentions that were new.
                let mut inserted: Vec<(usize, i64)> = Vec::new();
                for chunk in unique.chunks(MENTION_CHUNK) {
                    let mut qb = ::sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO mentions (workspace, source, external_id, published_at, \
                         received_at, author_handle, author_followers, author_verified, lang, \
                         sentiment, sentiment_score, sentiment_confidence, reach, own_account, \
                         text, url, doc) ",
                    );
                    qb.push_values(chunk.iter().filter_map(|&i| batch.get(i)), |mut b, em| {
                        let m = &em.mention;
                        let e = &em.enrichment;
                        let lang = e.language.as_ref().map(|l| l.code.as_str()).or(m.lang.as_deref());
                        b.push_bind(em.workspace.as_str())
                            .push_bind(m.source.as_str())
                            .push_bind(m.external_id.as_str())
                            .push_bind(m.published_at.as_millis())
                            .push_bind(m.received_at.map(|t| t.as_millis()))
                            .push_bind(m.author.handle.as_str())
                            .push_bind(m.author.followers.map(to_i64))
                            .push_bind(m.author.verified)
                            .push_bind(lang)
                            .push_bind(e.sentiment.label.as_str())
                            .push_bind(f64::from(e.sentiment.score))
                            .push_bind(f64::from(e.sentiment.confidence))
                            .push_bind(to_i64(e.reach))
                            .push_bind(e.own_account)
                            .push_bind(m.text.as_str())
                            .push_bind(m.url.as_deref())
                            .push_bind(Json(em));
                    });
                    qb.push(
                        " ON CONFLICT (workspace, source, external_id) DO NOTHING \
                         RETURNING id, workspace, source, external_id",
                    );
                    let rows: Vec<(i64, String, String, String)> = qb
                        .build_query_as()
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(StoreError::query(op))?;
                    for (id, ws, source, external_id) in rows {
                        let idx = first.get(&(ws.as_str(), source.as_str(), external_id.as_str())).copied();
                        let Some(idx) = idx else {
                            return Err(StoreError::Corrupt {
                                what: "insert result",
                                detail: format!("returned key ({ws}, {source}, {external_id}) is not in the batch"),
                            });
                        };
                        if let Some(flag) = is_new.get_mut(idx) {
                            *flag = true;
                        }
                        inserted.push((idx, id));
                    }
                }
                let links: Vec<(&str, &str, i64, i64)> = inserted
                    .iter()
                    .filter_map(|&(idx, id)| batch.get(idx).map(|m| (m, id)))
                    .flat_map(|(m, id)| {
                        m.enrichment.matched_watches.iter().map(move |w| {
                            (m.workspace.as_str(), w.as_str(), id, m.mention.published_at.as_millis())
                        })
                    })
                    .collect();
                for chunk in links.chunks(LINK_CHUNK) {
                    let mut qb = ::sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO mention_watches (workspace, watch, mention_id, published_at) ",
                    );
                    qb.push_values(chunk, |mut b, &(ws, watch, id, published)| {
                        b.push_bind(ws).push_bind(watch).push_bind(id).push_bind(published);
                    });
                    qb.push(" ON CONFLICT DO NOTHING");
                    qb.build().execute(&mut *tx).await.map_err(StoreError::query(op))?;
                }
                tx.commit().await.map_err(StoreError::query(op))?;
                Ok(is_new)
            }

            async fn list_mentions(
                &self,
                filter: &$crate::MentionFilter,
            ) -> $crate::StoreResult<$crate::MentionPage> {
                use $crate::codec::{clamp_page_limit, from_json, MentionCursor};
                use ::sqlx::types::Json;
                let limit = clamp_page_limit(filter.limit);
                let cursor = filter.cursor.as_deref().map(MentionCursor::decode).transpose()?;
                let ws = filter.workspace.as_str();
                let mut qb = ::sqlx::QueryBuilder::<$db>::new("SELECT m.id, m.doc FROM ");
                let (time, id) = match &filter.watch {
                    Some(watch) => {
                        qb.push("mention_watches w JOIN mentions m ON m.id = w.mention_id WHERE w.workspace = ")
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
                    qb.push(format_args!(" AND {time} >= ")).push_bind(since.as_millis());
                }
                if let Some(until) = filter.until {
                    qb.push(format_args!(" AND {time} < ")).push_bind(until.as_millis());
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
                let rows: Vec<(i64, Json<::serde_json::Value>)> = qb
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("list mentions"))?;
                let more = rows.len() > limit as usize;
                let items = rows
                    .into_iter()
                    .take(limit as usize)
                    .map(|(id, doc)| {
                        Ok($crate::StoredMention {
                            id,
                            mention: from_json("mention", doc.0)?,
                        })
                    })
                    .collect::<$crate::StoreResult<Vec<_>>>()?;
                let next_cursor = match items.last() {
                    Some(last) if more => Some(
                        MentionCursor {
                            published_ms: last.mention.mention.published_at.as_millis(),
                            id: last.id,
                        }
                        .encode(),
                    ),
                    _ => None,
                };
                Ok($crate::MentionPage { items, next_cursor })
            }

            async fn count_mentions(&self, workspace: &::vigie_model::WorkspaceId) -> $crate::StoreResult<u64> {
                let (n,): (i64,) = ::sqlx::query_as("SELECT COUNT(*) FROM mentions WHERE workspace = $1")
                    .bind(workspace.as_str())
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("count mentions"))?;
                Ok($crate::codec::to_u64(n))
            }

            async fn insert_signals(&self, signals: &[::vigie_model::Signal]) -> $crate::StoreResult<()> {
                use $crate::StoreError;
                let op = "insert signals";
                if signals.is_empty() {
                    return Ok(());
                }
                let mut tx = self.pool.begin().await.map_err(StoreError::query(op))?;
                for s in signals {
                    ::sqlx::query(
                        "INSERT INTO signals \
                         (workspace, watch, occurred_at, kind, score, observed, expected, detail) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (workspace, watch, occurred_at, kind, detail) DO NOTHING",
                    )
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
                    .map_err(StoreError::query(op))?;
                }
                tx.commit().await.map_err(StoreError::query(op))
            }

            async fn list_signals(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                watch: Option<&::vigie_model::WatchId>,
                limit: u32,
            ) -> $crate::StoreResult<Vec<::vigie_model::Signal>> {
                use $crate::codec::{parse_id, real_or_nan, ts, MAX_SIGNALS};
                use $crate::StoreError;
                if limit == 0 {
                    return Ok(Vec::new());
                }
                let mut qb = ::sqlx::QueryBuilder::<$db>::new(
                    "SELECT id, watch, occurred_at, kind, score, observed, expected, detail FROM (\
                     SELECT id, watch, occurred_at, kind, score, observed, expected, detail \
                     FROM signals WHERE workspace = ",
                );
                qb.push_bind(workspace.as_str());
                if let Some(w) = watch {
                    qb.push(" AND watch = ").push_bind(w.as_str());
                }
                qb.push(" ORDER BY occurred_at DESC, id DESC LIMIT ")
                    .push_bind(i64::from(limit.min(MAX_SIGNALS)))
                    .push(") recent ORDER BY occurred_at, id");
                type Row = (i64, String, i64, String, Option<f64>, Option<f64>, Option<f64>, String);
                let rows: Vec<Row> = qb
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::query("list signals"))?;
                rows.into_iter()
                    .map(|(_, w, at, kind, score, observed, expected, detail)| {
                        Ok(::vigie_model::Signal {
                            workspace: workspace.clone(),
                            watch: parse_id("watch id", w)?,
                            at: ts(at),
                            kind: ::vigie_model::SignalKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
                                what: "signal kind",
                                detail: format!("unknown kind {kind:?}"),
                            })?,
                            score: real_or_nan(score),
                            observed: real_or_nan(observed),
                            expected: real_or_nan(expected),
                            detail,
                        })
                    })
                    .collect()
            }

            async fn record_level_change(&self, change: &::vigie_model::LevelChange) -> $crate::StoreResult<()> {
                use $crate::codec::level_to_i16;
                use $crate::StoreError;
                use ::sqlx::types::Json;
                let op = "record level change";
                let mut tx = self.pool.begin().await.map_err(StoreError::query(op))?;
                ::sqlx::query(
                    "INSERT INTO level_changes \
                     (workspace, watch, occurred_at, from_level, to_level, explanation) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (workspace, watch, occurred_at, from_level, to_level) DO NOTHING",
                )
                .bind(change.workspace.as_str())
                .bind(change.watch.as_str())
                .bind(change.at.as_millis())
                .bind(level_to_i16(change.from))
                .bind(level_to_i16(change.to))
                .bind(Json(&change.explanation))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(op))?;
                // A late, older change (a replay) must not overwrite a newer current level.
                ::sqlx::query(
                    "INSERT INTO watch_levels (workspace, watch, level, since, explanation) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (workspace, watch) DO UPDATE SET level = excluded.level, \
                     since = excluded.since, explanation = excluded.explanation \
                     WHERE excluded.since >= watch_levels.since",
                )
                .bind(change.workspace.as_str())
                .bind(change.watch.as_str())
                .bind(level_to_i16(change.to))
                .bind(change.at.as_millis())
                .bind(Json(&change.explanation))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(op))?;
                tx.commit().await.map_err(StoreError::query(op))
            }

            async fn current_levels(
                &self,
                workspace: &::vigie_model::WorkspaceId,
            ) -> $crate::StoreResult<Vec<$crate::WatchLevel>> {
                use $crate::codec::{from_json, level_from_i16, parse_id, ts};
                use ::sqlx::types::Json;
                let rows: Vec<(String, i16, i64, Json<::serde_json::Value>)> = ::sqlx::query_as(
                    "SELECT watch, level, since, explanation FROM watch_levels WHERE workspace = $1",
                )
                .bind(workspace.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err($crate::StoreError::query("current levels"))?;
                let mut out = rows
                    .into_iter()
                    .map(|(watch, level, since, explanation)| {
                        Ok($crate::WatchLevel {
                            watch: parse_id("watch id", watch)?,
                            level: level_from_i16(level)?,
                            since: ts(since),
                            explanation: from_json("explanation", explanation.0)?,
                        })
                    })
                    .collect::<$crate::StoreResult<Vec<_>>>()?;
                out.sort_by(|a, b| a.watch.cmp(&b.watch));
                Ok(out)
            }

            async fn level_history(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                watch: Option<&::vigie_model::WatchId>,
            ) -> $crate::StoreResult<Vec<::vigie_model::LevelChange>> {
                use $crate::codec::{from_json, level_from_i16, parse_id, ts};
                use ::sqlx::types::Json;
                let mut qb = ::sqlx::QueryBuilder::<$db>::new(
                    "SELECT watch, occurred_at, from_level, to_level, explanation \
                     FROM level_changes WHERE workspace = ",
                );
                qb.push_bind(workspace.as_str());
                if let Some(w) = watch {
                    qb.push(" AND watch = ").push_bind(w.as_str());
                }
                qb.push(" ORDER BY occurred_at, id");
                let rows: Vec<(String, i64, i16, i16, Json<::serde_json::Value>)> = qb
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("level history"))?;
                rows.into_iter()
                    .map(|(w, at, from, to, explanation)| {
                        Ok(::vigie_model::LevelChange {
                            workspace: workspace.clone(),
                            watch: parse_id("watch id", w)?,
                            at: ts(at),
                            from: level_from_i16(from)?,
                            to: level_from_i16(to)?,
                            explanation: from_json("explanation", explanation.0)?,
                        })
                    })
                    .collect()
            }

            async fn save_incident(&self, incident: &::vigie_model::Incident) -> $crate::StoreResult<i64> {
                use $crate::codec::level_to_i16;
                use $crate::StoreError;
                use ::sqlx::types::Json;
                let op = "save incident";
                if incident.id == 0 {
                    let (id,): (i64,) = ::sqlx::query_as(
                        "INSERT INTO incidents \
                         (workspace, watch, opened_at, closed_at, peak_level, level, timeline) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(incident.workspace.as_str())
                    .bind(incident.watch.as_str())
                    .bind(incident.opened_at.as_millis())
                    .bind(incident.closed_at.map(|t| t.as_millis()))
                    .bind(level_to_i16(incident.peak_level))
                    .bind(level_to_i16(incident.level))
                    .bind(Json(&incident.timeline))
                    .fetch_one(&self.pool)
                    .await
                    .map_err(StoreError::query(op))?;
                    return Ok(id);
                }
                let done = ::sqlx::query(
                    "UPDATE incidents SET watch = $3, opened_at = $4, closed_at = $5, \
                     peak_level = $6, level = $7, timeline = $8 WHERE id = $1 AND workspace = $2",
                )
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
                .map_err(StoreError::query(op))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Invalid {
                        what: "incident",
                        detail: format!("no incident {} in workspace {}", incident.id, incident.workspace),
                    });
                }
                Ok(incident.id)
            }

            async fn list_incidents(
                &self,
                workspace: &::vigie_model::WorkspaceId,
            ) -> $crate::StoreResult<Vec<::vigie_model::Incident>> {
                use $crate::codec::{from_json, level_from_i16, parse_id, ts};
                use ::sqlx::types::Json;
                type Row = (i64, String, i64, Option<i64>, i16, i16, Json<::serde_json::Value>);
                let rows: Vec<Row> = ::sqlx::query_as(
                    "SELECT id, watch, opened_at, closed_at, peak_level, level, timeline \
                     FROM incidents WHERE workspace = $1 ORDER BY opened_at DESC, id DESC",
                )
                .bind(workspace.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err($crate::StoreError::query("list incidents"))?;
                rows.into_iter()
                    .map(|(id, watch, opened, closed, peak, level, timeline)| {
                        Ok(::vigie_model::Incident {
                            id,
                            workspace: workspace.clone(),
                            watch: parse_id("watch id", watch)?,
                            opened_at: ts(opened),
                            closed_at: closed.map(ts),
                            peak_level: level_from_i16(peak)?,
                            level: level_from_i16(level)?,
                            timeline: from_json("incident timeline", timeline.0)?,
                        })
                    })
                    .collect()
            }

            async fn load_checkpoint(
                &self,
                workspace: &::vigie_model::WorkspaceId,
                source: &str,
            ) -> $crate::StoreResult<Option<String>> {
                let row: Option<(String,)> = ::sqlx::query_as(
                    "SELECT cursor FROM checkpoints WHERE workspace = $1 AND source = $2",
                )
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
                ::sqlx::query(
                    "INSERT INTO checkpoints (workspace, source, cursor) VALUES ($1, $2, $3) \
                     ON CONFLICT (workspace, source) DO UPDATE SET cursor = excluded.cursor",
                )
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
                ::sqlx::query(
                    "INSERT INTO detector_states (workspace, watch, state) VALUES ($1, $2, $3) \
                     ON CONFLICT (workspace, watch) DO UPDATE SET state = excluded.state",
                )
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
                let row: Option<(::sqlx::types::Json<::serde_json::Value>,)> = ::sqlx::query_as(
                    "SELECT state FROM detector_states WHERE workspace = $1 AND watch = $2",
                )
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
