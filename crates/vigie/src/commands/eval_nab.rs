//! `vigie eval nab`: the Numenta Anomaly Benchmark with NAB's exact scorer.
//!
//! Runs Vigie's streaming anomaly detector (`vigie_detect::anomaly`) on every file of a NAB
//! layout, or reads stored per-row results with `--scores-from`, then scores the chosen files
//! with one corpus-optimised threshold per profile and prints the normalised scores, per
//! category sub-scores and the published references.

use crate::cli::EvalNabArgs;
use anyhow::Context;
use std::process::ExitCode;
use vigie_detect::anomaly::AnomalyParams;
use vigie_nab::{Corpus, Report, evaluate, results, run_detector};

/// Published scores on the 48-file development part (each detector at its published corpus
/// threshold; ../shared/data/README.md): standard, reward-low-FP, reward-low-FN.
const REFERENCES: [(&str, [f64; 3]); 5] = [
    ("ARTime", [72.1, 63.2, 77.4]),
    ("Numenta HTM", [70.9, 63.9, 75.0]),
    ("CAD OSE", [68.1, 64.5, 71.9]),
    ("KNN CAD", [55.5, 43.9, 61.5]),
    ("Twitter ADVec", [42.1, 32.7, 47.3]),
];

/// Runs the evaluation.
pub fn run(args: &EvalNabArgs) -> anyhow::Result<ExitCode> {
    let corpus = Corpus::load(&args.data, args.categories.as_deref())
        .with_context(|| format!("reading the NAB layout {}", args.data.display()))?;
    let scores: Vec<Vec<f64>> = match &args.scores_from {
        Some(dir) => corpus
            .files
            .iter()
            .map(|f| results::read_scores(dir, f))
            .collect::<Result<_, _>>()
            .with_context(|| format!("reading stored results from {}", dir.display()))?,
        None => run_all(&corpus, &AnomalyParams::default()),
    };
    if let Some(out) = &args.write_results {
        for (f, s) in corpus.files.iter().zip(&scores) {
            results::write_scores(out, "vigie", f, s)?;
        }
    }
    let report = evaluate(&corpus, &scores, None);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print_table(&report, args.scores_from.is_none());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the detector over every file, files spread over the available cores (each file is
/// one sequential stream, so the result does not depend on the thread count).
fn run_all(corpus: &Corpus, params: &AnomalyParams) -> Vec<Vec<f64>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Vec<f64>> = vec![Vec::new(); corpus.files.len()];
    let done: Vec<(usize, Vec<f64>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = corpus.files.get(i) else { break };
                        mine.push((i, run_detector(f, params)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (i, s) in done {
        if let Some(slot) = out.get_mut(i) {
            *slot = s;
        }
    }
    out
}

fn print_table(report: &Report, ours: bool) {
    let get = |n: &str| report.score(n).unwrap_or(f64::NAN);
    let who = if ours { "Vigie" } else { "stored results" };
    println!(
        "NAB: {} files, {} windows, one corpus-optimised threshold per profile",
        report.files, report.windows
    );
    println!(
        "{:<26} {:>9} {:>14} {:>14}",
        "detector", "standard", "reward_low_FP", "reward_low_FN"
    );
    println!(
        "{:<26} {:>9.1} {:>14.1} {:>14.1}",
        who,
        get("standard"),
        get("reward_low_FP_rate"),
        get("reward_low_FN_rate")
    );
    for (name, r) in &report.profiles {
        println!(
            "  {name:<22} threshold {:.6}  raw {:.3}  windows detected {}/{}  FP rows {}",
            r.threshold, r.raw, r.windows_detected, report.windows, r.false_positive_rows
        );
    }
    println!("per category (corpus threshold, normalised with the category's windows):");
    for (cat, c) in &report.categories {
        let p = |n: &str| c.profiles.get(n).map_or(f64::NAN, |r| r.score);
        println!(
            "  {cat:<24} {:>9.1} {:>14.1} {:>14.1}   ({} files, {} windows)",
            p("standard"),
            p("reward_low_FP_rate"),
            p("reward_low_FN_rate"),
            c.files,
            c.windows
        );
    }
    println!("published, on the 48-file development part (compare only on all of it):");
    for (name, [a, b, c]) in REFERENCES {
        println!("  {name:<24} {a:>9.1} {b:>14.1} {c:>14.1}");
    }
}
