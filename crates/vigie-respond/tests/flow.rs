//! The whole "responding together" flow from a demo incident, against a real SQLite store and
//! a local Mastodon-protocol server: the scenario is proposed, activated in one action, tasks
//! and drafts are created, a draft is blocked by the policy, corrected, approved and
//! published, and the report shows the measured delays.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use vigie_model::{
    Author, Clock, CrisisLevel, Engagement, EnrichedMention, Enrichment, Explanation, Incident,
    IncidentEvent, IncidentEventKind, LevelChange, ManualClock, Mention, SamplePost, Sentiment,
    SentimentLabel, TermCount, Timestamp, WatchId, WorkspaceId,
};
use vigie_respond::inbox::InboxStatus;
use vigie_respond::policy::{Channel, Rule, Verdict};
use vigie_respond::publish::{AccountKind, PublishAccount, Publisher};
use vigie_respond::{
    ActivateRequest, Actor, DraftStatus, Engine, EngineSettings, InboxAction, Lang, RespondError,
    ScenarioLibrary, report,
};
use vigie_store::{SqliteStore, Store};

const TOKEN: &str = "test-token-123";

/// What the fake Mastodon server received.
#[derive(Default)]
struct Received {
    statuses: Vec<(String, String, serde_json::Value)>,
}

/// `POST /api/v1/statuses` as Mastodon implements it: bearer auth, idempotency key (the same
/// key returns the same status), the status JSON as answer.
async fn statuses(
    State(state): State<Arc<Mutex<Received>>>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Result<Json<serde_json::Value>, StatusCode> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != format!("Bearer {TOKEN}") {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut st = state.lock().unwrap();
    let position = st.statuses.iter().position(|(k, _, _)| *k == key);
    let id = match position {
        Some(i) => (i + 1).to_string(),
        None => {
            st.statuses.push((key, auth.to_owned(), body.clone()));
            st.statuses.len().to_string()
        }
    };
    Ok(Json(serde_json::json!({
        "id": id,
        "url": format!("https://mastodon.test/@orsane/{id}"),
        "content": body["status"],
        "visibility": "public",
    })))
}

async fn mastodon_server() -> (String, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let app = axum::Router::new()
        .route("/api/v1/statuses", post(statuses))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), received)
}

fn t0() -> Timestamp {
    Timestamp::parse_rfc3339("2026-03-01T18:00:00Z").unwrap()
}

fn ws() -> WorkspaceId {
    WorkspaceId::new("orsane").unwrap()
}

fn mention(i: u64, minute: i64, text: &str, negative: bool) -> EnrichedMention {
    EnrichedMention {
        workspace: ws(),
        mention: Mention {
            source: "mastodon".into(),
            external_id: format!("m{i}"),
            url: Some(format!("https://social.test/@u{i}/{i}")),
            author: Author {
                handle: format!("user{}", i % 7),
                name: None,
                followers: Some(100 * (i % 7 + 1)),
                verified: false,
            },
            published_at: t0().plus_minutes(minute),
            received_at: None,
            title: None,
            text: text.into(),
            lang: Some("fr".into()),
            engagement: Engagement {
                reposts: i % 5,
                likes: i % 11,
                replies: 1,
                quotes: 0,
            },
            reply_to: None,
            quote_of: None,
            repost_of: None,
            country: None,
        },
        enrichment: Enrichment {
            sentiment: Sentiment {
                label: if negative {
                    SentimentLabel::Negative
                } else {
                    SentimentLabel::Neutral
                },
                score: if negative { -0.7 } else { 0.1 },
                confidence: 0.9,
            },
            reach: 100 * (i % 7 + 1),
            matched_watches: vec![WatchId::new("brand").unwrap()],
            ..Enrichment::default()
        },
    }
}

/// A demo incident: calm chatter, then from 18:00 a wave of posts about sick children after
/// eating a yoghurt; detection opens the incident at 18:20.
async fn seed(store: &dyn Store) -> i64 {
    let mut batch = Vec::new();
    for i in 0..20 {
        batch.push(mention(
            i,
            -300 + 15 * i as i64,
            "Les yaourts Orsane sont bons",
            false,
        ));
    }
    for i in 20..80 {
        batch.push(mention(
            i,
            (i as i64 - 20) / 2,
            "Mes enfants malades après un yaourt Orsane, intoxication ? rappel ?",
            true,
        ));
    }
    store.insert_mentions(&batch).await.unwrap();
    let watch = WatchId::new("brand").unwrap();
    let opened = t0().plus_minutes(20);
    let change = LevelChange {
        workspace: ws(),
        watch: watch.clone(),
        at: opened,
        from: CrisisLevel::Calm,
        to: CrisisLevel::Crisis,
        explanation: Explanation {
            summary: "negative surge about yoghurts".into(),
            window_minutes: 60,
            mentions: 40,
            expected_mentions: 2.0,
            negative: 40,
            expected_negative: 0.5,
            distinct_authors: 7,
            others_share: 1.0,
            signals: vec![],
            top_terms: vec![
                TermCount {
                    term: "intoxication".into(),
                    count: 30,
                },
                TermCount {
                    term: "rappel".into(),
                    count: 25,
                },
            ],
            top_hashtags: vec![],
            top_authors: vec![],
            samples: vec![SamplePost {
                source: "mastodon".into(),
                external_id: "m20".into(),
                author: "user6".into(),
                published_at: t0().plus_minutes(2),
                sentiment: SentimentLabel::Negative,
                reach: 700,
                text: "Mes enfants malades après un yaourt Orsane".into(),
            }],
        },
    };
    store.record_level_change(&change).await.unwrap();
    store
        .save_incident(&Incident {
            id: 0,
            workspace: ws(),
            watch,
            opened_at: opened,
            closed_at: None,
            peak_level: CrisisLevel::Crisis,
            level: CrisisLevel::Crisis,
            timeline: vec![IncidentEvent {
                at: opened,
                kind: IncidentEventKind::Opened,
                text: "level 3 (crisis): negative surge".into(),
            }],
        })
        .await
        .unwrap()
}

fn actor(name: &str, roles: &[&str]) -> Actor {
    Actor {
        name: name.into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    }
}

#[tokio::test]
async fn from_incident_to_published_answer_and_report() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store = SqliteStore::open_in_memory().await.unwrap();
    store.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let incident_id = seed(store.as_ref()).await;
    let (base, received) = mastodon_server().await;

    let clock = Arc::new(ManualClock::new(t0().plus_minutes(20)));
    let library =
        ScenarioLibrary::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios"))
            .unwrap();
    let settings = EngineSettings {
        library,
        accounts: vec![PublishAccount {
            id: "mastodon-main".into(),
            workspace: "orsane".into(),
            kind: AccountKind::Mastodon {
                instance: base,
                token: TOKEN.into(),
            },
        }],
        brands: BTreeMap::from([("orsane".into(), "Orsane".into())]),
        ..EngineSettings::default()
    };
    let engine = Engine::new(store.clone(), clock.clone(), settings)
        .unwrap()
        .with_publisher(Publisher::new().unwrap());
    let cm = actor("camille", &["community_manager"]);
    let legal = actor("louis", &["legal"]);

    // 1. Proposed: the recall playbook comes first.
    let proposals = engine.propose(&ws(), incident_id).await.unwrap();
    assert_eq!(proposals[0].scenario, "product-recall", "{proposals:?}");

    // 2. Acknowledged 6 minutes after opening, activated in one action at 12 minutes.
    clock.advance_millis(6 * 60_000);
    engine.acknowledge(&ws(), incident_id, &cm).await.unwrap();
    clock.advance_millis(6 * 60_000);
    let activation = engine
        .activate(
            &ws(),
            incident_id,
            &ActivateRequest {
                scenario: "product-recall".into(),
                lang: Lang::Fr,
                variables: BTreeMap::from([
                    ("product".into(), "yaourt nature 4×125 g".into()),
                    ("lots".into(), "lots L2026-061 à L2026-064".into()),
                ]),
            },
            &cm,
        )
        .await
        .unwrap();
    let room = activation.room.clone();
    assert_eq!(room.spokesperson, "ceo");
    assert_eq!(activation.tasks.len(), 5);
    assert_eq!(
        activation.tasks[1].due_at,
        clock.now().plus_minutes(30),
        "first public answer due 30 minutes after activation"
    );
    // Five statements in French (X, Bluesky, Mastodon, Facebook, press) plus the internal
    // message.
    assert_eq!(activation.drafts.len(), 6);
    assert!(activation.inbox_items > 0);
    let again = engine
        .activate(
            &ws(),
            incident_id,
            &ActivateRequest {
                scenario: "product-recall".into(),
                lang: Lang::Fr,
                variables: BTreeMap::new(),
            },
            &cm,
        )
        .await
        .unwrap_err();
    assert!(matches!(again, RespondError::Conflict(_)), "{again}");

    // 3. The X draft still has {{contact_url}}: submitting it is blocked by the policy.
    let x_draft = activation
        .drafts
        .iter()
        .find(|d| d.channel == Channel::X)
        .unwrap()
        .clone();
    assert!(x_draft.text.contains("Orsane rappelle yaourt nature"));
    let blocked = engine.submit(&ws(), x_draft.id, &cm).await.unwrap();
    assert_eq!(blocked.status, DraftStatus::Blocked);
    assert_eq!(blocked.policy.verdict, Verdict::Block);
    let finding = blocked
        .policy
        .findings
        .iter()
        .find(|f| f.rule == Rule::UnresolvedVariable)
        .unwrap();
    assert_eq!(finding.excerpt.as_deref(), Some("{{contact_url}}"));
    // Approving a blocked draft is refused.
    assert!(
        engine
            .review(&ws(), x_draft.id, true, None, &legal)
            .await
            .is_err()
    );

    // 4. Corrected and submitted: waits for approval (the word "rappelle" needs one).
    clock.advance_millis(5 * 60_000);
    let text = x_draft
        .text
        .replace("{{contact_url}}", "https://orsane.test/rappel");
    let edited = engine
        .edit_draft(&ws(), x_draft.id, &text, &cm)
        .await
        .unwrap();
    assert_eq!(edited.version, 2);
    let submitted = engine.submit(&ws(), x_draft.id, &cm).await.unwrap();
    assert_eq!(submitted.status, DraftStatus::WaitingApproval);
    assert!(submitted.policy.requires_approval);

    // 5. Approval by the scenario's roles only, never by the author.
    let author_as_legal = actor("camille", &["community_manager", "legal"]);
    let e = engine
        .review(&ws(), x_draft.id, true, None, &author_as_legal)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("four eyes"), "{e}");
    let e = engine
        .review(&ws(), x_draft.id, true, None, &cm)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("approver roles"), "{e}");
    let approved = engine
        .review(&ws(), x_draft.id, true, Some("OK juridique".into()), &legal)
        .await
        .unwrap();
    assert_eq!(approved.status, DraftStatus::Approved);

    // 6. Published to the local Mastodon server 24 minutes after the incident opened.
    clock.advance_millis(60_000);
    let published = engine
        .publish(&ws(), x_draft.id, "mastodon-main", &cm)
        .await
        .unwrap();
    assert_eq!(published.status, DraftStatus::Published);
    let p = published.published.clone().unwrap();
    assert_eq!(p.remote_id.as_deref(), Some("1"));
    assert_eq!(p.url.as_deref(), Some("https://mastodon.test/@orsane/1"));
    {
        let got = received.lock().unwrap();
        assert_eq!(got.statuses.len(), 1);
        let (key, auth, body) = &got.statuses[0];
        assert_eq!(key, &format!("vigie-orsane-draft-{}-v2", x_draft.id));
        assert_eq!(auth, &format!("Bearer {TOKEN}"));
        assert_eq!(body["status"], text.as_str());
        assert_eq!(body["language"], "fr");
    }
    // Publishing twice is refused (and nothing is sent).
    assert!(
        engine
            .publish(&ws(), x_draft.id, "mastodon-main", &cm)
            .await
            .is_err()
    );
    assert_eq!(received.lock().unwrap().statuses.len(), 1);

    // 7. Inbox: highest priority first, bulk assignment, ignoring needs a reason.
    let inbox = engine
        .inbox(&ws(), Some(InboxStatus::New), None)
        .await
        .unwrap();
    assert!(
        inbox
            .windows(2)
            .all(|w| w[0].priority.score >= w[1].priority.score)
    );
    let ids: Vec<i64> = inbox.iter().take(3).map(|i| i.id).collect();
    let assigned = engine
        .inbox_bulk(
            &ws(),
            &ids,
            &InboxAction::Assign {
                assignee: "camille".into(),
            },
            &cm,
        )
        .await
        .unwrap();
    assert!(assigned.iter().all(|i| i.status == InboxStatus::Assigned));
    let err = engine
        .inbox_bulk(
            &ws(),
            &ids,
            &InboxAction::SetStatus {
                status: InboxStatus::Ignored,
                reason: None,
            },
            &cm,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("reason"));
    let mine = engine.inbox(&ws(), None, Some("camille")).await.unwrap();
    assert_eq!(mine.len(), 3, "a refused bulk action changes nothing");
    assert!(mine.iter().all(|i| i.status == InboxStatus::Assigned));

    // 8. One task done late (the 20-minute fact check, done at 60 minutes).
    clock.set(room.opened_at.plus_minutes(60));
    let late = activation.tasks[0].clone();
    engine
        .set_task(&ws(), late.id, true, None, &cm)
        .await
        .unwrap();
    engine
        .set_lessons(
            &ws(),
            room.id,
            "Le scénario a tenu ; prévoir l'URL de rappel à l'avance.",
            &cm,
        )
        .await
        .unwrap();

    // 9. The report shows the measured delays.
    let data = report::build(&engine, &ws(), incident_id, Lang::Fr)
        .await
        .unwrap();
    assert_eq!(data.delays.detect_ms, Some(18 * 60_000));
    assert_eq!(data.delays.acknowledge_ms, Some(6 * 60_000));
    assert_eq!(data.delays.first_answer_ms, Some(18 * 60_000));
    assert_eq!(data.published.len(), 1);
    assert!(data.late_tasks.iter().any(|t| t.id == late.id));
    assert_eq!(data.periods[1].negative, 20, "{:?}", data.periods);
    assert_eq!(data.periods[0].negative, 40);
    let html = report::render_html(&data);
    assert!(html.contains("id=\"delay-first-answer\">18 min<"), "{html}");
    assert!(html.contains("id=\"delay-acknowledge\">6 min<"));
    assert!(html.contains("Délai de détection"));
    assert!(html.contains("<svg"));
    assert!(html.contains("prévoir l&#39;URL de rappel"));
    let english = report::render_html(
        &report::build(&engine, &ws(), incident_id, Lang::En)
            .await
            .unwrap(),
    );
    assert!(english.contains("Time to first answer"));
    let pdf = report::render_pdf(&data);
    assert!(pdf.starts_with(b"%PDF-1.4"));
    assert!(pdf.windows(6).any(|w| w == b"18 min"));

    // 10. Every step is in the audit log, in order.
    let log = engine
        .audit_log(&ws(), Some(room.id), 0, 1000)
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.entry.action.as_str()).collect();
    let mut last = 0;
    for step in [
        "room.opened",
        "task.created",
        "draft.created",
        "inbox.added",
        "room.roles_to_notify",
        "draft.blocked",
        "draft.edited",
        "draft.submitted",
        "draft.approved",
        "draft.published",
        "task.done",
    ] {
        let at = actions[last..]
            .iter()
            .position(|a| *a == step)
            .unwrap_or_else(|| panic!("{step} missing after {last} in {actions:?}"));
        last += at;
    }
    let approval = log
        .iter()
        .find(|e| e.entry.action == "draft.approved")
        .unwrap();
    assert_eq!(approval.entry.actor, "louis");
    assert_eq!(
        approval.entry.before.as_ref().unwrap()["status"],
        "waiting_approval"
    );
    assert_eq!(approval.entry.after.as_ref().unwrap()["status"], "approved");
}

/// The report's time to acknowledge takes the on-call person's acknowledgement given to the
/// mobilizer (here through a signed link, 4 minutes after opening) when it comes before the
/// acknowledgement recorded in Vigie (6 minutes), and the timeline shows the notifications
/// sent and the acknowledgement. A mobilization of another watch, acknowledged earlier,
/// does not count.
async fn report_takes_mobilizer_acknowledgements(store: Arc<dyn Store>) {
    use vigie_notify::{AckSigner, EntryKind, Mobilizer, build_notifier, demo};
    let incident_id = seed(store.as_ref()).await;
    let watch = WatchId::new("brand").unwrap();
    let change = store.level_history(&ws(), Some(&watch)).await.unwrap()[0].clone();
    let clock = Arc::new(ManualClock::new(change.at));
    let config = demo::demo_config();
    let notifiers = config
        .channels
        .iter()
        .map(|c| (c.id.clone(), build_notifier(c, &|_| None).unwrap()))
        .collect();
    let m = Mobilizer::new(
        config,
        store.clone(),
        clock.clone(),
        AckSigner::random(),
        notifiers,
    )
    .unwrap();
    let mobilization = m.on_level_change(&change).await.unwrap();
    let mut other = change.clone();
    other.watch = WatchId::new("competitor").unwrap();
    let unrelated = m.on_level_change(&other).await.unwrap();
    m.flush().await;
    clock.advance_millis(60_000);
    m.acknowledge(unrelated, "paul", "api").await.unwrap();
    clock.advance_millis(3 * 60_000);
    m.acknowledge(mobilization, "camille", "link")
        .await
        .unwrap();
    m.flush().await;
    clock.advance_millis(2 * 60_000);
    let engine = Engine::new(store.clone(), clock.clone(), EngineSettings::default()).unwrap();
    engine
        .acknowledge(&ws(), incident_id, &actor("nadia", &[]))
        .await
        .unwrap();

    let stored = m.incident(mobilization).await.unwrap();
    let sent = stored
        .timeline
        .iter()
        .filter(|e| e.kind == EntryKind::NotificationSent)
        .count();
    // The route's shared channel and the on-call person of the policy's first step.
    assert_eq!(sent, 2, "{:#?}", stored.timeline);

    let data = report::build(&engine, &ws(), incident_id, Lang::En)
        .await
        .unwrap();
    assert_eq!(data.delays.acknowledge_ms, Some(4 * 60_000));
    assert_eq!(data.delays.acknowledged_at, Some(change.at.plus_minutes(4)));
    assert_eq!(
        data.delays.acknowledged_by.as_deref(),
        Some("camille (link)")
    );
    assert_eq!(data.notifications_sent, 2);
    assert_eq!(data.acknowledgements.len(), 1, "paul's is another watch's");
    assert_eq!(data.acknowledgements[0].by, "camille");
    let texts: Vec<&str> = data.timeline.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts.iter().filter(|t| t.contains(" sent to ")).count(),
        2,
        "{texts:#?}"
    );
    let ack_line = data
        .timeline
        .iter()
        .find(|l| l.text.starts_with("acknowledged by camille via link"))
        .unwrap_or_else(|| panic!("no acknowledgement in {texts:#?}"));
    assert_eq!(ack_line.at, change.at.plus_minutes(4));
    assert_eq!(ack_line.who, "camille");
    assert!(data.timeline.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(!texts.iter().any(|t| t.contains("paul")), "{texts:#?}");
    let html = report::render_html(&data);
    assert!(html.contains("id=\"delay-acknowledge\">4 min<"), "{html}");
    assert!(html.contains("id=\"acknowledged-by\">camille (link)<"));
    assert!(html.contains("id=\"notifications-sent\">2<"));
    let pdf = report::render_pdf(&data);
    let needle: &[u8] = b"camille \\(link\\)";
    assert!(pdf.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn report_takes_mobilizer_acknowledgements_on_sqlite() {
    let store = SqliteStore::open_in_memory().await.unwrap();
    store.migrate().await.unwrap();
    report_takes_mobilizer_acknowledgements(Arc::new(store)).await;
}

#[tokio::test]
async fn report_takes_mobilizer_acknowledgements_on_postgres() {
    let Ok(url) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
        eprintln!("skipped: VIGIE_TEST_POSTGRES_URL is not set");
        return;
    };
    let schema = format!("report_mob_{}", std::process::id());
    let store = vigie_store::PostgresStore::connect_temporary(&url, &schema)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    report_takes_mobilizer_acknowledgements(Arc::new(store)).await;
}
