//! Digest e-mails: figures computed from stored mentions, levels and incidents, delivered to
//! a local SMTP server, sent once per period even across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code, unused_imports)]
#[path = "../../vigie-notify/tests/it/support.rs"]
mod support;

use std::sync::Arc;
use support::{SmtpServer, decoded_parts};
use vigie_model::{
    Author, CrisisLevel, Engagement, EnrichedMention, Enrichment, Explanation, Incident,
    LevelChange, ManualClock, Mention, Sentiment, SentimentLabel, Timestamp, WatchId, WorkspaceId,
};
use vigie_respond::digest::{self, DigestScheduler};
use vigie_respond::{Engine, EngineSettings, Lang};
use vigie_store::{SqliteStore, Store};

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn ws() -> WorkspaceId {
    WorkspaceId::new("acme").unwrap()
}

fn brand() -> WatchId {
    WatchId::new("brand").unwrap()
}

fn mention(
    id: &str,
    at: Timestamp,
    author: &str,
    reach: u64,
    text: &str,
    hashtags: &[&str],
    negative: bool,
) -> EnrichedMention {
    EnrichedMention {
        workspace: ws(),
        mention: Mention {
            source: "fixture".into(),
            external_id: id.into(),
            url: None,
            author: Author {
                handle: author.into(),
                name: None,
                followers: Some(reach),
                verified: false,
            },
            published_at: at,
            received_at: None,
            title: None,
            text: text.into(),
            lang: Some("fr".into()),
            engagement: Engagement::default(),
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
                score: if negative { -0.6 } else { 0.0 },
                confidence: 0.9,
            },
            reach,
            hashtags: hashtags.iter().map(|h| (*h).to_owned()).collect(),
            matched_watches: vec![brand()],
            ..Enrichment::default()
        },
    }
}

/// The daily period ending 2026-03-04 08:00 Paris (07:00 UTC): 10 mentions, 4 negative
/// (the "panne" ones), 5 in the day before, one older; a level-2 incident opened and closed
/// in the period.
async fn seed(store: &dyn Store) -> i64 {
    let start = ts("2026-03-03T07:00:00Z");
    let mut batch = Vec::new();
    for i in 0..6 {
        batch.push(mention(
            &format!("c{i}"),
            start.plus_minutes(60 * i),
            &format!("fan{i}"),
            100,
            "Livraison rapide, merci Acme",
            &["acme"],
            false,
        ));
    }
    for i in 0..4 {
        batch.push(mention(
            &format!("n{i}"),
            start.plus_minutes(180 + 10 * i),
            if i == 0 { "journaliste" } else { "client" },
            if i == 0 { 90_000 } else { 50 },
            "Encore une panne du service Acme",
            &["panne"],
            true,
        ));
    }
    for i in 0..5 {
        batch.push(mention(
            &format!("p{i}"),
            start.plus_minutes(-60 * (i + 1)),
            "ancien",
            10,
            "Bonjour Acme",
            &[],
            false,
        ));
    }
    batch.push(mention(
        "old",
        start.plus_minutes(-3 * 24 * 60),
        "ancien",
        10,
        "Très vieux message",
        &[],
        true,
    ));
    store.insert_mentions(&batch).await.unwrap();
    let change = |at: Timestamp, from, to| LevelChange {
        workspace: ws(),
        watch: brand(),
        at,
        from,
        to,
        explanation: Explanation::default(),
    };
    let opened = start.plus_minutes(200);
    let closed = start.plus_minutes(400);
    store
        .record_level_change(&change(opened, CrisisLevel::Calm, CrisisLevel::Alert))
        .await
        .unwrap();
    store
        .record_level_change(&change(closed, CrisisLevel::Alert, CrisisLevel::Calm))
        .await
        .unwrap();
    store
        .save_incident(&Incident {
            id: 0,
            workspace: ws(),
            watch: brand(),
            opened_at: opened,
            closed_at: Some(closed),
            peak_level: CrisisLevel::Alert,
            level: CrisisLevel::Calm,
            timeline: vec![],
        })
        .await
        .unwrap()
}

fn config(smtp_port: u16) -> vigie_config::Config {
    let src = format!(
        r#"version = 1

[[workspaces]]
id = "acme"
name = "ACME"

[[workspaces.watches]]
id = "brand"
name = "Marque"
query = "acme"

[[workspaces.digests]]
period = "daily"
to = ["direction@acme.example"]
channel = "mail"
hour = 8
time_zone = "Europe/Paris"

[notify]
public_url = "https://vigie.acme.example"

[[notify.channels]]
id = "mail"
type = "email"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
tls = "none"
from = "Vigie <vigie@acme.example>"
"#
    );
    vigie_config::parse(&src, "vigie.toml").unwrap()
}

async fn sqlite() -> Arc<dyn Store> {
    let store = SqliteStore::open_in_memory().await.unwrap();
    store.migrate().await.unwrap();
    Arc::new(store)
}

#[tokio::test]
async fn a_daily_digest_shows_the_stored_figures() {
    let store = sqlite().await;
    let incident = seed(store.as_ref()).await;
    let config = config(25);
    let clock = Arc::new(ManualClock::new(ts("2026-03-04T09:00:00Z")));
    let engine = Engine::new(store, clock, EngineSettings::default()).unwrap();
    let end = digest::last_period_end(&config.workspaces[0].digests[0], ts("2026-03-04T09:00:00Z"));
    assert_eq!(end, ts("2026-03-04T07:00:00Z"));
    let d = digest::build(
        &engine,
        &config.workspaces[0],
        vigie_config::DigestPeriod::Daily,
        end,
        Lang::Fr,
        "https://vigie.acme.example",
    )
    .await
    .unwrap();
    assert_eq!(d.from, ts("2026-03-03T07:00:00Z"));
    let w = &d.watches[0];
    assert_eq!((w.mentions, w.negative), (10, 4));
    assert_eq!((w.previous_mentions, w.previous_negative), (5, 0));
    assert_eq!(w.negative_percent(), 40.0);
    assert_eq!(w.change_percent(), Some(100.0));
    assert_eq!(w.peak_level, CrisisLevel::Alert);
    assert_eq!(w.top_hashtags[0].label, "#acme");
    assert_eq!(w.top_hashtags[0].value, 6);
    assert_eq!(w.top_hashtags[1].label, "#panne");
    assert_eq!(w.top_hashtags[1].value, 4);
    assert_eq!(w.top_terms[0].label, "acme");
    assert_eq!(w.top_terms[0].value, 10);
    assert_eq!(w.top_authors[0].label, "@journaliste");
    assert_eq!(w.top_authors[0].value, 90_000);
    assert_eq!(w.incidents.len(), 1);
    assert_eq!(w.incidents[0].incident.id, incident);
    assert!(w.incidents[0].opened_in_period);
    assert_eq!(
        w.incidents[0].url,
        format!(
            "https://vigie.acme.example/api/v1/workspaces/acme/incidents/{incident}/report?lang=fr"
        )
    );
    let text = digest::render_text(&d);
    assert_eq!(d.partial_from, None);
    assert!(!text.contains("partiels"), "{text}");
    // Read with a cap of 5 mentions (a workspace past the 500,000 a digest reads): the
    // figures cover the newest 5, and the digest says from when.
    let capped = digest::build_capped(
        &engine,
        &config.workspaces[0],
        (vigie_config::DigestPeriod::Daily, end, Lang::Fr),
        "https://vigie.acme.example",
        5,
    )
    .await
    .unwrap();
    let from = capped.partial_from.expect("partial");
    assert!(from > d.from && from < end, "{from}");
    assert_eq!(capped.watches[0].mentions, 5);
    let partial = digest::render_text(&capped);
    assert!(
        partial.contains("Chiffres partiels : la période compte plus de 5 mentions"),
        "{partial}"
    );
    assert!(digest::render_html(&capped).contains("Chiffres partiels"));
    assert!(
        text.contains("Synthèse quotidienne — ACME — 2026-03-04"),
        "{text}"
    );
    assert!(text.contains("Part négative: 40,0 % (4)"), "{text}");
    // Times in the digest's time zone: the period ends at 08:00 Paris time.
    assert!(
        text.contains("2026-03-03 08:00 CET → 2026-03-04 08:00 CET"),
        "{text}"
    );
    assert!(text.contains("Période précédente: 5 (+100,0 %)"), "{text}");
    assert!(text.contains("#panne (4)"), "{text}");
    assert!(text.contains("@journaliste (90000)"), "{text}");
    let english = digest::render_text(
        &digest::build(
            &engine,
            &config.workspaces[0],
            vigie_config::DigestPeriod::Weekly,
            end,
            Lang::En,
            "https://vigie.acme.example",
        )
        .await
        .unwrap(),
    );
    // The week holds all 15 recent mentions and the old one.
    assert!(english.contains("Weekly digest — ACME"), "{english}");
    assert!(english.contains("Mentions: 16"), "{english}");
    assert!(english.contains("Negative share: 31.3 % (5)"), "{english}");
}

#[tokio::test]
async fn the_scheduler_mails_each_period_once_even_after_a_restart() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let smtp = SmtpServer::start().await;
    let store = sqlite().await;
    seed(store.as_ref()).await;
    let config = Arc::new(config(smtp.port));
    let clock = Arc::new(ManualClock::new(ts("2026-03-04T07:30:00Z")));
    let scheduler = |store: Arc<dyn Store>| {
        let engine = Engine::new(store, clock.clone(), EngineSettings::default()).unwrap();
        let mailers = digest::mailers_from_config(&config, &|_| None).unwrap();
        DigestScheduler::new(engine, config.clone(), mailers)
    };
    let first = scheduler(store.clone());
    let sent = first.run_due().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].period_end, ts("2026-03-04T07:00:00Z"));
    assert!(first.run_due().await.is_empty(), "sent once per period");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["<direction@acme.example>"]);
    assert!(
        mails[0]
            .data
            .contains("Subject: [Vigie] =?utf-8?b?U3ludGjDqHNl?= quotidienne"),
        "{}",
        mails[0].data
    );
    let parts = decoded_parts(&mails[0].data);
    let text = &parts.iter().find(|(ct, _)| ct == "text/plain").unwrap().1;
    let html = &parts.iter().find(|(ct, _)| ct == "text/html").unwrap().1;
    assert!(text.contains("Mentions: 10"), "{text}");
    assert!(text.contains("Part négative: 40,0 % (4)"), "{text}");
    assert!(
        html.contains("<td style=\"border-bottom:1px solid #ddd\">10</td>"),
        "{html}"
    );
    assert!(html.contains("href=\"https://vigie.acme.example/api/v1/workspaces/acme/incidents/"));

    // A restart: a new scheduler on the same store sends nothing for this period...
    let restarted = scheduler(store.clone());
    clock.set(ts("2026-03-04T18:00:00Z"));
    assert!(restarted.run_due().await.is_empty());
    assert_eq!(smtp.mails().len(), 1);
    // ...and the next day's period once its hour has passed.
    clock.set(ts("2026-03-05T06:59:00Z"));
    assert!(restarted.run_due().await.is_empty());
    clock.set(ts("2026-03-05T07:00:00Z"));
    let sent = restarted.run_due().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].period_end, ts("2026-03-05T07:00:00Z"));
    assert_eq!(smtp.mails().len(), 2);
    let parts = decoded_parts(&smtp.mails()[1].data);
    let text = &parts.iter().find(|(ct, _)| ct == "text/plain").unwrap().1;
    assert!(text.contains("Mentions: 0"), "{text}");
    assert!(text.contains("Période précédente: 10 (-100,0 %)"), "{text}");
}

#[tokio::test]
async fn two_processes_send_a_period_once_and_a_failed_mail_is_retried() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let smtp = SmtpServer::start().await;
    let store = sqlite().await;
    seed(store.as_ref()).await;
    let clock = Arc::new(ManualClock::new(ts("2026-03-04T07:30:00Z")));
    let scheduler = |store: Arc<dyn Store>, port: u16| {
        let config = Arc::new(config(port));
        let engine = Engine::new(store, clock.clone(), EngineSettings::default()).unwrap();
        let mailers = digest::mailers_from_config(&config, &|_| None).unwrap();
        DigestScheduler::new(engine, config, mailers)
    };
    // The mail server is unreachable: nothing is sent and the period stays due.
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let broken = scheduler(store.clone(), closed_port);
    assert!(broken.run_due().await.is_empty());
    let respond = store.respond().unwrap();
    assert_eq!(
        respond.last_digest_sent(&ws(), "daily").await.unwrap(),
        None
    );
    // Two web processes on the same store, passing at the same moment: one e-mail.
    let (a, b) = (
        scheduler(store.clone(), smtp.port),
        scheduler(store.clone(), smtp.port),
    );
    let (sent_a, sent_b) = tokio::join!(a.run_due(), b.run_due());
    assert_eq!(sent_a.len() + sent_b.len(), 1, "{sent_a:?} {sent_b:?}");
    assert_eq!(smtp.mails().len(), 1);
    assert_eq!(
        respond.last_digest_sent(&ws(), "daily").await.unwrap(),
        Some(ts("2026-03-04T07:00:00Z"))
    );
    // The next day, with the server down again, the claim goes back to the day before.
    clock.set(ts("2026-03-05T07:10:00Z"));
    assert!(broken.run_due().await.is_empty());
    assert_eq!(
        respond.last_digest_sent(&ws(), "daily").await.unwrap(),
        Some(ts("2026-03-04T07:00:00Z"))
    );
    assert_eq!(a.run_due().await.len(), 1);
    assert_eq!(smtp.mails().len(), 2);
}
