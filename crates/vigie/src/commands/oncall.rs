//! `vigie oncall`: who is on call, from the configuration's rotations (`[notify]`).

use crate::cli::ConfigArgs;
use clap::{Args, Subcommand};
use std::process::ExitCode;
use vigie_model::{Clock, SystemClock, Timestamp};
use vigie_notify::{OnCall, Rotation};

/// `vigie oncall …`.
#[derive(Debug, Subcommand)]
pub enum OncallCommand {
    /// Who is on call at a time (now by default), in every rotation or one.
    Who(WhoArgs),
    /// The next turns of a rotation (overrides not applied).
    Schedule(ScheduleArgs),
}

/// `vigie oncall who`.
#[derive(Debug, Args)]
pub struct WhoArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The instant, RFC 3339 (e.g. `2026-12-24T20:00:00+01:00`); default now.
    #[arg(long)]
    pub at: Option<String>,
    /// Only this rotation.
    #[arg(long)]
    pub rotation: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vigie oncall schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The rotation.
    #[arg(long)]
    pub rotation: String,
    /// From this instant (RFC 3339); default now.
    #[arg(long)]
    pub from: Option<String>,
    /// How many turns.
    #[arg(long, default_value_t = 8)]
    pub count: usize,
}

fn instant(raw: Option<&str>) -> anyhow::Result<Timestamp> {
    match raw {
        None => Ok(SystemClock.now()),
        Some(s) => Ok(Timestamp::parse_rfc3339(s)?),
    }
}

fn line(o: &OnCall, names: &dyn Fn(&str) -> String) -> String {
    format!(
        "{:<16} {:<24} {} → {}{}",
        o.rotation,
        names(&o.person),
        o.from,
        o.until,
        o.override_reason
            .as_ref()
            .map(|r| format!("  (override: {r})"))
            .unwrap_or_default()
    )
}

/// Runs `vigie oncall …`.
pub fn run(cmd: OncallCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        OncallCommand::Who(args) => {
            let config = super::load_config(&args.config)?;
            let at = instant(args.at.as_deref())?;
            let notify = &config.notify;
            let rotations: Vec<_> = notify
                .rotations
                .iter()
                .filter(|r| args.rotation.as_deref().is_none_or(|id| r.id == id))
                .collect();
            if rotations.is_empty() {
                eprintln!(
                    "no rotation{} in the configuration ([[notify.rotations]])",
                    args.rotation
                        .as_deref()
                        .map(|r| format!(" named {r:?}"))
                        .unwrap_or_default()
                );
                return Ok(ExitCode::FAILURE);
            }
            let answers: Vec<(String, Option<OnCall>)> = rotations
                .iter()
                .map(|r| (r.id.clone(), Rotation::new(r).on_call(at)))
                .collect();
            if args.json {
                let items: Vec<_> = answers
                    .iter()
                    .map(|(id, o)| serde_json::json!({"rotation": id, "on_call": o}))
                    .collect();
                println!("{}", serde_json::json!({"at": at, "items": items}));
                return Ok(ExitCode::SUCCESS);
            }
            let names = |id: &str| {
                notify
                    .person(id)
                    .map_or(id.to_owned(), |p| format!("{} ({id})", p.name))
            };
            println!("on call at {at}:");
            for (id, o) in &answers {
                match o {
                    Some(o) => println!("  {}", line(o, &names)),
                    None => println!("  {id:<16} nobody (the rotation has not started)"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OncallCommand::Schedule(args) => {
            let config = super::load_config(&args.config)?;
            let from = instant(args.from.as_deref())?;
            let Some(r) = config.notify.rotation(&args.rotation) else {
                eprintln!("no rotation named {:?} in the configuration", args.rotation);
                return Ok(ExitCode::FAILURE);
            };
            let names = |id: &str| {
                config
                    .notify
                    .person(id)
                    .map_or(id.to_owned(), |p| format!("{} ({id})", p.name))
            };
            for turn in Rotation::new(r).upcoming(from, args.count) {
                println!("{}", line(&turn, &names));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
