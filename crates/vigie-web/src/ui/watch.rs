//! The watch editor: `GET/POST /w/{ws}/watches/{watch}` (managers and admins). The query is
//! checked as you type through `POST /api/v1/workspaces/{ws}/query/check` and previewed
//! through `.../query/preview` (see `assets/app.js`); the form also works without
//! JavaScript, and a bad query is refused with its position and changes nothing.

use super::{Nav, Tr, render, tr_for};
use crate::api::{WatchBody, known_watches, save_watch};
use crate::auth::{CurrentUser, Role};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "watch.html")]
struct WatchPage {
    tr: Tr,
    nav: Nav,
    ws: String,
    watch: String,
    name: String,
    query: String,
    languages: String,
    message: String,
}

pub(crate) async fn watch_edit_get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((_, watch)): Path<(String, String)>,
) -> Response {
    let result = async {
        user.require(Role::Manager)?;
        let ws = super::pages::page_workspace(&user)?;
        let w = known_watches(&state, &ws)
            .await?
            .into_iter()
            .find(|w| w.id.as_str() == watch)
            .ok_or_else(|| ApiError::not_found(format!("unknown watch {watch:?}")))?;
        Ok::<_, ApiError>(WatchPage {
            tr: tr_for(&user),
            nav: Nav::for_user(&state, &user, ws.as_str()),
            ws: ws.to_string(),
            watch: w.id.to_string(),
            name: w.name,
            query: w.query,
            languages: w.languages.join(", "),
            message: String::new(),
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => super::error_page(e.code.status(), &e.message),
    }
}

/// The form fields.
#[derive(Debug, Deserialize)]
pub(crate) struct WatchForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    languages: String,
}

pub(crate) async fn watch_edit_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((_, watch)): Path<(String, String)>,
    form: Result<Form<WatchForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if let Err(e) = user.require(Role::Manager) {
        return super::error_page(e.code.status(), &e.message);
    }
    let Ok(ws) = super::pages::page_workspace(&user) else {
        return super::error_page(StatusCode::NOT_FOUND, "no workspace");
    };
    let Ok(Form(form)) = form else {
        return super::error_page(StatusCode::BAD_REQUEST, "malformed form");
    };
    let tr = tr_for(&user);
    let languages: Vec<String> = form
        .languages
        .split(',')
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect();
    let body = WatchBody {
        name: form.name.clone(),
        query: form.query.clone(),
        languages,
    };
    let (status, message) = match save_watch(&state, &ws, &watch, body).await {
        Ok(_) => (StatusCode::OK, tr.s("saved").to_owned()),
        Err(e) if e.code.status().is_client_error() => (e.code.status(), e.message),
        Err(e) => return e.into_response(),
    };
    let page = WatchPage {
        tr,
        nav: Nav::for_user(&state, &user, ws.as_str()),
        ws: ws.to_string(),
        watch,
        name: form.name,
        query: form.query,
        languages: form.languages,
        message,
    };
    (status, render(&page)).into_response()
}
