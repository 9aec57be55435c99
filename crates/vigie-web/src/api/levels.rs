//! `GET /api/v1/workspaces/{ws}/levels` and `.../levels/history`.

use super::{Items, known_watches, query_rejection, watch_param, workspace};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use vigie_model::{CrisisLevel, Explanation, LevelChange, Timestamp, WatchId};

/// The current level of one watch, with why.
#[derive(Debug, Serialize)]
pub(crate) struct LevelItem {
    watch: WatchId,
    name: String,
    /// `calm` when no change was ever recorded.
    level: CrisisLevel,
    /// The level as 0 to 3.
    level_value: u8,
    /// When the level was reached; `null` when it never changed.
    since: Option<Timestamp>,
    /// The evidence; `null` when the level never changed.
    explanation: Option<Explanation>,
}

pub(crate) async fn current_levels(
    State(state): State<AppState>,
    Path(ws): Path<String>,
) -> Result<Json<Items<LevelItem>>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let mut levels = state.store.current_levels(&ws).await?;
    let items = known_watches(&state, &ws)
        .await?
        .into_iter()
        .map(|w| {
            let current = levels
                .iter()
                .position(|l| l.watch == w.id)
                .map(|i| levels.swap_remove(i));
            let level = current.as_ref().map_or(CrisisLevel::Calm, |l| l.level);
            LevelItem {
                level,
                level_value: level.as_u8(),
                since: current.as_ref().map(|l| l.since),
                explanation: current.map(|l| l.explanation),
                watch: w.id,
                name: w.name,
            }
        })
        .collect();
    Ok(Json(Items { items }))
}

/// `?watch=`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryParams {
    watch: Option<String>,
}

pub(crate) async fn level_history(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Json<Items<LevelChange>>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let ws = workspace(&state, &ws).await?;
    let watch = watch_param(&state, &ws, params.watch.as_deref()).await?;
    let items = state.store.level_history(&ws, watch.as_ref()).await?;
    Ok(Json(Items { items }))
}
