//! Leave-one-category-out check of the parameter choice: runs each configuration of a small
//! grid (one JSON patch of `AnomalyParams` per line of the file given as second argument),
//! then, for each category, chooses the configuration and the threshold on the OTHER
//! categories only and scores the held-out category with them. Prints the pooled held-out
//! score per profile next to the in-sample score of the default configuration.
//! `cargo run --release -p vigie-nab --example nab_loco -- ../shared/data/nab grid.jsonl`
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use vigie_detect::anomaly::AnomalyParams;
use vigie_nab::score::{ScoredFile, normalise, optimise, score_file};
use vigie_nab::{Corpus, run_detector};

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap());
    let grid_path = std::env::args().nth(2).unwrap();
    let corpus = Corpus::load(&dir, None).unwrap();
    let grid: Vec<AnomalyParams> = std::fs::read_to_string(grid_path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut base = serde_json::to_value(AnomalyParams::default()).unwrap();
            let patch: serde_json::Value = serde_json::from_str(l).unwrap();
            for (k, v) in patch.as_object().unwrap() {
                base[k] = v.clone();
            }
            serde_json::from_value(base).unwrap()
        })
        .collect();
    let all: Vec<Vec<Vec<f64>>> = grid
        .iter()
        .map(|p| {
            std::thread::scope(|s| {
                let hs: Vec<_> = corpus
                    .files
                    .iter()
                    .map(|f| s.spawn(move || run_detector(f, p)))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            })
        })
        .collect();
    let cats = corpus.categories();
    for profile in &corpus.profiles {
        let mut held_raw = 0.0;
        let mut line = String::new();
        for cat in &cats {
            let train: Vec<usize> = (0..corpus.files.len())
                .filter(|&i| &corpus.files[i].category != cat)
                .collect();
            let test: Vec<usize> = (0..corpus.files.len())
                .filter(|&i| &corpus.files[i].category == cat)
                .collect();
            // Best configuration and threshold on the training categories.
            let (mut best_k, mut best_t, mut best_raw) = (0, f64::INFINITY, f64::NEG_INFINITY);
            for (k, scores) in all.iter().enumerate() {
                let files: Vec<ScoredFile<'_>> = train
                    .iter()
                    .map(|&i| ScoredFile {
                        scores: &scores[i],
                        windows: &corpus.files[i].windows,
                        probation: corpus.files[i].probation(),
                    })
                    .collect();
                let o = optimise(&files, profile);
                if o.raw > best_raw {
                    (best_k, best_t, best_raw) = (k, o.threshold, o.raw);
                }
            }
            let raw: f64 = test
                .iter()
                .map(|&i| {
                    let f = &corpus.files[i];
                    score_file(&all[best_k][i], &f.windows, f.probation(), profile, best_t).score
                })
                .sum();
            held_raw += raw;
            line.push_str(&format!(" {cat}:cfg{best_k}"));
        }
        println!(
            "{:<20} held-out {:.1}  ({line})",
            profile.name,
            normalise(held_raw, corpus.window_count(), profile)
        );
    }
}
