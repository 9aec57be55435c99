//! Volume and negative-volume anomalies: window counts against a learned seasonal baseline.

use crate::baseline::SeriesModel;
use crate::clock::{BucketClock, Cadence, MAX_FILL_BUCKETS};
use crate::stats::surprise_score;
use crate::{DetectError, Detector};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use vigie_model::{
    DetectionSettings, EnrichedMention, SentimentLabel, Signal, SignalKind, Timestamp, WatchId,
    WorkspaceId,
};

/// Lowest score (−log10 p) for which a detector emits a signal (p ≤ 0.001).
pub const SIGNAL_MIN_SCORE: f64 = 3.0;
/// Fewest mentions in the window for a volume or negative signal (a handful is never a wave).
pub const MIN_SIGNAL_COUNT: u64 = 5;
/// Floor of the expected count of a window (quiet watches do not alarm on 2 mentions).
pub const MIN_EXPECTED_WINDOW: f64 = 1.0;
/// While a signal is active, a bucket enters the baseline clipped to expected + this many σ.
pub const CLIP_SIGMAS: f64 = 3.0;
/// Buckets of the short window also scored (its score counts when higher than the window's).
pub const SHORT_BUCKETS: usize = 2;

/// Figures of the last closed window of a [`VolumeDetector`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    /// End of the window (end of the last closed bucket).
    pub at: Timestamp,
    /// Mentions in the window.
    pub mentions: u64,
    /// Mentions expected from the baseline.
    pub expected_mentions: f64,
    /// Negative mentions in the window.
    pub negative: u64,
    /// Negative mentions expected from the baseline.
    pub expected_negative: f64,
    /// −log10 P(mentions or more).
    pub mention_score: f64,
    /// −log10 P(negative or more).
    pub negative_score: f64,
    /// The window ends after the warm-up.
    pub warm: bool,
}

/// One count series with its baseline and anomaly state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Series {
    pub(crate) model: SeriesModel,
    /// The baseline learns clipped values until this instant (a signal is active).
    pub(crate) active_until_ms: Option<i64>,
}

impl Series {
    /// Score of `observed` in a window whose baseline expectation is `expected`.
    pub(crate) fn score(&self, observed: u64, expected: f64) -> f64 {
        let mean = expected.max(MIN_EXPECTED_WINDOW);
        surprise_score(observed, mean, mean * self.model.dispersion())
    }

    /// Learns `x` (clipped while a signal is active).
    pub(crate) fn learn(&mut self, x: u64, expected: f64, start_ms: i64, end_ms: i64, hl: f64) {
        let mut x = x as f64;
        if self.active_until_ms.is_some_and(|u| u >= end_ms) {
            x = x.min(self.model.clip_limit(expected, CLIP_SIGMAS));
        }
        self.model.update(x, expected, start_ms, hl);
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct ClosedBucket {
    all: u64,
    negative: u64,
    expected_all: f64,
    expected_negative: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct VolumeState {
    version: u64,
    bucket_minutes: u32,
    window_buckets: usize,
    clock: BucketClock,
    open_all: u64,
    open_negative: u64,
    window: VecDeque<ClosedBucket>,
    all: Series,
    negative: Series,
    stats: WindowStats,
}

const STATE_VERSION: u64 = 1;

/// Counts mentions and negative mentions per bucket and raises [`SignalKind::VolumeSpike`] and
/// [`SignalKind::NegativeSurge`] when a window's count is improbable under the baseline.
///
/// On each closed bucket: expected = Σ over the window's buckets of the seasonal baseline
/// rate; p = P(X ≥ observed) (Poisson, or negative binomial when the series is
/// over-dispersed), the same for the last [`SHORT_BUCKETS`](crate::SHORT_BUCKETS) buckets, and
/// the score is the larger −log10 p of the two; a signal with score −log10 p is emitted when the score reaches
/// [`SIGNAL_MIN_SCORE`](crate::SIGNAL_MIN_SCORE), the window holds at least [`MIN_SIGNAL_COUNT`](crate::MIN_SIGNAL_COUNT) mentions and the
/// warm-up is over. The bucket then enters the baseline, clipped while a signal is active.
#[derive(Debug, Clone)]
pub struct VolumeDetector {
    workspace: WorkspaceId,
    watch: WatchId,
    cadence: Cadence,
    state: VolumeState,
}

impl VolumeDetector {
    /// A detector for one watch.
    pub fn new(workspace: WorkspaceId, watch: WatchId, settings: &DetectionSettings) -> Self {
        let cadence = Cadence::new(settings);
        Self {
            workspace,
            watch,
            state: VolumeState {
                version: STATE_VERSION,
                bucket_minutes: cadence.bucket_minutes,
                window_buckets: cadence.window_buckets,
                clock: BucketClock::new(cadence.bucket_minutes),
                open_all: 0,
                open_negative: 0,
                window: VecDeque::with_capacity(cadence.window_buckets + 1),
                all: Series::default(),
                negative: Series::default(),
                stats: WindowStats::default(),
            },
            cadence,
        }
    }

    /// Figures of the last closed window.
    pub fn window_stats(&self) -> &WindowStats {
        &self.state.stats
    }

    /// Mentions and negative mentions of the last closed bucket.
    pub(crate) fn last_bucket(&self) -> Option<(u64, u64)> {
        self.state.window.back().map(|b| (b.all, b.negative))
    }

    /// Closes the open bucket and evaluates the window ending with it.
    pub(crate) fn close_one(&mut self, out: &mut Vec<Signal>) {
        let st = &mut self.state;
        let Some(start) = st.clock.open_ms else {
            return;
        };
        let end = start.saturating_add(self.cadence.bucket_ms);
        let expected_all = st.all.model.expected(start).max(0.0);
        let expected_negative = st.negative.model.expected(start).max(0.0);
        st.window.push_back(ClosedBucket {
            all: st.open_all,
            negative: st.open_negative,
            expected_all,
            expected_negative,
        });
        while st.window.len() > self.cadence.window_buckets {
            st.window.pop_front();
        }
        let mut w = ClosedBucket::default();
        for b in &st.window {
            w.all += b.all;
            w.negative += b.negative;
            w.expected_all += b.expected_all;
            w.expected_negative += b.expected_negative;
        }
        // The last SHORT_BUCKETS buckets alone: a sudden onset stands out there before it
        // weighs on the whole window.
        let mut short = ClosedBucket::default();
        for b in st.window.iter().rev().take(SHORT_BUCKETS) {
            short.all += b.all;
            short.negative += b.negative;
            short.expected_all += b.expected_all;
            short.expected_negative += b.expected_negative;
        }
        let warm = st.clock.is_warm(end, self.cadence.warmup_ms);
        let mention_score = st
            .all
            .score(w.all, w.expected_all)
            .max(st.all.score(short.all, short.expected_all));
        let negative_score = st
            .negative
            .score(w.negative, w.expected_negative)
            .max(st.negative.score(short.negative, short.expected_negative));
        let minutes = self.cadence.window_minutes;
        let until = end.saturating_add(self.cadence.window_ms);
        if warm && mention_score >= SIGNAL_MIN_SCORE && w.all >= MIN_SIGNAL_COUNT {
            st.all.active_until_ms = Some(until);
            out.push(Signal {
                workspace: self.workspace.clone(),
                watch: self.watch.clone(),
                at: Timestamp::from_millis(end),
                kind: SignalKind::VolumeSpike,
                score: mention_score,
                observed: w.all as f64,
                expected: w.expected_all,
                detail: format!(
                    "{} mentions in {minutes} min vs {:.1} expected",
                    w.all, w.expected_all
                ),
            });
        }
        if warm && negative_score >= SIGNAL_MIN_SCORE && w.negative >= MIN_SIGNAL_COUNT {
            st.negative.active_until_ms = Some(until);
            out.push(Signal {
                workspace: self.workspace.clone(),
                watch: self.watch.clone(),
                at: Timestamp::from_millis(end),
                kind: SignalKind::NegativeSurge,
                score: negative_score,
                observed: w.negative as f64,
                expected: w.expected_negative,
                detail: format!(
                    "{} negative mentions in {minutes} min vs {:.1} expected",
                    w.negative, w.expected_negative
                ),
            });
        }
        let hl = self.cadence.half_life_ms;
        st.all.learn(st.open_all, expected_all, start, end, hl);
        st.negative
            .learn(st.open_negative, expected_negative, start, end, hl);
        st.stats = WindowStats {
            at: Timestamp::from_millis(end),
            mentions: w.all,
            expected_mentions: w.expected_all,
            negative: w.negative,
            expected_negative: w.expected_negative,
            mention_score,
            negative_score,
            warm,
        };
        st.open_all = 0;
        st.open_negative = 0;
        st.clock.advance();
    }

    /// Jumps over a long gap to the bucket containing `now` (see [`MAX_FILL_BUCKETS`](crate::MAX_FILL_BUCKETS)).
    pub(crate) fn jump_to(&mut self, now: Timestamp) {
        self.state.clock.jump_to(now);
    }

    fn advance_to(&mut self, now: Timestamp, out: &mut Vec<Signal>) {
        let due = self.state.clock.due(now);
        let steps = due.min(MAX_FILL_BUCKETS);
        for _ in 0..steps {
            self.close_one(out);
        }
        if due > steps {
            self.jump_to(now);
        }
    }
}

impl Detector for VolumeDetector {
    fn name(&self) -> &'static str {
        "volume"
    }

    fn observe(&mut self, m: &EnrichedMention, out: &mut Vec<Signal>) {
        let t = m.event_time();
        if !self.state.clock.start(t) {
            // Later mentions first close the buckets before theirs; late ones count now.
            self.advance_to(t, out);
        }
        self.state.open_all += 1;
        // The organization's own posts (apologies, answers to complaints) are never backlash,
        // even when their words score negative.
        if m.enrichment.sentiment.label == SentimentLabel::Negative && !m.enrichment.own_account {
            self.state.open_negative += 1;
        }
    }

    fn on_tick(&mut self, now: Timestamp, out: &mut Vec<Signal>) {
        self.advance_to(now, out);
    }

    fn state(&self) -> serde_json::Value {
        serde_json::to_value(&self.state).unwrap_or_default()
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), DetectError> {
        let st = VolumeState::deserialize(state).map_err(|e| DetectError::InvalidState {
            detector: "volume",
            reason: e.to_string(),
        })?;
        self.cadence.check_saved(
            "volume",
            (st.version, STATE_VERSION),
            (st.bucket_minutes, st.window_buckets),
            st.all.model.is_well_formed() && st.negative.model.is_well_formed(),
        )?;
        self.state = st;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, mention, settings};

    fn run(det: &mut VolumeDetector, counts: &[(u64, u64)], start_min: i64) -> Vec<Signal> {
        // counts[i] = (mentions, of which negative) in the i-th 5-minute bucket.
        let mut out = Vec::new();
        for (i, (n, neg)) in counts.iter().enumerate() {
            let base = (start_min + i as i64 * 5) * 60_000;
            for j in 0..*n {
                let t = base + (j as i64 * 1_000) % 300_000;
                let label = if j < *neg {
                    SentimentLabel::Negative
                } else {
                    SentimentLabel::Neutral
                };
                det.observe(&mention(t, &format!("a{j}"), label, 10), &mut out);
            }
        }
        out
    }

    #[test]
    fn warm_up_suppresses_signals() {
        let mut det = VolumeDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &settings(),
        );
        // A huge burst 2 hours after the first mention: inside the 1-day warm-up.
        let mut counts = vec![(2, 0); 24];
        counts.extend(vec![(200, 150); 6]);
        let signals = run(&mut det, &counts, 0);
        det.on_tick(Timestamp::from_millis(10 * 3_600_000), &mut Vec::new());
        assert!(signals.is_empty(), "{signals:?}");
        assert!(!det.window_stats().warm);
    }

    #[test]
    fn spike_after_warm_up_is_scored_and_gaps_are_zeros() {
        let s = settings();
        let mut det = VolumeDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &s,
        );
        let mut rng = Rng(7);
        // 2 days of about 2 mentions per bucket, 20 % negative.
        let counts: Vec<(u64, u64)> = (0..576)
            .map(|_| {
                let n = rng.poisson(2.0);
                (n, n / 5)
            })
            .collect();
        let quiet = run(&mut det, &counts, 0);
        assert!(quiet.iter().all(|s| s.score < 6.0), "{quiet:?}");
        run(&mut det, &[(40, 30)], 576 * 5);
        let mut out = Vec::new();
        det.on_tick(Timestamp::from_millis((577 * 5) * 60_000), &mut out);
        let kinds: Vec<_> = out.iter().map(|s| s.kind).collect();
        assert!(kinds.contains(&SignalKind::VolumeSpike), "{out:?}");
        assert!(kinds.contains(&SignalKind::NegativeSurge), "{out:?}");
        let surge = out
            .iter()
            .find(|s| s.kind == SignalKind::NegativeSurge)
            .unwrap();
        assert!(surge.score > 10.0 && surge.observed >= 30.0 && surge.expected < 5.0);
        assert!(surge.detail.contains("negative mentions in 30 min"));
        // The surge stays in the window for 30 min, then silent hours: ticks fill the gap
        // with zeros, no spike, the window empties.
        let mut out = Vec::new();
        det.on_tick(Timestamp::from_millis((577 * 5 + 30) * 60_000), &mut out);
        assert!(out.iter().all(|s| s.observed >= 30.0), "{out:?}");
        out.clear();
        det.on_tick(Timestamp::from_millis((577 * 5 + 150) * 60_000), &mut out);
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(det.window_stats().mentions, 0);
    }

    #[test]
    fn late_mentions_count_in_the_open_bucket() {
        let mut det = VolumeDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &settings(),
        );
        let mut out = Vec::new();
        det.observe(
            &mention(20 * 60_000, "a", SentimentLabel::Neutral, 1),
            &mut out,
        );
        // Published an hour before: counted in the open bucket, nothing closes.
        det.observe(
            &mention(-40 * 60_000, "b", SentimentLabel::Negative, 1),
            &mut out,
        );
        assert_eq!(det.state.open_all, 2);
        assert_eq!(det.state.open_negative, 1);
        assert_eq!(det.state.clock.open_ms, Some(20 * 60_000));
        assert!(det.state.window.is_empty());
    }

    #[test]
    fn anomalies_do_not_poison_the_baseline() {
        let s = settings();
        let mk = || {
            VolumeDetector::new(
                WorkspaceId::new("w").unwrap(),
                WatchId::new("x").unwrap(),
                &s,
            )
        };
        let (mut clean, mut hit) = (mk(), mk());
        let steady: Vec<(u64, u64)> = vec![(3, 1); 400];
        run(&mut clean, &steady, 0);
        run(&mut hit, &steady, 0);
        let burst = vec![(300, 200); 12];
        let calm = vec![(3, 1); 12];
        run(&mut clean, &calm, 2000);
        run(&mut hit, &burst, 2000);
        let e_clean = clean.state.all.model.expected(0);
        let e_hit = hit.state.all.model.expected(0);
        // Unclipped, 12 × 297 extra over ~412 samples would add about 8.6 per bucket.
        assert!(e_hit - e_clean < 1.0, "{e_clean} vs {e_hit}");
    }

    #[test]
    fn state_round_trips_and_rejects_other_settings() {
        let s = settings();
        let mut det = VolumeDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &s,
        );
        run(&mut det, &vec![(2, 1); 50], 0);
        let v = det.state();
        let mut copy = VolumeDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &s,
        );
        copy.restore(&v).unwrap();
        assert_eq!(copy.state, det.state);
        let other = DetectionSettings {
            bucket_minutes: 10,
            ..s
        };
        let mut wrong = VolumeDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &other,
        );
        assert!(matches!(
            wrong.restore(&v),
            Err(DetectError::IncompatibleSettings { .. })
        ));
        assert!(wrong.restore(&serde_json::json!({"x": 1})).is_err());
    }
}
