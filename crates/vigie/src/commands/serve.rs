//! `vigie serve`: sources → pipeline → detectors, plus the HTTP server, until Ctrl-C or
//! SIGTERM; then a graceful shutdown that drains every in-flight mention.

mod roles;

use super::{load_config, open_store};
use crate::cli::{Role, ServeArgs};
use anyhow::Context;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use vigie_model::{Clock, SystemClock};
use vigie_pipeline::{PipelineBuilder, TickMode};

/// Runs the service.
pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.scale.role != Role::All {
        return roles::run(args).await;
    }
    let config = load_config(&args.config)?;
    let store = open_store(&args.config, &config).await?;
    let metrics =
        vigie_web::install_metrics_recorder().context("installing the metrics recorder")?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    // Bind first: a port already in use must fail before any mention is read.
    let listen = args.listen.unwrap_or(config.server.listen);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let local = listener.local_addr().unwrap_or(listen);

    let tick = if args.scale.event_time {
        TickMode::EventTime
    } else {
        TickMode::Clock {
            clock: clock.clone(),
            every: Duration::from_secs(15),
        }
    };
    // Detection → people: signals and level changes go to the mobilizer.
    let (mobilization, events) =
        super::mobilize::start(&config, store.clone(), clock.clone()).await?;
    let mut pipeline = PipelineBuilder::new(config.clone(), store.clone())
        .clock(clock.clone())
        .tick_mode(tick)
        .events(events)
        .neural(if args.fast_sentiment {
            None
        } else {
            vigie_enrich::neural::shared(neural_threads())
        })
        .start()
        .await?;
    let hub = vigie_connect::push::WebhookHub::default();
    for (ws, connector) in connectors(&config, &hub)? {
        pipeline.spawn_source(connector, ws);
    }

    eprintln!(
        "vigie: serving on http://{local} (store: {}); Ctrl-C to stop",
        store.backend()
    );
    let state = vigie_web::AppState::new(store, config.clone(), Some(metrics), clock.now());
    let engine = vigie_web::process_engine(&state, Some(&mobilization.mobilizer))
        .map_err(|e| anyhow::anyhow!("the responding engine: {}", e.message))?;
    // New negative mentions of an incident join its crisis room's inbox within a minute.
    let inbox_refresher = engine.spawn_inbox_refresher(
        config.workspaces.iter().map(|w| w.id.clone()).collect(),
        std::time::Duration::from_secs(60),
        std::future::pending(),
    );
    // Daily and weekly digest e-mails of `[[workspaces.digests]]`, checked every minute.
    let digests = super::digest::spawn_scheduler(&engine, &config)?;
    let services = vigie_web::Services {
        mobilizer: Some(mobilization.mobilizer.clone()),
        engine: Some(engine),
        routes: Some(vigie_connect::push::webhook_router(hub)),
    };
    // Whatever happens to the HTTP server, the pipeline is drained and its state saved.
    let served = vigie_web::serve_with(listener, state, services, shutdown_signal()).await;
    inbox_refresher.abort();
    if let Some(d) = digests {
        d.abort();
    }

    eprintln!("vigie: stopping; draining the pipeline…");
    let report = pipeline.shutdown().await?;
    mobilization.finish().await;
    served.context("HTTP server")?;
    eprintln!(
        "vigie: stopped ({} mentions received, {} stored, {} duplicates)",
        report.received, report.stored, report.duplicates
    );
    Ok(ExitCode::SUCCESS)
}

/// Threads of the neural sentiment engine: all cores but one, which stays for the rest of
/// the chain.
pub(super) fn neural_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// One connector per configured source, with its workspace (built by the connector
/// registry; a source this binary cannot run is an error naming it). Webhook sources
/// register their endpoint in `hub`, which the process serves.
pub(super) fn connectors(
    config: &vigie_config::Config,
    hub: &vigie_connect::push::WebhookHub,
) -> anyhow::Result<Vec<(vigie_model::WorkspaceId, Box<dyn vigie_connect::Connector>)>> {
    use vigie_connect::registry::{BuildContext, build_connector};
    let mut out = Vec::new();
    for ws in &config.workspaces {
        let cx = BuildContext::new(ws.id.clone()).with_hub(hub.clone());
        for source in &ws.sources {
            let connector = build_connector(source, &cx)
                .with_context(|| format!("source {:?} of workspace {}", source.id(), ws.id))?;
            out.push((ws.id.clone(), connector));
        }
    }
    Ok(out)
}

/// Resolves on Ctrl-C or SIGTERM.
pub(super) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
