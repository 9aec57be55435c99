//! `vigie bench`: mentions per second through the whole chain (enrichment, SQLite store,
//! detectors), on generated demo mentions, plus the enrichment stage alone on one core for
//! comparison. Figures are printed as a Markdown table row for docs/BENCHMARKS.md.

use super::ensure_parent_dir;
use crate::cli::BenchArgs;
use anyhow::Context;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use vigie_config::Config;
use vigie_connect::demo::{DemoOptions, generate};
use vigie_enrich::{Enricher, WatchSpec};
use vigie_model::Mention;
use vigie_pipeline::{Envelope, PipelineBuilder};

/// Runs the benchmark.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let config = Arc::new(Config::embedded_default());
    let ws = config
        .workspaces
        .first()
        .context("no workspace in the embedded configuration")?;
    let mentions = corpus(usize::try_from(args.mentions).unwrap_or(usize::MAX));
    let batch_size = usize::try_from(args.batch).unwrap_or(512);
    let n = mentions.len();
    eprintln!("bench: {n} generated mentions, batches of {}", args.batch);

    // 1. Enrichment alone, one core.
    let enricher = Enricher::new(
        ws.watches
            .iter()
            .map(|w| WatchSpec {
                id: w.id.clone(),
                query: w.query.clone(),
                languages: w.languages.clone(),
                own_accounts: w.own_accounts.clone(),
            })
            .collect(),
    );
    let sample = mentions.len().min(50_000);
    let t = Instant::now();
    let mut enriched = Vec::with_capacity(sample);
    for m in mentions.iter().take(sample) {
        enriched.push(enricher.enrich(&ws.id, m.clone()));
    }
    let enrich_rate = sample as f64 / t.elapsed().as_secs_f64();
    eprintln!("bench: enrichment alone: {enrich_rate:.0} mentions/s on one core");

    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("vigie-bench-{}", std::process::id())),
    };
    let target = dir.join("bench.db").display().to_string();
    let store_only_target = dir.join("bench-store-only.db").display().to_string();
    for file in [&target, &store_only_target] {
        if std::path::Path::new(file).exists() {
            anyhow::bail!(
                "{file} exists: the benchmark needs fresh databases; remove it or choose another --dir"
            );
        }
    }
    ensure_parent_dir(&target)?;
    // 2. The store alone: the same enriched mentions, same batch size, into its own file.
    let store_only = vigie_store::open_store(&store_only_target).await?;
    let t = Instant::now();
    for batch in enriched.chunks(batch_size) {
        store_only.insert_mentions(batch).await?;
    }
    let store_rate = enriched.len() as f64 / t.elapsed().as_secs_f64();
    drop(store_only);
    eprintln!("bench: store alone: {store_rate:.0} new mentions/s");

    // 3. The whole chain.
    let store = vigie_store::open_store(&target).await?;
    let pipeline = PipelineBuilder::new(config.clone(), store.clone())
        .start()
        .await?;
    let ingest = pipeline.ingest();
    let t = Instant::now();
    let mut rest = mentions.into_iter().peekable();
    while rest.peek().is_some() {
        let batch: Vec<Mention> = rest.by_ref().take(batch_size).collect();
        ingest
            .send(Envelope {
                workspace: ws.id.clone(),
                source: None,
                mentions: batch,
                cursor: None,
                receipts: Default::default(),
            })
            .await?;
    }
    drop(ingest);
    let report = pipeline.shutdown().await?;
    let secs = t.elapsed().as_secs_f64();
    let chain_rate = report.received as f64 / secs;
    let backend = store.backend();
    drop(store);
    for file in [&target, &store_only_target] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{file}{suffix}"));
        }
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "| mentions | batch | backend | cores | whole chain (mentions/s) | enrichment alone, 1 core | store alone | chain / store |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {} | {cores} | {chain_rate:.0} | {enrich_rate:.0} | {store_rate:.0} | {:.2} |",
        report.received,
        args.batch,
        backend,
        chain_rate / store_rate
    );
    eprintln!(
        "bench: {} stored, {} duplicates, {} signals, {} level changes in {secs:.2} s",
        report.stored, report.duplicates, report.signals, report.level_changes
    );
    Ok(ExitCode::SUCCESS)
}

/// `n` distinct mentions in time order: demo stories with successive seeds, each shifted
/// after the previous one so event time only moves forward.
fn corpus(n: usize) -> Vec<Mention> {
    let mut out = Vec::with_capacity(n);
    let mut seed = 1;
    let mut start = DemoOptions::default().start;
    while out.len() < n {
        let scenario = generate(&DemoOptions {
            seed,
            start,
            ..DemoOptions::default()
        });
        let end = scenario.mentions.last().map_or(start, |m| m.published_at);
        for mut m in scenario.mentions {
            if out.len() == n {
                break;
            }
            m.external_id = format!("{seed}-{}", m.external_id);
            out.push(m);
        }
        start = end.plus_minutes(60);
        seed += 1;
    }
    out
}
