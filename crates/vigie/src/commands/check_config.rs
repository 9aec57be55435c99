//! `vigie check-config FILE`: validation only, every mistake with its line.

use crate::cli::CheckConfigArgs;
use std::process::ExitCode;

/// Prints a summary of a valid file, or every mistake; exit code 1 when invalid.
pub fn run(args: &CheckConfigArgs) -> ExitCode {
    match vigie_config::load(&args.file) {
        Ok(config) => {
            let watches: usize = config.workspaces.iter().map(|w| w.watches.len()).sum();
            let sources: usize = config.workspaces.iter().map(|w| w.sources.len()).sum();
            println!(
                "{}: ok ({} workspace(s), {watches} watch(es), {sources} source(s))",
                args.file.display(),
                config.workspaces.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}
