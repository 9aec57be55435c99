//! `vigie eval drills`: seeded crisis drills through the real enrichment and detection code
//! (crate `vigie-drill`), with delays, detection shares and false alerts.

use anyhow::Context;
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use vigie_drill::{
    DelayStats, DrillReport, REPORT_SEED_BASE, RunConfig, Scenario, TUNING_SEEDS, crisislex,
    generate, report, run_seeds,
};

/// `vigie eval drills`.
#[derive(Debug, Args)]
pub struct EvalDrillsArgs {
    /// Seeds to run (each runs every scenario: 3 crisis sizes, calm and 4 hard negatives).
    #[arg(long, default_value_t = 20)]
    pub seeds: u64,
    /// First seed. The default, 1001, is past the tuning seeds (1–10).
    #[arg(long, default_value_t = REPORT_SEED_BASE)]
    pub seed_base: u64,
    /// Days per stream (the first is the detectors' warm-up).
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Detector settings as JSON (`{"burst": {...}, "viral": {...}}`, see
    /// docs/design/detection.md); the `[detection]` settings come from `--config`.
    #[arg(long)]
    pub detectors: Option<PathBuf>,
    /// Configuration file whose `[detection]` settings are used (default: built-in).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Also compare the generated crisis onsets with the real ones in this CrisisLexT26
    /// folder (e.g. ../shared/data/crisislex/CrisisLexT26).
    #[arg(long)]
    pub crisislex: Option<PathBuf>,
    /// Print one line per drill too.
    #[arg(long)]
    pub each: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the drills and prints the report; exit code 0 whether or not the targets are met.
pub fn run(args: &EvalDrillsArgs) -> anyhow::Result<ExitCode> {
    if args.seeds == 0 {
        anyhow::bail!("--seeds must be at least 1");
    }
    if args.days < 4 {
        anyhow::bail!("--days must be at least 4 (warm-up, history, event, aftermath)");
    }
    let mut config = RunConfig::default();
    if let Some(path) = &args.config {
        let c = vigie_config::load(path).map_err(|errors| {
            eprintln!("{errors}");
            anyhow::anyhow!("invalid configuration {}", path.display())
        })?;
        config.settings = c.detection.clone();
    }
    if let Some(path) = &args.detectors {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        config.detectors = serde_json::from_str(&text)
            .with_context(|| format!("parsing the detector settings {}", path.display()))?;
        config
            .detectors
            .validate()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let seeds: Vec<u64> = (args.seed_base..args.seed_base.saturating_add(args.seeds)).collect();
    let tuning: Vec<u64> = seeds
        .iter()
        .copied()
        .filter(|s| TUNING_SEEDS.contains(s))
        .collect();
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(std::num::NonZero::get)
            .unwrap_or(1)
    });
    let outcomes = run_seeds(&seeds, &Scenario::ALL, args.days, &config, threads)?;
    let r = report(&outcomes, &seeds, args.days);
    let shapes = match &args.crisislex {
        Some(dir) => Some(onset_comparison(dir, &seeds, args.days)?),
        None => None,
    };
    if args.json {
        let mut v = serde_json::to_value(&r)?;
        if args.each {
            v["drills"] = serde_json::to_value(&outcomes)?;
        }
        if let Some((real, generated)) = &shapes {
            v["onsets"] = serde_json::json!({ "crisislex": real, "drills": generated });
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if !tuning.is_empty() {
        println!("note: seeds {tuning:?} were used for tuning; figures on them are optimistic");
    }
    if args.each {
        for o in &outcomes {
            let min = |m: Option<f64>| m.map_or_else(|| "-".to_owned(), |m| format!("{m:.0}"));
            println!(
                "seed {:>5} {:<15} {:<30} {:>5} matched, {:>5} event; →L2 {:>4} min, →L3 {:>4} min, peak {}, false L2 before {}",
                o.seed,
                o.scenario.name(),
                o.story,
                o.matched,
                o.event_mentions,
                min(o.minutes_to_alert),
                min(o.minutes_to_crisis),
                o.peak_after_event.as_u8(),
                o.alerts_before_event
            );
        }
    }
    print!("{}", table(&r));
    if let Some((real, generated)) = shapes {
        println!(
            "\nOnset shapes (10-min bins, 30-min smoothing; onset = first bin ≥ 10 % of peak)"
        );
        println!(
            "{:<40} {:>7} {:>9} {:>13} {:>11}",
            "curve", "posts", "peak/10m", "→half peak", "→peak"
        );
        for s in real.iter().chain(&generated) {
            println!(
                "{:<40} {:>7} {:>9.1} {:>9.0} min {:>7.0} min",
                s.name, s.posts, s.peak_per_10_min, s.onset_to_half_peak_min, s.onset_to_peak_min
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn fmt_min(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |m| format!("{m:.0}"))
}

fn table(r: &DrillReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Crisis drills: seeds {}–{}, {} days per stream, {} streams",
        r.seeds.first().copied().unwrap_or(0),
        r.seeds.last().copied().unwrap_or(0),
        r.days,
        r.seeds.len() * Scenario::ALL.len()
    );
    let _ = writeln!(
        s,
        "\n{:<14} {:>7} {:>10} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10}",
        "crises",
        "streams",
        "L2 ≤60min",
        "L2 ≤24h",
        "L2 median",
        "L2 p90",
        "L3",
        "L3 median",
        "L3 p90"
    );
    let row = |s: &mut String, name: &str, d: &DelayStats| {
        let _ = writeln!(
            s,
            "{:<14} {:>7} {:>9.0}% {:>9.0}% {:>6} min {:>6} min {:>7.0}% {:>6} min {:>6} min",
            name,
            d.crises,
            d.detected_within_60_min * 100.0,
            d.detected_within_24_h * 100.0,
            fmt_min(d.median_minutes_to_level_2),
            fmt_min(d.p90_minutes_to_level_2),
            d.reached_level_3 * 100.0,
            fmt_min(d.median_minutes_to_level_3),
            fmt_min(d.p90_minutes_to_level_3)
        );
    };
    for name in ["small", "medium", "large", "medium+large"] {
        if let Some(d) = r.crises.get(name) {
            row(&mut s, name, d);
        }
    }
    let _ = writeln!(
        s,
        "\nevidence: minutes from the onset until the crisis's own posts (reposts excluded) come from 5 / 10 distinct authors\n{:<14} {:>18} {:>18}",
        "crises", "5 voices med/p90", "10 voices med/p90"
    );
    for name in ["small", "medium", "large", "medium+large"] {
        if let Some(d) = r.crises.get(name) {
            let _ = writeln!(
                s,
                "{:<14} {:>11}/{:>3} min {:>11}/{:>3} min",
                name,
                fmt_min(d.voices_5_minutes.0),
                fmt_min(d.voices_5_minutes.1),
                fmt_min(d.voices_10_minutes.0),
                fmt_min(d.voices_10_minutes.1)
            );
        }
    }
    let _ = writeln!(
        s,
        "\n{:<16} {:>7} {:>16} {:>28}",
        "crisis-free", "streams", "false L2 / week", "peak level 0/1/2/3 after event"
    );
    for (name, q) in &r.quiet {
        let _ = writeln!(
            s,
            "{:<16} {:>7} {:>16.2} {:>28}",
            name,
            q.streams,
            q.level_2_per_week,
            format!(
                "{}/{}/{}/{}",
                q.peak_levels[0], q.peak_levels[1], q.peak_levels[2], q.peak_levels[3]
            )
        );
    }
    let _ = writeln!(
        s,
        "false L2 per week before the onset of crisis streams: {:.2}",
        r.pre_onset_level_2_per_week
    );
    let v = &r.viral;
    let pct = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |x| format!("{:.0} %", x * 100.0));
    let _ = writeln!(
        s,
        "
viral forecasts: {} cascades reached the first forecast ({} unbounded); final-size error at that moment median {} / p90 {}, median forecast/final {}",
        v.cascades,
        v.unbounded,
        pct(v.relative_error.0),
        pct(v.relative_error.1),
        v.median_ratio
            .map_or_else(|| "-".to_owned(), |x| format!("{x:.2}"))
    );
    let _ = writeln!(
        s,
        "viral flags: {} explosive cascades (final ≥ threshold), {} flagged, {} of them explosive; flag {} min before the threshold was reached (median); final sizes median {} / p90 {} / max {}, of the flagged ones median {}",
        v.explosive,
        v.flagged,
        v.flagged_explosive,
        fmt_min(v.median_lead_minutes),
        fmt_min(v.final_sizes.0),
        fmt_min(v.final_sizes.1),
        fmt_min(v.final_sizes.2),
        fmt_min(v.flagged_median_final)
    );
    let _ = writeln!(
        s,
        "\ntargets (median ≤ 10 min and p90 ≤ 30 min to L2 over medium+large crises, ≥ 95 % of large crises within 60 min, ≤ 1 false L2 per watch-week): {}",
        if r.targets_met { "met" } else { "NOT met" }
    );
    s
}

type Shapes = (Vec<crisislex::OnsetShape>, Vec<crisislex::OnsetShape>);

fn onset_comparison(dir: &std::path::Path, seeds: &[u64], days: u32) -> anyhow::Result<Shapes> {
    let real = crisislex::crisislex_shapes(dir)
        .with_context(|| format!("reading CrisisLexT26 under {}", dir.display()))?;
    let mut generated = Vec::new();
    for &seed in seeds.iter().take(5) {
        for size in [
            vigie_drill::CrisisSize::Medium,
            vigie_drill::CrisisSize::Large,
        ] {
            let spec = vigie_drill::DrillSpec {
                days,
                ..vigie_drill::DrillSpec::new(seed, Scenario::Crisis(size))
            };
            if let Some(s) = crisislex::drill_shape(&generate(&spec)) {
                generated.push(s);
            }
        }
    }
    Ok((real, generated))
}
