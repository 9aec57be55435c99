//! `vigie import FILE`: mentions from JSON Lines or CSV through the whole chain.
//!
//! Every record is parsed before anything is stored. Bad records are reported with their
//! line number. With `--strict`, one bad record means nothing is stored (exit code 1);
//! otherwise the good records are imported and the exit code is 3 ("partial") so that
//! scripts notice. Mentions already stored are counted as duplicates, never stored twice.

use super::{load_config, open_store};
use crate::cli::ImportArgs;
use crate::output::progress;
use anyhow::{Context, bail};
use std::process::ExitCode;
use vigie_connect::format::{Format, parse};
use vigie_model::WorkspaceId;
use vigie_pipeline::{Envelope, PipelineBuilder};

/// Bad records printed before "… and N more".
const MAX_PRINTED_ERRORS: usize = 50;
/// Mentions per envelope.
const BATCH: usize = 512;
/// Exit code of an import that skipped bad records.
const EXIT_PARTIAL: u8 = 3;

/// Runs the import.
pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.config)?;
    let workspace = pick_workspace(&config, args.workspace.as_deref())?;
    let format = match args.format.as_deref() {
        None => Format::from_path(&args.file),
        Some(f) => {
            Format::parse(f).with_context(|| format!("unknown format {f:?}: use jsonl or csv"))?
        }
    };
    let data =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;

    let mut mentions = Vec::new();
    let mut errors = Vec::new();
    for record in parse(format, &data) {
        match record {
            Ok(m) => mentions.push(m),
            Err(e) => errors.push(e),
        }
    }
    drop(data);
    for e in errors.iter().take(MAX_PRINTED_ERRORS) {
        eprintln!("{}:{}: {}", args.file.display(), e.line, e.reason);
    }
    if errors.len() > MAX_PRINTED_ERRORS {
        eprintln!(
            "… and {} more bad records",
            errors.len() - MAX_PRINTED_ERRORS
        );
    }
    if mentions.is_empty() && errors.is_empty() {
        bail!(
            "{}: no records to import (empty file, or a CSV header only)",
            args.file.display()
        );
    }
    if args.strict && !errors.is_empty() {
        eprintln!(
            "import refused (--strict): {} bad record(s) out of {}; nothing was stored",
            errors.len(),
            errors.len() + mentions.len()
        );
        return Ok(ExitCode::FAILURE);
    }

    // Detectors need event-time order.
    mentions.sort_by_key(|m| m.published_at);
    let store = open_store(&args.config, &config).await?;
    let pipeline = PipelineBuilder::new(config.clone(), store.clone())
        .start()
        .await?;
    let ingest = pipeline.ingest();
    let bar = progress(mentions.len() as u64, "importing");
    let total = mentions.len();
    let mut rest = mentions.into_iter().peekable();
    while rest.peek().is_some() {
        let batch: Vec<_> = rest.by_ref().take(BATCH).collect();
        bar.inc(batch.len() as u64);
        ingest
            .send(Envelope {
                workspace: workspace.clone(),
                source: None,
                mentions: batch,
                cursor: None,
                receipts: Default::default(),
            })
            .await?;
    }
    drop(ingest);
    let report = pipeline.shutdown().await?;
    bar.finish_and_clear();
    println!(
        "{}: {total} mention(s) read, {} stored, {} already stored, {} bad record(s) skipped; {} level change(s)",
        args.file.display(),
        report.stored,
        report.duplicates,
        errors.len(),
        report.level_changes
    );
    if report.failed_batches > 0 {
        bail!(
            "{} batch(es) could not be stored; see the log",
            report.failed_batches
        );
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PARTIAL)
    })
}

fn pick_workspace(
    config: &vigie_config::Config,
    wanted: Option<&str>,
) -> anyhow::Result<WorkspaceId> {
    let ids: Vec<&WorkspaceId> = config.workspaces.iter().map(|w| &w.id).collect();
    match wanted {
        Some(w) => ids
            .iter()
            .find(|id| id.as_str() == w)
            .map(|id| (*id).clone())
            .with_context(|| format!("unknown workspace {w:?}; configured: {}", list(&ids))),
        None => match ids.as_slice() {
            [one] => Ok((*one).clone()),
            _ => bail!(
                "several workspaces are configured ({}); choose one with --workspace",
                list(&ids)
            ),
        },
    }
}

fn list(ids: &[&WorkspaceId]) -> String {
    ids.iter()
        .map(|i| i.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
