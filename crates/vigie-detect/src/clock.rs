//! Event-time buckets: which bucket is open, and which must close when time advances.

use serde::{Deserialize, Serialize};
use vigie_model::Timestamp;

/// Gaps longer than this many buckets are not replayed bucket by bucket: the clock jumps.
pub const MAX_FILL_BUCKETS: u64 = 4_096;

/// The bucket clock of one detector: the open bucket, and when history started.
///
/// Time only comes from mention timestamps and ticks. A mention published before the open
/// bucket (late) is counted in the open bucket; a later one first closes every bucket before
/// its own, empty buckets included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketClock {
    /// Bucket width, ms.
    pub bucket_ms: i64,
    /// Publication time of the first observed mention.
    pub first_seen_ms: Option<i64>,
    /// Start of the open bucket.
    pub open_ms: Option<i64>,
}

impl BucketClock {
    /// A clock with buckets of `bucket_minutes` (at least one minute).
    pub fn new(bucket_minutes: u32) -> Self {
        Self {
            bucket_ms: i64::from(bucket_minutes.max(1)) * 60_000,
            first_seen_ms: None,
            open_ms: None,
        }
    }

    /// Starts history at the first mention, if not started. Returns true if it just started.
    pub fn start(&mut self, t: Timestamp) -> bool {
        if self.open_ms.is_some() {
            return false;
        }
        self.first_seen_ms = Some(t.as_millis());
        self.open_ms = Some(t.floor_to(self.bucket_ms).as_millis());
        true
    }

    /// Number of buckets that must close for event time to reach `now` (0 before the start).
    pub fn due(&self, now: Timestamp) -> u64 {
        match self.open_ms {
            Some(open) => {
                let n = now
                    .as_millis()
                    .saturating_sub(open)
                    .div_euclid(self.bucket_ms);
                u64::try_from(n).unwrap_or(0)
            }
            None => 0,
        }
    }

    /// End of the open bucket, if started.
    pub fn open_end_ms(&self) -> Option<i64> {
        self.open_ms.map(|o| o.saturating_add(self.bucket_ms))
    }

    /// Moves to the next bucket.
    pub fn advance(&mut self) {
        if let Some(open) = self.open_ms.as_mut() {
            *open = open.saturating_add(self.bucket_ms);
        }
    }

    /// Jumps to the bucket containing `now` (after a gap longer than [`MAX_FILL_BUCKETS`](crate::MAX_FILL_BUCKETS)).
    pub fn jump_to(&mut self, now: Timestamp) {
        if self.open_ms.is_some() {
            self.open_ms = Some(now.floor_to(self.bucket_ms).as_millis());
        }
    }

    /// Whether a bucket ending at `end_ms` lies after the warm-up.
    pub fn is_warm(&self, end_ms: i64, warmup_ms: i64) -> bool {
        self.first_seen_ms
            .is_some_and(|f| end_ms.saturating_sub(f) >= warmup_ms)
    }
}

/// The time constants every detector of a watch derives from [`vigie_model::DetectionSettings`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cadence {
    /// Bucket width, minutes (at least 1).
    pub bucket_minutes: u32,
    /// Bucket width, ms.
    pub bucket_ms: i64,
    /// Buckets per window (at least 1).
    pub window_buckets: usize,
    /// Window length actually used, minutes (a whole number of buckets).
    pub window_minutes: u32,
    /// Window length, ms.
    pub window_ms: i64,
    /// Baseline half-life, ms.
    pub half_life_ms: f64,
    /// Warm-up, ms.
    pub warmup_ms: i64,
    /// Cool-down, ms.
    pub cool_down_ms: i64,
}

impl Cadence {
    /// Checks that a saved detector state can continue under this cadence: same state
    /// version, same bucket width and window, well-formed baselines.
    pub(crate) fn check_saved(
        &self,
        detector: &'static str,
        (version, expected_version): (u64, u64),
        (bucket_minutes, window_buckets): (u32, usize),
        well_formed: bool,
    ) -> Result<(), crate::DetectError> {
        if version != expected_version {
            return Err(crate::DetectError::UnsupportedVersion {
                detector,
                found: version,
                expected: expected_version,
            });
        }
        if bucket_minutes != self.bucket_minutes
            || window_buckets != self.window_buckets
            || !well_formed
        {
            return Err(crate::DetectError::IncompatibleSettings {
                detector,
                reason: format!(
                    "saved with {bucket_minutes}-minute buckets x {window_buckets}, configured {}-minute buckets x {}",
                    self.bucket_minutes, self.window_buckets
                ),
            });
        }
        Ok(())
    }

    /// Derives the constants; a zero bucket counts as one minute, a window shorter than a
    /// bucket as one bucket.
    pub fn new(s: &vigie_model::DetectionSettings) -> Self {
        let bucket_minutes = s.bucket_minutes.max(1);
        let buckets = (s.window_minutes / bucket_minutes).max(1);
        let window_minutes = buckets.saturating_mul(bucket_minutes);
        Self {
            bucket_minutes,
            bucket_ms: i64::from(bucket_minutes) * 60_000,
            window_buckets: usize::try_from(buckets).unwrap_or(1),
            window_minutes,
            window_ms: i64::from(window_minutes) * 60_000,
            half_life_ms: f64::from(s.baseline_half_life_minutes.max(1)) * 60_000.0,
            warmup_ms: i64::from(s.warmup_minutes) * 60_000,
            cool_down_ms: i64::from(s.cool_down_minutes) * 60_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_close_as_time_advances() {
        let mut c = BucketClock::new(5);
        assert_eq!(c.due(Timestamp::from_millis(10_000_000)), 0);
        assert!(c.start(Timestamp::from_millis(301_000)));
        assert!(!c.start(Timestamp::from_millis(0)));
        assert_eq!(c.open_ms, Some(300_000));
        assert_eq!(c.due(Timestamp::from_millis(599_999)), 0);
        assert_eq!(c.due(Timestamp::from_millis(600_000)), 1);
        assert_eq!(c.due(Timestamp::from_millis(1_500_000)), 4);
        // A late instant never makes buckets due.
        assert_eq!(c.due(Timestamp::from_millis(0)), 0);
        c.advance();
        assert_eq!(c.open_end_ms(), Some(900_000));
        c.jump_to(Timestamp::from_millis(10_000_123));
        assert_eq!(c.open_ms, Some(9_900_000));
    }

    #[test]
    fn cadence_rounds_the_window_to_buckets() {
        let s = vigie_model::DetectionSettings {
            bucket_minutes: 5,
            window_minutes: 32,
            ..Default::default()
        };
        let c = Cadence::new(&s);
        assert_eq!((c.window_buckets, c.window_minutes), (6, 30));
        let zero = vigie_model::DetectionSettings {
            bucket_minutes: 0,
            window_minutes: 0,
            ..Default::default()
        };
        assert_eq!(Cadence::new(&zero).window_buckets, 1);
    }

    #[test]
    fn warm_up_counts_from_first_mention() {
        let mut c = BucketClock::new(5);
        c.start(Timestamp::from_millis(60_000));
        assert!(!c.is_warm(60_000 + 3_599_999, 3_600_000));
        assert!(c.is_warm(60_000 + 3_600_000, 3_600_000));
    }
}
