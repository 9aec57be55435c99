//! Escalation, acknowledgement, SLA, quiet hours and de-duplication on a manual clock.

use crate::support::*;
use std::sync::Arc;
use vigie_config::{MessageLanguage, QuietHours};
use vigie_model::ManualClock;
use vigie_notify::{EntryKind, MobilizeError, Status};

fn escalation_config(rx: &HttpReceiver, rounds: u32) -> vigie_config::NotifyConfig {
    let mut config = base_config();
    for id in ["alice", "bob", "carol"] {
        config.channels.push(webhook(
            &format!("to-{id}"),
            rx.url(&format!("/p/{id}")),
            None,
        ));
        config
            .people
            .push(person(id, id, MessageLanguage::En, &[&format!("to-{id}")]));
    }
    config.channels.push(webhook("ops", rx.url("/ops"), None));
    config.rotations.push(rotation(&["alice", "dave"]));
    config
        .people
        .push(person("dave", "dave", MessageLanguage::En, &[]));
    config.policies.push(three_step_policy(rounds));
    config.routes.push(route(&["ops"], Some("default"), 2));
    config
}

fn token_of(r: &Received) -> String {
    let url = r.json()["message"]["ack_url"].as_str().unwrap().to_owned();
    url.rsplit_once("/ack/").unwrap().1.to_owned()
}

#[tokio::test]
async fn an_incident_walks_three_escalation_steps_then_is_acknowledged() {
    let rx = HttpReceiver::start().await;
    // Monday 2026-01-05 10:00 Paris: alice's first week on call.
    let t0 = ts("2026-01-05T09:00:00Z");
    let clock = Arc::new(ManualClock::new(t0));
    let (m, _store) = mobilizer(escalation_config(&rx, 2), clock.clone()).await;
    let id = m.on_level_change(&change(t0, 0, 3)).await.unwrap();
    m.flush().await;
    // Step 1: the on-call person, and the route's shared channel.
    assert_eq!(rx.received("/ops").len(), 1);
    assert_eq!(rx.received("/p/alice").len(), 1);
    assert!(rx.received("/p/bob").is_empty());

    // Nothing new before the step's 10 minutes are over.
    clock.set(t0.plus_minutes(9));
    m.tick().await.unwrap();
    m.flush().await;
    assert!(rx.received("/p/bob").is_empty());

    // Step 2: the manager.
    clock.set(t0.plus_minutes(10));
    m.tick().await.unwrap();
    m.flush().await;
    assert_eq!(rx.received("/p/bob").len(), 1);
    assert_eq!(
        rx.received("/p/bob")[0].json()["message"]["kind"]["escalation"]["step"],
        2
    );

    // Step 3: the executive on duty.
    clock.set(t0.plus_minutes(20));
    m.tick().await.unwrap();
    m.flush().await;
    let carol = rx.received("/p/carol");
    assert_eq!(carol.len(), 1);

    // Carol acknowledges through her signed link, which works once.
    clock.set(t0.plus_minutes(22));
    let token = token_of(&carol[0]);
    let acked = m.acknowledge_link(&token).await.unwrap();
    assert_eq!(acked.status, Status::Acknowledged);
    assert_eq!(acked.acknowledgements[0].by, "carol");
    assert_eq!(acked.acknowledgements[0].via, "link");
    assert_eq!(acked.time_to_acknowledge_ms, Some(22 * 60_000));
    assert!(matches!(
        m.acknowledge_link(&token).await,
        Err(MobilizeError::Link("link already used"))
    ));
    // A forged or edited token is refused.
    let forged = format!("{}x", token);
    assert!(matches!(
        m.acknowledge_link(&forged).await,
        Err(MobilizeError::Link(_))
    ));

    // Bob acknowledges too, by API: recorded, time to acknowledge unchanged.
    clock.set(t0.plus_minutes(23));
    let both = m.acknowledge(id, "bob", "api").await.unwrap();
    assert_eq!(both.acknowledgements.len(), 2);
    assert_eq!(both.time_to_acknowledge_ms, Some(22 * 60_000));

    // The escalation stopped: no round two.
    clock.set(t0.plus_minutes(60));
    m.tick().await.unwrap();
    m.flush().await;
    assert_eq!(rx.received("/p/alice").len(), 1);
    assert_eq!(rx.received("/p/bob").len(), 1);

    // The timeline shows each step with its time.
    let incident = m.incident(id).await.unwrap();
    let steps: Vec<_> = incident
        .timeline
        .iter()
        .filter(|e| e.kind == EntryKind::Escalation && e.text.starts_with("escalation step"))
        .map(|e| (e.at, e.text.clone()))
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(steps[0].0, t0);
    assert_eq!(steps[1].0, t0.plus_minutes(10));
    assert_eq!(steps[2].0, t0.plus_minutes(20));
    assert!(
        steps[0].1.contains("alice (on call in cm)"),
        "{}",
        steps[0].1
    );
    assert!(steps[2].1.contains("carol (direct)"), "{}", steps[2].1);
    let kinds: Vec<EntryKind> = incident.timeline.iter().map(|e| e.kind).collect();
    let pos = |k| kinds.iter().position(|x| *x == k).unwrap();
    assert!(pos(EntryKind::Opened) < pos(EntryKind::LevelChange));
    assert!(pos(EntryKind::LevelChange) < pos(EntryKind::Acknowledged));
    assert!(kinds.contains(&EntryKind::NotificationSent));
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EntryKind::Acknowledged)
            .count(),
        2
    );
    // SLA: level 3 carries a 30-minute deadline; the warning (5 min before) and the miss are
    // in the timeline since no public answer was recorded.
    let sla = incident.sla.clone().unwrap();
    assert_eq!(sla.deadline, t0.plus_minutes(30));
    assert!(sla.warned && sla.missed);
    assert!(kinds.contains(&EntryKind::SlaWarning) && kinds.contains(&EntryKind::SlaMissed));

    // Resolution needs a note; then the incident is closed and the channel is told.
    assert!(matches!(
        m.resolve(id, "bob", "  ").await,
        Err(MobilizeError::Invalid(_))
    ));
    m.comment(id, "bob", "statement drafted").await.unwrap();
    let done = m
        .resolve(id, "bob", "Statement published, customers refunded")
        .await
        .unwrap();
    m.flush().await;
    assert_eq!(done.status, Status::Resolved);
    assert_eq!(done.timeline.last().unwrap().kind, EntryKind::Resolved);
    assert_eq!(rx.received("/ops").len(), 2);
    assert!(m.open_incidents().await.is_empty());
    assert!(matches!(
        m.acknowledge(id, "alice", "api").await,
        Err(MobilizeError::Invalid(_))
    ));
}

#[tokio::test]
async fn escalation_repeats_rounds_until_acknowledged_then_gives_up() {
    let rx = HttpReceiver::start().await;
    let t0 = ts("2026-01-05T09:00:00Z");
    let clock = Arc::new(ManualClock::new(t0));
    let mut config = escalation_config(&rx, 2);
    config.first_answer_sla = std::time::Duration::from_secs(24 * 3600);
    let (m, _store) = mobilizer(config, clock.clone()).await;
    let id = m.on_level_change(&change(t0, 0, 2)).await.unwrap();
    for minutes in (10..=70).step_by(10) {
        clock.set(t0.plus_minutes(minutes));
        m.tick().await.unwrap();
    }
    m.flush().await;
    // Two rounds of three steps: each person twice, then it stops.
    assert_eq!(rx.received("/p/alice").len(), 2);
    assert_eq!(rx.received("/p/bob").len(), 2);
    assert_eq!(rx.received("/p/carol").len(), 2);
    let incident = m.incident(id).await.unwrap();
    let e = incident.escalation.unwrap();
    assert_eq!(e.stopped.as_deref(), Some("exhausted"));
    assert_eq!(e.next_at, None);
}

#[tokio::test]
async fn sla_warning_escalates_before_the_deadline_and_an_answer_stops_it() {
    let rx = HttpReceiver::start().await;
    let t0 = ts("2026-01-05T09:00:00Z");
    let clock = Arc::new(ManualClock::new(t0));
    let mut config = escalation_config(&rx, 1);
    // Steps of 60 minutes: only the SLA (30 min, warning 5 min before) moves things.
    for s in &mut config.policies[0].steps {
        s.timeout = std::time::Duration::from_secs(3600);
    }
    let (m, _store) = mobilizer(config, clock.clone()).await;
    let id = m.on_level_change(&change(t0, 0, 2)).await.unwrap();
    clock.set(t0.plus_minutes(24));
    m.tick().await.unwrap();
    m.flush().await;
    assert!(rx.received("/p/bob").is_empty());
    clock.set(t0.plus_minutes(25));
    m.tick().await.unwrap();
    m.flush().await;
    let bob = rx.received("/p/bob");
    assert_eq!(bob.len(), 1, "the SLA warning jumped to step 2");
    assert_eq!(bob[0].json()["message"]["kind"], "sla_warning");
    let i = m.incident(id).await.unwrap();
    assert_eq!(i.escalation.as_ref().unwrap().step, 2);
    // A public answer before the deadline: no miss.
    m.public_answer(id, "alice", "We are looking into it")
        .await
        .unwrap();
    clock.set(t0.plus_minutes(31));
    m.tick().await.unwrap();
    let i = m.incident(id).await.unwrap();
    assert!(!i.sla.as_ref().unwrap().missed);
    assert!(i.timeline.iter().any(|e| e.kind == EntryKind::PublicAnswer));
}

#[tokio::test]
async fn quiet_hours_hold_alerts_but_not_crises_and_flapping_is_told_once() {
    let rx = HttpReceiver::start().await;
    // 23:00 in Paris.
    let t0 = ts("2026-01-05T22:00:00Z");
    let clock = Arc::new(ManualClock::new(t0));
    let mut config = base_config();
    config.channels.push(webhook("ops", rx.url("/ops"), None));
    let mut r = route(&["ops"], None, 1);
    r.quiet_hours = Some(QuietHours {
        start: chrono::NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
        end: chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
        time_zone: chrono_tz::Europe::Paris,
    });
    config.routes.push(r);
    let (m, _store) = mobilizer(config, clock.clone()).await;
    let id = m.on_level_change(&change(t0, 0, 2)).await.unwrap();
    m.flush().await;
    assert!(
        rx.received("/ops").is_empty(),
        "level 2 is held in quiet hours"
    );
    clock.set(t0.plus_minutes(5));
    m.on_level_change(&change(t0.plus_minutes(5), 2, 3))
        .await
        .unwrap();
    m.flush().await;
    assert_eq!(
        rx.received("/ops").len(),
        1,
        "level 3 overrides quiet hours"
    );
    // Flapping 3 → 2 → 3 within the de-duplication window: no new message.
    clock.set(t0.plus_minutes(8));
    m.on_level_change(&change(t0.plus_minutes(8), 3, 2))
        .await
        .unwrap();
    clock.set(t0.plus_minutes(9));
    m.on_level_change(&change(t0.plus_minutes(9), 2, 3))
        .await
        .unwrap();
    m.flush().await;
    assert_eq!(rx.received("/ops").len(), 1);
    let i = m.incident(id).await.unwrap();
    let held: Vec<_> = i
        .timeline
        .iter()
        .filter(|e| e.kind == EntryKind::NotificationHeld)
        .map(|e| e.text.clone())
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(held[0].contains("quiet hours"));
    assert!(held[1].contains("already notified"));
    // All level changes went into the same incident.
    assert_eq!(
        i.timeline
            .iter()
            .filter(|e| e.kind == EntryKind::LevelChange)
            .count(),
        4
    );
}

/// calm → alert → calm → alert: the second crisis is a new incident that escalates and
/// runs its own answer deadline, and the first one says where the story went on.
#[tokio::test]
async fn a_second_crisis_after_calm_is_a_new_incident_that_escalates_again() {
    let rx = HttpReceiver::start().await;
    let t0 = ts("2026-01-05T09:00:00Z");
    let clock = Arc::new(ManualClock::new(t0));
    let mut config = escalation_config(&rx, 1);
    config.dedup_window = std::time::Duration::from_secs(600);
    let (m, _store) = mobilizer(config, clock.clone()).await;
    let first = m.on_level_change(&change(t0, 0, 2)).await.unwrap();
    m.flush().await;
    assert_eq!(
        rx.received("/p/alice").len(),
        1,
        "step 1: the on-call responder"
    );
    clock.set(t0.plus_minutes(5));
    m.on_level_change(&change(t0.plus_minutes(5), 2, 0))
        .await
        .unwrap();
    let i = m.incident(first).await.unwrap();
    assert_eq!(
        i.escalation.as_ref().unwrap().stopped.as_deref(),
        Some("back to calm")
    );
    // The first incident's answer deadline still runs (the public saw the crisis): its
    // warning reaches the next step's person even though the watch is calm.
    clock.set(t0.plus_minutes(31));
    m.tick().await.unwrap();
    m.flush().await;
    let bob_before = rx.received("/p/bob").len();
    assert_eq!(bob_before, 1, "the first incident's SLA warning");

    // Two days later the watch leaves calm again.
    let t1 = t0.plus_minutes(2 * 24 * 60);
    clock.set(t1);
    let second = m.on_level_change(&change(t1, 0, 2)).await.unwrap();
    assert_ne!(second, first);
    m.flush().await;
    assert_eq!(rx.received("/ops").len(), 2, "the route is told again");
    assert_eq!(
        rx.received("/p/alice").len(),
        2,
        "escalation restarts at step 1"
    );
    clock.set(t1.plus_minutes(10));
    m.tick().await.unwrap();
    m.flush().await;
    assert_eq!(
        rx.received("/p/bob").len(),
        bob_before + 1,
        "and moves to step 2"
    );
    let new = m.incident(second).await.unwrap();
    let deadline = new.sla.as_ref().unwrap().deadline;
    assert!(deadline > t1, "its own answer deadline: {deadline}");
    assert_eq!(new.opened_at, t1);
    let old = m.incident(first).await.unwrap();
    assert_eq!(
        old.status,
        Status::Open,
        "resolved only by a person, with a note"
    );
    assert!(
        old.timeline
            .iter()
            .any(|e| e.text.contains("a new incident follows it")),
        "{:?}",
        old.timeline
    );
    // Signals now join the new incident.
    assert_eq!(m.open_incidents().await.len(), 2);
}

#[tokio::test]
async fn incidents_survive_a_restart() {
    let rx = HttpReceiver::start().await;
    let t0 = ts("2026-01-05T09:00:00Z");
    let clock = Arc::new(ManualClock::new(t0));
    let config = escalation_config(&rx, 1);
    let (m, store) = mobilizer(config.clone(), clock.clone()).await;
    let id = m.on_level_change(&change(t0, 0, 3)).await.unwrap();
    m.flush().await;
    drop(m);
    let again = vigie_notify::Mobilizer::new(
        config,
        store,
        clock.clone(),
        vigie_notify::AckSigner::new(b"ack-key-for-tests-0123456789".to_vec()),
        std::collections::HashMap::new(),
    )
    .unwrap();
    assert_eq!(again.restore().await.unwrap(), 1);
    let open = again.open_incidents().await;
    assert_eq!(open[0].id, id);
    assert_eq!(open[0].escalation.as_ref().unwrap().step, 1);
}
