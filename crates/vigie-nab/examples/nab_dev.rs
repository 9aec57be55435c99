//! Development helper: runs the detector with parameters from `NAB_PARAMS` (JSON) over a NAB
//! layout and prints the three normalised scores, per category and (with `NAB_FILES=1`) per
//! file. `cargo run --release -p vigie-nab --example nab_dev -- ../shared/data/nab`
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use vigie_detect::anomaly::AnomalyParams;
use vigie_nab::{Corpus, evaluate, run_detector};

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("../shared/data/nab".into()),
    );
    let corpus = Corpus::load(&dir, None).expect("corpus");
    let params: AnomalyParams = match std::env::var("NAB_PARAMS") {
        Ok(s) => {
            let mut base = serde_json::to_value(AnomalyParams::default()).unwrap();
            let patch: serde_json::Value = serde_json::from_str(&s).unwrap();
            for (k, v) in patch.as_object().unwrap() {
                base[k] = v.clone();
            }
            serde_json::from_value(base).unwrap()
        }
        Err(_) => AnomalyParams::default(),
    };
    let t0 = std::time::Instant::now();
    let scores: Vec<Vec<f64>> = std::thread::scope(|s| {
        let handles: Vec<_> = corpus
            .files
            .iter()
            .map(|f| {
                let p = &params;
                s.spawn(move || run_detector(f, p))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let rows: usize = corpus.files.iter().map(|f| f.rows.len()).sum();
    let el = t0.elapsed();
    let r = evaluate(&corpus, &scores, None);
    println!(
        "{:?}  {:.1}/{:.1}/{:.1}  thr {:.6} {:.6} {:.6}  ({} rows, {:.2}s)",
        serde_json::to_string(&params).unwrap(),
        r.profiles[0].1.score,
        r.profiles[1].1.score,
        r.profiles[2].1.score,
        r.profiles[0].1.threshold,
        r.profiles[1].1.threshold,
        r.profiles[2].1.threshold,
        rows,
        el.as_secs_f64()
    );
    for (c, cr) in &r.categories {
        let p = |n: &str| cr.profiles.get(n).map_or(f64::NAN, |x| x.score);
        let d = cr.profiles.get("standard").unwrap();
        println!(
            "  {c:<22} {:>6.1} {:>6.1} {:>6.1}  det {}/{} fp {}",
            p("standard"),
            p("reward_low_FP_rate"),
            p("reward_low_FN_rate"),
            d.windows_detected,
            cr.windows,
            d.false_positive_rows
        );
    }
    if std::env::var("NAB_DIAG").is_ok() {
        let t = r.profiles[0].1.threshold;
        for (f, sc) in corpus.files.iter().zip(&scores) {
            let p = f.probation();
            let inside = |i: usize| f.windows.iter().any(|&(a, b)| (a..=b).contains(&i));
            let out_max = (p..sc.len())
                .filter(|&i| !inside(i))
                .map(|i| sc[i])
                .fold(0.0_f64, f64::max);
            let n_out = (p..sc.len()).filter(|&i| !inside(i) && sc[i] >= t).count();
            let mut line = format!(
                "{:<55} n={:<6} outmax {:.3} fp {}",
                f.name,
                sc.len(),
                out_max,
                n_out
            );
            for &(a, b) in &f.windows {
                let (mi, mv) = (a..=b)
                    .map(|i| (i, sc[i]))
                    .fold((0, 0.0_f64), |acc, x| if x.1 > acc.1 { x } else { acc });
                let first = (a..=b).find(|&i| sc[i] >= t).map_or("-".to_owned(), |i| {
                    format!("{:.2}", (i - a) as f64 / (b - a + 1) as f64)
                });
                line.push_str(&format!(
                    " | w{}: max {:.3}@{:.2} first {}",
                    b - a + 1,
                    mv,
                    (mi - a) as f64 / (b - a + 1) as f64,
                    first
                ));
            }
            println!("{line}");
        }
    }
    if let Ok(dir) = std::env::var("NAB_DUMP") {
        for (f, sc) in corpus.files.iter().zip(&scores) {
            let body: String = sc.iter().map(|v| format!("{v}\n")).collect();
            let name = f.name.replace('/', "__");
            std::fs::write(format!("{dir}/{name}"), body).unwrap();
        }
    }
    if std::env::var("NAB_FILES").is_ok() {
        for f in &r.per_file {
            let s = f.profiles.get("standard").unwrap();
            println!(
                "    {:<60} {:>7.3} det {}/{} fp {}",
                f.name, s.score, s.windows_detected, f.windows, s.fp
            );
        }
    }
}
