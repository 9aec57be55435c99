//! Crisis levels, their explanations, and incidents.

use crate::{SentimentLabel, Signal, Timestamp, WatchId, WorkspaceId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad it is for a watch right now.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CrisisLevel {
    /// 0: ordinary chatter.
    #[default]
    Calm,
    /// 1: something unusual; keep an eye on it.
    Vigilance,
    /// 2: a negative wave is building; prepare to answer.
    Alert,
    /// 3: others speak for you and it spreads; act now.
    Crisis,
}

impl CrisisLevel {
    /// 0 to 3.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Calm => 0,
            Self::Vigilance => 1,
            Self::Alert => 2,
            Self::Crisis => 3,
        }
    }
    /// From 0 to 3; anything above 3 is a crisis.
    pub fn from_u8(n: u8) -> Self {
        match n {
            0 => Self::Calm,
            1 => Self::Vigilance,
            2 => Self::Alert,
            _ => Self::Crisis,
        }
    }
    /// `calm`, `vigilance`, `alert` or `crisis`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Calm => "calm",
            Self::Vigilance => "vigilance",
            Self::Alert => "alert",
            Self::Crisis => "crisis",
        }
    }
}

impl fmt::Display for CrisisLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.as_u8(), self.as_str())
    }
}

/// A term or hashtag with its count in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermCount {
    /// The term (folded) or hashtag (with `#`).
    pub term: String,
    /// Occurrences in the window.
    pub count: u64,
}

/// An author and the reach of their mentions in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorReach {
    /// Handle.
    pub handle: String,
    /// Followers.
    pub followers: u64,
    /// Verified account.
    pub verified: bool,
    /// Mentions by this author in the window.
    pub mentions: u64,
}

/// A post quoted in an explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePost {
    /// Source.
    pub source: String,
    /// Source's id.
    pub external_id: String,
    /// Author handle.
    pub author: String,
    /// Publication time.
    pub published_at: Timestamp,
    /// Sentiment label.
    pub sentiment: SentimentLabel,
    /// Estimated reach.
    pub reach: u64,
    /// The text (truncated to 280 characters).
    pub text: String,
}

/// Why a watch is at its level: the evidence, in figures and examples.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Explanation {
    /// One sentence a person can read on a phone at night.
    pub summary: String,
    /// Length of the observation window, in minutes.
    pub window_minutes: u32,
    /// Mentions in the window.
    pub mentions: u64,
    /// Mentions expected in such a window from the baseline.
    pub expected_mentions: f64,
    /// Negative mentions in the window.
    pub negative: u64,
    /// Negative mentions expected from the baseline.
    pub expected_negative: f64,
    /// Distinct authors in the window.
    pub distinct_authors: u64,
    /// Share of mentions in the window not written by the organization's own accounts, in [0, 1].
    pub others_share: f64,
    /// The signals that led here.
    pub signals: Vec<Signal>,
    /// Most frequent terms in the window.
    pub top_terms: Vec<TermCount>,
    /// Most frequent hashtags in the window.
    pub top_hashtags: Vec<TermCount>,
    /// Authors with the largest audience in the window.
    pub top_authors: Vec<AuthorReach>,
    /// Representative posts (most reach, negative first).
    pub samples: Vec<SamplePost>,
}

/// A change of crisis level for a watch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelChange {
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Watch.
    pub watch: WatchId,
    /// When (event time).
    pub at: Timestamp,
    /// Level before.
    pub from: CrisisLevel,
    /// Level after.
    pub to: CrisisLevel,
    /// Why.
    pub explanation: Explanation,
}

/// What happened in an incident, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentEventKind {
    /// The incident opened (first level above calm).
    Opened,
    /// A detector signal.
    Signal,
    /// The level changed.
    LevelChanged,
    /// The incident closed (back to calm).
    Resolved,
}

/// One line of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentEvent {
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: IncidentEventKind,
    /// A readable line.
    pub text: String,
}

/// Correlated signals and level changes of one watch, grouped into one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Store-assigned id (0 before it is stored).
    pub id: i64,
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Watch.
    pub watch: WatchId,
    /// When the watch left calm.
    pub opened_at: Timestamp,
    /// When it came back to calm, if it did.
    pub closed_at: Option<Timestamp>,
    /// Highest level reached.
    pub peak_level: CrisisLevel,
    /// Current level.
    pub level: CrisisLevel,
    /// Timeline, oldest first.
    pub timeline: Vec<IncidentEvent>,
}
