//! Cost per mention of each detector, on enriched drill streams (realistic French/English
//! texts, reposts, hashtags), single thread:
//! `cargo run --release -p vigie-drill --example bench_detectors [-- PASSES]`.
//!
//! Times are CPU time of the thread (Linux schedstat), the best of the passes. Enrichment
//! happens once, before timing; the bursty detector's figure includes its own
//! tokenization of the raw text (hashtags come from the enrichment).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::Instant;
use vigie_detect::{
    AudienceDetector, BurstConfig, BurstDetector, ComplaintConfig, ComplaintDetector, Detector,
    DetectorConfig, MonitorOutput, ViralConfig, ViralDetector, VolumeDetector, WatchMonitor,
};
use vigie_drill::{CrisisSize, DrillSpec, Scenario, generate, watch_spec};
use vigie_enrich::Enricher;
use vigie_model::{DetectionSettings, EnrichedMention, WatchId, WorkspaceId};

/// Nanoseconds this thread spent on a CPU (Linux `schedstat`), so that a loaded machine
/// does not inflate the figures; wall time elsewhere.
fn cpu_ns(wall: &Instant) -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or_else(|| wall.elapsed().as_secs_f64() * 1e9)
}

fn main() {
    let passes: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let enricher = Enricher::new(vec![watch_spec().unwrap()]);
    let ws = WorkspaceId::new("drill").unwrap();
    let watch = WatchId::new("brevia").unwrap();
    let mut stream: Vec<EnrichedMention> = Vec::new();
    for seed in 1..=3 {
        for scenario in [Scenario::Crisis(CrisisSize::Large), Scenario::ProductLaunch] {
            let d = generate(&DrillSpec::new(seed, scenario));
            // Shift each stream after the previous one so time keeps moving forward.
            let shift = stream
                .last()
                .map_or(0, |m| m.mention.published_at.as_millis() + 60_000)
                - d.spec.start.as_millis();
            for m in d.mentions {
                let mut e = enricher.enrich(&ws, m);
                if e.enrichment.matched_watches.contains(&watch) {
                    e.mention.published_at = e.mention.published_at.plus_millis(shift.max(0));
                    stream.push(e);
                }
            }
        }
    }
    let texts: usize = stream.iter().map(|m| m.mention.text.len()).sum();
    println!(
        "{} enriched mentions ({} bytes of text on average), {passes} passes per detector",
        stream.len(),
        texts / stream.len().max(1)
    );
    let settings = DetectionSettings::default();
    // The same mentions at 100 per second of event time: the counting hot path, with a
    // bucket close every 30,000 mentions.
    let dense: Vec<EnrichedMention> = stream
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut m = m.clone();
            m.mention.published_at =
                vigie_model::Timestamp::from_millis(vigie_drill::DEFAULT_START_MS + i as i64 * 10);
            m
        })
        .collect();
    let time = |name: &str,
                stream: &[EnrichedMention],
                mut make: Box<dyn FnMut() -> Box<dyn Detector>>| {
        let mut out = Vec::new();
        let mut best = f64::INFINITY;
        for _ in 0..passes {
            let mut d = make();
            let wall = Instant::now();
            let t0 = cpu_ns(&wall);
            for m in stream {
                d.observe(m, &mut out);
                out.clear();
            }
            best = best.min((cpu_ns(&wall) - t0) / 1e9);
        }
        let per = best / stream.len() as f64;
        println!(
            "{name:<28} {:>8.0} ns/mention {:>12.0} mentions/s",
            per * 1e9,
            1.0 / per
        );
    };
    let (w, x, s) = (ws.clone(), watch.clone(), settings.clone());
    time(
        "volume",
        &stream,
        Box::new(move || Box::new(VolumeDetector::new(w.clone(), x.clone(), &s))),
    );
    let (w, x, s) = (ws.clone(), watch.clone(), settings.clone());
    time(
        "audience",
        &stream,
        Box::new(move || Box::new(AudienceDetector::new(w.clone(), x.clone(), &s))),
    );
    for bits in [13u32, 16] {
        let (w, x, s) = (ws.clone(), watch.clone(), settings.clone());
        let cfg = BurstConfig {
            table_bits: bits,
            ..BurstConfig::default()
        };
        let label = format!("bursty ({} KiB table)", cfg.table_bytes() / 1024);
        let c2 = cfg.clone();
        let (w2, x2, s2) = (w.clone(), x.clone(), s.clone());
        time(
            &label,
            &stream,
            Box::new(move || Box::new(BurstDetector::new(w.clone(), x.clone(), &s, &cfg))),
        );
        time(
            &format!("{label}, dense"),
            &dense,
            Box::new(move || Box::new(BurstDetector::new(w2.clone(), x2.clone(), &s2, &c2))),
        );
    }
    let (w, x, s) = (ws.clone(), watch.clone(), settings.clone());
    time(
        "viral",
        &stream,
        Box::new(move || {
            Box::new(ViralDetector::new(
                w.clone(),
                x.clone(),
                &s,
                &ViralConfig::default(),
            ))
        }),
    );
    let (w, x, s) = (ws.clone(), watch.clone(), settings.clone());
    time(
        "complaint (shared terms)",
        &stream,
        Box::new(move || {
            Box::new(ComplaintDetector::new(
                w.clone(),
                x.clone(),
                &s,
                &ComplaintConfig::default(),
            ))
        }),
    );
    // The whole monitor (all detectors, evidence, level rules, explanations), ticked per
    // minute like the pipeline; then the same without the pattern detector, whose cost is
    // per hour rather than per mention.
    let no_pattern = DetectorConfig {
        pattern: vigie_detect::PatternConfig {
            enabled: false,
            ..Default::default()
        },
        ..DetectorConfig::default()
    };
    for (label, config) in [
        ("WatchMonitor (all)", DetectorConfig::default()),
        ("WatchMonitor, no pattern", no_pattern),
    ] {
        let mut best = f64::INFINITY;
        for _ in 0..passes {
            let mut mon = WatchMonitor::with_config(ws.clone(), watch.clone(), &settings, &config);
            let mut out = MonitorOutput::default();
            let wall = Instant::now();
            let t0 = cpu_ns(&wall);
            let mut last = None;
            for m in &stream {
                let minute = m.mention.published_at.floor_to(60_000);
                if last.is_some_and(|l| minute > l) {
                    mon.tick(minute, &mut out);
                }
                last = Some(minute);
                mon.observe(m, &mut out);
                out.clear();
            }
            best = best.min((cpu_ns(&wall) - t0) / 1e9);
        }
        let per = best / stream.len() as f64;
        println!(
            "{:<28} {:>8.0} ns/mention {:>12.0} mentions/s",
            label,
            per * 1e9,
            1.0 / per
        );
    }
}
