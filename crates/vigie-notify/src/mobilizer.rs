//! The [`Mobilizer`]: turns level changes and signals into incidents, notifications,
//! escalations and SLA timers, on an injected clock.

use crate::incident::{
    Acknowledgement, EntryKind, Escalation, MobilizedIncident, Resolution, Sla, Status,
};
use crate::notifiers::{Notifier, Recipient, build_notifier};
use crate::oncall::{OnCall, Rotation};
use crate::routing::{Dedup, in_quiet_hours, route_matches};
use crate::sign::AckSigner;
use crate::{Message, MessageKind, MobilizeError, NotifyError};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use vigie_config::{MessageLanguage, NotifyConfig, PersonConfig, RouteConfig, Target};
use vigie_model::{Clock, CrisisLevel, LevelChange, Signal, Timestamp, WorkspaceId};
use vigie_store::{DeadLetter, NotifyStore, Store};

/// Delivery health of one channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChannelHealth {
    /// Channel id.
    pub channel: String,
    /// Notifier kind.
    pub kind: String,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages dead-lettered.
    pub dead_lettered: u64,
    /// Failed attempts (retried or not).
    pub failed_attempts: u64,
    /// Failures since the last success.
    pub consecutive_failures: u64,
    /// Last delivery.
    pub last_success: Option<Timestamp>,
    /// Last failed attempt.
    pub last_failure: Option<Timestamp>,
    /// Its error.
    pub last_error: Option<String>,
    /// Result of the last active check (`ok` or the error), if one ran.
    pub check: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    open: HashMap<i64, MobilizedIncident>,
    by_watch: HashMap<(String, String), i64>,
    dedup: Dedup,
}

struct Inner {
    config: NotifyConfig,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    signer: AckSigner,
    notifiers: HashMap<String, Arc<dyn Notifier>>,
    state: Mutex<State>,
    health: std::sync::Mutex<HashMap<String, ChannelHealth>>,
    tasks: std::sync::Mutex<JoinSet<()>>,
}

/// Mobilizes people for incidents. Cheap to clone (one shared service).
///
/// The pipeline calls [`Mobilizer::on_level_change`] and [`Mobilizer::on_signal`] for what
/// detection produced, and [`Mobilizer::tick`] periodically (escalations and SLA timers run
/// on the injected [`Clock`], never on a sleeping task). Deliveries run in background tasks
/// with retries; [`Mobilizer::flush`] waits for them.
#[derive(Clone)]
pub struct Mobilizer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Mobilizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mobilizer")
            .field("channels", &self.inner.notifiers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Mobilizer {
    /// Builds every configured channel (secrets from the environment) and the link signer
    /// (key from `ack_secret_env`, or a random key with a warning). Restores open incidents.
    pub async fn from_config(
        config: NotifyConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, MobilizeError> {
        let env = |name: &str| std::env::var(name).ok();
        let mut notifiers = HashMap::new();
        for channel in &config.channels {
            let n = build_notifier(channel, &env)
                .map_err(|e| MobilizeError::Invalid(format!("channel {}: {e}", channel.id)))?;
            notifiers.insert(channel.id.clone(), n);
        }
        let signer = match env(&config.ack_secret_env).filter(|s| s.len() >= 16) {
            Some(key) => AckSigner::new(key.into_bytes()),
            None => {
                tracing::warn!(
                    "{} is not set (or shorter than 16 bytes): acknowledgement links use a random key and stop working after a restart",
                    config.ack_secret_env
                );
                AckSigner::random()
            }
        };
        let m = Self::new(config, store, clock, signer, notifiers)?;
        m.restore().await?;
        Ok(m)
    }

    /// A mobilizer with the given notifiers (by channel id) and signer.
    pub fn new(
        config: NotifyConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        signer: AckSigner,
        notifiers: HashMap<String, Arc<dyn Notifier>>,
    ) -> Result<Self, MobilizeError> {
        if store.notify().is_none() {
            return Err(MobilizeError::Invalid(
                "this store does not keep mobilization data".into(),
            ));
        }
        let health = notifiers
            .iter()
            .map(|(id, n)| {
                (
                    id.clone(),
                    ChannelHealth {
                        channel: id.clone(),
                        kind: n.kind().to_owned(),
                        ..ChannelHealth::default()
                    },
                )
            })
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store,
                clock,
                signer,
                notifiers,
                state: Mutex::new(State::default()),
                health: std::sync::Mutex::new(health),
                tasks: std::sync::Mutex::new(JoinSet::new()),
            }),
        })
    }

    fn nstore(&self) -> Result<&dyn NotifyStore, MobilizeError> {
        self.inner
            .store
            .notify()
            .ok_or_else(|| MobilizeError::Invalid("store without mobilization data".into()))
    }

    /// The configuration in use.
    pub fn config(&self) -> &NotifyConfig {
        &self.inner.config
    }

    /// The clock's now.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Loads the incidents not resolved yet (after a restart).
    pub async fn restore(&self) -> Result<usize, MobilizeError> {
        let records = self.nstore()?.open_mobilizations().await?;
        let mut state = self.inner.state.lock().await;
        for r in &records {
            let m = MobilizedIncident::from_record(r)?;
            // A watch may have an older incident still open (awaiting its resolution note):
            // the newest one follows the watch.
            let slot = state
                .by_watch
                .entry((m.workspace.to_string(), m.watch.to_string()))
                .or_insert(m.id);
            *slot = (*slot).max(m.id);
            state.open.insert(m.id, m);
        }
        Ok(records.len())
    }

    async fn save(&self, m: &mut MobilizedIncident) -> Result<(), MobilizeError> {
        let id = self.nstore()?.save_mobilization(&m.to_record()).await?;
        if m.id == 0 {
            m.id = id;
            // Save again so the document carries its id.
            self.nstore()?.save_mobilization(&m.to_record()).await?;
        }
        Ok(())
    }

    fn routes_for(&self, m: &MobilizedIncident, level: CrisisLevel) -> Vec<(usize, &RouteConfig)> {
        self.inner
            .config
            .routes
            .iter()
            .enumerate()
            .filter(|(_, r)| route_matches(r, m.workspace.as_str(), m.watch.as_str(), level))
            .collect()
    }

    /// Records a detector signal in the open incident of its watch (if any).
    pub async fn on_signal(&self, signal: &Signal) -> Result<(), MobilizeError> {
        let mut state = self.inner.state.lock().await;
        let key = (signal.workspace.to_string(), signal.watch.to_string());
        let Some(id) = state.by_watch.get(&key).copied() else {
            return Ok(());
        };
        let Some(m) = state.open.get_mut(&id) else {
            return Ok(());
        };
        m.push(
            signal.at,
            EntryKind::Signal,
            None,
            format!(
                "{}: {} (observed {:.0}, expected {:.1}, score {:.1})",
                signal.kind.as_str(),
                signal.detail,
                signal.observed,
                signal.expected,
                signal.score
            ),
        );
        let mut copy = m.clone();
        drop(state);
        self.save(&mut copy).await?;
        self.replace(copy).await;
        Ok(())
    }

    async fn replace(&self, m: MobilizedIncident) {
        let mut state = self.inner.state.lock().await;
        if m.status == Status::Resolved {
            state.open.remove(&m.id);
        } else if let Some(slot) = state.open.get_mut(&m.id) {
            // Keep timeline entries appended meanwhile by delivery tasks.
            let extra: Vec<_> = slot
                .timeline
                .iter()
                .skip(m.timeline.len())
                .cloned()
                .collect();
            let mut m = m;
            m.timeline.extend(extra);
            *slot = m;
        }
    }

    /// Handles a level change: opens or updates the watch's incident, notifies the matching
    /// routes (quiet hours, de-duplication), starts the escalation and the SLA timer.
    pub async fn on_level_change(&self, change: &LevelChange) -> Result<i64, MobilizeError> {
        let now = self.now();
        let mut state = self.inner.state.lock().await;
        let key = (change.workspace.to_string(), change.watch.to_string());
        let mut existing = state.by_watch.get(&key).copied();
        // A watch that had returned to calm and leaves it again starts a new crisis, as
        // detection starts a new incident: a new incident, with its own escalation and
        // answer deadline. The previous one stays open until someone resolves it with a
        // note, and its timeline says where the story went on.
        if change.to > CrisisLevel::Calm
            && let Some(id) = existing
            && let Some(old) = state.open.get(&id)
            && old.level == CrisisLevel::Calm
        {
            let mut old = old.clone();
            old.push(
                now,
                EntryKind::Comment,
                None,
                format!(
                    "the watch left calm again (level {}): a new incident follows it",
                    change.to
                ),
            );
            self.save(&mut old).await?;
            state.open.insert(id, old);
            state.by_watch.remove(&key);
            existing = None;
        }
        if existing.is_none() && change.to == CrisisLevel::Calm {
            return Ok(0);
        }
        let mut m = match existing.and_then(|id| state.open.get(&id).cloned()) {
            Some(m) => m,
            None => {
                let mut m = MobilizedIncident {
                    id: 0,
                    workspace: change.workspace.clone(),
                    watch: change.watch.clone(),
                    opened_at: now,
                    closed_at: None,
                    status: Status::Open,
                    level: change.from,
                    peak_level: change.to,
                    explanation: change.explanation.clone(),
                    acknowledgements: Vec::new(),
                    time_to_acknowledge_ms: None,
                    escalation: None,
                    sla: None,
                    resolution: None,
                    timeline: Vec::new(),
                };
                m.push(
                    now,
                    EntryKind::Opened,
                    None,
                    format!("incident opened for {}/{}", m.workspace, m.watch),
                );
                self.save(&mut m).await?;
                state.by_watch.insert(key, m.id);
                state.open.insert(m.id, m.clone());
                m
            }
        };
        m.level = change.to;
        m.peak_level = m.peak_level.max(change.to);
        m.explanation = change.explanation.clone();
        m.push(
            change.at,
            EntryKind::LevelChange,
            None,
            format!(
                "level {} → {}: {}",
                change.from, change.to, change.explanation.summary
            ),
        );
        // SLA timer for level ≥ 2.
        if change.to >= CrisisLevel::Alert && m.sla.is_none() {
            let deadline = now.plus_millis(ms(self.inner.config.first_answer_sla));
            m.sla = Some(Sla {
                deadline,
                warned: false,
                missed: false,
                answered_at: None,
            });
            m.push(
                now,
                EntryKind::SlaStarted,
                None,
                format!("SLA timer started: first public answer due by {deadline}"),
            );
        }
        if change.to == CrisisLevel::Calm
            && let Some(e) = m.escalation.as_mut()
            && e.stopped.is_none()
        {
            e.stopped = Some("back to calm".into());
            e.next_at = None;
            m.push(
                now,
                EntryKind::Escalation,
                None,
                "escalation stopped: the watch is back to calm",
            );
        }
        let mut sends = Vec::new();
        if change.to > change.from && change.to > CrisisLevel::Calm {
            let routes: Vec<(usize, RouteConfig)> = self
                .routes_for(&m, change.to)
                .into_iter()
                .map(|(i, r)| (i, r.clone()))
                .collect();
            let mut deduped = false;
            for (i, route) in &routes {
                if let Some(q) = &route.quiet_hours
                    && change.to < CrisisLevel::Crisis
                    && in_quiet_hours(q, now)
                {
                    m.push(
                        now,
                        EntryKind::NotificationHeld,
                        None,
                        format!("route {} held: quiet hours", i + 1),
                    );
                    continue;
                }
                if !deduped
                    && !state.dedup.admit(
                        m.workspace.as_str(),
                        m.watch.as_str(),
                        change.to,
                        now,
                        self.inner.config.dedup_window,
                    )
                {
                    m.push(
                        now,
                        EntryKind::NotificationHeld,
                        None,
                        format!(
                            "level {} already notified recently: not repeated",
                            change.to
                        ),
                    );
                    break;
                }
                deduped = true;
                for channel in &route.channels {
                    sends.push((channel.clone(), None, MessageKind::Alert));
                }
                if let Some(policy) = &route.policy
                    && m.escalation.is_none()
                    && !m.acknowledged()
                {
                    m.escalation = Some(Escalation {
                        policy: policy.clone(),
                        round: 1,
                        step: 0,
                        next_at: Some(now),
                        stopped: None,
                    });
                }
            }
        }
        self.advance_escalation(&mut m, now, &mut sends);
        state.open.insert(m.id, m.clone());
        drop(state);
        self.save(&mut m).await?;
        let id = m.id;
        for (channel, person, kind) in sends {
            self.dispatch(&m, &channel, person.as_ref(), kind);
        }
        Ok(id)
    }

    /// Moves the escalation forward while its next step is due; queues the sends.
    fn advance_escalation(
        &self,
        m: &mut MobilizedIncident,
        now: Timestamp,
        sends: &mut Vec<(String, Option<PersonConfig>, MessageKind)>,
    ) {
        let acknowledged = m.acknowledged();
        let Some(mut e) = m.escalation.clone() else {
            return;
        };
        let Some(policy) = self.inner.config.policy(&e.policy).cloned() else {
            return;
        };
        while e.stopped.is_none() && !acknowledged && e.next_at.is_some_and(|next| now >= next) {
            // Move to the next step (step 0 means "not started").
            if usize::try_from(e.step).unwrap_or(usize::MAX) >= policy.steps.len() {
                e.round += 1;
                e.step = 0;
            }
            if e.round > policy.rounds {
                e.stopped = Some("exhausted".into());
                e.next_at = None;
                m.push(
                    now,
                    EntryKind::Escalation,
                    None,
                    format!(
                        "escalation exhausted after {} round(s): nobody acknowledged",
                        policy.rounds
                    ),
                );
                break;
            }
            e.step += 1;
            let Some(step) = policy.steps.get(usize::try_from(e.step - 1).unwrap_or(0)) else {
                break;
            };
            // The next deadline counts from now: after a pause (restart, long tick) every
            // step still gets its full time.
            e.next_at = Some(now.plus_millis(ms(step.timeout)));
            let people = self.resolve_targets(&step.targets, now);
            let names: Vec<String> = people
                .iter()
                .map(|(p, why)| format!("{} ({why})", p.name))
                .collect();
            m.push(
                now,
                EntryKind::Escalation,
                None,
                format!(
                    "escalation step {} (round {}): notifying {}",
                    e.step,
                    e.round,
                    if names.is_empty() {
                        "nobody (no one on call)".into()
                    } else {
                        names.join(", ")
                    }
                ),
            );
            for (person, _) in people {
                self.queue_person(
                    m,
                    &person,
                    MessageKind::Escalation {
                        step: e.step,
                        round: e.round,
                    },
                    now,
                    sends,
                );
            }
        }
        m.escalation = Some(e);
    }

    fn queue_person(
        &self,
        m: &mut MobilizedIncident,
        person: &PersonConfig,
        kind: MessageKind,
        now: Timestamp,
        sends: &mut Vec<(String, Option<PersonConfig>, MessageKind)>,
    ) {
        if person.channels.is_empty() {
            m.push(
                now,
                EntryKind::NotificationFailed,
                Some(&person.id),
                format!("{} has no channel configured", person.name),
            );
        }
        for c in &person.channels {
            sends.push((c.clone(), Some(person.clone()), kind));
        }
    }

    /// The people a step's targets name at `now`, each with why (rotation or direct).
    fn resolve_targets(&self, targets: &[Target], now: Timestamp) -> Vec<(PersonConfig, String)> {
        let mut out: Vec<(PersonConfig, String)> = Vec::new();
        for t in targets {
            let (id, why) = match t {
                Target::Person(id) => (Some(id.clone()), "direct".to_owned()),
                Target::Rotation(r) => (
                    self.inner
                        .config
                        .rotation(r)
                        .and_then(|cfg| Rotation::new(cfg).on_call(now))
                        .map(|o| o.person),
                    format!("on call in {r}"),
                ),
            };
            if let Some(p) = id.and_then(|id| self.inner.config.person(&id).cloned())
                && !out.iter().any(|(q, _)| q.id == p.id)
            {
                out.push((p, why));
            }
        }
        out
    }

    /// Runs the timers due at the clock's now: escalation steps and SLA warnings/misses.
    pub async fn tick(&self) -> Result<(), MobilizeError> {
        let now = self.now();
        let mut state = self.inner.state.lock().await;
        let mut changed = Vec::new();
        let ids: Vec<i64> = state.open.keys().copied().collect();
        for id in ids {
            let Some(m) = state.open.get_mut(&id) else {
                continue;
            };
            let before = m.clone();
            let mut sends = Vec::new();
            // SLA first: a warning escalates one step at once.
            if let Some(mut sla) = m.sla.clone()
                && sla.answered_at.is_none()
            {
                let warn_at = sla.deadline.plus_millis(-ms(self.inner.config.sla_warning));
                if !sla.warned && now >= warn_at {
                    sla.warned = true;
                    m.push(
                        now,
                        EntryKind::SlaWarning,
                        None,
                        format!(
                            "first public answer due by {} and none recorded: escalating",
                            sla.deadline
                        ),
                    );
                    self.sla_escalate(m, now, &mut sends);
                }
                if !sla.missed && now >= sla.deadline {
                    sla.missed = true;
                    m.push(
                        now,
                        EntryKind::SlaMissed,
                        None,
                        format!("first public answer deadline {} missed", sla.deadline),
                    );
                }
                m.sla = Some(sla);
            }
            let mut copy = m.clone();
            self.advance_escalation(&mut copy, now, &mut sends);
            *m = copy;
            if *m != before {
                changed.push((m.clone(), sends));
            }
        }
        drop(state);
        for (mut m, sends) in changed {
            self.save(&mut m).await?;
            for (channel, person, kind) in sends {
                self.dispatch(&m, &channel, person.as_ref(), kind);
            }
        }
        Ok(())
    }

    fn sla_escalate(
        &self,
        m: &mut MobilizedIncident,
        now: Timestamp,
        sends: &mut Vec<(String, Option<PersonConfig>, MessageKind)>,
    ) {
        // The next step's people (or, once the policy is done or acknowledged, its last
        // step's) are warned; an unacknowledged escalation jumps to that step.
        let Some(e) = m.escalation.clone() else {
            for (_, r) in self.routes_for(m, m.level) {
                for c in &r.channels {
                    sends.push((c.clone(), None, MessageKind::SlaWarning));
                }
            }
            return;
        };
        let Some(policy) = self.inner.config.policy(&e.policy).cloned() else {
            return;
        };
        let index = usize::try_from(e.step)
            .unwrap_or(0)
            .min(policy.steps.len().saturating_sub(1));
        if let Some(step) = policy.steps.get(index) {
            for (person, _) in self.resolve_targets(&step.targets, now) {
                self.queue_person(m, &person, MessageKind::SlaWarning, now, sends);
            }
            if e.stopped.is_none()
                && !m.acknowledged()
                && let Some(esc) = m.escalation.as_mut()
            {
                esc.step = u32::try_from(index + 1).unwrap_or(u32::MAX);
                esc.next_at = Some(now.plus_millis(ms(step.timeout)));
                m.push(
                    now,
                    EntryKind::Escalation,
                    None,
                    format!("escalation moved to step {} (SLA)", index + 1),
                );
            }
        }
    }

    fn ack_url(&self, m: &MobilizedIncident, person: Option<&str>) -> Option<String> {
        if m.acknowledged() && person.is_none() {
            return None;
        }
        let expires = self.now().plus_millis(ms(self.inner.config.ack_link_ttl));
        let token = self.inner.signer.issue(m.id, person, expires);
        Some(format!("{}/ack/{token}", self.inner.config.public_url))
    }

    /// The message for an incident, in a language, for a person.
    pub fn message(
        &self,
        m: &MobilizedIncident,
        kind: MessageKind,
        person: Option<&PersonConfig>,
    ) -> Message {
        Message {
            kind,
            incident_id: m.id,
            workspace: m.workspace.to_string(),
            watch: m.watch.to_string(),
            level: m.level,
            at: self.now(),
            explanation: m.explanation.clone(),
            sla_deadline: m
                .sla
                .as_ref()
                .filter(|s| s.answered_at.is_none())
                .map(|s| s.deadline),
            ack_url: if kind == MessageKind::Resolved {
                None
            } else {
                self.ack_url(m, person.map(|p| p.id.as_str()))
            },
            // The incidents page (a person on a phone follows it; the JSON of this
            // mobilization stays at /api/v1/workspaces/{ws}/mobilize/incidents/{id}).
            incident_url: format!(
                "{}/w/{}/incidents",
                self.inner.config.public_url, m.workspace
            ),
            language: person.map_or(MessageLanguage::En, |p| p.language),
            recipient_name: person.map(|p| p.name.clone()),
        }
    }

    /// Sends in the background with retries; the outcome lands in the timeline.
    fn dispatch(
        &self,
        m: &MobilizedIncident,
        channel: &str,
        person: Option<&PersonConfig>,
        kind: MessageKind,
    ) {
        let message = self.message(m, kind, person);
        let recipient = Recipient {
            person: person.map(|p| p.id.clone()),
            email: person.and_then(|p| p.email.clone()),
            ntfy_topic: person.and_then(|p| p.ntfy_topic.clone()),
        };
        let this = self.clone();
        let channel = channel.to_owned();
        let workspace = m.workspace.clone();
        let incident = m.id;
        let task = async move {
            this.deliver(Some(incident), &workspace, &channel, &message, &recipient)
                .await;
        };
        if let Ok(mut tasks) = self.inner.tasks.lock() {
            tasks.spawn(task);
        }
    }

    /// One delivery: attempts with exponential backoff, then a dead letter. Outcomes land
    /// in the timeline of `incident` (a mobilization incident) when there is one.
    async fn deliver(
        &self,
        incident: Option<i64>,
        workspace: &WorkspaceId,
        channel: &str,
        message: &Message,
        to: &Recipient,
    ) {
        let retry = &self.inner.config.retry;
        let who = to.person.clone().unwrap_or_else(|| format!("#{channel}"));
        let Some(notifier) = self.inner.notifiers.get(channel).cloned() else {
            self.dead_letter(
                incident,
                workspace,
                channel,
                message,
                to,
                0,
                format!("unknown channel {channel}"),
            )
            .await;
            return;
        };
        let mut backoff = retry.initial_backoff;
        let mut attempt = 0;
        let error = loop {
            attempt += 1;
            match notifier.send(message, to).await {
                Ok(()) => {
                    self.record_health(channel, None);
                    let Some(incident) = incident else {
                        return;
                    };
                    self.append(
                        incident,
                        EntryKind::NotificationSent,
                        Some(&who),
                        format!(
                            "{} sent to {who} via {channel} ({}){}",
                            match message.kind {
                                MessageKind::Alert => "alert".to_owned(),
                                MessageKind::Escalation { step, .. } =>
                                    format!("escalation step {step}"),
                                MessageKind::SlaWarning => "SLA warning".into(),
                                MessageKind::Resolved => "resolution".into(),
                                MessageKind::RoomOpened => "crisis-room notice".into(),
                            },
                            notifier.kind(),
                            if attempt > 1 {
                                format!(" after {attempt} attempts")
                            } else {
                                String::new()
                            }
                        ),
                    )
                    .await;
                    return;
                }
                Err(e) => {
                    self.record_health(channel, Some(&e));
                    tracing::warn!(channel, attempt, error = %e, "notification attempt failed");
                    if !e.is_retryable() || attempt >= retry.attempts {
                        break e;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(retry.max_backoff);
                }
            }
        };
        self.dead_letter(
            incident,
            workspace,
            channel,
            message,
            to,
            attempt,
            error.to_string(),
        )
        .await;
    }

    #[allow(clippy::too_many_arguments)]
    async fn dead_letter(
        &self,
        incident: Option<i64>,
        workspace: &WorkspaceId,
        channel: &str,
        message: &Message,
        to: &Recipient,
        attempts: u32,
        error: String,
    ) {
        if let Ok(mut h) = self.inner.health.lock()
            && let Some(h) = h.get_mut(channel)
        {
            h.dead_lettered += 1;
        }
        let letter = DeadLetter {
            id: 0,
            at: self.now(),
            workspace: workspace.clone(),
            incident_id: incident,
            channel: channel.to_owned(),
            recipient: to.person.clone(),
            attempts,
            error: error.clone(),
            message: serde_json::to_value(message).unwrap_or_default(),
        };
        if let Ok(store) = self.nstore()
            && let Err(e) = store.insert_dead_letter(&letter).await
        {
            tracing::error!(error = %e, "cannot store a dead letter");
        }
        let who = to.person.clone().unwrap_or_else(|| format!("#{channel}"));
        tracing::warn!(channel, recipient = %who, attempts, "notification dead-lettered");
        if let Some(incident) = incident {
            self.append(incident, EntryKind::NotificationFailed, Some(&who), format!(
                "notification to {who} via {channel} failed after {attempts} attempt(s), dead-lettered: {error}"
            )).await;
        }
    }

    fn record_health(&self, channel: &str, error: Option<&NotifyError>) {
        let now = self.now();
        if let Ok(mut h) = self.inner.health.lock()
            && let Some(h) = h.get_mut(channel)
        {
            match error {
                None => {
                    h.delivered += 1;
                    h.consecutive_failures = 0;
                    h.last_success = Some(now);
                }
                Some(e) => {
                    h.failed_attempts += 1;
                    h.consecutive_failures += 1;
                    h.last_failure = Some(now);
                    h.last_error = Some(e.to_string());
                }
            }
        }
    }

    /// Appends an entry to an incident (open or not) and saves it.
    async fn append(&self, id: i64, kind: EntryKind, actor: Option<&str>, text: String) {
        let now = self.now();
        let result: Result<(), MobilizeError> = async {
            let mut state = self.inner.state.lock().await;
            let mut m = match state.open.get_mut(&id) {
                Some(m) => {
                    m.push(now, kind, actor, text);
                    m.clone()
                }
                None => {
                    let Some(r) = self.nstore()?.get_mobilization(id).await? else {
                        return Ok(());
                    };
                    let mut m = MobilizedIncident::from_record(&r)?;
                    m.push(now, kind, actor, text);
                    m
                }
            };
            self.save(&mut m).await
        }
        .await;
        if let Err(e) = result {
            tracing::error!(incident = id, error = %e, "cannot record a timeline entry");
        }
    }

    /// Waits until every delivery started so far (and those they start) is finished.
    pub async fn flush(&self) {
        loop {
            let mut set = match self.inner.tasks.lock() {
                Ok(mut t) => std::mem::take(&mut *t),
                Err(_) => return,
            };
            if set.is_empty() {
                return;
            }
            while set.join_next().await.is_some() {}
        }
    }

    async fn update<F>(&self, id: i64, f: F) -> Result<MobilizedIncident, MobilizeError>
    where
        F: FnOnce(
            &mut MobilizedIncident,
            Timestamp,
        )
            -> Result<Vec<(String, Option<PersonConfig>, MessageKind)>, MobilizeError>,
    {
        let now = self.now();
        let mut state = self.inner.state.lock().await;
        let mut m = match state.open.get(&id) {
            Some(m) => m.clone(),
            None => {
                let r = self
                    .nstore()?
                    .get_mobilization(id)
                    .await?
                    .ok_or(MobilizeError::NotFound(id))?;
                MobilizedIncident::from_record(&r)?
            }
        };
        let sends = f(&mut m, now)?;
        self.save(&mut m).await?;
        if m.status == Status::Resolved {
            state.open.remove(&id);
            let key = (m.workspace.to_string(), m.watch.to_string());
            if state.by_watch.get(&key) == Some(&id) {
                state.by_watch.remove(&key);
            }
        } else {
            state.open.insert(id, m.clone());
        }
        drop(state);
        for (channel, person, kind) in sends {
            self.dispatch(&m, &channel, person.as_ref(), kind);
        }
        Ok(m)
    }

    /// Records an acknowledgement (every one is kept); the first stops the escalation and
    /// fixes the time to acknowledge.
    pub async fn acknowledge(
        &self,
        id: i64,
        by: &str,
        via: &str,
    ) -> Result<MobilizedIncident, MobilizeError> {
        let by = by.trim();
        if by.is_empty() {
            return Err(MobilizeError::Invalid(
                "who acknowledges must be given".into(),
            ));
        }
        self.update(id, |m, now| {
            if m.status == Status::Resolved {
                return Err(MobilizeError::Invalid(format!(
                    "incident {id} is already resolved"
                )));
            }
            if m.acknowledgements.is_empty() {
                m.time_to_acknowledge_ms = Some(now.millis_since(m.opened_at));
            }
            m.acknowledgements.push(Acknowledgement {
                by: by.to_owned(),
                at: now,
                via: via.to_owned(),
            });
            m.status = Status::Acknowledged;
            let tta = m.time_to_acknowledge_ms.unwrap_or(0) / 1000;
            m.push(
                now,
                EntryKind::Acknowledged,
                Some(by),
                format!(
                    "acknowledged by {by} via {via} (time to acknowledge {}m{:02}s)",
                    tta / 60,
                    tta % 60
                ),
            );
            if let Some(e) = m.escalation.as_mut()
                && e.stopped.is_none()
            {
                e.stopped = Some(format!("acknowledged by {by}"));
                e.next_at = None;
                m.push(
                    now,
                    EntryKind::Escalation,
                    None,
                    format!("escalation stopped: acknowledged by {by}"),
                );
            }
            Ok(Vec::new())
        })
        .await
    }

    /// Checks a link without using it (for the confirmation page).
    pub fn check_link(&self, token: &str) -> Result<crate::AckClaims, MobilizeError> {
        self.inner
            .signer
            .verify(token, self.now())
            .map_err(|e| MobilizeError::Link(e.as_str()))
    }

    /// Acknowledges through a signed link: valid signature, not expired, never used before.
    pub async fn acknowledge_link(&self, token: &str) -> Result<MobilizedIncident, MobilizeError> {
        let claims = self.check_link(token)?;
        let first = self
            .nstore()?
            .use_link(
                &claims.nonce,
                claims.incident,
                self.now(),
                Timestamp::from_millis(claims.expires_ms),
            )
            .await?;
        if !first {
            return Err(MobilizeError::Link("link already used"));
        }
        let by = claims
            .person
            .clone()
            .unwrap_or_else(|| "someone with the link".into());
        self.acknowledge(claims.incident, &by, "link").await
    }

    /// Adds a comment.
    pub async fn comment(
        &self,
        id: i64,
        by: &str,
        text: &str,
    ) -> Result<MobilizedIncident, MobilizeError> {
        let (by, text) = (by.trim().to_owned(), text.trim().to_owned());
        if by.is_empty() || text.is_empty() {
            return Err(MobilizeError::Invalid(
                "a comment needs an author and a text".into(),
            ));
        }
        self.update(id, |m, now| {
            m.push(now, EntryKind::Comment, Some(&by), text);
            Ok(Vec::new())
        })
        .await
    }

    /// Records the first public answer (stops the SLA timer).
    pub async fn public_answer(
        &self,
        id: i64,
        by: &str,
        text: &str,
    ) -> Result<MobilizedIncident, MobilizeError> {
        let by = by.trim().to_owned();
        if by.is_empty() {
            return Err(MobilizeError::Invalid("who answered must be given".into()));
        }
        let text = text.trim().to_owned();
        self.update(id, |m, now| {
            if let Some(sla) = m.sla.as_mut()
                && sla.answered_at.is_none()
            {
                sla.answered_at = Some(now);
            }
            m.push(
                now,
                EntryKind::PublicAnswer,
                Some(&by),
                if text.is_empty() {
                    "public answer published".to_owned()
                } else {
                    format!("public answer: {text}")
                },
            );
            Ok(Vec::new())
        })
        .await
    }

    /// Resolves with a required note; tells the routes' channels.
    pub async fn resolve(
        &self,
        id: i64,
        by: &str,
        note: &str,
    ) -> Result<MobilizedIncident, MobilizeError> {
        let (by, note) = (by.trim().to_owned(), note.trim().to_owned());
        if note.is_empty() {
            return Err(MobilizeError::Invalid(
                "a resolution note is required".into(),
            ));
        }
        if by.is_empty() {
            return Err(MobilizeError::Invalid("who resolves must be given".into()));
        }
        let routes = self.inner.config.routes.clone();
        self.update(id, |m, now| {
            if m.status == Status::Resolved {
                return Err(MobilizeError::Invalid(format!(
                    "incident {id} is already resolved"
                )));
            }
            m.status = Status::Resolved;
            m.closed_at = Some(now);
            m.resolution = Some(Resolution {
                by: by.clone(),
                at: now,
                note: note.clone(),
            });
            if let Some(e) = m.escalation.as_mut()
                && e.stopped.is_none()
            {
                e.stopped = Some("resolved".into());
                e.next_at = None;
            }
            m.push(
                now,
                EntryKind::Resolved,
                Some(&by),
                format!("resolved by {by}: {note}"),
            );
            let mut sends = Vec::new();
            for r in routes
                .iter()
                .filter(|r| route_matches(r, m.workspace.as_str(), m.watch.as_str(), m.peak_level))
            {
                for c in &r.channels {
                    if !sends
                        .iter()
                        .any(|(s, _, _): &(String, Option<PersonConfig>, MessageKind)| s == c)
                    {
                        sends.push((c.clone(), None, MessageKind::Resolved));
                    }
                }
            }
            Ok(sends)
        })
        .await
    }

    /// One incident (open or not).
    pub async fn incident(&self, id: i64) -> Result<MobilizedIncident, MobilizeError> {
        if let Some(m) = self.inner.state.lock().await.open.get(&id) {
            return Ok(m.clone());
        }
        let r = self
            .nstore()?
            .get_mobilization(id)
            .await?
            .ok_or(MobilizeError::NotFound(id))?;
        Ok(MobilizedIncident::from_record(&r)?)
    }

    /// Incidents of a workspace, most recent first.
    pub async fn incidents(
        &self,
        workspace: &WorkspaceId,
        limit: u32,
    ) -> Result<Vec<MobilizedIncident>, MobilizeError> {
        let records = self.nstore()?.list_mobilizations(workspace, limit).await?;
        records
            .iter()
            .map(|r| MobilizedIncident::from_record(r).map_err(MobilizeError::from))
            .collect()
    }

    /// Tells `people` (person ids of `[[notify.people]]`) that a crisis room opened on an
    /// incident of `watch`, through each one's personal channels, in their language, with
    /// the same retries and dead letters as alerts. `summary` is `(English, French)`;
    /// `url` opens the room. Deliveries land in the timeline of the watch's open
    /// mobilization incident, if there is one. Returns the ids that name nobody.
    pub async fn notify_people(
        &self,
        workspace: &WorkspaceId,
        watch: &vigie_model::WatchId,
        level: CrisisLevel,
        people: &[String],
        summary: (&str, &str),
        url: &str,
    ) -> Vec<String> {
        let incident = self
            .open_incidents()
            .await
            .into_iter()
            .find(|m| &m.workspace == workspace && &m.watch == watch)
            .map(|m| m.id);
        let mut unknown = Vec::new();
        for id in people {
            let Some(person) = self.inner.config.people.iter().find(|p| &p.id == id) else {
                unknown.push(id.clone());
                continue;
            };
            let fr = person.language == MessageLanguage::Fr;
            let message = Message {
                kind: MessageKind::RoomOpened,
                incident_id: incident.unwrap_or(0),
                workspace: workspace.to_string(),
                watch: watch.to_string(),
                level,
                at: self.now(),
                explanation: vigie_model::Explanation {
                    summary: if fr { summary.1 } else { summary.0 }.to_owned(),
                    ..vigie_model::Explanation::default()
                },
                sla_deadline: None,
                ack_url: None,
                incident_url: url.to_owned(),
                language: person.language,
                recipient_name: Some(person.name.clone()),
            };
            let recipient = Recipient {
                person: Some(person.id.clone()),
                email: person.email.clone(),
                ntfy_topic: person.ntfy_topic.clone(),
            };
            for channel in &person.channels {
                let this = self.clone();
                let channel = channel.clone();
                let workspace = workspace.clone();
                let message = message.clone();
                let recipient = recipient.clone();
                let task = async move {
                    this.deliver(incident, &workspace, &channel, &message, &recipient)
                        .await;
                };
                if let Ok(mut tasks) = self.inner.tasks.lock() {
                    tasks.spawn(task);
                }
            }
        }
        unknown
    }

    /// Open incidents with their escalation state.
    pub async fn open_incidents(&self) -> Vec<MobilizedIncident> {
        let mut v: Vec<_> = self
            .inner
            .state
            .lock()
            .await
            .open
            .values()
            .cloned()
            .collect();
        v.sort_by_key(|m| m.id);
        v
    }

    /// Who is on call in every rotation at `at`.
    pub fn on_call(&self, at: Timestamp) -> Vec<OnCall> {
        self.inner
            .config
            .rotations
            .iter()
            .filter_map(|r| Rotation::new(r).on_call(at))
            .collect()
    }

    /// Dead letters of a workspace, newest first.
    pub async fn dead_letters(
        &self,
        workspace: &WorkspaceId,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, MobilizeError> {
        Ok(self.nstore()?.list_dead_letters(workspace, limit).await?)
    }

    /// Delivery health of every channel; with `check`, runs each notifier's health check.
    pub async fn health(&self, check: bool) -> Vec<ChannelHealth> {
        if check {
            for (id, n) in &self.inner.notifiers {
                let result = match n.healthcheck().await {
                    Ok(()) => "ok".to_owned(),
                    Err(e) => e.to_string(),
                };
                if let Ok(mut h) = self.inner.health.lock()
                    && let Some(h) = h.get_mut(id)
                {
                    h.check = Some(result);
                }
            }
        }
        let mut out: Vec<ChannelHealth> = self
            .inner
            .health
            .lock()
            .map(|h| h.values().cloned().collect())
            .unwrap_or_default();
        out.sort_by(|a, b| a.channel.cmp(&b.channel));
        out
    }

    /// Spawns a task calling [`Mobilizer::tick`] every `every` until `shutdown` resolves.
    pub fn spawn_ticker(
        &self,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            tokio::pin!(shutdown);
            loop {
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = interval.tick() => {
                        if let Err(e) = this.tick().await {
                            tracing::error!(error = %e, "mobilizer tick failed");
                        }
                    }
                }
            }
        })
    }
}
