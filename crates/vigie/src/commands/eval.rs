//! `vigie eval sentiment`: accuracy and macro-F1 of the sentiment engine on labelled data.

use crate::cli::EvalCommand;
use anyhow::{Context, bail};
use std::process::ExitCode;
use vigie_model::SentimentLabel;

/// Runs an evaluation.
pub fn run(cmd: EvalCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EvalCommand::Sentiment { data, lang } => {
            let text = std::fs::read_to_string(&data)
                .with_context(|| format!("reading {}", data.display()))?;
            let mut rows = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let Some((label, body)) = line.split_once('\t') else {
                    bail!("{}:{}: expected `label<TAB>text`", data.display(), i + 1);
                };
                let label = match label.trim() {
                    "0" => SentimentLabel::Negative,
                    "1" => SentimentLabel::Neutral,
                    "2" => SentimentLabel::Positive,
                    other => bail!(
                        "{}:{}: unknown label {other:?} (expected 0, 1 or 2)",
                        data.display(),
                        i + 1
                    ),
                };
                rows.push((label, body.to_owned()));
            }
            let engine = vigie_enrich::LexiconSentiment::default();
            let report = vigie_enrich::evaluate(&engine, &lang, rows.into_iter());
            println!("{}: {report}", data.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
