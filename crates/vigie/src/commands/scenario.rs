//! `vigie scenario check DIR` and `vigie report INCIDENT`.

use crate::cli::ConfigArgs;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use vigie_model::{SystemClock, WorkspaceId};
use vigie_respond::{Engine, EngineSettings, Lang, ScenarioLibrary, report};

/// `vigie scenario …`.
#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Validates every scenario file (`*.toml`) of a directory and lists them.
    Check {
        /// The scenario library directory.
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
    },
}

/// Report file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A standalone HTML page with inline SVG charts.
    Html,
    /// A PDF document.
    Pdf,
    /// The report's data as JSON.
    Json,
}

/// Report language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportLang {
    /// French.
    Fr,
    /// English.
    En,
}

/// `vigie report INCIDENT`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The incident id (see `GET /api/v1/workspaces/{ws}/incidents`).
    pub incident: i64,
    /// The workspace of the incident (default: the only or first configured workspace).
    #[arg(long)]
    pub workspace: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Language of the report.
    #[arg(long, value_enum, default_value_t = ReportLang::Fr)]
    pub lang: ReportLang,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Configuration and database.
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Runs `vigie scenario …`.
pub fn run(cmd: ScenarioCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ScenarioCommand::Check { dir } => Ok(check(&dir)),
    }
}

/// Validates a library: prints each scenario, or every mistake; exit code 1 on mistakes.
fn check(dir: &Path) -> ExitCode {
    match ScenarioLibrary::load_dir(dir) {
        Ok(lib) if lib.scenarios.is_empty() => {
            eprintln!("{}: no scenario (*.toml) found", dir.display());
            ExitCode::FAILURE
        }
        Ok(lib) => {
            for s in &lib.scenarios {
                println!(
                    "ok  {:<24} {:<22} severity {}  {} statements, {} tasks  {} / {}",
                    s.id,
                    format!("{:?}", s.kind),
                    s.severity,
                    s.statements.len(),
                    s.tasks.len(),
                    s.name.fr,
                    s.name.en
                );
            }
            println!(
                "{} scenarios valid in {}",
                lib.scenarios.len(),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `vigie report`.
pub async fn run_report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args.config)?;
    let ws = match &args.workspace {
        Some(raw) => WorkspaceId::new(raw.as_str())
            .map_err(|e| anyhow::anyhow!("invalid workspace {raw:?}: {e}"))?,
        None => config
            .workspaces
            .first()
            .map(|w| w.id.clone())
            .context("no workspace configured; pass --workspace")?,
    };
    let store = super::open_store(&args.config, &config).await?;
    let brands = config
        .workspaces
        .iter()
        .map(|w| (w.id.as_str().to_owned(), w.name.clone()))
        .collect();
    let engine = Engine::new(
        store,
        Arc::new(SystemClock),
        EngineSettings {
            brands,
            ..EngineSettings::default()
        },
    )?;
    let lang = match args.lang {
        ReportLang::Fr => Lang::Fr,
        ReportLang::En => Lang::En,
    };
    let data = report::build(&engine, &ws, args.incident, lang)
        .await
        .with_context(|| format!("building the report of incident {} in {ws}", args.incident))?;
    let bytes = match args.format {
        ReportFormat::Html => report::render_html(&data).into_bytes(),
        ReportFormat::Pdf => report::render_pdf(&data),
        ReportFormat::Json => serde_json::to_vec_pretty(&data)?,
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
        }
        None => std::io::stdout()
            .write_all(&bytes)
            .context("writing the report")?,
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_shipped_library_checks_and_a_bad_file_fails() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        assert_eq!(check(&shipped), ExitCode::SUCCESS);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check(dir.path()), ExitCode::FAILURE, "empty directory");
        std::fs::write(dir.path().join("bad.toml"), "id = \"x\"\n").unwrap();
        assert_eq!(check(dir.path()), ExitCode::FAILURE);
        assert_eq!(check(&dir.path().join("missing")), ExitCode::FAILURE);
    }
}
