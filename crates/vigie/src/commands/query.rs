//! `vigie query check` and `vigie query test`.

use crate::cli::QueryCommand;
use anyhow::Context;
use std::process::ExitCode;
use vigie_connect::format::{Format, parse};

/// Runs a query subcommand.
pub fn run(cmd: QueryCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        QueryCommand::Check { query } => Ok(check(&query)),
        QueryCommand::Test { query, file, limit } => {
            let Some(parsed) = parse_or_report(&query) else {
                return Ok(ExitCode::FAILURE);
            };
            let data =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let (mut matched, mut total) = (0usize, 0usize);
            for record in parse(Format::from_path(&file), &data) {
                match record {
                    Ok(m) => {
                        total += 1;
                        let text = match &m.title {
                            Some(t) => format!("{t}\n{}", m.text),
                            None => m.text.clone(),
                        };
                        if parsed.matches(&vigie_query::Document::new(&text)) {
                            matched += 1;
                            if matched <= limit {
                                println!(
                                    "{}:{}  @{}  {}",
                                    m.source,
                                    m.external_id,
                                    m.author.handle,
                                    one_line(&m.text)
                                );
                            }
                        }
                    }
                    Err(e) => eprintln!("{}:{}: {}", file.display(), e.line, e.reason),
                }
            }
            println!("{matched} of {total} mentions match {}", parsed.explain());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

fn parse_or_report(query: &str) -> Option<vigie_query::Query> {
    match vigie_query::parse(query) {
        Ok(q) => Some(q),
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("  {query}");
            eprintln!("  {}^", " ".repeat(e.position));
            None
        }
    }
}

fn check(query: &str) -> ExitCode {
    match parse_or_report(query) {
        Some(q) => {
            println!("ok: {}", q.explain());
            ExitCode::SUCCESS
        }
        None => ExitCode::FAILURE,
    }
}
