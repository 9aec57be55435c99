//! Mentions: the canonical post/comment/article, and what enrichment adds to it.
//!
//! [`Mention`] is the interchange format (one JSON object per line, see
//! `docs/formats/mention.md`); [`EnrichedMention`] is what the pipeline stores and detects on.

use crate::{Timestamp, WatchId, WorkspaceId};
use serde::{Deserialize, Serialize};

/// Who wrote a mention.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Author {
    /// The handle on the source network, without a leading `@` (e.g. `marie_l@mastodon.social`).
    pub handle: String,
    /// Display name, if the source gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Followers (or subscribers) when the mention was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    /// Verified / notable account on its network.
    #[serde(default)]
    pub verified: bool,
}

/// Interaction counts when the mention was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Engagement {
    /// Reposts, boosts, retweets, shares.
    #[serde(default)]
    pub reposts: u64,
    /// Likes, favourites.
    #[serde(default)]
    pub likes: u64,
    /// Direct replies.
    #[serde(default)]
    pub replies: u64,
    /// Quote posts.
    #[serde(default)]
    pub quotes: u64,
}

impl Engagement {
    /// Sum of all interactions.
    pub fn total(&self) -> u64 {
        self.reposts
            .saturating_add(self.likes)
            .saturating_add(self.replies)
            .saturating_add(self.quotes)
    }
}

/// One post, comment, reply, article or review, as a source delivered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mention {
    /// Where it comes from: a source name such as `mastodon`, `bluesky`, `rss`, `import`.
    pub source: String,
    /// The source's own identifier; `(source, external_id)` is unique within a workspace.
    pub external_id: String,
    /// Link to the original, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The author.
    pub author: Author,
    /// When the author published it.
    pub published_at: Timestamp,
    /// When Vigie received it (filled in by the pipeline when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<Timestamp>,
    /// Title (articles, reviews, Reddit posts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The text, as written.
    pub text: String,
    /// Language declared by the source (ISO 639-1), if any; detection decides otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Interaction counts.
    #[serde(default)]
    pub engagement: Engagement,
    /// External id of the post this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// External id of the post this one quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_of: Option<String>,
    /// External id of the post this one reposts (a plain repost carries no new text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repost_of: Option<String>,
    /// Country of the author or publication (ISO 3166-1 alpha-2), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Mention {
    /// The identity used for de-duplication.
    pub fn key(&self) -> MentionKey {
        MentionKey {
            source: self.source.clone(),
            external_id: self.external_id.clone(),
        }
    }
}

/// The identity of a mention within a workspace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MentionKey {
    /// Source name.
    pub source: String,
    /// Source's identifier.
    pub external_id: String,
}

/// Polarity of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentimentLabel {
    /// Complaint, anger, criticism.
    Negative,
    /// Neither, or balanced.
    #[default]
    Neutral,
    /// Praise, satisfaction.
    Positive,
}

impl SentimentLabel {
    /// `negative`, `neutral` or `positive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Negative => "negative",
            Self::Neutral => "neutral",
            Self::Positive => "positive",
        }
    }
    /// Parses `negative`, `neutral` or `positive`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "negative" => Some(Self::Negative),
            "neutral" => Some(Self::Neutral),
            "positive" => Some(Self::Positive),
            _ => None,
        }
    }
}

/// A sentiment judgement.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Sentiment {
    /// The label.
    pub label: SentimentLabel,
    /// Polarity in [-1, 1] (negative to positive).
    pub score: f32,
    /// How sure the engine is, in [0, 1].
    pub confidence: f32,
}

/// A detected language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageGuess {
    /// ISO 639-1 code (`fr`, `en`, …), or `und` when unknown.
    pub code: String,
    /// Confidence in [0, 1].
    pub confidence: f32,
}

/// What the enrichment stages add to a mention.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Enrichment {
    /// Detected (or declared) language.
    pub language: Option<LanguageGuess>,
    /// Sentiment of the text.
    pub sentiment: Sentiment,
    /// Estimated number of people who may have seen it.
    pub reach: u64,
    /// Hashtags, lowercased, without `#`.
    pub hashtags: Vec<String>,
    /// Handles cited in the text, lowercased, without `@`.
    pub handles: Vec<String>,
    /// Links found in the text.
    pub links: Vec<String>,
    /// Watches whose query matched, in configuration order.
    pub matched_watches: Vec<WatchId>,
    /// The author is one of the organization's own accounts (for a matched watch).
    pub own_account: bool,
}

/// A mention plus its enrichment, inside one workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrichedMention {
    /// The workspace it belongs to.
    pub workspace: WorkspaceId,
    /// The mention as delivered.
    pub mention: Mention,
    /// What the pipeline found.
    pub enrichment: Enrichment,
}

impl EnrichedMention {
    /// The instant detectors use for this mention: its publication time.
    pub fn event_time(&self) -> Timestamp {
        self.mention.published_at
    }
}
