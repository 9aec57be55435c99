//! The JSON API under `/api/v1`: one module per resource, and the lookups they share.

mod account;
mod dashboard;
mod events;
mod levels;
mod members;
pub(crate) mod mentions;
pub(crate) mod mobilize;
mod query;
pub(crate) mod respond;
mod workspaces;

pub(crate) use account::create_token_for;
pub(crate) use dashboard::{DashboardData, dashboard_data};
pub(crate) use members::set_role_checked;
pub(crate) use query::{WatchBody, path_workspace, save_watch};

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::routing::{delete, get, post, put};
use serde::Serialize;
use serde::de::DeserializeOwned;
use vigie_model::{WatchId, WorkspaceId};
use vigie_store::WatchRecord;

/// The `/api/v1` routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/workspaces", get(workspaces::list_workspaces))
        .route("/workspaces/{ws}/watches", get(workspaces::list_watches))
        .route("/workspaces/{ws}/mentions", get(mentions::list_mentions))
        .route("/workspaces/{ws}/levels", get(levels::current_levels))
        .route(
            "/workspaces/{ws}/levels/history",
            get(levels::level_history),
        )
        .route("/workspaces/{ws}/incidents", get(events::list_incidents))
        .route("/workspaces/{ws}/signals", get(events::list_signals))
        .route(
            "/workspaces/{ws}/sources/health",
            get(events::source_health),
        )
        .merge(respond::routes())
        .merge(mobilize::routes())
        .route("/openapi.json", get(crate::openapi::openapi_json))
        .route("/me", get(account::me))
        .route(
            "/tokens",
            get(account::list_tokens).post(account::create_token),
        )
        .route("/tokens/{id}", delete(account::revoke_token))
        .route("/workspaces/{ws}/watches/{watch}", put(query::update_watch))
        .route("/workspaces/{ws}/query/check", post(query::check_query))
        .route("/workspaces/{ws}/query/preview", post(query::preview_query))
        .route("/workspaces/{ws}/dashboard", get(dashboard::dashboard))
        .route("/workspaces/{ws}/live", get(dashboard::live))
        .route("/workspaces/{ws}/members", get(members::list_members))
        .route(
            "/workspaces/{ws}/members/{login}",
            put(members::set_member).delete(members::remove_member),
        )
}

/// A JSON body whose rejections are `{code, message}` errors: 415 when the content type is
/// not JSON, 400 for malformed JSON or missing/unknown fields, 413 when too large.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn json_rejection(e: JsonRejection) -> ApiError {
    use crate::error::ErrorCode;
    match e {
        JsonRejection::MissingJsonContentType(_) => ApiError {
            code: ErrorCode::UnsupportedMediaType,
            message: "expected a JSON body with `Content-Type: application/json`".into(),
        },
        JsonRejection::BytesRejection(b)
            if b.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
        {
            ApiError {
                code: ErrorCode::PayloadTooLarge,
                message: "request body is larger than the limit".into(),
            }
        }
        other => ApiError::bad_request(format!("malformed JSON body: {}", other.body_text())),
    }
}

/// A list answer: `{"items": [...]}`.
#[derive(Debug, Serialize)]
pub(crate) struct Items<T> {
    pub items: Vec<T>,
}

/// The workspace named in the path, if it is configured or has data in the store (404
/// otherwise, including for ids that are not valid slugs).
pub(crate) async fn workspace(state: &AppState, raw: &str) -> Result<WorkspaceId, ApiError> {
    let unknown = || ApiError::not_found(format!("unknown workspace {raw:?}"));
    let id = WorkspaceId::new(raw).map_err(|_| unknown())?;
    if state.config.workspace(&id).is_some() || state.store.list_workspaces().await?.contains(&id) {
        Ok(id)
    } else {
        Err(unknown())
    }
}

/// The watches of a workspace: those recorded in the store (active or not, in their order),
/// then configured watches not recorded yet.
pub(crate) async fn known_watches(
    state: &AppState,
    ws: &WorkspaceId,
) -> Result<Vec<WatchRecord>, ApiError> {
    let mut watches = state.store.list_watches(ws).await?;
    if let Some(config) = state.config.workspace(ws) {
        for w in &config.watches {
            if !watches.iter().any(|r| r.id == w.id) {
                watches.push(WatchRecord {
                    id: w.id.clone(),
                    name: w.name.clone(),
                    query: w.query.source().to_owned(),
                    languages: w.languages.clone(),
                    own_accounts: w.own_accounts.clone(),
                    active: true,
                });
            }
        }
    }
    Ok(watches)
}

/// A `watch` parameter: a watch of the workspace (400 if not a slug, 404 if unknown).
pub(crate) async fn watch_param(
    state: &AppState,
    ws: &WorkspaceId,
    raw: Option<&str>,
) -> Result<Option<WatchId>, ApiError> {
    let Some(raw) = raw.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let id = WatchId::new(raw).map_err(|e| ApiError::bad_request(format!("invalid watch: {e}")))?;
    if known_watches(state, ws).await?.iter().any(|w| w.id == id) {
        Ok(Some(id))
    } else {
        Err(ApiError::not_found(format!(
            "unknown watch {raw:?} in workspace {ws}"
        )))
    }
}

/// A `limit` parameter: a whole number from 1 to `max`, `default` when absent.
pub(crate) fn limit_param(raw: Option<&str>, default: u32, max: u32) -> Result<u32, ApiError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "invalid limit: expected a whole number from 1 to {max}, got {s:?}"
            ))),
        },
    }
}

/// A malformed or unknown query parameter.
pub(crate) fn query_rejection(e: QueryRejection) -> ApiError {
    ApiError::bad_request(format!("invalid query string: {}", e.body_text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_bounded() {
        assert_eq!(limit_param(None, 50, 1000).unwrap(), 50);
        assert_eq!(limit_param(Some(""), 50, 1000).unwrap(), 50);
        assert_eq!(limit_param(Some("1000"), 50, 1000).unwrap(), 1000);
        for bad in ["0", "1001", "-1", "ten"] {
            let e = limit_param(Some(bad), 50, 1000).unwrap_err();
            assert!(e.message.starts_with("invalid limit:"), "{}", e.message);
        }
    }
}
