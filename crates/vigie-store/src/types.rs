//! Records exchanged with the store.

use serde::{Deserialize, Serialize};
use vigie_model::{
    CrisisLevel, EnrichedMention, Explanation, SentimentLabel, Timestamp, WatchId, WorkspaceId,
};

/// A watch as recorded in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchRecord {
    /// Slug.
    pub id: WatchId,
    /// Display name.
    pub name: String,
    /// The boolean query, as written.
    pub query: String,
    /// Languages (ISO 639-1), empty for all.
    pub languages: Vec<String>,
    /// The organization's own accounts (handles).
    pub own_accounts: Vec<String>,
    /// Still in the configuration.
    pub active: bool,
}

/// A stored mention with its store id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMention {
    /// Store id (increasing in insertion order).
    pub id: i64,
    /// The mention and its enrichment.
    #[serde(flatten)]
    pub mention: EnrichedMention,
}

impl StoredMention {
    /// The cursor that continues a listing right after this mention (same order and
    /// filter): lets a caller that stops inside a page (a search that filters a page
    /// further) resume exactly where it stopped.
    pub fn cursor(&self) -> String {
        crate::codec::MentionCursor {
            published_ms: self.mention.mention.published_at.as_millis(),
            id: self.id,
        }
        .encode()
    }
}

/// Which mentions to list.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionFilter {
    /// Workspace (required).
    pub workspace: WorkspaceId,
    /// Only mentions matched to this watch.
    pub watch: Option<WatchId>,
    /// Published at or after.
    pub since: Option<Timestamp>,
    /// Published strictly before.
    pub until: Option<Timestamp>,
    /// Only this sentiment.
    pub sentiment: Option<SentimentLabel>,
    /// Only this language (ISO 639-1).
    pub language: Option<String>,
    /// Page size (1 to 1000).
    pub limit: u32,
    /// Cursor returned by the previous page.
    pub cursor: Option<String>,
}

impl MentionFilter {
    /// All mentions of a workspace, 50 per page.
    pub fn workspace(workspace: WorkspaceId) -> Self {
        Self {
            workspace,
            watch: None,
            since: None,
            until: None,
            sentiment: None,
            language: None,
            limit: 50,
            cursor: None,
        }
    }
}

/// One page of mentions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MentionPage {
    /// Newest first.
    pub items: Vec<StoredMention>,
    /// Cursor for the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// The current level of a watch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchLevel {
    /// The watch.
    pub watch: WatchId,
    /// Its level.
    pub level: CrisisLevel,
    /// Since when (event time).
    pub since: Timestamp,
    /// Why.
    pub explanation: Explanation,
}
