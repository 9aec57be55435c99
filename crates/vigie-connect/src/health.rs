//! Per-source health: last event, errors, lag, state. Kept in a [`HealthRegistry`] that the
//! source tasks update and the API reads ([`HealthRegistry::snapshot`]); the same numbers
//! go to `/metrics` through the `metrics` crate (`vigie_connector_*`).

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use vigie_model::Timestamp;

/// What a source task is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// Started, no answer yet.
    Starting,
    /// The last poll succeeded.
    Running,
    /// The last poll failed; waiting before the next attempt.
    BackingOff,
    /// The source is exhausted (a finite import) or was stopped.
    Stopped,
}

/// The health of one source of one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceHealth {
    /// Workspace slug.
    pub workspace: String,
    /// Source id.
    pub source: String,
    /// Network name (`mastodon`, `rss`…).
    pub kind: String,
    /// Current state.
    pub state: SourceState,
    /// When the last mention (or edit) arrived.
    pub last_event_at: Option<Timestamp>,
    /// When the last successful poll/connection happened.
    pub last_ok_at: Option<Timestamp>,
    /// Delay between publication and reception of the last mention, ms.
    pub lag_ms: Option<i64>,
    /// Mentions delivered since start.
    pub mentions_total: u64,
    /// Edits and deletions delivered since start.
    pub changes_total: u64,
    /// Records rejected (malformed) since start.
    pub rejected_total: u64,
    /// Failed polls since start.
    pub errors_total: u64,
    /// Failed polls in a row.
    pub consecutive_errors: u32,
    /// The last error message.
    pub last_error: Option<String>,
    /// When the next attempt is due while backing off.
    pub retry_at: Option<Timestamp>,
    /// Since when it has been running.
    pub started_at: Timestamp,
}

impl SourceHealth {
    /// `true` when nothing arrived for `quiet_ms` (counted from the start if nothing ever
    /// arrived): a silent connector, worth a signal.
    pub fn is_silent(&self, now: Timestamp, quiet_ms: i64) -> bool {
        let since = self.last_event_at.unwrap_or(self.started_at);
        self.state != SourceState::Stopped && now.as_millis() - since.as_millis() >= quiet_ms
    }
}

/// Shared table of [`SourceHealth`], keyed by `(workspace, source)`.
#[derive(Debug, Clone, Default)]
pub struct HealthRegistry {
    inner: Arc<Mutex<BTreeMap<(String, String), SourceHealth>>>,
}

impl HealthRegistry {
    /// The process-wide registry that the pipeline's source tasks report to.
    pub fn global() -> &'static HealthRegistry {
        static GLOBAL: OnceLock<HealthRegistry> = OnceLock::new();
        GLOBAL.get_or_init(HealthRegistry::default)
    }

    /// Every source, sorted by workspace then source id.
    pub fn snapshot(&self) -> Vec<SourceHealth> {
        match self.inner.lock() {
            Ok(map) => map.values().cloned().collect(),
            Err(poisoned) => poisoned.into_inner().values().cloned().collect(),
        }
    }

    /// One source.
    pub fn get(&self, workspace: &str, source: &str) -> Option<SourceHealth> {
        let key = (workspace.to_owned(), source.to_owned());
        match self.inner.lock() {
            Ok(map) => map.get(&key).cloned(),
            Err(poisoned) => poisoned.into_inner().get(&key).cloned(),
        }
    }

    /// Registers a source (replacing an earlier entry) and returns its handle.
    pub fn register(
        &self,
        workspace: &str,
        source: &str,
        kind: &str,
        now: Timestamp,
    ) -> HealthHandle {
        let health = SourceHealth {
            workspace: workspace.to_owned(),
            source: source.to_owned(),
            kind: kind.to_owned(),
            state: SourceState::Starting,
            last_event_at: None,
            last_ok_at: None,
            lag_ms: None,
            mentions_total: 0,
            changes_total: 0,
            rejected_total: 0,
            errors_total: 0,
            consecutive_errors: 0,
            last_error: None,
            retry_at: None,
            started_at: now,
        };
        let key = (workspace.to_owned(), source.to_owned());
        self.with(&key, |h| *h = health.clone(), Some(health.clone()));
        HealthHandle {
            registry: self.clone(),
            key,
        }
    }

    fn with(
        &self,
        key: &(String, String),
        f: impl FnOnce(&mut SourceHealth),
        insert: Option<SourceHealth>,
    ) {
        let mut map = match self.inner.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(h) = insert {
            map.insert(key.clone(), h);
        }
        if let Some(h) = map.get_mut(key) {
            f(h);
        }
    }
}

/// The writer side for one source.
#[derive(Debug, Clone)]
pub struct HealthHandle {
    registry: HealthRegistry,
    key: (String, String),
}

impl HealthHandle {
    fn labels(&self) -> [(&'static str, String); 2] {
        [
            ("workspace", self.key.0.clone()),
            ("source", self.key.1.clone()),
        ]
    }

    /// A successful poll that delivered `mentions` mentions, `changes` changes and
    /// `rejected` bad records; `newest_published` is the publication time of the newest one.
    pub fn ok(
        &self,
        now: Timestamp,
        mentions: usize,
        changes: usize,
        rejected: usize,
        newest_published: Option<Timestamp>,
    ) {
        let labels = self.labels();
        if mentions > 0 {
            metrics::counter!("vigie_connector_mentions_total", &labels).increment(mentions as u64);
        }
        if changes > 0 {
            metrics::counter!("vigie_connector_changes_total", &labels).increment(changes as u64);
        }
        if rejected > 0 {
            metrics::counter!("vigie_connector_rejected_total", &labels).increment(rejected as u64);
        }
        let lag = newest_published.map(|p| (now.as_millis() - p.as_millis()).max(0));
        if mentions + changes > 0 {
            metrics::gauge!("vigie_connector_last_event_seconds", &labels)
                .set(now.as_millis() as f64 / 1000.0);
        }
        if let Some(lag) = lag {
            metrics::gauge!("vigie_connector_lag_seconds", &labels).set(lag as f64 / 1000.0);
        }
        metrics::gauge!("vigie_connector_up", &labels).set(1.0);
        self.registry.with(
            &self.key,
            |h| {
                h.state = SourceState::Running;
                h.last_ok_at = Some(now);
                h.consecutive_errors = 0;
                h.retry_at = None;
                h.mentions_total += mentions as u64;
                h.changes_total += changes as u64;
                h.rejected_total += rejected as u64;
                if mentions + changes > 0 {
                    h.last_event_at = Some(now);
                }
                if lag.is_some() {
                    h.lag_ms = lag;
                }
            },
            None,
        );
    }

    /// A failed poll; the next attempt is due at `retry_at`.
    pub fn error(&self, message: String, now: Timestamp, retry_at: Timestamp) {
        let labels = self.labels();
        metrics::counter!("vigie_connector_errors_total", &labels).increment(1);
        metrics::gauge!("vigie_connector_up", &labels).set(0.0);
        let _ = now;
        self.registry.with(
            &self.key,
            |h| {
                h.state = SourceState::BackingOff;
                h.errors_total += 1;
                h.consecutive_errors = h.consecutive_errors.saturating_add(1);
                h.last_error = Some(message);
                h.retry_at = Some(retry_at);
            },
            None,
        );
    }

    /// The task ended.
    pub fn stopped(&self) {
        metrics::gauge!("vigie_connector_up", &self.labels()).set(0.0);
        self.registry
            .with(&self.key, |h| h.state = SourceState::Stopped, None);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn tracks_events_errors_lag_and_silence() {
        let reg = HealthRegistry::default();
        let t = Timestamp::from_millis;
        let h = reg.register("acme", "masto", "mastodon", t(1_000));
        assert!(
            !reg.get("acme", "masto")
                .unwrap()
                .is_silent(t(2_000), 60_000)
        );
        h.error("boom".into(), t(2_000), t(3_000));
        let s = reg.get("acme", "masto").unwrap();
        assert_eq!(
            (s.state, s.consecutive_errors, s.errors_total),
            (SourceState::BackingOff, 1, 1)
        );
        h.ok(t(5_000), 3, 1, 2, Some(t(4_500)));
        let s = reg.get("acme", "masto").unwrap();
        assert_eq!(s.state, SourceState::Running);
        assert_eq!(
            (s.mentions_total, s.changes_total, s.rejected_total),
            (3, 1, 2)
        );
        assert_eq!(s.lag_ms, Some(500));
        assert_eq!(s.consecutive_errors, 0);
        assert_eq!(s.last_error.as_deref(), Some("boom"));
        assert!(s.is_silent(t(65_000), 60_000));
        assert!(!s.is_silent(t(64_999), 60_000));
        h.stopped();
        assert!(
            !reg.get("acme", "masto")
                .unwrap()
                .is_silent(t(1_000_000), 60_000)
        );
        assert_eq!(reg.snapshot().len(), 1);
    }
}
