//! Reconnect delays: exponential (or linear) backoff with jitter, bounded, per failure class,
//! and honouring the server's `Retry-After`.
//!
//! The tiers follow the X API's documented reconnect protocol, which suits every network:
//! network errors back off linearly from 250 ms to 16 s, HTTP errors exponentially from 5 s
//! to 320 s, rate limits exponentially from 60 s to 15 min. Each delay is jittered
//! ("equal jitter": between half and all of the nominal delay) so that many connectors do
//! not reconnect in step, and never exceeds the tier's maximum, except when the server
//! asked for longer with `Retry-After` (capped at [`MAX_RETRY_AFTER`]).

use crate::ErrorClass;
use std::time::Duration;

/// The longest `Retry-After` honoured; beyond, the connector retries after this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// One tier: how delays grow for one class of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// The first delay.
    pub first: Duration,
    /// The largest delay.
    pub max: Duration,
    /// `true`: `first × 2^n`; `false`: `first × (n + 1)`.
    pub exponential: bool,
}

impl Tier {
    /// The nominal (un-jittered) delay before retry number `attempt` (0-based).
    pub fn nominal(&self, attempt: u32) -> Duration {
        let d = if self.exponential {
            self.first.saturating_mul(1u32 << attempt.min(20))
        } else {
            self.first.saturating_mul(attempt.saturating_add(1))
        };
        d.min(self.max)
    }
}

/// The three tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Connection refused/reset, timeouts, dropped streams.
    pub network: Tier,
    /// HTTP error statuses and protocol errors.
    pub http: Tier,
    /// HTTP 429 and exhausted rate-limit budgets.
    pub rate_limited: Tier,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            network: Tier {
                first: Duration::from_millis(250),
                max: Duration::from_secs(16),
                exponential: false,
            },
            http: Tier {
                first: Duration::from_secs(5),
                max: Duration::from_secs(320),
                exponential: true,
            },
            rate_limited: Tier {
                first: Duration::from_secs(60),
                max: Duration::from_secs(900),
                exponential: true,
            },
        }
    }
}

impl BackoffPolicy {
    /// Every delay divided by `factor` (tests use 1000: milliseconds instead of seconds).
    pub fn scaled_down(factor: u32) -> Self {
        let f = factor.max(1);
        let s = |t: Tier| Tier {
            first: t.first / f,
            max: t.max / f,
            exponential: t.exponential,
        };
        let d = Self::default();
        Self {
            network: s(d.network),
            http: s(d.http),
            rate_limited: s(d.rate_limited),
        }
    }

    fn tier(&self, class: ErrorClass) -> &Tier {
        match class {
            ErrorClass::Network => &self.network,
            ErrorClass::Http => &self.http,
            ErrorClass::RateLimited => &self.rate_limited,
        }
    }
}

/// The retry state of one connector: consecutive failures per class since the last success.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempts: [u32; 3],
    rng: fastrand::Rng,
}

impl Backoff {
    /// A fresh state.
    pub fn new(policy: BackoffPolicy) -> Self {
        Self {
            policy,
            attempts: [0; 3],
            rng: fastrand::Rng::new(),
        }
    }

    /// With a fixed random seed (deterministic tests).
    pub fn with_seed(policy: BackoffPolicy, seed: u64) -> Self {
        Self {
            policy,
            attempts: [0; 3],
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// Forgets the failures (after a successful poll).
    pub fn reset(&mut self) {
        self.attempts = [0; 3];
    }

    /// Consecutive failures of any class.
    pub fn failures(&self) -> u32 {
        self.attempts.iter().sum()
    }

    /// The delay before the next attempt after a failure of `class`, given the server's
    /// `Retry-After` if any.
    pub fn next_delay(&mut self, class: ErrorClass, retry_after: Option<Duration>) -> Duration {
        let i = match class {
            ErrorClass::Network => 0,
            ErrorClass::Http => 1,
            ErrorClass::RateLimited => 2,
        };
        let tier = *self.policy.tier(class);
        let nominal = tier.nominal(self.attempts[i]);
        self.attempts[i] = self.attempts[i].saturating_add(1);
        // Equal jitter: half fixed, half random.
        let half = nominal / 2;
        let jitter = half.mul_f64(self.rng.f64());
        let delay = half + jitter;
        match retry_after {
            Some(ra) => delay.max(ra.min(MAX_RETRY_AFTER)),
            None => delay,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn delays_grow_and_stay_bounded() {
        let p = BackoffPolicy::default();
        let mut b = Backoff::with_seed(p, 7);
        let mut last_nominal = Duration::ZERO;
        for attempt in 0..40 {
            let d = b.next_delay(ErrorClass::Http, None);
            let nominal = p.http.nominal(attempt);
            assert!(nominal >= last_nominal);
            assert!(d <= p.http.max, "attempt {attempt}: {d:?}");
            assert!(
                d >= nominal / 2,
                "attempt {attempt}: {d:?} < half of {nominal:?}"
            );
            last_nominal = nominal;
        }
        assert_eq!(p.http.nominal(0), Duration::from_secs(5));
        assert_eq!(p.http.nominal(6), Duration::from_secs(320));
        assert_eq!(p.network.nominal(0), Duration::from_millis(250));
        assert_eq!(p.network.nominal(3), Duration::from_secs(1));
        assert_eq!(p.network.nominal(1000), Duration::from_secs(16));
        assert_eq!(p.rate_limited.nominal(0), Duration::from_secs(60));
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..20 {
            let mut b = Backoff::with_seed(BackoffPolicy::default(), seed);
            b.next_delay(ErrorClass::Http, None);
            seen.insert(b.next_delay(ErrorClass::Http, None).as_millis());
        }
        assert!(seen.len() > 10, "{seen:?}");
    }

    #[test]
    fn retry_after_wins_but_is_capped_and_reset_forgets() {
        let mut b = Backoff::with_seed(BackoffPolicy::scaled_down(1000), 1);
        let d = b.next_delay(ErrorClass::RateLimited, Some(Duration::from_secs(2)));
        assert_eq!(d, Duration::from_secs(2));
        let d = b.next_delay(ErrorClass::RateLimited, Some(Duration::from_secs(86_400)));
        assert_eq!(d, MAX_RETRY_AFTER);
        assert_eq!(b.failures(), 2);
        b.reset();
        assert_eq!(b.failures(), 0);
        assert!(b.next_delay(ErrorClass::Network, None) <= Duration::from_millis(1));
    }
}
