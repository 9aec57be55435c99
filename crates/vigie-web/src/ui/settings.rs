//! Settings: the user's own (`/settings`: language, time zone, password, TOTP, API tokens)
//! and the workspace's (`/w/{ws}/settings`: members and roles, watches, sources and
//! notification channels, read-only except members for admins).

use super::{Nav, Tr, render, see_other, tr_for};
use crate::api::{create_token_for, known_watches, set_role_checked};
use crate::auth::{CurrentUser, Role, hash_password, random_bytes, totp, verify_password};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vigie_model::Timestamp;

/// A token as listed.
#[derive(Debug)]
struct TokenView {
    id: i64,
    name: String,
    scope: &'static str,
    created_at: Timestamp,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    tr: Tr,
    nav: Nav,
    message: String,
    new_token: Option<String>,
    locale: String,
    totp_enabled: bool,
    totp_secret: String,
    totp_uri: String,
    tokens: Vec<TokenView>,
}

/// `?msg=`: which confirmation to show after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MsgQuery {
    #[serde(default)]
    msg: String,
}

async fn settings_page(
    state: &AppState,
    user: &CurrentUser,
    message: String,
    new_token: Option<String>,
) -> Result<SettingsPage, ApiError> {
    let tr = tr_for(user);
    let tokens = state
        .store
        .accounts()
        .list_api_tokens(user.user.id)
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            scope: t.scope.as_str(),
            created_at: t.created_at,
            last_used: t
                .last_used_at
                .map_or_else(|| tr.s("never").to_owned(), |t| t.to_string()),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let secret = totp::base32_encode(&random_bytes(20).map_err(|e| ApiError::internal(&e))?);
    Ok(SettingsPage {
        tr,
        nav: Nav::for_user(state, user, ""),
        message,
        new_token,
        locale: user.user.locale.clone(),
        totp_enabled: user.user.totp_secret.is_some(),
        totp_uri: totp::otpauth_uri("Vigie", &user.user.login, &secret),
        totp_secret: secret,
        tokens,
    })
}

fn respond(page: Result<SettingsPage, ApiError>, status: StatusCode) -> Response {
    match page {
        Ok(p) => (status, render(&p)).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn settings_get(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MsgQuery>,
) -> Response {
    let tr = tr_for(&user);
    let message = if q.msg == "saved" {
        tr.s("saved").to_owned()
    } else {
        String::new()
    };
    respond(
        settings_page(&state, &user, message, None).await,
        StatusCode::OK,
    )
}

/// Language and time zone.
#[derive(Debug, Deserialize)]
pub(crate) struct PreferencesForm {
    #[serde(default)]
    locale: String,
    #[serde(default)]
    time_zone: String,
}

/// An IANA zone name shape (`UTC`, `Europe/Paris`, `America/Argentina/Buenos_Aires`,
/// `Etc/GMT+2`); the browser does the conversion and falls back to UTC for unknown names.
pub(crate) fn valid_time_zone(tz: &str) -> bool {
    !tz.is_empty()
        && tz.len() <= 64
        && tz.split('/').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b))
        })
        && tz.as_bytes()[0].is_ascii_uppercase()
}

pub(crate) async fn preferences_post(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<PreferencesForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return super::error_page(StatusCode::BAD_REQUEST, "malformed form");
    };
    let tz = form.time_zone.trim();
    if !matches!(form.locale.as_str(), "en" | "fr") || !valid_time_zone(tz) {
        let msg = format!(
            "invalid preferences: language must be en or fr, time zone an IANA name such as Europe/Paris (got {:?})",
            tz
        );
        return respond(
            settings_page(&state, &user, msg, None).await,
            StatusCode::BAD_REQUEST,
        );
    }
    match state
        .store
        .accounts()
        .set_preferences(user.user.id, &form.locale, tz)
        .await
    {
        Ok(()) => see_other("/settings?msg=saved"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Password change.
#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
}

pub(crate) async fn password_post(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return super::error_page(StatusCode::BAD_REQUEST, "malformed form");
    };
    if !verify_password(&form.current, &user.user.password_hash) {
        return respond(
            settings_page(&state, &user, "wrong current password".into(), None).await,
            StatusCode::BAD_REQUEST,
        );
    }
    let hash = match hash_password(&form.new) {
        Ok(h) => h,
        Err(e) => {
            return respond(
                settings_page(&state, &user, e.to_string(), None).await,
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let accounts = state.store.accounts();
    let result = async {
        accounts.set_password_hash(user.user.id, &hash).await?;
        // Every other session of the user ends; this one too (sign in again).
        accounts.delete_sessions_of(user.user.id).await?;
        Ok::<_, vigie_store::StoreError>(())
    }
    .await;
    match result {
        Ok(()) => see_other("/login"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// TOTP activation: the secret shown on the page and a code from the app.
#[derive(Debug, Deserialize)]
pub(crate) struct TotpForm {
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
}

pub(crate) async fn totp_enable_post(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<TotpForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return super::error_page(StatusCode::BAD_REQUEST, "malformed form");
    };
    let valid_secret = totp::base32_decode(&form.secret).is_some_and(|b| b.len() >= 16);
    let step = totp::verify_step(&form.secret, &form.code, state.clock.now());
    let Some(step) = step.filter(|_| valid_secret) else {
        return respond(
            settings_page(&state, &user, "wrong code: nothing changed".into(), None).await,
            StatusCode::BAD_REQUEST,
        );
    };
    let accounts = state.store.accounts();
    let saved = async {
        accounts
            .set_totp_secret(user.user.id, Some(form.secret.trim()))
            .await?;
        // The code that proved the new secret is spent: it cannot sign in afterwards.
        accounts
            .use_totp_step(user.user.id, i64::try_from(step).unwrap_or(i64::MAX))
            .await
    };
    match saved.await {
        Ok(_) => see_other("/settings?msg=saved"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub(crate) async fn totp_disable_post(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<TotpForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return super::error_page(StatusCode::BAD_REQUEST, "malformed form");
    };
    let step = user
        .user
        .totp_secret
        .as_deref()
        .and_then(|s| totp::verify_step(s, &form.code, state.clock.now()));
    let ok = match step {
        None => false,
        Some(step) => match state
            .store
            .accounts()
            .use_totp_step(user.user.id, i64::try_from(step).unwrap_or(i64::MAX))
            .await
        {
            Ok(fresh) => fresh,
            Err(e) => return ApiError::from(e).into_response(),
        },
    };
    if !ok {
        return respond(
            settings_page(&state, &user, "wrong code: nothing changed".into(), None).await,
            StatusCode::BAD_REQUEST,
        );
    }
    match state
        .store
        .accounts()
        .set_totp_secret(user.user.id, None)
        .await
    {
        Ok(()) => see_other("/settings?msg=saved"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// A new API token.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
}

pub(crate) async fn token_create_post(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return super::error_page(StatusCode::BAD_REQUEST, "malformed form");
    };
    match create_token_for(&state, user.user.id, &form.name, &form.scope).await {
        Ok((_, (secret, _, _))) => respond(
            settings_page(&state, &user, String::new(), Some(secret)).await,
            StatusCode::CREATED,
        ),
        Err(e) if e.code.status().is_client_error() => respond(
            settings_page(&state, &user, e.message, None).await,
            StatusCode::BAD_REQUEST,
        ),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn token_revoke_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return super::error_page(StatusCode::NOT_FOUND, "no such token");
    };
    match state
        .store
        .accounts()
        .revoke_api_token(user.user.id, id, state.clock.now())
        .await
    {
        Ok(true) => see_other("/settings?msg=saved"),
        Ok(false) => super::error_page(StatusCode::NOT_FOUND, "no such token"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "workspace_settings.html")]
struct WorkspaceSettingsPage {
    tr: Tr,
    nav: Nav,
    ws: String,
    ws_name: String,
    message: String,
    is_admin: bool,
    can_edit: bool,
    /// `(login, display name, role)`.
    members: Vec<(String, String, &'static str)>,
    /// `(id, name, query)`.
    watches: Vec<(String, String, String)>,
    /// `(id, kind)`.
    sources: Vec<(String, String)>,
    /// `(id, kind)`.
    notifiers: Vec<(String, String)>,
}

async fn workspace_page(
    state: &AppState,
    user: &CurrentUser,
    message: String,
) -> Result<WorkspaceSettingsPage, ApiError> {
    let ws = super::pages::page_workspace(user)?;
    let config = state.config.workspace(&ws);
    let members = state
        .store
        .accounts()
        .members_of(&ws)
        .await?
        .into_iter()
        .map(|(u, r)| (u.login, u.display_name, r.as_str()))
        .collect();
    let watches = known_watches(state, &ws)
        .await?
        .into_iter()
        .map(|w| (w.id.to_string(), w.name, w.query))
        .collect();
    let sources = config
        .map(|c| {
            c.sources
                .iter()
                .map(|s| (s.id().to_owned(), s.kind().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let notifiers = state
        .config
        .notify
        .channels
        .iter()
        .map(|c| {
            let kind = serde_json::to_value(&c.kind)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "?".into());
            (c.id.clone(), kind)
        })
        .collect();
    Ok(WorkspaceSettingsPage {
        tr: tr_for(user),
        nav: Nav::for_user(state, user, ws.as_str()),
        ws_name: config.map_or_else(|| ws.to_string(), |c| c.name.clone()),
        ws: ws.to_string(),
        message,
        is_admin: user.require(Role::Admin).is_ok(),
        can_edit: user.require(Role::Manager).is_ok(),
        members,
        watches,
        sources,
        notifiers,
    })
}

pub(crate) async fn workspace_settings_get(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Response {
    match workspace_page(&state, &user, String::new()).await {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

/// Add, change or remove (empty role) a member.
#[derive(Debug, Deserialize)]
pub(crate) struct MemberForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    role: String,
}

pub(crate) async fn workspace_members_post(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<MemberForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return super::error_page(StatusCode::BAD_REQUEST, "malformed form");
    };
    let Ok(ws) = super::pages::page_workspace(&user) else {
        return super::error_page(StatusCode::NOT_FOUND, "no workspace");
    };
    let role = if form.role.is_empty() {
        None
    } else {
        match Role::parse(&form.role) {
            Some(r) => Some(r),
            None => return super::error_page(StatusCode::BAD_REQUEST, "unknown role"),
        }
    };
    let (status, message) =
        match set_role_checked(&state, &user, &ws, form.login.trim(), role).await {
            Ok(()) => (StatusCode::OK, tr_for(&user).s("saved").to_owned()),
            Err(e) if e.code.status().is_client_error() => (e.code.status(), e.message),
            Err(e) => return e.into_response(),
        };
    match workspace_page(&state, &user, message).await {
        Ok(p) => (status, render(&p)).into_response(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zone_names_are_checked() {
        for ok in [
            "UTC",
            "Europe/Paris",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+2",
        ] {
            assert!(valid_time_zone(ok), "{ok}");
        }
        for bad in [
            "",
            "paris",
            "Europe//Paris",
            "Europe/Paris<script>",
            "/Europe",
        ] {
            assert!(!valid_time_zone(bad), "{bad}");
        }
    }
}
