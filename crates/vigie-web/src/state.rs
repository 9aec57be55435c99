//! What every handler shares.

use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use vigie_config::Config;
use vigie_model::Timestamp;
use vigie_store::Store;

/// The state of the HTTP server: cheap to clone (everything is behind `Arc`s).
#[derive(Debug, Clone)]
pub struct AppState {
    /// Where mentions, signals, levels and incidents are read.
    pub store: Arc<dyn Store>,
    /// The validated configuration (workspaces, watches, server limits).
    pub config: Arc<Config>,
    /// The Prometheus handle rendering `/metrics`; `None` disables the route (404).
    pub metrics: Option<PrometheusHandle>,
    /// When the process started (reported by `/health`).
    pub started_at: Timestamp,
}

impl AppState {
    /// Bundles the state.
    pub fn new(
        store: Arc<dyn Store>,
        config: Arc<Config>,
        metrics: Option<PrometheusHandle>,
        started_at: Timestamp,
    ) -> Self {
        Self {
            store,
            config,
            metrics,
            started_at,
        }
    }
}
