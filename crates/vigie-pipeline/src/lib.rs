//! The topology of Vigie: `sources → enrichment → store + detectors → levels`.
//!
//! [`PipelineBuilder`] (in `builder.rs`, the one place where the stages are wired) starts
//! four kinds of tasks joined by bounded channels, so a slow store slows the sources down
//! instead of filling memory:
//!
//! 1. **sources** ([`sources::spawn_connector`]) poll connectors and send [`Envelope`]s;
//!    anything else (the demo, `vigie import`) sends envelopes through an [`Ingest`] handle;
//! 2. **enrichment** (`enrich.rs`) runs the [`vigie_enrich::Enricher`] of the envelope's
//!    workspace on a blocking thread, several batches in flight, output kept in order;
//! 3. **store** (`sink.rs`, `run_store`) stores each batch in one transaction and learns
//!    which mentions are new (the store de-duplicates on `(workspace, source, external_id)`);
//! 4. **detect** (`sink.rs`, `run_sink`) feeds only the *new* mentions to the per-watch
//!    [`vigie_detect::WatchMonitor`]s, stores their signals, level changes and incidents,
//!    and only then saves the source's cursor: at-least-once delivery with de-duplication,
//!    so a crash never loses a mention nor counts one twice. Storing batch N+1 overlaps
//!    detecting on batch N.
//!
//! Shutdown is graceful: [`RunningPipeline::shutdown`] stops the sources, lets every
//! in-flight mention drain through the stages, saves the detector states and returns a
//! [`PipelineReport`].

mod builder;
mod enrich;
mod error;
pub mod scale;
mod sink;
pub mod sources;
mod telemetry;

pub use builder::{PipelineBuilder, RunningPipeline, TickMode};
pub use error::PipelineError;

use tokio::sync::mpsc;
use vigie_model::{Incident, LevelChange, Mention, Signal, WorkspaceId};

/// A batch of mentions from one source of one workspace.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Workspace the mentions belong to.
    pub workspace: WorkspaceId,
    /// Source id for the checkpoint (`None` for one-off feeds such as the demo).
    pub source: Option<String>,
    /// The mentions.
    pub mentions: Vec<Mention>,
    /// The source's cursor after this batch, saved once the batch is stored.
    pub cursor: Option<String>,
    /// Told once the batch is stored (or persisted by the bus in a scaled-out
    /// installation); webhook requests wait on it. `Receipts::default()` when nobody waits.
    pub receipts: vigie_connect::Receipts,
}

/// What the pipeline tells observers (the demo's timeline, later the notifiers).
#[derive(Debug, Clone)]
pub enum PipelineEvent {
    /// A detector signal was stored.
    Signal(Signal),
    /// A watch changed level.
    LevelChanged(LevelChange),
    /// An incident was opened or updated (stored, with its id).
    IncidentUpdated(Incident),
}

/// Counts over a pipeline's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PipelineReport {
    /// Mentions received from sources.
    pub received: u64,
    /// Mentions stored for the first time.
    pub stored: u64,
    /// Mentions already stored (replays, duplicates).
    pub duplicates: u64,
    /// Envelopes dropped because their workspace is not configured.
    pub rejected: u64,
    /// Signals emitted.
    pub signals: u64,
    /// Level changes.
    pub level_changes: u64,
    /// Batches that failed to store (retried, then dropped after logging).
    pub failed_batches: u64,
}

/// Sends envelopes into a running pipeline. Cloneable; the pipeline drains once every
/// `Ingest` and every source is gone.
#[derive(Debug, Clone)]
pub struct Ingest {
    tx: mpsc::Sender<Envelope>,
}

impl Ingest {
    /// Sends a batch, waiting while the pipeline is full (backpressure).
    pub async fn send(&self, envelope: Envelope) -> Result<(), PipelineError> {
        self.tx
            .send(envelope)
            .await
            .map_err(|_| PipelineError::Closed)
    }
}

#[cfg(test)]
mod tests;
