//! Mobilizing (issue #6): incidents and their timeline, acknowledgement by API and by signed
//! link, comments, first public answer, resolution with a note, who is on call, rotations,
//! escalation state, notifier health and dead letters.
//!
//! The service is a `vigie_notify::Mobilizer` taken from an `Extension` layered by the
//! process (`vigie serve`); without it every route answers 503 `unavailable`.
//!
//! - [`routes`] is merged into `/api/v1` (behind the authentication guard). Writes need the
//!   workspace role `responder` or above when users are authenticated; without the guard
//!   (tests, embedded use) the actor comes from the `X-Vigie-User` header.
//! - [`ack_routes`] is public: `GET /ack/{token}` shows what the link acknowledges and a
//!   button; `POST /ack/{token}` acknowledges. The signed token is the credential (HMAC,
//!   expiring, single-use); a `GET` never uses it up, so link previews in chat apps and mail
//!   scanners do not acknowledge on someone's behalf.

use super::{ApiJson, Items, limit_param, query_rejection, workspace};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use vigie_model::{Timestamp, WorkspaceId};
use vigie_notify::{
    ChannelHealth, Escalation, MobilizeError, MobilizedIncident, Mobilizer, OnCall, Rotation, Sla,
    Status, TimelineEntry, escape,
};
use vigie_store::Role;

type Ext<T> = Option<Extension<T>>;

/// The authenticated routes, merged into `/api/v1`.
pub fn routes() -> Router<AppState> {
    let inc = "/workspaces/{ws}/mobilize/incidents/{id}";
    Router::new()
        .route("/workspaces/{ws}/mobilize/incidents", get(list_incidents))
        .route(inc, get(get_incident))
        .route(&format!("{inc}/timeline"), get(get_timeline))
        .route(&format!("{inc}/ack"), post(ack))
        .route(&format!("{inc}/comments"), post(comment))
        .route(&format!("{inc}/answer"), post(answer))
        .route(&format!("{inc}/resolve"), post(resolve))
        .route("/workspaces/{ws}/mobilize/escalations", get(escalations))
        .route("/workspaces/{ws}/mobilize/dead-letters", get(dead_letters))
        .route("/mobilize/oncall", get(on_call))
        .route("/mobilize/rotations", get(rotations))
        .route("/mobilize/notifiers/health", get(health))
}

/// The public acknowledgement link routes, merged at the root.
pub fn ack_routes() -> Router<AppState> {
    Router::new().route("/ack/{token}", get(ack_page).post(ack_link))
}

fn service(m: &Ext<Mobilizer>) -> Result<&Mobilizer, ApiError> {
    m.as_ref().map(|Extension(m)| m).ok_or_else(|| ApiError {
        code: ErrorCode::Unavailable,
        message: "mobilizing is not configured on this server".into(),
    })
}

fn api_error(e: MobilizeError) -> ApiError {
    match e {
        MobilizeError::NotFound(id) => ApiError::not_found(format!("no incident {id}")),
        MobilizeError::Invalid(m) => ApiError::bad_request(m),
        MobilizeError::Link(m) => {
            ApiError::bad_request(format!("acknowledgement link refused: {m}"))
        }
        MobilizeError::Store(e) => e.into(),
    }
}

/// Who acts: the authenticated user (with at least `minimum` in the workspace), else the
/// `X-Vigie-User` header.
fn actor(user: &Ext<CurrentUser>, headers: &HeaderMap, minimum: Role) -> Result<String, ApiError> {
    match user {
        Some(Extension(u)) => {
            u.require(minimum)?;
            Ok(u.user.login.clone())
        }
        None => headers
            .get("x-vigie-user")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::unauthorized("say who you are (X-Vigie-User)")),
    }
}

/// The on-call routes without a workspace in their path serve installation-wide data
/// (rotations with names and override reasons; channel health with error texts): they need
/// the role `minimum` in at least one workspace (403 otherwise).
fn require_somewhere(user: &Ext<CurrentUser>, minimum: Role) -> Result<(), ApiError> {
    match user {
        Some(Extension(u)) if u.roles.iter().any(|(_, r)| r.at_least(minimum)) => Ok(()),
        Some(Extension(_)) => Err(ApiError::forbidden(format!(
            "this needs the {} role in at least one workspace",
            minimum.as_str()
        ))),
        None => Ok(()),
    }
}

/// The incident `id` of workspace `ws` (404 when it belongs to another workspace).
async fn incident_of(
    m: &Mobilizer,
    ws: &WorkspaceId,
    id: i64,
) -> Result<MobilizedIncident, ApiError> {
    let incident = m.incident(id).await.map_err(api_error)?;
    if &incident.workspace != ws {
        return Err(ApiError::not_found(format!(
            "no incident {id} in workspace {ws}"
        )));
    }
    Ok(incident)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    limit: Option<String>,
}

async fn list_incidents(
    State(state): State<AppState>,
    m: Ext<Mobilizer>,
    Path(ws): Path<String>,
    q: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<Items<MobilizedIncident>>, ApiError> {
    let m = service(&m)?;
    let ws = workspace(&state, &ws).await?;
    let Query(q) = q.map_err(query_rejection)?;
    let limit = limit_param(q.limit.as_deref(), 50, 1000)?;
    let items = m.incidents(&ws, limit).await.map_err(api_error)?;
    Ok(Json(Items { items }))
}

async fn get_incident(
    State(state): State<AppState>,
    m: Ext<Mobilizer>,
    Path((ws, id)): Path<(String, i64)>,
) -> Result<Json<MobilizedIncident>, ApiError> {
    let m = service(&m)?;
    let ws = workspace(&state, &ws).await?;
    Ok(Json(incident_of(m, &ws, id).await?))
}

async fn get_timeline(
    State(state): State<AppState>,
    m: Ext<Mobilizer>,
    Path((ws, id)): Path<(String, i64)>,
) -> Result<Json<Items<TimelineEntry>>, ApiError> {
    let m = service(&m)?;
    let ws = workspace(&state, &ws).await?;
    let items = incident_of(m, &ws, id).await?.timeline;
    Ok(Json(Items { items }))
}

async fn ack(
    State(state): State<AppState>,
    m: Ext<Mobilizer>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
) -> Result<Json<MobilizedIncident>, ApiError> {
    let m = service(&m)?;
    let who = actor(&user, &headers, Role::Responder)?;
    let ws = workspace(&state, &ws).await?;
    incident_of(m, &ws, id).await?;
    Ok(Json(
        m.acknowledge(id, &who, "api").await.map_err(api_error)?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBody {
    #[serde(default)]
    text: String,
}

async fn comment(
    State(state): State<AppState>,
    m: Ext<Mobilizer>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<MobilizedIncident>, ApiError> {
    let m = service(&m)?;
    let who = actor(&user, &headers, Role::Responder)?;
    let ws = workspace(&state, &ws).await?;
    incident_of(m, &ws, id).await?;
    Ok(Json(
        m.comment(id, &who, &body.text).await.map_err(api_error)?,
    ))
}

async fn answer(
    State(state): State<AppState>,
    m: Ext<Mobilizer>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<MobilizedIncident>, ApiError> {
    let m = service(&m)?;
    let who = actor(&user, &headers, Role::Responder)?;
    let ws = workspace(&state, &ws).await?;
    incident_of(m, &ws, id).await?;
    Ok(Json(
        m.public_answer(id, &who, &body.text)
            .await
            .map_err(api_error)?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    #[serde(default)]
    note: String,
}

async fn resolve(
    State(state): State<AppState>,
    m: Ext<Mobilizer>,
    user: Ext<CurrentUser>,
    headers: HeaderMap,
    Path((ws, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<ResolveBody>,
) -> Result<Json<MobilizedIncident>, ApiError> {
    let m = service(&m)?;
    let who = actor(&user, &headers, Role::Responder)?;
    let ws = workspace(&state, &ws).await?;
    incident_of(m, &ws, id).await?;
    Ok(Json(
        m.resolve(id, &who, &body.note).await.map_err(api_error)?,
    ))
}

#[derive(Debug, Serialize)]
struct EscalationState {
    incident: i64,
    watch: String,
    status: Status,
    level: vigie_model::CrisisLevel,
    opened_at: Timestamp,
    escalation: Option<Escalation>,
    sla: Option<Sla>,
    acknowledged_by: Vec<String>,
    time_to_acknowledge_ms: Option<i64>,
}

async fn escalations(
    State(state): State<AppState>,
    m: Ext<Mobilizer>,
    Path(ws): Path<String>,
) -> Result<Json<Items<EscalationState>>, ApiError> {
    let m = service(&m)?;
    let ws = workspace(&state, &ws).await?;
    let items = m
        .open_incidents()
        .await
        .into_iter()
        .filter(|i| i.workspace == ws)
        .map(|i| EscalationState {
            incident: i.id,
            watch: i.watch.to_string(),
            status: i.status,
            level: i.level,
            opened_at: i.opened_at,
            escalation: i.escalation,
            sla: i.sla,
            acknowledged_by: i.acknowledgements.into_iter().map(|a| a.by).collect(),
            time_to_acknowledge_ms: i.time_to_acknowledge_ms,
        })
        .collect();
    Ok(Json(Items { items }))
}

async fn dead_letters(
    State(state): State<AppState>,
    m: Ext<Mobilizer>,
    Path(ws): Path<String>,
    q: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<Items<vigie_store::DeadLetter>>, ApiError> {
    let m = service(&m)?;
    let ws = workspace(&state, &ws).await?;
    let Query(q) = q.map_err(query_rejection)?;
    let limit = limit_param(q.limit.as_deref(), 50, 1000)?;
    let mut items = m.dead_letters(&ws, limit).await.map_err(api_error)?;
    // The signed acknowledgement link acts for its recipient: never show it to others.
    for d in &mut items {
        if let Some(url) = d.message.get_mut("ack_url")
            && !url.is_null()
        {
            *url = serde_json::Value::String("(withheld)".into());
        }
    }
    Ok(Json(Items { items }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AtQuery {
    at: Option<String>,
    count: Option<String>,
}

fn at_param(m: &Mobilizer, raw: Option<&str>) -> Result<Timestamp, ApiError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(m.now()),
        Some(s) => Timestamp::parse_rfc3339(s).map_err(|e| ApiError::bad_request(e.to_string())),
    }
}

#[derive(Debug, Serialize)]
struct OnCallAnswer {
    at: Timestamp,
    items: Vec<OnCall>,
}

async fn on_call(
    m: Ext<Mobilizer>,
    user: Ext<CurrentUser>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<OnCallAnswer>, ApiError> {
    require_somewhere(&user, Role::Responder)?;
    let m = service(&m)?;
    let Query(q) = q.map_err(query_rejection)?;
    let at = at_param(m, q.at.as_deref())?;
    Ok(Json(OnCallAnswer {
        at,
        items: m.on_call(at),
    }))
}

#[derive(Debug, Serialize)]
struct RotationView {
    rotation: vigie_config::RotationConfig,
    on_call: Option<OnCall>,
    upcoming: Vec<OnCall>,
}

async fn rotations(
    m: Ext<Mobilizer>,
    user: Ext<CurrentUser>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Items<RotationView>>, ApiError> {
    require_somewhere(&user, Role::Responder)?;
    let m = service(&m)?;
    let Query(q) = q.map_err(query_rejection)?;
    let at = at_param(m, q.at.as_deref())?;
    let count = usize::try_from(limit_param(q.count.as_deref(), 4, 52)?).unwrap_or(4);
    let items = m
        .config()
        .rotations
        .iter()
        .map(|r| RotationView {
            rotation: r.clone(),
            on_call: Rotation::new(r).on_call(at),
            upcoming: Rotation::new(r).upcoming(at, count),
        })
        .collect();
    Ok(Json(Items { items }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthQuery {
    check: Option<bool>,
}

async fn health(
    m: Ext<Mobilizer>,
    user: Ext<CurrentUser>,
    q: Result<Query<HealthQuery>, QueryRejection>,
) -> Result<Json<Items<ChannelHealth>>, ApiError> {
    // `?check=true` makes the server call every channel: admins only.
    require_somewhere(&user, Role::Admin)?;
    let m = service(&m)?;
    let Query(q) = q.map_err(query_rejection)?;
    Ok(Json(Items {
        items: m.health(q.check.unwrap_or(false)).await,
    }))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:2em auto\"><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    (status, Html(html)).into_response()
}

fn link_status(e: &MobilizeError) -> StatusCode {
    match e {
        MobilizeError::Link("link expired" | "link already used") => StatusCode::GONE,
        MobilizeError::Link(_) => StatusCode::FORBIDDEN,
        MobilizeError::NotFound(_) => StatusCode::NOT_FOUND,
        MobilizeError::Invalid(_) => StatusCode::CONFLICT,
        MobilizeError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn link_error(e: &MobilizeError) -> Response {
    let message = match e {
        MobilizeError::Store(_) => "the server cannot record it right now; try again".to_owned(),
        other => other.to_string(),
    };
    page(
        link_status(e),
        "Vigie",
        &format!("<p>{}</p>", escape(&message)),
    )
}

async fn ack_page(m: Ext<Mobilizer>, Path(token): Path<String>) -> Response {
    let Ok(m) = service(&m) else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Vigie",
            "<p>mobilizing is not configured</p>",
        );
    };
    let claims = match m.check_link(&token) {
        Ok(c) => c,
        Err(e) => return link_error(&e),
    };
    let incident = match m.incident(claims.incident).await {
        Ok(i) => i,
        Err(e) => return link_error(&e),
    };
    let acks: Vec<String> = incident
        .acknowledgements
        .iter()
        .map(|a| format!("{} ({})", a.by, a.at))
        .collect();
    let body = format!(
        "<p><strong>{ws}/{watch}</strong> — level {level}, status {status}</p><p>{summary}</p>{acks}\
         <form method=\"post\"><button type=\"submit\" style=\"font-size:1.2em;padding:.5em 1em\">Acknowledge / J'ai pris en charge</button></form>",
        ws = escape(incident.workspace.as_str()),
        watch = escape(incident.watch.as_str()),
        level = incident.level,
        status = incident.status.as_str(),
        summary = escape(&incident.explanation.summary),
        acks = if acks.is_empty() {
            String::new()
        } else {
            format!(
                "<p>Already acknowledged by {}</p>",
                escape(&acks.join(", "))
            )
        },
    );
    page(StatusCode::OK, &format!("Incident {}", incident.id), &body)
}

async fn ack_link(m: Ext<Mobilizer>, Path(token): Path<String>) -> Response {
    let Ok(m) = service(&m) else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Vigie",
            "<p>mobilizing is not configured</p>",
        );
    };
    match m.acknowledge_link(&token).await {
        Ok(i) => {
            let last = i
                .acknowledgements
                .last()
                .map(|a| a.by.clone())
                .unwrap_or_default();
            page(
                StatusCode::OK,
                "Acknowledged",
                &format!(
                    "<p>Incident {} ({}/{}) acknowledged by {}. The escalation is stopped.</p>",
                    i.id,
                    escape(i.workspace.as_str()),
                    escape(i.watch.as_str()),
                    escape(&last)
                ),
            )
        }
        Err(e) => link_error(&e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use std::sync::Arc;
    use tower::ServiceExt;
    use vigie_model::{CrisisLevel, Explanation, LevelChange, ManualClock, WatchId};
    use vigie_notify::AckSigner;
    use vigie_store::{SqliteStore, Store};

    async fn app() -> (Router, Mobilizer, Arc<ManualClock>) {
        let store = SqliteStore::open_in_memory().await.unwrap();
        store.migrate().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        let clock = Arc::new(ManualClock::new(
            Timestamp::parse_rfc3339("2026-01-05T09:00:00Z").unwrap(),
        ));
        let src = format!(
            "{}\n[[notify.people]]\nid = \"alice\"\nname = \"Alice\"\n[[notify.people]]\nid = \"bob\"\nname = \"Bob\"\n\n[[notify.rotations]]\nid = \"cm\"\ntime_zone = \"Europe/Paris\"\nevery = \"daily\"\nhandoff = \"09:00\"\nstart = \"2026-01-05\"\nmembers = [\"alice\", \"bob\"]\n",
            vigie_config::EMBEDDED_DEFAULT_TOML
        );
        let config = vigie_config::parse(&src, "test.toml").unwrap();
        let m = Mobilizer::new(
            config.notify.clone(),
            store.clone(),
            clock.clone(),
            AckSigner::new(b"0123456789abcdef0123".to_vec()),
            std::collections::HashMap::new(),
        )
        .unwrap();
        let state = AppState::new(store, Arc::new(config), None, Timestamp::from_millis(0));
        let router = Router::new()
            .nest("/api/v1", routes())
            .merge(ack_routes())
            .with_state(state)
            .layer(Extension(m.clone()));
        (router, m, clock)
    }

    async fn call(
        app: &Router,
        method: &str,
        uri: &str,
        body: Option<&str>,
    ) -> (StatusCode, String) {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("x-vigie-user", "marie");
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let res = app
            .clone()
            .oneshot(req.body(Body::from(body.unwrap_or("").to_owned())).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn incident_api_and_signed_link_round_trip() {
        let (app, m, clock) = app().await;
        let ws = vigie_config::Config::embedded_default().workspaces[0]
            .id
            .clone();
        let watch: WatchId = vigie_config::Config::embedded_default().workspaces[0].watches[0]
            .id
            .clone();
        let id = m
            .on_level_change(&LevelChange {
                workspace: ws.clone(),
                watch,
                at: vigie_model::Clock::now(&*clock),
                from: CrisisLevel::Calm,
                to: CrisisLevel::Crisis,
                explanation: Explanation {
                    summary: "<b>spreading</b>".into(),
                    ..Explanation::default()
                },
            })
            .await
            .unwrap();
        let base = format!("/api/v1/workspaces/{ws}/mobilize/incidents");
        let (s, body) = call(&app, "GET", &base, None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body.contains(&format!("\"id\":{id}")), "{body}");
        let (s, body) = call(&app, "GET", &format!("{base}/{id}/timeline"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("level_change"), "{body}");
        // Another workspace's path does not see it.
        let (s, _) = call(
            &app,
            "GET",
            &format!("/api/v1/workspaces/nope/mobilize/incidents/{id}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // A signed link: GET shows (escaped) without using it, POST acknowledges once.
        let token = m
            .message(
                &m.incident(id).await.unwrap(),
                vigie_notify::MessageKind::Alert,
                None,
            )
            .ack_url
            .unwrap()
            .rsplit_once("/ack/")
            .unwrap()
            .1
            .to_owned();
        clock.advance_millis(90_000);
        let (s, page) = call(&app, "GET", &format!("/ack/{token}"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("&lt;b&gt;spreading&lt;/b&gt;"), "{page}");
        let (s, page) = call(&app, "POST", &format!("/ack/{token}"), None).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(
            page.contains("acknowledged by someone with the link"),
            "{page}"
        );
        let (s, _) = call(&app, "POST", &format!("/ack/{token}"), None).await;
        assert_eq!(s, StatusCode::GONE);
        let (s, _) = call(&app, "POST", "/ack/not-a-token", None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Acknowledge, comment and resolve by API.
        let (s, body) = call(&app, "POST", &format!("{base}/{id}/ack"), None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["acknowledgements"].as_array().unwrap().len(), 2);
        assert_eq!(v["acknowledgements"][1]["by"], "marie");
        assert_eq!(v["time_to_acknowledge_ms"], 90_000);
        let (s, _) = call(
            &app,
            "POST",
            &format!("{base}/{id}/comments"),
            Some(r#"{"text":"on it"}"#),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, body) = call(
            &app,
            "POST",
            &format!("{base}/{id}/resolve"),
            Some(r#"{"note":""}"#),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("note is required"), "{body}");
        let (s, body) = call(
            &app,
            "POST",
            &format!("{base}/{id}/resolve"),
            Some(r#"{"note":"apology posted"}"#),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body.contains("\"status\":\"resolved\""));
        let (s, _) = call(&app, "POST", &format!("{base}/{id}/ack"), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);

        // On call now and at a given time; rotations; health; dead letters; escalations.
        let (s, body) = call(
            &app,
            "GET",
            "/api/v1/mobilize/oncall?at=2026-01-06T08:30:00Z",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("\"person\":\"bob\""), "{body}");
        let (s, _) = call(&app, "GET", "/api/v1/mobilize/oncall?at=yesterday", None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, body) = call(&app, "GET", "/api/v1/mobilize/rotations?count=3", None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["items"][0]["upcoming"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        for uri in [
            "/api/v1/mobilize/notifiers/health?check=true".to_owned(),
            format!("/api/v1/workspaces/{ws}/mobilize/dead-letters"),
            format!("/api/v1/workspaces/{ws}/mobilize/escalations"),
        ] {
            let (s, body) = call(&app, "GET", &uri, None).await;
            assert_eq!(s, StatusCode::OK, "{uri}: {body}");
        }
    }

    #[tokio::test]
    async fn without_the_service_routes_answer_503() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        store.migrate().await.unwrap();
        let state = AppState::new(
            Arc::new(store),
            Arc::new(vigie_config::Config::embedded_default()),
            None,
            Timestamp::from_millis(0),
        );
        let app = Router::new().nest("/api/v1", routes()).with_state(state);
        let (s, body) = call(&app, "GET", "/api/v1/mobilize/oncall", None).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    }
}
