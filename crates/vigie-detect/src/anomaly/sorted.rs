//! A sliding window of the last `cap` values kept both in arrival order and sorted, for exact
//! empirical tail probabilities in `O(cap)` per update (a `memmove`) and `O(log cap)` per query.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The last `cap` values, in arrival order and sorted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SortedWindow {
    cap: usize,
    order: VecDeque<f64>,
    sorted: Vec<f64>,
}

impl SortedWindow {
    /// An empty window of capacity `cap` (at least 1).
    pub(crate) fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        Self {
            cap,
            order: VecDeque::with_capacity(cap + 1),
            sorted: Vec::with_capacity(cap + 1),
        }
    }

    /// Number of values held.
    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Adds `x` (finite), dropping the oldest value when full.
    pub(crate) fn push(&mut self, x: f64) {
        let at = self.sorted.partition_point(|v| *v < x);
        self.sorted.insert(at, x);
        self.order.push_back(x);
        if self.order.len() > self.cap
            && let Some(old) = self.order.pop_front()
        {
            let at = self.sorted.partition_point(|v| *v < old);
            if at < self.sorted.len() {
                self.sorted.remove(at);
            }
        }
    }

    /// Values `>= x`.
    pub(crate) fn count_ge(&self, x: f64) -> usize {
        self.sorted.len() - self.sorted.partition_point(|v| *v < x)
    }

    /// Upper-tail probability of `x` with one pseudo-observation: `(#{v >= x} + 1) / (n + 1)`.
    pub(crate) fn p_upper(&self, x: f64) -> f64 {
        (self.count_ge(x) + 1) as f64 / (self.len() + 1) as f64
    }

    /// Upper-tail probability of `x` with an exponential tail beyond the 90th percentile
    /// (fitted by the mean excess), so that values beyond everything seen keep their order:
    /// empirical `(#{v >= x} + 1) / (n + 1)` up to the 90th percentile.
    pub(crate) fn p_tail(&self, x: f64) -> f64 {
        let n = self.sorted.len();
        if n < 20 {
            return self.p_upper(x);
        }
        let k0 = (n as f64 * 0.9) as usize;
        let Some(&u) = self.sorted.get(k0) else {
            return self.p_upper(x);
        };
        if x <= u {
            return self.p_upper(x);
        }
        let top = &self.sorted[k0..];
        let beta = top.iter().map(|v| v - u).sum::<f64>() / top.len() as f64;
        let beta = beta.max(1e-9 * (1.0 + u.abs()));
        let frac = (n - k0) as f64 / (n + 1) as f64;
        (frac * (-(x - u) / beta).exp()).max(1e-300)
    }

    /// The `q`-quantile (nearest rank), or `None` when empty.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        if self.sorted.is_empty() {
            return None;
        }
        let i = ((self.sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        self.sorted.get(i).copied()
    }

    /// Checks the invariants after deserialisation.
    pub(crate) fn is_consistent(&self) -> bool {
        self.cap >= 1
            && self.order.len() == self.sorted.len()
            && self.order.len() <= self.cap
            && self.sorted.windows(2).all(|w| w[0] <= w[1])
            && self.sorted.iter().all(|v| v.is_finite())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn slides_and_ranks() {
        let mut w = SortedWindow::new(3);
        for x in [5.0, 1.0, 3.0, 2.0] {
            w.push(x);
        }
        // holds 1, 3, 2
        assert_eq!(w.len(), 3);
        assert_eq!(w.count_ge(2.0), 2);
        assert!((w.p_upper(10.0) - 0.25).abs() < 1e-12);
        assert_eq!(w.quantile(0.5), Some(2.0));
        assert!(w.is_consistent());
    }
}
