//! Measuring a sentiment engine on labelled texts: accuracy, macro-F1, per-class figures and
//! the confusion matrix.

use crate::SentimentEngine;
use std::fmt;
use vigie_model::SentimentLabel;

/// The three labels in report order: negative, neutral, positive.
pub const LABELS: [SentimentLabel; 3] = [
    SentimentLabel::Negative,
    SentimentLabel::Neutral,
    SentimentLabel::Positive,
];

fn label_index(l: SentimentLabel) -> usize {
    match l {
        SentimentLabel::Negative => 0,
        SentimentLabel::Neutral => 1,
        SentimentLabel::Positive => 2,
    }
}

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClassMetrics {
    /// Share of the texts predicted with this label that have it.
    pub precision: f64,
    /// Share of the texts with this label that were predicted with it.
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Texts with this label.
    pub support: u64,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalReport {
    /// Texts evaluated.
    pub n: u64,
    /// Share of texts whose predicted label is the gold label.
    pub accuracy: f64,
    /// Unweighted mean of the three per-class F1.
    pub macro_f1: f64,
    /// Per-class figures, in [`LABELS`] order (negative, neutral, positive).
    pub per_class: [ClassMetrics; 3],
    /// `confusion[gold][predicted]`, indexes in [`LABELS`] order.
    pub confusion: [[u64; 3]; 3],
}

impl EvalReport {
    /// A report from a confusion matrix (`confusion[gold][predicted]`).
    pub fn from_confusion(confusion: [[u64; 3]; 3]) -> Self {
        let n: u64 = confusion.iter().flatten().sum();
        let correct: u64 = (0..3).map(|i| confusion[i][i]).sum();
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let per_class: [ClassMetrics; 3] = std::array::from_fn(|c| {
            let tp = confusion[c][c];
            let predicted: u64 = (0..3).map(|g| confusion[g][c]).sum();
            let support: u64 = confusion[c].iter().sum();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            ClassMetrics {
                precision,
                recall,
                f1,
                support,
            }
        });
        Self {
            n,
            accuracy: ratio(correct, n),
            macro_f1: per_class.iter().map(|c| c.f1).sum::<f64>() / 3.0,
            per_class,
            confusion,
        }
    }
}

impl fmt::Display for EvalReport {
    /// One line: `n=324 accuracy=0.571 macro_f1=0.552 | negative P=… R=… F1=… | … | confusion …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={} accuracy={:.3} macro_f1={:.3}",
            self.n, self.accuracy, self.macro_f1
        )?;
        for (label, m) in LABELS.iter().zip(&self.per_class) {
            write!(
                f,
                " | {} P={:.3} R={:.3} F1={:.3}",
                label.as_str(),
                m.precision,
                m.recall,
                m.f1
            )?;
        }
        write!(
            f,
            " | confusion (rows gold neg/neu/pos, columns predicted) {:?}",
            self.confusion
        )
    }
}

/// Runs `engine` on every `(gold label, text)` row, in language `lang`, and scores it.
///
/// ```
/// use vigie_enrich::{evaluate, LexiconSentiment};
/// use vigie_model::SentimentLabel::*;
/// let rows = vec![(Positive, "great, thanks".to_owned()), (Negative, "awful".to_owned())];
/// let r = evaluate(&LexiconSentiment::default(), "en", rows.into_iter());
/// assert_eq!((r.n, r.accuracy), (2, 1.0));
/// ```
pub fn evaluate(
    engine: &dyn SentimentEngine,
    lang: &str,
    rows: impl Iterator<Item = (SentimentLabel, String)>,
) -> EvalReport {
    let mut confusion = [[0u64; 3]; 3];
    for (gold, text) in rows {
        let predicted = engine.analyze(&text, lang).label;
        confusion[label_index(gold)][label_index(predicted)] += 1;
    }
    EvalReport::from_confusion(confusion)
}

/// Reads `label<TAB>text` lines (`0` negative, `1` neutral, `2` positive), skipping blank and
/// malformed lines.
pub fn read_labelled_tsv(data: &str) -> Vec<(SentimentLabel, String)> {
    data.lines()
        .filter_map(|line| {
            let (label, text) = line.split_once('\t')?;
            let label = match label.trim() {
                "0" => SentimentLabel::Negative,
                "1" => SentimentLabel::Neutral,
                "2" => SentimentLabel::Positive,
                _ => return None,
            };
            Some((label, text.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_model::Sentiment;

    /// Predicts from a keyword, to test the arithmetic.
    struct Keyword;
    impl SentimentEngine for Keyword {
        fn analyze(&self, text: &str, _lang: &str) -> Sentiment {
            let label = if text.contains("bad") {
                SentimentLabel::Negative
            } else if text.contains("good") {
                SentimentLabel::Positive
            } else {
                SentimentLabel::Neutral
            };
            Sentiment {
                label,
                score: 0.0,
                confidence: 1.0,
            }
        }
    }

    #[test]
    fn computes_accuracy_macro_f1_and_confusion() {
        use SentimentLabel::*;
        let rows = vec![
            (Negative, "bad"),
            (Negative, "meh"),
            (Neutral, "meh"),
            (Positive, "good"),
            (Positive, "bad good"),
        ];
        let r = evaluate(
            &Keyword,
            "en",
            rows.into_iter().map(|(l, t)| (l, t.to_owned())),
        );
        assert_eq!(r.n, 5);
        assert_eq!(r.confusion, [[1, 1, 0], [0, 1, 0], [1, 0, 1]]);
        assert!((r.accuracy - 0.6).abs() < 1e-9);
        // negative P=1/2 R=1/2 F1=1/2; neutral P=1/2 R=1 F1=2/3; positive P=1 R=1/2 F1=2/3.
        assert!((r.per_class[0].f1 - 0.5).abs() < 1e-9);
        assert!((r.per_class[1].f1 - 2.0 / 3.0).abs() < 1e-9);
        assert!((r.macro_f1 - (0.5 + 2.0 / 3.0 + 2.0 / 3.0) / 3.0).abs() < 1e-9);
        assert!(
            r.to_string()
                .starts_with("n=5 accuracy=0.600 macro_f1=0.611")
        );
    }

    #[test]
    fn empty_input_gives_zeros() {
        let r = evaluate(&Keyword, "en", std::iter::empty());
        assert_eq!((r.n, r.accuracy, r.macro_f1), (0, 0.0, 0.0));
    }

    #[test]
    fn reads_tsv() {
        let rows = read_labelled_tsv("0\tbad\n\n2\tgood stuff\nx\tnope\n1\tmeh");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], (SentimentLabel::Positive, "good stuff".to_owned()));
    }
}
