//! `vigie demo`: the showcase on the embedded default. Generates a seeded crisis story,
//! replays it through the whole chain into a fresh SQLite file, and prints the timeline of
//! crisis levels with their explanations. Everything printed on stdout derives from the
//! story's event times, so the same seed prints the same text; wall-clock figures go to
//! stderr.

use super::ensure_parent_dir;
use crate::cli::DemoArgs;
use crate::output::progress;
use anyhow::{Context, bail};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use vigie_config::Config;
use vigie_connect::demo::{DemoOptions, DemoScenario, generate};
use vigie_model::{CrisisLevel, LevelChange, Timestamp, WorkspaceId};
use vigie_pipeline::{Envelope, PipelineBuilder, PipelineEvent};
use vigie_store::Store;

/// Mentions per batch sent into the pipeline.
const BATCH: usize = 256;

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let config = Arc::new(Config::embedded_default());
    let workspace = config
        .workspaces
        .first()
        .map(|w| w.id.clone())
        .context("the embedded configuration has no workspace")?;
    let opts = DemoOptions {
        seed: args.seed,
        chatter_days: args.days,
        ..DemoOptions::default()
    };
    let db = prepare_database(&args.database, args.force)?;
    let scenario = generate(&opts);
    let mut out = String::new();
    write_story(&mut out, &args, &scenario);
    print!("{out}");

    let store: Arc<dyn Store> = vigie_store::open_store(&db)
        .await
        .with_context(|| format!("opening {}", args.database.display()))?;
    let web = if args.serve {
        Some(start_web(store.clone(), config.clone(), &workspace, args.port).await?)
    } else {
        None
    };
    let web_mobilizer = web.as_ref().map(|(_, _, m)| m.clone());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let pipeline = PipelineBuilder::new(config.clone(), store.clone())
        .events(tx)
        .start()
        .await?;
    let ingest = pipeline.ingest();

    let bar = progress(scenario.mentions.len() as u64, "replaying");
    // The days of chatter go in at once; the story is played at `--speed` from one hour
    // before the trigger post, so a watcher sees the crisis build up.
    let live_from = scenario.onset.plus_minutes(-60);
    let mut started: Option<Instant> = None;
    let replay_started = Instant::now();
    for batch in scenario.mentions.chunks(BATCH) {
        if args.speed > 0.0
            && let Some(m) = batch.first()
            && m.published_at >= live_from
        {
            let started = *started.get_or_insert_with(Instant::now);
            let story_secs = m.published_at.millis_since(live_from) as f64 / 1000.0;
            let due = Duration::try_from_secs_f64(story_secs / args.speed).unwrap_or(Duration::MAX);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        ingest
            .send(Envelope {
                workspace: workspace.clone(),
                source: None,
                mentions: batch.to_vec(),
                cursor: None,
                receipts: Default::default(),
            })
            .await?;
        bar.inc(batch.len() as u64);
    }
    drop(ingest);
    let report = pipeline.shutdown().await?;
    bar.finish_and_clear();
    let elapsed = replay_started.elapsed().as_secs_f64();
    eprintln!(
        "(replayed {} mentions in {elapsed:.1} s: {:.0} mentions/s through the whole chain)",
        report.received,
        report.received as f64 / elapsed.max(1e-9)
    );

    let mut changes = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let PipelineEvent::LevelChanged(c) = event {
            changes.push(c);
        }
    }
    let mut out = String::new();
    write_timeline(&mut out, &changes, scenario.onset, args.details);
    write_onset_summary(
        &mut out,
        &changes,
        scenario.onset,
        &config.workspaces[0].watches[0].id,
    );
    write_incidents(&mut out, store.as_ref(), &workspace, scenario.onset).await?;
    write_mobilization(&mut out, store.clone(), &changes).await?;
    write_activation(
        &mut out,
        store.clone(),
        config.clone(),
        &workspace,
        &changes,
    )
    .await?;
    let _ = writeln!(
        out,
        "\nStored in {}: {} mentions ({} duplicates), {} signals, {} level changes.",
        args.database.display(),
        report.stored,
        report.duplicates,
        report.signals,
        report.level_changes
    );
    let _ = writeln!(
        out,
        "Explore it: cargo run --release -- serve --database {}\n  then open http://127.0.0.1:8080/api/v1/workspaces/{workspace}/levels",
        args.database.display()
    );
    print!("{out}");
    if let Some(m) = web_mobilizer {
        // The served on-call API shows the incidents the story's mobilization stored.
        m.restore().await?;
    }
    if let Some((addr, server, _)) = web {
        println!("\nThe dashboard is still served on http://{addr}/ — press Ctrl-C to stop.");
        server.await.context("the web server task failed")??;
    }
    Ok(ExitCode::SUCCESS)
}

/// Minutes after the first alert at which the demo's executive acknowledges: nobody
/// answered the first two steps (a Sunday evening), the third one does.
const DEMO_ACK_AFTER_MIN: i64 = 24;

/// The chain after detection, on the story's clock: the demo's on-call setup
/// (`vigie_notify::demo::demo_config`: Camille or Hugo in rotation, then Nadia, then Paul,
/// 10 minutes per step, through the log channel) receives every level change; the clock
/// moves minute by minute so escalation steps fire when nobody acknowledges; Paul
/// acknowledges the first alert from his link. Prints each mobilized incident's timeline.
async fn write_mobilization(
    out: &mut String,
    store: Arc<dyn Store>,
    changes: &[LevelChange],
) -> anyhow::Result<()> {
    use vigie_notify::{AckSigner, Mobilizer, build_notifier, demo};
    let mut changes: Vec<&LevelChange> = changes.iter().collect();
    changes.sort_by_key(|c| c.at);
    let Some(first) = changes.first() else {
        return Ok(());
    };
    let config = demo::demo_config();
    let mut notifiers = std::collections::HashMap::new();
    for c in &config.channels {
        notifiers.insert(c.id.clone(), build_notifier(c, &|_| None)?);
    }
    let clock = Arc::new(vigie_model::ManualClock::new(first.at));
    let m = Mobilizer::new(config, store, clock.clone(), AckSigner::random(), notifiers)?;
    let mut ids: Vec<i64> = Vec::new();
    let mut ack: Option<(Timestamp, i64)> = None;
    let mut now = first.at;
    let until = changes.last().map_or(first.at, |c| c.at).plus_minutes(60);
    let mut next = changes.into_iter().peekable();
    while now <= until {
        while let Some(c) = next.next_if(|c| c.at <= now) {
            let id = m.on_level_change(c).await?;
            if !ids.contains(&id) {
                ids.push(id);
            }
            if ack.is_none() && c.to >= CrisisLevel::Alert {
                ack = Some((c.at.plus_minutes(DEMO_ACK_AFTER_MIN), id));
            }
        }
        if let Some((at, id)) = ack
            && at <= now
        {
            m.acknowledge(id, "paul", "link").await?;
            ack = Some((Timestamp::from_millis(i64::MAX), id));
        }
        m.tick().await?;
        // Deliveries run in background tasks and are stamped when done: wait for them
        // before the clock moves, so the printed times do not depend on the machine.
        m.flush().await;
        now = now.plus_minutes(1);
        clock.set(now);
    }
    m.flush().await;
    let _ = writeln!(
        out,
        "\nMobilization (demo on-call: Camille or Hugo, then Nadia, then Paul; 10 min per step; Paul acknowledges the first alert after {DEMO_ACK_AFTER_MIN} min)"
    );
    for id in ids {
        let mut incident = m.incident(id).await?;
        // Deliveries of one minute finish in any order: print them by text.
        incident.timeline.sort_by(|a, b| {
            let sent = |e: &vigie_notify::TimelineEntry| {
                matches!(e.kind, vigie_notify::EntryKind::NotificationSent).then(|| e.text.clone())
            };
            (a.at, sent(a)).cmp(&(b.at, sent(b)))
        });
        if incident.timeline.len() > 1 {
            for line in demo::format_timeline(&incident).lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    Ok(())
}

/// The responding side of the story: when Paul acknowledges the first alert, he activates
/// the scenario Vigie proposes for the incident (on the story's clock), which opens its
/// crisis room with tasks, policy-checked drafts and the inbox. `demo --serve` shows it.
/// Skipped with a line when no scenario of the library matches the incident.
async fn write_activation(
    out: &mut String,
    store: Arc<dyn Store>,
    config: Arc<Config>,
    workspace: &WorkspaceId,
    changes: &[LevelChange],
) -> anyhow::Result<()> {
    let Some(alert) = changes
        .iter()
        .filter(|c| c.to >= CrisisLevel::Alert)
        .min_by_key(|c| c.at)
    else {
        return Ok(());
    };
    let at = alert.at.plus_minutes(DEMO_ACK_AFTER_MIN);
    let Some(incident) = store
        .list_incidents(workspace)
        .await?
        .into_iter()
        .filter(|i| i.watch == alert.watch && i.opened_at <= alert.at)
        .max_by_key(|i| i.opened_at)
    else {
        return Ok(());
    };
    let clock = Arc::new(vigie_model::ManualClock::new(at));
    let state = vigie_web::AppState::new(store, config, None, at).with_clock(clock);
    let engine = vigie_web::process_engine(&state, None)
        .map_err(|e| anyhow::anyhow!("the responding engine: {}", e.message))?;
    let proposals = engine
        .propose(workspace, incident.id)
        .await
        .map_err(|e| anyhow::anyhow!("proposing a scenario: {e}"))?;
    let Some(best) = proposals.first() else {
        let _ = writeln!(
            out,
            "\nResponse: no scenario of the library matches the incident: no crisis room in the story"
        );
        return Ok(());
    };
    let actor = vigie_respond::Actor {
        name: "paul".into(),
        roles: Vec::new(),
    };
    let request = vigie_respond::ActivateRequest {
        scenario: best.scenario.clone(),
        lang: vigie_respond::Lang::Fr,
        variables: Default::default(),
    };
    let activation = engine
        .activate(workspace, incident.id, &request, &actor)
        .await
        .map_err(|e| anyhow::anyhow!("activating {}: {e}", best.scenario))?;
    let _ = writeln!(
        out,
        "\nResponse: at {} Paul activates the proposed scenario {:?} (matched: {}) for incident #{}: crisis room #{} with {} tasks, {} drafts, {} inbox items",
        hm(at),
        best.scenario,
        best.matched_terms.join(", "),
        incident.id,
        activation.room.id,
        activation.tasks.len(),
        activation.drafts.len(),
        activation.inbox_items
    );
    Ok(())
}

/// `--serve`: creates the demo admin, binds 127.0.0.1:`port` and serves the web application
/// until Ctrl-C, with the on-call side (the demo on-call setup, read from the store: the
/// story's mobilization is stored after the replay) and the responding side (the scenario
/// library of `scenarios/`). Returns the address, the server task and the served mobilizer.
async fn start_web(
    store: Arc<dyn Store>,
    config: Arc<Config>,
    workspace: &vigie_model::WorkspaceId,
    port: u16,
) -> anyhow::Result<(
    std::net::SocketAddr,
    tokio::task::JoinHandle<std::io::Result<()>>,
    vigie_notify::Mobilizer,
)> {
    let (_, password) = super::user::create_user(
        store.as_ref(),
        "demo",
        "Demo",
        None,
        "fr",
        "Europe/Paris",
        &[(workspace.clone(), vigie_store::Role::Admin)],
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port} (choose another with --port)"))?;
    let addr = listener.local_addr()?;
    let clock: Arc<dyn vigie_model::Clock> = Arc::new(vigie_model::SystemClock);
    let state = vigie_web::AppState::new(store.clone(), config, None, clock.now());
    // No ticker: the story's escalation already ran on its own clock; the served
    // mobilizer records acknowledgements, comments and resolutions made in the browser.
    let notify = vigie_notify::demo::demo_config();
    let mut notifiers = std::collections::HashMap::new();
    for c in &notify.channels {
        notifiers.insert(c.id.clone(), vigie_notify::build_notifier(c, &|_| None)?);
    }
    let mobilizer = vigie_notify::Mobilizer::new(
        notify,
        store,
        clock,
        vigie_notify::AckSigner::random(),
        notifiers,
    )?;
    let services = vigie_web::Services {
        mobilizer: Some(mobilizer.clone()),
        engine: Some(
            vigie_web::process_engine(&state, Some(&mobilizer))
                .map_err(|e| anyhow::anyhow!("the responding engine: {}", e.message))?,
        ),
        routes: None,
    };
    let server = tokio::spawn(vigie_web::serve_with(listener, state, services, async {
        let _ = tokio::signal::ctrl_c().await;
    }));
    println!("Dashboard: http://{addr}/w/{workspace}");
    println!("Sign in as: demo");
    if let Some(p) = password {
        println!("Password:   {p}");
    }
    println!();
    Ok((addr, server, mobilizer))
}

/// Removes the previous demo database (the demo always starts from an empty one).
fn prepare_database(path: &Path, force: bool) -> anyhow::Result<String> {
    let is_default = path == Path::new("vigie-data/demo.db");
    if path.exists() && !is_default && !force {
        bail!(
            "{} exists; the demo recreates its database: pass --force to overwrite it, or choose another path",
            path.display()
        );
    }
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{}{suffix}", path.display());
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {p}")),
        }
    }
    let s = path.display().to_string();
    ensure_parent_dir(&s)?;
    Ok(s)
}

fn hm(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M").to_string()
}

fn relative(t: Timestamp, onset: Timestamp) -> String {
    let mins = t.millis_since(onset).div_euclid(60_000);
    let sign = if mins < 0 { "-" } else { "+" };
    let m = mins.abs();
    if m >= 60 * 24 {
        format!("{sign}{}d{:02}h", m / 1440, (m % 1440) / 60)
    } else if m >= 60 {
        format!("{sign}{}h{:02}", m / 60, m % 60)
    } else {
        format!("{sign}{m} min")
    }
}

fn write_story(out: &mut String, args: &DemoArgs, s: &DemoScenario) {
    let _ = writeln!(
        out,
        "Vigie demo: a crisis at the (fictional) coffee-shop chain Orsane, replayed through the whole chain\n\
         seed {}, {} mentions generated; times in UTC (Paris is UTC+1)\n\nThe story",
        args.seed,
        s.mentions.len()
    );
    for p in &s.phases {
        let _ = writeln!(out, "  {}  {:<18} {}", hm(p.start), p.name, p.description);
    }
    let _ = writeln!(out);
}

fn write_timeline(out: &mut String, changes: &[LevelChange], onset: Timestamp, details: bool) {
    let _ = writeln!(
        out,
        "Timeline of crisis levels (relative to the trigger post at {})",
        hm(onset)
    );
    if changes.is_empty() {
        let _ = writeln!(out, "  no level change");
    }
    for c in changes {
        let e = &c.explanation;
        let _ = writeln!(
            out,
            "\n  {}  {:>9}  {:<7} {} → {}",
            hm(c.at),
            relative(c.at, onset),
            c.watch.as_str(),
            c.from,
            c.to
        );
        let _ = writeln!(out, "      {}", e.summary);
        if !details {
            continue;
        }
        let _ = writeln!(
            out,
            "      window {} min: {} mentions (expected {:.1}), {} negative (expected {:.1}), {} distinct authors, {:.0} % other voices",
            e.window_minutes,
            e.mentions,
            e.expected_mentions,
            e.negative,
            e.expected_negative,
            e.distinct_authors,
            e.others_share * 100.0
        );
        if !e.signals.is_empty() {
            let list: Vec<String> = e
                .signals
                .iter()
                .map(|s| format!("{} (score {:.1}: {})", s.kind.as_str(), s.score, s.detail))
                .collect();
            let _ = writeln!(out, "      signals: {}", list.join("; "));
        }
        if !e.top_terms.is_empty() {
            let list: Vec<String> = e
                .top_terms
                .iter()
                .take(8)
                .map(|t| format!("{} ({})", t.term, t.count))
                .collect();
            let _ = writeln!(out, "      top terms: {}", list.join(", "));
        }
        if !e.top_hashtags.is_empty() {
            let list: Vec<String> = e
                .top_hashtags
                .iter()
                .take(5)
                .map(|t| format!("{} ({})", t.term, t.count))
                .collect();
            let _ = writeln!(out, "      top hashtags: {}", list.join(", "));
        }
        if !e.top_authors.is_empty() {
            let list: Vec<String> = e
                .top_authors
                .iter()
                .take(4)
                .map(|a| {
                    format!(
                        "@{} ({} followers{})",
                        a.handle,
                        a.followers,
                        if a.verified { ", verified" } else { "" }
                    )
                })
                .collect();
            let _ = writeln!(out, "      top authors: {}", list.join(", "));
        }
        for p in e.samples.iter().take(3) {
            let text: String = p.text.split_whitespace().collect::<Vec<_>>().join(" ");
            let short: String = text.chars().take(140).collect();
            let ell = if text.chars().count() > 140 {
                "…"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "      > @{} ({}, reach {}, {}): {short}{ell}",
                p.author,
                p.source,
                p.reach,
                p.sentiment.as_str()
            );
        }
    }
    let _ = writeln!(out);
}

fn write_onset_summary(
    out: &mut String,
    changes: &[LevelChange],
    onset: Timestamp,
    brand: &vigie_model::WatchId,
) {
    let brand_changes: Vec<&LevelChange> = changes.iter().filter(|c| &c.watch == brand).collect();
    let before = brand_changes
        .iter()
        .filter(|c| c.at < onset)
        .map(|c| c.to)
        .max()
        .unwrap_or(CrisisLevel::Calm);
    let _ = writeln!(
        out,
        "Detection of the crisis on watch `{brand}` (onset = trigger post at {})",
        hm(onset)
    );
    let _ = writeln!(out, "  highest level before the onset: {before}");
    for level in [
        CrisisLevel::Vigilance,
        CrisisLevel::Alert,
        CrisisLevel::Crisis,
    ] {
        match brand_changes
            .iter()
            .find(|c| c.at >= onset && c.to >= level)
        {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "  level {level} reached {} after the onset ({})",
                    relative(c.at, onset).trim_start_matches('+'),
                    hm(c.at)
                );
            }
            None => {
                let _ = writeln!(out, "  level {level} never reached");
            }
        }
    }
    if let Some(back) = brand_changes
        .iter()
        .rev()
        .find(|c| c.at > onset && c.to == CrisisLevel::Calm)
    {
        let _ = writeln!(
            out,
            "  back to calm {} after the onset ({})",
            relative(back.at, onset).trim_start_matches('+'),
            hm(back.at)
        );
    }
    let _ = writeln!(out);
}

async fn write_incidents(
    out: &mut String,
    store: &dyn Store,
    workspace: &WorkspaceId,
    onset: Timestamp,
) -> anyhow::Result<()> {
    let mut incidents = store.list_incidents(workspace).await?;
    incidents.sort_by_key(|i| (i.opened_at, i.id));
    let _ = writeln!(
        out,
        "Incidents (signals and level changes grouped per watch)"
    );
    if incidents.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for i in &incidents {
        let closed = i
            .closed_at
            .map_or_else(|| "still open".to_owned(), |t| format!("closed {}", hm(t)));
        let _ = writeln!(
            out,
            "  #{} {}: opened {} ({}), peak {}, {closed}, {} timeline events",
            i.id,
            i.watch,
            hm(i.opened_at),
            relative(i.opened_at, onset),
            i.peak_level,
            i.timeline.len()
        );
    }
    Ok(())
}
