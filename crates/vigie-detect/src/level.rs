//! The crisis-level rules: from a closed bucket's figures and signals to a level 0–3, with
//! hysteresis (up at once, down one level per cool-down).

use crate::SIGNAL_MIN_SCORE;
use crate::audience::AudienceStats;
use crate::clock::Cadence;
use crate::volume::WindowStats;
use serde::{Deserialize, Serialize};
use vigie_model::{CrisisLevel, DetectionSettings, Signal, SignalKind};

/// Score from which a volume spike or negative surge means vigilance (p ≤ 1e-4).
pub const VIGILANCE_SCORE: f64 = 4.0;
/// Score from which a negative surge can mean alert (p ≤ 1e-6).
pub const ALERT_SCORE: f64 = 6.0;
/// Consecutive closed buckets with crisis conditions needed for level 3.
pub const CRISIS_SUSTAIN_BUCKETS: u32 = 2;
/// After a level 2 or 3, pattern changes do not raise vigilance for this long: the day
/// after a crisis looks like no earlier day, which the team knows.
pub const PATTERN_AFTERMATH_MS: i64 = 48 * 3_600_000;
/// Recent influencer signals kept for the rules and explanations.
const MAX_RECENT_INFLUENCERS: usize = 16;

/// The thresholds of the level rules (defaults: the tuned values; drills and backtests can
/// try others through `DetectorConfig::levels`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelRules {
    /// Score from which a volume spike, negative surge or others-speak signal means
    /// vigilance. Default [`VIGILANCE_SCORE`].
    pub vigilance_score: f64,
    /// Score from which a negative surge can mean alert. Default [`ALERT_SCORE`].
    pub alert_score: f64,
    /// Score the number of distinct negative voices must reach for an alert. Default
    /// [`SIGNAL_MIN_SCORE`](crate::SIGNAL_MIN_SCORE).
    pub voices_score: f64,
}

impl Default for LevelRules {
    fn default() -> Self {
        Self {
            vigilance_score: VIGILANCE_SCORE,
            alert_score: ALERT_SCORE,
            voices_score: SIGNAL_MIN_SCORE,
        }
    }
}

impl LevelRules {
    /// Every score positive and vigilance ≤ alert.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("vigilance_score", self.vigilance_score),
            ("alert_score", self.alert_score),
            ("voices_score", self.voices_score),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} must be a positive number, got {v}"));
            }
        }
        if self.vigilance_score > self.alert_score {
            return Err(format!(
                "vigilance_score ({}) must not exceed alert_score ({})",
                self.vigilance_score, self.alert_score
            ));
        }
        Ok(())
    }
}

/// What one closed bucket brings to the rules.
#[derive(Debug, Clone, Copy)]
pub struct BucketFacts<'a> {
    /// End of the bucket (and of the window), epoch ms.
    pub end_ms: i64,
    /// After the warm-up.
    pub warm: bool,
    /// Volume figures of the window.
    pub volume: &'a WindowStats,
    /// Audience figures of the window.
    pub audience: &'a AudienceStats,
    /// A post was flagged viral within the window: (any tone, negative tone).
    pub viral: (bool, bool),
    /// The window's shared complaint (its best term).
    pub complaint: &'a crate::complaint::ComplaintStats,
    /// Signals raised since the previous closed bucket (including this bucket's).
    pub signals: &'a [Signal],
}

/// Which rule held on the last evaluated bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCheck {
    /// A volume spike, negative surge, others-speak or influencer signal is strong enough.
    pub vigilance: bool,
    /// A strong negative surge with enough negative mentions.
    pub alert: bool,
    /// Alert conditions plus spread (many authors, an influencer, or others speaking).
    pub crisis_conditions: bool,
}

/// A level change decided by the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Level before.
    pub from: CrisisLevel,
    /// Level after.
    pub to: CrisisLevel,
    /// A step down after a cool-down without support.
    pub cooled_down: bool,
}

/// The level of a watch and what the hysteresis needs to remember.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LevelState {
    /// Current level.
    pub level: CrisisLevel,
    /// When the current level was entered.
    pub since_ms: Option<i64>,
    /// Last bucket whose signals supported the current level (target ≥ level).
    pub last_support_ms: Option<i64>,
    /// Consecutive buckets with crisis conditions.
    pub crisis_streak: u32,
    /// Influencer signals of the last window.
    pub recent_influencers: Vec<Signal>,
    /// Rules of the last evaluated bucket.
    pub last_check: RuleCheck,
    /// End of the last bucket evaluated at level 2 or 3.
    #[serde(default)]
    pub last_alert_ms: Option<i64>,
}

fn max_score(signals: &[Signal], kind: SignalKind) -> f64 {
    signals
        .iter()
        .filter(|s| s.kind == kind)
        .map(|s| s.score)
        .fold(0.0, f64::max)
}

impl LevelState {
    /// Applies the rules to one closed bucket; returns the change, if any.
    ///
    /// - 1 vigilance: a volume spike, negative surge or `OthersSpeakForYou` with score ≥
    ///   [`VIGILANCE_SCORE`](crate::VIGILANCE_SCORE), or an influencer joined within the window
    ///   who has at least `influencer_followers` followers, or any influencer (verified) while
    ///   negative mentions score ≥ [`SIGNAL_MIN_SCORE`](crate::SIGNAL_MIN_SCORE), or an
    ///   emerging topic (`BurstyTopic` ≥ [`VIGILANCE_SCORE`](crate::VIGILANCE_SCORE)), or a
    ///   pattern change of the volume (`PatternChange` ≥ [`VIGILANCE_SCORE`](crate::VIGILANCE_SCORE))
    ///   except in the [`PATTERN_AFTERMATH_MS`] after a level 2 or 3, or a post forecast to go
    ///   viral whatever its tone;
    /// - 2 alert: a negative surge with score ≥ [`ALERT_SCORE`](crate::ALERT_SCORE), at least
    ///   `min_negative_for_alert` negative mentions in the window written by as many distinct
    ///   voices (plain reposts do not count) whose number is itself improbable (score ≥
    ///   [`SIGNAL_MIN_SCORE`](crate::SIGNAL_MIN_SCORE)), or a shared complaint (several
    ///   distinct negative voices on one uncommon term, `complaint.rs`) scoring ≥
    ///   [`ALERT_SCORE`](crate::ALERT_SCORE) while the negative surge scores ≥
    ///   [`VIGILANCE_SCORE`](crate::VIGILANCE_SCORE), or a negative post forecast to go
    ///   viral;
    /// - 3 crisis: alert conditions and (distinct authors ≥ `min_authors_for_crisis`, or an
    ///   influencer joined within the window, or others speak for you with score ≥
    ///   [`VIGILANCE_SCORE`](crate::VIGILANCE_SCORE)), on
    ///   [`CRISIS_SUSTAIN_BUCKETS`](crate::CRISIS_SUSTAIN_BUCKETS) consecutive buckets.
    ///
    /// Nothing above calm during the warm-up. The level rises at once to the target, possibly
    /// by several levels; it falls by one level once `cool_down_minutes` passed without a
    /// bucket whose target reaches the current level, and each further step waits again.
    pub fn evaluate(
        &mut self,
        facts: &BucketFacts<'_>,
        settings: &DetectionSettings,
        cadence: &Cadence,
        rules: &LevelRules,
    ) -> Option<Step> {
        let horizon = facts.end_ms.saturating_sub(cadence.window_ms);
        self.recent_influencers
            .retain(|s| s.at.as_millis() > horizon);
        for s in facts.signals {
            if s.kind == SignalKind::InfluencerJoined && s.at.as_millis() > horizon {
                self.recent_influencers.push(s.clone());
            }
        }
        let excess = self
            .recent_influencers
            .len()
            .saturating_sub(MAX_RECENT_INFLUENCERS);
        self.recent_influencers.drain(..excess);

        let volume = max_score(facts.signals, SignalKind::VolumeSpike);
        let negative = max_score(facts.signals, SignalKind::NegativeSurge);
        let others =
            max_score(facts.signals, SignalKind::OthersSpeakForYou) >= rules.vigilance_score;
        let influencer = !self.recent_influencers.is_empty();
        // One complaint from a verified but mid-sized account is not worth waking anyone:
        // an influencer raises vigilance alone only with a large audience, otherwise when
        // negative mentions are already above their baseline.
        let big_influencer = self
            .recent_influencers
            .iter()
            .any(|s| s.observed >= settings.influencer_followers as f64);
        let influencer_vigilance = big_influencer || (influencer && negative >= SIGNAL_MIN_SCORE);
        let topic = max_score(facts.signals, SignalKind::BurstyTopic) >= rules.vigilance_score;
        let aftermath = self
            .last_alert_ms
            .is_some_and(|t| facts.end_ms.saturating_sub(t) < PATTERN_AFTERMATH_MS);
        let pattern = !aftermath
            && max_score(facts.signals, SignalKind::PatternChange) >= rules.vigilance_score;
        let (viral_any, viral_negative) = facts.viral;
        let vigilance = volume >= rules.vigilance_score
            || negative >= rules.vigilance_score
            || others
            || influencer_vigilance
            || topic
            || pattern
            || facts.complaint.score >= rules.vigilance_score
            || viral_any;
        // A complaint forecast to go viral is an alert on its own: "one complainer stays at
        // 0–1 unless their post goes viral".
        // Negative mentions must come from enough distinct people writing their own words:
        // a bot network or a reposted complaint is not a wave of voices.
        // Several voices complaining about the same uncommon thing, while negative mentions
        // as a whole are above their baseline.
        let complaint =
            facts.complaint.score >= rules.alert_score && negative >= rules.vigilance_score;
        let alert = complaint
            || (negative >= rules.alert_score
                && facts.volume.negative >= u64::from(settings.min_negative_for_alert)
                && facts.audience.negative_voices >= u64::from(settings.min_negative_for_alert)
                && facts.audience.voices_score >= rules.voices_score)
            || viral_negative;
        let spread = facts.audience.distinct_authors >= u64::from(settings.min_authors_for_crisis)
            || influencer
            || others;
        let crisis_conditions = alert && spread;
        self.crisis_streak = if crisis_conditions {
            self.crisis_streak.saturating_add(1)
        } else {
            0
        };
        self.last_check = RuleCheck {
            vigilance,
            alert,
            crisis_conditions,
        };
        let target = if !facts.warm {
            CrisisLevel::Calm
        } else if crisis_conditions && self.crisis_streak >= CRISIS_SUSTAIN_BUCKETS {
            CrisisLevel::Crisis
        } else if alert {
            CrisisLevel::Alert
        } else if vigilance {
            CrisisLevel::Vigilance
        } else {
            CrisisLevel::Calm
        };

        let from = self.level;
        if target.max(from) >= CrisisLevel::Alert {
            self.last_alert_ms = Some(facts.end_ms);
        }
        if target > CrisisLevel::Calm && target >= from {
            self.last_support_ms = Some(facts.end_ms);
        }
        if target > from {
            self.level = target;
            self.since_ms = Some(facts.end_ms);
            return Some(Step {
                from,
                to: target,
                cooled_down: false,
            });
        }
        if target < from {
            let last = self
                .last_support_ms
                .or(self.since_ms)
                .unwrap_or(facts.end_ms);
            if facts.end_ms.saturating_sub(last) >= cadence.cool_down_ms {
                let to = CrisisLevel::from_u8(from.as_u8().saturating_sub(1));
                self.level = to;
                self.since_ms = Some(facts.end_ms);
                // The next step down waits a full cool-down again.
                self.last_support_ms = Some(facts.end_ms);
                return Some(Step {
                    from,
                    to,
                    cooled_down: true,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_model::{Timestamp, WatchId, WorkspaceId};

    fn sig(kind: SignalKind, score: f64, at: i64) -> Signal {
        Signal {
            workspace: WorkspaceId::new("w").unwrap(),
            watch: WatchId::new("x").unwrap(),
            at: Timestamp::from_millis(at),
            kind,
            score,
            observed: 0.0,
            expected: 0.0,
            detail: String::new(),
        }
    }

    struct Case {
        state: LevelState,
        settings: DetectionSettings,
        cadence: Cadence,
        t: i64,
        viral: (bool, bool),
    }

    impl Case {
        fn new() -> Self {
            let settings = DetectionSettings::default();
            Self {
                state: LevelState::default(),
                cadence: Cadence::new(&settings),
                settings,
                t: 0,
                viral: (false, false),
            }
        }
        fn bucket(&mut self, negative: u64, authors: u64, signals: &[Signal]) -> Option<Step> {
            self.t += 300_000;
            let v = WindowStats {
                negative,
                ..Default::default()
            };
            let a = AudienceStats {
                distinct_authors: authors,
                negative_voices: negative.min(authors),
                voices_score: if negative >= 10 { 8.0 } else { 0.0 },
                ..Default::default()
            };
            let complaint = crate::complaint::ComplaintStats::default();
            let facts = BucketFacts {
                end_ms: self.t,
                warm: true,
                volume: &v,
                audience: &a,
                viral: self.viral,
                complaint: &complaint,
                signals,
            };
            self.state.evaluate(
                &facts,
                &self.settings,
                &self.cadence,
                &LevelRules::default(),
            )
        }
    }

    #[test]
    fn steps_up_at_once_and_crisis_needs_two_buckets() {
        let mut c = Case::new();
        assert_eq!(c.bucket(0, 3, &[]), None);
        let surge = [sig(SignalKind::NegativeSurge, 12.0, 0)];
        let s = c.bucket(40, 50, &surge).unwrap();
        assert_eq!((s.from, s.to), (CrisisLevel::Calm, CrisisLevel::Alert));
        let s = c.bucket(60, 80, &surge).unwrap();
        assert_eq!(s.to, CrisisLevel::Crisis);
    }

    #[test]
    fn moderate_scores_mean_vigilance_and_few_negatives_no_alert() {
        let mut c = Case::new();
        let s = c
            .bucket(3, 3, &[sig(SignalKind::VolumeSpike, 4.5, 0)])
            .unwrap();
        assert_eq!(s.to, CrisisLevel::Vigilance);
        // A strong surge of only 5 negative mentions stays below alert.
        assert_eq!(
            c.bucket(5, 5, &[sig(SignalKind::NegativeSurge, 9.0, 0)]),
            None
        );
        assert_eq!(c.state.level, CrisisLevel::Vigilance);
        assert_eq!(
            c.bucket(2, 2, &[sig(SignalKind::VolumeSpike, 3.2, 0)]),
            None
        );
    }

    #[test]
    fn steps_down_one_level_per_cool_down() {
        let mut c = Case::new();
        let surge = [sig(SignalKind::NegativeSurge, 12.0, 0)];
        c.bucket(40, 50, &surge);
        c.bucket(40, 50, &surge);
        assert_eq!(c.state.level, CrisisLevel::Crisis);
        let mut downs = Vec::new();
        for i in 0..60 {
            if let Some(s) = c.bucket(0, 1, &[]) {
                assert!(s.cooled_down);
                downs.push((i, s.to));
            }
        }
        // 60-minute cool-down with 5-minute buckets: a step every 12 buckets.
        assert_eq!(
            downs,
            vec![
                (11, CrisisLevel::Alert),
                (23, CrisisLevel::Vigilance),
                (35, CrisisLevel::Calm)
            ]
        );
    }

    #[test]
    fn flapping_does_not_spam_changes() {
        let mut c = Case::new();
        let spike = [sig(SignalKind::VolumeSpike, 5.0, 0)];
        let mut changes = 0;
        for i in 0..48u32 {
            let signals: &[Signal] = if i.is_multiple_of(2) { &spike } else { &[] };
            changes += usize::from(c.bucket(0, 1, signals).is_some());
        }
        assert_eq!(changes, 1);
    }

    #[test]
    fn influencer_counts_for_the_window_only() {
        let mut c = Case::new();
        let mut joined = sig(SignalKind::InfluencerJoined, 3.0, 200_000);
        joined.observed = 250_000.0; // followers
        let inf = [joined];
        let s = c.bucket(0, 1, &inf).unwrap();
        assert_eq!(s.to, CrisisLevel::Vigilance);
        for _ in 0..7 {
            c.bucket(0, 1, &[]);
        }
        assert!(c.state.recent_influencers.is_empty());
        assert!(!c.state.last_check.vigilance);
    }

    #[test]
    fn a_mid_sized_verified_author_alone_is_not_vigilance() {
        let mut c = Case::new();
        let mut joined = sig(SignalKind::InfluencerJoined, 3.0, 200_000);
        joined.observed = 14_000.0; // verified, below influencer_followers
        assert_eq!(c.bucket(0, 1, &[joined.clone()]), None);
        // The same author while negative mentions are already unusual: vigilance.
        let surge = sig(SignalKind::NegativeSurge, 3.5, 200_000);
        let s = c.bucket(0, 1, &[joined, surge]).unwrap();
        assert_eq!(s.to, CrisisLevel::Vigilance);
    }

    #[test]
    fn a_viral_complaint_is_an_alert_and_a_viral_campaign_vigilance() {
        let mut c = Case::new();
        c.viral = (true, false);
        let s = c.bucket(0, 1, &[]).unwrap();
        assert_eq!(s.to, CrisisLevel::Vigilance);
        c.viral = (true, true);
        let s = c.bucket(2, 40, &[]).unwrap();
        assert_eq!(s.to, CrisisLevel::Alert);
        // Spread (many authors) on a second bucket: crisis.
        let s = c.bucket(2, 40, &[]).unwrap();
        assert_eq!(s.to, CrisisLevel::Crisis);
    }

    #[test]
    fn an_emerging_topic_alone_is_vigilance() {
        let mut c = Case::new();
        let s = c
            .bucket(0, 5, &[sig(SignalKind::BurstyTopic, 9.0, 0)])
            .unwrap();
        assert_eq!(s.to, CrisisLevel::Vigilance);
    }

    #[test]
    fn a_pattern_change_is_vigilance_except_in_the_aftermath_of_an_alert() {
        let mut c = Case::new();
        let s = c
            .bucket(0, 5, &[sig(SignalKind::PatternChange, 5.0, 0)])
            .unwrap();
        assert_eq!(s.to, CrisisLevel::Vigilance);
        let mut c = Case::new();
        let surge = sig(SignalKind::NegativeSurge, 9.0, 0);
        assert_eq!(c.bucket(20, 20, &[surge]).unwrap().to, CrisisLevel::Alert);
        // Back to calm after the cool-downs; a day later the volume still looks unusual.
        for _ in 0..(24 * 12) {
            c.bucket(0, 2, &[]);
        }
        assert_eq!(c.state.level, CrisisLevel::Calm);
        let pattern = sig(SignalKind::PatternChange, 5.0, 0);
        assert_eq!(c.bucket(0, 5, std::slice::from_ref(&pattern)), None);
        for _ in 0..(26 * 12) {
            c.bucket(0, 2, &[]);
        }
        assert_eq!(
            c.bucket(0, 5, &[pattern]).unwrap().to,
            CrisisLevel::Vigilance
        );
    }

    #[test]
    fn a_shared_complaint_is_an_alert_only_with_negative_mentions_up() {
        let settings = DetectionSettings::default();
        let cadence = Cadence::new(&settings);
        let v = WindowStats::default();
        let a = AudienceStats::default();
        let complaint = crate::complaint::ComplaintStats {
            term: "preleve".into(),
            voices: 6,
            expected: 0.1,
            score: 7.0,
        };
        let level = |signals: &[Signal]| {
            let mut st = LevelState::default();
            let facts = BucketFacts {
                end_ms: 300_000,
                warm: true,
                volume: &v,
                audience: &a,
                viral: (false, false),
                complaint: &complaint,
                signals,
            };
            st.evaluate(&facts, &settings, &cadence, &LevelRules::default());
            st.level
        };
        assert_eq!(level(&[]), CrisisLevel::Vigilance);
        assert_eq!(
            level(&[sig(SignalKind::NegativeSurge, 4.5, 0)]),
            CrisisLevel::Alert
        );
    }

    #[test]
    fn nothing_during_warm_up() {
        let mut c = Case::new();
        let v = WindowStats {
            negative: 100,
            ..Default::default()
        };
        let a = AudienceStats::default();
        let signals = [sig(SignalKind::NegativeSurge, 50.0, 0)];
        let complaint = crate::complaint::ComplaintStats::default();
        let facts = BucketFacts {
            end_ms: 300_000,
            warm: false,
            volume: &v,
            audience: &a,
            viral: (false, false),
            complaint: &complaint,
            signals: &signals,
        };
        assert_eq!(
            c.state
                .evaluate(&facts, &c.settings, &c.cadence, &LevelRules::default()),
            None
        );
    }
}

#[cfg(test)]
mod rules_tests {
    use super::LevelRules;
    use crate::DetectorConfig;

    #[test]
    fn level_rules_default_to_the_tuned_constants_and_reject_nonsense() {
        let d = LevelRules::default();
        assert_eq!(d.vigilance_score, super::VIGILANCE_SCORE);
        assert_eq!(d.alert_score, super::ALERT_SCORE);
        assert!(d.validate().is_ok());
        let inverted = LevelRules {
            vigilance_score: 7.0,
            ..d
        };
        let err = inverted.validate().unwrap_err();
        assert!(err.contains("vigilance_score (7)"), "{err}");
        let nan = LevelRules {
            alert_score: f64::NAN,
            ..d
        };
        assert!(nan.validate().unwrap_err().contains("alert_score"));
    }

    #[test]
    fn detector_settings_files_may_set_only_the_level_rules() {
        let c: DetectorConfig =
            serde_json::from_str(r#"{"levels": {"alert_score": 5.0}}"#).unwrap();
        assert_eq!(c.levels.alert_score, 5.0);
        assert_eq!(c.levels.vigilance_score, super::VIGILANCE_SCORE);
        assert_eq!(c.burst, DetectorConfig::default().burst);
        let bad = serde_json::from_str::<DetectorConfig>(r#"{"levels": {"alert": 5.0}}"#);
        assert!(bad.unwrap_err().to_string().contains("unknown field"));
        let c: DetectorConfig =
            serde_json::from_str(r#"{"levels": {"vigilance_score": 9.0}}"#).unwrap();
        assert!(c.validate().unwrap_err().starts_with("levels: "));
    }
}
