//! Running a detector over a corpus and building the report.

use crate::layout::{Corpus, DataFile};
use crate::score::{FileScore, Optimum, ScoredFile, normalise, optimise, score_file};
use serde::Serialize;
use std::collections::BTreeMap;
use vigie_detect::anomaly::{AnomalyParams, StreamingAnomaly};

/// Runs Vigie's streaming anomaly detector over one file, row by row (no look-ahead), with
/// NAB's probationary period as the learning period, as every NAB detector is given.
pub fn run_detector(file: &DataFile, params: &AnomalyParams) -> Vec<f64> {
    let mut params = params.clone();
    params.learning_rows = file.probation();
    params.suppression_rows =
        (params.learning_rows as f64 * params.suppression_factor).round() as usize;
    let mut det = StreamingAnomaly::new(params);
    file.rows
        .iter()
        .map(|r| det.update(r.ts_ms, r.value).score)
        .collect()
}

/// One profile's result over a set of files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileResult {
    /// Normalised score (null detector 0, perfect 100).
    pub score: f64,
    /// Raw score (sum of file scores).
    pub raw: f64,
    /// The threshold used (corpus-optimised unless given).
    pub threshold: f64,
    /// Windows with a detection.
    pub windows_detected: usize,
    /// Detected rows outside windows.
    pub false_positive_rows: usize,
}

/// Scores of one category at the corpus threshold, normalised with the category's windows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryResult {
    /// Files in the category.
    pub files: usize,
    /// Labelled windows in the category.
    pub windows: usize,
    /// One result per profile, keyed by profile name.
    pub profiles: BTreeMap<String, ProfileResult>,
}

/// One file's raw scores per profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileResult {
    /// `<category>/<file>.csv`.
    pub name: String,
    /// Windows in the file.
    pub windows: usize,
    /// Per profile.
    pub profiles: BTreeMap<String, FileScore>,
}

/// The evaluation of a corpus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Per profile, in `PROFILE_NAMES` order.
    pub profiles: Vec<(String, ProfileResult)>,
    /// Number of files.
    pub files: usize,
    /// Number of labelled windows.
    pub windows: usize,
    /// Per category (threshold of the whole evaluated set).
    pub categories: BTreeMap<String, CategoryResult>,
    /// Per file.
    pub per_file: Vec<FileResult>,
}

impl Report {
    /// The normalised score of a profile.
    pub fn score(&self, profile: &str) -> Option<f64> {
        self.profiles
            .iter()
            .find(|(n, _)| n == profile)
            .map(|(_, r)| r.score)
    }

    /// `{"standard": …, "reward_low_FP_rate": …, "reward_low_FN_rate": …, "files": …,
    /// "windows": …, "details": {…}, "categories": {…}, "per_file": […]}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (name, r) in &self.profiles {
            m.insert(name.clone(), serde_json::json!(r.score));
        }
        m.insert("files".into(), serde_json::json!(self.files));
        m.insert("windows".into(), serde_json::json!(self.windows));
        let details: serde_json::Map<String, serde_json::Value> = self
            .profiles
            .iter()
            .map(|(n, r)| (n.clone(), serde_json::json!(r)))
            .collect();
        m.insert("details".into(), serde_json::Value::Object(details));
        m.insert("categories".into(), serde_json::json!(self.categories));
        m.insert("per_file".into(), serde_json::json!(self.per_file));
        serde_json::Value::Object(m)
    }
}

/// Scores `scores[i]` (one per row of `corpus.files[i]`). With `thresholds` (one per profile,
/// in the corpus's profile order) those are used; otherwise each profile's threshold is
/// optimised over the whole set of files given.
pub fn evaluate(corpus: &Corpus, scores: &[Vec<f64>], thresholds: Option<&[f64]>) -> Report {
    let scored: Vec<ScoredFile<'_>> = corpus
        .files
        .iter()
        .zip(scores)
        .map(|(f, s)| ScoredFile {
            scores: s,
            windows: &f.windows,
            probation: f.probation(),
        })
        .collect();
    let windows = corpus.window_count();
    let mut profiles = Vec::new();
    let mut per_file: Vec<FileResult> = corpus
        .files
        .iter()
        .map(|f| FileResult {
            name: f.name.clone(),
            windows: f.windows.len(),
            profiles: BTreeMap::new(),
        })
        .collect();
    let mut categories: BTreeMap<String, CategoryResult> = BTreeMap::new();
    for f in &corpus.files {
        let c = categories
            .entry(f.category.clone())
            .or_insert_with(|| CategoryResult {
                files: 0,
                windows: 0,
                profiles: BTreeMap::new(),
            });
        c.files += 1;
        c.windows += f.windows.len();
    }
    for (pi, profile) in corpus.profiles.iter().enumerate() {
        let threshold = match thresholds.and_then(|t| t.get(pi)) {
            Some(&t) => t,
            None => {
                let Optimum { threshold, .. } = optimise(&scored, profile);
                threshold
            }
        };
        let mut total = FileScore::default();
        let mut by_cat: BTreeMap<&str, FileScore> = BTreeMap::new();
        for ((f, sf), fr) in corpus.files.iter().zip(&scored).zip(&mut per_file) {
            let s = score_file(sf.scores, sf.windows, sf.probation, profile, threshold);
            add(&mut total, &s);
            add(by_cat.entry(f.category.as_str()).or_default(), &s);
            fr.profiles.insert(profile.name.clone(), s);
        }
        let result = |s: &FileScore, w: usize| ProfileResult {
            score: normalise(s.score, w, profile),
            raw: s.score,
            threshold,
            windows_detected: s.windows_detected,
            false_positive_rows: s.fp,
        };
        for (cat, s) in &by_cat {
            if let Some(c) = categories.get_mut(*cat) {
                let r = result(s, c.windows);
                c.profiles.insert(profile.name.clone(), r);
            }
        }
        profiles.push((profile.name.clone(), result(&total, windows)));
    }
    Report {
        profiles,
        files: corpus.files.len(),
        windows,
        categories,
        per_file,
    }
}

fn add(a: &mut FileScore, b: &FileScore) {
    a.score += b.score;
    a.tp += b.tp;
    a.tn += b.tn;
    a.fp += b.fp;
    a.fn_ += b.fn_;
    a.windows_detected += b.windows_detected;
}
