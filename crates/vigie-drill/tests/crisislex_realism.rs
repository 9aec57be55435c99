//! The generator's crisis onsets against real ones: CrisisLexT26's timestamped tweet ids,
//! measured with the same tool (`vigie_drill::crisislex`). Needs the data set: the folder in
//! `VIGIE_TEST_CRISISLEX_DIR` (`.ci/run` sets it when `../shared/data` is there), else
//! `../shared/data/crisislex/CrisisLexT26` next to the repository; skipped with a printed
//! reason when neither exists.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use vigie_drill::crisislex::{crisislex_shapes, drill_shape};
use vigie_drill::{CrisisSize, DrillSpec, Scenario, generate};

fn data_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("VIGIE_TEST_CRISISLEX_DIR") {
        return Some(PathBuf::from(d));
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/crisislex/CrisisLexT26");
    beside.is_dir().then_some(beside)
}

/// Sudden-onset events: half the peak within three hours of the onset (earthquakes,
/// shootings, crashes, explosions); slow ones (floods, haze, typhoons) take days.
const SUDDEN_HALF_PEAK_MIN: f64 = 180.0;

#[test]
fn generated_crises_rise_like_real_sudden_onset_events() {
    let Some(dir) = data_dir() else {
        eprintln!(
            "skipping: no CrisisLexT26 folder (set VIGIE_TEST_CRISISLEX_DIR to ../shared/data/crisislex/CrisisLexT26)"
        );
        return;
    };
    let real = crisislex_shapes(&dir).unwrap();
    assert!(
        real.len() >= 20,
        "{} events read from {}",
        real.len(),
        dir.display()
    );
    let sudden: Vec<f64> = real
        .iter()
        .map(|s| s.onset_to_half_peak_min)
        .filter(|m| *m <= SUDDEN_HALF_PEAK_MIN)
        .collect();
    assert!(sudden.len() >= 10, "{sudden:?}");
    let lo = sudden.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = sudden.iter().copied().fold(0.0, f64::max);
    for seed in 1001..1006 {
        for size in [CrisisSize::Medium, CrisisSize::Large] {
            let drill = generate(&DrillSpec::new(seed, Scenario::Crisis(size)));
            let s = drill_shape(&drill).unwrap();
            println!(
                "{}: onset → half peak {} min, → peak {} min (real sudden onsets: {lo}–{hi} min)",
                s.name, s.onset_to_half_peak_min, s.onset_to_peak_min
            );
            assert!(
                (lo..=hi).contains(&s.onset_to_half_peak_min),
                "{}: {} min to half peak, outside the real sudden-onset range {lo}–{hi}",
                s.name,
                s.onset_to_half_peak_min
            );
            assert!(
                s.onset_to_peak_min <= 4.0 * hi,
                "{}: {} min to the peak",
                s.name,
                s.onset_to_peak_min
            );
        }
    }
}
