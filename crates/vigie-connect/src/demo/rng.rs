//! A small seeded generator (xoshiro256** seeded through splitmix64) and the few float
//! functions the story needs.
//!
//! Written here rather than taken from `rand` so that a dependency upgrade can never change
//! the demo. `exp` and `ln` are computed with `+ - * /`, `floor` and bit manipulation only:
//! those are exactly rounded by IEEE 754, so the same seed gives the same numbers on every
//! platform, whatever its `libm`.

/// xoshiro256** (Blackman and Vigna), one independent stream per `(seed, stream)` pair.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

/// One step of splitmix64: the recommended way to seed xoshiro from a single `u64`.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator for one part of the story: the same `(seed, stream)` always gives the
    /// same sequence, and changing one part never shifts the numbers of another.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut state = seed ^ splitmix64(&mut stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let mut s = [0u64; 4];
        for x in &mut s {
            *x = splitmix64(&mut state);
        }
        if s == [0; 4] {
            s[0] = 1; // the one state xoshiro must avoid
        }
        Self { s }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`, with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-shift.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let width = hi.abs_diff(lo);
        lo.wrapping_add(self.below(width) as i64)
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniformly chosen element (the default value of an empty slice).
    pub(crate) fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        let i = self.below(items.len() as u64) as usize;
        items.get(i).copied().unwrap_or_default()
    }

    /// An index drawn with probability proportional to `weights` (0 if they are all zero).
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().map(|w| w.max(0.0)).sum();
        if total <= 0.0 {
            return 0;
        }
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            let w = w.max(0.0);
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
    }

    /// A standard normal deviate (Marsaglia's polar method).
    pub(crate) fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.unit() - 1.0;
            let v = 2.0 * self.unit() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * ln(s) / s).sqrt();
            }
        }
    }

    /// A log-normal deviate with the given median and log-scale spread.
    pub(crate) fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * exp(sigma * self.normal())
    }

    /// An exponential deviate with the given mean.
    pub(crate) fn exponential(&mut self, mean: f64) -> f64 {
        -mean * ln(1.0 - self.unit())
    }

    /// A Poisson count with mean `lambda` (Knuth's method below 30, a rounded normal above).
    pub(crate) fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 || !lambda.is_finite() {
            return 0;
        }
        if lambda >= 30.0 {
            let x = (lambda + lambda.sqrt() * self.normal()).round();
            return if x > 0.0 { x as u64 } else { 0 };
        }
        let limit = exp(-lambda);
        let mut k = 0;
        let mut p = self.unit();
        while p > limit {
            k += 1;
            p *= self.unit();
        }
        k
    }
}

/// The high bits of ln 2 (its product with an integer up to 2^11 is exact) and the rest.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
const LN2: f64 = std::f64::consts::LN_2;

/// `e^x` for `x` in about `[-700, 700]` (clamped outside), relative error below 1e-15.
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let x = x.clamp(-700.0, 700.0);
    let k = (x / LN2 + 0.5).floor();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Taylor series of e^r for |r| <= ln2/2, Horner form.
    let mut sum = 1.0;
    for n in (1..=17).rev() {
        sum = 1.0 + sum * r / f64::from(n);
    }
    // 2^k as a float: |k| <= 1010, within the normal exponent range.
    let bits = ((k as i64 + 1023) as u64) << 52;
    sum * f64::from_bits(bits)
}

/// Natural logarithm of a positive, finite, normal `x` (NaN for `x <= 0`).
pub(crate) fn ln(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return x;
    }
    let (mut x, mut e) = (x, 0i64);
    if x < f64::MIN_POSITIVE {
        x *= 18_014_398_509_481_984.0; // 2^54, to make a subnormal normal
        e -= 54;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut sum = 0.0;
    for n in (0..=12).rev() {
        sum = 1.0 / f64::from(2 * n + 1) + s2 * sum;
    }
    e as f64 * LN2 + 2.0 * s * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_same_numbers() {
        let a: Vec<u64> = {
            let mut r = Rng::new(42, 1);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let mut r = Rng::new(42, 1);
        let b: Vec<u64> = (0..8).map(|_| r.next_u64()).collect();
        assert_eq!(a, b);
        let mut other = Rng::new(42, 2);
        assert_ne!(a[0], other.next_u64());
        let mut seed = Rng::new(43, 1);
        assert_ne!(a[0], seed.next_u64());
    }

    #[test]
    fn xoshiro_matches_the_reference_sequence() {
        // Reference: state {1, 2, 3, 4} gives 11520, 0, 1509978240, 1215971899390074240.
        let mut r = Rng { s: [1, 2, 3, 4] };
        let got: Vec<u64> = (0..4).map(|_| r.next_u64()).collect();
        assert_eq!(got, [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240]);
    }

    #[test]
    fn exp_and_ln_match_std_closely() {
        for i in -400..=400 {
            let x = f64::from(i) * 0.37;
            let rel = (exp(x) - x.exp()).abs() / x.exp();
            assert!(rel < 1e-14, "exp({x}): {} vs {}", exp(x), x.exp());
        }
        for x in [
            1e-300, 1e-10, 0.001, 0.5, 0.999, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e300,
        ] {
            let diff = (ln(x) - x.ln()).abs();
            assert!(
                diff < 1e-13 * x.ln().abs().max(1.0),
                "ln({x}): {} vs {}",
                ln(x),
                x.ln()
            );
        }
        assert!(ln(0.0).is_nan() && ln(-1.0).is_nan());
        assert!((ln(5e-320) - 5e-320f64.ln()).abs() < 1e-10);
    }

    #[test]
    fn bounded_draws_stay_in_range() {
        let mut r = Rng::new(7, 0);
        for _ in 0..10_000 {
            assert!(r.below(10) < 10);
            let x = r.range(-5, 5);
            assert!((-5..5).contains(&x));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range(3, 3), 3);
        assert_eq!(r.pick::<u8>(&[]), 0);
        assert_eq!(r.weighted(&[0.0, 0.0]), 0);
        assert_eq!(r.weighted(&[0.0, 1.0, 0.0]), 1);
    }

    #[test]
    fn poisson_and_normal_have_the_right_moments() {
        let mut r = Rng::new(1, 9);
        for lambda in [0.5, 4.0, 12.0, 80.0] {
            let n = 20_000;
            let sum: u64 = (0..n).map(|_| r.poisson(lambda)).sum();
            let mean = sum as f64 / f64::from(n);
            assert!(
                (mean - lambda).abs() < 0.05 * lambda + 0.05,
                "poisson({lambda}) mean {mean}"
            );
        }
        assert_eq!(r.poisson(0.0), 0);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "mean {mean} var {var}"
        );
        let e: f64 = (0..20_000).map(|_| r.exponential(3.0)).sum::<f64>() / 20_000.0;
        assert!((e - 3.0).abs() < 0.1, "exponential mean {e}");
    }
}
