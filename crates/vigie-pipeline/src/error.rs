//! Pipeline errors.

/// What can go wrong when starting or feeding the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The pipeline has stopped and accepts no more mentions.
    #[error("the pipeline is closed")]
    Closed,
    /// The store failed while starting (loading detector states, syncing watches).
    #[error("store error: {0}")]
    Store(#[from] vigie_store::StoreError),
    /// A task of the pipeline panicked or was cancelled.
    #[error("pipeline task failed: {0}")]
    Task(String),
}
