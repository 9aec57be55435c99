//! Where the stages are wired: the one file that knows the whole topology.

use crate::enrich::run_enrichment;
use crate::sink::{Sink, run_sink, run_store};
use crate::sources::spawn_connector;
use crate::{Envelope, Ingest, PipelineError, PipelineEvent, PipelineReport};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use vigie_config::Config;
use vigie_connect::Connector;
use vigie_enrich::{Enricher, WatchSpec};
use vigie_model::{Clock, SystemClock, WorkspaceId};
use vigie_store::{Store, WatchRecord};

/// How detectors learn that time passes.
#[derive(Debug, Clone)]
pub enum TickMode {
    /// Only from mention timestamps (replays, imports, the demo, benchmarks).
    EventTime,
    /// From mention timestamps and from a clock read every `every` (live service), so that a
    /// watch whose mentions stop still sees its windows close.
    Clock {
        /// The clock.
        clock: Arc<dyn Clock>,
        /// Tick period.
        every: Duration,
    },
}

/// Configures and starts a pipeline.
#[derive(Debug)]
pub struct PipelineBuilder {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    capacity: usize,
    enrich_parallelism: usize,
    tick: TickMode,
    clock: Arc<dyn Clock>,
    events: Option<mpsc::UnboundedSender<PipelineEvent>>,
    neural: Option<Arc<vigie_enrich::NeuralSentiment>>,
}

impl PipelineBuilder {
    /// A pipeline for the workspaces of `config`, storing into `store`.
    pub fn new(config: Arc<Config>, store: Arc<dyn Store>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            config,
            store,
            capacity: 16,
            enrich_parallelism: cores.clamp(1, 8),
            tick: TickMode::EventTime,
            clock: Arc::new(SystemClock),
            events: None,
            neural: None,
        }
    }

    /// Batches that may wait between two stages (default 16). Smaller means less memory and
    /// earlier backpressure.
    pub fn channel_capacity(mut self, batches: usize) -> Self {
        self.capacity = batches.max(1);
        self
    }

    /// Batches enriched at the same time (default: the number of cores, at most 8).
    pub fn enrich_parallelism(mut self, n: usize) -> Self {
        self.enrich_parallelism = n.max(1);
        self
    }

    /// How detectors see time pass (default [`TickMode::EventTime`]).
    pub fn tick_mode(mut self, tick: TickMode) -> Self {
        self.tick = tick;
        self
    }

    /// The clock used to stamp `received_at` on mentions that lack it.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Where to send [`PipelineEvent`]s (signals, level changes, incidents).
    pub fn events(mut self, tx: mpsc::UnboundedSender<PipelineEvent>) -> Self {
        self.events = Some(tx);
        self
    }

    /// The neural sentiment engine for mentions that match a watch (the others, and every
    /// mention without it, get the fast engine). `vigie serve` passes
    /// `vigie_enrich::neural::shared(..)`, which is `None` when the weights are not installed.
    pub fn neural(mut self, engine: Option<Arc<vigie_enrich::NeuralSentiment>>) -> Self {
        self.neural = engine;
        self
    }

    /// Records the configured watches in the store, restores detector states, and starts
    /// the enrichment and sink tasks.
    pub async fn start(self) -> Result<RunningPipeline, PipelineError> {
        let enrichers =
            prepare_workspaces(&self.config, self.store.as_ref(), self.neural.as_ref()).await?;
        let sink = Sink::restore(&self.config, self.store.clone(), self.events).await?;

        let (in_tx, in_rx) = mpsc::channel::<Envelope>(self.capacity);
        let (mid_tx, mid_rx) = mpsc::channel(self.capacity);
        let enrich = tokio::spawn(run_enrichment(
            in_rx,
            mid_tx,
            enrichers,
            self.clock.clone(),
            self.enrich_parallelism,
        ));
        let (stored_tx, stored_rx) = mpsc::channel(self.capacity);
        let store_stage = tokio::spawn(run_store(
            self.store.clone(),
            mid_rx,
            stored_tx,
            self.clock.clone(),
        ));
        let sink = tokio::spawn(run_sink(sink, stored_rx, self.tick, self.clock.clone()));
        let (stop_tx, _) = watch::channel(false);
        Ok(RunningPipeline {
            ingest: Ingest { tx: in_tx },
            store: self.store,
            stop_tx,
            sources: Vec::new(),
            enrich,
            store_stage,
            sink,
        })
    }
}

/// Records the configured watches of every workspace in the store and builds one enricher
/// per workspace.
pub(crate) async fn prepare_workspaces(
    config: &Config,
    store: &dyn Store,
    neural: Option<&Arc<vigie_enrich::NeuralSentiment>>,
) -> Result<BTreeMap<WorkspaceId, Arc<Enricher>>, PipelineError> {
    let mut enrichers = BTreeMap::new();
    for ws in &config.workspaces {
        let records: Vec<WatchRecord> = ws
            .watches
            .iter()
            .map(|w| WatchRecord {
                id: w.id.clone(),
                name: w.name.clone(),
                query: w.query.source().to_owned(),
                languages: w.languages.clone(),
                own_accounts: w.own_accounts.clone(),
                active: true,
            })
            .collect();
        store.sync_watches(&ws.id, &records).await?;
        let specs = ws
            .watches
            .iter()
            .map(|w| WatchSpec {
                id: w.id.clone(),
                query: w.query.clone(),
                languages: w.languages.clone(),
                own_accounts: w.own_accounts.clone(),
            })
            .collect();
        enrichers.insert(
            ws.id.clone(),
            Arc::new(Enricher::new(specs).with_neural(neural.cloned())),
        );
    }
    Ok(enrichers)
}

/// A started pipeline.
#[derive(Debug)]
pub struct RunningPipeline {
    ingest: Ingest,
    store: Arc<dyn Store>,
    stop_tx: watch::Sender<bool>,
    sources: Vec<JoinHandle<()>>,
    enrich: JoinHandle<u64>,
    store_stage: JoinHandle<PipelineReport>,
    sink: JoinHandle<PipelineReport>,
}

impl RunningPipeline {
    /// A handle to send envelopes.
    pub fn ingest(&self) -> Ingest {
        self.ingest.clone()
    }

    /// Runs a connector for `workspace` until it finishes or the pipeline shuts down. It
    /// resumes from the cursor saved for its id.
    pub fn spawn_source(&mut self, connector: Box<dyn Connector>, workspace: WorkspaceId) {
        let handle = spawn_connector(
            connector,
            workspace,
            self.ingest.clone(),
            self.store.clone(),
            self.stop_tx.subscribe(),
        );
        self.sources.push(handle);
    }

    /// Waits until every source has finished on its own (finite sources such as a file
    /// read once).
    pub async fn wait_sources(&mut self) {
        for handle in self.sources.drain(..) {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "source task failed");
            }
        }
    }

    /// Stops the sources, drains every in-flight mention through the stages, saves the
    /// detector states and returns the counts.
    pub async fn shutdown(mut self) -> Result<PipelineReport, PipelineError> {
        self.stop_tx.send_replace(true);
        self.wait_sources().await;
        drop(self.ingest);
        let rejected = self
            .enrich
            .await
            .map_err(|e| PipelineError::Task(e.to_string()))?;
        let stored = self
            .store_stage
            .await
            .map_err(|e| PipelineError::Task(e.to_string()))?;
        let detected = self
            .sink
            .await
            .map_err(|e| PipelineError::Task(e.to_string()))?;
        Ok(PipelineReport {
            rejected,
            signals: detected.signals,
            level_changes: detected.level_changes,
            ..stored
        })
    }
}
