//! `vigie backtest`: replays a watch's stored mentions through the detectors with a given
//! configuration and prints when each level would have fired, with the explanations.

use crate::cli::ConfigArgs;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use vigie_detect::{DetectorConfig, MonitorOutput, WatchMonitor};
use vigie_model::{EnrichedMention, LevelChange, Timestamp, WatchId, WorkspaceId};
use vigie_store::MentionFilter;

/// Mentions read per page.
const PAGE: u32 = 1_000;

/// `vigie backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The watch (`WATCH`, or `WORKSPACE/WATCH` when the configuration has several
    /// workspaces).
    #[arg(long)]
    pub watch: String,
    /// Start of the period shown (RFC 3339, e.g. 2026-03-01T00:00:00Z).
    #[arg(long)]
    pub from: String,
    /// End of the period (exclusive).
    #[arg(long)]
    pub to: String,
    /// History replayed before `--from` so that baselines are learned, in hours (default:
    /// the configured warm-up plus one day).
    #[arg(long)]
    pub history_hours: Option<u32>,
    /// Detector settings as JSON (`{"burst": {...}, "viral": {...}}`).
    #[arg(long)]
    pub detectors: Option<PathBuf>,
    /// Print JSON (the level changes with their explanations) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Configuration (its `[detection]` settings are used) and database.
    #[command(flatten)]
    pub config: ConfigArgs,
}

fn parse_time(s: &str, flag: &str) -> anyhow::Result<Timestamp> {
    Timestamp::parse_rfc3339(s).map_err(|e| {
        anyhow::anyhow!("{flag} {s:?}: {e} (expected RFC 3339, e.g. 2026-03-01T00:00:00Z)")
    })
}

/// Runs the backtest.
pub async fn run(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let from = parse_time(&args.from, "--from")?;
    let to = parse_time(&args.to, "--to")?;
    if to <= from {
        anyhow::bail!("--to must be after --from");
    }
    let config = super::load_config(&args.config)?;
    let (ws_name, watch_name) = match args.watch.split_once('/') {
        Some((w, x)) => (Some(w), x),
        None => (None, args.watch.as_str()),
    };
    let watch =
        WatchId::new(watch_name).map_err(|e| anyhow::anyhow!("--watch {watch_name:?}: {e}"))?;
    let candidates: Vec<_> = config
        .workspaces
        .iter()
        .filter(|w| ws_name.is_none_or(|n| w.id.as_str() == n))
        .filter(|w| w.watch(&watch).is_some())
        .collect();
    let workspace: WorkspaceId = match candidates.as_slice() {
        [one] => one.id.clone(),
        [] => anyhow::bail!("no watch {:?} in the configuration", args.watch),
        _ => anyhow::bail!(
            "watch {watch_name:?} exists in several workspaces: write WORKSPACE/{watch_name}"
        ),
    };
    let mut detectors = DetectorConfig::default();
    if let Some(path) = &args.detectors {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        detectors = serde_json::from_str(&text)
            .with_context(|| format!("parsing the detector settings {}", path.display()))?;
        detectors
            .validate()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let settings = config.detection.clone();
    let history_hours = args
        .history_hours
        .unwrap_or_else(|| settings.warmup_minutes.div_ceil(60) + 24);
    let start = from.plus_minutes(-i64::from(history_hours) * 60);
    let store = super::open_store(&args.config, &config).await?;

    // Pages come newest first; collect, then replay oldest first.
    let mut mentions: Vec<(i64, EnrichedMention)> = Vec::new();
    let mut filter = MentionFilter {
        watch: Some(watch.clone()),
        since: Some(start),
        until: Some(to),
        limit: PAGE,
        ..MentionFilter::workspace(workspace.clone())
    };
    loop {
        let page = store
            .list_mentions(&filter)
            .await
            .context("reading the stored mentions")?;
        mentions.extend(page.items.into_iter().map(|s| (s.id, s.mention)));
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => break,
        }
    }
    mentions.sort_by(|(ia, a), (ib, b)| {
        (a.mention.published_at, *ia).cmp(&(b.mention.published_at, *ib))
    });
    let changes = replay(&workspace, &watch, &settings, &detectors, &mentions, to);
    let shown: Vec<&LevelChange> = changes.iter().filter(|c| c.at >= from).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Backtest of {workspace}/{watch} from {from} to {to}: {} mentions replayed ({history_hours} h of history before {from}), {} level changes in the period",
        mentions.len(),
        shown.len()
    );
    for c in shown {
        println!(
            "\n{}  {} → {}\n  {}",
            c.at, c.from, c.to, c.explanation.summary
        );
        for s in &c.explanation.signals {
            println!(
                "  - {} (score {:.1}): {}",
                s.kind.as_str(),
                s.score,
                s.detail
            );
        }
        if let Some(p) = c.explanation.samples.first() {
            println!("  e.g. @{}: {}", p.author, p.text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Feeds the mentions (oldest first) to a fresh monitor, ticking it at each new minute as
/// the pipeline does, then up to `end`; returns every level change.
pub fn replay(
    workspace: &WorkspaceId,
    watch: &WatchId,
    settings: &vigie_model::DetectionSettings,
    detectors: &DetectorConfig,
    mentions: &[(i64, EnrichedMention)],
    end: Timestamp,
) -> Vec<LevelChange> {
    let mut monitor =
        WatchMonitor::with_config(workspace.clone(), watch.clone(), settings, detectors);
    let mut out = MonitorOutput::default();
    let mut changes = Vec::new();
    let mut last_minute: Option<Timestamp> = None;
    for (_, m) in mentions {
        let minute = m.mention.published_at.floor_to(60_000);
        if last_minute.is_none_or(|l| minute > l) {
            if last_minute.is_some() {
                monitor.tick(minute, &mut out);
            }
            last_minute = Some(minute);
        }
        monitor.observe(m, &mut out);
        changes.append(&mut out.level_changes);
        out.clear();
    }
    monitor.tick(end, &mut out);
    changes.append(&mut out.level_changes);
    changes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use vigie_drill::{CrisisSize, DrillSpec, Scenario, generate, watch_spec};
    use vigie_enrich::Enricher;
    use vigie_model::CrisisLevel;

    #[test]
    fn replay_of_a_stored_crisis_fires_after_the_onset() {
        let drill = generate(&DrillSpec {
            days: 4,
            ..DrillSpec::new(3, Scenario::Crisis(CrisisSize::Large))
        });
        let enricher = Enricher::new(vec![watch_spec().unwrap()]);
        let ws = WorkspaceId::new("drill").unwrap();
        let watch = WatchId::new("brevia").unwrap();
        let stored: Vec<(i64, EnrichedMention)> = drill
            .mentions
            .iter()
            .map(|m| enricher.enrich(&ws, m.clone()))
            .filter(|e| e.enrichment.matched_watches.contains(&watch))
            .enumerate()
            .map(|(i, e)| (i as i64, e))
            .collect();
        let changes = replay(
            &ws,
            &watch,
            &vigie_model::DetectionSettings::default(),
            &DetectorConfig::default(),
            &stored,
            drill.end,
        );
        let onset = drill.onset.unwrap();
        let first_alert = changes
            .iter()
            .find(|c| c.to >= CrisisLevel::Alert)
            .expect("an alert");
        assert!(first_alert.at >= onset && first_alert.at <= onset.plus_minutes(60));
        assert!(!first_alert.explanation.signals.is_empty());
    }

    #[test]
    fn bad_times_are_refused() {
        assert!(parse_time("yesterday", "--from").is_err());
        assert!(parse_time("2026-03-01T00:00:00Z", "--from").is_ok());
    }
}
