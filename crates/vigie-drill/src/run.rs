//! Running drills through the real chain (the [`Enricher`] and a [`WatchMonitor`], ticked
//! the way the pipeline's detection stage ticks them) and scoring them.

use crate::generate::{CrisisSize, Drill, DrillSpec, Scenario, generate};
use crate::texts;
use serde::Serialize;
use std::collections::BTreeMap;
use vigie_detect::{DetectorConfig, MonitorOutput, WatchMonitor};
use vigie_enrich::{Enricher, WatchSpec};
use vigie_model::{CrisisLevel, DetectionSettings, Timestamp, WatchId, WorkspaceId};

const MINUTE: i64 = 60_000;

/// Why a drill run could not start.
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    /// The drill watch's query did not parse (a bug in this crate).
    #[error("the drill watch query does not parse: {0}")]
    Query(String),
    /// The detector configuration is invalid.
    #[error("invalid detector configuration: {0}")]
    Config(String),
}

/// Detection settings and detector configuration of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunConfig {
    /// The `[detection]` settings.
    pub settings: DetectionSettings,
    /// The detectors' own settings.
    pub detectors: DetectorConfig,
}

/// The watch every drill is run against.
pub fn watch_spec() -> Result<WatchSpec, DrillError> {
    Ok(WatchSpec {
        id: watch_id(),
        query: vigie_query::parse(texts::WATCH_QUERY)
            .map_err(|e| DrillError::Query(e.to_string()))?,
        languages: Vec::new(),
        own_accounts: vec![
            texts::BRAND_ACCOUNT.to_owned(),
            texts::SERVICE_ACCOUNT.to_owned(),
        ],
    })
}

fn watch_id() -> WatchId {
    WatchId::new("brevia")
        .unwrap_or_else(|_| WatchId::new("w").unwrap_or_else(|_| unreachable_id()))
}

#[allow(clippy::panic)]
fn unreachable_id() -> WatchId {
    // "brevia" and "w" are valid slugs; this cannot run.
    panic!("invalid built-in watch id")
}

fn workspace_id() -> WorkspaceId {
    WorkspaceId::new("drill").unwrap_or_else(|_| {
        #[allow(clippy::panic)]
        {
            panic!("invalid built-in workspace id")
        }
    })
}

/// One level change seen in a drill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeenChange {
    /// When.
    pub at: Timestamp,
    /// Level before.
    pub from: CrisisLevel,
    /// Level after.
    pub to: CrisisLevel,
    /// The explanation's summary.
    pub summary: String,
}

/// What happened in one drill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Seed.
    pub seed: u64,
    /// Scenario.
    pub scenario: Scenario,
    /// The story told.
    pub story: &'static str,
    /// Event start (the crisis onset for crises).
    pub event_at: Timestamp,
    /// Mentions generated, and matched by the watch.
    pub mentions: usize,
    /// Mentions of the watch.
    pub matched: usize,
    /// Mentions of the injected event.
    pub event_mentions: usize,
    /// Minutes from the event to the first level ≥ 2 at or after it.
    pub minutes_to_alert: Option<f64>,
    /// Minutes from the event to the first level 3 at or after it.
    pub minutes_to_crisis: Option<f64>,
    /// Highest level from the event to 24 h after it.
    pub peak_after_event: CrisisLevel,
    /// Entries into level ≥ 2 before the event (false alarms on ordinary chatter).
    pub alerts_before_event: u32,
    /// Entries into level ≥ 2 over the whole stream.
    pub alert_entries: u32,
    /// Days of stream after the warm-up.
    pub watched_days: f64,
    /// Days of stream after the warm-up and before the event.
    pub watched_days_before_event: f64,
    /// Every level change.
    pub changes: Vec<SeenChange>,
    /// Minutes from the event until its own posts (not reposts) come from
    /// 5 and 10 distinct authors: the evidence any detector has at the earliest.
    pub minutes_to_voices: [Option<f64>; 2],
    /// The viral forecasts of every cascade that reached the detector's `min_reshares`.
    pub cascades: Vec<CascadeOutcome>,
}

/// One cascade (a post and its reposts and quotes seen by the watch) against the viral
/// detector's forecasts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CascadeOutcome {
    /// Reshares seen by the end of the stream: the truth the forecasts are scored on.
    pub final_reshares: u64,
    /// The forecast final size when the cascade reached `min_reshares` reshares
    /// ([`vigie_detect::MAX_FORECAST`] when supercritical).
    pub forecast_at_min: f64,
    /// Minutes from the root post to that moment (when the root was seen).
    pub minutes_to_min: Option<f64>,
    /// Minutes after the root post at which the detector had flagged the cascade (seen at
    /// the next reshare after its bucket closed; 0 when the root was not seen).
    pub flagged_after: Option<f64>,
    /// Minutes after the root post at which the reshares seen reached the threshold.
    pub reached_threshold_after: Option<f64>,
    /// The final size reached the detector's threshold.
    pub explosive: bool,
}

/// What is followed of a cascade during a run.
#[derive(Debug, Default)]
struct CascadeTrack {
    source: String,
    root_at: Option<Timestamp>,
    reshares: u64,
    next_check: u64,
    /// Minutes from the root to the last reshare seen.
    last_after: Option<f64>,
    forecast_at_min: Option<f64>,
    minutes_to_min: Option<f64>,
    flagged_after: Option<f64>,
    reached_threshold_after: Option<f64>,
}

/// The numbers of distinct voices whose arrival times [`Outcome::minutes_to_voices`] gives.
pub const VOICE_COUNTS: [usize; 2] = [5, 10];

/// Minutes from `drill.event_at` until the event's own posts (reposts excluded) have come
/// from 5 and from 10 distinct authors.
fn voices_arrival(drill: &Drill) -> [Option<f64>; 2] {
    let event = drill.event_at.as_millis();
    let mut authors = std::collections::HashSet::new();
    let mut out = [None; 2];
    for (m, &in_event) in drill.mentions.iter().zip(&drill.in_event) {
        if !in_event || m.repost_of.is_some() {
            continue;
        }
        authors.insert(m.author.handle.as_str());
        for (slot, &k) in out.iter_mut().zip(&VOICE_COUNTS) {
            if slot.is_none() && authors.len() >= k {
                *slot = Some((m.published_at.as_millis() - event) as f64 / MINUTE as f64);
            }
        }
    }
    out
}

/// Runs one generated drill through `enricher` and a fresh monitor.
pub fn run_drill(drill: &Drill, enricher: &Enricher, config: &RunConfig) -> Outcome {
    let ws = workspace_id();
    let watch = watch_id();
    let mut monitor = WatchMonitor::with_config(
        ws.clone(),
        watch.clone(),
        &config.settings,
        &config.detectors,
    );
    let mut out = MonitorOutput::default();
    let mut changes = Vec::new();
    let mut last_minute: Option<Timestamp> = None;
    let mut matched = 0;
    let viral = &config.detectors.viral;
    let mut roots: std::collections::HashMap<&str, Timestamp> = std::collections::HashMap::new();
    let mut cascades: std::collections::HashMap<&str, CascadeTrack> =
        std::collections::HashMap::new();
    let collect = |out: &mut MonitorOutput, changes: &mut Vec<SeenChange>| {
        for c in out.level_changes.drain(..) {
            changes.push(SeenChange {
                at: c.at,
                from: c.from,
                to: c.to,
                summary: c.explanation.summary,
            });
        }
        out.clear();
    };
    for m in &drill.mentions {
        let minute = m.published_at.floor_to(MINUTE);
        if last_minute.is_none_or(|l| minute > l) {
            if last_minute.is_some() {
                monitor.tick(minute, &mut out);
            }
            last_minute = Some(minute);
        }
        let e = enricher.enrich(&ws, m.clone());
        if e.enrichment.matched_watches.contains(&watch) {
            matched += 1;
            monitor.observe(&e, &mut out);
            let parent = m.repost_of.as_deref().or(m.quote_of.as_deref());
            match parent {
                None => {
                    roots.insert(m.external_id.as_str(), m.published_at);
                }
                Some(root) => {
                    let t = cascades.entry(root).or_insert_with(|| CascadeTrack {
                        source: m.source.clone(),
                        root_at: roots.get(root).copied(),
                        next_check: viral.min_reshares.max(1),
                        ..CascadeTrack::default()
                    });
                    t.reshares += 1;
                    let since_root = |at: Timestamp| {
                        t.root_at
                            .map(|r| (at.as_millis() - r.as_millis()) as f64 / MINUTE as f64)
                    };
                    let after = since_root(m.published_at);
                    t.last_after = after;
                    if t.reached_threshold_after.is_none() && t.reshares as f64 >= viral.threshold {
                        t.reached_threshold_after = after;
                    }
                    if t.forecast_at_min.is_none()
                        && t.reshares >= t.next_check
                        && let Some(f) =
                            monitor.viral().forecast_of(&t.source, root, m.published_at)
                    {
                        t.forecast_at_min = Some(f.final_size);
                        t.minutes_to_min = after;
                    }
                    if t.flagged_after.is_none()
                        && monitor.viral().flagged_forecast(&t.source, root).is_some()
                    {
                        t.flagged_after = after.or(Some(0.0));
                    }
                }
            }
        }
        collect(&mut out, &mut changes);
    }
    monitor.tick(drill.end, &mut out);
    collect(&mut out, &mut changes);
    let mut outcome = score(drill, config, matched, changes);
    // A flag raised when the last bucket closed, after the cascade's last reshare.
    for (root, t) in &mut cascades {
        if t.flagged_after.is_none() && monitor.viral().flagged_forecast(&t.source, root).is_some()
        {
            t.flagged_after = t.last_after.or(Some(0.0));
        }
    }
    let mut followed: Vec<(&str, CascadeTrack)> = cascades
        .into_iter()
        .filter(|(_, t)| t.forecast_at_min.is_some())
        .collect();
    followed.sort_by(|a, b| a.0.cmp(b.0));
    outcome.cascades = followed
        .into_iter()
        .map(|(_, t)| CascadeOutcome {
            final_reshares: t.reshares,
            forecast_at_min: t.forecast_at_min.unwrap_or_default(),
            minutes_to_min: t.minutes_to_min,
            flagged_after: t.flagged_after,
            reached_threshold_after: t.reached_threshold_after,
            explosive: t.reshares as f64 >= viral.threshold,
        })
        .collect();
    outcome
}

fn score(drill: &Drill, config: &RunConfig, matched: usize, changes: Vec<SeenChange>) -> Outcome {
    let event = drill.event_at.as_millis();
    let is_entry = |c: &SeenChange| c.from < CrisisLevel::Alert && c.to >= CrisisLevel::Alert;
    let minutes = |c: &SeenChange| (c.at.as_millis() - event) as f64 / MINUTE as f64;
    let after: Vec<&SeenChange> = changes
        .iter()
        .filter(|c| c.at.as_millis() >= event && c.at.as_millis() < event + 1_440 * MINUTE)
        .collect();
    let minutes_to_alert = after
        .iter()
        .find(|c| c.to >= CrisisLevel::Alert)
        .map(|c| minutes(c));
    let minutes_to_crisis = after
        .iter()
        .find(|c| c.to >= CrisisLevel::Crisis)
        .map(|c| minutes(c));
    let peak_after_event = after.iter().map(|c| c.to).max().unwrap_or_default();
    let alerts_before_event = changes
        .iter()
        .filter(|c| c.at.as_millis() < event && is_entry(c))
        .count() as u32;
    let alert_entries = changes.iter().filter(|c| is_entry(c)).count() as u32;
    let total_days =
        (drill.end.as_millis() - drill.spec.start.as_millis()) as f64 / (1_440 * MINUTE) as f64;
    let warmup_days = f64::from(config.settings.warmup_minutes) / 1_440.0;
    let watched_days = total_days - warmup_days;
    let before_days =
        (event - drill.spec.start.as_millis()) as f64 / (1_440 * MINUTE) as f64 - warmup_days;
    Outcome {
        seed: drill.spec.seed,
        scenario: drill.spec.scenario,
        story: drill.story,
        event_at: drill.event_at,
        mentions: drill.mentions.len(),
        matched,
        event_mentions: drill.event_mentions,
        minutes_to_alert,
        minutes_to_crisis,
        peak_after_event,
        alerts_before_event,
        alert_entries,
        watched_days,
        watched_days_before_event: before_days.max(0.0),
        changes,
        minutes_to_voices: voices_arrival(drill),
        cascades: Vec::new(),
    }
}

/// Generates and runs every scenario for every seed, on `threads` threads (results in
/// seed, then scenario order).
pub fn run_seeds(
    seeds: &[u64],
    scenarios: &[Scenario],
    days: u32,
    config: &RunConfig,
    threads: usize,
) -> Result<Vec<Outcome>, DrillError> {
    config.detectors.validate().map_err(DrillError::Config)?;
    let enricher = Enricher::new(vec![watch_spec()?]);
    let jobs: Vec<DrillSpec> = seeds
        .iter()
        .flat_map(|&seed| {
            scenarios.iter().map(move |&scenario| DrillSpec {
                days,
                ..DrillSpec::new(seed, scenario)
            })
        })
        .collect();
    let threads = threads.clamp(1, jobs.len().max(1));
    let mut results: Vec<Option<Outcome>> = vec![None; jobs.len()];
    std::thread::scope(|scope| {
        let chunks: Vec<_> = results
            .chunks_mut(jobs.len().div_ceil(threads).max(1))
            .zip(jobs.chunks(jobs.len().div_ceil(threads).max(1)))
            .map(|(slots, specs)| {
                let enricher = &enricher;
                scope.spawn(move || {
                    for (slot, spec) in slots.iter_mut().zip(specs) {
                        *slot = Some(run_drill(&generate(spec), enricher, config));
                    }
                })
            })
            .collect();
        for c in chunks {
            let _ = c.join();
        }
    });
    Ok(results.into_iter().flatten().collect())
}

/// Delay figures of a group of crises.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DelayStats {
    /// Crises in the group.
    pub crises: usize,
    /// Share reaching level ≥ 2 within 60 minutes of the onset.
    pub detected_within_60_min: f64,
    /// Share reaching level ≥ 2 within 24 hours.
    pub detected_within_24_h: f64,
    /// Median minutes onset → level ≥ 2 (crises detected within 24 h).
    pub median_minutes_to_level_2: Option<f64>,
    /// 90th percentile minutes onset → level ≥ 2.
    pub p90_minutes_to_level_2: Option<f64>,
    /// Share reaching level 3 within 24 hours.
    pub reached_level_3: f64,
    /// Median minutes onset → level 3 (crises that reached it).
    pub median_minutes_to_level_3: Option<f64>,
    /// 90th percentile minutes onset → level 3.
    pub p90_minutes_to_level_3: Option<f64>,
    /// Median and 90th percentile minutes onset → 5 distinct voices in the crisis's own
    /// posts (the earliest evidence; no detector needing it can be faster).
    pub voices_5_minutes: (Option<f64>, Option<f64>),
    /// The same for 10 distinct voices.
    pub voices_10_minutes: (Option<f64>, Option<f64>),
}

/// Figures of a hard-negative or calm scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QuietStats {
    /// Streams.
    pub streams: usize,
    /// Entries into level ≥ 2 per watch per week.
    pub level_2_per_week: f64,
    /// Streams whose highest level in the 24 h after the event was 0, 1, 2, 3.
    pub peak_levels: [usize; 4],
}

/// The drill report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DrillReport {
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// Days per stream.
    pub days: u32,
    /// Crises by size (`small`, `medium`, `large`), and `medium+large`.
    pub crises: BTreeMap<String, DelayStats>,
    /// Crisis-free scenarios by name, and `all` for every crisis-free stream.
    pub quiet: BTreeMap<String, QuietStats>,
    /// Entries into level ≥ 2 before the onset in crisis streams, per watch per week.
    pub pre_onset_level_2_per_week: f64,
    /// The viral forecasts of every followed cascade, all streams together.
    pub viral: ViralStats,
    /// Whether the targets are met (median ≤ 10 min, p90 ≤ 30 min over medium and
    /// large crises, ≥ 95 % of large crises within 60 min, ≤ 1 false level 2 per watch-week).
    pub targets_met: bool,
}

/// How well the viral detector forecast the cascades' final sizes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ViralStats {
    /// Cascades that reached `min_reshares` (the detector's first forecast).
    pub cascades: usize,
    /// Of them, forecasts that were unbounded (supercritical) at that moment.
    pub unbounded: usize,
    /// Median and 90th percentile of |forecast − final| / final at `min_reshares`, over the
    /// bounded forecasts.
    pub relative_error: (Option<f64>, Option<f64>),
    /// Median of forecast / final at `min_reshares` (above 1: over-forecast).
    pub median_ratio: Option<f64>,
    /// Cascades whose final size reached the threshold.
    pub explosive: usize,
    /// Cascades flagged (a forecast reached the threshold).
    pub flagged: usize,
    /// Flagged and explosive.
    pub flagged_explosive: usize,
    /// Median minutes by which the flag came before the reshares reached the threshold
    /// (flagged explosive cascades whose root was seen).
    pub median_lead_minutes: Option<f64>,
    /// Final sizes of the followed cascades: median, 90th percentile, largest.
    pub final_sizes: (Option<f64>, Option<f64>, Option<f64>),
    /// Median final size of the flagged cascades.
    pub flagged_median_final: Option<f64>,
}

fn viral_stats(all: &[&CascadeOutcome]) -> ViralStats {
    let mut s = ViralStats {
        cascades: all.len(),
        ..ViralStats::default()
    };
    let mut errors = Vec::new();
    let mut ratios = Vec::new();
    let mut leads = Vec::new();
    let mut finals: Vec<f64> = all.iter().map(|c| c.final_reshares as f64).collect();
    let mut flagged_finals: Vec<f64> = all
        .iter()
        .filter(|c| c.flagged_after.is_some())
        .map(|c| c.final_reshares as f64)
        .collect();
    for c in all {
        let fin = c.final_reshares.max(1) as f64;
        if c.forecast_at_min >= vigie_detect::MAX_FORECAST {
            s.unbounded += 1;
        } else {
            errors.push((c.forecast_at_min - fin).abs() / fin);
            ratios.push(c.forecast_at_min / fin);
        }
        let explosive = c.explosive;
        s.explosive += usize::from(explosive);
        s.flagged += usize::from(c.flagged_after.is_some());
        if let (Some(f), true) = (c.flagged_after, explosive) {
            s.flagged_explosive += 1;
            if let Some(r) = c.reached_threshold_after {
                leads.push(r - f);
            }
        }
    }
    for v in [
        &mut errors,
        &mut ratios,
        &mut leads,
        &mut finals,
        &mut flagged_finals,
    ] {
        v.sort_by(f64::total_cmp);
    }
    s.final_sizes = (
        quantile(&finals, 0.5),
        quantile(&finals, 0.9),
        finals.last().copied(),
    );
    s.flagged_median_final = quantile(&flagged_finals, 0.5);
    s.relative_error = (quantile(&errors, 0.5), quantile(&errors, 0.9));
    s.median_ratio = quantile(&ratios, 0.5);
    s.median_lead_minutes = quantile(&leads, 0.5);
    s
}

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank.
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank - 1).copied()
}

fn delay_stats<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> DelayStats {
    let group: Vec<&Outcome> = outcomes.collect();
    let n = group.len();
    if n == 0 {
        return DelayStats::default();
    }
    let mut l2: Vec<f64> = group.iter().filter_map(|o| o.minutes_to_alert).collect();
    let mut l3: Vec<f64> = group.iter().filter_map(|o| o.minutes_to_crisis).collect();
    l2.sort_by(f64::total_cmp);
    l3.sort_by(f64::total_cmp);
    let within60 = l2.iter().filter(|m| **m <= 60.0).count();
    let voices = |i: usize| {
        let mut v: Vec<f64> = group
            .iter()
            .filter_map(|o| o.minutes_to_voices[i])
            .collect();
        v.sort_by(f64::total_cmp);
        (quantile(&v, 0.5), quantile(&v, 0.9))
    };
    DelayStats {
        crises: n,
        detected_within_60_min: within60 as f64 / n as f64,
        detected_within_24_h: l2.len() as f64 / n as f64,
        median_minutes_to_level_2: quantile(&l2, 0.5),
        p90_minutes_to_level_2: quantile(&l2, 0.9),
        reached_level_3: l3.len() as f64 / n as f64,
        median_minutes_to_level_3: quantile(&l3, 0.5),
        p90_minutes_to_level_3: quantile(&l3, 0.9),
        voices_5_minutes: voices(0),
        voices_10_minutes: voices(1),
    }
}

fn quiet_stats<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> QuietStats {
    let mut s = QuietStats::default();
    let mut entries = 0u32;
    let mut days = 0.0;
    for o in outcomes {
        s.streams += 1;
        entries += o.alert_entries;
        days += o.watched_days.max(0.0);
        let i = usize::from(o.peak_after_event.as_u8());
        if let Some(c) = s.peak_levels.get_mut(i) {
            *c += 1;
        }
    }
    s.level_2_per_week = if days > 0.0 {
        f64::from(entries) * 7.0 / days
    } else {
        0.0
    };
    s
}

/// Aggregates outcomes into the report.
pub fn report(outcomes: &[Outcome], seeds: &[u64], days: u32) -> DrillReport {
    let mut r = DrillReport {
        seeds: seeds.to_vec(),
        days,
        ..DrillReport::default()
    };
    for size in [CrisisSize::Small, CrisisSize::Medium, CrisisSize::Large] {
        let group = outcomes
            .iter()
            .filter(|o| o.scenario == Scenario::Crisis(size));
        let stats = delay_stats(group);
        if stats.crises > 0 {
            r.crises.insert(size.as_str().to_owned(), stats);
        }
    }
    let big = delay_stats(outcomes.iter().filter(|o| {
        matches!(
            o.scenario,
            Scenario::Crisis(CrisisSize::Medium | CrisisSize::Large)
        )
    }));
    if big.crises > 0 {
        r.crises.insert("medium+large".to_owned(), big);
    }
    for s in Scenario::ALL.iter().filter(|s| !s.is_crisis()) {
        let stats = quiet_stats(outcomes.iter().filter(|o| o.scenario == *s));
        if stats.streams > 0 {
            r.quiet.insert(s.name().to_owned(), stats);
        }
    }
    let all_quiet = quiet_stats(outcomes.iter().filter(|o| !o.scenario.is_crisis()));
    let (pre, pre_days) = outcomes
        .iter()
        .filter(|o| o.scenario.is_crisis())
        .fold((0u32, 0.0), |(n, d), o| {
            (n + o.alerts_before_event, d + o.watched_days_before_event)
        });
    r.pre_onset_level_2_per_week = if pre_days > 0.0 {
        f64::from(pre) * 7.0 / pre_days
    } else {
        0.0
    };
    r.viral = viral_stats(
        &outcomes
            .iter()
            .flat_map(|o| &o.cascades)
            .collect::<Vec<_>>(),
    );
    let big = r.crises.get("medium+large");
    let large = r.crises.get("large");
    r.targets_met = big.is_some_and(|b| {
        b.median_minutes_to_level_2.is_some_and(|m| m <= 10.0)
            && b.p90_minutes_to_level_2.is_some_and(|m| m <= 30.0)
    }) && large.is_some_and(|l| l.detected_within_60_min >= 0.95)
        && all_quiet.level_2_per_week <= 1.0
        && r.pre_onset_level_2_per_week <= 1.0;
    if all_quiet.streams > 0 {
        r.quiet.insert("all".to_owned(), all_quiet);
    }
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_large_crisis_is_detected_and_calm_stays_calm() {
        let seeds = [3];
        let scenarios = [Scenario::Crisis(CrisisSize::Large), Scenario::Calm];
        let outcomes = run_seeds(&seeds, &scenarios, 5, &RunConfig::default(), 2).unwrap();
        assert_eq!(outcomes.len(), 2);
        let crisis = &outcomes[0];
        assert_eq!(crisis.scenario, Scenario::Crisis(CrisisSize::Large));
        let l2 = crisis.minutes_to_alert.expect("level 2");
        assert!((0.0..=60.0).contains(&l2), "{crisis:?}");
        assert!(crisis.minutes_to_crisis.is_some());
        assert_eq!(crisis.alerts_before_event, 0);
        assert!(crisis.matched > crisis.event_mentions / 2);
        let calm = &outcomes[1];
        assert_eq!(calm.alert_entries, 0, "{calm:?}");
        let r = report(&outcomes, &seeds, 5);
        let large = &r.crises["large"];
        assert_eq!(large.crises, 1);
        assert_eq!(large.detected_within_60_min, 1.0);
        assert_eq!(r.quiet["all"].level_2_per_week, 0.0);
        assert!(r.quiet["calm"].streams == 1);
        // Every level change carries an explanation.
        assert!(crisis.changes.iter().all(|c| !c.summary.is_empty()));
        // The crisis's repost cascades are followed and their forecasts scored.
        assert!(!crisis.cascades.is_empty(), "no cascade followed");
        assert!(crisis.cascades.iter().all(|c| c.final_reshares >= 20));
        assert_eq!(
            r.viral.cascades,
            crisis.cascades.len() + calm.cascades.len()
        );
        assert!(r.viral.relative_error.0.is_some() || r.viral.unbounded == r.viral.cascades);
    }

    #[test]
    fn viral_stats_score_forecasts_against_final_sizes() {
        let cascade =
            |final_reshares, forecast_at_min, flagged_after: Option<f64>, reached| CascadeOutcome {
                final_reshares,
                forecast_at_min,
                minutes_to_min: Some(10.0),
                flagged_after,
                reached_threshold_after: reached,
                explosive: reached.is_some(),
            };
        let all = [
            cascade(100, 150.0, None, None),
            cascade(400, 300.0, Some(20.0), Some(50.0)),
            cascade(50, vigie_detect::MAX_FORECAST, Some(5.0), None),
        ];
        let v = viral_stats(&all.iter().collect::<Vec<_>>());
        assert_eq!((v.cascades, v.unbounded), (3, 1));
        // |150−100|/100 = 0.5 and |300−400|/400 = 0.25.
        assert_eq!(v.relative_error, (Some(0.25), Some(0.5)));
        assert_eq!(v.median_ratio, Some(0.75));
        assert_eq!((v.explosive, v.flagged, v.flagged_explosive), (1, 2, 1));
        assert_eq!(v.median_lead_minutes, Some(30.0));
        assert_eq!(v.final_sizes, (Some(100.0), Some(400.0), Some(400.0)));
        assert_eq!(v.flagged_median_final, Some(50.0));
    }

    #[test]
    fn quantiles_use_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(quantile(&v, 0.5), Some(5.0));
        assert_eq!(quantile(&v, 0.9), Some(9.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn invalid_detector_config_is_refused() {
        let mut config = RunConfig::default();
        config.detectors.burst.hashes = 0;
        let err = run_seeds(&[1], &[Scenario::Calm], 4, &config, 1).unwrap_err();
        assert!(err.to_string().contains("hashes"), "{err}");
    }
}
