//! The sink stage: store, detect, persist what the detectors found, then checkpoint.

use crate::enrich::EnrichedBatch;
use crate::{PipelineError, PipelineEvent, PipelineReport, TickMode, telemetry};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use vigie_config::Config;
use vigie_detect::{IncidentTracker, MonitorOutput, WatchMonitor};
use vigie_model::{Clock, EnrichedMention, Timestamp, WatchId, WorkspaceId};
use vigie_store::Store;

/// Attempts to store a batch before giving up on it.
const STORE_ATTEMPTS: u32 = 5;
/// Event time between two ticks of the detectors.
const TICK_MS: i64 = 60_000;
/// Batches between two saves of the detector states.
const STATE_SAVE_EVERY: u64 = 2_000;

type WatchKey = (WorkspaceId, WatchId);

/// The state of the sink task.
#[derive(Debug)]
pub(crate) struct Sink {
    store: Arc<dyn Store>,
    events: Option<mpsc::UnboundedSender<PipelineEvent>>,
    monitors: BTreeMap<WatchKey, WatchMonitor>,
    incidents: BTreeMap<WatchKey, IncidentTracker>,
    /// Watches of each workspace, to tick them all.
    watches: BTreeMap<WorkspaceId, Vec<WatchId>>,
    /// Event time of the last tick, per workspace.
    last_tick: BTreeMap<WorkspaceId, Timestamp>,
    /// Sources whose batch failed to store: their cursor is no longer saved in this run, so
    /// a restart replays from before the failure.
    poisoned: BTreeSet<(WorkspaceId, String)>,
    out: MonitorOutput,
    pending_signals: Vec<vigie_model::Signal>,
    pending_levels: Vec<vigie_model::LevelChange>,
    report: PipelineReport,
    batches: u64,
    /// A level changed since [`Sink::take_level_changed`] was last called.
    level_changed: bool,
    /// Per workspace with sources: their delivery regularity, checked on clock ticks (a
    /// source that stops delivering raises `SourceSilent` on the workspace's first watch).
    silence: BTreeMap<WorkspaceId, vigie_detect::SourceSilence>,
}

impl Sink {
    /// Builds one monitor per configured watch, restoring saved detector states.
    pub(crate) async fn restore(
        config: &Config,
        store: Arc<dyn Store>,
        events: Option<mpsc::UnboundedSender<PipelineEvent>>,
    ) -> Result<Self, PipelineError> {
        Self::restore_owned(config, store, events, &|_, _| true).await
    }

    /// Like [`Sink::restore`], but with monitors only for the watches `owns` accepts (a
    /// detector partition); the others' mentions still move event time forward.
    pub(crate) async fn restore_owned(
        config: &Config,
        store: Arc<dyn Store>,
        events: Option<mpsc::UnboundedSender<PipelineEvent>>,
        owns: &(dyn Fn(&WorkspaceId, &WatchId) -> bool + Sync),
    ) -> Result<Self, PipelineError> {
        let mut monitors = BTreeMap::new();
        let mut incidents = BTreeMap::new();
        let mut watches = BTreeMap::new();
        let mut last_tick = BTreeMap::new();
        let mut silence = BTreeMap::new();
        for ws in &config.workspaces {
            for w in ws.watches.iter().filter(|w| owns(&ws.id, &w.id)) {
                let (monitor, tracker, tick) =
                    restore_watch(config, store.as_ref(), &ws.id, &w.id).await?;
                monitors.insert((ws.id.clone(), w.id.clone()), monitor);
                incidents.insert((ws.id.clone(), w.id.clone()), tracker);
                if let Some(t) = tick {
                    let e = last_tick.entry(ws.id.clone()).or_insert(t);
                    *e = (*e).max(t);
                }
            }
            watches.insert(
                ws.id.clone(),
                ws.watches.iter().map(|w| w.id.clone()).collect(),
            );
            if let Some(first) = ws.watches.first()
                && !ws.sources.is_empty()
                && owns(&ws.id, &first.id)
            {
                silence.insert(
                    ws.id.clone(),
                    vigie_detect::SourceSilence::new(
                        ws.id.clone(),
                        first.id.clone(),
                        &vigie_detect::SilenceConfig::default(),
                    ),
                );
            }
        }
        Ok(Self {
            store,
            events,
            monitors,
            incidents,
            watches,
            last_tick,
            poisoned: BTreeSet::new(),
            out: MonitorOutput::default(),
            pending_signals: Vec::new(),
            pending_levels: Vec::new(),
            report: PipelineReport::default(),
            batches: 0,
            level_changed: false,
            silence,
        })
    }

    pub(crate) async fn handle(&mut self, stored: StoredBatch) {
        let StoredBatch { batch, new } = stored;
        let Some(new) = new else {
            if let Some(source) = &batch.source {
                self.poisoned
                    .insert((batch.workspace.clone(), source.clone()));
            }
            return;
        };
        let detect_started = Instant::now();
        if let (Some(source), false) = (&batch.source, batch.mentions.is_empty())
            && let Some(silence) = self.silence.get_mut(&batch.workspace)
        {
            // Delivery time, not publication time: silence is about the connector.
            silence.observe(source, Timestamp::from_millis(batch.entered_ms));
        }
        for (m, _) in batch.mentions.iter().zip(&new).filter(|(_, n)| **n) {
            self.observe(m);
        }
        self.persist_outputs().await;
        telemetry::batch_seconds("detect", detect_started.elapsed().as_secs_f64());

        if let (Some(source), Some(cursor)) = (&batch.source, &batch.cursor) {
            let key = (batch.workspace.clone(), source.clone());
            if !self.poisoned.contains(&key)
                && let Err(e) = self
                    .store
                    .save_checkpoint(&batch.workspace, source, cursor)
                    .await
            {
                tracing::error!(source = %source, error = %e, "cannot save checkpoint");
            }
        }
        self.batches += 1;
        if self.batches.is_multiple_of(STATE_SAVE_EVERY) {
            self.save_states().await;
        }
    }

    /// Feeds one new mention to the monitors of its matched watches, ticking the workspace's
    /// monitors first when event time crossed a tick boundary.
    fn observe(&mut self, m: &EnrichedMention) {
        let t = m.event_time();
        let due = self
            .last_tick
            .get(&m.workspace)
            .is_none_or(|last| t.floor_to(TICK_MS) > *last);
        if due {
            self.tick_workspace(&m.workspace.clone(), t.floor_to(TICK_MS));
        }
        for watch in &m.enrichment.matched_watches {
            if let Some(monitor) = self.monitors.get_mut(&(m.workspace.clone(), watch.clone())) {
                monitor.observe(m, &mut self.out);
                self.route_output(&m.workspace, watch);
            }
        }
    }

    fn tick_workspace(&mut self, ws: &WorkspaceId, now: Timestamp) {
        self.last_tick.insert(ws.clone(), now);
        let Some(watches) = self.watches.get(ws).cloned() else {
            return;
        };
        for watch in watches {
            if let Some(monitor) = self.monitors.get_mut(&(ws.clone(), watch.clone())) {
                monitor.tick(now, &mut self.out);
                self.route_output(ws, &watch);
            }
        }
    }

    /// Hands what a monitor just produced to its incident tracker (the pending output is
    /// persisted after the batch).
    fn route_output(&mut self, ws: &WorkspaceId, watch: &WatchId) {
        if self.out.is_empty() {
            return;
        }
        if let Some(tracker) = self.incidents.get_mut(&(ws.clone(), watch.clone())) {
            tracker.apply(&self.out);
        }
        self.pending_signals.append(&mut self.out.signals);
        self.pending_levels.append(&mut self.out.level_changes);
        self.out.clear();
    }

    /// Stores the signals, level changes and incidents produced since the last call, and
    /// tells the observers.
    async fn persist_outputs(&mut self) {
        if !self.pending_signals.is_empty() {
            let signals = std::mem::take(&mut self.pending_signals);
            if let Err(e) = self.store.insert_signals(&signals).await {
                tracing::error!(error = %e, "cannot store {} signals", signals.len());
            }
            self.report.signals += signals.len() as u64;
            for s in signals {
                telemetry::signal(s.kind.as_str());
                self.emit(PipelineEvent::Signal(s));
            }
        }
        if !self.pending_levels.is_empty() {
            self.level_changed = true;
        }
        for change in std::mem::take(&mut self.pending_levels) {
            if let Err(e) = self.store.record_level_change(&change).await {
                tracing::error!(watch = %change.watch, error = %e, "cannot store a level change");
            }
            self.report.level_changes += 1;
            telemetry::level_change(change.to.as_str());
            tracing::info!(workspace = %change.workspace, watch = %change.watch,
                from = change.from.as_u8(), to = change.to.as_u8(), "{}", change.explanation.summary);
            self.emit(PipelineEvent::LevelChanged(change));
        }
        let mut updated = Vec::new();
        for tracker in self.incidents.values_mut() {
            updated.extend(tracker.take_dirty());
        }
        for mut incident in updated {
            match self.store.save_incident(&incident).await {
                Ok(id) => {
                    incident.id = id;
                    if let Some(tracker) = self
                        .incidents
                        .get_mut(&(incident.workspace.clone(), incident.watch.clone()))
                    {
                        tracker.set_id(
                            &incident.workspace,
                            &incident.watch,
                            incident.opened_at,
                            id,
                        );
                    }
                    self.emit(PipelineEvent::IncidentUpdated(incident));
                }
                Err(e) => {
                    tracing::error!(watch = %incident.watch, error = %e, "cannot store an incident")
                }
            }
        }
    }

    fn emit(&self, event: PipelineEvent) {
        if let Some(tx) = &self.events {
            // An observer that went away does not stop the pipeline.
            let _ = tx.send(event);
        }
    }

    async fn save_states(&self) {
        for s in self.states() {
            if let Err(e) = self
                .store
                .save_detector_state(&s.workspace, &s.watch, &s.state)
                .await
            {
                tracing::error!(watch = %s.watch, error = %e, "cannot save detector state");
            }
        }
    }

    /// The serialized state of every monitor and incident tracker, with the event time of
    /// the workspace's last tick.
    pub(crate) fn states(&self) -> Vec<vigie_store::WatchState> {
        self.monitors
            .iter()
            .map(|((ws, watch), monitor)| {
                let incidents = self
                    .incidents
                    .get(&(ws.clone(), watch.clone()))
                    .map(IncidentTracker::state)
                    .unwrap_or_default();
                let last_tick = self.last_tick.get(ws).map(|t| t.as_millis());
                vigie_store::WatchState {
                    workspace: ws.clone(),
                    watch: watch.clone(),
                    state: serde_json::json!({
                        "monitor": monitor.state(),
                        "incidents": incidents,
                        "last_tick": last_tick,
                    }),
                }
            })
            .collect()
    }

    /// Whether a level changed since the last call (for latency metrics).
    pub(crate) fn take_level_changed(&mut self) -> bool {
        std::mem::take(&mut self.level_changed)
    }

    /// The counts so far.
    pub(crate) fn report(&self) -> PipelineReport {
        self.report
    }

    /// A clock tick (live mode): close the windows of every workspace up to `now`.
    pub(crate) async fn tick_clock(&mut self, now: Timestamp) {
        let workspaces: Vec<WorkspaceId> = self.watches.keys().cloned().collect();
        for ws in workspaces {
            let now = now.floor_to(TICK_MS);
            if self.last_tick.get(&ws).is_none_or(|last| now > *last) {
                self.tick_workspace(&ws, now);
            }
        }
        for silence in self.silence.values_mut() {
            self.pending_signals.extend(silence.tick(now));
        }
        self.persist_outputs().await;
    }

    async fn finish(mut self) -> PipelineReport {
        self.persist_outputs().await;
        self.save_states().await;
        self.report
    }
}

/// A batch after the store stage: `new` says which mentions were stored for the first time,
/// or is `None` when the batch could not be stored.
#[derive(Debug)]
pub(crate) struct StoredBatch {
    pub(crate) batch: EnrichedBatch,
    pub(crate) new: Option<Vec<bool>>,
}

/// The store stage: one transaction per batch, retried with backoff. It runs beside the
/// detection stage so that storing batch N+1 overlaps detecting on batch N.
pub(crate) async fn run_store(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<EnrichedBatch>,
    tx: mpsc::Sender<StoredBatch>,
    clock: Arc<dyn Clock>,
) -> PipelineReport {
    let mut report = PipelineReport::default();
    while let Some(batch) = rx.recv().await {
        let started = Instant::now();
        let n = batch.mentions.len() as u64;
        report.received += n;
        let new = if batch.failed {
            None
        } else {
            store_with_retry(store.as_ref(), &batch.mentions).await
        };
        match &new {
            Some(new) => {
                batch.receipts.confirm();
                let stored = new.iter().filter(|&&n| n).count() as u64;
                report.stored += stored;
                report.duplicates += n - stored;
                telemetry::mentions_stored(stored, n - stored);
            }
            None => {
                batch.receipts.fail();
                report.failed_batches += 1;
            }
        }
        if batch.entered_ms > 0 {
            telemetry::latency(
                "published_to_stored",
                clock.now().as_millis() - batch.entered_ms,
            );
        }
        telemetry::batch_seconds("store", started.elapsed().as_secs_f64());
        if tx.send(StoredBatch { batch, new }).await.is_err() {
            tracing::error!("detection stopped; the store stage stops");
            break;
        }
    }
    report
}

async fn store_with_retry(store: &dyn Store, mentions: &[EnrichedMention]) -> Option<Vec<bool>> {
    let mut delay = Duration::from_millis(100);
    for attempt in 1..=STORE_ATTEMPTS {
        match store.insert_mentions(mentions).await {
            Ok(new) => return Some(new),
            Err(e) => {
                telemetry::store_error();
                tracing::error!(attempt, error = %e, "cannot store a batch of {} mentions", mentions.len());
                if attempt < STORE_ATTEMPTS {
                    tokio::time::sleep(delay).await;
                    delay *= 4;
                }
            }
        }
    }
    None
}

/// A watch's monitor and incident tracker, continued from the state saved at the last
/// shutdown when there is a usable one (otherwise fresh, with a new warm-up), and the event
/// time of the last tick saved with it.
async fn restore_watch(
    config: &Config,
    store: &dyn Store,
    ws: &WorkspaceId,
    watch: &WatchId,
) -> Result<(WatchMonitor, IncidentTracker, Option<Timestamp>), PipelineError> {
    let fresh = || {
        (
            WatchMonitor::new(ws.clone(), watch.clone(), &config.detection),
            IncidentTracker::new(config.detection.window_minutes),
            None,
        )
    };
    let (mut monitor, mut tracker, _) = fresh();
    let mut last_tick = None;
    if let Some(state) = store.load_detector_state(ws, watch).await? {
        let restored = state
            .get("monitor")
            .map_or(Ok(()), |m| monitor.restore(m))
            .and_then(|()| {
                state
                    .get("incidents")
                    .map_or(Ok(()), |i| tracker.restore(i))
            });
        if let Err(e) = restored {
            tracing::warn!(workspace = %ws, watch = %watch, error = %e,
                "saved detector state unusable; starting from scratch");
            return Ok(fresh());
        }
        last_tick = state
            .get("last_tick")
            .and_then(serde_json::Value::as_i64)
            .map(Timestamp::from_millis);
    }
    Ok((monitor, tracker, last_tick))
}

/// Runs until the enrichment stage closes its channel, then saves the detector states.
pub(crate) async fn run_sink(
    mut sink: Sink,
    mut rx: mpsc::Receiver<StoredBatch>,
    tick: TickMode,
    clock: Arc<dyn Clock>,
) -> PipelineReport {
    // Latency of a batch through detection, and when a level changed on it.
    let observe = |sink: &mut Sink, entered_ms: i64| {
        if entered_ms > 0 {
            let ms = clock.now().as_millis() - entered_ms;
            telemetry::latency("published_to_detected", ms);
            if sink.take_level_changed() {
                telemetry::latency("published_to_level_change", ms);
            }
        }
    };
    match tick {
        TickMode::EventTime => {
            while let Some(batch) = rx.recv().await {
                let entered = batch.batch.entered_ms;
                sink.handle(batch).await;
                observe(&mut sink, entered);
            }
        }
        TickMode::Clock { clock, every } => {
            // No tick at start-up, and none while batches keep coming: a backlog (after a
            // restart, a slow source catching up) is then detected in its own event time
            // instead of being counted as late mentions in the current bucket.
            let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_batch = tokio::time::Instant::now();
            loop {
                tokio::select! {
                    batch = rx.recv() => match batch {
                        Some(batch) => {
                            let entered = batch.batch.entered_ms;
                            sink.handle(batch).await;
                            observe(&mut sink, entered);
                            last_batch = tokio::time::Instant::now();
                        }
                        None => break,
                    },
                    _ = interval.tick() => {
                        if last_batch.elapsed() >= every {
                            sink.tick_clock(clock.now()).await;
                        }
                    }
                }
            }
        }
    }
    sink.finish().await
}
