//! The enrichment stage: CPU-bound work on blocking threads, several batches in flight,
//! output in input order (detectors need event-time order).

use crate::Envelope;
use crate::telemetry;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vigie_enrich::Enricher;
use vigie_model::{Clock, EnrichedMention, Mention, WorkspaceId};

/// An enriched batch on its way to the sink.
#[derive(Debug)]
pub(crate) struct EnrichedBatch {
    pub source: Option<String>,
    pub workspace: WorkspaceId,
    pub mentions: Vec<EnrichedMention>,
    pub cursor: Option<String>,
    /// Waiters told when the batch is stored.
    pub receipts: vigie_connect::Receipts,
    /// Enrichment failed (a panicking task): the mentions are lost for this run, so the store
    /// stage counts the batch as failed and the source's cursor must not move past it.
    pub failed: bool,
    /// When the batch entered the chain (epoch ms): the enrichment stage's clock here, the
    /// ingest process's publication time in a scaled-out installation. For latency metrics.
    pub entered_ms: i64,
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
    enrichers: BTreeMap<WorkspaceId, Arc<Enricher>>,
    clock: Arc<dyn Clock>,
    parallelism: usize,
) -> u64 {
    // Each task with the source and workspace of its batch, to report a failure.
    let mut in_flight: VecDeque<(JoinHandle<EnrichedBatch>, Option<String>, WorkspaceId)> =
        VecDeque::new();
    let mut rejected = 0;
    let mut input_open = true;
    loop {
        let must_forward = !input_open || in_flight.len() >= parallelism;
        let step = match in_flight.front_mut() {
            None if !input_open => break,
            None => Step::Input(rx.recv().await),
            Some((front, ..)) if must_forward => Step::Done(front.await),
            Some((front, ..)) => tokio::select! {
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
                let (source, workspace) = (envelope.source.clone(), envelope.workspace.clone());
                let task = tokio::task::spawn_blocking(move || {
                    let mut raw = envelope.mentions;
                    for m in &mut raw {
                        m.received_at.get_or_insert(now);
                        strip_nul(m);
                    }
                    // One call per batch: with the neural engine, the matching mentions
                    // share one forward pass.
                    let mentions = enricher.enrich_batch(&envelope.workspace, raw);
                    EnrichedBatch {
                        source: envelope.source,
                        workspace: envelope.workspace,
                        mentions,
                        cursor: envelope.cursor,
                        receipts: envelope.receipts,
                        failed: false,
                        entered_ms: now.as_millis(),
                    }
                });
                in_flight.push_back((task, source, workspace));
            }
            Step::Done(result) => {
                let Some((_, source, workspace)) = in_flight.pop_front() else {
                    continue;
                };
                let batch = result.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "enrichment task failed; batch lost");
                    EnrichedBatch {
                        source,
                        workspace,
                        mentions: Vec::new(),
                        cursor: None,
                        // The panicked task dropped the batch's receipts: its waiters
                        // already know it failed.
                        receipts: vigie_connect::Receipts::default(),
                        failed: true,
                        entered_ms: 0,
                    }
                });
                if tx.send(batch).await.is_err() {
                    tracing::error!("the store stage stopped; enrichment stops");
                    break;
                }
            }
        }
    }
    rejected
}

/// PostgreSQL text cannot hold NUL characters (SQLite can): replace them everywhere so a
/// batch stores the same way on both backends instead of failing on one.
pub(crate) fn strip_nul(m: &mut Mention) {
    fn fix(s: &mut String) {
        if s.contains('\0') {
            *s = s.replace('\0', "\u{FFFD}");
        }
    }
    for s in [
        &mut m.source,
        &mut m.external_id,
        &mut m.text,
        &mut m.author.handle,
    ] {
        fix(s);
    }
    for s in [
        &mut m.url,
        &mut m.title,
        &mut m.lang,
        &mut m.author.name,
        &mut m.reply_to,
        &mut m.quote_of,
        &mut m.repost_of,
        &mut m.country,
    ]
    .into_iter()
    .flatten()
    {
        fix(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_replaced() {
        let mut m: Mention = serde_json::from_str(
            r#"{"source":"t","external_id":"a\u0000b","author":{"handle":"h","name":"x\u0000"},"published_at":"2026-03-01T10:00:00Z","text":"x\u0000y"}"#,
        )
        .unwrap();
        strip_nul(&mut m);
        assert_eq!(m.external_id, "a\u{FFFD}b");
        assert_eq!(m.text, "x\u{FFFD}y");
        assert_eq!(m.author.name.as_deref(), Some("x\u{FFFD}"));
    }
}
