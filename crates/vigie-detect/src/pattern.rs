//! Pattern novelty of a watch's volume: do the last hours look like anything seen at this
//! time of the earlier days? (A seasonal discord with a compact state.)
//!
//! The monitor hands every closed bucket's counts (all mentions, negative mentions) to a
//! [`PatternDetector`], which sums them per hour and keeps `history_days` of hourly counts.
//! When an hour closes, for each of the two series:
//!
//! 1. the counts are put on a scale where counting noise has unit variance (Anscombe:
//!    `a(x) = 2·√(x + 3/8)`), so that a difference means as much on a quiet watch as on a
//!    busy one;
//! 2. the **shape** of the last `shape_hours` hours is compared with the windows ending at the
//!    same hour (± `slack_hours` of drift) on every earlier day kept; the novelty is the
//!    mean squared difference per hour to the best match of the `neighbours` closest days.
//!    A flatline (nothing where every earlier
//!    day had mentions), a changed rhythm (activity moved to other hours) or a shape never
//!    seen at this time has no near neighbour;
//! 3. the novelty is **calibrated** against the novelty of the earlier hours of the same
//!    series (empirical rank up to their 90th percentile, an exponential tail fitted to the
//!    top 10 % beyond it), so that what is usual for this watch is not surprising;
//! 4. a [`SignalKind::PatternChange`] is raised when `−log10 p` (with a factor 2 for the two
//!    series) reaches [`SIGNAL_MIN_SCORE`](crate::SIGNAL_MIN_SCORE) and the larger window
//!    holds at least [`MIN_PATTERN_COUNT`] mentions; the series then stays quiet for
//!    `hush_hours` (one alarm per change, not one an hour). Hours that raised a signal do not enter the calibration.
//!
//! Memory is fixed: `24 × history_days` hours of two counts and two novelties (about 10 KB of
//! JSON with the defaults). The NAB detector ([`crate::anomaly`]) has a richer version of the
//! same idea over full calibration windows; this one is sized for thousands of watches whose
//! state is saved at every checkpoint.

use crate::{DetectError, SIGNAL_MIN_SCORE};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use vigie_model::{Signal, SignalKind, Timestamp, WatchId, WorkspaceId};

const HOUR_MS: i64 = 3_600_000;
const STATE_VERSION: u64 = 1;
/// Fewest mentions in the compared windows (the current one or its nearest neighbour) for a
/// pattern change: a shape drawn by a handful of posts is not news.
pub const MIN_PATTERN_COUNT: u64 = 30;
/// Share of the calibration values above which the tail is extrapolated.
const TAIL_SHARE: f64 = 0.1;

/// Settings of the pattern-novelty detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PatternConfig {
    /// Raise `pattern_change` signals at all.
    pub enabled: bool,
    /// Hours in the compared shape.
    pub shape_hours: usize,
    /// Days of hourly history kept (and compared with).
    pub history_days: usize,
    /// Hours of phase drift allowed when comparing with an earlier day.
    pub slack_hours: usize,
    /// Earlier days with data at this time needed before a window is scored.
    pub min_days: usize,
    /// The novelty is the mean distance to the best match of this many earlier days (1: the
    /// nearest neighbour; 2 asks a pattern to have been seen twice, which a weekly rhythm
    /// within `history_days` is).
    pub neighbours: usize,
    /// Smallest scale of the calibration's exponential tail (a mean squared difference per
    /// hour on the unit-noise scale).
    pub min_tail_scale: f64,
    /// Earlier novelty values needed to calibrate.
    pub min_calibration: usize,
    /// After a signal, the series stays quiet this long.
    pub hush_hours: usize,
}

impl Default for PatternConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            shape_hours: 6,
            history_days: 14,
            slack_hours: 1,
            min_days: 3,
            neighbours: 2,
            min_tail_scale: 0.5,
            min_calibration: 48,
            hush_hours: 24,
        }
    }
}

impl PatternConfig {
    /// Checks the ranges; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=24).contains(&self.shape_hours) {
            return Err(format!(
                "shape_hours must be between 2 and 24, got {}",
                self.shape_hours
            ));
        }
        if !(2..=60).contains(&self.history_days) {
            return Err(format!(
                "history_days must be between 2 and 60, got {}",
                self.history_days
            ));
        }
        if self.slack_hours > 6 {
            return Err(format!(
                "slack_hours must be at most 6, got {}",
                self.slack_hours
            ));
        }
        if self.min_days == 0 || self.min_days >= self.history_days {
            return Err(format!(
                "min_days must be between 1 and history_days - 1 ({}), got {}",
                self.history_days - 1,
                self.min_days
            ));
        }
        if self.neighbours == 0 || self.neighbours > self.min_days {
            return Err(format!(
                "neighbours must be between 1 and min_days ({}), got {}",
                self.min_days, self.neighbours
            ));
        }
        if !(self.min_tail_scale.is_finite() && self.min_tail_scale > 0.0) {
            return Err(format!(
                "min_tail_scale must be a positive number, got {}",
                self.min_tail_scale
            ));
        }
        if self.min_calibration < 10 {
            return Err(format!(
                "min_calibration must be at least 10, got {}",
                self.min_calibration
            ));
        }
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.history_days * 24 + self.shape_hours + self.slack_hours
    }
}

/// One closed hour: mentions, negative mentions, and the novelty of each series at its
/// close (absent before the detector could score, or when the hour raised a signal).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Hour(u32, u32, Option<f32>, Option<f32>);

impl Hour {
    fn count(&self, series: usize) -> u32 {
        if series == 0 { self.0 } else { self.1 }
    }

    fn novelty(&self, series: usize) -> Option<f32> {
        if series == 0 { self.2 } else { self.3 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PatternState {
    version: u64,
    /// Start of the hour being summed.
    open_hour_ms: Option<i64>,
    open: [u64; 2],
    /// Closed hours, oldest first, the last one ending at `open_hour_ms`; `None` where the
    /// monitor skipped time (no data, not zeros).
    hours: VecDeque<Option<Hour>>,
    /// Per series: until when it stays quiet after a signal, and the score to beat meanwhile.
    hush: [(i64, f64); 2],
}

/// The pattern-novelty detector of one watch (see the module documentation).
#[derive(Debug, Clone)]
pub struct PatternDetector {
    workspace: WorkspaceId,
    watch: WatchId,
    config: PatternConfig,
    state: PatternState,
}

/// The nearest earlier window of one series.
struct Nearest {
    novelty: f64,
    days_back: usize,
    count: u64,
    days_compared: usize,
}

impl PatternDetector {
    /// A detector with no history.
    pub fn new(workspace: WorkspaceId, watch: WatchId, config: &PatternConfig) -> Self {
        Self {
            workspace,
            watch,
            state: PatternState {
                version: STATE_VERSION,
                open_hour_ms: None,
                open: [0, 0],
                hours: VecDeque::with_capacity(config.capacity()),
                hush: [(i64::MIN, 0.0); 2],
            },
            config: config.clone(),
        }
    }

    /// Takes one closed bucket (start time, mentions, negative mentions). Buckets come in
    /// order; an hour closes when the first bucket of a later hour arrives.
    pub fn bucket(&mut self, start_ms: i64, all: u64, negative: u64, out: &mut Vec<Signal>) {
        if !self.config.enabled {
            return;
        }
        let hour = start_ms.div_euclid(HOUR_MS) * HOUR_MS;
        match self.state.open_hour_ms {
            None => self.state.open_hour_ms = Some(hour),
            Some(open) if hour > open => {
                self.close_hour(open, out);
                // Hours between without any bucket: the monitor skipped them.
                let missing = (hour - open) / HOUR_MS - 1;
                let missing = usize::try_from(missing)
                    .unwrap_or(usize::MAX)
                    .min(self.config.capacity());
                for _ in 0..missing {
                    self.push(None);
                }
                self.state.open_hour_ms = Some(hour);
            }
            Some(_) => {}
        }
        self.state.open[0] = self.state.open[0].saturating_add(all);
        self.state.open[1] = self.state.open[1].saturating_add(negative);
    }

    /// The monitor jumped over a long gap: the open hour is incomplete and the hours until
    /// the next bucket are unknown (not zeros).
    pub fn gap(&mut self) {
        if self.state.open_hour_ms.take().is_some() {
            self.push(None);
        }
        self.state.open = [0, 0];
    }

    fn push(&mut self, hour: Option<Hour>) {
        self.state.hours.push_back(hour);
        while self.state.hours.len() > self.config.capacity() {
            self.state.hours.pop_front();
        }
    }

    fn close_hour(&mut self, start_ms: i64, out: &mut Vec<Signal>) {
        let counts = [
            u32::try_from(self.state.open[0]).unwrap_or(u32::MAX),
            u32::try_from(self.state.open[1]).unwrap_or(u32::MAX),
        ];
        self.state.open = [0, 0];
        self.push(Some(Hour(counts[0], counts[1], None, None)));
        let end_ms = start_ms.saturating_add(HOUR_MS);
        let mut novelty = [None, None];
        for (series, slot) in novelty.iter_mut().enumerate() {
            let Some(near) = self.nearest(series) else {
                continue;
            };
            let current = self.window_count(self.state.hours.len() - 1, series);
            let score = match self.calibrated_score(series, near.novelty) {
                Some(s) => s,
                None => {
                    *slot = Some(near.novelty as f32);
                    continue;
                }
            };
            let big_enough = current.max(near.count) >= MIN_PATTERN_COUNT;
            if score >= SIGNAL_MIN_SCORE && big_enough {
                // During the hush the series stays quiet: a flatline that lasts grows more
                // surprising every hour, and it is still one change.
                let (until, _) = self.state.hush[series];
                if end_ms >= until {
                    let hush_ms = i64::try_from(self.config.hush_hours)
                        .unwrap_or(24)
                        .saturating_mul(HOUR_MS);
                    self.state.hush[series] = (end_ms.saturating_add(hush_ms), score);
                    out.push(self.signal(series, end_ms, score, current, &near));
                }
                // An anomalous hour does not widen the calibration.
                continue;
            }
            *slot = Some(near.novelty as f32);
        }
        if let Some(Some(h)) = self.state.hours.back_mut() {
            h.2 = novelty[0];
            h.3 = novelty[1];
        }
    }

    fn signal(
        &self,
        series: usize,
        end_ms: i64,
        score: f64,
        current: u64,
        near: &Nearest,
    ) -> Signal {
        let what = if series == 0 {
            "mentions"
        } else {
            "negative mentions"
        };
        let h = self.config.shape_hours;
        let days = if near.days_back == 1 {
            "the day before".to_owned()
        } else {
            format!("{} days before", near.days_back)
        };
        Signal {
            workspace: self.workspace.clone(),
            watch: self.watch.clone(),
            at: Timestamp::from_millis(end_ms),
            kind: SignalKind::PatternChange,
            score,
            observed: current as f64,
            expected: near.count as f64,
            detail: format!(
                "{current} {what} in the last {h} h follow a pattern not seen at this time on the {} earlier days; closest: {} {what}, {days}",
                near.days_compared, near.count
            ),
        }
    }

    /// Sum of one series over the shape window ending at index `end`.
    fn window_count(&self, end: usize, series: usize) -> u64 {
        let h = self.config.shape_hours;
        (end + 1 - h.min(end + 1)..=end)
            .filter_map(|i| self.state.hours.get(i).copied().flatten())
            .map(|x| u64::from(x.count(series)))
            .sum()
    }

    /// The shape window ending at `end` on the Anscombe scale, if complete.
    fn shape(&self, end: usize, series: usize, buf: &mut Vec<f64>) -> bool {
        let h = self.config.shape_hours;
        buf.clear();
        if end + 1 < h {
            return false;
        }
        for i in end + 1 - h..=end {
            match self.state.hours.get(i).copied().flatten() {
                Some(x) => buf.push(anscombe(x.count(series))),
                None => return false,
            }
        }
        true
    }

    /// The nearest window at the same time (± slack) of an earlier day, if enough days have
    /// data there.
    fn nearest(&self, series: usize) -> Option<Nearest> {
        let last = self.state.hours.len().checked_sub(1)?;
        let mut current = Vec::with_capacity(self.config.shape_hours);
        if !self.shape(last, series, &mut current) {
            return None;
        }
        let mut other = Vec::with_capacity(self.config.shape_hours);
        let slack = self.config.slack_hours;
        // The best match of each earlier day: (distance, days back, window end).
        let mut per_day: Vec<(f64, usize, usize)> = Vec::with_capacity(self.config.history_days);
        for day in 1..=self.config.history_days {
            let Some(centre) = last.checked_sub(24 * day) else {
                break;
            };
            let mut best: Option<(f64, usize, usize)> = None;
            for end in centre.saturating_sub(slack)..=(centre + slack).min(last - 1) {
                if !self.shape(end, series, &mut other) {
                    continue;
                }
                let d = current
                    .iter()
                    .zip(&other)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    / current.len() as f64;
                if best.is_none_or(|(b, _, _)| d < b) {
                    best = Some((d, day, end));
                }
            }
            per_day.extend(best);
        }
        if per_day.len() < self.config.min_days.max(self.config.neighbours) {
            return None;
        }
        per_day.sort_by(|a, b| a.0.total_cmp(&b.0));
        let k = self.config.neighbours.max(1);
        let novelty = per_day.iter().take(k).map(|d| d.0).sum::<f64>() / k as f64;
        let (_, days_back, end) = per_day.first().copied()?;
        Some(Nearest {
            novelty,
            days_back,
            count: self.window_count(end, series),
            days_compared: per_day.len(),
        })
    }

    /// −log10 of the tail probability of `x` among the earlier novelties of the series,
    /// minus log10 2 for looking at two series; `None` while there are too few.
    fn calibrated_score(&self, series: usize, x: f64) -> Option<f64> {
        let last = self.state.hours.len().saturating_sub(1);
        let mut past: Vec<f64> = self
            .state
            .hours
            .iter()
            .take(last)
            .filter_map(|h| h.and_then(|h| h.novelty(series)))
            .map(f64::from)
            .collect();
        if past.len() < self.config.min_calibration {
            return None;
        }
        past.sort_by(f64::total_cmp);
        let p = tail_probability(&past, x, self.config.min_tail_scale);
        Some((-p.log10() - std::f64::consts::LOG10_2).clamp(0.0, crate::stats::MAX_SCORE))
    }

    /// Everything needed to continue after a restart.
    pub fn state(&self) -> serde_json::Value {
        serde_json::to_value(&self.state).unwrap_or_default()
    }

    /// Continues from [`PatternDetector::state`]; unchanged on error.
    pub fn restore(&mut self, v: &serde_json::Value) -> Result<(), DetectError> {
        let st = PatternState::deserialize(v).map_err(|e| DetectError::InvalidState {
            detector: "pattern",
            reason: e.to_string(),
        })?;
        if st.version != STATE_VERSION {
            return Err(DetectError::UnsupportedVersion {
                detector: "pattern",
                found: st.version,
                expected: STATE_VERSION,
            });
        }
        let mut st = st;
        while st.hours.len() > self.config.capacity() {
            st.hours.pop_front();
        }
        self.state = st;
        Ok(())
    }
}

/// Counts on a scale where Poisson noise has unit variance.
fn anscombe(x: u32) -> f64 {
    2.0 * (f64::from(x) + 0.375).sqrt()
}

/// P(X ≥ x) from sorted earlier values: the empirical rank up to the 90th percentile, an
/// exponential tail fitted to the values above it beyond. Never 0.
fn tail_probability(sorted: &[f64], x: f64, min_scale: f64) -> f64 {
    let n = sorted.len();
    let cut = ((1.0 - TAIL_SHARE) * n as f64).floor() as usize;
    let u = sorted.get(cut.min(n - 1)).copied().unwrap_or(0.0);
    if x <= u {
        let above = sorted.iter().filter(|&&v| v >= x).count();
        return (above as f64 + 1.0) / (n as f64 + 1.0);
    }
    let exceed: Vec<f64> = sorted.iter().filter(|&&v| v > u).map(|v| v - u).collect();
    // The tail's scale: the mean exceedance, at least a tenth of the threshold (so that a
    // calibration where nearly every value is equal does not make every change infinitely
    // surprising), and at least `min_scale`.
    let mean = if exceed.is_empty() {
        0.0
    } else {
        exceed.iter().sum::<f64>() / exceed.len() as f64
    };
    let beta = mean.max(0.1 * u).max(min_scale);
    let share = (exceed.len().max(1) as f64 + 1.0) / (n as f64 + 1.0);
    (share * (-(x - u) / beta).exp()).max(1e-300)
}

#[cfg(test)]
mod tests_support {
    pub(super) use super::*;
    use crate::testutil::Rng;

    pub(super) fn detector() -> PatternDetector {
        PatternDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &PatternConfig::default(),
        )
    }

    /// Feeds hourly rates (per 5-minute bucket counts drawn from Poisson) from hour `from`.
    pub(super) fn feed(
        d: &mut PatternDetector,
        rng: &mut Rng,
        from: i64,
        hours: i64,
        rate: impl Fn(i64) -> (f64, f64),
    ) -> Vec<Signal> {
        let mut out = Vec::new();
        for h in from..from + hours {
            let (all, neg) = rate(h);
            for b in 0..12 {
                let n = rng.poisson(all / 12.0);
                let k = rng.poisson(neg / 12.0).min(n);
                d.bucket(h * HOUR_MS + b * 300_000, n, k, &mut out);
            }
        }
        out
    }

    pub(super) fn diurnal(h: i64) -> (f64, f64) {
        let hour = h.rem_euclid(24) as f64;
        let all = 20.0 + 60.0 * (-(hour - 14.0).powi(2) / 18.0).exp();
        (all, all * 0.2)
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::*;
    use crate::testutil::Rng;

    #[test]
    fn a_steady_rhythm_raises_nothing() {
        for seed in 1..=5 {
            let mut d = detector();
            let mut rng = Rng(seed);
            let out = feed(&mut d, &mut rng, 0, 24 * 20, diurnal);
            assert!(
                out.iter().all(|s| s.score < 4.0),
                "seed {seed}: {:?}",
                out.iter().map(|s| (&s.detail, s.score)).collect::<Vec<_>>()
            );
            assert!(out.len() <= 2, "seed {seed}: {out:?}");
        }
    }

    #[test]
    fn a_flatline_in_the_day_is_a_pattern_change() {
        let mut d = detector();
        let mut rng = Rng(3);
        let quiet = feed(&mut d, &mut rng, 0, 24 * 10, diurnal);
        assert!(quiet.iter().all(|s| s.score < 4.0), "{quiet:?}");
        // Nothing from 10:00 to 16:00 on day 10 (a broken query, a dead connector).
        let out = feed(&mut d, &mut rng, 24 * 10, 17, |h| {
            if h.rem_euclid(24) >= 10 {
                (0.0, 0.0)
            } else {
                diurnal(h)
            }
        });
        let s = out
            .iter()
            .find(|s| s.kind == SignalKind::PatternChange && s.score >= 4.0)
            .unwrap_or_else(|| panic!("{out:?}"));
        // Raised when the first empty hour closes (11:00), fewer mentions than its closest.
        assert_eq!(
            s.at,
            Timestamp::from_millis((24 * 10 + 11) * HOUR_MS),
            "{s:?}"
        );
        assert!(s.observed < s.expected, "{s:?}");
        assert!(s.detail.contains("not seen at this time"), "{}", s.detail);
        // One alarm for the change, not one an hour.
        let of_all = out
            .iter()
            .filter(|s| !s.detail.contains("negative"))
            .count();
        assert!(of_all <= 2, "{out:?}");
    }

    #[test]
    fn a_shifted_rhythm_is_a_pattern_change_then_is_learned() {
        let mut d = detector();
        let mut rng = Rng(5);
        feed(&mut d, &mut rng, 0, 24 * 10, diurnal);
        // From day 10, the same volume peaks at 02:00 instead of 14:00.
        let shifted = |h: i64| diurnal(h + 12);
        let first_day = feed(&mut d, &mut rng, 24 * 10, 24, shifted);
        assert!(first_day.iter().any(|s| s.score >= 4.0), "{first_day:?}");
        // Days later, the new rhythm has been seen at every hour: nothing new.
        feed(&mut d, &mut rng, 24 * 11, 24 * 3, shifted);
        let later = feed(&mut d, &mut rng, 24 * 14, 24 * 2, shifted);
        assert!(later.iter().all(|s| s.score < 4.0), "{later:?}");
    }

    #[test]
    fn a_small_watch_stays_quiet() {
        // Two mentions an hour: a handful of posts is never a pattern change, even a gap.
        let mut d = detector();
        let mut rng = Rng(9);
        let mut out = feed(&mut d, &mut rng, 0, 24 * 10, |_| (2.0, 0.5));
        out.extend(feed(&mut d, &mut rng, 24 * 10, 12, |_| (0.0, 0.0)));
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn gaps_are_unknown_not_zeros() {
        let mut d = detector();
        let mut rng = Rng(11);
        feed(&mut d, &mut rng, 0, 24 * 8, diurnal);
        // The monitor jumps three days ahead: no flatline is invented.
        d.gap();
        let out = feed(&mut d, &mut rng, 24 * 11, 24 * 2, diurnal);
        assert!(out.iter().all(|s| s.score < 4.0), "{out:?}");
        assert!(d.state.hours.iter().any(Option::is_none));
    }

    #[test]
    fn state_round_trips_and_stays_small() {
        let mut d = detector();
        let mut rng = Rng(13);
        feed(&mut d, &mut rng, 0, 24 * 30, diurnal);
        let v = d.state();
        let bytes = serde_json::to_vec(&v).unwrap().len();
        assert!(bytes < 16_000, "{bytes} bytes");
        let mut copy = detector();
        copy.restore(&v).unwrap();
        assert_eq!(copy.state, d.state);
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (det, out) in [(&mut d, &mut a), (&mut copy, &mut b)] {
            let mut r = Rng(17);
            *out = feed(det, &mut r, 24 * 30, 48, |h| (diurnal(h).0 * 3.0, 1.0));
        }
        assert_eq!(a, b);
        assert!(!a.is_empty());
        let before = copy.state.clone();
        assert!(copy.restore(&serde_json::json!({"version": 9})).is_err());
        let mut bad = v.clone();
        bad["version"] = serde_json::json!(2);
        assert!(matches!(
            copy.restore(&bad),
            Err(DetectError::UnsupportedVersion { .. })
        ));
        assert_eq!(copy.state, before);
    }

    #[test]
    fn config_is_validated() {
        assert!(PatternConfig::default().validate().is_ok());
        let bad = PatternConfig {
            shape_hours: 1,
            ..PatternConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("shape_hours"));
        let bad = PatternConfig {
            min_days: 14,
            ..PatternConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("min_days"));
    }

    #[test]
    fn tail_probability_is_monotone_and_positive() {
        let v: Vec<f64> = (0..100).map(|i| f64::from(i) / 10.0).collect();
        let mut last = 1.0;
        for x in [0.0, 5.0, 9.0, 9.9, 12.0, 30.0, 1e6] {
            let p = tail_probability(&v, x, 0.5);
            assert!(p > 0.0 && p <= last, "{x}: {p}");
            last = p;
        }
        assert!(tail_probability(&v, 0.0, 0.5) > 0.99);
    }
}

/// `cargo test -p vigie-detect --release --lib -- --ignored --nocapture pattern_false_rate`:
/// signals per watch-week on series without any change (Poisson around a daily rhythm, with
/// and without day-to-day level noise), 40 watches × 30 days each.
#[cfg(test)]
mod measure {
    use super::tests_support::*;
    use crate::testutil::Rng;

    #[test]
    #[ignore = "a measurement, not a check"]
    fn pattern_false_rate() {
        for (name, day_noise, scale, weekend) in [
            ("poisson, 80/h peak", 0.0, 1.0, 1.0),
            ("poisson, 8/h peak", 0.0, 0.1, 1.0),
            ("day level ±20 %", 0.2, 1.0, 1.0),
            ("day level ±20 %, 800/h peak", 0.2, 10.0, 1.0),
            ("weekends at 60 %", 0.0, 1.0, 0.6),
            ("weekends at 60 %, day level ±20 %", 0.2, 1.0, 0.6),
        ] {
            let (mut s3, mut s4, mut weeks) = (0, 0, 0.0);
            for seed in 0..40u64 {
                let mut d = detector();
                let mut rng = Rng(seed * 7919 + 1);
                let mut out = Vec::new();
                for day in 0..30i64 {
                    let mut level = 1.0 + day_noise * (2.0 * rng.uniform() - 1.0);
                    if day % 7 >= 5 {
                        level *= weekend;
                    }
                    out.extend(feed(&mut d, &mut rng, day * 24, 24, |h| {
                        let (a, n) = diurnal(h);
                        (a * level * scale, n * level * scale)
                    }));
                }
                s3 += out.len();
                s4 += out.iter().filter(|s| s.score >= 4.0).count();
                // Scored from day 4 on.
                weeks += 26.0 / 7.0;
            }
            println!(
                "{name}: {:.2} signals / watch-week, {:.2} at vigilance (score ≥ 4)",
                s3 as f64 / weeks,
                s4 as f64 / weeks
            );
        }
    }

    #[test]
    #[ignore = "a measurement, not a check"]
    fn pattern_recall() {
        type Change = fn(i64, (f64, f64)) -> (f64, f64);
        let changes: [(&str, Change); 4] = [
            ("3 h flatline from 11:00", |h, r| {
                if (11..14).contains(&h.rem_euclid(24)) {
                    (0.0, 0.0)
                } else {
                    r
                }
            }),
            ("volume halved from 09:00", |h, r| {
                if h.rem_euclid(24) >= 9 {
                    (r.0 * 0.5, r.1 * 0.5)
                } else {
                    r
                }
            }),
            ("rhythm 6 h later", |h, _| diurnal(h - 6)),
            ("negative share 20 % → 40 % from 09:00", |h, r| {
                if h.rem_euclid(24) >= 9 {
                    (r.0, r.1 * 2.0)
                } else {
                    r
                }
            }),
        ];
        for (name, change) in changes {
            let mut delays = Vec::new();
            let runs = 40;
            for seed in 0..runs {
                let mut d = detector();
                let mut rng = Rng(seed * 104_729 + 3);
                feed(&mut d, &mut rng, 0, 24 * 20, diurnal);
                let out = feed(&mut d, &mut rng, 24 * 20, 24, |h| change(h, diurnal(h)));
                if let Some(s) = out.iter().find(|s| s.score >= 4.0) {
                    delays.push((s.at.as_millis() / HOUR_MS - 24 * 20) as f64);
                }
            }
            delays.sort_by(f64::total_cmp);
            let median = delays.get(delays.len() / 2).copied().unwrap_or(f64::NAN);
            println!(
                "{name}: detected on {}/{runs} days, median at {median:.0}:00",
                delays.len()
            );
        }
    }
}
