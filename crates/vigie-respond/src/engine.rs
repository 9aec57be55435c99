//! The engine: every action of "responding together", each written with its audit line.
//!
//! [`Engine`] works on the [`Store`] the application already holds (through
//! [`Store::respond`]) and a [`Clock`]. Scenarios come from the library directory
//! (`scenarios/`) and from the store (created or edited through the API; a stored scenario
//! with the id of a file scenario replaces it for its workspace).

use crate::error::{RespondError, RespondResult};
use crate::inbox::{InboxItem, InboxStatus, Note, PRIORITY_FORMULA, Sla};
use crate::model::{
    Actor, CrisisRoom, Decision, Draft, DraftStatus, Review, RoomStatus, Task, TaskStatus,
};
use crate::policy::{self, Channel, CheckContext, Policy, PolicyReport, Verdict};
use crate::publish::{Post, PublishAccount, Published, Publisher};
use crate::scenario::{IncidentEvidence, Lang, Proposal, Scenario, ScenarioLibrary, propose};
use crate::template::render;
use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use vigie_model::{Clock, Incident, SentimentLabel, Timestamp, WorkspaceId};
use vigie_store::{
    AuditEntry, MentionFilter, NewAuditEntry, RecordKind, RespondRecord, RespondStore, Store,
};

/// What the people holding a crisis room's roles are told when it opens.
#[derive(Debug, Clone)]
pub struct RoomNotice<'a> {
    /// Workspace.
    pub workspace: &'a WorkspaceId,
    /// The crisis room.
    pub room_id: i64,
    /// The incident it was opened on.
    pub incident_id: i64,
    /// The incident's watch.
    pub watch: &'a vigie_model::WatchId,
    /// The incident's level (highest reached).
    pub level: vigie_model::CrisisLevel,
    /// Scenario name in English and in French.
    pub scenario: (&'a str, &'a str),
    /// The roles of the room (task owners, approvers, spokesperson), sorted.
    pub roles: &'a [String],
}

/// Who was told what, for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoleNotification {
    /// Role → the people notified for it.
    pub notified: BTreeMap<String, Vec<String>>,
    /// Roles nobody holds in the workspace (or whose holders have no way to be reached).
    pub unreached: Vec<String>,
}

/// Tells the people holding some roles that a crisis room opened (wired to on-call
/// notifications by the application: `vigie_web::MobilizerRoles`).
#[async_trait]
pub trait RoleNotifier: Send + Sync + std::fmt::Debug {
    /// Notifies the holders of `notice.roles`; says who was reached for which role.
    async fn notify_roles(&self, notice: &RoomNotice<'_>) -> Result<RoleNotification, String>;
}

/// Settings of the engine.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    /// The scenario library (files).
    pub library: ScenarioLibrary,
    /// Policy per workspace id; workspaces without one use [`Policy::default`].
    pub policies: BTreeMap<String, Policy>,
    /// Publishing accounts.
    pub accounts: Vec<PublishAccount>,
    /// Inbox response-time targets.
    pub sla: Sla,
    /// Display name per workspace id (the `{{brand}}` variable).
    pub brands: BTreeMap<String, String>,
}

/// The responding engine (cheap to clone).
#[derive(Debug, Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Arc<EngineSettings>,
    publisher: Option<Publisher>,
    notifier: Option<Arc<dyn RoleNotifier>>,
}

/// The policy check request of the API.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ActivateRequest {
    /// Scenario id.
    pub scenario: String,
    /// Language of drafts (default French).
    #[serde(default)]
    pub lang: Lang,
    /// Template variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// What activation produced.
#[derive(Debug, Clone, Serialize)]
pub struct Activation {
    /// The room.
    pub room: CrisisRoom,
    /// Its tasks.
    pub tasks: Vec<Task>,
    /// Its drafts.
    pub drafts: Vec<Draft>,
    /// Inbox items pulled in.
    pub inbox_items: usize,
}

/// A crisis room with everything in it.
#[derive(Debug, Clone, Serialize)]
pub struct RoomView {
    /// The room.
    pub room: CrisisRoom,
    /// The incident.
    pub incident: Option<Incident>,
    /// Tasks.
    pub tasks: Vec<Task>,
    /// Drafts.
    pub drafts: Vec<Draft>,
    /// Inbox items of the room, by priority.
    pub inbox: Vec<InboxItem>,
    /// The room's audit log (its full timeline of actions).
    pub audit: Vec<AuditEntry>,
    /// Live figures.
    pub figures: RoomFigures,
}

/// Live figures of a room.
#[derive(Debug, Clone, Serialize)]
pub struct RoomFigures {
    /// Mentions of the watch since the incident opened (up to 50 000 counted).
    pub mentions: u64,
    /// Of which negative.
    pub negative: u64,
    /// Open inbox items.
    pub open_items: u64,
    /// Open inbox items past their due time.
    pub late_items: u64,
    /// Tasks done / total.
    pub tasks_done: u64,
    /// Tasks in total.
    pub tasks_total: u64,
}

/// A change to an inbox item (one item or many in a bulk action).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum InboxAction {
    /// Give it to someone.
    Assign {
        /// User name.
        assignee: String,
    },
    /// Set a status (`ignored` needs `reason`).
    SetStatus {
        /// New status.
        status: InboxStatus,
        /// Why (required for `ignored`).
        #[serde(default)]
        reason: Option<String>,
    },
    /// Add an internal note.
    Note {
        /// Text.
        text: String,
    },
}

/// The JSON of a document.
fn to_doc<T: Serialize>(value: &T) -> RespondResult<Value> {
    serde_json::to_value(value).map_err(|e| RespondError::Invalid(format!("cannot encode: {e}")))
}

/// A document read back from the store.
fn from_record<T: DeserializeOwned>(record: RespondRecord) -> RespondResult<(i64, T)> {
    let id = record.id;
    let mut doc = record.doc;
    // The id lives in its column; documents get it on the way out.
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("id".into(), Value::from(id));
    }
    let value = serde_json::from_value(doc).map_err(|e| {
        RespondError::Store(vigie_store::StoreError::Corrupt {
            what: "respond document",
            detail: format!("{} {id}: {e}", record.kind.as_str()),
        })
    })?;
    Ok((id, value))
}

impl Engine {
    /// An engine on `store` (which must keep respond data: both real backends do).
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: EngineSettings,
    ) -> RespondResult<Self> {
        if store.respond().is_none() {
            return Err(RespondError::Invalid(
                "this store does not keep crisis rooms".into(),
            ));
        }
        Ok(Self {
            store,
            clock,
            settings: Arc::new(settings),
            publisher: None,
            notifier: None,
        })
    }

    /// Publishes through `publisher` (without one, only "sent by hand" is possible).
    pub fn with_publisher(mut self, publisher: Publisher) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// Notifies roles at activation through `notifier`.
    pub fn with_notifier(mut self, notifier: Arc<dyn RoleNotifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// The settings.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    fn rs(&self) -> RespondResult<&dyn RespondStore> {
        self.store
            .respond()
            .ok_or_else(|| RespondError::Invalid("this store does not keep crisis rooms".into()))
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The policy of a workspace.
    pub fn policy(&self, ws: &WorkspaceId) -> Policy {
        self.settings
            .policies
            .get(ws.as_str())
            .cloned()
            .unwrap_or_default()
    }

    #[allow(clippy::too_many_arguments)]
    fn audit(
        &self,
        ws: &WorkspaceId,
        room: Option<i64>,
        actor: &Actor,
        action: &str,
        subject: (&str, Option<String>),
        before: Option<Value>,
        after: Option<Value>,
    ) -> NewAuditEntry {
        NewAuditEntry {
            workspace: ws.clone(),
            room,
            at: self.now(),
            actor: actor.name.clone(),
            action: action.to_owned(),
            subject_kind: subject.0.to_owned(),
            subject_id: subject.1,
            before,
            after,
        }
    }

    // ---------------------------------------------------------------- scenarios

    /// Scenarios of a workspace: the library, with stored ones added or replacing.
    pub async fn scenarios(&self, ws: &WorkspaceId) -> RespondResult<Vec<Scenario>> {
        let mut out = self.settings.library.scenarios.clone();
        for record in self.rs()?.list_scenarios(ws).await? {
            let s: Scenario = serde_json::from_value(record.doc).map_err(|e| {
                RespondError::Store(vigie_store::StoreError::Corrupt {
                    what: "scenario",
                    detail: format!("{}: {e}", record.id),
                })
            })?;
            out.retain(|o| o.id != s.id);
            out.push(s);
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// One scenario.
    pub async fn scenario(&self, ws: &WorkspaceId, id: &str) -> RespondResult<Scenario> {
        self.scenarios(ws)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| RespondError::NotFound(format!("no scenario {id:?}")))
    }

    /// Creates or replaces a scenario of a workspace (validated first).
    pub async fn save_scenario(
        &self,
        ws: &WorkspaceId,
        scenario: &Scenario,
        actor: &Actor,
    ) -> RespondResult<()> {
        scenario.validate(&scenario.id)?;
        let before = self
            .scenarios(ws)
            .await?
            .into_iter()
            .find(|s| s.id == scenario.id)
            .map(|s| to_doc(&s))
            .transpose()?;
        let doc = to_doc(scenario)?;
        let audit = self.audit(
            ws,
            None,
            actor,
            "scenario.saved",
            ("scenario", Some(scenario.id.clone())),
            before,
            Some(doc.clone()),
        );
        self.rs()?
            .put_scenario(ws, &scenario.id, &doc, &audit)
            .await?;
        Ok(())
    }

    /// Deletes a stored scenario (file scenarios cannot be deleted through the API).
    pub async fn delete_scenario(
        &self,
        ws: &WorkspaceId,
        id: &str,
        actor: &Actor,
    ) -> RespondResult<()> {
        let stored = self.rs()?.list_scenarios(ws).await?;
        let Some(before) = stored.into_iter().find(|s| s.id == id) else {
            return Err(if self.settings.library.get(id).is_some() {
                RespondError::Conflict(format!(
                    "scenario {id:?} comes from the library files; remove its file instead"
                ))
            } else {
                RespondError::NotFound(format!("no scenario {id:?}"))
            });
        };
        let audit = self.audit(
            ws,
            None,
            actor,
            "scenario.deleted",
            ("scenario", Some(id.to_owned())),
            Some(before.doc),
            None,
        );
        self.rs()?.delete_scenario(ws, id, &audit).await?;
        Ok(())
    }

    // ---------------------------------------------------------------- incidents

    /// The incident with this id.
    pub async fn incident(&self, ws: &WorkspaceId, id: i64) -> RespondResult<Incident> {
        self.store
            .list_incidents(ws)
            .await?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or_else(|| RespondError::NotFound(format!("no incident {id} in {ws}")))
    }

    /// The evidence text of an incident: its timeline and the terms, hashtags and sample
    /// posts of its watch's level changes during the incident.
    pub async fn evidence(&self, incident: &Incident) -> RespondResult<IncidentEvidence> {
        let mut text = String::new();
        for e in &incident.timeline {
            text.push_str(&e.text);
            text.push('\n');
        }
        let end = incident
            .closed_at
            .unwrap_or(Timestamp::from_millis(i64::MAX));
        for change in self
            .store
            .level_history(&incident.workspace, Some(&incident.watch))
            .await?
        {
            if change.at < incident.opened_at || change.at > end {
                continue;
            }
            let x = &change.explanation;
            for t in x.top_terms.iter().chain(&x.top_hashtags) {
                text.push_str(&t.term);
                text.push(' ');
            }
            for s in &x.samples {
                text.push_str(&s.text);
                text.push('\n');
            }
            text.push_str(&x.summary);
            text.push('\n');
        }
        Ok(IncidentEvidence {
            watch: incident.watch.as_str().to_owned(),
            level: incident.peak_level,
            text,
        })
    }

    /// Scenarios proposed for an incident, best first.
    pub async fn propose(&self, ws: &WorkspaceId, incident: i64) -> RespondResult<Vec<Proposal>> {
        let incident = self.incident(ws, incident).await?;
        let evidence = self.evidence(&incident).await?;
        Ok(propose(&self.scenarios(ws).await?, &evidence))
    }

    /// Records that someone acknowledged the incident.
    pub async fn acknowledge(
        &self,
        ws: &WorkspaceId,
        incident: i64,
        actor: &Actor,
    ) -> RespondResult<()> {
        self.incident(ws, incident).await?;
        let entry = self.audit(
            ws,
            None,
            actor,
            "incident.acknowledged",
            ("incident", Some(incident.to_string())),
            None,
            None,
        );
        self.rs()?.append_audit(&entry).await?;
        Ok(())
    }

    // ---------------------------------------------------------------- activation

    /// Activates a scenario for an incident in one action: opens the crisis room, creates
    /// the tasks with their deadlines, pre-fills the drafts from the holding statements (in
    /// the asked language, every channel) and the internal message, pulls the incident's
    /// negative mentions into the inbox, and notifies the roles. One room per incident.
    pub async fn activate(
        &self,
        ws: &WorkspaceId,
        incident_id: i64,
        req: &ActivateRequest,
        actor: &Actor,
    ) -> RespondResult<Activation> {
        let incident = self.incident(ws, incident_id).await?;
        let scenario = self.scenario(ws, &req.scenario).await?;
        let now = self.now();
        let mut variables = req.variables.clone();
        let brand = self
            .settings
            .brands
            .get(ws.as_str())
            .cloned()
            .unwrap_or_else(|| ws.as_str().to_owned());
        variables.entry("brand".into()).or_insert(brand);
        variables
            .entry("watch".into())
            .or_insert_with(|| incident.watch.as_str().to_owned());
        variables
            .entry("activated_at".into())
            .or_insert_with(|| now.to_rfc3339());
        variables
            .entry("incident_id".into())
            .or_insert_with(|| incident.id.to_string());
        let level = incident.level.max(incident.peak_level);
        let mut roles: Vec<String> = scenario.tasks.iter().map(|t| t.role.clone()).collect();
        roles.extend(scenario.approvers.iter().cloned());
        roles.push(scenario.spokesperson.at(level).to_owned());
        roles.sort();
        roles.dedup();
        let mut room = CrisisRoom {
            id: 0,
            incident_id,
            watch: incident.watch.clone(),
            spokesperson: scenario.spokesperson.at(level).to_owned(),
            scenario: scenario.clone(),
            lang: req.lang,
            level,
            variables: variables.clone(),
            opened_at: now,
            opened_by: actor.name.clone(),
            status: RoomStatus::Open,
            closed_at: None,
            closing_note: None,
            decisions: vec![Decision {
                at: now,
                by: actor.name.clone(),
                text: format!(
                    "scenario {} activated; posture: {:?}",
                    scenario.id, scenario.posture.recommended
                ),
            }],
            notified_roles: roles.clone(),
            lessons: None,
        };
        let rs = self.rs()?;
        let doc = to_doc(&room)?;
        let audit = self.audit(
            ws,
            None,
            actor,
            "room.opened",
            ("room", None),
            None,
            Some(doc.clone()),
        );
        let key = format!("incident:{incident_id}");
        let Some(room_id) = rs
            .insert_record(RecordKind::Room, ws, None, Some(&key), "open", &doc, &audit)
            .await?
        else {
            return Err(RespondError::Conflict(format!(
                "incident {incident_id} already has a crisis room"
            )));
        };
        room.id = room_id;

        let mut tasks = Vec::new();
        for t in &scenario.tasks {
            let mut task = Task {
                id: 0,
                room: room_id,
                title: t.title.clone(),
                role: t.role.clone(),
                assignee: None,
                due_at: now.plus_minutes(i64::from(t.due_minutes)),
                status: TaskStatus::Open,
                done_at: None,
                done_by: None,
            };
            task.id = self
                .insert(
                    RecordKind::Task,
                    ws,
                    Some(room_id),
                    None,
                    "open",
                    &task,
                    actor,
                    "task.created",
                )
                .await?;
            tasks.push(task);
        }

        let mut drafts = Vec::new();
        for s in scenario.statements.iter().filter(|s| s.lang == req.lang) {
            let text = render(&s.text, &variables);
            let draft = self.new_draft(
                ws,
                Some(room_id),
                None,
                s.channel,
                s.lang,
                text,
                format!("template:{}", scenario.id),
                scenario.approvers.clone(),
                actor,
            );
            drafts.push(self.store_new_draft(ws, draft, actor).await?);
        }
        let internal = render(scenario.internal_message.get(req.lang), &variables);
        let draft = self.new_draft(
            ws,
            Some(room_id),
            None,
            Channel::Internal,
            req.lang,
            internal,
            format!("internal:{}", scenario.id),
            scenario.approvers.clone(),
            actor,
        );
        drafts.push(self.store_new_draft(ws, draft, actor).await?);

        let inbox_items = self
            .pull_mentions(ws, Some(room_id), &incident, actor)
            .await?;

        let message = format!(
            "{}: {} — crisis room {room_id} for incident {incident_id} ({})",
            ws,
            scenario.name.get(req.lang),
            incident.watch
        );
        let notice = RoomNotice {
            workspace: ws,
            room_id,
            incident_id,
            watch: &incident.watch,
            level,
            scenario: (scenario.name.get(Lang::En), scenario.name.get(Lang::Fr)),
            roles: &roles,
        };
        let (outcome, reached) = match &self.notifier {
            Some(n) => match n.notify_roles(&notice).await {
                Ok(r) => ("room.roles_notified", Some(r)),
                Err(e) => {
                    tracing::warn!(error = %e, "notifying the roles of a crisis room failed");
                    ("room.roles_notification_failed", None)
                }
            },
            None => ("room.roles_to_notify", None),
        };
        let entry = self.audit(
            ws,
            Some(room_id),
            &Actor::system(),
            outcome,
            ("room", Some(room_id.to_string())),
            None,
            Some(serde_json::json!({ "roles": roles, "message": message, "reached": reached })),
        );
        rs.append_audit(&entry).await?;
        Ok(Activation {
            room,
            tasks,
            drafts,
            inbox_items,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert<T: Serialize + Sync>(
        &self,
        kind: RecordKind,
        ws: &WorkspaceId,
        room: Option<i64>,
        key: Option<&str>,
        status: &str,
        value: &T,
        actor: &Actor,
        action: &str,
    ) -> RespondResult<i64> {
        let doc = to_doc(value)?;
        let audit = self.audit(
            ws,
            room,
            actor,
            action,
            (kind.as_str(), None),
            None,
            Some(doc.clone()),
        );
        let id = self
            .rs()?
            .insert_record(kind, ws, room, key, status, &doc, &audit)
            .await?
            .ok_or_else(|| RespondError::Conflict(format!("{} already exists", kind.as_str())))?;
        Ok(id)
    }

    async fn load<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        ws: &WorkspaceId,
        id: i64,
    ) -> RespondResult<(RespondRecord, T)> {
        let record = self
            .rs()?
            .get_record(kind, ws, id)
            .await?
            .ok_or_else(|| RespondError::NotFound(format!("no {} {id}", kind.as_str())))?;
        let (_, value) = from_record(record.clone())?;
        Ok((record, value))
    }

    #[allow(clippy::too_many_arguments)]
    async fn save<T: Serialize + Sync>(
        &self,
        kind: RecordKind,
        ws: &WorkspaceId,
        before: &RespondRecord,
        status: &str,
        value: &T,
        actor: &Actor,
        action: &str,
    ) -> RespondResult<()> {
        let doc = to_doc(value)?;
        let audit = self.audit(
            ws,
            before.room.or(if kind == RecordKind::Room {
                Some(before.id)
            } else {
                None
            }),
            actor,
            action,
            (kind.as_str(), Some(before.id.to_string())),
            Some(before.doc.clone()),
            Some(doc.clone()),
        );
        self.rs()?
            .update_record(kind, ws, before.id, status, &doc, &audit)
            .await?;
        Ok(())
    }

    async fn list<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        ws: &WorkspaceId,
        room: Option<i64>,
    ) -> RespondResult<Vec<T>> {
        self.rs()?
            .list_records(kind, ws, room)
            .await?
            .into_iter()
            .map(|r| from_record(r).map(|(_, v)| v))
            .collect()
    }

    // ---------------------------------------------------------------- rooms

    /// Crisis rooms of a workspace, oldest first.
    pub async fn rooms(&self, ws: &WorkspaceId) -> RespondResult<Vec<CrisisRoom>> {
        self.list(RecordKind::Room, ws, None).await
    }

    /// The room of an incident, if one was opened.
    pub async fn room_of_incident(
        &self,
        ws: &WorkspaceId,
        incident: i64,
    ) -> RespondResult<Option<CrisisRoom>> {
        Ok(self
            .rooms(ws)
            .await?
            .into_iter()
            .find(|r| r.incident_id == incident))
    }

    /// A room with its tasks, drafts, inbox, audit log and live figures.
    pub async fn room_view(&self, ws: &WorkspaceId, room_id: i64) -> RespondResult<RoomView> {
        let (_, room): (_, CrisisRoom) = self.load(RecordKind::Room, ws, room_id).await?;
        let incident = self.incident(ws, room.incident_id).await.ok();
        let tasks: Vec<Task> = self.list(RecordKind::Task, ws, Some(room_id)).await?;
        let drafts: Vec<Draft> = self.list(RecordKind::Draft, ws, Some(room_id)).await?;
        let mut inbox: Vec<InboxItem> = self.list(RecordKind::InboxItem, ws, Some(room_id)).await?;
        inbox.sort_by(|a, b| b.priority.score.total_cmp(&a.priority.score));
        let audit = self.rs()?.list_audit(ws, Some(room_id), 0, 10_000).await?;
        let now = self.now();
        let (mentions, negative) = self
            .count_mentions(
                ws,
                &room,
                room.opened_at
                    .min(incident.as_ref().map_or(room.opened_at, |i| i.opened_at)),
                now,
            )
            .await?;
        let figures = RoomFigures {
            mentions,
            negative,
            open_items: inbox.iter().filter(|i| i.status.is_open()).count() as u64,
            late_items: inbox.iter().filter(|i| i.is_late(now)).count() as u64,
            tasks_done: tasks
                .iter()
                .filter(|t| t.status == TaskStatus::Done)
                .count() as u64,
            tasks_total: tasks.len() as u64,
        };
        Ok(RoomView {
            room,
            incident,
            tasks,
            drafts,
            inbox,
            audit,
            figures,
        })
    }

    async fn count_mentions(
        &self,
        ws: &WorkspaceId,
        room: &CrisisRoom,
        since: Timestamp,
        until: Timestamp,
    ) -> RespondResult<(u64, u64)> {
        let mut filter = MentionFilter::workspace(ws.clone());
        filter.watch = Some(room.watch.clone());
        filter.since = Some(since);
        filter.until = Some(until.plus_millis(1));
        filter.limit = 1000;
        let (mut n, mut neg) = (0u64, 0u64);
        for _ in 0..50 {
            let page = self.store.list_mentions(&filter).await?;
            for m in &page.items {
                n += 1;
                if m.mention.enrichment.sentiment.label == SentimentLabel::Negative {
                    neg += 1;
                }
            }
            match page.next_cursor {
                Some(c) => filter.cursor = Some(c),
                None => break,
            }
        }
        Ok((n, neg))
    }

    /// Adds a decision to the room's log.
    pub async fn add_decision(
        &self,
        ws: &WorkspaceId,
        room_id: i64,
        text: &str,
        actor: &Actor,
    ) -> RespondResult<CrisisRoom> {
        if text.trim().is_empty() {
            return Err(RespondError::Invalid("a decision needs a text".into()));
        }
        let (record, mut room): (_, CrisisRoom) = self.load(RecordKind::Room, ws, room_id).await?;
        room.decisions.push(Decision {
            at: self.now(),
            by: actor.name.clone(),
            text: text.trim().to_owned(),
        });
        let status = if room.status == RoomStatus::Open {
            "open"
        } else {
            "closed"
        };
        self.save(
            RecordKind::Room,
            ws,
            &record,
            status,
            &room,
            actor,
            "room.decision",
        )
        .await?;
        Ok(room)
    }

    /// Closes a room with a note (and optionally the lessons learned).
    pub async fn close_room(
        &self,
        ws: &WorkspaceId,
        room_id: i64,
        note: &str,
        lessons: Option<String>,
        actor: &Actor,
    ) -> RespondResult<CrisisRoom> {
        if note.trim().is_empty() {
            return Err(RespondError::Invalid("closing a room needs a note".into()));
        }
        let (record, mut room): (_, CrisisRoom) = self.load(RecordKind::Room, ws, room_id).await?;
        if room.status == RoomStatus::Closed {
            return Err(RespondError::Conflict(format!(
                "room {room_id} is already closed"
            )));
        }
        room.status = RoomStatus::Closed;
        room.closed_at = Some(self.now());
        room.closing_note = Some(note.trim().to_owned());
        if lessons.is_some() {
            room.lessons = lessons;
        }
        self.save(
            RecordKind::Room,
            ws,
            &record,
            "closed",
            &room,
            actor,
            "room.closed",
        )
        .await?;
        Ok(room)
    }

    /// Writes the "lessons" section of the report.
    pub async fn set_lessons(
        &self,
        ws: &WorkspaceId,
        room_id: i64,
        lessons: &str,
        actor: &Actor,
    ) -> RespondResult<CrisisRoom> {
        let (record, mut room): (_, CrisisRoom) = self.load(RecordKind::Room, ws, room_id).await?;
        room.lessons = Some(lessons.to_owned());
        let status = record.status.clone();
        self.save(
            RecordKind::Room,
            ws,
            &record,
            &status,
            &room,
            actor,
            "room.lessons",
        )
        .await?;
        Ok(room)
    }

    /// Marks a task done (or open again).
    pub async fn set_task(
        &self,
        ws: &WorkspaceId,
        task_id: i64,
        done: bool,
        assignee: Option<String>,
        actor: &Actor,
    ) -> RespondResult<Task> {
        let (record, mut task): (_, Task) = self.load(RecordKind::Task, ws, task_id).await?;
        if let Some(a) = assignee {
            task.assignee = Some(a);
        }
        let action = if done && task.status == TaskStatus::Open {
            task.status = TaskStatus::Done;
            task.done_at = Some(self.now());
            task.done_by = Some(actor.name.clone());
            "task.done"
        } else if !done && task.status == TaskStatus::Done {
            task.status = TaskStatus::Open;
            task.done_at = None;
            task.done_by = None;
            "task.reopened"
        } else {
            "task.updated"
        };
        let status = if task.status == TaskStatus::Done {
            "done"
        } else {
            "open"
        };
        self.save(RecordKind::Task, ws, &record, status, &task, actor, action)
            .await?;
        Ok(task)
    }

    // ---------------------------------------------------------------- inbox

    /// Brings the negative mentions that arrived since into the inbox of every open crisis
    /// room of `ws` (each mention once); returns how many items were added. Run it
    /// periodically ([`Engine::spawn_inbox_refresher`]) so that due times count from when a
    /// mention arrived, not from when someone looked.
    pub async fn refresh_inbox(&self, ws: &WorkspaceId) -> RespondResult<usize> {
        let mut added = 0;
        for room in self.rooms(ws).await? {
            if room.status != crate::model::RoomStatus::Open {
                continue;
            }
            let incident = self.incident(ws, room.incident_id).await?;
            added += self
                .pull_mentions(ws, Some(room.id), &incident, &Actor::system())
                .await?;
        }
        Ok(added)
    }

    /// Calls [`Engine::refresh_inbox`] for each workspace every `every` until `shutdown`
    /// completes; failures are logged and retried at the next turn.
    pub fn spawn_inbox_refresher(
        &self,
        workspaces: Vec<WorkspaceId>,
        every: std::time::Duration,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            tokio::pin!(shutdown);
            loop {
                tokio::select! {
                    () = &mut shutdown => break,
                    _ = interval.tick() => {
                        for ws in &workspaces {
                            match this.refresh_inbox(ws).await {
                                Ok(0) => {}
                                Ok(n) => tracing::info!(workspace = %ws, added = n, "inbox refreshed"),
                                Err(e) => tracing::warn!(workspace = %ws, error = %e, "inbox refresh failed"),
                            }
                        }
                    }
                }
            }
        })
    }

    /// Puts the incident's negative mentions (since it opened) into the inbox; returns how
    /// many were new. Mentions already in the inbox are skipped.
    pub async fn pull_mentions(
        &self,
        ws: &WorkspaceId,
        room: Option<i64>,
        incident: &Incident,
        actor: &Actor,
    ) -> RespondResult<usize> {
        let now = self.now();
        let mut filter = MentionFilter::workspace(ws.clone());
        filter.watch = Some(incident.watch.clone());
        filter.since = Some(incident.opened_at.plus_minutes(-60));
        filter.sentiment = Some(SentimentLabel::Negative);
        filter.limit = 1000;
        let page = self.store.list_mentions(&filter).await?;
        let mut added = 0;
        for m in page
            .items
            .iter()
            .filter(|m| !m.mention.enrichment.own_account)
        {
            let item = InboxItem::from_mention(&m.mention, room, now, self.settings.sla);
            let key = item.key();
            match self
                .insert(
                    RecordKind::InboxItem,
                    ws,
                    room,
                    Some(&key),
                    "new",
                    &item,
                    actor,
                    "inbox.added",
                )
                .await
            {
                Ok(_) => added += 1,
                Err(RespondError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(added)
    }

    /// Inbox items of a workspace (optionally one status), highest priority first.
    pub async fn inbox(
        &self,
        ws: &WorkspaceId,
        status: Option<InboxStatus>,
        assignee: Option<&str>,
    ) -> RespondResult<Vec<InboxItem>> {
        let mut items: Vec<InboxItem> = self.list(RecordKind::InboxItem, ws, None).await?;
        items.retain(|i| status.is_none_or(|s| i.status == s));
        items.retain(|i| assignee.is_none_or(|a| i.assignee.as_deref() == Some(a)));
        items.sort_by(|a, b| {
            b.priority
                .score
                .total_cmp(&a.priority.score)
                .then(a.due_at.cmp(&b.due_at))
        });
        Ok(items)
    }

    /// The formula of the inbox priority.
    pub fn priority_formula(&self) -> &'static str {
        PRIORITY_FORMULA
    }

    /// Applies one action to several items (all checked first: nothing changes if one is
    /// invalid or unknown).
    pub async fn inbox_bulk(
        &self,
        ws: &WorkspaceId,
        ids: &[i64],
        action: &InboxAction,
        actor: &Actor,
    ) -> RespondResult<Vec<InboxItem>> {
        if ids.is_empty() {
            return Err(RespondError::Invalid("no inbox item named".into()));
        }
        let now = self.now();
        let mut planned = Vec::new();
        for &id in ids {
            let (record, mut item): (_, InboxItem) =
                self.load(RecordKind::InboxItem, ws, id).await?;
            let name = match action {
                InboxAction::Assign { assignee } => {
                    if assignee.trim().is_empty() {
                        return Err(RespondError::Invalid("assignee is empty".into()));
                    }
                    item.assignee = Some(assignee.trim().to_owned());
                    if item.status == InboxStatus::New {
                        item.status = InboxStatus::Assigned;
                    }
                    "inbox.assigned"
                }
                InboxAction::SetStatus { status, reason } => {
                    if *status == InboxStatus::Ignored {
                        let Some(r) = reason.as_deref().filter(|r| !r.trim().is_empty()) else {
                            return Err(RespondError::Invalid(
                                "ignoring an item needs a reason".into(),
                            ));
                        };
                        item.ignored_reason = Some(r.trim().to_owned());
                    } else {
                        item.ignored_reason = None;
                    }
                    item.status = *status;
                    item.done_at = if status.is_open() { None } else { Some(now) };
                    "inbox.status"
                }
                InboxAction::Note { text } => {
                    if text.trim().is_empty() {
                        return Err(RespondError::Invalid("a note needs a text".into()));
                    }
                    item.notes.push(Note {
                        author: actor.name.clone(),
                        at: now,
                        text: text.trim().to_owned(),
                    });
                    "inbox.note"
                }
            };
            planned.push((record, item, name));
        }
        let mut out = Vec::new();
        for (record, item, name) in planned {
            self.save(
                RecordKind::InboxItem,
                ws,
                &record,
                item.status.as_str(),
                &item,
                actor,
                name,
            )
            .await?;
            out.push(item);
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- drafts

    #[allow(clippy::too_many_arguments)]
    fn new_draft(
        &self,
        ws: &WorkspaceId,
        room: Option<i64>,
        inbox_item: Option<i64>,
        channel: Channel,
        lang: Lang,
        text: String,
        origin: String,
        approvers: Vec<String>,
        actor: &Actor,
    ) -> Draft {
        let report = self.check(
            ws,
            &text,
            channel,
            lang,
            room.is_some() || inbox_item.is_some(),
        );
        Draft {
            id: 0,
            room,
            inbox_item,
            channel,
            lang,
            text,
            origin,
            status: DraftStatus::Draft,
            version: 1,
            policy: report,
            approvers,
            reviews: Vec::new(),
            created_by: actor.name.clone(),
            created_at: self.now(),
            in_reply_to: None,
            published: None,
        }
    }

    async fn store_new_draft(
        &self,
        ws: &WorkspaceId,
        mut draft: Draft,
        actor: &Actor,
    ) -> RespondResult<Draft> {
        draft.id = self
            .insert(
                RecordKind::Draft,
                ws,
                draft.room,
                None,
                draft.status.as_str(),
                &draft,
                actor,
                "draft.created",
            )
            .await?;
        Ok(draft)
    }

    /// Checks a text against the workspace's policy.
    pub fn check(
        &self,
        ws: &WorkspaceId,
        text: &str,
        channel: Channel,
        lang: Lang,
        crisis: bool,
    ) -> PolicyReport {
        policy::check(
            &self.policy(ws),
            text,
            CheckContext {
                channel,
                lang,
                crisis,
            },
        )
    }

    /// Creates a free draft (optionally answering an inbox item; the room's scenario decides
    /// the approvers, else `approvers`).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_draft(
        &self,
        ws: &WorkspaceId,
        room: Option<i64>,
        inbox_item: Option<i64>,
        channel: Channel,
        lang: Lang,
        text: &str,
        approvers: Vec<String>,
        actor: &Actor,
    ) -> RespondResult<Draft> {
        if text.trim().is_empty() {
            return Err(RespondError::Invalid("a draft needs a text".into()));
        }
        let mut approvers = approvers;
        let mut room = room;
        let mut in_reply_to = None;
        if let Some(item_id) = inbox_item {
            let (_, item): (_, InboxItem) = self.load(RecordKind::InboxItem, ws, item_id).await?;
            room = room.or(item.room);
            if item.source == "mastodon" {
                in_reply_to = Some(item.external_id.clone());
            }
        }
        if let Some(room_id) = room {
            let (_, r): (_, CrisisRoom) = self.load(RecordKind::Room, ws, room_id).await?;
            if approvers.is_empty() {
                approvers = r.scenario.approvers.clone();
            }
        }
        if approvers.is_empty() {
            return Err(RespondError::Invalid(
                "name the roles that approve this draft (approvers)".into(),
            ));
        }
        let mut draft = self.new_draft(
            ws,
            room,
            inbox_item,
            channel,
            lang,
            text.to_owned(),
            "free".into(),
            approvers,
            actor,
        );
        draft.in_reply_to = in_reply_to;
        let draft = self.store_new_draft(ws, draft, actor).await?;
        if let Some(item_id) = inbox_item {
            let (record, mut item): (_, InboxItem) =
                self.load(RecordKind::InboxItem, ws, item_id).await?;
            item.drafts.push(draft.id);
            self.save(
                RecordKind::InboxItem,
                ws,
                &record,
                item.status.as_str(),
                &item,
                actor,
                "inbox.draft_linked",
            )
            .await?;
        }
        Ok(draft)
    }

    /// A draft.
    pub async fn draft(&self, ws: &WorkspaceId, id: i64) -> RespondResult<Draft> {
        Ok(self.load(RecordKind::Draft, ws, id).await?.1)
    }

    /// Drafts of a workspace (optionally one room).
    pub async fn drafts(&self, ws: &WorkspaceId, room: Option<i64>) -> RespondResult<Vec<Draft>> {
        self.list(RecordKind::Draft, ws, room).await
    }

    /// Replaces a draft's text: checked again, back to `draft`, previous approvals void.
    pub async fn edit_draft(
        &self,
        ws: &WorkspaceId,
        id: i64,
        text: &str,
        actor: &Actor,
    ) -> RespondResult<Draft> {
        let (record, mut draft): (_, Draft) = self.load(RecordKind::Draft, ws, id).await?;
        if draft.status.is_out() {
            return Err(RespondError::Conflict(format!("draft {id} is already out")));
        }
        if text.trim().is_empty() {
            return Err(RespondError::Invalid("a draft needs a text".into()));
        }
        draft.text = text.to_owned();
        draft.version += 1;
        draft.status = DraftStatus::Draft;
        draft.policy = self.check(
            ws,
            text,
            draft.channel,
            draft.lang,
            draft.room.is_some() || draft.inbox_item.is_some(),
        );
        self.save(
            RecordKind::Draft,
            ws,
            &record,
            draft.status.as_str(),
            &draft,
            actor,
            "draft.edited",
        )
        .await?;
        Ok(draft)
    }

    /// Sends a draft for approval. If the policy blocks it, it becomes `blocked` (with the
    /// findings) and must be corrected first.
    pub async fn submit(&self, ws: &WorkspaceId, id: i64, actor: &Actor) -> RespondResult<Draft> {
        let (record, mut draft): (_, Draft) = self.load(RecordKind::Draft, ws, id).await?;
        if !matches!(
            draft.status,
            DraftStatus::Draft | DraftStatus::Returned | DraftStatus::Blocked
        ) {
            return Err(RespondError::Conflict(format!(
                "draft {id} is {}; only a draft, returned or blocked draft can be submitted",
                draft.status.as_str()
            )));
        }
        draft.policy = self.check(
            ws,
            &draft.text,
            draft.channel,
            draft.lang,
            draft.room.is_some() || draft.inbox_item.is_some(),
        );
        let action = if draft.policy.verdict == Verdict::Block {
            draft.status = DraftStatus::Blocked;
            "draft.blocked"
        } else {
            draft.status = DraftStatus::WaitingApproval;
            "draft.submitted"
        };
        self.save(
            RecordKind::Draft,
            ws,
            &record,
            draft.status.as_str(),
            &draft,
            actor,
            action,
        )
        .await?;
        if draft.status == DraftStatus::WaitingApproval {
            self.set_item_status(ws, draft.inbox_item, InboxStatus::WaitingApproval, actor)
                .await?;
        }
        Ok(draft)
    }

    /// Approves (`approve = true`) or returns a draft waiting for approval. Only a holder of
    /// one of the draft's approver roles may do it, and not the draft's author.
    pub async fn review(
        &self,
        ws: &WorkspaceId,
        id: i64,
        approve: bool,
        comment: Option<String>,
        actor: &Actor,
    ) -> RespondResult<Draft> {
        let (record, mut draft): (_, Draft) = self.load(RecordKind::Draft, ws, id).await?;
        if draft.status != DraftStatus::WaitingApproval {
            return Err(RespondError::Conflict(format!(
                "draft {id} is {}, not waiting for approval",
                draft.status.as_str()
            )));
        }
        if !actor.has_any_role(&draft.approvers) {
            return Err(RespondError::Forbidden(format!(
                "{} holds none of the approver roles {:?}",
                actor.name, draft.approvers
            )));
        }
        if approve && actor.name == draft.created_by {
            return Err(RespondError::Forbidden(
                "the author of a draft cannot approve it (four eyes)".into(),
            ));
        }
        if !approve && comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Err(RespondError::Invalid(
                "returning a draft needs a comment".into(),
            ));
        }
        draft.reviews.push(Review {
            by: actor.name.clone(),
            at: self.now(),
            outcome: if approve { "approved" } else { "returned" }.into(),
            comment,
        });
        draft.status = if approve {
            DraftStatus::Approved
        } else {
            DraftStatus::Returned
        };
        let action = if approve {
            "draft.approved"
        } else {
            "draft.returned"
        };
        self.save(
            RecordKind::Draft,
            ws,
            &record,
            draft.status.as_str(),
            &draft,
            actor,
            action,
        )
        .await?;
        Ok(draft)
    }

    async fn set_item_status(
        &self,
        ws: &WorkspaceId,
        item: Option<i64>,
        status: InboxStatus,
        actor: &Actor,
    ) -> RespondResult<()> {
        if let Some(id) = item {
            let (record, mut item): (_, InboxItem) =
                self.load(RecordKind::InboxItem, ws, id).await?;
            item.status = status;
            if !status.is_open() {
                item.done_at = Some(self.now());
            }
            self.save(
                RecordKind::InboxItem,
                ws,
                &record,
                status.as_str(),
                &item,
                actor,
                "inbox.status",
            )
            .await?;
        }
        Ok(())
    }

    /// Publishes an approved draft with a configured account.
    pub async fn publish(
        &self,
        ws: &WorkspaceId,
        id: i64,
        account_id: &str,
        actor: &Actor,
    ) -> RespondResult<Draft> {
        let (record, mut draft): (_, Draft) = self.load(RecordKind::Draft, ws, id).await?;
        if draft.status != DraftStatus::Approved {
            return Err(RespondError::Conflict(format!(
                "draft {id} is {}; only an approved draft can be published",
                draft.status.as_str()
            )));
        }
        let account = self
            .settings
            .accounts
            .iter()
            .find(|a| a.id == account_id && a.workspace == ws.as_str())
            .ok_or_else(|| {
                RespondError::NotFound(format!("no publishing account {account_id:?} in {ws}"))
            })?;
        let publisher = self.publisher.as_ref().ok_or_else(|| {
            RespondError::Conflict("publication is not enabled in this process".into())
        })?;
        let key = format!("vigie-{ws}-draft-{id}-v{}", draft.version);
        let published = publisher
            .publish(
                account,
                &Post {
                    text: &draft.text,
                    lang: draft.lang.as_str(),
                    idempotency_key: &key,
                    in_reply_to: draft.in_reply_to.as_deref(),
                    at: self.now(),
                    by: &actor.name,
                },
            )
            .await;
        let published = match published {
            Ok(p) => p,
            Err(e) => {
                let entry = self.audit(
                    ws,
                    draft.room,
                    actor,
                    "draft.publish_failed",
                    ("draft", Some(id.to_string())),
                    None,
                    Some(serde_json::json!({ "error": e.to_string(), "account": account_id })),
                );
                self.rs()?.append_audit(&entry).await?;
                return Err(e);
            }
        };
        draft.status = DraftStatus::Published;
        draft.published = Some(published);
        self.save(
            RecordKind::Draft,
            ws,
            &record,
            draft.status.as_str(),
            &draft,
            actor,
            "draft.published",
        )
        .await?;
        self.set_item_status(ws, draft.inbox_item, InboxStatus::Answered, actor)
            .await?;
        Ok(draft)
    }

    /// Records that an approved draft was sent by hand, with the link to the post.
    pub async fn mark_sent(
        &self,
        ws: &WorkspaceId,
        id: i64,
        link: &str,
        actor: &Actor,
    ) -> RespondResult<Draft> {
        let (record, mut draft): (_, Draft) = self.load(RecordKind::Draft, ws, id).await?;
        if draft.status != DraftStatus::Approved {
            return Err(RespondError::Conflict(format!(
                "draft {id} is {}; only an approved draft can be sent",
                draft.status.as_str()
            )));
        }
        if !(link.starts_with("https://") || link.starts_with("http://")) {
            return Err(RespondError::Invalid(
                "the link must be an http(s) URL".into(),
            ));
        }
        draft.status = DraftStatus::SentByHand;
        draft.published = Some(Published {
            target: "manual".into(),
            account: None,
            remote_id: None,
            url: Some(link.to_owned()),
            at: self.now(),
            by: actor.name.clone(),
        });
        self.save(
            RecordKind::Draft,
            ws,
            &record,
            draft.status.as_str(),
            &draft,
            actor,
            "draft.sent_by_hand",
        )
        .await?;
        self.set_item_status(ws, draft.inbox_item, InboxStatus::Answered, actor)
            .await?;
        Ok(draft)
    }

    /// The audit log (read only).
    pub async fn audit_log(
        &self,
        ws: &WorkspaceId,
        room: Option<i64>,
        after: i64,
        limit: u32,
    ) -> RespondResult<Vec<AuditEntry>> {
        Ok(self.rs()?.list_audit(ws, room, after, limit).await?)
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}
