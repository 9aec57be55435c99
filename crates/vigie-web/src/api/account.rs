//! `GET /api/v1/me` and the caller's API tokens: `GET/POST /api/v1/tokens`,
//! `DELETE /api/v1/tokens/{id}`.

use super::{ApiJson, Items};
use crate::auth::{CurrentUser, TokenScope, new_api_token};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use vigie_model::{Timestamp, WorkspaceId};
use vigie_store::{ApiTokenRecord, Role};

/// Who the caller is.
#[derive(Debug, Serialize)]
pub(crate) struct Me {
    id: i64,
    login: String,
    display_name: String,
    locale: String,
    time_zone: String,
    totp_enabled: bool,
    workspaces: Vec<Membership>,
}

/// One workspace role.
#[derive(Debug, Serialize)]
pub(crate) struct Membership {
    workspace: WorkspaceId,
    role: Role,
}

pub(crate) async fn me(user: CurrentUser) -> Json<Me> {
    Json(Me {
        id: user.user.id,
        login: user.user.login.clone(),
        display_name: user.user.display_name.clone(),
        locale: user.user.locale.clone(),
        time_zone: user.user.time_zone.clone(),
        totp_enabled: user.user.totp_secret.is_some(),
        workspaces: user
            .roles
            .iter()
            .map(|(workspace, role)| Membership {
                workspace: workspace.clone(),
                role: *role,
            })
            .collect(),
    })
}

pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<ApiTokenRecord>>, ApiError> {
    let items = state.store.accounts().list_api_tokens(user.user.id).await?;
    Ok(Json(Items { items }))
}

/// `{"name": "...", "scope": "read" | "write"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    name: String,
    scope: String,
}

/// A created token: the only time the secret is shown.
#[derive(Debug, Serialize)]
pub(crate) struct CreatedToken {
    id: i64,
    name: String,
    scope: TokenScope,
    created_at: Timestamp,
    /// The secret; send it as `Authorization: Bearer <token>`. It is not stored and cannot
    /// be shown again.
    token: String,
}

/// Creates a token for the caller (a read token can create nothing: it cannot POST).
pub(crate) async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let (id, created) = create_token_for(&state, user.user.id, &body.name, &body.scope).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id,
            name: body.name.trim().to_owned(),
            scope: created.1,
            created_at: created.2,
            token: created.0,
        }),
    ))
}

/// Validates and stores a new token of `user`; returns its id and `(secret, scope, time)`.
pub(crate) async fn create_token_for(
    state: &AppState,
    user: i64,
    name: &str,
    scope: &str,
) -> Result<(i64, (String, TokenScope, Timestamp)), ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "invalid name: give the token a name of 1 to 100 characters",
        ));
    }
    let scope = TokenScope::parse(scope).ok_or_else(|| {
        ApiError::bad_request(format!(
            "invalid scope: expected \"read\" or \"write\", got {scope:?}"
        ))
    })?;
    let (secret, hash) = new_api_token().map_err(|e| ApiError::internal(&e))?;
    let now = state.clock.now();
    let id = state
        .store
        .accounts()
        .create_api_token(&ApiTokenRecord {
            id: 0,
            token_hash: hash,
            user_id: user,
            name: name.to_owned(),
            scope,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        })
        .await?;
    Ok((id, (secret, scope, now)))
}

/// Revokes one of the caller's tokens (404 for another user's or an unknown token).
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::not_found(format!("no active token {id:?}"));
    let id_num: i64 = id.parse().map_err(|_| not_found())?;
    if state
        .store
        .accounts()
        .revoke_api_token(user.user.id, id_num, state.clock.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError {
            code: ErrorCode::NotFound,
            message: not_found().message,
        })
    }
}
