//! The enrichment stage: CPU-bound work on blocking threads, several batches in flight,
//! output in input order (detectors need event-time order).

use crate::Envelope;
use crate::telemetry;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vigie_enrich::Enricher;
use vigie_model::{Clock, EnrichedMention};

/// An enriched batch on its way to the sink.
#[derive(Debug)]
pub(crate) struct EnrichedBatch {
    pub source: Option<String>,
    pub workspace: vigie_model::WorkspaceId,
    pub mentions: Vec<EnrichedMention>,
    pub cursor: Option<String>,
}

enum Step {
    Input(Option<Envelope>),
    Done(Result<EnrichedBatch, tokio::task::JoinError>),
}

/// Runs until `rx` closes and everything in flight is forwarded. Returns the number of
/// envelopes rejected because their workspace is unknown.
pub(crate) async fn run_enrichment(
    mut rx: mpsc::Receiver<Envelope>,
    tx: mpsc::Sender<EnrichedBatch>,
    enrichers: BTreeMap<vigie_model::WorkspaceId, Arc<Enricher>>,
    clock: Arc<dyn Clock>,
    parallelism: usize,
) -> u64 {
    let mut in_flight: VecDeque<JoinHandle<EnrichedBatch>> = VecDeque::new();
    let mut rejected = 0;
    let mut input_open = true;
    loop {
        let must_forward = !input_open || in_flight.len() >= parallelism;
        let step = match in_flight.front_mut() {
            None if !input_open => break,
            None => Step::Input(rx.recv().await),
            Some(front) if must_forward => Step::Done(front.await),
            Some(front) => tokio::select! {
                biased;
                done = front => Step::Done(done),
                envelope = rx.recv() => Step::Input(envelope),
            },
        };
        match step {
            Step::Input(None) => input_open = false,
            Step::Input(Some(envelope)) => {
                let Some(enricher) = enrichers.get(&envelope.workspace).cloned() else {
                    tracing::warn!(workspace = %envelope.workspace, "batch for an unknown workspace dropped");
                    rejected += 1;
                    continue;
                };
                telemetry::mentions_received(envelope.mentions.len());
                let now = clock.now();
                in_flight.push_back(tokio::task::spawn_blocking(move || {
                    let mentions = envelope
                        .mentions
                        .into_iter()
                        .map(|mut m| {
                            m.received_at.get_or_insert(now);
                            enricher.enrich(&envelope.workspace, m)
                        })
                        .collect();
                    EnrichedBatch {
                        source: envelope.source,
                        workspace: envelope.workspace,
                        mentions,
                        cursor: envelope.cursor,
                    }
                }));
            }
            Step::Done(result) => {
                in_flight.pop_front();
                match result {
                    Ok(batch) => {
                        if tx.send(batch).await.is_err() {
                            tracing::error!("sink stopped; enrichment stops");
                            break;
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "enrichment task failed; batch dropped"),
                }
            }
        }
    }
    rejected
}
