//! Incidents: a watch's signals and level changes from the moment it leaves calm until it
//! returns to calm, grouped into one [`Incident`] with a timeline.

use crate::DetectError;
use crate::monitor::MonitorOutput;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use vigie_model::{
    CrisisLevel, Incident, IncidentEvent, IncidentEventKind, LevelChange, Signal, SignalKind,
    Timestamp, WatchId, WorkspaceId,
};

/// Signals remembered per calm watch, so the ones that led to an incident join its timeline.
const MAX_PENDING: usize = 64;
const STATE_VERSION: u64 = 1;

type Key = (WorkspaceId, WatchId);

/// A run of signals of one kind folded into one timeline line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Aggregate {
    kind: SignalKind,
    event: usize,
    first_at: Timestamp,
    last_at: Timestamp,
    count: u64,
    peak_score: f64,
    peak_detail: String,
}

impl Aggregate {
    fn text(&self) -> String {
        let label = self.kind.as_str().replace('_', " ");
        if self.count == 1 {
            format!(
                "{label}: {} (score {:.1})",
                self.peak_detail, self.peak_score
            )
        } else {
            format!(
                "{label} ×{} from {} to {}, peak score {:.1}: {}",
                self.count,
                hh_mm(self.first_at),
                hh_mm(self.last_at),
                self.peak_score,
                self.peak_detail
            )
        }
    }
}

fn hh_mm(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    s.get(11..16).unwrap_or(&s).to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tracked {
    incident: Incident,
    aggregates: Vec<Aggregate>,
}

impl Tracked {
    fn add_signal(&mut self, s: &Signal, window_ms: i64) {
        let timeline = &mut self.incident.timeline;
        if s.kind != SignalKind::InfluencerJoined
            && let Some(agg) = self.aggregates.iter_mut().find(|a| a.kind == s.kind)
            && s.at.millis_since(agg.last_at) <= window_ms
            && let Some(event) = timeline.get_mut(agg.event)
        {
            agg.count += 1;
            agg.last_at = agg.last_at.max(s.at);
            if s.score > agg.peak_score {
                agg.peak_score = s.score;
                agg.peak_detail.clone_from(&s.detail);
            }
            event.text = agg.text();
            return;
        }
        let agg = Aggregate {
            kind: s.kind,
            event: timeline.len(),
            first_at: s.at,
            last_at: s.at,
            count: 1,
            peak_score: s.score,
            peak_detail: s.detail.clone(),
        };
        timeline.push(IncidentEvent {
            at: s.at,
            kind: IncidentEventKind::Signal,
            text: agg.text(),
        });
        self.aggregates.retain(|a| a.kind != s.kind);
        self.aggregates.push(agg);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct TrackerState {
    version: u64,
    open: Vec<Tracked>,
    pending: Vec<Signal>,
    closed: Vec<Incident>,
    dirty: Vec<Key>,
}

/// Folds signals and level changes of every watch into incidents.
///
/// An incident opens when a watch leaves calm (with the signals of the preceding window),
/// records every level change and the signals while it is open — a signal of the same kind
/// within a window of the previous one updates that line instead of adding one — and closes
/// when the watch returns to calm. [`IncidentTracker::take_dirty`] hands over the incidents that
/// changed; after the store assigned an id, [`IncidentTracker::set_id`] records it so later
/// saves update the same row.
#[derive(Debug, Clone, Default)]
pub struct IncidentTracker {
    window_ms: i64,
    open: BTreeMap<Key, Tracked>,
    pending: BTreeMap<Key, Vec<Signal>>,
    closed: Vec<Incident>,
    dirty: BTreeSet<Key>,
}

impl IncidentTracker {
    /// A tracker that aggregates repeated signals within `window_minutes`.
    pub fn new(window_minutes: u32) -> Self {
        Self {
            window_ms: i64::from(window_minutes) * 60_000,
            ..Self::default()
        }
    }

    /// Takes a monitor's output: signals and level changes in event-time order (at equal
    /// times, signals before the level change they caused).
    pub fn apply(&mut self, out: &MonitorOutput) {
        enum Item<'a> {
            Signal(&'a Signal),
            Change(&'a LevelChange),
        }
        let mut items: Vec<(Timestamp, u8, Item<'_>)> = out
            .signals
            .iter()
            .map(|s| (s.at, 0, Item::Signal(s)))
            .chain(out.level_changes.iter().map(|c| (c.at, 1, Item::Change(c))))
            .collect();
        items.sort_by_key(|(at, prio, _)| (*at, *prio));
        for (_, _, item) in items {
            match item {
                Item::Signal(s) => self.on_signal(s),
                Item::Change(c) => self.on_level_change(c),
            }
        }
    }

    /// Takes one signal.
    pub fn on_signal(&mut self, s: &Signal) {
        let key = (s.workspace.clone(), s.watch.clone());
        if let Some(tracked) = self.open.get_mut(&key) {
            tracked.add_signal(s, self.window_ms);
            self.dirty.insert(key);
            return;
        }
        let pending = self.pending.entry(key).or_default();
        let horizon = s.at.plus_millis(-self.window_ms);
        pending.retain(|p| p.at > horizon);
        pending.push(s.clone());
        let excess = pending.len().saturating_sub(MAX_PENDING);
        pending.drain(..excess);
    }

    /// Takes one level change.
    pub fn on_level_change(&mut self, c: &LevelChange) {
        let key = (c.workspace.clone(), c.watch.clone());
        let line = IncidentEvent {
            at: c.at,
            kind: IncidentEventKind::LevelChanged,
            text: format!("level {} → {}: {}", c.from, c.to, c.explanation.summary),
        };
        if let Some(tracked) = self.open.get_mut(&key) {
            let inc = &mut tracked.incident;
            inc.timeline.push(line);
            inc.level = c.to;
            inc.peak_level = inc.peak_level.max(c.to);
            if c.to == CrisisLevel::Calm {
                let minutes = c.at.millis_since(inc.opened_at) / 60_000;
                inc.timeline.push(IncidentEvent {
                    at: c.at,
                    kind: IncidentEventKind::Resolved,
                    text: format!(
                        "back to calm after {} h {:02} min; peak level {}",
                        minutes / 60,
                        minutes % 60,
                        inc.peak_level
                    ),
                });
                inc.closed_at = Some(c.at);
                if let Some(done) = self.open.remove(&key) {
                    self.closed.push(done.incident);
                }
                self.dirty.remove(&key);
            } else {
                self.dirty.insert(key);
            }
            return;
        }
        if c.to == CrisisLevel::Calm {
            return;
        }
        let mut tracked = Tracked {
            incident: Incident {
                id: 0,
                workspace: c.workspace.clone(),
                watch: c.watch.clone(),
                opened_at: c.at,
                closed_at: None,
                peak_level: c.to,
                level: c.to,
                timeline: Vec::new(),
            },
            aggregates: Vec::new(),
        };
        let pending = self.pending.remove(&key).unwrap_or_default();
        let horizon = c.at.plus_millis(-self.window_ms);
        let (before, after): (Vec<&Signal>, Vec<&Signal>) = pending
            .iter()
            .filter(|s| s.at > horizon)
            .partition(|s| s.at < c.at);
        for s in before {
            tracked.add_signal(s, self.window_ms);
        }
        tracked.incident.timeline.push(IncidentEvent {
            at: c.at,
            kind: IncidentEventKind::Opened,
            text: format!("opened at level {}", c.to),
        });
        for s in after {
            tracked.add_signal(s, self.window_ms);
        }
        tracked.incident.timeline.push(line);
        self.open.insert(key.clone(), tracked);
        self.dirty.insert(key);
    }

    /// The incidents that changed since the last call (closed ones included, once), ordered
    /// by workspace, watch and opening time.
    pub fn take_dirty(&mut self) -> Vec<Incident> {
        let mut v: Vec<Incident> = std::mem::take(&mut self.closed);
        for key in std::mem::take(&mut self.dirty) {
            if let Some(t) = self.open.get(&key) {
                v.push(t.incident.clone());
            }
        }
        v.sort_by(|a, b| {
            (&a.workspace, &a.watch, a.opened_at).cmp(&(&b.workspace, &b.watch, b.opened_at))
        });
        v
    }

    /// Records the store's id of the open incident of a watch opened at `opened_at`.
    /// Returns false when no such incident is open (e.g. it already closed).
    pub fn set_id(
        &mut self,
        workspace: &WorkspaceId,
        watch: &WatchId,
        opened_at: Timestamp,
        id: i64,
    ) -> bool {
        let key = (workspace.clone(), watch.clone());
        match self.open.get_mut(&key) {
            Some(t) if t.incident.opened_at == opened_at => {
                t.incident.id = id;
                true
            }
            _ => false,
        }
    }

    /// The open incident of a watch, if any.
    pub fn open_incident(&self, workspace: &WorkspaceId, watch: &WatchId) -> Option<&Incident> {
        self.open
            .get(&(workspace.clone(), watch.clone()))
            .map(|t| &t.incident)
    }

    /// Open incidents, ordered by workspace and watch.
    pub fn open_incidents(&self) -> impl Iterator<Item = &Incident> {
        self.open.values().map(|t| &t.incident)
    }

    /// Everything needed to continue after a restart, as JSON.
    pub fn state(&self) -> serde_json::Value {
        let st = TrackerState {
            version: STATE_VERSION,
            open: self.open.values().cloned().collect(),
            pending: self.pending.values().flatten().cloned().collect(),
            closed: self.closed.clone(),
            dirty: self.dirty.iter().cloned().collect(),
        };
        serde_json::to_value(&st).unwrap_or_default()
    }

    /// Continues from a saved [`IncidentTracker::state`]; on error the tracker is unchanged.
    pub fn restore(&mut self, v: &serde_json::Value) -> Result<(), DetectError> {
        let st = TrackerState::deserialize(v).map_err(|e| DetectError::InvalidState {
            detector: "incidents",
            reason: e.to_string(),
        })?;
        if st.version != STATE_VERSION {
            return Err(DetectError::UnsupportedVersion {
                detector: "incidents",
                found: st.version,
                expected: STATE_VERSION,
            });
        }
        self.open = st
            .open
            .into_iter()
            .map(|t| ((t.incident.workspace.clone(), t.incident.watch.clone()), t))
            .collect();
        self.pending.clear();
        for s in st.pending {
            self.pending
                .entry((s.workspace.clone(), s.watch.clone()))
                .or_default()
                .push(s);
        }
        self.closed = st.closed;
        self.dirty = st.dirty.into_iter().collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_model::Explanation;

    fn ids() -> (WorkspaceId, WatchId) {
        (WorkspaceId::new("w").unwrap(), WatchId::new("x").unwrap())
    }

    fn sig(kind: SignalKind, min: i64, score: f64) -> Signal {
        let (workspace, watch) = ids();
        Signal {
            workspace,
            watch,
            at: Timestamp::from_millis(min * 60_000),
            kind,
            score,
            observed: 10.0,
            expected: 1.0,
            detail: format!("detail {score}"),
        }
    }

    fn change(min: i64, from: u8, to: u8) -> LevelChange {
        let (workspace, watch) = ids();
        LevelChange {
            workspace,
            watch,
            at: Timestamp::from_millis(min * 60_000),
            from: CrisisLevel::from_u8(from),
            to: CrisisLevel::from_u8(to),
            explanation: Explanation {
                summary: "42 mentions".into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn lifecycle_with_aggregated_signals_and_ids() {
        let mut t = IncidentTracker::new(30);
        let (ws, w) = ids();
        // Calm: an old signal (forgotten) and one just before the change (kept).
        t.on_signal(&sig(SignalKind::VolumeSpike, 0, 3.1));
        t.on_signal(&sig(SignalKind::InfluencerJoined, 58, 3.0));
        let mut out = MonitorOutput::default();
        out.signals.push(sig(SignalKind::NegativeSurge, 60, 8.0));
        out.level_changes.push(change(60, 0, 2));
        t.apply(&out);
        let dirty = t.take_dirty();
        assert_eq!(dirty.len(), 1);
        let inc = &dirty[0];
        assert_eq!(inc.id, 0);
        assert_eq!(inc.level, CrisisLevel::Alert);
        let kinds: Vec<_> = inc.timeline.iter().map(|e| e.kind).collect();
        use IncidentEventKind::*;
        assert_eq!(kinds, vec![Signal, Opened, Signal, LevelChanged]);
        assert!(
            inc.timeline[3]
                .text
                .starts_with("level 0 (calm) → 2 (alert): 42 mentions")
        );
        assert!(t.take_dirty().is_empty());
        assert!(t.set_id(&ws, &w, inc.opened_at, 7));
        assert!(!t.set_id(&ws, &w, Timestamp::from_millis(1), 8));

        // The same kind every bucket for 20 min: one line, updated.
        for m in [65, 70, 75, 80] {
            t.on_signal(&sig(SignalKind::NegativeSurge, m, m as f64 / 5.0));
        }
        let inc = t.take_dirty().remove(0);
        assert_eq!(inc.id, 7);
        assert_eq!(inc.timeline.len(), 4);
        assert!(
            inc.timeline[2]
                .text
                .contains("×5 from 01:00 to 01:20, peak score 16.0"),
            "{}",
            inc.timeline[2].text
        );
        // After a quiet window the kind starts a new line.
        t.on_signal(&sig(SignalKind::NegativeSurge, 200, 5.0));
        t.on_level_change(&change(205, 2, 3));
        t.on_level_change(&change(300, 3, 2));
        t.on_level_change(&change(400, 2, 0));
        assert!(t.open_incident(&ws, &w).is_none());
        let closed = t.take_dirty();
        assert_eq!(closed.len(), 1);
        let inc = &closed[0];
        assert_eq!(
            (inc.id, inc.peak_level, inc.level),
            (7, CrisisLevel::Crisis, CrisisLevel::Calm)
        );
        assert_eq!(inc.closed_at, Some(Timestamp::from_millis(400 * 60_000)));
        assert_eq!(inc.timeline.last().unwrap().kind, Resolved);
        assert!(
            inc.timeline
                .last()
                .unwrap()
                .text
                .contains("after 5 h 40 min")
        );
        assert_eq!(inc.timeline.iter().filter(|e| e.kind == Signal).count(), 3);
        // A new incident later gets a fresh id.
        t.on_level_change(&change(500, 0, 1));
        assert_eq!(t.take_dirty()[0].id, 0);
        assert_eq!(t.open_incidents().count(), 1);
    }

    #[test]
    fn state_round_trips() {
        let mut t = IncidentTracker::new(30);
        t.on_signal(&sig(SignalKind::VolumeSpike, 1, 4.0));
        t.on_level_change(&change(2, 0, 1));
        t.on_signal(&sig(SignalKind::VolumeSpike, 3, 4.0));
        let v = t.state();
        let mut u = IncidentTracker::new(30);
        u.restore(&v).unwrap();
        assert_eq!(u.state(), v);
        assert_eq!(u.take_dirty(), t.take_dirty());
        assert!(u.restore(&serde_json::json!({"version": 2})).is_err());
    }
}
