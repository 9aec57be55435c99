//! Responding together (issue #7): policy checks, scenarios, activation, crisis rooms, inbox,
//! drafts → approval → publication, the read-only audit log, reports and digests.
//!
//! The engine is taken from an `Extension<vigie_respond::Engine>` layered by the process
//! (`vigie serve`), which carries the scenario library, policies, publishing accounts and the
//! on-call notifier. Without it, an engine is built per request on the store and clock of
//! the state, with the library of `$VIGIE_SCENARIOS_DIR` (default `scenarios/`) when
//! present, and no publishing accounts.
//!
//! **Who acts.** The user comes from the authentication guard ([`CurrentUser`]): name =
//! login, roles = the workspace role (`admin`, `manager`…) and the functional roles of the
//! crisis organisation (`ceo`, `legal`, `community_manager`…) that the workspace's
//! `responsibilities` in the configuration give to that login. What the client sends is
//! never trusted for roles. Approving also needs the workspace role `manager` or above.
//! Without the guard (embedded use, library tests) the name and roles come from the
//! `X-Vigie-User` and `X-Vigie-Roles` headers.
//!
//! The audit log has only a `GET` route: nothing in the API can change or delete it (and
//! the database refuses it too).

use super::{ApiJson, Items, query_rejection, workspace};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vigie_model::WorkspaceId;
use vigie_respond::inbox::{InboxItem, InboxStatus};
use vigie_respond::policy::{Channel, CheckContext, Policy, PolicyReport};
use vigie_respond::{
    ActivateRequest, Actor, Engine, EngineSettings, ErrorKind, InboxAction, Lang, RespondError,
    Scenario, ScenarioLibrary, report,
};
use vigie_store::Role;

/// The routes, merged into `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/policy/check", post(policy_check))
        .route("/workspaces/{ws}/policy/check", post(policy_check_ws))
        .route(
            "/workspaces/{ws}/scenarios",
            get(list_scenarios).post(create_scenario),
        )
        .route(
            "/workspaces/{ws}/scenarios/{id}",
            get(get_scenario).put(put_scenario).delete(delete_scenario),
        )
        .route("/workspaces/{ws}/incidents/{id}/proposals", get(proposals))
        .route(
            "/workspaces/{ws}/incidents/{id}/acknowledge",
            post(acknowledge),
        )
        .route("/workspaces/{ws}/incidents/{id}/activate", post(activate))
        .route(
            "/workspaces/{ws}/incidents/{id}/report",
            get(incident_report),
        )
        .route("/workspaces/{ws}/rooms", get(list_rooms))
        .route("/workspaces/{ws}/rooms/{id}", get(room))
        .route("/workspaces/{ws}/rooms/{id}/decisions", post(decision))
        .route("/workspaces/{ws}/rooms/{id}/close", post(close_room))
        .route("/workspaces/{ws}/rooms/{id}/lessons", put(lessons))
        .route("/workspaces/{ws}/tasks/{id}", put(update_task))
        .route("/workspaces/{ws}/inbox", get(inbox))
        .route("/workspaces/{ws}/inbox/bulk", post(inbox_bulk))
        .route(
            "/workspaces/{ws}/drafts",
            get(list_drafts).post(create_draft),
        )
        .route(
            "/workspaces/{ws}/drafts/{id}",
            get(get_draft).put(edit_draft),
        )
        .route("/workspaces/{ws}/drafts/{id}/submit", post(submit))
        .route("/workspaces/{ws}/drafts/{id}/approve", post(approve))
        .route("/workspaces/{ws}/drafts/{id}/return", post(return_draft))
        .route("/workspaces/{ws}/drafts/{id}/publish", post(publish))
        .route("/workspaces/{ws}/drafts/{id}/sent", post(mark_sent))
        .route("/workspaces/{ws}/audit", get(audit))
        .route("/workspaces/{ws}/digest", get(digest))
}

pub(crate) fn api_error(e: RespondError) -> ApiError {
    let code = match e.kind() {
        ErrorKind::BadRequest => ErrorCode::BadRequest,
        ErrorKind::NotFound => ErrorCode::NotFound,
        ErrorKind::Conflict => ErrorCode::Conflict,
        ErrorKind::Forbidden => ErrorCode::Forbidden,
        ErrorKind::Upstream => ErrorCode::Unavailable,
        ErrorKind::Internal => return ApiError::internal(&e),
    };
    ApiError {
        code,
        message: e.to_string(),
    }
}

type Ext<T> = Option<Extension<T>>;

/// The engine of the process, or one built for this request (without a publisher: replies
/// can then only be marked "sent by hand").
fn engine(state: &AppState, ext: Ext<Engine>) -> Result<Engine, ApiError> {
    if let Some(Extension(e)) = ext {
        return Ok(e);
    }
    base_engine(state)
}

/// The engine a process serves (layered once by `vigie serve` and `vigie demo --serve`):
/// the scenario library of `VIGIE_SCENARIOS_DIR` (default `scenarios/`), the workspaces'
/// names as brands, and publishing to Mastodon and Bluesky.
/// The process's responding engine: scenarios from `VIGIE_SCENARIOS_DIR` (default
/// `scenarios/`), each workspace's policy and publishing accounts, and, with a mobilizer,
/// the people holding a crisis room's roles notified when it opens ([`MobilizerRoles`]).
pub fn process_engine(
    state: &AppState,
    mobilizer: Option<&vigie_notify::Mobilizer>,
) -> Result<Engine, ApiError> {
    let publisher = vigie_respond::publish::Publisher::new().map_err(api_error)?;
    let engine = base_engine(state)?.with_publisher(publisher);
    Ok(match mobilizer {
        Some(m) => engine.with_notifier(std::sync::Arc::new(MobilizerRoles {
            mobilizer: m.clone(),
            config: state.config.clone(),
        })),
        None => engine,
    })
}

/// Tells the people who hold a crisis room's roles that it opened, through the mobilizer:
/// roles → logins from the workspace's `responsibilities`, logins → `[[notify.people]]`
/// (by their `login`, the person's id by default), each reached on their own channels in
/// their language, with the mobilizer's retries and dead letters.
#[derive(Debug, Clone)]
pub struct MobilizerRoles {
    mobilizer: vigie_notify::Mobilizer,
    config: std::sync::Arc<vigie_config::Config>,
}

#[async_trait::async_trait]
impl vigie_respond::RoleNotifier for MobilizerRoles {
    async fn notify_roles(
        &self,
        notice: &vigie_respond::RoomNotice<'_>,
    ) -> Result<vigie_respond::RoleNotification, String> {
        let ws = self
            .config
            .workspaces
            .iter()
            .find(|w| &w.id == notice.workspace)
            .ok_or_else(|| format!("no workspace {}", notice.workspace))?;
        let people = &self.mobilizer.config().people;
        let mut outcome = vigie_respond::RoleNotification::default();
        // Person id → the roles they are told about (one message each).
        let mut per_person: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for role in notice.roles {
            let logins = ws.responsibilities.get(role).map_or(&[][..], Vec::as_slice);
            let reached: Vec<String> = people
                .iter()
                .filter(|p| logins.contains(&p.login) && !p.channels.is_empty())
                .map(|p| p.id.clone())
                .collect();
            if reached.is_empty() {
                outcome.unreached.push(role.clone());
                continue;
            }
            for p in &reached {
                per_person.entry(p.clone()).or_default().push(role.clone());
            }
            outcome.notified.insert(role.clone(), reached);
        }
        let public_url = &self.mobilizer.config().public_url;
        let url = format!(
            "{public_url}/w/{}/rooms/{}",
            notice.workspace, notice.room_id
        );
        let level = notice.level.as_u8();
        for (person, roles) in &per_person {
            let roles = roles.join(", ");
            let en = format!(
                "The scenario \u{201c}{}\u{201d} was activated for {}/{} (level {level}, incident {}). Your role: {roles}. Your tasks, drafts and approvals are waiting in the crisis room.",
                notice.scenario.0, notice.workspace, notice.watch, notice.incident_id
            );
            let fr = format!(
                "Le scénario \u{ab}\u{a0}{}\u{a0}\u{bb} a été activé pour {}/{} (niveau {level}, incident {}). Votre rôle\u{a0}: {roles}. Vos tâches, brouillons et validations vous attendent dans la cellule de crise.",
                notice.scenario.1, notice.workspace, notice.watch, notice.incident_id
            );
            self.mobilizer
                .notify_people(
                    notice.workspace,
                    notice.watch,
                    notice.level,
                    std::slice::from_ref(person),
                    (&en, &fr),
                    &url,
                )
                .await;
        }
        Ok(outcome)
    }
}

fn base_engine(state: &AppState) -> Result<Engine, ApiError> {
    // `VIGIE_SCENARIOS_DIR` (which must exist when set), else `scenarios/` in the working
    // directory, else the library compiled into the binary.
    let library = match std::env::var("VIGIE_SCENARIOS_DIR") {
        Ok(dir) => ScenarioLibrary::load_dir(std::path::Path::new(&dir)).map_err(api_error)?,
        Err(_) if std::path::Path::new("scenarios").is_dir() => {
            ScenarioLibrary::load_dir(std::path::Path::new("scenarios")).map_err(api_error)?
        }
        Err(_) => ScenarioLibrary::shipped().map_err(api_error)?,
    };
    let brands = state
        .config
        .workspaces
        .iter()
        .map(|w| (w.id.as_str().to_owned(), w.name.clone()))
        .collect();
    let settings = EngineSettings {
        library,
        brands,
        policies: workspace_policies(&state.config),
        accounts: publish_accounts(&state.config),
        ..EngineSettings::default()
    };
    Engine::new(state.store.clone(), state.clock.clone(), settings).map_err(api_error)
}

/// Each workspace's policy: the built-in rules plus the terms of its `policy` table.
fn workspace_policies(config: &vigie_config::Config) -> std::collections::BTreeMap<String, Policy> {
    config
        .workspaces
        .iter()
        .map(|w| {
            let mut p = Policy::default();
            let add = |list: &mut Vec<String>, more: &[String]| {
                for t in more {
                    if !list.contains(t) {
                        list.push(t.clone());
                    }
                }
            };
            add(&mut p.forbidden_terms, &w.policy.forbidden_terms);
            add(&mut p.confidential_terms, &w.policy.confidential_terms);
            add(&mut p.sensitive_terms, &w.policy.sensitive_terms);
            p.block_blame |= w.policy.block_blame;
            (w.id.as_str().to_owned(), p)
        })
        .collect()
}

/// The configured publishing accounts whose secret resolves; an account whose secret is
/// missing (an unset `env:` variable) is left out with a warning, so the rest of the
/// process still starts (publishing to it answers "no such account").
fn publish_accounts(config: &vigie_config::Config) -> Vec<vigie_respond::publish::PublishAccount> {
    use vigie_config::PublishAccountConfig as C;
    use vigie_respond::publish::{AccountKind, PublishAccount};
    let mut out = Vec::new();
    for w in &config.workspaces {
        for a in &w.publish_accounts {
            let kind = match a {
                C::Mastodon {
                    instance, token, ..
                } => token.resolve().map(|token| AccountKind::Mastodon {
                    instance: instance.clone(),
                    token,
                }),
                C::Bluesky {
                    pds,
                    identifier,
                    password,
                    ..
                } => password.resolve().map(|password| AccountKind::Bluesky {
                    pds: pds.clone(),
                    identifier: identifier.clone(),
                    password,
                }),
            };
            match kind {
                Ok(kind) => out.push(PublishAccount {
                    id: a.id().to_owned(),
                    workspace: w.id.as_str().to_owned(),
                    kind,
                }),
                Err(e) => tracing::warn!(
                    workspace = %w.id, account = a.id(), error = %e,
                    "publishing account left out"
                ),
            }
        }
    }
    out
}

/// Who acts (see the module documentation).
/// The actor of a signed-in user: the workspace role from the membership and the functional
/// roles from the workspace's `responsibilities`.
pub(crate) fn user_actor(state: &AppState, u: &CurrentUser) -> Actor {
    let mut roles = Vec::new();
    if let Some((ws, role)) = &u.workspace {
        roles.push(role.as_str().to_owned());
        if let Some(config) = state.config.workspace(ws) {
            roles.extend(config.responsibilities_of(&u.user.login));
        }
    }
    Actor {
        name: u.user.login.clone(),
        roles,
    }
}

fn actor(
    state: &AppState,
    user: &Ext<CurrentUser>,
    headers: &HeaderMap,
) -> Result<Actor, ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match user {
        // Authenticated: the workspace role from the membership and the functional roles
        // from the workspace's `responsibilities`; nothing the client says is trusted.
        Some(Extension(u)) => Ok(user_actor(state, u)),
        // Embedded use without the authentication guard (library tests): the caller is
        // trusted to say who acts and in which roles.
        None => Ok(Actor {
            name: header("x-vigie-user")
                .ok_or_else(|| ApiError::unauthorized("say who you are (X-Vigie-User)"))?
                .to_owned(),
            roles: header("x-vigie-roles")
                .unwrap_or_default()
                .split(',')
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect(),
        }),
    }
}

/// Approving needs the workspace role `manager` or above when users are authenticated.
fn require_approver(user: &Ext<CurrentUser>) -> Result<(), ApiError> {
    match user {
        Some(Extension(u)) => u.require(Role::Manager).map(|_| ()),
        None => Ok(()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    text: String,
    #[serde(default = "default_channel")]
    channel: Channel,
    #[serde(default)]
    lang: Lang,
    #[serde(default)]
    crisis: bool,
    /// Use this workspace's policy (else the default policy).
    #[serde(default)]
    workspace: Option<String>,
}

fn default_channel() -> Channel {
    Channel::X
}

#[derive(Debug, Serialize)]
struct CheckAnswer {
    #[serde(flatten)]
    report: PolicyReport,
    /// The policy's rules that were applied.
    workspace: Option<String>,
}

async fn policy_check(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    ApiJson(body): ApiJson<CheckBody>,
) -> Result<Json<CheckAnswer>, ApiError> {
    let ws = match body.workspace.as_deref() {
        Some(raw) => {
            let ws = workspace(&state, raw).await?;
            // A workspace's policy quotes its confidential terms: members only, and the
            // same 404 as for a workspace that does not exist.
            if let Some(Extension(u)) = &user
                && u.role_in(&ws).is_none()
            {
                return Err(ApiError::not_found(format!("unknown workspace {raw:?}")));
            }
            Some(ws)
        }
        None => None,
    };
    run_check(&state, ext, ws, body)
}

async fn policy_check_ws(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<CheckBody>,
) -> Result<Json<CheckAnswer>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    run_check(&state, ext, Some(ws), body)
}

fn run_check(
    state: &AppState,
    ext: Ext<Engine>,
    ws: Option<WorkspaceId>,
    body: CheckBody,
) -> Result<Json<CheckAnswer>, ApiError> {
    if body.text.chars().count() > 100_000 {
        return Err(ApiError::bad_request("text longer than 100 000 characters"));
    }
    let policy = match &ws {
        Some(ws) => engine(state, ext)?.policy(ws),
        None => Policy::default(),
    };
    let report = vigie_respond::check(
        &policy,
        &body.text,
        CheckContext {
            channel: body.channel,
            lang: body.lang,
            crisis: body.crisis,
        },
    );
    Ok(Json(CheckAnswer {
        report,
        workspace: ws.map(|w| w.as_str().to_owned()),
    }))
}

// ------------------------------------------------------------------- scenarios

async fn list_scenarios(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path(ws): Path<String>,
) -> Result<Json<Items<Scenario>>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let items = engine(&state, ext)?
        .scenarios(&ws)
        .await
        .map_err(api_error)?;
    Ok(Json(Items { items }))
}

async fn get_scenario(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path((ws, id)): Path<(String, String)>,
) -> Result<Json<Scenario>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let s = engine(&state, ext)?
        .scenario(&ws, &id)
        .await
        .map_err(api_error)?;
    Ok(Json(s))
}

async fn create_scenario(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path(ws): Path<String>,
    ApiJson(scenario): ApiJson<Scenario>,
) -> Result<Response, ApiError> {
    let ws = workspace(&state, &ws).await?;
    require_approver(&user)?;
    let actor = actor(&state, &user, &headers)?;
    let engine = engine(&state, ext)?;
    if engine.scenario(&ws, &scenario.id).await.is_ok() {
        return Err(ApiError {
            code: ErrorCode::Conflict,
            message: format!("scenario {:?} exists; use PUT to replace it", scenario.id),
        });
    }
    engine
        .save_scenario(&ws, &scenario, &actor)
        .await
        .map_err(api_error)?;
    Ok((axum::http::StatusCode::CREATED, Json(scenario)).into_response())
}

async fn put_scenario(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, String)>,
    ApiJson(scenario): ApiJson<Scenario>,
) -> Result<Json<Scenario>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    require_approver(&user)?;
    if scenario.id != id {
        return Err(ApiError::bad_request(format!(
            "the body's id {:?} differs from the path's {id:?}",
            scenario.id
        )));
    }
    let actor = actor(&state, &user, &headers)?;
    engine(&state, ext)?
        .save_scenario(&ws, &scenario, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(scenario))
}

async fn delete_scenario(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, String)>,
) -> Result<axum::http::StatusCode, ApiError> {
    let ws = workspace(&state, &ws).await?;
    require_approver(&user)?;
    let actor = actor(&state, &user, &headers)?;
    engine(&state, ext)?
        .delete_scenario(&ws, &id, &actor)
        .await
        .map_err(api_error)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------- incidents

#[derive(Debug, Serialize)]
struct ProposalsAnswer {
    incident: i64,
    items: Vec<vigie_respond::scenario::Proposal>,
}

async fn proposals(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path((ws, id)): Path<(String, i64)>,
) -> Result<Json<ProposalsAnswer>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let items = engine(&state, ext)?
        .propose(&ws, id)
        .await
        .map_err(api_error)?;
    Ok(Json(ProposalsAnswer {
        incident: id,
        items,
    }))
}

async fn acknowledge(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
) -> Result<axum::http::StatusCode, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    engine(&state, ext)?
        .acknowledge(&ws, id, &actor)
        .await
        .map_err(api_error)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivateBody {
    scenario: String,
    #[serde(default)]
    lang: Lang,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

async fn activate(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<ActivateBody>,
) -> Result<Response, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    let activation = engine(&state, ext)?
        .activate(
            &ws,
            id,
            &ActivateRequest {
                scenario: body.scenario,
                lang: body.lang,
                variables: body.variables,
            },
            &actor,
        )
        .await
        .map_err(api_error)?;
    Ok((axum::http::StatusCode::CREATED, Json(activation)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportParams {
    format: Option<String>,
    lang: Option<String>,
}

fn lang_param(raw: Option<&str>) -> Result<Lang, ApiError> {
    match raw {
        None | Some("") => Ok(Lang::Fr),
        Some(s) => Lang::parse(s)
            .ok_or_else(|| ApiError::bad_request(format!("invalid lang {s:?}: expected fr or en"))),
    }
}

async fn incident_report(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path((ws, id)): Path<(String, i64)>,
    params: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let ws = workspace(&state, &ws).await?;
    let lang = lang_param(params.lang.as_deref())?;
    let format = params.format.as_deref().unwrap_or("html");
    if !matches!(format, "html" | "pdf" | "json") {
        return Err(ApiError::bad_request(format!(
            "invalid format {format:?}: expected html, pdf or json"
        )));
    }
    let engine = engine(&state, ext)?;
    let data = report::build(&engine, &ws, id, lang)
        .await
        .map_err(api_error)?;
    Ok(match format {
        "pdf" => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/pdf"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!(
                        "attachment; filename=\"incident-{id}-{}.pdf\"",
                        lang.as_str()
                    ))
                    .unwrap_or(HeaderValue::from_static("attachment")),
                ),
            ],
            report::render_pdf(&data),
        )
            .into_response(),
        "json" => Json(data).into_response(),
        _ => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            report::render_html(&data),
        )
            .into_response(),
    })
}

// ------------------------------------------------------------------- rooms and tasks

async fn list_rooms(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path(ws): Path<String>,
) -> Result<Json<Items<vigie_respond::CrisisRoom>>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let items = engine(&state, ext)?.rooms(&ws).await.map_err(api_error)?;
    Ok(Json(Items { items }))
}

async fn room(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path((ws, id)): Path<(String, i64)>,
) -> Result<Json<vigie_respond::RoomView>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let view = engine(&state, ext)?
        .room_view(&ws, id)
        .await
        .map_err(api_error)?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBody {
    text: String,
}

async fn decision(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<vigie_respond::CrisisRoom>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    let room = engine(&state, ext)?
        .add_decision(&ws, id, &body.text, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(room))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    note: String,
    #[serde(default)]
    lessons: Option<String>,
}

async fn close_room(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<CloseBody>,
) -> Result<Json<vigie_respond::CrisisRoom>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    require_approver(&user)?;
    let actor = actor(&state, &user, &headers)?;
    let room = engine(&state, ext)?
        .close_room(&ws, id, &body.note, body.lessons, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(room))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonsBody {
    lessons: String,
}

async fn lessons(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<LessonsBody>,
) -> Result<Json<vigie_respond::CrisisRoom>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    let room = engine(&state, ext)?
        .set_lessons(&ws, id, &body.lessons, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(room))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskBody {
    done: bool,
    #[serde(default)]
    assignee: Option<String>,
}

async fn update_task(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<TaskBody>,
) -> Result<Json<vigie_respond::Task>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    let task = engine(&state, ext)?
        .set_task(&ws, id, body.done, body.assignee, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(task))
}

// ------------------------------------------------------------------- inbox

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InboxParams {
    status: Option<String>,
    assignee: Option<String>,
}

#[derive(Debug, Serialize)]
struct InboxAnswer {
    /// How priority is computed.
    formula: &'static str,
    items: Vec<InboxItem>,
}

async fn inbox(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path(ws): Path<String>,
    params: Result<Query<InboxParams>, QueryRejection>,
) -> Result<Json<InboxAnswer>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let ws = workspace(&state, &ws).await?;
    let status = match params.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            InboxStatus::parse(s)
                .ok_or_else(|| ApiError::bad_request(format!("invalid status {s:?}")))?,
        ),
    };
    let engine = engine(&state, ext)?;
    let items = engine
        .inbox(
            &ws,
            status,
            params.assignee.as_deref().filter(|a| !a.is_empty()),
        )
        .await
        .map_err(api_error)?;
    Ok(Json(InboxAnswer {
        formula: engine.priority_formula(),
        items,
    }))
}

#[derive(Debug, Deserialize)]
struct BulkBody {
    ids: Vec<i64>,
    #[serde(flatten)]
    action: InboxAction,
}

async fn inbox_bulk(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<BulkBody>,
) -> Result<Json<Items<InboxItem>>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    if body.ids.len() > 1000 {
        return Err(ApiError::bad_request("at most 1000 items per bulk action"));
    }
    let items = engine(&state, ext)?
        .inbox_bulk(&ws, &body.ids, &body.action, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(Items { items }))
}

// ------------------------------------------------------------------- drafts

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftParams {
    room: Option<i64>,
}

async fn list_drafts(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path(ws): Path<String>,
    params: Result<Query<DraftParams>, QueryRejection>,
) -> Result<Json<Items<vigie_respond::Draft>>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let ws = workspace(&state, &ws).await?;
    let items = engine(&state, ext)?
        .drafts(&ws, params.room)
        .await
        .map_err(api_error)?;
    Ok(Json(Items { items }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDraftBody {
    text: String,
    channel: Channel,
    #[serde(default)]
    lang: Lang,
    #[serde(default)]
    room: Option<i64>,
    #[serde(default)]
    inbox_item: Option<i64>,
    #[serde(default)]
    approvers: Vec<String>,
}

async fn create_draft(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<NewDraftBody>,
) -> Result<Response, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    let draft = engine(&state, ext)?
        .create_draft(
            &ws,
            body.room,
            body.inbox_item,
            body.channel,
            body.lang,
            &body.text,
            body.approvers,
            &actor,
        )
        .await
        .map_err(api_error)?;
    Ok((axum::http::StatusCode::CREATED, Json(draft)).into_response())
}

async fn get_draft(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path((ws, id)): Path<(String, i64)>,
) -> Result<Json<vigie_respond::Draft>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let d = engine(&state, ext)?
        .draft(&ws, id)
        .await
        .map_err(api_error)?;
    Ok(Json(d))
}

async fn edit_draft(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<vigie_respond::Draft>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    let d = engine(&state, ext)?
        .edit_draft(&ws, id, &body.text, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(d))
}

async fn submit(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
) -> Result<Json<vigie_respond::Draft>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    let d = engine(&state, ext)?
        .submit(&ws, id, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(d))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    #[serde(default)]
    comment: Option<String>,
}

async fn approve(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    body: axum::body::Bytes,
) -> Result<Json<vigie_respond::Draft>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    require_approver(&user)?;
    let actor = actor(&state, &user, &headers)?;
    // The body is optional: `{}` or `{"comment": "…"}`.
    let comment = if body.is_empty() {
        None
    } else {
        serde_json::from_slice::<ReviewBody>(&body)
            .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))?
            .comment
    };
    let d = engine(&state, ext)?
        .review(&ws, id, true, comment, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(d))
}

async fn return_draft(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Json<vigie_respond::Draft>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    require_approver(&user)?;
    let actor = actor(&state, &user, &headers)?;
    let d = engine(&state, ext)?
        .review(&ws, id, false, body.comment, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(d))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    account: String,
}

async fn publish(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<PublishBody>,
) -> Result<Json<vigie_respond::Draft>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    let d = engine(&state, ext)?
        .publish(&ws, id, &body.account, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(d))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SentBody {
    link: String,
}

async fn mark_sent(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<SentBody>,
) -> Result<Json<vigie_respond::Draft>, ApiError> {
    let ws = workspace(&state, &ws).await?;
    let actor = actor(&state, &user, &headers)?;
    let d = engine(&state, ext)?
        .mark_sent(&ws, id, &body.link, &actor)
        .await
        .map_err(api_error)?;
    Ok(Json(d))
}

// ------------------------------------------------------------------- audit, digest

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    room: Option<i64>,
    after: Option<i64>,
    limit: Option<u32>,
}

async fn audit(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path(ws): Path<String>,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<Items<vigie_store::AuditEntry>>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let ws = workspace(&state, &ws).await?;
    let limit = params.limit.unwrap_or(500);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::bad_request("invalid limit: expected 1 to 10000"));
    }
    let items = engine(&state, ext)?
        .audit_log(&ws, params.room, params.after.unwrap_or(0), limit)
        .await
        .map_err(api_error)?;
    Ok(Json(Items { items }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DigestParams {
    period: Option<String>,
    lang: Option<String>,
}

async fn digest(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    Path(ws): Path<String>,
    params: Result<Query<DigestParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let ws = workspace(&state, &ws).await?;
    let lang = lang_param(params.lang.as_deref())?;
    let raw = params.period.as_deref().unwrap_or("daily");
    let period = vigie_config::DigestPeriod::parse(raw).ok_or_else(|| {
        ApiError::bad_request(format!("invalid period {raw:?}: expected daily or weekly"))
    })?;
    let config = state
        .config
        .workspace(&ws)
        .ok_or_else(|| ApiError::bad_request(format!("no workspace {ws} in the configuration")))?;
    let engine = engine(&state, ext)?;
    let data = vigie_respond::digest::build(
        &engine,
        config,
        period,
        engine.now(),
        lang,
        &state.config.notify.public_url,
    )
    .await
    .map_err(api_error)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        vigie_respond::digest::render_html(&data),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::test_support::{CONFIG, at, seeded_store, send, token_of};
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use serde_json::{Value, json};
    use std::sync::Arc;

    /// The app over the seeded store, with bodies large enough for drafts and the shipped
    /// scenario library in the engine.
    async fn app() -> (axum::Router, tempfile::TempDir) {
        let (store, dir) = seeded_store().await;
        let config = vigie_config::parse(
            &CONFIG
                .replace("max_body_bytes = 64", "max_body_bytes = 65536")
                .replace("\"200ms\"", "\"10s\"")
                .replace(
                    "name = \"ACME\"\n",
                    "name = \"ACME\"\nresponsibilities = { head_of_communication = [\"mona\"], community_manager = [\"rick\"] }\n",
                ),
            "test.toml",
        )
        .unwrap();
        let clock: Arc<dyn vigie_model::Clock> = Arc::new(vigie_model::ManualClock::new(at(50)));
        let state =
            AppState::new(store.clone(), Arc::new(config), None, at(0)).with_clock(clock.clone());
        let library = ScenarioLibrary::load_dir(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios"),
        )
        .unwrap();
        let engine = Engine::new(
            store,
            clock,
            EngineSettings {
                library,
                ..EngineSettings::default()
            },
        )
        .unwrap();
        (crate::router(state).layer(Extension(engine)), dir)
    }

    async fn call(
        app: &axum::Router,
        method: &str,
        uri: &str,
        login: &str,
        roles: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", token_of(login)))
            .header("x-vigie-roles", roles);
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let (status, _, value) = send(app, req.body(body).unwrap()).await;
        (status, value)
    }

    /// The process engine takes each workspace's policy terms and publishing accounts from
    /// the configuration; an account whose secret is missing is left out.
    #[tokio::test]
    async fn workspace_policy_and_accounts_come_from_the_configuration() {
        let (store, _dir) = seeded_store().await;
        let config = vigie_config::parse(
            &CONFIG
                .replace("max_body_bytes = 64", "max_body_bytes = 65536")
                .replace(
                    "name = \"ACME\"\n",
                    "name = \"ACME\"\npolicy = { confidential_terms = [\"projet aurore\"] }\n[[workspaces.publish_accounts]]\nid = \"m\"\ntype = \"mastodon\"\ninstance = \"https://m.example\"\ntoken = \"tok\"\n[[workspaces.publish_accounts]]\nid = \"gone\"\ntype = \"mastodon\"\ninstance = \"https://m.example\"\ntoken = \"env:VIGIE_TEST_SURELY_UNSET_TOKEN\"\n",
                ),
            "test.toml",
        )
        .unwrap();
        let accounts = publish_accounts(&config);
        assert_eq!(
            accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["m"]
        );
        let state = AppState::new(store, Arc::new(config), None, at(0));
        let engine = process_engine(&state, None).unwrap();
        let app = crate::router(state).layer(Extension(engine));
        let body = json!({"text": "Le projet Aurore avance, merci de votre patience.", "channel": "x", "lang": "fr"});
        let (status, answer) = call(
            &app,
            "POST",
            "/api/v1/workspaces/acme/policy/check",
            "rick",
            "",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["verdict"], "block", "{answer}");
        assert!(answer.to_string().contains("confidential"), "{answer}");
        // Another workspace's check does not use acme's terms.
        let (_, answer) = call(
            &app,
            "POST",
            "/api/v1/workspaces/globex/policy/check",
            "ada",
            "",
            Some(body),
        )
        .await;
        assert_ne!(answer["verdict"], "block", "{answer}");
    }

    /// Activating a scenario tells the people who hold its roles, over a real webhook
    /// channel (a local HTTP server), each once, in their language, with the room's link; the
    /// audit log says who was reached for which role and which roles nobody holds.
    #[tokio::test]
    async fn activation_notifies_the_people_holding_the_rooms_roles() {
        use std::sync::Mutex;
        let received: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        let hook = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push(v);
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, hook).await });

        let (store, _dir) = seeded_store().await;
        let src = format!(
            "{}\n[notify]\npublic_url = \"https://vigie.example.org\"\n[[notify.channels]]\nid = \"hook\"\ntype = \"webhook\"\nurl = \"http://{addr}/hook\"\n[[notify.people]]\nid = \"mona\"\nname = \"Mona\"\nlanguage = \"fr\"\nchannels = [\"hook\"]\n[[notify.people]]\nid = \"richard\"\nname = \"Richard\"\nlogin = \"rick\"\nchannels = [\"hook\"]\n",
            CONFIG
                .replace("max_body_bytes = 64", "max_body_bytes = 65536")
                .replace("\"200ms\"", "\"10s\"")
                .replace(
                    "name = \"ACME\"\n",
                    "name = \"ACME\"\nresponsibilities = { head_of_communication = [\"mona\"], community_manager = [\"rick\", \"mona\"] }\n",
                )
        );
        let config = Arc::new(vigie_config::parse(&src, "test.toml").unwrap());
        let clock: Arc<dyn vigie_model::Clock> = Arc::new(vigie_model::ManualClock::new(at(50)));
        let env = |_: &str| None;
        let notifiers = config
            .notify
            .channels
            .iter()
            .map(|c| (c.id.clone(), vigie_notify::build_notifier(c, &env).unwrap()))
            .collect();
        let mobilizer = vigie_notify::Mobilizer::new(
            config.notify.clone(),
            store.clone(),
            clock.clone(),
            vigie_notify::AckSigner::random(),
            notifiers,
        )
        .unwrap();
        let state = AppState::new(store.clone(), config, None, at(0)).with_clock(clock);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let library = ScenarioLibrary::load_dir(&dir).unwrap();
        let engine = Engine::new(
            store,
            state.clock.clone(),
            EngineSettings {
                library,
                ..EngineSettings::default()
            },
        )
        .unwrap()
        .with_notifier(Arc::new(MobilizerRoles {
            mobilizer: mobilizer.clone(),
            config: state.config.clone(),
        }));
        let app = crate::router(state).layer(Extension(engine));
        let activate = json!({"scenario": "service-outage", "lang": "en", "variables": {"service": "The app"}});
        let (status, body) = call(
            &app,
            "POST",
            "/api/v1/workspaces/acme/incidents/1/activate",
            "rick",
            "",
            Some(activate),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let room = body["room"]["id"].as_i64().unwrap();
        mobilizer.flush().await;

        let got = received.lock().unwrap().clone();
        assert_eq!(got.len(), 2, "one message per person: {got:?}");
        let to = |name: &str| {
            got.iter()
                .find(|v| v["message"]["recipient_name"] == name)
                .unwrap_or_else(|| panic!("nothing for {name}: {got:?}"))
                .clone()
        };
        let mona = to("Mona");
        assert_eq!(mona["message"]["kind"], "room_opened");
        let text = mona["text"].as_str().unwrap();
        assert!(text.contains("Cellule de crise ouverte"), "{text}");
        assert!(
            text.contains("community_manager, head_of_communication"),
            "{text}"
        );
        assert!(text.contains(&format!("https://vigie.example.org/w/acme/rooms/{room}")));
        let richard = to("Richard");
        let text = richard["text"].as_str().unwrap();
        assert!(text.contains("Crisis room opened"), "{text}");
        assert!(text.contains("Your role: community_manager."), "{text}");
        assert!(richard["message"]["ack_url"].is_null());

        // The audit log: who was reached for which role; the roles nobody holds.
        let (status, audit) = call(
            &app,
            "GET",
            &format!("/api/v1/workspaces/acme/audit?room={room}"),
            "rick",
            "",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{audit}");
        let entry = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "room.roles_notified")
            .unwrap_or_else(|| panic!("{audit}"))
            .clone();
        let reached = &entry["after"]["reached"];
        assert_eq!(
            reached["notified"]["community_manager"],
            json!(["mona", "richard"])
        );
        assert_eq!(
            reached["notified"]["head_of_communication"],
            json!(["mona"])
        );
        // Every other role of the scenario is listed as reaching nobody.
        let unreached: Vec<&str> = reached["unreached"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        let roles: Vec<&str> = entry["after"]["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .filter(|r| !["community_manager", "head_of_communication"].contains(r))
            .collect();
        assert!(!roles.is_empty());
        assert_eq!(unreached, roles, "{entry}");
    }

    #[tokio::test]
    async fn policy_check_answers_with_verdict_and_spans() {
        let (app, _dir) = app().await;
        let (status, body) = call(
            &app,
            "POST",
            "/api/v1/policy/check",
            "rick",
            "",
            Some(json!({"text": "Vous auriez dû lire la notice.", "channel": "x", "lang": "fr", "crisis": true})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["verdict"], "warn");
        assert_eq!(body["findings"][0]["rule"], "blaming_tone");
        assert_eq!(body["findings"][0]["span"], json!({"start": 0, "end": 14}));
        let (status, body) = call(
            &app,
            "POST",
            "/api/v1/policy/check",
            "rick",
            "",
            Some(json!({"text": "x", "channel": "telegram"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }

    #[tokio::test]
    async fn activation_drafts_approval_roles_audit_and_report_through_the_api() {
        let (app, _dir) = app().await;
        let base = "/api/v1/workspaces/acme";
        let (status, body) =
            call(&app, "GET", &format!("{base}/scenarios"), "vera", "", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["items"].as_array().unwrap().len() >= 8);
        let (status, _) = call(
            &app,
            "GET",
            &format!("{base}/incidents/1/proposals"),
            "vera",
            "",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);

        // A viewer cannot activate; a responder can, in one call.
        let activate = json!({"scenario": "service-outage", "lang": "en", "variables": {"service": "The app"}});
        let (status, _) = call(
            &app,
            "POST",
            &format!("{base}/incidents/1/activate"),
            "vera",
            "",
            Some(activate.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = call(
            &app,
            "POST",
            &format!("{base}/incidents/1/activate"),
            "rick",
            "community_manager",
            Some(activate),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let room = body["room"]["id"].as_i64().unwrap();
        let draft = body["drafts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["channel"] == "x")
            .unwrap()
            .clone();
        let id = draft["id"].as_i64().unwrap();

        // Unfilled {{next_update}}: blocked; corrected; submitted.
        let (status, body) = call(
            &app,
            "POST",
            &format!("{base}/drafts/{id}/submit"),
            "rick",
            "",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "blocked");
        let text = draft["text"]
            .as_str()
            .unwrap()
            .replace("{{next_update}}", "19:00")
            .replace("{{status_url}}", "https://status.acme.test");
        let (status, _) = call(
            &app,
            "PUT",
            &format!("{base}/drafts/{id}"),
            "rick",
            "",
            Some(json!({"text": text})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (_, body) = call(
            &app,
            "POST",
            &format!("{base}/drafts/{id}/submit"),
            "rick",
            "",
            None,
        )
        .await;
        assert_eq!(body["status"], "waiting_approval", "{body}");

        // A responder cannot approve even when claiming the role; a manager with it can.
        let (status, _) = call(
            &app,
            "POST",
            &format!("{base}/drafts/{id}/approve"),
            "rick",
            "head_of_communication",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // An admin who does not hold the role in the configuration cannot claim it.
        let (status, _) = call(
            &app,
            "POST",
            &format!("{base}/drafts/{id}/approve"),
            "alice",
            "head_of_communication",
            None,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "a role claimed in X-Vigie-Roles is not trusted"
        );
        // mona holds head_of_communication through the workspace's responsibilities.
        let (status, body) = call(
            &app,
            "POST",
            &format!("{base}/drafts/{id}/approve"),
            "mona",
            "",
            Some(json!({"comment": "ok"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "approved");
        // No publishing account here: publish is refused, "sent by hand" works.
        let (status, _) = call(
            &app,
            "POST",
            &format!("{base}/drafts/{id}/publish"),
            "rick",
            "",
            Some(json!({"account": "nope"})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = call(
            &app,
            "POST",
            &format!("{base}/drafts/{id}/sent"),
            "rick",
            "",
            Some(json!({"link": "https://x.test/acme/1"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "sent_by_hand");

        // The room, the inbox with its formula, the audit log (read only).
        let (status, body) = call(
            &app,
            "GET",
            &format!("{base}/rooms/{room}"),
            "vera",
            "",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["room"]["scenario"]["id"], "service-outage");
        let (_, body) = call(&app, "GET", &format!("{base}/inbox"), "vera", "", None).await;
        assert!(
            body["formula"]
                .as_str()
                .unwrap()
                .starts_with("priority = reach × negativity × virality")
        );
        let (status, body) = call(
            &app,
            "GET",
            &format!("{base}/audit?room={room}"),
            "vera",
            "",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let actions: Vec<&str> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for step in [
            "room.opened",
            "draft.blocked",
            "draft.edited",
            "draft.submitted",
            "draft.approved",
            "draft.sent_by_hand",
        ] {
            assert!(actions.contains(&step), "{step} missing in {actions:?}");
        }
        for method in ["POST", "PUT", "PATCH", "DELETE"] {
            let (status, _) = call(
                &app,
                method,
                &format!("{base}/audit"),
                "ada",
                "",
                Some(json!({})),
            )
            .await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} /audit");
        }

        // Reports in both formats and languages.
        let (status, body) = call(
            &app,
            "GET",
            &format!("{base}/incidents/1/report?format=html&lang=en"),
            "vera",
            "",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.as_str().unwrap().contains("Time to first answer"));
        let req = Request::get(format!("{base}/incidents/1/report?format=pdf&lang=fr"))
            .header("authorization", format!("Bearer {}", token_of("vera")))
            .body(Body::empty())
            .unwrap();
        let (status, headers, _) = send(&app, req).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "application/pdf");
        let (status, _) = call(
            &app,
            "GET",
            &format!("{base}/incidents/1/report?format=doc"),
            "vera",
            "",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, body) = call(
            &app,
            "GET",
            &format!("{base}/digest?period=weekly&lang=fr"),
            "vera",
            "",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.as_str().unwrap().contains("Synthèse hebdomadaire"));
        // Another workspace's member sees nothing.
        let (status, _) = call(
            &app,
            "GET",
            &format!("{base}/rooms/{room}"),
            "gus",
            "",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
