//! A univariate streaming anomaly detector for `(timestamp, value)` series.
//!
//! Deterministic, no look-ahead, `O(history)` work per point and serialisable state. It is
//! used by the NAB runner (`vigie eval nab`) on raw series and can score per-bucket counts of a
//! watch. The method (`docs/design/anomaly.md`):
//!
//! 1. **features** describe the newest point against the history, each a non-negative
//!    magnitude: how far the value lies beyond the range of every value seen so far (a new
//!    extreme), and the mean of the last `mean_len` values beyond the range of the past means
//!    (`mean_range`; otherwise its robust z-score); the robust z-score (median / interquartile
//!    range) of the first difference and of the value against the same time of the previous
//!    days (`seasonal_feature`); a count-aware tail probability (Poisson or negative binomial,
//!    from [`crate::stats`]) for non-negative integer series; the nearest-neighbour distance of
//!    the latest `shape_len` values to every earlier subsequence (pattern novelty, a streaming
//!    discord: shape changes, flatlines, changed periodicity). Off by default: the level's
//!    robust z-score (against the long history and the last `short_rows` rows; redundant with
//!    the range and mean features) and the length of a flat run. With daily seasonality
//!    (`seasonal`), level and change must also be unusual against the same time of the
//!    previous days;
//! 2. each feature is **calibrated** to a tail probability against its own past values:
//!    empirical rank up to the 90th percentile, an exponential tail fitted to the top 10 %
//!    beyond it (an anomaly likelihood: what is usual for this series is not surprising,
//!    whatever its scale);
//! 3. the probabilities are **combined** (Fisher's method, or the minimum);
//! 4. **recurrence memory** (`recur_ratio`): the latest `shape_len` values are compared with
//!    the subsequences ending at the same time of the earlier days in the history, within
//!    `recur_slack_min` minutes of phase drift. When the closest lies within `recur_ratio`
//!    times the pattern's own spread (its distance from its median), the surprise is scaled
//!    by `(distance / (recur_ratio × spread))^recur_power`: a daily spike that drifts a few
//!    rows, already seen at a similar magnitude, is not news;
//! 5. **alarm suppression**, so that an event raises one alarm whatever the threshold: a
//!    point is reported only if it is more surprising than every point *reported* in the last
//!    `suppression_rows` rows (`reported_only`); after a reported point with `p <= hush_p`,
//!    the next `hush_rows` rows score 0 even if more surprising (an event that grows over a
//!    few rows reports once); after a reported alarm (`p <= alarm_p`), the next
//!    `suppression_rows` rows score 0.
//!
//! The score is `s / (s + 10)` with `s = -ln p` (times the recurrence factor): monotone in `p`, in `0..1`, and it keeps its
//! resolution for very small `p`.
//!
//! ```
//! use vigie_detect::anomaly::{AnomalyParams, StreamingAnomaly};
//!
//! let mut det = StreamingAnomaly::new(AnomalyParams::with_learning_rows(200));
//! let mut last = 0.0;
//! for i in 0..400i64 {
//!     let v = if i == 350 { 80.0 } else { 10.0 + (i % 7) as f64 };
//!     last = det.update(i * 60_000, v).score;
//!     if i == 350 {
//!         // p underflows near 1e-308 at most: s ≈ 708, score ≈ 0.986
//!         assert!(last > 0.9);
//!     }
//! }
//! assert!(last < 0.1);
//! ```

mod sorted;

use crate::DetectError;
use serde::{Deserialize, Serialize};
use sorted::SortedWindow;
use std::collections::VecDeque;

const DETECTOR: &str = "anomaly";
/// Surprise (`-ln p`) that maps to the score 0.5: `score = s / (s + SCORE_HALF)`.
pub const SCORE_HALF: f64 = 10.0;
/// Version of the saved state format.
pub const STATE_VERSION: u64 = 2;

/// Parameters of [`StreamingAnomaly`]. All are row counts or probabilities; none depends on
/// the scale of the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnomalyParams {
    /// Rows used only for learning: their score is 0.
    pub learning_rows: usize,
    /// Rows of history the features look back on (values, differences, means, shapes).
    pub history_rows: usize,
    /// Rows of past feature values each feature is calibrated against.
    pub calib_rows: usize,
    /// Rows of the short history: the level must be unusual against both the short and the
    /// long history, so a new level stops alarming once it has lasted (0: long only).
    pub short_rows: usize,
    /// Length of the subsequence compared for pattern novelty.
    pub shape_len: usize,
    /// Length of the short mean.
    pub mean_len: usize,
    /// After an alarm, the next `suppression_rows` rows score 0 (see `escalate`).
    pub suppression_rows: usize,
    /// `suppression_rows` as a fraction of `learning_rows`, applied by
    /// [`AnomalyParams::with_learning_rows`] and the NAB runner.
    pub suppression_factor: f64,
    /// Combined probability at or below which a point is an alarm that starts suppression.
    pub alarm_p: f64,
    /// Whether, during suppression, a point more surprising than every point since the alarm
    /// still passes.
    pub escalate: bool,
    /// Also require the level and the change to be unusual against the same time of the
    /// previous days (daily seasonality; the period comes from the timestamps).
    pub seasonal: bool,
    /// Combine the features' probabilities with Fisher's method (otherwise: the minimum).
    pub fisher: bool,
    /// Features left out of the combination.
    pub disabled: Vec<Reason>,
    /// Also score the distance to the same time of the previous days as its own feature
    /// (`Reason::Seasonal`), not only as a condition on level and change.
    pub seasonal_feature: bool,
    /// Whether only reported (not suppressed) points count in the "more surprising than the
    /// last `suppression_rows` rows" rule.
    pub reported_only: bool,
    /// The range feature uses every value seen, not only the history window.
    pub range_all_time: bool,
    /// After a reported point with `p <= hush_p`, the next `hush_rows` rows score 0 even if
    /// more surprising (an event that grows over a few rows reports once).
    pub hush_rows: usize,
    /// See `hush_rows`.
    pub hush_p: f64,
    /// The mean feature measures how far the short mean lies beyond the range of the past
    /// means (instead of its robust z-score).
    pub mean_range: bool,
    /// Recurrence memory: when the latest `shape_len` values lie closer to an earlier
    /// subsequence than `recur_ratio` times their own distance from the median (a spike or
    /// pattern already seen at a similar magnitude), the surprise is scaled down by the ratio
    /// over `recur_ratio` (0: off).
    pub recur_ratio: f64,
    /// How many earlier occurrences (at least `shape_len` rows apart) the recurrence memory
    /// needs; the factor uses the farthest of them.
    pub recur_count: usize,
    /// Exponent of the recurrence factor.
    pub recur_power: f64,
    /// With `Some(w)`, the recurrence memory only looks at the same time of earlier days,
    /// within `w` minutes of phase drift.
    pub recur_slack_min: Option<u64>,
    /// The recurrence memory measures the pattern against its own median (otherwise against
    /// the median of the history).
    pub recur_local: bool,
    /// Also look for the pattern anywhere in the history, needing this many earlier
    /// occurrences (0: off); the smaller factor applies.
    pub recur_global_count: usize,
}

impl AnomalyParams {
    /// The default parameters with this learning period; suppression scales with it.
    pub fn with_learning_rows(learning_rows: usize) -> Self {
        let d = Self::default();
        Self {
            learning_rows,
            suppression_rows: (learning_rows as f64 * d.suppression_factor).round() as usize,
            ..d
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.history_rows < 8 {
            return Err("history_rows must be at least 8".into());
        }
        if self.calib_rows < 8 {
            return Err("calib_rows must be at least 8".into());
        }
        if self.shape_len == 0 || self.shape_len * 4 > self.history_rows {
            return Err("shape_len must be in 1..=history_rows/4".into());
        }
        if self.mean_len == 0 || self.mean_len > self.history_rows {
            return Err("mean_len must be in 1..=history_rows".into());
        }
        if !(self.alarm_p > 0.0 && self.alarm_p <= 1.0) {
            return Err("alarm_p must be in (0, 1]".into());
        }
        if !(self.suppression_factor.is_finite() && self.suppression_factor >= 0.0) {
            return Err("suppression_factor must be a non-negative number".into());
        }
        if !(self.recur_ratio.is_finite() && self.recur_ratio >= 0.0) {
            return Err("recur_ratio must be a non-negative number".into());
        }
        if !(self.recur_power.is_finite() && self.recur_power > 0.0) {
            return Err("recur_power must be a positive number".into());
        }
        Ok(())
    }
}

impl Default for AnomalyParams {
    /// The configuration evaluated in `docs/QUALITY.md` (NAB section).
    fn default() -> Self {
        Self {
            learning_rows: 750,
            history_rows: 4000,
            calib_rows: 8000,
            short_rows: 30,
            shape_len: 12,
            mean_len: 6,
            suppression_rows: 248,
            suppression_factor: 0.33,
            alarm_p: 1e-6,
            escalate: false,
            seasonal: true,
            fisher: true,
            disabled: vec![Reason::Flatline, Reason::Level],
            seasonal_feature: true,
            reported_only: true,
            range_all_time: true,
            hush_rows: 25,
            hush_p: 3e-3,
            mean_range: true,
            recur_ratio: 0.4,
            recur_count: 1,
            recur_power: 2.0,
            recur_slack_min: Some(60),
            recur_local: true,
            recur_global_count: 3,
        }
    }
}

/// What made a point surprising.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The value is unusually high or low for the recent history.
    Level,
    /// The jump from the previous value is unusual.
    Change,
    /// The mean of the last few values is unusual.
    Mean,
    /// A count far above what the recent mean and variance allow.
    Count,
    /// The recent shape matches nothing seen before (pattern novelty).
    Shape,
    /// The series has been flat for unusually long.
    Flatline,
    /// The value is far from the same time of the previous days.
    Seasonal,
    /// The value is beyond the range of the history (a new extreme).
    Range,
}

const FEATURES: [Reason; 8] = [
    Reason::Level,
    Reason::Change,
    Reason::Mean,
    Reason::Count,
    Reason::Shape,
    Reason::Flatline,
    Reason::Seasonal,
    Reason::Range,
];

/// The score of one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyScore {
    /// Anomaly score in `0..1` (`s / (s + 10)` with `s = -ln p`), 0 during learning and
    /// when suppressed.
    pub score: f64,
    /// Combined tail probability before the recurrence memory and suppression (1 during
    /// learning).
    pub p_value: f64,
    /// Whether the alarm-suppression step lowered the score to 0.
    pub suppressed: bool,
    /// The features that explain the score, most surprising first, with their probability.
    pub reasons: Vec<(Reason, f64)>,
}

/// The streaming detector. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamingAnomaly {
    version: u64,
    params: AnomalyParams,
    rows: u64,
    last_ts_ms: Option<i64>,
    /// Last `history_rows + shape_len` values, oldest first.
    recent: VecDeque<f64>,
    values: SortedWindow,
    short_values: SortedWindow,
    /// Residuals against the same time of the previous days, and their first differences.
    seasonal_res: SortedWindow,
    seasonal_diff: SortedWindow,
    last_residual: Option<f64>,
    step_ms: Option<i64>,
    diffs: SortedWindow,
    means: SortedWindow,
    /// Calibration windows of the raw feature values, in [`FEATURES`] order.
    calib: Vec<SortedWindow>,
    /// Whether every value so far is a non-negative integer.
    integer: bool,
    flat_run: u64,
    /// Lowest and highest value seen.
    lowest: f64,
    highest: f64,
    /// Recent combined surprises (`-ln p`), for suppression.
    surprises: VecDeque<f64>,
    /// Rows up to this count (as `rows` before the update) are quiet after a reported alarm.
    quiet_until: u64,
    /// Rows up to this count are hushed after a reported point (see `hush_rows`).
    hush_until: u64,
}

impl StreamingAnomaly {
    /// A fresh detector. Invalid parameters are replaced by the defaults' values for the
    /// offending field (see [`StreamingAnomaly::try_new`] for the checked version).
    pub fn new(params: AnomalyParams) -> Self {
        match Self::try_new(params.clone()) {
            Ok(d) => d,
            Err(_) => {
                let d = AnomalyParams::default();
                let fixed = AnomalyParams {
                    history_rows: params.history_rows.max(d.history_rows),
                    shape_len: if params.shape_len == 0 {
                        d.shape_len
                    } else {
                        params.shape_len
                    },
                    mean_len: if params.mean_len == 0 {
                        d.mean_len
                    } else {
                        params.mean_len
                    },
                    recur_ratio: if params.recur_ratio.is_finite() && params.recur_ratio >= 0.0 {
                        params.recur_ratio
                    } else {
                        d.recur_ratio
                    },
                    recur_power: if params.recur_power.is_finite() && params.recur_power > 0.0 {
                        params.recur_power
                    } else {
                        d.recur_power
                    },
                    ..params
                };
                Self::build(fixed)
            }
        }
    }

    /// A fresh detector, or why the parameters are invalid.
    pub fn try_new(params: AnomalyParams) -> Result<Self, DetectError> {
        params
            .validate()
            .map_err(|reason| DetectError::InvalidState {
                detector: DETECTOR,
                reason,
            })?;
        Ok(Self::build(params))
    }

    fn build(params: AnomalyParams) -> Self {
        let h = params.history_rows;
        Self {
            version: STATE_VERSION,
            rows: 0,
            last_ts_ms: None,
            recent: VecDeque::with_capacity(h + params.shape_len + 1),
            values: SortedWindow::new(h),
            short_values: SortedWindow::new(params.short_rows),
            seasonal_res: SortedWindow::new(h),
            seasonal_diff: SortedWindow::new(h),
            last_residual: None,
            step_ms: None,
            diffs: SortedWindow::new(h),
            means: SortedWindow::new(h),
            calib: FEATURES
                .iter()
                .map(|_| SortedWindow::new(params.calib_rows))
                .collect(),
            integer: true,
            flat_run: 0,
            // Finite sentinels: the state must serialise to JSON.
            lowest: f64::MAX,
            highest: f64::MIN,
            surprises: VecDeque::with_capacity(params.suppression_rows + 1),
            quiet_until: 0,
            hush_until: 0,
            params,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &AnomalyParams {
        &self.params
    }

    /// Rows seen.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Takes the next point. `ts_ms` is recorded (points are expected in time order; the score
    /// works on row order). A non-finite value is ignored and scores 0.
    pub fn update(&mut self, ts_ms: i64, value: f64) -> AnomalyScore {
        if !value.is_finite() {
            return AnomalyScore {
                score: 0.0,
                p_value: 1.0,
                suppressed: false,
                reasons: Vec::new(),
            };
        }
        if let Some(prev) = self.last_ts_ms
            && ts_ms > prev
        {
            self.step_ms = Some(ts_ms - prev);
        }
        self.last_ts_ms = Some(ts_ms);
        self.recent.make_contiguous();
        let residual = self.seasonal_residual(value);
        let raw = self.features(value, residual.map(|r| r.0), residual.and_then(|r| r.1));
        let recur = self.recurrence(value);
        // Calibrate each feature by the tail of its own past values.
        let mut ps: Vec<(Reason, f64)> = Vec::with_capacity(FEATURES.len());
        for ((reason, r), cal) in FEATURES.iter().zip(raw).zip(&mut self.calib) {
            if let Some(r) = r {
                if cal.len() >= 8 && !self.params.disabled.contains(reason) {
                    ps.push((*reason, cal.p_tail(r)));
                }
                cal.push(r);
            }
        }
        self.absorb(value);
        if let Some((e, c)) = residual {
            if let Some(c) = c {
                self.seasonal_diff.push(c);
            }
            self.seasonal_res.push(e);
        }
        self.last_residual = residual.map(|r| r.0);
        let p = if self.params.fisher && !ps.is_empty() {
            fisher(ps.iter().map(|x| x.1))
        } else {
            ps.iter().map(|x| x.1).fold(1.0_f64, f64::min)
        };
        let learning = self.rows <= self.params.learning_rows as u64;
        let mut surprise = -p.ln();
        if let Some(r) = recur {
            surprise *= r;
        }
        let recent_max = self.surprises.iter().copied().fold(0.0_f64, f64::max);
        let alarm_level = -self.params.alarm_p.max(1e-300).ln();
        let quiet = self.rows <= self.quiet_until;
        let hush = self.rows <= self.hush_until;
        let blocked =
            surprise > 0.0 && (surprise <= recent_max || hush || (quiet && !self.params.escalate));
        let suppressed = !learning && blocked;
        if !learning {
            if !blocked {
                if surprise >= -self.params.hush_p.max(1e-300).ln() {
                    // A reported point: no escalation for the next `hush_rows` rows.
                    self.hush_until = self.rows + self.params.hush_rows as u64;
                }
                if surprise >= alarm_level {
                    // A reported alarm: the next rows are quiet.
                    self.quiet_until = self.rows + self.params.suppression_rows as u64;
                }
            }
            // Only reported points block later ones (`reported_only`): for any threshold,
            // at most one detection per `suppression_rows` rows.
            let kept = if blocked && self.params.reported_only {
                0.0
            } else {
                surprise
            };
            self.surprises.push_back(kept);
        }
        while self.surprises.len() > self.params.suppression_rows {
            self.surprises.pop_front();
        }
        ps.sort_by(|a, b| a.1.total_cmp(&b.1));
        ps.retain(|x| x.1 <= (p * 2.0).max(0.01));
        let score = if learning || suppressed {
            0.0
        } else {
            surprise / (surprise + SCORE_HALF)
        };
        AnomalyScore {
            score,
            p_value: if learning { 1.0 } else { p },
            suppressed,
            reasons: ps,
        }
    }

    /// Raw feature values of `x` against the state before it (`None`: not defined yet).
    fn features(
        &self,
        x: f64,
        residual: Option<f64>,
        change_residual: Option<f64>,
    ) -> [Option<f64>; 8] {
        let prev = self.recent.back().copied();
        let n = self.values.len();
        let level = robust_z(&self.values, x).map(|z| {
            if self.params.short_rows > 0 {
                robust_z(&self.short_values, x).map_or(z, |s| s.min(z))
            } else {
                z
            }
        });
        let change = prev.and_then(|pv| robust_z(&self.diffs, x - pv));
        let seasonal = residual
            .filter(|_| self.params.seasonal_feature)
            .and_then(|e| robust_z(&self.seasonal_res, e));
        let (level, change) = match residual {
            Some(e) if self.params.seasonal => {
                let zl = robust_z(&self.seasonal_res, e);
                let zc = change_residual.and_then(|c| robust_z(&self.seasonal_diff, c));
                (
                    level.map(|z| zl.map_or(z, |s| s.min(z))),
                    change.map(|z| zc.map_or(z, |s| s.min(z))),
                )
            }
            _ => (level, change),
        };
        let m = self.params.mean_len;
        let mean = (self.recent.len() + 1 >= m)
            .then(|| {
                let s: f64 = self.recent.iter().rev().take(m - 1).sum::<f64>() + x;
                let mu = s / m as f64;
                if self.params.mean_range {
                    range_excess(&self.means, mu)
                } else {
                    robust_z(&self.means, mu)
                }
            })
            .flatten();
        let count = (self.integer && n >= 30 && x >= 0.0 && x.fract() == 0.0).then(|| {
            let (mu, var) = mean_var(self.recent.iter().rev().take(n.min(288)));
            let mu = mu.max(0.5);
            -crate::stats::upper_tail_ln(x as u64, mu, var.max(mu))
        });
        let shape = self
            .nearest_neighbour(x)
            .and_then(|d| scale(&self.values).map(|s| d / s));
        let flat = prev.map(|pv| {
            if x == pv {
                (self.flat_run + 1) as f64
            } else {
                0.0
            }
        });
        let range = (n >= 8)
            .then(|| {
                let (mut lo, mut hi) = (self.values.quantile(0.0)?, self.values.quantile(1.0)?);
                if self.params.range_all_time {
                    lo = lo.min(self.lowest);
                    hi = hi.max(self.highest);
                }
                let span = (hi - lo).max(scale(&self.values)?);
                Some((x - hi).max(lo - x).max(0.0) / span)
            })
            .flatten();
        [level, change, mean, count, shape, flat, seasonal, range]
    }

    /// The seasonal residuals of `x` against the values one, two and three days earlier
    /// (those in the history): the median over the days of `x` minus the day's value, and of
    /// the change `x - previous` minus the day's change. `None` without a known step or
    /// history; the change residual is `None` without a previous point.
    fn seasonal_residual(&self, x: f64) -> Option<(f64, Option<f64>)> {
        let step = self.step_ms?;
        let period = usize::try_from((86_400_000 + step / 2) / step).ok()?;
        if period < 2 {
            return None;
        }
        let len = self.recent.len();
        let prev = self.recent.back().copied();
        let mut levels: Vec<f64> = Vec::with_capacity(3);
        let mut changes: Vec<f64> = Vec::with_capacity(3);
        for k in 1..=3 {
            let Some(i) = len.checked_sub(k * period) else {
                continue;
            };
            let Some(&r) = self.recent.get(i) else {
                continue;
            };
            levels.push(x - r);
            let rp = i.checked_sub(1).and_then(|j| self.recent.get(j));
            if let (Some(pv), Some(&rp)) = (prev, rp) {
                changes.push((x - pv) - (r - rp));
            }
        }
        if levels.is_empty() {
            return None;
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let e = median(&mut levels);
        let c = (!changes.is_empty()).then(|| median(&mut changes));
        Some((e, c))
    }

    /// The recurrence factor in `0..=1` (see `recur_ratio`); `None` when off or undefined.
    fn recurrence(&self, x: f64) -> Option<f64> {
        let seasonal = self
            .params
            .recur_slack_min
            .and_then(|w| self.recurrence_in(x, Some(w), self.params.recur_count));
        let anywhere = (self.params.recur_global_count > 0)
            .then(|| self.recurrence_in(x, None, self.params.recur_global_count))
            .flatten();
        match (seasonal, anywhere) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The recurrence factor against the same time of earlier days within `slack_min`
    /// minutes (`None`: anywhere in the history), needing `count` earlier occurrences.
    fn recurrence_in(&self, x: f64, slack_min: Option<u64>, count: usize) -> Option<f64> {
        let r0 = self.params.recur_ratio;
        if r0 <= 0.0 {
            return None;
        }
        let m = self.params.shape_len;
        let (h, q) = self.query_window(x)?;
        let len = h.len();
        let med = if self.params.recur_local {
            let mut sorted = q.clone();
            sorted.sort_by(f64::total_cmp);
            sorted[m / 2]
        } else {
            self.values.quantile(0.5)?
        };
        let norm = q.iter().map(|v| (v - med) * (v - med)).sum::<f64>().sqrt();
        if norm <= 0.0 {
            return None;
        }
        let limit = (r0 * norm) * (r0 * norm);
        // Earlier subsequences within `limit`, then the closest ones at least `m` rows apart.
        let mut close: Vec<(f64, usize)> = Vec::new();
        // (period, slack) in rows.
        let seasonal = match (slack_min, self.step_ms) {
            (Some(w), Some(step)) if step > 0 => Some((
                usize::try_from((86_400_000 + step / 2) / step).ok()?,
                usize::try_from((i64::try_from(w).ok()? * 60_000 + step / 2) / step).ok()?,
            )),
            (Some(_), _) => return None,
            _ => None,
        };
        for s in 0..=len + 1 - 2 * m {
            if let Some((period, w)) = seasonal {
                // Only the same time of earlier days, within `w` rows.
                let back = len - (s + m - 1);
                let off = back % period.max(1);
                if period < 2 || back < period - w.min(period) || off.min(period - off) > w {
                    continue;
                }
            }
            let mut d = 0.0;
            for (u, v) in h[s..s + m].iter().zip(&q) {
                d += (u - v) * (u - v);
                if d >= limit {
                    break;
                }
            }
            if d < limit {
                close.push((d, s));
            }
        }
        close.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut picked: Vec<(f64, usize)> = Vec::new();
        for (d, s) in close {
            if picked.iter().all(|&(_, t)| s.abs_diff(t) >= m) {
                picked.push((d, s));
                if picked.len() >= count.max(1) {
                    break;
                }
            }
        }
        if picked.len() < count.max(1) {
            return None;
        }
        let dk = picked.last()?.0.sqrt();
        Some((dk / (r0 * norm)).min(1.0).powf(self.params.recur_power))
    }

    /// The history (contiguous: `update` made it so) and the query: its last `shape_len - 1`
    /// values plus `x`; `None` while the history is shorter than three queries.
    fn query_window(&self, x: f64) -> Option<(&[f64], Vec<f64>)> {
        let m = self.params.shape_len;
        let len = self.recent.len();
        if len < 3 * m {
            return None;
        }
        let (h, _) = self.recent.as_slices();
        if h.len() != len {
            return None;
        }
        let mut q: Vec<f64> = h[len - (m - 1)..].to_vec();
        q.push(x);
        Some((h, q))
    }

    /// Distance from the latest `shape_len` values (ending with `x`) to the nearest earlier,
    /// non-overlapping subsequence of the history.
    fn nearest_neighbour(&self, x: f64) -> Option<f64> {
        let m = self.params.shape_len;
        let (h, q) = self.query_window(x)?;
        let len = h.len();
        let mut best = f64::INFINITY;
        // Candidates end at least m rows before the query's end.
        let last_start = len + 1 - 2 * m;
        for s in 0..=last_start {
            let cand = &h[s..s + m];
            let mut d = 0.0;
            for (u, v) in cand.iter().zip(&q) {
                let e = u - v;
                d += e * e;
                if d >= best {
                    break;
                }
            }
            if d < best {
                best = d;
            }
        }
        Some(best.sqrt())
    }

    fn absorb(&mut self, x: f64) {
        if let Some(&pv) = self.recent.back() {
            self.diffs.push(x - pv);
            self.flat_run = if x == pv { self.flat_run + 1 } else { 0 };
        }
        if x < 0.0 || x.fract() != 0.0 {
            self.integer = false;
        }
        self.values.push(x);
        self.lowest = self.lowest.min(x);
        self.highest = self.highest.max(x);
        self.short_values.push(x);
        self.recent.push_back(x);
        while self.recent.len() > self.params.history_rows + self.params.shape_len {
            self.recent.pop_front();
        }
        let m = self.params.mean_len;
        if self.recent.len() >= m {
            let mu = self.recent.iter().rev().take(m).sum::<f64>() / m as f64;
            self.means.push(mu);
        }
        self.rows += 1;
    }

    /// Everything needed to continue after a restart, as JSON.
    pub fn state(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Continues from a saved [`StreamingAnomaly::state`]; on error `self` is unchanged.
    pub fn restore(&mut self, state: &serde_json::Value) -> Result<(), DetectError> {
        let version = state.get("version").and_then(serde_json::Value::as_u64);
        if let Some(found) = version
            && found != STATE_VERSION
        {
            return Err(DetectError::UnsupportedVersion {
                detector: DETECTOR,
                found,
                expected: STATE_VERSION,
            });
        }
        let restored: Self =
            serde_json::from_value(state.clone()).map_err(|e| DetectError::InvalidState {
                detector: DETECTOR,
                reason: e.to_string(),
            })?;
        let invalid = |reason: &str| DetectError::InvalidState {
            detector: DETECTOR,
            reason: reason.to_owned(),
        };
        restored.params.validate().map_err(|r| invalid(&r))?;
        if restored.calib.len() != FEATURES.len()
            || !restored.calib.iter().all(SortedWindow::is_consistent)
            || ![
                &restored.values,
                &restored.short_values,
                &restored.seasonal_res,
                &restored.seasonal_diff,
                &restored.diffs,
                &restored.means,
            ]
            .iter()
            .all(|w| w.is_consistent())
            || restored.recent.iter().any(|v| !v.is_finite())
        {
            return Err(invalid("inconsistent windows"));
        }
        *self = restored;
        Ok(())
    }
}

/// A robust spread of the window: the interquartile range over 1.349, or a fraction of the
/// 2–98 % range, or of the median, whichever is first non-zero.
fn scale(w: &SortedWindow) -> Option<f64> {
    if w.len() < 8 {
        return None;
    }
    let q = |p| w.quantile(p).unwrap_or(0.0);
    let iqr = (q(0.75) - q(0.25)) / 1.349;
    let wide = (q(0.98) - q(0.02)) / 4.1;
    let med = q(0.5).abs() * 0.01;
    Some(
        [iqr, wide, med, 1e-9]
            .into_iter()
            .find(|s| *s > 0.0)
            .unwrap_or(1e-9),
    )
}

/// How far `x` lies beyond the range of the window, in units of its span.
fn range_excess(w: &SortedWindow, x: f64) -> Option<f64> {
    let lo = w.quantile(0.0)?;
    let hi = w.quantile(1.0)?;
    let span = (hi - lo).max(scale(w)?);
    Some((x - hi).max(lo - x).max(0.0) / span)
}

/// `|x - median| / scale` of the window, capped at 1e6.
fn robust_z(w: &SortedWindow, x: f64) -> Option<f64> {
    let s = scale(w)?;
    let med = w.quantile(0.5)?;
    Some(((x - med).abs() / s).min(1e6))
}

/// Fisher's combination: `P(χ²_{2k} > 2 Σ -ln p_i)` for `k` probabilities.
fn fisher(ps: impl Iterator<Item = f64>) -> f64 {
    let (mut k, mut half) = (0u32, 0.0);
    for p in ps {
        k += 1;
        half -= p.max(1e-300).ln();
    }
    // e^{-h} Σ_{j<k} h^j / j!
    let mut term = 1.0;
    let mut sum = 1.0;
    for j in 1..k {
        term *= half / f64::from(j);
        sum += term;
    }
    ((-half).exp() * sum).clamp(1e-300, 1.0)
}

fn mean_var<'a>(it: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    let (mut n, mut s, mut s2) = (0.0, 0.0, 0.0);
    for &v in it {
        n += 1.0;
        s += v;
        s2 += v * v;
    }
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let mu = s / n;
    (mu, (s2 / n - mu * mu).max(0.0))
}

#[cfg(test)]
mod tests;
