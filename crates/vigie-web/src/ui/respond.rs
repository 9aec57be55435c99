//! The responding screens: incidents (with the proposed scenarios and one-action
//! activation), the crisis room (figures, tasks, drafts through policy and approval,
//! decisions, timeline, closing) and the shared inbox (ranked by priority, with the formula
//! shown, statuses, assignment and notes).
//!
//! Every form posts to a page route guarded like the others (session, membership, CSRF) and
//! calls the same [`vigie_respond::Engine`] as the JSON API, with the same actor: the
//! workspace role from the membership and the functional roles from the configuration.
//! A refused action re-renders the page with the reason and the error's status; nothing
//! changes.

use super::{Nav, Tr, render, see_other, tr_for, url_encode};
use crate::api::respond::{api_error, user_actor};
use crate::auth::{CurrentUser, Role};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use vigie_model::{Timestamp, WorkspaceId};
use vigie_respond::inbox::InboxStatus;
use vigie_respond::{Engine, InboxAction, Lang};

type Ext<T> = Option<Extension<T>>;

fn engine(ext: Ext<Engine>) -> Result<Engine, ApiError> {
    ext.map(|Extension(e)| e)
        .ok_or_else(|| ApiError::not_found("responding is not enabled in this process"))
}

fn ws_of(user: &CurrentUser) -> Result<WorkspaceId, ApiError> {
    crate::api::path_workspace(user)
}

/// The name of a serde enum value (`waiting_approval`).
fn name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `?msg=`: a notice after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MsgQuery {
    #[serde(default)]
    msg: String,
    #[serde(default)]
    status: String,
}

fn notice(tr: Tr, msg: &str) -> String {
    match msg {
        "" => String::new(),
        "saved" => tr.s("saved").to_owned(),
        "activated" => tr.s("room_activated").to_owned(),
        other => other.chars().take(300).collect(),
    }
}

// ---------------------------------------------------------------- incidents

struct IncidentRow {
    id: i64,
    watch: String,
    level: u8,
    peak: u8,
    opened_at: Timestamp,
    open: bool,
    room: Option<i64>,
    /// `(scenario id, name, score)`, best first.
    proposals: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    tr: Tr,
    nav: Nav,
    ws: String,
    ws_name: String,
    message: String,
    can_act: bool,
    incidents: Vec<IncidentRow>,
    /// `(id, name)` of every scenario, for the activation form.
    scenarios: Vec<(String, String)>,
}

async fn incidents_page(
    state: &AppState,
    ext: Ext<Engine>,
    user: &CurrentUser,
    message: String,
) -> Result<IncidentsPage, ApiError> {
    let ws = ws_of(user)?;
    let tr = tr_for(user);
    let lang = ui_lang(tr);
    let engine = engine(ext)?;
    let rooms = engine.rooms(&ws).await.map_err(api_error)?;
    let scenarios = engine.scenarios(&ws).await.map_err(api_error)?;
    let mut incidents = state.store.list_incidents(&ws).await?;
    incidents.sort_by_key(|i| std::cmp::Reverse(i.opened_at));
    let mut rows = Vec::new();
    for i in incidents.into_iter().take(50) {
        let room = rooms.iter().find(|r| r.incident_id == i.id).map(|r| r.id);
        let proposals = if room.is_none() && i.closed_at.is_none() {
            engine
                .propose(&ws, i.id)
                .await
                .map_err(api_error)?
                .into_iter()
                .take(3)
                .map(|p| {
                    let label = scenarios
                        .iter()
                        .find(|s| s.id == p.scenario)
                        .map_or_else(|| p.scenario.clone(), |s| s.name.get(lang).to_owned());
                    (p.scenario, label, format!("{:.2}", p.score))
                })
                .collect()
        } else {
            Vec::new()
        };
        rows.push(IncidentRow {
            id: i.id,
            watch: i.watch.to_string(),
            level: i.level.as_u8(),
            peak: i.peak_level.as_u8(),
            opened_at: i.opened_at,
            open: i.closed_at.is_none(),
            room,
            proposals,
        });
    }
    Ok(IncidentsPage {
        tr,
        nav: Nav::for_user(state, user, ws.as_str()),
        ws_name: state
            .config
            .workspace(&ws)
            .map_or_else(|| ws.to_string(), |w| w.name.clone()),
        ws: ws.to_string(),
        message,
        can_act: user.require(Role::Responder).is_ok(),
        incidents: rows,
        scenarios: scenarios
            .iter()
            .map(|s| (s.id.clone(), s.name.get(lang).to_owned()))
            .collect(),
    })
}

fn ui_lang(tr: Tr) -> Lang {
    match tr.0 {
        super::Lang::Fr => Lang::Fr,
        super::Lang::En => Lang::En,
    }
}

fn page<T: Template>(page: Result<T, ApiError>, status: StatusCode) -> Response {
    match page {
        Ok(p) => (status, render(&p)).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn incidents_get(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: CurrentUser,
    Query(q): Query<MsgQuery>,
) -> Response {
    let message = notice(tr_for(&user), &q.msg);
    page(
        incidents_page(&state, ext, &user, message).await,
        StatusCode::OK,
    )
}

/// The activation form.
#[derive(Debug, Deserialize)]
pub(crate) struct ActivateForm {
    scenario: String,
    #[serde(default)]
    lang: String,
}

pub(crate) async fn activate_post(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: CurrentUser,
    Path((_, id)): Path<(String, i64)>,
    form: Result<Form<ActivateForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let result = async {
        let Form(form) = form.map_err(|e| ApiError::bad_request(e.body_text()))?;
        user.require(Role::Responder)?;
        let ws = ws_of(&user)?;
        let lang = match form.lang.as_str() {
            "en" => Lang::En,
            "fr" | "" => Lang::Fr,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown language {other:?}: expected fr or en"
                )));
            }
        };
        let activation = engine(ext.clone())?
            .activate(
                &ws,
                id,
                &vigie_respond::ActivateRequest {
                    scenario: form.scenario,
                    lang,
                    variables: std::collections::BTreeMap::new(),
                },
                &user_actor(&state, &user),
            )
            .await
            .map_err(api_error)?;
        Ok::<_, ApiError>(format!(
            "/w/{ws}/rooms/{}?msg=activated",
            activation.room.id
        ))
    }
    .await;
    match result {
        Ok(to) => see_other(&to),
        Err(e) => {
            let status = e.code.status();
            page(incidents_page(&state, ext, &user, e.message).await, status)
        }
    }
}

// ---------------------------------------------------------------- crisis room

struct TaskRow {
    id: i64,
    title: String,
    role: String,
    assignee: String,
    due_at: Timestamp,
    done: bool,
    late: bool,
}

struct DraftRow {
    id: i64,
    channel: String,
    lang: String,
    status: String,
    text: String,
    editable: bool,
    waiting: bool,
    approved: bool,
    verdict: String,
    /// `(verdict, message, excerpt)`.
    findings: Vec<(String, String, String)>,
    reviews: Vec<String>,
    published: String,
}

struct TimelineRow {
    at: Timestamp,
    actor: String,
    action: String,
    subject: String,
}

#[derive(Template)]
#[template(path = "room.html")]
struct RoomPage {
    tr: Tr,
    nav: Nav,
    ws: String,
    message: String,
    id: i64,
    scenario: String,
    posture: String,
    watch: String,
    incident_id: i64,
    level: u8,
    spokesperson: String,
    open: bool,
    opened_at: Timestamp,
    closing_note: String,
    /// `(label, value)`.
    figures: Vec<(&'static str, String)>,
    tasks: Vec<TaskRow>,
    drafts: Vec<DraftRow>,
    decisions: Vec<(Timestamp, String, String)>,
    timeline: Vec<TimelineRow>,
    inbox_open: usize,
    can_act: bool,
    can_approve: bool,
}

async fn room_page(
    state: &AppState,
    ext: Ext<Engine>,
    user: &CurrentUser,
    id: i64,
    message: String,
) -> Result<RoomPage, ApiError> {
    let ws = ws_of(user)?;
    let tr = tr_for(user);
    let lang = ui_lang(tr);
    let engine = engine(ext)?;
    // New negative mentions of the incident join the inbox whenever someone looks.
    let view = engine.room_view(&ws, id).await.map_err(api_error)?;
    let now = engine.now();
    let r = &view.room;
    let f = &view.figures;
    let figures = vec![
        ("room_mentions", f.mentions.to_string()),
        ("room_negative", f.negative.to_string()),
        ("room_open_items", f.open_items.to_string()),
        ("room_late_items", f.late_items.to_string()),
        ("room_tasks", format!("{}/{}", f.tasks_done, f.tasks_total)),
    ];
    let tasks = view
        .tasks
        .iter()
        .map(|t| TaskRow {
            id: t.id,
            title: t.title.get(lang).to_owned(),
            role: t.role.clone(),
            assignee: t.assignee.clone().unwrap_or_default(),
            due_at: t.due_at,
            done: t.done_at.is_some(),
            late: t.is_late(now),
        })
        .collect();
    let drafts = view
        .drafts
        .iter()
        .map(|d| DraftRow {
            id: d.id,
            channel: d.channel.as_str().to_owned(),
            lang: name(&d.lang),
            status: d.status.as_str().to_owned(),
            text: d.text.clone(),
            editable: !d.status.is_out()
                && !matches!(
                    d.status,
                    vigie_respond::DraftStatus::WaitingApproval
                        | vigie_respond::DraftStatus::Approved
                ),
            waiting: d.status == vigie_respond::DraftStatus::WaitingApproval,
            approved: d.status == vigie_respond::DraftStatus::Approved,
            verdict: name(&d.policy.verdict),
            findings: d
                .policy
                .findings
                .iter()
                .map(|x| {
                    (
                        name(&x.verdict),
                        x.message.clone(),
                        x.excerpt.clone().unwrap_or_default(),
                    )
                })
                .collect(),
            reviews: d
                .reviews
                .iter()
                .map(|rv| {
                    format!(
                        "{} {}{}",
                        rv.by,
                        rv.outcome,
                        rv.comment
                            .as_deref()
                            .map(|c| format!(" — {c}"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
            published: d
                .published
                .as_ref()
                .and_then(|p| p.url.clone())
                .unwrap_or_default(),
        })
        .collect();
    let mut timeline: Vec<TimelineRow> = view
        .audit
        .iter()
        .map(|a| TimelineRow {
            at: a.entry.at,
            actor: a.entry.actor.clone(),
            action: a.entry.action.clone(),
            subject: format!(
                "{} {}",
                a.entry.subject_kind,
                a.entry.subject_id.clone().unwrap_or_default()
            ),
        })
        .collect();
    timeline.reverse();
    Ok(RoomPage {
        tr,
        nav: Nav::for_user(state, user, ws.as_str()),
        ws: ws.to_string(),
        message,
        id: r.id,
        scenario: r.scenario.name.get(lang).to_owned(),
        posture: name(&r.scenario.posture.recommended),
        watch: r.watch.to_string(),
        incident_id: r.incident_id,
        level: r.level.as_u8(),
        spokesperson: r.spokesperson.clone(),
        open: r.status == vigie_respond::RoomStatus::Open,
        opened_at: r.opened_at,
        closing_note: r.closing_note.clone().unwrap_or_default(),
        figures,
        tasks,
        drafts,
        decisions: r
            .decisions
            .iter()
            .map(|d| (d.at, d.by.clone(), d.text.clone()))
            .collect(),
        timeline,
        inbox_open: view
            .inbox
            .iter()
            .filter(|i| !matches!(i.status, InboxStatus::Closed | InboxStatus::Ignored))
            .count(),
        can_act: user.require(Role::Responder).is_ok(),
        can_approve: user.require(Role::Manager).is_ok(),
    })
}

pub(crate) async fn room_get(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: CurrentUser,
    Path((_, id)): Path<(String, i64)>,
    Query(q): Query<MsgQuery>,
) -> Response {
    let message = notice(tr_for(&user), &q.msg);
    page(
        room_page(&state, ext, &user, id, message).await,
        StatusCode::OK,
    )
}

/// Every form of the room page: `action` says which, the other fields are optional.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RoomForm {
    action: String,
    #[serde(default)]
    target: Option<i64>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    link: String,
}

pub(crate) async fn room_post(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: CurrentUser,
    Path((_, id)): Path<(String, i64)>,
    form: Result<Form<RoomForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let result = async {
        let Form(form) = form.map_err(|e| ApiError::bad_request(e.body_text()))?;
        let ws = ws_of(&user)?;
        let engine = engine(ext.clone())?;
        let actor = user_actor(&state, &user);
        let target = || {
            form.target
                .ok_or_else(|| ApiError::bad_request("this action needs a target"))
        };
        // Drafts and tasks named by a form must belong to this room.
        let own_draft = |d: &vigie_respond::Draft| {
            if d.room == Some(id) {
                Ok(())
            } else {
                Err(ApiError::not_found("no such draft in this room"))
            }
        };
        match form.action.as_str() {
            "task_done" | "task_reopen" => {
                user.require(Role::Responder)?;
                let view = engine.room_view(&ws, id).await.map_err(api_error)?;
                let task = target()?;
                if !view.tasks.iter().any(|t| t.id == task) {
                    return Err(ApiError::not_found("no such task in this room"));
                }
                engine
                    .set_task(&ws, task, form.action == "task_done", None, &actor)
                    .await
                    .map_err(api_error)?;
            }
            "decision" => {
                user.require(Role::Responder)?;
                engine
                    .add_decision(&ws, id, &form.text, &actor)
                    .await
                    .map_err(api_error)?;
            }
            "close" => {
                user.require(Role::Manager)?;
                engine
                    .close_room(&ws, id, &form.text, None, &actor)
                    .await
                    .map_err(api_error)?;
            }
            "edit" | "submit" => {
                user.require(Role::Responder)?;
                let draft = engine.draft(&ws, target()?).await.map_err(api_error)?;
                own_draft(&draft)?;
                if form.action == "edit" || draft.text != form.text && !form.text.is_empty() {
                    engine
                        .edit_draft(&ws, draft.id, &form.text, &actor)
                        .await
                        .map_err(api_error)?;
                }
                if form.action == "submit" {
                    let d = engine
                        .submit(&ws, draft.id, &actor)
                        .await
                        .map_err(api_error)?;
                    if d.status == vigie_respond::DraftStatus::Blocked {
                        return Ok(format!(
                            "/w/{ws}/rooms/{id}?msg={}#draft-{}",
                            url_encode(tr_for(&user).s("draft_blocked")),
                            d.id
                        ));
                    }
                }
            }
            "approve" | "return" => {
                user.require(Role::Manager)?;
                let draft = engine.draft(&ws, target()?).await.map_err(api_error)?;
                own_draft(&draft)?;
                let comment = Some(form.text.trim().to_owned()).filter(|c| !c.is_empty());
                engine
                    .review(&ws, draft.id, form.action == "approve", comment, &actor)
                    .await
                    .map_err(api_error)?;
            }
            "sent" => {
                user.require(Role::Responder)?;
                let draft = engine.draft(&ws, target()?).await.map_err(api_error)?;
                own_draft(&draft)?;
                engine
                    .mark_sent(&ws, draft.id, form.link.trim(), &actor)
                    .await
                    .map_err(api_error)?;
            }
            other => {
                return Err(ApiError::bad_request(format!("unknown action {other:?}")));
            }
        }
        Ok::<_, ApiError>(format!("/w/{ws}/rooms/{id}?msg=saved"))
    }
    .await;
    match result {
        Ok(to) => see_other(&to),
        Err(e) => {
            let status = e.code.status();
            page(room_page(&state, ext, &user, id, e.message).await, status)
        }
    }
}

// ---------------------------------------------------------------- inbox

struct InboxRow {
    id: i64,
    room: Option<i64>,
    author: String,
    followers: String,
    text: String,
    url: String,
    sentiment: String,
    score: String,
    reach: String,
    negativity: String,
    virality: String,
    status: String,
    assignee: String,
    due_at: Timestamp,
    late: bool,
    notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    tr: Tr,
    nav: Nav,
    ws: String,
    message: String,
    formula: String,
    filter: String,
    statuses: Vec<&'static str>,
    items: Vec<InboxRow>,
    can_act: bool,
}

const STATUSES: [&str; 6] = [
    "new",
    "assigned",
    "waiting_approval",
    "answered",
    "closed",
    "ignored",
];

fn parse_status(s: &str) -> Result<InboxStatus, ApiError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
        ApiError::bad_request(format!(
            "unknown status {s:?}: expected one of {}",
            STATUSES.join(", ")
        ))
    })
}

async fn inbox_page(
    state: &AppState,
    ext: Ext<Engine>,
    user: &CurrentUser,
    filter: &str,
    message: String,
) -> Result<InboxPage, ApiError> {
    let ws = ws_of(user)?;
    let engine = engine(ext)?;
    let status = match filter {
        "" => None,
        s => Some(parse_status(s)?),
    };
    let now = engine.now();
    let items = engine
        .inbox(&ws, status, None)
        .await
        .map_err(api_error)?
        .into_iter()
        .take(200)
        .map(|i| InboxRow {
            id: i.id,
            room: i.room,
            author: i.author.clone(),
            followers: i.followers.map_or_else(|| "?".into(), |f| f.to_string()),
            text: i.text.clone(),
            url: i
                .url
                .clone()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .unwrap_or_default(),
            sentiment: i.sentiment.clone(),
            score: format!("{:.2}", i.priority.score),
            reach: format!("{:.2}", i.priority.reach),
            negativity: format!("{:.2}", i.priority.negativity),
            virality: format!("{:.2}", i.priority.virality),
            status: i.status.as_str().to_owned(),
            assignee: i.assignee.clone().unwrap_or_default(),
            due_at: i.due_at,
            late: i.done_at.is_none()
                && !matches!(i.status, InboxStatus::Closed | InboxStatus::Ignored)
                && i.due_at < now,
            notes: i
                .notes
                .iter()
                .map(|n| format!("{}: {}", n.author, n.text))
                .collect(),
        })
        .collect();
    Ok(InboxPage {
        tr: tr_for(user),
        nav: Nav::for_user(state, user, ws.as_str()),
        ws: ws.to_string(),
        message,
        formula: engine.priority_formula().to_owned(),
        filter: filter.to_owned(),
        statuses: STATUSES.to_vec(),
        items,
        can_act: user.require(Role::Responder).is_ok(),
    })
}

pub(crate) async fn inbox_get(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: CurrentUser,
    Query(q): Query<MsgQuery>,
) -> Response {
    let message = notice(tr_for(&user), &q.msg);
    if !q.status.is_empty() && parse_status(&q.status).is_err() {
        return page(
            inbox_page(
                &state,
                ext,
                &user,
                "",
                format!("unknown status {:?}", q.status),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
    }
    page(
        inbox_page(&state, ext, &user, &q.status, message).await,
        StatusCode::OK,
    )
}

/// One inbox item's form: `op` is `assign`, `status` (with a reason for `ignored`) or
/// `note`; one change per post, so a refused change leaves the item as it was.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InboxForm {
    op: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    filter: String,
}

pub(crate) async fn inbox_post(
    State(state): State<AppState>,
    ext: Ext<Engine>,
    user: CurrentUser,
    Path((_, id)): Path<(String, i64)>,
    form: Result<Form<InboxForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let mut filter = String::new();
    let result = async {
        let Form(form) = form.map_err(|e| ApiError::bad_request(e.body_text()))?;
        filter = form.filter.clone();
        if !filter.is_empty() {
            parse_status(&filter)?;
        }
        user.require(Role::Responder)?;
        let ws = ws_of(&user)?;
        let engine = engine(ext.clone())?;
        let action = match form.op.as_str() {
            "assign" if !form.assignee.trim().is_empty() => InboxAction::Assign {
                assignee: form.assignee.trim().to_owned(),
            },
            "assign" => return Err(ApiError::bad_request("say who to assign the item to")),
            "status" => InboxAction::SetStatus {
                status: parse_status(&form.status)?,
                reason: Some(form.reason.trim().to_owned()).filter(|r| !r.is_empty()),
            },
            "note" if !form.note.trim().is_empty() => InboxAction::Note {
                text: form.note.trim().to_owned(),
            },
            "note" => return Err(ApiError::bad_request("a note needs a text")),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown operation {other:?}"
                )));
            }
        };
        engine
            .inbox_bulk(&ws, &[id], &action, &user_actor(&state, &user))
            .await
            .map_err(api_error)?;
        Ok::<_, ApiError>(format!(
            "/w/{ws}/inbox?msg=saved&status={}#item-{id}",
            url_encode(&form.filter)
        ))
    }
    .await;
    match result {
        Ok(to) => see_other(&to),
        Err(e) => {
            let status = e.code.status();
            page(
                inbox_page(&state, ext, &user, &filter, e.message).await,
                status,
            )
        }
    }
}
