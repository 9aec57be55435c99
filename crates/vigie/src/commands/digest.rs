//! `vigie digest`: a workspace's digest for calm periods (the one `[[workspaces.digests]]`
//! sends by e-mail), printed as text or HTML, or sent now to its recipients.

use super::scenario::ReportLang;
use crate::cli::ConfigArgs;
use anyhow::Context;
use std::process::ExitCode;
use std::sync::Arc;
use vigie_config::DigestPeriod;
use vigie_model::{Clock, SystemClock};
use vigie_respond::digest;

/// Period of `vigie digest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodArg {
    /// The 24 hours before the period end.
    Daily,
    /// The 7 days before the period end.
    Weekly,
}

/// Output of `vigie digest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DigestFormat {
    /// Plain text (the e-mail's text part).
    Text,
    /// HTML (the e-mail's HTML part).
    Html,
}

/// `vigie digest`.
#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// The workspace (default: the only or first configured workspace).
    #[arg(long)]
    pub workspace: Option<String>,
    /// Daily or weekly (default: the workspace's first configured digest, else daily).
    #[arg(long, value_enum)]
    pub period: Option<PeriodArg>,
    /// Language (default: the configured digest's, else French).
    #[arg(long, value_enum)]
    pub lang: Option<ReportLang>,
    /// What to print.
    #[arg(long, value_enum, default_value_t = DigestFormat::Text)]
    pub format: DigestFormat,
    /// Send it now to the recipients of the workspace's digest of this period, through its
    /// e-mail channel, instead of printing it (the server's schedule is not changed). The
    /// e-mail is in the configured language, with both text and HTML parts.
    #[arg(long, conflicts_with_all = ["lang", "format"])]
    pub send: bool,
    /// Configuration and database.
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Runs `vigie digest`. The period ends at the configured digest's last local hour, or now
/// when the workspace has no digest of that period.
pub async fn run(args: DigestArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args.config)?;
    let ws = match &args.workspace {
        Some(id) => config
            .workspaces
            .iter()
            .find(|w| w.id.as_str() == id)
            .with_context(|| format!("no workspace {id:?} in the configuration"))?,
        None => config
            .workspaces
            .first()
            .context("no workspace configured; pass --workspace")?,
    };
    let period = match args.period {
        Some(PeriodArg::Daily) => DigestPeriod::Daily,
        Some(PeriodArg::Weekly) => DigestPeriod::Weekly,
        None => ws.digests.first().map_or(DigestPeriod::Daily, |d| d.period),
    };
    let configured = ws.digests.iter().find(|d| d.period == period);
    let store = super::open_store(&args.config, &config).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let now = clock.now();
    let state = vigie_web::AppState::new(store, config.clone(), None, now);
    let engine = vigie_web::process_engine(&state, None)
        .map_err(|e| anyhow::anyhow!("the responding engine: {}", e.message))?;
    let end = configured.map_or(now, |d| digest::last_period_end(d, now));
    if args.send {
        let Some(d) = configured else {
            anyhow::bail!(
                "workspace {} has no {} digest in [[workspaces.digests]]: no recipients to send to",
                ws.id,
                period.as_str()
            );
        };
        let mailers = digest::mailers_from_config(&config, &|name| std::env::var(name).ok())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let scheduler = digest::DigestScheduler::new(engine, config.clone(), mailers);
        let sent = scheduler
            .send(ws, d, end)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        eprintln!(
            "sent \"{}\" to {} through channel {}",
            digest::subject(&sent),
            d.to.join(", "),
            d.channel
        );
        return Ok(ExitCode::SUCCESS);
    }
    let lang = match (args.lang, configured) {
        (Some(ReportLang::En), _) => vigie_respond::Lang::En,
        (Some(ReportLang::Fr), _) => vigie_respond::Lang::Fr,
        (None, Some(d)) if d.language == vigie_config::MessageLanguage::En => {
            vigie_respond::Lang::En
        }
        (None, _) => vigie_respond::Lang::Fr,
    };
    let d = digest::build(&engine, ws, period, end, lang, &config.notify.public_url)
        .await
        .map_err(|e| anyhow::anyhow!("building the digest of {}: {e}", ws.id))?;
    match args.format {
        DigestFormat::Text => print!("{}", digest::render_text(&d)),
        DigestFormat::Html => print!("{}", digest::render_html(&d)),
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts the digest scheduler of `vigie serve` when a workspace has digests (checked
/// every minute); `None` otherwise.
pub fn spawn_scheduler(
    engine: &vigie_respond::Engine,
    config: &Arc<vigie_config::Config>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if config.workspaces.iter().all(|w| w.digests.is_empty()) {
        return Ok(None);
    }
    let mailers = digest::mailers_from_config(config, &|name| std::env::var(name).ok())
        .map_err(|e| anyhow::anyhow!("digest e-mail channels: {e}"))?;
    let scheduler = digest::DigestScheduler::new(engine.clone(), config.clone(), mailers);
    Ok(Some(scheduler.spawn(std::time::Duration::from_secs(60))))
}
