//! The documents of a crisis room: the room itself, its tasks and drafts, and who acts.

use crate::policy::{Channel, PolicyReport};
use crate::publish::Published;
use crate::scenario::{Lang, Localized, Scenario};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vigie_model::{CrisisLevel, Timestamp, WatchId};

/// Who does something: a user name and the functional roles they hold (`ceo`, `legal`,
/// `community_manager`…), which decide what they may approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User name (recorded in the audit log).
    pub name: String,
    /// Functional roles.
    pub roles: Vec<String>,
}

impl Actor {
    /// Vigie itself (automatic steps).
    pub fn system() -> Self {
        Self {
            name: "vigie".into(),
            roles: Vec::new(),
        }
    }

    /// Holds one of `roles`.
    pub fn has_any_role(&self, roles: &[String]) -> bool {
        self.roles.iter().any(|r| roles.contains(r))
    }
}

/// A decision recorded in the room's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// What was decided.
    pub text: String,
}

/// Open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomStatus {
    /// Working.
    Open,
    /// Done, with a closing note.
    Closed,
}

/// A crisis room, opened when a scenario is activated for an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrisisRoom {
    /// Store id (0 before storing).
    #[serde(default)]
    pub id: i64,
    /// The incident.
    pub incident_id: i64,
    /// Its watch.
    pub watch: WatchId,
    /// The scenario as it was at activation (later edits do not rewrite history).
    pub scenario: Scenario,
    /// Language of the drafts and report.
    pub lang: Lang,
    /// Incident level at activation.
    pub level: CrisisLevel,
    /// The role speaking at that level.
    pub spokesperson: String,
    /// Template variables used.
    pub variables: BTreeMap<String, String>,
    /// Activation time.
    pub opened_at: Timestamp,
    /// Who activated.
    pub opened_by: String,
    /// Status.
    pub status: RoomStatus,
    /// When closed.
    pub closed_at: Option<Timestamp>,
    /// Closing note.
    pub closing_note: Option<String>,
    /// Decisions log.
    pub decisions: Vec<Decision>,
    /// Roles notified at activation.
    pub notified_roles: Vec<String>,
    /// "Lessons" section of the report, filled after the crisis.
    pub lessons: Option<String>,
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// To do.
    Open,
    /// Done.
    Done,
}

/// A checklist task of a room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Store id.
    #[serde(default)]
    pub id: i64,
    /// Room.
    pub room: i64,
    /// What.
    pub title: Localized,
    /// Owner role.
    pub role: String,
    /// A person who took it, if any.
    pub assignee: Option<String>,
    /// Deadline.
    pub due_at: Timestamp,
    /// Status.
    pub status: TaskStatus,
    /// When done.
    pub done_at: Option<Timestamp>,
    /// By whom.
    pub done_by: Option<String>,
}

impl Task {
    /// Finished after its deadline, or still open past it at `now`.
    pub fn is_late(&self, now: Timestamp) -> bool {
        match self.done_at {
            Some(done) => done > self.due_at,
            None => now > self.due_at,
        }
    }
}

/// Where a draft stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    /// Being written.
    Draft,
    /// Submitted, but the policy blocks it: it must be corrected.
    Blocked,
    /// Waits for an approver.
    WaitingApproval,
    /// Sent back with comments.
    Returned,
    /// Approved, ready to publish.
    Approved,
    /// Published through an API.
    Published,
    /// Sent by hand (link recorded).
    SentByHand,
}

impl DraftStatus {
    /// The name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Blocked => "blocked",
            Self::WaitingApproval => "waiting_approval",
            Self::Returned => "returned",
            Self::Approved => "approved",
            Self::Published => "published",
            Self::SentByHand => "sent_by_hand",
        }
    }

    /// Published or sent.
    pub fn is_out(self) -> bool {
        matches!(self, Self::Published | Self::SentByHand)
    }
}

/// A comment on a draft (approval or return).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Who.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// `approved` or `returned`.
    pub outcome: String,
    /// Comment.
    pub comment: Option<String>,
}

/// A reply or statement on its way to publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// Store id.
    #[serde(default)]
    pub id: i64,
    /// Room, if any.
    pub room: Option<i64>,
    /// Inbox item answered, if any.
    pub inbox_item: Option<i64>,
    /// Target channel.
    pub channel: Channel,
    /// Language.
    pub lang: Lang,
    /// The text.
    pub text: String,
    /// `template:<scenario>`, `internal:<scenario>` or `free`.
    pub origin: String,
    /// Status.
    pub status: DraftStatus,
    /// Increases at every edit (part of the idempotency key).
    pub version: u32,
    /// The last policy check.
    pub policy: PolicyReport,
    /// Roles allowed to approve (from the scenario).
    pub approvers: Vec<String>,
    /// Approvals and returns.
    pub reviews: Vec<Review>,
    /// Author.
    pub created_by: String,
    /// Created.
    pub created_at: Timestamp,
    /// Platform id of the post answered (Mastodon status id), if any.
    pub in_reply_to: Option<String>,
    /// Publication, once out.
    pub published: Option<Published>,
}
