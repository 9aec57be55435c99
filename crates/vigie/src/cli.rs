//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Vigie: see a social-media crisis coming, mobilize the right people, answer well.
#[derive(Debug, Parser)]
#[command(name = "vigie", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v info, -vv debug). `RUST_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Logs as JSON lines (for log collectors).
    #[arg(long, global = true)]
    pub log_json: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the configuration and the database come from.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML). Without it, the embedded default (the demo workspace).
    #[arg(short, long, env = "VIGIE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database: a SQLite file path or a postgres:// URL. Overrides the configuration.
    #[arg(long, env = "VIGIE_DATABASE_URL")]
    pub database: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replays a generated French-language crisis through the whole chain and prints the
    /// timeline of crisis levels with their explanations.
    Demo(DemoArgs),
    /// Runs the service: sources, pipeline, detectors and the HTTP server.
    Serve(ServeArgs),
    /// Imports mentions from a JSON Lines or CSV file through the whole chain.
    Import(ImportArgs),
    /// Validates a configuration file and reports every mistake with its line.
    CheckConfig(CheckConfigArgs),
    /// Works with boolean queries.
    #[command(subcommand)]
    Query(QueryCommand),
    /// Measures the throughput of the chain (mentions per second into SQLite).
    Bench(BenchArgs),
    /// Measures quality on labelled data.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Trains models from labelled data.
    #[command(subcommand)]
    Train(TrainCommand),
}

/// `vigie demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the generated story: the same seed prints the same timeline.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Replay speed: story seconds per real second (3600 = one hour per second). 0 replays
    /// as fast as possible.
    #[arg(long, default_value_t = 0.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Days of ordinary chatter before the crisis (at least 2).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(2..=60))]
    pub days: u32,
    /// SQLite file to write (recreated at each run). Open it afterwards with
    /// `vigie serve --database PATH`.
    #[arg(long, default_value = "vigie-data/demo.db")]
    pub database: PathBuf,
    /// Overwrite `--database` even when it is not the default demo file.
    #[arg(long)]
    pub force: bool,
    /// Print the full explanation of every level change (terms, authors, sample posts).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub details: bool,
}

/// `vigie serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration and database.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address to listen on (overrides `server.listen`).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
}

/// `vigie import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: `.csv` is read as CSV, anything else as JSON Lines.
    pub file: PathBuf,
    /// Force the format (`jsonl` or `csv`).
    #[arg(long)]
    pub format: Option<String>,
    /// Workspace to import into (required when the configuration has several).
    #[arg(short, long)]
    pub workspace: Option<String>,
    /// Store nothing at all if any line is bad.
    #[arg(long)]
    pub strict: bool,
    /// Configuration and database.
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// `vigie check-config`.
#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// The configuration file.
    pub file: PathBuf,
}

/// `vigie query …`.
#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// Parses a query and prints its normalized form, or the position of the mistake.
    Check {
        /// The query, e.g. `orsane AND (boycott OR honte)`.
        query: String,
    },
    /// Shows which mentions of a file a query matches.
    Test {
        /// The query.
        query: String,
        /// JSON Lines or CSV file of mentions.
        #[arg(long)]
        file: PathBuf,
        /// Print at most this many matches.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

/// `vigie eval …`.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Sentiment quality on labelled TSV files (`label<TAB>text`, labels 0 negative,
    /// 1 neutral, 2 positive; binary files 0 negative, 1 positive): rows, accuracy,
    /// macro-F1, macro-recall, per-class precision/recall and the confusion matrix.
    Sentiment(EvalSentimentArgs),
}

/// `vigie eval sentiment`.
#[derive(Debug, Args)]
pub struct EvalSentimentArgs {
    /// A TSV file, e.g. ../shared/data/sentiment/umsab/french/val.tsv (repeat for several).
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// Language of the texts (`fr`, `en`…). Default: from the path (`french`, `-fr`,
    /// `english`, `-en`, `tweeteval`, `semeval`, `umsab/<language>`), else detected per row.
    #[arg(long)]
    pub lang: Option<String>,
    /// The engine: `trained` (the default engine) or `lexicon`.
    #[arg(long, value_enum, default_value_t = EngineName::Trained)]
    pub engine: EngineName,
    /// With `--engine trained`: a model file written by `vigie train sentiment` instead of
    /// the embedded one.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Read labels as binary (0 negative, 1 positive). Without it, a file is binary when its
    /// labels are only 0 and 1 and its path contains `allocine` or `binary`.
    #[arg(long)]
    pub binary: bool,
    /// Print one JSON object per file instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// A sentiment engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineName {
    /// The trained linear model embedded in the binary (the default).
    Trained,
    /// The VADER-style rule and lexicon engine (French and English).
    Lexicon,
}

/// `vigie train …`.
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Trains the sentiment model from the train splits (never the validation ones) and
    /// writes the model file. The same data gives the same file, byte for byte.
    Sentiment(TrainSentimentArgs),
}

/// `vigie train sentiment`.
#[derive(Debug, Args)]
pub struct TrainSentimentArgs {
    /// The sentiment data folder (with semeval-en/, umsab/, allocine-tv-fr/).
    #[arg(long, default_value = "../shared/data/sentiment")]
    pub data: PathBuf,
    /// The model file to write (the one embedded in the binary by default).
    #[arg(long, default_value = "crates/vigie-enrich/models/sentiment.vgsm")]
    pub out: PathBuf,
    /// Feature buckets: 2^bits (18 makes a 1.5 MiB model).
    #[arg(long, default_value_t = 18, value_parser = clap::value_parser!(u32).range(10..=20))]
    pub bits: u32,
    /// Most passes over the data (the best count is chosen on held-out train rows).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub epochs: u32,
}

/// `vigie bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Mentions to push through the chain.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=50_000_000))]
    pub mentions: u64,
    /// Mentions per batch.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,
    /// Folder for the two SQLite files the benchmark writes (default: a new folder in the
    /// temp directory). Both files are created fresh and removed afterwards.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// A replay speed: a finite number ≥ 0 and, when not 0, at least 0.001.
fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !v.is_finite() || v < 0.0 || (v > 0.0 && v < 0.001) {
        return Err("expected 0 (as fast as possible) or a speed from 0.001 up".into());
    }
    Ok(v)
}
