//! Where detection meets people: the process's [`Mobilizer`] receives the pipeline's
//! signals and level changes, and a ticker runs escalations and SLA timers. Used by
//! `vigie serve` (the `all` and `detector` roles) and `vigie demo --serve`.

use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use vigie_model::Clock;
use vigie_notify::Mobilizer;
use vigie_pipeline::PipelineEvent;
use vigie_store::Store;

/// How often escalation steps and SLA deadlines are checked.
pub(crate) const TICK: Duration = Duration::from_secs(15);

/// A running mobilizer: the event forwarder and the ticker.
#[derive(Debug)]
pub(crate) struct Mobilization {
    /// The service (for the web routes: incidents, acknowledgements, on-call).
    pub mobilizer: Mobilizer,
    forward: JoinHandle<()>,
    ticker: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

/// Builds the mobilizer from `[notify]` and starts forwarding what `events` receives.
/// Returns the sender to hand to the pipeline.
pub(crate) async fn start(
    config: &vigie_config::Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Mobilization, mpsc::UnboundedSender<PipelineEvent>)> {
    let mobilizer = Mobilizer::from_config(config.notify.clone(), store, clock)
        .await
        .context("mobilizing (the [notify] section)")?;
    let (tx, rx) = mpsc::unbounded_channel();
    let forward = tokio::spawn(forward(mobilizer.clone(), rx));
    let (stop, mut stop_rx) = watch::channel(false);
    let ticker = mobilizer.spawn_ticker(TICK, async move {
        let _ = stop_rx.changed().await;
    });
    Ok((
        Mobilization {
            mobilizer,
            forward,
            ticker,
            stop,
        },
        tx,
    ))
}

/// Hands each signal and level change to the mobilizer, in order, until the pipeline drops
/// its sender.
async fn forward(mobilizer: Mobilizer, mut rx: mpsc::UnboundedReceiver<PipelineEvent>) {
    while let Some(event) = rx.recv().await {
        let result = match &event {
            PipelineEvent::Signal(s) => mobilizer.on_signal(s).await,
            PipelineEvent::LevelChanged(c) => mobilizer.on_level_change(c).await.map(|_| ()),
            PipelineEvent::IncidentUpdated(_) => Ok(()),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "mobilizing failed for a detection event");
        }
    }
}

impl Mobilization {
    /// After the pipeline has shut down (its sender dropped): handles the last events,
    /// stops the ticker and waits for the deliveries in flight.
    pub(crate) async fn finish(self) {
        if let Err(e) = self.forward.await {
            tracing::error!(error = %e, "the mobilizing task failed");
        }
        self.stop.send_replace(true);
        let _ = self.ticker.await;
        self.mobilizer.flush().await;
    }
}
