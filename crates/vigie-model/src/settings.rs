//! Detection settings: plain validated values, read from the `[detection]` table of the config.

use serde::{Deserialize, Serialize};

/// How the detectors of every watch of a workspace behave. All durations in minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionSettings {
    /// Width of a counting bucket. Default 5.
    pub bucket_minutes: u32,
    /// Width of the sliding observation window (a multiple of the bucket). Default 30.
    pub window_minutes: u32,
    /// Half-life of the learned baseline. Default 4320 (3 days).
    pub baseline_half_life_minutes: u32,
    /// Time of history needed before any level above calm may be raised. Default 1440 (1 day).
    pub warmup_minutes: u32,
    /// Time at a level without supporting signals before stepping down one level. Default 60.
    pub cool_down_minutes: u32,
    /// Negative mentions in the window needed for level 2 (alert). Default 10.
    pub min_negative_for_alert: u32,
    /// Distinct authors in the window needed for level 3 (crisis). Default 30.
    pub min_authors_for_crisis: u32,
    /// Followers from which an author counts as influential. Default 50000.
    pub influencer_followers: u64,
}

impl Default for DetectionSettings {
    fn default() -> Self {
        Self {
            bucket_minutes: 5,
            window_minutes: 30,
            baseline_half_life_minutes: 4320,
            warmup_minutes: 1440,
            cool_down_minutes: 60,
            min_negative_for_alert: 10,
            min_authors_for_crisis: 30,
            influencer_followers: 50_000,
        }
    }
}
