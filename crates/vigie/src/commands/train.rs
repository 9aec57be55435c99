//! `vigie train sentiment`: trains the linear sentiment model from the train splits and
//! writes the model file embedded in the binary.

use crate::cli::{EngineName, NeuralArgs, TrainCommand, TrainSentimentArgs};
use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use vigie_enrich::model::{FileFigures, TrainOptions, read_training_dir, train};
use vigie_enrich::neural::{self, MODEL_NAME};
use vigie_enrich::vigie_neural::{EmbeddingCache, Encoder, head, install};

/// Runs a training command.
pub fn run(cmd: TrainCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TrainCommand::Sentiment(args) => sentiment(&args),
    }
}

fn sentiment(args: &TrainSentimentArgs) -> anyhow::Result<ExitCode> {
    match args.engine {
        EngineName::Trained => linear(args),
        EngineName::Neural => neural_head(args),
        EngineName::Lexicon => bail!("the lexicon engine has nothing to train"),
    }
}

/// Loads the installed encoder (for training and evaluation).
pub(crate) fn load_encoder(args: &NeuralArgs) -> anyhow::Result<Encoder> {
    let dir = args
        .model_dir
        .clone()
        .or_else(install::default_dir)
        .context("no model directory: pass --model-dir or set VIGIE_MODEL_DIR")?;
    let path = install::locate(&dir, MODEL_NAME).with_context(|| {
        format!(
            "{MODEL_NAME} is not installed in {} (run `vigie model install {MODEL_NAME}`)",
            dir.display()
        )
    })?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok(Encoder::load(&path)
        .with_context(|| format!("loading {}", path.display()))?
        .with_threads(threads))
}

/// The embedding cache named by `--cache`, or one in memory.
pub(crate) fn open_cache(args: &NeuralArgs, dim: usize) -> anyhow::Result<EmbeddingCache> {
    match &args.cache {
        Some(p) => EmbeddingCache::open(p, dim).with_context(|| format!("opening {}", p.display())),
        None => Ok(EmbeddingCache::in_memory(dim)),
    }
}

fn neural_head(args: &TrainSentimentArgs) -> anyhow::Result<ExitCode> {
    let mut files = neural::training_files(&args.data)?;
    if !args.neural.train_files.is_empty() {
        for wanted in &args.neural.train_files {
            if !files.iter().any(|f| &f.name == wanted) {
                let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
                bail!(
                    "unknown training file {wanted:?}; known: {}",
                    names.join(", ")
                );
            }
        }
        files.retain(|f| args.neural.train_files.contains(&f.name));
    }
    let encoder = load_encoder(&args.neural)?;
    let mut cache = open_cache(&args.neural, encoder.dim())?;
    let options = head::TrainOptions::default();
    eprintln!(
        "training the neural head ({} epochs of full-batch Adam, step {})",
        options.epochs, options.learning_rate
    );
    let chosen = neural::train_head(&encoder, &mut cache, &files, options, &mut |l| {
        eprintln!("{l}")
    })?;
    println!(
        "chosen by 5-fold cross-validation on the train rows: balanced={} l2={:e} weighting={:?} logit offsets negative {:+.1} neutral {:+.1} (criterion {:.2})",
        chosen.options.balanced,
        chosen.options.l2,
        chosen.weighting,
        chosen.offsets[0],
        chosen.offsets[1],
        chosen.score
    );
    for (f, v) in files.iter().zip(&chosen.held_out) {
        if let Some(v) = v {
            println!("  cross-validated macro-F1 {v:.1}  {}", f.name);
        }
    }
    let head = chosen.head;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("crates/vigie-enrich/models/neural-head.txt"));
    let text = head.to_text();
    std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), text.len());
    Ok(ExitCode::SUCCESS)
}

fn linear(args: &TrainSentimentArgs) -> anyhow::Result<ExitCode> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("crates/vigie-enrich/models/sentiment.vgsm"));
    let (files, removed) = read_training_dir(&args.data)?;
    eprintln!("{removed} training rows removed: their text is in a validation file");
    for f in &files {
        eprintln!(
            "{}: {} rows ({}, weight {})",
            f.name,
            f.rows.len(),
            f.lang,
            f.weight
        );
    }
    let options = TrainOptions {
        bits: args.bits,
        max_epochs: args.epochs,
        ..TrainOptions::default()
    };
    let report = train(&files, &options, &mut |line| eprintln!("{line}"));
    println!(
        "chosen on held-out train rows: l2={:e} epochs={}",
        report.l2, report.epochs
    );
    print_figures(
        "held-out tenth of train (model trained on the other nine tenths)",
        &report.held_out,
    );
    print_figures("train (final model, all rows)", &report.train);
    let bytes = report.model.to_bytes();
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the folder {}", parent.display()))?;
    }
    std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(ExitCode::SUCCESS)
}

fn print_figures(title: &str, figures: &[FileFigures]) {
    println!("{title}:");
    for f in figures {
        println!(
            "  {:<28} rows={:>6} accuracy={:.3} macro_f1={:.3}",
            f.name, f.rows, f.accuracy, f.macro_f1
        );
    }
}
