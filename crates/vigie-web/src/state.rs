//! What every handler shares.

use crate::auth::AuthSettings;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use vigie_config::Config;
use vigie_model::{Clock, SystemClock, Timestamp};
use vigie_store::Store;

/// The state of the HTTP server: cheap to clone (everything is behind `Arc`s).
#[derive(Debug, Clone)]
pub struct AppState {
    /// Where mentions, signals, levels, incidents and accounts are read.
    pub store: Arc<dyn Store>,
    /// The validated configuration (workspaces, watches, server limits).
    pub config: Arc<Config>,
    /// The Prometheus handle rendering `/metrics`; `None` disables the route (404).
    pub metrics: Option<PrometheusHandle>,
    /// When the process started (reported by `/health`).
    pub started_at: Timestamp,
    /// The clock deciding session expiry, throttling windows and TOTP steps.
    pub clock: Arc<dyn Clock>,
    /// Session lifetime, login throttling, cookie flags.
    pub auth: AuthSettings,
}

impl AppState {
    /// Bundles the state, with the system clock and the [`AuthSettings`] of `[server]`.
    pub fn new(
        store: Arc<dyn Store>,
        config: Arc<Config>,
        metrics: Option<PrometheusHandle>,
        started_at: Timestamp,
    ) -> Self {
        let auth = AuthSettings::from_server(&config.server);
        Self {
            store,
            config,
            metrics,
            started_at,
            clock: Arc::new(SystemClock),
            auth,
        }
    }

    /// Uses another clock (tests use a `ManualClock`).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses other security settings.
    pub fn with_auth(mut self, auth: AuthSettings) -> Self {
        self.auth = auth;
        self
    }
}
