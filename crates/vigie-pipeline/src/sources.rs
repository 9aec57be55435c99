//! Running connectors: resume from the saved cursor, poll, back off on errors, stop on
//! shutdown.

use crate::{Envelope, Ingest, telemetry};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use vigie_connect::{Connector, PollOutcome};
use vigie_model::WorkspaceId;
use vigie_store::Store;

/// First delay after a failed poll; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest delay between two failed polls.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Spawns a task that runs `connector` until it finishes or `stop` turns true.
pub fn spawn_connector(
    mut connector: Box<dyn Connector>,
    workspace: WorkspaceId,
    ingest: Ingest,
    store: Arc<dyn Store>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let id = connector.id().to_owned();
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
        let mut backoff = FIRST_BACKOFF;
        loop {
            if *stop.borrow() {
                break;
            }
            let mut mentions = Vec::new();
            let mut rejected = Vec::new();
            let outcome = connector.poll(&mut mentions, &mut rejected).await;
            for r in &rejected {
                tracing::warn!(source = %id, line = r.line, reason = %r.reason, "record rejected");
            }
            if !rejected.is_empty() {
                telemetry::records_rejected(&id, rejected.len());
            }
            let wait = match outcome {
                Ok(outcome) => {
                    backoff = FIRST_BACKOFF;
                    if !mentions.is_empty() || !rejected.is_empty() {
                        let envelope = Envelope {
                            workspace: workspace.clone(),
                            source: Some(id.clone()),
                            mentions,
                            cursor: Some(connector.cursor()),
                        };
                        if ingest.send(envelope).await.is_err() {
                            tracing::error!(source = %id, "the pipeline stopped; source stops");
                            break;
                        }
                    }
                    match outcome {
                        PollOutcome::Ready => continue,
                        PollOutcome::Idle(d) => d,
                        PollOutcome::Finished => break,
                    }
                }
                Err(e) => {
                    telemetry::connector_error(&id);
                    tracing::warn!(source = %id, error = %e, retry_in = ?backoff, "poll failed");
                    let wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        break; // the pipeline is gone
                    }
                }
            }
        }
    })
}
