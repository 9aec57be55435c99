//! The trained sentiment engine: a multinomial logistic regression over hashed word,
//! character n-gram, emoji, negation and lexicon features ([`TrainedSentiment`]), its file
//! format, and its training ([`train`]).
//!
//! # File format (little-endian)
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `VIGIESNT` |
//! | 4 | format version (`1`) |
//! | 4 | `bits`: the model has `2^bits` feature buckets |
//! | 4 | classes (`3`: negative, neutral, positive) |
//! | 4 | `scale` (f32): a weight is `scale × i16` |
//! | 2 × 3 × 2^bits | weights, i16, bucket-major (the three classes of a bucket side by side) |
//! | 8 | FNV-1a 64 checksum of everything before it |

mod features;
mod train;

use features::{Feature, Featurizer};
use std::sync::{Arc, OnceLock};
use vigie_model::{Sentiment, SentimentLabel};
use vigie_query::text::{Token, tokenize};

pub use train::{
    FileFigures, HELD_OUT_FILES, TRAINING_FILES, TrainOptions, TrainReport, TrainingFile,
    dedup_key, read_training_dir, train,
};

use crate::sentiment::SentimentEngine;

/// The model shipped in the binary (`crates/vigie-enrich/models/sentiment.vgsm`).
static EMBEDDED: &[u8] = include_bytes!("../../models/sentiment.vgsm");

const MAGIC: &[u8; 8] = b"VIGIESNT";
const VERSION: u32 = 1;
const CLASSES: usize = 3;
const HEADER_LEN: usize = 24;

/// Why a model file cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The file is shorter than its header says.
    #[error("model file is truncated ({len} bytes)")]
    Truncated {
        /// Bytes found.
        len: usize,
    },
    /// Not a Vigie sentiment model.
    #[error("not a vigie sentiment model (bad magic)")]
    BadMagic,
    /// A format version this build does not read.
    #[error("unsupported model format version {version}")]
    UnsupportedVersion {
        /// The version in the file.
        version: u32,
    },
    /// Dimensions out of range.
    #[error("unsupported model dimensions: 2^{bits} buckets, {classes} classes")]
    BadDimensions {
        /// `bits` in the header.
        bits: u32,
        /// `classes` in the header.
        classes: u32,
    },
    /// The checksum does not match the content.
    #[error("model checksum mismatch (file corrupted)")]
    Checksum,
    /// Training data could not be read.
    #[error("cannot read training data {path}: {message}")]
    Data {
        /// The file or folder.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// A trained three-class linear sentiment model (see the [module docs](self) for the
/// features and the file format).
///
/// Label: the most probable class. Score: `P(positive) − P(negative)`, in [-1, 1].
/// Confidence: the probability of the label.
///
/// ```
/// use vigie_enrich::{SentimentEngine, TrainedSentiment};
/// use vigie_model::SentimentLabel;
/// let engine = TrainedSentiment::embedded().unwrap();
/// assert_eq!(engine.analyze("Service client nul, je suis vraiment déçu 😡", "fr").label, SentimentLabel::Negative);
/// assert_eq!(engine.analyze("Thank you so much, great support!", "en").label, SentimentLabel::Positive);
/// ```
#[derive(Debug, Clone)]
pub struct TrainedSentiment {
    featurizer: Featurizer,
    scale: f32,
    weights: Arc<[i16]>,
}

impl TrainedSentiment {
    /// The model embedded in the binary, parsed once.
    ///
    /// # Errors
    /// When the embedded file is not a valid model (a build without a trained model).
    pub fn embedded() -> Result<Self, ModelError> {
        static PARSED: OnceLock<Result<TrainedSentiment, ModelError>> = OnceLock::new();
        PARSED.get_or_init(|| Self::from_bytes(EMBEDDED)).clone()
    }

    /// Reads a model file's content.
    ///
    /// # Errors
    /// A [`ModelError`] when the bytes are not a valid model of this format version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let truncated = ModelError::Truncated { len: bytes.len() };
        let body_len = bytes.len().checked_sub(8).ok_or(truncated.clone())?;
        let (body, sum) = bytes.split_at(body_len);
        let header = body.get(..HEADER_LEN).ok_or(truncated.clone())?;
        if header.get(..8) != Some(MAGIC.as_slice()) {
            return Err(ModelError::BadMagic);
        }
        let word = |i: usize| -> [u8; 4] {
            let mut w = [0u8; 4];
            w.copy_from_slice(header.get(i..i + 4).unwrap_or(&[0; 4]));
            w
        };
        let version = u32::from_le_bytes(word(8));
        if version != VERSION {
            return Err(ModelError::UnsupportedVersion { version });
        }
        let bits = u32::from_le_bytes(word(12));
        let classes = u32::from_le_bytes(word(16));
        if !(8..=24).contains(&bits) || classes as usize != CLASSES {
            return Err(ModelError::BadDimensions { bits, classes });
        }
        let scale = f32::from_le_bytes(word(20));
        let n = (1usize << bits) * CLASSES;
        let data = body.get(HEADER_LEN..).ok_or(truncated.clone())?;
        if data.len() != 2 * n {
            return Err(truncated);
        }
        let mut expected = [0u8; 8];
        expected.copy_from_slice(sum);
        if fnv64(body) != u64::from_le_bytes(expected) {
            return Err(ModelError::Checksum);
        }
        let weights = data
            .chunks_exact(2)
            .map(|c| {
                i16::from_le_bytes([
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                ])
            })
            .collect();
        Ok(Self {
            featurizer: Featurizer { bits },
            scale,
            weights,
        })
    }

    /// The model file's content (the inverse of [`from_bytes`](Self::from_bytes)).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + 2 * self.weights.len() + 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.featurizer.bits.to_le_bytes());
        out.extend_from_slice(&(CLASSES as u32).to_le_bytes());
        out.extend_from_slice(&self.scale.to_le_bytes());
        for w in self.weights.iter() {
            out.extend_from_slice(&w.to_le_bytes());
        }
        let sum = fnv64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Quantizes float weights (bucket-major, three per bucket) into a model.
    fn quantize(bits: u32, weights: &[f32]) -> Self {
        let max = weights.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 {
            max / f32::from(i16::MAX)
        } else {
            1.0
        };
        let weights = weights
            .iter()
            .map(|w| {
                (w / scale)
                    .round()
                    .clamp(-f32::from(i16::MAX), f32::from(i16::MAX)) as i16
            })
            .collect();
        Self {
            featurizer: Featurizer { bits },
            scale,
            weights,
        }
    }

    /// Feature buckets: `2^bits`.
    pub fn bits(&self) -> u32 {
        self.featurizer.bits
    }

    /// Class probabilities (negative, neutral, positive) of a tokenized text.
    pub fn probabilities(&self, text: &str, tokens: &[Token], lang: &str) -> [f32; 3] {
        let mut feats = Vec::new();
        self.featurizer.features(text, tokens, lang, &mut feats);
        let mut logits = [0.0f32; 3];
        for &(b, v) in &feats {
            let at = b as usize * CLASSES;
            if let Some(w) = self.weights.get(at..at + CLASSES) {
                for (l, &w) in logits.iter_mut().zip(w) {
                    *l += f32::from(w) * v;
                }
            }
        }
        softmax(logits.map(|l| l * self.scale))
    }
}

impl SentimentEngine for TrainedSentiment {
    fn analyze(&self, text: &str, lang: &str) -> Sentiment {
        self.analyze_tokens(text, &tokenize(text), lang)
    }

    fn analyze_tokens(&self, text: &str, tokens: &[Token], lang: &str) -> Sentiment {
        sentiment_of(self.probabilities(text, tokens, lang))
    }
}

/// The sentiment of class probabilities (negative, neutral, positive).
pub(crate) fn sentiment_of(p: [f32; 3]) -> Sentiment {
    let [neg, neu, pos] = p;
    let (label, confidence) = if neg >= neu && neg >= pos {
        (SentimentLabel::Negative, neg)
    } else if pos > neu {
        (SentimentLabel::Positive, pos)
    } else {
        (SentimentLabel::Neutral, neu)
    };
    Sentiment {
        label,
        score: (pos - neg).clamp(-1.0, 1.0),
        confidence,
    }
}

pub(crate) fn softmax(logits: [f32; 3]) -> [f32; 3] {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &l| m.max(l));
    let e = logits.map(|l| (l - max).exp());
    let sum: f32 = e.iter().sum();
    e.map(|x| x / sum)
}

/// FNV-1a 64 of `bytes`.
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Features of one text, for training.
pub(crate) fn featurize(featurizer: Featurizer, text: &str, lang: &str, out: &mut Vec<Feature>) {
    featurizer.features(text, &tokenize(text), lang, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> TrainedSentiment {
        let mut w = vec![0.0f32; (1 << 8) * 3];
        for (i, x) in w.iter_mut().enumerate() {
            *x = ((i * 7919) % 97) as f32 / 97.0 - 0.5;
        }
        TrainedSentiment::quantize(8, &w)
    }

    #[test]
    fn bytes_round_trip() {
        let m = tiny();
        let bytes = m.to_bytes();
        assert_eq!(bytes.len(), HEADER_LEN + 2 * 3 * 256 + 8);
        let back = TrainedSentiment::from_bytes(&bytes).unwrap();
        assert_eq!(back.to_bytes(), bytes);
        let p = back.probabilities("good", &tokenize("good"), "en");
        assert_eq!(p, m.probabilities("good", &tokenize("good"), "en"));
    }

    #[test]
    fn rejects_bad_files() {
        let bytes = tiny().to_bytes();
        let mut corrupt = bytes.clone();
        corrupt[HEADER_LEN + 5] ^= 1;
        assert_eq!(
            TrainedSentiment::from_bytes(&corrupt).unwrap_err(),
            ModelError::Checksum
        );
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert_eq!(
            TrainedSentiment::from_bytes(&magic).unwrap_err(),
            ModelError::BadMagic
        );
        let mut version = bytes.clone();
        version[8] = 9;
        assert_eq!(
            TrainedSentiment::from_bytes(&version).unwrap_err(),
            ModelError::UnsupportedVersion { version: 9 }
        );
        assert!(matches!(
            TrainedSentiment::from_bytes(&bytes[..100]),
            Err(ModelError::Truncated { .. })
        ));
        assert!(TrainedSentiment::from_bytes(&[]).is_err());
    }

    #[test]
    fn sentiment_from_probabilities() {
        let s = sentiment_of([0.7, 0.2, 0.1]);
        assert_eq!(s.label, SentimentLabel::Negative);
        assert!((s.score + 0.6).abs() < 1e-6 && (s.confidence - 0.7).abs() < 1e-6);
        assert_eq!(sentiment_of([0.2, 0.5, 0.3]).label, SentimentLabel::Neutral);
        assert_eq!(
            sentiment_of([0.1, 0.3, 0.6]).label,
            SentimentLabel::Positive
        );
        let p = softmax([1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6 && p[2] > p[1]);
    }

    #[test]
    fn embedded_model_loads_and_reads_both_languages() {
        let m = TrainedSentiment::embedded().unwrap();
        let label = |t: &str, l: &str| m.analyze(t, l).label;
        assert_eq!(
            label("Vol annulé, aucune info, c'est honteux 😡", "fr"),
            SentimentLabel::Negative
        );
        assert_eq!(
            label("Merci beaucoup, super accueil, je recommande !", "fr"),
            SentimentLabel::Positive
        );
        assert_eq!(
            label("This is the worst service ever, never again", "en"),
            SentimentLabel::Negative
        );
        assert_eq!(
            label("Love it, thanks so much! 😍", "en"),
            SentimentLabel::Positive
        );
        assert_eq!(
            label("The meeting is at 10am on Tuesday", "en"),
            SentimentLabel::Neutral
        );
    }

    /// `cargo test -p vigie-enrich --release --lib -- --ignored --nocapture trained_throughput`
    #[test]
    #[ignore = "throughput measurement: run in release"]
    fn trained_throughput() {
        let m = TrainedSentiment::embedded().unwrap();
        let texts = [
            (
                "Encore un vol ANNULÉ, l'avion est cloué au sol. Honteux ! #AirFail https://x.example/p",
                "fr",
            ),
            (
                "Merci @AirFrance pour la réactivité de votre équipe, super accueil 👏",
                "fr",
            ),
            (
                "Je ne suis pas du tout satisfait, service client injoignable depuis 3 jours",
                "fr",
            ),
            ("Le colis est arrivé mardi, rien à signaler.", "fr"),
            (
                "Worst airline ever 😡 my flight got cancelled twice #neveragain",
                "en",
            ),
            (
                "Thanks @brand, the support team was really helpful and quick!",
                "en",
            ),
            ("Is the store on Main Street open on Sunday?", "en"),
            ("not good at all, but the staff were nice", "en"),
        ];
        let docs: Vec<_> = texts.iter().map(|(t, l)| (*t, tokenize(t), *l)).collect();
        let n = 200_000;
        let start = std::time::Instant::now();
        let mut positives = 0;
        for i in 0..n {
            let (t, toks, l) = &docs[i % docs.len()];
            positives +=
                usize::from(m.analyze_tokens(t, toks, l).label == SentimentLabel::Positive);
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "trained engine: {:.0} mentions/s ({positives} positive)",
            n as f64 / secs
        );
        let lex = crate::LexiconSentiment::default();
        let start = std::time::Instant::now();
        for i in 0..n {
            let (t, toks, l) = &docs[i % docs.len()];
            positives +=
                usize::from(lex.analyze_tokens(t, toks, l).label == SentimentLabel::Positive);
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "lexicon engine: {:.0} mentions/s ({positives})",
            n as f64 / secs
        );
    }
}
