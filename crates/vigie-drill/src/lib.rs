//! Crisis drills: seeded, realistic social-media streams with known crisis onsets, run
//! through the real enrichment ([`vigie_enrich::Enricher`]) and detection
//! ([`vigie_detect::WatchMonitor`]) code, and scored the way an operator would judge them.
//!
//! - [`generate`]: a week of ordinary chatter about *Brevia* (a fictional French telecom
//!   operator) with a daily and weekly rhythm, day-to-day and hour-to-hour noise,
//!   heavy-tailed author activity and audiences, small repost cascades and the brand's own
//!   posts and answers; plus one injected event at a seeded time: a crisis (small, medium or
//!   large: a trigger post with a repost cascade drawn with the SEISMIC reaction-time kernel,
//!   an angry crowd whose rate rises to a peak in 30 min to 3 h and decays as a power law, a
//!   hashtag, influencers, press, an apology) or a hard negative (a positive viral campaign,
//!   a bot spam burst, a lone complaint by a large account, a product launch).
//! - [`run_drill`] / [`run_seeds`]: enrich every mention, feed the watch's mentions to a
//!   monitor ticked every minute of event time, record the level changes.
//! - [`report`]: delays onset → level 2 and → level 3 (median, 90th percentile), share of
//!   crises detected by size, false level-2 alerts per watch per week on crisis-free streams.
//! - [`crisislex`]: onset shapes of the real CrisisLexT26 crises, measured like the drills'.
//!
//! ```
//! use vigie_drill::{generate, DrillSpec, Scenario, CrisisSize};
//! let d = generate(&DrillSpec::new(1, Scenario::Crisis(CrisisSize::Large)));
//! assert!(d.onset.is_some() && d.event_mentions > 100);
//! ```

pub mod crisislex;
mod generate;
pub mod rng;
mod run;
pub mod texts;

pub use generate::{CrisisSize, DEFAULT_START_MS, Drill, DrillSpec, Scenario, generate};
pub use run::{
    CascadeOutcome, DelayStats, DrillError, DrillReport, Outcome, QuietStats, RunConfig,
    SeenChange, VOICE_COUNTS, ViralStats, report, run_drill, run_seeds, watch_spec,
};

/// Seeds used while tuning the detectors (never used for the reported figures).
pub const TUNING_SEEDS: std::ops::Range<u64> = 1..11;
/// First seed of the reported figures (`vigie eval drills` uses 1001, 1002, …).
pub const REPORT_SEED_BASE: u64 = 1_001;
