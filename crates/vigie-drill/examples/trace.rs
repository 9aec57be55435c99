//! Traces one drill bucket by bucket around its event: the window figures the level rules
//! see (negative mentions and voices against their baselines, scores) and the signals.
//! `cargo run --release -p vigie-drill --example trace -- SEED SCENARIO [MINUTES]`
//! (SCENARIO as in `vigie eval drills --each`, e.g. crisis_medium).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use vigie_detect::{MonitorOutput, WatchMonitor};
use vigie_drill::{DrillSpec, Scenario, generate, watch_spec};
use vigie_enrich::Enricher;
use vigie_model::{DetectionSettings, Timestamp, WatchId, WorkspaceId};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1);
    let scenario = Scenario::ALL
        .into_iter()
        .find(|s| args.get(1).is_some_and(|a| a == s.name()))
        .unwrap_or(Scenario::ALL[1]);
    let span: i64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(90);
    let drill = generate(&DrillSpec::new(seed, scenario));
    let ws = WorkspaceId::new("drill").unwrap();
    let watch: WatchId = watch_spec().unwrap().id;
    let enricher = Enricher::new(vec![watch_spec().unwrap()]);
    let mut monitor = WatchMonitor::new(ws.clone(), watch.clone(), &DetectionSettings::default());
    let mut out = MonitorOutput::default();
    let ev = drill.event_at.as_millis();
    let mut last = None;
    let mut last_end = 0;
    let report = |monitor: &WatchMonitor, out: &mut MonitorOutput, last_end: &mut i64| {
        let v = *monitor.volume_stats();
        let a = *monitor.audience_stats();
        let end = v.at.as_millis();
        if end != *last_end && end >= ev - 10 * 60_000 && end <= ev + span * 60_000 {
            let sig: Vec<String> = out
                .signals
                .iter()
                .map(|s| format!("{}:{:.1}", s.kind.as_str(), s.score))
                .collect();
            println!(
                "{:>4} min  neg {:>3}/{:>5.1} s{:>5.1}  voices {:>3}/{:>5.1} s{:>5.1}  all {:>4}/{:>6.1}  L{} {}",
                (end - ev) / 60_000,
                v.negative,
                v.expected_negative,
                v.negative_score,
                a.negative_voices,
                a.expected_negative_voices,
                a.voices_score,
                v.mentions,
                v.expected_mentions,
                monitor.level().as_u8(),
                sig.join(" ")
            );
        }
        *last_end = end;
        out.clear();
    };
    for m in &drill.mentions {
        let minute = m.published_at.floor_to(60_000);
        if last.is_none_or(|l: Timestamp| minute > l) {
            if last.is_some() {
                monitor.tick(minute, &mut out);
                report(&monitor, &mut out, &mut last_end);
            }
            last = Some(minute);
        }
        let e = enricher.enrich(&ws, m.clone());
        if e.enrichment.matched_watches.contains(&watch) {
            monitor.observe(&e, &mut out);
        }
    }
    // The saved state at the end of the stream, whole and per part (what a checkpoint
    // writes for this watch).
    let state = monitor.state();
    let size = |v: &serde_json::Value| serde_json::to_vec(v).map_or(0, |b| b.len());
    let mut parts: Vec<String> = state
        .as_object()
        .map(|o| o.iter().map(|(k, v)| format!("{k} {}", size(v))).collect())
        .unwrap_or_default();
    parts.sort();
    println!("state: {} bytes ({})", size(&state), parts.join(", "));
}
