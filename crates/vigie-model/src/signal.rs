//! Signals: a detector's finding at a time for a watch.

use crate::{Timestamp, WatchId, WorkspaceId};
use serde::{Deserialize, Serialize};

/// What a detector found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// Mentions per window well above the learned baseline.
    VolumeSpike,
    /// Negative mentions per window well above their baseline.
    NegativeSurge,
    /// A term or hashtag suddenly frequent.
    BurstyTerm,
    /// Several bursty terms and hashtags seen together in the same mentions: an emerging topic.
    BurstyTopic,
    /// A post spreading much faster than usual.
    ViralPost,
    /// An author with a large audience or a verified account joined.
    InfluencerJoined,
    /// Many distinct voices other than the organization's own.
    OthersSpeakForYou,
    /// A source stopped delivering.
    SourceSilent,
    /// The last hours of volume look like nothing seen at this time on earlier days
    /// (a flatline, a changed rhythm, a new shape).
    PatternChange,
    /// Several distinct negative voices wrote the same uncommon term or hashtag.
    SharedComplaint,
}

impl SignalKind {
    /// The snake_case name used in the API, the store and the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VolumeSpike => "volume_spike",
            Self::NegativeSurge => "negative_surge",
            Self::BurstyTerm => "bursty_term",
            Self::BurstyTopic => "bursty_topic",
            Self::ViralPost => "viral_post",
            Self::InfluencerJoined => "influencer_joined",
            Self::OthersSpeakForYou => "others_speak_for_you",
            Self::SourceSilent => "source_silent",
            Self::PatternChange => "pattern_change",
            Self::SharedComplaint => "shared_complaint",
        }
    }
    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::VolumeSpike,
            Self::NegativeSurge,
            Self::BurstyTerm,
            Self::BurstyTopic,
            Self::ViralPost,
            Self::InfluencerJoined,
            Self::OthersSpeakForYou,
            Self::SourceSilent,
            Self::PatternChange,
            Self::SharedComplaint,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A detector's finding for one watch at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Workspace of the watch.
    pub workspace: WorkspaceId,
    /// The watch.
    pub watch: WatchId,
    /// When (event time: the end of the window that triggered it).
    pub at: Timestamp,
    /// What was found.
    pub kind: SignalKind,
    /// Strength: how surprising it is, as −log10 of the tail probability (3 ≈ one in a thousand).
    pub score: f64,
    /// Observed value in the window (count, share, reach…).
    pub observed: f64,
    /// Expected value from the baseline.
    pub expected: f64,
    /// Human-readable detail (the term, the author, the window).
    pub detail: String,
}
