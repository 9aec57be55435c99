//! Notifiers against local receivers: content, signatures, retries, dead letters.

use crate::support::*;
use std::sync::Arc;
use vigie_config::{ChannelConfig, ChannelKind, MessageLanguage};
use vigie_model::{Clock, ManualClock, WorkspaceId};
use vigie_notify::{EntryKind, verify_hex};

#[tokio::test]
async fn webhook_is_signed_and_retried_after_a_500() {
    let rx = HttpReceiver::start().await;
    rx.fail_next("/hook", &[500, 503]);
    let clock = Arc::new(ManualClock::new(ts("2026-03-01T20:00:00Z")));
    let mut config = base_config();
    config
        .channels
        .push(webhook("hook", rx.url("/hook"), Some("HOOK_SECRET")));
    config.routes.push(route(&["hook"], None, 2));
    let (m, _store) = mobilizer(config, clock.clone()).await;
    let id = m.on_level_change(&change(clock.now(), 0, 3)).await.unwrap();
    m.flush().await;

    let got = rx.received("/hook");
    assert_eq!(got.len(), 3, "two failures then a success");
    let last = &got[2];
    let sig = last.header("x-vigie-signature").unwrap();
    let hex = sig.strip_prefix("sha256=").unwrap();
    assert!(
        verify_hex(SECRET.as_bytes(), &last.body, hex),
        "signature verifies"
    );
    assert!(!verify_hex(b"wrong", &last.body, hex));
    let body = last.json();
    assert_eq!(body["event"], "vigie.notification");
    assert_eq!(body["message"]["level"], "crisis");
    assert_eq!(body["message"]["incident_id"], id);
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("420 mentions in 60 min")
    );
    assert!(
        body["message"]["ack_url"]
            .as_str()
            .unwrap()
            .starts_with("http://vigie.test/ack/")
    );

    let incident = m.incident(id).await.unwrap();
    let sent: Vec<_> = incident
        .timeline
        .iter()
        .filter(|e| e.kind == EntryKind::NotificationSent)
        .collect();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].text.contains("after 3 attempts"),
        "{}",
        sent[0].text
    );
    let health = m.health(false).await;
    assert_eq!(health[0].delivered, 1);
    assert_eq!(health[0].failed_attempts, 2);
    assert_eq!(health[0].consecutive_failures, 0);
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_then_dead_lettered_and_visible() {
    let rx = HttpReceiver::start().await;
    rx.always_fail("/down", 500);
    rx.always_fail("/gone", 404);
    let clock = Arc::new(ManualClock::new(ts("2026-03-01T20:00:00Z")));
    let mut config = base_config();
    config.channels.push(webhook("down", rx.url("/down"), None));
    config.channels.push(webhook("gone", rx.url("/gone"), None));
    config.routes.push(route(&["down", "gone"], None, 1));
    let (m, _store) = mobilizer(config, clock.clone()).await;
    let id = m.on_level_change(&change(clock.now(), 0, 2)).await.unwrap();
    m.flush().await;

    // 500 is retried up to the configured 3 attempts; 404 is permanent: one attempt.
    assert_eq!(rx.received("/down").len(), 3);
    assert_eq!(rx.received("/gone").len(), 1);
    let ws = WorkspaceId::new("acme").unwrap();
    let letters = m.dead_letters(&ws, 10).await.unwrap();
    assert_eq!(letters.len(), 2);
    let down = letters.iter().find(|l| l.channel == "down").unwrap();
    assert_eq!(down.attempts, 3);
    assert!(down.error.contains("HTTP 500"), "{}", down.error);
    assert_eq!(down.incident_id, Some(id));
    assert_eq!(down.message["level"], "alert");
    let gone = letters.iter().find(|l| l.channel == "gone").unwrap();
    assert_eq!(gone.attempts, 1);
    let incident = m.incident(id).await.unwrap();
    let failed = incident
        .timeline
        .iter()
        .filter(|e| e.kind == EntryKind::NotificationFailed)
        .count();
    assert_eq!(failed, 2);
    let health = m.health(true).await;
    let down_health = health.iter().find(|h| h.channel == "down").unwrap();
    assert_eq!(down_health.dead_lettered, 1);
    assert_eq!(down_health.consecutive_failures, 3);
    assert!(down_health.last_error.as_deref().unwrap().contains("500"));
    // The endpoint answers 500 to everything: the health check says so (with the host
    // only, never the path).
    let check = down_health.check.as_deref().unwrap();
    assert!(check.contains("HTTP 500"), "{check}");
    assert!(check.contains("127.0.0.1"), "{check}");
}

#[tokio::test]
async fn slack_mattermost_teams_and_ntfy_receive_their_own_formats() {
    let rx = HttpReceiver::start().await;
    let clock = Arc::new(ManualClock::new(ts("2026-03-01T20:00:00Z")));
    let mut config = base_config();
    let ch = |id: &str, kind| ChannelConfig {
        id: id.into(),
        kind,
    };
    config.channels.push(ch(
        "slack",
        ChannelKind::Slack {
            url: rx.url("/slack"),
        },
    ));
    config
        .channels
        .push(ch("mm", ChannelKind::Mattermost { url: rx.url("/mm") }));
    config.channels.push(ch(
        "teams",
        ChannelKind::Teams {
            url: rx.url("/teams"),
        },
    ));
    config.channels.push(ch(
        "push",
        ChannelKind::Ntfy {
            url: rx.url("/ntfy"),
            topic: Some("ops".into()),
            token: None,
        },
    ));
    config
        .routes
        .push(route(&["slack", "mm", "teams", "push"], None, 1));
    let (m, _store) = mobilizer(config, clock.clone()).await;
    m.on_level_change(&change(clock.now(), 1, 3)).await.unwrap();
    m.flush().await;

    let slack = rx.received("/slack")[0].json();
    assert_eq!(slack["text"], "[Vigie] CRISIS (3) — acme/brand");
    let blocks = slack["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    let buttons = &blocks.last().unwrap()["elements"];
    assert_eq!(buttons[0]["type"], "button");
    assert!(
        buttons[0]["url"]
            .as_str()
            .unwrap()
            .starts_with("http://vigie.test/ack/")
    );

    let mm = rx.received("/mm")[0].json();
    assert_eq!(mm["username"], "Vigie");
    let att = &mm["attachments"][0];
    assert_eq!(att["color"], "#c62828");
    assert!(
        att["text"]
            .as_str()
            .unwrap()
            .contains("[Acknowledge](http://vigie.test/ack/")
    );

    let teams = rx.received("/teams")[0].json();
    assert_eq!(teams["type"], "message");
    let card = &teams["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["actions"][0]["type"], "Action.OpenUrl");

    let push = &rx.received("/ntfy/ops")[0];
    assert_eq!(push.header("priority").as_deref(), Some("5"));
    assert_eq!(
        push.header("title").as_deref(),
        Some("[Vigie] CRISIS (3) - acme/brand")
    );
    assert!(
        push.header("actions")
            .unwrap()
            .starts_with("view, Acknowledge, http://vigie.test/ack/")
    );
    assert!(String::from_utf8_lossy(&push.body).contains("420 mentions"));
}

#[tokio::test]
async fn email_goes_through_a_local_smtp_server_in_the_persons_language() {
    let smtp = SmtpServer::start().await;
    let clock = Arc::new(ManualClock::new(ts("2026-03-01T20:00:00Z")));
    let mut config = base_config();
    config.channels.push(email_channel("mail", smtp.port));
    config.people.push(person(
        "alice",
        "Alice Martin",
        MessageLanguage::Fr,
        &["mail"],
    ));
    config
        .people
        .push(person("bob", "Bob Smith", MessageLanguage::En, &["mail"]));
    config
        .people
        .push(person("carol", "Carol", MessageLanguage::En, &["mail"]));
    config.rotations.push(rotation(&["alice", "bob"]));
    config.policies.push(three_step_policy(1));
    config.routes.push(route(&[], Some("default"), 2));
    let (m, _store) = mobilizer(config, clock.clone()).await;
    let id = m.on_level_change(&change(clock.now(), 0, 3)).await.unwrap();
    m.flush().await;
    // 2026-03-01 is in the first... ninth week: alice or bob, whoever is on call, in French
    // for alice and English for bob.
    let on_call = m.on_call(clock.now());
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.from, "<vigie@example.org>");
    assert_eq!(
        mail.to,
        vec![format!("<{}@example.org>", on_call[0].person)]
    );
    assert!(mail.data.contains("multipart/alternative"), "{}", mail.data);
    let parts = decoded_parts(&mail.data);
    let text = &parts.iter().find(|(ct, _)| ct == "text/plain").unwrap().1;
    let html = &parts.iter().find(|(ct, _)| ct == "text/html").unwrap().1;
    if on_call[0].person == "alice" {
        assert!(text.contains("Bonjour Alice Martin"), "{text}");
        assert!(text.contains("Escalade étape 1"), "{text}");
        assert!(html.contains("J&#39;ai pris en charge"), "{html}");
    } else {
        assert!(text.contains("Hello Bob Smith"), "{text}");
        assert!(text.contains("Escalation step 1"), "{text}");
        assert!(html.contains(">Acknowledge</a>"), "{html}");
    }
    assert!(text.contains("http://vigie.test/ack/"), "{text}");
    assert!(html.contains("<h2>[Vigie]"), "{html}");
    let incident = m.incident(id).await.unwrap();
    assert!(
        incident
            .timeline
            .iter()
            .any(|e| e.kind == EntryKind::NotificationSent && e.text.contains("via mail (email)"))
    );
    // The SMTP health check speaks to the server too.
    assert_eq!(m.health(true).await[0].check.as_deref(), Some("ok"));
}
