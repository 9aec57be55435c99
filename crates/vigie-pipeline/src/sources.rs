//! Running connectors: resume from the saved cursor, poll, apply edits and deletions, back
//! off on errors (exponential with jitter, bounded, honouring `Retry-After`), report health,
//! stop on shutdown.
//!
//! Delivery is at-least-once: a batch's cursor is saved by the sink once the batch is
//! stored, so a restart resumes after the last stored batch and the store de-duplicates.
//! Mentions a poll gathered before failing are still sent (the connector's cursor already
//! counts them). Edits and deletions ([`vigie_model::MentionChange`]) are applied to the
//! store directly; one that targets a mention of a batch still in flight is retried a few
//! times (briefly) until that batch is stored.

use crate::{Envelope, Ingest, telemetry};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use vigie_connect::backoff::{Backoff, BackoffPolicy};
use vigie_connect::health::{HealthRegistry, SourceHealth};
use vigie_connect::{Connector, PollOutcome};
use vigie_model::{Clock, MentionChange, SystemClock, WorkspaceId};
use vigie_store::{ChangeOutcome, Store};

/// How many times a change to a not-yet-stored mention is retried.
const CHANGE_RETRIES: u32 = 20;
/// Delay between those retries.
const CHANGE_RETRY_DELAY: Duration = Duration::from_millis(100);

/// How source tasks run: retry delays, where health goes, which clock they read.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Retry tiers.
    pub backoff: BackoffPolicy,
    /// Health table (the process-wide one by default).
    pub health: HealthRegistry,
    /// Clock for health timestamps.
    pub clock: Arc<dyn Clock>,
}

impl Default for SourceOptions {
    fn default() -> Self {
        Self {
            backoff: BackoffPolicy::default(),
            health: HealthRegistry::global().clone(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Health of every source started in this process (for the API), sorted by workspace then
/// source id.
pub fn source_health() -> Vec<SourceHealth> {
    HealthRegistry::global().snapshot()
}

/// Sources of this process silent for `quiet` or longer at `now` (worth a signal).
pub fn silent_sources(now: vigie_model::Timestamp, quiet: Duration) -> Vec<SourceHealth> {
    let ms = i64::try_from(quiet.as_millis()).unwrap_or(i64::MAX);
    source_health()
        .into_iter()
        .filter(|h| h.is_silent(now, ms))
        .collect()
}

/// Spawns a task that runs `connector` until it finishes or `stop` turns true, with the
/// default [`SourceOptions`].
pub fn spawn_connector(
    connector: Box<dyn Connector>,
    workspace: WorkspaceId,
    ingest: Ingest,
    store: Arc<dyn Store>,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    spawn_connector_with(
        connector,
        workspace,
        ingest,
        store,
        stop,
        SourceOptions::default(),
    )
}

/// Spawns a task that runs `connector` until it finishes or `stop` turns true.
pub fn spawn_connector_with(
    connector: Box<dyn Connector>,
    workspace: WorkspaceId,
    ingest: Ingest,
    store: Arc<dyn Store>,
    stop: watch::Receiver<bool>,
    options: SourceOptions,
) -> JoinHandle<()> {
    tokio::spawn(run_connector(
        connector, workspace, ingest, store, stop, options,
    ))
}

struct Pending {
    change: MentionChange,
    tries: u32,
    /// The webhook requests waiting for this change (with the others of their batch).
    waiter: Option<ChangeWaiter>,
}

/// Told once every change of a batch is applied; dropping its sender (a change given up, or
/// the source stopping) tells the waiting requests it failed.
#[derive(Clone)]
struct ChangeWaiter(Arc<std::sync::Mutex<(usize, Option<tokio::sync::oneshot::Sender<()>>)>>);

impl ChangeWaiter {
    fn new(changes: usize, done: tokio::sync::oneshot::Sender<()>) -> Self {
        Self(Arc::new(std::sync::Mutex::new((changes, Some(done)))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, Option<tokio::sync::oneshot::Sender<()>>)> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn applied(&self) {
        let mut g = self.lock();
        g.0 = g.0.saturating_sub(1);
        if g.0 == 0
            && let Some(done) = g.1.take()
        {
            let _ = done.send(());
        }
    }

    fn dropped(&self) {
        self.lock().1.take();
    }
}

/// Splits a batch's receipts when it carries changes: the requests are answered once the
/// mentions are stored (the envelope's receipts) **and** every change is applied (the
/// waiter given to the pending changes).
fn split_receipts(
    receipts: vigie_connect::Receipts,
    changes: usize,
) -> (vigie_connect::Receipts, Option<ChangeWaiter>) {
    if changes == 0 || receipts.is_empty() {
        return (receipts, None);
    }
    let (stored_tx, stored_rx) = tokio::sync::oneshot::channel();
    let (applied_tx, applied_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        if stored_rx.await.is_ok() && applied_rx.await.is_ok() {
            receipts.confirm();
        } else {
            receipts.fail();
        }
    });
    (
        vigie_connect::Receipts::new(vec![stored_tx]),
        Some(ChangeWaiter::new(changes, applied_tx)),
    )
}

async fn apply_changes(
    store: &dyn Store,
    workspace: &WorkspaceId,
    id: &str,
    pending: &mut Vec<Pending>,
) {
    let mut keep = Vec::new();
    for mut p in pending.drain(..) {
        match store.edits().apply_change(workspace, &p.change).await {
            Ok(ChangeOutcome::Unknown) if p.tries < CHANGE_RETRIES => {
                p.tries += 1;
                keep.push(p);
            }
            Ok(outcome) => {
                tracing::debug!(source = %id, external_id = %p.change.external_id, ?outcome, "change applied");
                if let Some(w) = &p.waiter {
                    w.applied();
                }
            }
            Err(e) if p.tries < CHANGE_RETRIES => {
                tracing::warn!(source = %id, error = %e, "cannot apply a change; retrying");
                p.tries += 1;
                keep.push(p);
            }
            Err(e) => {
                tracing::error!(source = %id, error = %e, external_id = %p.change.external_id, "change dropped");
                if let Some(w) = &p.waiter {
                    w.dropped();
                }
            }
        }
    }
    *pending = keep;
}

async fn run_connector(
    mut connector: Box<dyn Connector>,
    workspace: WorkspaceId,
    ingest: Ingest,
    store: Arc<dyn Store>,
    mut stop: watch::Receiver<bool>,
    options: SourceOptions,
) {
    let id = connector.id().to_owned();
    let clock = options.clock.clone();
    let health = options
        .health
        .register(workspace.as_str(), &id, connector.kind(), clock.now());
    match store.load_checkpoint(&workspace, &id).await {
        Ok(Some(cursor)) => {
            if let Err(e) = connector.seek(&cursor) {
                tracing::warn!(source = %id, error = %e, "saved cursor unusable; starting from the beginning");
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(source = %id, error = %e, "cannot load checkpoint; starting from the beginning")
        }
    }
    let mut backoff = Backoff::new(options.backoff);
    let mut pending: Vec<Pending> = Vec::new();
    loop {
        if *stop.borrow() {
            break;
        }
        let mut mentions = Vec::new();
        let mut rejected = Vec::new();
        let outcome = tokio::select! {
            r = connector.poll(&mut mentions, &mut rejected) => r,
            // A poll may wait on a quiet stream: shutdown interrupts it. Nothing it read is
            // lost: the cursor only moves with batches sent below.
            _ = stop.changed() => break,
        };
        let changes = connector.take_changes();
        let receipts = connector.take_receipts();
        for r in &rejected {
            tracing::warn!(source = %id, line = r.line, reason = %r.reason, "record rejected");
        }
        if !rejected.is_empty() {
            telemetry::records_rejected(&id, rejected.len());
        }
        let delivered = !mentions.is_empty()
            || !rejected.is_empty()
            || !changes.is_empty()
            || !receipts.is_empty();
        let newest = mentions.iter().map(|m| m.published_at).max();
        let (n_mentions, n_changes, n_rejected) = (mentions.len(), changes.len(), rejected.len());
        let (receipts, waiter) = split_receipts(receipts, changes.len());
        pending.extend(changes.into_iter().map(|change| Pending {
            change,
            tries: 0,
            waiter: waiter.clone(),
        }));
        if delivered {
            let envelope = Envelope {
                workspace: workspace.clone(),
                source: Some(id.clone()),
                mentions,
                cursor: Some(connector.cursor()),
                receipts,
            };
            if ingest.send(envelope).await.is_err() {
                tracing::error!(source = %id, "the pipeline stopped; source stops");
                break;
            }
        }
        if !pending.is_empty() {
            apply_changes(store.as_ref(), &workspace, &id, &mut pending).await;
        }
        let mut wait = match outcome {
            Ok(outcome) => {
                backoff.reset();
                health.ok(clock.now(), n_mentions, n_changes, n_rejected, newest);
                match outcome {
                    PollOutcome::Ready => Duration::ZERO,
                    PollOutcome::Idle(d) => d,
                    PollOutcome::Finished => {
                        // Let changes to the last batch land before stopping.
                        for _ in 0..CHANGE_RETRIES {
                            if pending.is_empty() {
                                break;
                            }
                            tokio::time::sleep(CHANGE_RETRY_DELAY).await;
                            apply_changes(store.as_ref(), &workspace, &id, &mut pending).await;
                        }
                        break;
                    }
                }
            }
            Err(e) => {
                telemetry::connector_error(&id);
                let wait = backoff.next_delay(e.class(), e.retry_after());
                let retry_at = vigie_model::Timestamp::from_millis(
                    clock.now().as_millis()
                        + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2),
                );
                if delivered {
                    health.ok(clock.now(), n_mentions, n_changes, n_rejected, newest);
                }
                health.error(e.to_string(), clock.now(), retry_at);
                tracing::warn!(source = %id, error = %e, retry_in = ?wait, "poll failed");
                wait
            }
        };
        if !pending.is_empty() {
            wait = wait.min(CHANGE_RETRY_DELAY);
        }
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    break; // the pipeline is gone
                }
            }
        }
    }
    health.stopped();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use async_trait::async_trait;
    use tokio::sync::mpsc;
    use vigie_connect::{ConnectorError, RecordError};
    use vigie_model::{Author, EnrichedMention, Enrichment, ManualClock, Mention, Timestamp};

    fn mention(id: &str) -> Mention {
        Mention {
            source: "mastodon".into(),
            external_id: id.into(),
            url: None,
            author: Author {
                handle: "marie".into(),
                ..Author::default()
            },
            published_at: Timestamp::from_millis(1_000),
            received_at: None,
            title: None,
            text: "Orsane".into(),
            lang: None,
            engagement: Default::default(),
            reply_to: None,
            quote_of: None,
            repost_of: None,
            country: None,
        }
    }

    /// Fails once with a rate limit, then delivers m1 and the deletion of m0, then waits
    /// forever (a quiet stream).
    struct Scripted {
        step: usize,
        cursor: u64,
        changes: Vec<MentionChange>,
    }

    #[async_trait]
    impl Connector for Scripted {
        fn id(&self) -> &str {
            "scripted"
        }
        fn kind(&self) -> &'static str {
            "mastodon"
        }
        fn seek(&mut self, cursor: &str) -> Result<(), vigie_connect::ConnectorError> {
            self.cursor = cursor.parse().unwrap();
            Ok(())
        }
        fn cursor(&self) -> String {
            self.cursor.to_string()
        }
        fn take_changes(&mut self) -> Vec<MentionChange> {
            std::mem::take(&mut self.changes)
        }
        async fn poll(
            &mut self,
            out: &mut Vec<Mention>,
            rejected: &mut Vec<RecordError>,
        ) -> Result<PollOutcome, ConnectorError> {
            self.step += 1;
            match self.step {
                1 => Err(ConnectorError::RateLimited {
                    target: "http://127.0.0.1/x".into(),
                    retry_after: Duration::from_millis(50),
                }),
                2 => {
                    out.push(mention("m1"));
                    rejected.push(RecordError {
                        line: 3,
                        reason: "bad payload".into(),
                    });
                    self.changes.push(MentionChange::deleted(
                        "mastodon",
                        "m0",
                        Timestamp::from_millis(2_000),
                    ));
                    self.cursor += 1;
                    Ok(PollOutcome::Ready)
                }
                _ => std::future::pending().await,
            }
        }
    }

    /// A webhook request carrying changes is answered once its mentions are stored and
    /// every change applied; a dropped change, or a batch not stored, fails it.
    #[tokio::test]
    async fn requests_with_changes_wait_for_the_store_and_every_change() {
        type Outcome = Result<(), tokio::sync::oneshot::error::RecvError>;
        async fn run(store_ok: bool, applied: usize, dropped: bool) -> Outcome {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let (envelope, waiter) = split_receipts(vigie_connect::Receipts::new(vec![tx]), 2);
            let waiter = waiter.unwrap();
            if store_ok {
                envelope.confirm();
            } else {
                envelope.fail();
            }
            for _ in 0..applied {
                waiter.applied();
            }
            if dropped {
                waiter.dropped();
            }
            drop(waiter);
            tokio::time::timeout(Duration::from_secs(5), rx)
                .await
                .unwrap()
        }
        assert!(run(true, 2, false).await.is_ok());
        assert!(run(true, 1, true).await.is_err(), "a change was given up");
        assert!(
            run(false, 2, false).await.is_err(),
            "the mentions were not stored"
        );
        // Without changes, the receipts travel with the envelope unchanged.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (envelope, waiter) = split_receipts(vigie_connect::Receipts::new(vec![tx]), 0);
        assert!(waiter.is_none());
        envelope.confirm();
        assert!(rx.await.is_ok());
    }

    #[tokio::test]
    async fn retries_after_the_server_delay_applies_deletions_reports_health_and_stops() {
        let store = vigie_store::open_store("sqlite::memory:").await.unwrap();
        let ws = WorkspaceId::new("acme").unwrap();
        let stored = EnrichedMention {
            workspace: ws.clone(),
            mention: mention("m0"),
            enrichment: Enrichment::default(),
        };
        store.insert_mentions(&[stored]).await.unwrap();
        store.save_checkpoint(&ws, "scripted", "41").await.unwrap();
        let (tx, mut rx) = mpsc::channel(4);
        let (stop_tx, stop_rx) = watch::channel(false);
        let health = HealthRegistry::default();
        let options = SourceOptions {
            backoff: BackoffPolicy::scaled_down(1000),
            health: health.clone(),
            clock: Arc::new(ManualClock::new(Timestamp::from_millis(5_000))),
        };
        let started = tokio::time::Instant::now();
        let task = spawn_connector_with(
            Box::new(Scripted {
                step: 0,
                cursor: 0,
                changes: Vec::new(),
            }),
            ws.clone(),
            Ingest { tx },
            store.clone(),
            stop_rx,
            options,
        );
        let envelope = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(50),
            "Retry-After honoured"
        );
        assert_eq!(envelope.mentions.len(), 1);
        assert_eq!(
            envelope.cursor.as_deref(),
            Some("42"),
            "resumed from the saved cursor"
        );
        // The deletion of the stored m0 is applied.
        let mut tombstoned = false;
        for _ in 0..50 {
            let state = store
                .edits()
                .mention_state(&ws, "mastodon", "m0")
                .await
                .unwrap();
            if state.unwrap().deleted_at.is_some() {
                tombstoned = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(tombstoned);
        let h = health.get("acme", "scripted").unwrap();
        assert_eq!(
            (h.errors_total, h.mentions_total, h.rejected_total),
            (1, 1, 1)
        );
        assert_eq!(h.kind, "mastodon");
        assert_eq!(h.lag_ms, Some(4_000));
        // Shutdown interrupts the quiet poll at once.
        stop_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .expect("the source task stops on shutdown")
            .unwrap();
        assert_eq!(
            health.get("acme", "scripted").unwrap().state,
            vigie_connect::health::SourceState::Stopped
        );
    }
}
