//! `GET /api/v1/workspaces/{ws}/incidents` and `.../signals`.

use super::{Items, limit_param, query_rejection, watch_param, workspace};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use vigie_model::{Incident, Signal};

/// Signals returned when `limit` is absent.
const DEFAULT_SIGNAL_LIMIT: u32 = 100;
/// Most signals in one answer.
const MAX_SIGNAL_LIMIT: u32 = 1000;

pub(crate) async fn list_incidents(
    State(state): State<AppState>,
    Path(ws): Path<String>,
) -> Result<Json<Items<Incident>>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let items = state.store.list_incidents(&ws).await?;
    Ok(Json(Items { items }))
}

/// `?watch=&limit=`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalParams {
    watch: Option<String>,
    limit: Option<String>,
}

pub(crate) async fn list_signals(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    params: Result<Query<SignalParams>, QueryRejection>,
) -> Result<Json<Items<Signal>>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let ws = workspace(&state, &ws).await?;
    let limit = limit_param(
        params.limit.as_deref(),
        DEFAULT_SIGNAL_LIMIT,
        MAX_SIGNAL_LIMIT,
    )?;
    let watch = watch_param(&state, &ws, params.watch.as_deref()).await?;
    let items = state.store.list_signals(&ws, watch.as_ref(), limit).await?;
    Ok(Json(Items { items }))
}

/// `GET /workspaces/{ws}/sources/health`: each source of the workspace running in this
/// process (state, last event, lag, errors, rejected records, next retry), by source id.
/// In a scaled-out installation, the ingest role's answer is the one that lists them.
pub(crate) async fn source_health(
    State(state): State<AppState>,
    Path(ws): Path<String>,
) -> Result<Json<Items<vigie_connect::health::SourceHealth>>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let items = vigie_connect::health::HealthRegistry::global()
        .snapshot()
        .into_iter()
        .filter(|h| h.workspace == ws.as_str())
        .collect();
    Ok(Json(Items { items }))
}
