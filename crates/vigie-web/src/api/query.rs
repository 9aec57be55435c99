//! The watch editor's API: `POST /api/v1/workspaces/{ws}/query/check` (errors with their
//! position, as you type), `POST .../query/preview` (which recent mentions would match) and
//! `PUT .../watches/{watch}` (save a watch's name, query and languages).

use super::{ApiJson, Items, known_watches};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use vigie_model::{Timestamp, WatchId, WorkspaceId};
use vigie_store::{MentionFilter, Role};

/// Longest query accepted (characters).
pub(crate) const MAX_QUERY_CHARS: usize = 4000;
/// Recent mentions a preview looks through.
const PREVIEW_SCAN: u32 = 1000;
/// Matches a preview returns at most.
const PREVIEW_MAX: usize = 50;

/// `{"query": "..."}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueryBody {
    query: String,
    #[serde(default)]
    limit: Option<usize>,
}

/// The result of a check: `ok`, the normalized form and warnings, or the error with its
/// position (in characters, 0-based).
#[derive(Debug, Serialize)]
pub(crate) struct CheckResult {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized: Option<String>,
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<PositionedError>,
}

/// A parse error.
#[derive(Debug, Serialize)]
pub(crate) struct PositionedError {
    position: usize,
    message: String,
    hint: Option<String>,
}

/// Checks a query (pure; used by the editor and the API).
pub(crate) fn check(query: &str) -> CheckResult {
    if query.chars().count() > MAX_QUERY_CHARS {
        return CheckResult {
            ok: false,
            normalized: None,
            warnings: Vec::new(),
            error: Some(PositionedError {
                position: MAX_QUERY_CHARS,
                message: format!("query longer than {MAX_QUERY_CHARS} characters"),
                hint: None,
            }),
        };
    }
    match vigie_query::parse(query) {
        Ok(q) => CheckResult {
            ok: true,
            normalized: Some(q.explain()),
            warnings: q.lint().iter().map(ToString::to_string).collect(),
            error: None,
        },
        Err(e) => CheckResult {
            ok: false,
            normalized: None,
            warnings: Vec::new(),
            error: Some(PositionedError {
                position: e.position,
                message: e.message,
                hint: e.hint,
            }),
        },
    }
}

pub(crate) async fn check_query(ApiJson(body): ApiJson<QueryBody>) -> Json<CheckResult> {
    Json(check(&body.query))
}

/// One mention a query would match.
#[derive(Debug, Serialize)]
pub(crate) struct PreviewItem {
    id: i64,
    published_at: Timestamp,
    author: String,
    text: String,
    /// The parts of the query found in the text.
    matched: Vec<String>,
}

/// Matches among the workspace's most recent mentions.
#[derive(Debug, Serialize)]
pub(crate) struct Preview {
    scanned: usize,
    matched: usize,
    items: Vec<PreviewItem>,
}

pub(crate) async fn preview_query(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<QueryBody>,
) -> Result<Json<Preview>, ApiError> {
    let ws = path_workspace(&user)?;
    let limit = body.limit.unwrap_or(20).clamp(1, PREVIEW_MAX);
    Ok(Json(preview(&state, &ws, &body.query, limit).await?))
}

/// Runs `query` over the workspace's most recent mentions.
pub(crate) async fn preview(
    state: &AppState,
    ws: &WorkspaceId,
    query: &str,
    limit: usize,
) -> Result<Preview, ApiError> {
    let q = vigie_query::parse(query).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid query: {} at character {}",
            e.message, e.position
        ))
    })?;
    let mut filter = MentionFilter::workspace(ws.clone());
    filter.limit = PREVIEW_SCAN;
    let page = state.store.list_mentions(&filter).await?;
    let mut out = Preview {
        scanned: page.items.len(),
        matched: 0,
        items: Vec::new(),
    };
    for m in &page.items {
        let lang = m
            .mention
            .enrichment
            .language
            .as_ref()
            .map(|l| l.code.as_str());
        let doc = vigie_query::Document::from_mention(&m.mention.mention, lang);
        if let Some(matched) = q.explain_match(&doc) {
            out.matched += 1;
            if out.items.len() < limit {
                out.items.push(PreviewItem {
                    id: m.id,
                    published_at: m.mention.mention.published_at,
                    author: m.mention.mention.author.handle.clone(),
                    text: m.mention.mention.text.clone(),
                    matched,
                });
            }
        }
    }
    Ok(out)
}

/// `{"name": "...", "query": "...", "languages": ["fr"]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WatchBody {
    pub(crate) name: String,
    pub(crate) query: String,
    #[serde(default)]
    pub(crate) languages: Vec<String>,
}

/// The saved watch.
#[derive(Debug, Serialize)]
pub(crate) struct SavedWatch {
    id: WatchId,
    name: String,
    query: String,
    languages: Vec<String>,
}

/// Saves a watch (managers and admins).
pub(crate) async fn update_watch(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((_, watch)): Path<(String, String)>,
    ApiJson(body): ApiJson<WatchBody>,
) -> Result<Json<Items<SavedWatch>>, ApiError> {
    user.require(Role::Manager)?;
    let ws = path_workspace(&user)?;
    let saved = save_watch(&state, &ws, &watch, body).await?;
    Ok(Json(Items { items: vec![saved] }))
}

/// Validates and stores a watch edit; nothing changes when anything is invalid.
pub(crate) async fn save_watch(
    state: &AppState,
    ws: &WorkspaceId,
    watch: &str,
    body: WatchBody,
) -> Result<SavedWatch, ApiError> {
    let id = WatchId::new(watch)
        .map_err(|_| ApiError::not_found(format!("unknown watch {watch:?} in workspace {ws}")))?;
    let mut watches = known_watches(state, ws).await?;
    let Some(position) = watches.iter().position(|w| w.id == id) else {
        return Err(ApiError::not_found(format!(
            "unknown watch {watch:?} in workspace {ws}"
        )));
    };
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request("invalid name: 1 to 200 characters"));
    }
    let checked = check(&body.query);
    if let Some(e) = checked.error {
        return Err(ApiError::bad_request(format!(
            "invalid query: {} at character {}",
            e.message, e.position
        )));
    }
    for l in &body.languages {
        if !(l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase())) {
            return Err(ApiError::bad_request(format!(
                "invalid language {l:?}: expected a lowercase ISO 639-1 code such as \"fr\""
            )));
        }
    }
    let w = &mut watches[position];
    w.name = name;
    w.query = body.query.trim().to_owned();
    w.languages = body.languages;
    let saved = SavedWatch {
        id: w.id.clone(),
        name: w.name.clone(),
        query: w.query.clone(),
        languages: w.languages.clone(),
    };
    state.store.sync_watches(ws, &watches).await?;
    Ok(saved)
}

pub(crate) fn path_workspace(user: &CurrentUser) -> Result<WorkspaceId, ApiError> {
    user.workspace
        .as_ref()
        .map(|(ws, _)| ws.clone())
        .ok_or_else(|| ApiError::forbidden("this route names no workspace"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn check_reports_positions() {
        let ok = check("acme AND (boycott OR honte)");
        assert!(ok.ok && ok.error.is_none());
        assert!(ok.normalized.unwrap().contains("AND"));
        let bad = check("acme AND (boycott");
        assert!(!bad.ok);
        let e = bad.error.unwrap();
        assert!(e.position <= 17, "{}", e.position);
        assert!(!e.message.is_empty());
        let long = check(&"a ".repeat(MAX_QUERY_CHARS));
        assert!(!long.ok);
    }
}
