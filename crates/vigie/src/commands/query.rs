//! `vigie query check` (parse, normalize, lint) and `vigie query test` (what a query matches
//! in a file of mentions, and why).

use crate::cli::QueryCommand;
use anyhow::Context;
use std::process::ExitCode;
use vigie_connect::format::{Format, parse};
use vigie_enrich::{LanguageDetector, WhatlangDetector};
use vigie_query::{Document, Expr, Field, Query};

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
            let detector = uses_lang(&parsed).then(WhatlangDetector::default);
            let (mut matched, mut total) = (0usize, 0usize);
            for record in parse(Format::from_path(&file), &data) {
                match record {
                    Ok(m) => {
                        total += 1;
                        let mut doc = Document::from_mention(&m, None);
                        let lang = m
                            .lang
                            .as_deref()
                            .and_then(vigie_enrich::language::normalize_declared)
                            .or_else(|| {
                                let d = detector.as_ref()?;
                                d.detect(&m.text).map(|g| g.code)
                            });
                        doc.set_lang(lang.as_deref());
                        let Some(why) = parsed.explain_match(&doc) else {
                            continue;
                        };
                        matched += 1;
                        if matched <= limit {
                            println!(
                                "{}:{}  @{}  {}",
                                m.source,
                                m.external_id,
                                m.author.handle,
                                one_line(&m.text)
                            );
                            println!("    matched: {}", why.join(", "));
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

/// Whether the query has a `lang:` filter (then languages are detected like the pipeline
/// does for mentions that declare none).
fn uses_lang(q: &Query) -> bool {
    let mut found = false;
    q.expr()
        .walk(&mut |e| found |= matches!(e, Expr::Field(Field::Lang(_))));
    found
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

fn parse_or_report(query: &str) -> Option<Query> {
    match vigie_query::parse(query) {
        Ok(q) => Some(q),
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("  {query}");
            eprintln!("  {}^", " ".repeat(e.position));
            if let Some(hint) = &e.hint {
                eprintln!("hint: {hint}");
            }
            None
        }
    }
}

fn check(query: &str) -> ExitCode {
    match parse_or_report(query) {
        Some(q) => {
            println!("ok: {}", q.explain());
            for lint in q.lint() {
                println!("{lint}");
            }
            ExitCode::SUCCESS
        }
        None => ExitCode::FAILURE,
    }
}
