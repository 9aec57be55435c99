//! `vigie eval sentiment`: quality of a sentiment engine on labelled TSV files.
//!
//! Binary files (labels 0 negative, 1 positive) are recognised with `--binary`, or when
//! their labels are only 0 and 1 and their path contains `allocine` or `binary`; they are
//! scored over negative and positive only, and a neutral prediction counts as wrong.

use crate::cli::{EngineName, EvalCommand, EvalSentimentArgs};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;
use vigie_enrich::neural::Combination;
use vigie_enrich::vigie_neural::{EmbeddingCache, Prefix};
use vigie_enrich::{
    LanguageDetector, LexiconSentiment, NeuralSentiment, SentimentEngine, TrainedSentiment,
    WhatlangDetector,
};
use vigie_model::SentimentLabel;

const NAMES: [&str; 3] = ["negative", "neutral", "positive"];

/// The neural engine reading embeddings computed beforehand in batches.
struct Cached {
    engine: NeuralSentiment,
    cache: EmbeddingCache,
}

impl SentimentEngine for Cached {
    fn analyze(&self, text: &str, lang: &str) -> vigie_model::Sentiment {
        match self.cache.get(Prefix::Query, text) {
            Some(e) => self.engine.sentiment_of_embedding(e, text, lang),
            None => self.engine.analyze(text, lang),
        }
    }
}

/// Runs an evaluation.
pub fn run(cmd: EvalCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EvalCommand::Sentiment(args) => sentiment(&args),
        EvalCommand::Nab(args) => super::eval_nab::run(&args),
        EvalCommand::Drills(args) => super::eval_drills::run(&args),
    }
}

fn sentiment(args: &EvalSentimentArgs) -> anyhow::Result<ExitCode> {
    if args.head_only && args.engine != EngineName::Neural {
        bail!("--head-only goes with --engine neural");
    }
    let engine: Box<dyn SentimentEngine> = match (args.engine, &args.model) {
        (EngineName::Trained, None) => {
            Box::new(TrainedSentiment::embedded().context("loading the embedded sentiment model")?)
        }
        (EngineName::Trained, Some(path)) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Box::new(
                TrainedSentiment::from_bytes(&bytes)
                    .with_context(|| format!("loading the model {}", path.display()))?,
            )
        }
        (EngineName::Lexicon, _) => Box::new(LexiconSentiment::default()),
        (EngineName::Neural, head) => {
            // the neural engine embeds each file's texts in batches (through the cache)
            let encoder = crate::commands::train::load_encoder(&args.neural)?;
            let mut cache = crate::commands::train::open_cache(&args.neural, encoder.dim())?;
            let head = match head {
                Some(p) => std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?,
                None => vigie_enrich::neural::EMBEDDED_HEAD.to_owned(),
            };
            let head = vigie_enrich::vigie_neural::Head::from_text(&head)?;
            let combination = if args.head_only {
                Combination::HeadOnly
            } else {
                Combination::WithFast
            };
            let engine = NeuralSentiment::new(encoder, head)?.with_combination(combination)?;
            for path in &args.data {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let rows = parse(&text, path)?;
                let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
                cache.fill(engine.encoder(), Prefix::Query, &texts, 256, |d, n| {
                    eprintln!("{}: embedded {d}/{n}", path.display());
                })?;
            }
            Box::new(Cached { engine, cache })
        }
    };
    let detector = WhatlangDetector::default();
    for path in &args.data {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let raw = parse(&text, path)?;
        let binary = args.binary || (raw.iter().all(|(l, _)| *l <= 1) && looks_binary(path));
        let lang = args.lang.clone().or_else(|| lang_from_path(path));
        let mut confusion = [[0u64; 3]; 3];
        for (label, body) in &raw {
            let gold = match (label, binary) {
                (0, _) => 0,
                (1, true) | (2, _) => 2,
                _ => 1,
            };
            let row_lang = match &lang {
                Some(l) => l.clone(),
                None => detector
                    .detect(body)
                    .map_or_else(|| "und".to_owned(), |g| g.code),
            };
            let predicted = index(engine.analyze(body, &row_lang).label);
            if let Some(cell) = confusion.get_mut(gold).and_then(|r| r.get_mut(predicted)) {
                *cell += 1;
            }
        }
        let m = Metrics::new(&confusion, binary);
        let lang_shown = lang.as_deref().unwrap_or("detected per row");
        let name = engine_name(args.engine, args.head_only);
        if args.json {
            println!("{}", m.json(path, name, lang_shown, &confusion));
        } else {
            m.print(path, name, lang_shown, &confusion);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `label<TAB>text` rows with labels 0, 1 or 2.
fn parse(text: &str, path: &Path) -> anyhow::Result<Vec<(u8, String)>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((label, body)) = line.split_once('\t') else {
            bail!("{}:{}: expected `label<TAB>text`", path.display(), i + 1);
        };
        let label = match label.trim() {
            "0" => 0,
            "1" => 1,
            "2" => 2,
            other => bail!(
                "{}:{}: unknown label {other:?} (expected 0, 1 or 2)",
                path.display(),
                i + 1
            ),
        };
        rows.push((label, body.to_owned()));
    }
    Ok(rows)
}

fn index(l: SentimentLabel) -> usize {
    match l {
        SentimentLabel::Negative => 0,
        SentimentLabel::Neutral => 1,
        SentimentLabel::Positive => 2,
    }
}

fn looks_binary(path: &Path) -> bool {
    let p = path.to_string_lossy().to_lowercase();
    p.contains("allocine") || p.contains("binary")
}

/// The language a data file's path names, if any.
fn lang_from_path(path: &Path) -> Option<String> {
    let p = path.to_string_lossy().to_lowercase();
    let umsab = [
        ("french", "fr"),
        ("english", "en"),
        ("german", "de"),
        ("spanish", "es"),
        ("italian", "it"),
        ("portuguese", "pt"),
        ("arabic", "ar"),
        ("hindi", "hi"),
    ];
    if let Some((_, code)) = umsab.iter().find(|(name, _)| p.contains(name)) {
        return Some((*code).to_owned());
    }
    if p.contains("-fr") || p.contains("_fr") {
        return Some("fr".to_owned());
    }
    if p.contains("-en") || p.contains("_en") || p.contains("tweeteval") || p.contains("semeval") {
        return Some("en".to_owned());
    }
    None
}

/// Figures of one file.
#[derive(Debug, Clone, PartialEq)]
struct Metrics {
    rows: u64,
    accuracy: f64,
    macro_f1: f64,
    macro_recall: f64,
    /// `(precision, recall, f1, support)` per class.
    per_class: [(f64, f64, f64, u64); 3],
    binary: bool,
}

impl Metrics {
    /// From `confusion[gold][predicted]`; binary files average over negative and positive.
    fn new(m: &[[u64; 3]; 3], binary: bool) -> Self {
        let rows: u64 = m.iter().flatten().sum();
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let cell = |g: usize, p: usize| m.get(g).and_then(|r| r.get(p)).copied().unwrap_or(0);
        let per_class: [(f64, f64, f64, u64); 3] = std::array::from_fn(|c| {
            let support: u64 = (0..3).map(|p| cell(c, p)).sum();
            let predicted: u64 = (0..3).map(|g| cell(g, c)).sum();
            let (p, r) = (ratio(cell(c, c), predicted), ratio(cell(c, c), support));
            let f1 = if p + r == 0.0 {
                0.0
            } else {
                2.0 * p * r / (p + r)
            };
            (p, r, f1, support)
        });
        let classes: &[usize] = if binary { &[0, 2] } else { &[0, 1, 2] };
        let mean = |f: fn(&(f64, f64, f64, u64)) -> f64| {
            classes
                .iter()
                .filter_map(|&c| per_class.get(c))
                .map(f)
                .sum::<f64>()
                / classes.len() as f64
        };
        Self {
            rows,
            accuracy: ratio((0..3).map(|c| cell(c, c)).sum(), rows),
            macro_f1: mean(|c| c.2),
            macro_recall: mean(|c| c.1),
            per_class,
            binary,
        }
    }

    fn json(
        &self,
        path: &Path,
        engine: &str,
        lang: &str,
        confusion: &[[u64; 3]; 3],
    ) -> serde_json::Value {
        let per_class: serde_json::Map<String, serde_json::Value> = NAMES
            .iter()
            .zip(&self.per_class)
            .map(|(n, (p, r, f1, s))| {
                (
                    (*n).to_owned(),
                    serde_json::json!({"precision": p, "recall": r, "f1": f1, "support": s}),
                )
            })
            .collect();
        serde_json::json!({
            "file": path.display().to_string(),
            "rows": self.rows,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "macro_recall": self.macro_recall,
            "engine": engine,
            "lang": lang,
            "binary": self.binary,
            "per_class": per_class,
            "confusion": confusion,
        })
    }

    fn print(&self, path: &Path, engine: &str, lang: &str, confusion: &[[u64; 3]; 3]) {
        let kind = if self.binary {
            ", binary: negative/positive"
        } else {
            ""
        };
        println!("{} (engine {engine}, lang {lang}{kind})", path.display());
        println!(
            "  rows {}  accuracy {:.3}  macro-F1 {:.3}  macro-recall {:.3}",
            self.rows, self.accuracy, self.macro_f1, self.macro_recall
        );
        println!(
            "  {:<9} {:>9} {:>7} {:>7} {:>7}",
            "class", "precision", "recall", "F1", "support"
        );
        for (name, (p, r, f1, s)) in NAMES.iter().zip(&self.per_class) {
            println!("  {name:<9} {p:>9.3} {r:>7.3} {f1:>7.3} {s:>7}");
        }
        println!("  confusion (rows gold, columns predicted: neg neu pos)");
        for (name, row) in NAMES.iter().zip(confusion) {
            println!("  {name:<9} {:>6} {:>6} {:>6}", row[0], row[1], row[2]);
        }
    }
}

/// The engine's name in reports: `neural` is the head combined with the fast engine,
/// `neural-head` the head alone (`--head-only`).
fn engine_name(engine: EngineName, head_only: bool) -> &'static str {
    match engine {
        EngineName::Trained => "trained",
        EngineName::Lexicon => "lexicon",
        EngineName::Neural if head_only => "neural-head",
        EngineName::Neural => "neural",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_from_paths() {
        let l = |p: &str| lang_from_path(Path::new(p));
        assert_eq!(
            l("../shared/data/sentiment/umsab/french/val.tsv").as_deref(),
            Some("fr")
        );
        assert_eq!(l("data/allocine-tv-fr/dev.tsv").as_deref(), Some("fr"));
        assert_eq!(l("data/tweeteval-en/val.tsv").as_deref(), Some("en"));
        assert_eq!(l("umsab/german/val.tsv").as_deref(), Some("de"));
        assert_eq!(l("mentions.tsv"), None);
        assert!(looks_binary(Path::new("x/allocine-tv-fr/dev.tsv")));
        assert!(!looks_binary(Path::new("x/umsab/french/val.tsv")));
    }

    #[test]
    fn metrics_three_classes_and_binary() {
        let m = Metrics::new(&[[2, 0, 0], [1, 1, 0], [0, 0, 2]], false);
        assert_eq!(m.rows, 6);
        assert!((m.accuracy - 5.0 / 6.0).abs() < 1e-9);
        // recalls 1, 0.5, 1
        assert!((m.macro_recall - 2.5 / 3.0).abs() < 1e-9);
        // binary: a neutral prediction is wrong, neutral left out of the averages
        let b = Metrics::new(&[[3, 1, 0], [0, 0, 0], [0, 0, 4]], true);
        assert!((b.accuracy - 7.0 / 8.0).abs() < 1e-9);
        assert!((b.macro_recall - (0.75 + 1.0) / 2.0).abs() < 1e-9);
        let f1_neg = 2.0 * 0.75 / 1.75;
        assert!((b.macro_f1 - (f1_neg + 1.0) / 2.0).abs() < 1e-9);
        assert_eq!(engine_name(EngineName::Neural, true), "neural-head");
        assert_eq!(engine_name(EngineName::Neural, false), "neural");
        let j = b.json(
            Path::new("f.tsv"),
            engine_name(EngineName::Trained, false),
            "fr",
            &[[3, 1, 0], [0, 0, 0], [0, 0, 4]],
        );
        assert_eq!(j["file"], "f.tsv");
        assert_eq!(j["rows"], 8);
        assert!(
            j["macro_f1"].is_number() && j["macro_recall"].is_number() && j["accuracy"].is_number()
        );
    }

    #[test]
    fn parses_rows_and_rejects_bad_labels() {
        let rows = parse("0\tbad\n\n2\tgood\n", Path::new("x.tsv")).unwrap();
        assert_eq!(rows, vec![(0, "bad".to_owned()), (2, "good".to_owned())]);
        assert!(parse("5\tx\n", Path::new("x.tsv")).is_err());
        assert!(parse("no tab\n", Path::new("x.tsv")).is_err());
    }
}
