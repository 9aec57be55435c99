//! Route tests: the router called in-process (`oneshot`) over a real SQLite store.

use crate::test_support::{broken_app, get, seeded_app, send};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use std::time::Duration;

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mention"]["external_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn mention_ids(app: &axum::Router, query: &str) -> Vec<String> {
    let (status, body) = get(app, &format!("/api/v1/workspaces/acme/mentions{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ids(&body)
}

async fn bad_request(app: &axum::Router, uri: &str) -> String {
    let (status, body) = get(app, uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
    assert_eq!(body["code"], "bad_request");
    body["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn health_reports_the_store_and_a_request_id() {
    let (app, _store, _dir) = seeded_app().await;
    let req = Request::get("/health").body(Body::empty()).unwrap();
    let (status, headers, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["store"], "sqlite");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["started_at"], "2026-03-01T10:00:00Z");
    assert!(!headers["x-request-id"].is_empty());

    let req = Request::get("/health")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = send(&app, req).await;
    assert_eq!(headers["x-request-id"], "abc-123");
}

#[tokio::test]
async fn health_is_503_when_the_store_fails() {
    let app = broken_app(None).await;
    let (status, body) = get(&app, "/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
}

#[tokio::test]
async fn store_failures_are_500_without_details() {
    let app = broken_app(None).await;
    let (status, body) = get(&app, "/api/v1/workspaces").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["code"], "internal");
    assert!(!body.to_string().contains("secret"), "{body}");
    assert!(!body.to_string().contains("checksum"), "{body}");
}

#[tokio::test]
async fn slow_requests_time_out_with_json() {
    let app = broken_app(Some(Duration::from_secs(5))).await;
    let started = std::time::Instant::now();
    let (status, body) = get(&app, "/api/v1/workspaces/acme/incidents").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "timeout");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn metrics_render_prometheus_text() {
    let (app, _store, _dir) = seeded_app().await;
    let response = tower::ServiceExt::oneshot(
        app.clone(),
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let (status, _) = get(&broken_app(None).await, "/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no handle: no metrics");
}

/// The only test that installs the process-wide recorder.
#[tokio::test]
async fn requests_are_counted_by_route_and_status() {
    let handle = crate::install_metrics_recorder().unwrap();
    let (store, _dir) = crate::test_support::seeded_store().await;
    let state = crate::AppState::new(
        store,
        crate::test_support::config(),
        Some(handle),
        crate::test_support::at(0),
    );
    let app = crate::router(state);
    get(&app, "/health").await;
    get(&app, "/api/v1/workspaces/nope/levels").await;
    get(&app, "/no/such/route").await;
    let (status, text) = get(&app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap();
    let line = |route: &str, status: &str| {
        text.lines().any(|l| {
            l.starts_with("vigie_http_requests_total{")
                && l.contains(&format!("route=\"{route}\""))
                && l.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(line("/health", "200"), "{text}");
    assert!(line("/api/v1/workspaces/{ws}/levels", "404"), "{text}");
    assert!(line("unmatched", "404"), "{text}");
}

#[tokio::test]
async fn lists_workspaces_from_config_and_store() {
    let (app, _store, _dir) = seeded_app().await;
    let (status, body) = get(&app, "/api/v1/workspaces").await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], "acme");
    assert_eq!(items[0]["name"], "ACME");
    assert_eq!(items[0]["watches"], 2);
    assert_eq!(items[1]["id"], "globex");
    assert_eq!(items[1]["configured"], true);
}

#[tokio::test]
async fn watches_carry_their_current_level() {
    let (app, _store, _dir) = seeded_app().await;
    let (status, body) = get(&app, "/api/v1/workspaces/acme/watches").await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], "brand");
    assert_eq!(items[0]["level"], "alert");
    assert_eq!(items[0]["level_value"], 2);
    assert_eq!(items[0]["level_since"], "2026-03-01T10:35:00Z");
    assert_eq!(items[1]["id"], "ceo");
    assert_eq!(items[1]["query"], "\"jane doe\"");
    assert_eq!(items[1]["level"], "calm");
    assert_eq!(items[1]["level_since"], Value::Null);
}

#[tokio::test]
async fn mentions_newest_first_and_filtered() {
    let (app, _store, _dir) = seeded_app().await;
    assert_eq!(mention_ids(&app, "").await, ["m5", "m4", "m3", "m2", "m1"]);
    assert_eq!(mention_ids(&app, "?watch=ceo").await, ["m5"]);
    assert_eq!(
        mention_ids(&app, "?sentiment=negative").await,
        ["m5", "m3", "m1"]
    );
    assert_eq!(mention_ids(&app, "?lang=en").await, ["m5", "m2"]);
    assert_eq!(
        mention_ids(
            &app,
            "?since=2026-03-01T10:10:00Z&until=2026-03-01T10:30:00Z"
        )
        .await,
        ["m3", "m2"]
    );
    assert_eq!(
        mention_ids(&app, "?watch=brand&sentiment=negative&lang=fr").await,
        ["m3", "m1"]
    );
    let (_, body) = get(&app, "/api/v1/workspaces/acme/mentions?limit=1").await;
    let first = &body["items"][0];
    assert_eq!(first["mention"]["published_at"], "2026-03-01T10:40:00Z");
    assert_eq!(first["workspace"], "acme");
    assert_eq!(first["enrichment"]["sentiment"]["label"], "negative");
    // No mention of another workspace, ever.
    let (_, body) = get(&app, "/api/v1/workspaces/globex/mentions").await;
    assert_eq!(ids(&body), ["g1"]);
}

#[tokio::test]
async fn mentions_paginate_with_a_cursor() {
    let (app, _store, _dir) = seeded_app().await;
    let mut seen = Vec::new();
    let mut uri = "/api/v1/workspaces/acme/mentions?limit=2".to_owned();
    for _ in 0..10 {
        let (status, body) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = ids(&body);
        assert!(page.len() <= 2);
        seen.extend(page);
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                uri = format!("/api/v1/workspaces/acme/mentions?limit=2&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(seen, ["m5", "m4", "m3", "m2", "m1"]);
}

#[tokio::test]
async fn bad_parameters_are_400_with_a_message() {
    let (app, _store, _dir) = seeded_app().await;
    let base = "/api/v1/workspaces/acme/mentions";
    let message = bad_request(&app, &format!("{base}?since=yesterday")).await;
    assert!(message.starts_with("invalid since: "), "{message}");
    assert!(message.contains("yesterday"), "{message}");
    let message = bad_request(
        &app,
        &format!("{base}?since=2026-03-01T11:00:00Z&until=2026-03-01T10:00:00Z"),
    )
    .await;
    assert!(message.starts_with("invalid until: "), "{message}");
    let message = bad_request(&app, &format!("{base}?limit=0")).await;
    assert!(message.starts_with("invalid limit: "), "{message}");
    let message = bad_request(&app, &format!("{base}?sentiment=angry")).await;
    assert!(message.starts_with("invalid sentiment: "), "{message}");
    let message = bad_request(&app, &format!("{base}?lang=FR")).await;
    assert!(message.starts_with("invalid lang: "), "{message}");
    let message = bad_request(&app, &format!("{base}?watch=Not%20A%20Slug")).await;
    assert!(message.starts_with("invalid watch: "), "{message}");
    let message = bad_request(&app, &format!("{base}?colour=red")).await;
    assert!(message.contains("colour"), "{message}");
    let message = bad_request(&app, &format!("{base}?cursor=garbage!!")).await;
    assert!(message.contains("cursor"), "{message}");
    let message = bad_request(&app, "/api/v1/workspaces/acme/signals?limit=5000").await;
    assert!(message.starts_with("invalid limit: "), "{message}");
}

#[tokio::test]
async fn bad_requests_change_nothing() {
    let (app, store, _dir) = seeded_app().await;
    let acme = crate::test_support::ws("acme");
    let before = store.count_mentions(&acme).await.unwrap();
    let (_, listing_before) = get(&app, "/api/v1/workspaces/acme/mentions").await;
    bad_request(&app, "/api/v1/workspaces/acme/mentions?since=nope").await;
    let req = Request::post("/api/v1/workspaces/acme/mentions")
        .header(header::CONTENT_LENGTH, "1000")
        .body(Body::from(vec![b'x'; 1000]))
        .unwrap();
    let (status, _, _) = send(&app, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(store.count_mentions(&acme).await.unwrap(), before);
    let (_, listing_after) = get(&app, "/api/v1/workspaces/acme/mentions").await;
    assert_eq!(listing_before, listing_after);
}

#[tokio::test]
async fn levels_explain_each_watch() {
    let (app, _store, _dir) = seeded_app().await;
    let (status, body) = get(&app, "/api/v1/workspaces/acme/levels").await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["watch"], "brand");
    assert_eq!(items[0]["level"], "alert");
    assert_eq!(items[0]["since"], "2026-03-01T10:35:00Z");
    assert_eq!(
        items[0]["explanation"]["summary"],
        "12 mentions in 30 min, 6× the usual"
    );
    assert_eq!(items[1]["watch"], "ceo");
    assert_eq!(items[1]["level"], "calm");
    assert_eq!(items[1]["level_value"], 0);
    assert_eq!(items[1]["explanation"], Value::Null);
}

#[tokio::test]
async fn level_history_filters_by_watch() {
    let (app, _store, _dir) = seeded_app().await;
    let (status, body) = get(&app, "/api/v1/workspaces/acme/levels/history").await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["from"], "calm");
    assert_eq!(items[0]["to"], "alert");
    assert_eq!(items[0]["at"], "2026-03-01T10:35:00Z");
    let (_, body) = get(&app, "/api/v1/workspaces/acme/levels/history?watch=ceo").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
    let (status, body) = get(&app, "/api/v1/workspaces/acme/levels/history?watch=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn incidents_and_signals() {
    let (app, _store, _dir) = seeded_app().await;
    let (status, body) = get(&app, "/api/v1/workspaces/acme/incidents").await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["watch"], "brand");
    assert_eq!(items[0]["peak_level"], "alert");
    assert_eq!(items[0]["timeline"][0]["kind"], "opened");

    let (_, body) = get(&app, "/api/v1/workspaces/acme/signals").await;
    let kinds: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["volume_spike", "negative_surge", "influencer_joined"]
    );
    let (_, body) = get(&app, "/api/v1/workspaces/acme/signals?watch=brand").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let (_, body) = get(&app, "/api/v1/workspaces/acme/signals?limit=1").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let (_, body) = get(&app, "/api/v1/workspaces/globex/signals").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn unknown_things_are_404_json() {
    let (app, _store, _dir) = seeded_app().await;
    for uri in [
        "/api/v1/workspaces/nope/mentions",
        "/api/v1/workspaces/NOT%20A%20SLUG/levels",
        "/api/v1/workspaces/nope/watches",
        "/api/v1/nothing",
        "/favicon.ico",
    ] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(body["code"], "not_found", "{uri}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (_, body) = get(&app, "/api/v1/workspaces/nope/mentions").await;
    assert_eq!(body["message"], "unknown workspace \"nope\"");
    let req = Request::delete("/health").body(Body::empty()).unwrap();
    let (status, _, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], "method_not_allowed");
}

#[tokio::test]
async fn serve_answers_and_shuts_down_gracefully() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (store, _dir) = crate::test_support::seeded_store().await;
    let state = crate::AppState::new(
        store,
        crate::test_support::config(),
        None,
        crate::test_support::at(0),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"status\":\"ok\""), "{response}");
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn q_searches_mentions_and_pages_through_every_match_once() {
    let (app, store, _dir) = seeded_app().await;
    // 2,400 more mentions (three store pages of 1,000 and a bit): every 7th speaks of a
    // recall, half of those in French with an accent.
    let batch: Vec<_> = (0..2_400)
        .map(|i| {
            let mut m = crate::test_support::mention(
                "acme",
                &format!("s{i}"),
                100 + i,
                vigie_model::SentimentLabel::Neutral,
                "fr",
                "brand",
            );
            m.mention.text = match (i % 7, i % 2) {
                (0, 0) => format!("acme annonce un RAPPEL du lot {i}"),
                (0, _) => format!("acme : rappél produit {i}"),
                _ => format!("acme message ordinaire {i}"),
            };
            m
        })
        .collect();
    store.insert_mentions(&batch).await.unwrap();
    let expected: std::collections::BTreeSet<String> = (0..2_400)
        .filter(|i| i % 7 == 0)
        .map(|i| format!("s{i}"))
        .collect();

    // Walk the search with pages of 40 through the cursors.
    let mut seen = Vec::new();
    let mut uri = "/api/v1/workspaces/acme/mentions?q=rappel&limit=40".to_owned();
    let mut pages = 0;
    loop {
        let (status, body) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = ids(&body);
        assert!(page.len() <= 40);
        let matched = body["matched"].as_array().unwrap();
        assert_eq!(matched.len(), page.len());
        assert!(matched.iter().all(|m| m == &serde_json::json!(["rappel"])));
        assert!(body["scanned"].as_u64().unwrap() >= page.len() as u64);
        seen.extend(page);
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(c) => {
                uri = format!("/api/v1/workspaces/acme/mentions?q=rappel&limit=40&cursor={c}")
            }
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a match was returned twice");
    assert_eq!(unique, expected);
    assert!(pages >= 9, "{pages} pages");
    // Newest first across pages.
    let order: Vec<i64> = seen.iter().map(|s| s[1..].parse().unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] > w[1]));

    // Filters combine with q; the query language works (NOT, fields).
    let (_, body) = get(
        &app,
        "/api/v1/workspaces/acme/mentions?q=rappel%20AND%20NOT%20lot&limit=1000",
    )
    .await;
    assert_eq!(ids(&body).len(), expected.len() / 2);
    // No match at all: an empty page and no cursor.
    let (_, body) = get(&app, "/api/v1/workspaces/acme/mentions?q=introuvable").await;
    assert_eq!(ids(&body).len(), 0);
    assert!(body["next_cursor"].is_null());
    assert_eq!(body["scanned"], 2_405);
    // Without q the answer has no search fields.
    let (_, body) = get(&app, "/api/v1/workspaces/acme/mentions?limit=1").await;
    assert!(body.get("scanned").is_none() && body.get("matched").is_none());
}

#[tokio::test]
async fn search_resumes_after_the_last_mention_it_examined() {
    let (_app, store, _dir) = seeded_app().await;
    let batch: Vec<_> = (0..300)
        .map(|i| {
            let mut m = crate::test_support::mention(
                "acme",
                &format!("s{i}"),
                100 + i,
                vigie_model::SentimentLabel::Neutral,
                "fr",
                "brand",
            );
            m.mention.text = if i % 50 == 0 {
                format!("panne {i}")
            } else {
                format!("rien {i}")
            };
            m
        })
        .collect();
    store.insert_mentions(&batch).await.unwrap();
    let state = crate::AppState::new(
        store.clone(),
        crate::test_support::config(),
        None,
        crate::test_support::at(0),
    );
    let q = vigie_query::parse("panne").unwrap();
    let mut filter = vigie_store::MentionFilter::workspace(crate::test_support::ws("acme"));
    let mut found = Vec::new();
    let mut calls = 0;
    loop {
        // A budget of 64 mentions per call: most calls end on the budget, not on a full page.
        let page = crate::api::mentions::search(&state, filter.clone(), &q, 4, 64)
            .await
            .unwrap();
        assert!(page.scanned <= 64);
        found.extend(
            page.items
                .iter()
                .map(|(m, _)| m.mention.mention.external_id.clone()),
        );
        calls += 1;
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..300)
        .rev()
        .filter(|i| i % 50 == 0)
        .map(|i| format!("s{i}"))
        .collect();
    assert_eq!(found, expected);
    assert!(calls >= 5, "{calls}");
}

#[tokio::test]
async fn a_malformed_q_is_a_400_with_its_position_and_nothing_else_runs() {
    let (app, _store, _dir) = seeded_app().await;
    let message = bad_request(&app, "/api/v1/workspaces/acme/mentions?q=%28acme%20AND").await;
    assert!(message.starts_with("invalid q: "), "{message}");
    assert!(message.contains("at character "), "{message}");
}
