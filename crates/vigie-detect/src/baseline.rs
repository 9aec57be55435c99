//! Learned baselines: exponentially weighted mean and variance with an hour-of-day profile.

use serde::{Deserialize, Serialize};

/// Effective number of samples a seasonal slot needs to weigh as much as the global rate.
pub const SEASONAL_PRIOR_WEIGHT: f64 = 6.0;
/// Over-dispersion (variance / mean) is capped at this value.
pub const MAX_DISPERSION: f64 = 10.0;
/// Below this dispersion the Poisson model is used (noise in the estimate is ignored).
pub const MIN_NEGBIN_DISPERSION: f64 = 1.2;
/// Effective samples needed before the dispersion estimate is trusted.
const MIN_DISPERSION_WEIGHT: f64 = 24.0;
const HOUR_MS: i64 = 3_600_000;

/// An exponentially weighted mean and variance whose weights halve every half-life.
///
/// The weight starts at 0, so the first samples give a plain average (no bias towards an
/// arbitrary initial value); afterwards old samples fade with the half-life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Ewma {
    /// Sum of the decayed weights (the effective number of samples).
    pub weight: f64,
    /// Weighted mean.
    pub mean: f64,
    /// Weighted sum of squared deviations.
    pub m2: f64,
    /// Time of the last sample, epoch ms.
    pub last_ms: Option<i64>,
}

impl Ewma {
    /// Adds sample `x` taken at `at_ms`.
    pub fn update(&mut self, x: f64, at_ms: i64, half_life_ms: f64) {
        let decay = match self.last_ms {
            Some(last) if half_life_ms > 0.0 => {
                let elapsed = (at_ms.saturating_sub(last)).max(0) as f64;
                (-elapsed / half_life_ms * std::f64::consts::LN_2).exp()
            }
            _ => 1.0,
        };
        self.weight = self.weight * decay + 1.0;
        let delta = x - self.mean;
        self.mean += delta / self.weight;
        self.m2 = self.m2 * decay + delta * (x - self.mean);
        self.last_ms = Some(at_ms);
    }

    /// Weighted variance (0 before two samples).
    #[cfg(test)]
    pub fn variance(&self) -> f64 {
        if self.weight <= 1.0 {
            0.0
        } else {
            (self.m2 / self.weight).max(0.0)
        }
    }
}

/// The learned behaviour of one count series (e.g. negative mentions per bucket).
///
/// `expected(t)` blends the hour-of-day slot of `t` with the global rate according to how much
/// history the slot has: `(w·slot + K·global) / (w + K)` with `K` = [`SEASONAL_PRIOR_WEIGHT`](crate::SEASONAL_PRIOR_WEIGHT).
/// Dispersion is the weighted mean of squared residuals over the weighted mean expectation, so
/// a series whose variance follows its (seasonal) mean has dispersion ≈ 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesModel {
    global: Ewma,
    slots: Vec<Ewma>,
    residual_sq: Ewma,
    expected_level: Ewma,
}

impl Default for SeriesModel {
    fn default() -> Self {
        Self {
            global: Ewma::default(),
            slots: vec![Ewma::default(); 24],
            residual_sq: Ewma::default(),
            expected_level: Ewma::default(),
        }
    }
}

/// Hour of day (UTC) of an instant.
fn hour_of(at_ms: i64) -> usize {
    // rem_euclid(24) is in 0..24, so the cast is lossless.
    at_ms.div_euclid(HOUR_MS).rem_euclid(24) as usize
}

impl SeriesModel {
    /// Expected value of one sample taken at `at_ms`.
    pub fn expected(&self, at_ms: i64) -> f64 {
        let global = self.global.mean;
        match self.slots.get(hour_of(at_ms)) {
            Some(slot) if slot.weight > 0.0 => {
                (slot.weight * slot.mean + SEASONAL_PRIOR_WEIGHT * global)
                    / (slot.weight + SEASONAL_PRIOR_WEIGHT)
            }
            _ => global,
        }
    }

    /// Variance / mean of the samples around their expectation, in [1, [`MAX_DISPERSION`](crate::MAX_DISPERSION)];
    /// 1 until enough history makes the estimate meaningful or below [`MIN_NEGBIN_DISPERSION`](crate::MIN_NEGBIN_DISPERSION).
    pub fn dispersion(&self) -> f64 {
        if self.residual_sq.weight < MIN_DISPERSION_WEIGHT || self.expected_level.mean <= 0.0 {
            return 1.0;
        }
        let phi = self.residual_sq.mean / self.expected_level.mean;
        if phi < MIN_NEGBIN_DISPERSION {
            1.0
        } else {
            phi.min(MAX_DISPERSION)
        }
    }

    /// The highest value that may enter the baseline while an anomaly is active:
    /// `expected + sigmas·sqrt(dispersion·expected) + 1`.
    pub fn clip_limit(&self, expected: f64, sigmas: f64) -> f64 {
        expected + sigmas * (self.dispersion() * expected.max(0.0)).sqrt() + 1.0
    }

    /// Learns sample `x` taken at `at_ms`, whose expectation before learning was `expected`.
    pub fn update(&mut self, x: f64, expected: f64, at_ms: i64, half_life_ms: f64) {
        let residual = x - expected;
        self.residual_sq
            .update(residual * residual, at_ms, half_life_ms);
        self.expected_level.update(expected, at_ms, half_life_ms);
        self.global.update(x, at_ms, half_life_ms);
        if let Some(slot) = self.slots.get_mut(hour_of(at_ms)) {
            slot.update(x, at_ms, half_life_ms);
        }
    }

    /// Checks the shape of a restored model.
    pub fn is_well_formed(&self) -> bool {
        self.slots.len() == 24
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HL: f64 = 3.0 * 24.0 * 3_600_000.0;

    #[test]
    fn ewma_starts_as_plain_average() {
        let mut e = Ewma::default();
        for (i, x) in [1.0, 2.0, 3.0, 4.0].into_iter().enumerate() {
            e.update(x, i as i64 * 1000, HL);
        }
        assert!((e.mean - 2.5).abs() < 1e-4);
        assert!((e.variance() - 1.25).abs() < 1e-3);
    }

    #[test]
    fn ewma_forgets_with_half_life() {
        let mut e = Ewma::default();
        e.update(0.0, 0, 1000.0);
        e.update(10.0, 1000, 1000.0);
        // The first sample's weight halved: mean = 10 · 1 / 1.5.
        assert!((e.mean - 10.0 / 1.5).abs() < 1e-9);
    }

    #[test]
    fn seasonal_profile_is_learned_and_blended() {
        let mut m = SeriesModel::default();
        // 3 days: 10 per sample between 12:00 and 13:00 UTC, 1 otherwise, 12 samples per hour.
        for i in 0..(3 * 24 * 12) {
            let at = i * 300_000;
            let x = if hour_of(at) == 12 { 10.0 } else { 1.0 };
            let e = m.expected(at);
            m.update(x, e, at, HL);
        }
        let noon = 12 * HOUR_MS;
        let night = 3 * HOUR_MS;
        assert!(m.expected(noon) > 8.0, "{}", m.expected(noon));
        assert!(m.expected(night) < 1.5, "{}", m.expected(night));
        // A slot never seen falls back to the global rate.
        let fresh = SeriesModel {
            global: m.global,
            ..SeriesModel::default()
        };
        assert!((fresh.expected(noon) - m.global.mean).abs() < 1e-12);
    }

    #[test]
    fn dispersion_detects_overdispersed_series() {
        let mut steady = SeriesModel::default();
        let mut bursty = SeriesModel::default();
        for i in 0..500i64 {
            let at = i * 300_000;
            // Alternating 4/6 has variance 1 < mean 5; 0/10 has variance 25 > mean 5.
            let (a, b) = if i % 2 == 0 { (4.0, 0.0) } else { (6.0, 10.0) };
            let ea = steady.expected(at);
            steady.update(a, ea, at, HL);
            let eb = bursty.expected(at);
            bursty.update(b, eb, at, HL);
        }
        assert_eq!(steady.dispersion(), 1.0);
        assert!(bursty.dispersion() > 4.0, "{}", bursty.dispersion());
        assert!(bursty.clip_limit(5.0, 3.0) > steady.clip_limit(5.0, 3.0));
    }
}
