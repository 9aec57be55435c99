//! A mobilization incident: timeline, acknowledgements, escalation and SLA state.

use serde::{Deserialize, Serialize};
use vigie_model::{CrisisLevel, Explanation, Timestamp, WatchId, WorkspaceId};

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nobody acknowledged yet.
    Open,
    /// At least one person acknowledged.
    Acknowledged,
    /// Resolved with a note.
    Resolved,
}

impl Status {
    /// `open`, `acknowledged` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The incident opened.
    Opened,
    /// A detector signal.
    Signal,
    /// The level changed.
    LevelChange,
    /// A notification was delivered.
    NotificationSent,
    /// A notification failed after its retries (dead-lettered).
    NotificationFailed,
    /// A notification was held back (quiet hours, de-duplication).
    NotificationHeld,
    /// Someone acknowledged.
    Acknowledged,
    /// The escalation moved to a step (or stopped).
    Escalation,
    /// The first public answer deadline was set (level ≥ 2).
    SlaStarted,
    /// The first public answer deadline is close.
    SlaWarning,
    /// The first public answer deadline passed.
    SlaMissed,
    /// The first public answer was given.
    PublicAnswer,
    /// A comment.
    Comment,
    /// Resolved, with the note.
    Resolved,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: EntryKind,
    /// Who (person, user, channel), if anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// A readable line.
    pub text: String,
}

/// One acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// Who.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// `api` or `link`.
    pub via: String,
}

/// Escalation progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// Policy id.
    pub policy: String,
    /// Current round, from 1.
    pub round: u32,
    /// Current step, from 1.
    pub step: u32,
    /// When the next step fires if nobody acknowledges (`None` once stopped).
    pub next_at: Option<Timestamp>,
    /// Why it stopped (acknowledged, back to calm, exhausted, resolved).
    pub stopped: Option<String>,
}

/// First public answer deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    /// The deadline.
    pub deadline: Timestamp,
    /// The warning was given.
    pub warned: bool,
    /// The deadline passed without an answer.
    pub missed: bool,
    /// When the first public answer was recorded.
    pub answered_at: Option<Timestamp>,
}

/// How it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// Who.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// The required note.
    pub note: String,
}

/// A mobilization incident of one watch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MobilizedIncident {
    /// Store id.
    pub id: i64,
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Watch.
    pub watch: WatchId,
    /// When it opened.
    pub opened_at: Timestamp,
    /// When it was resolved.
    pub closed_at: Option<Timestamp>,
    /// Status.
    pub status: Status,
    /// Current level.
    pub level: CrisisLevel,
    /// Highest level.
    pub peak_level: CrisisLevel,
    /// The latest explanation.
    pub explanation: Explanation,
    /// Every acknowledgement, in order.
    pub acknowledgements: Vec<Acknowledgement>,
    /// From opening to the first acknowledgement, in milliseconds.
    pub time_to_acknowledge_ms: Option<i64>,
    /// Escalation progress.
    pub escalation: Option<Escalation>,
    /// First public answer deadline (level ≥ 2).
    pub sla: Option<Sla>,
    /// Resolution.
    pub resolution: Option<Resolution>,
    /// Timeline, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

impl MobilizedIncident {
    /// Appends a timeline entry.
    pub fn push(
        &mut self,
        at: Timestamp,
        kind: EntryKind,
        actor: Option<&str>,
        text: impl Into<String>,
    ) {
        self.timeline.push(TimelineEntry {
            at,
            kind,
            actor: actor.map(str::to_owned),
            text: text.into(),
        });
    }

    /// Whether someone acknowledged.
    pub fn acknowledged(&self) -> bool {
        !self.acknowledgements.is_empty()
    }

    /// The store record.
    pub fn to_record(&self) -> vigie_store::MobilizationRecord {
        vigie_store::MobilizationRecord {
            id: self.id,
            workspace: self.workspace.clone(),
            watch: self.watch.clone(),
            opened_at: self.opened_at,
            closed_at: self.closed_at,
            status: self.status.as_str().to_owned(),
            doc: serde_json::to_value(self).unwrap_or(serde_json::Value::Null),
        }
    }

    /// From a store record.
    pub fn from_record(
        r: &vigie_store::MobilizationRecord,
    ) -> Result<Self, vigie_store::StoreError> {
        let mut m: Self = serde_json::from_value(r.doc.clone()).map_err(|e| {
            vigie_store::StoreError::Corrupt {
                what: "mobilization",
                detail: e.to_string(),
            }
        })?;
        m.id = r.id;
        Ok(m)
    }
}
