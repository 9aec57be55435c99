//! The responding screens driven like a browser does: sessions, CSRF tokens in forms, form
//! posts and redirects, over a real SQLite store and the shipped scenario library.

use crate::test_support::{CONFIG, PASSWORD, at, seeded_store, send_raw, token_of};
use crate::{AppState, router};
use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::Value;
use std::sync::Arc;
use vigie_respond::{Engine, EngineSettings, scenario::ScenarioLibrary};

async fn app() -> (Router, tempfile::TempDir) {
    let (store, dir) = seeded_store().await;
    let config = vigie_config::parse(
        &CONFIG
            .replace("max_body_bytes = 64", "max_body_bytes = 65536")
            .replace("\"200ms\"", "\"20s\"")
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
    (router(state).layer(Extension(engine)), dir)
}

/// A signed-in browser: its session cookie and the CSRF token of its pages.
struct Browser {
    cookie: String,
    csrf: String,
}

fn cookie_of(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let rest = &text[from..];
    Some(&rest[..rest.find(end)?])
}

async fn sign_in(app: &Router, login: &str) -> Browser {
    let (_, headers, page) =
        send_raw(app, Request::get("/login").body(Body::empty()).unwrap()).await;
    let login_csrf = cookie_of(&headers, crate::auth::LOGIN_CSRF_COOKIE).unwrap();
    let token = between(page.as_str().unwrap(), "name=\"_csrf\" value=\"", "\"")
        .unwrap()
        .to_owned();
    let form = format!(
        "_csrf={token}&next=%2Fw%2Facme&login={login}&password={}",
        crate::ui::url_encode(PASSWORD)
    );
    let req = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", login_csrf)
        .body(Body::from(form))
        .unwrap();
    let (status, headers, _) = send_raw(app, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{login} signs in");
    let cookie = cookie_of(&headers, crate::auth::SESSION_COOKIE).unwrap();
    let mut b = Browser {
        cookie,
        csrf: String::new(),
    };
    let (_, page) = b.get(app, "/w/acme/incidents").await;
    b.csrf = between(&page, "data-csrf=\"", "\"").unwrap().to_owned();
    b
}

impl Browser {
    async fn get(&self, app: &Router, uri: &str) -> (StatusCode, String) {
        let req = Request::get(uri)
            .header("cookie", &self.cookie)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send_raw(app, req).await;
        (status, body.as_str().map(str::to_owned).unwrap_or_default())
    }

    /// Posts a form (with the CSRF token); returns the status, the redirect target and the
    /// page.
    async fn post(
        &self,
        app: &Router,
        uri: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let mut form = format!("_csrf={}", crate::ui::url_encode(&self.csrf));
        for (k, v) in fields {
            form.push_str(&format!("&{k}={}", crate::ui::url_encode(v)));
        }
        let req = Request::post(uri)
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        let (status, headers, body) = send_raw(app, req).await;
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            status,
            location,
            body.as_str().map(str::to_owned).unwrap_or_default(),
        )
    }
}

/// The JSON API as ada (admin), to check what the screens did.
async fn api(app: &Router, uri: &str) -> Value {
    let req = Request::get(uri)
        .header("authorization", format!("Bearer {}", token_of("ada")))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send_raw(app, req).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    body
}

async fn draft(app: &Router, id: i64) -> Value {
    api(app, &format!("/api/v1/workspaces/acme/drafts/{id}")).await
}

#[tokio::test]
async fn a_crisis_handled_from_the_screens() {
    let (app, _dir) = app().await;
    let rick = sign_in(&app, "rick").await;
    let mona = sign_in(&app, "mona").await;
    let vera = sign_in(&app, "vera").await;

    // The incident is listed with its proposed scenarios and the activation form.
    let (status, page) = rick.get(&app, "/w/acme/incidents").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"incident-1\""), "{page}");
    assert!(page.contains("/w/acme/incidents/1/activate"));
    // A viewer sees no form, and posting anyway is refused and creates nothing.
    let (_, page) = vera.get(&app, "/w/acme/incidents").await;
    assert!(!page.contains("/w/acme/incidents/1/activate"));
    let (status, _, _) = vera
        .post(
            &app,
            "/w/acme/incidents/1/activate",
            &[("scenario", "service-outage"), ("lang", "en")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        api(&app, "/api/v1/workspaces/acme/rooms").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Without the form token: refused.
    let req = Request::post("/w/acme/incidents/1/activate")
        .header("cookie", &rick.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("scenario=service-outage&lang=en"))
        .unwrap();
    assert_eq!(send_raw(&app, req).await.0, StatusCode::FORBIDDEN);
    // An unknown scenario: a clear error on the page, nothing created.
    let (status, _, page) = rick
        .post(
            &app,
            "/w/acme/incidents/1/activate",
            &[("scenario", "no-such"), ("lang", "en")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
    assert!(page.contains("id=\"page-message\""));

    // One action activates the scenario and opens the room.
    let (status, location, _) = rick
        .post(
            &app,
            "/w/acme/incidents/1/activate",
            &[("scenario", "service-outage"), ("lang", "en")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let room: i64 = between(&location, "/rooms/", "?").unwrap().parse().unwrap();
    let room_url = format!("/w/acme/rooms/{room}");
    let (status, page) = rick.get(&app, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"tasks\"") && page.contains("id=\"drafts-h\""));
    assert!(
        page.contains("room.opened"),
        "the timeline shows the opening"
    );
    let (_, incidents) = rick.get(&app, "/w/acme/incidents").await;
    assert!(incidents.contains(&format!("{room_url}\"")));

    // The English X draft still has the scenario's unfilled {{service}}: the policy blocks it.
    let drafts = api(&app, &format!("/api/v1/workspaces/acme/drafts?room={room}")).await;
    let x = drafts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"] == "x" && d["lang"] == "en")
        .unwrap()
        .clone();
    let id = x["id"].as_i64().unwrap();
    let text = x["text"].as_str().unwrap().to_owned();
    assert!(text.contains("{{"), "{text}");
    let (status, location, _) = rick
        .post(
            &app,
            &room_url,
            &[
                ("action", "submit"),
                ("target", &id.to_string()),
                ("text", &text),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains(&format!("#draft-{id}")));
    assert_eq!(draft(&app, id).await["status"], "blocked");
    // Corrected and submitted: waiting for approval.
    let fixed = "We are sorry: the app is down for some of you. Our teams are on it and we will post an update here within the hour.";
    let (status, _, _) = rick
        .post(
            &app,
            &room_url,
            &[
                ("action", "submit"),
                ("target", &id.to_string()),
                ("text", fixed),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let d = draft(&app, id).await;
    assert_eq!(d["status"], "waiting_approval", "{d}");
    assert_eq!(d["text"], fixed);
    // The responder cannot approve; the manager (an approver role, not the author) can.
    let (status, _, _) = rick
        .post(
            &app,
            &room_url,
            &[("action", "approve"), ("target", &id.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(draft(&app, id).await["status"], "waiting_approval");
    let (_, page) = mona.get(&app, &room_url).await;
    assert!(page.contains(&format!("name=\"target\" value=\"{id}\"")));
    let (status, _, _) = mona
        .post(
            &app,
            &room_url,
            &[
                ("action", "approve"),
                ("target", &id.to_string()),
                ("text", "ok"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(draft(&app, id).await["status"], "approved");
    // Sent by hand with its link.
    let (status, _, page) = rick
        .post(
            &app,
            &room_url,
            &[
                ("action", "sent"),
                ("target", &id.to_string()),
                ("link", ""),
            ],
        )
        .await;
    assert!(
        status.is_client_error(),
        "an empty link is refused: {status}"
    );
    assert!(page.contains("id=\"page-message\""));
    assert_eq!(draft(&app, id).await["status"], "approved");
    let (status, _, _) = rick
        .post(
            &app,
            &room_url,
            &[
                ("action", "sent"),
                ("target", &id.to_string()),
                ("link", "https://x.example/acme/status/1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(draft(&app, id).await["status"], "sent_by_hand");

    // Decisions and tasks.
    let (status, _, _) = rick
        .post(
            &app,
            &room_url,
            &[
                ("action", "decision"),
                ("text", "Answer every complaint within 30 minutes"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let view = api(&app, &format!("/api/v1/workspaces/acme/rooms/{room}")).await;
    let task = view["tasks"][0]["id"].as_i64().unwrap();
    let (status, _, _) = rick
        .post(
            &app,
            &room_url,
            &[("action", "task_done"), ("target", &task.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let view = api(&app, &format!("/api/v1/workspaces/acme/rooms/{room}")).await;
    assert_eq!(view["figures"]["tasks_done"], 1);
    let decisions = view["room"]["decisions"].as_array().unwrap();
    assert_eq!(
        decisions.last().unwrap()["text"],
        "Answer every complaint within 30 minutes"
    );
    // A task of no room of ours: 404, nothing changes.
    let (status, _, _) = rick
        .post(
            &app,
            &room_url,
            &[("action", "task_done"), ("target", "999999")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The inbox: ranked, the formula shown; ignoring needs a reason.
    let (status, page) = rick.get(&app, "/w/acme/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("priority = reach × negativity × virality"),
        "{page}"
    );
    let items = api(&app, "/api/v1/workspaces/acme/inbox").await;
    let item = items["items"][0]["id"]
        .as_i64()
        .expect("the incident's negative mentions are in the inbox");
    let item_url = format!("/w/acme/inbox/{item}");
    let (status, _, page) = rick
        .post(&app, &item_url, &[("op", "status"), ("status", "ignored")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert_eq!(
        api(&app, "/api/v1/workspaces/acme/inbox").await["items"][0]["status"],
        items["items"][0]["status"]
    );
    let (status, _, _) = rick
        .post(&app, &item_url, &[("op", "assign"), ("assignee", "rick")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = rick
        .post(
            &app,
            &item_url,
            &[("op", "note"), ("note", "Called the customer back")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = rick
        .post(
            &app,
            &item_url,
            &[
                ("op", "status"),
                ("status", "ignored"),
                ("reason", "duplicate"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let after = api(&app, "/api/v1/workspaces/acme/inbox?status=ignored").await;
    let it = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == item)
        .unwrap()
        .clone();
    assert_eq!(it["assignee"], "rick");
    assert_eq!(it["notes"][0]["text"], "Called the customer back");
    let (status, page) = rick.get(&app, "/w/acme/inbox?status=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");

    // Closing needs a manager and a note.
    let (status, _, _) = rick
        .post(
            &app,
            &room_url,
            &[("action", "close"), ("text", "Service back")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = mona
        .post(
            &app,
            &room_url,
            &[
                ("action", "close"),
                ("text", "Service back at 11:20; apology published"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = mona.get(&app, &room_url).await;
    assert!(page.contains("Service back at 11:20; apology published"));
    assert!(
        !page.contains("value=\"decision\""),
        "a closed room takes no more forms"
    );

    // Every step is in the audit log, with who did it.
    let audit = api(&app, &format!("/api/v1/workspaces/acme/audit?room={room}")).await;
    let actions: Vec<(String, String)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (action, actor) in [
        ("room.opened", "rick"),
        ("draft.approved", "mona"),
        ("draft.sent_by_hand", "rick"),
        ("room.closed", "mona"),
    ] {
        assert!(
            actions.iter().any(|(a, who)| a == action && who == actor),
            "{action} by {actor} missing: {actions:?}"
        );
    }
}

/// New negative mentions of an incident reach its open room's inbox at the next refresh,
/// once; a closed room takes no more.
#[tokio::test]
async fn the_inbox_refresh_brings_new_negative_mentions_once() {
    let (store, _dir) = seeded_store().await;
    let clock: Arc<dyn vigie_model::Clock> = Arc::new(vigie_model::ManualClock::new(at(50)));
    let library = ScenarioLibrary::load_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios"),
    )
    .unwrap();
    let engine = Engine::new(
        store.clone(),
        clock,
        EngineSettings {
            library,
            ..EngineSettings::default()
        },
    )
    .unwrap();
    let ws = crate::test_support::ws("acme");
    let actor = vigie_respond::Actor {
        name: "rick".into(),
        roles: vec!["responder".into()],
    };
    let activation = engine
        .activate(
            &ws,
            1,
            &vigie_respond::ActivateRequest {
                scenario: "service-outage".into(),
                lang: vigie_respond::Lang::En,
                variables: std::collections::BTreeMap::new(),
            },
            &actor,
        )
        .await
        .unwrap();
    let before = engine.inbox(&ws, None, None).await.unwrap().len();
    assert_eq!(
        engine.refresh_inbox(&ws).await.unwrap(),
        0,
        "nothing new yet"
    );
    let mut fresh = crate::test_support::mention(
        "acme",
        "late-complaint",
        45,
        vigie_model::SentimentLabel::Negative,
        "en",
        "brand",
    );
    fresh.mention.text = "acme still down, unacceptable".into();
    store.insert_mentions(&[fresh]).await.unwrap();
    assert_eq!(engine.refresh_inbox(&ws).await.unwrap(), 1);
    assert_eq!(
        engine.refresh_inbox(&ws).await.unwrap(),
        0,
        "each mention once"
    );
    let items = engine.inbox(&ws, None, None).await.unwrap();
    assert_eq!(items.len(), before + 1);
    assert!(
        items
            .iter()
            .any(|i| i.external_id == "late-complaint" && i.room == Some(activation.room.id))
    );
    // A closed room takes no more.
    let manager = vigie_respond::Actor {
        name: "mona".into(),
        roles: vec!["manager".into(), "head_of_communication".into()],
    };
    engine
        .close_room(&ws, activation.room.id, "done", None, &manager)
        .await
        .unwrap();
    let mut later = crate::test_support::mention(
        "acme",
        "after-close",
        48,
        vigie_model::SentimentLabel::Negative,
        "en",
        "brand",
    );
    later.mention.text = "acme again".into();
    store.insert_mentions(&[later]).await.unwrap();
    assert_eq!(engine.refresh_inbox(&ws).await.unwrap(), 0);
}
