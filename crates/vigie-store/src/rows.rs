//! Row shapes read by the queries, their conversion to domain values, and the bookkeeping
//! of a mention batch. Plain Rust, shared by both backends and tested without a database.

use crate::codec::{from_json, level_from_i16, parse_id, real_or_nan, ts};
use crate::{MentionPage, StoreError, StoreResult, StoredMention, WatchLevel, WatchRecord};
use std::collections::{BTreeSet, HashMap};
use vigie_model::{EnrichedMention, Incident, LevelChange, Signal, SignalKind, WorkspaceId};

/// A JSON document column (`TEXT` in SQLite, `JSONB` in PostgreSQL).
pub(crate) type JsonDoc = sqlx::types::Json<serde_json::Value>;

/// `id, name, query, languages, own_accounts, active` of `watches`.
pub(crate) type WatchRow = (String, String, String, JsonDoc, JsonDoc, bool);

/// `id, watch, occurred_at, kind, score, observed, expected, detail` of `signals`.
pub(crate) type SignalRow = (
    i64,
    String,
    i64,
    String,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    String,
);

/// `watch, level, since, explanation` of `watch_levels`.
pub(crate) type LevelRow = (String, i16, i64, JsonDoc);

/// `watch, occurred_at, from_level, to_level, explanation` of `level_changes`.
pub(crate) type ChangeRow = (String, i64, i16, i16, JsonDoc);

/// `id, watch, opened_at, closed_at, peak_level, level, timeline` of `incidents`.
pub(crate) type IncidentRow = (i64, String, i64, Option<i64>, i16, i16, JsonDoc);

/// `id, workspace, source, external_id` returned by the mention insert.
pub(crate) type InsertedRow = (i64, String, String, String);

pub(crate) fn watch_from_row(row: WatchRow) -> StoreResult<WatchRecord> {
    let (id, name, query, languages, own_accounts, active) = row;
    Ok(WatchRecord {
        id: parse_id("watch id", id)?,
        name,
        query,
        languages: from_json("watch languages", languages.0)?,
        own_accounts: from_json("watch own accounts", own_accounts.0)?,
        active,
    })
}

pub(crate) fn signal_from_row(workspace: &WorkspaceId, row: SignalRow) -> StoreResult<Signal> {
    let (_, watch, at, kind, score, observed, expected, detail) = row;
    Ok(Signal {
        workspace: workspace.clone(),
        watch: parse_id("watch id", watch)?,
        at: ts(at),
        kind: SignalKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
            what: "signal kind",
            detail: format!("unknown kind {kind:?}"),
        })?,
        score: real_or_nan(score),
        observed: real_or_nan(observed),
        expected: real_or_nan(expected),
        detail,
    })
}

pub(crate) fn level_from_row(row: LevelRow) -> StoreResult<WatchLevel> {
    let (watch, level, since, explanation) = row;
    Ok(WatchLevel {
        watch: parse_id("watch id", watch)?,
        level: level_from_i16(level)?,
        since: ts(since),
        explanation: from_json("explanation", explanation.0)?,
    })
}

pub(crate) fn change_from_row(workspace: &WorkspaceId, row: ChangeRow) -> StoreResult<LevelChange> {
    let (watch, at, from, to, explanation) = row;
    Ok(LevelChange {
        workspace: workspace.clone(),
        watch: parse_id("watch id", watch)?,
        at: ts(at),
        from: level_from_i16(from)?,
        to: level_from_i16(to)?,
        explanation: from_json("explanation", explanation.0)?,
    })
}

pub(crate) fn incident_from_row(
    workspace: &WorkspaceId,
    row: IncidentRow,
) -> StoreResult<Incident> {
    let (id, watch, opened, closed, peak, level, timeline) = row;
    Ok(Incident {
        id,
        workspace: workspace.clone(),
        watch: parse_id("watch id", watch)?,
        opened_at: ts(opened),
        closed_at: closed.map(ts),
        peak_level: level_from_i16(peak)?,
        level: level_from_i16(level)?,
        timeline: from_json("incident timeline", timeline.0)?,
    })
}

/// Builds a page from up to `limit + 1` rows `(id, doc)` in listing order: the extra row
/// only tells that a next page exists.
pub(crate) fn page_from_rows(rows: Vec<(i64, JsonDoc)>, limit: u32) -> StoreResult<MentionPage> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    let items = rows
        .into_iter()
        .take(limit)
        .map(|(id, doc)| {
            Ok(StoredMention {
                id,
                mention: from_json("mention", doc.0)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let next_cursor = match items.last() {
        Some(last) if more => Some(last.cursor()),
        _ => None,
    };
    Ok(MentionPage { items, next_cursor })
}

/// The language column of a mention: the detected one, else the one the source declared.
pub(crate) fn language_of(m: &EnrichedMention) -> Option<&str> {
    m.enrichment
        .language
        .as_ref()
        .map(|l| l.code.as_str())
        .or(m.mention.lang.as_deref())
}

/// One `mention_watches` row: `(workspace, watch, mention_id, published_at)`.
pub(crate) type LinkRow<'a> = (&'a str, &'a str, i64, i64);

/// Which mentions of a batch to insert, and which turned out to be new.
#[derive(Debug)]
pub(crate) struct BatchPlan<'a> {
    batch: &'a [EnrichedMention],
    /// Batch index of the first occurrence of each `(workspace, source, external_id)`.
    first: HashMap<(&'a str, &'a str, &'a str), usize>,
    /// Those first occurrences, in key order: the only rows sent to the database.
    unique: Vec<usize>,
    /// `(batch index, store id)` of the mentions the database accepted as new.
    inserted: Vec<(usize, i64)>,
}

impl<'a> BatchPlan<'a> {
    pub(crate) fn new(batch: &'a [EnrichedMention]) -> Self {
        let mut first = HashMap::with_capacity(batch.len());
        let mut unique = Vec::with_capacity(batch.len());
        for (i, m) in batch.iter().enumerate() {
            let key = (
                m.workspace.as_str(),
                m.mention.source.as_str(),
                m.mention.external_id.as_str(),
            );
            first.entry(key).or_insert_with(|| {
                unique.push(i);
                i
            });
        }
        // Rows go to the database in key order, so concurrent writers (several workers, or a
        // redelivery racing the original) take the unique index's locks in the same order and
        // cannot deadlock one another.
        unique.sort_by_key(|&i| {
            let m = &batch[i];
            (
                m.workspace.as_str(),
                m.mention.source.as_str(),
                m.mention.external_id.as_str(),
            )
        });
        Self {
            batch,
            first,
            unique,
            inserted: Vec::new(),
        }
    }

    /// The distinct workspaces of the batch.
    pub(crate) fn workspaces(&self) -> BTreeSet<&'a str> {
        self.batch.iter().map(|m| m.workspace.as_str()).collect()
    }

    /// The mentions to send, in chunks of at most `size`, first occurrences only.
    pub(crate) fn chunks(&self, size: usize) -> Vec<Vec<&'a EnrichedMention>> {
        let batch = self.batch;
        self.unique
            .chunks(size.max(1))
            .map(|c| c.iter().filter_map(|&i| batch.get(i)).collect())
            .collect()
    }

    /// Records a row the database returned as inserted.
    pub(crate) fn mark_inserted(&mut self, row: InsertedRow) -> StoreResult<()> {
        let (id, ws, source, external_id) = row;
        let key = (ws.as_str(), source.as_str(), external_id.as_str());
        let Some(&idx) = self.first.get(&key) else {
            return Err(StoreError::Corrupt {
                what: "insert result",
                detail: format!("returned key ({ws}, {source}, {external_id}) is not in the batch"),
            });
        };
        self.inserted.push((idx, id));
        Ok(())
    }

    /// The `mention_watches` rows of the new mentions (a watch listed twice appears twice;
    /// the insert ignores the repeat).
    pub(crate) fn links(&self) -> Vec<LinkRow<'a>> {
        let batch = self.batch;
        self.inserted
            .iter()
            .filter_map(|&(idx, id)| batch.get(idx).map(|m| (m, id)))
            .flat_map(|(m, id)| {
                let published = m.mention.published_at.as_millis();
                let ws = m.workspace.as_str();
                m.enrichment
                    .matched_watches
                    .iter()
                    .map(move |w| (ws, w.as_str(), id, published))
            })
            .collect()
    }

    /// For each mention of the batch, in order: was it new?
    pub(crate) fn flags(&self) -> Vec<bool> {
        let mut flags = vec![false; self.batch.len()];
        for &(idx, _) in &self.inserted {
            if let Some(f) = flags.get_mut(idx) {
                *f = true;
            }
        }
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::sample_mention;
    use vigie_model::WorkspaceId;

    #[test]
    fn plan_sends_first_occurrences_and_flags_inserted_rows() {
        let ws = WorkspaceId::new("acme").unwrap();
        let (a, b) = (sample_mention(&ws, 1), sample_mention(&ws, 2));
        let batch = vec![a.clone(), b.clone(), a.clone(), b];
        let mut plan = BatchPlan::new(&batch);
        let chunks = plan.chunks(1);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0][0].mention.external_id, "m1");
        assert_eq!(chunks[1][0].mention.external_id, "m2");
        plan.mark_inserted((7, "acme".into(), "mastodon".into(), "m2".into()))
            .unwrap();
        assert_eq!(plan.flags(), vec![false, true, false, false]);
        assert_eq!(
            plan.links(),
            vec![("acme", "brand", 7, 2000 + crate::conformance::T0)]
        );
        assert!(
            plan.mark_inserted((8, "acme".into(), "mastodon".into(), "zz".into()))
                .is_err()
        );
        assert_eq!(
            plan.workspaces().into_iter().collect::<Vec<_>>(),
            vec!["acme"]
        );
    }

    #[test]
    fn pages_carry_a_cursor_only_when_more_rows_exist() {
        let ws = WorkspaceId::new("acme").unwrap();
        let doc = |i| sqlx::types::Json(serde_json::to_value(sample_mention(&ws, i)).unwrap());
        let page = page_from_rows(vec![(3, doc(3)), (2, doc(2)), (1, doc(1))], 2).unwrap();
        assert_eq!(page.items.len(), 2);
        let cursor =
            crate::codec::MentionCursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(cursor.id, 2);
        let page = page_from_rows(vec![(3, doc(3))], 2).unwrap();
        assert_eq!(page.next_cursor, None);
        let bad = page_from_rows(vec![(1, sqlx::types::Json(serde_json::json!({})))], 2);
        assert!(matches!(
            bad,
            Err(StoreError::Corrupt {
                what: "mention",
                ..
            })
        ));
    }

    #[test]
    fn corrupt_rows_are_reported() {
        let ws = WorkspaceId::new("acme").unwrap();
        let row = (
            1,
            "brand".into(),
            0,
            "no_such_kind".into(),
            None,
            None,
            None,
            String::new(),
        );
        let err = signal_from_row(&ws, row).unwrap_err();
        assert!(err.to_string().contains("no_such_kind"));
        let row = (
            "brand".into(),
            9,
            0,
            sqlx::types::Json(serde_json::json!({})),
        );
        assert!(level_from_row(row).is_err());
    }

    #[test]
    fn language_prefers_detection() {
        let ws = WorkspaceId::new("acme").unwrap();
        let mut m = sample_mention(&ws, 1);
        m.mention.lang = Some("de".into());
        assert_eq!(language_of(&m), Some("en"));
        m.enrichment.language = None;
        assert_eq!(language_of(&m), Some("de"));
    }
}
