//! The exact NAB scorer (`nab/sweeper.py`, `nab/optimizer.py`, `runner.normalize`).
//!
//! Per-row weights follow the scaled sigmoid of the row's position relative to the labelled
//! windows; a file's score at threshold `t` adds every false positive's weight, the weight of
//! each window's earliest detection, and `-A_FN` for each missed window. One threshold per
//! profile is chosen for the whole corpus by evaluating every distinct anomaly score.

use serde::Serialize;

/// The three NAB application profiles, in report order.
pub const PROFILE_NAMES: [&str; 3] = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"];

/// An application profile: the weights of the cost matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// `standard`, `reward_low_FP_rate` or `reward_low_FN_rate`.
    pub name: String,
    /// `A_TP`.
    pub tp_weight: f64,
    /// `A_FP`.
    pub fp_weight: f64,
    /// `A_FN`.
    pub fn_weight: f64,
}

impl Profile {
    /// The three published NAB profiles.
    pub fn nab_defaults() -> Vec<Self> {
        [(0.11, 1.0), (0.22, 1.0), (0.11, 2.0)]
            .iter()
            .zip(PROFILE_NAMES)
            .map(|(&(fp, fn_), name)| Self {
                name: name.to_owned(),
                tp_weight: 1.0,
                fp_weight: fp,
                fn_weight: fn_,
            })
            .collect()
    }
}

/// NAB's scaled sigmoid: `2 / (1 + e^{5x}) - 1`, and `-1` for `x > 3`.
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

/// One scored row: its weight and, inside a window, the window's index in the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowWeight {
    /// Row index in the file.
    pub row: usize,
    /// `Some(k)`: the row is in the file's `k`-th window.
    pub window: Option<usize>,
    /// `S(i)`: the TP credit inside a window, the (negative) FP cost outside.
    pub weight: f64,
}

/// Weights of the scored rows (`i >= probation`) of a file of `n` rows with these windows.
pub fn row_weights(
    n: usize,
    windows: &[(usize, usize)],
    probation: usize,
    profile: &Profile,
) -> Vec<RowWeight> {
    let max_tp = scaled_sigmoid(-1.0);
    let mut out = Vec::with_capacity(n.saturating_sub(probation));
    let mut next = 0usize;
    let mut cur: Option<(usize, usize, usize)> = None; // (k, left, right)
    let mut prev: Option<(usize, usize)> = None; // (right index, width)
    for i in 0..n {
        if cur.is_none()
            && let Some(&(l, r)) = windows.get(next)
            && l == i
        {
            cur = Some((next, l, r));
            next += 1;
        }
        let (window, weight) = match cur {
            Some((k, l, r)) => {
                let width = (r - l + 1) as f64;
                let pos = -((r - i + 1) as f64) / width;
                (Some(k), scaled_sigmoid(pos) * profile.tp_weight / max_tp)
            }
            None => match prev {
                None => (None, -profile.fp_weight),
                Some((rp, wp)) => {
                    let x = (rp.abs_diff(i)) as f64 / (wp as f64 - 1.0);
                    let x = if x.is_nan() { f64::INFINITY } else { x };
                    (None, scaled_sigmoid(x) * profile.fp_weight)
                }
            },
        };
        if i >= probation {
            out.push(RowWeight {
                row: i,
                window,
                weight,
            });
        }
        if let Some((_, l, r)) = cur
            && i == r
        {
            prev = Some((r, r - l + 1));
            cur = None;
        }
    }
    out
}

/// A file's score and confusion counts at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct FileScore {
    /// Raw (unnormalised) score.
    pub score: f64,
    /// Detected rows inside windows.
    pub tp: usize,
    /// Undetected scored rows outside windows.
    pub tn: usize,
    /// Detected rows outside windows.
    pub fp: usize,
    /// Undetected rows inside windows.
    pub fn_: usize,
    /// Windows with at least one detection.
    pub windows_detected: usize,
}

/// Scores one file: detections are scored rows with `anomaly_score >= threshold`.
pub fn score_file(
    scores: &[f64],
    windows: &[(usize, usize)],
    probation: usize,
    profile: &Profile,
    threshold: f64,
) -> FileScore {
    let weights = row_weights(scores.len(), windows, probation, profile);
    let mut best: Vec<Option<f64>> = vec![None; windows.len()];
    let mut s = FileScore::default();
    let mut fp_sum = 0.0;
    for w in &weights {
        let detected = scores.get(w.row).is_some_and(|&a| a >= threshold);
        match (w.window, detected) {
            (Some(k), true) => {
                s.tp += 1;
                if let Some(b) = best.get_mut(k) {
                    *b = Some(b.map_or(w.weight, |x: f64| x.max(w.weight)));
                }
            }
            (Some(_), false) => s.fn_ += 1,
            (None, true) => {
                s.fp += 1;
                fp_sum += w.weight;
            }
            (None, false) => s.tn += 1,
        }
    }
    s.windows_detected = best.iter().filter(|b| b.is_some()).count();
    let windows_sum: f64 = best.iter().map(|b| b.unwrap_or(-profile.fn_weight)).sum();
    s.score = windows_sum + fp_sum;
    s
}

/// A file ready for threshold optimisation: its per-row anomaly scores and windows.
#[derive(Debug, Clone, Copy)]
pub struct ScoredFile<'a> {
    /// Anomaly score per row (`0..=1` by convention; any finite ordering works).
    pub scores: &'a [f64],
    /// Windows as inclusive row ranges.
    pub windows: &'a [(usize, usize)],
    /// Probationary rows.
    pub probation: usize,
}

/// The corpus-wide optimum of one profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Optimum {
    /// The best threshold (the highest one reaching the best score). `f64::INFINITY` means no
    /// detection at all is best.
    pub threshold: f64,
    /// Raw corpus score at that threshold.
    pub raw: f64,
}

/// NAB's optimiser: evaluates the raw corpus score at every distinct anomaly score (detections
/// `>=` threshold) and returns the best, in `O(N log N)` for `N` scored rows.
pub fn optimise(files: &[ScoredFile<'_>], profile: &Profile) -> Optimum {
    struct Item {
        score: f64,
        weight: f64,
        window: Option<usize>, // global window index
    }
    let mut items: Vec<Item> = Vec::new();
    let mut n_windows = 0usize;
    for f in files {
        for w in row_weights(f.scores.len(), f.windows, f.probation, profile) {
            if let Some(&score) = f.scores.get(w.row) {
                items.push(Item {
                    score,
                    weight: w.weight,
                    window: w.window.map(|k| k + n_windows),
                });
            }
        }
        n_windows += f.windows.len();
    }
    items.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut window_val = vec![-profile.fn_weight; n_windows];
    let mut total = -profile.fn_weight * n_windows as f64;
    let mut best = Optimum {
        threshold: f64::INFINITY,
        raw: total,
    };
    for (i, it) in items.iter().enumerate() {
        match it.window {
            Some(k) => {
                if let Some(v) = window_val.get_mut(k)
                    && it.weight > *v
                {
                    total += it.weight - *v;
                    *v = it.weight;
                }
            }
            None => total += it.weight,
        }
        let last_of_value = items.get(i + 1).is_none_or(|n| n.score != it.score);
        if last_of_value && total > best.raw + 1e-12 {
            best = Optimum {
                threshold: it.score,
                raw: total,
            };
        }
    }
    best
}

/// Normalises a raw score: 0 for the null detector (`-windows * A_FN`), 100 for the perfect one
/// (`windows * A_TP`).
pub fn normalise(raw: f64, windows: usize, profile: &Profile) -> f64 {
    let null = -(windows as f64) * profile.fn_weight;
    let perfect = windows as f64 * profile.tp_weight;
    if perfect == null {
        return 0.0;
    }
    100.0 * (raw - null) / (perfect - null)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn standard() -> Profile {
        Profile::nab_defaults().remove(0)
    }

    #[test]
    fn sigmoid_values() {
        assert!((scaled_sigmoid(-1.0) - 0.98661).abs() < 1e-5);
        assert!((scaled_sigmoid(-0.5) - 0.84828).abs() < 1e-5);
        assert!(scaled_sigmoid(0.0).abs() < 1e-12);
        assert!((scaled_sigmoid(1.0) + 0.98661).abs() < 1e-5);
        assert_eq!(scaled_sigmoid(3.5), -1.0);
    }

    #[test]
    fn hand_made_window() {
        // 20 rows, probation 2, one window rows 10..=14 (width 5).
        let p = standard();
        let w = [(10usize, 14usize)];
        let mut s = vec![0.0; 20];
        // Nothing detected: -A_FN.
        assert!((score_file(&s, &w, 2, &p, 0.5).score + 1.0).abs() < 1e-12);
        // Earliest row of the window: full credit A_TP; a second detection adds nothing.
        s[10] = 1.0;
        s[12] = 1.0;
        let f = score_file(&s, &w, 2, &p, 0.5);
        assert!((f.score - 1.0).abs() < 1e-12, "{f:?}");
        assert_eq!((f.tp, f.fp, f.windows_detected), (2, 0, 1));
        // Middle row: pos = -(14-12+1)/5 = -0.6.
        s[10] = 0.0;
        let f = score_file(&s, &w, 2, &p, 0.5);
        let want = scaled_sigmoid(-0.6) / scaled_sigmoid(-1.0);
        assert!((f.score - want).abs() < 1e-12);
        // A false positive before the window costs A_FP; one in probation costs nothing.
        s[5] = 1.0;
        s[1] = 1.0;
        let f = score_file(&s, &w, 2, &p, 0.5);
        assert!((f.score - (want - 0.11)).abs() < 1e-12);
        // A false positive 2 rows after the window: σ(2/4) * A_FP.
        s[16] = 1.0;
        let f = score_file(&s, &w, 2, &p, 0.5);
        let after = scaled_sigmoid(0.5) * 0.11;
        assert!((f.score - (want - 0.11 + after)).abs() < 1e-12);
        assert_eq!(f.fp, 2);
    }

    #[test]
    fn optimiser_matches_brute_force() {
        let p = standard();
        let mut scores = vec![0.1; 40];
        scores[12] = 0.9; // FP
        scores[21] = 0.7; // in window 20..=24
        scores[30] = 0.8; // FP after window
        scores[33] = 0.6; // in window 32..=35
        let w = [(20, 24), (32, 35)];
        let f = ScoredFile {
            scores: &scores,
            windows: &w,
            probation: 5,
        };
        let opt = optimise(&[f], &p);
        let mut brute = f64::NEG_INFINITY;
        let mut best_t = f64::NAN;
        for &t in &[0.9, 0.8, 0.7, 0.6, 0.1] {
            let s = score_file(&scores, &w, 5, &p, t).score;
            if s > brute + 1e-12 {
                brute = s;
                best_t = t;
            }
        }
        assert!((opt.raw - brute).abs() < 1e-12, "{opt:?} vs {brute}");
        assert_eq!(opt.threshold, best_t);
        assert!(normalise(-2.0, 2, &p).abs() < 1e-12);
        assert!((normalise(2.0, 2, &p) - 100.0).abs() < 1e-12);
    }
}
