//! One module per command, and what they share: loading the configuration and opening the
//! store.

pub(crate) mod backtest;
mod bench;
mod check_config;
mod demo;
pub(crate) mod digest;
mod eval;
pub(crate) mod eval_drills;
mod eval_nab;
mod import;
pub(crate) mod mobilize;
pub(crate) mod model;
pub(crate) mod oncall;
mod query;
pub(crate) mod scenario;
mod serve;
pub(crate) mod token;
mod train;
pub(crate) mod user;

use crate::cli::{Cli, Command, ConfigArgs};
use anyhow::Context;
use std::process::ExitCode;
use std::sync::Arc;
use vigie_config::Config;
use vigie_store::Store;

/// Runs the chosen command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Import(args) => import::run(args).await,
        Command::CheckConfig(args) => Ok(check_config::run(&args)),
        Command::Query(cmd) => query::run(cmd),
        Command::Bench(args) => bench::run(args).await,
        Command::Eval(cmd) => eval::run(cmd),
        Command::Train(cmd) => train::run(cmd),
        Command::Scenario(cmd) => scenario::run(cmd),
        Command::Report(args) => scenario::run_report(args).await,
        Command::Digest(args) => digest::run(args).await,
        Command::Model(cmd) => model::run(cmd),
        Command::Backtest(args) => backtest::run(args).await,
        Command::Oncall(cmd) => oncall::run(cmd),
        Command::User(cmd) => user::run(cmd).await,
        Command::Token(cmd) => token::run(cmd).await,
    }
}

/// The configuration from `--config`, or the embedded default. Configuration mistakes are
/// printed (one per line, with file:line:column) and turn into an error.
pub fn load_config(args: &ConfigArgs) -> anyhow::Result<Arc<Config>> {
    match &args.config {
        None => Ok(Arc::new(Config::embedded_default())),
        Some(path) => match vigie_config::load(path) {
            Ok(config) => Ok(Arc::new(config)),
            Err(errors) => {
                eprintln!("{errors}");
                anyhow::bail!("invalid configuration {}", path.display())
            }
        },
    }
}

/// Opens (and migrates) the store named by `--database`, or the configuration's.
pub async fn open_store(args: &ConfigArgs, config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let target = args
        .database
        .clone()
        .unwrap_or_else(|| config.storage.database.clone());
    ensure_parent_dir(&target)?;
    vigie_store::open_store(&target)
        .await
        .with_context(|| format!("opening the database {}", redact(&target)))
}

/// Creates the parent folder of a SQLite file path.
pub fn ensure_parent_dir(target: &str) -> anyhow::Result<()> {
    if target.starts_with("postgres://") || target.starts_with("postgresql://") {
        return Ok(());
    }
    let path = std::path::Path::new(target.strip_prefix("sqlite://").unwrap_or(target));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the folder {}", parent.display()))?;
    }
    Ok(())
}

/// A database URL without its password, for messages.
pub fn redact(target: &str) -> String {
    match (target.find("://"), target.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &target[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &target[..scheme + 3], &target[at..]),
                None => target.to_owned(),
            }
        }
        _ => target.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("vigie.db"), "vigie.db");
    }
}
