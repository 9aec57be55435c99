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
    /// Works with the scenario library (playbooks): `vigie scenario check DIR`.
    #[command(subcommand)]
    Scenario(crate::commands::scenario::ScenarioCommand),
    /// Writes the post-crisis report of an incident (HTML, PDF or JSON; French or English).
    Report(crate::commands::scenario::ReportArgs),
    /// Prints a workspace's daily or weekly digest (text or HTML), or sends it now by e-mail
    /// (`--send`) to the recipients of its `[[workspaces.digests]]`.
    Digest(crate::commands::digest::DigestArgs),
    /// Installs and lists neural models (weights fetched with pip, checked, converted).
    #[command(subcommand)]
    Model(crate::commands::model::ModelCommand),
    /// Replays a watch's stored mentions through the detectors and shows when each level
    /// would have fired, with the explanations.
    Backtest(crate::commands::backtest::BacktestArgs),
    /// Who is on call (`vigie oncall who --at TIME`) and rotation schedules.
    #[command(subcommand)]
    Oncall(crate::commands::oncall::OncallCommand),
    /// Manages web users and their workspace roles (`vigie user add` for the first admin).
    #[command(subcommand)]
    User(crate::commands::user::UserCommand),
    /// Creates API tokens (`vigie token create`).
    #[command(subcommand)]
    Token(crate::commands::token::TokenCommand),
}

/// `vigie demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the generated story: the same seed prints the same timeline.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Replay speed from one story hour before the trigger post: story seconds per real
    /// second (60 = one minute per second; the days of chatter before are replayed at
    /// once). 0 replays everything as fast as possible.
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
    /// Serve the web dashboard on 127.0.0.1 while and after the replay, with a demo admin
    /// whose random password is printed, until Ctrl-C. Use `--speed 60` to watch the
    /// crisis unfold live (level 3 about half a minute after the trigger post).
    #[arg(long)]
    pub serve: bool,
    /// Port of `--serve` (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
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
    /// Score every mention with the fast sentiment engine, even when the neural weights are
    /// installed. By default the mentions that match a watch get the neural engine when
    /// `vigie model install e5-small` has run (it is more accurate on every validation
    /// split, docs/QUALITY.md; ≈ 130 mentions per second per core), and the fast engine
    /// otherwise (said once at start).
    #[arg(long)]
    pub fast_sentiment: bool,
    /// Accepted for older scripts: the neural engine is now used by default when installed.
    #[arg(long, hide = true, conflicts_with = "fast_sentiment")]
    pub neural_sentiment: bool,
    /// Scale-out options (roles, bus).
    #[command(flatten)]
    pub scale: ScaleArgs,
}

/// Process role and bus of `vigie serve` (see docs/operations/scaling.md).
#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// What this process does: `all` (everything in one process, the default), `ingest`
    /// (connectors → bus), `worker` (bus → enrich, store → bus), `detector` (bus →
    /// levels, incidents) or `web` (HTTP only).
    #[arg(long, value_enum, default_value_t = Role::All, env = "VIGIE_ROLE")]
    pub role: Role,
    /// The bus between roles: `nats://host:4222` (NATS JetStream). Required by the ingest,
    /// worker and detector roles.
    #[arg(long, env = "VIGIE_BUS_URL")]
    pub bus: Option<String>,
    /// Detector partition `INDEX/COUNT`: this detector owns the watches whose hash falls in
    /// its partition (default `0/1`: all of them). Workers use COUNT to prepare one
    /// detection consumer per partition.
    #[arg(long, default_value = "0/1", env = "VIGIE_DETECTOR_PARTITION")]
    pub partition: String,
    /// Detectors see time only through mention timestamps (replays, tests); by default a
    /// clock tick every 15 s closes the windows of quiet watches.
    #[arg(long)]
    pub event_time: bool,
    /// Most raw batches waiting in the bus before the ingest role must wait (bounded backlog).
    #[arg(long, default_value_t = 1_000_000, env = "VIGIE_BUS_MAX_MESSAGES")]
    pub bus_max_messages: i64,
    /// Most bytes each bus stream holds (raw and detection topics); JetStream reserves this
    /// much storage per stream when it creates it.
    #[arg(long, default_value_t = 1 << 30, env = "VIGIE_BUS_MAX_BYTES")]
    pub bus_max_bytes: i64,
    /// How long a delivered bus message may stay unacknowledged before it is delivered again
    /// (after a worker or detector dies, its batches come back after this), e.g. `60s`.
    #[arg(long, default_value = "60s", value_parser = parse_positive_duration, env = "VIGIE_BUS_ACK_WAIT")]
    pub bus_ack_wait: std::time::Duration,
    /// Prefix of the bus subjects and streams (`vigie` → `vigie.raw`, `VIGIE_RAW`), so that
    /// several installations can share one NATS server.
    #[arg(long, default_value = "vigie", env = "VIGIE_BUS_NAMESPACE")]
    pub bus_namespace: String,
}

/// A process role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Everything in one process (the single-binary default).
    All,
    /// Connectors publish raw mentions to the bus.
    Ingest,
    /// Enrich, match and store what the bus brings; any number of them share the work.
    Worker,
    /// Stateful detection for a partition of the watches.
    Detector,
    /// The HTTP API and UI only.
    Web,
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
    /// Numenta Anomaly Benchmark: runs Vigie's streaming anomaly detector on every file of a
    /// NAB layout (or reads stored results) and scores it with NAB's exact scorer.
    Nab(EvalNabArgs),
    /// Crisis drills: seeded streams with known crisis onsets and hard negatives, run through
    /// the real enrichment and detection; delays to level 2 and 3, detection shares, false
    /// alerts per watch-week.
    Drills(crate::commands::eval_drills::EvalDrillsArgs),
}

/// `vigie eval nab`.
#[derive(Debug, Args)]
pub struct EvalNabArgs {
    /// A NAB layout: `data/<category>/<file>.csv`, `labels/combined_windows.json`,
    /// `config/profiles.json` (e.g. ../shared/data/nab).
    #[arg(long)]
    pub data: PathBuf,
    /// Score stored per-row results (NAB results layout `DIR/<category>/<detector>_<file>.csv`
    /// with an `anomaly_score` column) instead of running the detector.
    #[arg(long)]
    pub scores_from: Option<PathBuf>,
    /// Only these categories (comma-separated), scored on their own windows.
    #[arg(long, value_delimiter = ',')]
    pub categories: Option<Vec<String>>,
    /// Also write the detector's per-row scores in NAB's results layout under this folder
    /// (`DIR/vigie/<category>/vigie_<file>.csv`).
    #[arg(long)]
    pub write_results: Option<PathBuf>,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
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
    /// The engine: `trained` (the default engine), `lexicon` or `neural` (the head on
    /// e5-small embeddings combined with the trained engine).
    #[arg(long, value_enum, default_value_t = EngineName::Trained)]
    pub engine: EngineName,
    /// With `--engine trained`: a model file written by `vigie train sentiment` instead of
    /// the embedded one. With `--engine neural`: a head file instead of the embedded one.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Neural engine options (`--engine neural`).
    #[command(flatten)]
    pub neural: NeuralArgs,
    /// With `--engine neural`: the head's probabilities alone, without the fast engine's
    /// that the engine combines them with (for comparison).
    #[arg(long)]
    pub head_only: bool,
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
    /// multilingual-e5-small embeddings with a linear head, combined with the trained engine
    /// (needs `vigie model install e5-small`).
    Neural,
}

/// Where the neural engine finds its weights and keeps its embeddings.
#[derive(Debug, Args)]
pub struct NeuralArgs {
    /// Model directory (default: $VIGIE_MODEL_DIR, else $XDG_DATA_HOME/vigie/models, else
    /// ~/.local/share/vigie/models).
    #[arg(long)]
    pub model_dir: Option<PathBuf>,
    /// Embedding cache file: texts embedded once are read back from it.
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Encoder threads (default: the available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Training only: train on these files of the data folder (e.g.
    /// `umsab/french/train.tsv`; repeat), instead of all of them.
    #[arg(long = "train-file")]
    pub train_files: Vec<String>,
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
    /// The engine to train: `trained` (the fast linear model) or `neural` (the head on
    /// e5-small embeddings).
    #[arg(long, value_enum, default_value_t = EngineName::Trained)]
    pub engine: EngineName,
    /// The model file to write (default: the one embedded in the binary,
    /// crates/vigie-enrich/models/sentiment.vgsm, or neural-head.txt with `--engine neural`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Neural engine options (`--engine neural`).
    #[command(flatten)]
    pub neural: NeuralArgs,
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

/// A positive duration (`30s`, `2m`), for `--bus-ack-wait`.
fn parse_positive_duration(text: &str) -> Result<std::time::Duration, String> {
    match vigie_config::parse_duration(text) {
        Ok(d) if d >= std::time::Duration::from_secs(1) => Ok(d),
        Ok(_) => Err(format!("{text:?}: at least 1s")),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks (conflicting names, a global flag redefined by a
    /// subcommand, …), which otherwise only fire when the command is run.
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
