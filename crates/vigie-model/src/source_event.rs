//! Changes a source reports about mentions it delivered earlier: edits and deletions.
//!
//! Networks let authors edit posts (Mastodon `status.update`, Reddit, Meta comments) and delete
//! them (Mastodon `delete`, Bluesky Jetstream `delete` commits, X compliance). A connector
//! turns those into [`MentionChange`]s; the pipeline applies them to the stored mention
//! (new text, or a tombstone that blanks the text and marks it deleted).

use crate::{Engagement, Timestamp};
use serde::{Deserialize, Serialize};

/// What happened to a mention at its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// The author edited it: the new text (and title, if the source has titles).
    Edited {
        /// The text after the edit.
        text: String,
        /// The title after the edit, if the source has titles.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Interaction counts at the time of the edit, if the source gives them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        engagement: Option<Engagement>,
    },
    /// The author (or the network) deleted it: the stored copy becomes a tombstone.
    Deleted,
    /// Others interacted with it (a like or a repost event): counts to add.
    Engaged {
        /// Reposts to add.
        #[serde(default)]
        reposts: u64,
        /// Likes to add.
        #[serde(default)]
        likes: u64,
    },
}

/// An edit or a deletion of the mention `(source, external_id)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentionChange {
    /// Source name of the mention (`mastodon`, `bluesky`, …), as in [`crate::Mention::source`].
    pub source: String,
    /// The source's identifier of the mention.
    pub external_id: String,
    /// When the source says the change happened (or when it was received).
    pub at: Timestamp,
    /// What changed.
    #[serde(flatten)]
    pub kind: ChangeKind,
}

impl MentionChange {
    /// A deletion.
    pub fn deleted(
        source: impl Into<String>,
        external_id: impl Into<String>,
        at: Timestamp,
    ) -> Self {
        Self {
            source: source.into(),
            external_id: external_id.into(),
            at,
            kind: ChangeKind::Deleted,
        }
    }

    /// `true` for a deletion.
    pub fn is_deletion(&self) -> bool {
        matches!(self.kind, ChangeKind::Deleted)
    }
}
