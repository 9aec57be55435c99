//! A ready-made mobilization setup for the demo and drills: three people, a weekly
//! rotation, a three-step escalation policy and the log channel, plus a timeline printer.

use crate::MobilizedIncident;
use std::time::Duration;
use vigie_config::{
    ChannelConfig, ChannelKind, MessageLanguage, NotifyConfig, PersonConfig, PolicyConfig,
    RotationConfig, RotationEvery, RouteConfig, StepConfig, Target,
};

/// `[notify]` for the demo: Camille (community manager, on call in rotation `community`
/// with Hugo), Nadia (manager) and Paul (executive on duty), reached through the `log`
/// channel; every watch at level ≥ 2 starts policy `default` (10 minutes per step, two
/// rounds); first public answer due in 30 minutes.
pub fn demo_config() -> NotifyConfig {
    let person = |id: &str, name: &str| PersonConfig {
        login: id.into(),
        id: id.into(),
        name: name.into(),
        language: MessageLanguage::Fr,
        email: None,
        ntfy_topic: None,
        channels: vec!["log".into()],
    };
    let step = |t: Target| StepConfig {
        targets: vec![t],
        timeout: Duration::from_secs(600),
    };
    NotifyConfig {
        channels: vec![ChannelConfig {
            id: "log".into(),
            kind: ChannelKind::Log,
        }],
        people: vec![
            person("camille", "Camille (community manager)"),
            person("hugo", "Hugo (community manager)"),
            person("nadia", "Nadia (manager)"),
            person("paul", "Paul (executive on duty)"),
        ],
        rotations: vec![RotationConfig {
            id: "community".into(),
            time_zone: chrono_tz::Europe::Paris,
            every: RotationEvery::Weekly,
            handoff: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            handoff_day: chrono::Weekday::Mon,
            start: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default(),
            members: vec!["camille".into(), "hugo".into()],
            overrides: Vec::new(),
        }],
        policies: vec![PolicyConfig {
            id: "default".into(),
            rounds: 2,
            steps: vec![
                step(Target::Rotation("community".into())),
                step(Target::Person("nadia".into())),
                step(Target::Person("paul".into())),
            ],
        }],
        routes: vec![RouteConfig {
            workspace: None,
            watch: None,
            min_level: 2,
            channels: vec!["log".into()],
            policy: Some("default".into()),
            quiet_hours: None,
        }],
        ..NotifyConfig::default()
    }
}

/// The timeline as lines `HH:MM:SS UTC  kind  text`, for terminals.
pub fn format_timeline(incident: &MobilizedIncident) -> String {
    let mut out = format!(
        "incident {} — {}/{} — {} — peak {}\n",
        incident.id,
        incident.workspace,
        incident.watch,
        incident.status.as_str(),
        incident.peak_level
    );
    for e in &incident.timeline {
        let kind = serde_json::to_value(e.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}  {:<20} {}\n",
            e.at.to_datetime().format("%Y-%m-%d %H:%M:%S UTC"),
            kind,
            e.text
        ));
    }
    if let Some(ms) = incident.time_to_acknowledge_ms {
        out.push_str(&format!(
            "  time to acknowledge: {}m{:02}s\n",
            ms / 60_000,
            (ms / 1000) % 60
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{AckSigner, Mobilizer, build_notifier};
    use std::sync::Arc;
    use vigie_model::{
        CrisisLevel, Explanation, LevelChange, ManualClock, Timestamp, WatchId, WorkspaceId,
    };
    use vigie_store::{SqliteStore, Store};

    /// The demo story: a Sunday-evening crisis, nobody answers for 20 minutes, the executive
    /// acknowledges.
    #[tokio::test]
    async fn demo_setup_escalates_and_prints_each_step() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        store.migrate().await.unwrap();
        let t0 = Timestamp::parse_rfc3339("2026-03-08T19:00:00Z").unwrap();
        let clock = Arc::new(ManualClock::new(t0));
        let config = demo_config();
        let notifiers = config
            .channels
            .iter()
            .map(|c| (c.id.clone(), build_notifier(c, &|_| None).unwrap()))
            .collect();
        let m = Mobilizer::new(
            config,
            Arc::new(store) as Arc<dyn Store>,
            clock.clone(),
            AckSigner::random(),
            notifiers,
        )
        .unwrap();
        let id = m
            .on_level_change(&LevelChange {
                workspace: WorkspaceId::new("orsane").unwrap(),
                watch: WatchId::new("orsane").unwrap(),
                at: t0,
                from: CrisisLevel::Vigilance,
                to: CrisisLevel::Crisis,
                explanation: Explanation::default(),
            })
            .await
            .unwrap();
        for minutes in [10, 20] {
            clock.set(t0.plus_minutes(minutes));
            m.tick().await.unwrap();
        }
        clock.set(t0.plus_minutes(24));
        m.acknowledge(id, "paul", "link").await.unwrap();
        m.flush().await;
        let text = format_timeline(&m.incident(id).await.unwrap());
        assert!(
            text.contains(
                "19:00:00 UTC  escalation           escalation step 1 (round 1): notifying Camille"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "19:10:00 UTC  escalation           escalation step 2 (round 1): notifying Nadia"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "19:20:00 UTC  escalation           escalation step 3 (round 1): notifying Paul"
            ),
            "{text}"
        );
        assert!(text.contains("acknowledged by paul"), "{text}");
        assert!(text.contains("time to acknowledge: 24m00s"), "{text}");
        assert_eq!(text.matches("notification_sent").count(), 4, "{text}");
    }
}
