//! The scaled-out roles: the same stages as the single-process pipeline, split over
//! processes joined by a [`Bus`] (see `docs/operations/scaling.md`).
//!
//! - **ingest** ([`start_ingest`]): connectors send envelopes into an [`Ingest`] handle as
//!   usual; a publisher stamps `received_at`, publishes each batch to [`Topic::Raw`] (its
//!   de-duplication id is the source's cursor), waits for the bus to persist it, and only
//!   then saves the source's cursor;
//! - **worker** ([`run_worker`], any number): takes raw batches from the shared work queue,
//!   enriches them, *claims* them in the store (which mentions this message is the first to
//!   carry: a stable answer under redelivery), stores them, publishes the new ones to
//!   [`Topic::Detect`] under the raw message's sequence number, then acknowledges;
//! - **detector** ([`run_detector`], one per partition): feeds the new mentions to the
//!   monitors of the watches it owns **in raw sequence order** (workers finish out of order;
//!   the detector buffers until the next sequence arrives), ignores sequences it has
//!   already applied, and periodically saves its watches' states together with the next
//!   sequence in one transaction before acknowledging what they cover.
//!
//! Exactly-once effect on at-least-once delivery: mentions are unique on
//! `(workspace, source, external_id)`, detector updates are keyed by the raw sequence,
//! signals and level changes are unique in the store, incidents are unique per opening.

use crate::builder::prepare_workspaces;
use crate::enrich::{EnrichedBatch, strip_nul};
use crate::sink::{Sink, StoredBatch};
use crate::{Envelope, Ingest, PipelineError, PipelineEvent, PipelineReport, TickMode, telemetry};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use vigie_bus::{Bus, BusError, Delivery, Topic, redelivery_backoff};
use vigie_config::Config;
use vigie_enrich::Enricher;
use vigie_model::{Clock, EnrichedMention, Mention, WatchId, WorkspaceId};
use vigie_store::{ScaleStore, Store};

/// A raw batch on the bus (ingest → workers).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawBatch {
    /// Workspace of the mentions.
    pub workspace: WorkspaceId,
    /// Source id (for logs; the cursor is saved by the ingest process).
    pub source: Option<String>,
    /// The mentions, `received_at` stamped by the ingest process.
    pub mentions: Vec<Mention>,
    /// When the ingest process published it (epoch ms), for latency metrics.
    pub published_ms: i64,
}

/// What a worker publishes for the detectors: the mentions of raw message `seq` that were
/// stored for the first time, in `parts` messages when they do not fit in one (part
/// `0..parts`). `workspace` is `None` for a message that carried nothing usable
/// (dead-lettered): the detectors only move past its sequence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectBatch {
    /// Sequence of the raw message in [`Topic::Raw`].
    pub seq: u64,
    /// This message's part of the sequence (from 0).
    #[serde(default)]
    pub part: u32,
    /// How many parts the sequence has (at least 1).
    #[serde(default = "one_part")]
    pub parts: u32,
    /// Workspace, or `None` for a skipped sequence.
    pub workspace: Option<WorkspaceId>,
    /// The new mentions, enriched.
    pub mentions: Vec<EnrichedMention>,
    /// When the raw batch was published (epoch ms).
    pub published_ms: i64,
}

fn one_part() -> u32 {
    1
}

/// Most bytes of one bus message. NATS servers refuse payloads over their `max_payload`
/// (1 MiB by default), and a refused publish would block its sequence for ever; half of
/// that leaves room for headers and for servers configured lower.
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024;

/// Splits `items` into consecutive ranges whose encoding (`size`) fits in `limit` bytes,
/// halving ranges that do not fit. Deterministic (a redelivered batch splits the same
/// way) and in order; never empty (no items give one empty range). A single item larger
/// than the limit comes back as a range of one, for the caller to refuse.
fn split_to_fit<T>(
    items: &[T],
    limit: usize,
    size: &dyn Fn(&[T]) -> usize,
) -> Vec<std::ops::Range<usize>> {
    fn go<T>(
        items: &[T],
        r: std::ops::Range<usize>,
        limit: usize,
        size: &dyn Fn(&[T]) -> usize,
        out: &mut Vec<std::ops::Range<usize>>,
    ) {
        if r.len() <= 1 || size(&items[r.clone()]) <= limit {
            out.push(r);
        } else {
            let mid = r.start + r.len() / 2;
            go(items, r.start..mid, limit, size, out);
            go(items, mid..r.end, limit, size, out);
        }
    }
    let mut out = Vec::new();
    go(items, 0..items.len(), limit, size, &mut out);
    out
}

/// Waits before retrying a bus operation that failed transiently (bus away, topic full).
async fn pause(attempt: u32) {
    let ms = 50u64 << attempt.min(7);
    tokio::time::sleep(Duration::from_millis(ms.min(5_000))).await;
}

/// Publishes with retries until it succeeds, the error is fatal, or `stop` is set.
async fn publish_retrying(
    bus: &dyn Bus,
    topic: Topic,
    id: &str,
    payload: &[u8],
    stop: Option<&watch::Receiver<bool>>,
) -> Result<(), BusError> {
    let mut attempt = 0;
    loop {
        match bus.publish(topic, id, payload.to_vec()).await {
            Ok(p) => {
                telemetry::bus_published(topic.as_str(), p.duplicate);
                return Ok(());
            }
            Err(e) if e.is_transient() && !stop.is_some_and(|s| *s.borrow()) => {
                telemetry::bus_publish_retry(topic.as_str(), matches!(e, BusError::Full { .. }));
                if attempt % 20 == 0 {
                    tracing::warn!(topic = topic.as_str(), error = %e, "publish failed; retrying");
                }
                attempt += 1;
                pause(attempt).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The ingest role's publisher, started by [`start_ingest`].
#[derive(Debug)]
pub struct IngestPublisher {
    ingest: Ingest,
    task: JoinHandle<u64>,
}

impl IngestPublisher {
    /// The handle connectors send envelopes into (see [`crate::sources::spawn_connector`]).
    pub fn ingest(&self) -> Ingest {
        self.ingest.clone()
    }

    /// Waits until every [`Ingest`] clone is dropped and every envelope published; returns
    /// the number of mentions published.
    pub async fn finish(self) -> Result<u64, PipelineError> {
        drop(self.ingest);
        self.task
            .await
            .map_err(|e| PipelineError::Task(e.to_string()))
    }
}

/// Starts the ingest role's publisher. Cursors are saved in `store` once the bus has
/// persisted the batch: a crash replays at most the unconfirmed batches, which the bus
/// recognises by their de-duplication id (workspace, source, cursor).
pub fn start_ingest(
    bus: Arc<dyn Bus>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    capacity: usize,
) -> IngestPublisher {
    let (tx, mut rx) = mpsc::channel::<Envelope>(capacity.max(1));
    let task = tokio::spawn(async move {
        let mut published = 0u64;
        let mut anonymous = 0u64;
        while let Some(envelope) = rx.recv().await {
            let now = clock.now();
            let Envelope {
                workspace,
                source,
                mut mentions,
                cursor,
                receipts,
            } = envelope;
            if mentions.is_empty() && cursor.is_none() {
                receipts.confirm();
                continue;
            }
            for m in &mut mentions {
                m.received_at.get_or_insert(now);
                strip_nul(m);
            }
            let id = match (&source, &cursor) {
                (Some(s), Some(c)) => format!("{workspace}/{s}/{c}"),
                _ => {
                    anonymous += 1;
                    format!("{workspace}/-/{}/{anonymous}", now.as_millis())
                }
            };
            let encode = |part: &[Mention]| {
                serde_json::to_vec(&RawBatch {
                    workspace: workspace.clone(),
                    source: source.clone(),
                    mentions: part.to_vec(),
                    published_ms: now.as_millis(),
                })
                .unwrap_or_default()
            };
            let mut failed = false;
            let mut refused = false;
            let ranges = if mentions.is_empty() {
                Vec::new()
            } else {
                split_to_fit(&mentions, MAX_MESSAGE_BYTES, &|p| encode(p).len())
            };
            let parts = ranges.len();
            for (k, r) in ranges.into_iter().enumerate() {
                let part = &mentions[r];
                let payload = encode(part);
                if payload.len() > MAX_MESSAGE_BYTES {
                    tracing::error!(
                        bytes = payload.len(),
                        external_id = part.first().map_or("", |m| m.external_id.as_str()),
                        "a mention larger than a bus message is refused"
                    );
                    refused = true;
                    continue;
                }
                // One id per part: a replay after a crash splits the same way, and the
                // bus recognises each part.
                let part_id = if parts == 1 {
                    id.clone()
                } else {
                    format!("{id}#{k}")
                };
                if let Err(e) =
                    publish_retrying(bus.as_ref(), Topic::Raw, &part_id, &payload, None).await
                {
                    tracing::error!(error = %e, "cannot publish; the ingest publisher stops");
                    failed = true;
                    break;
                }
                telemetry::batch_size("ingest", part.len());
                published += part.len() as u64;
            }
            if failed {
                receipts.fail();
                break;
            }
            // Persisted by the bus: the waiting webhook requests may be answered — unless a
            // mention was refused, which they must not take for stored.
            if refused {
                receipts.fail();
            } else {
                receipts.confirm();
            }
            if let (Some(source), Some(cursor)) = (&source, &cursor)
                && let Err(e) = store.save_checkpoint(&workspace, source, cursor).await
            {
                tracing::error!(source = %source, error = %e, "cannot save checkpoint");
            }
        }
        published
    });
    IngestPublisher {
        ingest: Ingest { tx },
        task,
    }
}

/// Options of a worker.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Raw batches fetched at once.
    pub fetch: usize,
    /// Batches handled at the same time (enrichment runs on blocking threads).
    pub concurrency: usize,
    /// Deliveries after which a batch that still cannot be stored is dead-lettered.
    pub max_deliveries: u64,
    /// Detector partitions whose consumers must exist before anything is published for
    /// them (the detection topic keeps messages only for existing consumers).
    pub detector_partitions: u32,
    /// The neural sentiment engine for mentions that match a watch (see
    /// [`crate::PipelineBuilder::neural`]).
    pub neural: Option<Arc<vigie_enrich::NeuralSentiment>>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            fetch: 16,
            concurrency: cores.clamp(1, 8),
            max_deliveries: 20,
            detector_partitions: 1,
            neural: None,
        }
    }
}

/// Counts of a worker's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Raw batches handled and acknowledged.
    pub batches: u64,
    /// Mentions stored for the first time by this worker's messages.
    pub new_mentions: u64,
    /// Batches sent to the dead-letter topic.
    pub dead_letters: u64,
    /// Batches handed back for a later retry (store or bus unavailable).
    pub retried: u64,
}

enum Outcome {
    Done(u64),
    Dead,
    Retry,
}

struct WorkerCtx {
    bus: Arc<dyn Bus>,
    store: Arc<dyn Store>,
    scale: Arc<dyn ScaleStore>,
    enrichers: BTreeMap<WorkspaceId, Arc<Enricher>>,
    clock: Arc<dyn Clock>,
    max_deliveries: u64,
}

impl WorkerCtx {
    async fn skip(&self, d: &Delivery, reason: &str) -> Result<(), BusError> {
        self.bus
            .dead_letter(Topic::Raw, d.seq, &d.payload, reason)
            .await?;
        telemetry::dead_letter("raw");
        tracing::warn!(seq = d.seq, reason, "raw batch dead-lettered");
        let skip = DetectBatch {
            seq: d.seq,
            part: 0,
            parts: 1,
            workspace: None,
            mentions: Vec::new(),
            published_ms: 0,
        };
        let payload = serde_json::to_vec(&skip).map_err(|e| BusError::Fatal(e.to_string()))?;
        self.bus
            .publish(Topic::Detect, &format!("d-{}", d.seq), payload)
            .await?;
        Ok(())
    }

    async fn process(&self, d: &Delivery) -> Result<Outcome, BusError> {
        if d.delivered > 1 {
            telemetry::redelivery("raw");
        }
        let raw: RawBatch = match serde_json::from_slice(&d.payload) {
            Ok(r) => r,
            Err(e) => {
                self.skip(d, &format!("malformed payload: {e}")).await?;
                return Ok(Outcome::Dead);
            }
        };
        let Some(enricher) = self.enrichers.get(&raw.workspace).cloned() else {
            self.skip(
                d,
                &format!("unknown workspace {:?}", raw.workspace.as_str()),
            )
            .await?;
            return Ok(Outcome::Dead);
        };
        let ws = raw.workspace.clone();
        let workspace = raw.workspace.clone();
        let published_ms = raw.published_ms;
        let enriched =
            tokio::task::spawn_blocking(move || enricher.enrich_batch(&ws, raw.mentions))
                .await
                .map_err(|e| BusError::Fatal(format!("enrichment failed: {e}")))?;

        let stored = async {
            let claimed = self.scale.claim_mentions(d.seq, &enriched).await?;
            let inserted = self.store.insert_mentions(&enriched).await?;
            Ok::<_, vigie_store::StoreError>((claimed, inserted))
        }
        .await;
        let (claimed, inserted) = match stored {
            Ok(x) => x,
            Err(e) => {
                telemetry::store_error();
                // An unreachable database is not the message's fault: it waits in the bus
                // (bounded) for as long as the outage lasts, never dead-lettered for it.
                if d.delivered >= self.max_deliveries && !e.is_unavailable() {
                    self.skip(
                        d,
                        &format!("cannot be stored after {} deliveries: {e}", d.delivered),
                    )
                    .await?;
                    return Ok(Outcome::Dead);
                }
                tracing::warn!(seq = d.seq, delivered = d.delivered, error = %e,
                    "cannot store a batch; it will come back");
                return Ok(Outcome::Retry);
            }
        };
        // First delivery: new means claimed by this message *and* not in the store before
        // (mentions stored by a single-process run carry no claim). A redelivery cannot use
        // the insert answer (its own first attempt may have inserted them).
        let first = d.delivered <= 1;
        let new: Vec<EnrichedMention> = enriched
            .into_iter()
            .zip(claimed.iter().zip(&inserted))
            .filter(|(_, (c, i))| **c && (!first || **i))
            .map(|(m, _)| m)
            .collect();
        let n = new.len() as u64;
        let total = inserted.len() as u64;
        telemetry::mentions_stored(n, total.saturating_sub(n));
        telemetry::latency(
            "published_to_stored",
            self.clock.now().as_millis() - published_ms,
        );
        // Sent even when nothing is new: it tells the detectors the sequence is done.
        // Enriched mentions are larger than raw ones: split so that each part fits.
        let encode = |part: u32, parts: u32, mentions: &[EnrichedMention]| {
            serde_json::to_vec(&DetectBatch {
                seq: d.seq,
                part,
                parts,
                workspace: Some(workspace.clone()),
                mentions: mentions.to_vec(),
                published_ms,
            })
            .map_err(|e| BusError::Fatal(e.to_string()))
        };
        let ranges = split_to_fit(&new, MAX_MESSAGE_BYTES, &|p| {
            encode(0, 1, p).map_or(usize::MAX, |v| v.len())
        });
        let parts = u32::try_from(ranges.len()).unwrap_or(u32::MAX);
        for (k, r) in (0u32..).zip(ranges) {
            let mut payload = encode(k, parts, &new[r.clone()])?;
            if payload.len() > MAX_MESSAGE_BYTES {
                // One enriched mention larger than a message: it is stored, but the
                // detectors only move past it.
                tracing::error!(
                    seq = d.seq,
                    bytes = payload.len(),
                    "an enriched mention larger than a bus message is not sent to detection"
                );
                payload = encode(k, parts, &[])?;
            }
            let id = if parts == 1 {
                format!("d-{}", d.seq)
            } else {
                format!("d-{}-{k}", d.seq)
            };
            self.bus.publish(Topic::Detect, &id, payload).await?;
        }
        tracing::debug!(
            seq = d.seq,
            delivered = d.delivered,
            new = n,
            total,
            "raw batch stored"
        );
        Ok(Outcome::Done(n))
    }
}

/// What a worker or a detector works with.
#[derive(Debug, Clone)]
pub struct RoleContext {
    /// The bus.
    pub bus: Arc<dyn Bus>,
    /// The shared store.
    pub store: Arc<dyn Store>,
    /// Its scale-out operations.
    pub scale: Arc<dyn ScaleStore>,
    /// The configuration (workspaces, watches, detection settings).
    pub config: Arc<Config>,
    /// The clock (latency metrics).
    pub clock: Arc<dyn Clock>,
}

/// Runs a worker until `stop` turns true; in-flight batches finish first.
pub async fn run_worker(
    ctx: RoleContext,
    options: WorkerOptions,
    mut stop: watch::Receiver<bool>,
) -> Result<WorkerReport, PipelineError> {
    let RoleContext {
        bus,
        store,
        scale,
        config,
        clock,
    } = ctx;
    let enrichers = prepare_workspaces(&config, store.as_ref(), options.neural.as_ref()).await?;
    let ctx = WorkerCtx {
        bus: bus.clone(),
        store,
        scale,
        enrichers,
        clock,
        max_deliveries: options.max_deliveries.max(1),
    };
    for index in 0..options.detector_partitions.max(1) {
        let p = Partition {
            index,
            count: options.detector_partitions.max(1),
        };
        connect_consumer(bus.as_ref(), Topic::Detect, &p.consumer_name(), &mut stop).await?;
    }
    let mut consumer = connect_consumer(bus.as_ref(), Topic::Raw, "workers", &mut stop).await?;
    let mut report = WorkerReport::default();
    let mut failures = 0u32;
    while !*stop.borrow() {
        let deliveries = tokio::select! {
            r = consumer.fetch(options.fetch.max(1), Duration::from_secs(1)) => r,
            _ = stop.changed() => break,
        };
        let deliveries = match deliveries {
            Ok(d) => {
                failures = 0;
                d
            }
            Err(e) => {
                failures += 1;
                if failures % 20 == 1 {
                    tracing::warn!(error = %e, "cannot fetch from the bus; retrying");
                }
                pause(failures).await;
                continue;
            }
        };
        if deliveries.is_empty() {
            continue;
        }
        telemetry::batch_size("worker_fetch", deliveries.len());
        let ctx = &ctx;
        let results: Vec<(Delivery, Result<Outcome, BusError>)> =
            futures_util::stream::iter(deliveries)
                .map(|d| async move {
                    let r = ctx.process(&d).await;
                    (d, r)
                })
                .buffer_unordered(options.concurrency.max(1))
                .collect()
                .await;
        for (d, r) in results {
            let delay = redelivery_backoff(d.delivered);
            let answered = match r {
                Ok(Outcome::Done(n)) => {
                    report.batches += 1;
                    report.new_mentions += n;
                    d.ack().await
                }
                Ok(Outcome::Dead) => {
                    report.dead_letters += 1;
                    d.ack().await
                }
                Ok(Outcome::Retry) => {
                    report.retried += 1;
                    d.retry_later(delay).await
                }
                Err(e) => {
                    tracing::warn!(seq = d.seq, error = %e, "bus error while handling a batch; it will come back");
                    report.retried += 1;
                    d.retry_later(delay).await
                }
            };
            if let Err(e) = answered {
                // The bus redelivers after the acknowledgement deadline; the claim makes
                // the second handling give the same result.
                tracing::warn!(error = %e, "cannot acknowledge a batch");
            }
        }
    }
    Ok(report)
}

/// Opens a consumer, retrying while the bus is unavailable.
async fn connect_consumer(
    bus: &dyn Bus,
    topic: Topic,
    name: &str,
    stop: &mut watch::Receiver<bool>,
) -> Result<Box<dyn vigie_bus::Consumer>, PipelineError> {
    let mut attempt = 0;
    loop {
        match bus.consumer(topic, name).await {
            Ok(c) => return Ok(c),
            Err(e) if e.is_transient() && !*stop.borrow() => {
                attempt += 1;
                if attempt % 20 == 1 {
                    tracing::warn!(error = %e, "cannot open the {name} consumer; retrying");
                }
                pause(attempt).await;
            }
            Err(e) => return Err(PipelineError::Task(format!("bus: {e}"))),
        }
    }
}

/// Which watches a detector process owns: `index` of `count` partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// This partition, from 0.
    pub index: u32,
    /// How many partitions there are.
    pub count: u32,
}

impl Partition {
    /// The only partition of a single detector.
    pub const ALL: Self = Self { index: 0, count: 1 };

    /// Parses `I/N` (`0/1`, `2/4`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: expected INDEX/COUNT, e.g. 0/2"))?;
        let index: u32 = i.trim().parse().map_err(|_| format!("{s:?}: bad index"))?;
        let count: u32 = n.trim().parse().map_err(|_| format!("{s:?}: bad count"))?;
        if count == 0 || index >= count {
            return Err(format!(
                "{s:?}: the index must be below the count, which must be > 0"
            ));
        }
        Ok(Self { index, count })
    }

    /// Whether this partition owns `watch` of `workspace` (a stable hash of both ids, so
    /// every process agrees without talking).
    pub fn owns(&self, workspace: &WorkspaceId, watch: &WatchId) -> bool {
        // FNV-1a: stable across builds and platforms, unlike the std hasher.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in workspace
            .as_str()
            .bytes()
            .chain([b'/'])
            .chain(watch.as_str().bytes())
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % u64::from(self.count) == u64::from(self.index)
    }

    /// The durable consumer and checkpoint name of this partition.
    pub fn consumer_name(&self) -> String {
        format!("detector-{}-of-{}", self.index, self.count)
    }
}

/// Options of a detector.
#[derive(Debug, Clone)]
pub struct DetectorOptions {
    /// The watches it owns.
    pub partition: Partition,
    /// How detectors see time pass.
    pub tick: TickMode,
    /// Batches applied between two checkpoints (also saved after `checkpoint_every`).
    pub checkpoint_batches: usize,
    /// Longest time between two checkpoints while batches are applied.
    pub checkpoint_every: Duration,
    /// Out-of-order batches buffered at most; beyond, the latest are handed back.
    pub max_buffered: usize,
}

impl Default for DetectorOptions {
    fn default() -> Self {
        Self {
            partition: Partition::ALL,
            tick: TickMode::EventTime,
            checkpoint_batches: 500,
            checkpoint_every: Duration::from_secs(1),
            max_buffered: 5_000,
        }
    }
}

/// Runs a detector partition until `stop` turns true, then saves a last checkpoint.
pub async fn run_detector(
    ctx: RoleContext,
    options: DetectorOptions,
    events: Option<mpsc::UnboundedSender<PipelineEvent>>,
    mut stop: watch::Receiver<bool>,
) -> Result<PipelineReport, PipelineError> {
    let RoleContext {
        bus,
        store,
        scale,
        config,
        clock,
    } = ctx;
    let partition = options.partition;
    let name = partition.consumer_name();
    let owns = move |ws: &WorkspaceId, w: &WatchId| partition.owns(ws, w);
    let mut sink = Sink::restore_owned(&config, store.clone(), events, &owns).await?;
    let mut next_seq = scale.load_detector_offset(&name).await?.unwrap_or(1);
    tracing::info!(consumer = %name, next_seq, "detector partition starting");
    let mut consumer = connect_consumer(bus.as_ref(), Topic::Detect, &name, &mut stop).await?;
    // Keyed by (sequence, part); the state is at `next_seq` part `next_part`.
    let mut buffer: BTreeMap<(u64, u32), (DetectBatch, Delivery)> = BTreeMap::new();
    let mut next_part = 0u32;
    let mut applied: Vec<Delivery> = Vec::new();
    let mut last_checkpoint = tokio::time::Instant::now();
    let mut last_batch = tokio::time::Instant::now();
    let mut dirty = false;
    let mut failures = 0u32;
    loop {
        let stopping = *stop.borrow();
        if stopping {
            break;
        }
        let fetched = tokio::select! {
            r = consumer.fetch(256, Duration::from_millis(500)) => r,
            _ = stop.changed() => Ok(Vec::new()),
        };
        let deliveries = match fetched {
            Ok(d) => {
                failures = 0;
                d
            }
            Err(e) => {
                failures += 1;
                if failures % 20 == 1 {
                    tracing::warn!(error = %e, "cannot fetch from the bus; retrying");
                }
                pause(failures).await;
                continue;
            }
        };
        if let (Some(first), Some(last)) = (deliveries.first(), deliveries.last()) {
            tracing::debug!(
                n = deliveries.len(),
                first = first.seq,
                last = last.seq,
                next_seq,
                buffered = buffer.len(),
                "detection batches fetched"
            );
        }
        for d in deliveries {
            if d.delivered > 1 {
                telemetry::redelivery("detect");
            }
            let batch: DetectBatch = match serde_json::from_slice(&d.payload) {
                Ok(b) => b,
                Err(e) => {
                    let reason = format!("malformed payload: {e}");
                    tracing::error!(seq = d.seq, reason, "detection batch dead-lettered");
                    if bus
                        .dead_letter(Topic::Detect, d.seq, &d.payload, &reason)
                        .await
                        .is_ok()
                    {
                        telemetry::dead_letter("detect");
                        let _ = d.ack().await;
                    }
                    continue;
                }
            };
            let key = (batch.seq, batch.part);
            if key < (next_seq, next_part) || buffer.contains_key(&key) {
                // A replay of what the saved state already holds.
                telemetry::replay_ignored();
                let _ = d.ack().await;
                continue;
            }
            buffer.insert(key, (batch, d));
        }
        // Apply what is contiguous.
        while let Some((batch, d)) = buffer.remove(&(next_seq, next_part)) {
            next_part += 1;
            if next_part >= batch.parts.max(1) {
                next_seq += 1;
                next_part = 0;
            }
            if let Some(workspace) = batch.workspace {
                let n = batch.mentions.len();
                telemetry::batch_size("detector", n);
                let stored = StoredBatch {
                    batch: EnrichedBatch {
                        source: None,
                        workspace,
                        mentions: batch.mentions,
                        cursor: None,
                        receipts: vigie_connect::Receipts::default(),
                        failed: false,
                        entered_ms: batch.published_ms,
                    },
                    new: Some(vec![true; n]),
                };
                sink.handle(stored).await;
                if batch.published_ms > 0 {
                    telemetry::latency(
                        "published_to_detected",
                        clock.now().as_millis() - batch.published_ms,
                    );
                    if sink.take_level_changed() {
                        telemetry::latency(
                            "published_to_level_change",
                            clock.now().as_millis() - batch.published_ms,
                        );
                    }
                }
            }
            applied.push(d);
            dirty = true;
            last_batch = tokio::time::Instant::now();
        }
        telemetry::detector_buffered(buffer.len());
        if buffer.len() > options.max_buffered {
            // Make room for the missing sequence: hand the latest back for later.
            while buffer.len() > options.max_buffered / 2 {
                if let Some((_, (_, d))) = buffer.pop_last() {
                    let _ = d.retry_later(Duration::from_secs(1)).await;
                }
            }
        }
        if let TickMode::Clock {
            clock: tick_clock,
            every,
        } = &options.tick
            && applied.is_empty()
            && last_batch.elapsed() >= *every
        {
            sink.tick_clock(tick_clock.now()).await;
            last_batch = tokio::time::Instant::now();
            dirty = true;
        }
        // A checkpoint holds whole sequences only (it saves `next_seq`).
        if dirty
            && next_part == 0
            && (applied.len() >= options.checkpoint_batches
                || last_checkpoint.elapsed() >= options.checkpoint_every)
        {
            if checkpoint(&sink, scale.as_ref(), &name, next_seq, &mut applied).await {
                dirty = false;
            }
            last_checkpoint = tokio::time::Instant::now();
        }
    }
    // Buffered batches beyond a gap are not acknowledged: they come back to the next run.
    drop(buffer);
    if dirty && next_part == 0 {
        checkpoint(&sink, scale.as_ref(), &name, next_seq, &mut applied).await;
    }
    Ok(sink.report())
}

/// Saves the states and the next sequence, then acknowledges what they cover. On failure
/// nothing is acknowledged: the batches come back and are applied to the older state.
async fn checkpoint(
    sink: &Sink,
    scale: &dyn ScaleStore,
    name: &str,
    next_seq: u64,
    applied: &mut Vec<Delivery>,
) -> bool {
    match scale
        .save_detector_checkpoint(name, next_seq, &sink.states())
        .await
    {
        Ok(()) => {
            telemetry::batch_size("detector_checkpoint", applied.len());
            for d in applied.drain(..) {
                if let Err(e) = d.ack().await {
                    tracing::warn!(error = %e, "cannot acknowledge a detection batch");
                }
            }
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot save the detector checkpoint");
            false
        }
    }
}

/// Marks this process's role in `/metrics` (`vigie_role_up{role="…"} 1`).
pub fn mark_role(role: &'static str) {
    telemetry::role_up(role);
}

/// Polls the lag of a consumer every `every` into `/metrics` until `stop` turns true.
pub fn spawn_lag_monitor(
    bus: Arc<dyn Bus>,
    topic: Topic,
    name: String,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut consumer = None;
        loop {
            if consumer.is_none() {
                consumer = bus.consumer(topic, &name).await.ok();
            }
            if let Some(c) = consumer.as_mut() {
                match c.stats().await {
                    Ok(s) => telemetry::consumer_stats(&name, s),
                    Err(_) => consumer = None,
                }
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = stop.changed() => break,
            }
        }
    })
}

#[cfg(test)]
mod tests;
