//! `vigie serve --role ingest|worker|detector|web`: one part of the chain per process,
//! joined by NATS JetStream and sharing one database (see docs/operations/scaling.md).
//! Every role serves `/health` and `/metrics` (and the API) on its listen address.

use super::{connectors, shutdown_signal};
use crate::cli::{Role, ServeArgs};
use crate::commands::{ensure_parent_dir, load_config, redact};
use anyhow::Context;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use vigie_bus::{Bus, NatsBus, NatsSettings, Topic};
use vigie_model::{Clock, SystemClock};
use vigie_pipeline::TickMode;
use vigie_pipeline::scale::{
    DetectorOptions, Partition, RoleContext, WorkerOptions, run_detector, run_worker,
    spawn_lag_monitor, start_ingest,
};

fn role_name(role: Role) -> &'static str {
    match role {
        Role::All => "all",
        Role::Ingest => "ingest",
        Role::Worker => "worker",
        Role::Detector => "detector",
        Role::Web => "web",
    }
}

/// Connects to the bus, retrying for up to a minute while the server is away.
async fn connect_bus(url: &str, scale: &crate::cli::ScaleArgs) -> anyhow::Result<Arc<dyn Bus>> {
    if !url.starts_with("nats://") && !url.starts_with("tls://") {
        anyhow::bail!("--bus {url:?}: expected a NATS URL such as nats://127.0.0.1:4222");
    }
    if scale.bus_max_bytes < 1 << 20 {
        anyhow::bail!(
            "--bus-max-bytes {}: at least 1048576 (1 MiB) per stream",
            scale.bus_max_bytes
        );
    }
    let mut settings = NatsSettings::new(url);
    settings.max_messages = scale.bus_max_messages.max(1);
    settings.max_bytes = scale.bus_max_bytes;
    settings.ack_wait = scale.bus_ack_wait;
    scale.bus_namespace.clone_into(&mut settings.namespace);
    let mut attempt = 0u32;
    loop {
        match NatsBus::connect(settings.clone()).await {
            Ok(bus) => return Ok(Arc::new(bus)),
            Err(e) if e.is_transient() && attempt < 60 => {
                attempt += 1;
                if attempt == 1 {
                    eprintln!("vigie: waiting for the bus at {url}: {e}");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("connecting to the bus {url}")),
        }
    }
}

/// Runs one role until Ctrl-C or SIGTERM, then stops it cleanly.
pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let role = args.scale.role;
    let name = role_name(role);
    let config = load_config(&args.config)?;
    let target = args
        .config
        .database
        .clone()
        .unwrap_or_else(|| config.storage.database.clone());
    ensure_parent_dir(&target)?;
    let handles = vigie_store::open_scale_store(&target)
        .await
        .with_context(|| format!("opening the database {}", redact(&target)))?;
    let partition =
        Partition::parse(&args.scale.partition).map_err(|e| anyhow::anyhow!("--partition {e}"))?;
    let metrics =
        vigie_web::install_metrics_recorder().context("installing the metrics recorder")?;
    vigie_pipeline::scale::mark_role(name);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    let listen = args.listen.unwrap_or(config.server.listen);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let local = listener.local_addr().unwrap_or(listen);

    let bus = match role {
        Role::Web | Role::All => None,
        _ => {
            let url = args.scale.bus.as_deref().with_context(|| {
                format!("the {name} role needs a bus: --bus nats://HOST:4222 (or VIGIE_BUS_URL)")
            })?;
            Some(connect_bus(url, &args.scale).await?)
        }
    };

    // The detector role tells people (signals and level changes → the mobilizer, whose
    // ticker escalates); the web role serves incidents and acknowledgements from the store.
    let mobilization = match role {
        Role::Detector | Role::Web => Some(
            super::super::mobilize::start(&config, handles.store.clone(), clock.clone()).await?,
        ),
        _ => None,
    };
    let (mobilization, events) = match mobilization {
        Some((m, tx)) => (Some(m), (role == Role::Detector).then_some(tx)),
        None => (None, None),
    };
    // Webhook sources register here; the ingest role serves their endpoints.
    let hub = vigie_connect::push::WebhookHub::default();
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let store = handles.store.clone();
    let scale = handles.scale.clone();
    let work: tokio::task::JoinHandle<anyhow::Result<String>> = match (role, bus) {
        (Role::Ingest, Some(bus)) => {
            let clock = clock.clone();
            let mut stop = stop_rx.clone();
            let connectors = connectors(&config, &hub)?;
            tokio::spawn(async move {
                let publisher = start_ingest(bus, store.clone(), clock, 16);
                let mut sources = Vec::new();
                for (ws, connector) in connectors {
                    sources.push(vigie_pipeline::sources::spawn_connector(
                        connector,
                        ws,
                        publisher.ingest(),
                        store.clone(),
                        stop.clone(),
                    ));
                }
                let _ = stop.changed().await;
                for s in sources {
                    let _ = s.await;
                }
                let published = publisher.finish().await?;
                let _ = done_tx.send(());
                Ok(format!("{published} mentions published"))
            })
        }
        (Role::Worker, Some(bus)) => {
            let (config, clock, stop) = (config.clone(), clock.clone(), stop_rx.clone());
            let neural = if args.fast_sentiment {
                None
            } else {
                vigie_enrich::neural::shared(super::neural_threads())
            };
            spawn_lag_monitor(
                bus.clone(),
                Topic::Raw,
                "workers".into(),
                Duration::from_secs(5),
                stop_rx.clone(),
            );
            tokio::spawn(async move {
                let ctx = RoleContext {
                    bus,
                    store,
                    scale,
                    config,
                    clock,
                };
                let r = run_worker(
                    ctx,
                    WorkerOptions {
                        detector_partitions: partition.count,
                        neural,
                        ..WorkerOptions::default()
                    },
                    stop,
                )
                .await;
                let _ = done_tx.send(());
                let r = r?;
                Ok(format!(
                    "{} batches, {} new mentions, {} dead letters, {} retried",
                    r.batches, r.new_mentions, r.dead_letters, r.retried
                ))
            })
        }
        (Role::Detector, Some(bus)) => {
            let (config, clock, stop) = (config.clone(), clock.clone(), stop_rx.clone());
            let tick = if args.scale.event_time {
                TickMode::EventTime
            } else {
                TickMode::Clock {
                    clock: clock.clone(),
                    every: Duration::from_secs(15),
                }
            };
            spawn_lag_monitor(
                bus.clone(),
                Topic::Detect,
                partition.consumer_name(),
                Duration::from_secs(5),
                stop_rx.clone(),
            );
            tokio::spawn(async move {
                let options = DetectorOptions {
                    partition,
                    tick,
                    ..DetectorOptions::default()
                };
                let ctx = RoleContext {
                    bus,
                    store,
                    scale,
                    config,
                    clock,
                };
                let r = run_detector(ctx, options, events, stop).await;
                let _ = done_tx.send(());
                let r = r?;
                Ok(format!(
                    "{} signals, {} level changes",
                    r.signals, r.level_changes
                ))
            })
        }
        _ => {
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let _ = stop.changed().await;
                drop(done_tx);
                Ok(String::new())
            })
        }
    };

    eprintln!(
        "vigie: {name} role on http://{local} (store: {}); Ctrl-C to stop",
        handles.store.backend()
    );
    let state = vigie_web::AppState::new(
        handles.store.clone(),
        config.clone(),
        Some(metrics),
        clock.now(),
    );
    let shutdown = async move {
        tokio::select! {
            () = shutdown_signal() => {}
            _ = done_rx => {}
        }
    };
    let engine = if role == Role::Web {
        Some(
            vigie_web::process_engine(&state, mobilization.as_ref().map(|m| &m.mobilizer))
                .map_err(|e| anyhow::anyhow!("the responding engine: {}", e.message))?,
        )
    } else {
        None
    };
    // The web role keeps the crisis rooms' inboxes fed with new negative mentions.
    let inbox_refresher = engine.as_ref().map(|e| {
        e.spawn_inbox_refresher(
            config.workspaces.iter().map(|w| w.id.clone()).collect(),
            std::time::Duration::from_secs(60),
            std::future::pending(),
        )
    });
    // The web role sends the digest e-mails (run one web process with digests configured:
    // two would each send them).
    let digests = match &engine {
        Some(e) => crate::commands::digest::spawn_scheduler(e, &config)?,
        None => None,
    };
    let services = vigie_web::Services {
        mobilizer: mobilization.as_ref().map(|m| m.mobilizer.clone()),
        engine,
        routes: (role == Role::Ingest).then(|| vigie_connect::push::webhook_router(hub)),
    };
    let served = vigie_web::serve_with(listener, state, services, shutdown).await;
    if let Some(r) = inbox_refresher {
        r.abort();
    }
    if let Some(d) = digests {
        d.abort();
    }
    stop_tx.send_replace(true);
    let summary = work
        .await
        .map_err(|e| anyhow::anyhow!("the {name} task failed: {e}"))??;
    if let Some(m) = mobilization {
        m.finish().await;
    }
    served.context("HTTP server")?;
    eprintln!("vigie: {name} role stopped ({summary})");
    Ok(ExitCode::SUCCESS)
}
