//! `vigie train sentiment`: trains the linear sentiment model from the train splits and
//! writes the model file embedded in the binary.

use crate::cli::{TrainCommand, TrainSentimentArgs};
use anyhow::Context;
use std::process::ExitCode;
use vigie_enrich::model::{FileFigures, TrainOptions, read_training_dir, train};

/// Runs a training command.
pub fn run(cmd: TrainCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TrainCommand::Sentiment(args) => sentiment(&args),
    }
}

fn sentiment(args: &TrainSentimentArgs) -> anyhow::Result<ExitCode> {
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
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the folder {}", parent.display()))?;
    }
    std::fs::write(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    println!("wrote {} ({} bytes)", args.out.display(), bytes.len());
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
