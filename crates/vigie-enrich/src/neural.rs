//! The neural sentiment engine: multilingual-e5-small embeddings ([`vigie_neural`]) and a
//! logistic-regression head trained on them (`vigie train sentiment --engine neural`).
//!
//! The head is small and embedded in the binary (`models/neural-head.txt`); the encoder's
//! weights are not: `vigie model install e5-small` puts them in the data directory. Without
//! them, [`shared`] returns `None` (and says so once in the log) and every mention keeps the
//! fast engine.
//!
//! The enricher runs this engine only on mentions that match a watch ([`crate::Enricher::with_neural`]).

use crate::model::{TrainingFile, read_training_dir, sentiment_of};
use crate::sentiment::SentimentEngine;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use vigie_model::{Sentiment, SentimentLabel};
use vigie_neural::head::{Example, FileRole, Grid, Selection, TrainOptions, select_and_train};
use vigie_neural::{EmbeddingCache, Encoder, Head, NeuralError, Prefix, install};

/// The head shipped in the binary.
pub const EMBEDDED_HEAD: &str = include_str!("../models/neural-head.txt");

/// Name of the encoder model this engine uses.
pub const MODEL_NAME: &str = "e5-small";

/// Sentiment from the encoder's embedding and a linear head. Language-independent.
#[derive(Debug)]
pub struct NeuralSentiment {
    encoder: Encoder,
    head: Head,
}

impl NeuralSentiment {
    /// Pairs an encoder with a head; they must agree on the embedding size, and the head
    /// must have the three classes negative, neutral, positive.
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
        Ok(Self { encoder, head })
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

    /// The sentiment of an embedding.
    pub fn sentiment_of_embedding(&self, embedding: &[f32]) -> Sentiment {
        let p = self.head.predict(embedding);
        sentiment_of([p[0], p[1], p[2]])
    }

    /// The sentiments of several texts, embedded together (batched by length).
    pub fn analyze_batch(&self, texts: &[&str]) -> Vec<Sentiment> {
        self.encoder
            .embed(texts, Prefix::Query)
            .iter()
            .map(|e| self.sentiment_of_embedding(e))
            .collect()
    }
}

impl SentimentEngine for NeuralSentiment {
    fn analyze(&self, text: &str, _lang: &str) -> Sentiment {
        self.analyze_batch(&[text]).pop().unwrap_or(Sentiment {
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
}
