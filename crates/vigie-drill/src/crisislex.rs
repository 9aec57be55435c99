//! Onset shapes of real crises (CrisisLexT26 timestamped tweet ids) and of the drills'
//! generated crises, measured the same way, to check that the generator is realistic.
//!
//! A shape is measured on 10-minute bins smoothed over 30 minutes (trailing): the peak bin,
//! the *onset* (first bin at ≥ 10 % of the peak), and the minutes from the onset to the
//! first bin at half the peak and to the peak.

use crate::generate::Drill;
use serde::Serialize;
use std::path::Path;

const BIN_MS: i64 = 600_000;

/// Why a CrisisLex file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CrisisLexError {
    /// Reading failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// No usable timestamp in the file.
    #[error("{0}: no timestamp could be read")]
    Empty(String),
}

/// The onset shape of one volume curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnsetShape {
    /// Event or drill name.
    pub name: String,
    /// Posts in the curve.
    pub posts: usize,
    /// Peak of the smoothed 10-minute counts.
    pub peak_per_10_min: f64,
    /// Minutes from the onset to half the peak.
    pub onset_to_half_peak_min: f64,
    /// Minutes from the onset to the peak.
    pub onset_to_peak_min: f64,
}

/// The shape of a set of post times (epoch ms).
pub fn shape(name: &str, times: &[i64]) -> Option<OnsetShape> {
    let first = *times.iter().min()?;
    let last = *times.iter().max()?;
    let n = usize::try_from((last - first) / BIN_MS + 1).ok()?;
    let mut bins = vec![0f64; n];
    for t in times {
        if let Some(b) = bins.get_mut(usize::try_from((t - first) / BIN_MS).ok()?) {
            *b += 1.0;
        }
    }
    let smooth: Vec<f64> = (0..n)
        .map(|i| bins[i.saturating_sub(2)..=i].iter().sum::<f64>() / 3.0)
        .collect();
    let (peak_i, peak) = smooth
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
    let onset = smooth.iter().position(|v| *v >= 0.1 * peak)?;
    let half = smooth.iter().position(|v| *v >= 0.5 * peak)?;
    Some(OnsetShape {
        name: name.to_owned(),
        posts: times.len(),
        peak_per_10_min: peak,
        onset_to_half_peak_min: (half.saturating_sub(onset) * 10) as f64,
        onset_to_peak_min: (peak_i.saturating_sub(onset) * 10) as f64,
    })
}

/// Post times of a CrisisLexT26 `…-tweetids_entire_period.csv` file (`"Sat Jul 06 07:17:37
/// +0000 2013","id",Y`).
pub fn read_times(path: &Path) -> Result<Vec<i64>, CrisisLexError> {
    let text = std::fs::read_to_string(path).map_err(|source| CrisisLexError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let times: Vec<i64> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let ts = line.split(',').next()?.trim().trim_matches('"');
            chrono::DateTime::parse_from_str(ts, "%a %b %d %H:%M:%S %z %Y")
                .ok()
                .map(|d| d.timestamp_millis())
        })
        .collect();
    if times.is_empty() {
        return Err(CrisisLexError::Empty(path.display().to_string()));
    }
    Ok(times)
}

/// Shapes of every CrisisLexT26 event under `dir` (the `CrisisLexT26` folder), by name.
pub fn crisislex_shapes(dir: &Path) -> Result<Vec<OnsetShape>, CrisisLexError> {
    let io = |source| CrisisLexError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut events: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    events.sort();
    let mut out = Vec::new();
    for event in events {
        let Some(name) = event.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let file = event.join(format!("{name}-tweetids_entire_period.csv"));
        if !file.exists() {
            continue;
        }
        let times = read_times(&file)?;
        if let Some(s) = shape(name, &times) {
            out.push(s);
        }
    }
    Ok(out)
}

/// The shape of a drill's injected event (its own posts only, as a keyword collection
/// would see them).
pub fn drill_shape(drill: &Drill) -> Option<OnsetShape> {
    let times: Vec<i64> = drill
        .mentions
        .iter()
        .zip(&drill.in_event)
        .filter(|(_, e)| **e)
        .map(|(m, _)| m.published_at.as_millis())
        .collect();
    shape(
        &format!("{} seed {}", drill.spec.scenario, drill.spec.seed),
        &times,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn measures_a_ramp() {
        // 0, 1, 2, … 9 posts per 10-minute bin, then 10 per bin for an hour.
        let mut times = Vec::new();
        for bin in 0..16i64 {
            for k in 0..bin.min(10) {
                times.push(bin * BIN_MS + k * 1_000);
            }
        }
        let s = shape("ramp", &times).unwrap();
        assert_eq!(s.posts, times.len());
        assert!((s.peak_per_10_min - 10.0).abs() < 1e-9);
        // Smoothed: bin 2 = 1.0 ≥ 10 % → onset 20 min; half (5) at bin 6 → 40 min.
        assert_eq!(s.onset_to_half_peak_min, 40.0);
    }

    #[test]
    fn reads_crisislex_when_present() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/crisislex/CrisisLexT26");
        if !dir.exists() {
            eprintln!("skipped: {} not found", dir.display());
            return;
        }
        let shapes = crisislex_shapes(&dir).unwrap();
        assert!(shapes.len() >= 20, "{}", shapes.len());
        let wt = shapes
            .iter()
            .find(|s| s.name == "2013_West_Texas_explosion")
            .unwrap();
        assert_eq!(wt.posts, 14_599);
        assert!(wt.onset_to_peak_min <= 240.0, "{wt:?}");
    }
}
