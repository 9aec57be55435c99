//! The shared inbox: mentions that need an answer, ranked by priority, with statuses, an
//! SLA due time, notes and an assignee.
//!
//! **Priority = reach × negativity × virality**, each factor explained on the item:
//! - `reach` = log10(10 + estimated reach): 1 for nobody, 2 at ~100, 5 at ~100 000;
//! - `negativity` = 0.2 + 0.8 × max(0, −sentiment score): 0.2 for a neutral or positive post,
//!   1.0 for the most negative;
//! - `virality` = 1 + log2(1 + weighted engagement per hour since publication), with
//!   reposts and quotes ×3, replies ×2, likes ×1 (one hour minimum).

use serde::{Deserialize, Serialize};
use vigie_model::{EnrichedMention, Timestamp};

/// The formula, as shown to users.
pub const PRIORITY_FORMULA: &str = "priority = reach × negativity × virality; reach = log10(10 + estimated reach); negativity = 0.2 + 0.8 × max(0, −sentiment); virality = 1 + log2(1 + (3×reposts + 3×quotes + 2×replies + likes) / hours since publication (≥ 1))";

/// The factors of a priority.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    /// The product of the three factors, rounded to 2 decimals.
    pub score: f64,
    /// Reach factor.
    pub reach: f64,
    /// Negativity factor.
    pub negativity: f64,
    /// Virality factor.
    pub virality: f64,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The priority of a mention at `now`.
#[allow(clippy::cast_precision_loss)]
pub fn priority(m: &EnrichedMention, now: Timestamp) -> Priority {
    let reach = (10.0 + m.enrichment.reach as f64).log10();
    let negativity = 0.2 + 0.8 * f64::from((-m.enrichment.sentiment.score).clamp(0.0, 1.0));
    let e = &m.mention.engagement;
    let weighted = 3 * e.reposts + 3 * e.quotes + 2 * e.replies + e.likes;
    let hours = (now.millis_since(m.mention.published_at) as f64 / 3_600_000.0).max(1.0);
    let virality = 1.0 + (1.0 + weighted as f64 / hours).log2();
    Priority {
        score: round2(reach * negativity * virality),
        reach: round2(reach),
        negativity: round2(negativity),
        virality: round2(virality),
    }
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxStatus {
    /// Nobody looked at it yet.
    New,
    /// Someone owns it.
    Assigned,
    /// A reply waits for approval.
    WaitingApproval,
    /// Answered (published or sent by hand).
    Answered,
    /// Nothing more to do.
    Closed,
    /// Deliberately not answered (with a reason).
    Ignored,
}

impl InboxStatus {
    /// The name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Assigned => "assigned",
            Self::WaitingApproval => "waiting_approval",
            Self::Answered => "answered",
            Self::Closed => "closed",
            Self::Ignored => "ignored",
        }
    }

    /// Parses a status name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::New,
            Self::Assigned,
            Self::WaitingApproval,
            Self::Answered,
            Self::Closed,
            Self::Ignored,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Still needs work (counts against the SLA).
    pub fn is_open(self) -> bool {
        matches!(self, Self::New | Self::Assigned | Self::WaitingApproval)
    }
}

/// An internal note on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Who.
    pub author: String,
    /// When.
    pub at: Timestamp,
    /// What.
    pub text: String,
}

/// A mention that needs an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxItem {
    /// Store id (0 before it is stored).
    #[serde(default)]
    pub id: i64,
    /// The crisis room it was pulled into, if any.
    pub room: Option<i64>,
    /// Source of the mention.
    pub source: String,
    /// Id of the mention at its source.
    pub external_id: String,
    /// Link to the post.
    pub url: Option<String>,
    /// Author handle.
    pub author: String,
    /// Author followers.
    pub followers: Option<u64>,
    /// Text of the post.
    pub text: String,
    /// Language.
    pub lang: Option<String>,
    /// Sentiment label.
    pub sentiment: String,
    /// When it was published.
    pub published_at: Timestamp,
    /// Priority with its factors.
    pub priority: Priority,
    /// Status.
    pub status: InboxStatus,
    /// Why it was ignored.
    pub ignored_reason: Option<String>,
    /// Owner.
    pub assignee: Option<String>,
    /// When it entered the inbox.
    pub added_at: Timestamp,
    /// When it must be answered.
    pub due_at: Timestamp,
    /// When it was answered (or closed or ignored).
    pub done_at: Option<Timestamp>,
    /// Internal notes, oldest first.
    pub notes: Vec<Note>,
    /// Drafts replying to it.
    pub drafts: Vec<i64>,
}

/// Response-time targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    /// Minutes to answer an urgent item (negative, or priority at least `urgent_priority`).
    pub urgent_minutes: u32,
    /// Minutes to answer any other item.
    pub normal_minutes: u32,
}

impl Default for Sla {
    fn default() -> Self {
        Self {
            urgent_minutes: 30,
            normal_minutes: 60,
        }
    }
}

impl InboxItem {
    /// A new item for a mention, entering the inbox at `now`.
    pub fn from_mention(m: &EnrichedMention, room: Option<i64>, now: Timestamp, sla: Sla) -> Self {
        let p = priority(m, now);
        let negative = m.enrichment.sentiment.score < -0.05
            || m.enrichment.sentiment.label == vigie_model::SentimentLabel::Negative;
        let minutes = if negative || p.score >= 4.0 {
            sla.urgent_minutes
        } else {
            sla.normal_minutes
        };
        Self {
            id: 0,
            room,
            source: m.mention.source.clone(),
            external_id: m.mention.external_id.clone(),
            url: m.mention.url.clone(),
            author: m.mention.author.handle.clone(),
            followers: m.mention.author.followers,
            text: m.mention.text.clone(),
            lang: m
                .mention
                .lang
                .clone()
                .or_else(|| m.enrichment.language.as_ref().map(|l| l.code.clone())),
            sentiment: m.enrichment.sentiment.label.as_str().to_owned(),
            published_at: m.mention.published_at,
            priority: p,
            status: InboxStatus::New,
            ignored_reason: None,
            assignee: None,
            added_at: now,
            due_at: now.plus_minutes(i64::from(minutes)),
            done_at: None,
            notes: Vec::new(),
            drafts: Vec::new(),
        }
    }

    /// The unique key of the item in its workspace.
    pub fn key(&self) -> String {
        format!("{}:{}", self.source, self.external_id)
    }

    /// Still open after its due time at `now`.
    pub fn is_late(&self, now: Timestamp) -> bool {
        self.status.is_open() && now > self.due_at
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vigie_model::{
        Author, Engagement, Enrichment, Mention, Sentiment, SentimentLabel, WorkspaceId,
    };

    fn mention(reach: u64, score: f32, reposts: u64) -> EnrichedMention {
        EnrichedMention {
            workspace: WorkspaceId::new("acme").unwrap(),
            mention: Mention {
                source: "mastodon".into(),
                external_id: "1".into(),
                url: None,
                author: Author {
                    handle: "marie".into(),
                    ..Author::default()
                },
                published_at: Timestamp::from_millis(0),
                received_at: None,
                title: None,
                text: "x".into(),
                lang: None,
                engagement: Engagement {
                    reposts,
                    likes: 0,
                    replies: 0,
                    quotes: 0,
                },
                reply_to: None,
                quote_of: None,
                repost_of: None,
                country: None,
            },
            enrichment: Enrichment {
                reach,
                sentiment: Sentiment {
                    label: if score < 0.0 {
                        SentimentLabel::Negative
                    } else {
                        SentimentLabel::Neutral
                    },
                    score,
                    confidence: 1.0,
                },
                ..Enrichment::default()
            },
        }
    }

    #[test]
    fn priority_is_the_product_of_its_factors() {
        let now = Timestamp::from_millis(2 * 3_600_000);
        let p = priority(&mention(990, -1.0, 10), now);
        // reach log10(1000) = 3; negativity 1.0; virality 1 + log2(1 + 30/2) = 5.
        assert_eq!(
            (p.reach, p.negativity, p.virality, p.score),
            (3.0, 1.0, 5.0, 15.0)
        );
        let calm = priority(&mention(0, 0.5, 0), now);
        assert_eq!(
            (calm.reach, calm.negativity, calm.virality, calm.score),
            (1.0, 0.2, 1.0, 0.2)
        );
        assert!(p.score > calm.score);
    }

    #[test]
    fn sla_depends_on_urgency() {
        let now = Timestamp::from_millis(0);
        let urgent = InboxItem::from_mention(&mention(100, -0.8, 0), None, now, Sla::default());
        assert_eq!(urgent.due_at, now.plus_minutes(30));
        let normal = InboxItem::from_mention(&mention(100, 0.3, 0), None, now, Sla::default());
        assert_eq!(normal.due_at, now.plus_minutes(60));
        assert!(normal.is_late(now.plus_minutes(61)));
        assert_eq!(
            InboxStatus::parse("waiting_approval"),
            Some(InboxStatus::WaitingApproval)
        );
        assert_eq!(InboxStatus::parse("nope"), None);
    }
}
