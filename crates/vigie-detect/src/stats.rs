//! Upper-tail probabilities of counts, computed in log space.
//!
//! A detector asks "how surprising is it to see `k` or more events when `mean` were expected
//! and the counts usually vary by `variance`?". When the variance does not exceed the mean the
//! answer is the Poisson upper tail `P(X ≥ k | λ = mean)`; when it does (over-dispersed
//! series) it is the negative binomial upper tail with the same mean and variance. Both are
//! summed exactly term by term in log space (no underflow, even for p = 1e-300) up to
//! [`EXACT_LIMIT`]; above it a normal approximation with continuity correction is used.
//!
//! ```
//! use vigie_detect::stats::{poisson_upper_tail, surprise_score};
//! let p = poisson_upper_tail(10, 2.0);
//! assert!((p - 4.650_4e-5).abs() < 1e-8);
//! assert!((surprise_score(10, 2.0, 2.0) + p.log10()).abs() < 1e-9);
//! ```

use std::f64::consts::{LN_10, PI};

/// Largest observed count whose tail is summed exactly; above it, a normal approximation.
pub const EXACT_LIMIT: u64 = 5_000;
/// Highest score returned by [`surprise_score`] (p below 1e-300 is "certainly anomalous").
pub const MAX_SCORE: f64 = 300.0;
/// Safety cap on the number of terms of one tail sum.
const MAX_TERMS: u64 = 50_000;
/// A term this many nats below the running sum no longer changes it (e^-40 ≈ 4e-18).
const NEGLIGIBLE_NATS: f64 = 40.0;

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; relative error about 1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection formula.
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let mut a = COEF[0];
    for (i, c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ln(e^a + e^b) without overflow or underflow.
fn ln_add(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// ln(1 − e^x) for x ≤ 0.
fn ln_one_minus_exp(x: f64) -> f64 {
    if x >= 0.0 {
        return f64::NEG_INFINITY;
    }
    if x > -std::f64::consts::LN_2 {
        (-x.exp_m1()).ln()
    } else {
        (-x.exp()).ln_1p()
    }
}

/// A discrete distribution given by its log-pmf at one point and the ratio of successive terms.
trait Discrete {
    fn mean(&self) -> f64;
    fn ln_pmf(&self, k: u64) -> f64;
    /// ln(pmf(j + 1) / pmf(j)).
    fn ln_ratio(&self, j: u64) -> f64;
    /// An upper bound of pmf(i + 1) / pmf(i) for every i ≥ j, if it is below 1.
    fn ratio_bound(&self, j: u64) -> f64;
}

struct Poisson {
    lambda: f64,
}

impl Discrete for Poisson {
    fn mean(&self) -> f64 {
        self.lambda
    }
    fn ln_pmf(&self, k: u64) -> f64 {
        let k = k as f64;
        k * self.lambda.ln() - self.lambda - ln_gamma(k + 1.0)
    }
    fn ln_ratio(&self, j: u64) -> f64 {
        self.lambda.ln() - ((j + 1) as f64).ln()
    }
    fn ratio_bound(&self, j: u64) -> f64 {
        // λ / (i + 1) decreases with i.
        self.lambda / (j + 1) as f64
    }
}

/// Negative binomial with `r` "successes" and success probability `q`:
/// pmf(j) = Γ(j + r) / (Γ(r) j!) q^r (1 − q)^j; mean r(1 − q)/q, variance mean/q.
struct NegBin {
    r: f64,
    q: f64,
}

impl Discrete for NegBin {
    fn mean(&self) -> f64 {
        self.r * (1.0 - self.q) / self.q
    }
    fn ln_pmf(&self, k: u64) -> f64 {
        let k = k as f64;
        ln_gamma(k + self.r) - ln_gamma(self.r) - ln_gamma(k + 1.0)
            + self.r * self.q.ln()
            + k * (1.0 - self.q).ln()
    }
    fn ln_ratio(&self, j: u64) -> f64 {
        let j = j as f64;
        ((j + self.r) / (j + 1.0)).ln() + (1.0 - self.q).ln()
    }
    fn ratio_bound(&self, j: u64) -> f64 {
        // (i + r)/(i + 1) is monotone in i and tends to 1, so the ratio is bounded by the
        // larger of its value at j and its limit 1 − q.
        let j = j as f64;
        ((j + self.r) / (j + 1.0) * (1.0 - self.q)).max(1.0 - self.q)
    }
}

/// ln P(X ≥ k) by exact summation in log space.
fn ln_upper_tail_exact(d: &impl Discrete, k: u64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    if (k as f64) > d.mean() {
        // Terms decrease from k on: sum them until the rest is negligible.
        let mut ln_term = d.ln_pmf(k);
        let mut total = ln_term;
        let mut j = k;
        while j - k < MAX_TERMS {
            let bound = d.ratio_bound(j);
            if bound < 1.0 {
                let ln_rest = ln_term + (bound / (1.0 - bound)).ln();
                if ln_rest < total - NEGLIGIBLE_NATS {
                    break;
                }
            }
            ln_term += d.ln_ratio(j);
            j += 1;
            total = ln_add(total, ln_term);
        }
        total.min(0.0)
    } else {
        // The tail is large: 1 − P(X < k), summing the k lower terms.
        let mut ln_term = d.ln_pmf(0);
        let mut lower = ln_term;
        for j in 0..k.saturating_sub(1) {
            ln_term += d.ln_ratio(j);
            lower = ln_add(lower, ln_term);
        }
        ln_one_minus_exp(lower.min(0.0))
    }
}

/// ln erfc(x), from the Numerical Recipes Chebyshev fit (relative error below 1.2e-7),
/// which is already in log form and so stays finite far in the tail.
fn ln_erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let ln_pos = t.ln() + poly;
    if x >= 0.0 {
        ln_pos
    } else {
        // erfc(−z) = 2 − erfc(z).
        (2.0 - ln_pos.exp()).ln()
    }
}

/// ln P(X ≥ k) under a normal approximation with continuity correction.
fn ln_upper_tail_normal(k: u64, mean: f64, variance: f64) -> f64 {
    let sd = variance.max(f64::MIN_POSITIVE).sqrt();
    let z = (k as f64 - 0.5 - mean) / sd;
    (0.5f64).ln() + ln_erfc(z / std::f64::consts::SQRT_2)
}

/// ln P(X ≥ k) for X ~ Poisson(λ). λ ≤ 0 gives ln 1 for k = 0 and −∞ otherwise.
pub fn poisson_upper_tail_ln(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    if lambda.is_nan() || lambda <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if k > EXACT_LIMIT {
        return ln_upper_tail_normal(k, lambda, lambda).min(0.0);
    }
    ln_upper_tail_exact(&Poisson { lambda }, k)
}

/// P(X ≥ k) for X ~ Poisson(λ).
pub fn poisson_upper_tail(k: u64, lambda: f64) -> f64 {
    poisson_upper_tail_ln(k, lambda).exp()
}

/// ln P(X ≥ k) for a negative binomial with this mean and variance (variance > mean).
/// Falls back to Poisson when the variance does not exceed the mean.
pub fn negbin_upper_tail_ln(k: u64, mean: f64, variance: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    if mean.is_nan() || mean <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if variance.is_nan() || variance <= mean * (1.0 + 1e-9) {
        return poisson_upper_tail_ln(k, mean);
    }
    if k > EXACT_LIMIT {
        return ln_upper_tail_normal(k, mean, variance).min(0.0);
    }
    let q = mean / variance;
    let r = mean * mean / (variance - mean);
    ln_upper_tail_exact(&NegBin { r, q }, k)
}

/// ln P(X ≥ k) for a count with this mean and variance: Poisson when the variance does not
/// exceed the mean, negative binomial otherwise.
pub fn upper_tail_ln(k: u64, mean: f64, variance: f64) -> f64 {
    negbin_upper_tail_ln(k, mean, variance)
}

/// How surprising `k` or more is: −log10 P(X ≥ k), in [0, [`MAX_SCORE`]]. 3 ≈ one in a thousand.
pub fn surprise_score(k: u64, mean: f64, variance: f64) -> f64 {
    let score = -upper_tail_ln(k, mean, variance) / LN_10;
    if score.is_nan() {
        0.0
    } else {
        score.clamp(0.0, MAX_SCORE)
    }
}

/// −log10 P(at least one event | λ), the score of a rare event whose rate is λ per window.
pub fn rare_event_score(lambda: f64) -> f64 {
    let lambda = lambda.max(1e-12);
    let p = -(-lambda).exp_m1();
    (-p.log10()).clamp(0.0, MAX_SCORE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut f = 1.0f64;
        for n in 1..30u32 {
            f *= n as f64;
            assert!((ln_gamma(n as f64 + 1.0) - f.ln()).abs() < 1e-10, "n = {n}");
        }
        assert!((ln_gamma(0.5) - PI.sqrt().ln()).abs() < 1e-12);
    }

    #[test]
    fn poisson_known_values() {
        // P(X ≥ 10 | λ = 2) = 4.6498e-5 (R: ppois(9, 2, lower.tail = FALSE)).
        assert!(rel(poisson_upper_tail(10, 2.0), 4.649_807_5e-5) < 1e-6);
        // P(X ≥ 1 | λ = 1) = 1 − e^-1.
        assert!(rel(poisson_upper_tail(1, 1.0), 1.0 - (-1.0f64).exp()) < 1e-12);
        // P(X ≥ 3 | λ = 5) = 1 − e^-5 (1 + 5 + 12.5), the complement branch.
        let expected = 1.0 - (-5.0f64).exp() * 18.5;
        assert!(rel(poisson_upper_tail(3, 5.0), expected) < 1e-12);
        assert_eq!(poisson_upper_tail(0, 3.0), 1.0);
        assert_eq!(poisson_upper_tail(1, 0.0), 0.0);
    }

    #[test]
    fn extreme_tails_stay_finite() {
        let ln_p = poisson_upper_tail_ln(400, 2.0);
        assert!(ln_p.is_finite() && ln_p < -1000.0);
        assert_eq!(surprise_score(400, 2.0, 2.0), MAX_SCORE);
        assert!(surprise_score(120, 6.0, 6.0) > 50.0);
    }

    #[test]
    fn negative_binomial_known_value() {
        // r = 2, q = 0.5: mean 2, variance 4; P(X ≥ 5) = 1 − Σ_{j<5} (j+1) 0.5^(j+2)
        let lower: f64 = (0..5).map(|j| (j + 1) as f64 * 0.5f64.powi(j + 2)).sum();
        assert!(rel(negbin_upper_tail_ln(5, 2.0, 4.0).exp(), 1.0 - lower) < 1e-10);
        // And in the upper branch, P(X ≥ 1) = 1 − 0.25.
        assert!(rel(negbin_upper_tail_ln(1, 2.0, 4.0).exp(), 0.75) < 1e-12);
    }

    #[test]
    fn normal_approximation_is_close_at_the_limit() {
        let lambda = 4_800.0;
        let exact = poisson_upper_tail_ln(EXACT_LIMIT, lambda);
        let approx = ln_upper_tail_normal(EXACT_LIMIT, lambda, lambda);
        // Same order of magnitude in the tail (skewness makes the normal a bit lighter).
        assert!((exact - approx).abs() < 0.5, "{exact} vs {approx}");
        assert!(poisson_upper_tail_ln(EXACT_LIMIT + 1, lambda) <= exact + 1e-9);
    }

    #[test]
    fn rare_event_scores() {
        assert!((rare_event_score(0.001) - 3.0).abs() < 0.01);
        assert!(rare_event_score(5.0) < 0.01);
    }

    proptest! {
        #[test]
        fn poisson_tail_is_a_probability_and_monotone(k in 0u64..400, lambda in 0.01f64..300.0) {
            let a = poisson_upper_tail(k, lambda);
            let b = poisson_upper_tail(k + 1, lambda);
            prop_assert!((0.0..=1.0).contains(&a));
            prop_assert!(b <= a * (1.0 + 1e-9) + 1e-300);
        }

        #[test]
        fn poisson_tail_matches_direct_sum(k in 0u64..60, lambda in 0.1f64..30.0) {
            // Direct sum of the complement in linear space (fine for these small values).
            let mut term = (-lambda).exp();
            let mut lower = 0.0;
            for j in 0..k {
                lower += term;
                term *= lambda / (j + 1) as f64;
            }
            let direct = (1.0 - lower).max(0.0);
            let ours = poisson_upper_tail(k, lambda);
            prop_assert!((ours - direct).abs() < 1e-9, "{} vs {}", ours, direct);
        }

        #[test]
        fn negbin_tail_is_monotone_and_heavier(k in 0u64..300, mean in 0.1f64..100.0, phi in 1.05f64..8.0) {
            let var = mean * phi;
            let a = negbin_upper_tail_ln(k, mean, var);
            let b = negbin_upper_tail_ln(k + 1, mean, var);
            prop_assert!(a <= 1e-12 && b <= a + 1e-9);
            // Above the mean an over-dispersed count is less surprising than a Poisson one.
            if (k as f64) > mean * phi + 3.0 {
                prop_assert!(a >= poisson_upper_tail_ln(k, mean) - 1e-9);
            }
        }

        #[test]
        fn score_is_bounded_and_monotone(k in 0u64..EXACT_LIMIT, mean in 0.0f64..5_000.0) {
            let s1 = surprise_score(k, mean, mean);
            let s2 = surprise_score(k + 1, mean, mean);
            prop_assert!((0.0..=MAX_SCORE).contains(&s1));
            prop_assert!(s2 + 1e-9 >= s1);
        }

        #[test]
        fn large_counts_score_in_range(k in EXACT_LIMIT..1_000_000, mean in 0.0f64..100_000.0) {
            let s = surprise_score(k, mean, mean * 1.5);
            prop_assert!((0.0..=MAX_SCORE).contains(&s));
        }
    }
}
