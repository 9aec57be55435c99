//! The neural sentiment engine: multilingual-e5-small embeddings ([`vigie_neural`]) and a
//! logistic-regression head trained on them (`vigie train sentiment --engine neural`),
//! combined with the fast engine ([`TrainedSentiment`]): the two make different errors
//! (semantic vs lexical), so the engine's class probabilities are the equal-weight mean of
//! the two engines' log-probabilities, renormalised ([`combine`]). The rule is fixed a
//! priori (no weight is fitted, on any split); `docs/QUALITY.md` has the figures of the
//! combination and of the head alone ([`Combination::HeadOnly`]).
//!
//! The head is small and embedded in the binary (`models/neural-head.txt`); the encoder's
//! weights are not: `vigie model install e5-small` puts them in the data directory. Without
//! them, [`shared`] returns `None` (and says so once in the log) and every mention keeps the
//! fast engine.
//!
//! The enricher runs this engine only on mentions that match a watch ([`crate::Enricher::with_neural`]).

use crate::TrainedSentiment;
use crate::model::{TrainingFile, read_training_dir, sentiment_of, softmax};
use crate::sentiment::SentimentEngine;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use vigie_model::{Sentiment, SentimentLabel};
use vigie_neural::head::{Example, FileRole, Grid, Selection, TrainOptions, select_and_train};
use vigie_neural::{EmbeddingCache, Encoder, Head, NeuralError, Prefix, install};
use vigie_query::text::tokenize;

/// The head shipped in the binary.
pub const EMBEDDED_HEAD: &str = include_str!("../models/neural-head.txt");

/// Name of the encoder model this engine uses.
pub const MODEL_NAME: &str = "e5-small";

/// What the engine's class probabilities are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Combination {
    /// The head's probabilities combined with the fast engine's by [`combine`] (the product).
    #[default]
    WithFast,
    /// The head's probabilities alone (for comparison: `vigie eval sentiment --engine
    /// neural --head-only`).
    HeadOnly,
}

/// The equal-weight mean of the log-probabilities of two class distributions, renormalised
/// (a normalised geometric mean: `p ∝ √(a·b)`). Probabilities are floored at 1e-12 so that a
/// zero in one engine does not veto a class outright.
///
/// ```
/// use vigie_enrich::neural::combine;
/// let p = combine([0.6, 0.3, 0.1], [0.2, 0.3, 0.5]);
/// assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
/// // equal weights: the mean of the log-probabilities, up to a constant
/// assert!(((p[0] / p[2]).ln() - 0.5 * ((0.6f32 / 0.1).ln() + (0.2f32 / 0.5).ln())).abs() < 1e-5);
/// ```
pub fn combine(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    const FLOOR: f32 = 1e-12;
    softmax(std::array::from_fn(|i| {
        0.5 * (a[i].max(FLOOR).ln() + b[i].max(FLOOR).ln())
    }))
}

/// The part of the engine after the encoder: the head and the fast engine it is combined with.
#[derive(Debug, Clone)]
struct Scorer {
    head: Head,
    /// `None`: the head alone ([`Combination::HeadOnly`]).
    fast: Option<TrainedSentiment>,
}

impl Scorer {
    /// Class probabilities (negative, neutral, positive) of a text in language `lang` from
    /// its embedding.
    fn probabilities(&self, embedding: &[f32], text: &str, lang: &str) -> [f32; 3] {
        let p = self.head.predict(embedding);
        let head = [p[0], p[1], p[2]];
        match &self.fast {
            Some(fast) => combine(head, fast.probabilities(text, &tokenize(text), lang)),
            None => head,
        }
    }
}

/// Sentiment from the encoder's embedding and a linear head, combined with the fast engine
/// ([`Combination`]). The head is language-independent; the fast engine reads `lang`.
#[derive(Debug)]
pub struct NeuralSentiment {
    encoder: Encoder,
    scorer: Scorer,
}

impl NeuralSentiment {
    /// Pairs an encoder with a head; they must agree on the embedding size, and the head
    /// must have the three classes negative, neutral, positive. Its probabilities are
    /// combined with the embedded fast engine's ([`Combination::WithFast`]).
    pub fn new(encoder: Encoder, head: Head) -> Result<Self, NeuralError> {
        if head.dim != encoder.dim() || head.classes() != 3 {
            return Err(NeuralError::Head(format!(
                "head has {} classes of {} inputs; the encoder gives {} values",
                head.classes(),
                head.dim,
                encoder.dim()
            )));
        }
        if head.weights.iter().all(|w| *w == 0.0) {
            // An untrained head answers the first class for everything.
            return Err(NeuralError::Head(
                "the head is untrained (all weights are zero); run `vigie train sentiment --engine neural`".into(),
            ));
        }
        let fast = TrainedSentiment::embedded()
            .map_err(|e| NeuralError::Head(format!("the embedded fast engine: {e}")))?;
        Ok(Self {
            encoder,
            scorer: Scorer {
                head,
                fast: Some(fast),
            },
        })
    }

    /// The same engine with another [`Combination`].
    pub fn with_combination(mut self, combination: Combination) -> Result<Self, NeuralError> {
        self.scorer.fast = match combination {
            Combination::HeadOnly => None,
            Combination::WithFast => Some(
                TrainedSentiment::embedded()
                    .map_err(|e| NeuralError::Head(format!("the embedded fast engine: {e}")))?,
            ),
        };
        Ok(self)
    }

    /// What the engine's probabilities are made of.
    pub fn combination(&self) -> Combination {
        if self.scorer.fast.is_some() {
            Combination::WithFast
        } else {
            Combination::HeadOnly
        }
    }

    /// Loads the model file at `path` with the embedded head, using `threads` threads.
    pub fn load(path: &Path, threads: usize) -> Result<Self, NeuralError> {
        let encoder = Encoder::load(path)?.with_threads(threads);
        Self::new(encoder, Head::from_text(EMBEDDED_HEAD)?)
    }

    /// The encoder.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The sentiment of `text`, in language `lang`, whose embedding is `embedding`.
    pub fn sentiment_of_embedding(&self, embedding: &[f32], text: &str, lang: &str) -> Sentiment {
        sentiment_of(self.scorer.probabilities(embedding, text, lang))
    }

    /// The sentiments of several `(text, language)` pairs, embedded together (batched by length).
    pub fn analyze_batch(&self, texts: &[(&str, &str)]) -> Vec<Sentiment> {
        let only: Vec<&str> = texts.iter().map(|(t, _)| *t).collect();
        self.encoder
            .embed(&only, Prefix::Query)
            .iter()
            .zip(texts)
            .map(|(e, (text, lang))| self.sentiment_of_embedding(e, text, lang))
            .collect()
    }
}

impl SentimentEngine for NeuralSentiment {
    fn analyze(&self, text: &str, lang: &str) -> Sentiment {
        self.analyze_batch(&[(text, lang)])
            .pop()
            .unwrap_or(Sentiment {
                label: SentimentLabel::Neutral,
                score: 0.0,
                confidence: 0.0,
            })
    }
}

/// The process-wide neural engine, loaded once from the model directory
/// ([`install::default_dir`], i.e. `$VIGIE_MODEL_DIR` or the user data directory) with
/// `threads` threads; `None` when the model is not installed or cannot be loaded — logged
/// once, and the fast engine is used.
pub fn shared(threads: usize) -> Option<Arc<NeuralSentiment>> {
    static ENGINE: OnceLock<Option<Arc<NeuralSentiment>>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let Some(dir) = install::default_dir() else {
                tracing::info!("neural sentiment off: no model directory (set VIGIE_MODEL_DIR); using the fast engine");
                return None;
            };
            let Some(path) = install::locate(&dir, MODEL_NAME) else {
                tracing::info!(
                    dir = %dir.display(),
                    "neural sentiment off: {MODEL_NAME} is not installed (run `vigie model install {MODEL_NAME}`); using the fast engine"
                );
                return None;
            };
            match NeuralSentiment::load(&path, threads) {
                Ok(engine) => {
                    tracing::info!(model = %path.display(), "neural sentiment on for mentions that match a watch");
                    Some(Arc::new(engine))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "neural sentiment off: the model cannot be loaded; using the fast engine");
                    None
                }
            }
        })
        .clone()
}

/// The training rows for the head: every UMSAB train split (8 languages) and all the
/// SemEval rows (the TweetEval train tweets), minus any text found in a validation file;
/// the AlloCiné reviews are left out (binary labels, long texts of another domain).
pub fn training_files(dir: &Path) -> Result<Vec<TrainingFile>, crate::ModelError> {
    let (files, _) = read_training_dir(dir)?;
    Ok(files
        .into_iter()
        .filter(|f| !f.name.starts_with("allocine"))
        .collect())
}

fn class(l: SentimentLabel) -> usize {
    match l {
        SentimentLabel::Negative => 0,
        SentimentLabel::Neutral => 1,
        SentimentLabel::Positive => 2,
    }
}

/// Trains a head on `files`: embeds every text (through `cache`, which keeps what was
/// computed), chooses the class balancing, the weighting of the files (rows; the groups
/// SemEval and UMSAB; every file) and the prior correction (offsets of the negative and
/// neutral logits) by 5-fold cross-validation on the train rows, then fits the logistic regression on every row
/// ([`vigie_neural::head::select_and_train`]). `progress` receives lines to show.
pub fn train_head(
    encoder: &Encoder,
    cache: &mut EmbeddingCache,
    files: &[TrainingFile],
    options: TrainOptions,
    progress: &mut dyn FnMut(String),
) -> Result<Selection, NeuralError> {
    let mut data = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let texts: Vec<&str> = f.rows.iter().map(|(_, t)| t.as_str()).collect();
        cache.fill(encoder, Prefix::Query, &texts, 256, |d, n| {
            progress(format!("{}: embedded {d}/{n}", f.name));
        })?;
        for (label, text) in &f.rows {
            if let Some(e) = cache.get(Prefix::Query, text) {
                data.push(Example {
                    x: e.to_vec(),
                    class: class(*label),
                    file: i,
                });
            }
        }
        progress(format!("{}: {} rows", f.name, f.rows.len()));
    }
    // weight groups with different class priors: SemEval (natural) and UMSAB (balanced);
    // the criterion weighs SemEval (English) and UMSAB French equally; the other files are
    // trained on, not scored (UMSAB English keeps only 409 skewed rows once the tweets
    // that are also validation tweets are removed)
    let roles: Vec<FileRole> = files
        .iter()
        .map(|f| {
            let semeval = f.name.starts_with("semeval");
            FileRole {
                weight_group: usize::from(!semeval),
                score_group: if semeval {
                    Some(0)
                } else if f.name.contains("/french/") {
                    Some(1)
                } else {
                    None
                },
            }
        })
        .collect();
    select_and_train(&data, &roles, options, &Grid::default(), progress)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_embedded_head_reads_and_is_trained() {
        let head = Head::from_text(EMBEDDED_HEAD).unwrap();
        assert_eq!((head.classes(), head.dim), (3, 384));
        assert!(
            head.weights.iter().any(|w| *w != 0.0),
            "the shipped head is untrained"
        );
    }

    fn close(a: [f32; 3], b: [f32; 3]) -> bool {
        a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    #[test]
    fn combine_is_the_normalised_geometric_mean() {
        let a = [0.6, 0.3, 0.1];
        let b = [0.2, 0.3, 0.5];
        let p = combine(a, b);
        let g: [f32; 3] = std::array::from_fn(|i| (a[i] * b[i]).sqrt());
        let sum: f32 = g.iter().sum();
        assert!(close(p, g.map(|x| x / sum)), "{p:?}");
        // symmetric (equal weights), idempotent, a uniform partner keeps the ranking
        assert!(close(p, combine(b, a)));
        assert!(close(combine(a, a), a));
        let u = combine([1.0 / 3.0; 3], b);
        assert!(u[2] > u[1] && u[1] > u[0]);
        // a zero does not give NaN, and the other engine's certainty decides
        let z = combine([0.0, 0.5, 0.5], [0.0, 0.1, 0.9]);
        assert!(z.iter().all(|x| x.is_finite()) && z[2] > 0.7 && z[0] < 1e-6);
        // disagreement: a confident engine outweighs a hesitant one
        let d = combine([0.2, 0.45, 0.35], [0.9, 0.05, 0.05]);
        assert_eq!(sentiment_of(d).label, SentimentLabel::Negative);
    }

    /// A 2-input head: class scores come straight from the embedding.
    fn head() -> Head {
        Head {
            dim: 2,
            // negative = x0, neutral = x1, positive = −x0
            weights: vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.0],
            bias: vec![0.0; 3],
        }
    }

    #[test]
    fn the_engine_combines_its_head_with_the_fast_engine() {
        let fast = TrainedSentiment::embedded().unwrap();
        let combined = Scorer {
            head: head(),
            fast: Some(fast.clone()),
        };
        let alone = Scorer {
            head: head(),
            fast: None,
        };
        let text = "Vol annulé, aucune info, c'est honteux 😡";
        // the head leans neutral; the fast engine is sure it is negative
        let e = [0.0, 0.5];
        let h = head().predict(&e);
        let h = [h[0], h[1], h[2]];
        let f = fast.probabilities(text, &tokenize(text), "fr");
        assert_eq!(sentiment_of(h).label, SentimentLabel::Neutral);
        assert_eq!(sentiment_of(f).label, SentimentLabel::Negative);
        assert!(close(alone.probabilities(&e, text, "fr"), h));
        let p = combined.probabilities(&e, text, "fr");
        assert!(close(p, combine(h, f)), "{p:?}");
        assert_eq!(sentiment_of(p).label, SentimentLabel::Negative);
        // the fast engine reads the language it is given
        let en = combined.probabilities(&e, text, "en");
        assert!(close(
            en,
            combine(h, fast.probabilities(text, &tokenize(text), "en"))
        ));
        assert_eq!(Combination::default(), Combination::WithFast);
    }
}
