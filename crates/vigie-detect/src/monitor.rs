//! One watch's monitor: detectors, evidence, level rules and explanations.

use crate::audience::{AudienceDetector, AudienceStats};
use crate::bursty::{BurstConfig, BurstDetector};
use crate::clock::{BucketClock, Cadence, MAX_FILL_BUCKETS};
use crate::complaint::{ComplaintConfig, ComplaintDetector};
use crate::evidence::Evidence;
use crate::level::{BucketFacts, LevelState, Step};
use crate::pattern::{PatternConfig, PatternDetector};
use crate::text::compact_number;
use crate::viral::{ViralConfig, ViralDetector};
use crate::volume::{VolumeDetector, WindowStats};
use crate::{DetectError, Detector};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use vigie_model::{
    CrisisLevel, DetectionSettings, EnrichedMention, Explanation, LevelChange, Signal, SignalKind,
    Timestamp, WatchId, WorkspaceId,
};

/// What a monitor produced for one call (or several, until cleared).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonitorOutput {
    /// Detector signals, in the order they were raised.
    pub signals: Vec<Signal>,
    /// Level changes, each with its explanation.
    pub level_changes: Vec<LevelChange>,
}

impl MonitorOutput {
    /// Empties both lists, keeping their capacity.
    pub fn clear(&mut self) {
        self.signals.clear();
        self.level_changes.clear();
    }

    /// Nothing was produced.
    pub fn is_empty(&self) -> bool {
        self.signals.is_empty() && self.level_changes.is_empty()
    }
}

/// Settings of the detectors that `DetectionSettings` does not cover (their defaults are
/// the tuned values; see `docs/design/detection.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectorConfig {
    /// Bursty terms and topics.
    pub burst: BurstConfig,
    /// Viral posts.
    pub viral: ViralConfig,
    /// Thresholds of the level rules.
    #[serde(default)]
    pub levels: crate::level::LevelRules,
    /// Pattern novelty of the volume.
    pub pattern: PatternConfig,
    /// Shared complaints.
    pub complaint: ComplaintConfig,
}

impl DetectorConfig {
    /// Checks every part; the message names the part and the field.
    pub fn validate(&self) -> Result<(), String> {
        self.burst.validate().map_err(|e| format!("burst: {e}"))?;
        self.levels.validate().map_err(|e| format!("levels: {e}"))?;
        self.pattern
            .validate()
            .map_err(|e| format!("pattern: {e}"))?;
        self.complaint
            .validate()
            .map_err(|e| format!("complaint: {e}"))?;
        self.viral.validate().map_err(|e| format!("viral: {e}"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MonitorState {
    version: u64,
    clock: BucketClock,
    volume: serde_json::Value,
    audience: serde_json::Value,
    /// Absent in states saved before the bursty and viral detectors: they start fresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bursty: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    viral: Option<serde_json::Value>,
    /// Absent in states saved before the pattern detector: it starts without history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pattern: Option<serde_json::Value>,
    /// Absent in states saved before the shared-complaint detector: it starts fresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    complaint: Option<serde_json::Value>,
    evidence: Evidence,
    level: LevelState,
    pending: Vec<Signal>,
}

const STATE_VERSION: u64 = 1;

/// The detection of one watch: feed it the watch's mentions in roughly publication order and
/// tick it as event time advances; read signals and level changes from [`MonitorOutput`].
///
/// On every closed bucket the detectors evaluate their window, then the level rules
/// (see [`VIGILANCE_SCORE`](crate::VIGILANCE_SCORE) and `docs/design/detection.md`) decide the level; each change carries an
/// [`Explanation`] built from the window's figures and evidence.
#[derive(Debug, Clone)]
pub struct WatchMonitor {
    workspace: WorkspaceId,
    watch: WatchId,
    settings: DetectionSettings,
    cadence: Cadence,
    clock: BucketClock,
    volume: VolumeDetector,
    audience: AudienceDetector,
    bursty: BurstDetector,
    viral: ViralDetector,
    pattern: PatternDetector,
    complaint: ComplaintDetector,
    evidence: Evidence,
    level: LevelState,
    /// Thresholds of the level rules.
    rules: crate::level::LevelRules,
    /// Signals raised by mentions since the last closed bucket.
    pending: Vec<Signal>,
    scratch: Vec<Signal>,
}

impl WatchMonitor {
    /// The viral-post detector (its forecasts, for evaluations).
    pub fn viral(&self) -> &ViralDetector {
        &self.viral
    }

    /// A monitor for one watch of a workspace.
    pub fn new(workspace: WorkspaceId, watch: WatchId, settings: &DetectionSettings) -> Self {
        Self::with_config(workspace, watch, settings, &DetectorConfig::default())
    }

    /// A monitor with explicit detector settings (drills, backtests, tuning).
    pub fn with_config(
        workspace: WorkspaceId,
        watch: WatchId,
        settings: &DetectionSettings,
        config: &DetectorConfig,
    ) -> Self {
        let cadence = Cadence::new(settings);
        Self {
            volume: VolumeDetector::new(workspace.clone(), watch.clone(), settings),
            audience: AudienceDetector::new(workspace.clone(), watch.clone(), settings),
            bursty: BurstDetector::new(workspace.clone(), watch.clone(), settings, &config.burst),
            viral: ViralDetector::new(workspace.clone(), watch.clone(), settings, &config.viral),
            pattern: PatternDetector::new(workspace.clone(), watch.clone(), &config.pattern),
            complaint: ComplaintDetector::new(
                workspace.clone(),
                watch.clone(),
                settings,
                &config.complaint,
            ),
            evidence: Evidence::new(cadence.window_buckets),
            clock: BucketClock::new(cadence.bucket_minutes),
            level: LevelState::default(),
            rules: config.levels,
            pending: Vec::new(),
            scratch: Vec::new(),
            workspace,
            watch,
            settings: settings.clone(),
            cadence,
        }
    }

    /// The workspace.
    pub fn workspace(&self) -> &WorkspaceId {
        &self.workspace
    }

    /// The watch.
    pub fn watch(&self) -> &WatchId {
        &self.watch
    }

    /// The current crisis level.
    pub fn level(&self) -> CrisisLevel {
        self.level.level
    }

    /// Volume figures of the last closed window.
    pub fn volume_stats(&self) -> &WindowStats {
        self.volume.window_stats()
    }

    /// Audience figures of the last closed window.
    pub fn audience_stats(&self) -> &AudienceStats {
        self.audience.window_stats()
    }

    /// Takes one mention of this watch. Buckets before its publication time close first
    /// (their signals and level changes go to `out`); a late mention counts in the open bucket.
    pub fn observe(&mut self, m: &EnrichedMention, out: &mut MonitorOutput) {
        let t = m.event_time();
        if !self.clock.start(t) {
            self.advance_to(t, out);
        }
        self.scratch.clear();
        self.volume.observe(m, &mut self.scratch);
        self.audience.observe(m, &mut self.scratch);
        self.bursty.observe(m, &mut self.scratch);
        self.viral.observe(m, &mut self.scratch);
        self.complaint.observe(m, &mut self.scratch);
        self.evidence.observe(m);
        for s in self.scratch.drain(..) {
            self.pending.push(s.clone());
            out.signals.push(s);
        }
    }

    /// Event time reached `now`: closes every bucket ending at or before it.
    pub fn tick(&mut self, now: Timestamp, out: &mut MonitorOutput) {
        self.advance_to(now, out);
    }

    /// The explanation of the current state (the last closed window), e.g. for a dashboard.
    pub fn explanation(&self) -> Explanation {
        let mut signals = self.level.recent_influencers.clone();
        signals.extend(self.pending.iter().cloned());
        self.explain(&signals, None)
    }

    fn advance_to(&mut self, now: Timestamp, out: &mut MonitorOutput) {
        let due = self.clock.due(now);
        let steps = due.min(MAX_FILL_BUCKETS);
        for _ in 0..steps {
            self.close_one(out);
        }
        if due > steps {
            self.clock.jump_to(now);
            self.volume.jump_to(now);
            self.audience.jump_to(now);
            self.bursty.jump_to(now);
            self.viral.jump_to(now);
            self.complaint.jump_to(now);
            self.pattern.gap();
        }
    }

    fn close_one(&mut self, out: &mut MonitorOutput) {
        let Some(end) = self.clock.open_end_ms() else {
            return;
        };
        self.scratch.clear();
        self.volume.close_one(&mut self.scratch);
        if let Some((all, negative)) = self.volume.last_bucket() {
            let start = end.saturating_sub(self.cadence.bucket_ms);
            self.pattern.bucket(start, all, negative, &mut self.scratch);
        }
        self.audience.close_one(&mut self.scratch);
        self.bursty.close_one(&mut self.scratch);
        self.viral.close_one(&mut self.scratch);
        self.complaint.close_one(&mut self.scratch);
        self.evidence.close_one();
        self.clock.advance();
        let mut signals = std::mem::take(&mut self.pending);
        signals.extend(self.scratch.iter().cloned());
        out.signals.append(&mut self.scratch);
        let facts = BucketFacts {
            end_ms: end,
            warm: self.clock.is_warm(end, self.cadence.warmup_ms),
            volume: self.volume.window_stats(),
            audience: self.audience.window_stats(),
            viral: self.viral.recent_flags(end),
            complaint: self.complaint.window_stats(),
            signals: &signals,
        };
        if let Some(step) = self
            .level
            .evaluate(&facts, &self.settings, &self.cadence, &self.rules)
        {
            let mut led: Vec<Signal> = signals
                .iter()
                .filter(|s| s.kind != SignalKind::InfluencerJoined)
                .cloned()
                .collect();
            led.extend(self.level.recent_influencers.iter().cloned());
            let explanation = self.explain(&led, Some(step));
            out.level_changes.push(LevelChange {
                workspace: self.workspace.clone(),
                watch: self.watch.clone(),
                at: Timestamp::from_millis(end),
                from: step.from,
                to: step.to,
                explanation,
            });
        }
    }

    fn explain(&self, signals: &[Signal], step: Option<Step>) -> Explanation {
        let v = self.volume.window_stats();
        let a = self.audience.window_stats();
        let ev = self.evidence.snapshot();
        let minutes = self.cadence.window_minutes;
        let mut summary = String::new();
        if let Some(s) = step.filter(|s| s.cooled_down) {
            let _ = write!(
                summary,
                "Down to {}: no signal supporting {} for {} min; ",
                s.to.as_str(),
                s.from.as_str(),
                self.settings.cool_down_minutes
            );
        }
        let _ = write!(
            summary,
            "{} mentions in {minutes} min vs {:.1} expected; {} negative ({:.1} expected); {} distinct authors; {:.0}% from others",
            v.mentions,
            v.expected_mentions,
            v.negative,
            v.expected_negative,
            a.distinct_authors,
            a.others_share * 100.0
        );
        if let Some(tag) = ev.top_hashtags.first() {
            let _ = write!(summary, "; {} ×{}", tag.term, tag.count);
        }
        if let Some(topic) = signals
            .iter()
            .filter(|s| s.kind == SignalKind::BurstyTopic)
            .max_by(|a, b| a.score.total_cmp(&b.score))
        {
            let terms: Vec<&str> = topic
                .detail
                .split(", ")
                .filter_map(|t| t.split(" (").next())
                .take(4)
                .collect();
            let _ = write!(summary, "; emerging topic: {}", terms.join(", "));
        }
        if let Some(v) = signals
            .iter()
            .filter(|s| s.kind == SignalKind::ViralPost)
            .max_by(|a, b| a.expected.total_cmp(&b.expected))
        {
            let forecast = if v.expected >= crate::MAX_FORECAST {
                "unbounded".to_owned()
            } else {
                compact_number(v.expected.max(0.0) as u64)
            };
            let _ = write!(
                summary,
                "; a post is going viral ({} reshares, forecast {forecast})",
                v.observed.max(0.0) as u64
            );
        }
        let c = self.complaint.window_stats();
        if c.score >= crate::SIGNAL_MIN_SCORE {
            let _ = write!(
                summary,
                "; shared complaint: “{}” from {} negative voices ({:.2} expected)",
                c.term, c.voices, c.expected
            );
        }
        if let Some(p) = signals
            .iter()
            .filter(|s| s.kind == SignalKind::PatternChange)
            .max_by(|a, b| a.score.total_cmp(&b.score))
        {
            let _ = write!(summary, "; pattern change: {}", p.detail);
        }
        for s in signals
            .iter()
            .filter(|s| s.kind == SignalKind::InfluencerJoined)
            .take(2)
        {
            let followers = s.observed.max(0.0) as u64;
            let handle = s.detail.split_whitespace().next().unwrap_or("");
            let _ = write!(
                summary,
                "; {handle} ({} followers) joined",
                compact_number(followers)
            );
        }
        Explanation {
            summary,
            window_minutes: minutes,
            mentions: v.mentions,
            expected_mentions: v.expected_mentions,
            negative: v.negative,
            expected_negative: v.expected_negative,
            distinct_authors: a.distinct_authors,
            others_share: a.others_share,
            signals: signals.to_vec(),
            top_terms: ev.top_terms,
            top_hashtags: ev.top_hashtags,
            top_authors: ev.top_authors,
            samples: ev.samples,
        }
    }

    /// Everything needed to continue after a restart: detectors, evidence, level, as JSON.
    pub fn state(&self) -> serde_json::Value {
        let st = MonitorState {
            version: STATE_VERSION,
            clock: self.clock,
            volume: self.volume.state(),
            audience: self.audience.state(),
            bursty: Some(self.bursty.state()),
            viral: Some(self.viral.state()),
            pattern: Some(self.pattern.state()),
            complaint: Some(self.complaint.state()),
            evidence: self.evidence.clone(),
            level: self.level.clone(),
            pending: self.pending.clone(),
        };
        serde_json::to_value(&st).unwrap_or_default()
    }

    /// Continues from a saved [`WatchMonitor::state`]. On error the monitor is unchanged; the
    /// caller typically logs it and starts fresh (a new warm-up).
    pub fn restore(&mut self, v: &serde_json::Value) -> Result<(), DetectError> {
        let st = MonitorState::deserialize(v).map_err(|e| DetectError::InvalidState {
            detector: "monitor",
            reason: e.to_string(),
        })?;
        let saved_bucket_minutes = u32::try_from(st.clock.bucket_ms / 60_000).unwrap_or(0);
        self.cadence.check_saved(
            "monitor",
            (st.version, STATE_VERSION),
            (saved_bucket_minutes, st.evidence.window_buckets()),
            st.clock.bucket_ms % 60_000 == 0,
        )?;
        let mut volume = self.volume.clone();
        volume.restore(&st.volume)?;
        let mut audience = self.audience.clone();
        audience.restore(&st.audience)?;
        let mut bursty = self.bursty.clone();
        let mut viral = self.viral.clone();
        match (&st.bursty, &st.viral) {
            (Some(b), Some(v)) => {
                bursty.restore(b)?;
                viral.restore(v)?;
            }
            // Saved before these detectors existed: they start fresh, with the monitor's
            // history (so no second warm-up).
            _ => {
                bursty.start_at(st.clock);
                viral.start_at(st.clock);
            }
        }
        let mut pattern = self.pattern.clone();
        if let Some(p) = &st.pattern {
            pattern.restore(p)?;
        }
        let mut complaint = self.complaint.clone();
        match &st.complaint {
            Some(c) => complaint.restore(c)?,
            None => complaint.start_at(st.clock),
        }
        self.volume = volume;
        self.audience = audience;
        self.bursty = bursty;
        self.viral = viral;
        self.pattern = pattern;
        self.complaint = complaint;
        self.clock = st.clock;
        self.evidence = st.evidence;
        self.level = st.level;
        self.pending = st.pending;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{mention, settings};
    use vigie_model::SentimentLabel;

    fn monitor(s: &DetectionSettings) -> WatchMonitor {
        WatchMonitor::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            s,
        )
    }

    #[test]
    fn output_helpers() {
        let mut out = MonitorOutput::default();
        assert!(out.is_empty());
        let mut m = monitor(&settings());
        m.observe(&mention(0, "a", SentimentLabel::Neutral, 1), &mut out);
        m.tick(Timestamp::from_millis(3_600_000), &mut out);
        out.clear();
        assert!(out.is_empty());
        assert_eq!(m.volume_stats().mentions, 0);
        assert_eq!(m.level(), CrisisLevel::Calm);
        assert_eq!(m.watch().as_str(), "x");
        assert_eq!(m.workspace().as_str(), "w");
    }

    #[test]
    fn explanation_describes_the_window() {
        let s = DetectionSettings {
            warmup_minutes: 0,
            ..settings()
        };
        let mut m = monitor(&s);
        let mut out = MonitorOutput::default();
        for i in 0..40 {
            let mut x = mention(
                i * 5_000,
                &format!("u{i}"),
                SentimentLabel::Negative,
                100 + i as u64,
            );
            x.mention.text = "Rappel produit: lait contaminé, honte à la marque".into();
            x.enrichment.hashtags = vec!["boycottbrand".into()];
            m.observe(&x, &mut out);
        }
        m.tick(Timestamp::from_millis(300_000), &mut out);
        let e = m.explanation();
        assert_eq!(e.mentions, 40);
        assert_eq!(e.negative, 40);
        assert_eq!(e.distinct_authors, 40);
        assert_eq!(e.window_minutes, 30);
        assert!((e.others_share - 1.0).abs() < 1e-12);
        assert_eq!(e.top_hashtags[0].term, "#boycottbrand");
        assert!(
            e.top_terms
                .iter()
                .any(|t| t.term == "contamine" && t.count == 40)
        );
        assert_eq!(e.top_authors[0].handle, "u39");
        assert_eq!(e.samples.len(), 5);
        assert!(
            e.summary.starts_with("40 mentions in 30 min vs "),
            "{}",
            e.summary
        );
        assert!(e.summary.contains("40 negative") && e.summary.contains("#boycottbrand ×40"));
    }

    #[test]
    fn restore_rejects_garbage_and_other_settings_without_change() {
        let s = settings();
        let mut m = monitor(&s);
        let mut out = MonitorOutput::default();
        m.observe(&mention(0, "a", SentimentLabel::Neutral, 1), &mut out);
        let saved = m.state();
        let other = DetectionSettings {
            window_minutes: 60,
            ..s.clone()
        };
        let mut o = monitor(&other);
        assert!(matches!(
            o.restore(&saved),
            Err(DetectError::IncompatibleSettings { .. })
        ));
        assert!(m.restore(&serde_json::json!([1, 2])).is_err());
        let mut bad = saved.clone();
        bad["version"] = serde_json::json!(99);
        assert!(matches!(
            m.restore(&bad),
            Err(DetectError::UnsupportedVersion { .. })
        ));
        assert_eq!(m.state(), saved);
    }
}
