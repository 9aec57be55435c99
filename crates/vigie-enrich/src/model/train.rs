//! Training the linear model: multinomial logistic regression by AdaGrad SGD with L2,
//! deterministic (fixed seed, fixed file order, one thread), L2 and epochs chosen on a
//! held-out tenth of the training files.

use super::features::{Feature, Featurizer};
use super::{CLASSES, ModelError, TrainedSentiment, featurize, softmax};
use std::path::Path;
use vigie_model::SentimentLabel;
use vigie_query::text::TokenKind;

/// Training settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// `2^bits` feature buckets (18 gives a 1.5 MiB model).
    pub bits: u32,
    /// Most passes over the data; the best number is chosen on the held-out part.
    pub max_epochs: u32,
    /// L2 strengths tried (the best on the held-out part is kept).
    pub l2_grid: Vec<f32>,
    /// AdaGrad learning rate.
    pub learning_rate: f32,
    /// Seed of the shuffles.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            bits: 18,
            max_epochs: 8,
            l2_grid: vec![0.0, 1e-6, 1e-5, 1e-4],
            learning_rate: 0.2,
            seed: 42,
        }
    }
}

/// One training file.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingFile {
    /// Name in reports (path relative to the data folder).
    pub name: String,
    /// ISO 639-1 language of its texts.
    pub lang: String,
    /// Weight of each of its rows in the loss.
    pub weight: f32,
    /// Labelled rows.
    pub rows: Vec<(SentimentLabel, String)>,
}

/// Figures of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFigures {
    /// The file's name.
    pub name: String,
    /// Rows scored.
    pub rows: u64,
    /// Accuracy.
    pub accuracy: f64,
    /// Macro-F1 over the labels the file has.
    pub macro_f1: f64,
}

/// What [`train`] did.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// The model, trained on all rows with the chosen settings.
    pub model: TrainedSentiment,
    /// The chosen L2 strength.
    pub l2: f32,
    /// The chosen number of epochs.
    pub epochs: u32,
    /// Every `(l2, epochs, mean held-out macro-F1)` tried.
    pub search: Vec<(f32, u32, f64)>,
    /// Held-out figures per file for the chosen settings (trained without the held-out rows).
    pub held_out: Vec<FileFigures>,
    /// Figures of the final model on all its training rows.
    pub train: Vec<FileFigures>,
}

/// The files [`read_training_dir`] reads, relative to the data folder: `(path, language,
/// binary, weight)`. Binary files have labels 0 negative / 1 positive.
pub const TRAINING_FILES: &[(&str, &str, bool, f32)] = &[
    ("semeval-en/train.tsv", "en", false, 1.0),
    ("umsab/french/train.tsv", "fr", false, 3.0),
    ("umsab/english/train.tsv", "en", false, 2.0),
    ("umsab/german/train.tsv", "de", false, 1.0),
    ("umsab/spanish/train.tsv", "es", false, 1.0),
    ("umsab/italian/train.tsv", "it", false, 1.0),
    ("umsab/portuguese/train.tsv", "pt", false, 1.0),
    ("umsab/arabic/train.tsv", "ar", false, 1.0),
    ("umsab/hindi/train.tsv", "hi", false, 1.0),
    ("allocine-tv-fr/train.tsv", "fr", true, 1.0),
];

/// Validation files whose texts are removed from the training rows (the SemEval pool and
/// UMSAB English contain TweetEval's and UMSAB's validation tweets). Their labels are never
/// read.
pub const HELD_OUT_FILES: &[&str] = &[
    "tweeteval-en/val.tsv",
    "umsab/french/val.tsv",
    "umsab/english/val.tsv",
    "umsab/german/val.tsv",
    "umsab/spanish/val.tsv",
    "umsab/italian/val.tsv",
    "umsab/portuguese/val.tsv",
    "umsab/arabic/val.tsv",
    "umsab/hindi/val.tsv",
    "allocine-tv-fr/dev.tsv",
];

/// Reads the training files of [`TRAINING_FILES`] under `dir`, minus every row whose text
/// (compared by [`dedup_key`]) appears in a file of [`HELD_OUT_FILES`] that exists. Returns
/// the files and the number of rows removed.
///
/// # Errors
/// [`ModelError::Data`] when a training file is missing or has a label outside its scheme.
pub fn read_training_dir(dir: &Path) -> Result<(Vec<TrainingFile>, usize), ModelError> {
    let read = |rel: &str| {
        let path = dir.join(rel);
        std::fs::read_to_string(&path).map_err(|e| ModelError::Data {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    };
    let mut excluded = std::collections::HashSet::new();
    for rel in HELD_OUT_FILES {
        if let Ok(data) = read(rel) {
            excluded.extend(
                data.lines()
                    .filter_map(|l| l.split_once('\t'))
                    .map(|(_, text)| dedup_key(text)),
            );
        }
    }
    let mut removed = 0;
    let mut files = Vec::new();
    for &(rel, lang, binary, weight) in TRAINING_FILES {
        let data = read(rel)?;
        let mut rows = parse_rows(&data, binary).map_err(|line| ModelError::Data {
            path: dir.join(rel).display().to_string(),
            message: format!("bad label at line {line}"),
        })?;
        let before = rows.len();
        rows.retain(|(_, text)| !excluded.contains(&dedup_key(text)));
        removed += before - rows.len();
        files.push(TrainingFile {
            name: rel.to_owned(),
            lang: lang.to_owned(),
            weight,
            rows,
        });
    }
    Ok((files, removed))
}

/// A text's identity for de-duplication: folded tokens, with every handle as `@user` and
/// every link as `http` (TweetEval anonymises handles), punctuation ignored.
pub fn dedup_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for t in vigie_query::text::tokenize(text) {
        let part = match t.kind {
            TokenKind::Handle => "@user",
            TokenKind::Url => "http",
            _ => t.text.as_str(),
        };
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(part);
    }
    key
}

/// `label<TAB>text` rows; `Err(line)` on an unknown label.
fn parse_rows(data: &str, binary: bool) -> Result<Vec<(SentimentLabel, String)>, usize> {
    let mut rows = Vec::new();
    for (i, line) in data.lines().enumerate() {
        let Some((label, text)) = line.split_once('\t') else {
            continue;
        };
        let label = match (label.trim(), binary) {
            ("0", _) => SentimentLabel::Negative,
            ("1", true) => SentimentLabel::Positive,
            ("1", false) => SentimentLabel::Neutral,
            ("2", false) => SentimentLabel::Positive,
            _ => return Err(i + 1),
        };
        rows.push((label, text.to_owned()));
    }
    Ok(rows)
}

fn class(l: SentimentLabel) -> usize {
    match l {
        SentimentLabel::Negative => 0,
        SentimentLabel::Neutral => 1,
        SentimentLabel::Positive => 2,
    }
}

/// Whether row `i` of file `f` is in the held-out tenth.
fn held_out(f: usize, i: usize) -> bool {
    let h = super::fnv64(format!("{f}:{i}").as_bytes());
    h.is_multiple_of(10)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

/// The float model being trained.
struct Learner {
    featurizer: Featurizer,
    weights: Vec<f32>,
    squares: Vec<f32>,
    l2: f32,
    rate: f32,
}

impl Learner {
    fn new(bits: u32, l2: f32, rate: f32) -> Self {
        let n = (1usize << bits) * CLASSES;
        Self {
            featurizer: Featurizer { bits },
            weights: vec![0.0; n],
            squares: vec![0.0; n],
            l2,
            rate,
        }
    }

    fn probabilities(&self, feats: &[Feature]) -> [f32; 3] {
        let mut logits = [0.0f32; 3];
        for &(b, v) in feats {
            let at = b as usize * CLASSES;
            if let Some(w) = self.weights.get(at..at + CLASSES) {
                for (l, &w) in logits.iter_mut().zip(w) {
                    *l += w * v;
                }
            }
        }
        softmax(logits)
    }

    fn step(&mut self, feats: &[Feature], gold: usize, weight: f32) {
        let p = self.probabilities(feats);
        let g: [f32; 3] = std::array::from_fn(|c| {
            (p.get(c).copied().unwrap_or(0.0) - if c == gold { 1.0 } else { 0.0 }) * weight
        });
        for &(b, v) in feats {
            let at = b as usize * CLASSES;
            for (c, gc) in g.iter().enumerate() {
                let i = at + c;
                if let (Some(w), Some(s)) = (self.weights.get(i).copied(), self.squares.get_mut(i))
                {
                    let grad = gc * v + self.l2 * w;
                    *s += grad * grad;
                    let new = w - self.rate * grad / (s.sqrt() + 1e-6);
                    if let Some(slot) = self.weights.get_mut(i) {
                        *slot = new;
                    }
                }
            }
        }
    }

    /// One shuffled pass over `rows` (`(file, row)` indexes).
    fn epoch(&mut self, files: &[TrainingFile], rows: &mut [(usize, usize)], rng: &mut Rng) {
        for i in (1..rows.len()).rev() {
            rows.swap(i, rng.below(i + 1));
        }
        let mut feats = Vec::new();
        for &(f, r) in rows.iter() {
            let Some(file) = files.get(f) else { continue };
            let Some((label, text)) = file.rows.get(r) else {
                continue;
            };
            featurize(self.featurizer, text, &file.lang, &mut feats);
            self.step(&feats, class(*label), file.weight);
        }
    }

    /// Figures per file on the given rows.
    fn score(&self, files: &[TrainingFile], rows: &[(usize, usize)]) -> Vec<FileFigures> {
        let mut confusion = vec![[[0u64; 3]; 3]; files.len()];
        let mut feats = Vec::new();
        for &(f, r) in rows {
            let (Some(file), Some(m)) = (files.get(f), confusion.get_mut(f)) else {
                continue;
            };
            let Some((label, text)) = file.rows.get(r) else {
                continue;
            };
            featurize(self.featurizer, text, &file.lang, &mut feats);
            let p = self.probabilities(&feats);
            let predicted = super::sentiment_of(p).label;
            if let Some(cell) = m
                .get_mut(class(*label))
                .and_then(|row| row.get_mut(class(predicted)))
            {
                *cell += 1;
            }
        }
        files
            .iter()
            .zip(confusion)
            .map(|(file, m)| figures(&file.name, &m))
            .collect()
    }
}

/// Accuracy and macro-F1 over the gold labels present in `m` (`m[gold][predicted]`).
pub(crate) fn figures(name: &str, m: &[[u64; 3]; 3]) -> FileFigures {
    let n: u64 = m.iter().flatten().sum();
    let correct: u64 = (0..3).filter_map(|i| m.get(i).and_then(|r| r.get(i))).sum();
    let mut f1s = Vec::new();
    for c in 0..3 {
        let support: u64 = m.get(c).map_or(0, |r| r.iter().sum());
        if support == 0 {
            continue;
        }
        let tp = m.get(c).and_then(|r| r.get(c)).copied().unwrap_or(0);
        let predicted: u64 = m.iter().filter_map(|r| r.get(c)).sum();
        let p = if predicted == 0 {
            0.0
        } else {
            tp as f64 / predicted as f64
        };
        let r = tp as f64 / support as f64;
        f1s.push(if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        });
    }
    FileFigures {
        name: name.to_owned(),
        rows: n,
        accuracy: if n == 0 {
            0.0
        } else {
            correct as f64 / n as f64
        },
        macro_f1: if f1s.is_empty() {
            0.0
        } else {
            f1s.iter().sum::<f64>() / f1s.len() as f64
        },
    }
}

fn mean_macro_f1(figs: &[FileFigures]) -> f64 {
    figs.iter().map(|f| f.macro_f1).sum::<f64>() / figs.len().max(1) as f64
}

/// Trains a model on `files`: for each L2 strength of the grid, trains on nine tenths of
/// every file and scores the held-out tenth after each epoch; keeps the best `(l2, epochs)`
/// by mean held-out macro-F1 (files weigh alike); then trains on all rows with them.
/// `progress` receives one line per step. The same inputs give the same model, byte for byte.
pub fn train(
    files: &[TrainingFile],
    options: &TrainOptions,
    progress: &mut dyn FnMut(&str),
) -> TrainReport {
    let all: Vec<(usize, usize)> = files
        .iter()
        .enumerate()
        .flat_map(|(f, file)| (0..file.rows.len()).map(move |r| (f, r)))
        .collect();
    let (dev, fit): (Vec<_>, Vec<_>) = all.iter().partition(|&&(f, r)| held_out(f, r));
    let mut search = Vec::new();
    let mut best: Option<(f32, u32, f64, Vec<FileFigures>)> = None;
    for &l2 in &options.l2_grid {
        let mut learner = Learner::new(options.bits, l2, options.learning_rate);
        let mut rng = Rng(options.seed | 1);
        let mut rows = fit.clone();
        for epoch in 1..=options.max_epochs {
            learner.epoch(files, &mut rows, &mut rng);
            let figs = learner.score(files, &dev);
            let mean = mean_macro_f1(&figs);
            progress(&format!(
                "l2={l2:e} epoch={epoch} held-out mean macro-F1={mean:.4}"
            ));
            search.push((l2, epoch, mean));
            if best.as_ref().is_none_or(|b| mean > b.2) {
                best = Some((l2, epoch, mean, figs));
            }
        }
    }
    let (l2, epochs, _, held_out) = best.unwrap_or((0.0, 1, 0.0, Vec::new()));
    progress(&format!(
        "final: l2={l2:e} epochs={epochs} on all {} rows",
        all.len()
    ));
    let mut learner = Learner::new(options.bits, l2, options.learning_rate);
    let mut rng = Rng(options.seed | 1);
    let mut rows = all.clone();
    for _ in 0..epochs {
        learner.epoch(files, &mut rows, &mut rng);
    }
    let model = TrainedSentiment::quantize(options.bits, &learner.weights);
    let train = learner.score(files, &all);
    TrainReport {
        model,
        l2,
        epochs,
        search,
        held_out,
        train,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SentimentEngine;

    fn toy() -> Vec<TrainingFile> {
        let mut rows = Vec::new();
        let pos = ["great", "love", "super", "excellent", "happy"];
        let neg = ["awful", "hate", "terrible", "worst", "sad"];
        let neu = ["tuesday", "meeting", "parcel", "station", "report"];
        for i in 0..60 {
            let pick = |l: &[&'static str]| -> &'static str {
                l.get(i % l.len()).copied().unwrap_or_default()
            };
            rows.push((
                SentimentLabel::Positive,
                format!("this is {} stuff {i}", pick(&pos)),
            ));
            rows.push((
                SentimentLabel::Negative,
                format!("this is {} stuff {i}", pick(&neg)),
            ));
            rows.push((
                SentimentLabel::Neutral,
                format!("the {} is at {i}", pick(&neu)),
            ));
        }
        vec![TrainingFile {
            name: "toy".into(),
            lang: "de".into(),
            weight: 1.0,
            rows,
        }]
    }

    fn options() -> TrainOptions {
        TrainOptions {
            bits: 12,
            max_epochs: 3,
            l2_grid: vec![0.0, 1e-4],
            ..TrainOptions::default()
        }
    }

    #[test]
    fn learns_a_separable_toy_set_reproducibly() {
        let files = toy();
        let mut lines = 0;
        let a = train(&files, &options(), &mut |_| lines += 1);
        assert_eq!(lines, 2 * 3 + 1);
        assert_eq!(a.search.len(), 6);
        assert!(
            a.train.first().is_some_and(|f| f.accuracy > 0.95),
            "{:?}",
            a.train
        );
        assert!(
            a.held_out
                .first()
                .is_some_and(|f| f.rows > 0 && f.rows < 180)
        );
        let m = &a.model;
        assert_eq!(m.analyze("love it", "de").label, SentimentLabel::Positive);
        assert_eq!(m.analyze("so sad", "de").label, SentimentLabel::Negative);
        let b = train(&files, &options(), &mut |_| {});
        assert_eq!(a.model.to_bytes(), b.model.to_bytes());
    }

    #[test]
    fn parses_binary_and_ternary_rows() {
        let three = parse_rows("0\ta\n1\tb\n2\tc\nno tab", false).unwrap();
        assert_eq!(
            three.iter().map(|r| r.0).collect::<Vec<_>>(),
            [
                SentimentLabel::Negative,
                SentimentLabel::Neutral,
                SentimentLabel::Positive
            ]
        );
        let two = parse_rows("0\ta\n1\tb", true).unwrap();
        assert_eq!(two.get(1).map(|r| r.0), Some(SentimentLabel::Positive));
        assert_eq!(parse_rows("0\ta\n2\tb", true), Err(2));
    }

    #[test]
    fn figures_ignore_absent_classes() {
        // Binary file: neutral absent; one negative predicted neutral counts as wrong.
        let f = figures("x", &[[3, 1, 0], [0, 0, 0], [0, 0, 4]]);
        assert_eq!(f.rows, 8);
        assert!((f.accuracy - 7.0 / 8.0).abs() < 1e-9);
        let f1_neg = 2.0 * 1.0 * 0.75 / 1.75;
        assert!((f.macro_f1 - (f1_neg + 1.0) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn dedup_key_ignores_handles_links_and_punctuation() {
        assert_eq!(
            dedup_key("@Bob Great game!! https://t.co/x"),
            dedup_key("@user great game http://a.b")
        );
        assert_ne!(dedup_key("great game"), dedup_key("bad game"));
    }

    #[test]
    fn held_out_is_about_a_tenth() {
        let n = (0..1000).filter(|&i| held_out(0, i)).count();
        assert!((60..140).contains(&n), "{n}");
    }
}
