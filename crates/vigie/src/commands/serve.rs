//! `vigie serve`: sources → pipeline → detectors, plus the HTTP server, until Ctrl-C or
//! SIGTERM; then a graceful shutdown that drains every in-flight mention.

use super::{load_config, open_store};
use crate::cli::ServeArgs;
use anyhow::Context;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use vigie_config::SourceConfig;
use vigie_connect::connectors::FileConnector;
use vigie_connect::format::Format;
use vigie_model::{Clock, SystemClock};
use vigie_pipeline::{PipelineBuilder, TickMode};

/// Runs the service.
pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
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

    let mut pipeline = PipelineBuilder::new(config.clone(), store.clone())
        .clock(clock.clone())
        .tick_mode(TickMode::Clock {
            clock: clock.clone(),
            every: Duration::from_secs(15),
        })
        .start()
        .await?;
    for ws in &config.workspaces {
        for source in &ws.sources {
            let connector = match source {
                SourceConfig::Jsonl(f) => {
                    FileConnector::new(f.id.clone(), f.path.clone(), Format::Jsonl, f.poll_interval)
                }
                SourceConfig::Csv(f) => {
                    FileConnector::new(f.id.clone(), f.path.clone(), Format::Csv, f.poll_interval)
                }
            };
            pipeline.spawn_source(Box::new(connector), ws.id.clone());
        }
    }

    eprintln!(
        "vigie: serving on http://{local} (store: {}); Ctrl-C to stop",
        store.backend()
    );
    let state = vigie_web::AppState::new(store, config.clone(), Some(metrics), clock.now());
    // Whatever happens to the HTTP server, the pipeline is drained and its state saved.
    let served = vigie_web::serve(listener, state, shutdown_signal()).await;

    eprintln!("vigie: stopping; draining the pipeline…");
    let report = pipeline.shutdown().await?;
    served.context("HTTP server")?;
    eprintln!(
        "vigie: stopped ({} mentions received, {} stored, {} duplicates)",
        report.received, report.stored, report.duplicates
    );
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
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
