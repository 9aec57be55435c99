//! `GET /api/v1/workspaces/{ws}/mentions`: filtered, newest first, paginated by cursor.

use super::{query_rejection, watch_param, workspace};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use vigie_model::{SentimentLabel, Timestamp};
use vigie_store::{MentionFilter, MentionPage};

/// Page size when `limit` is absent.
const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
const MAX_LIMIT: u32 = 1000;

/// The query string, as text: each value is parsed below with its own message.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MentionParams {
    watch: Option<String>,
    since: Option<String>,
    until: Option<String>,
    sentiment: Option<String>,
    lang: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

pub(crate) async fn list_mentions(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    params: Result<Query<MentionParams>, QueryRejection>,
) -> Result<Json<MentionPage>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
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
    Ok(Json(state.store.list_mentions(&filter).await?))
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
