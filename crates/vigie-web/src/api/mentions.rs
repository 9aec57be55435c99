//! `GET /api/v1/workspaces/{ws}/mentions`: filtered, newest first, paginated by cursor, and
//! searched with the query language (`q`).
//!
//! A search cannot be pushed into SQL (the query language has phrases, `NEAR`, patterns and
//! accent folding), so [`search`] walks the filtered listing newest first, page after page,
//! keeps what matches, and stops at a page of matches or at a scan budget; its cursor is the
//! position right after the last mention it examined, so the next call resumes there and no
//! match is skipped or repeated.

use super::{query_rejection, watch_param, workspace};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use vigie_model::{SentimentLabel, Timestamp};
use vigie_store::{MentionFilter, StoredMention};

/// Page size when `limit` is absent.
const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
const MAX_LIMIT: u32 = 1000;
/// Stored mentions one API request may examine when `q` filters them.
pub(crate) const API_SCAN_BUDGET: usize = 10_000;

/// The query string, as text: each value is parsed below with its own message.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MentionParams {
    q: Option<String>,
    watch: Option<String>,
    since: Option<String>,
    until: Option<String>,
    sentiment: Option<String>,
    lang: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// The answer: a page of mentions; with `q`, how many were examined and what each matched.
#[derive(Debug, Serialize)]
pub(crate) struct MentionsAnswer {
    items: Vec<StoredMention>,
    next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scanned: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matched: Option<Vec<Vec<String>>>,
}

pub(crate) async fn list_mentions(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    params: Result<Query<MentionParams>, QueryRejection>,
) -> Result<Json<MentionsAnswer>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let query = query_param(params.q.as_deref())?;
    let ws = workspace(&state, &ws).await?;
    let since = time_param("since", params.since.as_deref())?;
    let until = time_param("until", params.until.as_deref())?;
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        return Err(ApiError::bad_request(format!(
            "invalid until: {u} is not after since ({s})"
        )));
    }
    let sentiment = match non_empty(params.sentiment.as_deref()) {
        None => None,
        Some(s) => Some(SentimentLabel::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "invalid sentiment: expected negative, neutral or positive, got {s:?}"
            ))
        })?),
    };
    let language = match non_empty(params.lang.as_deref()) {
        None => None,
        Some(l) if is_language_code(l) => Some(l.to_owned()),
        Some(l) => {
            return Err(ApiError::bad_request(format!(
                "invalid lang: expected a lowercase ISO 639-1 code such as \"fr\", got {l:?}"
            )));
        }
    };
    let filter = MentionFilter {
        watch: watch_param(&state, &ws, params.watch.as_deref()).await?,
        since,
        until,
        sentiment,
        language,
        limit: super::limit_param(params.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?,
        cursor: non_empty(params.cursor.as_deref()).map(str::to_owned),
        workspace: ws,
    };
    match query {
        None => {
            let page = state.store.list_mentions(&filter).await?;
            Ok(Json(MentionsAnswer {
                items: page.items,
                next_cursor: page.next_cursor,
                scanned: None,
                matched: None,
            }))
        }
        Some(q) => {
            let page = filter.limit as usize;
            let found = search(&state, filter, &q, page, API_SCAN_BUDGET).await?;
            let (items, matched) = found.items.into_iter().unzip();
            Ok(Json(MentionsAnswer {
                items,
                next_cursor: found.next_cursor,
                scanned: Some(found.scanned),
                matched: Some(matched),
            }))
        }
    }
}

/// The `q` parameter: absent or blank is no search; a malformed query is a 400 that says
/// where the mistake is (1-based character position) and how to fix it when known.
pub(crate) fn query_param(raw: Option<&str>) -> Result<Option<vigie_query::Query>, ApiError> {
    let Some(src) = non_empty(raw) else {
        return Ok(None);
    };
    vigie_query::parse(src).map(Some).map_err(|e| {
        let hint = e.hint.map(|h| format!(" ({h})")).unwrap_or_default();
        ApiError::bad_request(format!(
            "invalid q: {} at character {}{hint}",
            e.message,
            e.position + 1
        ))
    })
}

/// One page of search results.
#[derive(Debug)]
pub(crate) struct SearchPage {
    /// Matching mentions, newest first, each with the parts of the query it matched.
    pub items: Vec<(StoredMention, Vec<String>)>,
    /// Where to resume: right after the last mention examined; `None` at the end.
    pub next_cursor: Option<String>,
    /// How many stored mentions were examined.
    pub scanned: usize,
}

/// The mentions of `filter` (from its cursor on) that match `query`: stops after `page`
/// matches or `budget` examined mentions, whichever comes first.
pub(crate) async fn search(
    state: &AppState,
    mut filter: MentionFilter,
    query: &vigie_query::Query,
    page: usize,
    budget: usize,
) -> Result<SearchPage, ApiError> {
    let page = page.max(1);
    let budget = budget.max(1);
    let mut items = Vec::new();
    let mut scanned = 0;
    loop {
        filter.limit = u32::try_from((budget - scanned).min(MAX_LIMIT as usize)).unwrap_or(1);
        let chunk = state.store.list_mentions(&filter).await?;
        let more = chunk.next_cursor.is_some();
        let count = chunk.items.len();
        let mut last = None;
        for (i, m) in chunk.items.into_iter().enumerate() {
            scanned += 1;
            last = Some(m.cursor());
            let lang = m
                .mention
                .enrichment
                .language
                .as_ref()
                .map_or("und", |l| l.code.as_str());
            let doc = vigie_query::Document::from_mention(&m.mention.mention, Some(lang));
            if let Some(parts) = query.explain_match(&doc) {
                items.push((m, parts));
                if items.len() >= page {
                    let at_end = !more && i + 1 == count;
                    return Ok(SearchPage {
                        items,
                        next_cursor: last.filter(|_| !at_end),
                        scanned,
                    });
                }
            }
        }
        if !more {
            return Ok(SearchPage {
                items,
                next_cursor: None,
                scanned,
            });
        }
        if scanned >= budget {
            return Ok(SearchPage {
                items,
                next_cursor: last,
                scanned,
            });
        }
        filter.cursor = chunk.next_cursor;
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

/// An RFC 3339 time parameter.
fn time_param(name: &str, raw: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    non_empty(raw)
        .map(|s| {
            Timestamp::parse_rfc3339(s)
                .map_err(|e| ApiError::bad_request(format!("invalid {name}: {e}")))
        })
        .transpose()
}

/// Two lowercase ASCII letters, or `und` (undetermined).
fn is_language_code(s: &str) -> bool {
    s == "und" || (s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times_and_languages() {
        assert_eq!(time_param("since", None).unwrap(), None);
        assert_eq!(time_param("since", Some("")).unwrap(), None);
        assert_eq!(
            time_param("since", Some("2026-03-01T10:00:00Z")).unwrap(),
            Some(Timestamp::parse_rfc3339("2026-03-01T10:00:00Z").unwrap())
        );
        let e = time_param("until", Some("yesterday")).unwrap_err();
        assert!(e.message.starts_with("invalid until: "), "{}", e.message);
        assert!(is_language_code("fr") && is_language_code("und"));
        assert!(!is_language_code("FR") && !is_language_code("fra"));
    }
}
