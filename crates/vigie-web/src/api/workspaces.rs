//! `GET /api/v1/workspaces` and `GET /api/v1/workspaces/{ws}/watches`.

use super::{Items, known_watches, workspace};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use std::collections::HashMap;
use vigie_model::{CrisisLevel, Timestamp, WatchId, WorkspaceId};

/// A workspace in the list.
#[derive(Debug, Serialize)]
pub(crate) struct WorkspaceItem {
    id: WorkspaceId,
    /// The configured name, or the id for a workspace only found in the store.
    name: String,
    /// Still in the configuration.
    configured: bool,
    /// Number of configured watches.
    watches: usize,
}

/// The caller's workspaces: configured ones in file order, then those only found in the
/// store. Workspaces the caller is not a member of are never listed.
pub(crate) async fn list_workspaces(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<WorkspaceItem>>, ApiError> {
    let mut items: Vec<WorkspaceItem> = state
        .config
        .workspaces
        .iter()
        .map(|w| WorkspaceItem {
            id: w.id.clone(),
            name: w.name.clone(),
            configured: true,
            watches: w.watches.len(),
        })
        .collect();
    for id in state.store.list_workspaces().await? {
        if !items.iter().any(|i| i.id == id) {
            items.push(WorkspaceItem {
                name: id.to_string(),
                id,
                configured: false,
                watches: 0,
            });
        }
    }
    items.retain(|i| user.role_in(&i.id).is_some());
    Ok(Json(Items { items }))
}

/// A watch with its current level.
#[derive(Debug, Serialize)]
pub(crate) struct WatchItem {
    id: WatchId,
    name: String,
    query: String,
    languages: Vec<String>,
    own_accounts: Vec<String>,
    /// Still in the configuration.
    active: bool,
    /// `calm`, `vigilance`, `alert` or `crisis` (`calm` when no change was ever recorded).
    level: CrisisLevel,
    /// The level as 0 to 3.
    level_value: u8,
    /// When the current level was reached, if it ever changed.
    level_since: Option<Timestamp>,
}

pub(crate) async fn list_watches(
    State(state): State<AppState>,
    Path(ws): Path<String>,
) -> Result<Json<Items<WatchItem>>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let watches = known_watches(&state, &ws).await?;
    let levels: HashMap<WatchId, (CrisisLevel, Timestamp)> = state
        .store
        .current_levels(&ws)
        .await?
        .into_iter()
        .map(|l| (l.watch, (l.level, l.since)))
        .collect();
    let items = watches
        .into_iter()
        .map(|w| {
            let (level, since) = levels
                .get(&w.id)
                .map_or((CrisisLevel::Calm, None), |(l, s)| (*l, Some(*s)));
            WatchItem {
                id: w.id,
                name: w.name,
                query: w.query,
                languages: w.languages,
                own_accounts: w.own_accounts,
                active: w.active,
                level,
                level_value: level.as_u8(),
                level_since: since,
            }
        })
        .collect();
    Ok(Json(Items { items }))
}
