//! Runs drills on the tuning seeds and prints one line per drill and the report:
//! `cargo run --release -p vigie-drill --example tune -- [FIRST_SEED] [COUNT] [SCENARIO…]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use vigie_drill::{RunConfig, Scenario, report, run_seeds};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let first: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1);
    let count: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let wanted: Vec<Scenario> = Scenario::ALL
        .into_iter()
        .filter(|s| args.len() <= 2 || args[2..].iter().any(|a| a == s.name()))
        .collect();
    let seeds: Vec<u64> = (first..first + count).collect();
    let config = RunConfig::default();
    let outcomes = run_seeds(&seeds, &wanted, 7, &config, 2).unwrap();
    for o in &outcomes {
        println!(
            "{:>5} {:<15} {:<22} event={} matched={:>6} ev={:>5} L2={:>6} L3={:>6} peak={} pre={} entries={}",
            o.seed,
            o.scenario.name(),
            o.story,
            o.event_at,
            o.matched,
            o.event_mentions,
            o.minutes_to_alert.map_or("-".into(), |m| format!("{m:.0}")),
            o.minutes_to_crisis
                .map_or("-".into(), |m| format!("{m:.0}")),
            o.peak_after_event.as_u8(),
            o.alerts_before_event,
            o.alert_entries
        );
        if std::env::var_os("VERBOSE").is_some() {
            for c in &o.changes {
                println!(
                    "      {} {}→{} {}",
                    c.at,
                    c.from.as_u8(),
                    c.to.as_u8(),
                    c.summary
                );
            }
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&report(&outcomes, &seeds, 7)).unwrap()
    );
}
