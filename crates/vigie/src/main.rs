//! `vigie`: the command-line entry point. Parses arguments, sets up logging and the TLS
//! provider, and hands over to one module per command. `anyhow` lives only here.

mod cli;
mod commands;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // The demo prints its notifications in its own timeline: the log channel's WARN lines
    // would only repeat them.
    let demo = matches!(cli.command, cli::Command::Demo(_));
    output::init_logging(cli.verbose, cli.log_json, demo);
    // One crypto provider for every TLS client (reqwest, sqlx, lettre): ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
