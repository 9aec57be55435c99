//! Source silence: a connector that stops delivering is a signal too.
//!
//! [`SourceSilence`] is fed one event per delivery (a batch of mentions, or a connector
//! heartbeat) with [`SourceSilence::observe`], and ticked with event or clock time
//! ([`SourceSilence::tick`]). Per source it keeps the last [`GAP_HISTORY`] gaps between
//! deliveries; its *usual interval* is their 95th percentile. A source that has delivered
//! nothing for longer than `max(k × usual interval, floor)` raises one
//! [`SignalKind::SourceSilent`], then nothing more until it delivers again. A source is judged
//! only after [`SilenceConfig::min_gaps`] gaps (before that the floor × k applies).

use crate::DetectError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use vigie_model::{Signal, SignalKind, Timestamp, WatchId, WorkspaceId};

/// Gaps remembered per source.
pub const GAP_HISTORY: usize = 256;

/// Settings of the source-silence detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceConfig {
    /// How many usual intervals without delivery make a silence.
    pub k: f64,
    /// The shortest silence ever reported, in minutes.
    pub floor_minutes: f64,
    /// Gaps to learn before the usual interval is trusted.
    pub min_gaps: usize,
}

impl Default for SilenceConfig {
    fn default() -> Self {
        Self {
            k: 4.0,
            floor_minutes: 15.0,
            min_gaps: 10,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Track {
    last_ms: i64,
    gaps: VecDeque<i64>,
    /// A silence was reported and the source has not delivered since.
    reported: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct SilenceState {
    version: u64,
    sources: BTreeMap<String, Track>,
}

const STATE_VERSION: u64 = 1;

/// One source's delivery regularity and silence (see the module documentation).
#[derive(Debug, Clone)]
pub struct SourceSilence {
    workspace: WorkspaceId,
    watch: WatchId,
    config: SilenceConfig,
    state: SilenceState,
}

impl SourceSilence {
    /// A detector whose signals are attributed to `watch` of `workspace` (the watch the
    /// sources feed, or a workspace-wide pseudo-watch chosen by the caller).
    pub fn new(workspace: WorkspaceId, watch: WatchId, config: &SilenceConfig) -> Self {
        Self {
            workspace,
            watch,
            config: config.clone(),
            state: SilenceState {
                version: STATE_VERSION,
                sources: BTreeMap::new(),
            },
        }
    }

    /// `source` delivered (mentions or a heartbeat) at `ts`. Out-of-order events older than
    /// the last delivery are ignored.
    pub fn observe(&mut self, source: &str, ts: Timestamp) {
        let t = ts.as_millis();
        match self.state.sources.get_mut(source) {
            Some(track) => {
                if t <= track.last_ms {
                    return;
                }
                track.gaps.push_back(t - track.last_ms);
                if track.gaps.len() > GAP_HISTORY {
                    track.gaps.pop_front();
                }
                track.last_ms = t;
                track.reported = false;
            }
            None => {
                self.state.sources.insert(
                    source.to_owned(),
                    Track {
                        last_ms: t,
                        ..Track::default()
                    },
                );
            }
        }
    }

    /// The usual interval of a source (95th percentile of its recent gaps), in ms.
    pub fn usual_interval_ms(&self, source: &str) -> Option<i64> {
        let track = self.state.sources.get(source)?;
        usual(track, self.config.min_gaps)
    }

    /// The silence limit of a source, in ms.
    fn limit_ms(&self, track: &Track) -> f64 {
        let floor = self.config.floor_minutes * 60_000.0;
        match usual(track, self.config.min_gaps) {
            Some(u) => (self.config.k * u as f64).max(floor),
            None => self.config.k * floor,
        }
    }

    /// Time reached `now`: one signal per source newly silent.
    pub fn tick(&mut self, now: Timestamp) -> Vec<Signal> {
        let t = now.as_millis();
        let mut out = Vec::new();
        let limits: Vec<(String, f64)> = self
            .state
            .sources
            .iter()
            .filter(|(_, tr)| !tr.reported)
            .map(|(name, tr)| (name.clone(), self.limit_ms(tr)))
            .collect();
        for (name, limit) in limits {
            let Some(track) = self.state.sources.get_mut(&name) else {
                continue;
            };
            let silent = t.saturating_sub(track.last_ms) as f64;
            if silent <= limit {
                continue;
            }
            track.reported = true;
            let usual = usual(track, self.config.min_gaps);
            let usual_text = usual.map_or_else(
                || "not learned yet".to_owned(),
                |u| format!("{:.1} min", u as f64 / 60_000.0),
            );
            out.push(Signal {
                workspace: self.workspace.clone(),
                watch: self.watch.clone(),
                at: now,
                kind: SignalKind::SourceSilent,
                score: (silent / limit).log2() + 3.0,
                observed: silent / 60_000.0,
                expected: limit / 60_000.0,
                detail: format!(
                    "source {name} delivered nothing for {:.0} min (usual interval {usual_text}, limit {:.0} min)",
                    silent / 60_000.0,
                    limit / 60_000.0
                ),
            });
        }
        out
    }

    /// Sources currently reported silent.
    pub fn silent_sources(&self) -> Vec<&str> {
        self.state
            .sources
            .iter()
            .filter(|(_, t)| t.reported)
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// Everything needed to continue after a restart, as JSON.
    pub fn state(&self) -> serde_json::Value {
        serde_json::to_value(&self.state).unwrap_or_default()
    }

    /// Continues from a saved [`SourceSilence::state`]; on error nothing changes.
    pub fn restore(&mut self, v: &serde_json::Value) -> Result<(), DetectError> {
        let st = SilenceState::deserialize(v).map_err(|e| DetectError::InvalidState {
            detector: "silence",
            reason: e.to_string(),
        })?;
        if st.version != STATE_VERSION {
            return Err(DetectError::UnsupportedVersion {
                detector: "silence",
                found: st.version,
                expected: STATE_VERSION,
            });
        }
        self.state = st;
        Ok(())
    }
}

fn usual(track: &Track, min_gaps: usize) -> Option<i64> {
    if track.gaps.len() < min_gaps.max(1) {
        return None;
    }
    let mut gaps: Vec<i64> = track.gaps.iter().copied().collect();
    gaps.sort_unstable();
    let idx = ((gaps.len() as f64 - 1.0) * 0.95).round() as usize;
    gaps.get(idx).copied()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const MIN: i64 = 60_000;

    fn det() -> SourceSilence {
        SourceSilence::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("sources").unwrap(),
            &SilenceConfig::default(),
        )
    }

    #[test]
    fn a_regular_source_that_stops_is_reported_once() {
        let mut d = det();
        for i in 0..60 {
            d.observe("rss", Timestamp::from_millis(i * 10 * MIN));
        }
        assert_eq!(d.usual_interval_ms("rss"), Some(10 * MIN));
        let last = 59 * 10 * MIN;
        assert!(d.tick(Timestamp::from_millis(last + 39 * MIN)).is_empty());
        let s = d.tick(Timestamp::from_millis(last + 41 * MIN));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, SignalKind::SourceSilent);
        assert!(
            s[0].detail
                .contains("source rss delivered nothing for 41 min"),
            "{}",
            s[0].detail
        );
        assert!((s[0].expected - 40.0).abs() < 1e-9);
        assert!(d.tick(Timestamp::from_millis(last + 300 * MIN)).is_empty());
        assert_eq!(d.silent_sources(), vec!["rss"]);
        // It delivers again: back to normal, and a new silence is a new signal.
        d.observe("rss", Timestamp::from_millis(last + 301 * MIN));
        assert!(d.silent_sources().is_empty());
        assert_eq!(d.tick(Timestamp::from_millis(last + 400 * MIN)).len(), 1);
    }

    #[test]
    fn a_busy_source_uses_the_floor_and_unknown_sources_wait() {
        let mut d = det();
        for i in 0..100 {
            d.observe("jetstream", Timestamp::from_millis(i * 2_000));
        }
        let last = 99 * 2_000;
        // Usual gap 2 s, but the floor is 15 min.
        assert!(d.tick(Timestamp::from_millis(last + 14 * MIN)).is_empty());
        assert_eq!(d.tick(Timestamp::from_millis(last + 16 * MIN)).len(), 1);
        // A new source with too little history: k × floor.
        d.observe("new", Timestamp::from_millis(0));
        d.observe("new", Timestamp::from_millis(MIN));
        assert!(d.tick(Timestamp::from_millis(59 * MIN)).is_empty());
        assert_eq!(d.tick(Timestamp::from_millis(62 * MIN)).len(), 1);
    }

    #[test]
    fn out_of_order_ignored_and_state_round_trips() {
        let mut d = det();
        d.observe("a", Timestamp::from_millis(10 * MIN));
        d.observe("a", Timestamp::from_millis(5 * MIN));
        assert_eq!(d.state.sources["a"].gaps.len(), 0);
        let v = d.state();
        let mut e = det();
        e.restore(&v).unwrap();
        assert_eq!(e.state, d.state);
        let mut bad = v.clone();
        bad["version"] = serde_json::json!(7);
        assert!(e.restore(&bad).is_err());
        assert!(e.restore(&serde_json::json!(null)).is_err());
    }
}
