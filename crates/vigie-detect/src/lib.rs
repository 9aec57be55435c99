//! Deterministic streaming detectors and the crisis-level engine with explanations.
//!
//! The pipeline hands each watch's new mentions, in roughly publication order, to that watch's
//! [`WatchMonitor`], and ticks it as event time advances. Time comes only from mention
//! timestamps and ticks, never from a clock: a replay of days at full speed gives the same
//! result as live.
//!
//! Inside a monitor:
//! - [`VolumeDetector`]: mentions and negative mentions per bucket, a sliding window, a
//!   seasonal exponentially weighted baseline, and exact count tail probabilities
//!   ([`stats`]) → [`SignalKind::VolumeSpike`](vigie_model::SignalKind) and `NegativeSurge`;
//! - [`AudienceDetector`]: distinct (negative) authors, others' share, influential authors →
//!   `InfluencerJoined` and `OthersSpeakForYou`;
//! - an evidence window (top terms, hashtags, authors, sample posts) in bounded memory;
//! - the level rules: 0 calm, 1 vigilance, 2 alert, 3 crisis, stepping up at once and down
//!   one level per cool-down, each change with an [`Explanation`](vigie_model::Explanation).
//!
//! [`IncidentTracker`] folds signals and level changes into [`Incident`](vigie_model::Incident)s.
//! Every stateful part has `state()` / `restore()` so a restart continues where it stopped.
//! The method is described in `docs/design/detection.md`.
//!
//! ```
//! use vigie_detect::{IncidentTracker, MonitorOutput, WatchMonitor};
//! use vigie_model::*;
//!
//! let settings = DetectionSettings { warmup_minutes: 0, ..Default::default() };
//! let (ws, watch) = (WorkspaceId::new("acme").unwrap(), WatchId::new("brand").unwrap());
//! let mut monitor = WatchMonitor::new(ws.clone(), watch, &settings);
//! let mut out = MonitorOutput::default();
//! let t0 = Timestamp::parse_rfc3339("2026-03-01T10:00:00Z").unwrap();
//! let m = EnrichedMention {
//!     workspace: ws,
//!     mention: Mention {
//!         source: "mastodon".into(), external_id: "1".into(), url: None,
//!         author: Author { handle: "marie".into(), ..Default::default() },
//!         published_at: t0, received_at: None, title: None,
//!         text: "Service client injoignable depuis ce matin".into(), lang: Some("fr".into()),
//!         engagement: Engagement::default(), reply_to: None, quote_of: None,
//!         repost_of: None, country: None,
//!     },
//!     enrichment: Enrichment::default(),
//! };
//! monitor.observe(&m, &mut out);
//! monitor.tick(t0.plus_minutes(60), &mut out);
//! assert_eq!(monitor.level(), CrisisLevel::Calm);
//!
//! let mut incidents = IncidentTracker::new(settings.window_minutes);
//! incidents.apply(&out);
//! assert!(incidents.take_dirty().is_empty());
//! ```

pub mod anomaly;
mod audience;
mod baseline;
mod bursty;
mod clock;
mod complaint;
mod evidence;
mod hll;
mod incident;
mod level;
mod monitor;
mod pattern;
mod silence;
pub mod stats;
mod text;
mod viral;
mod volume;

pub use audience::{
    AudienceDetector, AudienceStats, INFLUENCER_QUIET_MINUTES, MIN_OTHERS_AUTHORS, MIN_OTHERS_SHARE,
};
pub use baseline::{MAX_DISPERSION, MIN_NEGBIN_DISPERSION, SEASONAL_PRIOR_WEIGHT};
pub use bursty::{BurstConfig, BurstDetector};
pub use clock::MAX_FILL_BUCKETS;
pub use complaint::{ComplaintConfig, ComplaintDetector, ComplaintStats};
pub use incident::IncidentTracker;
pub use level::{ALERT_SCORE, CRISIS_SUSTAIN_BUCKETS, LevelRules, VIGILANCE_SCORE};
pub use monitor::{DetectorConfig, MonitorOutput, WatchMonitor};
pub use pattern::{MIN_PATTERN_COUNT, PatternConfig, PatternDetector};
pub use silence::{GAP_HISTORY, SilenceConfig, SourceSilence};
pub use viral::{Forecast, MAX_FORECAST, ViralConfig, ViralDetector};
pub use volume::{
    CLIP_SIGMAS, MIN_EXPECTED_WINDOW, MIN_SIGNAL_COUNT, SHORT_BUCKETS, SIGNAL_MIN_SCORE,
    VolumeDetector, WindowStats,
};

use vigie_model::{EnrichedMention, Signal, Timestamp};

/// Why a saved detector state cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    /// The state does not have the expected shape.
    #[error("invalid state for detector {detector}: {reason}")]
    InvalidState {
        /// Which part.
        detector: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The state was written by another version of the format.
    #[error("state of detector {detector} has format version {found}, expected {expected}")]
    UnsupportedVersion {
        /// Which part.
        detector: &'static str,
        /// Version found.
        found: u64,
        /// Version this build reads.
        expected: u64,
    },
    /// The state was saved with other bucket or window settings.
    #[error("state of detector {detector} does not match the settings: {reason}")]
    IncompatibleSettings {
        /// Which part.
        detector: &'static str,
        /// What differs.
        reason: String,
    },
}

/// A streaming detector of one watch: synchronous and deterministic (the same input sequence
/// gives the same signals), with time taken only from mentions and ticks.
pub trait Detector: Send {
    /// A short stable name (`volume`, `audience`).
    fn name(&self) -> &'static str;
    /// Takes one mention; closes the buckets before it first. A mention published before the
    /// open bucket is counted in the open bucket.
    fn observe(&mut self, m: &EnrichedMention, out: &mut Vec<Signal>);
    /// Event time reached `now`: closes every bucket that ends at or before it.
    fn on_tick(&mut self, now: Timestamp, out: &mut Vec<Signal>);
    /// Everything needed to continue after a restart, as JSON.
    fn state(&self) -> serde_json::Value;
    /// Continues from a saved [`Detector::state`]; on error the detector is unchanged.
    fn restore(&mut self, state: &serde_json::Value) -> Result<(), DetectError>;
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Test helpers: settings, mentions, and a tiny deterministic PRNG.
    use vigie_model::*;

    /// Default settings.
    pub fn settings() -> DetectionSettings {
        DetectionSettings::default()
    }

    /// A mention at `t_ms` by `author` with this sentiment and follower count.
    pub fn mention(
        t_ms: i64,
        author: &str,
        label: SentimentLabel,
        followers: u64,
    ) -> EnrichedMention {
        EnrichedMention {
            workspace: WorkspaceId::new("w").unwrap(),
            mention: Mention {
                source: "test".into(),
                external_id: format!("{author}-{t_ms}"),
                url: None,
                author: Author {
                    handle: author.into(),
                    name: None,
                    followers: Some(followers),
                    verified: false,
                },
                published_at: Timestamp::from_millis(t_ms),
                received_at: None,
                title: None,
                text: format!("post by {author} about the brand"),
                lang: None,
                engagement: Engagement::default(),
                reply_to: None,
                quote_of: None,
                repost_of: None,
                country: None,
            },
            enrichment: Enrichment {
                sentiment: Sentiment {
                    label,
                    score: 0.0,
                    confidence: 1.0,
                },
                reach: followers,
                ..Default::default()
            },
        }
    }

    /// splitmix64.
    pub struct Rng(pub u64);

    impl Rng {
        pub fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            crate::hll::mix64(self.0)
        }
        pub fn uniform(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
        /// Knuth's Poisson sampler (fine for small λ).
        pub fn poisson(&mut self, lambda: f64) -> u64 {
            let l = (-lambda).exp();
            let mut k = 0;
            let mut p = 1.0;
            loop {
                p *= self.uniform();
                if p <= l {
                    return k;
                }
                k += 1;
            }
        }
    }
}
