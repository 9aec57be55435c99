//! Workspace members: `GET /api/v1/workspaces/{ws}/members` (any member) and
//! `PUT`/`DELETE /api/v1/workspaces/{ws}/members/{login}` (admins of the workspace).

use super::query::path_workspace;
use super::{ApiJson, Items};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use vigie_model::WorkspaceId;
use vigie_store::Role;

/// A member of the workspace.
#[derive(Debug, Serialize)]
pub(crate) struct Member {
    login: String,
    display_name: String,
    role: Role,
}

pub(crate) async fn list_members(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<Member>>, ApiError> {
    let ws = path_workspace(&user)?;
    let items = state
        .store
        .accounts()
        .members_of(&ws)
        .await?
        .into_iter()
        .map(|(u, role)| Member {
            login: u.login,
            display_name: u.display_name,
            role,
        })
        .collect();
    Ok(Json(Items { items }))
}

/// `{"role": "admin" | "manager" | "responder" | "viewer"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetRole {
    role: String,
}

/// Gives an existing user a role in the workspace (admins only).
pub(crate) async fn set_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((_, login)): Path<(String, String)>,
    ApiJson(body): ApiJson<SetRole>,
) -> Result<StatusCode, ApiError> {
    user.require(Role::Admin)?;
    let ws = path_workspace(&user)?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::bad_request(format!(
            "invalid role: expected admin, manager, responder or viewer, got {:?}",
            body.role
        ))
    })?;
    set_role_checked(&state, &user, &ws, &login, Some(role)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a user from the workspace (admins only).
pub(crate) async fn remove_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((_, login)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    user.require(Role::Admin)?;
    let ws = path_workspace(&user)?;
    set_role_checked(&state, &user, &ws, &login, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets (`Some`) or removes (`None`) the role of `login` in `ws`, refusing to leave the
/// workspace without an admin.
pub(crate) async fn set_role_checked(
    state: &AppState,
    actor: &CurrentUser,
    ws: &WorkspaceId,
    login: &str,
    role: Option<Role>,
) -> Result<(), ApiError> {
    if actor.role_in(ws) != Some(Role::Admin) {
        return Err(ApiError::forbidden(format!(
            "only admins of workspace {ws} can change its members"
        )));
    }
    let accounts = state.store.accounts();
    let target = accounts
        .user_by_login(login)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {login:?}")))?;
    let members = accounts.members_of(ws).await?;
    let admins = members.iter().filter(|(_, r)| *r == Role::Admin).count();
    let target_is_admin = members
        .iter()
        .any(|(u, r)| u.id == target.id && *r == Role::Admin);
    if target_is_admin && admins == 1 && role != Some(Role::Admin) {
        return Err(ApiError::bad_request(format!(
            "{login} is the last admin of workspace {ws}; make someone else admin first"
        )));
    }
    match role {
        Some(role) => accounts.set_role(target.id, ws, role).await?,
        None => {
            if !accounts.remove_role(target.id, ws).await? {
                return Err(ApiError::not_found(format!(
                    "{login} is not a member of workspace {ws}"
                )));
            }
        }
    }
    Ok(())
}
